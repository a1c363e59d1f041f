//! Sealed tokens: a small JSON value encrypted and authenticated with AES-256-GCM (ring, already
//! in every binary as rustls' provider), for state a Lambda hands to a client and must get back
//! unchanged and unread: the legacy return page's state, a journey's continuation.
//!
//! `<version>.<b64url(nonce ‖ ciphertext ‖ tag)>`, a random 96-bit nonce per token, the
//! additional data `version` (and `binding`, when given, after a NUL): a token sealed for one
//! purpose or binding does not open for another.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::pingid::{b64url, b64url_decode, derive_key, random_bytes};

/// An AES-256-GCM key for one purpose.
pub struct SealingKey(LessSafeKey);

impl SealingKey {
    /// The key for `label`, derived from `secret` (HMAC-SHA256(secret, label)): one secret
    /// serves several purposes without one's tokens opening as another's.
    pub fn derive(secret: &[u8], label: &str) -> Self {
        let key = derive_key(secret, label);
        // A 32-byte key is what AES-256-GCM takes: this cannot fail.
        Self(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &key).expect("a 256-bit key"),
        ))
    }
}

fn additional_data(version: &str, binding: &str) -> Vec<u8> {
    let mut aad = version.as_bytes().to_vec();
    if !binding.is_empty() {
        aad.push(0);
        aad.extend_from_slice(binding.as_bytes());
    }
    aad
}

/// Seals `value` for `version` and `binding`.
pub fn seal<T: Serialize>(key: &SealingKey, version: &str, binding: &str, value: &T) -> String {
    let mut in_out = serde_json::to_vec(value).unwrap_or_default();
    let nonce = random_bytes::<NONCE_LEN>();
    key.0
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(additional_data(version, binding)),
            &mut in_out,
        )
        // Fails only past GCM's length limit (64 GiB).
        .expect("a small value seals");
    let mut token = nonce.to_vec();
    token.extend_from_slice(&in_out);
    format!("{version}.{}", b64url(&token))
}

/// Opens a token [`seal`]ed with the same key, `version` and `binding`; `None` for anything
/// else (tampered, foreign, another binding, longer than `max_bytes`, not the type).
pub fn open<T: DeserializeOwned>(
    key: &SealingKey,
    version: &str,
    binding: &str,
    token: &str,
    max_bytes: usize,
) -> Option<T> {
    if token.len() > max_bytes {
        return None;
    }
    let sealed = token
        .strip_prefix(version)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(b64url_decode)
        .filter(|bytes| bytes.len() > NONCE_LEN)?;
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut in_out = ciphertext.to_vec();
    let plain = key
        .0
        .open_in_place(
            nonce,
            Aad::from(additional_data(version, binding)),
            &mut in_out,
        )
        .ok()?;
    serde_json::from_slice(plain).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_opens_only_with_its_key_version_and_binding() {
        let key = SealingKey::derive(b"secret", "purpose/v1");
        let token = seal(&key, "j1", "alice", &vec!["step", "2"]);
        let opened: Option<Vec<String>> = open(&key, "j1", "alice", &token, 4096);
        assert_eq!(opened, Some(vec!["step".to_string(), "2".to_string()]));
        let other_purpose = SealingKey::derive(b"secret", "purpose/v2");
        for (key, version, binding, max) in [
            (&other_purpose, "j1", "alice", 4096),
            (&key, "j2", "alice", 4096),
            (&key, "j1", "bob", 4096),
            (&key, "j1", "alice", 10),
        ] {
            let opened: Option<Vec<String>> = open(key, version, binding, &token, max);
            assert_eq!(opened, None, "{version} {binding} {max}");
        }
        let mut tampered = token.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let opened: Option<Vec<String>> = open(&key, "j1", "alice", &tampered, 4096);
        assert_eq!(opened, None);
    }
}
