//! `readPairingKey`: a pairing key's state. A flow polls it after showing the key (or its QR
//! code) until the PingID mobile app has claimed it (`CLAIMED`, with the new device) or it has
//! expired.
//!
//! PingOne: `GET /environments/{envId}/users/{userId}/pairingKeys/{pairingKeyId}`.

use serde::Deserialize;
use shared::pingone::PairingKeyOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ReadPairingKey;

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

impl Handler for ReadPairingKey {
    const ID: &'static str = "readPairingKey";
    const SUMMARY: &'static str = "Reads a pairing key (claimed yet?).";
    type Input = Input;
    type Output = PairingKeyOutput;

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
