//! Twilio Verify service rate limits and their buckets: the definitions (D1). The tokens a
//! verification request takes are read with its service (`verify::service_and_takes`);
//! `domain::verify_limits` is the rule and the account's fraud guard object counts them.
use super::verify::{self, Caller};
use super::App;
use crate::domain::error::AppError;
use crate::domain::twilio_verify::{self as tv, Paging, SidKind};
use crate::domain::verify_limits::{Bucket, RateLimit, Refusal};
use crate::store::verify_limits::{self as store, Definitions, Under, BUCKETS, LIMITS};
use crate::store::{ConstraintKind, FromRow, StoreError};
use worker::D1Database;

/// A definition's sid kind, and its name in a 404.
const RATE_LIMIT: (SidKind, &str) = (SidKind::RateLimit, "rate limit");
const BUCKET: (SidKind, &str) = (SidKind::Bucket, "bucket");

fn no_such(what: &str) -> AppError {
    AppError::not_found(what)
}

/// The caller's definitions under the parent row `parent_sid`.
fn under<'a>(db: &'a D1Database, caller: &'a Caller, parent_sid: &'a str) -> Under<'a> {
    Under {
        db,
        account_id: caller.account.as_str(),
        parent_sid,
    }
}

/// The caller's definition `sid` of `table` under `parent_sid` (404 `what` when the sid is
/// not of `kind`, or none).
async fn one<T: FromRow>(
    app: &App,
    table: &Definitions<T>,
    (caller, parent_sid): (&Caller, &str),
    (kind, what): (SidKind, &str),
    sid: &str,
) -> Result<T, AppError> {
    if !tv::is_sid(kind, sid) {
        return Err(no_such(what));
    }
    let db = app.db()?;
    let at = under(&db, caller, parent_sid);
    table.one(&at, sid).await?.ok_or_else(|| no_such(what))
}

/// Deletes the caller's definition `sid` under `parent_sid` (read just before) with
/// `delete`: 404 `what` when it went meanwhile.
async fn delete_under(
    app: &App,
    caller: &Caller,
    (parent_sid, sid): (&str, &str),
    (delete, what): (
        impl AsyncFnOnce(&Under<'_>, &str) -> Result<bool, StoreError>,
        &str,
    ),
) -> Result<(), AppError> {
    let db = app.db()?;
    match delete(&under(&db, caller, parent_sid), sid).await? {
        true => Ok(()),
        false => Err(no_such(what)),
    }
}

/// One page of `table`'s definitions (oldest first), and whether another follows.
async fn page<T: FromRow>(
    table: &Definitions<T>,
    at: &Under<'_>,
    paging: Paging,
) -> Result<(Vec<T>, bool), AppError> {
    let rows = table
        .page(at, paging.offset(), i64::from(paging.size) + 1)
        .await?;
    Ok(paged(rows, paging))
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
    let created = store::create(&app.db()?, account, &row).await;
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
    one(app, &LIMITS, (caller, &svc.sid), RATE_LIMIT, sid).await
}

/// One page of the service's rate limits (oldest first), and whether another follows.
pub async fn limits(
    app: &App,
    caller: &Caller,
    service_sid: &str,
    paging: Paging,
) -> Result<(Vec<RateLimit>, bool), AppError> {
    let svc = verify::service(app, caller, service_sid).await?;
    page(&LIMITS, &under(&app.db()?, caller, &svc.sid), paging).await
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
    if !store::update(&app.db()?, caller.account.as_str(), &row).await? {
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
    let at = (row.service_sid.as_str(), row.sid.as_str());
    delete_under(app, caller, at, (store::delete_limit, "rate limit")).await
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
    let created = store::create(&app.db()?, account, &row).await;
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
    one(app, &BUCKETS, (caller, &parent.sid), BUCKET, sid).await
}

/// One page of the rate limit's buckets (oldest first), and whether another follows.
pub async fn buckets(
    app: &App,
    caller: &Caller,
    (service_sid, rate_limit_sid): (&str, &str),
    paging: Paging,
) -> Result<(Vec<Bucket>, bool), AppError> {
    let parent = limit(app, caller, service_sid, rate_limit_sid).await?;
    page(&BUCKETS, &under(&app.db()?, caller, &parent.sid), paging).await
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
    let updated = store::update(&app.db()?, caller.account.as_str(), &row).await;
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
    let at = (row.rate_limit_sid.as_str(), row.sid.as_str());
    delete_under(app, caller, at, (store::delete_bucket, "bucket")).await
}
