//! The legacy PingID protocol (`pingid.properties`-based): the properties file, HS256 JWS, the
//! PingID REST API client, PPM requests and responses, and the sealed passwordless context.
//!
//! Every signature, in both directions, uses the decoded `use_base64_key` of the properties
//! file. Derived keys (PPM nonces, passwordless contexts) come from it too, so there is no second
//! secret to provision and everything rotates with the properties file.

pub mod api;
pub mod context;
pub mod jws;
pub mod ppm;
pub mod properties;
pub mod return_state;

use crate::clock::unix_seconds;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub use api::{ApiResponse, Operation, Outcome, PingIdClient};
pub use properties::{Properties, PropertiesError};

type HmacSha256 = Hmac<Sha256>;

/// Unpadded base64url, the JWS alphabet.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url (padding is tolerated: some producers add it).
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// A MAC instance keyed with `key` (HMAC accepts keys of any length).
fn mac(key: &[u8]) -> HmacSha256 {
    // `new_from_slice` only fails for fixed-size-key MACs, never for HMAC.
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// HMAC-SHA256(key, label): a purpose-bound key derived from the properties key.
pub(crate) fn derive_key(key: &[u8], label: &str) -> [u8; 32] {
    let mut mac = mac(key);
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

/// `N` bytes from the thread-local CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Feeds `fields` to `mac`, each prefixed with its length, so that no two different field lists
/// produce the same MAC input (a plain `|` join would let `a|b` + `c` collide with `a` + `b|c`).
fn update_fields(mac: &mut HmacSha256, fields: &[&[u8]]) {
    for field in fields {
        let length = u32::try_from(field.len()).unwrap_or(u32::MAX);
        mac.update(&length.to_be_bytes());
        mac.update(field);
    }
}

/// The properties of the unit tests' org: the reference's example values, keyed with `key_byte`.
#[cfg(test)]
fn sample_properties(key_byte: u8) -> Properties {
    Properties {
        key: crate::secrets::Secret::new(vec![key_byte; 32]),
        token: "1a2b3c4d5e6f".into(),
        org_alias: "aaaaaaaa-a1b2-123a-b456-1234abcd5678".into(),
        idp_url: "https://idpxnyl3m.pingidentity.com/pingid".into(),
        authenticator_url: "https://authenticator.pingone.com/pingid/ppm".into(),
        admin_url: None,
        use_signature: true,
    }
}
