//! `readAllDevicesPingID`: the MFA devices a user has paired, in their order (default first).
//!
//! PingOne: `GET /environments/{envId}/users/{userId}/devices`.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::DevicesOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct ReadAllDevices;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The PingOne user whose devices are listed.
    pub user_id: String,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::new(vec![
        Field::id("userId")
            .required()
            .describe("PingOne user id (the flow's pingIdUserId)"),
    ])
});

impl Handler for ReadAllDevices {
    const ID: &'static str = "readAllDevicesPingID";
    type Input = Input;
    type Output = DevicesOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DevicesOutput, Error> {
        let response = invocation.pingone().list_devices(&input.user_id).await?;
        DevicesOutput::try_from(response)
    }
}
