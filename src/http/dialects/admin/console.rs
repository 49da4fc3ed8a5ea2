//! The operator console's API: signing in with the admin token once (a session cookie),
//! one account's detail, ledger and keys, and its suspension. The console's pages
//! (`public/admin/`) call these and the rest of `/admin/*` with the cookie.
use crate::app::customers::{self, Standing};
use crate::app::{accounts, console, keys, wallet};
use crate::domain::audit::ActorType;
use crate::domain::error::{AppError, Code};
use crate::domain::money::Money;
use crate::domain::session::{cookie_secure, origin_allowed_without_cookie, set_console_cookie};
use crate::domain::time::rfc3339;
use crate::domain::wallet::LedgerEntry;
use crate::http::dialects::accounts::{key_json, summary_json};
use crate::http::reply::{page_rows, slice_pagination};
use crate::http::routes::ConsoleRoute;
use crate::http::server::Ctx;
use crate::http::{auth, input, Reply};
use serde::Deserialize;
use serde_json::{json, Value};

/// The console's routes (`http::server::dispatch` hands them all here).
pub async fn serve(ctx: &Ctx, route: ConsoleRoute) -> Result<Reply, AppError> {
    use ConsoleRoute as R;
    match route {
        R::Session => session(ctx).await,
        R::Account { account_id } => account(ctx, &account_id).await,
        R::Ledger { account_id } => ledger(ctx, &account_id).await,
        R::Keys { account_id } => keys(ctx, &account_id).await,
        R::Adjust { account_id } => super::adjust(ctx, &account_id).await,
        R::Suspend { account_id } => standing(ctx, &account_id, true).await,
        R::Reinstate { account_id } => standing(ctx, &account_id, false).await,
        R::Fraud { account_id } => fraud(ctx, &account_id).await,
        R::Catalog => super::inventory::catalog(ctx).await,
        R::Suppliers => super::inventory::suppliers(ctx).await,
    }
}

#[derive(Deserialize)]
struct SignIn {
    token: String,
}

/// `GET | POST | DELETE /admin/session`. `POST {"token"}` (the admin token) opens a console
/// session: its cookie (`otpedge_admin`: HttpOnly, SameSite=Strict, Path=/admin, Secure
/// outside localhost) authenticates every `/admin/*` call from then on. `GET` answers who is
/// signed in; `DELETE` ends the session and clears the cookie.
async fn session(ctx: &Ctx) -> Result<Reply, AppError> {
    let secure = cookie_secure(&ctx.url);
    match ctx.method.as_str() {
        "POST" => {
            if !origin_allowed_without_cookie(&ctx.url, ctx.header("Origin").as_deref()) {
                return Err(AppError::of(Code::CrossOrigin));
            }
            let body: SignIn = ctx.json()?;
            if !auth::is_admin_token(ctx, body.token.trim())? {
                return Err(AppError::unauthorized());
            }
            let actor = auth::actor(ctx, ActorType::Admin, None);
            let s = console::open(&ctx.app, &actor).await?;
            let cookie = set_console_cookie(&s.token, s.max_age_secs, secure);
            let body = json!({"session_id": s.session_id, "expires_at": rfc3339(s.expires_at)});
            Ok(Reply::ok(body)
                .with_header("Set-Cookie", cookie)
                .with_header("Cache-Control", "no-store".to_owned()))
        }
        "DELETE" => {
            let actor = auth::admin(ctx)?;
            if let Some(id) = &ctx.console {
                console::close(&ctx.app, id, &actor).await?;
            }
            Ok(Reply::ok(json!({"signed_out": true}))
                .with_header("Set-Cookie", set_console_cookie("", 0, secure)))
        }
        _ => {
            let actor = auth::admin(ctx)?;
            let via = if ctx.console.is_some() {
                "session"
            } else {
                "token"
            };
            Ok(
                Reply::ok(json!({"signed_in": true, "via": via, "actor_id": actor.id}))
                    .with_header("Cache-Control", "no-store".to_owned()),
            )
        }
    }
}

/// `GET /admin/accounts/{id}`: the account as the list shows it (404 when there is none).
async fn account(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    Ok(Reply::ok(summary_json(
        &customers::account(&ctx.app, account_id).await?,
    )))
}

/// `GET /admin/accounts/{id}/ledger?page&limit` (or `?after&limit`): the account's ledger,
/// newest first.
async fn ledger(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let slice = ctx.slice()?;
    let account = accounts::existing(&ctx.app, account_id).await?;
    let (rows, total) = wallet::transactions(&ctx.app, &account, &slice).await?;
    let (entries, next) = page_rows(&slice, (&rows, total), |r| r.id.as_str(), ledger_entry_json);
    Ok(Reply::ok(json!({
        "account_id": account_id,
        "entries": entries,
        "pagination": slice_pagination(&slice, total, next),
    })))
}

fn ledger_entry_json(r: &LedgerEntry) -> Value {
    let money = |minor: i64| Money::from_minor(minor).to_decimal_string();
    json!({
        "transaction_id": r.id,
        "kind": r.kind,
        "amount": money(r.amount),
        "balance_after": money(r.balance_after),
        "reference": r.reference,
        "object_id": r.object_id,
        "description": r.description,
        "created_at": rfc3339(r.created_at),
    })
}

/// `GET /admin/accounts/{id}/keys`: every key of the account, revoked ones included.
async fn keys(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let account = accounts::existing(&ctx.app, account_id).await?;
    let rows = keys::list(&ctx.app, &account).await?;
    let keys: Vec<Value> = rows.iter().map(key_json).collect();
    Ok(Reply::ok(json!({"account_id": account_id, "keys": keys})))
}

/// `POST /admin/accounts/{id}/suspend | reinstate {"reason"}`: a suspended account's keys,
/// sessions and logins are refused until it is reinstated. The reason is required.
async fn standing(ctx: &Ctx, account_id: &str, suspend: bool) -> Result<Reply, AppError> {
    let actor = auth::admin(ctx)?;
    let reason = input::reason(ctx, true)?;
    let to = if suspend {
        Standing::Suspend
    } else {
        Standing::Reinstate
    };
    let a = customers::set_standing(&ctx.app, account_id, to, reason.as_deref(), &actor).await?;
    Ok(Reply::ok(summary_json(&a)))
}

/// `GET /admin/accounts/{id}/fraud`: the account's fraud policy, live blocks (the first page)
/// and safe list, as the account itself reads them under `/v1/fraud/*`.
async fn fraud(ctx: &Ctx, account_id: &str) -> Result<Reply, AppError> {
    auth::admin(ctx)?;
    let account = accounts::existing(&ctx.app, account_id).await?;
    let o = crate::app::fraud::overview(&ctx.app, &account).await?;
    let policy = serde_json::to_value(&o.policy)
        .map_err(|e| AppError::internal(format!("policy render: {e}")))?;
    let blocks: Vec<Value> = (o.blocks.iter())
        .map(|b| {
            json!({
                "id": b.id, "scope": b.scope, "value": b.value, "reason": b.reason,
                "sends": b.sends, "conversions": b.conversions,
                "created_at": rfc3339(b.created_at), "expires_at": rfc3339(b.expires_at),
            })
        })
        .collect();
    let safe: Vec<Value> = (o.safe_list.iter())
        .map(|s| json!({"phone": s.phone, "sid": s.sid, "created_at": rfc3339(s.created_at)}))
        .collect();
    Ok(Reply::ok(json!({
        "account_id": account_id, "policy": policy, "blocks": blocks, "safe_list": safe,
    })))
}
