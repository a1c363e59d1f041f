//! The legacy PingID side's data: orgs (alias, tokens, key), PingID users and their devices,
//! and the in-flight sessions of the REST API and the PPM authenticator. One mutex guards it
//! all ([`Legacy::data`]), held only for short, non-async sections.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::demo::legacy as demo;

/// An org's API credentials, from its `pingid.properties`.
#[derive(Debug, Clone)]
pub(crate) struct Org {
    pub(crate) alias: String,
    pub(crate) token: String,
    /// The decoded `use_base64_key`.
    pub(crate) key: Vec<u8>,
    /// With several devices and no `deviceId`, `startauthentication` answers 30008 instead of
    /// using the primary device.
    pub(crate) prompt_device_selection: bool,
}

/// How a device authenticates.
#[derive(Debug, Clone)]
pub(crate) enum DeviceKind {
    /// The PingID mobile app.
    Mobile {
        model: String,
        os: String,
    },
    Sms {
        phone: String,
    },
    Voice {
        phone: String,
    },
    Email {
        email: String,
    },
    /// An authenticator app (TOTP secret bytes).
    Totp {
        secret: Vec<u8>,
    },
    /// A passkey registered through `/_sim/pingid/webauthn/register` (see [`Passkey`]).
    Fido2,
}

/// A paired device.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: i64,
    pub(crate) uuid: String,
    pub(crate) nickname: String,
    pub(crate) kind: DeviceKind,
    /// `yyyy-MM-dd HH:mm:ss.SSS`.
    pub(crate) enrollment: String,
}

impl Device {
    /// PingID's `type` string.
    pub(crate) fn type_name(&self) -> &'static str {
        match &self.kind {
            DeviceKind::Mobile { os, .. } if os == "Android" => "Android",
            DeviceKind::Mobile { .. } => "iPhone",
            DeviceKind::Sms { .. } => "SMS",
            DeviceKind::Voice { .. } => "Voice",
            DeviceKind::Email { .. } => "Email",
            DeviceKind::Totp { .. } => "Authenticator App",
            DeviceKind::Fido2 => "FIDO2 Biometrics",
        }
    }

    /// `deviceDetails` (§5.2); `primary` decides `deviceRole`.
    pub(crate) fn details(&self, primary: bool) -> Value {
        let (model, os, app_version, push) = match &self.kind {
            DeviceKind::Mobile { model, os } => (
                Value::from(model.as_str()),
                Value::from(if os == "iOS" { "17.4" } else { "14" }),
                Value::from("1.40.0(9121)"),
                true,
            ),
            _ => (Value::Null, Value::Null, Value::Null, false),
        };
        let (phone, country, email, display) = match &self.kind {
            DeviceKind::Sms { phone } | DeviceKind::Voice { phone } => {
                let digits = phone.trim_start_matches('+');
                (
                    Value::from(digits),
                    Value::from(if digits.starts_with('1') { "1" } else { "" }),
                    Value::Null,
                    Value::from(phone.as_str()),
                )
            }
            DeviceKind::Email { email } => (
                Value::Null,
                Value::Null,
                Value::from(email.as_str()),
                Value::from(email.as_str()),
            ),
            DeviceKind::Mobile { model, .. } => (
                Value::Null,
                Value::Null,
                Value::Null,
                Value::from(model.as_str()),
            ),
            DeviceKind::Totp { .. } => (Value::Null, Value::Null, Value::Null, Value::Null),
            DeviceKind::Fido2 => (
                Value::Null,
                Value::Null,
                Value::Null,
                Value::from("webauthn_platform"),
            ),
        };
        let sms_like = matches!(self.kind, DeviceKind::Sms { .. } | DeviceKind::Voice { .. });
        json!({
            "deviceId": self.id,
            "deviceUuid": self.uuid,
            "type": self.type_name(),
            "deviceRole": if primary { "PRIMARY" } else { "SECONDARY" },
            "nickname": self.nickname,
            "deviceModel": model,
            "osVersion": os,
            "appVersion": app_version,
            "displayID": display,
            "enrollment": self.enrollment,
            "email": email,
            "phoneNumber": phone,
            "countryCode": country,
            "pushEnabled": push,
            "hasWatch": false,
            "availableClaimedSms": if sms_like { 10 } else { 0 },
            "availableNotClaimedSms": if sms_like { 5 } else { 0 },
            "sentClaimedSms": -1,
            "sentNotClaimedSms": -1,
        })
    }
}

/// A PingID user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) user_name: String,
    pub(crate) user_id: i64,
    pub(crate) email: Option<String>,
    pub(crate) fname: Option<String>,
    pub(crate) lname: Option<String>,
    /// §5.4: `ACTIVE`, `NOT_ACTIVE`, `PENDING_ACTIVATION`, …
    pub(crate) status: String,
    pub(crate) role: String,
    pub(crate) last_login_ms: Option<u64>,
    /// Paired devices; the first is the primary.
    pub(crate) devices: Vec<Device>,
    /// The passkey's WebAuthn user handle (stable per user).
    pub(crate) user_handle: Vec<u8>,
}

impl User {
    /// `userDetails` (§5.1).
    pub(crate) fn details(&self) -> Value {
        let devices: Vec<Value> = self
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| d.details(i == 0))
            .collect();
        json!({
            "userName": self.user_name,
            "userId": self.user_id,
            "email": self.email,
            "fname": self.fname,
            "lname": self.lname,
            "picURL": pic_url(&self.user_name),
            "status": self.status,
            "role": self.role,
            "userEnabled": self.status == "ACTIVE",
            "userInBypass": false,
            "bypassExpiration": null,
            "lastLogin": self.last_login_ms,
            "spList": [{ "spAlias": "web", "spName": "Web", "status": if self.status == "ACTIVE" { "ACTIVE" } else { "NOT_ACTIVE" }, "bypassExpiration": null }],
            "deviceDetails": devices.first().cloned(),
            "devicesDetails": if devices.is_empty() { Value::Null } else { Value::from(devices) },
            "lastTransactions": [],
        })
    }

    /// The phone of the user's first SMS device.
    pub(crate) fn sms_device(&self) -> Option<(&Device, &str)> {
        self.devices.iter().find_map(|d| match &d.kind {
            DeviceKind::Sms { phone } => Some((d, phone.as_str())),
            _ => None,
        })
    }
}

/// `picURL`: an opaque base32-looking string (§5.1) derived from the username.
fn pic_url(user_name: &str) -> String {
    use sha2::Digest;
    data_encoding::BASE32.encode(&sha2::Sha256::digest(user_name.as_bytes()))
}

/// A stable device UUID for a seeded or new device id.
pub(crate) fn device_uuid(id: i64) -> String {
    uuid::Uuid::from_u128(
        0x0f0e_af16_bc75_4440_8f0e_0000_0000_0000 + u128::from(id.unsigned_abs() % 1_000_000_000),
    )
    .to_string()
}

/// A WebAuthn user handle for `user_name` in `org`: 16 bytes of SHA-256, opaque.
pub(crate) fn user_handle(org: &str, user_name: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(format!("pingid-user:{org}:{user_name}").as_bytes())[..16].to_vec()
}

/// What the simulated phone answered to a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum PushDecision {
    Approve,
    Deny,
    Timeout,
}

/// What an authentication session waits for.
#[derive(Debug, Clone)]
pub(crate) enum AuthStage {
    /// 30008: the caller must choose a device.
    Selection,
    /// 30010 / 30007: the push is on the phone.
    Push { decision: Option<PushDecision> },
    /// 3000x: an OTP (`expected` for SMS/voice/email; `None` for TOTP, checked against the
    /// secret).
    Otp {
        expected: Option<String>,
        failures: u32,
    },
    /// 30013: a FIDO ceremony the REST API does not run here.
    Fido,
}

/// A `webs_…` authentication session.
#[derive(Debug, Clone)]
pub(crate) struct AuthSession {
    pub(crate) org: String,
    pub(crate) user_name: String,
    pub(crate) device_id: Option<i64>,
    pub(crate) stage: AuthStage,
    pub(crate) started: SystemTime,
}

/// An `oacts_…` offline pairing session.
#[derive(Debug, Clone)]
pub(crate) struct PairingSession {
    pub(crate) org: String,
    pub(crate) user_name: String,
    pub(crate) device: Device,
    pub(crate) otp: String,
    pub(crate) started: SystemTime,
    pub(crate) failures: u32,
}

/// A PPM authenticator page in progress.
#[derive(Debug, Clone)]
pub(crate) struct PpmSession {
    pub(crate) org: String,
    pub(crate) claims: Value,
    /// The user (`None` for passwordless until the assertion names one).
    pub(crate) user_name: Option<String>,
    pub(crate) otp: Option<String>,
    pub(crate) failures: u32,
    pub(crate) started: SystemTime,
    /// Passwordless: the WebAuthn authentication state (JSON) and its RP id / origin.
    pub(crate) webauthn: Option<(Value, String, String)>,
}

/// A passkey registration page in progress.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) org: String,
    pub(crate) user_name: String,
    pub(crate) state: Value,
    pub(crate) rp_id: String,
    pub(crate) origin: String,
    pub(crate) started: SystemTime,
}

/// A registered passkey.
#[derive(Debug, Clone)]
pub(crate) struct Passkey {
    pub(crate) org: String,
    pub(crate) user_name: String,
    pub(crate) device_id: i64,
    pub(crate) rp_id: String,
    /// webauthn-rs-core's `Credential`, serialised.
    pub(crate) credential: Value,
    /// base64url credential id.
    pub(crate) credential_id: String,
}

/// Everything mutable on the legacy side.
#[derive(Debug, Default)]
pub(crate) struct LegacyData {
    /// org alias → users.
    pub(crate) users: HashMap<String, Vec<User>>,
    pub(crate) auth_sessions: HashMap<String, AuthSession>,
    pub(crate) pairing_sessions: HashMap<String, PairingSession>,
    pub(crate) ppm_sessions: HashMap<String, PpmSession>,
    pub(crate) registrations: HashMap<String, Registration>,
    pub(crate) passkeys: Vec<Passkey>,
    /// (org, user) → when the user last signed in with a passkey.
    pub(crate) passwordless: HashMap<(String, String), (SystemTime, i64)>,
    /// The last PPM request claims and response claims, for `GET /_sim/pingid/ppm/last`.
    pub(crate) last_ppm_request: Option<Value>,
    pub(crate) last_ppm_response: Option<Value>,
    /// How many upcoming signed answers use a wrong key.
    pub(crate) tamper_next: u32,
    pub(crate) next_device_id: i64,
    pub(crate) next_user_id: i64,
    /// Activation codes handed out: code → (org, user).
    pub(crate) activation_codes: HashMap<String, (String, String)>,
}

impl LegacyData {
    /// The users of `org`.
    pub(crate) fn user(&self, org: &str, user_name: &str) -> Option<&User> {
        self.users
            .get(org)?
            .iter()
            .find(|u| u.user_name.eq_ignore_ascii_case(user_name))
    }

    /// The users of `org`, mutably.
    pub(crate) fn user_mut(&mut self, org: &str, user_name: &str) -> Option<&mut User> {
        self.users
            .get_mut(org)?
            .iter_mut()
            .find(|u| u.user_name.eq_ignore_ascii_case(user_name))
    }

    /// A fresh device id (large, positive).
    pub(crate) fn new_device_id(&mut self) -> i64 {
        self.next_device_id += 1;
        self.next_device_id
    }

    /// Takes one pending tamper, if any.
    pub(crate) fn take_tamper(&mut self) -> bool {
        if self.tamper_next > 0 {
            self.tamper_next -= 1;
            true
        } else {
            false
        }
    }
}

/// The legacy side: the orgs (fixed) and their data.
#[derive(Debug)]
pub(crate) struct Legacy {
    pub(crate) orgs: Vec<Org>,
    pub(crate) data: Mutex<LegacyData>,
}

impl Legacy {
    /// The org with `alias`.
    pub(crate) fn org(&self, alias: &str) -> Option<&Org> {
        self.orgs.iter().find(|o| o.alias == alias)
    }
}

/// `yyyy-MM-dd HH:mm:ss.SSS` (UTC) of `time`.
pub(crate) fn pingid_time(time: SystemTime) -> String {
    let text = humantime::format_rfc3339_millis(time).to_string();
    text.trim_end_matches('Z').replacen('T', " ", 1)
}

/// Milliseconds since the epoch.
pub(crate) fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `prefix` + 43 base64url characters (32 random bytes).
pub(crate) fn session_id(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A random `n`-digit code.
pub(crate) fn digits(n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rand::random_range(0..10u8)))
        .collect()
}

/// The seeded orgs and their users.
pub(crate) fn seed() -> Legacy {
    let key = |b64: &str| {
        STANDARD
            .decode(b64)
            .expect("the demo keys are valid base64")
    };
    let orgs = vec![
        Org {
            alias: demo::ORG_ALIAS.into(),
            token: demo::TOKEN.into(),
            key: key(demo::USE_BASE64_KEY),
            prompt_device_selection: false,
        },
        Org {
            alias: demo::OTHER_ORG_ALIAS.into(),
            token: demo::OTHER_TOKEN.into(),
            key: key(demo::OTHER_USE_BASE64_KEY),
            prompt_device_selection: true,
        },
    ];
    let seeded_at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200);
    let enrollment = pingid_time(seeded_at);
    let carol_secret = data_encoding::BASE32_NOPAD
        .decode(crate::demo::CAROL_TOTP_SECRET_BASE32.as_bytes())
        .expect("valid base32");
    let mut users = HashMap::new();
    for (org, offset) in [
        (demo::ORG_ALIAS, 0),
        (demo::OTHER_ORG_ALIAS, demo::OTHER_ORG_DEVICE_ID_OFFSET),
    ] {
        let device = |id: i64, nickname: &str, kind: DeviceKind| Device {
            id: id + offset,
            uuid: device_uuid(id + offset),
            nickname: nickname.into(),
            kind,
            enrollment: enrollment.clone(),
        };
        let user = |name: &str, first: &str, last: &str, status: &str, devices: Vec<Device>| User {
            user_name: name.into(),
            user_id: demo::USER_IDS
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(0, |(_, id)| *id),
            email: Some(format!("{name}@example.com")),
            fname: Some(first.into()),
            lname: Some(last.into()),
            status: status.into(),
            role: "REGULAR".into(),
            last_login_ms: None,
            devices,
            user_handle: user_handle(org, name),
        };
        users.insert(
            org.to_owned(),
            vec![
                user(
                    "alice",
                    "Alice",
                    "Anders",
                    "ACTIVE",
                    vec![
                        device(
                            demo::ALICE_MOBILE_DEVICE_ID,
                            "Alice's iPhone",
                            DeviceKind::Mobile {
                                model: "iPhone 15".into(),
                                os: "iOS".into(),
                            },
                        ),
                        device(
                            demo::ALICE_SMS_DEVICE_ID,
                            "Mobile SMS",
                            DeviceKind::Sms {
                                phone: crate::demo::ALICE_PHONE.into(),
                            },
                        ),
                    ],
                ),
                user("bob", "Bob", "Brown", "NOT_ACTIVE", Vec::new()),
                user(
                    "carol",
                    "Carol",
                    "Chen",
                    "ACTIVE",
                    vec![device(
                        demo::CAROL_TOTP_DEVICE_ID,
                        "Authenticator",
                        DeviceKind::Totp {
                            secret: carol_secret.clone(),
                        },
                    )],
                ),
            ],
        );
    }
    Legacy {
        orgs,
        data: Mutex::new(LegacyData {
            users,
            next_device_id: 1_084_997_072_428_850_000,
            next_user_id: 17_200,
            ..LegacyData::default()
        }),
    }
}
