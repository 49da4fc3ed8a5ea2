//! Activations, rents and inbound SMS in D1.
use super::accounts::{holding, LIVE_KEY_ACCOUNT};
use super::catalog::free_for_service;
use super::row::row;
use super::{
    all, batch, execute, exists, first, int, opt_int, opt_text, run, stmt, text, webhooks,
    ConstraintKind, Result, StoreError,
};
use crate::domain::activation::Rent;
use crate::domain::scope::Scope;
use crate::domain::sms::InboundSms;
use crate::store::wallet::{change_statements, Delta, Entry, Kind};
use worker::{D1Database, D1PreparedStatement};

row! {
    /// A free number and what it costs, for an activation or a rent.
    #[derive(Debug, Clone)]
    pub struct Candidate {
        pub number_id: String,
        pub number: String,
        pub operator: String,
        pub cost: i64,
    }
}

/// A price list numbers are sold from: activation prices, or rent prices per duration
/// (`by_hours`: the pick and the offer may ask for one duration).
struct PriceList {
    table: &'static str,
    columns: &'static str,
    order: &'static str,
    by_hours: bool,
}

const ACTIVATION_PRICES: PriceList = PriceList {
    table: "prices",
    columns: "p.cost",
    order: "p.cost",
    by_hours: false,
};

const RENT_PRICES: PriceList = PriceList {
    table: "rent_prices",
    columns: "p.hours, p.cost",
    order: "p.hours, p.cost",
    by_hours: true,
};

/// What a buyer asks for: (country, service[, operator]) and, on a rent, the duration.
pub struct Wanted<'a> {
    pub country: &'a str,
    pub service: &'a str,
    pub operator: Option<&'a str>,
    pub hours: Option<i64>,
}

impl Wanted<'_> {
    /// The bind values `?1` country, `?2` service, `?3` operator, then `extra`, then (on a
    /// list by hours) the duration.
    fn binds(&self, list: &PriceList, extra: Option<i64>) -> Vec<worker::wasm_bindgen::JsValue> {
        let mut binds = vec![
            text(self.country),
            text(self.service),
            opt_text(self.operator),
        ];
        binds.extend(extra.map(int));
        if list.by_hours {
            binds.push(opt_int(self.hours));
        }
        binds
    }
}

/// The cheapest free number of `list` for what is `wanted` (on a rent, the shortest duration
/// first); among equally cheap numbers one at random, so parallel buyers rarely reach for
/// the same one.
async fn pick<T: super::FromRow>(
    db: &D1Database,
    list: &PriceList,
    wanted: &Wanted<'_>,
    now_ms: i64,
) -> Result<Option<T>> {
    let hours = if list.by_hours {
        "AND (?5 IS NULL OR p.hours = ?5) "
    } else {
        ""
    };
    let sql = format!(
        "SELECT n.id AS number_id, n.number, n.operator, {columns} FROM numbers n \
         JOIN {table} p ON p.country = n.country AND p.operator = n.operator AND p.service = ?2 \
         WHERE n.country = ?1 AND (?3 IS NULL OR n.operator = ?3) {hours}AND {free} \
         ORDER BY {order}, random() LIMIT 1",
        columns = list.columns,
        table = list.table,
        order = list.order,
        free = free_for_service("?2", "?4")
    );
    first(db, &sql, &wanted.binds(list, Some(now_ms))).await
}

/// Whether `list` prices what is `wanted` at all: "not offered" vs "sold out".
async fn offered(db: &D1Database, list: &PriceList, wanted: &Wanted<'_>) -> Result<bool> {
    let hours = if list.by_hours {
        " AND (?4 IS NULL OR hours = ?4)"
    } else {
        ""
    };
    let sql = format!(
        "SELECT cost FROM {table} WHERE country = ?1 AND service = ?2 AND (?3 IS NULL OR \
         operator = ?3){hours} LIMIT 1",
        table = list.table
    );
    exists(db, &sql, &wanted.binds(list, None)).await
}

/// The cheapest free number for (country, service[, operator]).
pub async fn pick_for_activation(
    db: &D1Database,
    wanted: &Wanted<'_>,
    now_ms: i64,
) -> Result<Option<Candidate>> {
    pick(db, &ACTIVATION_PRICES, wanted, now_ms).await
}

/// Whether any price exists for (country, service[, operator]) — "not offered" vs "sold out".
pub async fn is_offered(db: &D1Database, wanted: &Wanted<'_>) -> Result<bool> {
    offered(db, &ACTIVATION_PRICES, wanted).await
}

/// A number sold to an account, as an activation or a rent: its id, the buyer, what it is
/// for, and when (ms): sold at `now_ms`, the number held until `expires_at_ms`.
pub struct Sale<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    /// The (country, service) sold, as the buyer's offer resolved.
    pub what: Wanted<'a>,
    pub now_ms: i64,
    pub expires_at_ms: i64,
    /// The hash of the API key that pays (`App::spender`), whose caps the charge counts
    /// against too.
    pub key_hash: Option<&'a str>,
}

/// The charge first (so an empty wallet fails with the balance CHECK before anything else),
/// then the lease of `number_id` as `lease_kind` (primary key: nobody else holds the number),
/// a dead rent lease on the number cleared before it. Returns the charge's transaction id
/// with the statements.
fn charge_and_lease(
    db: &D1Database,
    sale: &Sale<'_>,
    (kind, lease_kind): (Kind, &str),
    number_id: &str,
    cost: i64,
    description: &str,
) -> Result<(String, Vec<D1PreparedStatement>)> {
    let charge = Entry {
        account_id: sale.account_id,
        kind,
        reference: None,
        object_id: Some(sale.id),
        description,
        key_hash: sale.key_hash,
    };
    let (tx_id, mut statements) =
        change_statements(db, &charge, Delta::Amount(-cost), sale.now_ms)?;
    statements.push(stmt(
        db,
        "DELETE FROM number_leases WHERE number_id = ?1 AND kind = 'rent' AND expires_at <= ?2",
        &[text(number_id), int(sale.now_ms)],
    )?);
    statements.push(stmt(
        db,
        "INSERT INTO number_leases (number_id, kind, object_id, expires_at) VALUES (?1, ?2, ?3, \
            ?4)",
        &[
            text(number_id),
            text(lease_kind),
            text(sale.id),
            int(sale.expires_at_ms),
        ],
    )?);
    Ok((tx_id, statements))
}

/// An activation about to be bought: the sale, the free number picked for it, and when it
/// may be cancelled (ms).
pub struct NewActivation<'a> {
    pub sale: Sale<'a>,
    pub candidate: &'a Candidate,
    pub cancel_allowed_at_ms: i64,
}

/// The purchase as statements for one batch: the charge first (so an empty wallet fails with
/// the balance CHECK before anything else), then the lease (primary key: nobody else holds
/// the number) and the activation (unique per number and service). A dead rent lease on the
/// number is cleared first.
pub fn buy_statements(db: &D1Database, a: &NewActivation<'_>) -> Result<Vec<D1PreparedStatement>> {
    let (c, sale) = (a.candidate, &a.sale);
    let description = format!(
        "{} number {} ({})",
        sale.what.service, c.number, sale.what.country
    );
    let kinds = (Kind::Purchase, "activation");
    let (_, mut statements) =
        charge_and_lease(db, sale, kinds, &c.number_id, c.cost, &description)?;
    statements.push(stmt(
        db,
        "INSERT INTO activations (id, account_id, number_id, number, country, service, operator, \
            cost, status, created_at, cancel_allowed_at, expires_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'waiting', ?9, ?10, ?11, ?9)",
        &[
            text(sale.id),
            text(sale.account_id),
            text(&c.number_id),
            text(&c.number),
            text(sale.what.country),
            text(sale.what.service),
            text(&c.operator),
            int(c.cost),
            int(sale.now_ms),
            int(a.cancel_allowed_at_ms),
            int(sale.expires_at_ms),
        ],
    )?);
    Ok(statements)
}

/// Whether a failed purchase batch lost its number to a parallel buyer (try another one).
pub fn lost_the_number(e: &StoreError) -> bool {
    e.on_constraint(ConstraintKind::Unique, "number_leases")
        || e.on_constraint(ConstraintKind::Unique, "activations.number_id")
}

row! {
    #[derive(Debug, Clone)]
    pub struct ActivationRow {
        pub id: String,
        pub account_id: String,
        pub number: String,
        pub cost: i64,
        pub cancel_allowed_at: i64,
        pub expires_at: i64,
    }
}

/// The account of the activation when it belongs to the live key whose hash is given,
/// which holds `scope`: the key check, its scope and the ownership check in one D1 round trip.
pub async fn owned_by_key(
    db: &D1Database,
    id: &str,
    key_hash: &str,
    scope: Scope,
) -> Result<Option<String>> {
    let sql = format!(
        "SELECT account_id FROM activations WHERE id = ?2 AND account_id = ({LIVE_KEY_ACCOUNT})"
    );
    let row: Option<Owner> = first(db, &holding(&sql, scope), &[text(key_hash), text(id)]).await?;
    Ok(row.map(|o| o.account_id))
}

row! {
    /// An activation's account.
    struct Owner {
        account_id: String,
    }
}

pub async fn activation(db: &D1Database, id: &str) -> Result<Option<ActivationRow>> {
    first(
        db,
        "SELECT id, account_id, number, cost, cancel_allowed_at, expires_at FROM activations WHERE \
            id = ?1",
        &[text(id)],
    )
    .await
}

/// Brings D1 in line with the Durable Object's state after a transition: the status mirror,
/// the lease released once the activation ended, and the refund for a cancelled or expired
/// one. Idempotent, so the object may run it again after a failure: the ledger's unique
/// (object_id, kind) refuses a second refund, and then the rest runs without it.
pub async fn sync_state(db: &D1Database, a: &ActivationSync<'_>) -> Result<()> {
    let mirror = |db: &D1Database| -> Result<Vec<D1PreparedStatement>> {
        let mut s = vec![stmt(
            db,
            "UPDATE activations SET status = ?2, updated_at = ?3, version = ?4 WHERE id = ?1 AND \
                version < ?4",
            &[text(a.id), text(a.status), int(a.now_ms), int(a.version)],
        )?];
        if a.terminal {
            s.push(stmt(
                db,
                "DELETE FROM number_leases WHERE object_id = ?1 AND kind = 'activation'",
                &[text(a.id)],
            )?);
        }
        if let Some(event) = &a.event {
            s.push(webhooks::activation_event_statement(db, event, a.now_ms)?);
        }
        Ok(s)
    };
    if a.refund {
        let description = format!("refund: activation {} {}", a.id, a.status);
        let entry = Entry {
            account_id: a.account_id,
            kind: Kind::Refund,
            reference: None,
            object_id: Some(a.id),
            description: &description,
            key_hash: None,
        };
        let (_, mut statements) = change_statements(db, &entry, Delta::Amount(a.cost), a.now_ms)?;
        statements.extend(mirror(db)?);
        match batch(db, statements).await {
            Ok(_) => return Ok(()),
            Err(e) if e.on_constraint(ConstraintKind::Unique, "ledger") => {} // refunded already
            Err(e) => return Err(e),
        }
    }
    batch(db, mirror(db)?).await?;
    Ok(())
}

pub struct ActivationSync<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub cost: i64,
    pub status: &'a str,
    pub terminal: bool,
    pub refund: bool,
    /// The object's transition counter for this state.
    pub version: i64,
    pub now_ms: i64,
    /// The webhook event reporting this state, recorded with it.
    pub event: Option<webhooks::Event<'a>>,
}

// ---- rents ----

row! {
    #[derive(Debug, Clone)]
    pub struct RentOffer {
        pub number_id: String,
        pub number: String,
        pub operator: String,
        pub hours: i64,
        pub cost: i64,
    }
}

/// A free number with its rent price for `hours` (or the shortest duration offered).
pub async fn pick_for_rent(
    db: &D1Database,
    wanted: &Wanted<'_>,
    now_ms: i64,
) -> Result<Option<RentOffer>> {
    pick(db, &RENT_PRICES, wanted, now_ms).await
}

/// Whether any rent price exists for (country, service[, operator][, hours]).
pub async fn is_rent_offered(db: &D1Database, wanted: &Wanted<'_>) -> Result<bool> {
    offered(db, &RENT_PRICES, wanted).await
}

/// A rent about to start: the sale and the free number offered for it.
pub struct NewRent<'a> {
    pub sale: Sale<'a>,
    pub offer: &'a RentOffer,
}

/// Charge, lease and rent row for one batch (same order and guards as a purchase).
pub fn rent_statements(
    db: &D1Database,
    r: &NewRent<'_>,
) -> Result<(String, Vec<D1PreparedStatement>)> {
    let (o, sale) = (r.offer, &r.sale);
    let description = format!(
        "rent {} number {} ({}) for {} h",
        sale.what.service, o.number, sale.what.country, o.hours
    );
    let kinds = (Kind::Rent, "rent");
    let (tx_id, mut statements) =
        charge_and_lease(db, sale, kinds, &o.number_id, o.cost, &description)?;
    statements.push(stmt(
        db,
        "INSERT INTO rents (id, account_id, number_id, number, country, service, operator, hours, \
            cost, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        &[
            text(sale.id),
            text(sale.account_id),
            text(&o.number_id),
            text(&o.number),
            text(sale.what.country),
            text(sale.what.service),
            text(&o.operator),
            int(o.hours),
            int(o.cost),
            int(sale.now_ms),
            int(sale.expires_at_ms),
        ],
    )?);
    Ok((tx_id, statements))
}

pub async fn rent(db: &D1Database, id: &str) -> Result<Option<Rent>> {
    first(
        db,
        "SELECT id, account_id, number, country, service, operator, hours, cost, created_at, \
            expires_at FROM rents WHERE id = ?1",
        &[text(id)],
    )
    .await
}

// ---- inbound SMS ----

row! {
    /// Who holds a number now, if anyone (a rent lease past its end holds nothing).
    #[derive(Debug, Clone)]
    pub struct Holder {
        pub supplier_id: Option<String>,
        pub kind: Option<String>,
        pub object_id: Option<String>,
    }
}

pub async fn holder(db: &D1Database, number: &str, now_ms: i64) -> Result<Option<Holder>> {
    first(
        db,
        "SELECT n.supplier_id, l.kind, l.object_id FROM numbers n \
         LEFT JOIN number_leases l ON l.number_id = n.id AND (l.kind = 'activation' OR \
         l.expires_at > ?2) WHERE n.number = ?1",
        &[text(number), int(now_ms)],
    )
    .await
}

/// Stores an SMS `supplier_id` delivered to `number` once per (supplier, sms_id); false when
/// it was stored before.
pub async fn insert_sms(
    db: &D1Database,
    (supplier_id, number): (&str, &str),
    s: &InboundSms,
    now_ms: i64,
) -> Result<bool> {
    let inserted = run(stmt(
        db,
        "INSERT INTO inbound_sms (id, supplier_id, sms_id, number, sender, text, code, \
            received_at, target_kind, target_id, delivered, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (supplier_id, \
         sms_id) DO NOTHING",
        &[
            text(&s.id),
            text(supplier_id),
            text(&s.sms_id),
            text(number),
            text(&s.sender),
            text(&s.text),
            opt_text(s.code.as_deref()),
            text(&s.received_at),
            opt_text(s.target().map(|(kind, _)| kind)),
            opt_text(s.target().map(|(_, id)| id)),
            int(s.delivered),
            int(now_ms),
        ],
    )?)
    .await?;
    // Triggers on the insert (statistics) add their own changes to the count; a stored
    // duplicate changes nothing at all.
    Ok(inserted > 0)
}

const SMS_COLUMNS: &str =
    "id, sms_id, sender, text, code, received_at, target_kind, target_id, delivered";

pub async fn sms_by_supplier_id(
    db: &D1Database,
    supplier_id: &str,
    sms_id: &str,
) -> Result<Option<InboundSms>> {
    first(
        db,
        &format!("SELECT {SMS_COLUMNS} FROM inbound_sms WHERE supplier_id = ?1 AND sms_id = ?2"),
        &[text(supplier_id), text(sms_id)],
    )
    .await
}

/// Records the outcome of forwarding an SMS to its activation: delivered, or (the
/// activation had already ended) unmatched.
pub async fn mark_sms(db: &D1Database, id: &str, delivered: bool) -> Result<()> {
    let sql = if delivered {
        "UPDATE inbound_sms SET delivered = 1 WHERE id = ?1"
    } else {
        "UPDATE inbound_sms SET delivered = 1, target_kind = NULL, target_id = NULL WHERE id = ?1"
    };
    execute(db, sql, &[text(id)]).await
}

pub async fn rent_sms(db: &D1Database, rent_id: &str) -> Result<Vec<InboundSms>> {
    all(
        db,
        &format!(
            "SELECT {SMS_COLUMNS} FROM inbound_sms WHERE target_kind = 'rent' AND target_id = \
            ?1 ORDER BY created_at, id"
        ),
        &[text(rent_id)],
    )
    .await
}
