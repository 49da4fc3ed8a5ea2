//! Outbound HTTP with a deadline, shared by the delivery providers and the webhook dispatcher.
//! Redirects are never followed (a 3xx is the answer: an address the URL rules refuse must not
//! get the request through one), and at most `MAX_BODY_BYTES` of an answer's body are read
//! (`read_at_most`, which also reads the Worker's own request bodies).
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::{
    ByteStream, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response,
};

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
    let h = Headers::new();
    for (name, value) in headers {
        h.set(name, value).map_err(|e| e.to_string())?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(h)
        .with_body(body.map(JsValue::from_str))
        .with_redirect(RequestRedirect::Manual);
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let fetch = Fetch::Request(request);
    let sending = Box::pin(async {
        let mut response = fetch.send().await?;
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
