//! The JWTs Vonage's SDKs send (`Authorization: Bearer`): RS256, signed by the private key of
//! an application whose public key the customer registered with us. Pure: the token's
//! parts, the claim rules (expiry, issue time, the application and the `jti` that the
//! replay check records) and the public key's PEM. The signature itself is checked with
//! WebCrypto (`app::vonage`).
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::Deserialize;

/// How far in the future an `iat` may be (clock skew between the caller and us), seconds.
pub const SKEW_S: i64 = 60;
/// The longest a token may live (`exp - iat`), seconds.
pub const MAX_LIFETIME_S: i64 = 86_400;
/// The longest `jti` recorded.
pub const MAX_JTI: usize = 255;

/// Why a token is refused (every reason answers 401; the detail says which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    Algorithm,
    MissingClaim(&'static str),
    Expired,
    NotYetValid,
    TooLong,
    BadSignature,
    Replayed,
    UnknownApplication,
}

impl JwtError {
    pub fn message(self) -> String {
        match self {
            JwtError::Malformed => "the JWT is malformed".into(),
            JwtError::Algorithm => "the JWT must be signed with RS256".into(),
            JwtError::MissingClaim(c) => format!("the JWT has no valid '{c}' claim"),
            JwtError::Expired => "the JWT has expired".into(),
            JwtError::NotYetValid => "the JWT was issued in the future".into(),
            JwtError::TooLong => "the JWT lives longer than 24 hours".into(),
            JwtError::BadSignature => "the JWT's signature does not verify".into(),
            JwtError::Replayed => "the JWT was already used (its jti was seen)".into(),
            JwtError::UnknownApplication => "the JWT's application is not registered".into(),
        }
    }
}

/// The claims we read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Claims {
    pub application_id: Option<String>,
    pub iat: Option<i64>,
    pub exp: Option<i64>,
    pub nbf: Option<i64>,
    pub jti: Option<String>,
}

/// A token's parts: the claims, what the signature covers, and the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub claims: Claims,
    pub signed: Vec<u8>,
    pub signature: Vec<u8>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Splits and decodes a compact JWT; only RS256 is accepted.
pub fn parse(token: &str) -> Result<Token, JwtError> {
    let mut parts = token.trim().split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    let json = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| JwtError::Malformed)
    };
    let read =
        |part: &str| json(part).and_then(|b| String::from_utf8(b).map_err(|_| JwtError::Malformed));
    let header: Header = super::json::read(&read(h)?).map_err(|_| JwtError::Malformed)?;
    if header.alg != "RS256" {
        return Err(JwtError::Algorithm);
    }
    let claims: Claims = super::json::read(&read(c)?).map_err(|_| JwtError::Malformed)?;
    Ok(Token {
        claims,
        signed: format!("{h}.{c}").into_bytes(),
        signature: json(s)?,
    })
}

/// The claims that let a token in at `now_s`: its application and its `jti` (with when it
/// expires, until which the `jti` is remembered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub application_id: String,
    pub jti: String,
    pub exp: i64,
}

/// Checks the claims at `now_s` (seconds): `application_id` and `jti` present, `iat` not in
/// the future (beyond `SKEW_S`), `exp` not past, at most `MAX_LIFETIME_S` after `iat`.
pub fn admit(claims: &Claims, now_s: i64) -> Result<Admitted, JwtError> {
    let present = |v: &Option<String>| v.clone().filter(|s| !s.is_empty() && s.len() <= MAX_JTI);
    let application_id =
        present(&claims.application_id).ok_or(JwtError::MissingClaim("application_id"))?;
    let jti = present(&claims.jti).ok_or(JwtError::MissingClaim("jti"))?;
    let iat = claims.iat.ok_or(JwtError::MissingClaim("iat"))?;
    let exp = claims.exp.ok_or(JwtError::MissingClaim("exp"))?;
    if exp <= now_s {
        return Err(JwtError::Expired);
    }
    if iat > now_s + SKEW_S || claims.nbf.is_some_and(|nbf| nbf > now_s + SKEW_S) {
        return Err(JwtError::NotYetValid);
    }
    if exp - iat > MAX_LIFETIME_S {
        return Err(JwtError::TooLong);
    }
    Ok(Admitted {
        application_id,
        jti,
        exp,
    })
}

/// The DER (SubjectPublicKeyInfo) inside a `-----BEGIN PUBLIC KEY-----` PEM.
pub fn spki_der(pem: &str) -> Option<Vec<u8>> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")?
        .strip_suffix("-----END PUBLIC KEY-----")?;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(b64).ok().filter(|der| !der.is_empty())
}

/// A registered Vonage application, as the JWT check needs it: the public key its SDK's
/// JWTs are verified with, and where its status callbacks go.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub account_id: String,
    pub public_key: String,
    pub callback_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, claims: &str) -> String {
        let e = |s: &str| URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.{}", e(header), e(claims), e("sig"))
    }

    fn claims(iat: i64, exp: i64) -> Claims {
        Claims {
            application_id: Some("app".into()),
            iat: Some(iat),
            exp: Some(exp),
            nbf: None,
            jti: Some("j1".into()),
        }
    }

    #[test]
    fn a_token_splits_into_claims_signed_part_and_signature() {
        let t = token(
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"application_id":"a","iat":1,"exp":2,"jti":"x"}"#,
        );
        let parsed = parse(&t).unwrap();
        assert_eq!(parsed.claims.application_id.as_deref(), Some("a"));
        assert_eq!(parsed.signature, b"sig");
        assert_eq!(parsed.signed, t.rsplit_once('.').unwrap().0.as_bytes());
        let hs = token(r#"{"alg":"HS256"}"#, "{}");
        assert_eq!(parse(&hs), Err(JwtError::Algorithm));
        let none = token(r#"{"alg":"none"}"#, "{}");
        assert_eq!(parse(&none), Err(JwtError::Algorithm));
        assert_eq!(parse("a.b"), Err(JwtError::Malformed));
        assert_eq!(parse("a.b.c.d"), Err(JwtError::Malformed));
        assert_eq!(parse("!!.b.c"), Err(JwtError::Malformed));
    }

    #[test]
    fn claims_need_an_application_a_jti_and_a_live_window() {
        let now = 1_000_000;
        let ok = admit(&claims(now - 10, now + 900), now).unwrap();
        assert_eq!((ok.application_id.as_str(), ok.jti.as_str()), ("app", "j1"));
        assert_eq!(ok.exp, now + 900);
        assert_eq!(admit(&claims(now - 900, now), now), Err(JwtError::Expired));
        assert_eq!(
            admit(&claims(now + SKEW_S + 1, now + 900), now),
            Err(JwtError::NotYetValid)
        );
        assert_eq!(
            admit(&claims(now, now + MAX_LIFETIME_S + 1), now),
            Err(JwtError::TooLong)
        );
        let mut no_jti = claims(now, now + 60);
        no_jti.jti = Some(String::new());
        assert_eq!(admit(&no_jti, now), Err(JwtError::MissingClaim("jti")));
        let mut no_app = claims(now, now + 60);
        no_app.application_id = None;
        assert_eq!(
            admit(&no_app, now),
            Err(JwtError::MissingClaim("application_id"))
        );
        let mut no_exp = claims(now, now + 60);
        no_exp.exp = None;
        assert_eq!(admit(&no_exp, now), Err(JwtError::MissingClaim("exp")));
        let mut later = claims(now, now + 60);
        later.nbf = Some(now + 3600);
        assert_eq!(admit(&later, now), Err(JwtError::NotYetValid));
    }

    #[test]
    fn a_public_key_pem_gives_its_der() {
        let pem = "-----BEGIN PUBLIC KEY-----\nAAEC\nAw==\n-----END PUBLIC KEY-----\n";
        assert_eq!(spki_der(pem), Some(vec![0, 1, 2, 3]));
        assert_eq!(spki_der("-----BEGIN RSA PRIVATE KEY-----\nAAEC\n"), None);
        assert_eq!(spki_der("not a key"), None);
        assert!(JwtError::Replayed.message().contains("jti"));
    }
}
