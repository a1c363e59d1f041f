//! `readDevice`: one of a user's MFA devices, with its status (`ACTIVE` or
//! `ACTIVATION_REQUIRED`).
//!
//! PingOne: `GET /environments/{envId}/users/{userId}/devices/{deviceId}`. A device of another
//! user is `NOT_FOUND`: PingOne scopes the device to the user in the path.

use serde::Deserialize;
use shared::pingone::DeviceOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ReadDevice;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// the user's MFA device
    #[field(id)]
    pub device_id: String,
}

impl Handler for ReadDevice {
    const ID: &'static str = "readDevice";
    const SUMMARY: &'static str = "Reads one of a user's MFA devices.";
    type Input = Input;
    type Output = DeviceOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceOutput, Error> {
        let response = invocation
            .pingone()
            .read_device(&input.user_id, &input.device_id)
            .await?;
        DeviceOutput::try_from(response)
    }
}
