//! `deviceSelectDeviceAuthentication`: the user picked one of the devices offered by a
//! `DEVICE_SELECTION_REQUIRED` authentication; PingOne sends the OTP or the push to it.
//!
//! PingOne: `POST {auth}/{envId}/deviceAuthentications/{id}`,
//! `Content-Type: application/vnd.pingidentity.device.select+json`.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::DeviceAuthenticationOutput;
use shared::schema::FIDO_COMPATIBILITY;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct DeviceSelectDeviceAuthentication;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The authentication waiting for a device.
    pub device_authentication_id: String,
    /// The chosen device (one of `_embedded.devices`).
    pub device_id: String,
    /// FIDO compatibility level, passed through to PingOne.
    pub compatibility: Option<String>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::new(vec![
        Field::string("deviceAuthenticationId").id().required(),
        Field::string("deviceId")
            .id()
            .required()
            .describe("one of the devices the authentication offered"),
        Field::string("compatibility")
            .one_of(FIDO_COMPATIBILITY)
            .describe("what the browser supports for FIDO2"),
    ])
});

impl Handler for DeviceSelectDeviceAuthentication {
    const ID: &'static str = "deviceSelectDeviceAuthentication";
    const SUMMARY: &'static str = "Continues an authentication with the device the user picked.";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let response = invocation
            .pingone()
            .select_device(
                &input.device_authentication_id,
                &input.device_id,
                input.compatibility.as_deref(),
            )
            .await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}
