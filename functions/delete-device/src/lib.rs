//! `deleteDevice`: unpairs one of a user's MFA devices.
//!
//! PingOne: `DELETE /environments/{envId}/users/{userId}/devices/{deviceId}` → 204. Deleting a
//! device of another user is `NOT_FOUND`, never a deletion: PingOne scopes the device to the
//! user in the path. Not retried: a second DELETE after a lost answer would report `NOT_FOUND`
//! for a deletion that happened.

use serde::Deserialize;
use shared::pingone::EmptyOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct DeleteDevice;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// the user's MFA device to unpair
    #[field(id)]
    pub device_id: String,
}

impl Handler for DeleteDevice {
    const ID: &'static str = "deleteDevice";
    const SUMMARY: &'static str = "Unpairs one of a user's MFA devices.";
    type Input = Input;
    type Output = EmptyOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<EmptyOutput, Error> {
        let response = invocation
            .pingone()
            .delete_device(&input.user_id, &input.device_id)
            .await?;
        Ok(EmptyOutput::from(response))
    }
}
