//! The wallet and its ledger. Every balance change is one ledger row written in the same
//! D1 batch as the wallet update; `CHECK (balance >= 0)` on the wallet is what refuses an
//! overdraft (the batch then rolls back whole, and `DbError` → `StoreError` makes it a 402),
//! so no read-then-write race can overspend.
use super::accounts::{holding, LIVE_KEY_ACCOUNT};
use super::row::row;
use super::{first, int, opt_text, stmt, text, Prepared, Result};
use crate::domain::ids::new_id;
use crate::domain::pagination::Slice;
use crate::domain::scope::Scope;
use crate::domain::wallet::LedgerEntry;
use worker::wasm_bindgen::JsValue;
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

/// One balance change (its amount is the `Delta` it is written with).
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub account_id: &'a str,
    pub kind: Kind,
    /// Caller's reference (top-ups: unique per account).
    pub reference: Option<&'a str>,
    /// The activation, session or message paid for (unique per kind: one charge, one refund).
    pub object_id: Option<&'a str>,
    pub description: &'a str,
    /// The hash of the API key that pays a charge (`App::spender`): the charge counts against
    /// that key's caps too (`None`: a credit, or a payer that is not an API key).
    pub key_hash: Option<&'a str>,
}

/// How much a balance change moves the balance.
#[derive(Debug, Clone, Copy)]
pub enum Delta<'a> {
    /// Signed minor units: negative for a charge, positive for a credit.
    Amount(i64),
    /// A charge of what an SQL expression reads inside the batch: an expression over the
    /// entry's `object_id` bound as `?2` (such as what the row just inserted for that object
    /// costs), charged as its negative.
    ChargeOf(&'a str),
}

/// The statements of a balance change (the wallet, the ledger row, the spend counted against
/// the caps: `limits::spend_statement`), to put in the same batch as whatever the money
/// pays for. Returns them with the new ledger row's id.
pub fn change_statements(
    db: &D1Database,
    entry: &Entry<'_>,
    delta: Delta<'_>,
    now_ms: i64,
) -> Result<(String, Vec<D1PreparedStatement>)> {
    let tx_id = new_id("tx")?;
    // ?1 account, ?2 object, ?3 time, ?4 the amount when it is bound (the wallet's update
    // binds no more than its expression reads).
    let (delta, amount) = match delta {
        Delta::Amount(amount) => ("?4".to_owned(), Some(int(amount))),
        Delta::ChargeOf(amount_sql) => (format!("-{amount_sql}"), None),
    };
    let object_id = opt_text(entry.object_id);
    let mut binds = vec![text(entry.account_id), object_id.clone(), int(now_ms)];
    binds.extend(amount.clone());
    let update = stmt(
        db,
        &format!(
            "UPDATE wallets SET balance = balance + {delta}, updated_at = ?3 WHERE account_id = ?1"
        ),
        &binds,
    )?;
    // balance_after is read back inside the transaction; a missing wallet makes it NULL,
    // which the NOT NULL constraint turns into a failed (rolled back) batch.
    let insert = stmt(
        db,
        &format!(
            "INSERT INTO ledger (id, account_id, kind, amount, balance_after, reference, \
             object_id, description, created_at, key_id) \
             VALUES (?5, ?1, ?6, {delta}, (SELECT balance FROM wallets WHERE account_id = ?1), \
             ?7, ?2, ?8, ?3, (SELECT id FROM api_keys WHERE key_hash = ?9))"
        ),
        &[
            text(entry.account_id),
            object_id,
            int(now_ms),
            amount.unwrap_or(JsValue::NULL),
            text(&tx_id),
            text(entry.kind.as_str()),
            opt_text(entry.reference),
            text(entry.description),
            opt_text(entry.key_hash),
        ],
    )?;
    let spend = super::limits::spend_statement(db, &tx_id)?;
    Ok((tx_id, vec![update, insert, spend]))
}

row! {
    #[derive(Debug, Clone)]
    pub struct Wallet {
        pub account_id: String,
        pub balance: i64,
        pub currency: String,
        /// The account may move money (`SIGNUP_APPROVAL`).
        pub approved: i64 = default,
    }
}

/// The wallet of the live key whose hash is given, when the key holds `scope`, in the same
/// D1 round trip as the key check; `None` when the key is not live or lacks the scope (see
/// `auth::unauthorized_or`).
pub async fn wallet_for_key(
    db: &D1Database,
    key_hash: &str,
    scope: Scope,
) -> Result<Option<Wallet>> {
    let sql = format!(
        "SELECT w.account_id AS account_id, w.balance AS balance, w.currency AS currency, \
         a.approved AS approved \
         FROM wallets w JOIN accounts a ON a.id = w.account_id \
         WHERE w.account_id = ({LIVE_KEY_ACCOUNT})"
    );
    first::<Wallet>(stmt(db, &holding(&sql, scope), &[text(key_hash)])?).await
}

const LEDGER_COLUMNS: &str =
    "id, kind, amount, balance_after, reference, object_id, description, created_at";

/// A top-up already recorded under this reference, if any.
pub async fn topup_by_reference(
    db: &D1Database,
    account_id: &str,
    reference: &str,
) -> Result<Option<LedgerEntry>> {
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
    slice: &Slice,
) -> Result<Option<(Vec<LedgerEntry>, u64)>> {
    let listing = super::Listing {
        columns: LEDGER_COLUMNS,
        from: "ledger",
        mine: "account_id = ?1",
        order: "seq DESC",
        counted: Some("ledger"),
        key: Some("seq"),
    };
    super::account_slice(db, &listing, account_id, slice).await
}

/// Reads the balance after ledger row `tx_id`; put it LAST in the batch that writes the row
/// and read it with `balance_after_of` (no round trip after the commit).
pub fn balance_after_statement(db: &D1Database, tx_id: &str) -> Prepared {
    stmt(
        db,
        "SELECT balance_after FROM ledger WHERE id = ?1",
        &[text(tx_id)],
    )
}

/// The balance read by the batch's last statement (`balance_after_statement`).
pub fn balance_after_of(results: &[worker::D1Result]) -> Result<i64> {
    super::batch_value(results.last(), "balance_after", "ledger row")
}
