//! The account's webhook endpoint, its delivery log and redelivery; waking the account's
//! dispatcher (a Durable Object) when events were recorded.
use super::{App, Listed};
use crate::config::server_key;
use crate::domain::audit::{Actor, Change};
use crate::domain::error::{AppError, Code};
use crate::domain::events::{self, SmsActivateSms};
use crate::domain::ids::AccountId;
use crate::domain::pagination::Page;
use crate::domain::time::{parse_rfc3339, sql_datetime};
use crate::domain::webhook::{validate_url, Delivery};
use crate::durable::webhook_dispatcher;
use crate::store::audit;
use crate::store::webhooks as store;
use worker::{console_error, Env};

/// Wakes the account's dispatcher after the response is sent.
pub fn kick_soon(app: &App, account_id: &str) {
    let env = app.env.clone();
    let account_id = account_id.to_owned();
    app.later(async move {
        if let Err(e) = kick_env(&env, &account_id).await {
            console_error!("webhook kick: {}", e.detail());
        }
    });
}

/// Wakes the account's dispatcher now (best effort: an event that is not kicked goes out
/// with the next one, or at the dispatcher's next alarm).
pub async fn kick_env(env: &Env, account_id: &str) -> Result<(), AppError> {
    webhook_dispatcher::kick(env, account_id).await
}

/// An endpoint as shown to its account: the URL and its signing secret (derived, never
/// stored).
pub struct EndpointView {
    pub url: String,
    pub secret: String,
    pub updated_at: i64,
}

fn view(app: &App, e: &store::Endpoint) -> Result<EndpointView, AppError> {
    let secret = e.secret(&server_key(&app.env)?);
    Ok(EndpointView {
        url: e.url.clone(),
        secret,
        updated_at: e.updated_at,
    })
}

pub async fn endpoint(app: &App, account: &AccountId) -> Result<EndpointView, AppError> {
    match store::endpoint(&app.db()?, account.as_str()).await? {
        Some(e) => view(app, &e),
        None => Err(AppError::of(Code::NoWebhookEndpoint)),
    }
}

/// Sets the endpoint (keeping its secret unless asked to rotate) and wakes the dispatcher,
/// so events recorded while there was no endpoint go out now.
pub async fn set_endpoint(
    app: &App,
    account: &AccountId,
    (url, rotate_secret): (&str, bool),
    actor: &Actor,
) -> Result<EndpointView, AppError> {
    let url = url.trim();
    validate_url(url, app.config.webhook_allow_local_http)
        .map_err(|m| AppError::new(Code::InvalidWebhookUrl, m))?;
    let db = app.db()?;
    let change = Change {
        after: Some(serde_json::json!({"url": url, "secret_rotated": rotate_secret})),
        ..endpoint_change(account, "webhook.set")
    };
    let row = audit::append(&db, actor, &change, app.now_ms)?;
    let set = (url, rotate_secret);
    let secret_version = store::set_endpoint(&db, account.as_str(), set, app.now_ms, row).await?;
    let endpoint = store::Endpoint {
        account_id: account.0.clone(),
        url: url.to_owned(),
        secret_version,
        updated_at: app.now_ms,
    };
    kick_env(&app.env, account.as_str()).await?;
    view(app, &endpoint)
}

/// A change to the account's endpoint, as the audit log records it.
fn endpoint_change<'a>(account: &'a AccountId, action: &'a str) -> Change<'a> {
    Change {
        account_id: Some(account.as_str()),
        action,
        resource_type: "webhook_endpoint",
        resource_id: Some(account.as_str()),
        ..Change::default()
    }
}

pub async fn delete_endpoint(
    app: &App,
    account: &AccountId,
    actor: &Actor,
) -> Result<(), AppError> {
    let db = app.db()?;
    let change = endpoint_change(account, "webhook.delete");
    let row = audit::append_if_changed(&db, actor, &change, app.now_ms)?;
    if store::delete_endpoint(&db, account.as_str(), row).await? {
        Ok(())
    } else {
        Err(AppError::of(Code::NoWebhookEndpoint))
    }
}

/// The account's sms-activate webhook as shown to it: the URL and the secret its deliveries
/// are signed with (derived, never stored).
pub struct HookView {
    pub url: String,
    pub secret: String,
    pub updated_at: i64,
}

pub async fn sms_activate_hook(app: &App, account: &AccountId) -> Result<HookView, AppError> {
    let hook = store::sms_activate_hook(&app.db()?, account.as_str()).await?;
    let hook = hook.ok_or_else(|| AppError::of(Code::NoWebhookEndpoint))?;
    Ok(HookView {
        url: hook.url,
        secret: store::SmsActivateHook::secret(&server_key(&app.env)?, account.as_str()),
        updated_at: hook.updated_at,
    })
}

/// Sets the sms-activate webhook URL (the endpoint's URL rules: https, no internal address).
pub async fn set_sms_activate_hook(
    app: &App,
    account: &AccountId,
    url: &str,
) -> Result<HookView, AppError> {
    let url = url.trim();
    validate_url(url, app.config.webhook_allow_local_http)
        .map_err(|m| AppError::new(Code::InvalidWebhookUrl, m))?;
    store::set_sms_activate_hook(&app.db()?, account.as_str(), url, app.now_ms).await?;
    kick_env(&app.env, account.as_str()).await?;
    sms_activate_hook(app, account).await
}

pub async fn delete_sms_activate_hook(app: &App, account: &AccountId) -> Result<(), AppError> {
    if store::delete_sms_activate_hook(&app.db()?, account.as_str()).await? {
        Ok(())
    } else {
        Err(AppError::of(Code::NoWebhookEndpoint))
    }
}

/// Queues an SMS that reached an activation or rent for its account's sms-activate webhook,
/// once per SMS, if the account has one, and wakes the dispatcher.
pub async fn sms_to_sms_activate_hook(app: &App, sms_id: &str) -> Result<(), AppError> {
    let db = app.db()?;
    let Some(sms) = crate::store::smsactivate::hooked_sms(&db, sms_id).await? else {
        return Ok(());
    };
    let received_at = parse_rfc3339(&sms.received_at).map_or(sms.received_at.clone(), sql_datetime);
    let shaped = SmsActivateSms {
        from: &sms.sender,
        text: &sms.text,
        code: sms.code.as_deref(),
        received_at: &received_at,
    };
    let (event_type, data) = if sms.kind == "rent" {
        (
            "sms_activate.rent_sms",
            events::sms_activate_rent(sms.num, &shaped),
        )
    } else {
        let country = sms.sa_country.unwrap_or(0);
        let data = events::sms_activate_activation(sms.num, &sms.sa_service, country, &shaped);
        ("sms_activate.sms", data)
    };
    let event = store::Event {
        account_id: &sms.account_id,
        event_type,
        object_id: sms_id,
        version: 0,
        data,
    };
    store::record_sms_activate_event(&db, &event, app.now_ms).await?;
    kick_soon(app, &sms.account_id);
    Ok(())
}

/// Every delivery attempt for the account, newest first, with the total.
pub async fn deliveries(app: &App, account: &AccountId, page: Page) -> Listed<Delivery> {
    Ok(store::deliveries(&app.db()?, account.as_str(), page).await?)
}

/// Puts an event of the account back in the queue and wakes the dispatcher.
pub async fn redeliver(app: &App, account: &AccountId, event_id: &str) -> Result<(), AppError> {
    if !store::redeliver(&app.db()?, account.as_str(), event_id).await? {
        return Err(AppError::not_found("event"));
    }
    kick_env(&app.env, account.as_str()).await
}
