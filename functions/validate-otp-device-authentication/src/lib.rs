//! `validateOtpDeviceAuthentication`: checks the passcode the user typed (SMS, voice, e-mail,
//! authenticator app, PingID "Use Code").
//!
//! A wrong or expired passcode answers `400 INVALID_OTP` with the attempts PingOne says are
//! left, so the flow can ask again; once PingOne's failure limit is reached the authentication
//! is `FAILED`. The OTP is sent once: it is never retried automatically, and it never appears
//! in a log line (it is a [`Secret`] from deserialisation on).
//!
//! Only `userId`'s authentication is touched: another user's answers `404 NOT_FOUND`, like an
//! unknown id, before anything is sent to it (see `PingOneCalls::users_authentication`).
//!
//! PingOne: `GET` then `POST {auth}/{envId}/deviceAuthentications/{id}`,
//! `Content-Type: application/vnd.pingidentity.otp.check+json`.

use serde::Deserialize;
use shared::limits::Kind;
use shared::pingone::DeviceAuthenticationOutput;
use shared::schema::OTP_PATTERN;
use shared::secrets::Secret;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ValidateOtpDeviceAuthentication;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id: the authentication must be this user's (another's answers NOT_FOUND)
    #[field(id)]
    pub user_id: String,
    /// the authentication in OTP_REQUIRED
    #[field(id)]
    pub device_authentication_id: String,
    /// the one-time passcode the user entered
    #[field(max_length = 64, pattern = OTP_PATTERN)]
    pub otp: Secret<String>,
}

impl Handler for ValidateOtpDeviceAuthentication {
    const ID: &'static str = "validateOtpDeviceAuthentication";
    const SUMMARY: &'static str = "Checks the passcode the user typed.";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let pingone = invocation.pingone();
        let (authentication, _) = pingone
            .users_authentication(&input.user_id, &input.device_authentication_id)
            .await?;
        // Guesses are counted per user across authentications: PingOne's own limit is per
        // authentication, and a new authentication is one call away.
        let _spent = invocation
            .limits()
            .take(&input.user_id, Kind::OtpCheck)
            .await?;
        let response = pingone
            .check_otp(&authentication, input.otp.expose())
            .await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}
