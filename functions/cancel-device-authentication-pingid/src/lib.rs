//! `cancelDeviceAuthenticationPingID`: abandons an authentication (the user signed out, or
//! wants another device, or to add one).
//!
//! `reason` follows the connector: `SIGNOUT`, `CHANGE_DEVICE` and `ADD_DEVICE` pass through;
//! anything else, or none, becomes `DEFAULT`.
//!
//! Only `userId`'s authentication is touched: another user's answers `404 NOT_FOUND`, like an
//! unknown id, before anything is sent to it (see `PingOneCalls::users_authentication`).
//!
//! PingOne: `GET` then `POST {auth}/{envId}/deviceAuthentications/{id}`,
//! `Content-Type: application/vnd.pingidentity.cancel.push.authentication+json`.

use serde::Deserialize;
use shared::pingone::DeviceAuthenticationOutput;
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct CancelDeviceAuthentication;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id: the authentication must be this user's (another's answers NOT_FOUND)
    #[field(id)]
    pub user_id: String,
    /// the authentication to cancel
    #[field(id)]
    pub device_authentication_id: String,
    /// SIGNOUT, CHANGE_DEVICE or ADD_DEVICE; anything else means DEFAULT
    // Any text is accepted: [`reason`] maps it to what PingOne knows.
    #[field(max_length = 100)]
    pub reason: Option<String>,
}

/// The reason PingOne is told.
pub fn reason(given: Option<&str>) -> &'static str {
    match given {
        Some("SIGNOUT") => "SIGNOUT",
        Some("CHANGE_DEVICE") => "CHANGE_DEVICE",
        Some("ADD_DEVICE") => "ADD_DEVICE",
        _ => "DEFAULT",
    }
}

impl Handler for CancelDeviceAuthentication {
    const ID: &'static str = "cancelDeviceAuthenticationPingID";
    const SUMMARY: &'static str = "Abandons an authentication (sign-out, change or add device).";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let pingone = invocation.pingone();
        let (authentication, _) = pingone
            .users_authentication(&input.user_id, &input.device_authentication_id)
            .await?;
        let response = pingone
            .cancel_device_authentication(&authentication, reason(input.reason.as_deref()))
            .await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}

#[cfg(test)]
mod tests {
    use super::reason;

    #[test]
    fn known_reasons_pass_and_everything_else_is_default() {
        assert_eq!(reason(Some("SIGNOUT")), "SIGNOUT");
        assert_eq!(reason(Some("CHANGE_DEVICE")), "CHANGE_DEVICE");
        assert_eq!(reason(Some("ADD_DEVICE")), "ADD_DEVICE");
        assert_eq!(reason(Some("signout")), "DEFAULT");
        assert_eq!(reason(Some("anything")), "DEFAULT");
        assert_eq!(reason(None), "DEFAULT");
    }
}
