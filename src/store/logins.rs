//! Customer logins: accounts that signed themselves up (email, argon2id PHC
//! string, approval), their login sessions, the failed-login throttle, and the operator's
//! account list. Session tokens are stored only as SHA-256.
use super::row::row;
use super::{
    all, batch, execute, first, int, opt_text, page_of, stmt, text, ConstraintKind, Prepared,
    Result, StoreError,
};
use crate::domain::account::AccountSummary;
use crate::domain::lockout::Counted;
use crate::domain::session::{Expiry, SessionInfo};
use crate::domain::time::rfc3339;
use worker::{D1Database, D1PreparedStatement};

row! {
    /// An account as login sees it.
    #[derive(Debug, Clone)]
    pub struct Login {
        pub id: String,
        pub email: Option<String>,
        pub name: String,
        pub approved: i64,
        pub password_hash: Option<String>,
    }
}

const LOGIN_COLUMNS: &str = "id, email, name, approved, password_hash";

/// A live account (status active) with a password login, by its normalized email.
pub async fn by_email(db: &D1Database, email: &str) -> Result<Option<Login>> {
    first(
        db,
        &format!(
            "SELECT {LOGIN_COLUMNS} FROM accounts WHERE email = ?1 AND status = 'active' \
             AND password_hash IS NOT NULL"
        ),
        &[text(email)],
    )
    .await
}

pub async fn by_id(db: &D1Database, account_id: &str) -> Result<Option<Login>> {
    first(
        db,
        &format!("SELECT {LOGIN_COLUMNS} FROM accounts WHERE id = ?1 AND status = 'active'"),
        &[text(account_id)],
    )
    .await
}

pub struct NewLoginAccount<'a> {
    pub account_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub approved: bool,
    pub currency: &'a str,
    pub now_ms: i64,
}

pub enum Registered {
    Created,
    /// The unique index on `accounts.email` refused it: one account per email, whatever
    /// runs in parallel.
    EmailTaken,
}

/// The account, its empty wallet and its first session (with its audit row), in one
/// transaction.
pub async fn register(
    db: &D1Database,
    a: &NewLoginAccount<'_>,
    first_session: Vec<D1PreparedStatement>,
) -> Result<Registered> {
    let now = rfc3339(a.now_ms);
    let approved = int(i64::from(a.approved));
    let mut statements = vec![
        stmt(
            db,
            "INSERT INTO accounts (id, name, status, created_at, email, password_hash, approved, \
             approved_at) VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6, CASE WHEN ?6 = 1 THEN ?3 END)",
            &[
                text(a.account_id),
                text(a.name),
                text(&now),
                text(a.email),
                text(a.password_hash),
                approved,
            ],
        )?,
        stmt(
            db,
            "INSERT INTO wallets (account_id, balance, currency, updated_at) \
             VALUES (?1, 0, ?2, ?3)",
            &[text(a.account_id), text(a.currency), int(a.now_ms)],
        )?,
    ];
    statements.extend(first_session);
    match batch(db, statements).await {
        Ok(_) => Ok(Registered::Created),
        Err(e) if e.on_constraint(ConstraintKind::Unique, "accounts.email") => {
            Ok(Registered::EmailTaken)
        }
        Err(e) => Err(e),
    }
}

/// Stores a new password hash and revokes every session of the account but `keep`, in one
/// transaction with its audit row. Returns how many sessions were revoked.
pub async fn change_password(
    db: &D1Database,
    account_id: &str,
    password_hash: &str,
    keep_session: &str,
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<usize> {
    let results = batch(
        db,
        vec![
            stmt(
                db,
                "UPDATE accounts SET password_hash = ?2 WHERE id = ?1",
                &[text(account_id), text(password_hash)],
            )?,
            audit,
            stmt(
                db,
                "UPDATE sessions SET revoked_at = ?3 WHERE account_id = ?1 AND id <> ?2 \
                 AND revoked_at IS NULL",
                &[text(account_id), text(keep_session), int(now_ms)],
            )?,
        ],
    )
    .await?;
    Ok(results.get(2).map_or(0, super::changes))
}

/// Replaces a hash made with older parameters after a successful login.
pub async fn rehash(db: &D1Database, account_id: &str, old: &str, new: &str) -> Result<()> {
    let sql = "UPDATE accounts SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2";
    execute(db, sql, &[text(account_id), text(old), text(new)]).await
}

/// Approves an account, in one transaction with its audit row; `false` when there is no
/// such account. Approving twice is no error.
pub async fn approve(
    db: &D1Database,
    account_id: &str,
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<bool> {
    let sql =
        "UPDATE accounts SET approved = 1, approved_at = COALESCE(approved_at, ?2) WHERE id = ?1";
    super::audited(db, sql, &[text(account_id), text(&rfc3339(now_ms))], audit).await
}

/// Sets an account's status (`active` or `suspended`), in one transaction with its audit row.
pub async fn set_status(
    db: &D1Database,
    account_id: &str,
    status: &str,
    audit: D1PreparedStatement,
) -> Result<()> {
    let sql = "UPDATE accounts SET status = ?2 WHERE id = ?1";
    super::audited(db, sql, &[text(account_id), text(status)], audit).await?;
    Ok(())
}

const SUMMARY_COLUMNS: &str = "a.id AS account_id, a.email AS email, a.name AS name, \
    a.approved AS approved, a.status AS status, w.balance AS balance, w.currency AS currency, \
    a.created_at AS created_at";

/// One account as the operator's list shows it.
pub async fn summary(db: &D1Database, account_id: &str) -> Result<Option<AccountSummary>> {
    first(
        db,
        &format!(
            "SELECT {SUMMARY_COLUMNS} FROM accounts a JOIN wallets w ON w.account_id = a.id \
             WHERE a.id = ?1"
        ),
        &[text(account_id)],
    )
    .await
}

/// The accounts whose id is `query`, or whose email (lower-cased) or name starts with it:
/// newest first, at most `limit`. Each match is an index search (id, email, name).
pub async fn search(db: &D1Database, query: &str, limit: u32) -> Result<Vec<AccountSummary>> {
    let email = query.to_lowercase();
    let end = |prefix: &str| format!("{prefix}\u{10ffff}");
    all(
        db,
        &format!(
            "SELECT {SUMMARY_COLUMNS} FROM accounts a JOIN wallets w ON w.account_id = a.id \
             WHERE a.id = ?1 OR (a.email >= ?2 AND a.email < ?3) \
             OR (a.name >= ?1 AND a.name < ?4) ORDER BY a.created_at DESC LIMIT ?5"
        ),
        &[
            text(query),
            text(&email),
            text(&end(&email)),
            text(&end(query)),
            int(i64::from(limit)),
        ],
    )
    .await
}

/// Newest first (ties: the later insert first), one page and the total. The page is found
/// over the `accounts_newest` index's entries and only its rows are read.
pub async fn list(db: &D1Database, limit: u32, offset: u64) -> Result<(Vec<AccountSummary>, u64)> {
    let rows = stmt(
        db,
        &format!(
            "SELECT {SUMMARY_COLUMNS} FROM accounts a JOIN wallets w ON w.account_id = a.id \
             WHERE a.rowid IN (SELECT rowid FROM accounts \
             ORDER BY created_at DESC, rowid DESC LIMIT ?1 OFFSET ?2) \
             ORDER BY a.created_at DESC, a.rowid DESC"
        ),
        &[
            int(i64::from(limit)),
            int(i64::try_from(offset).unwrap_or(i64::MAX)),
        ],
    )?;
    let count = stmt(db, "SELECT COUNT(*) AS total FROM accounts", &[])?;
    page_of(db, rows, count).await
}

// --- sessions ---

pub struct NewSession<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub token_hash: &'a str,
    pub expiry: Expiry,
    pub now_ms: i64,
    pub user_agent: Option<&'a str>,
}

/// The statement that opens a session (batched with a sign-up, or run alone at login).
pub fn insert_session(db: &D1Database, s: &NewSession<'_>) -> Prepared {
    stmt(
        db,
        "INSERT INTO sessions (id, account_id, token_hash, created_at, last_seen_at, \
         idle_expires_at, expires_at, user_agent) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)",
        &[
            text(s.id),
            text(s.account_id),
            text(s.token_hash),
            int(s.now_ms),
            int(s.expiry.idle_expires_at),
            int(s.expiry.expires_at),
            opt_text(s.user_agent),
        ],
    )
}

row! {
    /// A live session and its account.
    #[derive(Debug, Clone)]
    pub struct LiveSession {
        pub session_id: String,
        pub account_id: String,
        pub email: Option<String>,
        pub name: String,
        pub approved: i64,
        pub idle_expires_at: i64,
        pub expires_at: i64,
    }
}

/// The session behind a token hash, if it is live at `now_ms` and its account active.
pub async fn live_session(
    db: &D1Database,
    token_hash: &str,
    now_ms: i64,
) -> Result<Option<LiveSession>> {
    first(
        db,
        "SELECT s.id AS session_id, s.account_id AS account_id, a.email AS email, a.name AS name, \
         a.approved AS approved, s.idle_expires_at AS idle_expires_at, s.expires_at AS expires_at \
         FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?1 \
         AND s.revoked_at IS NULL AND s.idle_expires_at > ?2 AND s.expires_at > ?2 \
         AND a.status = 'active'",
        &[text(token_hash), int(now_ms)],
    )
    .await
}

/// Records a use of a live session: `last_seen_at` and a later idle expiry (never past the
/// absolute one), unless it was written after `seen_before` (at most one write a minute).
pub async fn touch_session(
    db: &D1Database,
    token_hash: &str,
    now_ms: i64,
    idle_expires_at: i64,
    seen_before: i64,
) -> Result<()> {
    let sql = "UPDATE sessions SET last_seen_at = ?2, idle_expires_at = MIN(?3, expires_at) \
               WHERE token_hash = ?1 AND revoked_at IS NULL AND idle_expires_at > ?2 \
               AND expires_at > ?2 AND last_seen_at <= ?4";
    execute(
        db,
        sql,
        &[
            text(token_hash),
            int(now_ms),
            int(idle_expires_at),
            int(seen_before),
        ],
    )
    .await
}

/// Revokes one of the account's sessions, with its audit row (an `append_if_changed`
/// statement); `false` when it has no live session by that id.
pub async fn revoke_session(
    db: &D1Database,
    account_id: &str,
    session_id: &str,
    now_ms: i64,
    audit: D1PreparedStatement,
) -> Result<bool> {
    let sql = "UPDATE sessions SET revoked_at = ?3 WHERE id = ?2 AND account_id = ?1 \
         AND revoked_at IS NULL";
    super::audited(
        db,
        sql,
        &[text(account_id), text(session_id), int(now_ms)],
        audit,
    )
    .await
}

/// The account's live sessions, newest first.
pub async fn live_sessions(
    db: &D1Database,
    account_id: &str,
    now_ms: i64,
) -> Result<Vec<SessionInfo>> {
    all(
        db,
        "SELECT id, created_at, last_seen_at, MIN(idle_expires_at, expires_at) AS expires_at, \
         user_agent FROM sessions \
         WHERE account_id = ?1 AND revoked_at IS NULL AND idle_expires_at > ?2 AND expires_at > ?2 \
         ORDER BY created_at DESC, rowid DESC LIMIT 100",
        &[text(account_id), int(now_ms)],
    )
    .await
}

// --- failed-login throttle (domain::lockout) ---

/// Counts one login attempt for each subject, atomically, before the password is checked,
/// and returns the rows as counted. A row whose window started at or before `stale_before`
/// (or whose lock has ended) starts a new window; a standing lock is left as it is.
pub async fn count_attempts(
    db: &D1Database,
    subjects: &[&str],
    now_ms: i64,
    stale_before: i64,
) -> Result<Vec<Counted>> {
    row! {
        struct Row {
            failures: i64,
            window_start: i64,
            locked_until: Option<i64>,
        }
    }
    const UPSERT: &str =
        "INSERT INTO login_throttle (subject, failures, window_start, locked_until) \
         VALUES (?1, 1, ?2, NULL) ON CONFLICT (subject) DO UPDATE SET \
         failures = CASE WHEN locked_until > ?2 THEN failures \
           WHEN locked_until IS NOT NULL OR window_start <= ?3 THEN 1 ELSE failures + 1 END, \
         window_start = CASE WHEN locked_until > ?2 THEN window_start \
           WHEN locked_until IS NOT NULL OR window_start <= ?3 THEN ?2 ELSE window_start END, \
         locked_until = CASE WHEN locked_until > ?2 THEN locked_until ELSE NULL END \
         RETURNING failures, window_start, locked_until";
    let statements = subjects
        .iter()
        .map(|s| stmt(db, UPSERT, &[text(s), int(now_ms), int(stale_before)]))
        .collect::<Result<Vec<_>, _>>()?;
    let results = batch(db, statements).await?;
    results
        .iter()
        .map(|r| {
            let row = super::first_of::<Row>(Some(r))?
                .ok_or_else(|| StoreError::other("throttle upsert returned no row"))?;
            Ok(Counted {
                failures: row.failures,
                window_start: row.window_start,
                locked_until: row.locked_until,
            })
        })
        .collect()
}

/// Locks a subject until `until` (unless a lock already stands).
pub async fn lock(db: &D1Database, subject: &str, until: i64, now_ms: i64) -> Result<()> {
    let sql = "UPDATE login_throttle SET locked_until = ?2 WHERE subject = ?1 \
               AND (locked_until IS NULL OR locked_until <= ?3)";
    execute(db, sql, &[text(subject), int(until), int(now_ms)]).await
}

/// A successful login gives its attempt back: the email's count starts over, the IP's
/// loses one (a standing lock is never lifted by this).
pub async fn attempt_succeeded(
    db: &D1Database,
    email_subject: &str,
    ip_subject: &str,
    now_ms: i64,
) -> Result<()> {
    batch(
        db,
        vec![
            stmt(
                db,
                "DELETE FROM login_throttle WHERE subject = ?1 \
                 AND (locked_until IS NULL OR locked_until <= ?2)",
                &[text(email_subject), int(now_ms)],
            )?,
            stmt(
                db,
                "UPDATE login_throttle SET failures = MAX(failures - 1, 0) WHERE subject = ?1",
                &[text(ip_subject)],
            )?,
        ],
    )
    .await?;
    Ok(())
}
