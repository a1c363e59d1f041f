//! The PingOne MFA calls behind the capabilities (pingone-api.md §3.3–§3.4) and the output
//! objects they produce.
//!
//! Outputs mirror the native connector: `rawResponse` (PingOne's JSON, untouched) and
//! `statusCode`, plus convenience copies a flow reads without digging.

use serde::Serialize;
use serde_json::{Value, json};

use super::errors::no_such_resource;
use super::management::text;
use super::{Headers, Host, PingOne, Request, Response, segment};
use crate::budget::Deadline;
use crate::error::Error;
use crate::schema::Documented;
use crate::schema::output::{pingone_output_with, string};

/// `Content-Type`s by which PingOne selects an action on a device authentication.
pub(super) mod content_type {
    pub const JSON: &str = "application/json";
    pub const DEVICE_SELECT: &str = "application/vnd.pingidentity.device.select+json";
    pub const OTP_CHECK: &str = "application/vnd.pingidentity.otp.check+json";
    pub const CANCEL: &str = "application/vnd.pingidentity.cancel.push.authentication+json";
    pub const ASSERTION_CHECK: &str = "application/vnd.pingidentity.assertion.check+json";
    pub const DEVICE_ACTIVATE: &str = "application/vnd.pingidentity.device.activate+json";
    pub const SEND_ACTIVATION_CODE: &str =
        "application/vnd.pingidentity.device.sendActivationCode+json";
    pub const DEVICES_REORDER: &str = "application/vnd.pingidentity.devices.reorder+json";
    pub const DEVICES_ORDER_REMOVE: &str = "application/vnd.pingidentity.devices.order.remove+json";
}

/// The PingOne calls of one invocation, bound to its deadline.
pub struct PingOneCalls<'a> {
    api: &'a dyn PingOne,
    deadline: Deadline,
}

impl<'a> PingOneCalls<'a> {
    /// Calls through `api`, each answering before `deadline`.
    pub fn new(api: &'a dyn PingOne, deadline: Deadline) -> Self {
        Self { api, deadline }
    }

    pub(super) async fn send(&self, request: Request) -> Result<Response, Error> {
        self.api.send(request, self.deadline).await
    }

    /// `GET …/users/{userId}/devices`.
    pub async fn list_devices(&self, user_id: &str) -> Result<Response, Error> {
        let path = format!("users/{}/devices", segment(user_id));
        self.send(Request::get(Host::Api, path)).await
    }

    /// `POST {auth}/{envId}/deviceAuthentications`: starts an MFA authentication.
    pub async fn create_device_authentication(&self, body: Value) -> Result<Response, Error> {
        let request = Request::post(
            Host::Auth,
            "deviceAuthentications".into(),
            content_type::JSON,
            body,
        );
        self.send(request).await
    }

    /// `GET {auth}/{envId}/deviceAuthentications/{id}`, answered only if the authentication is
    /// `user_id`'s: the current state (push polling) and the proof every action on it needs.
    ///
    /// Another user's authentication answers exactly as an unknown id does, `NOT_FOUND`, so a
    /// caller cannot learn that the id exists. PingOne has no user-scoped path for
    /// authentications, so the binding is this read, not a token of ours: the id a flow carries
    /// stays PingOne's (Ping's own nodes and ours interoperate), there is no key to manage or
    /// rotate, and the owner is read from PingOne itself at the moment of the call (it never
    /// changes once the authentication is started, so nothing can move between the read and
    /// the action). Its price is one GET before each action; `make bench` measures it.
    pub async fn users_authentication<'id>(
        &self,
        user_id: &str,
        id: &'id str,
    ) -> Result<(UsersAuthentication<'id>, Response), Error> {
        let response = self
            .send(Request::get(Host::Auth, device_authentication(id)))
            .await?;
        // Fails closed: an authentication without an owner (a usernameless one not yet
        // completed) is nobody's, so no user may act on it through these calls.
        let owner = response.body.pointer("/user/id").and_then(Value::as_str);
        if owner != Some(user_id) {
            return Err(no_such_resource());
        }
        Ok((UsersAuthentication { id }, response))
    }

    /// `GET {auth}/{envId}/deviceAuthentications/{id}`, answered only if nobody owns the
    /// authentication yet: a usernameless passkey sign-in waiting for its assertion, the one
    /// kind of authentication a caller may act on without naming a user, because the assertion
    /// itself proves who signs in (PingOne checks it against the credential and takes the
    /// credential's owner as the user). Every authentication with an owner answers
    /// `NOT_FOUND`, like an unknown id: naming no user reaches nobody's authentication.
    pub async fn unclaimed_authentication<'id>(
        &self,
        id: &'id str,
    ) -> Result<(UsersAuthentication<'id>, Response), Error> {
        let response = self
            .send(Request::get(Host::Auth, device_authentication(id)))
            .await?;
        let owned = response.body.pointer("/user/id").is_some();
        let waiting = response.body["status"].as_str() == Some("ASSERTION_REQUIRED");
        if owned || !waiting {
            return Err(no_such_resource());
        }
        Ok((UsersAuthentication { id }, response))
    }

    /// `device.select`: the user picked one of the offered devices.
    pub async fn select_device(
        &self,
        authentication: &UsersAuthentication<'_>,
        device_id: &str,
        compatibility: Option<&str>,
    ) -> Result<Response, Error> {
        let mut body = json!({ "device": { "id": device_id } });
        if let Some(compatibility) = compatibility {
            body["compatibility"] = json!(compatibility);
        }
        let request = Request::post(
            Host::Auth,
            device_authentication(authentication.id),
            content_type::DEVICE_SELECT,
            body,
        );
        self.send(request).await
    }

    /// `otp.check`: the passcode the user typed.
    pub async fn check_otp(
        &self,
        authentication: &UsersAuthentication<'_>,
        otp: &str,
    ) -> Result<Response, Error> {
        let request = Request::post(
            Host::Auth,
            device_authentication(authentication.id),
            content_type::OTP_CHECK,
            json!({ "otp": otp }),
        );
        self.send(request).await
    }

    /// `cancel.push.authentication`: abandons the authentication (or goes back to device
    /// selection, for `CHANGE_DEVICE`).
    pub async fn cancel_device_authentication(
        &self,
        authentication: &UsersAuthentication<'_>,
        reason: &str,
    ) -> Result<Response, Error> {
        let request = Request::post(
            Host::Auth,
            device_authentication(authentication.id),
            content_type::CANCEL,
            json!({ "reason": reason }),
        );
        self.send(request).await
    }
}

impl PingOneCalls<'_> {
    /// `assertion.check`: the FIDO2 (WebAuthn) or PingID desktop assertion for the challenge
    /// of an `ASSERTION_REQUIRED` authentication.
    pub async fn check_assertion(
        &self,
        authentication: &UsersAuthentication<'_>,
        assertion: &str,
        origin: &str,
        compatibility: Option<&str>,
    ) -> Result<Response, Error> {
        let mut body = json!({ "assertion": assertion, "origin": origin });
        if let Some(compatibility) = compatibility {
            body["compatibility"] = json!(compatibility);
        }
        let request = Request::post(
            Host::Auth,
            device_authentication(authentication.id),
            content_type::ASSERTION_CHECK,
            body,
        );
        self.send(request).await
    }
}

/// A device authentication shown to belong to the user a capability acts for: only
/// [`PingOneCalls::users_authentication`] makes one, and every action on an authentication
/// takes one, so no action can reach another user's authentication.
#[derive(Debug)]
pub struct UsersAuthentication<'id> {
    id: &'id str,
}

fn device_authentication(id: &str) -> String {
    format!("deviceAuthentications/{}", segment(id))
}

/// Output of the device-authentication capabilities.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceAuthenticationOutput {
    /// PingOne's deviceAuthentication resource as it came.
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use.
    pub headers: Headers,
    /// Copy of `rawResponse.id`: the handle every later step takes.
    pub device_authentication_id: String,
    /// Copy of `rawResponse.status`, e.g. `OTP_REQUIRED`, `COMPLETED`.
    pub status: String,
    /// Copy of `rawResponse.user.id`: whose authentication it is (every later step takes it).
    /// Absent only while a usernameless sign-in waits for the passkey that names the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

impl TryFrom<Response> for DeviceAuthenticationOutput {
    type Error = Error;

    /// Fails closed: a body without an id, a status and its user is not taken for an answer;
    /// the one authentication without a user is a usernameless sign-in still waiting for its
    /// assertion (`ASSERTION_REQUIRED`).
    fn try_from(response: Response) -> Result<Self, Error> {
        let status = text(&response.body, "status", "deviceAuthentication")?;
        let user_id = response
            .body
            .pointer("/user/id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        if user_id.is_none()
            && (status != "ASSERTION_REQUIRED" || response.body.get("user").is_some())
        {
            return Err(Error::UpstreamInvalid(
                "deviceAuthentication without `user.id`".into(),
            ));
        }
        Ok(Self {
            device_authentication_id: text(&response.body, "id", "deviceAuthentication")?,
            status,
            user_id,
            status_code: response.status,
            headers: response.headers,
            raw_response: response.body,
        })
    }
}

impl Documented for DeviceAuthenticationOutput {
    fn json_schema() -> Value {
        pingone_output_with(
            "DeviceAuthenticationOutput",
            "An MFA authentication (PingOne deviceAuthentication)",
            &[
                (
                    "deviceAuthenticationId",
                    string("Copy of rawResponse.id: the handle every later step takes"),
                ),
                (
                    "status",
                    string("Copy of rawResponse.status, e.g. OTP_REQUIRED, COMPLETED"),
                ),
                (
                    "userId",
                    string(
                        "Copy of rawResponse.user.id: whose authentication it is; absent only while a usernameless sign-in waits for its passkey",
                    ),
                ),
            ],
            &["userId"],
        )
    }
}

/// Output of `readAllDevicesPingID`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DevicesOutput {
    /// PingOne's device list as it came.
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use.
    pub headers: Headers,
    /// Copy of `rawResponse._embedded.devices`.
    pub devices: Vec<Value>,
}

impl TryFrom<Response> for DevicesOutput {
    type Error = Error;

    fn try_from(response: Response) -> Result<Self, Error> {
        let devices = response
            .body
            .pointer("/_embedded/devices")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                Error::UpstreamInvalid("device list without _embedded.devices".into())
            })?;
        Ok(Self {
            raw_response: response.body,
            status_code: response.status,
            headers: response.headers,
            devices,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::output::assert_documented;

    #[test]
    fn a_device_authentication_needs_an_id_and_a_status() {
        let ok = Response::new(
            200,
            json!({"id": "da-1", "status": "OTP_REQUIRED", "user": {"id": "u1"}}),
        );
        let output = DeviceAuthenticationOutput::try_from(ok).unwrap();
        assert_eq!(
            (
                output.device_authentication_id.as_str(),
                output.status.as_str()
            ),
            ("da-1", "OTP_REQUIRED")
        );
        // A usernameless sign-in has no user until its passkey names one.
        let usernameless =
            Response::new(200, json!({"id": "da-2", "status": "ASSERTION_REQUIRED"}));
        let output = DeviceAuthenticationOutput::try_from(usernameless).unwrap();
        assert_eq!(output.user_id, None);
        assert_documented(&output);
        for body in [
            json!({"id": "da-1", "status": "COMPLETED"}),
            json!({"id": "da-1", "status": "ASSERTION_REQUIRED", "user": {}}),
            json!({"id": "da-1"}),
            json!({"status": "COMPLETED"}),
            json!({"id": "", "status": "COMPLETED"}),
            json!(null),
        ] {
            let response = Response::new(200, body);
            assert_eq!(
                DeviceAuthenticationOutput::try_from(response)
                    .unwrap_err()
                    .code(),
                "UPSTREAM_INVALID"
            );
        }
    }

    #[test]
    fn devices_are_copied_out_of_the_embedded_list() {
        let body = json!({"_embedded": {"devices": [{"id": "d1", "type": "SMS"}]}, "count": 1});
        let output = DevicesOutput::try_from(Response::new(200, body)).unwrap();
        assert_eq!(output.devices, [json!({"id": "d1", "type": "SMS"})]);
        let missing = Response::new(200, json!({"count": 0}));
        assert!(DevicesOutput::try_from(missing).is_err());
    }

    #[test]
    fn authentications_serialize_as_documented() {
        let body = json!({"id": "da-1", "status": "OTP_REQUIRED", "user": {"id": "u1"},
            "_embedded": {"devices": [{"id": "d1", "type": "SMS"}]}});
        let output = DeviceAuthenticationOutput::try_from(Response::new(200, body)).unwrap();
        assert_documented(&output);
    }
}
