//! `readDeviceAuthenticationPolicy`: an MFA (PingID) policy: which methods are enabled and may
//! be paired, the PingID sections (desktop, YubiKey, PingID app configuration) and the device
//! selection mode (`authentication.deviceSelection`).
//!
//! `customDeviceAuthenticationPolicyId`, when given, wins over `deviceAuthenticationPolicyId`:
//! the catalogue's form offers a list of policies plus a custom id for one not in the list.
//!
//! PingOne: `GET /environments/{envId}/deviceAuthenticationPolicies/{policyId}`.

use std::sync::LazyLock;

use serde::Deserialize;
use shared::pingone::PolicyOutput;
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct ReadDeviceAuthenticationPolicy;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The policy.
    pub device_authentication_policy_id: String,
    /// A policy id typed by hand; wins when given.
    pub custom_device_authentication_policy_id: Option<String>,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    Schema::new(vec![
        Field::string("deviceAuthenticationPolicyId")
            .id()
            .required()
            .describe("MFA (PingID) policy id"),
        Field::string("customDeviceAuthenticationPolicyId")
            .id()
            .describe("a policy id that replaces deviceAuthenticationPolicyId"),
    ])
});

impl Handler for ReadDeviceAuthenticationPolicy {
    const ID: &'static str = "readDeviceAuthenticationPolicy";
    const SUMMARY: &'static str = "Reads an MFA (PingID) policy.";
    type Input = Input;
    type Output = PolicyOutput;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

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
