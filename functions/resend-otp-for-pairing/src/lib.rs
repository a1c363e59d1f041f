//! `resendOTPForPairing`: sends a new pairing passcode to an SMS, voice or e-mail device that
//! is still `ACTIVATION_REQUIRED` (the first one expired or never arrived). The previous
//! passcode stops working.
//!
//! PingOne: `POST /environments/{envId}/users/{userId}/devices/{deviceId}`,
//! `Content-Type: application/vnd.pingidentity.device.sendActivationCode+json`. PingOne answers
//! 204 without a body [I], so the output is the device as read just before (the catalogue's
//! output is the device; the read also says what the resend sends, counted against the user's
//! limits before PingOne is asked); should PingOne answer with the device, that is used instead.
//! Never retried: a retry would send the user a second passcode.

use serde::Deserialize;
use shared::limits::Kind;
use shared::pingone::DeviceOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ResendOtpForPairing;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// the SMS, voice or e-mail device waiting for activation
    #[field(id)]
    pub device_id: String,
}

impl Handler for ResendOtpForPairing {
    const ID: &'static str = "resendOTPForPairing";
    const SUMMARY: &'static str =
        "Sends a new pairing passcode to a device waiting for activation.";
    type Input = Input;
    type Output = DeviceOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceOutput, Error> {
        let pingone = invocation.pingone();
        // The device's type says what the resend sends; counted before PingOne is asked.
        let device = pingone
            .read_device(&input.user_id, &input.device_id)
            .await?;
        let sends = device.body["type"].as_str().and_then(Kind::of_device_type);
        let sent = invocation
            .limits()
            .around(
                &input.user_id,
                sends,
                pingone.resend_pairing_otp(&input.user_id, &input.device_id),
                |_| true,
            )
            .await?;
        // PingOne may answer the resend with no body: the device as read is the answer then
        // (a resend changes nothing on it).
        match sent.body.is_object() {
            true => DeviceOutput::try_from(sent),
            false => DeviceOutput::try_from(device),
        }
    }
}
