//! `deviceSelectDeviceAuthentication`: the user picked one of the devices offered by a
//! `DEVICE_SELECTION_REQUIRED` authentication; PingOne sends the OTP or the push to it.
//!
//! Only `userId`'s authentication is touched: another user's answers `404 NOT_FOUND`, like an
//! unknown id, before anything is sent to it (see `PingOneCalls::users_authentication`).
//!
//! PingOne: `GET` then `POST {auth}/{envId}/deviceAuthentications/{id}`,
//! `Content-Type: application/vnd.pingidentity.device.select+json`.

use serde::Deserialize;
use shared::limits::Kind;
use shared::pingone::DeviceAuthenticationOutput;
use shared::schema::FIDO_COMPATIBILITY;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct DeviceSelectDeviceAuthentication;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id: the authentication must be this user's (another's answers NOT_FOUND)
    #[field(id)]
    pub user_id: String,
    /// the authentication in DEVICE_SELECTION_REQUIRED
    #[field(id)]
    pub device_authentication_id: String,
    /// one of the devices the authentication offered
    #[field(id)]
    pub device_id: String,
    /// what the browser supports for FIDO2
    // Passed through to PingOne.
    #[field(one_of = FIDO_COMPATIBILITY)]
    pub compatibility: Option<String>,
}

impl Handler for DeviceSelectDeviceAuthentication {
    const ID: &'static str = "deviceSelectDeviceAuthentication";
    const SUMMARY: &'static str = "Continues an authentication with the device the user picked.";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let pingone = invocation.pingone();
        let (authentication, current) = pingone
            .users_authentication(&input.user_id, &input.device_authentication_id)
            .await?;
        // What selecting the device sends (a push, a text or call, an e-mail), counted before
        // PingOne is asked; the offered devices and their types come with the read.
        let sends = current.body["_embedded"]["devices"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|device| device["id"] == input.device_id.as_str())
            .and_then(|device| device["type"].as_str())
            .and_then(Kind::of_device_type);
        let selected = pingone.select_device(
            &authentication,
            &input.device_id,
            input.compatibility.as_deref(),
        );
        let response = invocation
            .limits()
            .around(&input.user_id, sends, selected, |_| true)
            .await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}
