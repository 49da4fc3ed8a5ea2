//! Route → the dialect function that serves it, one function per Worker part
//! (`parts::Part`); a build compiles the parts of its Cargo features only, so the code of
//! the others is not in its wasm.
use super::parts::Part;
use super::reply::Reply;
use super::routes::Route;
use super::server::Ctx;
use crate::domain::error::{AppError, Code};

pub async fn dispatch(ctx: &Ctx, route: Route) -> Result<Reply, AppError> {
    // Each part awaited in place, not boxed: the split costs the request no allocation.
    match route.part() {
        #[cfg(feature = "front")]
        Part::Front => front(ctx, route).await,
        #[cfg(feature = "protocols")]
        Part::Protocols => protocols(ctx, route).await,
        #[cfg(feature = "accounts")]
        Part::Accounts => accounts(ctx, route).await,
        #[allow(unreachable_patterns)]
        part => Err(AppError::new(
            Code::RouteNotFound,
            format!(
                "no route for {} {} in this Worker ({part:?} routes are another's)",
                ctx.method, ctx.path
            ),
        )),
    }
}

/// The product API's money and OTP routes, the public price lists and GetOTP.
#[cfg(feature = "front")]
async fn front(ctx: &Ctx, route: Route) -> Result<Reply, AppError> {
    use super::dialects::{getotp, numberotp, otpwall, whatotp};
    use super::reply::JSON;
    use Route::*;
    match route {
        Healthz => Ok(Reply::raw(200, JSON, r#"{"ok":true}"#.to_owned())),
        // OTPWALL.
        Balance => boxed(otpwall::balance(ctx)).await,
        Countries => boxed(otpwall::countries(ctx)).await,
        Services => boxed(otpwall::services(ctx)).await,
        BuyNumber => boxed(otpwall::buy_number(ctx)).await,
        ActivationStatus { id } => boxed(otpwall::activation_status(ctx, &id)).await,
        SetActivationStatus { id } => boxed(otpwall::set_activation_status(ctx, &id)).await,
        InboundSms => boxed(otpwall::inbound_sms(ctx)).await,
        // NumberOTP's public price lists.
        PublicPrices => boxed(numberotp::prices(ctx)).await,
        PublicRentPrices => boxed(numberotp::rent_prices(ctx)).await,

        // WhatOTP.
        OtpSend => boxed(whatotp::send(ctx)).await,
        OtpVerify => boxed(whatotp::verify(ctx)).await,
        MessageSend => boxed(whatotp::message_send(ctx)).await,
        MessageStatus { id } => boxed(whatotp::message_status(ctx, &id)).await,
        // GetOTP.
        GetOtpSend => boxed(getotp::send(ctx)).await,
        GetOtpCheck => boxed(getotp::check(ctx)).await,
        GetOtpStatus { message_id } => boxed(getotp::status(ctx, &message_id)).await,
        // The event stream is answered in `handle` (a streamed body).
        _ => Err(AppError::internal("route not served by dispatch::front")),
    }
}

/// The market's protocols, each with a resource router of its own, and NumberOTP's
/// account routes.
#[cfg(feature = "protocols")]
async fn protocols(ctx: &Ctx, route: Route) -> Result<Reply, AppError> {
    use super::dialects::{
        fivesim, numberotp, prelude, smsactivate, twilio_verify, vonage, webhooks,
    };
    use Route::*;
    match route {
        SmsActivate => boxed(smsactivate::handle(ctx)).await,
        SmsActivateWebhook => boxed(webhooks::sms_activate_hook(ctx)).await,
        TwilioVerify(resource) => boxed(twilio_verify::serve(ctx, resource)).await,
        Vonage(resource) => boxed(vonage::serve(ctx, resource)).await,
        FiveSim(resource) => boxed(fivesim::serve(ctx, resource)).await,
        Prelude(resource) => boxed(prelude::serve(ctx, resource)).await,
        // NumberOTP.
        NumberOtpBalance => boxed(numberotp::balance(ctx)).await,
        Transactions => boxed(numberotp::transactions(ctx)).await,
        Profile => boxed(numberotp::profile(ctx)).await,
        Rent => boxed(numberotp::rent(ctx)).await,
        RentStatus { id } => boxed(numberotp::rent_status(ctx, &id)).await,
        _ => Err(AppError::internal("not served by dispatch::protocols")),
    }
}

/// The operator's API and console, statistics, and the customer's own account.
#[cfg(feature = "accounts")]
async fn accounts(ctx: &Ctx, route: Route) -> Result<Reply, AppError> {
    use super::dialects::{admin, stats};
    use Route::*;
    match route {
        AdminCreateAccount => boxed(admin::create_account(ctx)).await,
        AdminCreateKey { account_id } => boxed(admin::create_key(ctx, &account_id)).await,
        AdminRevokeKey { key_id } => boxed(admin::revoke_key(ctx, &key_id)).await,
        AdminTopup { account_id } => boxed(admin::topup(ctx, &account_id)).await,
        AdminPutCatalog => boxed(admin::inventory::put_catalog(ctx)).await,
        AdminImportNumbers => boxed(admin::inventory::import_numbers(ctx)).await,
        AdminCreateSupplier => boxed(admin::inventory::create_supplier(ctx)).await,
        AdminCreateTemplate => boxed(admin::messaging::create_template(ctx)).await,
        AdminOutbox => boxed(admin::messaging::outbox(ctx)).await,
        Console(route) => boxed(admin::console::serve(ctx, route)).await,
        Stats(which) => boxed(stats::serve(ctx, which)).await,
        route => account(ctx, route).await,
    }
}

/// The customer's own account, keys, templates and lists, webhooks and the fraud guard.
#[cfg(feature = "accounts")]
async fn account(ctx: &Ctx, route: Route) -> Result<Reply, AppError> {
    use super::dialects::{
        accounts, audit, callbacks, fraud, numberotp, otpwall, usage, webhooks, whatotp,
    };
    use Route::*;
    match route {
        // Outbound webhooks and delivery provider callbacks.
        AdminWebhookEndpoint { account_id } => {
            boxed(webhooks::admin_endpoint(ctx, &account_id)).await
        }
        WebhookEndpoint => boxed(webhooks::endpoint(ctx)).await,
        WebhookDeliveries => boxed(webhooks::deliveries(ctx)).await,
        WebhookRedeliver { event_id } => boxed(webhooks::redeliver(ctx, &event_id)).await,
        TwilioStatusCallback => boxed(callbacks::twilio_status_callback(ctx)).await,
        // The fraud guard.
        FraudPolicy => boxed(fraud::policy(ctx)).await,
        FraudBlocks => boxed(fraud::blocks(ctx)).await,
        FraudBlock { id } => boxed(fraud::lift(ctx, &id)).await,
        FraudSafeList => boxed(fraud::safe_list(ctx)).await,
        FraudSafeNumber { phone } => boxed(fraud::safe_remove(ctx, &phone)).await,
        // Dashboard lists.
        Activations => boxed(otpwall::activation_list(ctx)).await,
        Rents => boxed(numberotp::rent_list(ctx)).await,
        OtpSessions => boxed(whatotp::session_list(ctx)).await,
        Outbox => boxed(whatotp::account_outbox(ctx)).await,
        // Customer accounts: sign-up, login sessions, own keys and templates.
        AuthRegister => boxed(accounts::register(ctx)).await,
        AuthLogin => boxed(accounts::login(ctx)).await,
        AuthLogout => boxed(accounts::logout(ctx)).await,
        AuthSession => boxed(accounts::session(ctx)).await,
        AuthPassword => boxed(accounts::password(ctx)).await,
        AuthSessions => boxed(accounts::sessions(ctx)).await,
        AuthRevokeSession { session_id } => boxed(accounts::revoke_session(ctx, &session_id)).await,
        Keys => boxed(accounts::keys(ctx)).await,
        RevokeOwnKey { key_id } => boxed(accounts::revoke_key(ctx, &key_id)).await,
        UpdateOwnKey { key_id } => boxed(accounts::update_key(ctx, &key_id)).await,
        AccountLimits => boxed(accounts::limits(ctx)).await,
        UsageAlerts => boxed(usage::alerts(ctx)).await,
        UsageAlert { id } => boxed(usage::delete(ctx, &id)).await,
        Templates => boxed(accounts::templates(ctx)).await,
        Template { id } => boxed(accounts::template(ctx, &id)).await,
        AdminListAccounts => boxed(accounts::admin_list(ctx)).await,
        AdminApproveAccount { account_id } => {
            boxed(accounts::admin_approve(ctx, &account_id)).await
        }
        Audit { admin } => boxed(audit::serve(ctx, admin)).await,
        _ => Err(AppError::internal("route not served by dispatch::account")),
    }
}

/// One route's future on the heap: each handler's state machine stays a function of its own,
/// which the runtime compiles on its first call, instead of all of them inlined into one poll
/// function that every request, `/healthz` included, has to compile after a cold load.
fn boxed<'a>(
    answer: impl std::future::Future<Output = Result<Reply, AppError>> + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Reply, AppError>> + 'a>> {
    Box::pin(answer)
}
