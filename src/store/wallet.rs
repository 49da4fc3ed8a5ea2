//! The wallet and its ledger. Every balance change is one ledger row written in the same
//! D1 batch as the wallet update; `CHECK (balance >= 0)` on the wallet is what refuses an
//! overdraft (the batch then rolls back whole, and `DbError` → `StoreError` makes it a 402),
//! so no read-then-write race can overspend.
use super::accounts::LIVE_KEY_ACCOUNT;
use super::StoreError;
use super::{first, int, opt_text, stmt, text};
use crate::domain::ids::new_id;
use crate::domain::pagination::Page;
use crate::domain::wallet::LedgerEntry;
use serde::Deserialize;
use worker::{D1Database, D1PreparedStatement};

/// The kinds of ledger rows this code writes (the schema's CHECK also admits `rent_refund`).
/// An `adjustment` is the operator's correction, of either sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Topup,
    Purchase,
    Refund,
    Rent,
    OtpSend,
    OtpRefund,
    MessageSend,
    MessageRefund,
    Adjustment,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Topup => "topup",
            Kind::Purchase => "purchase",
            Kind::Refund => "refund",
            Kind::Rent => "rent",
            Kind::OtpSend => "otp_send",
            Kind::OtpRefund => "otp_refund",
            Kind::MessageSend => "message_send",
            Kind::MessageRefund => "message_refund",
            Kind::Adjustment => "adjustment",
        }
    }
}

/// One balance change. `amount` is signed: negative for a charge, positive for a credit.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub account_id: &'a str,
    pub kind: Kind,
    pub amount: i64,
    /// Caller's reference (top-ups: unique per account).
    pub reference: Option<&'a str>,
    /// The activation, session or message paid for (unique per kind: one charge, one refund).
    pub object_id: Option<&'a str>,
    pub description: &'a str,
    /// The hash of the API key that pays a charge (`App::spender`): the charge counts against
    /// that key's caps too (`None`: a credit, or a payer that is not an API key).
    pub key_hash: Option<&'a str>,
}

/// The statements of a balance change (the wallet, the ledger row, the spend counted against
/// the caps: `limits::spend_statement`), to put in the same batch as whatever the money
/// pays for. Returns them with the new ledger row's id.
pub fn entry_statements(
    db: &D1Database,
    entry: &Entry<'_>,
    now_ms: i64,
) -> Result<(String, Vec<D1PreparedStatement>), StoreError> {
    let tx_id = new_id("tx")?;
    let update = stmt(
        db,
        "UPDATE wallets SET balance = balance + ?2, updated_at = ?3 WHERE account_id = ?1",
        &[text(entry.account_id), int(entry.amount), int(now_ms)],
    )?;
    // balance_after is read back inside the transaction; a missing wallet makes it NULL,
    // which the NOT NULL constraint turns into a failed (rolled back) batch.
    let insert = stmt(
        db,
        "INSERT INTO ledger (id, account_id, kind, amount, balance_after, reference, object_id, \
            description, created_at, key_id) \
         VALUES (?1, ?2, ?3, ?4, (SELECT balance FROM wallets WHERE account_id = ?2), ?5, ?6, ?7, \
         ?8, (SELECT id FROM api_keys WHERE key_hash = ?9))",
        &[
            text(&tx_id),
            text(entry.account_id),
            text(entry.kind.as_str()),
            int(entry.amount),
            opt_text(entry.reference),
            opt_text(entry.object_id),
            text(entry.description),
            int(now_ms),
            opt_text(entry.key_hash),
        ],
    )?;
    let spend = super::limits::spend_statement(db, &tx_id)?;
    Ok((tx_id, vec![update, insert, spend]))
}

/// The statements of a charge (as `entry_statements`) whose amount is read inside the batch:
/// `amount_sql` is an SQL expression over the entry's `object_id` bound as `?2` (such as
/// what the row just inserted for that object costs), charged as its negative.
/// `entry.amount` is not used.
pub fn charge_statements(
    db: &D1Database,
    entry: &Entry<'_>,
    amount_sql: &str,
    now_ms: i64,
) -> Result<(String, Vec<D1PreparedStatement>), StoreError> {
    let tx_id = new_id("tx")?;
    let object_id = opt_text(entry.object_id);
    let update = stmt(
        db,
        &format!(
            "UPDATE wallets SET balance = balance - {amount_sql}, updated_at = ?3 \
             WHERE account_id = ?1"
        ),
        &[text(entry.account_id), object_id.clone(), int(now_ms)],
    )?;
    let insert = stmt(
        db,
        &format!(
            "INSERT INTO ledger (id, account_id, kind, amount, balance_after, reference, \
             object_id, description, created_at, key_id) \
             VALUES (?3, ?1, ?4, -{amount_sql}, \
             (SELECT balance FROM wallets WHERE account_id = ?1), ?5, ?2, ?6, ?7, \
             (SELECT id FROM api_keys WHERE key_hash = ?8))"
        ),
        &[
            text(entry.account_id),
            object_id,
            text(&tx_id),
            text(entry.kind.as_str()),
            opt_text(entry.reference),
            text(entry.description),
            int(now_ms),
            opt_text(entry.key_hash),
        ],
    )?;
    let spend = super::limits::spend_statement(db, &tx_id)?;
    Ok((tx_id, vec![update, insert, spend]))
}

#[derive(Debug, Clone, Deserialize)]
pub struct Wallet {
    pub balance: i64,
    pub currency: String,
    /// The account may move money (`SIGNUP_APPROVAL`).
    #[serde(default)]
    pub approved: i64,
}

/// The wallet of the live key whose hash is given, in the same D1 round trip as the key
/// check; `None` when the key is not live (see `auth::unauthorized_or`).
pub async fn wallet_for_key(db: &D1Database, key_hash: &str) -> Result<Option<Wallet>, StoreError> {
    first::<Wallet>(stmt(
        db,
        &format!(
            "SELECT w.balance AS balance, w.currency AS currency, a.approved AS approved \
             FROM wallets w JOIN accounts a ON a.id = w.account_id \
             WHERE w.account_id = ({LIVE_KEY_ACCOUNT})"
        ),
        &[text(key_hash)],
    )?)
    .await
}

const LEDGER_COLUMNS: &str =
    "id, kind, amount, balance_after, reference, object_id, description, created_at";

/// A top-up already recorded under this reference, if any.
pub async fn topup_by_reference(
    db: &D1Database,
    account_id: &str,
    reference: &str,
) -> Result<Option<LedgerEntry>, StoreError> {
    first(stmt(
        db,
        &format!(
            "SELECT {LEDGER_COLUMNS} FROM ledger WHERE account_id = ?1 AND kind = 'topup' AND \
            reference = ?2"
        ),
        &[text(account_id), text(reference)],
    )?)
    .await
}

/// One page of the ledger, newest first, and the total row count.
pub async fn transactions(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<LedgerEntry>, u64), StoreError> {
    let listing = super::Listing {
        columns: LEDGER_COLUMNS,
        from: "ledger",
        mine: "account_id = ?1",
        order: "seq DESC",
        counted: Some("ledger"),
    };
    super::account_page(db, &listing, account_id, page).await
}

/// Reads the balance after ledger row `tx_id`; put it LAST in the batch that writes the row
/// and read it with `balance_after_of` (no round trip after the commit).
pub fn balance_after_statement(
    db: &D1Database,
    tx_id: &str,
) -> Result<D1PreparedStatement, StoreError> {
    stmt(
        db,
        "SELECT balance_after FROM ledger WHERE id = ?1",
        &[text(tx_id)],
    )
}

/// The balance read by the batch's last statement (`balance_after_statement`).
pub fn balance_after_of(results: &[worker::D1Result]) -> Result<i64, StoreError> {
    #[derive(Deserialize)]
    struct Row {
        balance_after: i64,
    }
    let rows: Vec<Row> = results
        .last()
        .map(|r| r.results::<Row>())
        .transpose()
        .map_err(|e| StoreError::other(format!("balance after: {e}")))?
        .unwrap_or_default();
    rows.first()
        .map(|r| r.balance_after)
        .ok_or_else(|| StoreError::other("the batch's ledger row is missing"))
}
