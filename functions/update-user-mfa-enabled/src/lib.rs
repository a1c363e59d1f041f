//! `updateUserMFAEnabled`: switches MFA on (typically right after the first device is
//! enrolled) or off for a user.
//!
//! PingOne: `PUT /environments/{envId}/users/{userId}/mfaEnabled` `{"mfaEnabled": …}`.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::MfaEnabledOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct UpdateUserMfaEnabled;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The user.
    pub user_id: String,
    /// The new setting.
    pub mfa_enabled: bool,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::new(vec![
        Field::string("userId")
            .id()
            .required()
            .describe("PingOne user id"),
        Field::boolean("mfaEnabled")
            .required()
            .describe("true to require MFA for the user, false to stop"),
    ])
});

impl Handler for UpdateUserMfaEnabled {
    const ID: &'static str = "updateUserMFAEnabled";
    const SUMMARY: &'static str = "Switches MFA on or off for a user.";
    type Input = Input;
    type Output = MfaEnabledOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<MfaEnabledOutput, Error> {
        let response = invocation
            .pingone()
            .update_mfa_enabled(&input.user_id, input.mfa_enabled)
            .await?;
        MfaEnabledOutput::try_from(response)
    }
}
