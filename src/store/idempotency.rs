//! `Idempotency-Key` records in D1 (rules in `domain::idempotency`). A handler that moves
//! money puts `completion` in its own batch, so the stored response commits with the money.
use super::{first, int, run, stmt, text};
use crate::domain::idempotency::{decide, fingerprint, is_expired, validate_key, Decision, Record};
use crate::http::error::{ApiError, Code};
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// A claimed key: the request runs, then records its response under it.
#[derive(Debug, Clone)]
pub struct Claim {
    scope: String,
    key: String,
}

pub enum Begin {
    /// Run the request; `None` when the client sent no key.
    Proceed(Option<Claim>),
    Replay {
        status: u16,
        body: String,
    },
}

#[derive(Deserialize)]
struct Row {
    fingerprint: String,
    created_at: i64,
    status: Option<u16>,
    body: Option<String>,
}

/// Claims `key` for this request, or says to replay / refuse. `scope` is the account id
/// (or "admin"), so two accounts' keys never meet.
pub async fn begin(
    db: &D1Database,
    scope: &str,
    key: Option<&str>,
    method: &str,
    path: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<Begin, ApiError> {
    let Some(key) = key else {
        return Ok(Begin::Proceed(None));
    };
    validate_key(key).map_err(|m| ApiError::new(Code::InvalidIdempotencyKey, m))?;
    let fp = fingerprint(method, path, body);
    // Claim the key, or take over a record older than the retention period.
    let claim_sql = "INSERT INTO idempotency (scope, idem_key, fingerprint, created_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (scope, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, status = NULL, body = NULL \
         WHERE idempotency.created_at <= ?5";
    let cutoff = now_ms - crate::domain::idempotency::RETENTION_MS;
    let claimed = run(stmt(
        db,
        claim_sql,
        &[text(scope), text(key), text(&fp), int(now_ms), int(cutoff)],
    )?)
    .await
    .map_err(ApiError::from)?;
    let claim = Claim {
        scope: scope.to_owned(),
        key: key.to_owned(),
    };
    if claimed == 1 {
        return Ok(Begin::Proceed(Some(claim)));
    }
    let row: Option<Row> = first(stmt(db, "SELECT fingerprint, created_at, status, body FROM idempotency WHERE scope = ?1 AND idem_key = ?2", &[text(scope), text(key)])?).await?;
    let Some(row) = row else {
        // Deleted between the two statements (the first request failed): ours to retry.
        return Err(ApiError::of(Code::IdempotencyInProgress));
    };
    let record = Record {
        fingerprint: row.fingerprint,
        created_at_ms: row.created_at,
        response: row.status.zip(row.body),
    };
    if is_expired(&record, now_ms) {
        return Err(ApiError::of(Code::IdempotencyInProgress));
    }
    match decide(&record, &fp) {
        Decision::Replay { status, body } => Ok(Begin::Replay { status, body }),
        Decision::InProgress => Err(ApiError::of(Code::IdempotencyInProgress)),
        Decision::Mismatch => Err(ApiError::of(Code::IdempotencyKeyReused)),
    }
}

/// The statement that stores the response; put it in the batch that does the work.
pub fn completion(
    db: &D1Database,
    claim: &Claim,
    status: u16,
    body: &str,
) -> Result<D1PreparedStatement, ApiError> {
    stmt(
        db,
        "UPDATE idempotency SET status = ?3, body = ?4 WHERE scope = ?1 AND idem_key = ?2",
        &[
            text(&claim.scope),
            text(&claim.key),
            int(i64::from(status)),
            text(body),
        ],
    )
}

/// Stores the response after the fact (for handlers whose work is not one D1 batch).
pub async fn complete(
    db: &D1Database,
    claim: &Claim,
    status: u16,
    body: &str,
) -> Result<(), ApiError> {
    run(completion(db, claim, status, body)?)
        .await
        .map_err(ApiError::from)?;
    Ok(())
}

/// Releases the key after a failure that changed nothing, so the client may retry with it.
pub async fn release(db: &D1Database, claim: &Claim) -> Result<(), ApiError> {
    run(stmt(
        db,
        "DELETE FROM idempotency WHERE scope = ?1 AND idem_key = ?2 AND status IS NULL",
        &[text(&claim.scope), text(&claim.key)],
    )?)
    .await
    .map_err(ApiError::from)?;
    Ok(())
}
