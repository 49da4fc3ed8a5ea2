//! Deployment settings from `wrangler.toml` `[vars]` and secrets, read once per isolate.
use crate::domain::account::SignupApproval;
use crate::domain::error::AppError;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

#[derive(Debug, Clone)]
pub struct Config {
    pub rate_limit_public: u32,
    pub rate_limit_product: u32,
    pub rate_limit_auth: u32,
    pub rate_limit_admin: u32,
    pub currency: String,
    // --- activations ---
    /// Lifetime of an activation (default 20 minutes).
    pub activation_lifetime_ms: i64,
    /// Early-cancel lock: no cancel before this much of an activation has passed (default 2
    /// minutes).
    pub activation_cancel_lock_ms: i64,
    /// How long an isolate reuses a public price list ("source":"cache"); 0 disables.
    pub prices_cache_ms: i64,

    // --- OTP and messages ---
    /// Channels this deployment delivers on (`OTP_CHANNELS`, comma-separated).
    pub otp_channels: Vec<String>,
    /// Default session lifetime (`OTP_TTL_SECS`), capped at `OTP_MAX_TTL_SECS`.
    pub otp_ttl_secs: u32,
    pub otp_max_ttl_secs: u32,
    pub otp_resend_interval_secs: u32,
    pub otp_max_sends_per_window: u32,
    pub otp_send_window_secs: u32,
    /// The wait before each of a Prelude verification's automatic fallbacks
    /// (`PRELUDE_FALLBACK_TIMEOUT_SECS`, 15 to 900).
    pub prelude_fallback_timeout_secs: u32,
    /// Outbound delivery provider (`OTP_PROVIDER`): `sandbox` (the default), and the
    /// channels that override it (`OTP_PROVIDER_SMS` / `_WHATSAPP` / `_VOICE`).
    pub otp_provider: String,
    pub otp_provider_by_channel: Vec<(&'static str, String)>,
    /// Per provider request: deadline, and attempts when it times out or answers 429/5xx.
    pub provider_timeout_ms: i64,
    pub provider_max_attempts: u32,

    // --- webhooks ---
    pub webhook_allow_local_http: bool,
    pub webhook_max_attempts: u32,
    pub webhook_retry_base_ms: i64,
    pub webhook_retry_max_ms: i64,
    pub webhook_timeout_ms: i64,

    // --- customer accounts (README "Accounts and keys") ---
    /// `SIGNUP_APPROVAL`: `auto` (default) or `manual`; any other value reads as `manual`.
    pub signup_approval: SignupApproval,
    /// Login sessions: idle and absolute lifetimes.
    pub session_idle_ms: i64,
    pub session_max_ms: i64,
    /// Failed-login throttle: attempts per email / per IP per window, and the lock.
    pub login_max_failures: u32,
    pub login_max_failures_per_ip: u32,
    pub login_lock_ms: i64,
    /// `RETENTION_DAYS`: the sandbox outbox, ended OTP sessions and their workflow steps and
    /// Vonage requests are deleted this long after they were written or ended (default 30
    /// days); "0" keeps them (None).
    pub retention_ms: Option<i64>,
    /// `TEST_FAULTS` = "1": requests may inject failures (`app::Fault`); tests only.
    pub test_faults: bool,
    /// `PUBLIC_ORIGIN`: the origin of the absolute URLs in answers (Twilio's `url` fields);
    /// unset, the request's own origin (local development).
    pub public_origin: Option<String>,
}

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

/// A `[vars]` value, or `None` when it is unset or empty.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A secret (or var) that must be set; its absence is the operator's error, logged, not shown.
pub fn secret(env: &Env, name: &str) -> Result<String, AppError> {
    env.secret(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AppError::internal(format!("secret {name} is not set")))
}

/// The deployment's key for secrets that are derived rather than stored (supplier and
/// webhook signing secrets; see `domain::crypto::derived_key`).
pub fn server_key(env: &Env) -> Result<String, AppError> {
    secret(env, "SERVER_KEY")
}

/// A whole-number var; a value that is not one is the operator's error: the default is used
/// and the var named in the log (once: vars are read once per isolate, see `Config::get`).
fn number(env: &Env, name: &str, default: u32) -> u32 {
    let Some(v) = var(env, name) else {
        return default;
    };
    v.trim().parse().unwrap_or_else(|_| {
        ignored(name, &v, &default.to_string());
        default
    })
}

/// Logs that a var's value was not understood and what is used instead.
fn ignored(name: &str, value: &str, used: &str) {
    worker::console_error!("config: {name}={value:?} is not a valid value; using {used} instead");
}

/// `PUBLIC_ORIGIN`: `http(s)://host[:port]`, the address clients reach this deployment at
/// (the origin of the absolute URLs in answers; never taken from a request's Host header).
fn public_origin(env: &Env) -> Option<String> {
    let v = var(env, "PUBLIC_ORIGIN")?;
    let origin = v.trim().trim_end_matches('/');
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or_default();
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        ignored("PUBLIC_ORIGIN", &v, "the request's origin");
        return None;
    }
    Some(origin.to_owned())
}

/// A `true` / `false` var (unset is `false`).
fn flag(env: &Env, name: &str) -> bool {
    match var(env, name).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            ignored(name, other, "false");
            false
        }
    }
}

impl Config {
    fn load(env: &Env) -> Config {
        let otp_max_ttl_secs = number(env, "OTP_MAX_TTL_SECS", 600).clamp(1, 600);
        Config {
            public_origin: public_origin(env),
            rate_limit_public: number(env, "RATE_LIMIT_PUBLIC", 100),
            rate_limit_product: number(env, "RATE_LIMIT_PRODUCT", 120),
            rate_limit_auth: number(env, "RATE_LIMIT_AUTH", 20),
            rate_limit_admin: number(env, "RATE_LIMIT_ADMIN", 1000),
            currency: var(env, "CURRENCY").unwrap_or_else(|| "USD".to_owned()),
            // --- activations ---
            activation_lifetime_ms: i64::from(number(env, "ACTIVATION_LIFETIME_SECS", 1200)) * 1000,
            activation_cancel_lock_ms: i64::from(number(env, "ACTIVATION_CANCEL_LOCK_SECS", 120))
                * 1000,
            prices_cache_ms: i64::from(number(env, "PRICES_CACHE_SECS", 10)) * 1000,

            // --- OTP and messages ---
            otp_channels: var(env, "OTP_CHANNELS")
                .unwrap_or_else(|| crate::domain::otp::CHANNELS.join(","))
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty())
                .collect(),
            otp_max_ttl_secs,
            otp_ttl_secs: number(env, "OTP_TTL_SECS", 300).clamp(1, otp_max_ttl_secs),
            otp_resend_interval_secs: number(env, "OTP_RESEND_INTERVAL_SECS", 30),
            otp_max_sends_per_window: number(env, "OTP_MAX_SENDS_PER_WINDOW", 5),
            otp_send_window_secs: number(env, "OTP_SEND_WINDOW_SECS", 600),
            prelude_fallback_timeout_secs: number(env, "PRELUDE_FALLBACK_TIMEOUT_SECS", 60)
                .clamp(15, 900),
            otp_provider: var(env, "OTP_PROVIDER").unwrap_or_else(|| "sandbox".to_owned()),
            otp_provider_by_channel: crate::domain::otp::CHANNELS
                .iter()
                .filter_map(|c| {
                    let name = format!("OTP_PROVIDER_{}", c.to_ascii_uppercase());
                    Some((*c, var(env, &name)?))
                })
                .collect(),
            provider_timeout_ms: i64::from(number(env, "PROVIDER_TIMEOUT_MS", 10_000)),
            provider_max_attempts: number(env, "PROVIDER_MAX_ATTEMPTS", 3).clamp(1, 10),

            // --- webhooks ---
            webhook_allow_local_http: flag(env, "WEBHOOK_ALLOW_LOCAL_HTTP"),
            webhook_max_attempts: number(env, "WEBHOOK_MAX_ATTEMPTS", 8).max(1),
            webhook_retry_base_ms: i64::from(number(env, "WEBHOOK_RETRY_BASE_MS", 5_000)),
            webhook_retry_max_ms: i64::from(number(env, "WEBHOOK_RETRY_MAX_MS", 3_600_000)),
            webhook_timeout_ms: i64::from(number(env, "WEBHOOK_TIMEOUT_MS", 10_000)),

            // --- customer accounts ---
            signup_approval: var(env, "SIGNUP_APPROVAL").map_or(SignupApproval::Auto, |v| {
                SignupApproval::parse(&v).unwrap_or_else(|| {
                    ignored("SIGNUP_APPROVAL", &v, "manual");
                    SignupApproval::Manual
                })
            }),
            session_idle_ms: i64::from(number(env, "SESSION_IDLE_SECS", 28_800).max(1)) * 1000,
            session_max_ms: i64::from(number(env, "SESSION_MAX_SECS", 604_800).max(1)) * 1000,
            login_max_failures: number(env, "LOGIN_MAX_FAILURES", 10).max(1),
            login_max_failures_per_ip: number(env, "LOGIN_MAX_FAILURES_PER_IP", 50).max(1),
            login_lock_ms: i64::from(number(env, "LOGIN_LOCK_SECS", 900).max(1)) * 1000,
            retention_ms: match number(env, "RETENTION_DAYS", 30) {
                0 => None,
                days => Some(i64::from(days) * 86_400_000),
            },
            test_faults: var(env, "TEST_FAULTS").as_deref() == Some("1"),
        }
    }

    /// Vars cannot change while an isolate lives, so they are parsed once.
    pub fn get(env: &Env) -> Rc<Config> {
        CONFIG.with(|cell| {
            let mut slot = cell.borrow_mut();
            match slot.as_ref() {
                Some(c) => Rc::clone(c),
                None => {
                    let c = Rc::new(Config::load(env));
                    *slot = Some(Rc::clone(&c));
                    c
                }
            }
        })
    }
}

impl Config {
    /// The delivery provider's name for a channel.
    pub fn provider_for(&self, channel: &str) -> &str {
        let own = self
            .otp_provider_by_channel
            .iter()
            .find(|(c, _)| *c == channel);
        own.map_or(&self.otp_provider, |(_, name)| name)
    }
}
