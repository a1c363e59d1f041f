//! `readDevice`: one of a user's MFA devices, with its status (`ACTIVE` or
//! `ACTIVATION_REQUIRED`).
//!
//! PingOne: `GET /environments/{envId}/users/{userId}/devices/{deviceId}`. A device of another
//! user is `NOT_FOUND`: PingOne scopes the device to the user in the path.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::DeviceOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct ReadDevice;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The device's owner.
    pub user_id: String,
    /// The device.
    pub device_id: String,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::new(vec![
        Field::string("userId")
            .id()
            .required()
            .describe("PingOne user id"),
        Field::string("deviceId")
            .id()
            .required()
            .describe("the user's MFA device"),
    ])
});

impl Handler for ReadDevice {
    const ID: &'static str = "readDevice";
    const SUMMARY: &'static str = "Reads one of a user's MFA devices.";
    type Input = Input;
    type Output = DeviceOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

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
