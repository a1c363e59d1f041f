//! What a journey answers at each step: the step and what its screen needs, and the actions
//! the client may take next with their input fields, so a client needs no knowledge of the
//! state machine beyond following them.

use serde::Serialize;
use serde_json::Value;

use super::authentication::{Backup, Mandatory, Switches};

/// How long a client should wait before polling a pending push again.
pub const POLL_AFTER_SECONDS: u32 = 2;

/// A journey's step, as the answer shows it (`step` names it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "step",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Step {
    /// The user picks a device or a backup.
    DeviceSelection {
        /// The user's devices, contact details masked (PingOne's `_embedded.devices`).
        devices: Vec<Value>,
        /// The backups on offer.
        backups: Vec<Backup>,
        /// The flow's `AdminMessage`.
        #[serde(skip_serializing_if = "Option::is_none")]
        admin_message: Option<String>,
    },
    /// A push is on its way to the PingID app.
    PushPending {
        /// When to poll again.
        poll_after_seconds: u32,
    },
    /// A passcode is expected.
    OtpRequired {
        /// Where it comes from: the device type (`SMS`, `EMAIL`, `MOBILE` for the app's code, …).
        channel: String,
        /// The phone or address it went to, masked.
        #[serde(skip_serializing_if = "Option::is_none")]
        destination: Option<String>,
        /// Wrong passcodes the user may still type, when PingOne said.
        #[serde(skip_serializing_if = "Option::is_none")]
        attempts_left: Option<u32>,
    },
    /// A WebAuthn assertion is expected.
    AssertionRequired {
        /// PingOne's request options, for `navigator.credentials.get`.
        public_key_credential_request_options: Value,
    },
    /// Methods the deployment makes mandatory are not all paired yet.
    RegistrationRequired {
        /// Every mandatory method, `paired` or `not paired`.
        mandatory: Vec<Mandatory>,
    },
    /// Done: the user is authenticated.
    Completed {
        /// The method used (a PingOne device type), when one was.
        #[serde(skip_serializing_if = "Option::is_none")]
        method: Option<String>,
    },
    /// Ended without authenticating.
    Failed {
        /// A stable reason.
        reason: &'static str,
    },
    /// The policy refused the sign-in; nothing was sent.
    Denied {
        /// The policy's reasons.
        reasons: Vec<String>,
    },
}

/// One action the client may take: its name and its input fields with what each holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionSpec {
    /// The `action` value to send.
    pub action: &'static str,
    /// Input field → what it holds.
    pub fields: std::collections::BTreeMap<&'static str, &'static str>,
}

fn action(name: &'static str, fields: &[(&'static str, &'static str)]) -> ActionSpec {
    ActionSpec {
        action: name,
        fields: fields.iter().copied().collect(),
    }
}

impl Step {
    /// Whether the journey is over (no continuation, no action).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Step::Completed { .. } | Step::Failed { .. } | Step::Denied { .. }
        )
    }

    /// What the client may do now.
    pub fn actions(&self, switches: &Switches) -> Vec<ActionSpec> {
        let cancel = action("cancel", &[]);
        match self {
            Step::DeviceSelection { backups, .. } => {
                let mut select = vec![("deviceId", "the id of one of the devices listed")];
                if !backups.is_empty() {
                    select.push(("backup", "or one of the backups listed: SMS, VOICE, EMAIL"));
                }
                vec![action("select", &select), cancel]
            }
            Step::PushPending { .. } => {
                let mut actions = vec![action("poll", &[])];
                if switches.use_code {
                    actions.push(action(
                        "useCode",
                        &[("otp", "the code the PingID app shows")],
                    ));
                }
                actions.push(cancel);
                actions
            }
            Step::OtpRequired { .. } => {
                vec![
                    action("otp", &[("otp", "the passcode the user typed")]),
                    cancel,
                ]
            }
            Step::AssertionRequired { .. } => vec![
                action(
                    "assertion",
                    &[
                        (
                            "assertion",
                            "the credential navigator.credentials.get returned, as JSON",
                        ),
                        ("origin", "the page's origin"),
                    ],
                ),
                cancel,
            ],
            Step::RegistrationRequired { .. } => vec![
                action(
                    "register",
                    &[("method", "one of the mandatory methods not paired yet")],
                ),
                cancel,
            ],
            Step::Completed { .. } | Step::Failed { .. } | Step::Denied { .. } => Vec::new(),
        }
    }

    /// The step a PingOne device authentication is at. A timed-out push becomes a passcode
    /// from the app when OTP fallback is on, and fails otherwise.
    pub fn of_device_authentication(
        authentication: &Value,
        switches: &Switches,
        admin_message: Option<&str>,
    ) -> Step {
        let status = authentication["status"].as_str().unwrap_or_default();
        let devices = authentication
            .pointer("/_embedded/devices")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let in_use = || devices.first().cloned().unwrap_or(Value::Null);
        match status {
            "DEVICE_SELECTION_REQUIRED" => Step::DeviceSelection {
                devices,
                backups: switches.backups.clone(),
                admin_message: admin_message.map(str::to_string),
            },
            "PUSH_CONFIRMATION_REQUIRED" => Step::PushPending {
                poll_after_seconds: POLL_AFTER_SECONDS,
            },
            "PUSH_CONFIRMATION_TIMED_OUT" if switches.otp_fallback => Step::OtpRequired {
                channel: "MOBILE".into(),
                destination: None,
                attempts_left: None,
            },
            "PUSH_CONFIRMATION_TIMED_OUT" => Step::Failed {
                reason: "PUSH_TIMED_OUT",
            },
            "OTP_REQUIRED" => {
                let device = in_use();
                Step::OtpRequired {
                    channel: device["type"].as_str().unwrap_or("OTP").to_string(),
                    destination: device["phone"]
                        .as_str()
                        .or(device["email"].as_str())
                        .map(str::to_string),
                    attempts_left: None,
                }
            }
            "ASSERTION_REQUIRED" => Step::AssertionRequired {
                public_key_credential_request_options:
                    authentication["publicKeyCredentialRequestOptions"].clone(),
            },
            "COMPLETED" => Step::Completed {
                method: in_use()["type"].as_str().map(str::to_string),
            },
            "CANCELED" => Step::Failed { reason: "CANCELED" },
            "FAILED" => Step::Failed {
                reason: match authentication
                    .pointer("/error/code")
                    .and_then(Value::as_str)
                {
                    Some("PUSH_DENIED") => "PUSH_DENIED",
                    Some("TOO_MANY_ATTEMPTS") => "TOO_MANY_ATTEMPTS",
                    _ => "AUTHENTICATION_FAILED",
                },
            },
            _ => Step::Failed {
                reason: "UNEXPECTED_STATE",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn switches(use_code: bool, otp_fallback: bool) -> Switches {
        Switches {
            backups: vec![Backup::Sms, Backup::Email],
            use_code,
            otp_fallback,
        }
    }

    fn names(actions: &[ActionSpec]) -> Vec<&str> {
        actions.iter().map(|a| a.action).collect()
    }

    #[test]
    fn each_pingone_status_is_a_step_with_its_actions() {
        let on = switches(true, true);
        let cases = [
            (
                json!({"status": "DEVICE_SELECTION_REQUIRED", "_embedded": {"devices": [{"id": "d1", "type": "SMS", "phone": "+1555*****01"}]}}),
                "DEVICE_SELECTION",
                vec!["select", "cancel"],
            ),
            (
                json!({"status": "PUSH_CONFIRMATION_REQUIRED"}),
                "PUSH_PENDING",
                vec!["poll", "useCode", "cancel"],
            ),
            (
                json!({"status": "PUSH_CONFIRMATION_TIMED_OUT"}),
                "OTP_REQUIRED",
                vec!["otp", "cancel"],
            ),
            (
                json!({"status": "OTP_REQUIRED", "_embedded": {"devices": [{"type": "EMAIL", "email": "a****@example.com"}]}}),
                "OTP_REQUIRED",
                vec!["otp", "cancel"],
            ),
            (
                json!({"status": "ASSERTION_REQUIRED", "publicKeyCredentialRequestOptions": "{}"}),
                "ASSERTION_REQUIRED",
                vec!["assertion", "cancel"],
            ),
            (
                json!({"status": "COMPLETED", "_embedded": {"devices": [{"type": "MOBILE"}]}}),
                "COMPLETED",
                vec![],
            ),
            (
                json!({"status": "FAILED", "error": {"code": "PUSH_DENIED"}}),
                "FAILED",
                vec![],
            ),
            (json!({"status": "CANCELED"}), "FAILED", vec![]),
            (json!({"status": "SOMETHING_NEW"}), "FAILED", vec![]),
        ];
        for (authentication, step, actions) in cases {
            let answer =
                Step::of_device_authentication(&authentication, &on, Some("Call the help desk"));
            let shown = serde_json::to_value(&answer).unwrap();
            assert_eq!(shown["step"], step, "{authentication}");
            assert_eq!(names(&answer.actions(&on)), actions, "{authentication}");
            assert_eq!(answer.is_final(), actions.is_empty(), "{authentication}");
        }
    }

    #[test]
    fn the_switches_shape_the_steps() {
        // Use Code off: a pending push can only be polled or cancelled
        let off = switches(false, false);
        let pending = Step::of_device_authentication(
            &json!({"status": "PUSH_CONFIRMATION_REQUIRED"}),
            &off,
            None,
        );
        assert_eq!(names(&pending.actions(&off)), ["poll", "cancel"]);
        // OTP fallback off: a timed-out push fails
        let timed_out = Step::of_device_authentication(
            &json!({"status": "PUSH_CONFIRMATION_TIMED_OUT"}),
            &off,
            None,
        );
        assert_eq!(
            timed_out,
            Step::Failed {
                reason: "PUSH_TIMED_OUT"
            }
        );
        // The selection screen carries the backups and the admin message
        let selection = Step::of_device_authentication(
            &json!({"status": "DEVICE_SELECTION_REQUIRED"}),
            &off,
            Some("Call the help desk"),
        );
        let shown = serde_json::to_value(&selection).unwrap();
        assert_eq!(shown["backups"], json!(["SMS", "EMAIL"]));
        assert_eq!(shown["adminMessage"], "Call the help desk");
        assert_eq!(
            serde_json::to_value(&selection.actions(&off)[0]).unwrap()["fields"]["backup"],
            "or one of the backups listed: SMS, VOICE, EMAIL"
        );
    }

    #[test]
    fn a_passcode_step_names_its_channel_and_masked_destination() {
        let step = Step::of_device_authentication(
            &json!({"status": "OTP_REQUIRED", "_embedded": {"devices": [{"type": "SMS", "phone": "+1555*****01"}]}}),
            &switches(true, true),
            None,
        );
        assert_eq!(
            serde_json::to_value(&step).unwrap(),
            json!({"step": "OTP_REQUIRED", "channel": "SMS", "destination": "+1555*****01"})
        );
    }
}
