//! `activateDevice`: finishes pairing a device that is `ACTIVATION_REQUIRED`, with what proves
//! the user holds it:
//! - `otp`: the pairing passcode sent by SMS, voice or e-mail, or a code from the authenticator
//!   app (TOTP), the OATH token or the YubiKey. `oathResync` asks PingOne to resynchronise a
//!   drifted OATH token with this code.
//! - `attestation` + `origin`: a FIDO2 device's WebAuthn attestation (the JSON text of the
//!   browser's `PublicKeyCredential`) or the PingID desktop app's attestation JWT, and the page
//!   origin the ceremony ran on.
//!
//! A wrong passcode answers `400 INVALID_OTP` with the attempts left. Sent once, never retried;
//! the passcode never appears in a log line. Each passcode is a guess counted against the user's
//! allowance of passcode checks (`shared::limits`) before PingOne is called: PingOne stops a
//! device after a few wrong ones, but devices can be created again and again.
//!
//! PingOne: `POST /environments/{envId}/users/{userId}/devices/{deviceId}`,
//! `Content-Type: application/vnd.pingidentity.device.activate+json`.

use serde::Deserialize;
use serde_json::json;
use shared::limits::Kind;
use shared::pingone::DeviceOutput;
use shared::schema::{ORIGIN_PATTERN, OTP_PATTERN};
use shared::secrets::Secret;
use shared::{Error, FieldProblem, Handler, Invocation};

/// The capability.
pub struct ActivateDevice;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// the device returned by createDevicePingID
    #[field(id)]
    pub device_id: String,
    /// pairing passcode, or a code from the TOTP app, OATH token or YubiKey
    #[field(max_length = 64, pattern = OTP_PATTERN)]
    pub otp: Option<Secret<String>>,
    /// FIDO2: JSON text of the PublicKeyCredential; desktop: the app's JWT
    #[field(max_length = 16_384, pattern = "^\\S")]
    pub attestation: Option<String>,
    /// origin of the page that ran the ceremony (with attestation)
    #[field(max_length = 255, pattern = ORIGIN_PATTERN)]
    pub origin: Option<String>,
    /// resynchronise an OATH token (with otp)
    pub oath_resync: Option<bool>,
}

/// What proves possession, once the inputs agree.
enum Proof<'a> {
    Otp {
        otp: &'a str,
        resync: bool,
    },
    Attestation {
        attestation: &'a str,
        origin: &'a str,
    },
}

impl Input {
    /// Exactly one proof, with only the fields that go with it; every disagreement is listed.
    fn proof(&self) -> Result<Proof<'_>, Error> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, text: &str| {
            problems.push(FieldProblem::new(format!("properties.{field}"), text));
        };
        let proof = match (&self.otp, &self.attestation) {
            (Some(otp), None) => {
                if self.origin.is_some() {
                    problem("origin", "applies only with attestation");
                }
                Some(Proof::Otp {
                    otp: otp.expose(),
                    resync: self.oath_resync.unwrap_or(false),
                })
            }
            (None, Some(attestation)) => {
                if self.oath_resync.is_some() {
                    problem("oathResync", "applies only with otp");
                }
                match &self.origin {
                    Some(origin) => Some(Proof::Attestation {
                        attestation,
                        origin,
                    }),
                    None => {
                        problem("origin", "is required with attestation");
                        None
                    }
                }
            }
            (Some(_), Some(_)) => {
                problem("attestation", "must not be given together with otp");
                None
            }
            (None, None) => {
                problem("otp", "either otp or attestation is required");
                None
            }
        };
        match proof {
            Some(proof) if problems.is_empty() => Ok(proof),
            _ => Err(Error::Validation(problems)),
        }
    }
}

impl Handler for ActivateDevice {
    const ID: &'static str = "activateDevice";
    const SUMMARY: &'static str = "Finishes pairing a device with an OTP or an attestation.";
    type Input = Input;
    type Output = DeviceOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceOutput, Error> {
        let proof = input.proof()?;
        if let Proof::Otp { .. } = proof {
            // A passcode checked is spent whatever the answer: guesses are what is counted.
            let _spent = invocation
                .limits()
                .take(&input.user_id, Kind::OtpCheck)
                .await?;
        }
        let body = match proof {
            Proof::Otp { otp, resync: false } => json!({ "otp": otp }),
            Proof::Otp { otp, resync: true } => json!({ "otp": otp, "oathResync": true }),
            Proof::Attestation {
                attestation,
                origin,
            } => json!({ "attestation": attestation, "origin": origin }),
        };
        let response = invocation
            .pingone()
            .activate_device(&input.user_id, &input.device_id, body)
            .await?;
        DeviceOutput::try_from(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn input(properties: Value) -> Input {
        let mut base = json!({
            "userId": "b0b00000-0000-4000-8000-000000000002",
            "deviceId": "b0b00000-0000-4000-8000-0000000000d1",
        });
        base.as_object_mut()
            .unwrap()
            .extend(properties.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    fn problems(properties: Value) -> Vec<String> {
        match input(properties).proof() {
            Err(Error::Validation(problems)) => problems.into_iter().map(|p| p.field).collect(),
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn one_proof_with_its_own_fields() {
        assert!(matches!(
            input(json!({"otp": "123456", "oathResync": true})).proof(),
            Ok(Proof::Otp { resync: true, .. })
        ));
        assert!(matches!(
            input(json!({"attestation": "{}", "origin": "https://a.example"})).proof(),
            Ok(Proof::Attestation { .. })
        ));
        assert_eq!(problems(json!({})), ["properties.otp"]);
        assert_eq!(
            problems(json!({"otp": "123456", "attestation": "{}"})),
            ["properties.attestation"]
        );
        assert_eq!(
            problems(json!({"attestation": "{}"})),
            ["properties.origin"]
        );
        assert_eq!(
            problems(json!({"otp": "123456", "origin": "https://a.example"})),
            ["properties.origin"]
        );
        assert_eq!(
            problems(json!({"attestation": "{}", "oathResync": true})),
            ["properties.oathResync", "properties.origin"]
        );
    }
}
