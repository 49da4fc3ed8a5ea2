//! Live updates of an activation (and a rent's SMS): the per-object event log with its
//! sequence numbers, what a reconnecting client is owed (`Last-Event-ID`, `since`), the
//! long-poll parameters, and Server-Sent Events framing. Pure: no `worker` types.
use serde::{Deserialize, Serialize};

/// A long-poll waits at most this long (`wait` is 1..=55 s), so no request is held past 60 s.
pub const MAX_WAIT_SECS: u32 = 55;
/// An event stream ends after this long; the client reconnects with `Last-Event-ID` and
/// loses nothing.
pub const STREAM_MS: u64 = 55_000;
/// What an event stream asks the browser to wait before it reconnects.
pub const RETRY_MS: u32 = 1_000;
/// Log entries an object keeps (the newest). A client that resumes from before the oldest
/// one gets a snapshot of the current state instead of the missing entries.
pub const LOG_CAP: usize = 64;

/// What one entry of the log reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// An SMS arrived.
    Sms,
    /// The customer completed, cancelled or retried.
    Status,
    /// The lifetime ran out (the activation became expired, or complete if it had a code).
    Expiry,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sms => "sms",
            Kind::Status => "status",
            Kind::Expiry => "expiry",
        }
    }
}

/// One change. `seq` is the object's transition counter after the change (1, 2, …; 0 is
/// the state at purchase). `sms_count` is how many SMS the object held after it, so the
/// state at that moment can be shown again on replay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    pub kind: Kind,
    pub status: String,
    pub sms_count: usize,
    pub at_ms: i64,
}

/// Appends an entry, keeping the newest `LOG_CAP`.
pub fn record(log: &mut Vec<Entry>, entry: Entry) {
    log.push(entry);
    let excess = log.len().saturating_sub(LOG_CAP);
    log.drain(..excess);
}

/// What a (re)connecting client is sent before live events.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay<'a> {
    /// The current state, as one `snapshot` event (a first connection, or a resume from
    /// before what the log still holds, or from a sequence the object never reached).
    Snapshot,
    /// Exactly the entries after the client's last one (possibly none).
    Entries(Vec<&'a Entry>),
}

pub fn replay(log: &[Entry], current_seq: u64, last_seen: Option<u64>) -> Replay<'_> {
    let Some(last) = last_seen else {
        return Replay::Snapshot;
    };
    if last > current_seq {
        return Replay::Snapshot;
    }
    if last == current_seq {
        return Replay::Entries(Vec::new());
    }
    // The log must still hold every entry after `last`.
    match log.first() {
        Some(first) if first.seq <= last + 1 => {
            Replay::Entries(log.iter().filter(|e| e.seq > last).collect())
        }
        _ => Replay::Snapshot,
    }
}

/// A long-poll: the answer once the state is past `since`, else after `wait_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongPoll {
    pub since: u64,
    pub wait_secs: u32,
}

/// `wait` and `since` of a status request (each checked, present or not): a long-poll when
/// `wait` is given.
pub fn parse_long_poll(
    wait: Option<&str>,
    since: Option<&str>,
) -> Result<Option<LongPoll>, String> {
    let wait = parse_wait(wait)?;
    let since = parse_since(since)?;
    Ok(wait.map(|wait_secs| LongPoll { since, wait_secs }))
}

/// `wait` of a long-poll: absent → no waiting; else 1..=55 seconds.
pub fn parse_wait(value: Option<&str>) -> Result<Option<u32>, String> {
    let Some(v) = value else { return Ok(None) };
    match v.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_WAIT_SECS).contains(&n) => Ok(Some(n)),
        _ => Err(format!(
            "wait must be a whole number of seconds from 1 to {MAX_WAIT_SECS}"
        )),
    }
}

/// `since` of a long-poll: the `seq` the client has seen (default 0, the state at purchase).
pub fn parse_since(value: Option<&str>) -> Result<u64, String> {
    match value {
        None => Ok(0),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| "since must be a sequence number (a whole number ≥ 0)".to_owned()),
    }
}

/// `Last-Event-ID`: a sequence number; anything else counts as a first connection.
pub fn parse_last_event_id(value: Option<&str>) -> Option<u64> {
    value.and_then(|v| v.trim().parse::<u64>().ok())
}

/// One Server-Sent Events frame. `data` is JSON (one line); line breaks are split into
/// `data:` lines anyway, as the format requires.
pub fn frame(id: u64, event: &str, data: &str) -> String {
    let mut out = format!("id: {id}\nevent: {event}\n");
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line.trim_end_matches('\r'));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The first bytes of a stream: the reconnection delay.
pub fn preamble() -> String {
    format!("retry: {RETRY_MS}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> Entry {
        Entry {
            seq,
            kind: Kind::Sms,
            status: "received".into(),
            sms_count: seq as usize,
            at_ms: 0,
        }
    }

    #[test]
    fn replay_sends_exactly_what_was_missed() {
        let log: Vec<Entry> = (1..=5).map(entry).collect();
        assert_eq!(replay(&log, 5, None), Replay::Snapshot);
        assert_eq!(replay(&log, 5, Some(5)), Replay::Entries(vec![]));
        let Replay::Entries(after2) = replay(&log, 5, Some(2)) else {
            panic!("entries")
        };
        assert_eq!(
            after2.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        let Replay::Entries(all) = replay(&log, 5, Some(0)) else {
            panic!("entries")
        };
        assert_eq!(all.len(), 5);
        // A sequence the object never reached: start over from a snapshot.
        assert_eq!(replay(&log, 5, Some(9)), Replay::Snapshot);
        // Nothing happened yet: nothing to replay.
        assert_eq!(replay(&[], 0, Some(0)), Replay::Entries(vec![]));
    }

    #[test]
    fn replay_from_before_the_kept_log_is_a_snapshot() {
        let mut log = Vec::new();
        for seq in 1..=(LOG_CAP as u64 + 10) {
            record(&mut log, entry(seq));
        }
        assert_eq!(log.len(), LOG_CAP);
        assert_eq!(log[0].seq, 11);
        assert_eq!(replay(&log, LOG_CAP as u64 + 10, Some(3)), Replay::Snapshot);
        let Replay::Entries(e) = replay(&log, LOG_CAP as u64 + 10, Some(10)) else {
            panic!("entries")
        };
        assert_eq!(e.len(), LOG_CAP);
    }

    #[test]
    fn wait_and_since_are_checked() {
        assert_eq!(parse_wait(None), Ok(None));
        assert_eq!(parse_wait(Some("1")), Ok(Some(1)));
        assert_eq!(parse_wait(Some("55")), Ok(Some(55)));
        for bad in ["0", "56", "-1", "1.5", "", "abc", "600"] {
            assert!(parse_wait(Some(bad)).is_err(), "{bad}");
        }
        assert_eq!(parse_since(None), Ok(0));
        assert_eq!(parse_since(Some("7")), Ok(7));
        assert!(parse_since(Some("-1")).is_err());
        assert!(parse_since(Some("x")).is_err());
        let poll = |wait, since| parse_long_poll(wait, since);
        assert_eq!(poll(None, None), Ok(None));
        let five = LongPoll {
            since: 7,
            wait_secs: 5,
        };
        assert_eq!(poll(Some("5"), Some("7")), Ok(Some(five)));
        assert!(
            poll(None, Some("x")).is_err(),
            "since is checked without wait"
        );
        assert!(poll(Some("0"), None).is_err());
        assert_eq!(parse_last_event_id(Some(" 4 ")), Some(4));
        assert_eq!(parse_last_event_id(Some("nope")), None);
        assert_eq!(parse_last_event_id(None), None);
    }

    #[test]
    fn frames_follow_the_event_stream_format() {
        assert_eq!(
            frame(3, "sms", r#"{"a":1}"#),
            "id: 3\nevent: sms\ndata: {\"a\":1}\n\n"
        );
        assert_eq!(
            frame(1, "status", "x\ny"),
            "id: 1\nevent: status\ndata: x\ndata: y\n\n"
        );
        assert_eq!(preamble(), "retry: 1000\n\n");
    }
}
