//! `/v2/verification/management/phone-numbers/{allow|block}`: the allow list is the fraud
//! guard's safe list (never refused nor counted), the block list its blocks made by hand
//! (every send refused, `in_block_list`). Adding and removing are idempotent.
use super::params;
use super::verification::request_id;
use crate::app::fraud::{self, SafeOp};
use crate::domain::error::{AppError, Code};
use crate::domain::ids::AccountId;
use crate::domain::phone::Phone;
use crate::domain::time::rfc3339;
use crate::http::server::Ctx;
use crate::http::{auth, Reply};
use serde_json::{json, Value};

#[derive(Clone, Copy)]
enum List {
    Allow,
    Block,
}

/// `GET` the list, `POST {phone_number}` to add, `DELETE {phone_number}` to remove.
pub async fn phone_numbers(ctx: &Ctx, action: &str) -> Result<Reply, AppError> {
    let account = auth::account(ctx).await?;
    let list = match action {
        "allow" => List::Allow,
        "block" => List::Block,
        _ => {
            return Err(AppError::new(
                Code::NotFound,
                "the list is 'allow' or 'block'",
            ))
        }
    };
    if ctx.method == "GET" {
        return list_numbers(ctx, &account, list).await;
    }
    let body: Value = ctx.json()?;
    let phone = match params::phone_number(&body) {
        Ok(phone) => phone,
        Err(p) => {
            let body = super::errors::error_body(400, p.code, &p.message, Some(p.param), "");
            return Ok(Reply::json(400, &with_request_id(body)));
        }
    };
    change(ctx, &account, list, &phone).await?;
    Ok(Reply::ok(json!({ "phone_number": phone.e164() })))
}

fn with_request_id(mut body: Value) -> Value {
    body["request_id"] = json!(request_id());
    body
}

async fn change(ctx: &Ctx, account: &AccountId, list: List, phone: &Phone) -> Result<(), AppError> {
    let app = &ctx.app;
    let add = ctx.method == "POST";
    let actor = &auth::customer(ctx, account);
    match (list, add) {
        (List::Allow, true) => fraud::safe_entry(app, account, phone, SafeOp::Add, actor)
            .await
            .map(|_| ()),
        (List::Allow, false) => {
            match fraud::safe_entry(app, account, phone, SafeOp::Remove, actor).await {
                Err(e) if e.code == Code::NotFound => Ok(()),
                other => other.map(|_| ()),
            }
        }
        (List::Block, true) => fraud::block_phone(app, account, phone, actor)
            .await
            .map(|_| ()),
        (List::Block, false) => fraud::unblock_phone(app, account, phone, actor)
            .await
            .map(|_| ()),
    }
}

async fn list_numbers(ctx: &Ctx, account: &AccountId, list: List) -> Result<Reply, AppError> {
    let numbers: Vec<Value> = match list {
        List::Allow => (fraud::safe_list(&ctx.app, account).await?)
            .into_iter()
            .map(|n| entry(&n.phone, n.created_at))
            .collect(),
        List::Block => (fraud::phone_blocks(&ctx.app, account).await?)
            .into_iter()
            .map(|b| entry(&b.value, b.created_at))
            .collect(),
    };
    Ok(Reply::ok(json!({ "phone_numbers": numbers })))
}

fn entry(phone: &str, created_at: i64) -> Value {
    json!({ "phone_number": phone, "created_at": rfc3339(created_at) })
}
