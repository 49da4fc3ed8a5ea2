//! Twilio Verify service rate limits and their buckets: the definitions (D1). The tokens a
//! verification request takes are read with its service (`verify::service_and_takes`);
//! `domain::verify_limits` is the rule and the account's fraud guard object counts them.
use super::verify::{self, Caller};
use super::App;
use crate::domain::error::AppError;
use crate::domain::twilio_verify::{self as tv, Paging, SidKind};
use crate::domain::verify_limits::{Bucket, RateLimit, Refusal};
use crate::store::verify_limits as store;
use crate::store::{ConstraintKind, StoreError};

fn no_such(what: &str) -> AppError {
    AppError::not_found(what)
}

/// The store's error, a duplicate on `index` being `refusal`.
fn refused_on(e: StoreError, index: &str, refusal: Refusal) -> AppError {
    if e.on_constraint(ConstraintKind::Unique, index) {
        refusal.error()
    } else {
        e.into()
    }
}

/// One page of rows read with one row more, and whether another page follows.
fn paged<T>(mut rows: Vec<T>, paging: Paging) -> (Vec<T>, bool) {
    let has_next = rows.len() > paging.size as usize;
    rows.truncate(paging.size as usize);
    (rows, has_next)
}

// --- Rate limits ---

/// A new rate limit of the caller's service.
pub async fn create_limit(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    unique_name: String,
    description: Option<String>,
) -> Result<RateLimit, AppError> {
    let svc = verify::service(app, caller, service_sid).await?;
    let row = RateLimit {
        sid: tv::new_sid(SidKind::RateLimit)?,
        service_sid: svc.sid,
        unique_name,
        description,
        created_at: app.now_ms,
        updated_at: app.now_ms,
    };
    let account = caller.account.as_str();
    let created = store::create_limit(&app.db()?, account, &row).await;
    match created
        .map_err(|e| refused_on(e, "verify_rate_limits.unique_name", Refusal::NameTaken))?
    {
        true => Ok(row),
        false => Err(Refusal::TooManyRateLimits.error()),
    }
}

/// A rate limit of the caller's service (404 for another's, or none).
pub async fn limit(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    sid: &str,
) -> Result<RateLimit, AppError> {
    let svc = verify::service(app, caller, service_sid).await?;
    if !tv::is_sid(SidKind::RateLimit, sid) {
        return Err(no_such("rate limit"));
    }
    let row = store::limit(&app.db()?, caller.account.as_str(), &svc.sid, sid).await?;
    row.ok_or_else(|| no_such("rate limit"))
}

/// One page of the service's rate limits (oldest first), and whether another follows.
pub async fn limits(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    paging: Paging,
) -> Result<(Vec<RateLimit>, bool), AppError> {
    let svc = verify::service(app, caller, service_sid).await?;
    let (offset, size) = (paging.offset(), i64::from(paging.size) + 1);
    let db = app.db()?;
    let rows = store::limits(&db, caller.account.as_str(), &svc.sid, offset, size).await?;
    Ok(paged(rows, paging))
}

/// Replaces a rate limit's description (`None`: left as it is).
pub async fn update_limit(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    sid: &str,
    description: Option<String>,
) -> Result<RateLimit, AppError> {
    let mut row = limit(app, caller, service_sid, sid).await?;
    if description.is_some() {
        row.description = description;
    }
    row.updated_at = app.now_ms;
    if !store::update_limit(&app.db()?, caller.account.as_str(), &row).await? {
        return Err(no_such("rate limit"));
    }
    Ok(row)
}

/// Deletes a rate limit and its buckets; requests naming it are refused from then on.
pub async fn delete_limit(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    sid: &str,
) -> Result<(), AppError> {
    let row = limit(app, caller, service_sid, sid).await?;
    let account = caller.account.as_str();
    let db = app.db()?;
    match store::delete_limit(&db, account, &row.service_sid, &row.sid).await? {
        true => Ok(()),
        false => Err(no_such("rate limit")),
    }
}

// --- Buckets ---

/// What a bucket allows: `max` sends per `interval` seconds (already in range).
pub struct Allowance {
    pub max: i64,
    pub interval: i64,
}

/// A new bucket of the caller's rate limit.
pub async fn create_bucket(
    app: &App,
    caller: &Caller,
    (service_sid, rate_limit_sid): (&str, &str),
    allowance: Allowance,
) -> Result<Bucket, AppError> {
    let parent = limit(app, caller, service_sid, rate_limit_sid).await?;
    let row = Bucket {
        sid: tv::new_sid(SidKind::Bucket)?,
        rate_limit_sid: parent.sid,
        service_sid: parent.service_sid,
        max: allowance.max,
        interval: allowance.interval,
        created_at: app.now_ms,
        updated_at: app.now_ms,
    };
    let account = caller.account.as_str();
    let created = store::create_bucket(&app.db()?, account, &row).await;
    let index = "verify_rate_limit_buckets.interval_s";
    match created.map_err(|e| refused_on(e, index, Refusal::IntervalTaken))? {
        true => Ok(row),
        false => Err(Refusal::TooManyBuckets.error()),
    }
}

/// A bucket of the caller's rate limit (404 for another's, or none).
pub async fn bucket(
    app: &App,
    caller: &Caller,
    (service_sid, rate_limit_sid): (&str, &str),
    sid: &str,
) -> Result<Bucket, AppError> {
    let parent = limit(app, caller, service_sid, rate_limit_sid).await?;
    if !tv::is_sid(SidKind::Bucket, sid) {
        return Err(no_such("bucket"));
    }
    let row = store::bucket(&app.db()?, caller.account.as_str(), &parent.sid, sid).await?;
    row.ok_or_else(|| no_such("bucket"))
}

/// One page of the rate limit's buckets (oldest first), and whether another follows.
pub async fn buckets(
    app: &App,
    caller: &Caller,
    (service_sid, rate_limit_sid): (&str, &str),
    paging: Paging,
) -> Result<(Vec<Bucket>, bool), AppError> {
    let parent = limit(app, caller, service_sid, rate_limit_sid).await?;
    let (offset, size) = (paging.offset(), i64::from(paging.size) + 1);
    let db = app.db()?;
    let rows = store::buckets(&db, caller.account.as_str(), &parent.sid, offset, size).await?;
    Ok(paged(rows, paging))
}

/// Changes a bucket's max and/or interval; the next request is counted by them (a new
/// interval opens a new window).
pub async fn update_bucket(
    app: &App,
    caller: &Caller,
    parent: (&str, &str),
    sid: &str,
    (max, interval): (Option<i64>, Option<i64>),
) -> Result<Bucket, AppError> {
    let mut row = bucket(app, caller, parent, sid).await?;
    row.max = max.unwrap_or(row.max);
    row.interval = interval.unwrap_or(row.interval);
    row.updated_at = app.now_ms;
    let updated = store::update_bucket(&app.db()?, caller.account.as_str(), &row).await;
    let index = "verify_rate_limit_buckets.interval_s";
    match updated.map_err(|e| refused_on(e, index, Refusal::IntervalTaken))? {
        true => Ok(row),
        false => Err(no_such("bucket")),
    }
}

/// Deletes a bucket.
pub async fn delete_bucket(
    app: &App,
    caller: &Caller,
    parent: (&str, &str),
    sid: &str,
) -> Result<(), AppError> {
    let row = bucket(app, caller, parent, sid).await?;
    let account = caller.account.as_str();
    let db = app.db()?;
    match store::delete_bucket(&db, account, &row.rate_limit_sid, &row.sid).await? {
        true => Ok(()),
        false => Err(no_such("bucket")),
    }
}
