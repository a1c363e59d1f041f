//! `validateAssertionDeviceAuthentication`: completes an `ASSERTION_REQUIRED` authentication
//! with what the authenticator signed: a FIDO2 (WebAuthn) assertion from the browser, or the
//! PingID desktop app's assertion.
//!
//! The flow passes `publicKeyCredentialRequestOptions` (or `pingIdDesktopCredentialRequestOptions`)
//! from `createDeviceAuthenticationPingID` to the browser, and the browser's answer back here as
//! `assertion`: the JSON text of the `PublicKeyCredential` (base64url `rawId`,
//! `response.clientDataJSON`, `authenticatorData`, `signature`, `userHandle`), or the desktop
//! app's JWT. `origin` is the page the ceremony ran on; PingOne checks it against the policy's
//! relying party. Sent once, never retried: an assertion answers one challenge.
//!
//! Only `userId`'s authentication is touched: another user's answers `404 NOT_FOUND`, like an
//! unknown id, before anything is sent to it (see `PingOneCalls::users_authentication`).
//! Without `userId` it completes a **usernameless** sign-in (started with `usernameLess`), and
//! only such a one, still unowned (`PingOneCalls::unclaimed_authentication`): the passkey's
//! assertion names the user, and the answer's `userId` is who signed in.
//!
//! PingOne: `GET` then `POST {auth}/{envId}/deviceAuthentications/{id}`,
//! `Content-Type: application/vnd.pingidentity.assertion.check+json`.

use serde::Deserialize;
use shared::pingone::DeviceAuthenticationOutput;
use shared::schema::{FIDO_COMPATIBILITY, ORIGIN_PATTERN};
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ValidateAssertionDeviceAuthentication;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id: the authentication must be this user's (another's answers NOT_FOUND); absent for a usernameless sign-in
    #[field(id)]
    pub user_id: Option<String>,
    /// the authentication in ASSERTION_REQUIRED
    #[field(id)]
    pub device_authentication_id: String,
    /// JSON text of the WebAuthn PublicKeyCredential, or the PingID desktop JWT
    #[field(max_length = 16_384, pattern = "^\\S")]
    pub assertion: String,
    /// origin of the page that ran the ceremony, e.g. https://login.example.com
    #[field(max_length = 255, pattern = ORIGIN_PATTERN)]
    pub origin: String,
    /// what the browser supports for FIDO2
    // Passed through to PingOne.
    #[field(one_of = FIDO_COMPATIBILITY)]
    pub compatibility: Option<String>,
}

impl Handler for ValidateAssertionDeviceAuthentication {
    const ID: &'static str = "validateAssertionDeviceAuthentication";
    const SUMMARY: &'static str = "Checks a FIDO2 or PingID desktop assertion.";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let pingone = invocation.pingone();
        let id = &input.device_authentication_id;
        let (authentication, _) = match &input.user_id {
            Some(user_id) => pingone.users_authentication(user_id, id).await?,
            None => pingone.unclaimed_authentication(id).await?,
        };
        let response = pingone
            .check_assertion(
                &authentication,
                &input.assertion,
                &input.origin,
                input.compatibility.as_deref(),
            )
            .await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}
