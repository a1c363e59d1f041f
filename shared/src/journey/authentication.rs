//! The authentication journey's rules that need no call: which switches apply, whether the
//! mandatory methods are all paired, and what each step lets the client do next. The handler
//! gathers the facts (the user's devices and profile, the policy decision, PingOne's
//! authentication) and applies these.

use serde::{Deserialize, Serialize};

use crate::device_type;
use crate::policy::{Action, Method};

/// The backups the subflow template can offer, each sent to the user's profile phone or
/// address (never to one the flow names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, crate::Values)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Backup {
    /// A passcode by text to the profile's phone (`SMSBackup`).
    Sms,
    /// A passcode by voice call to the profile's phone (`phoneBackup`).
    Voice,
    /// A passcode by e-mail to the profile's address (`emailBackup`).
    Email,
}

impl Backup {
    /// The backup's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Backup::Sms => "SMS",
            Backup::Voice => "VOICE",
            Backup::Email => "EMAIL",
        }
    }

    /// The policy method that allows this backup when its variable is not set.
    fn method(self) -> Method {
        match self {
            Backup::Sms => Method::Sms,
            Backup::Voice => Method::Voice,
            Backup::Email => Method::Email,
        }
    }
}

/// The template's switches as the flow set them (`None`: not set).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    /// `SMSBackup`.
    pub sms_backup: Option<bool>,
    /// `phoneBackup`.
    pub phone_backup: Option<bool>,
    /// `emailBackup`.
    pub email_backup: Option<bool>,
    /// `useCode`: the user may type the PingID app's code instead of waiting for the push.
    pub use_code: Option<bool>,
    /// `otpFallback`: a passcode when the push cannot reach the phone or times out.
    pub otp_fallback: Option<bool>,
}

/// The switches in force for one journey: each is the flow's variable when set, else what the
/// policy allows; set in one place, where Ping's template must be changed in two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Switches {
    /// The backups offered at device selection, in the template's order.
    pub backups: Vec<Backup>,
    /// Whether Use Code is offered while a push is pending.
    pub use_code: bool,
    /// Whether a passcode is asked for when the push fails or times out.
    pub otp_fallback: bool,
}

impl Variables {
    /// The switches in force, given the methods the policy decision allows (`None`: no policy
    /// was evaluated, so only what the flow set applies). [I] A backup unset follows the
    /// policy's SMS, VOICE or EMAIL method; Use Code and OTP fallback unset follow its OTP
    /// method (the app's passcode), which is what both fall back to.
    pub fn switches(&self, allowed: Option<&[Method]>) -> Switches {
        let policy_allows = |method: Method| allowed.is_some_and(|m| m.contains(&method));
        let backups = [
            (Backup::Sms, self.sms_backup),
            (Backup::Voice, self.phone_backup),
            (Backup::Email, self.email_backup),
        ]
        .into_iter()
        .filter(|(backup, variable)| variable.unwrap_or_else(|| policy_allows(backup.method())))
        .map(|(backup, _)| backup)
        .collect();
        Switches {
            backups,
            use_code: self.use_code.unwrap_or_else(|| policy_allows(Method::Otp)),
            otp_fallback: self
                .otp_fallback
                .unwrap_or_else(|| policy_allows(Method::Otp)),
        }
    }
}

/// One mandatory method and whether the user has it: Ping's "Mandatory Devices" window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mandatory {
    /// The method, as `mandatoryAuthenticationMethods` names it.
    pub method: &'static str,
    /// `paired` or `not paired`.
    pub status: &'static str,
}

/// Each mandatory method with whether an `ACTIVE` device of the user's is of that method
/// (`devices`: PingOne type and status); `None` when every one is paired. The seed's rule: all
/// of them must be registered before authentication completes, and the list shows every one,
/// paired or not.
pub fn registration_required(
    mandatory: &[&'static str],
    devices: &[(&str, &str)],
) -> Option<Vec<Mandatory>> {
    let list: Vec<Mandatory> = mandatory
        .iter()
        .map(|method| {
            let paired = devices
                .iter()
                .any(|(kind, status)| *status == "ACTIVE" && device_type::is_a(kind, method));
            Mandatory {
                method,
                status: if paired { "paired" } else { "not paired" },
            }
        })
        .collect();
    list.iter()
        .any(|m| m.status == "not paired")
        .then_some(list)
}

/// How the journey ends, or goes on, after the policy decision (`None`: authenticate).
pub fn after_policy(action: Action) -> Option<Ending> {
    match action {
        Action::Deny => Some(Ending::Denied),
        Action::Approve => Some(Ending::Approved),
        _ => None,
    }
}

/// A journey that ends on the policy alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `DENIED`: nothing is sent.
    Denied,
    /// `COMPLETED` without a challenge.
    Approved,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_set_wins_over_the_policy_and_an_unset_one_follows_it() {
        let policy = [Method::Swipe, Method::Sms, Method::Email, Method::Otp];
        let unset = Variables::default();
        assert_eq!(
            unset.switches(Some(&policy)),
            Switches {
                backups: vec![Backup::Sms, Backup::Email],
                use_code: true,
                otp_fallback: true,
            }
        );
        let set = Variables {
            sms_backup: Some(false),
            phone_backup: Some(true),
            use_code: Some(false),
            ..Variables::default()
        };
        assert_eq!(
            set.switches(Some(&policy)),
            Switches {
                backups: vec![Backup::Voice, Backup::Email],
                use_code: false,
                otp_fallback: true,
            }
        );
        // Without a policy decision only what the flow set applies
        assert_eq!(
            set.switches(None),
            Switches {
                backups: vec![Backup::Voice],
                use_code: false,
                otp_fallback: false,
            }
        );
    }

    #[test]
    fn every_mandatory_method_must_be_paired_and_all_are_listed_until_they_are() {
        let mandatory = ["SMS", "VOICE", "EMAIL"];
        let sms_only = [("SMS", "ACTIVE"), ("MOBILE", "ACTIVE")];
        let list = registration_required(&mandatory, &sms_only).expect("voice and e-mail missing");
        let statuses: Vec<(&str, &str)> = list.iter().map(|m| (m.method, m.status)).collect();
        assert_eq!(
            statuses,
            [
                ("SMS", "paired"),
                ("VOICE", "not paired"),
                ("EMAIL", "not paired")
            ]
        );

        // A device still waiting for its pairing passcode is not paired
        let pending = [
            ("SMS", "ACTIVE"),
            ("VOICE", "ACTIVATION_REQUIRED"),
            ("EMAIL", "ACTIVE"),
        ];
        assert!(registration_required(&mandatory, &pending).is_some());

        let all = [("SMS", "ACTIVE"), ("VOICE", "ACTIVE"), ("EMAIL", "ACTIVE")];
        assert_eq!(registration_required(&mandatory, &all), None);
        assert_eq!(registration_required(&[], &[]), None);

        // The seed's names for PingID's apps match PingOne's types
        let apps = [("MOBILE", "ACTIVE"), ("PINGID_DESKTOP_GEN2", "ACTIVE")];
        assert_eq!(
            registration_required(&["PINGID_MOBILE", "PINGID_DESKTOP"], &apps),
            None
        );
    }

    #[test]
    fn the_policy_alone_ends_a_journey_only_when_it_denies_or_approves() {
        assert_eq!(after_policy(Action::Deny), Some(Ending::Denied));
        assert_eq!(after_policy(Action::Approve), Some(Ending::Approved));
        for action in [Action::Authenticate, Action::Sms, Action::NumberMatching] {
            assert_eq!(after_policy(action), None);
        }
    }
}
