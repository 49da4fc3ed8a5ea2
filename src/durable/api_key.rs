//! One Durable Object per API key (`id_from_name(key hash)`): whether the key is live and
//! whose it is, answered near the caller, for the routes that decide without D1 (OTP checks).
//! The object learns the key from D1 on first use and keeps it in its storage. Revoking a key
//! tells its object before the revocation is answered (`revoke`), so a revoked key stops
//! working at once; a revocation is final (a late D1 answer never brings the key back). As a
//! backstop for changes that reach D1 by another path (an account deactivated), an answer
//! older than `REVALIDATE_MS` is refreshed from D1 after it is given. The object also keeps the
//! key's scopes, which every request by the key is checked against; a change of scopes tells
//! the object before it is answered (`refresh`), so it holds from the next request on.
use crate::clock::now_ms;
use crate::domain::error::AppError;
use crate::store::accounts;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;
use worker::{console_error, durable_object, DurableObject, Env, Request, Response, Result, State};

/// The binding (wrangler.toml `[durable_objects]`).
pub const BINDING: &str = "API_KEY";
const STATE_KEY: &str = "key";
/// How old a known answer may be before it is refreshed from D1 (after being given).
const REVALIDATE_MS: i64 = 60_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Known {
    /// The key's account while the key is live; `None` once it is not.
    account_id: Option<String>,
    /// Revoked keys stay revoked.
    revoked: bool,
    /// The account may move money (`SIGNUP_APPROVAL`); an approval is final, so only a
    /// pending account's answer is re-read from D1 on every call.
    #[serde(default)]
    approved: bool,
    /// The key's scopes as stored (`domain::scope`; `None`: every scope).
    #[serde(default)]
    scopes: Option<String>,
    checked_at: i64,
}

/// What the Worker asks of the object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The key's account if it is live.
    Resolve { key_hash: String },
    /// The key was revoked in D1.
    Revoke,
    /// The key was changed in D1 (its scopes): read it again now.
    Refresh { key_hash: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub account_id: Option<String>,
    /// Whether the account may move money (meaningful with an `account_id`).
    #[serde(default)]
    pub approved: bool,
    /// The key's scopes (`None`: every scope).
    #[serde(default)]
    pub scopes: Option<String>,
}

/// What D1 says of a key now (`None`: not live).
fn known_from(principal: Option<accounts::Principal>) -> Known {
    Known {
        approved: principal.as_ref().is_some_and(|p| p.approved == 1),
        scopes: principal.as_ref().and_then(|p| p.scopes.clone()),
        account_id: principal.map(|p| p.account_id),
        revoked: false,
        checked_at: now_ms(),
    }
}

impl Known {
    fn answer(&self) -> Answer {
        Answer {
            account_id: self.account_id.clone().filter(|_| !self.revoked),
            approved: self.approved,
            scopes: self.scopes.clone(),
        }
    }
}

#[cfg_attr(feature = "front", durable_object)]
pub struct ApiKey {
    state: State,
    env: Env,
    cache: Rc<RefCell<Option<Known>>>,
}

impl ApiKey {
    async fn known(&self) -> Result<Option<Known>> {
        if let Some(k) = self.cache.borrow().as_ref() {
            return Ok(Some(k.clone()));
        }
        let stored = self.state.storage().get::<Known>(STATE_KEY).await?;
        let mut cache = self.cache.borrow_mut();
        if cache.is_none() {
            cache.clone_from(&stored);
        }
        Ok(cache.clone())
    }

    /// Reads the key from D1 and records the answer, unless a revocation arrived meanwhile.
    async fn refresh(&self, key_hash: &str) -> std::result::Result<Known, AppError> {
        let db = crate::store::db(&self.env)?;
        let principal = accounts::find_by_key_hash(&db, key_hash).await?;
        let fresh = known_from(principal);
        if let Some(current) = self.cache.borrow().as_ref() {
            if current.revoked {
                return Ok(current.clone());
            }
        }
        // Unknown keys are not stored: anyone can present one.
        if fresh.account_id.is_some() || self.cache.borrow().is_some() {
            *self.cache.borrow_mut() = Some(fresh.clone());
            self.state
                .storage()
                .put(STATE_KEY, &fresh)
                .await
                .map_err(|e| AppError::internal(format!("key object storage: {e}")))?;
        }
        Ok(fresh)
    }

    async fn resolve(&self, key_hash: &str) -> std::result::Result<Answer, AppError> {
        let known = self
            .known()
            .await
            .map_err(|e| AppError::internal(format!("key object storage: {e}")))?;
        // Unknown here, or a live key of an account still awaiting approval: ask D1 now.
        let Some(known) = known.filter(|k| k.revoked || k.account_id.is_none() || k.approved)
        else {
            let fresh = self.refresh(key_hash).await?;
            return Ok(fresh.answer());
        };
        if !known.revoked && now_ms() - known.checked_at > REVALIDATE_MS {
            // Answer now; D1 refreshes the answer for the next requests.
            *self.cache.borrow_mut() = Some(Known {
                checked_at: now_ms(),
                ..known.clone()
            });
            let key_hash = key_hash.to_owned();
            let env = self.env.clone();
            let cache = Rc::clone(&self.cache);
            let storage = self.state.storage();
            self.state.wait_until(async move {
                let refreshed = match crate::store::db(&env) {
                    Ok(db) => accounts::find_by_key_hash(&db, &key_hash).await,
                    Err(e) => Err(e),
                };
                let principal = match refreshed {
                    Ok(p) => p,
                    Err(e) => return console_error!("key refresh: {e}"),
                };
                let fresh = known_from(principal);
                if cache.borrow().as_ref().is_some_and(|k| k.revoked) {
                    return;
                }
                *cache.borrow_mut() = Some(fresh.clone());
                if let Err(e) = storage.put(STATE_KEY, &fresh).await {
                    console_error!("key object storage: {e}");
                }
            });
        }
        Ok(known.answer())
    }

    async fn revoke(&self) -> Result<()> {
        let revoked = Known {
            account_id: None,
            revoked: true,
            approved: false,
            scopes: None,
            checked_at: now_ms(),
        };
        *self.cache.borrow_mut() = Some(revoked.clone());
        self.state.storage().put(STATE_KEY, &revoked).await
    }
}

#[cfg(feature = "front")]
impl DurableObject for ApiKey {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            cache: Rc::new(RefCell::new(None)),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        super::command::serve(req, async |op: Op| match op {
            Op::Resolve { key_hash } => match self.resolve(&key_hash).await {
                Ok(answer) => Response::from_json(&answer),
                Err(e) => Response::error(e.internal.unwrap_or(e.message), 500),
            },
            Op::Refresh { key_hash } => match self.refresh(&key_hash).await {
                Ok(known) => Response::from_json(&known.answer()),
                Err(e) => Response::error(e.internal.unwrap_or(e.message), 500),
            },
            Op::Revoke => {
                self.revoke().await?;
                Response::from_json(&Answer {
                    account_id: None,
                    approved: false,
                    scopes: None,
                })
            }
        })
        .await
    }
}

async fn call(env: &Env, key_hash: &str, op: &Op) -> std::result::Result<Answer, AppError> {
    super::command::send(env, BINDING, "api key object", key_hash, op).await
}

/// The account of a live key (and whether it may move money), asked of the key's object
/// (no D1 round trip once it knows).
pub async fn account(env: &Env, key_hash: &str) -> std::result::Result<Answer, AppError> {
    call(
        env,
        key_hash,
        &Op::Resolve {
            key_hash: key_hash.to_owned(),
        },
    )
    .await
}

/// Tells the key's object that the key changed in D1 (before the change is answered), so
/// the next request anywhere sees it.
pub async fn refresh(env: &Env, key_hash: &str) -> std::result::Result<(), AppError> {
    let op = Op::Refresh {
        key_hash: key_hash.to_owned(),
    };
    call(env, key_hash, &op).await.map(|_| ())
}

/// Tells the key's object that the key was revoked (before the revocation is answered).
pub async fn revoke(env: &Env, key_hash: &str) -> std::result::Result<(), AppError> {
    call(env, key_hash, &Op::Revoke).await.map(|_| ())
}
