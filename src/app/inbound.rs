//! Inbound SMS from suppliers: verified, stored once per (supplier, sms_id), and forwarded
//! to the activation or rent that holds the number.
use super::App;
use crate::config::server_key;
use crate::domain::activation::SmsEntry;
use crate::domain::error::{AppError, Code};
use crate::domain::ids::new_id;
use crate::domain::phone::Phone;
use crate::domain::sms::{
    extract_code, is_fresh, parse_signature, signed_by, InboundSms, SignatureError, SmsTarget,
};
use crate::durable::activation_object::{self, Op, Outcome};
use crate::store::activations as store;
use crate::store::catalog::supplier_keys;
use worker::{console_error, D1Database};

/// What vouches for an inbound SMS: the `X-Signature` header over the raw body, and the
/// supplier the request names (if it does).
pub struct Signed<'a> {
    pub signature: Option<&'a str>,
    pub supplier_id: Option<&'a str>,
    pub body: &'a [u8],
}

pub struct IncomingSms {
    pub sms_id: String,
    pub number: Phone,
    pub from: String,
    pub text: String,
    pub received_at: String,
}

pub struct Received {
    pub duplicate: bool,
    pub id: String,
    pub sms_id: String,
    /// `activation`, `rent`, or `None` when nothing held the number.
    pub matched: Option<String>,
    pub code: Option<String>,
}

/// The supplier whose secret signed the raw body, within the clock's tolerance.
async fn signer(app: &App, db: &D1Database, signed: &Signed<'_>) -> Result<String, AppError> {
    let bad = |e: SignatureError| AppError::new(Code::InvalidSignature, e.to_string());
    let header = signed
        .signature
        .ok_or_else(|| AppError::new(Code::InvalidSignature, "X-Signature header is missing"))?;
    let signature = parse_signature(header).map_err(bad)?;
    if !is_fresh(&signature, app.now_ms) {
        return Err(bad(SignatureError::Stale));
    }
    let server_key = server_key(&app.env)?;
    let suppliers = supplier_keys(db, signed.supplier_id).await?;
    let supplier = suppliers
        .iter()
        .find(|s| signed_by(&signature, s.secret(&server_key).as_bytes(), signed.body))
        .ok_or_else(|| bad(SignatureError::Mismatch))?;
    Ok(supplier.id.clone())
}

/// Checks the signature on the raw body BEFORE anything is parsed (`parse` runs only for a
/// verified request) or stored. A redelivery answers `duplicate` and is forwarded again only
/// if its activation never acknowledged it.
pub async fn receive(
    app: &App,
    signed: Signed<'_>,
    parse: impl FnOnce() -> Result<IncomingSms, AppError>,
) -> Result<Received, AppError> {
    let db = app.db()?;
    let supplier_id = signer(app, &db, &signed).await?;
    let sms = parse()?;
    let holder = store::holder(&db, sms.number.e164(), app.now_ms).await?;
    if let Some(owner) = holder.as_ref().and_then(|h| h.supplier_id.as_deref()) {
        if owner != supplier_id {
            return Err(AppError::of(Code::SupplierNotAllowed));
        }
    }
    let target = holder
        .as_ref()
        .and_then(|h| h.kind.as_deref().zip(h.object_id.as_deref()));
    let code = extract_code(&sms.text);
    let new = InboundSms {
        id: new_id("sms")?,
        sms_id: sms.sms_id.clone(),
        sender: sms.from.trim().to_owned(),
        text: sms.text.clone(),
        code,
        received_at: sms.received_at.clone(),
        target: target.map(|(kind, id)| SmsTarget {
            kind: kind.to_owned(),
            id: id.to_owned(),
        }),
        // An activation's SMS is delivered once its object takes it; any other at once.
        delivered: i64::from(!matches!(target, Some(("activation", _)))),
    };
    let number = sms.number.e164();
    let inserted = store::insert_sms(&db, (&supplier_id, number), &new, app.now_ms).await?;
    let row = store::sms_by_supplier_id(&db, &supplier_id, &sms.sms_id).await?;
    let row = row.ok_or_else(|| AppError::internal("inbound SMS row missing after insert"))?;
    if let (Some(("activation", activation_id)), 0) = (row.target(), row.delivered) {
        let entry = SmsEntry {
            id: row.id.clone(),
            from: row.sender.clone(),
            text: row.text.clone(),
            code: row.code.clone(),
            received_at: row.received_at.clone(),
        };
        let outcome =
            activation_object::call(&app.env, activation_id, Op::Sms { sms: entry }).await?;
        store::mark_sms(&db, &row.id, matches!(outcome, Outcome::Ok { .. })).await?;
    }
    // A rent has no object of its own: its watch wakes the rent's long-polls.
    if let (true, Some(("rent", rent_id))) = (inserted, row.target()) {
        if let Err(e) = super::rents::sms_arrived(app, rent_id).await {
            console_error!("rent {rent_id}: {}", e.message);
        }
    }
    // Read again: forwarding to an activation that had ended cleared the target.
    let matched = store::sms_by_supplier_id(&db, &supplier_id, &sms.sms_id)
        .await?
        .and_then(|r| r.target.map(|t| t.kind));
    // Once per SMS (a redelivery queues nothing new); a failure here fails the request, so
    // the supplier's retry queues it.
    if matched.is_some() {
        super::webhooks::sms_to_sms_activate_hook(app, &row.id).await?;
    }
    Ok(Received {
        duplicate: !inserted,
        id: row.id,
        sms_id: row.sms_id,
        matched,
        code: row.code,
    })
}
