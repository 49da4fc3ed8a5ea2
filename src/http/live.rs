//! Server-Sent Events transport for an activation's change feed
//! (`GET /v1/activation/{id}/events`). The waiting happens in the activation's Durable
//! Object, reached through `app::activations::next_changes`; this module only frames what it
//! answers. A stream starts with what the client is owed (`Last-Event-ID`, else a snapshot),
//! follows live changes, and ends after the event that ends the activation, or after
//! `live::STREAM_MS` (the browser reconnects with `Last-Event-ID` and loses nothing).
use super::server::Ctx;
use crate::app::activations::{self, Changes, View};
use crate::domain::error::AppError;
use crate::domain::live::{frame, preamble, STREAM_MS};
use serde_json::{json, Value};
use worker::{Env, Headers, Response};

/// How long one wait inside a stream lasts before a keep-alive comment is sent.
const KEEPALIVE_MS: u64 = 25_000;

type Render = fn(&View) -> Value;

fn seq_of(v: &View) -> u64 {
    u64::try_from(v.seq).unwrap_or(0)
}

/// The frames for one answer: a snapshot, or each change with the state right after it.
fn frames(c: &Changes, render: Render) -> String {
    let data = |kind: &str, v: &View| {
        json!({"seq": v.seq, "type": kind, "activation": render(v)}).to_string()
    };
    match &c.changes {
        None => frame(seq_of(&c.view), "snapshot", &data("snapshot", &c.view)),
        Some(list) => list
            .iter()
            .map(|ch| {
                frame(
                    seq_of(&ch.view),
                    ch.kind.as_str(),
                    &data(ch.kind.as_str(), &ch.view),
                )
            })
            .collect(),
    }
}

struct Feed {
    env: Env,
    id: String,
    since: u64,
    deadline_ms: i64,
    first: Option<String>,
    done: bool,
    render: Render,
}

async fn next(mut feed: Feed) -> Option<(worker::Result<Vec<u8>>, Feed)> {
    if let Some(first) = feed.first.take() {
        return Some((Ok(first.into_bytes()), feed));
    }
    if feed.done {
        return None;
    }
    let left = feed.deadline_ms - crate::clock::now_ms();
    if left < 1_000 {
        return None;
    }
    let wait_ms = u64::try_from(left - 500).unwrap_or(0).min(KEEPALIVE_MS);
    // On an error the stream ends; the client reconnects and resumes from its last event.
    let changes = activations::next_changes(&feed.env, &feed.id, Some(feed.since), wait_ms)
        .await
        .ok()?;
    let mut text = frames(&changes, feed.render);
    feed.since = seq_of(&changes.view);
    feed.done = changes.view.status.is_terminal();
    if text.is_empty() {
        text = ": keep-alive\n\n".to_owned();
    }
    Some((Ok(text.into_bytes()), feed))
}

/// The event stream of an activation whose feed `app::activations::follow` opened.
pub fn event_stream(
    ctx: &Ctx,
    id: &str,
    opened: Changes,
    render: Render,
) -> Result<Response, AppError> {
    let internal = |e: worker::Error| AppError::internal(format!("event stream: {e}"));
    let terminal = opened.view.status.is_terminal();
    if terminal && opened.changes.as_ref().is_some_and(|c| c.is_empty()) {
        // Nothing after the client's last event, and nothing will come: 204 tells an
        // EventSource to stop reconnecting.
        return Ok(Response::empty().map_err(internal)?.with_status(204));
    }
    let feed = Feed {
        env: ctx.app.env.clone(),
        id: id.to_owned(),
        since: seq_of(&opened.view),
        deadline_ms: ctx.app.now_ms + STREAM_MS as i64,
        first: Some(preamble() + &frames(&opened, render)),
        done: terminal,
        render,
    };
    let headers = Headers::new();
    for (name, value) in [
        ("Content-Type", "text/event-stream; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("X-Accel-Buffering", "no"),
    ] {
        headers.set(name, value).map_err(internal)?;
    }
    let stream = futures_util::stream::unfold(feed, next);
    Ok(Response::from_stream(stream)
        .map_err(internal)?
        .with_headers(headers))
}
