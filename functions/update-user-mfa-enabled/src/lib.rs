//! `updateUserMFAEnabled`: switches MFA on (typically right after the first device is
//! enrolled) or off for a user.
//!
//! PingOne: `PUT /environments/{envId}/users/{userId}/mfaEnabled` `{"mfaEnabled": …}`.

use serde::Deserialize;
use shared::pingone::MfaEnabledOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct UpdateUserMfaEnabled;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// true to require MFA for the user, false to stop
    pub mfa_enabled: bool,
}

impl Handler for UpdateUserMfaEnabled {
    const ID: &'static str = "updateUserMFAEnabled";
    const SUMMARY: &'static str = "Switches MFA on or off for a user.";
    type Input = Input;
    type Output = MfaEnabledOutput;

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
