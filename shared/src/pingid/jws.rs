//! Compact HS256 JWS (RFC 7515), hand-written: PingID needs non-standard header members
//! (`org_alias`, `token`) and exactly one algorithm, which a JWT library would only make harder
//! to audit. Signatures are compared in constant time (`Mac::verify_slice`).

use hmac::Mac;
use serde_json::Value;

use super::{b64url, b64url_decode, mac};

/// Longer tokens are not PingID talking (the API client caps bodies at the same size).
const MAX_TOKEN_BYTES: usize = 1024 * 1024;

/// Why a compact JWS was refused. Messages never quote the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three non-empty base64url parts with a JSON object header and payload.
    #[error("malformed JWS: {0}")]
    Malformed(&'static str),
    /// The header's `alg` is not `HS256` (this includes `none`).
    #[error("the JWS algorithm is not HS256")]
    Algorithm,
    /// The header lists `crit` extensions, none of which we implement.
    #[error("the JWS has critical header extensions")]
    Critical,
    /// The signature does not match the key.
    #[error("the JWS signature is not valid")]
    Signature,
}

/// Signs `payload` under `header` (which should say `"alg":"HS256"`) with `key`.
pub fn sign_hs256(header: &Value, payload: &Value, key: &[u8]) -> String {
    sign_json(&header.to_string(), &payload.to_string(), key)
}

/// Signs already-serialised header and payload JSON, byte for byte (key order preserved).
pub(crate) fn sign_json(header: &str, payload: &str, key: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes())
    );
    let mut mac = mac(key);
    mac.update(signing_input.as_bytes());
    let signature = b64url(&mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies a compact JWS: exactly three parts, header `alg` == `"HS256"` (anything else,
/// `none` included, refused), no `crit`, and a signature equal (constant time) to
/// HMAC-SHA256 of the signing input under `key`. Returns the header and the payload.
pub fn verify_hs256(token: &str, key: &[u8]) -> Result<(Value, Value), JwsError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwsError::Malformed("too large"));
    }
    let token = token.trim();
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwsError::Malformed("not three parts"));
    };
    if header_b64.is_empty() || payload_b64.is_empty() {
        return Err(JwsError::Malformed("empty part"));
    }
    if signature_b64.is_empty() {
        // `alg: none` tokens end here too, if their header did not give them away.
        return Err(JwsError::Signature);
    }
    let header = decode_object(header_b64).ok_or(JwsError::Malformed("header"))?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwsError::Algorithm);
    }
    if header.get("crit").is_some() {
        return Err(JwsError::Critical);
    }
    let signature = b64url_decode(signature_b64).ok_or(JwsError::Signature)?;
    let mut mac = mac(key);
    mac.update(header_b64.as_bytes());
    mac.update(b".");
    mac.update(payload_b64.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| JwsError::Signature)?;
    // The payload is read only once it is known to come from the key holder.
    let payload = decode_object(payload_b64).ok_or(JwsError::Malformed("payload"))?;
    Ok((header, payload))
}

/// The JSON object in a base64url part, if it is one.
fn decode_object(part: &str) -> Option<Value> {
    let bytes = b64url_decode(part)?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::json;

    /// `pingid-api.md` §2.6: the documented key (decoded).
    fn doc_key() -> Vec<u8> {
        STANDARD
            .decode("JWC41crr322aUfdckVfJKHvGKNIPyAPGL7rMsTbzHlA=")
            .unwrap()
    }

    /// The AddUser response printed in the EXREG example (§2.6 response vector), byte for byte.
    const ADDUSER_RESPONSE: &str = concat!(
        "eyJhbGciOiJIUzI1NiIsIm9yZ19hbGlhcyI6ImFhYWFhYWFhLWExYjItMTIzYS1iNDU2LTEyMzRhYmNkNTY3OCIsInRva2VuIjoiMWEyYjNjNGQ1ZTZmIn0",
        ".",
        "eyAgImFjdGl2YXRpb25Db2RlIjogIjI5MjA3MDUyMjcwMSIsICAgICJ1c2VyRGV0YWlscyI6IHsgICAgICAiZW1haWwiOiAibWVyZWRpdGhAcGluZ2RldmVsb3BlcnMuY29tIiwgICAgICAidXNlcklkIjogMTc0NTcsICAgICAgImxuYW1lIjogIkFyY2hlciIsICAgICAgInVzZXJFbmFibGVkIjogZmFsc2UsICAgICAgImZuYW1lIjogIk1lcmVkaXRoIiwgICAgICAicGljVVJMIjogIkIyVU1PVUlGRUwzQ1FIVlY0S08zWjVSMk8yRlRKWUFWVDMzTlVINk1NSTRCNUdPU1BJWkFSTkE9IiwgICAgICAic3BMaXN0IjogW10sICAgICAgImxhc3RMb2dpbiI6IG51bGwsICAgICAgImJ5cGFzc0V4cGlyYXRpb24iOiBudWxsLCAgICAgICJkZXZpY2VEZXRhaWxzIjogbnVsbCwgICAgICAibGFzdFRyYW5zYWN0aW9ucyI6IFtdLCAgICAgICJ1c2VySW5CeXBhc3MiOiBmYWxzZSwgICAgICAidXNlck5hbWUiOiAibWVyZWRpdGgiLCAgICAgICJzdGF0dXMiOiAiUEVORElOR19BQ1RJVkFUSU9OIiwgICAgICAicm9sZSI6ICJSRUdVTEFSIiAgICB9LCAgICAiZXJyb3JJZCI6IDIwMCwgICAgInVuaXF1ZU1zZ0lkIjogIndlYnNfT3pHVGVXemxGeENyejVhZXRuOUlnUlFIWGxXLVlqaGgxcU9BeGtLdmJkSSIsICAgICJlcnJvck1zZyI6ICJvayIsICAgICJjbGllbnREYXRhIjogbnVsbCAgfQ",
        ".",
        "6XMoyLUdrw7Y124-X4gNnIpj-s1qMNx-5TMXCvog5eg",
    );

    #[test]
    fn the_documented_adduser_response_verifies() {
        let (header, payload) = verify_hs256(ADDUSER_RESPONSE, &doc_key()).unwrap();
        assert_eq!(
            header,
            json!({"alg": "HS256", "org_alias": "aaaaaaaa-a1b2-123a-b456-1234abcd5678", "token": "1a2b3c4d5e6f"})
        );
        assert_eq!(payload["errorId"], 200);
        assert_eq!(payload["activationCode"], "292070522701");
        assert_eq!(payload["userDetails"]["userName"], "meredith");
    }

    #[test]
    fn the_computed_request_vector_is_reproduced() {
        let header = r#"{"alg":"HS256","org_alias":"aaaaaaaa-a1b2-123a-b456-1234abcd5678","token":"1a2b3c4d5e6f"}"#;
        let payload = r#"{"reqHeader":{"locale":"en","orgAlias":"aaaaaaaa-a1b2-123a-b456-1234abcd5678","secretKey":"1a2b3c4d5e6f","timestamp":"2015-09-03 11:57:25.229","version":"4.9"},"reqBody":{"userName":"jdoe","getSameDeviceUsers":false,"clientData":null}}"#;
        let token = sign_json(header, payload, &doc_key());
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsIm9yZ19hbGlhcyI6ImFhYWFhYWFhLWExYjItMTIzYS1iNDU2LTEyMzRhYmNkNTY3OCIsInRva2VuIjoiMWEyYjNjNGQ1ZTZmIn0.eyJyZXFIZWFkZXIiOnsibG9jYWxlIjoiZW4i"));
        assert!(token.ends_with(".c9q7KA5KQa5W6Nep4ktui3eJzR6vapPPRHRqBs9_Piw"));
        assert!(verify_hs256(&token, &doc_key()).is_ok());
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let payload = json!({"sub": "alice", "n": 1});
        let token = sign_hs256(&header, &payload, b"k");
        assert_eq!(verify_hs256(&token, b"k").unwrap(), (header, payload));
    }

    /// A token with `header` and a payload, signed (or not) with `signature`.
    fn forge(header: &Value, signature: &str) -> String {
        let payload = ADDUSER_RESPONSE.split('.').nth(1).unwrap();
        format!(
            "{}.{payload}.{signature}",
            b64url(header.to_string().as_bytes())
        )
    }

    #[test]
    fn the_tamper_corpus_is_refused() {
        let key = doc_key();
        let parts: Vec<&str> = ADDUSER_RESPONSE.split('.').collect();
        let mut flipped = b64url_decode(parts[2]).unwrap();
        flipped[7] ^= 0x01;
        let flipped = format!("{}.{}.{}", parts[0], parts[1], b64url(&flipped));
        // An HS512 token signed with the right key must still be refused.
        let hs512 = {
            use hmac::Hmac;
            use sha2::Sha512;
            let header = b64url(br#"{"alg":"HS512"}"#);
            let input = format!("{header}.{}", parts[1]);
            let mut mac = Hmac::<Sha512>::new_from_slice(&key).unwrap();
            mac.update(input.as_bytes());
            format!("{input}.{}", b64url(&mac.finalize().into_bytes()))
        };
        let cases = [
            (
                "alg none, empty signature",
                forge(&json!({"alg": "none"}), ""),
                JwsError::Signature,
            ),
            (
                "alg none, any signature",
                forge(&json!({"alg": "none"}), "AAAA"),
                JwsError::Algorithm,
            ),
            ("alg HS512", hs512, JwsError::Algorithm),
            (
                "alg RS256",
                forge(&json!({"alg": "RS256"}), parts[2]),
                JwsError::Algorithm,
            ),
            (
                "alg missing",
                forge(&json!({"typ": "JWT"}), parts[2]),
                JwsError::Algorithm,
            ),
            (
                "alg hs256 lowercase",
                forge(&json!({"alg": "hs256"}), parts[2]),
                JwsError::Algorithm,
            ),
            (
                "crit",
                forge(&json!({"alg": "HS256", "crit": ["b64"]}), parts[2]),
                JwsError::Critical,
            ),
            ("flipped signature byte", flipped, JwsError::Signature),
            (
                "missing signature",
                format!("{}.{}.", parts[0], parts[1]),
                JwsError::Signature,
            ),
            (
                "two parts",
                format!("{}.{}", parts[0], parts[1]),
                JwsError::Malformed("not three parts"),
            ),
            (
                "four parts",
                format!("{ADDUSER_RESPONSE}.x"),
                JwsError::Malformed("not three parts"),
            ),
            (
                "garbage header",
                format!("!!.{}.{}", parts[1], parts[2]),
                JwsError::Malformed("header"),
            ),
            (
                "html page",
                "<html>502 Bad Gateway</html>".to_string(),
                JwsError::Malformed("not three parts"),
            ),
        ];
        for (name, token, expected) in cases {
            assert_eq!(verify_hs256(&token, &key), Err(expected), "{name}");
        }
        assert_eq!(
            verify_hs256(ADDUSER_RESPONSE, &[0u8; 32]),
            Err(JwsError::Signature),
            "wrong key"
        );
    }
}
