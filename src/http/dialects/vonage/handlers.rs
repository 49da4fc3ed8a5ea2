//! The Vonage Verify v2 routes: who calls (a registered application's JWT, or HTTP Basic
//! `api_key:api_secret` with the otpedge API key as the secret), parse, ONE operation,
//! Vonage's answer.
use super::params::{self, NewRequest};
use super::problems::{of_jwt, Problem};
use crate::app::accounts::Payer;
use crate::app::idempotency::{Answer, Idem};
use crate::app::otp::{self, Checked, OtpSend, Sent};
use crate::app::vonage::{self, JwtAuthError};
use crate::app::workflow;
use crate::domain::error::AppError;
use crate::domain::ids::{is_uuid, new_uuid, AccountId, KeyHash};
use crate::domain::otp::Terminal;
use crate::domain::phone::{Phone, PlusSign};
use crate::http::input::code_input;
use crate::http::reply::JSON;
use crate::http::routes::VonageResource;
use crate::http::server::{saved, Ctx};
use crate::http::{auth, Reply};
use serde::Deserialize;
use serde_json::json;

/// Who calls.
enum Caller {
    /// HTTP Basic: the API key (the password).
    Key(KeyHash),
    /// A registered application's JWT.
    App(vonage::Application),
}

/// The caller, or the 401 problem to answer.
async fn caller(ctx: &Ctx) -> Result<Result<Caller, Reply>, AppError> {
    let header = ctx.header("Authorization").unwrap_or_default();
    let instance = instance();
    let bearer = (header.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    if let Some(token) = bearer {
        return match vonage::authenticate(&ctx.app, token).await {
            Ok(app) => Ok(Ok(Caller::App(app))),
            Err(JwtAuthError::Refused(e)) => {
                Ok(Err(of_jwt(e).reply(Some(&e.message()), &instance)))
            }
            Err(JwtAuthError::Failed(e)) => Err(e),
        };
    }
    match auth::key_hash(ctx) {
        Ok(key) => Ok(Ok(Caller::Key(key))),
        Err(_) => Ok(Err(Problem::Unauthorized.reply(None, &instance))),
    }
}

fn instance() -> String {
    new_uuid().unwrap_or_default()
}

/// The caller's account (a key is asked of its object).
async fn account(ctx: &Ctx, caller: Caller) -> Result<AccountId, AppError> {
    match caller {
        Caller::Key(_) => auth::account(ctx).await,
        Caller::App(app) => Ok(AccountId(app.account_id)),
    }
}

/// Routes a Vonage Verify v2 request.
pub async fn serve(ctx: &Ctx, resource: VonageResource) -> Result<Reply, AppError> {
    if resource == VonageResource::Applications {
        return create_application(ctx).await;
    }
    let who = match caller(ctx).await? {
        Ok(who) => who,
        Err(refused) => return Ok(refused),
    };
    match resource {
        VonageResource::Requests => start(ctx, who).await,
        VonageResource::Request { id } if ctx.method == "DELETE" => cancel(ctx, who, &id).await,
        VonageResource::Request { id } => check(ctx, who, &id).await,
        VonageResource::NextWorkflow { id } => next(ctx, who, &id).await,
        VonageResource::Applications => create_application(ctx).await,
    }
}

/// `POST /v2/verify` → 202 `{"request_id"}`: the first step's channel now, each next one
/// after `channel_timeout` seconds while the code is unverified (the same code).
async fn start(ctx: &Ctx, who: Caller) -> Result<Reply, AppError> {
    let (payer, application) = match who {
        Caller::Key(_) => (auth::payer_near(ctx).await?, None),
        Caller::App(app) => (
            Payer::confirmed(AccountId(app.account_id.clone())),
            Some(app),
        ),
    };
    let body: NewRequest = ctx.json()?;
    let s = params::start(body).map_err(AppError::invalid)?;
    let phone = Phone::parse(&s.to, PlusSign::Optional)
        .map_err(|_| AppError::invalid("'to' must be a phone number in E.164 format"))?;
    let channel = otp::channel(&ctx.app, s.channels.first().map(String::as_str))?;
    let steps = u32::try_from(s.channels.len()).unwrap_or(1);
    let ttl_secs = u32::try_from(s.channel_timeout).unwrap_or(300) * steps;
    let rest: Vec<_> = (s.channels.iter().skip(1))
        .map(|c| (Some(c.as_str()), Some(s.channel_timeout)))
        .collect();
    let fallback = workflow::steps(&ctx.app, &rest, None, ttl_secs)?;
    let spec = OtpSend {
        session_id: new_uuid()?,
        phone,
        channel,
        code: s.code,
        length: s.code_length,
        ttl_secs,
        dialect: "vonage",
        sender: s.from,
        payload: s.client_ref,
        template: None,
        risk_check: s.fraud_check,
        limits: Vec::new(),
        fallback,
    };
    let render = |sent: &Sent| Reply::json(202, &json!({ "request_id": sent.session_id }));
    let request = ctx.idem_request(payer.account.as_str());
    let record = |sent: &Sent| saved(render(sent));
    let idem = Idem {
        request: &request,
        render: &record,
    };
    let answer = match otp::send(&ctx.app, &payer, spec, idem).await {
        Ok(answer) => answer,
        Err(e) => return Err(payer.error(&ctx.app, e).await),
    };
    if let (Answer::Fresh(sent), Some(application)) = (&answer, &application) {
        let started = vonage::Started {
            request_id: &sent.session_id,
            channels: &s.channels,
            channel_timeout: s.channel_timeout,
        };
        vonage::started(&ctx.app, application, &started).await;
    }
    Ok(ctx.answer(answer, render))
}

#[derive(Deserialize)]
struct CheckBody {
    code: Option<serde_json::Value>,
}

/// `POST /v2/verify/{id} {code}` → 200 `{"request_id","status":"completed"}`; a wrong code
/// 400, the attempts spent or the request expired 410, already completed 409.
async fn check(ctx: &Ctx, who: Caller, id: &str) -> Result<Reply, AppError> {
    let body: CheckBody = ctx.json()?;
    let code = code_input(body.code.as_ref(), "code")?;
    if !is_uuid(id) {
        return Err(AppError::not_found("request"));
    }
    let (_, checked) = match who {
        Caller::Key(key) => otp::check(&ctx.app, &key, id, &code).await?,
        Caller::App(app) => {
            let account = AccountId(app.account_id);
            otp::check_as(&ctx.app, &account, id, &code).await?
        }
    };
    let problem = match checked {
        Checked::Verified => {
            return Ok(Reply::ok(
                json!({ "request_id": id, "status": "completed" }),
            ));
        }
        Checked::Wrong { .. } => Problem::InvalidCode,
        Checked::Refused(Terminal::AlreadyVerified) => Problem::AlreadyDone,
        Checked::Refused(Terminal::MaxAttempts) => Problem::TooManyAttempts,
        Checked::Refused(Terminal::Expired) => Problem::Expired,
    };
    Ok(problem.reply(None, &instance()))
}

/// `DELETE /v2/verify/{id}` → 204: the request ends, its workflow stops.
async fn cancel(ctx: &Ctx, who: Caller, id: &str) -> Result<Reply, AppError> {
    let account = account(ctx, who).await?;
    match otp::cancel(&ctx.app, otp::Owner::Account(&account), id).await? {
        otp::Cancelled::Now => Ok(Reply::raw(204, JSON, String::new())),
        otp::Cancelled::NotHeld | otp::Cancelled::Ended => Err(AppError::not_found("session")),
    }
}

/// `POST /v2/verify/{id}/next_workflow` → 200: the next step goes out now; 409 when none
/// is left.
async fn next(ctx: &Ctx, who: Caller, id: &str) -> Result<Reply, AppError> {
    let account = account(ctx, who).await?;
    match workflow::next(&ctx.app, &account, id).await {
        Ok(()) => Ok(Reply::raw(200, JSON, String::new())),
        Err(e) if e.code == crate::domain::error::Code::Conflict => {
            Ok(Problem::NoEvents.reply(None, &instance()))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct ApplicationBody {
    public_key: Option<String>,
    callback_url: Option<String>,
}

/// `POST /v1/vonage/applications {"public_key"[, "callback_url"]}` → 201
/// `{"application_id", "callback_url", "signature_secret"}` (our API key; the House envelope;
/// the secret is shown this once).
async fn create_application(ctx: &Ctx) -> Result<Reply, AppError> {
    let account = auth::account(ctx).await?;
    let body: ApplicationBody = ctx.json()?;
    let key = body
        .public_key
        .ok_or_else(|| AppError::invalid("'public_key' is required"))?;
    let created =
        vonage::create_application(&ctx.app, &account, &key, body.callback_url.as_deref()).await?;
    let body = json!({
        "application_id": created.id,
        "callback_url": created.callback_url,
        "signature_secret": created.signature_secret,
    });
    Ok(Reply::json(201, &body))
}
