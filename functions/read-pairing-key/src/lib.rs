//! `readPairingKey`: a pairing key's state. A flow polls it after showing the key (or its QR
//! code) until the PingID mobile app has claimed it (`CLAIMED`, with the new device) or it has
//! expired.
//!
//! PingOne: `GET /environments/{envId}/users/{userId}/pairingKeys/{pairingKeyId}`.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::PairingKeyOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct ReadPairingKey;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The key's user.
    pub user_id: String,
    /// The key, from `createPairingKeyPingID`.
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

impl Handler for ReadPairingKey {
    const ID: &'static str = "readPairingKey";
    const SUMMARY: &'static str = "Reads a pairing key (claimed yet?).";
    type Input = Input;
    type Output = PairingKeyOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<PairingKeyOutput, Error> {
        let response = invocation
            .pingone()
            .read_pairing_key(&input.user_id, &input.pairing_key_id)
            .await?;
        PairingKeyOutput::try_from(response)
    }
}
