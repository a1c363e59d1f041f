//! `deletePairingKey`: withdraws a pairing key the user no longer needs (the flow was abandoned,
//! or a new key was shown), so it cannot be claimed later.
//!
//! PingOne: `DELETE /environments/{envId}/users/{userId}/pairingKeys/{pairingKeyId}` → 204.

use serde::Deserialize;
use shared::pingone::EmptyOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct DeletePairingKey;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// id returned by createPairingKeyPingID
    #[field(id)]
    pub pairing_key_id: String,
}

impl Handler for DeletePairingKey {
    const ID: &'static str = "deletePairingKey";
    const SUMMARY: &'static str = "Withdraws a pairing key.";
    type Input = Input;
    type Output = EmptyOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<EmptyOutput, Error> {
        let response = invocation
            .pingone()
            .delete_pairing_key(&input.user_id, &input.pairing_key_id)
            .await?;
        Ok(EmptyOutput::from(response))
    }
}
