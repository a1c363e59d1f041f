//! The journey's input: the subflow's variables at the start, then the continuation and one
//! action with its fields, every disagreement reported at once.

use serde::Deserialize;
use shared::Error;
use shared::error::Problems;
use shared::journey::actions::UserAction;
use shared::journey::authentication::{Backup, Variables};
use shared::journey::mandatory;
use shared::policy::facts::parse_ip;
use shared::policy::{Facts, LastTransaction};
use shared::schema::{ORIGIN_PATTERN, OTP_PATTERN};
use shared::secrets::Secret;

/// What the client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, shared::Values)]
pub enum ActionName {
    /// Pick a device (`deviceId`) or a backup (`backup`).
    #[serde(rename = "select")]
    Select,
    /// A passcode (`otp`).
    #[serde(rename = "otp")]
    Otp,
    /// The PingID app's code while a push is pending (`otp`).
    #[serde(rename = "useCode")]
    UseCode,
    /// A WebAuthn assertion (`assertion`, `origin`).
    #[serde(rename = "assertion")]
    Assertion,
    /// Whether the push was answered.
    #[serde(rename = "poll")]
    Poll,
    /// Go on after the device-registration journey handed back.
    #[serde(rename = "continue")]
    Continue,
    /// Give up.
    #[serde(rename = "cancel")]
    Cancel,
}

/// The facts a policy evaluation takes at the start (see `evalPolicyPingID`).
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct PolicyFacts {
    /// the client's IP address (IPv4 or IPv6); the connection's address when absent
    #[field(max_length = 100)]
    pub ip: Option<String>,
    /// the application's id (policy targets)
    #[field(max_length = 255)]
    pub application_id: Option<String>,
    /// the application's name (policy targets)
    #[field(max_length = 255)]
    pub application_name: Option<String>,
    /// the user's groups (policy targets); [] for none
    #[field(max_items = 1000, items(max_length = 256))]
    pub groups: Option<Vec<String>>,
    /// the last MFA as the flow keeps it for this browser and user: JSON (or base64url of it) with authTimestamp, ip, authMethod, location (the recent-authentication and new-device rules)
    #[field(max_length = 4096)]
    pub policy_recent_ping_one_cookie: Option<String>,
    /// risk level from PingOne Protect (recorded in the audit line)
    #[field(one_of = &["LOW", "MEDIUM", "HIGH"])]
    pub risk_level: Option<String>,
}

/// The policy request of a start, once its facts parse.
pub(crate) struct PolicyRequest {
    /// The facts, but for the client's address when the request has none: the connection's is
    /// taken then.
    pub(crate) facts: Facts,
    /// The application the audit line names.
    pub(crate) application: Option<String>,
    /// The risk level the audit line records.
    pub(crate) risk_level: Option<String>,
}

impl PolicyFacts {
    fn request(&self, problems: &mut Problems) -> PolicyRequest {
        let ip = self.ip.as_deref().and_then(|text| {
            let ip = parse_ip(text);
            if ip.is_none() {
                problems.add("policy.ip", "is not an IPv4 or IPv6 address");
            }
            ip
        });
        let last_transaction = self
            .policy_recent_ping_one_cookie
            .as_deref()
            .and_then(|cookie| {
                LastTransaction::from_cookie(cookie)
                    .map_err(|problem| problems.add("policy.policyRecentPingOneCookie", problem))
                    .ok()
            });
        PolicyRequest {
            facts: Facts {
                ip,
                application_id: self.application_id.clone(),
                application_name: self.application_name.clone(),
                groups: self.groups.clone(),
                last_transaction,
                ..Facts::default()
            },
            application: self
                .application_id
                .clone()
                .or(self.application_name.clone()),
            risk_level: self.risk_level.clone(),
        }
    }
}

/// The validated `properties`. The subflow's variables keep the seed's spellings.
#[derive(Debug, Deserialize, shared::Input)]
pub struct Input {
    /// PingOne user id
    #[serde(rename = "pingIdUserId")]
    #[field(id)]
    pub ping_id_user_id: Option<String>,
    /// PingOne user id, the seed's other spelling of pingIdUserId
    #[serde(rename = "pingIDUserId")]
    #[field(id)]
    pub ping_id_user_id_caps: Option<String>,
    /// start: the message shown at device selection
    #[serde(rename = "AdminMessage")]
    #[field(max_length = 1000)]
    pub admin_message: Option<String>,
    /// start: offer a passcode by text to the profile's phone (default: the policy's SMS method)
    #[serde(rename = "SMSBackup")]
    pub sms_backup: Option<bool>,
    /// start: offer a passcode by voice call to the profile's phone (default: the policy's VOICE method)
    #[serde(rename = "phoneBackup")]
    pub phone_backup: Option<bool>,
    /// start: offer a passcode by e-mail to the profile's address (default: the policy's EMAIL method)
    #[serde(rename = "emailBackup")]
    pub email_backup: Option<bool>,
    /// start: let the user type the PingID app's code while a push is pending (default: the policy's OTP method)
    #[serde(rename = "useCode")]
    pub use_code: Option<bool>,
    /// start: ask for the app's code when the push times out or cannot reach the phone (default: the policy's OTP method)
    #[serde(rename = "otpFallback")]
    pub otp_fallback: Option<bool>,
    /// start: otpFallback, as the seed's template spells it
    #[serde(rename = "OTP Fallback")]
    pub otp_fallback_spaced: Option<bool>,
    /// start: methods that must all be paired before authenticating, upper case, single spaces (PINGID_DESKTOP PINGID_MOBILE SMS VOICE EMAIL TOTP SECURITY_KEY PLATFORM YUBIKEY OATH_TOKEN)
    #[serde(rename = "mandatoryAuthenticationMethods")]
    #[field(max_length = 200)]
    pub mandatory_authentication_methods: Option<String>,
    /// start: evaluate the PingID policy first with these facts
    pub policy: Option<PolicyFacts>,
    /// the continuation of the last answer (absent: start)
    #[field(max_length = 8192)]
    pub continuation: Option<Secret<String>>,
    /// one of the last answer's actions
    pub action: Option<ActionName>,
    /// select: the device, one of those listed
    #[serde(rename = "deviceId")]
    #[field(id)]
    pub device_id: Option<String>,
    /// select: a backup, one of those listed
    pub backup: Option<Backup>,
    /// otp, useCode: the passcode the user typed
    #[field(max_length = 64, pattern = OTP_PATTERN)]
    pub otp: Option<Secret<String>>,
    /// assertion: JSON text of the browser's PublicKeyCredential
    #[field(max_length = 16_384, pattern = "^\\S")]
    pub assertion: Option<Secret<String>>,
    /// assertion: the origin of the page that ran the ceremony
    #[field(max_length = 255, pattern = ORIGIN_PATTERN)]
    pub origin: Option<String>,
}

/// A call, once its inputs agree.
pub(crate) enum Call<'a> {
    Start {
        variables: Variables,
        mandatory: Vec<&'static str>,
        policy: Option<Box<PolicyRequest>>,
    },
    Continue {
        token: &'a str,
        action: UserAction,
    },
}

impl Input {
    /// The user, and what the call asks, with every problem of the inputs at once.
    pub(crate) fn call(&self) -> Result<(&str, Call<'_>), Error> {
        let mut problems = Problems::default();
        let user = match (&self.ping_id_user_id, &self.ping_id_user_id_caps) {
            (Some(a), Some(b)) if a != b => {
                problems.add(
                    "pingIDUserId",
                    "differs from pingIdUserId; give one of the two",
                );
                None
            }
            (Some(user), _) | (None, Some(user)) => Some(user.as_str()),
            (None, None) => {
                problems.add("pingIdUserId", "is required");
                None
            }
        };
        let call = match &self.continuation {
            None => self.start(&mut problems),
            Some(token) => self.next(token.expose(), &mut problems),
        };
        match (user, call) {
            (Some(user), Some(call)) if problems.is_empty() => Ok((user, call)),
            _ => Err(problems.into_error()),
        }
    }

    fn start(&self, problems: &mut Problems) -> Option<Call<'_>> {
        for (field, given) in self.action_fields() {
            if given {
                problems.add(
                    field,
                    "is an action's field: it goes with a continuation, not at the start",
                );
            }
        }
        let otp_fallback = match (self.otp_fallback, self.otp_fallback_spaced) {
            (Some(a), Some(b)) if a != b => {
                problems.add(
                    "OTP Fallback",
                    "differs from otpFallback; give one of the two",
                );
                None
            }
            (a, b) => a.or(b),
        };
        let mandatory = match mandatory::parse(
            self.mandatory_authentication_methods
                .as_deref()
                .unwrap_or_default(),
        ) {
            Ok(methods) => methods,
            Err(problem) => {
                problems.add("mandatoryAuthenticationMethods", problem);
                Vec::new()
            }
        };
        let policy = self
            .policy
            .as_ref()
            .map(|facts| Box::new(facts.request(problems)));
        Some(Call::Start {
            policy,
            variables: Variables {
                sms_backup: self.sms_backup,
                phone_backup: self.phone_backup,
                email_backup: self.email_backup,
                use_code: self.use_code,
                otp_fallback,
            },
            mandatory,
        })
    }

    fn next<'a>(&'a self, token: &'a str, problems: &mut Problems) -> Option<Call<'a>> {
        let start_only = [
            ("AdminMessage", self.admin_message.is_some()),
            ("SMSBackup", self.sms_backup.is_some()),
            ("phoneBackup", self.phone_backup.is_some()),
            ("emailBackup", self.email_backup.is_some()),
            ("useCode", self.use_code.is_some()),
            ("otpFallback", self.otp_fallback.is_some()),
            ("OTP Fallback", self.otp_fallback_spaced.is_some()),
            (
                "mandatoryAuthenticationMethods",
                self.mandatory_authentication_methods.is_some(),
            ),
            ("policy", self.policy.is_some()),
        ];
        for (field, _) in start_only.iter().filter(|(_, given)| *given) {
            problems.add(
                field,
                "is set at the start; the journey keeps it and a continuation cannot change it",
            );
        }
        let Some(name) = self.action else {
            problems.add("action", "is required with a continuation");
            return None;
        };
        // Each action's own fields; any other action field given is reported.
        let wanted: &[&str] = match name {
            ActionName::Select => &["deviceId", "backup"],
            ActionName::Otp | ActionName::UseCode => &["otp"],
            ActionName::Assertion => &["assertion", "origin"],
            ActionName::Poll | ActionName::Continue | ActionName::Cancel => &[],
        };
        for (field, given) in self.action_fields().into_iter().skip(1) {
            if given && !wanted.contains(&field) {
                problems.add(field, "does not go with this action");
            }
        }
        let action = match name {
            ActionName::Select => match (&self.device_id, self.backup) {
                (Some(id), None) => Some(UserAction::SelectDevice(id.clone())),
                (None, Some(backup)) => Some(UserAction::SelectBackup(backup)),
                (Some(_), Some(_)) => {
                    problems.add("backup", "select takes a deviceId or a backup, not both");
                    None
                }
                (None, None) => {
                    problems.add("deviceId", "select needs a deviceId or a backup");
                    None
                }
            },
            ActionName::Otp | ActionName::UseCode => match &self.otp {
                Some(otp) => Some(if name == ActionName::Otp {
                    UserAction::Otp(otp.clone())
                } else {
                    UserAction::UseCode(otp.clone())
                }),
                None => {
                    problems.add("otp", "is required for this action");
                    None
                }
            },
            ActionName::Assertion => match (&self.assertion, &self.origin) {
                (Some(assertion), Some(origin)) => Some(UserAction::Assertion {
                    assertion: assertion.clone(),
                    origin: origin.clone(),
                }),
                (assertion, origin) => {
                    for (field, given) in [
                        ("assertion", assertion.is_some()),
                        ("origin", origin.is_some()),
                    ] {
                        if !given {
                            problems.add(field, "is required for the assertion action");
                        }
                    }
                    None
                }
            },
            ActionName::Poll => Some(UserAction::Poll),
            ActionName::Continue => Some(UserAction::Continue),
            ActionName::Cancel => Some(UserAction::Cancel),
        };
        action.map(|action| Call::Continue { token, action })
    }

    /// `action` and the actions' fields, whether each is given.
    fn action_fields(&self) -> [(&'static str, bool); 6] {
        [
            ("action", self.action.is_some()),
            ("deviceId", self.device_id.is_some()),
            ("backup", self.backup.is_some()),
            ("otp", self.otp.is_some()),
            ("assertion", self.assertion.is_some()),
            ("origin", self.origin.is_some()),
        ]
    }
}
