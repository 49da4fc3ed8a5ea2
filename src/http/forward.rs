//! The front's hand-over of a request for another part (`parts::Part::handed_to`) to the
//! Worker that serves it: the request goes untouched (method, URL, headers, body, the client's
//! `CF-Connecting-IP`) through the front's service binding, before the front reads, limits
//! or authenticates anything, and that Worker's answer is the answer. That Worker runs the
//! whole pipeline itself.
use super::routes::Route;
use worker::js_sys::futures::JsFuture;
use worker::wasm_bindgen::JsCast;
use worker::worker_sys::{web_sys, Fetcher};
use worker::{console_error, Env};

pub async fn to(
    req: &web_sys::Request,
    env: &Env,
    binding: &str,
    route: &Route,
    (method, path): (&str, &str),
) -> worker::Result<web_sys::Response> {
    let answer = async {
        let fetcher: Fetcher = env.service(binding)?.into_rpc();
        let answer = JsFuture::from(fetcher.fetch(req)?).await?;
        Ok::<_, worker::Error>(answer.dyn_into::<web_sys::Response>()?)
    };
    // Only a deployment without the binding (or a Worker that failed to load) fails here:
    // the runtime's own error answer, and the cause in the log.
    let answer = answer.await.inspect_err(|e| {
        console_error!("{method} {path}: the {binding} binding failed: {e}");
    })?;
    // The price lists this isolate cached are stale once the catalog changed elsewhere.
    if route.changes_prices() && answer.status() < 300 {
        crate::app::catalog::forget_prices();
    }
    Ok(answer)
}
