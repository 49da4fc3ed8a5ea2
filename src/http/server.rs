//! The request pipeline: rate limit → route → body → handler → envelope.
use super::error::{ApiError, Code, Dialect};
use super::routes::{resolve, Route, RouteError};
use super::{admin, auth, body, callbacks, getotp, numberotp, otpwall, ratelimit, twilio_verify, webhooks, whatotp};
use crate::config::Config;
use crate::domain::pagination::Page;
use crate::domain::ratelimit::{Decision, Group};
use serde::de::DeserializeOwned;
use std::rc::Rc;
use worker::{console_error, Context, D1Database, Date, Env, Headers, Request, Response};

/// Everything a handler may use about the request it serves.
pub struct Ctx {
    pub env: Env,
    pub wctx: Context,
    pub config: Rc<Config>,
    pub now_ms: i64,
    pub method: String,
    pub path: String,
    /// The absolute URL as the runtime gave it.
    pub url: String,
    pub query_string: String,
    pub headers: Headers,
    pub ip: String,
    /// SHA-256 (hex) of the API key the request presented, if any.
    pub key_hash: Option<String>,
    pub body: Vec<u8>,
}

impl Ctx {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        body::parse_json(&self.body)
    }

    pub fn query(&self, name: &str) -> Option<String> {
        super::routes::query_param(&self.query_string, name)
    }

    /// `?page=&limit=` of a paginated list (out of range → 400, code 2015).
    pub fn page(&self) -> Result<Page, ApiError> {
        Page::parse(self.query("page").as_deref(), self.query("limit").as_deref()).map_err(|m| ApiError::new(Code::InvalidPagination, m))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).ok().flatten()
    }

    pub fn db(&self) -> Result<D1Database, ApiError> {
        crate::store::db(&self.env)
    }
}

/// A successful answer: status, JSON body, extra headers.
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply { status, body: value.to_string(), headers: Vec::new() }
    }

    pub fn ok(value: serde_json::Value) -> Reply {
        Reply::json(200, &value)
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

pub async fn handle(req: Request, env: Env, wctx: Context) -> worker::Result<Response> {
    let now_ms = Date::now().as_millis() as i64;
    let url = req.inner().url();
    let headers = req.headers().clone();
    let (path, query) = super::routes::split_url(&url);
    let (path, query_string) = (path.to_owned(), query.to_owned());
    let ip = headers.get("CF-Connecting-IP").ok().flatten().unwrap_or_else(|| "0.0.0.0".to_owned());
    let key_hash = auth::presented_key(&headers, &path).map(|k| crate::domain::crypto::sha256_hex(k.as_bytes()));
    let mut ctx = Ctx { config: Config::get(&env), env, wctx, now_ms, method: req.method().to_string(), path, url, query_string, headers, ip, key_hash, body: Vec::new() };

    let decision = ratelimit::check(&ctx, Group::for_path(&ctx.path)).await;
    let result = if decision.allowed {
        serve(&mut ctx, req).await
    } else {
        Err(ApiError { retry_after: Some(decision.retry_after), ..ApiError::of(Code::RateLimited) })
    };
    let reply = result.unwrap_or_else(|e| error_reply(&ctx, e));
    respond(reply, &decision)
}

async fn serve(ctx: &mut Ctx, mut req: Request) -> Result<Reply, ApiError> {
    let route = resolve(&ctx.method, &ctx.path).map_err(|e| match e {
        RouteError::NotFound => ApiError::new(Code::RouteNotFound, format!("no route for {} {}", ctx.method, ctx.path)),
        RouteError::MethodNotAllowed(allow) => ApiError {
            allow: Some(allow.to_owned()),
            ..ApiError::new(Code::MethodNotAllowed, format!("{} is not allowed on {}; use {allow}", ctx.method, ctx.path))
        },
    })?;
    if matches!(ctx.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
        let declared = ctx.header("Content-Length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
        body::check_size(declared)?;
        ctx.body = req.bytes().await.map_err(|e| ApiError::invalid(format!("could not read the request body: {e}")))?;
        body::check_size(ctx.body.len())?;
    }
    dispatch(ctx, route).await
}

async fn dispatch(ctx: &Ctx, route: Route) -> Result<Reply, ApiError> {
    use Route::*;
    match route {
        Healthz => Ok(Reply::ok(serde_json::json!({"ok": true}))),
        AdminCreateAccount => admin::create_account(ctx).await,
        AdminCreateKey { account_id } => admin::create_key(ctx, &account_id).await,
        AdminRevokeKey { key_id } => admin::revoke_key(ctx, &key_id).await,
        AdminTopup { account_id } => admin::topup(ctx, &account_id).await,
        Balance => otpwall::balance(ctx).await,
        NumberOtpBalance => numberotp::balance(ctx).await,
        Transactions => numberotp::transactions(ctx).await,
        Profile => numberotp::profile(ctx).await,
        TwilioStatusCallback => callbacks::twilio_status_callback(ctx).await,
        WebhookEndpoint => webhooks::endpoint(ctx).await,
        WebhookDeliveries => webhooks::deliveries(ctx).await,
        WebhookRedeliver { event_id } => webhooks::redeliver(ctx, &event_id).await,
        AdminWebhookEndpoint { account_id } => webhooks::admin_endpoint(ctx, &account_id).await,
        // Activations (issue 3).
        AdminPutCatalog => admin::inventory::put_catalog(ctx).await,
        AdminImportNumbers => admin::inventory::import_numbers(ctx).await,
        AdminCreateSupplier => admin::inventory::create_supplier(ctx).await,
        Countries => otpwall::countries(ctx).await,
        Services => otpwall::services(ctx).await,
        BuyNumber => otpwall::buy_number(ctx).await,
        ActivationStatus { id } => otpwall::activation_status(ctx, &id).await,
        SetActivationStatus { id } => otpwall::set_activation_status(ctx, &id).await,
        InboundSms => otpwall::inbound_sms(ctx).await,
        PublicPrices => numberotp::prices(ctx).await,
        PublicRentPrices => numberotp::rent_prices(ctx).await,
        Rent => numberotp::rent(ctx).await,
        RentStatus { id } => numberotp::rent_status(ctx, &id).await,
        // OTP and messages (issue 4).
        AdminCreateTemplate => admin::messaging::create_template(ctx).await,
        AdminOutbox => admin::messaging::outbox(ctx).await,
        OtpSend => whatotp::send(ctx).await,
        OtpVerify => whatotp::verify(ctx).await,
        MessageSend => whatotp::message_send(ctx).await,
        MessageStatus { id } => whatotp::message_status(ctx, &id).await,
        GetOtpSend => getotp::send(ctx).await,
        GetOtpCheck => getotp::check(ctx).await,
        GetOtpStatus { message_id } => getotp::status(ctx, &message_id).await,
        // Twilio Verify v2 (issue 14).
        TwilioVerify(resource) => twilio_verify::serve(ctx, resource).await,
    }
}

fn error_reply(ctx: &Ctx, e: ApiError) -> Reply {
    if let Some(detail) = &e.internal {
        console_error!("{} {} failed: {detail}", ctx.method, ctx.path);
    }
    let mut reply = Reply { status: e.status(), body: e.body(Dialect::for_path(&ctx.path), &ctx.path, &ctx.method, ctx.now_ms), headers: Vec::new() };
    if let Some(secs) = e.retry_after {
        reply.headers.push(("Retry-After", secs.to_string()));
    }
    if let Some(allow) = e.allow {
        reply.headers.push(("Allow", allow));
    }
    if e.code == Code::Unauthorized && Dialect::for_path(&ctx.path) == Dialect::Twilio {
        reply.headers.push(("WWW-Authenticate", "Basic realm=\"Twilio API\"".to_owned()));
    }
    reply
}

fn respond(reply: Reply, decision: &Decision) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("Content-Type", "application/json; charset=utf-8")?;
    headers.set("X-RateLimit-Limit", &decision.limit.to_string())?;
    headers.set("X-RateLimit-Remaining", &decision.remaining.to_string())?;
    headers.set("X-RateLimit-Reset", &decision.reset.to_string())?;
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    Ok(Response::from_bytes(reply.body.into_bytes())?.with_status(reply.status).with_headers(headers))
}
