//! `readUserMFAEnabled`: whether MFA is switched on for a user (a flow checks it before
//! enrolling or challenging).
//!
//! PingOne: `GET /environments/{envId}/users/{userId}/mfaEnabled`.

use serde::Deserialize;
use shared::pingone::MfaEnabledOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ReadUserMfaEnabled;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
}

impl Handler for ReadUserMfaEnabled {
    const ID: &'static str = "readUserMFAEnabled";
    const SUMMARY: &'static str = "Reads whether MFA is on for a user.";
    type Input = Input;
    type Output = MfaEnabledOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<MfaEnabledOutput, Error> {
        let response = invocation
            .pingone()
            .read_mfa_enabled(&input.user_id)
            .await?;
        MfaEnabledOutput::try_from(response)
    }
}
