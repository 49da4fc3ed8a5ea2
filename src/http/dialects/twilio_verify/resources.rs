//! Each route of the Twilio Verify dialect: authenticate, parse its form, call ONE
//! operation of `app::verify` (which runs the OTP engine's own send / check / approve) and
//! render Twilio's answer. Errors from the application are rendered by `envelope::Twilio`;
//! parameter errors, which are this dialect's own, answer Twilio's 20001 / 60200 here.
use super::attempts;
use super::errors::{error_body, ErrorCode};
use super::limits;
use super::origin;
use super::params::{self, ChannelChoice, ParamError};
use super::render::{check_json, service_json, verification_json};
use super::shapes::meta;
use crate::app::fraud::{self, SafeNumber, SafeOp};
use crate::app::verify::{self, Caller, Start, Target};
use crate::domain::error::AppError;
use crate::domain::ids::KeyHash;
use crate::domain::phone::{Phone, PlusSign};
use crate::http::form::Form;
use crate::http::input::{code_input, path_phone};
use crate::http::routes::TwilioResource as Resource;
use crate::http::server::Ctx;
use crate::http::Reply;
use crate::http::{auth, basic};
use serde_json::{json, Value};

/// A failure of this dialect: a parameter Twilio would refuse (answered here), or an
/// application error (answered in Twilio's envelope by the pipeline).
pub(super) enum Failure {
    Param(ParamError),
    App(AppError),
}

impl From<AppError> for Failure {
    fn from(e: AppError) -> Failure {
        Failure::App(e)
    }
}

impl From<ParamError> for Failure {
    fn from(e: ParamError) -> Failure {
        Failure::Param(e)
    }
}

/// `/v2/Services…`: authenticate, then serve the resource.
pub async fn serve(ctx: &Ctx, resource: Resource) -> Result<Reply, AppError> {
    let outcome = async {
        let caller = caller(ctx).await?;
        let c = &caller;
        match (resource, ctx.method.as_str()) {
            (Resource::Services, "GET") => list_services(ctx, c).await,
            (Resource::Services, _) => create_service(ctx, c).await,
            (Resource::Service { sid }, "GET") => {
                let row = verify::service(&ctx.app, c, &sid).await?;
                Ok(Reply::ok(service_json(ctx, c, &row)))
            }
            (Resource::Service { sid }, "DELETE") => {
                verify::delete_service(&ctx.app, c, &sid).await?;
                Ok(Reply::text(204, ""))
            }
            (Resource::Service { sid }, _) => update_service(ctx, c, &sid).await,
            (Resource::Verifications { service }, _) => start(ctx, c, &service).await,
            (Resource::Verification { service, sid }, "GET") => {
                let v = verify::verification(&ctx.app, c, &service, &sid).await?;
                Ok(Reply::ok(verification_json(ctx, c, &v)))
            }
            (Resource::Verification { service, sid }, _) => {
                update_verification(ctx, c, &service, &sid).await
            }
            (Resource::VerificationCheck { service }, _) => check(ctx, c, &service).await,
            (Resource::SafeListNumbers, _) => {
                let f = form(ctx);
                let number = f
                    .get("PhoneNumber")
                    .ok_or(ParamError::Missing("PhoneNumber"))?;
                let actor = auth::customer(ctx, &c.account);
                let phone = safe_phone(number)?;
                let add = SafeOp::Add;
                let added = fraud::safe_entry(&ctx.app, &c.account, &phone, add, &actor).await?;
                Ok(Reply::json(201, &safe_json(ctx, &added)))
            }
            (
                r @ (Resource::RateLimits { .. }
                | Resource::RateLimit { .. }
                | Resource::Buckets { .. }
                | Resource::Bucket { .. }),
                _,
            ) => limits::serve(ctx, c, r).await,
            (Resource::Attempts, _) => attempts::list(ctx, c).await,
            (Resource::AttemptsSummary, _) => attempts::summary(ctx, c).await,
            (Resource::Attempt { sid }, _) => attempts::fetch(ctx, c, &sid).await,
            (Resource::SafeListNumber { phone }, method) => {
                let phone = safe_phone(&path_phone(&phone))?;
                let actor = auth::customer(ctx, &c.account);
                let op = match method {
                    "DELETE" => SafeOp::Remove,
                    _ => SafeOp::Get,
                };
                let number = fraud::safe_entry(&ctx.app, &c.account, &phone, op, &actor).await?;
                Ok(match method {
                    "DELETE" => Reply::text(204, ""),
                    _ => Reply::ok(safe_json(ctx, &number)),
                })
            }
        }
    }
    .await;
    match outcome {
        Ok(reply) => Ok(reply),
        Err(Failure::App(e)) => Err(e),
        Err(Failure::Param(e)) => {
            let code = match e {
                ParamError::Missing(_) => ErrorCode::MissingParameter,
                ParamError::Invalid(..) => ErrorCode::InvalidParameter,
            };
            let body = error_body(code.code(), code.status(), &e.message());
            Ok(Reply::json(code.status(), &body))
        }
    }
}

/// HTTP Basic: username = the account's `AC…` sid or the key's `SK…` sid, password = an
/// otpedge API key. Anything wrong is the same 401 (Twilio's 20003).
async fn caller(ctx: &Ctx) -> Result<Caller, AppError> {
    let header = ctx
        .header("Authorization")
        .ok_or_else(AppError::unauthorized)?;
    let (user, password) = basic::credentials(&header).ok_or_else(AppError::unauthorized)?;
    let key = KeyHash::of_api_key(&password).ok_or_else(AppError::unauthorized)?;
    verify::authenticate(&ctx.app, &user, key).await
}

fn form(ctx: &Ctx) -> Form {
    Form::parse(&ctx.body)
}

// --- Services ---

/// `POST /v2/Services` (`FriendlyName`, `CodeLength`) → 201, the service.
async fn create_service(ctx: &Ctx, caller: &Caller) -> Result<Reply, Failure> {
    let f = form(ctx);
    let name = params::friendly_name(f.get("FriendlyName"))?;
    let length = params::code_length(f.get("CodeLength"))?;
    let row = verify::create_service(&ctx.app, caller, name, length).await?;
    Ok(Reply::json(201, &service_json(ctx, caller, &row)))
}

/// `POST /v2/Services/{sid}` (`FriendlyName`, `CodeLength`, both optional).
async fn update_service(ctx: &Ctx, caller: &Caller, sid: &str) -> Result<Reply, Failure> {
    let f = form(ctx);
    let name = match f.get("FriendlyName") {
        Some(_) => Some(params::friendly_name(f.get("FriendlyName"))?),
        None => None,
    };
    let length = match f.get("CodeLength") {
        Some(_) => Some(params::code_length(f.get("CodeLength"))?),
        None => None,
    };
    let row = verify::update_service(&ctx.app, caller, sid, name, length).await?;
    Ok(Reply::ok(service_json(ctx, caller, &row)))
}

/// `GET /v2/Services?PageSize=&Page=` → `{"services":[…],"meta":{…}}`, oldest first.
async fn list_services(ctx: &Ctx, caller: &Caller) -> Result<Reply, Failure> {
    let page = ctx.query("Page");
    let size = ctx.query("PageSize");
    let paging = params::paging(page.as_deref(), size.as_deref())?;
    let (rows, has_next) = verify::list_services(&ctx.app, caller, paging).await?;
    let list_url = format!("{}/v2/Services", origin(ctx));
    let services: Vec<Value> = rows.iter().map(|s| service_json(ctx, caller, s)).collect();
    Ok(Reply::ok(json!({
        "services": services,
        "meta": meta(paging, &list_url, "services", has_next),
    })))
}

// --- Verifications ---

// --- Safe list ---

fn safe_phone(number: &str) -> Result<Phone, ParamError> {
    Phone::parse(number, PlusSign::Required)
        .map_err(|e| ParamError::Invalid("PhoneNumber", format!("{number}: {e}")))
}

/// A safe-listed number as Twilio shapes it: `{sid "GN…", phone_number, url}`.
fn safe_json(ctx: &Ctx, n: &SafeNumber) -> Value {
    let url = format!("{}/v2/SafeList/Numbers/{}", origin(ctx), n.phone);
    json!({"sid": n.sid, "phone_number": n.phone, "url": url})
}

fn phone(to: &str) -> Result<Phone, ParamError> {
    Phone::parse(to, PlusSign::Required)
        .map_err(|e| ParamError::Invalid("To", format!("{to}: {e}")))
}

/// `POST /v2/Services/{sid}/Verifications` (`To`, `Channel`, `CustomCode`, `RiskCheck`,
/// `RateLimits`; `Locale` ignored) → 201: a new verification, or the resend of the pending
/// one for this `To`.
async fn start(ctx: &Ctx, caller: &Caller, service: &str) -> Result<Reply, Failure> {
    let f = form(ctx);
    let to = phone(f.get("To").ok_or(ParamError::Missing("To"))?)?;
    let name = f.get("Channel").ok_or(ParamError::Missing("Channel"))?;
    let channel = match params::channel(name) {
        ChannelChoice::Supported(c) => c,
        ChannelChoice::Unsupported => {
            let why = format!("{name} is not supported here (sms, call, whatsapp)");
            return Err(ParamError::Invalid("Channel", why).into());
        }
        ChannelChoice::Unknown => {
            let why = format!("{name} is not one of sms, call, whatsapp");
            return Err(ParamError::Invalid("Channel", why).into());
        }
    };
    let start = Start {
        phone: to,
        channel,
        code: params::custom_code(f.get("CustomCode"))?,
        risk_check: params::risk_check(f.get("RiskCheck"), channel)?,
        rate_limits: params::rate_limits(f.get("RateLimits"))?,
    };
    let v = verify::start(&ctx.app, caller, service, start).await?;
    Ok(Reply::json(201, &verification_json(ctx, caller, &v)))
}

/// `POST /v2/Services/{sid}/Verifications/{sid}` (`Status=canceled|approved`).
async fn update_verification(
    ctx: &Ctx,
    caller: &Caller,
    service: &str,
    sid: &str,
) -> Result<Reply, Failure> {
    let update = params::update(form(ctx).get("Status"))?;
    let v = verify::update(&ctx.app, caller, service, sid, update).await?;
    Ok(Reply::ok(verification_json(ctx, caller, &v)))
}

/// `POST /v2/Services/{sid}/VerificationCheck` (`Code`, and `VerificationSid` or `To`).
async fn check(ctx: &Ctx, caller: &Caller, service: &str) -> Result<Reply, Failure> {
    let f = form(ctx);
    let code = f.get("Code").ok_or(ParamError::Missing("Code"))?;
    let code = code_input(Some(&Value::String(code.to_owned())), "Code")
        .map_err(|e| ParamError::Invalid("Code", e.message))?;
    let target = match (f.get("VerificationSid"), f.get("To")) {
        (Some(sid), _) => Target::Sid(sid.to_owned()),
        (None, Some(to)) => Target::Phone(phone(to)?),
        (None, None) => return Err(ParamError::Missing("To").into()),
    };
    let (v, status) = verify::check(&ctx.app, caller, service, target, &code).await?;
    Ok(Reply::ok(check_json(ctx, caller, &v, status)))
}
