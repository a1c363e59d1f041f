//! `readDeviceAuthentication`: the current state of an MFA authentication. Flows poll it while
//! a push waits for the user (`PUSH_CONFIRMATION_REQUIRED` → `COMPLETED`, `FAILED` or
//! `PUSH_CONFIRMATION_TIMED_OUT`) instead of a Lambda blocking on the phone.
//!
//! Only `userId`'s authentication is read: another user's answers `404 NOT_FOUND`, like an
//! unknown id, so a flow handed someone else's COMPLETED authentication cannot pass it off.
//!
//! PingOne: `GET {auth}/{envId}/deviceAuthentications/{id}`.

use serde::Deserialize;
use shared::pingone::DeviceAuthenticationOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ReadDeviceAuthentication;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id: the authentication must be this user's (another's answers NOT_FOUND)
    #[field(id)]
    pub user_id: String,
    /// id returned by createDeviceAuthenticationPingID
    #[field(id)]
    pub device_authentication_id: String,
}

impl Handler for ReadDeviceAuthentication {
    const ID: &'static str = "readDeviceAuthentication";
    const SUMMARY: &'static str =
        "Reads an authentication's state (polled while a push is pending).";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let (_, response) = invocation
            .pingone()
            .users_authentication(&input.user_id, &input.device_authentication_id)
            .await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}
