//! The simulated PingOne environment: its worker app, users, MFA devices and device
//! authentication policies. Everything is fixed at seeding except each user's `mfaEnabled` flag.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Serialize;

use crate::state::lock;

/// One PingOne environment with everything the connector reads from it.
pub(crate) struct Tenant {
    pub(crate) env_id: String,
    pub(crate) worker: WorkerApp,
    pub(crate) users: Vec<User>,
    pub(crate) policies: Vec<Policy>,
    /// When the seeded resources were created (a fixed instant, so bodies are reproducible).
    pub(crate) created_at: SystemTime,
    /// `mfaEnabled` per user id: the one thing the management API lets callers change.
    pub(crate) mfa_enabled: Mutex<HashMap<String, bool>>,
}

/// The worker application whose client credentials obtain access tokens.
pub(crate) struct WorkerApp {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
}

/// A PingOne user with its MFA devices in the user's order (the default device first).
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) mobile_phone: String,
    pub(crate) given_name: String,
    pub(crate) family_name: String,
    pub(crate) devices: Vec<Device>,
}

/// A paired MFA device. The simulator has no pairing API, so every device is `ACTIVE`.
pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) nickname: String,
    pub(crate) kind: DeviceKind,
}

/// What kind of device it is, with the data that kind carries.
pub(crate) enum DeviceKind {
    /// The PingID mobile app: authenticates by push.
    Mobile {
        application_id: String,
        push_enabled: bool,
        model: String,
        os: String,
    },
    /// Text messages with an OTP.
    Sms { phone: String },
    /// Emails with an OTP.
    Email { email: String },
    /// An authenticator app (RFC 6238) sharing `secret` with PingOne.
    Totp { secret: Vec<u8> },
}

impl DeviceKind {
    /// PingOne's `type` value.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Self::Mobile { .. } => "MOBILE",
            Self::Sms { .. } => "SMS",
            Self::Email { .. } => "EMAIL",
            Self::Totp { .. } => "TOTP",
        }
    }
}

/// A device authentication (MFA) policy; only the parts the simulator acts on are modelled.
pub(crate) struct Policy {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) default: bool,
    pub(crate) device_selection: DeviceSelection,
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

impl Tenant {
    /// The user with this id.
    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|user| user.id == id)
    }

    /// The policy with this id.
    pub(crate) fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|policy| policy.id == id)
    }

    /// The environment's default policy (seeding guarantees there is one).
    pub(crate) fn default_policy(&self) -> Option<&Policy> {
        self.policies.iter().find(|policy| policy.default)
    }

    /// Any user's device with this id.
    pub(crate) fn device(&self, id: &str) -> Option<&Device> {
        self.users
            .iter()
            .flat_map(|user| &user.devices)
            .find(|device| device.id == id)
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
    /// This user's device with this id.
    pub(crate) fn device(&self, id: &str) -> Option<&Device> {
        self.devices.iter().find(|device| device.id == id)
    }

    /// `Given Family`.
    pub(crate) fn formatted_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}
