//! `updateDeviceNickname`: renames one of a user's MFA devices (the name the user sees when
//! choosing a device).
//!
//! PingOne: `PUT /environments/{envId}/users/{userId}/devices/{deviceId}/nickname`.

use serde::Deserialize;
use shared::pingone::NicknameOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct UpdateDeviceNickname;

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
    /// the new name, 1–100 characters, not only spaces
    #[field(max_length = 100, pattern = "^.*\\S.*$")]
    pub nickname: String,
}

impl Handler for UpdateDeviceNickname {
    const ID: &'static str = "updateDeviceNickname";
    const SUMMARY: &'static str = "Renames one of a user's MFA devices.";
    type Input = Input;
    type Output = NicknameOutput;

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
