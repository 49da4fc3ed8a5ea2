//! Message templates: an account's own and the operator's shared ones, looked up for OTP
//! sends and template messages.
use super::App;
use crate::domain::audit::{Actor, Change};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::{is_uuid, new_uuid, AccountId};
use crate::domain::template::{Template, TemplateError, TemplateRecord};
use crate::store::messages as store;

/// A stored template and its parsed form.
pub struct LoadedTemplate {
    pub row: TemplateRecord,
    pub parsed: Template,
}

impl LoadedTemplate {
    fn of(row: TemplateRecord) -> Result<LoadedTemplate, AppError> {
        let parsed = Template::parse(&row.body).map_err(|e| {
            AppError::internal(format!("stored template {} does not parse: {e}", row.id))
        })?;
        Ok(LoadedTemplate { row, parsed })
    }

    /// The operator's template, which every account may use.
    pub fn shared(&self) -> bool {
        self.row.account_id.is_none()
    }
}

/// 2203: the variables do not fit the template.
pub fn template_error(e: TemplateError) -> AppError {
    AppError::new(Code::TemplateVariables, e.to_string())
}

/// A template `account` may send with (its own or a shared one) by its UUID: 1512 when it
/// is not one, 1513 when there is none (another account's template is "none" too).
pub async fn find_template(
    app: &App,
    account: &AccountId,
    id: &str,
) -> Result<LoadedTemplate, AppError> {
    if !is_uuid(id) {
        return Err(AppError::of(Code::InvalidTemplateId));
    }
    let row = store::template(&app.db()?, &id.to_ascii_lowercase(), account.as_str()).await?;
    LoadedTemplate::of(row.ok_or_else(|| AppError::of(Code::TemplateNotFound))?)
}

/// `GET /v1/templates/{id}`: a template the account may see, else 404.
pub async fn visible_template(
    app: &App,
    account: &AccountId,
    id: &str,
) -> Result<LoadedTemplate, AppError> {
    find_template(app, account, id)
        .await
        .map_err(|e| match e.code {
            Code::InvalidTemplateId | Code::TemplateNotFound => AppError::not_found("template"),
            _ => e,
        })
}

/// The account's own templates and the shared ones, newest first.
pub async fn templates(app: &App, account: &AccountId) -> Result<Vec<LoadedTemplate>, AppError> {
    let rows = store::visible_templates(&app.db()?, account.as_str()).await?;
    rows.into_iter().map(LoadedTemplate::of).collect()
}

/// Deletes one of the account's own templates: a shared one is 403, another account's 404.
pub async fn delete_own_template(app: &App, account: &AccountId, id: &str) -> Result<(), AppError> {
    let id = id.to_ascii_lowercase();
    let db = app.db()?;
    if is_uuid(&id) && store::delete_own_template(&db, &id, account.as_str(), app.now_ms).await? {
        return Ok(());
    }
    let visible = visible_template(app, account, &id).await?;
    if visible.shared() {
        let m = "this template is the operator's, shared with every account: it cannot be deleted";
        return Err(AppError::new(Code::Forbidden, m));
    }
    Err(AppError::not_found("template"))
}

/// Creates a template (its channel already validated, its body checked here: 2204), owned
/// by `owner`, or the operator's shared one when `None`.
pub async fn create_template(
    app: &App,
    owner: Option<&AccountId>,
    (name, channel, body): (String, String, String),
    actor: &Actor,
) -> Result<LoadedTemplate, AppError> {
    let parsed =
        Template::parse(&body).map_err(|e| AppError::new(Code::InvalidTemplate, e.to_string()))?;
    let row = TemplateRecord {
        id: new_uuid()?,
        name,
        channel,
        body,
        created_at: app.now_ms,
        account_id: owner.map(|a| a.as_str().to_owned()),
    };
    let db = app.db()?;
    let change = Change {
        account_id: row.account_id.as_deref(),
        action: "template.create",
        resource_type: "template",
        resource_id: Some(&row.id),
        before: None,
        after: Some(serde_json::json!({"name": row.name, "channel": row.channel})),
        reason: None,
    };
    let audit = crate::store::audit::append(&db, actor, &change, app.now_ms)?;
    store::create_template(&db, &row, audit).await?;
    Ok(LoadedTemplate { row, parsed })
}
