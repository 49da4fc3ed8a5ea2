//! The objects' command protocol: one JSON command posted to a named object, one JSON
//! answer back (200), anything else an internal error.
//!
//! Both ends use the runtime's own objects: the stub by name (`getByName`), the command as a
//! string body, the answer read whole with `text()`. `worker::Response` would read the
//! answer through a stream reader, and releasing that reader makes the runtime build an
//! error with a stack trace on every call (seen in a profile of the verify route).
use crate::domain::error::AppError;
use crate::domain::json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::worker_sys::{web_sys, DurableObjectNamespace};
use worker::{Env, Request, Response};

/// Sends `command` to the object `name` of the namespace `binding`; `what` names the object
/// in errors (the log only).
pub async fn send<C: Serialize, A: DeserializeOwned>(
    env: &Env,
    binding: &str,
    what: &str,
    name: &str,
    command: &C,
) -> Result<A, AppError> {
    let fail = |step: &str, e: JsValue| {
        let e = worker::Error::from(e);
        AppError::internal(format!("{what} {step}: {e}"))
    };
    let body = serde_json::to_string(command)
        .map_err(|e| AppError::internal(format!("encode command: {e}")))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(&body));
    let req = web_sys::Request::new_with_str_and_init("https://object.internal/command", &init)
        .map_err(|e| fail("request", e))?;
    let namespace = env
        .durable_object(binding)
        .map_err(|e| AppError::internal(format!("{what} binding: {e}")))?;
    let namespace: &DurableObjectNamespace = namespace.as_ref().unchecked_ref();
    let stub = namespace.get_by_name(name).map_err(|e| fail("stub", e))?;
    let promise = stub
        .fetch_with_request(&req)
        .map_err(|e| fail("fetch", e))?;
    let res: web_sys::Response = JsFuture::from(promise)
        .await
        .map_err(|e| fail("fetch", e))?
        .unchecked_into();
    let text = JsFuture::from(res.text().map_err(|e| fail("answer", e))?)
        .await
        .map_err(|e| fail("answer", e))?
        .as_string()
        .unwrap_or_default();
    if res.status() != 200 {
        return Err(AppError::internal(format!(
            "{what} answered {}: {text}",
            res.status()
        )));
    }
    json::read(&text).map_err(|e| AppError::internal(format!("{what} answer: {e}")))
}

/// The object side: answers the command a request carries with `answer`; a request that
/// carries none is a 400.
pub async fn serve<C: DeserializeOwned>(
    mut req: Request,
    answer: impl AsyncFnOnce(C) -> worker::Result<Response>,
) -> worker::Result<Response> {
    match receive(&mut req).await {
        Ok(command) => answer(command).await,
        Err(e) => Response::error(format!("bad command: {e}"), 400),
    }
}

/// The command a request carries (its body read whole, then parsed).
async fn receive<C: DeserializeOwned>(req: &mut Request) -> Result<C, String> {
    let text = req.text().await.map_err(|e| e.to_string())?;
    json::read(&text).map_err(|e| e.to_string())
}
