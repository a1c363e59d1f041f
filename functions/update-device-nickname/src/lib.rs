//! `updateDeviceNickname`: renames one of a user's MFA devices (the name the user sees when
//! choosing a device).
//!
//! PingOne: `PUT /environments/{envId}/users/{userId}/devices/{deviceId}/nickname`.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::NicknameOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct UpdateDeviceNickname;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The device's owner.
    pub user_id: String,
    /// The device.
    pub device_id: String,
    /// The new name.
    pub nickname: String,
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
        Field::string("nickname")
            .required()
            .max_length(100)
            .pattern("^.*\\S.*$")
            .describe("the new name, 1–100 characters, not only spaces"),
    ])
});

impl Handler for UpdateDeviceNickname {
    const ID: &'static str = "updateDeviceNickname";
    const SUMMARY: &'static str = "Renames one of a user's MFA devices.";
    type Input = Input;
    type Output = NicknameOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<NicknameOutput, Error> {
        let response = invocation
            .pingone()
            .update_device_nickname(&input.user_id, &input.device_id, &input.nickname)
            .await?;
        NicknameOutput::try_from(response)
    }
}
