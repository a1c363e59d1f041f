//! `deleteDevice`: unpairs one of a user's MFA devices.
//!
//! PingOne: `DELETE /environments/{envId}/users/{userId}/devices/{deviceId}` → 204. Deleting a
//! device of another user is `NOT_FOUND`, never a deletion: PingOne scopes the device to the
//! user in the path. Not retried: a second DELETE after a lost answer would report `NOT_FOUND`
//! for a deletion that happened.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::EmptyOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct DeleteDevice;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The device's owner.
    pub user_id: String,
    /// The device to unpair.
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
            .describe("the user's MFA device to unpair"),
    ])
});

impl Handler for DeleteDevice {
    const ID: &'static str = "deleteDevice";
    const SUMMARY: &'static str = "Unpairs one of a user's MFA devices.";
    type Input = Input;
    type Output = EmptyOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

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
