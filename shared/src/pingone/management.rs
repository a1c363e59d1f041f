//! The PingOne management calls behind enrollment and device management (pingone-api.md §3.2,
//! §3.3, §3.5) and the output objects they produce.
//!
//! Outputs follow the connector's envelope: `rawResponse` (PingOne's JSON, untouched),
//! `statusCode`, and the convenience copies the capability catalogue names (`device`,
//! `pairingKey`, `mfaEnabled`, `deviceAuthenticationPolicy`, …). Every `TryFrom<Response>` fails
//! closed: a body without the fields a flow branches on is `UPSTREAM_INVALID`, never a success.

use serde::Serialize;
use serde_json::{Value, json};

use super::mfa::content_type;
use super::{Headers, Host, PingOneCalls, Request, Response, segment};
use crate::error::Error;
use crate::schema::Documented;
use crate::schema::output::{any_object, array, boolean, pingone_output, string};

impl PingOneCalls<'_> {
    /// `POST …/users/{userId}/devices`: enrolls a device (`body` as PingOne wants it).
    pub async fn create_device(&self, user_id: &str, body: Value) -> Result<Response, Error> {
        let request = Request::post(Host::Api, devices(user_id), content_type::JSON, body);
        self.send(request).await
    }

    /// `GET …/users/{userId}/devices/{deviceId}`.
    pub async fn read_device(&self, user_id: &str, device_id: &str) -> Result<Response, Error> {
        self.send(Request::get(Host::Api, device(user_id, device_id)))
            .await
    }

    /// `DELETE …/users/{userId}/devices/{deviceId}`: unpairs the device.
    pub async fn delete_device(&self, user_id: &str, device_id: &str) -> Result<Response, Error> {
        let request = Request::delete(Host::Api, device(user_id, device_id), content_type::JSON);
        self.send(request).await
    }

    /// `device.activate`: finishes pairing with an OTP, or a WebAuthn / desktop attestation.
    pub async fn activate_device(
        &self,
        user_id: &str,
        device_id: &str,
        body: Value,
    ) -> Result<Response, Error> {
        let request = Request::post(
            Host::Api,
            device(user_id, device_id),
            content_type::DEVICE_ACTIVATE,
            body,
        );
        self.send(request).await
    }

    /// `device.sendActivationCode`: sends a new pairing OTP (the previous one stops working).
    pub async fn resend_pairing_otp(
        &self,
        user_id: &str,
        device_id: &str,
    ) -> Result<Response, Error> {
        let request = Request::post(
            Host::Api,
            device(user_id, device_id),
            content_type::SEND_ACTIVATION_CODE,
            json!({}),
        );
        self.send(request).await
    }

    /// `PUT …/devices/{deviceId}/nickname`.
    pub async fn update_device_nickname(
        &self,
        user_id: &str,
        device_id: &str,
        nickname: &str,
    ) -> Result<Response, Error> {
        let path = format!("{}/nickname", device(user_id, device_id));
        let request = Request::put(Host::Api, path, json!({ "nickname": nickname }));
        self.send(request).await
    }

    /// `devices.reorder`: the listed devices first, in this order (the first is the default).
    pub async fn reorder_devices(
        &self,
        user_id: &str,
        device_ids: &[String],
    ) -> Result<Response, Error> {
        let order: Vec<Value> = device_ids.iter().map(|id| json!({ "id": id })).collect();
        let request = Request::post(
            Host::Api,
            devices(user_id),
            content_type::DEVICES_REORDER,
            json!({ "order": order }),
        );
        self.send(request).await
    }

    /// `devices.order.remove`: back to PingOne's own order.
    pub async fn remove_device_order(&self, user_id: &str) -> Result<Response, Error> {
        let request = Request::delete(
            Host::Api,
            devices(user_id),
            content_type::DEVICES_ORDER_REMOVE,
        );
        self.send(request).await
    }

    /// `POST …/users/{userId}/pairingKeys`: a key the PingID mobile app claims to pair.
    pub async fn create_pairing_key(
        &self,
        user_id: &str,
        application_ids: &[String],
    ) -> Result<Response, Error> {
        let mut body = json!({});
        if !application_ids.is_empty() {
            let applications: Vec<Value> = application_ids
                .iter()
                .map(|id| json!({ "id": id }))
                .collect();
            body["applications"] = Value::Array(applications);
        }
        let path = format!("users/{}/pairingKeys", segment(user_id));
        let request = Request::post(Host::Api, path, content_type::JSON, body);
        self.send(request).await
    }

    /// `GET …/pairingKeys/{pairingKeyId}`: whether the app has claimed it yet.
    pub async fn read_pairing_key(
        &self,
        user_id: &str,
        pairing_key_id: &str,
    ) -> Result<Response, Error> {
        self.send(Request::get(
            Host::Api,
            pairing_key(user_id, pairing_key_id),
        ))
        .await
    }

    /// `DELETE …/pairingKeys/{pairingKeyId}`.
    pub async fn delete_pairing_key(
        &self,
        user_id: &str,
        pairing_key_id: &str,
    ) -> Result<Response, Error> {
        let path = pairing_key(user_id, pairing_key_id);
        self.send(Request::delete(Host::Api, path, content_type::JSON))
            .await
    }

    /// `GET …/users/{userId}`: the user's profile (its `mobilePhone`, `primaryPhone`, `email`).
    pub async fn read_user(&self, user_id: &str) -> Result<Response, Error> {
        self.send(Request::get(
            Host::Api,
            format!("users/{}", segment(user_id)),
        ))
        .await
    }

    /// `GET …/users/{userId}/mfaEnabled`.
    pub async fn read_mfa_enabled(&self, user_id: &str) -> Result<Response, Error> {
        self.send(Request::get(Host::Api, mfa_enabled(user_id)))
            .await
    }

    /// `PUT …/users/{userId}/mfaEnabled`.
    pub async fn update_mfa_enabled(
        &self,
        user_id: &str,
        enabled: bool,
    ) -> Result<Response, Error> {
        let body = json!({ "mfaEnabled": enabled });
        self.send(Request::put(Host::Api, mfa_enabled(user_id), body))
            .await
    }

    /// `GET …/deviceAuthenticationPolicies/{policyId}`.
    pub async fn read_policy(&self, policy_id: &str) -> Result<Response, Error> {
        let path = format!("deviceAuthenticationPolicies/{}", segment(policy_id));
        self.send(Request::get(Host::Api, path)).await
    }

    /// `GET …/mfaSettings`: the environment's MFA settings (pairing limits and key format,
    /// lockout).
    pub async fn read_mfa_settings(&self) -> Result<Response, Error> {
        self.send(Request::get(Host::Api, "mfaSettings".into()))
            .await
    }

    /// `GET …/deviceAuthenticationPolicies`: all of them (an environment has a handful).
    pub async fn list_policies(&self) -> Result<Response, Error> {
        self.send(Request::get(
            Host::Api,
            "deviceAuthenticationPolicies".into(),
        ))
        .await
    }
}

fn devices(user_id: &str) -> String {
    format!("users/{}/devices", segment(user_id))
}

fn device(user_id: &str, device_id: &str) -> String {
    format!("{}/{}", devices(user_id), segment(device_id))
}

fn pairing_key(user_id: &str, pairing_key_id: &str) -> String {
    format!(
        "users/{}/pairingKeys/{}",
        segment(user_id),
        segment(pairing_key_id)
    )
}

fn mfa_enabled(user_id: &str) -> String {
    format!("users/{}/mfaEnabled", segment(user_id))
}

/// A non-empty string member of `body`, or `UPSTREAM_INVALID` naming what was missing.
pub(super) fn text(body: &Value, key: &str, what: &str) -> Result<String, Error> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| Error::UpstreamInvalid(format!("{what} without `{key}`")))
}

/// Output of the capabilities that answer with one device.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceOutput {
    /// PingOne's device resource as it came.
    pub raw_response: Value,
    /// PingOne's HTTP status (201 for a new device).
    pub status_code: u16,
    /// PingOne\'s response headers a flow may use.
    pub headers: Headers,
    /// Copy of `rawResponse.id`.
    pub device_id: String,
    /// Copy of `rawResponse.status`: `ACTIVE` or `ACTIVATION_REQUIRED`.
    pub status: String,
    /// Copy of `rawResponse` under the catalogue's name.
    pub device: Value,
}

impl TryFrom<Response> for DeviceOutput {
    type Error = Error;

    fn try_from(response: Response) -> Result<Self, Error> {
        Ok(Self {
            device_id: text(&response.body, "id", "device")?,
            status: text(&response.body, "status", "device")?,
            device: response.body.clone(),
            status_code: response.status,
            headers: response.headers,
            raw_response: response.body,
        })
    }
}

impl Documented for DeviceOutput {
    fn json_schema() -> Value {
        pingone_output(
            "DeviceOutput",
            "One MFA device",
            &[
                ("deviceId", string("Copy of rawResponse.id")),
                (
                    "status",
                    string("Copy of rawResponse.status: ACTIVE or ACTIVATION_REQUIRED"),
                ),
                ("device", any_object("Copy of rawResponse")),
            ],
        )
    }
}

/// Output of a delete: PingOne answers 204 without a body, so `rawResponse` is `{}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyOutput {
    /// `{}`, or PingOne's body if it ever sends one.
    pub raw_response: Value,
    /// PingOne's HTTP status (204).
    pub status_code: u16,
    /// PingOne\'s response headers a flow may use.
    pub headers: Headers,
}

impl From<Response> for EmptyOutput {
    fn from(response: Response) -> Self {
        let raw_response = match response.body {
            Value::Null => json!({}),
            body => body,
        };
        Self {
            raw_response,
            status_code: response.status,
            headers: response.headers,
        }
    }
}

impl Documented for EmptyOutput {
    fn json_schema() -> Value {
        pingone_output(
            "EmptyOutput",
            "A deletion: PingOne's status (204) and no body",
            &[],
        )
    }
}

/// Output of `updateDeviceNickname`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NicknameOutput {
    /// PingOne's device resource as it came.
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use.
    pub headers: Headers,
    /// Copy of `rawResponse.nickname`: the name PingOne stored.
    pub nickname: String,
}

impl TryFrom<Response> for NicknameOutput {
    type Error = Error;

    fn try_from(response: Response) -> Result<Self, Error> {
        Ok(Self {
            nickname: text(&response.body, "nickname", "device")?,
            status_code: response.status,
            headers: response.headers,
            raw_response: response.body,
        })
    }
}

impl Documented for NicknameOutput {
    fn json_schema() -> Value {
        pingone_output(
            "NicknameOutput",
            "A renamed device",
            &[(
                "nickname",
                string("Copy of rawResponse.nickname: the name PingOne stored"),
            )],
        )
    }
}

/// Output of `setDeviceOrder`: the order PingOne now applies and the devices in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderOutput {
    /// PingOne's device list after the change.
    pub raw_response: Value,
    /// PingOne's HTTP status of the change.
    pub status_code: u16,
    /// PingOne's response headers a flow may use (of the change).
    pub headers: Headers,
    /// Device ids in their new order; the first is the default device.
    pub order: Vec<String>,
    /// Copy of `rawResponse._embedded.devices`, in that order.
    pub devices: Vec<Value>,
}

impl Documented for OrderOutput {
    fn json_schema() -> Value {
        pingone_output(
            "OrderOutput",
            "The user's devices after a change of order",
            &[
                (
                    "order",
                    array(
                        string("A device id"),
                        "Device ids in their new order; the first is the default device",
                    ),
                ),
                (
                    "devices",
                    array(
                        any_object("A device as PingOne lists it"),
                        "Copy of rawResponse._embedded.devices, in that order",
                    ),
                ),
            ],
        )
    }
}

/// Output of the MFA status capabilities.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MfaEnabledOutput {
    /// PingOne's body as it came.
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use.
    pub headers: Headers,
    /// Copy of `rawResponse.mfaEnabled`.
    pub mfa_enabled: bool,
}

impl TryFrom<Response> for MfaEnabledOutput {
    type Error = Error;

    fn try_from(response: Response) -> Result<Self, Error> {
        let mfa_enabled = response
            .body
            .get("mfaEnabled")
            .and_then(Value::as_bool)
            .ok_or_else(|| Error::UpstreamInvalid("MFA status without `mfaEnabled`".into()))?;
        Ok(Self {
            mfa_enabled,
            status_code: response.status,
            headers: response.headers,
            raw_response: response.body,
        })
    }
}

impl Documented for MfaEnabledOutput {
    fn json_schema() -> Value {
        pingone_output(
            "MfaEnabledOutput",
            "Whether MFA is on for the user",
            &[("mfaEnabled", boolean("Copy of rawResponse.mfaEnabled"))],
        )
    }
}

/// Output of `readDeviceAuthenticationPolicy`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyOutput {
    /// PingOne's policy resource as it came.
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use.
    pub headers: Headers,
    /// Copy of `rawResponse` under the catalogue's name.
    pub device_authentication_policy: Value,
}

impl TryFrom<Response> for PolicyOutput {
    type Error = Error;

    fn try_from(response: Response) -> Result<Self, Error> {
        text(&response.body, "id", "device authentication policy")?;
        Ok(Self {
            device_authentication_policy: response.body.clone(),
            status_code: response.status,
            headers: response.headers,
            raw_response: response.body,
        })
    }
}

impl Documented for PolicyOutput {
    fn json_schema() -> Value {
        pingone_output(
            "PolicyOutput",
            "An MFA (PingID) device authentication policy",
            &[(
                "deviceAuthenticationPolicy",
                any_object("Copy of rawResponse"),
            )],
        )
    }
}

/// Output of the pairing-key capabilities.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingKeyOutput {
    /// PingOne's pairing key as it came (with `code` and `expiresAt`).
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use.
    pub headers: Headers,
    /// Copy of `rawResponse.id`: what `readPairingKey` polls.
    pub pairing_key_id: String,
    /// Copy of `rawResponse.status` (e.g. `INITIAL` until the app claims the key).
    pub status: String,
    /// Copy of `rawResponse` under the catalogue's name.
    pub pairing_key: Value,
}

impl TryFrom<Response> for PairingKeyOutput {
    type Error = Error;

    fn try_from(response: Response) -> Result<Self, Error> {
        Ok(Self {
            pairing_key_id: text(&response.body, "id", "pairing key")?,
            status: text(&response.body, "status", "pairing key")?,
            pairing_key: response.body.clone(),
            status_code: response.status,
            headers: response.headers,
            raw_response: response.body,
        })
    }
}

impl Documented for PairingKeyOutput {
    fn json_schema() -> Value {
        pingone_output(
            "PairingKeyOutput",
            "A pairing key for the PingID mobile app (rawResponse.code is the key to show)",
            &[
                (
                    "pairingKeyId",
                    string("Copy of rawResponse.id: what readPairingKey polls"),
                ),
                (
                    "status",
                    string("Copy of rawResponse.status, e.g. INITIAL until the app claims the key"),
                ),
                ("pairingKey", any_object("Copy of rawResponse")),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::output::assert_documented;

    fn response(body: Value) -> Response {
        Response::new(200, body)
    }

    #[test]
    fn a_device_needs_an_id_and_a_status() {
        let device = json!({"id": "d1", "type": "SMS", "status": "ACTIVATION_REQUIRED"});
        let output = DeviceOutput::try_from(response(device.clone())).unwrap();
        assert_eq!(output.device_id, "d1");
        assert_eq!(output.status, "ACTIVATION_REQUIRED");
        assert_eq!(output.device, device);
        for body in [
            json!({"id": "d1"}),
            json!({"status": "ACTIVE"}),
            Value::Null,
        ] {
            let error = DeviceOutput::try_from(response(body)).unwrap_err();
            assert_eq!(error.code(), "UPSTREAM_INVALID");
        }
    }

    #[test]
    fn an_empty_answer_is_an_empty_object() {
        let output = EmptyOutput::from(Response::new(204, Value::Null));
        assert_eq!(output.raw_response, json!({}));
        assert_eq!(output.status_code, 204);
    }

    #[test]
    fn mfa_status_must_be_a_boolean() {
        let output = MfaEnabledOutput::try_from(response(json!({"mfaEnabled": true}))).unwrap();
        assert!(output.mfa_enabled);
        for body in [json!({"mfaEnabled": "true"}), json!({})] {
            assert!(MfaEnabledOutput::try_from(response(body)).is_err());
        }
    }

    #[test]
    fn pairing_keys_and_policies_need_their_ids() {
        let key = json!({"id": "k1", "code": "123456789012", "status": "INITIAL"});
        let output = PairingKeyOutput::try_from(response(key)).unwrap();
        assert_eq!(
            (output.pairing_key_id.as_str(), output.status.as_str()),
            ("k1", "INITIAL")
        );
        assert!(PairingKeyOutput::try_from(response(json!({"code": "1"}))).is_err());
        assert!(PolicyOutput::try_from(response(json!({"name": "x"}))).is_err());
        assert!(NicknameOutput::try_from(response(json!({"id": "d1"}))).is_err());
    }

    #[test]
    fn outputs_serialize_as_documented() {
        let device = json!({"id": "d1", "type": "SMS", "status": "ACTIVE", "phone": "+15555550102",
            "nickname": "Bob's phone", "user": {"id": "u1"}, "createdAt": "2026-11-28T14:44:16.724Z"});
        assert_documented(&DeviceOutput::try_from(response(device.clone())).unwrap());
        assert_documented(&EmptyOutput::from(Response::new(204, Value::Null)));
        assert_documented(&NicknameOutput::try_from(response(device.clone())).unwrap());
        assert_documented(&OrderOutput {
            raw_response: json!({"order": [{"id": "d1"}]}),
            status_code: 200,
            headers: Headers::default(),
            order: vec!["d1".into()],
            devices: vec![device],
        });
        let mfa = json!({"mfaEnabled": false, "_links": {}});
        assert_documented(&MfaEnabledOutput::try_from(response(mfa)).unwrap());
        let policy = json!({"id": "p1", "name": "Default", "sms": {"enabled": true}});
        assert_documented(&PolicyOutput::try_from(response(policy)).unwrap());
        let key = json!({"id": "k1", "code": "123456789012", "status": "INITIAL",
            "expiresAt": "2026-11-28T14:54:16.761Z"});
        assert_documented(&PairingKeyOutput::try_from(response(key)).unwrap());
    }
}
