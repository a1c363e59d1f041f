//! `readDeviceAuthenticationPolicy`: an MFA (PingID) policy: which methods are enabled and may
//! be paired, the PingID sections (desktop, YubiKey, PingID app configuration) and the device
//! selection mode (`authentication.deviceSelection`).
//!
//! `customDeviceAuthenticationPolicyId`, when given, wins over `deviceAuthenticationPolicyId`:
//! the catalogue's form offers a list of policies plus a custom id for one not in the list.
//!
//! PingOne: `GET /environments/{envId}/deviceAuthenticationPolicies/{policyId}`.

use serde::Deserialize;
use shared::pingone::PolicyOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ReadDeviceAuthenticationPolicy;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// MFA (PingID) policy id
    #[field(id)]
    pub device_authentication_policy_id: String,
    /// a policy id that replaces deviceAuthenticationPolicyId
    #[field(id)]
    pub custom_device_authentication_policy_id: Option<String>,
}

impl Handler for ReadDeviceAuthenticationPolicy {
    const ID: &'static str = "readDeviceAuthenticationPolicy";
    const SUMMARY: &'static str = "Reads an MFA (PingID) policy.";
    type Input = Input;
    type Output = PolicyOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<PolicyOutput, Error> {
        let policy_id = input
            .custom_device_authentication_policy_id
            .as_deref()
            .unwrap_or(&input.device_authentication_policy_id);
        let response = invocation.pingone().read_policy(policy_id).await?;
        PolicyOutput::try_from(response)
    }
}
