//! `GET /v1/activation/{id}/events`: the activation's changes as Server-Sent Events. The
//! waiting happens in the activation's Durable Object (`Op::Changes`); this module only frames
//! what it answers. A stream replays what the client missed (`Last-Event-ID`), then follows
//! live changes, and ends when the activation ends or after `live::STREAM_MS` (the browser
//! then reconnects with `Last-Event-ID` and loses nothing).
use super::error::ApiError;
use super::server::Ctx;
use crate::domain::live::{frame, parse_last_event_id, preamble, STREAM_MS};
use crate::durable::activation::{self as object, Change, Op, Outcome, View};
use serde_json::json;
use worker::{Date, Env, Headers, Response};

/// How long one wait inside a stream lasts before a keep-alive comment is sent.
const KEEPALIVE_MS: u64 = 25_000;

/// The frames for one answer of the object; `render` is the dialect's state body.
fn frames(
    view: &View,
    changes: &Option<Vec<Change>>,
    render: fn(&View) -> serde_json::Value,
) -> String {
    let data = |kind: &str, v: &View| {
        json!({"seq": v.seq, "type": kind, "activation": render(v)}).to_string()
    };
    let seq = |v: &View| u64::try_from(v.seq).unwrap_or(0);
    match changes {
        None => frame(seq(view), "snapshot", &data("snapshot", view)),
        Some(list) => list
            .iter()
            .map(|c| {
                frame(
                    seq(&c.view),
                    c.kind.as_str(),
                    &data(c.kind.as_str(), &c.view),
                )
            })
            .collect(),
    }
}

struct Feed {
    env: Env,
    id: String,
    since: Option<u64>,
    deadline_ms: i64,
    first: Option<String>,
    done: bool,
    render: fn(&View) -> serde_json::Value,
}

async fn next(mut feed: Feed) -> Option<(worker::Result<Vec<u8>>, Feed)> {
    if let Some(first) = feed.first.take() {
        return Some((Ok(first.into_bytes()), feed));
    }
    if feed.done {
        return None;
    }
    let left = feed.deadline_ms - Date::now().as_millis() as i64;
    if left < 1_000 {
        return None;
    }
    let wait_ms = u64::try_from(left - 500).unwrap_or(0).min(KEEPALIVE_MS);
    let op = Op::Changes {
        since: feed.since,
        wait_ms,
    };
    let Ok(Outcome::Changes { view, changes }) = object::call(&feed.env, &feed.id, op).await else {
        // The client reconnects and resumes from its last event.
        return None;
    };
    let mut text = frames(&view, &changes, feed.render);
    feed.since = Some(u64::try_from(view.seq).unwrap_or(0));
    feed.done = view.status.is_terminal();
    if text.is_empty() {
        text = ": keep-alive\n\n".to_owned();
    }
    Some((Ok(text.into_bytes()), feed))
}

/// The event stream of activation `id` (its ownership already checked by the caller).
pub async fn activation_events(
    ctx: &Ctx,
    id: &str,
    render: fn(&View) -> serde_json::Value,
) -> Result<Response, ApiError> {
    let last = parse_last_event_id(ctx.header("Last-Event-ID").as_deref());
    let (view, changes) = match object::call(
        &ctx.env,
        id,
        Op::Changes {
            since: last,
            wait_ms: 0,
        },
    )
    .await?
    {
        Outcome::Changes { view, changes } => (view, changes),
        _ => return Err(ApiError::not_found("activation")),
    };
    let terminal = view.status.is_terminal();
    let internal = |e: worker::Error| ApiError::internal(format!("event stream: {e}"));
    if terminal && changes.as_ref().is_some_and(|c| c.is_empty()) {
        // Nothing after the client's last event, and nothing will come: 204 tells an
        // EventSource to stop reconnecting.
        return Ok(Response::empty().map_err(internal)?.with_status(204));
    }
    let feed = Feed {
        env: ctx.env.clone(),
        id: id.to_owned(),
        since: Some(u64::try_from(view.seq).unwrap_or(0)),
        deadline_ms: ctx.now_ms + STREAM_MS as i64,
        first: Some(preamble() + &frames(&view, &changes, render)),
        done: terminal,
        render,
    };
    let stream = futures_util::stream::unfold(feed, next);
    let headers = Headers::new();
    for (name, value) in [
        ("Content-Type", "text/event-stream; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("X-Accel-Buffering", "no"),
    ] {
        headers.set(name, value).map_err(internal)?;
    }
    Ok(Response::from_stream(stream)
        .map_err(internal)?
        .with_headers(headers))
}
