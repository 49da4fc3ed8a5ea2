//! Hashing and MAC helpers shared by keys, OTP codes and signatures.
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn sha256_hex(data: &[u8]) -> String {
    to_hex(&sha256(data))
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    // `new_from_slice` accepts keys of any length for HMAC, so this cannot fail.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 32],
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some((nibble(*hi)? << 4) | nibble(*lo)?),
            _ => None,
        })
        .collect()
}

/// A secret for one object (a supplier, a webhook endpoint), derived from the deployment's
/// `SERVER_KEY` instead of stored: D1 then holds nothing that could sign or forge anything.
/// `version` lets a secret be rotated.
pub fn derived_key(server_key: &str, purpose: &str, id: &str, version: i64) -> [u8; 32] {
    hmac_sha256(
        server_key.as_bytes(),
        format!("otpedge:{purpose}:{id}:{version}").as_bytes(),
    )
}

/// Encrypts and authenticates `plain` under `key` (a key used for one message only, such
/// as `derived_key` of the object's id): HMAC-SHA256 in counter mode as the key stream,
/// then an HMAC tag over the cipher text (encrypt-then-MAC). Output: cipher text ‖ tag.
pub fn seal(key: &[u8; 32], plain: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = plain
        .iter()
        .zip(key_stream(key))
        .map(|(p, k)| p ^ k)
        .collect();
    let tag = hmac_sha256(key, &[b"tag:".as_slice(), &out].concat());
    out.extend_from_slice(&tag);
    out
}

/// The plain text `seal` sealed under `key`; None when the tag does not match (another key,
/// or altered bytes).
pub fn open(key: &[u8; 32], sealed: &[u8]) -> Option<Vec<u8>> {
    let cut = sealed.len().checked_sub(32)?;
    let (cipher, tag) = sealed.split_at(cut);
    let expected = hmac_sha256(key, &[b"tag:".as_slice(), cipher].concat());
    if !constant_time_eq(tag, &expected) {
        return None;
    }
    Some(
        cipher
            .iter()
            .zip(key_stream(key))
            .map(|(c, k)| c ^ k)
            .collect(),
    )
}

/// HMAC-SHA256(key, "ks:" ‖ block number), block after block.
fn key_stream(key: &[u8; 32]) -> impl Iterator<Item = u8> + '_ {
    (0u64..).flat_map(move |n| hmac_sha256(key, &[b"ks:".as_slice(), &n.to_be_bytes()].concat()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_under_its_key_and_unaltered() {
        let key = derived_key("server", "job", "msg_1", 0);
        let plain = "Your code is 123456. ".repeat(5);
        let sealed = seal(&key, plain.as_bytes());
        assert_eq!(sealed.len(), plain.len() + 32);
        assert!(
            !sealed.windows(6).any(|w| w == b"123456"),
            "the code is not in the clear"
        );
        assert_eq!(open(&key, &sealed).as_deref(), Some(plain.as_bytes()));
        let other = derived_key("server", "job", "msg_2", 0);
        assert_eq!(open(&other, &sealed), None);
        let mut altered = sealed.clone();
        altered[3] ^= 1;
        assert_eq!(open(&key, &altered), None);
        assert_eq!(open(&key, &sealed[..20]), None);
        assert_eq!(open(&key, &seal(&key, b"")).as_deref(), Some(&b""[..]));
    }

    #[test]
    fn sha256_matches_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        assert_eq!(
            from_hex(&to_hex(&[0, 1, 254, 255])),
            Some(vec![0, 1, 254, 255])
        );
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
    }

    #[test]
    fn derived_keys_differ_by_every_input() {
        let k = derived_key("server", "supplier", "sup_1", 1);
        assert_eq!(k, derived_key("server", "supplier", "sup_1", 1));
        assert_ne!(k, derived_key("server2", "supplier", "sup_1", 1));
        assert_ne!(k, derived_key("server", "webhook", "sup_1", 1));
        assert_ne!(k, derived_key("server", "supplier", "sup_2", 1));
        assert_ne!(k, derived_key("server", "supplier", "sup_1", 2));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
