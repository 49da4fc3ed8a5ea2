//! otpedge: virtual-number activations and OTP dispatch/verification as a Cloudflare Worker.
//!
//! Layers, each using only those below it: `http` (the pipeline and one module per
//! dialect) → `app` (one async fn per operation) → `store` (D1/KV), `durable` (Durable
//! Objects), `providers` (delivery) → `domain` (pure rules and the error type). `domain`,
//! the route table and the envelopes are pure Rust, unit-tested natively; everything that
//! touches the Workers runtime is compiled for wasm32 only.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
// A Worker built for some of the parts (`http::parts`) leaves the others' code unused.
#![cfg_attr(
    not(all(feature = "front", feature = "protocols", feature = "accounts")),
    allow(dead_code, unused_imports)
)]

pub mod clock;
pub mod domain;
pub mod http;

#[cfg(test)]
mod proptests;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod config;
#[cfg(target_arch = "wasm32")]
mod durable;
#[cfg(target_arch = "wasm32")]
mod outbound;
#[cfg(target_arch = "wasm32")]
mod providers;
#[cfg(target_arch = "wasm32")]
mod store;

#[cfg(all(target_arch = "wasm32", feature = "front"))]
pub use durable::activation_object::Activation;
#[cfg(all(target_arch = "wasm32", feature = "front"))]
pub use durable::fraud_guard::FraudGuard;
#[cfg(all(target_arch = "wasm32", feature = "front"))]
pub use durable::watch::ObjectWatch;
#[cfg(all(target_arch = "wasm32", feature = "front"))]
pub use durable::webhook_dispatcher::WebhookDispatcher;
#[cfg(all(target_arch = "wasm32", feature = "front"))]
pub use durable::{api_key::ApiKey, otp_session::OtpSession};

/// The objects' pure parts, tested natively.
#[cfg(not(target_arch = "wasm32"))]
mod durable {
    pub mod otp_session;
}

/// The Worker's fetch handler (the entry `scripts/entry.mjs` calls). The pipeline runs at
/// once, as far as it can without waiting: a request that awaits nothing (`/healthz`, a
/// rate-limit refusal, most bad requests) is answered right here, with no Promise and no
/// task on the executor; one that awaits I/O goes on from where it stopped as a Promise.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetch)]
pub fn fetch(
    // The runtime's request as is: `worker::Request` would read and parse its URL, method
    // and `cf` object on every request, which the pipeline does not need.
    req: worker::worker_sys::web_sys::Request,
    env: worker::Env,
    ctx: worker::worker_sys::Context,
) -> wasm_bindgen::JsValue {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    let mut answer = Box::pin(http::handle(req, env, worker::Context::new(ctx)));
    // A future left pending here keeps running under the executor's waker: each poll
    // registers the waker it is given.
    match answer
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => http::finish(result),
        Poll::Pending => worker::wasm_bindgen_futures::future_to_promise(async move {
            Ok(http::finish(answer.await))
        })
        .into(),
    }
}

/// The Worker's scheduled handler (the Cron Trigger of wrangler.toml; `scripts/entry.mjs`
/// calls it): one bounded upkeep pass (`app::upkeep`), awaited by the returned Promise.
#[cfg(all(target_arch = "wasm32", feature = "front"))]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = scheduled)]
pub fn scheduled(env: worker::Env, ctx: worker::worker_sys::Context) -> wasm_bindgen::JsValue {
    worker::wasm_bindgen_futures::future_to_promise(async move {
        app::upkeep::scheduled(env, worker::Context::new(ctx)).await;
        Ok(wasm_bindgen::JsValue::UNDEFINED)
    })
    .into()
}

/// Runs one queued job (`app::jobs`, and `app::workflow` for a workflow step;
/// `scripts/entry.mjs`'s `queue` handler calls it per message): the Promise resolves when
/// the job is done (acknowledge it) and rejects when it failed (retry it).
#[cfg(all(target_arch = "wasm32", feature = "front"))]
#[wasm_bindgen::prelude::wasm_bindgen(js_name = job)]
pub fn job(
    body: String,
    env: worker::Env,
    ctx: worker::worker_sys::Context,
) -> wasm_bindgen::JsValue {
    use app::jobs::Job;
    worker::wasm_bindgen_futures::future_to_promise(async move {
        let done = match app::jobs::parse(&body) {
            Some(Job::WorkflowStep(due)) => {
                app::workflow::run(env, worker::Context::new(ctx), due).await
            }
            Some(job) => app::jobs::run(&env, job).await,
            None => Ok(()),
        };
        match done {
            Ok(()) => Ok(wasm_bindgen::JsValue::UNDEFINED),
            Err(e) => Err(wasm_bindgen::JsValue::from_str(e.detail())),
        }
    })
    .into()
}

// The store's constraint parser is pure: its unit tests run natively too.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "store/constraint.rs"]
mod store_constraint;
