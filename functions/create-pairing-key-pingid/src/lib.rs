//! `createPairingKeyPingID`: a pairing key for the PingID mobile app. The flow shows the key's
//! `code` (12 digits, typed or scanned as a QR code); when the app claims it, the user has a
//! `MOBILE` device. The key is valid for the policy's lifetime (10 minutes by default) and
//! PingOne keeps at most 20 valid keys per user. Poll with `readPairingKey`; withdraw an unused
//! key with `deletePairingKey`.
//!
//! `applicationIds` restricts which mobile applications may claim the key (none: any).
//! `workforcePolicyMfaPolicyId` is accepted for form compatibility with the native connector:
//! PingOne's pairing-key call takes no policy [I], the policy applies when the app claims it.
//!
//! PingOne: `POST /environments/{envId}/users/{userId}/pairingKeys`. Never retried: each call
//! makes a key, and keys count against the user's limit.

use serde::Deserialize;
use shared::pingone::PairingKeyOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct CreatePairingKey;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// PingOne application ids allowed to claim the key
    // `null` or absent: any application may claim it.
    #[field(max_items = 20, items(id))]
    pub application_ids: Option<Vec<String>>,
    /// PingID (MFA) policy id; informational
    // Accepted for compatibility; see the module docs.
    #[field(id)]
    pub workforce_policy_mfa_policy_id: Option<String>,
}

impl Handler for CreatePairingKey {
    const ID: &'static str = "createPairingKeyPingID";
    const SUMMARY: &'static str = "Creates a pairing key for the PingID mobile app.";
    type Input = Input;
    type Output = PairingKeyOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<PairingKeyOutput, Error> {
        let application_ids = input.application_ids.unwrap_or_default();
        let response = invocation
            .pingone()
            .create_pairing_key(&input.user_id, &application_ids)
            .await?;
        PairingKeyOutput::try_from(response)
    }
}
