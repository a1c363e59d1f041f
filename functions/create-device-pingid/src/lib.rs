//! `createDevicePingID`: enrolls an MFA device for a user, at registration or just in time
//! during sign-on. The user picks the method from the PingID policy's list (see
//! `readAllDevicesPingID`'s `allowedtypes`); PingOne refuses a method the policy disables.
//!
//! What comes back, by `workforceDeviceType`:
//! - `SMS`, `VOICE`, `EMAIL`: with `status` `ACTIVATION_REQUIRED`, PingOne sends a pairing
//!   passcode to `phone` / `email`; `activateDevice` takes it. `ACTIVE` pairs without a
//!   passcode: only for flows that have already proven the phone or address.
//! - `TOTP`: `secret` and `keyUri` (the QR code for the authenticator app); activate with a code.
//! - `YUBIKEY`: activate with a YubiKey OTP — or pass it here as `yubiKey` and the device is
//!   created and activated in one call.
//! - `OATH_TOKEN`: the token's `serialNumber`; activate with a code from it.
//! - `FIDO2`, `PLATFORM`, `SECURITY_KEY`: `publicKeyCredentialCreationOptions` (JSON text) for
//!   the browser's `navigator.credentials.create`; activate with the attestation. `rpId` /
//!   `rpName` name the relying party; `challenge` (base64url, at least 32 bytes) replaces
//!   PingOne's random one for flows that bind the ceremony to their own state.
//! - `PINGID_DESKTOP_GEN2` (or the seed's `PINGID_DESKTOP`, created as `PINGID_DESKTOP_GEN2`):
//!   `pingIdDesktopCredentialCreationOptions` for the desktop app; activate with the app's
//!   attestation.
//! - `PINGID_MOBILE` (or PingOne's `MOBILE`): refused with `400 VALIDATION_FAILED`. PingOne
//!   pairs the PingID mobile app only through a pairing key the app claims, never by `POST
//!   …/devices`, so the problem says to use `createPairingKeyPingID`; accepting the name only to
//!   let PingOne refuse it would give the flow a less useful answer.
//!
//! Names map to PingOne's types once, in `shared::device_type`; the output keeps PingOne's.
//!
//! Each field belongs to certain types; a field given for another type is reported, never
//! silently dropped.
//!
//! PingOne: `POST /environments/{envId}/users/{userId}/devices` (then, with `yubiKey`, the
//! `device.activate` call). Never retried: a retry could enroll the device twice.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::limits::Kind;
use shared::pingone::DeviceOutput;
use shared::schema::{EMAIL_PATTERN, OTP_PATTERN, PHONE_PATTERN};
use shared::secrets::Secret;
use shared::{Error, FieldProblem, Handler, Invocation, device_type};

/// The capability.
pub struct CreateDevice;

/// The device types a PingID (workforce) user can enroll, by PingOne's names or the seed's
/// (`PINGID_DESKTOP`); the mobile app's names are accepted only to be refused with the way to
/// pair it.
pub const DEVICE_TYPES: &[&str] = &[
    "SMS",
    "VOICE",
    "EMAIL",
    "TOTP",
    "YUBIKEY",
    "OATH_TOKEN",
    "FIDO2",
    "PLATFORM",
    "SECURITY_KEY",
    "PINGID_DESKTOP_GEN2",
    "PINGID_DESKTOP",
    "PINGID_MOBILE",
    "MOBILE",
];

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// the method to enroll
    #[field(one_of = DEVICE_TYPES)]
    pub workforce_device_type: String,
    /// ACTIVATION_REQUIRED sends a pairing passcode (SMS, VOICE, EMAIL); ACTIVE pairs without one
    #[field(one_of = &["ACTIVE", "ACTIVATION_REQUIRED"])]
    pub status: String,
    /// name of the device shown to the user
    #[field(max_length = 100)]
    pub nickname: Option<String>,
    /// SMS / VOICE: phone number in international format
    #[field(max_length = 16, pattern = PHONE_PATTERN)]
    pub phone: Option<String>,
    /// EMAIL: the address
    #[field(max_length = 254, pattern = EMAIL_PATTERN)]
    pub email: Option<String>,
    /// FIDO2 types: relying party id (a domain)
    #[field(max_length = 253, pattern = "^[A-Za-z0-9.-]+$")]
    pub rp_id: Option<String>,
    /// FIDO2 types: relying party name
    #[field(max_length = 100)]
    pub rp_name: Option<String>,
    /// FIDO2 types: the browser's user agent
    #[field(max_length = 1000)]
    pub user_agent: Option<String>,
    /// FIDO2 types: base64url challenge of at least 32 bytes
    #[field(max_length = 1024, pattern = "^[A-Za-z0-9_-]{43,}$")]
    pub challenge: Option<String>,
    /// PingID (MFA) policy id
    #[field(id)]
    pub workforce_policy_mfa_policy_id: Option<String>,
    /// YUBIKEY: an OTP from the key, to activate at once
    #[field(max_length = 64, pattern = OTP_PATTERN)]
    pub yubi_key: Option<Secret<String>>,
    /// OATH_TOKEN: the token's serial number
    #[field(max_length = 100, pattern = "^[A-Za-z0-9_-]+$")]
    pub serial_number: Option<String>,
}

/// Is `kind` one of the FIDO2 (WebAuthn) types?
fn is_fido(kind: &str) -> bool {
    matches!(kind, "FIDO2" | "PLATFORM" | "SECURITY_KEY")
}

impl Input {
    /// The PingOne type to create: the seed's names mapped (`PINGID_DESKTOP` →
    /// `PINGID_DESKTOP_GEN2`), PingOne's own kept.
    fn pingone_type(&self) -> &str {
        let name = self.workforce_device_type.as_str();
        device_type::created_as(name).unwrap_or(name)
    }

    /// PingOne's create body, once every field agrees with the type; all disagreements listed.
    fn body(&self) -> Result<Value, Error> {
        let kind = self.pingone_type();
        let mut problems = Vec::new();
        if kind == "MOBILE" {
            problems.push(FieldProblem::new(
                "properties.workforceDeviceType",
                "the PingID mobile app is not created here: pair it with a pairing key \
                 (createPairingKeyPingID) that the app claims",
            ));
        }
        let mut check = |field: &str, given: bool, belongs: bool, required: bool, types: &str| {
            if given && !belongs {
                problems.push(FieldProblem::new(
                    format!("properties.{field}"),
                    format!("applies only to {types}"),
                ));
            } else if !given && required && belongs {
                problems.push(FieldProblem::new(
                    format!("properties.{field}"),
                    format!("is required for {kind}"),
                ));
            }
        };
        let phone_type = matches!(kind, "SMS" | "VOICE");
        check(
            "phone",
            self.phone.is_some(),
            phone_type,
            true,
            "SMS and VOICE",
        );
        check(
            "email",
            self.email.is_some(),
            kind == "EMAIL",
            true,
            "EMAIL",
        );
        let serial = self.serial_number.is_some();
        check(
            "serialNumber",
            serial,
            kind == "OATH_TOKEN",
            true,
            "OATH_TOKEN",
        );
        check(
            "yubiKey",
            self.yubi_key.is_some(),
            kind == "YUBIKEY",
            false,
            "YUBIKEY",
        );
        let fido_types = "FIDO2, PLATFORM and SECURITY_KEY";
        check(
            "rpId",
            self.rp_id.is_some(),
            is_fido(kind),
            false,
            fido_types,
        );
        check(
            "rpName",
            self.rp_name.is_some(),
            is_fido(kind),
            false,
            fido_types,
        );
        check(
            "challenge",
            self.challenge.is_some(),
            is_fido(kind),
            false,
            fido_types,
        );
        check(
            "userAgent",
            self.user_agent.is_some(),
            is_fido(kind),
            false,
            fido_types,
        );
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }

        let mut body = Map::new();
        body.insert("type".into(), json!(kind));
        body.insert("status".into(), json!(self.status));
        let optional = [
            ("nickname", &self.nickname),
            ("phone", &self.phone),
            ("email", &self.email),
            ("serialNumber", &self.serial_number),
            ("challenge", &self.challenge),
            ("userAgent", &self.user_agent),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                body.insert(key.into(), json!(value));
            }
        }
        if let Some(policy_id) = &self.workforce_policy_mfa_policy_id {
            body.insert("policy".into(), json!({ "id": policy_id }));
        }
        if self.rp_id.is_some() || self.rp_name.is_some() {
            let mut rp = Map::new();
            if let Some(id) = &self.rp_id {
                rp.insert("id".into(), json!(id));
            }
            if let Some(name) = &self.rp_name {
                rp.insert("name".into(), json!(name));
            }
            body.insert("rp".into(), Value::Object(rp));
        }
        Ok(Value::Object(body))
    }
}

impl Handler for CreateDevice {
    const ID: &'static str = "createDevicePingID";
    const SUMMARY: &'static str =
        "Enrolls an MFA device (SMS, voice, email, TOTP, YubiKey, OATH, FIDO2, desktop).";
    type Input = Input;
    type Output = DeviceOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceOutput, Error> {
        if input.status == "ACTIVE" && !invocation.may_create_active_devices() {
            return Err(Error::Validation(vec![FieldProblem::new(
                "properties.status",
                "ACTIVE is not accepted from enrollment events by this deployment \
                 (AllowActiveEnrollmentFromEvents): use ACTIVATION_REQUIRED",
            )]));
        }
        let body = input.body()?;
        let pingone = invocation.pingone();
        // A device waiting for activation is sent its pairing passcode: counted like any send,
        // so enrolling and deleting a phone in a loop is no way around the limits.
        let sends = match input.status.as_str() {
            "ACTIVATION_REQUIRED" => {
                Kind::of_device_type(input.pingone_type()).filter(|kind| *kind != Kind::Push)
            }
            _ => None,
        };
        let created = invocation
            .limits()
            .around(
                &input.user_id,
                sends,
                pingone.create_device(&input.user_id, body),
                |_| true,
            )
            .await?;
        let created = DeviceOutput::try_from(created)?;
        let Some(otp) = &input.yubi_key else {
            return Ok(created);
        };
        let activation = json!({ "otp": otp.expose() });
        let activated = pingone
            .activate_device(&input.user_id, &created.device_id, activation)
            .await?;
        let mut output = DeviceOutput::try_from(activated)?;
        // The device was created by this call: say so, whatever the activation answered
        // (its `Location` included).
        output.status_code = created.status_code;
        output.headers = created.headers;
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(properties: Value) -> Input {
        let mut base = json!({
            "userId": "b0b00000-0000-4000-8000-000000000002",
            "status": "ACTIVATION_REQUIRED",
        });
        base.as_object_mut()
            .unwrap()
            .extend(properties.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn problems(properties: Value) -> Vec<(String, String)> {
        match input(properties).body() {
            Err(Error::Validation(problems)) => {
                problems.into_iter().map(|p| (p.field, p.problem)).collect()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn an_sms_device_is_a_type_a_status_and_a_phone() {
        let body = input(json!({"workforceDeviceType": "SMS", "phone": "+15555550102",
            "nickname": "Work phone", "workforcePolicyMfaPolicyId": "de7a0170-0000-4000-8000-0000000000f1"}))
        .body()
        .unwrap();
        assert_eq!(
            body,
            json!({"type": "SMS", "status": "ACTIVATION_REQUIRED", "phone": "+15555550102",
                "nickname": "Work phone", "policy": {"id": "de7a0170-0000-4000-8000-0000000000f1"}})
        );
    }

    #[test]
    fn the_seeds_desktop_is_created_as_the_second_generation() {
        let body = input(json!({"workforceDeviceType": "PINGID_DESKTOP"}))
            .body()
            .unwrap();
        assert_eq!(
            body,
            json!({"type": "PINGID_DESKTOP_GEN2", "status": "ACTIVATION_REQUIRED"})
        );
    }

    #[test]
    fn the_mobile_app_is_refused_with_the_way_to_pair_it() {
        for name in ["PINGID_MOBILE", "MOBILE"] {
            let found = problems(json!({"workforceDeviceType": name}));
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].0, "properties.workforceDeviceType");
            assert!(
                found[0].1.contains("createPairingKeyPingID"),
                "{}",
                found[0].1
            );
        }
    }

    #[test]
    fn fido_devices_carry_the_relying_party() {
        let body = input(
            json!({"workforceDeviceType": "FIDO2", "rpId": "example.com",
            "rpName": "Example"}),
        )
        .body()
        .unwrap();
        assert_eq!(body["rp"], json!({"id": "example.com", "name": "Example"}));
    }

    #[test]
    fn fields_of_other_types_and_missing_ones_are_all_named() {
        let found = problems(
            json!({"workforceDeviceType": "EMAIL", "phone": "+15555550102",
            "rpId": "example.com", "yubiKey": "cccccbcdefghijklmnop"}),
        );
        let fields: Vec<&str> = found.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "properties.phone",
                "properties.email",
                "properties.yubiKey",
                "properties.rpId"
            ]
        );
        assert_eq!(found[1].1, "is required for EMAIL");
        assert_eq!(found[0].1, "applies only to SMS and VOICE");
        let oath = problems(json!({"workforceDeviceType": "OATH_TOKEN"}));
        assert_eq!(oath[0].0, "properties.serialNumber");
    }
}
