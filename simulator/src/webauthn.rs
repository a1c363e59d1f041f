//! The WebAuthn relying party for FIDO2 / PLATFORM / SECURITY_KEY devices, on kanidm's
//! `webauthn-rs-core` (attestation and assertion parsing and verification are the crate's).
//!
//! PingOne's wire convention, which this module converts to and from: the options are a **JSON
//! text string** (`publicKeyCredentialCreationOptions`, `publicKeyCredentialRequestOptions`) in
//! which binary values (`challenge`, `user.id`, credential `id`s) are JSON arrays of *signed*
//! bytes (-128..127), Java style; a browser turns them into buffers with `Uint8Array.from(…)`
//! (which wraps negatives). The client's answer (`attestation`, `assertion`) is the JSON text
//! of a `PublicKeyCredential` with base64url (unpadded) binary fields.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use std::time::Duration;
use url::Url;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticatorAttachment, COSEAlgorithm, Credential,
    PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
};

use crate::tenant::{Fido2Type, User};

/// How long the client may take, in the options' `timeout` (ms).
const TIMEOUT: Duration = Duration::from_secs(120);

/// The smallest custom challenge accepted on create.
pub(crate) const MIN_CHALLENGE_BYTES: usize = 32;

/// A caller-supplied challenge: base64url (padding tolerated) of at least
/// [`MIN_CHALLENGE_BYTES`], else PingOne's `INVALID_VALUE` on `challenge`.
pub(crate) fn challenge(text: &str) -> Result<Vec<u8>, crate::errors::ApiError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .ok()
        .filter(|bytes| bytes.len() >= MIN_CHALLENGE_BYTES)
        .ok_or_else(|| {
            crate::errors::ApiError::invalid_value(
                "challenge",
                "The challenge must be base64url of at least 32 bytes.",
            )
        })
}

fn core(rp_id: &str, rp_name: &str, origin: Option<&Url>) -> WebauthnCore {
    // The origin has been checked against the RP id by `origin_allowed`; the crate then checks
    // that clientDataJSON names exactly that origin.
    let origins = origin.into_iter().cloned().collect();
    WebauthnCore::new_unsafe_experts_only(
        rp_name,
        rp_id,
        origins,
        TIMEOUT,
        Some(false),
        Some(false),
    )
}

/// Whether a page at `origin` may use credentials of `rp_id`: `https://` with the RP id as host
/// or a parent domain of it, or `http://localhost[:port]` when the RP id is `localhost`.
pub(crate) fn origin_allowed(origin: &str, rp_id: &str) -> Option<Url> {
    let url = Url::parse(origin).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    let rp_id = rp_id.to_ascii_lowercase();
    let host_ok = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && rp_id == "localhost");
    (host_ok && scheme_ok && url.path() == "/" && url.query().is_none()).then_some(url)
}

/// Creation options for a new device: `(options JSON text, registration state)`.
pub(crate) fn creation_options(
    rp_id: &str,
    rp_name: &str,
    user: &User,
    fido_type: Fido2Type,
    challenge: Option<Vec<u8>>,
    exclude: Vec<Vec<u8>>,
) -> Result<(String, Value), String> {
    let core = core(rp_id, rp_name, None);
    let attachment = match fido_type {
        Fido2Type::Fido2 => None,
        Fido2Type::Platform => Some(AuthenticatorAttachment::Platform),
        Fido2Type::SecurityKey => Some(AuthenticatorAttachment::CrossPlatform),
    };
    let builder = core
        .new_challenge_register_builder(user.id.as_bytes(), &user.username, &user.formatted_name())
        .map_err(|error| error.to_string())?
        .attestation(AttestationConveyancePreference::None)
        .user_verification_policy(UserVerificationPolicy::Preferred)
        .credential_algorithms(vec![COSEAlgorithm::ES256, COSEAlgorithm::RS256])
        .exclude_credentials((!exclude.is_empty()).then_some(exclude))
        .authenticator_attachment(attachment);
    let (mut response, state) = core
        .generate_challenge_register(builder)
        .map_err(|error| error.to_string())?;
    let mut state = serde_json::to_value(&state).map_err(|error| error.to_string())?;
    if let Some(challenge) = challenge {
        // The crate draws its own challenge; a caller-supplied one replaces it in both the
        // options and the (serialisable) state the response is verified against.
        state["challenge"] = Value::String(URL_SAFE_NO_PAD.encode(&challenge));
        response.public_key.challenge = challenge;
    }
    let mut options = serde_json::to_value(&response.public_key).map_err(|e| e.to_string())?;
    // A discoverable credential where the authenticator can keep one, so the device also
    // serves usernameless sign-in (PingOne's FIDO policy "discoverable credentials: preferred").
    options["authenticatorSelection"]["residentKey"] = Value::from("preferred");
    to_signed_bytes(&mut options["challenge"]);
    to_signed_bytes(&mut options["user"]["id"]);
    for credential in options["excludeCredentials"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        to_signed_bytes(&mut credential["id"]);
    }
    Ok((options.to_string(), state))
}

/// Verifies a registration: returns the new credential (JSON) or why it was refused.
pub(crate) fn verify_registration(
    rp_id: &str,
    rp_name: &str,
    state: &Value,
    attestation: &str,
    origin: &str,
) -> Result<Value, String> {
    let origin = origin_allowed(origin, rp_id).ok_or("the origin does not match the RP id")?;
    let state = serde_json::from_value(state.clone()).map_err(|error| error.to_string())?;
    let credential: RegisterPublicKeyCredential =
        serde_json::from_str(attestation).map_err(|error| error.to_string())?;
    let credential = core(rp_id, rp_name, Some(&origin))
        .register_credential(&credential, &state, None)
        .map_err(|error| error.to_string())?;
    serde_json::to_value(&credential).map_err(|error| error.to_string())
}

/// Request options for an authentication with `credential`: `(options JSON text, state)`.
/// `challenge` replaces the drawn one (a caller-supplied challenge).
pub(crate) fn request_options(
    rp_id: &str,
    rp_name: &str,
    credential: &Value,
    challenge: Option<Vec<u8>>,
) -> Result<(String, Value), String> {
    let credential: Credential =
        serde_json::from_value(credential.clone()).map_err(|error| error.to_string())?;
    wire_request_options(rp_id, rp_name, vec![credential], None, challenge)
}

/// Request options for a usernameless sign-in (PingOne's wire convention): no
/// `allowCredentials`, so the browser offers the passkeys it holds for `rp_id`, and user
/// verification required, since the credential alone must prove who signs in.
pub(crate) fn usernameless_request_options(
    rp_id: &str,
    challenge: Option<Vec<u8>>,
) -> Result<(String, Value), String> {
    let verification = Some(UserVerificationPolicy::Required);
    wire_request_options(rp_id, "PingOne", Vec::new(), verification, challenge)
}

/// Request options for `credentials` (none: any discoverable one) as PingOne sends them (JSON
/// text, binary fields as signed-byte arrays) and the state to verify against, with
/// `challenge` (if any) in place of the drawn one in both.
fn wire_request_options(
    rp_id: &str,
    rp_name: &str,
    credentials: Vec<Credential>,
    verification: Option<UserVerificationPolicy>,
    challenge: Option<Vec<u8>>,
) -> Result<(String, Value), String> {
    let core = core(rp_id, rp_name, None);
    let builder = core
        .new_challenge_authenticate_builder(credentials, verification)
        .map_err(|error| error.to_string())?;
    let (mut response, state) = core
        .generate_challenge_authenticate(builder)
        .map_err(|error| error.to_string())?;
    let mut state = serde_json::to_value(&state).map_err(|error| error.to_string())?;
    if let Some(challenge) = challenge {
        state["challenge"] = Value::String(URL_SAFE_NO_PAD.encode(&challenge));
        response.public_key.challenge = challenge;
    }
    let mut options = serde_json::to_value(&response.public_key).map_err(|e| e.to_string())?;
    to_signed_bytes(&mut options["challenge"]);
    for credential in options["allowCredentials"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        to_signed_bytes(&mut credential["id"]);
    }
    Ok((options.to_string(), state))
}

/// Verifies an assertion (signature, challenge, origin, RP id hash, user presence, sign
/// counter); returns the credential with its counter updated.
pub(crate) fn verify_assertion(
    rp_id: &str,
    rp_name: &str,
    state: &Value,
    credential: &Value,
    assertion: &str,
    origin: &str,
) -> Result<Value, String> {
    let origin = origin_allowed(origin, rp_id).ok_or("the origin does not match the RP id")?;
    let state = serde_json::from_value(state.clone()).map_err(|error| error.to_string())?;
    let response: PublicKeyCredential =
        serde_json::from_str(assertion).map_err(|error| error.to_string())?;
    let result = core(rp_id, rp_name, Some(&origin))
        .authenticate_credential(&response, &state)
        .map_err(|error| error.to_string())?;
    let mut credential = credential.clone();
    credential["counter"] = Value::from(result.counter());
    Ok(credential)
}

/// The legacy PingID passkey ceremony (discoverable credential, user verification required):
/// creation options as browser-ready JSON (binary fields base64url) and the state to verify
/// the answer against.
pub(crate) fn passkey_creation_options(
    rp_id: &str,
    user_handle: &[u8],
    user_name: &str,
    display_name: &str,
) -> Result<(Value, Value), String> {
    let core = core(rp_id, "PingID", None);
    let builder = core
        .new_challenge_register_builder(user_handle, user_name, display_name)
        .map_err(|error| error.to_string())?
        .attestation(AttestationConveyancePreference::None)
        .user_verification_policy(UserVerificationPolicy::Required)
        .require_resident_key(true)
        .credential_algorithms(vec![COSEAlgorithm::ES256, COSEAlgorithm::RS256]);
    let (response, state) = core
        .generate_challenge_register(builder)
        .map_err(|error| error.to_string())?;
    let mut options = serde_json::to_value(&response.public_key).map_err(|e| e.to_string())?;
    options["authenticatorSelection"] = serde_json::json!({
        "residentKey": "required",
        "requireResidentKey": true,
        "userVerification": "required",
    });
    let state = serde_json::to_value(&state).map_err(|error| error.to_string())?;
    Ok((options, state))
}

/// Request options for a discoverable sign-in (empty `allowCredentials`, user verification
/// required) and the state to verify the assertion against.
pub(crate) fn passkey_request_options(rp_id: &str) -> Result<(Value, Value), String> {
    let core = core(rp_id, "PingID", None);
    let builder = core
        .new_challenge_authenticate_builder(Vec::new(), Some(UserVerificationPolicy::Required))
        .map_err(|error| error.to_string())?;
    let (response, state) = core
        .generate_challenge_authenticate(builder)
        .map_err(|error| error.to_string())?;
    let options = serde_json::to_value(&response.public_key).map_err(|e| e.to_string())?;
    let state = serde_json::to_value(&state).map_err(|error| error.to_string())?;
    Ok((options, state))
}

/// The credential id (base64url) and user handle an assertion names, before verification.
pub(crate) fn assertion_identity(assertion: &str) -> Result<(String, Option<Vec<u8>>), String> {
    let response: PublicKeyCredential =
        serde_json::from_str(assertion).map_err(|error| error.to_string())?;
    Ok((
        URL_SAFE_NO_PAD.encode(response.raw_id.as_slice()),
        response
            .response
            .user_handle
            .map(|handle| handle.as_slice().to_vec()),
    ))
}

/// Verifies a discoverable-credential assertion against `credential` (signature, challenge,
/// origin, RP id hash, user presence and verification, sign counter); returns the credential
/// with its counter updated.
pub(crate) fn verify_passkey_assertion(
    rp_id: &str,
    state: &Value,
    credential: &Value,
    assertion: &str,
    origin: &str,
) -> Result<Value, String> {
    let origin = origin_allowed(origin, rp_id).ok_or("the origin does not match the RP id")?;
    let state = serde_json::from_value(state.clone()).map_err(|error| error.to_string())?;
    let stored: Credential =
        serde_json::from_value(credential.clone()).map_err(|error| error.to_string())?;
    let response: PublicKeyCredential =
        serde_json::from_str(assertion).map_err(|error| error.to_string())?;
    let result = core(rp_id, "PingID", Some(&origin))
        .authenticate_single_credential(&response, &state, &stored)
        .map_err(|error| error.to_string())?;
    let mut credential = credential.clone();
    credential["counter"] = Value::from(result.counter());
    Ok(credential)
}

/// A base64url string → an array of signed bytes (left alone when it is not a string).
pub(crate) fn to_signed_bytes(value: &mut Value) {
    if let Some(bytes) = value
        .as_str()
        .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
    {
        *value = Value::Array(
            bytes
                .into_iter()
                .map(|byte| Value::from(i64::from(byte as i8)))
                .collect(),
        );
    }
}

/// An array of (signed or unsigned) bytes → a base64url string (left alone otherwise). Used
/// by the soft authenticator and the unit tests.
#[cfg_attr(not(feature = "soft-authenticator"), allow(dead_code))]
pub(crate) fn from_signed_bytes(value: &mut Value) {
    let Some(items) = value.as_array() else {
        return;
    };
    let bytes: Option<Vec<u8>> = items
        .iter()
        .map(|item| {
            let n = item.as_i64()?;
            (-128..=255).contains(&n).then_some(n as u8)
        })
        .collect();
    if let Some(bytes) = bytes {
        *value = Value::String(URL_SAFE_NO_PAD.encode(bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_https_on_the_rp_id_or_a_subdomain() {
        assert!(origin_allowed("https://example.com", "example.com").is_some());
        assert!(origin_allowed("https://login.example.com", "example.com").is_some());
        assert!(origin_allowed("http://example.com", "example.com").is_none());
        assert!(origin_allowed("https://badexample.com", "example.com").is_none());
        assert!(origin_allowed("http://localhost:8080", "localhost").is_some());
        assert!(origin_allowed("https://localhost", "localhost").is_some());
    }

    #[test]
    fn signed_bytes_round_trip() {
        let mut value = Value::String(URL_SAFE_NO_PAD.encode([0u8, 127, 128, 255]));
        to_signed_bytes(&mut value);
        assert_eq!(value, serde_json::json!([0, 127, -128, -1]));
        from_signed_bytes(&mut value);
        assert_eq!(
            value,
            Value::String(URL_SAFE_NO_PAD.encode([0u8, 127, 128, 255]))
        );
    }

    /// The passwordless ceremony against kanidm's soft passkey (which claims user verification
    /// but cannot hold resident keys, so the test hands it the credential id the server left
    /// out of `allowCredentials`).
    #[cfg(feature = "soft-authenticator")]
    #[test]
    fn a_passkey_registers_and_signs_in_without_a_username() {
        use webauthn_authenticator_rs::WebauthnAuthenticator;
        use webauthn_authenticator_rs::softpasskey::SoftPasskey;
        use webauthn_rs_core::proto::{CreationChallengeResponse, RequestChallengeResponse};

        let origin = "http://localhost:3001";
        let mut passkey = SoftPasskey::new(true);
        let (mut options, state) =
            passkey_creation_options("localhost", &[7; 16], "alice", "Alice Anders")
                .expect("options");
        assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
        assert_eq!(
            options["authenticatorSelection"]["userVerification"],
            "required"
        );
        options["authenticatorSelection"]["requireResidentKey"] = Value::Bool(false);
        let created = passkey
            .do_registration(
                Url::parse(origin).expect("url"),
                CreationChallengeResponse {
                    public_key: serde_json::from_value(options).expect("creation options"),
                },
            )
            .expect("the soft passkey registers");
        let attestation = serde_json::to_string(&created).expect("json");
        assert!(
            verify_registration(
                "localhost",
                "PingID",
                &state,
                &attestation,
                "http://evil.test"
            )
            .is_err()
        );
        let credential = verify_registration("localhost", "PingID", &state, &attestation, origin)
            .expect("the registration verifies");

        let (mut options, state) = passkey_request_options("localhost").expect("options");
        assert_eq!(options["allowCredentials"], serde_json::json!([]));
        assert_eq!(options["userVerification"], "required");
        options["allowCredentials"] =
            serde_json::json!([{ "type": "public-key", "id": credential["cred_id"] }]);
        let asserted = passkey
            .do_authentication(
                Url::parse(origin).expect("url"),
                RequestChallengeResponse {
                    public_key: serde_json::from_value(options).expect("request options"),
                    mediation: None,
                },
            )
            .expect("the soft passkey signs");
        let assertion = serde_json::to_string(&asserted).expect("json");
        let (credential_id, _) = assertion_identity(&assertion).expect("identity");
        assert_eq!(Value::String(credential_id), credential["cred_id"]);
        assert!(
            verify_passkey_assertion(
                "localhost",
                &state,
                &credential,
                &assertion,
                "http://localhost:4000"
            )
            .is_err(),
            "another origin"
        );
        let updated =
            verify_passkey_assertion("localhost", &state, &credential, &assertion, origin)
                .expect("the assertion verifies");
        // Replaying it against the updated counter is refused.
        assert!(
            verify_passkey_assertion("localhost", &state, &updated, &assertion, origin).is_err()
        );
        // A flipped signature byte is refused.
        let mut tampered: Value = serde_json::from_str(&assertion).expect("json");
        let signature = tampered["response"]["signature"]
            .as_str()
            .expect("b64")
            .to_owned();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("b64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        tampered["response"]["signature"] = Value::String(URL_SAFE_NO_PAD.encode(bytes));
        assert!(
            verify_passkey_assertion(
                "localhost",
                &state,
                &credential,
                &tampered.to_string(),
                origin
            )
            .is_err()
        );
    }
}
