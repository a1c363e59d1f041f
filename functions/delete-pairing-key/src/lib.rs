//! `deletePairingKey`: withdraws a pairing key the user no longer needs (the flow was abandoned,
//! or a new key was shown), so it cannot be claimed later.
//!
//! PingOne: `DELETE /environments/{envId}/users/{userId}/pairingKeys/{pairingKeyId}` → 204.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::EmptyOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct DeletePairingKey;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The key's user.
    pub user_id: String,
    /// The key to withdraw.
    pub pairing_key_id: String,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::new(vec![
        Field::string("userId")
            .id()
            .required()
            .describe("PingOne user id"),
        Field::string("pairingKeyId")
            .id()
            .required()
            .describe("id returned by createPairingKeyPingID"),
    ])
});

impl Handler for DeletePairingKey {
    const ID: &'static str = "deletePairingKey";
    const SUMMARY: &'static str = "Withdraws a pairing key.";
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
            .delete_pairing_key(&input.user_id, &input.pairing_key_id)
            .await?;
        Ok(EmptyOutput::from(response))
    }
}
