//! Vonage applications (`vonage_applications`): the public key a customer registered, whose
//! private key signs its SDK's JWTs, and where its status callbacks go.
use super::{first, int, opt_text, run, stmt, text, StoreError};
use serde::Deserialize;
use worker::D1Database;

/// An application as the JWT check needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    pub id: String,
    pub account_id: String,
    pub public_key: String,
    pub callback_url: Option<String>,
}

pub async fn insert(db: &D1Database, a: &Application, created_at: i64) -> Result<(), StoreError> {
    run(stmt(
        db,
        "INSERT INTO vonage_applications (id, account_id, public_key, callback_url, \
           created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        &[
            text(&a.id),
            text(&a.account_id),
            text(&a.public_key),
            opt_text(a.callback_url.as_deref()),
            int(created_at),
        ],
    )?)
    .await
    .map(|_| ())
}

/// The application, if its account is active and approved (it may move money).
pub async fn live(db: &D1Database, id: &str) -> Result<Option<Application>, StoreError> {
    first(stmt(
        db,
        "SELECT a.id, a.account_id, a.public_key, a.callback_url FROM vonage_applications a \
         JOIN accounts c ON c.id = a.account_id AND c.status = 'active' AND c.approved = 1 \
         WHERE a.id = ?1",
        &[text(id)],
    )?)
    .await
}
