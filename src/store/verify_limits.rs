//! Twilio Verify service rate limits and their buckets (definitions only: the counts live
//! in the account's fraud guard object). Every statement is scoped by the account.
use super::row::from_row;
use super::verify::SERVICE_COLUMNS;
use super::{all, batch, first, int, opt_text, run, stmt, text, StoreError};
use crate::domain::twilio_verify::Service;
use crate::domain::verify_limits::{Bucket, RateLimit, MAX_BUCKETS, MAX_RATE_LIMITS};
use worker::D1Database;

const LIMIT_COLUMNS: &str = "sid, service_sid, unique_name, description, created_at, updated_at";
const BUCKET_COLUMNS: &str =
    "sid, rate_limit_sid, service_sid, max, interval_s AS interval, created_at, updated_at";

/// Inserts the rate limit unless its service has `MAX_RATE_LIMITS` already (false then).
/// A unique name the service already has fails on `verify_rate_limits_name`.
pub async fn create_limit(
    db: &D1Database,
    account_id: &str,
    r: &RateLimit,
) -> Result<bool, StoreError> {
    let changed = run(stmt(
        db,
        "INSERT INTO verify_rate_limits (sid, service_sid, account_id, unique_name, \
         description, created_at, updated_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?6 \
         WHERE (SELECT COUNT(*) FROM verify_rate_limits WHERE service_sid = ?2) < ?7",
        &[
            text(&r.sid),
            text(&r.service_sid),
            text(account_id),
            text(&r.unique_name),
            opt_text(r.description.as_deref()),
            int(r.created_at),
            int(MAX_RATE_LIMITS),
        ],
    )?)
    .await?;
    Ok(changed > 0)
}

/// The rate limit of the account's service, if any.
pub async fn limit(
    db: &D1Database,
    account_id: &str,
    service_sid: &str,
    sid: &str,
) -> Result<Option<RateLimit>, StoreError> {
    first(stmt(
        db,
        &format!(
            "SELECT {LIMIT_COLUMNS} FROM verify_rate_limits \
             WHERE sid = ?1 AND service_sid = ?2 AND account_id = ?3"
        ),
        &[text(sid), text(service_sid), text(account_id)],
    )?)
    .await
}

/// Up to `limit` rate limits of the service from `offset`, oldest first.
pub async fn limits(
    db: &D1Database,
    account_id: &str,
    service_sid: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<RateLimit>, StoreError> {
    all(stmt(
        db,
        &format!(
            "SELECT {LIMIT_COLUMNS} FROM verify_rate_limits \
             WHERE service_sid = ?1 AND account_id = ?2 \
             ORDER BY created_at, sid LIMIT ?3 OFFSET ?4"
        ),
        &[text(service_sid), text(account_id), int(limit), int(offset)],
    )?)
    .await
}

/// Stores a rate limit's description; false when it is gone.
pub async fn update_limit(
    db: &D1Database,
    account_id: &str,
    r: &RateLimit,
) -> Result<bool, StoreError> {
    let changed = run(stmt(
        db,
        "UPDATE verify_rate_limits SET description = ?3, updated_at = ?4 \
         WHERE sid = ?1 AND account_id = ?2",
        &[
            text(&r.sid),
            text(account_id),
            opt_text(r.description.as_deref()),
            int(r.updated_at),
        ],
    )?)
    .await?;
    Ok(changed > 0)
}

/// Deletes a rate limit with its buckets (one batch); false when there was none.
pub async fn delete_limit(
    db: &D1Database,
    account_id: &str,
    service_sid: &str,
    sid: &str,
) -> Result<bool, StoreError> {
    let args = [text(sid), text(service_sid), text(account_id)];
    let results = batch(
        db,
        vec![
            stmt(
                db,
                "DELETE FROM verify_rate_limit_buckets \
                 WHERE rate_limit_sid = ?1 AND service_sid = ?2 AND account_id = ?3",
                &args,
            )?,
            stmt(
                db,
                "DELETE FROM verify_rate_limits \
                 WHERE sid = ?1 AND service_sid = ?2 AND account_id = ?3",
                &args,
            )?,
        ],
    )
    .await?;
    Ok(results.get(1).map_or(0, super::changes) > 0)
}

/// Inserts the bucket unless its rate limit has `MAX_BUCKETS` already (false then). An
/// interval the rate limit already has fails on `verify_rate_limit_buckets_interval`.
pub async fn create_bucket(
    db: &D1Database,
    account_id: &str,
    b: &Bucket,
) -> Result<bool, StoreError> {
    let changed = run(stmt(
        db,
        "INSERT INTO verify_rate_limit_buckets (sid, rate_limit_sid, service_sid, account_id, \
         max, interval_s, created_at, updated_at) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7 \
         WHERE (SELECT COUNT(*) FROM verify_rate_limit_buckets WHERE rate_limit_sid = ?2) < ?8",
        &[
            text(&b.sid),
            text(&b.rate_limit_sid),
            text(&b.service_sid),
            text(account_id),
            int(b.max),
            int(b.interval),
            int(b.created_at),
            int(MAX_BUCKETS),
        ],
    )?)
    .await?;
    Ok(changed > 0)
}

/// The bucket of the account's rate limit, if any.
pub async fn bucket(
    db: &D1Database,
    account_id: &str,
    rate_limit_sid: &str,
    sid: &str,
) -> Result<Option<Bucket>, StoreError> {
    first(stmt(
        db,
        &format!(
            "SELECT {BUCKET_COLUMNS} FROM verify_rate_limit_buckets \
             WHERE sid = ?1 AND rate_limit_sid = ?2 AND account_id = ?3"
        ),
        &[text(sid), text(rate_limit_sid), text(account_id)],
    )?)
    .await
}

/// Up to `limit` buckets of the rate limit from `offset`, oldest first.
pub async fn buckets(
    db: &D1Database,
    account_id: &str,
    rate_limit_sid: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<Bucket>, StoreError> {
    all(stmt(
        db,
        &format!(
            "SELECT {BUCKET_COLUMNS} FROM verify_rate_limit_buckets \
             WHERE rate_limit_sid = ?1 AND account_id = ?2 \
             ORDER BY created_at, sid LIMIT ?3 OFFSET ?4"
        ),
        &[
            text(rate_limit_sid),
            text(account_id),
            int(limit),
            int(offset),
        ],
    )?)
    .await
}

/// Stores a bucket's max and interval; false when it is gone.
pub async fn update_bucket(
    db: &D1Database,
    account_id: &str,
    b: &Bucket,
) -> Result<bool, StoreError> {
    let changed = run(stmt(
        db,
        "UPDATE verify_rate_limit_buckets SET max = ?3, interval_s = ?4, updated_at = ?5 \
         WHERE sid = ?1 AND account_id = ?2",
        &[
            text(&b.sid),
            text(account_id),
            int(b.max),
            int(b.interval),
            int(b.updated_at),
        ],
    )?)
    .await?;
    Ok(changed > 0)
}

/// Deletes a bucket; false when there was none.
pub async fn delete_bucket(
    db: &D1Database,
    account_id: &str,
    rate_limit_sid: &str,
    sid: &str,
) -> Result<bool, StoreError> {
    let changed = run(stmt(
        db,
        "DELETE FROM verify_rate_limit_buckets \
         WHERE sid = ?1 AND rate_limit_sid = ?2 AND account_id = ?3",
        &[text(sid), text(rate_limit_sid), text(account_id)],
    )?)
    .await?;
    Ok(changed > 0)
}

/// A rate limit of a service, with one of its buckets (none: it has no bucket).
#[derive(Debug, Clone)]
pub struct Named {
    pub unique_name: String,
    pub rate_limit_sid: String,
    pub bucket_sid: Option<String>,
    pub max: Option<i64>,
    pub interval: Option<i64>,
}
from_row!(Named {
    unique_name,
    rate_limit_sid,
    bucket_sid,
    max,
    interval
});

/// The account's live service and its rate limits, each with its buckets (a service has
/// at most `MAX_RATE_LIMITS` × `MAX_BUCKETS` of them): one round trip.
pub async fn service_with_limits(
    db: &D1Database,
    account_id: &str,
    service_sid: &str,
) -> Result<(Option<Service>, Vec<Named>), StoreError> {
    let results = batch(
        db,
        vec![
            stmt(
                db,
                &format!(
                    "SELECT {SERVICE_COLUMNS} FROM verify_services \
                     WHERE sid = ?1 AND account_id = ?2 AND deleted_at IS NULL"
                ),
                &[text(service_sid), text(account_id)],
            )?,
            stmt(
                db,
                "SELECT r.unique_name AS unique_name, r.sid AS rate_limit_sid, \
                 b.sid AS bucket_sid, b.max AS max, b.interval_s AS interval \
                 FROM verify_rate_limits r \
                 LEFT JOIN verify_rate_limit_buckets b ON b.rate_limit_sid = r.sid \
                 WHERE r.service_sid = ?1 AND r.account_id = ?2",
                &[text(service_sid), text(account_id)],
            )?,
        ],
    )
    .await?;
    let service = super::row::read_opt::<Service>(results.first())?
        .into_iter()
        .next();
    Ok((service, super::row::read_opt(results.get(1))?))
}
