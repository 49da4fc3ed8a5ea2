//! The request pipeline: rate limit → route → body → dialect → envelope.
use super::dispatch::dispatch;
use super::envelope::{self, ErrorContext};
use super::head::Head;
use super::reply::Reply;
use super::routes::{resolve, Route, RouteError};
use super::{auth, body, dialects, forward, ratelimit};
use crate::app::idempotency::{Answer, IdemRequest, Saved};
use crate::app::{App, Fault};
use crate::config::Config;
use crate::domain::error::{AppError, Code};
use crate::domain::idempotency::fingerprint;
use crate::domain::ids::KeyHash;
use crate::domain::live::{self, LongPoll};
use crate::domain::pagination::{Page, Slice};
use crate::domain::ratelimit::{Decision, Group};
use crate::domain::session::looks_like_session_token;
use serde::de::DeserializeOwned;
use std::cell::OnceCell;
use worker::worker_sys::web_sys;
use worker::{console_error, Context, Env, Request};

/// Everything a dialect may use about the request it serves; `app` is what it hands to
/// the operation it calls.
pub struct Ctx {
    pub app: App,
    pub method: String,
    pub path: String,
    /// The absolute URL as the runtime gave it.
    pub url: String,
    pub query_string: String,
    pub headers: Head,
    pub ip: String,
    /// SHA-256 (hex) of the API key the request presented, if any (rate-limit subject),
    /// computed on first use: a route without a key (/healthz) hashes nothing.
    key_hash: OnceCell<Option<String>>,
    /// The credential came from the session cookie (no `Authorization`): state changes need
    /// a same-origin `Origin` (`auth::csrf`).
    pub via_cookie: bool,
    /// The operator console's live session on an `/admin/` path (`auth::console_session`).
    pub console: Option<String>,
    pub body: Vec<u8>,
}

impl Ctx {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, AppError> {
        body::check_content_type(self.header("Content-Type").as_deref())?;
        body::parse_json(&self.body)
    }

    pub fn query(&self, name: &str) -> Option<String> {
        super::routes::query_param(&self.query_string, name)
    }

    /// `?page=&limit=` of a paginated list (out of range → 400, code 2015).
    pub fn page(&self) -> Result<Page, AppError> {
        Page::parse(
            self.query("page").as_deref(),
            self.query("limit").as_deref(),
        )
        .map_err(|m| AppError::new(Code::InvalidPagination, m))
    }

    /// `?page=&limit=` or `?after=&limit=`, for a list that can be walked by keyset.
    pub fn slice(&self) -> Result<Slice, AppError> {
        Slice::parse(
            self.query("page").as_deref(),
            self.query("limit").as_deref(),
            self.query("after").as_deref(),
        )
        .map_err(|m| AppError::new(Code::InvalidPagination, m))
    }

    /// `?wait=N&since=S` of a status request: a long-poll when `wait` is given.
    pub fn long_poll(&self) -> Result<Option<LongPoll>, AppError> {
        let (wait, since) = (self.query("wait"), self.query("since"));
        live::parse_long_poll(wait.as_deref(), since.as_deref()).map_err(AppError::invalid)
    }

    /// SHA-256 (hex) of the API key the request presented, if any.
    pub fn key_hash(&self) -> Option<&str> {
        self.key_hash
            .get_or_init(|| {
                // A key or session token by `auth::presented_credential`'s rules, else
                // sms-activate's query-string key (`auth::query_key`).
                auth::presented_credential(&self.headers, &self.path)
                    .map(|(k, _)| k)
                    .or_else(|| auth::query_key(&self.path, &self.query_string))
                    .map(|k| crate::domain::crypto::sha256_hex(k.as_bytes()))
            })
            .as_deref()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name)
    }

    /// This request's idempotency identity, its keys living in `scope` (an account id, or
    /// "admin"): same method, path and exact body = the same request.
    pub fn idem_request(&self, scope: &str) -> IdemRequest {
        IdemRequest {
            scope: scope.to_owned(),
            key: self.header("Idempotency-Key"),
            fingerprint: fingerprint(&self.method, &self.path, &self.body),
        }
    }

    /// A money-moving operation's answer as a reply: fresh results are rendered, a replay
    /// answers the stored answer again (`Idempotent-Replayed: true`) in this front door's
    /// content type.
    pub fn answer<T>(&self, answer: Answer<T>, render: impl Fn(&T) -> Reply) -> Reply {
        match answer {
            Answer::Fresh(value) => render(&value),
            Answer::Replay(saved) => {
                let content_type = envelope::for_path(&self.path).content_type();
                Reply::raw(saved.status, content_type, saved.body)
                    .with_header("Idempotent-Replayed", "true".to_owned())
            }
        }
    }
}

/// A reply as the idempotency record keeps it.
pub fn saved(reply: Reply) -> Saved {
    Saved {
        status: reply.status,
        body: reply.body,
        balance_fill: None,
    }
}

pub async fn handle(
    req: web_sys::Request,
    env: Env,
    wctx: Context,
) -> worker::Result<web_sys::Response> {
    let now_ms = crate::clock::now_ms();
    let (method, url, head) = Head::read(&req);
    let (path, query) = super::routes::split_url(&url);
    let route = resolve(&method, path);
    if let Ok(r) = &route {
        if let Some(binding) = r.part().handed_to() {
            return forward::to(&req, &env, binding, r, (&method, path)).await;
        }
    }
    let (path, query_string) = (path.to_owned(), query.to_owned());
    let ip = head
        .get("CF-Connecting-IP")
        .unwrap_or_else(|| "0.0.0.0".to_owned());
    let config = Config::get(&env);
    let credential = auth::presented_credential(&head, &path);
    let via_cookie = credential.as_ref().is_some_and(|(_, cookie)| *cookie);
    // A well-formed key or session token: its use is recorded after the response, if live.
    let in_use = credential
        .as_ref()
        .and_then(|(k, _)| KeyHash::of(k).map(|h| (h, looks_like_session_token(k))));
    // Test-only fault injection (see `app::Fault`): never honoured unless TEST_FAULTS=1.
    let fault = match config.test_faults {
        true => head.get("X-Test-Fault").and_then(|f| Fault::parse(&f)),
        false => None,
    };
    if fault == Some(Fault::Crash) {
        // Test-only (TEST_FAULTS=1): the one deliberate panic, to test the recovery.
        panic!("X-Test-Fault: crash");
    }
    let app = App {
        config,
        env,
        wctx,
        now_ms,
        fault,
        db_lost: Default::default(),
        spender: Default::default(),
    };
    let mut ctx = Ctx {
        app,
        method,
        path,
        url,
        query_string,
        headers: head,
        ip,
        key_hash: OnceCell::new(),
        via_cookie,
        console: None,
        body: Vec::new(),
    };

    let decision = ratelimit::check(&ctx, Group::for_path(&ctx.path)).await;
    let result = if decision.allowed {
        #[cfg(feature = "front")]
        if let Ok(Route::ActivationEvents { id }) = &route {
            return stream_events(&ctx, id, &decision).await;
        }
        serve(&mut ctx, req, route).await
    } else {
        Err(Failure::App(
            AppError::of(Code::RateLimited).with_retry_after(decision.retry_after),
        ))
    };
    let reply = result.unwrap_or_else(|e| error_reply(&ctx, e));
    credential_outcome(&ctx, reply.status, in_use);
    respond(reply, &decision)
}

/// An activation's event stream: a streamed answer (Server-Sent Events) cannot be a
/// `Reply`; its errors still are.
#[cfg(feature = "front")]
async fn stream_events(
    ctx: &Ctx,
    id: &str,
    decision: &Decision,
) -> worker::Result<web_sys::Response> {
    let scoped = auth::require_scope(ctx, crate::domain::scope::Scope::ActivationsRead);
    let events = match scoped.await {
        Ok(()) => dialects::otpwall::activation_events(ctx, id).await,
        Err(e) => Err(e),
    };
    match events {
        Ok(res) => {
            let headers = res.headers().clone();
            headers.set("X-RateLimit-Limit", &decision.limit.to_string())?;
            headers.set("X-RateLimit-Remaining", &decision.remaining.to_string())?;
            headers.set("X-RateLimit-Reset", &decision.reset.to_string())?;
            Ok(res.with_headers(headers).into())
        }
        Err(e) => respond(error_reply(ctx, Failure::App(e)), decision),
    }
}

/// After the answer: a refused credential (401) counts against its IP's rate limit; the
/// use of a credential found live is recorded (never that of a token only seen).
fn credential_outcome(ctx: &Ctx, status: u16, in_use: Option<(KeyHash, bool)>) {
    if status == 401 && ctx.key_hash().is_some() {
        ratelimit::count_refused(ctx);
    }
    let in_use = in_use.filter(|(hash, _)| crate::app::accounts::proven(hash.as_str()));
    if let Some((hash, is_session)) = in_use.filter(|_| !matches!(status, 401 | 403 | 429)) {
        crate::app::customers::note_use(&ctx.app, hash.as_str(), is_session);
    }
}

/// The request's body, at most `body::MAX_BODY_BYTES` of it: a larger one (declared or not:
/// a chunked body has no `Content-Length`) is refused (413). A declared body of at most
/// `DRAIN_BYTES` is read and dropped first, so a client still uploading it reads the 413
/// rather than a reset connection; an undeclared one is refused once too much arrived.
async fn read_body(req: web_sys::Request, declared: usize) -> Result<Vec<u8>, AppError> {
    const DRAIN_BYTES: usize = 1024 * 1024;
    let unreadable = |e: String| AppError::invalid(format!("could not read the request body: {e}"));
    if req.body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = Request::from(req)
        .stream()
        .map_err(|e| unreadable(e.to_string()))?;
    if declared > body::MAX_BODY_BYTES {
        if declared <= DRAIN_BYTES {
            crate::outbound::drain(&mut stream, DRAIN_BYTES).await;
        }
        body::check_size(declared)?;
    }
    let (bytes, more) = crate::outbound::read_at_most(&mut stream, body::MAX_BODY_BYTES).await;
    if more.map_err(unreadable)? {
        body::check_size(body::MAX_BODY_BYTES + 1)?;
    }
    Ok(bytes)
}

/// Why a request failed: an operation's error, or a method the route does not allow.
enum Failure {
    App(AppError),
    MethodNotAllowed(AppError, &'static str),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        Failure::App(e)
    }
}

async fn serve(
    ctx: &mut Ctx,
    req: web_sys::Request,
    route: Result<Route, RouteError>,
) -> Result<Reply, Failure> {
    // The body is read first, so that an early refusal (no route, no scope) is answered to a
    // client that finished sending: one answered before would reset its connection.
    if matches!(ctx.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
        let declared = ctx
            .header("Content-Length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        ctx.body = read_body(req, declared).await?;
    }
    let route = route.map_err(|e| match e {
        RouteError::NotFound => {
            let m = format!("no route for {} {}", ctx.method, ctx.path);
            Failure::App(AppError::new(Code::RouteNotFound, m))
        }
        RouteError::MethodNotAllowed(allow) => {
            let m = format!("{} is not allowed on {}; use {allow}", ctx.method, ctx.path);
            Failure::MethodNotAllowed(AppError::new(Code::MethodNotAllowed, m), allow)
        }
    })?;
    auth::csrf(
        ctx,
        !matches!(route, Route::AuthRegister | Route::AuthLogin),
    )?;
    if let Some(needed) = route
        .scope(&ctx.method)
        .filter(|_| !route.checks_own_scope())
    {
        auth::require_scope(ctx, needed).await?;
    }
    ctx.console = auth::console_session(ctx).await?;
    Ok(dispatch(ctx, route).await?)
}

/// An error in the envelope of the request's front door, with `Retry-After` / `Allow`.
fn error_reply(ctx: &Ctx, failure: Failure) -> Reply {
    let (e, allow) = match failure {
        Failure::App(e) => (e, None),
        Failure::MethodNotAllowed(e, allow) => (e, Some(allow)),
    };
    if let Some(detail) = &e.internal {
        console_error!("{} {} failed: {detail}", ctx.method, ctx.path);
    }
    let cx = ErrorContext {
        path: &ctx.path,
        method: &ctx.method,
        now_ms: ctx.app.now_ms,
    };
    let mut reply = envelope::for_path(&ctx.path).error(&e, &cx);
    if let Some(secs) = e.retry_after {
        reply.headers.push(("Retry-After", secs.to_string()));
    }
    if let Some(allow) = allow {
        reply.headers.push(("Allow", allow.to_owned()));
    }
    reply
}

/// The handler's outcome as the value the runtime takes: the response, or a plain 500 for
/// an error of the runtime's own calls (logged; operations' errors are replies already).
pub fn finish(result: worker::Result<web_sys::Response>) -> wasm_bindgen::JsValue {
    match result {
        Ok(res) => res.into(),
        Err(e) => {
            console_error!("request failed: {e}");
            let answer = response(
                500,
                Some("INTERNAL SERVER ERROR"),
                "Content-Type\ntext/plain",
            );
            answer.map_or_else(|e| e, Into::into)
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function response(status, body, head) {
  const lines = head.split("\n"), headers = {};
  for (let i = 0; i + 1 < lines.length; i += 2) headers[lines[i]] = lines[i + 1];
  return new Response(body, { status, headers });
}"#)]
extern "C" {
    /// `new Response(body, { status, headers })`, the headers given as `name\nvalue\n…`:
    /// one call across the boundary instead of one per header.
    #[wasm_bindgen(catch)]
    fn response(
        status: u16,
        body: Option<&str>,
        head: &str,
    ) -> Result<web_sys::Response, wasm_bindgen::JsValue>;
}

/// The runtime's response, built in one call (`response`): the headers travel as one
/// string, the body as a string (no byte copy through `worker::Response`).
fn respond(reply: Reply, decision: &Decision) -> worker::Result<web_sys::Response> {
    let mut head = format!(
        "Content-Type\n{}\nX-RateLimit-Limit\n{}\nX-RateLimit-Remaining\n{}\nX-RateLimit-Reset\n{}",
        reply.content_type, decision.limit, decision.remaining, decision.reset
    );
    for (name, value) in &reply.headers {
        // Our own values only; a line break would split them (the runtime refuses it too).
        if value.contains(['\n', '\r']) {
            return Err(worker::Error::RustError(format!(
                "header {name}: line break"
            )));
        }
        head.push('\n');
        head.push_str(name);
        head.push('\n');
        head.push_str(value);
    }
    // A status without a body (204, 304) must not be given one, not even an empty one.
    let body = Some(reply.body.as_str()).filter(|b| !b.is_empty());
    Ok(response(reply.status, body, &head)?)
}
