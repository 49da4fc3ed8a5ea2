//! Outbound HTTP with a deadline, shared by the delivery providers and the webhook dispatcher.
//! Redirects are never followed (a 3xx is the answer: an address the URL rules refuse must not
//! get the request through one), and at most `MAX_BODY_BYTES` of an answer's body are read
//! (`read_at_most`, which also reads the Worker's own request bodies).
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use std::time::Duration;
use worker::js_sys;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::web_sys;
use worker::{ByteStream, Delay, Method, Response};

/// The most of an answer's body that is read; the rest is dropped unread.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An answer: status code and body text.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends one request; `Err` says why there was no answer (network error or timeout).
pub async fn send(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    timeout_ms: i64,
) -> Result<Answer, String> {
    let fail = |e: JsValue| worker::Error::from(e).to_string();
    let h = web_sys::Headers::new().map_err(fail)?;
    for (name, value) in headers {
        h.set(name, value).map_err(fail)?;
    }
    // The runtime's own request: `worker::RequestInit` would link the serializer of every
    // `cf` option (image resizing and the like) that this Worker never sets.
    let init = web_sys::RequestInit::new();
    init.set_method(method.as_ref());
    init.set_headers(&h);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_redirect(web_sys::RequestRedirect::Manual);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(fail)?;
    let sending = Box::pin(async {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        let answer = JsFuture::from(scope.fetch_with_request(&request)).await?;
        let mut response = Response::from(answer.unchecked_into::<web_sys::Response>());
        let text = bounded_text(&mut response).await;
        Ok::<Answer, worker::Error>(Answer {
            status: response.status_code(),
            body: text,
        })
    });
    let deadline = Delay::from(Duration::from_millis(
        u64::try_from(timeout_ms).unwrap_or(10_000),
    ));
    let raced = select(sending, deadline).await;
    let outcome = match raced {
        Either::Left((Ok(answer), _)) => Ok(answer),
        Either::Left((Err(e), _)) => Err(format!("request failed: {e}")),
        Either::Right(_) => Err(format!("timed out after {timeout_ms} ms")),
    };
    outcome
}

/// The first `MAX_BODY_BYTES` of a response's body as text (lossy), without reading the rest.
async fn bounded_text(response: &mut Response) -> String {
    let Ok(mut stream) = response.stream() else {
        return response.text().await.unwrap_or_default();
    };
    let (bytes, _) = read_at_most(&mut stream, MAX_BODY_BYTES).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Reads and drops what is left of a stream, at most `max` bytes of it.
pub async fn drain(stream: &mut ByteStream, max: usize) {
    let mut seen = 0usize;
    while seen <= max {
        match stream.next().await {
            Some(Ok(chunk)) => seen = seen.saturating_add(chunk.len()),
            _ => return,
        }
    }
}

/// Reads a body up to `max` bytes, chunk by chunk, never more: the bytes read, and whether
/// there was more (left unread) or a read failed (`Err`, with what was read before it).
pub async fn read_at_most(stream: &mut ByteStream, max: usize) -> (Vec<u8>, Result<bool, String>) {
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => return (bytes, Err(e.to_string())),
        };
        let room = max.saturating_sub(bytes.len());
        if chunk.len() > room {
            bytes.extend_from_slice(chunk.get(..room).unwrap_or_default());
            return (bytes, Ok(true));
        }
        bytes.extend_from_slice(&chunk);
    }
    (bytes, Ok(false))
}
