//! The customer's own lists that the dashboard shows: activations, rents, OTP sessions and
//! (locally) the sandbox outbox. One page and its total in one round trip each.
use super::activations::RentLine;
use super::{account_page, account_slice, Listing, Result};
use crate::domain::activation::Rent;
use crate::domain::message::OutboxText;
use crate::domain::pagination::{Page, Slice};
use worker::D1Database;

/// An account's rows of `from`, newest first (ties: the greater id first), its total kept
/// in `list_counts` under the table's name.
const fn newest(from: &'static str, columns: &'static str) -> Listing<'static> {
    Listing {
        columns,
        from,
        mine: "account_id = ?1",
        order: "created_at DESC, id DESC",
        counted: Some(from),
        key: Some("created_at, id"),
    }
}

/// Read with `store::account_slice` (rows as `domain::activation::Activation`).
pub const ACTIVATIONS: Listing = newest(
    "activations",
    "id, number, country, service, operator, cost, status, created_at, \
     cancel_allowed_at, expires_at",
);

const RENTS: Listing = newest(
    "rents",
    "id, account_id, number, country, service, operator, hours, cost, created_at, \
     expires_at",
);

pub async fn rents(
    db: &D1Database,
    account_id: &str,
    slice: &Slice,
) -> Result<Option<(Vec<Rent>, u64)>> {
    let listed = account_slice::<RentLine>(db, &RENTS, account_id, slice).await?;
    Ok(listed.map(|(rows, total)| (rows.into_iter().map(Rent::from).collect(), total)))
}

/// Read with `store::account_slice` (rows as `domain::otp::SessionRecord`).
pub const OTP_SESSIONS: Listing = newest(
    "otp_sessions",
    "id, phone, channel, dialect, cost, created_at, expires_at, attempts, \
     max_attempts, verified_at",
);

const OUTBOX: Listing = Listing {
    columns: "o.id, o.to_phone, o.channel, o.sender, o.text, o.status, o.object_id, \
              o.created_at",
    from: "outbox o",
    mine: "(o.object_id IN (SELECT id FROM otp_sessions WHERE account_id = ?1) \
           OR o.object_id IN (SELECT id FROM messages WHERE account_id = ?1))",
    order: "o.seq DESC",
    counted: None,
    key: None,
};

/// The sandbox outbox entries sent for this account's OTP sessions and template messages.
pub async fn outbox(
    db: &D1Database,
    account_id: &str,
    page: Page,
) -> Result<(Vec<OutboxText>, u64)> {
    account_page(db, &OUTBOX, account_id, page).await
}
