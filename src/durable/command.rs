//! The Worker side of the objects' command protocol: one JSON command posted to a named
//! object, one JSON answer back (200), anything else an internal error.
use crate::domain::error::AppError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Method, Request, RequestInit};

/// Sends `command` to the object `name` of the namespace `binding`; `what` names the object
/// in errors (the log only).
pub async fn send<C: Serialize, A: DeserializeOwned>(
    env: &Env,
    binding: &str,
    what: &str,
    name: &str,
    command: &C,
) -> Result<A, AppError> {
    let fail = |step: &str, e: worker::Error| AppError::internal(format!("{what} {step}: {e}"));
    let body = serde_json::to_string(command)
        .map_err(|e| AppError::internal(format!("encode command: {e}")))?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(JsValue::from_str(&body)));
    let req = Request::new_with_init("https://object.internal/command", &init)
        .map_err(|e| fail("request", e))?;
    let stub = env
        .durable_object(binding)
        .and_then(|ns| ns.id_from_name(name)?.get_stub())
        .map_err(|e| fail("stub", e))?;
    let mut res = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| fail("fetch", e))?;
    if res.status_code() != 200 {
        let text = res.text().await.unwrap_or_default();
        return Err(AppError::internal(format!(
            "{what} answered {}: {text}",
            res.status_code()
        )));
    }
    res.json::<A>().await.map_err(|e| fail("answer", e))
}
