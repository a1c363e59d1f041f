//! What a continuation carries from one call to the next, for each journey, and the hand-over
//! between them: the authentication journey hands a user with mandatory methods to pair to the
//! device-registration journey with its own [`Terms`], which are handed back when a method is
//! paired, so the journey goes on under exactly the terms it started with.

use serde::{Deserialize, Serialize};

use super::actions::At;
use super::authentication::Switches;
use super::registration::Concealed;

/// The policy decision an authentication journey started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDecision {
    /// The policy's action (`AUTHENTICATE`, `APPROVE`, a method's action, …).
    pub action: String,
    /// The evaluation id, which keys the decision's audit line.
    pub id: String,
}

/// What holds for a whole authentication journey, fixed at its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// The switches in force (backups, Use Code, OTP fallback).
    pub switches: Switches,
    /// The mandatory methods, as `mandatoryAuthenticationMethods` listed them.
    pub mandatory: Vec<String>,
    /// The flow's `AdminMessage`.
    pub admin_message: Option<String>,
    /// The policy decision, when one was evaluated.
    pub decision: Option<PolicyDecision>,
    /// The methods the decision allows, by the policy API's names (`None`: no policy, any
    /// device of the user's): only devices that authenticate with one of them are offered.
    pub allowed_methods: Option<Vec<String>>,
}

impl Terms {
    /// Whether the terms let a device of PingOne type `kind` be used.
    pub fn allow_device(&self, kind: &str) -> bool {
        self.allowed_methods.as_ref().is_none_or(|allowed| {
            crate::policy::Method::of_device_type(kind)
                .iter()
                .any(|method| allowed.iter().any(|name| name == method.name()))
        })
    }
}

/// The authentication journey between two calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationState {
    /// The step the client was shown.
    pub at: At,
    /// The journey's terms.
    pub terms: Terms,
    /// PingOne's device authentication, once one is started.
    pub authentication_id: Option<String>,
    /// The devices offered at device selection: only those may be selected.
    pub devices: Vec<Offered>,
    /// At `OTP_REQUIRED`: the channel and masked destination shown, to show again after a
    /// wrong passcode.
    pub channel: Option<String>,
    /// See `channel`.
    pub destination: Option<String>,
}

/// A device offered at device selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offered {
    /// PingOne's device id.
    pub id: String,
    /// PingOne's device type (what selecting it sends: a push, a text, …).
    pub kind: String,
}

impl AuthenticationState {
    /// The journey at `at` under `terms`, nothing started.
    pub fn new(at: At, terms: Terms) -> Self {
        Self {
            at,
            terms,
            authentication_id: None,
            devices: Vec::new(),
            channel: None,
            destination: None,
        }
    }
}

/// The device-registration journey between two calls. What the client was shown travels with
/// it (sealed), so a step shown again after a wrong passcode shows the same; the TOTP key is
/// [`Concealed`], so no `Debug` of a state prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistrationState {
    /// `METHOD_SELECTION` (or `REGISTRATION_REQUIRED` when handed over): the user picks a
    /// method to register.
    MethodSelection {
        /// Only these methods (the seed's names): the mandatory ones not paired yet, when the
        /// authentication journey handed over.
        only: Option<Vec<String>>,
        /// The authentication journey's terms, to hand back when a method is paired.
        resume: Option<Terms>,
    },
    /// `ACTIVATION_REQUIRED`: a device was created and waits for a passcode (sent, or read off
    /// the TOTP app, the OATH token or the YubiKey).
    Activation {
        /// The method, by the seed's name.
        method: String,
        /// PingOne's device, `ACTIVATION_REQUIRED`.
        device_id: String,
        /// SMS, VOICE, EMAIL: the masked destination shown.
        destination: Option<String>,
        /// TOTP: the key URI shown (the QR code).
        key_uri: Option<Concealed>,
        /// TOTP: the key shown.
        secret: Option<Concealed>,
        /// See [`RegistrationState::MethodSelection`].
        resume: Option<Terms>,
    },
    /// `ATTESTATION_REQUIRED`: a FIDO2 or desktop device waits for its attestation.
    Attestation {
        /// The method, by the seed's name.
        method: String,
        /// PingOne's device, `ACTIVATION_REQUIRED`.
        device_id: String,
        /// The creation options shown (FIDO2's JSON text, or the desktop app's).
        options: serde_json::Value,
        /// See [`RegistrationState::MethodSelection`].
        resume: Option<Terms>,
    },
    /// `PAIRING_KEY_ISSUED`: a pairing key waits for the PingID mobile app to claim it.
    PairingKey {
        /// PingOne's pairing key.
        pairing_key_id: String,
        /// See [`RegistrationState::MethodSelection`].
        resume: Option<Terms>,
    },
}

impl RegistrationState {
    /// The authentication journey's terms to hand back to, if it handed over.
    pub fn resume(&self) -> Option<&Terms> {
        match self {
            RegistrationState::MethodSelection { resume, .. }
            | RegistrationState::Activation { resume, .. }
            | RegistrationState::Attestation { resume, .. }
            | RegistrationState::PairingKey { resume, .. } => resume.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(allowed: Option<&[&str]>) -> Terms {
        Terms {
            switches: Switches::default(),
            mandatory: Vec::new(),
            admin_message: None,
            decision: None,
            allowed_methods: allowed.map(|names| names.iter().map(|n| n.to_string()).collect()),
        }
    }

    #[test]
    fn a_policys_methods_decide_which_devices_may_be_used() {
        assert!(terms(None).allow_device("SMS"), "no policy: any device");
        let app_only = terms(Some(&["SWIPE", "OTP", "NUMBER_MATCHING"]));
        assert!(app_only.allow_device("MOBILE"));
        for other in [
            "SMS",
            "VOICE",
            "EMAIL",
            "TOTP",
            "SECURITY_KEY",
            "SOMETHING_NEW",
        ] {
            assert!(!app_only.allow_device(other), "{other}");
        }
        let keys = terms(Some(&["WEBAUTHN", "WEBAUTHN_PLATFORM", "YUBIKEY"]));
        for kind in ["SECURITY_KEY", "FIDO2", "PLATFORM", "YUBIKEY"] {
            assert!(keys.allow_device(kind), "{kind}");
        }
        assert!(!keys.allow_device("MOBILE"));
        assert!(
            !terms(Some(&[])).allow_device("MOBILE"),
            "none allowed: none offered"
        );
    }
}
