//! Compact JWS with HS256 for the legacy PingID side, written for the simulator alone (it
//! shares no protocol code with the workspace's `shared` crate).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// `base64url(header).base64url(payload).base64url(HMAC-SHA256(key, signing input))`.
pub(crate) fn sign(header: &Value, payload: &Value, key: &[u8]) -> String {
    sign_text(&header.to_string(), &payload.to_string(), key)
}

/// [`sign`] over JSON texts as given (key order preserved).
pub(crate) fn sign_text(header: &str, payload: &str, key: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// A compact JWS split and decoded, not yet verified.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) header: Value,
    pub(crate) payload: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Parsed {
    /// Splits `token` and decodes its parts. Refuses anything but three non-empty base64url
    /// parts with JSON-object header and payload and `alg` exactly `HS256`.
    pub(crate) fn new(token: &str) -> Result<Self, &'static str> {
        let token = token.trim();
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("The request is not a compact JWS.");
        };
        if signature.is_empty() {
            return Err("The request is not signed.");
        }
        let decode = |part: &str| -> Result<Value, &'static str> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| "The JWS is not base64url.")?;
            let value: Value =
                serde_json::from_slice(&bytes).map_err(|_| "The JWS parts are not JSON.")?;
            if value.is_object() {
                Ok(value)
            } else {
                Err("The JWS parts are not JSON objects.")
            }
        };
        let header = decode(header)?;
        if header["alg"] != "HS256" {
            return Err("Only HS256 signatures are accepted.");
        }
        let payload = decode(payload)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| "The signature is not base64url.")?;
        Ok(Self {
            header,
            payload,
            signing_input: token[..token.rfind('.').unwrap_or(0)].to_owned(),
            signature,
        })
    }

    /// Whether the signature is HMAC-SHA256 under `key` (constant-time comparison).
    pub(crate) fn verifies_with(&self, key: &[u8]) -> bool {
        let mut mac = mac(key);
        mac.update(self.signing_input.as_bytes());
        mac.verify_slice(&self.signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD;
    use serde_json::json;

    use super::*;

    /// The reference's computed request vector (§2.6).
    #[test]
    fn reproduces_the_reference_request_vector() {
        let key = STANDARD
            .decode("JWC41crr322aUfdckVfJKHvGKNIPyAPGL7rMsTbzHlA=")
            .expect("base64");
        let header = r#"{"alg":"HS256","org_alias":"aaaaaaaa-a1b2-123a-b456-1234abcd5678","token":"1a2b3c4d5e6f"}"#;
        let payload = r#"{"reqHeader":{"locale":"en","orgAlias":"aaaaaaaa-a1b2-123a-b456-1234abcd5678","secretKey":"1a2b3c4d5e6f","timestamp":"2015-09-03 11:57:25.229","version":"4.9"},"reqBody":{"userName":"jdoe","getSameDeviceUsers":false,"clientData":null}}"#;
        let token = sign_text(header, payload, &key);
        assert!(token.ends_with(".c9q7KA5KQa5W6Nep4ktui3eJzR6vapPPRHRqBs9_Piw"));
        let parsed = Parsed::new(&token).expect("parses");
        assert!(parsed.verifies_with(&key));
        assert!(!parsed.verifies_with(b"another key"));
    }

    #[test]
    fn refuses_other_algorithms_and_missing_signatures() {
        let token = sign(&json!({ "alg": "HS512" }), &json!({}), b"k");
        assert!(Parsed::new(&token).is_err());
        let token = sign(&json!({ "alg": "HS256" }), &json!({}), b"k");
        let unsigned = &token[..=token.rfind('.').expect("dot")];
        assert!(Parsed::new(unsigned).is_err());
    }
}
