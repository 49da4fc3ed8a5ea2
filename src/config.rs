//! Deployment settings from `wrangler.toml` `[vars]` and secrets, read once per isolate.
use crate::http::error::ApiError;
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

    // --- OTP and messages ---

    // --- webhooks ---
    pub webhook_allow_local_http: bool,
    pub webhook_max_attempts: u32,
    pub webhook_retry_base_ms: i64,
    pub webhook_retry_max_ms: i64,
    pub webhook_timeout_ms: i64,
}

thread_local! {
    static CONFIG: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

/// A `[vars]` value, or `None` when it is unset or empty.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty())
}

/// A secret (or var) that must be set; its absence is the operator's error, logged, not shown.
pub fn secret(env: &Env, name: &str) -> Result<String, ApiError> {
    env.secret(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::internal(format!("secret {name} is not set")))
}

fn number(env: &Env, name: &str, default: u32) -> u32 {
    var(env, name).and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

impl Config {
    fn load(env: &Env) -> Config {
        Config {
            rate_limit_public: number(env, "RATE_LIMIT_PUBLIC", 100),
            rate_limit_product: number(env, "RATE_LIMIT_PRODUCT", 120),
            rate_limit_auth: number(env, "RATE_LIMIT_AUTH", 20),
            rate_limit_admin: number(env, "RATE_LIMIT_ADMIN", 1000),
            currency: var(env, "CURRENCY").unwrap_or_else(|| "USD".to_owned()),
            // --- activations ---

            // --- OTP and messages ---

            // --- webhooks ---
            webhook_allow_local_http: var(env, "WEBHOOK_ALLOW_LOCAL_HTTP").is_some_and(|v| v == "true"),
            webhook_max_attempts: number(env, "WEBHOOK_MAX_ATTEMPTS", 8).max(1),
            webhook_retry_base_ms: i64::from(number(env, "WEBHOOK_RETRY_BASE_MS", 5_000)),
            webhook_retry_max_ms: i64::from(number(env, "WEBHOOK_RETRY_MAX_MS", 3_600_000)),
            webhook_timeout_ms: i64::from(number(env, "WEBHOOK_TIMEOUT_MS", 10_000)),
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
