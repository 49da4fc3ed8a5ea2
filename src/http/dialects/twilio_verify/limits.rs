//! Twilio's Service Rate Limits (`/v2/Services/{VA}/RateLimits…`, `UniqueName`,
//! `Description`) and their Buckets (`…/Buckets…`, `Max`, `Interval`): parse the form, call
//! ONE operation of `app::verify_limits`, render Twilio's shapes.
use super::origin;
use super::params::{self, allowance, description, ParamError};
use super::resources::Failure;
use super::shapes::{date, meta};
use crate::app::verify::Caller;
use crate::app::verify_limits as ops;
use crate::app::App;
use crate::domain::error::{AppError, Code};
use crate::domain::verify_limits::{unique_name, Bucket, RateLimit};
use crate::http::form::Form;
use crate::http::routes::TwilioResource as Resource;
use crate::http::server::Ctx;
use crate::http::Reply;
use serde_json::{json, Value};

/// A rate limit or bucket route (any other resource is not this module's: 404).
pub async fn serve(ctx: &Ctx, caller: &Caller, resource: Resource) -> Result<Reply, Failure> {
    match resource {
        Resource::RateLimits { service } => limits(ctx, caller, &service).await,
        Resource::RateLimit { service, sid } => limit(ctx, caller, &service, &sid).await,
        Resource::Buckets {
            service,
            rate_limit,
        } => buckets(ctx, caller, (&service, &rate_limit)).await,
        Resource::Bucket {
            service,
            rate_limit,
            sid,
        } => bucket(ctx, caller, (&service, &rate_limit), &sid).await,
        _ => Err(Failure::App(AppError::of(Code::RouteNotFound))),
    }
}

fn limits_url(ctx: &Ctx, service: &str) -> String {
    format!("{}/v2/Services/{service}/RateLimits", origin(ctx))
}

fn limit_json(ctx: &Ctx, caller: &Caller, r: &RateLimit) -> Value {
    let url = format!("{}/{}", limits_url(ctx, &r.service_sid), r.sid);
    json!({
        "sid": r.sid,
        "service_sid": r.service_sid,
        "account_sid": caller.account_sid,
        "unique_name": r.unique_name,
        "description": r.description,
        "date_created": date(r.created_at),
        "date_updated": date(r.updated_at),
        "url": url,
        "links": {"buckets": format!("{url}/Buckets")},
    })
}

fn bucket_json(ctx: &Ctx, caller: &Caller, b: &Bucket) -> Value {
    let url = format!(
        "{}/{}/Buckets/{}",
        limits_url(ctx, &b.service_sid),
        b.rate_limit_sid,
        b.sid
    );
    json!({
        "sid": b.sid,
        "rate_limit_sid": b.rate_limit_sid,
        "service_sid": b.service_sid,
        "account_sid": caller.account_sid,
        "max": b.max,
        "interval": b.interval,
        "date_created": date(b.created_at),
        "date_updated": date(b.updated_at),
        "url": url,
    })
}

fn paging(ctx: &Ctx) -> Result<crate::domain::twilio_verify::Paging, ParamError> {
    params::paging(
        ctx.query("Page").as_deref(),
        ctx.query("PageSize").as_deref(),
    )
}

/// `/v2/Services/{VA}/RateLimits`: `GET` list, `POST` create (`UniqueName`, `Description`).
async fn limits(ctx: &Ctx, caller: &Caller, service: &str) -> Result<Reply, Failure> {
    if ctx.method == "GET" {
        let paging = paging(ctx)?;
        let (rows, has_next) = ops::limits(&ctx.app, caller, service, paging).await?;
        let list: Vec<Value> = rows.iter().map(|r| limit_json(ctx, caller, r)).collect();
        let meta = meta(paging, &limits_url(ctx, service), "rate_limits", has_next);
        return Ok(Reply::ok(json!({"rate_limits": list, "meta": meta})));
    }
    let f = Form::parse(&ctx.body);
    let name = f
        .get("UniqueName")
        .ok_or(ParamError::Missing("UniqueName"))?;
    let name = unique_name(name).map_err(|r| Failure::App(r.error()))?;
    let description = description(f.get("Description"))?;
    let row = ops::create_limit(&ctx.app, caller, service, name, description).await?;
    Ok(Reply::json(201, &limit_json(ctx, caller, &row)))
}

/// `/v2/Services/{VA}/RateLimits/{RK}`: `GET` fetch, `POST` update (`Description`), `DELETE`.
async fn limit(ctx: &Ctx, caller: &Caller, service: &str, sid: &str) -> Result<Reply, Failure> {
    let ops = (ops::limit, ops::update_limit, ops::delete_limit);
    let change = |f: &Form| description(f.get("Description"));
    member(ctx, caller, (service, sid), ops, change, limit_json).await
}

/// One definition's route (`sid` under `parent`): `GET` fetch, `DELETE` (204), any other
/// method (`POST`) update by the `change` its form asks for (400 before anything is read).
async fn member<P: Copy, C, T>(
    ctx: &Ctx,
    caller: &Caller,
    (parent, sid): (P, &str),
    (fetch, update, delete): (
        impl AsyncFnOnce(&App, &Caller, P, &str) -> Result<T, AppError>,
        impl AsyncFnOnce(&App, &Caller, P, &str, C) -> Result<T, AppError>,
        impl AsyncFnOnce(&App, &Caller, P, &str) -> Result<(), AppError>,
    ),
    change: impl FnOnce(&Form) -> Result<C, ParamError>,
    json: fn(&Ctx, &Caller, &T) -> Value,
) -> Result<Reply, Failure> {
    let app = &ctx.app;
    let row = match ctx.method.as_str() {
        "DELETE" => {
            delete(app, caller, parent, sid).await?;
            return Ok(Reply::text(204, ""));
        }
        "GET" => fetch(app, caller, parent, sid).await?,
        _ => {
            let change = change(&Form::parse(&ctx.body))?;
            update(app, caller, parent, sid, change).await?
        }
    };
    Ok(Reply::ok(json(ctx, caller, &row)))
}

/// `…/RateLimits/{RK}/Buckets`: `GET` list, `POST` create (`Max`, `Interval`).
async fn buckets(ctx: &Ctx, caller: &Caller, parent: (&str, &str)) -> Result<Reply, Failure> {
    if ctx.method == "GET" {
        let paging = paging(ctx)?;
        let (rows, has_next) = ops::buckets(&ctx.app, caller, parent, paging).await?;
        let list: Vec<Value> = rows.iter().map(|b| bucket_json(ctx, caller, b)).collect();
        let url = format!("{}/{}/Buckets", limits_url(ctx, parent.0), parent.1);
        let meta = meta(paging, &url, "buckets", has_next);
        return Ok(Reply::ok(json!({"buckets": list, "meta": meta})));
    }
    let f = Form::parse(&ctx.body);
    let (max, interval) = allowance(f.get("Max"), f.get("Interval"), true)?;
    let (Some(max), Some(interval)) = (max, interval) else {
        return Err(ParamError::Missing("Max").into());
    };
    let allowance = ops::Allowance { max, interval };
    let row = ops::create_bucket(&ctx.app, caller, parent, allowance).await?;
    Ok(Reply::json(201, &bucket_json(ctx, caller, &row)))
}

/// `…/Buckets/{BL}`: `GET` fetch, `POST` update (`Max`, `Interval`), `DELETE`.
async fn bucket(
    ctx: &Ctx,
    caller: &Caller,
    parent: (&str, &str),
    sid: &str,
) -> Result<Reply, Failure> {
    let ops = (ops::bucket, ops::update_bucket, ops::delete_bucket);
    let change = |f: &Form| allowance(f.get("Max"), f.get("Interval"), false);
    member(ctx, caller, (parent, sid), ops, change, bucket_json).await
}
