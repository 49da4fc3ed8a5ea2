//! The Twilio Verify v2 dialect (`/v2/Services…`): HTTP Basic with an `AC…` or `SK…` sid
//! and an otpedge API key, form-urlencoded bodies with Twilio's PascalCase fields, Twilio's
//! JSON shapes and error envelope. Every send, check and approval is the OTP engine's own
//! operation (`super::otp`): the same codes, charges, resend rules, attempt limit and
//! `otp.*` events as `/v1/otp/*`. This module only maps Twilio's resources onto it.
use super::error::ApiError;
use super::otp::{self as engine, Checked, SendSpec};
use super::routes::TwilioResource as Resource;
use super::server::{Ctx, Reply};
use crate::domain::crypto::sha256_hex;
use crate::domain::ids::looks_like_api_key;
use crate::domain::otp::{terminal, Terminal};
use crate::domain::phone::{Phone, PlusSign};
use crate::domain::time::rfc3339_millis;
use crate::domain::twilio_verify::{
    self as tv, date, error_body, ChannelChoice, ErrorCode, Form, Paging, ParamError, SidKind,
    Status, Update,
};
use crate::store::verify::{self as store, Principal, ServiceRow, VerificationRow};
use serde_json::{json, Value};
use worker::D1Database;

/// A failure of this dialect: one of Twilio's own codes (answered here), or an otpedge
/// error (answered by the pipeline, in Twilio's envelope: see `error.rs`).
enum Failure {
    Twilio(ErrorCode, String),
    Api(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Failure {
        Failure::Api(e)
    }
}

impl From<ParamError> for Failure {
    fn from(e: ParamError) -> Failure {
        let code = match e {
            ParamError::Missing(_) => ErrorCode::MissingParameter,
            ParamError::Invalid(..) => ErrorCode::InvalidParameter,
        };
        Failure::Twilio(code, e.message())
    }
}

impl From<crate::domain::ids::RandomUnavailable> for Failure {
    fn from(e: crate::domain::ids::RandomUnavailable) -> Failure {
        Failure::Api(e.into())
    }
}

fn not_found(ctx: &Ctx) -> Failure {
    let resource = ctx.path.strip_prefix("/v2").unwrap_or(&ctx.path);
    Failure::Twilio(
        ErrorCode::NotFound,
        format!("The requested resource {resource} was not found"),
    )
}

/// Twilio's error answer with its code's HTTP status.
pub fn error_reply(code: ErrorCode, message: &str) -> Reply {
    let reply = Reply::json(
        code.status(),
        &error_body(code.code(), code.status(), message),
    );
    if code == ErrorCode::Authenticate {
        reply.with_header("WWW-Authenticate", "Basic realm=\"Twilio API\"".to_owned())
    } else {
        reply
    }
}

/// `/v2/Services…`: authenticate, then serve the resource.
pub async fn serve(ctx: &Ctx, resource: Resource) -> Result<Reply, ApiError> {
    let outcome = async {
        let who = principal(ctx).await?;
        let db = ctx.db()?;
        match resource {
            Resource::Services if ctx.method == "GET" => list_services(ctx, &db, &who).await,
            Resource::Services => create_service(ctx, &db, &who).await,
            Resource::Service { sid } => match ctx.method.as_str() {
                "GET" => fetch_service(ctx, &db, &who, &sid).await,
                "DELETE" => delete_service(ctx, &db, &who, &sid).await,
                _ => update_service(ctx, &db, &who, &sid).await,
            },
            Resource::Verifications { service } => start(ctx, &db, &who, &service).await,
            Resource::Verification { service, sid } if ctx.method == "GET" => {
                fetch_verification(ctx, &db, &who, &service, &sid).await
            }
            Resource::Verification { service, sid } => {
                update_verification(ctx, &db, &who, &service, &sid).await
            }
            Resource::VerificationCheck { service } => check(ctx, &db, &who, &service).await,
        }
    }
    .await;
    match outcome {
        Ok(reply) => Ok(reply),
        Err(Failure::Twilio(code, message)) => Ok(error_reply(code, &message)),
        Err(Failure::Api(e)) => Err(e),
    }
}

/// HTTP Basic: username = the account's `AC…` sid or the key's own `SK…` sid, password = a
/// live otpedge API key. Anything else, whatever is wrong, is the same 401 (20003).
async fn principal(ctx: &Ctx) -> Result<Principal, Failure> {
    let refused = || Failure::Twilio(ErrorCode::Authenticate, "Authenticate".to_owned());
    let header = ctx.header("Authorization").ok_or_else(refused)?;
    let (user, password) = tv::basic_credentials(&header).ok_or_else(refused)?;
    let sid_shaped = tv::is_sid(SidKind::Account, &user) || tv::is_sid(SidKind::ApiKey, &user);
    if !sid_shaped || !looks_like_api_key(&password) {
        return Err(refused());
    }
    let hash = sha256_hex(password.as_bytes());
    store::principal(&ctx.db()?, &hash, &user)
        .await?
        .ok_or_else(refused)
}

fn form(ctx: &Ctx) -> Form {
    Form::parse(&ctx.body)
}

/// `scheme://host` of the request, so `url` and `links` point back at this deployment.
fn origin(ctx: &Ctx) -> &str {
    let url = ctx.url.as_str();
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url
        .get(start..)
        .and_then(|rest| rest.find('/'))
        .map_or(url.len(), |i| start + i);
    url.get(..end).unwrap_or(url)
}

// --- Services ---

fn service_json(ctx: &Ctx, who: &Principal, s: &ServiceRow) -> Value {
    let url = format!("{}/v2/Services/{}", origin(ctx), s.sid);
    json!({
        "sid": s.sid,
        "account_sid": who.account_sid,
        "friendly_name": s.friendly_name,
        "code_length": s.code_length,
        "lookup_enabled": false,
        "psd2_enabled": false,
        "skip_sms_to_landlines": false,
        "dtmf_input_required": false,
        "tts_name": null,
        "do_not_share_warning_enabled": false,
        "custom_code_enabled": true,
        "push": {"include_date": false, "apn_credential_sid": null, "fcm_credential_sid": null},
        "totp": {"issuer": null, "time_step": 30, "code_length": 6, "skew": 1},
        "default_template_sid": null,
        "whatsapp": {"msg_service_sid": null, "from": null},
        "passkeys": null,
        "verify_event_subscription_enabled": false,
        "date_created": date(s.created_at),
        "date_updated": date(s.updated_at),
        "url": url,
        "links": {
            "verification_checks": format!("{url}/VerificationCheck"),
            "verifications": format!("{url}/Verifications"),
            "rate_limits": format!("{url}/RateLimits"),
            "messaging_configurations": format!("{url}/MessagingConfigurations"),
            "entities": format!("{url}/Entities"),
            "webhooks": format!("{url}/Webhooks"),
            "access_tokens": format!("{url}/AccessTokens"),
        },
    })
}

async fn service(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    sid: &str,
) -> Result<ServiceRow, Failure> {
    if !tv::is_sid(SidKind::Service, sid) {
        return Err(not_found(ctx));
    }
    store::find_service(db, &who.account_id, sid)
        .await?
        .ok_or_else(|| not_found(ctx))
}

/// `POST /v2/Services` (`FriendlyName`, `CodeLength`) → 201, the service.
async fn create_service(ctx: &Ctx, db: &D1Database, who: &Principal) -> Result<Reply, Failure> {
    let f = form(ctx);
    let row = ServiceRow {
        sid: tv::new_sid(SidKind::Service)?,
        account_id: who.account_id.clone(),
        friendly_name: tv::friendly_name(f.get("FriendlyName"))?,
        code_length: i64::from(tv::code_length(f.get("CodeLength"))?),
        created_at: ctx.now_ms,
        updated_at: ctx.now_ms,
    };
    store::create_service(db, &row).await?;
    Ok(Reply::json(201, &service_json(ctx, who, &row)))
}

async fn fetch_service(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    sid: &str,
) -> Result<Reply, Failure> {
    let row = service(ctx, db, who, sid).await?;
    Ok(Reply::ok(service_json(ctx, who, &row)))
}

/// `POST /v2/Services/{sid}` (`FriendlyName`, `CodeLength`, both optional).
async fn update_service(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    sid: &str,
) -> Result<Reply, Failure> {
    let mut row = service(ctx, db, who, sid).await?;
    let f = form(ctx);
    if f.get("FriendlyName").is_some() {
        row.friendly_name = tv::friendly_name(f.get("FriendlyName"))?;
    }
    if f.get("CodeLength").is_some() {
        row.code_length = i64::from(tv::code_length(f.get("CodeLength"))?);
    }
    row.updated_at = ctx.now_ms;
    if !store::update_service(db, &row).await? {
        return Err(not_found(ctx));
    }
    Ok(Reply::ok(service_json(ctx, who, &row)))
}

/// `DELETE /v2/Services/{sid}` → 204.
async fn delete_service(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    sid: &str,
) -> Result<Reply, Failure> {
    if !tv::is_sid(SidKind::Service, sid)
        || !store::delete_service(db, &who.account_id, sid, ctx.now_ms).await?
    {
        return Err(not_found(ctx));
    }
    Ok(Reply {
        status: 204,
        body: String::new(),
        headers: Vec::new(),
    })
}

/// `GET /v2/Services?PageSize=&Page=` → `{"services":[…],"meta":{…}}`, oldest first.
async fn list_services(ctx: &Ctx, db: &D1Database, who: &Principal) -> Result<Reply, Failure> {
    let paging = Paging::parse(
        ctx.query("Page").as_deref(),
        ctx.query("PageSize").as_deref(),
    )?;
    let mut rows = store::list_services(
        db,
        &who.account_id,
        paging.offset(),
        i64::from(paging.size) + 1,
    )
    .await?;
    let has_next = rows.len() > paging.size as usize;
    rows.truncate(paging.size as usize);
    let list_url = format!("{}/v2/Services", origin(ctx));
    Ok(Reply::ok(json!({
        "services": rows.iter().map(|s| service_json(ctx, who, s)).collect::<Vec<_>>(),
        "meta": paging.meta(&list_url, "services", has_next),
    })))
}

// --- Verifications ---

fn session_terminal(v: &VerificationRow, now_ms: i64) -> Option<Terminal> {
    terminal(
        v.verified_at.is_some(),
        v.attempts,
        v.max_attempts,
        v.expires_at,
        now_ms,
    )
}

fn status_of(v: &VerificationRow, now_ms: i64) -> Status {
    tv::status(v.canceled_at.is_some(), session_terminal(v, now_ms))
}

fn updated_at(v: &VerificationRow) -> i64 {
    [Some(v.sent_at), v.canceled_at, v.verified_at]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(v.sent_at)
}

async fn verification_json(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    v: &VerificationRow,
) -> Result<Value, Failure> {
    let status = status_of(v, ctx.now_ms);
    let sends = store::sends(db, &v.sid).await?;
    Ok(json!({
        "sid": v.sid,
        "service_sid": v.service_sid,
        "account_sid": who.account_sid,
        "to": v.to_phone,
        "channel": v.channel,
        "status": status.as_str(),
        "valid": status == Status::Approved,
        "lookup": {},
        "amount": null,
        "payee": null,
        "send_code_attempts": sends.iter().map(|s| json!({
            "attempt_sid": s.session_id,
            "channel": s.channel,
            "time": rfc3339_millis(s.created_at),
        })).collect::<Vec<_>>(),
        "date_created": date(v.created_at),
        "date_updated": date(updated_at(v)),
        "sna": null,
        "url": format!("{}/v2/Services/{}/Verifications/{}", origin(ctx), v.service_sid, v.sid),
    }))
}

/// `POST /v2/Services/{sid}/Verifications` (`To`, `Channel`, `CustomCode`, `Locale`): a new
/// verification, or — while one is pending for this `To` — a resend of it. Every send is
/// one OTP-engine send: charged, counted by the resend rules (60203 when refused).
async fn start(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    service_sid: &str,
) -> Result<Reply, Failure> {
    let svc = service(ctx, db, who, service_sid).await?;
    let f = form(ctx);
    let to = f.get("To").ok_or(ParamError::Missing("To"))?;
    let phone = Phone::parse(to, PlusSign::Required)
        .map_err(|e| ParamError::Invalid("To", format!("{to}: {e}")))?;
    let channel_name = f.get("Channel").ok_or(ParamError::Missing("Channel"))?;
    let channel = match tv::channel(channel_name) {
        ChannelChoice::Supported(c) => c,
        ChannelChoice::Unsupported => {
            return Err(ParamError::Invalid(
                "Channel",
                format!("{channel_name} is not supported by otpedge (sms, call, whatsapp)"),
            )
            .into())
        }
        ChannelChoice::Unknown => {
            return Err(ParamError::Invalid(
                "Channel",
                format!("{channel_name} is not one of sms, call, whatsapp"),
            )
            .into())
        }
    };
    let channel = engine::channel(&ctx.config, Some(channel))?;
    let custom = tv::custom_code(f.get("CustomCode"))?;

    let pending = store::latest_for_phone(db, &who.account_id, &svc.sid, phone.e164())
        .await?
        .filter(|v| status_of(v, ctx.now_ms).is_pending());
    let (verification_sid, new_verification) = match &pending {
        Some(v) => (v.sid.clone(), false),
        None => (tv::new_sid(SidKind::Verification)?, true),
    };
    let session_id = tv::new_sid(SidKind::Attempt)?;
    store::prepare_send(
        db,
        &store::NewSend {
            verification_sid: &verification_sid,
            new_verification,
            service_sid: &svc.sid,
            account_id: &who.account_id,
            to_phone: phone.e164(),
            session_id: &session_id,
            channel: tv::twilio_channel(channel),
            now_ms: ctx.now_ms,
        },
    )
    .await?;
    let spec = SendSpec {
        session_id,
        phone: phone.clone(),
        channel,
        code: custom,
        length: usize::try_from(svc.code_length).unwrap_or(6),
        ttl_secs: ctx.config.otp_ttl_secs,
        dialect: "whatotp",
        sender: None,
        payload: None,
        template: None,
    };
    engine::send(ctx, db, &who.account_id, spec).await?;
    let v = store::find_verification(db, &who.account_id, &svc.sid, &verification_sid)
        .await?
        .ok_or_else(|| ApiError::internal("verification not readable after its send"))?;
    Ok(Reply::json(
        201,
        &verification_json(ctx, db, who, &v).await?,
    ))
}

async fn verification(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    service_sid: &str,
    sid: &str,
) -> Result<VerificationRow, Failure> {
    service(ctx, db, who, service_sid).await?;
    if !tv::is_sid(SidKind::Verification, sid) {
        return Err(not_found(ctx));
    }
    store::find_verification(db, &who.account_id, service_sid, sid)
        .await?
        .ok_or_else(|| not_found(ctx))
}

/// `GET /v2/Services/{sid}/Verifications/{sid}`
async fn fetch_verification(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    service_sid: &str,
    sid: &str,
) -> Result<Reply, Failure> {
    let v = verification(ctx, db, who, service_sid, sid).await?;
    Ok(Reply::ok(verification_json(ctx, db, who, &v).await?))
}

/// `POST /v2/Services/{sid}/Verifications/{sid}` (`Status=canceled|approved`): only a
/// pending verification changes; any other is 20404, as Twilio answers.
async fn update_verification(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    service_sid: &str,
    sid: &str,
) -> Result<Reply, Failure> {
    let wanted = tv::update(form(ctx).get("Status"))?;
    let v = verification(ctx, db, who, service_sid, sid).await?;
    if !status_of(&v, ctx.now_ms).is_pending() {
        return Err(not_found(ctx));
    }
    let changed = match wanted {
        Update::Cancel => {
            store::cancel(db, &who.account_id, &v.sid, &v.session_id, ctx.now_ms).await?
        }
        Update::Approve => engine::approve(ctx, &who.account_id, &v.session_id).await?,
    };
    if !changed {
        return Err(not_found(ctx));
    }
    let after = verification(ctx, db, who, service_sid, sid).await?;
    Ok(Reply::ok(verification_json(ctx, db, who, &after).await?))
}

/// `POST /v2/Services/{sid}/VerificationCheck` (`Code` and `To` or `VerificationSid`): the
/// OTP engine's check of the latest send's session. Wrong → 200 `pending` (the check that
/// spends the last attempt: `max_attempts_reached`); right → `approved`; no pending
/// verification (approved, canceled, expired, none) → 20404; attempts spent → 60202.
async fn check(
    ctx: &Ctx,
    db: &D1Database,
    who: &Principal,
    service_sid: &str,
) -> Result<Reply, Failure> {
    let svc = service(ctx, db, who, service_sid).await?;
    let f = form(ctx);
    let code = f.get("Code").ok_or(ParamError::Missing("Code"))?;
    let code = engine::code_input(Some(&Value::String(code.to_owned())), "Code")
        .map_err(|e| ParamError::Invalid("Code", e.message))?;
    let found = match (f.get("VerificationSid"), f.get("To")) {
        (Some(sid), _) if tv::is_sid(SidKind::Verification, sid) => {
            store::find_verification(db, &who.account_id, &svc.sid, sid).await?
        }
        (Some(_), _) => None,
        (None, Some(to)) => match Phone::parse(to, PlusSign::Required) {
            Ok(phone) => {
                store::latest_for_phone(db, &who.account_id, &svc.sid, phone.e164()).await?
            }
            Err(e) => return Err(ParamError::Invalid("To", format!("{to}: {e}")).into()),
        },
        (None, None) => return Err(ParamError::Missing("To").into()),
    };
    let v = found.ok_or_else(|| not_found(ctx))?;
    match status_of(&v, ctx.now_ms) {
        Status::Pending => {}
        Status::MaxAttemptsReached => return Err(max_checks()),
        Status::Approved | Status::Canceled | Status::Expired => return Err(not_found(ctx)),
    }
    let (_, checked) = engine::check(ctx, &v.session_id, &code).await?;
    let status = match checked {
        Checked::Verified => Status::Approved,
        Checked::Wrong { remaining: 0 } => Status::MaxAttemptsReached,
        Checked::Wrong { .. } => Status::Pending,
        Checked::Refused(Terminal::MaxAttempts) => return Err(max_checks()),
        Checked::Refused(_) => return Err(not_found(ctx)),
    };
    Ok(Reply::ok(json!({
        "sid": v.sid,
        "service_sid": v.service_sid,
        "account_sid": who.account_sid,
        "to": v.to_phone,
        "channel": v.channel,
        "status": status.as_str(),
        "valid": status == Status::Approved,
        "amount": null,
        "payee": null,
        "sna_attempts_error_codes": [],
        "date_created": date(v.created_at),
        "date_updated": date(ctx.now_ms),
    })))
}

fn max_checks() -> Failure {
    Failure::Twilio(
        ErrorCode::MaxCheckAttempts,
        "Max check attempts reached".to_owned(),
    )
}
