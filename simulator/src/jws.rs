//! Compact JWS with HS256 under a key that only this simulator instance knows: PingOne's signed
//! PingID desktop options, and the answers of the simulated desktop app.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// A per-instance HS256 key.
pub(crate) struct JwsKey([u8; 32]);

impl JwsKey {
    /// A fresh random key.
    pub(crate) fn random() -> Self {
        Self(rand::random())
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length")
    }

    /// `header.claims.signature`.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "HS256", "typ": "JWT" }).to_string());
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The claims of a token this key signed, or `None`.
    pub(crate) fn verify(&self, token: &str) -> Option<Value> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header["alg"] != "HS256" {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&signature).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
    }
}

/// The simulator's key (one per process: every instance in a test binary shares it).
pub(crate) fn key() -> &'static JwsKey {
    static KEY: std::sync::LazyLock<JwsKey> = std::sync::LazyLock::new(JwsKey::random);
    &KEY
}

impl JwsKey {
    /// A stable opaque id derived from `input` (the simulated desktop app's id per device).
    pub(crate) fn derive_id(&self, input: &str) -> String {
        let mut mac = self.mac();
        mac.update(b"desktop-id:");
        mac.update(input.as_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_its_own_tokens_and_nothing_tampered() {
        let key = JwsKey::random();
        let token = key.sign(&json!({ "sub": "x" }));
        assert_eq!(key.verify(&token), Some(json!({ "sub": "x" })));
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            key.verify(&String::from_utf8(tampered).expect("ascii")),
            None
        );
        assert_eq!(JwsKey::random().verify(&token), None);
    }
}
