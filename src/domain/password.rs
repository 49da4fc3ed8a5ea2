//! Password storage: argon2id (RustCrypto `argon2`) at OWASP's minimum parameters,
//! m = 19 MiB, t = 2, p = 1, 16-byte random salt, stored as a PHC string
//! (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
//!
//! Why not PBKDF2 through Web Crypto: workerd caps PBKDF2 at 100 000 iterations, a sixth of
//! OWASP's 600 000 for PBKDF2-HMAC-SHA256 (BENCHMARKS.md has the measurements). One argon2id
//! hash costs ~55 ms of CPU in wasm, within a paid Worker's CPU limit, and 19 MiB of the
//! isolate's 128 MB (one hash at a time: it never yields).
//!
//! A login for an unknown email verifies the password against [`DUMMY_HASH`] (same
//! parameters), so it costs the same time as a wrong password for a known one.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::fmt;

/// Memory cost in KiB (19 MiB), iterations and lanes: OWASP Password Storage Cheat Sheet.
pub const M_COST_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;
const SALT_BYTES: usize = 16;

/// The argon2id hash of a random password nobody knows, with the current parameters: what an
/// unknown email's login is checked against, so that it costs one full hash too.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
    va4PEWk2LyFVHlkx8EaTng$mt7+7veBLtfDNnwRxLv9J8PmIC8Lybia6HiBuDpwZ1k";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashError {
    RandomUnavailable,
    Argon2(String),
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::RandomUnavailable => {
                f.write_str("the random number generator is unavailable")
            }
            HashError::Argon2(e) => write!(f, "argon2: {e}"),
        }
    }
}

fn hasher() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// A new PHC string for `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt_bytes =
        super::ids::random_bytes::<SALT_BYTES>().map_err(|_| HashError::RandomUnavailable)?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| HashError::Argon2(e.to_string()))?;
    let phc = hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| HashError::Argon2(e.to_string()))?;
    Ok(phc.to_string())
}

/// Whether `password` matches the stored PHC string (compared in constant time by the
/// crate). A malformed or non-argon2id stored string never matches. The stored string's own
/// parameters are used, within bounds: a hash asking for more than 64 MiB or 10 passes is
/// refused rather than run.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    if parsed.algorithm.as_str() != "argon2id" || !affordable(&parsed) {
        return false;
    }
    match hasher() {
        Ok(h) => h.verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Checks a login's password for an account that may not exist: with `None` the password is
/// verified against [`DUMMY_HASH`] (and the answer is `false`), so both cases cost one hash.
pub fn verify_or_dummy(password: &str, stored: Option<&str>) -> bool {
    match stored {
        Some(s) => verify(password, s),
        None => {
            let _ = verify(password, DUMMY_HASH);
            false
        }
    }
}

fn param(parsed: &PasswordHash<'_>, name: &str) -> Option<u32> {
    parsed.params.get_decimal(name)
}

fn affordable(parsed: &PasswordHash<'_>) -> bool {
    let m = param(parsed, "m").unwrap_or(u32::MAX);
    let t = param(parsed, "t").unwrap_or(u32::MAX);
    let p = param(parsed, "p").unwrap_or(u32::MAX);
    m <= 64 * 1024 && t <= 10 && p <= 4
}

/// Whether a stored hash was made with other parameters than today's (then a successful
/// login stores a new hash).
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    parsed.algorithm.as_str() != "argon2id"
        || param(&parsed, "m") != Some(M_COST_KIB)
        || param(&parsed, "t") != Some(T_COST)
        || param(&parsed, "p") != Some(P_COST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse battery staple").unwrap();
        let b = hash("correct horse battery staple").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b);
        assert!(verify("correct horse battery staple", &a));
        assert!(!verify("correct horse battery stapl", &a));
        assert!(!verify("", &a));
        assert!(!needs_rehash(&a));
    }

    #[test]
    fn malformed_or_foreign_hashes_never_match() {
        assert!(!verify("x", ""));
        assert!(!verify("x", "plaintext"));
        assert!(!verify(
            "x",
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
        // Too expensive to run: refused, not computed.
        assert!(!verify(
            "x",
            "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
        ));
        assert!(needs_rehash(
            "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
        ));
        assert!(needs_rehash("nonsense"));
    }

    #[test]
    fn the_dummy_hash_has_todays_parameters_and_matches_nothing_simple() {
        assert!(
            !needs_rehash(DUMMY_HASH),
            "regenerate DUMMY_HASH with the new parameters"
        );
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_or_dummy("password", None));
        assert!(!verify_or_dummy("", None));
    }

    #[test]
    fn verify_or_dummy_checks_real_hashes() {
        let h = hash("a long enough password").unwrap();
        assert!(verify_or_dummy("a long enough password", Some(&h)));
        assert!(!verify_or_dummy("another password", Some(&h)));
    }

    /// One login's hash, natively: `cargo test --release password -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_one_hash() {
        let h = hash("a long enough password").unwrap();
        let n = 10;
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert!(verify("a long enough password", &h));
        }
        let per = start.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
        println!("argon2id m={M_COST_KIB} t={T_COST} p={P_COST}: {per:.1} ms per verify (native)");
    }
}
