//! Customer accounts: `/api/v1/auth/*` (sign-up, login sessions, password),
//! `/v1/keys` (a session is required), `/v1/templates` (a session or an API key), and the
//! operator's `GET /admin/accounts` and `POST /admin/accounts/{id}/approve`. Thin: parse,
//! call `app::customers` / `app::messages`, render, set or clear the session cookie.
use crate::app::customers::{self, AccountView, Client, Opened, SessionPrincipal};
use crate::app::templates::{self, LoadedTemplate};
use crate::app::{keys, limits};
use crate::domain::account::{AccountSummary, ApiKey, SpendCaps};
use crate::domain::audit::ActorType;
use crate::domain::error::{AppError, Code};
use crate::domain::money::Money;
use crate::domain::scope;
use crate::domain::session::{
    clear_cookie, cookie_secure, origin_allowed_without_cookie, set_cookie,
};
use crate::domain::time::{next_utc_day, next_utc_month, rfc3339};
use crate::http::input::template_fields;
use crate::http::reply::pagination;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

fn account_json(a: &AccountView) -> Value {
    json!({"id": a.id, "email": a.email, "name": a.name, "approved": a.approved})
}

fn client(ctx: &Ctx) -> Client<'_> {
    Client {
        ip: &ctx.ip,
        user_agent: None,
        actor: auth::actor(ctx, ActorType::User, None),
    }
}

/// Login and sign-up carry no session yet, but a page of another origin must not log its
/// visitor in (login CSRF): an `Origin` header, when present, must be ours.
fn not_cross_origin(ctx: &Ctx) -> Result<(), AppError> {
    if origin_allowed_without_cookie(&ctx.url, ctx.header("Origin").as_deref()) {
        Ok(())
    } else {
        Err(AppError::of(Code::CrossOrigin))
    }
}

fn opened_reply(ctx: &Ctx, status: u16, o: &Opened) -> Reply {
    let cookie = set_cookie(&o.token, o.max_age_secs, cookie_secure(&ctx.url));
    Reply::json(
        status,
        &json!({
            "token": o.token,
            "expires_at": rfc3339(o.expires_at),
            "session_id": o.session_id,
            "account": account_json(&o.account),
        }),
    )
    .with_header("Set-Cookie", cookie)
    .with_header("Cache-Control", "no-store".to_owned())
}

/// Opens a login session (sign-up, login), refused cross-origin: `open` gets the request's
/// body and the client (its address and user agent); the answer sets the session's cookie.
async fn sign_in<B: DeserializeOwned>(
    ctx: &Ctx,
    status: u16,
    open: impl AsyncFnOnce(B, &Client<'_>) -> Result<Opened, AppError>,
) -> Result<Reply, AppError> {
    not_cross_origin(ctx)?;
    let body: B = ctx.json()?;
    let ua = ctx.header("User-Agent");
    let who = Client {
        user_agent: ua.as_deref(),
        ..client(ctx)
    };
    let opened = open(body, &who).await?;
    Ok(opened_reply(ctx, status, &opened))
}

#[derive(Deserialize)]
struct RegisterBody {
    email: String,
    password: String,
    name: Option<String>,
}

/// `POST /api/v1/auth/register {"email","password"[,"name"]}` → 201, as a login.
pub async fn register(ctx: &Ctx) -> Result<Reply, AppError> {
    sign_in(ctx, 201, async |b: RegisterBody, who: &Client<'_>| {
        customers::register(&ctx.app, &b.email, &b.password, b.name.as_deref(), who).await
    })
    .await
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

/// `POST /api/v1/auth/login {"email","password"}` → `{"token","expires_at","account"}`.
pub async fn login(ctx: &Ctx) -> Result<Reply, AppError> {
    sign_in(ctx, 200, async |b: LoginBody, who: &Client<'_>| {
        customers::login(&ctx.app, &b.email, &b.password, who).await
    })
    .await
}

/// `POST /api/v1/auth/logout`: the session is revoked at once, the cookie cleared.
pub async fn logout(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::session(ctx).await?;
    customers::logout(&ctx.app, &who, &auth::customer(ctx, &who.account_id())).await?;
    Ok(Reply::ok(json!({"logged_out": true}))
        .with_header("Set-Cookie", clear_cookie(cookie_secure(&ctx.url))))
}

fn session_json(who: &SessionPrincipal) -> Value {
    json!({"account": account_json(&who.account), "expires_at": rfc3339(who.expires_at)})
}

/// `GET /api/v1/auth/session` → `{"account":{"id","email","name","approved"},"expires_at"}`.
pub async fn session(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::session(ctx).await?;
    Ok(Reply::ok(session_json(&who)).with_header("Cache-Control", "no-store".to_owned()))
}

#[derive(Deserialize)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/auth/password {"current_password","new_password"}`: every other session
/// of the account is revoked.
pub async fn password(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::session(ctx).await?;
    let body: PasswordBody = ctx.json()?;
    let revoked = customers::change_password(
        &ctx.app,
        &who,
        &body.current_password,
        &body.new_password,
        &client(ctx),
    )
    .await?;
    Ok(Reply::ok(
        json!({"changed": true, "revoked_sessions": revoked}),
    ))
}

/// `GET /api/v1/auth/sessions`: the account's live sessions, newest first.
pub async fn sessions(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::session(ctx).await?;
    let rows = customers::sessions(&ctx.app, &who).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|s| {
            json!({
                "session_id": s.id,
                "created_at": rfc3339(s.created_at),
                "last_seen_at": rfc3339(s.last_seen_at),
                "expires_at": rfc3339(s.expires_at),
                "user_agent": s.user_agent,
                "current": s.id == who.session_id,
            })
        })
        .collect();
    Ok(Reply::ok(json!({"sessions": list})))
}

/// `DELETE /api/v1/auth/sessions/{id}`: one of the caller's own sessions.
pub async fn revoke_session(ctx: &Ctx, session_id: &str) -> Result<Reply, AppError> {
    let who = auth::session(ctx).await?;
    let actor = auth::customer(ctx, &who.account_id());
    customers::revoke_session(&ctx.app, &who, session_id, &actor).await?;
    Ok(Reply::ok(
        json!({"session_id": session_id, "revoked": true}),
    ))
}

// --- /v1/keys ---

pub(crate) fn key_json(k: &ApiKey) -> Value {
    let money = |minor: i64| Money::from_minor(minor).to_decimal_string();
    json!({
        "key_id": k.id,
        "name": k.name,
        "prefix": k.prefix,
        "created_at": rfc3339(k.created_at),
        "last_used_at": k.last_used_at.map(rfc3339),
        "revoked_at": k.revoked_at.map(rfc3339),
        "scopes": scope::listed(k.scopes.as_deref()),
        "spend_cap_daily": k.spending.caps.daily.map(money),
        "spend_cap_monthly": k.spending.caps.monthly.map(money),
        "spent_today": money(k.spending.today),
        "spent_this_month": money(k.spending.this_month),
    })
}

/// `scopes` as given: a list of scope names, or `null` (every scope); anything else is a
/// 400 naming the field (an unknown name is refused by `app::keys`).
fn scope_names(value: Option<&Value>) -> Result<Option<Vec<String>>, AppError> {
    let invalid = || AppError::invalid("'scopes' must be a list of scope names, or null");
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid()),
    }
}

/// A new key's fields: `name`, `scopes`, `spend_cap_daily`, `spend_cap_monthly` (each
/// optional; an empty body is a key with every scope and no cap).
type Fields = serde_json::Map<String, Value>;

/// `GET | POST /v1/keys`: a session only (an API key cannot list or mint keys: 403).
pub async fn keys(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::key_manager(ctx).await?;
    let account = who.account_id();
    if ctx.method == "POST" {
        let body: Fields = if ctx.body.is_empty() {
            Fields::new()
        } else {
            ctx.json()?
        };
        let name = match body.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name.as_str()),
            Some(_) => return Err(AppError::invalid("'name' must be a string")),
        };
        let scopes = scope_names(body.get("scopes"))?;
        let caps = SpendCaps {
            daily: cap(&body, "spend_cap_daily")?.map(Money::minor),
            monthly: cap(&body, "spend_cap_monthly")?.map(Money::minor),
        };
        let app = &ctx.app;
        let actor = auth::customer(ctx, &account);
        let scopes = scopes.as_deref();
        let created = keys::create_own(app, &account, name, scopes, caps, &actor).await?;
        let mut v = key_json(&created.key);
        if let Some(o) = v.as_object_mut() {
            o.insert("api_key".to_owned(), Value::String(created.api_key));
        }
        return Ok(Reply::json(201, &v).with_header("Cache-Control", "no-store".to_owned()));
    }
    let rows = keys::list(&ctx.app, &account).await?;
    Ok(Reply::ok(
        json!({"keys": rows.iter().map(key_json).collect::<Vec<_>>()}),
    ))
}

/// `DELETE /v1/keys/{key_id}`: revoked at once (another account's key: 404).
pub async fn revoke_key(ctx: &Ctx, key_id: &str) -> Result<Reply, AppError> {
    let who = auth::key_manager(ctx).await?;
    let account = who.account_id();
    let actor = auth::customer(ctx, &account);
    keys::revoke(&ctx.app, key_id, Some(&account), &actor).await?;
    Ok(Reply::ok(json!({"key_id": key_id, "revoked": true})))
}

/// `PATCH /v1/keys/{key_id}` with any of `scopes` (`null`: every scope), `spend_cap_daily`
/// and `spend_cap_monthly` (`null`: no cap): the key as listed, its new scopes in force
/// from the next request and its caps from the next charge (another account's key, or a
/// revoked one: 404).
pub async fn update_key(ctx: &Ctx, key_id: &str) -> Result<Reply, AppError> {
    let who = auth::key_manager(ctx).await?;
    let body: Fields = ctx.json()?;
    let fields = ["scopes", "spend_cap_daily", "spend_cap_monthly"];
    if !fields.iter().any(|f| body.contains_key(*f)) {
        let m = "one of 'scopes', 'spend_cap_daily', 'spend_cap_monthly' is required";
        return Err(AppError::invalid(m));
    }
    let given = |field: &str| body.contains_key(field).then(|| cap(&body, field));
    let update = keys::KeyUpdate {
        scopes: match body.contains_key("scopes") {
            true => Some(scope_names(body.get("scopes"))?),
            false => None,
        },
        spend_cap_daily: given("spend_cap_daily").transpose()?,
        spend_cap_monthly: given("spend_cap_monthly").transpose()?,
    };
    let account = who.account_id();
    let actor = auth::customer(ctx, &account);
    let key = keys::update(&ctx.app, key_id, &account, update, &actor).await?;
    Ok(Reply::ok(key_json(&key)))
}

// --- /v1/account/limits ---

/// A cap as given: a decimal in the API's money format (string or number), or `null` (no
/// cap); anything else is a 400 naming the field.
fn cap(body: &serde_json::Map<String, Value>, field: &str) -> Result<Option<Money>, AppError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Money::parse_json(v)
            .map(Some)
            .map_err(|e| AppError::invalid(format!("'{field}': {e}"))),
    }
}

/// `GET | PUT /v1/account/limits` (a session only): the account's spend caps per UTC day and
/// month and what it spent in each; `PUT {"spend_cap_daily","spend_cap_monthly"}` sets both
/// (absent or `null`: no cap).
pub async fn limits(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = auth::key_manager(ctx).await?.account_id();
    let limits = if ctx.method == "PUT" {
        let body: serde_json::Map<String, Value> = ctx.json()?;
        let daily = cap(&body, "spend_cap_daily")?;
        let monthly = cap(&body, "spend_cap_monthly")?;
        let actor = auth::customer(ctx, &account);
        limits::put(&ctx.app, &account, (daily, monthly), &actor).await?
    } else {
        limits::get(&ctx.app, &account).await?
    };
    let money = |minor: i64| Money::from_minor(minor).to_decimal_string();
    let now = ctx.app.now_ms;
    Ok(Reply::ok(json!({
        "spend_cap_daily": limits.caps.daily.map(money),
        "spend_cap_monthly": limits.caps.monthly.map(money),
        "spent_today": money(limits.today),
        "spent_this_month": money(limits.this_month),
        "currency": ctx.app.config.currency,
        "daily_resets_at": rfc3339(next_utc_day(now)),
        "monthly_resets_at": rfc3339(next_utc_month(now)),
    })))
}

// --- /v1/templates ---

/// A template as the API shows it (the admin door's answer is this without `shared`).
pub(crate) fn template_json(t: &LoadedTemplate) -> Value {
    json!({
        "template_id": t.row.id,
        "name": t.row.name,
        "channel": t.row.channel,
        "body": t.row.body,
        "has_code": t.parsed.has_code(),
        "variables": t.parsed.variables().into_iter().collect::<Vec<_>>(),
        "created_at": rfc3339(t.row.created_at),
        "shared": t.shared(),
    })
}

#[derive(Deserialize)]
struct TemplateBody {
    name: String,
    channel: String,
    body: String,
}

/// `GET | POST /v1/templates`: the account's own templates and the operator's shared ones.
pub async fn templates(ctx: &Ctx) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    if ctx.method == "POST" {
        let b: TemplateBody = ctx.json()?;
        let (name, channel) = template_fields(&b.name, &b.channel)?;
        let (fields, actor) = ((name, channel, b.body), auth::customer(ctx, &who));
        let t = templates::create_template(&ctx.app, Some(&who), fields, &actor).await?;
        return Ok(Reply::json(201, &template_json(&t)));
    }
    let list = templates::templates(&ctx.app, &who).await?;
    Ok(Reply::ok(
        json!({"templates": list.iter().map(template_json).collect::<Vec<_>>()}),
    ))
}

/// `GET | DELETE /v1/templates/{id}`.
pub async fn template(ctx: &Ctx, id: &str) -> Result<Reply, AppError> {
    let who = auth::account(ctx).await?;
    if ctx.method == "DELETE" {
        templates::delete_own_template(&ctx.app, &who, id).await?;
        return Ok(Reply::ok(json!({"template_id": id, "deleted": true})));
    }
    Ok(Reply::ok(template_json(
        &templates::visible_template(&ctx.app, &who, id).await?,
    )))
}

// --- operator ---

/// An account as the operator's list shows it.
pub(crate) fn summary_json(a: &AccountSummary) -> Value {
    json!({
        "account_id": a.account_id,
        "email": a.email,
        "name": a.name,
        "approved": a.approved,
        "status": a.status,
        "balance": Money::from_minor(a.balance).to_decimal_string(),
        "currency": a.currency,
        "created_at": a.created_at,
    })
}

/// `GET /admin/accounts?page&limit`: newest first. With `q`: the accounts whose id is `q`
/// or whose email or name starts with it (at most 50, newest first, no pagination).
pub async fn admin_list(ctx: &Ctx) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let q = crate::domain::audit::parse_text("q", ctx.query("q")).map_err(AppError::invalid)?;
    let page = ctx.page()?;
    if let Some(q) = q {
        let found = customers::search_accounts(&ctx.app, &q).await?;
        let accounts: Vec<Value> = found.iter().map(summary_json).collect();
        return Ok(Reply::ok(json!({ "accounts": accounts })));
    }
    let (rows, total) = customers::list_accounts(&ctx.app, page).await?;
    let accounts: Vec<Value> = rows.iter().map(summary_json).collect();
    Ok(Reply::ok(
        json!({"accounts": accounts, "pagination": pagination(page, total)}),
    ))
}

/// `POST /admin/accounts/{id}/approve`: money moves are allowed from now on.
pub async fn admin_approve(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let reason = crate::http::input::reason(ctx, false)?;
    let approve = customers::Standing::Approve;
    customers::set_standing(&ctx.app, account_id, approve, reason.as_deref(), &actor).await?;
    Ok(Reply::ok(
        json!({"account_id": account_id, "approved": true}),
    ))
}
