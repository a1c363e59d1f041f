//! A software FIDO2 authenticator for tests (feature `soft-authenticator`): kanidm's
//! `SoftPasskey` (genuine ES256 keys and signatures, a sign counter) behind a browser-like
//! client that speaks PingOne's wire convention (see the simulator README): it reads
//! `publicKeyCredentialCreationOptions` / `publicKeyCredentialRequestOptions` JSON text with
//! signed-byte arrays and answers with the JSON text of a `PublicKeyCredential` whose binary
//! fields are base64url, for the activate and `assertion.check` calls.
//!
//! The API is synchronous. The soft passkey cannot do user verification, resident keys or a
//! platform attachment; the client therefore drops those hints (it plays a platform
//! authenticator for PLATFORM devices).

use anyhow::{Context, anyhow};
use serde_json::Value;
use url::Url;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_core::proto::{
    CreationChallengeResponse, PublicKeyCredentialCreationOptions,
    PublicKeyCredentialRequestOptions, RequestChallengeResponse, UserVerificationPolicy,
};

use crate::webauthn::from_signed_bytes;

/// A software authenticator holding the credentials it created.
pub struct SoftAuthenticator {
    passkey: SoftPasskey,
}

impl Default for SoftAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SoftAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftAuthenticator").finish_non_exhaustive()
    }
}

impl SoftAuthenticator {
    /// An authenticator without credentials.
    pub fn new() -> Self {
        Self {
            passkey: SoftPasskey::new(false),
        }
    }

    /// An authenticator that reports user verification (as a passkey with a PIN or biometric
    /// would), for the legacy PingID passkey pages, which require it.
    pub fn with_user_verification() -> Self {
        Self {
            passkey: SoftPasskey::new(true),
        }
    }

    /// Plays `navigator.credentials.create` on the legacy PingID registration page: `options`
    /// is the page's `<script id="options">` JSON (standard WebAuthn JSON, base64url binary
    /// fields); returns the `credential` form value. The soft passkey cannot store resident
    /// keys, so the resident-key requirement is dropped (the credential works as one for
    /// [`Self::assert_passkey`]).
    pub fn register_passkey(&mut self, options: &str, origin: &str) -> anyhow::Result<String> {
        let mut options: Value = serde_json::from_str(options).context("options are not JSON")?;
        options["authenticatorSelection"]["requireResidentKey"] = Value::Bool(false);
        let options: PublicKeyCredentialCreationOptions =
            serde_json::from_value(options).context("unreadable creation options")?;
        self.create(options, origin)
    }

    /// Plays `navigator.credentials.get` on the legacy PingID passwordless page (empty
    /// `allowCredentials`): the soft passkey is not discoverable, so the caller names the
    /// credential it picks (`credential_id`, base64url, e.g. the registration's `id`). Returns
    /// the `assertion` form value (without `userHandle`).
    pub fn assert_passkey(
        &mut self,
        options: &str,
        origin: &str,
        credential_id: &str,
    ) -> anyhow::Result<String> {
        let mut options: Value = serde_json::from_str(options).context("options are not JSON")?;
        options["allowCredentials"] =
            serde_json::json!([{ "type": "public-key", "id": credential_id }]);
        let options: PublicKeyCredentialRequestOptions =
            serde_json::from_value(options).context("unreadable request options")?;
        self.get(options, origin)
    }

    /// Given PingOne's `publicKeyCredentialCreationOptions` JSON text and the page origin,
    /// returns the `attestation` JSON text for the activate call.
    pub fn register(&mut self, creation_options: &str, origin: &str) -> anyhow::Result<String> {
        let mut options: Value =
            serde_json::from_str(creation_options).context("creation options are not JSON")?;
        from_signed_bytes(&mut options["challenge"]);
        from_signed_bytes(&mut options["user"]["id"]);
        for credential in options["excludeCredentials"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            from_signed_bytes(&mut credential["id"]);
        }
        let mut options: PublicKeyCredentialCreationOptions =
            serde_json::from_value(options).context("unreadable creation options")?;
        if let Some(selection) = options.authenticator_selection.as_mut() {
            selection.authenticator_attachment = None;
            selection.require_resident_key = false;
            selection.resident_key = None;
            selection.user_verification = UserVerificationPolicy::Discouraged_DO_NOT_USE;
        }
        self.create(options, origin)
    }

    /// Given `publicKeyCredentialRequestOptions` JSON text, returns the `assertion` JSON text.
    pub fn assert(&mut self, request_options: &str, origin: &str) -> anyhow::Result<String> {
        let mut options: Value =
            serde_json::from_str(request_options).context("request options are not JSON")?;
        from_signed_bytes(&mut options["challenge"]);
        for credential in options["allowCredentials"]
            .as_array_mut()
            .into_iter()
            .flatten()
        {
            from_signed_bytes(&mut credential["id"]);
        }
        let mut options: PublicKeyCredentialRequestOptions =
            serde_json::from_value(options).context("unreadable request options")?;
        options.user_verification = UserVerificationPolicy::Discouraged_DO_NOT_USE;
        self.get(options, origin)
    }

    /// Given the `publicKeyCredentialRequestOptions` of a usernameless sign-in (PingOne's wire
    /// convention, no `allowCredentials`), returns the `assertion` JSON text. The soft passkey
    /// is not discoverable, so the caller names the credential the user picks
    /// (`credential_id`, base64url, e.g. the attestation's `id`); user verification stays
    /// required, as PingOne asks.
    pub fn assert_usernameless(
        &mut self,
        request_options: &str,
        origin: &str,
        credential_id: &str,
    ) -> anyhow::Result<String> {
        let mut options: Value =
            serde_json::from_str(request_options).context("request options are not JSON")?;
        from_signed_bytes(&mut options["challenge"]);
        options["allowCredentials"] =
            serde_json::json!([{ "type": "public-key", "id": credential_id }]);
        let options: PublicKeyCredentialRequestOptions =
            serde_json::from_value(options).context("unreadable request options")?;
        self.get(options, origin)
    }

    /// `navigator.credentials.create` with `options` on the page at `origin`: the
    /// `PublicKeyCredential` JSON text a browser would hand the page.
    fn create(
        &mut self,
        options: PublicKeyCredentialCreationOptions,
        origin: &str,
    ) -> anyhow::Result<String> {
        let origin = Url::parse(origin).context("the origin is not a URL")?;
        let credential = self
            .passkey
            .do_registration(
                origin,
                CreationChallengeResponse {
                    public_key: options,
                },
            )
            .map_err(|error| anyhow!("registration failed: {error:?}"))?;
        let mut json = serde_json::to_value(&credential)?;
        rename_extensions(&mut json);
        Ok(json.to_string())
    }

    /// `navigator.credentials.get` with `options` on the page at `origin`.
    fn get(
        &mut self,
        options: PublicKeyCredentialRequestOptions,
        origin: &str,
    ) -> anyhow::Result<String> {
        let origin = Url::parse(origin).context("the origin is not a URL")?;
        let credential = self
            .passkey
            .do_authentication(
                origin,
                RequestChallengeResponse {
                    public_key: options,
                    mediation: None,
                },
            )
            .map_err(|error| anyhow!("assertion failed: {error:?}"))?;
        let mut json = serde_json::to_value(&credential)?;
        rename_extensions(&mut json);
        Ok(json.to_string())
    }
}

/// webauthn-rs names the client extension outputs `extensions`; browsers say
/// `clientExtensionResults`.
fn rename_extensions(json: &mut Value) {
    if let Some(object) = json.as_object_mut()
        && let Some(extensions) = object.remove("extensions")
    {
        object.insert("clientExtensionResults".into(), extensions);
    }
}
