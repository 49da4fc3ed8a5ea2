//! The operator console's sign-in: the admin token, checked by the front door, is exchanged
//! once for a session (a cookie); the session ends at logout or after `SESSION_IDLE_SECS`.
//! Each sign-in and sign-out is in the audit log.
use super::App;
use crate::domain::audit::{Actor, Change};
use crate::domain::error::AppError;
use crate::domain::ids::new_id;
use crate::domain::session::{looks_like_session_token, new_token, token_hash};
use crate::store::{audit, console as store};

/// A console session just opened: the token is in this answer (the cookie) and nowhere else.
pub struct ConsoleSession {
    pub token: String,
    pub session_id: String,
    pub expires_at: i64,
    pub max_age_secs: i64,
}

fn event<'a>(action: &'a str, session_id: &'a str) -> Change<'a> {
    Change {
        action,
        resource_type: "admin_session",
        resource_id: Some(session_id),
        ..Change::default()
    }
}

/// Opens a console session for the operator (`actor`: already checked by its token).
pub async fn open(app: &App, actor: &Actor) -> Result<ConsoleSession, AppError> {
    let token = new_token()?;
    let session_id = new_id("adm")?;
    let lifetime = app.config.session_idle_ms;
    let expires_at = app.now_ms + lifetime;
    let db = app.db()?;
    let actor = Actor {
        id: Some(session_id.clone()),
        ..actor.clone()
    };
    let row = audit::append(&db, &actor, &event("admin.login", &session_id), app.now_ms)?;
    let times = (app.now_ms, expires_at);
    let ip = actor.ip.as_deref();
    store::open(&db, &session_id, &token.hash, ip, times, row).await?;
    Ok(ConsoleSession {
        token: token.token,
        session_id,
        expires_at,
        max_age_secs: lifetime / 1000,
    })
}

/// The id of the live console session behind a presented token (`None`: none is live).
pub async fn session(app: &App, token: &str) -> Result<Option<String>, AppError> {
    if !looks_like_session_token(token) {
        return Ok(None);
    }
    Ok(store::live(&app.db()?, &token_hash(token), app.now_ms).await?)
}

/// Ends the console session `session_id` (ending an ended one is no error).
pub async fn close(app: &App, session_id: &str, actor: &Actor) -> Result<(), AppError> {
    let db = app.db()?;
    let change = event("admin.logout", session_id);
    let row = audit::append_if_changed(&db, actor, &change, app.now_ms)?;
    Ok(store::revoke(&db, session_id, app.now_ms, row).await?)
}
