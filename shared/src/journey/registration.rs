//! The device-registration journey's rules that need no call: which methods the user may
//! register, with what is already paired and the room left under the environment's maximum;
//! what each step shows and the actions it offers; which action a step takes.
//!
//! The handler (`functions/journey-device-registration`) gathers the facts (the user's devices,
//! the default policy, the MFA settings, PingOne's answers) and applies these.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Journey;
use super::state::RegistrationState;
use super::steps::{ActionSpec, POLL_AFTER_SECONDS};
use crate::device_type;
use crate::error::Error;

/// One method on the "choose a method" screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The method, by the seed's name.
    pub method: String,
    /// How many `ACTIVE` devices of this method the user has.
    pub paired: usize,
    /// Whether a device of this method may be added now.
    pub can_register: bool,
}

/// What the user may register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    /// The methods the policy allows, in its order.
    pub methods: Vec<Choice>,
    /// The user's devices, any status (PingOne counts them all against the maximum).
    pub devices: usize,
    /// The environment's `maxAllowedDevices`.
    pub max_allowed_devices: usize,
}

/// The seed's methods a PingOne type the policy allows stands for. The policy's `fido2`
/// section allows `FIDO2`, which the seed offers as its two kinds, `SECURITY_KEY` and
/// `PLATFORM` [I]: PingOne creates either under that section.
pub fn methods_of(pingone_type: &str) -> Vec<&str> {
    match pingone_type {
        "FIDO2" => vec!["SECURITY_KEY", "PLATFORM"],
        other => vec![device_type::seed_name(other)],
    }
}

/// The choices for a user with `devices` (PingOne type, status) under a policy allowing
/// `allowed` (PingOne types, `allowedtypes` order) and an environment allowing `max` devices.
/// A method may be registered while there is room; `only`, when given (the authentication
/// journey handing over for mandatory methods), keeps just those methods.
pub fn choices(
    allowed: &[&str],
    devices: &[(&str, &str)],
    max: usize,
    only: Option<&[&str]>,
) -> Choices {
    let room = devices.len() < max;
    let mut methods: Vec<Choice> = Vec::new();
    for method in allowed.iter().flat_map(|kind| methods_of(kind)) {
        if methods.iter().any(|choice| choice.method == method)
            || only.is_some_and(|only| !only.contains(&method))
        {
            continue;
        }
        let paired = devices
            .iter()
            .filter(|(kind, status)| *status == "ACTIVE" && device_type::is_a(kind, method))
            .count();
        methods.push(Choice {
            method: method.to_string(),
            paired,
            can_register: room,
        });
    }
    Choices {
        methods,
        devices: devices.len(),
        max_allowed_devices: max,
    }
}

/// Policy sections and the device type each enables, in `allowedtypes` order (what
/// `readAllDevicesPingID` answers, and what this journey offers).
const POLICY_SECTIONS: &[(&str, &str)] = &[
    ("sms", "SMS"),
    ("voice", "VOICE"),
    ("email", "EMAIL"),
    ("mobile", "MOBILE"),
    ("totp", "TOTP"),
    ("oathToken", "OATH_TOKEN"),
    ("yubikey", "YUBIKEY"),
    ("desktop", "PINGID_DESKTOP_GEN2"),
    ("fido2", "FIDO2"),
    ("platform", "PLATFORM"),
    ("securityKey", "SECURITY_KEY"),
];

/// The device types `policy` lets users pair: its sections that are `enabled` and not
/// `pairingDisabled` [I].
pub fn allowed_types(policy: &Value) -> Vec<&'static str> {
    POLICY_SECTIONS
        .iter()
        .filter(|(section, _)| {
            let flag = |key: &str| policy.pointer(&format!("/{section}/{key}"))?.as_bool();
            flag("enabled") == Some(true) && flag("pairingDisabled") != Some(true)
        })
        .map(|(_, kind)| *kind)
        .collect()
}

/// The environment's default device authentication policy, from PingOne's list of them.
pub fn default_policy(listed: &Value) -> Result<&Value, Error> {
    listed
        .pointer("/_embedded/deviceAuthenticationPolicies")
        .and_then(Value::as_array)
        .and_then(|policies| {
            policies
                .iter()
                .find(|policy| policy.get("default").and_then(Value::as_bool) == Some(true))
        })
        .ok_or_else(|| Error::UpstreamInvalid("no default device authentication policy".into()))
}

/// `pairing.maxAllowedDevices` of the MFA settings; settings without it are no answer, never a
/// guess.
pub fn max_allowed_devices(settings: &Value) -> Result<usize, Error> {
    settings
        .pointer("/pairing/maxAllowedDevices")
        .and_then(Value::as_u64)
        .and_then(|max| usize::try_from(max).ok())
        .ok_or_else(|| {
            Error::UpstreamInvalid(
                "MFA settings without an integer pairing.maxAllowedDevices".into(),
            )
        })
}

/// Whether `phone` is E.164 (`+` and 7 to 15 digits, no leading zero): what PingOne pairs.
pub fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// A value shown to the user who is registering and to nobody else (a TOTP key, the pairing
/// key): serialized as it is, but `Debug` never prints it, so no log line can.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Concealed(String);

impl Concealed {
    /// Wraps the value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Concealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Concealed([redacted])")
    }
}

/// The device a registration paired, as PingOne has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredDevice {
    /// PingOne's device id.
    pub id: String,
    /// PingOne's device type (`SMS`, `MOBILE`, `PINGID_DESKTOP_GEN2`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// `ACTIVE`.
    pub status: String,
    /// The name shown to the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
}

impl RegisteredDevice {
    /// The device of PingOne's device resource; one without an id, type or status is no answer.
    pub fn of(device: &Value) -> Result<Self, Error> {
        let text = |key: &str| {
            device
                .get(key)
                .and_then(Value::as_str)
                .filter(|value| !value.is_empty())
                .map(str::to_string)
                .ok_or_else(|| Error::UpstreamInvalid(format!("device without `{key}`")))
        };
        Ok(Self {
            id: text("id")?,
            kind: text("type")?,
            status: text("status")?,
            nickname: text("nickname").ok(),
        })
    }
}

/// A step of the device-registration journey, as the answer shows it (`step` names it).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "step",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum Step {
    /// The user picks a method to register.
    MethodSelection {
        /// The methods on offer, each with what is paired and whether it may be added now.
        methods: Vec<Choice>,
        /// The user's devices, any status.
        devices: usize,
        /// The environment's maximum.
        max_allowed_devices: usize,
    },
    /// The device waits for a passcode: sent to `destination`, or read off the authenticator
    /// app set up with `keyUri`, the OATH token or the YubiKey.
    ActivationRequired {
        /// The method, by the seed's name.
        method: String,
        /// SMS, VOICE, EMAIL: where the passcode went, masked.
        #[serde(skip_serializing_if = "Option::is_none")]
        destination: Option<String>,
        /// TOTP: the `otpauth://` URI for the QR code.
        #[serde(skip_serializing_if = "Option::is_none")]
        key_uri: Option<Concealed>,
        /// TOTP: the key, for typing into the app by hand.
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<Concealed>,
        /// Wrong passcodes the user may still type, after a wrong one.
        #[serde(skip_serializing_if = "Option::is_none")]
        attempts_left: Option<u32>,
        /// Why the step is shown again: `INVALID_OTP` or `OTP_EXPIRED`.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry: Option<&'static str>,
    },
    /// The device waits for its attestation: the browser's `navigator.credentials.create`
    /// (SECURITY_KEY, PLATFORM) or the PingID desktop app (PINGID_DESKTOP).
    AttestationRequired {
        /// The method, by the seed's name.
        method: String,
        /// SECURITY_KEY, PLATFORM: PingOne's creation options (JSON text).
        #[serde(skip_serializing_if = "Option::is_none")]
        public_key_credential_creation_options: Option<Value>,
        /// PINGID_DESKTOP: the options for the desktop app.
        #[serde(skip_serializing_if = "Option::is_none")]
        ping_id_desktop_credential_creation_options: Option<Value>,
        /// Why the step is shown again: `INVALID_ATTESTATION`.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry: Option<&'static str>,
    },
    /// A pairing key waits for the PingID mobile app to claim it.
    PairingKeyIssued {
        /// The key the user types or scans into the app.
        pairing_key: Concealed,
        /// When the key expires (RFC 3339), as PingOne said.
        #[serde(skip_serializing_if = "Option::is_none")]
        expires_at: Option<String>,
        /// When to poll again.
        poll_after_seconds: u32,
    },
    /// Done: the device is paired.
    Registered {
        /// The new device.
        device: RegisteredDevice,
    },
    /// Ended without a new device.
    Failed {
        /// A stable reason: `CANCELED`, `TOO_MANY_ATTEMPTS`, `PAIRING_KEY_EXPIRED`.
        reason: &'static str,
    },
}

/// The methods whose passcode PingOne sends (and can send again).
pub const SENT_METHODS: [&str; 3] = ["SMS", "VOICE", "EMAIL"];

fn action(name: &'static str, fields: &[(&'static str, &'static str)]) -> ActionSpec {
    ActionSpec::new(Journey::DeviceRegistration, name, fields)
}

impl Step {
    /// The step a pairing key (PingOne's resource) shows while unclaimed.
    pub fn of_pairing_key(key: &Value) -> Result<Step, Error> {
        let code = key
            .get("code")
            .and_then(Value::as_str)
            .filter(|code| !code.is_empty())
            .ok_or_else(|| Error::UpstreamInvalid("pairing key without `code`".into()))?;
        Ok(Step::PairingKeyIssued {
            pairing_key: Concealed::new(code),
            expires_at: key
                .get("expiresAt")
                .and_then(Value::as_str)
                .map(str::to_string),
            poll_after_seconds: POLL_AFTER_SECONDS,
        })
    }

    /// Whether the registration journey is over (no continuation of its own).
    pub fn is_final(&self) -> bool {
        matches!(self, Step::Registered { .. } | Step::Failed { .. })
    }

    /// What the client may do now; `resumes`: a registered device hands back to the
    /// authentication journey.
    pub fn actions(&self, resumes: bool) -> Vec<ActionSpec> {
        let cancel = action("cancel", &[]);
        match self {
            Step::MethodSelection { methods, .. } => {
                let mut actions = Vec::new();
                if methods.iter().any(|choice| choice.can_register) {
                    actions.push(register("one of the methods listed with canRegister true"));
                }
                actions.push(cancel);
                actions
            }
            Step::ActivationRequired { method, .. } => {
                let mut actions = vec![action("otp", &[("otp", "the passcode the user typed")])];
                if SENT_METHODS.contains(&method.as_str()) {
                    actions.push(action("resend", &[]));
                }
                actions.push(cancel);
                actions
            }
            Step::AttestationRequired { .. } => vec![
                action(
                    "attestation",
                    &[
                        (
                            "attestation",
                            "the credential navigator.credentials.create returned, as JSON, \
                             or the desktop app's attestation",
                        ),
                        ("origin", "the page's origin"),
                    ],
                ),
                cancel,
            ],
            Step::PairingKeyIssued { .. } => vec![action("poll", &[]), cancel],
            Step::Registered { .. } if resumes => {
                vec![ActionSpec::new(Journey::Authentication, "continue", &[])]
            }
            Step::Registered { .. } | Step::Failed { .. } => Vec::new(),
        }
    }
}

/// The actions of the journey, as the client names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, shared::Values)]
#[serde(rename_all = "camelCase")]
pub enum ActionName {
    /// Create a device of a method (at `METHOD_SELECTION`).
    Register,
    /// The passcode (at `ACTIVATION_REQUIRED`).
    Otp,
    /// Send the pairing passcode again (SMS, VOICE, EMAIL at `ACTIVATION_REQUIRED`).
    Resend,
    /// The attestation (at `ATTESTATION_REQUIRED`).
    Attestation,
    /// Whether the pairing key was claimed (at `PAIRING_KEY_ISSUED`).
    Poll,
    /// Give up.
    Cancel,
}

/// The `register` action of the device-registration journey, `method` saying which methods
/// it takes: the authentication journey offers the same action when it hands over.
pub fn register(method: &'static str) -> ActionSpec {
    ActionSpec::new(
        Journey::DeviceRegistration,
        "register",
        &[
            ("method", method),
            (
                "phone",
                "SMS, VOICE: the number (E.164); the profile's mobilePhone when absent",
            ),
            (
                "email",
                "EMAIL: the address; the profile's email when absent",
            ),
            ("serialNumber", "OATH_TOKEN: the token's serial number"),
            (
                "rpId",
                "SECURITY_KEY, PLATFORM: the relying party id (the page's domain)",
            ),
            ("nickname", "optional: the device's name"),
        ],
    )
}

impl ActionName {
    /// The action's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ActionName::Register => "register",
            ActionName::Otp => "otp",
            ActionName::Resend => "resend",
            ActionName::Attestation => "attestation",
            ActionName::Poll => "poll",
            ActionName::Cancel => "cancel",
        }
    }
}

impl RegistrationState {
    /// The step the client was shown, by its name on the wire.
    pub fn step_name(&self) -> &'static str {
        match self {
            RegistrationState::MethodSelection { .. } => "METHOD_SELECTION",
            RegistrationState::Activation { .. } => "ACTIVATION_REQUIRED",
            RegistrationState::Attestation { .. } => "ATTESTATION_REQUIRED",
            RegistrationState::PairingKey { .. } => "PAIRING_KEY_ISSUED",
        }
    }

    /// Whether the step takes `action`; the refusal in words otherwise (for
    /// `properties.action`). Checked before the continuation is spent, so a client's mistake
    /// leaves it usable.
    pub fn offers(&self, action: ActionName) -> Result<(), String> {
        match (self, action) {
            (_, ActionName::Cancel)
            | (RegistrationState::MethodSelection { .. }, ActionName::Register)
            | (RegistrationState::Activation { .. }, ActionName::Otp)
            | (RegistrationState::Attestation { .. }, ActionName::Attestation)
            | (RegistrationState::PairingKey { .. }, ActionName::Poll) => Ok(()),
            (RegistrationState::Activation { method, .. }, ActionName::Resend) => {
                if SENT_METHODS.contains(&method.as_str()) {
                    Ok(())
                } else {
                    Err(format!(
                        "resend is offered only for SMS, VOICE and EMAIL, not {method}"
                    ))
                }
            }
            (state, action) => Err(format!(
                "{} is not offered at {}",
                action.name(),
                state.step_name()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::output::departures;
    use serde_json::json;

    const ALLOWED: [&str; 9] = [
        "SMS",
        "VOICE",
        "EMAIL",
        "MOBILE",
        "TOTP",
        "OATH_TOKEN",
        "YUBIKEY",
        "PINGID_DESKTOP",
        "PLATFORM",
    ];

    fn summary(choices: &Choices) -> Vec<(String, usize, bool)> {
        choices
            .methods
            .iter()
            .map(|c| (c.method.clone(), c.paired, c.can_register))
            .collect()
    }

    #[test]
    fn the_policys_methods_in_its_order_with_what_is_paired() {
        let alice = [
            ("MOBILE", "ACTIVE"),
            ("SMS", "ACTIVE"),
            ("EMAIL", "ACTIVATION_REQUIRED"),
        ];
        let choices = choices(&ALLOWED[..4], &alice, 5, None);
        assert_eq!(
            summary(&choices),
            [
                ("SMS".to_string(), 1, true),
                ("VOICE".to_string(), 0, true),
                ("EMAIL".to_string(), 0, true),
                ("PINGID_MOBILE".to_string(), 1, true),
            ]
        );
        assert_eq!((choices.devices, choices.max_allowed_devices), (3, 5));
    }

    #[test]
    fn at_the_maximum_nothing_more_may_be_registered() {
        let full = [("SMS", "ACTIVE"); 5];
        assert!(
            choices(&ALLOWED, &full, 5, None)
                .methods
                .iter()
                .all(|c| !c.can_register)
        );
    }

    #[test]
    fn a_hand_over_for_mandatory_methods_offers_just_those() {
        let choices = choices(&ALLOWED, &[("SMS", "ACTIVE")], 5, Some(&["VOICE", "EMAIL"]));
        let methods: Vec<&str> = choices.methods.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(methods, ["VOICE", "EMAIL"]);
    }

    #[test]
    fn pingids_apps_go_by_the_seeds_names_in_the_choices() {
        assert_eq!(device_type::seed_name("MOBILE"), "PINGID_MOBILE");
        assert_eq!(
            device_type::seed_name("PINGID_DESKTOP_GEN2"),
            "PINGID_DESKTOP"
        );
        assert_eq!(device_type::seed_name("SECURITY_KEY"), "SECURITY_KEY");
        let choices = choices(
            &["PINGID_DESKTOP_GEN2", "FIDO2"],
            &[("PINGID_DESKTOP", "ACTIVE"), ("SECURITY_KEY", "ACTIVE")],
            5,
            None,
        );
        assert_eq!(
            summary(&choices),
            [
                ("PINGID_DESKTOP".to_string(), 1, true),
                ("SECURITY_KEY".to_string(), 1, true),
                ("PLATFORM".to_string(), 0, true),
            ]
        );
    }

    #[test]
    fn the_default_policy_says_what_may_be_paired_and_the_settings_how_many() {
        let listed = json!({"_embedded": {"deviceAuthenticationPolicies": [
            {"id": "p1", "default": false, "sms": {"enabled": true}},
            {"id": "p2", "default": true,
             "sms": {"enabled": true, "pairingDisabled": false},
             "voice": {"enabled": false},
             "yubikey": {"enabled": true, "pairingDisabled": true},
             "fido2": {"enabled": true}},
        ]}});
        let policy = default_policy(&listed).unwrap();
        assert_eq!(policy["id"], "p2");
        assert_eq!(allowed_types(policy), ["SMS", "FIDO2"]);
        assert!(default_policy(&json!({"_embedded": {}})).is_err());
        assert_eq!(
            max_allowed_devices(&json!({"pairing": {"maxAllowedDevices": 5}})).unwrap(),
            5
        );
        let missing = max_allowed_devices(&json!({"pairing": {}})).unwrap_err();
        assert_eq!(missing.code(), "UPSTREAM_INVALID");
    }

    #[test]
    fn phones_must_be_in_international_format() {
        assert!(is_e164("+15555550101"));
        assert!(!is_e164("555-0101") && !is_e164("+0123456789") && !is_e164("+1 555 555"));
    }

    #[test]
    fn concealed_values_are_shown_but_never_printed() {
        let step = Step::ActivationRequired {
            method: "TOTP".into(),
            destination: None,
            key_uri: Some(Concealed::new("otpauth://totp/PingOne:bob?secret=JBSWY3DP")),
            secret: Some(Concealed::new("JBSWY3DP")),
            attempts_left: None,
            retry: None,
        };
        assert!(!format!("{step:?}").contains("JBSWY3DP"));
        assert_eq!(
            serde_json::to_value(&step).unwrap(),
            json!({"step": "ACTIVATION_REQUIRED", "method": "TOTP",
                "keyUri": "otpauth://totp/PingOne:bob?secret=JBSWY3DP", "secret": "JBSWY3DP"})
        );
    }

    fn names(actions: &[ActionSpec]) -> Vec<&str> {
        actions.iter().map(|a| a.action).collect()
    }

    #[test]
    fn each_step_offers_its_actions() {
        let selection = |can_register| Step::MethodSelection {
            methods: vec![Choice {
                method: "SMS".into(),
                paired: 0,
                can_register,
            }],
            devices: 0,
            max_allowed_devices: 5,
        };
        let activation = |method: &str| Step::ActivationRequired {
            method: method.into(),
            destination: None,
            key_uri: None,
            secret: None,
            attempts_left: None,
            retry: None,
        };
        let registered = Step::Registered {
            device: RegisteredDevice {
                id: "d1".into(),
                kind: "SMS".into(),
                status: "ACTIVE".into(),
                nickname: None,
            },
        };
        let cases = [
            (selection(true), vec!["register", "cancel"]),
            (selection(false), vec!["cancel"]),
            (activation("SMS"), vec!["otp", "resend", "cancel"]),
            (activation("TOTP"), vec!["otp", "cancel"]),
            (
                Step::AttestationRequired {
                    method: "PLATFORM".into(),
                    public_key_credential_creation_options: Some(json!("{}")),
                    ping_id_desktop_credential_creation_options: None,
                    retry: None,
                },
                vec!["attestation", "cancel"],
            ),
            (
                Step::of_pairing_key(&json!({"code": "123456789012"})).unwrap(),
                vec!["poll", "cancel"],
            ),
            (registered.clone(), vec![]),
            (Step::Failed { reason: "CANCELED" }, vec![]),
        ];
        for (step, actions) in cases {
            assert_eq!(names(&step.actions(false)), actions, "{step:?}");
            assert_eq!(step.is_final(), actions.is_empty(), "{step:?}");
            for action in step.actions(false) {
                assert_eq!(action.journey, "device-registration");
            }
        }
        // Handed over: a new device hands back to the authentication journey
        let back = registered.actions(true);
        assert_eq!(
            (back[0].action, back[0].journey),
            ("continue", "authentication")
        );
    }

    #[test]
    fn a_step_takes_only_the_actions_it_offers() {
        let selection = RegistrationState::MethodSelection {
            only: None,
            resume: None,
        };
        let activation = |method: &str| RegistrationState::Activation {
            method: method.into(),
            device_id: "d1".into(),
            destination: None,
            key_uri: None,
            secret: None,
            resume: None,
        };
        let key = RegistrationState::PairingKey {
            pairing_key_id: "k1".into(),
            resume: None,
        };
        assert_eq!(selection.offers(ActionName::Register), Ok(()));
        assert_eq!(activation("SMS").offers(ActionName::Resend), Ok(()));
        assert_eq!(key.offers(ActionName::Poll), Ok(()));
        assert_eq!(key.offers(ActionName::Cancel), Ok(()));
        assert_eq!(
            selection.offers(ActionName::Otp),
            Err("otp is not offered at METHOD_SELECTION".into())
        );
        assert_eq!(
            activation("SMS").offers(ActionName::Register),
            Err("register is not offered at ACTIVATION_REQUIRED".into())
        );
        assert_eq!(
            activation("TOTP").offers(ActionName::Resend),
            Err("resend is offered only for SMS, VOICE and EMAIL, not TOTP".into())
        );
        assert_eq!(
            key.offers(ActionName::Attestation),
            Err("attestation is not offered at PAIRING_KEY_ISSUED".into())
        );
    }

    #[test]
    fn the_state_never_prints_a_totp_key() {
        let state = RegistrationState::Activation {
            method: "TOTP".into(),
            device_id: "d1".into(),
            destination: None,
            key_uri: Some(Concealed::new("otpauth://totp/x?secret=JBSWY3DP")),
            secret: Some(Concealed::new("JBSWY3DP")),
            resume: None,
        };
        assert!(!format!("{state:?}").contains("JBSWY3DP"));
        let round_trip: RegistrationState =
            serde_json::from_value(serde_json::to_value(&state).unwrap()).unwrap();
        assert_eq!(round_trip, state);
        // The registered device is documented as PingOne names it
        let device = serde_json::to_value(
            RegisteredDevice::of(&json!({"id": "d1", "type": "SMS",
            "status": "ACTIVE", "nickname": "Work"}))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(
            device,
            json!({"id": "d1", "type": "SMS", "status": "ACTIVE", "nickname": "Work"})
        );
        assert!(departures(&json!({"type": "object"}), &device).is_empty());
    }
}
