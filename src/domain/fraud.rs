//! The fraud guard's rules: an account's policy (its shape, defaults and validation), the
//! prefix of a number, and the decision on one send from the counters an account's guard
//! holds (its Durable Object keeps a `Guard` in memory and applies `Guard::decide` with
//! nothing awaited between reading and changing it).
//!
//! A send is refused, in this order, when: the number's country is not allowed (`geo`); a
//! live block covers its number, prefix or country (the block's reason); its country has
//! reached its hourly cap (`country_cap`); its prefix would pass `max_sends_per_window`
//! (`velocity`). A send that brings its prefix to `min_sends` or more with a conversion
//! (checks approved / sends) below `min_conversion` goes out, and blocks the prefix for the
//! sends after it (`low_conversion`). Numbers on the safe list are never refused nor counted.
use super::phone::is_known_country;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

const HOUR_MS: i64 = 3_600_000;
/// `block_ttl_s` bounds.
pub const MIN_BLOCK_TTL_S: i64 = 300;
pub const MAX_BLOCK_TTL_S: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Refuse what the rules refuse.
    Enforce,
    /// Decide and record, but let every send through (the answer says what was decided).
    Monitor,
    /// No decision, no counting.
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrefixRule {
    pub window_s: i64,
    pub min_sends: i64,
    pub min_conversion: f64,
    pub max_sends_per_window: i64,
}

/// An account's policy (`GET|PUT /v1/fraud/policy`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub mode: Mode,
    /// When set, every other country is refused.
    pub allowed_countries: Option<Vec<String>>,
    pub blocked_countries: Vec<String>,
    pub country_hourly_cap: BTreeMap<String, i64>,
    pub prefix_rule: PrefixRule,
    pub block_ttl_s: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            mode: Mode::Enforce,
            allowed_countries: None,
            blocked_countries: Vec::new(),
            country_hourly_cap: BTreeMap::new(),
            prefix_rule: PrefixRule {
                window_s: 3600,
                min_sends: 20,
                min_conversion: 0.10,
                max_sends_per_window: 200,
            },
            block_ttl_s: 43_200,
        }
    }
}

/// Why a send is refused (the `reason` of an error, a block and an `otp.blocked` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Geo,
    CountryCap,
    LowConversion,
    Velocity,
    Manual,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Geo => "geo",
            Reason::CountryCap => "country_cap",
            Reason::LowConversion => "low_conversion",
            Reason::Velocity => "velocity",
            Reason::Manual => "manual",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Reason::Geo => "Sends to this country are not allowed by the account's fraud policy",
            Reason::CountryCap => "This country's hourly send cap is reached",
            Reason::LowConversion => "Sends to this number range are blocked: too few verify",
            Reason::Velocity => "Sends to this number range are blocked: too many sends",
            Reason::Manual => "Sends to this number are blocked",
        }
    }
}

/// What a send's answer says in monitor mode when the rules would have refused it.
pub fn monitor_note(reason: Reason) -> Value {
    serde_json::json!({"mode": "monitor", "decision": "blocked", "reason": reason.as_str()})
}

/// The prefix of a number: its E.164 form without the last 4 digits.
pub fn prefix(e164: &str) -> &str {
    e164.get(..e164.len().saturating_sub(4)).unwrap_or(e164)
}

fn field_error(field: &str, rule: &str) -> String {
    format!("'{field}' {rule}")
}

fn country_list(field: &str, v: &Value) -> Result<Vec<String>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| field_error(field, "must be an array of country codes"))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(country(field, item.as_str().unwrap_or_default())?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn country(field: &str, v: &str) -> Result<String, String> {
    let upper = v.trim().to_ascii_uppercase();
    if upper.len() == 2 && is_known_country(&upper) {
        Ok(upper)
    } else {
        Err(format!("'{field}': unknown country code '{v}'"))
    }
}

/// A whole number in `min..=max`; JSON has one number type, so `16.0` is the integer 16.
fn int(field: &str, v: &Value, min: i64, max: i64) -> Result<i64, String> {
    let whole = v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15);
    v.as_i64()
        .or(whole.map(|f| f as i64))
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            field_error(
                field,
                &format!("must be a whole number from {min} to {max}"),
            )
        })
}

fn prefix_rule(v: &Value, d: PrefixRule) -> Result<PrefixRule, String> {
    let o = v
        .as_object()
        .ok_or_else(|| field_error("prefix_rule", "must be an object"))?;
    let mut r = d;
    for (k, v) in o {
        match k.as_str() {
            "window_s" => r.window_s = int("prefix_rule.window_s", v, 60, 86_400)?,
            "min_sends" => r.min_sends = int("prefix_rule.min_sends", v, 1, 1_000_000)?,
            "min_conversion" => {
                r.min_conversion =
                    v.as_f64()
                        .filter(|c| (0.0..=1.0).contains(c))
                        .ok_or_else(|| {
                            field_error(
                                "prefix_rule.min_conversion",
                                "must be a number from 0 to 1",
                            )
                        })?
            }
            "max_sends_per_window" => {
                r.max_sends_per_window = int("prefix_rule.max_sends_per_window", v, 1, 10_000_000)?
            }
            other => return Err(format!("'prefix_rule.{other}' is not a policy field")),
        }
    }
    Ok(r)
}

fn caps(v: &Value) -> Result<BTreeMap<String, i64>, String> {
    let o = v
        .as_object()
        .ok_or_else(|| field_error("country_hourly_cap", "must be an object of country: cap"))?;
    let mut out = BTreeMap::new();
    for (k, v) in o {
        let c = country("country_hourly_cap", k)?;
        out.insert(
            c,
            int(&format!("country_hourly_cap.{k}"), v, 0, 10_000_000)?,
        );
    }
    Ok(out)
}

/// A policy from a `PUT` body: the fields given replace the defaults (a field left out takes
/// its default); the error names the field at fault.
pub fn parse_policy(body: &Value) -> Result<Policy, String> {
    let empty = Map::new();
    let o = match body {
        Value::Object(o) => o,
        Value::Null => &empty,
        _ => return Err("the policy must be a JSON object".to_owned()),
    };
    let mut p = Policy::default();
    for (k, v) in o {
        match k.as_str() {
            "mode" => {
                p.mode = super::json::from_tree(v.clone()).map_err(|_| {
                    field_error("mode", "must be one of \"enforce\", \"monitor\", \"off\"")
                })?
            }
            "allowed_countries" if v.is_null() => p.allowed_countries = None,
            "allowed_countries" => p.allowed_countries = Some(country_list(k, v)?),
            "blocked_countries" => p.blocked_countries = country_list(k, v)?,
            "country_hourly_cap" => p.country_hourly_cap = caps(v)?,
            "prefix_rule" => p.prefix_rule = prefix_rule(v, p.prefix_rule)?,
            "block_ttl_s" => p.block_ttl_s = int(k, v, MIN_BLOCK_TTL_S, MAX_BLOCK_TTL_S)?,
            other => return Err(format!("'{other}' is not a policy field")),
        }
    }
    Ok(p)
}

/// One counting window: sends and checks approved since `start_ms`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub start_ms: i64,
    pub sends: i64,
    pub conversions: i64,
}

impl Window {
    /// This window, or a fresh one starting at `start_ms` when it is over.
    fn at(self, start_ms: i64, len_ms: i64, now_ms: i64) -> Window {
        if now_ms - self.start_ms >= len_ms || now_ms < self.start_ms {
            Window {
                start_ms,
                ..Window::default()
            }
        } else {
            self
        }
    }

    fn low_conversion(&self, r: &PrefixRule) -> bool {
        // conversions / sends < min_conversion, without dividing.
        self.sends >= r.min_sends
            && (self.conversions as f64) < r.min_conversion * self.sends as f64
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Country,
    Prefix,
    Phone,
}

/// How long a block made by hand lasts: until lifted, in practice (100 years).
pub const MANUAL_BLOCK_MS: i64 = 100 * 365 * 24 * 60 * 60 * 1000;

/// A live block (`GET /v1/fraud/blocks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub id: String,
    pub scope: Scope,
    pub value: String,
    pub reason: Reason,
    pub sends: i64,
    pub conversions: i64,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A safe-listed number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Safe {
    pub sid: String,
    pub created_at: i64,
}

/// One send to judge.
pub struct Send<'a> {
    pub phone: &'a str,
    pub country: Option<&'a str>,
    pub now_ms: i64,
    /// The id a block made by this send takes.
    pub block_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Refuse(Reason),
    /// Monitor mode: the rules would refuse it, and it goes out.
    Flag(Reason),
}

/// A decision and what changed, for the object to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub prefix: Option<(String, Window)>,
    pub country: Option<(String, Window)>,
    pub block: Option<Block>,
    /// Blocks found expired (to delete from storage).
    pub expired: Vec<String>,
}

/// An account's counters, blocks and safe list.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    pub prefixes: HashMap<String, Window>,
    pub countries: HashMap<String, Window>,
    pub blocks: BTreeMap<String, Block>,
    pub safe: BTreeMap<String, Safe>,
}

impl Guard {
    /// Decides one send and counts it (unless refused).
    pub fn decide(&mut self, policy: &Policy, s: Send<'_>) -> Decision {
        let mut d = Decision {
            verdict: Verdict::Allow,
            prefix: None,
            country: None,
            block: None,
            expired: Vec::new(),
        };
        if policy.mode == Mode::Off || self.safe.contains_key(s.phone) {
            return d;
        }
        d.expired = self.drop_expired(s.now_ms);
        let refuse = match self.rule(policy, &s) {
            Ok(()) => None,
            Err((reason, block)) => {
                d.block = block;
                Some(reason)
            }
        };
        if let Some(b) = &d.block {
            self.blocks.insert(b.id.clone(), b.clone());
        }
        match (refuse, policy.mode) {
            (Some(reason), Mode::Enforce) => d.verdict = Verdict::Refuse(reason),
            (flag, _) => {
                d.verdict = flag.map_or(Verdict::Allow, Verdict::Flag);
                self.count(policy, &s, &mut d);
            }
        }
        d
    }

    /// The refusal a send meets before it is counted, with the block it makes.
    fn rule(&self, policy: &Policy, s: &Send<'_>) -> Result<(), (Reason, Option<Block>)> {
        let allowed = policy.allowed_countries.as_ref();
        let geo = match s.country {
            Some(c) => {
                allowed.is_some_and(|a| !a.iter().any(|x| x == c))
                    || policy.blocked_countries.iter().any(|x| x == c)
            }
            None => allowed.is_some(),
        };
        if geo {
            return Err((Reason::Geo, None));
        }
        let pfx = prefix(s.phone);
        let covers = |b: &&Block| match b.scope {
            Scope::Phone => b.value == s.phone,
            Scope::Prefix => b.value == pfx,
            Scope::Country => Some(b.value.as_str()) == s.country,
        };
        if let Some(b) = self.blocks.values().find(covers) {
            return Err((b.reason, None));
        }
        let block = |scope, value: &str, reason, w: Window, expires_at| Block {
            id: s.block_id.clone(),
            scope,
            value: value.to_owned(),
            reason,
            sends: w.sends,
            conversions: w.conversions,
            created_at: s.now_ms,
            expires_at,
        };
        if let Some(c) = s.country {
            let w = self.country_window(c, s.now_ms);
            if policy
                .country_hourly_cap
                .get(c)
                .is_some_and(|cap| w.sends >= *cap)
            {
                let b = block(
                    Scope::Country,
                    c,
                    Reason::CountryCap,
                    w,
                    w.start_ms + HOUR_MS,
                );
                return Err((Reason::CountryCap, Some(b)));
            }
        }
        let r = &policy.prefix_rule;
        let w = self.prefix_window(pfx, r, s.now_ms);
        if w.sends + 1 > r.max_sends_per_window {
            let expires = s.now_ms + policy.block_ttl_s * 1000;
            return Err((
                Reason::Velocity,
                Some(block(Scope::Prefix, pfx, Reason::Velocity, w, expires)),
            ));
        }
        Ok(())
    }

    /// Counts an allowed (or flagged) send; the send that trips the conversion rule blocks
    /// its prefix for the next ones.
    fn count(&mut self, policy: &Policy, s: &Send<'_>, d: &mut Decision) {
        let r = &policy.prefix_rule;
        let pfx = prefix(s.phone);
        let mut w = self.prefix_window(pfx, r, s.now_ms);
        w.sends += 1;
        self.prefixes.insert(pfx.to_owned(), w);
        d.prefix = Some((pfx.to_owned(), w));
        if let Some(c) = s.country {
            let mut cw = self.country_window(c, s.now_ms);
            cw.sends += 1;
            self.countries.insert(c.to_owned(), cw);
            d.country = Some((c.to_owned(), cw));
        }
        let blocked = self
            .blocks
            .values()
            .any(|b| b.scope == Scope::Prefix && b.value == pfx);
        if d.block.is_none() && !blocked && w.low_conversion(r) {
            let b = Block {
                id: s.block_id.clone(),
                scope: Scope::Prefix,
                value: pfx.to_owned(),
                reason: Reason::LowConversion,
                sends: w.sends,
                conversions: w.conversions,
                created_at: s.now_ms,
                expires_at: s.now_ms + policy.block_ttl_s * 1000,
            };
            self.blocks.insert(b.id.clone(), b.clone());
            d.block = Some(b);
        }
    }

    fn prefix_window(&self, pfx: &str, r: &PrefixRule, now_ms: i64) -> Window {
        let w = self.prefixes.get(pfx).copied().unwrap_or_default();
        w.at(now_ms, r.window_s * 1000, now_ms)
    }

    fn country_window(&self, c: &str, now_ms: i64) -> Window {
        let w = self.countries.get(c).copied().unwrap_or_default();
        w.at(now_ms - now_ms.rem_euclid(HOUR_MS), HOUR_MS, now_ms)
    }

    /// A check of a code sent to `phone` was approved: counted for its prefix's window.
    pub fn converted(&mut self, policy: &Policy, phone: &str, now_ms: i64) -> (String, Window) {
        let pfx = prefix(phone);
        let mut w = self.prefix_window(pfx, &policy.prefix_rule, now_ms);
        w.conversions += 1;
        self.prefixes.insert(pfx.to_owned(), w);
        (pfx.to_owned(), w)
    }

    /// Lifts a block; its prefix or country starts counting afresh (else the next send
    /// would block it again). The reset window is returned to store.
    pub fn lift(&mut self, id: &str, now_ms: i64) -> Option<(Block, Option<(String, Window)>)> {
        let b = self.blocks.remove(id)?;
        let fresh = Window {
            start_ms: now_ms,
            ..Window::default()
        };
        let reset = match b.scope {
            Scope::Prefix => {
                self.prefixes.insert(b.value.clone(), fresh);
                Some((b.value.clone(), fresh))
            }
            Scope::Country | Scope::Phone => None,
        };
        Some((b, reset))
    }

    /// Blocks `phone` by hand until lifted (a manual block of it that exists is kept).
    pub fn block_phone(&mut self, phone: &str, id: String, now_ms: i64) -> Block {
        let manual = |b: &&Block| b.scope == Scope::Phone && b.value == phone;
        if let Some(b) = self.blocks.values().find(manual) {
            return b.clone();
        }
        let block = Block {
            id: id.clone(),
            scope: Scope::Phone,
            value: phone.to_owned(),
            reason: Reason::Manual,
            sends: 0,
            conversions: 0,
            created_at: now_ms,
            expires_at: now_ms.saturating_add(MANUAL_BLOCK_MS),
        };
        self.blocks.insert(id, block.clone());
        block
    }

    /// Removes the blocks that ended; their ids.
    pub fn drop_expired(&mut self, now_ms: i64) -> Vec<String> {
        let ended: Vec<String> = (self.blocks.values())
            .filter(|b| b.expires_at <= now_ms)
            .map(|b| b.id.clone())
            .collect();
        for id in &ended {
            self.blocks.remove(id);
        }
        ended
    }

    /// Live blocks in id order (ids sort by creation), after `cursor`, at most `limit`.
    pub fn page(&self, cursor: Option<&str>, limit: usize) -> (Vec<Block>, Option<String>) {
        let after = |b: &&Block| cursor.is_none_or(|c| b.id.as_str() > c);
        let mut items: Vec<Block> = self
            .blocks
            .values()
            .filter(after)
            .take(limit + 1)
            .cloned()
            .collect();
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items.last().map(|b| b.id.clone())
        });
        (items, next.flatten())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000;

    fn send(g: &mut Guard, p: &Policy, phone: &str, n: usize) -> Verdict {
        let s = Send {
            phone,
            country: Some("US"),
            now_ms: NOW,
            block_id: format!("blk_{n:04}"),
        };
        g.decide(p, s).verdict
    }

    #[test]
    fn prefix_drops_the_last_four_digits() {
        assert_eq!(prefix("+14155550123"), "+1415555");
        assert_eq!(prefix("+123"), "");
    }

    #[test]
    fn a_policy_takes_defaults_and_names_the_bad_field() {
        let p = parse_policy(&json!({"mode": "monitor", "allowed_countries": ["us", "GB"]}));
        let p = p.unwrap_or_default();
        assert_eq!(p.mode, Mode::Monitor);
        assert_eq!(
            p.allowed_countries,
            Some(vec!["GB".to_owned(), "US".to_owned()])
        );
        assert_eq!(p.prefix_rule, Policy::default().prefix_rule);
        let bad = |body: Value, field: &str| {
            let e = parse_policy(&body).err().unwrap_or_default();
            assert!(e.contains(field), "{e}");
        };
        bad(json!({"blocked_countries": ["ZZ"]}), "blocked_countries");
        bad(
            json!({"prefix_rule": {"min_conversion": 1.5}}),
            "prefix_rule.min_conversion",
        );
        bad(json!({"block_ttl_s": 10}), "block_ttl_s");
        bad(json!({"block_ttl_s": 90000}), "block_ttl_s");
        bad(json!({"mode": "loud"}), "mode");
        bad(
            json!({"country_hourly_cap": {"NG": -1}}),
            "country_hourly_cap.NG",
        );
        bad(json!({"colour": 1}), "colour");
        let caps = parse_policy(&json!({"country_hourly_cap": {"MV": 16.0}}));
        assert_eq!(
            caps.map(|p| p.country_hourly_cap.get("MV").copied()),
            Ok(Some(16))
        );
        bad(
            json!({"country_hourly_cap": {"MV": 1.5}}),
            "country_hourly_cap.MV",
        );
    }

    #[test]
    fn a_prefix_without_checks_is_blocked_after_min_sends() {
        let p = Policy::default();
        let mut g = Guard::default();
        for n in 0..20 {
            let phone = format!("+1415555{n:04}");
            assert_eq!(send(&mut g, &p, &phone, n), Verdict::Allow, "send {n}");
        }
        let v = send(&mut g, &p, "+14155550020", 20);
        assert_eq!(v, Verdict::Refuse(Reason::LowConversion));
        // Another prefix is untouched; a lift lets the prefix start again.
        assert_eq!(send(&mut g, &p, "+14155560000", 21), Verdict::Allow);
        let (b, reset) = g
            .lift("blk_0019", NOW)
            .unwrap_or_else(|| panic!("no block"));
        assert_eq!(
            (b.sends, b.conversions, b.reason),
            (20, 0, Reason::LowConversion)
        );
        assert_eq!(reset.map(|r| r.1.sends), Some(0));
        assert_eq!(send(&mut g, &p, "+14155550021", 22), Verdict::Allow);
    }

    #[test]
    fn conversions_keep_a_prefix_open() {
        let p = Policy::default();
        let mut g = Guard::default();
        for n in 0..40 {
            let phone = format!("+1415555{n:04}");
            assert_eq!(send(&mut g, &p, &phone, n), Verdict::Allow, "send {n}");
            if n % 2 == 0 {
                g.converted(&p, &phone, NOW);
            }
        }
    }

    #[test]
    fn velocity_geo_caps_monitor_and_the_safe_list() {
        let mut p = Policy::default();
        p.prefix_rule.max_sends_per_window = 3;
        p.prefix_rule.min_sends = 1000;
        let mut g = Guard::default();
        for n in 0..3 {
            assert_eq!(send(&mut g, &p, "+14155550001", n), Verdict::Allow);
        }
        assert_eq!(
            send(&mut g, &p, "+14155550001", 3),
            Verdict::Refuse(Reason::Velocity)
        );
        let safe = Safe {
            sid: "GN1".to_owned(),
            created_at: NOW,
        };
        g.safe.insert("+14155550001".to_owned(), safe);
        assert_eq!(send(&mut g, &p, "+14155550001", 4), Verdict::Allow);
        p.blocked_countries = vec!["US".to_owned()];
        assert_eq!(
            send(&mut g, &p, "+14155560001", 5),
            Verdict::Refuse(Reason::Geo)
        );
        p.blocked_countries.clear();
        p.country_hourly_cap.insert("US".to_owned(), 1);
        let mut g = Guard::default();
        assert_eq!(send(&mut g, &p, "+14155560001", 6), Verdict::Allow);
        assert_eq!(
            send(&mut g, &p, "+14155570001", 7),
            Verdict::Refuse(Reason::CountryCap)
        );
        p.mode = Mode::Monitor;
        assert_eq!(
            send(&mut g, &p, "+14155580001", 8),
            Verdict::Flag(Reason::CountryCap)
        );
        p.mode = Mode::Off;
        assert_eq!(send(&mut g, &p, "+14155580001", 9), Verdict::Allow);
    }

    #[test]
    fn blocks_page_by_cursor_and_expire() {
        let mut p = Policy::default();
        p.prefix_rule.max_sends_per_window = 1;
        let mut g = Guard::default();
        for n in 0..3 {
            let phone = format!("+1415{n}550001");
            send(&mut g, &p, &phone, 2 * n);
            send(&mut g, &p, &phone, 2 * n + 1);
        }
        let (first, next) = g.page(None, 2);
        assert_eq!(first.len(), 2);
        let (rest, end) = g.page(next.as_deref(), 2);
        assert_eq!((rest.len(), end), (1, None));
        assert_eq!(g.drop_expired(NOW + p.block_ttl_s * 1000).len(), 3);
    }
}
