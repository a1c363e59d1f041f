//! The simulated PingOne environment: its worker app, users, MFA devices, pairing keys and
//! device authentication policies. Users and policies are fixed at seeding; each user's
//! `mfaEnabled` flag, devices (with their order) and pairing keys are live state.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use crate::state::lock;

/// One PingOne environment with everything the connector reads from it.
pub(crate) struct Tenant {
    pub(crate) env_id: String,
    pub(crate) worker: WorkerApp,
    pub(crate) users: Vec<User>,
    pub(crate) policies: Vec<Policy>,
    /// When the seeded resources were created (a fixed instant, so bodies are reproducible).
    pub(crate) created_at: SystemTime,
    /// `mfaEnabled` per user id.
    pub(crate) mfa_enabled: Mutex<HashMap<String, bool>>,
    /// Devices, pairing keys and the state of the seeded hardware.
    ///
    /// Lock order: the device-authentication store may be locked before this, never after.
    pub(crate) devices: Mutex<DeviceStore>,
    /// Hardware OATH tokens an admin imported (not yet assigned), by serial number.
    pub(crate) oath_tokens: Vec<OathToken>,
    /// Physical YubiKeys that exist (not yet enrolled), by public id.
    pub(crate) yubikeys: Vec<String>,
    /// `mfaSettings.pairing.maxAllowedDevices`.
    pub(crate) max_allowed_devices: usize,
}

/// The worker application whose client credentials obtain access tokens.
pub(crate) struct WorkerApp {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

/// A PingOne user (its devices live in [`DeviceStore`]).
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) mobile_phone: String,
    pub(crate) given_name: String,
    pub(crate) family_name: String,
}

/// A seeded hardware OATH token (SHA-1, 30 s, 6 digits).
pub(crate) struct OathToken {
    pub(crate) serial_number: String,
    pub(crate) secret: Vec<u8>,
}

/// `ACTIVE` or `ACTIVATION_REQUIRED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum DeviceStatus {
    Active,
    ActivationRequired,
}

/// An MFA device of a user.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) nickname: String,
    pub(crate) kind: DeviceKind,
    pub(crate) status: DeviceStatus,
    pub(crate) policy_id: String,
    pub(crate) created_at: SystemTime,
    pub(crate) updated_at: SystemTime,
    /// Creation sequence: the order that `devices.order.remove` restores.
    pub(crate) seq: u64,
    /// Pairing progress while `ACTIVATION_REQUIRED`.
    pub(crate) activation: Activation,
}

/// Pairing state of an `ACTIVATION_REQUIRED` device.
#[derive(Debug, Clone, Default)]
pub(crate) struct Activation {
    /// The delivered pairing OTP (SMS, VOICE, EMAIL) and when it expires.
    pub(crate) otp: Option<(String, SystemTime)>,
    /// Wrong activation attempts since the last (re)send.
    pub(crate) failures: u32,
}

/// FIDO2's three device types (PLATFORM and SECURITY_KEY are PingOne's older split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fido2Type {
    Fido2,
    Platform,
    SecurityKey,
}

/// What kind of device it is, with the data that kind carries.
#[derive(Debug, Clone)]
pub(crate) enum DeviceKind {
    /// The PingID mobile app: authenticates by push.
    Mobile {
        application_id: String,
        push_enabled: bool,
        model: String,
        os: String,
        /// The OS version the app reports (`os.version`): policies' mobile OS rule reads it.
        os_version: String,
        /// Where the phone is (latitude, longitude), when the app may report it: policies'
        /// office rules read it. `[I]` The app reports it continuously, so it is always fresh.
        location: Option<(f64, f64)>,
        /// The secret behind the passcode the app shows (RFC 6238), agreed at pairing: the
        /// code a user may type instead of approving a push ("Use Code").
        otp_secret: Vec<u8>,
    },
    /// Text messages with an OTP.
    Sms { phone: String },
    /// Voice calls reading an OTP.
    Voice { phone: String },
    /// Emails with an OTP.
    Email { email: String },
    /// An authenticator app (RFC 6238) sharing `secret` with PingOne.
    Totp { secret: Vec<u8> },
    /// A seeded hardware OATH token (TOTP).
    OathToken {
        serial_number: String,
        secret: Vec<u8>,
    },
    /// A YubiKey: bound to a physical key's public id by activation.
    Yubikey {
        public_id: Option<String>,
        last_counter: u32,
    },
    /// A WebAuthn authenticator.
    Fido2 {
        fido_type: Fido2Type,
        rp_id: String,
        rp_name: String,
        /// `publicKeyCredentialCreationOptions` while pairing.
        creation_options: String,
        /// webauthn-rs `RegistrationState` (JSON) while pairing.
        registration: Value,
        /// webauthn-rs `Credential` (JSON) once activated.
        credential: Option<Value>,
    },
    /// The PingID desktop app (gen 2).
    Desktop {
        rp_id: String,
        creation_options: String,
        challenge: String,
        /// The desktop app's id, bound by activation.
        desktop_id: Option<String>,
    },
}

impl DeviceKind {
    /// PingOne's `type` value.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::Mobile { .. } => "MOBILE",
            Self::Sms { .. } => "SMS",
            Self::Voice { .. } => "VOICE",
            Self::Email { .. } => "EMAIL",
            Self::Totp { .. } => "TOTP",
            Self::OathToken { .. } => "OATH_TOKEN",
            Self::Yubikey { .. } => "YUBIKEY",
            Self::Fido2 { fido_type, .. } => match fido_type {
                Fido2Type::Fido2 => "FIDO2",
                Fido2Type::Platform => "PLATFORM",
                Fido2Type::SecurityKey => "SECURITY_KEY",
            },
            Self::Desktop { .. } => "PINGID_DESKTOP_GEN2",
        }
    }
}

/// A pairing key for the PingID mobile app.
#[derive(Debug, Clone)]
pub(crate) struct PairingKey {
    pub(crate) id: String,
    pub(crate) code: String,
    pub(crate) user_id: String,
    pub(crate) application_ids: Vec<String>,
    pub(crate) created_at: SystemTime,
    pub(crate) expires_at: SystemTime,
    /// The device paired with it, once claimed.
    pub(crate) claimed_by: Option<String>,
}

impl PairingKey {
    /// `INITIAL`, `CLAIMED` or `EXPIRED` at `now`.
    pub(crate) fn status(&self, now: SystemTime) -> &'static str {
        if self.claimed_by.is_some() {
            "CLAIMED"
        } else if now >= self.expires_at {
            "EXPIRED"
        } else {
            "INITIAL"
        }
    }
}

/// Live devices (per user, in the user's order) and pairing keys.
#[derive(Debug, Default)]
pub(crate) struct DeviceStore {
    pub(crate) by_user: HashMap<String, Vec<Device>>,
    pub(crate) pairing_keys: Vec<PairingKey>,
    /// The last `/_sim/yubikey/{publicId}/otp` counter per physical key.
    pub(crate) yubikey_counters: HashMap<String, u32>,
    pub(crate) next_seq: u64,
}

impl DeviceStore {
    /// The user's devices, in order (empty for a user without any).
    pub(crate) fn of(&self, user_id: &str) -> &[Device] {
        self.by_user.get(user_id).map_or(&[], Vec::as_slice)
    }

    /// The user's devices, mutable.
    pub(crate) fn of_mut(&mut self, user_id: &str) -> &mut Vec<Device> {
        self.by_user.entry(user_id.to_owned()).or_default()
    }

    /// Any user's device with this id.
    pub(crate) fn find(&self, device_id: &str) -> Option<&Device> {
        self.by_user
            .values()
            .flatten()
            .find(|device| device.id == device_id)
    }

    /// A sequence number for a new device.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }
}

/// One method's switches in a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MethodSettings {
    pub(crate) enabled: bool,
    pub(crate) pairing_disabled: bool,
}

impl MethodSettings {
    /// Enabled, pairing allowed.
    pub(crate) const ON: Self = Self {
        enabled: true,
        pairing_disabled: false,
    };
}

/// A device authentication (MFA) policy; only the parts the simulator acts on are modelled.
pub(crate) struct Policy {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) default: bool,
    pub(crate) device_selection: DeviceSelection,
    pub(crate) sms: MethodSettings,
    pub(crate) voice: MethodSettings,
    pub(crate) email: MethodSettings,
    pub(crate) mobile: MethodSettings,
    pub(crate) totp: MethodSettings,
    pub(crate) fido2: MethodSettings,
    pub(crate) oath_token: MethodSettings,
    pub(crate) yubikey: MethodSettings,
    pub(crate) desktop: MethodSettings,
}

impl Policy {
    /// The settings of the method a device `type` belongs to.
    pub(crate) fn method(&self, type_name: &str) -> Option<MethodSettings> {
        Some(match type_name {
            "SMS" => self.sms,
            "VOICE" => self.voice,
            "EMAIL" => self.email,
            "MOBILE" => self.mobile,
            "TOTP" => self.totp,
            "FIDO2" | "PLATFORM" | "SECURITY_KEY" => self.fido2,
            "OATH_TOKEN" => self.oath_token,
            "YUBIKEY" => self.yubikey,
            "PINGID_DESKTOP_GEN2" => self.desktop,
            _ => return None,
        })
    }
}

/// `authentication.deviceSelection`: what happens when a start request names no device.
/// (PingOne's third value, `ALWAYS_DISPLAY_DEVICES`, is not used by the seeded policies.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum DeviceSelection {
    /// Use the user's default (first) device.
    DefaultToFirst,
    /// Ask the user to choose when they have more than one device.
    PromptToSelect,
}

/// A user with a snapshot of their usable (`ACTIVE`) devices, in order.
pub(crate) struct UserDevices<'a> {
    pub(crate) user: &'a User,
    pub(crate) devices: Vec<Device>,
}

impl UserDevices<'_> {
    /// This user's usable device with this id.
    pub(crate) fn device(&self, id: &str) -> Option<&Device> {
        self.devices.iter().find(|device| device.id == id)
    }
}

impl Tenant {
    /// The user with this id.
    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|user| user.id == id)
    }

    /// The user with a snapshot of their `ACTIVE` devices.
    pub(crate) fn active_devices<'a>(&self, user: &'a User) -> UserDevices<'a> {
        let devices = lock(&self.devices)
            .of(&user.id)
            .iter()
            .filter(|device| device.status == DeviceStatus::Active)
            .cloned()
            .collect();
        UserDevices { user, devices }
    }

    /// The policy with this id.
    pub(crate) fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|policy| policy.id == id)
    }

    /// The environment's default policy (seeding guarantees there is one).
    pub(crate) fn default_policy(&self) -> Option<&Policy> {
        self.policies.iter().find(|policy| policy.default)
    }

    /// The seeded OATH token with this serial number.
    pub(crate) fn oath_token(&self, serial_number: &str) -> Option<&OathToken> {
        self.oath_tokens
            .iter()
            .find(|token| token.serial_number == serial_number)
    }

    /// The user's current `mfaEnabled` flag.
    pub(crate) fn mfa_enabled(&self, user_id: &str) -> bool {
        lock(&self.mfa_enabled)
            .get(user_id)
            .copied()
            .unwrap_or(false)
    }

    /// Sets the user's `mfaEnabled` flag.
    pub(crate) fn set_mfa_enabled(&self, user_id: &str, enabled: bool) {
        lock(&self.mfa_enabled).insert(user_id.to_owned(), enabled);
    }
}

impl User {
    /// `Given Family`.
    pub(crate) fn formatted_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}
