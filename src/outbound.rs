//! Outbound HTTP with a deadline, shared by the delivery providers and the webhook dispatcher.
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::wasm_bindgen::JsValue;
use worker::{Delay, Fetch, Headers, Method, Request, RequestInit};

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
        .with_body(body.map(JsValue::from_str));
    let request = Request::new_with_init(url, &init).map_err(|e| e.to_string())?;
    let fetch = Fetch::Request(request);
    let sending = Box::pin(async {
        let mut response = fetch.send().await?;
        let text = response.text().await.unwrap_or_default();
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
