//! What a journey answers at each step: the step and what its screen needs, and the actions
//! the client may take next with their input fields, so a client needs no knowledge of the
//! state machine beyond following them.

use serde::Serialize;
use serde_json::Value;

use super::Journey;
use super::authentication::{Backup, Mandatory, Switches};
use super::state::PolicyDecision;

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
        /// Why the step is shown again: `INVALID_OTP` after a wrong app code (Use Code).
        #[serde(skip_serializing_if = "Option::is_none")]
        retry: Option<&'static str>,
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
        /// Why the step is shown again: `INVALID_OTP` after a wrong passcode.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry: Option<&'static str>,
    },
    /// A WebAuthn assertion is expected.
    AssertionRequired {
        /// PingOne's request options, for `navigator.credentials.get`.
        public_key_credential_request_options: Value,
    },
    /// Methods the deployment makes mandatory are not all paired yet: the continuation is the
    /// device-registration journey's, limited to them, and hands back here when one is paired.
    RegistrationRequired {
        /// Every mandatory method, `paired` or `not paired`.
        mandatory: Vec<Mandatory>,
    },
    /// Done: the user is authenticated.
    Completed {
        /// The method used (a PingOne device type), when one was.
        #[serde(skip_serializing_if = "Option::is_none")]
        method: Option<String>,
        /// The policy decision the journey started with, when it evaluated one.
        #[serde(skip_serializing_if = "Option::is_none")]
        decision: Option<PolicyDecision>,
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

/// One action the client may take: its name, the journey to send it to, and its input fields
/// with what each holds. The continuation and the user's id go with every action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionSpec {
    /// The `action` value to send.
    pub action: &'static str,
    /// The journey that takes it: `authentication` or `device-registration` (the route
    /// `POST /v1/journeys/{journey}`); a hand-over moves the client from one to the other.
    pub journey: &'static str,
    /// Input field → what it holds.
    pub fields: std::collections::BTreeMap<&'static str, &'static str>,
}

impl ActionSpec {
    /// Action `name` of `journey`, with its input fields.
    pub fn new(
        journey: Journey,
        name: &'static str,
        fields: &[(&'static str, &'static str)],
    ) -> Self {
        ActionSpec {
            action: name,
            journey: journey.name(),
            fields: fields.iter().copied().collect(),
        }
    }
}

fn action(name: &'static str, fields: &[(&'static str, &'static str)]) -> ActionSpec {
    ActionSpec::new(Journey::Authentication, name, fields)
}

/// A phone number as the screen shows it: the country code and area prefix and the last two
/// digits (`+15555550101` → `+1555*****01`), as PingOne masks it in device lists [I].
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let (head, tail) = if chars.len() > 8 { (5, 2) } else { (0, 2) };
    let tail = tail.min(chars.len());
    let hidden = chars.len().saturating_sub(head + tail);
    chars[..head.min(chars.len())]
        .iter()
        .chain(std::iter::repeat_n(&'*', hidden))
        .chain(&chars[chars.len() - tail..])
        .collect()
}

/// An address as the screen shows it: the first character and the domain
/// (`alice@example.com` → `a****@example.com`).
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}****@{domain}")
        }
        None => "****".to_string(),
    }
}

/// A device of the user's as a selection screen shows it: id, type, nickname, and its phone or
/// address masked; nothing else of PingOne's device (no secrets, no app details).
pub fn shown_device(device: &Value) -> Value {
    let mut shown = serde_json::Map::new();
    for key in ["id", "type"] {
        if let Some(value) = device.get(key).filter(|value| value.is_string()) {
            shown.insert(key.into(), value.clone());
        }
    }
    // A nickname may be the phone or address itself (the default of some enrollments): it is
    // masked like them.
    if let Some(nickname) = device["nickname"].as_str() {
        let contact = [&device["phone"], &device["email"]]
            .into_iter()
            .filter_map(Value::as_str)
            .find(|contact| *contact == nickname);
        let shown_name = match contact {
            Some(email) if email.contains('@') => mask_email(email),
            Some(phone) => mask_phone(phone),
            None => nickname.to_string(),
        };
        shown.insert("nickname".into(), Value::String(shown_name));
    }
    if let Some(phone) = device["phone"].as_str() {
        shown.insert("phone".into(), Value::String(mask_phone(phone)));
    }
    if let Some(email) = device["email"].as_str() {
        shown.insert("email".into(), Value::String(mask_email(email)));
    }
    Value::Object(shown)
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
                super::registration::register("one of the mandatory methods not paired yet"),
                ActionSpec::new(Journey::DeviceRegistration, "cancel", &[]),
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
                retry: None,
            },
            "PUSH_CONFIRMATION_TIMED_OUT" if switches.otp_fallback => Step::OtpRequired {
                channel: "MOBILE".into(),
                destination: None,
                attempts_left: None,
                retry: None,
            },
            "PUSH_CONFIRMATION_TIMED_OUT" => Step::Failed {
                reason: "PUSH_TIMED_OUT",
            },
            // PingOne asks for the app's code when the push cannot reach the phone: that is
            // the OTP fallback, so without it the journey fails.
            "OTP_REQUIRED" if in_use()["type"] == "MOBILE" && !switches.otp_fallback => {
                Step::Failed {
                    reason: "PUSH_UNREACHABLE",
                }
            }
            "OTP_REQUIRED" => {
                let device = in_use();
                Step::OtpRequired {
                    channel: device["type"].as_str().unwrap_or("OTP").to_string(),
                    destination: device["phone"]
                        .as_str()
                        .or(device["email"].as_str())
                        .map(str::to_string),
                    attempts_left: None,
                    retry: None,
                }
            }
            "ASSERTION_REQUIRED" => Step::AssertionRequired {
                public_key_credential_request_options:
                    authentication["publicKeyCredentialRequestOptions"].clone(),
            },
            "COMPLETED" => Step::Completed {
                method: in_use()["type"].as_str().map(str::to_string),
                decision: None,
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
    fn contact_details_are_masked_and_nothing_else_of_a_device_is_shown() {
        assert_eq!(mask_phone("+15555550101"), "+1555*****01");
        assert_eq!(mask_phone("+4930123"), "******23");
        assert_eq!(mask_email("alice@example.com"), "a****@example.com");
        assert_eq!(mask_email("not an address"), "****");
        let device = json!({"id": "d1", "type": "SMS", "phone": "+15555550101",
                            "status": "ACTIVE", "secret": "never shown", "nickname": "Work"});
        assert_eq!(
            shown_device(&device),
            json!({"id": "d1", "type": "SMS", "nickname": "Work", "phone": "+1555*****01"})
        );
        let named_by_its_phone = json!({"id": "d2", "type": "VOICE", "phone": "+15555550101",
                                        "nickname": "+15555550101"});
        assert_eq!(
            shown_device(&named_by_its_phone)["nickname"],
            "+1555*****01"
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
