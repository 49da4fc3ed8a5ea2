//! Vonage applications: a customer registers an application's public key
//! (`create_application`), and its SDK's JWTs, signed by the private key, authenticate the
//! Vonage Verify v2 front door as the application's account (`authenticate`): the claims
//! (`domain::vonage_jwt`), the RS256 signature (WebCrypto: no RSA code in the Worker), and
//! the `jti` once (recorded until the token expires by the account's OTP-session object its
//! hash names, near: no D1 round trip once this isolate knows the application).
use super::App;
use crate::config::server_key;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{new_uuid, random_bytes, AccountId};
use crate::domain::otp::session_object;
use crate::domain::vonage_callback::{event_body, new_secret, seal_secret, StepEvent};
use crate::domain::vonage_jwt::{admit, parse, spki_der, JwtError};
use crate::domain::webhook::validate_url;
use crate::durable::otp_session::{self, Op, Outcome};
use crate::store::vonage as store;
// The front door holds the application a JWT authenticated.
pub use crate::domain::vonage_jwt::Application;
use std::cell::RefCell;
use std::collections::HashMap;
use worker::console_error;
use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

thread_local! {
    /// Applications this isolate has read (an application's key and account never change).
    static KNOWN: RefCell<HashMap<String, Application>> = RefCell::new(HashMap::new());
}

/// Applications remembered per isolate before the memo starts over.
const KNOWN_KEPT: usize = 1024;

/// A registered application, as its owner sees it.
pub struct Registered {
    pub id: String,
    pub callback_url: Option<String>,
    /// Signs the application's status callbacks: shown here once, stored sealed.
    pub signature_secret: String,
}

/// Registers an application's public key (a `-----BEGIN PUBLIC KEY-----` PEM of an RSA key)
/// and, optionally, where its status callbacks go (the webhook URL rules apply); generates
/// the signature secret its callbacks are signed with.
pub async fn create_application(
    app: &App,
    account: &AccountId,
    public_key: &str,
    callback_url: Option<&str>,
) -> Result<Registered, AppError> {
    let bad_key = || AppError::invalid("'public_key' must be an RSA public key in PEM (SPKI)");
    let der = spki_der(public_key).ok_or_else(bad_key)?;
    import_key(&der).await.map_err(|_| bad_key())?;
    if let Some(url) = callback_url {
        validate_url(url, app.config.webhook_allow_local_http)
            .map_err(|m| AppError::new(Code::InvalidWebhookUrl, m))?;
    }
    let application = Application {
        id: new_uuid()?,
        account_id: account.0.clone(),
        public_key: public_key.trim().to_owned(),
        callback_url: callback_url.map(str::to_owned),
    };
    let secret = new_secret(&random_bytes::<32>()?);
    let sealed = seal_secret(&server_key(&app.env)?, &application.id, &secret);
    store::insert(&app.db()?, &application, &sealed, app.now_ms).await?;
    Ok(Registered {
        id: application.id,
        callback_url: application.callback_url,
        signature_secret: secret,
    })
}

/// A request an application's JWT started.
pub struct Started<'a> {
    pub request_id: &'a str,
    /// The workflow's channels in order (the first went out with the request).
    pub channels: &'a [String],
    pub channel_timeout: i64,
}

/// Records a request of an application that takes callbacks (its summary is recorded when
/// it ends), with the `event` of its first message, before the request is answered (a check
/// can only follow the answer). Nothing for an application without a callback URL. The
/// request already went out and was charged: a failure here costs its callbacks only.
pub async fn started(app: &App, application: &Application, s: &Started<'_>) {
    if application.callback_url.is_none() {
        return;
    }
    match record_started(app, application, s).await {
        Ok(()) => super::webhooks::kick_soon(app, &application.account_id),
        Err(e) => console_error!(
            "vonage request {} not recorded: {}",
            s.request_id,
            e.detail()
        ),
    }
}

async fn record_started(
    app: &App,
    application: &Application,
    s: &Started<'_>,
) -> Result<(), AppError> {
    let db = app.db()?;
    let request = store::Request {
        session_id: s.request_id,
        account_id: &application.account_id,
        application_id: &application.id,
        channels: s.channels,
        channel_timeout: s.channel_timeout,
        created_at: app.now_ms,
    };
    let first = event_body(&StepEvent {
        request_id: s.request_id,
        channel: s.channels.first().map_or("sms", String::as_str),
        status: "sent",
        at_ms: app.now_ms,
    });
    let statements = vec![
        store::request_statement(&db, &request)?,
        store::event_statement(&db, s.request_id, s.request_id, &first, app.now_ms)?,
    ];
    crate::store::batch(&db, statements).await?;
    Ok(())
}

/// Who a Vonage SDK's JWT authenticates: the application (and so its account). Refused
/// (`Err` with why) when the token is malformed, not RS256, expired, issued in the future,
/// of an unknown application, badly signed, or already used.
pub async fn authenticate(app: &App, token: &str) -> Result<Application, JwtAuthError> {
    let token = parse(token)?;
    let admitted = admit(&token.claims, app.now_ms.div_euclid(1000))?;
    let application = application(app, &admitted.application_id).await?;
    let der = spki_der(&application.public_key).ok_or(JwtError::UnknownApplication)?;
    let verified = verify(&der, &token.signed, &token.signature).await;
    if !verified.map_err(|_| AppError::internal("WebCrypto verify failed"))? {
        return Err(JwtError::BadSignature.into());
    }
    let id = format!("{}:{}", application.id, admitted.jti);
    let op = Op::SeeJti {
        expires_at: admitted.exp.saturating_mul(1000),
        id: id.clone(),
    };
    let object = session_object(&application.account_id, &format!("jti:{id}"));
    match otp_session::call(&app.env, &object, &op).await? {
        Outcome::Jti { fresh: true } => Ok(application),
        _ => Err(JwtError::Replayed.into()),
    }
}

/// Why a JWT was refused: a rule of the token, or our own failure.
pub enum JwtAuthError {
    Refused(JwtError),
    Failed(AppError),
}

impl From<JwtError> for JwtAuthError {
    fn from(e: JwtError) -> JwtAuthError {
        JwtAuthError::Refused(e)
    }
}

impl From<AppError> for JwtAuthError {
    fn from(e: AppError) -> JwtAuthError {
        JwtAuthError::Failed(e)
    }
}

async fn application(app: &App, id: &str) -> Result<Application, JwtAuthError> {
    if let Some(known) = KNOWN.with(|m| m.borrow().get(id).cloned()) {
        return Ok(known);
    }
    let found = store::live(&app.db()?, id).await.map_err(AppError::from)?;
    let found = found.ok_or(JwtError::UnknownApplication)?;
    KNOWN.with(|m| {
        let mut m = m.borrow_mut();
        if m.len() >= KNOWN_KEPT {
            m.clear();
        }
        m.insert(id.to_owned(), found.clone());
    });
    Ok(found)
}

/// `crypto.subtle`.
fn subtle() -> Result<JsValue, JsValue> {
    let crypto = Reflect::get(&worker::js_sys::global(), &"crypto".into())?;
    Reflect::get(&crypto, &"subtle".into())
}

/// Calls `crypto.subtle.<method>(...args)` and awaits its Promise.
async fn call_subtle(method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let subtle = subtle()?;
    let f: Function = Reflect::get(&subtle, &method.into())?.dyn_into()?;
    let list = Array::new();
    for a in args {
        list.push(a);
    }
    let promise: Promise = f.apply(&subtle, &list)?.dyn_into()?;
    JsFuture::from(promise).await
}

fn rs256() -> Result<Object, JsValue> {
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"RSASSA-PKCS1-v1_5".into())?;
    Reflect::set(&algorithm, &"hash".into(), &"SHA-256".into())?;
    Ok(algorithm)
}

async fn import_key(der: &[u8]) -> Result<JsValue, JsValue> {
    let usages = Array::of1(&"verify".into());
    let args: [&JsValue; 5] = [
        &"spki".into(),
        &Uint8Array::from(der).into(),
        &rs256()?.into(),
        &JsValue::FALSE,
        &usages.into(),
    ];
    call_subtle("importKey", &args).await
}

/// Whether `signature` is `signed`'s RSASSA-PKCS1-v1_5 / SHA-256 signature by the key.
async fn verify(der: &[u8], signed: &[u8], signature: &[u8]) -> Result<bool, JsValue> {
    let key = import_key(der).await?;
    let args: [&JsValue; 4] = [
        &rs256()?.into(),
        &key,
        &Uint8Array::from(signature).into(),
        &Uint8Array::from(signed).into(),
    ];
    Ok(call_subtle("verify", &args).await?.as_bool() == Some(true))
}
