//! How the domain's types are read from D1 rows (their columns are named as their fields).
use super::row::{from_row, FromRow, Row};
use super::StoreError;
use crate::domain::account::{AccountSummary, ApiKey, Profile, SpendCaps, Spending};
use crate::domain::activation::{Activation, Rent};
use crate::domain::catalog::{
    ListedPrice, Named, Operator, OperatorStock, Price, RentPrice, SupplierStock,
};
use crate::domain::message::{Message, OutboxText};
use crate::domain::otp::SessionRecord;
use crate::domain::otp_check::Session;
use crate::domain::session::SessionInfo;
use crate::domain::sms::{InboundSms, SmsTarget};
use crate::domain::stats::{ActivationStats, Attempt, Conversion, OtpStats};
use crate::domain::template::TemplateRecord;
use crate::domain::twilio_verify::{Send, Service, VerificationRecord};
use crate::domain::usage::{Alert, Notice};
use crate::domain::verify_limits::{Bucket, RateLimit};
use crate::domain::vonage_jwt::Application;
use crate::domain::wallet::LedgerEntry;

from_row!(AccountSummary {
    account_id,
    email,
    name,
    approved,
    status,
    balance,
    currency,
    created_at
});
from_row!(ApiKey {
    id,
    name,
    prefix,
    created_at,
    last_used_at,
    revoked_at,
    scopes or default,
    spending from row,
});

/// Caps and spend: columns `spend_cap_daily`, `spend_cap_monthly`, `spent_today`,
/// `spent_this_month` (each may be NULL or not selected).
impl FromRow for Spending {
    fn from_row(row: &Row) -> Result<Spending, StoreError> {
        Ok(Spending {
            caps: SpendCaps {
                daily: row.get("spend_cap_daily")?,
                monthly: row.get("spend_cap_monthly")?,
            },
            today: row.get_or_default("spent_today")?,
            this_month: row.get_or_default("spent_this_month")?,
        })
    }
}
from_row!(Profile {
    id,
    name,
    email,
    approved,
    status,
    created_at,
    balance,
    currency,
    twilio_sid
});
from_row!(Activation {
    id,
    number,
    country,
    service,
    operator,
    cost,
    status,
    created_at,
    cancel_allowed_at,
    expires_at
});
from_row!(ListedPrice {
    kind,
    country,
    service,
    operator,
    hours,
    cost
});
from_row!(OperatorStock {
    country,
    operator,
    name,
    numbers
});
from_row!(SupplierStock {
    id,
    name,
    created_at,
    numbers
});
from_row!(Message {
    id,
    template_id,
    phone,
    channel,
    status,
    session_id,
    cost,
    created_at,
    expires_at,
    sent_at,
    error
});
from_row!(OutboxText {
    id,
    to_phone,
    channel,
    sender,
    text,
    status,
    object_id,
    created_at
});
from_row!(SessionRecord {
    id,
    phone,
    channel,
    dialect,
    cost,
    created_at,
    expires_at,
    attempts,
    max_attempts,
    verified_at
});
from_row!(Session {
    id,
    account_id,
    phone,
    channel,
    created_at,
    expires_at,
    attempts,
    max_attempts,
    verified_at
});
from_row!(SessionInfo {
    id,
    created_at,
    last_seen_at,
    expires_at,
    user_agent
});
from_row!(ActivationStats {
    key,
    orders,
    sms_received,
    completed,
    cancelled,
    expired,
    refunded,
    spend
});
from_row!(Attempt {
    sid,
    service_sid,
    verification_sid,
    channel,
    to_phone,
    country,
    cost,
    created_at,
    verified_at
});
from_row!(Conversion {
    attempts,
    converted
});
from_row!(OtpStats {
    key,
    sends,
    verified,
    blocked,
    spend
});
from_row!(TemplateRecord { id, name, channel, body, created_at, account_id or default });
from_row!(Send {
    session_id,
    channel,
    created_at
});
from_row!(Service {
    sid,
    account_id,
    friendly_name,
    code_length,
    created_at,
    updated_at
});
from_row!(VerificationRecord {
    sid,
    service_sid,
    to_phone,
    created_at,
    canceled_at,
    channel,
    session_id,
    sent_at,
    expires_at,
    attempts,
    max_attempts,
    verified_at
});
from_row!(Alert {
    id,
    period,
    threshold,
    percent_of_cap,
    created_at,
    crossed_at
});
from_row!(Notice {
    alert_id,
    account_id,
    period,
    spent,
    threshold,
    created_at
});
from_row!(Bucket {
    sid,
    rate_limit_sid,
    service_sid,
    max,
    interval,
    created_at,
    updated_at
});
from_row!(RateLimit {
    sid,
    service_sid,
    unique_name,
    description,
    created_at,
    updated_at
});
from_row!(LedgerEntry {
    id,
    kind,
    amount,
    balance_after,
    reference,
    object_id,
    description,
    created_at
});
from_row!(Application {
    id,
    account_id,
    public_key,
    callback_url
});
from_row!(InboundSms {
    id,
    sms_id,
    sender,
    text,
    code,
    received_at,
    target from row,
    delivered
});
from_row!(Rent {
    id,
    account_id,
    number,
    country,
    service,
    operator,
    hours,
    cost,
    created_at,
    expires_at
});
from_row!(Named { code, name });
from_row!(Operator { country, id, name });
from_row!(Price {
    country,
    service,
    operator,
    operator_name,
    cost,
    count
});
from_row!(RentPrice {
    country,
    service,
    operator,
    operator_name,
    hours,
    cost,
    count
});

/// An inbound SMS's target: columns `target_kind` and `target_id` (both NULL: none).
impl FromRow for Option<SmsTarget> {
    fn from_row(row: &Row) -> Result<Option<SmsTarget>, StoreError> {
        let kind: Option<String> = row.get("target_kind")?;
        let id: Option<String> = row.get("target_id")?;
        Ok(kind.zip(id).map(|(kind, id)| SmsTarget { kind, id }))
    }
}
