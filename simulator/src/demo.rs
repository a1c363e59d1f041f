//! The seeded demo tenant. Tests, docs and the local stack rely on these exact values.
//!
//! | user  | id                | devices (in order; the first is the default)                    |
//! |-------|-------------------|-----------------------------------------------------------------|
//! | alice | [`ALICE_ID`]      | PingID app (push) [`ALICE_MOBILE_DEVICE_ID`], SMS [`ALICE_SMS_DEVICE_ID`], email [`ALICE_EMAIL_DEVICE_ID`] |
//! | bob   | [`BOB_ID`]        | none (one-time devices only)                                    |
//! | carol | [`CAROL_ID`]      | authenticator app [`CAROL_TOTP_DEVICE_ID`] ([`CAROL_TOTP_SECRET_BASE32`]) |
//! | dave  | [`DAVE_ID`]       | none; shares [`SHARED_EMAIL`] with erin                         |
//! | erin  | [`ERIN_ID`]       | none; shares [`SHARED_EMAIL`] with dave                         |
//!
//! dave and erin let a lookup by address meet two users (PingOne does not make addresses
//! unique), which `readUser` must answer like no user.
//!
//! Seeded hardware not yet assigned to anyone: OATH tokens [`OATH_TOKEN_1_SERIAL`] and
//! [`OATH_TOKEN_2_SERIAL`] (secrets [`OATH_TOKEN_1_SECRET_BASE32`], [`OATH_TOKEN_2_SECRET_BASE32`];
//! codes from `GET /_sim/oath/{serialNumber}`) and YubiKeys [`YUBIKEY_1_PUBLIC_ID`] and
//! [`YUBIKEY_2_PUBLIC_ID`] (OTPs from `POST /_sim/yubikey/{publicId}/otp`).
//!
//! Policies: [`DEFAULT_POLICY_ID`] (default), [`PROMPT_POLICY_ID`] and [`RESTRICTED_POLICY_ID`]
//! (voice disabled, YubiKey pairing disabled). At most [`MAX_ALLOWED_DEVICES`] devices per user.
//!
//! The legacy PingID org (`pingid.properties`, PingID users, PPM) is in [`legacy`].

pub mod legacy;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::tenant::{
    Activation, Device, DeviceKind, DeviceSelection, DeviceStatus, DeviceStore, MethodSettings,
    OathToken, Policy, Tenant, User, WorkerApp,
};

/// The environment id (region NA).
pub const ENV_ID: &str = "7c3a1f52-0d4e-4b8a-9c61-5e2f3a4b6c7d";
/// The worker app's client id; it accepts client_secret_basic and client_secret_post.
pub const CLIENT_ID: &str = "local-worker";
/// The worker app's client secret.
pub const CLIENT_SECRET: &str = "local-worker-secret";

/// alice: username `alice`, alice@example.com, +15555550101, Alice Anders; MFA enabled.
pub const ALICE_ID: &str = "a11ce000-0000-4000-8000-000000000001";
/// The iOS version alice's iPhone reports.
pub const ALICE_IPHONE_OS_VERSION: &str = "17.4";
/// Where alice's iPhone is: the demo policy's office "Berlin HQ" (`local/policy.json`).
pub const BERLIN_HQ: (f64, f64) = (52.5200, 13.4050);
/// alice's PingID mobile app (type MOBILE, push enabled): her default device.
pub const ALICE_MOBILE_DEVICE_ID: &str = "a11ce000-0000-4000-8000-0000000000d1";
/// alice's SMS device on [`ALICE_PHONE`].
pub const ALICE_SMS_DEVICE_ID: &str = "a11ce000-0000-4000-8000-0000000000d2";
/// alice's email device on [`ALICE_EMAIL`].
pub const ALICE_EMAIL_DEVICE_ID: &str = "a11ce000-0000-4000-8000-0000000000d3";
/// alice's mobile phone (profile and SMS device).
pub const ALICE_PHONE: &str = "+15555550101";
/// alice's email address (profile and email device).
pub const ALICE_EMAIL: &str = "alice@example.com";

/// bob: username `bob`, bob@example.com, +15555550102; no devices; MFA disabled.
pub const BOB_ID: &str = "b0b00000-0000-4000-8000-000000000002";

/// carol: username `carol`, carol@example.com, +15555550103; MFA enabled.
pub const CAROL_ID: &str = "ca201000-0000-4000-8000-000000000003";
/// carol's authenticator app (type TOTP).
pub const CAROL_TOTP_DEVICE_ID: &str = "ca201000-0000-4000-8000-0000000000d1";
/// carol's TOTP secret in base32 (SHA-1, 30 s, 6 digits). It is the RFC 6238 test-vector key
/// `12345678901234567890`, so codes can be checked against the RFC's table, and it can be
/// typed into any authenticator app to play carol by hand.
pub const CAROL_TOTP_SECRET_BASE32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// dave: username `dave`, [`SHARED_EMAIL`], +15555550104; no devices; MFA disabled.
pub const DAVE_ID: &str = "da7e0000-0000-4000-8000-000000000004";
/// erin: username `erin`, [`SHARED_EMAIL`], +15555550105; no devices; MFA disabled.
pub const ERIN_ID: &str = "e2100000-0000-4000-8000-000000000005";
/// The address dave and erin share (a team mailbox).
pub const SHARED_EMAIL: &str = "helpdesk@example.com";

/// The PingID mobile application alice's MOBILE device is paired with.
pub const PINGID_APP_ID: &str = "a9910000-0000-4000-8000-0000000000a1";

/// The environment's default device authentication policy (`DEFAULT_TO_FIRST`).
pub const DEFAULT_POLICY_ID: &str = "de7a0170-0000-4000-8000-0000000000f1";
/// A second policy that prompts the user to choose (`PROMPT_TO_SELECT`).
pub const PROMPT_POLICY_ID: &str = "9a0b7000-0000-4000-8000-0000000000f2";

/// A third policy (`DEFAULT_TO_FIRST`) with `voice` disabled and `yubikey.pairingDisabled`, so
/// tests can show a refused method.
pub const RESTRICTED_POLICY_ID: &str = "5e1ec7ed-0000-4000-8000-0000000000f3";

/// `mfaSettings.pairing.maxAllowedDevices`: devices a user may have (any status).
pub const MAX_ALLOWED_DEVICES: usize = 5;

/// A hardware OATH token an admin imported, not yet assigned to a user.
pub const OATH_TOKEN_1_SERIAL: &str = "OATH-000001";
/// [`OATH_TOKEN_1_SERIAL`]'s secret in base32 (SHA-1, 30 s, 6 digits).
pub const OATH_TOKEN_1_SECRET_BASE32: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
/// A second imported OATH token.
pub const OATH_TOKEN_2_SERIAL: &str = "OATH-000002";
/// [`OATH_TOKEN_2_SERIAL`]'s secret in base32 (SHA-1, 30 s, 6 digits).
pub const OATH_TOKEN_2_SECRET_BASE32: &str = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF";

/// A physical YubiKey not yet enrolled (12 modhex characters).
pub const YUBIKEY_1_PUBLIC_ID: &str = "cccccbcdefgh";
/// A second physical YubiKey not yet enrolled.
pub const YUBIKEY_2_PUBLIC_ID: &str = "cccccbcdefgi";

/// When every seeded resource was created: 2024-01-01T00:00:00Z.
const SEEDED_AT_UNIX_SECS: u64 = 1_704_067_200;
/// The secret behind the passcode alice's PingID app shows ("Use Code"); tests read the code
/// through `GET /_sim/app/{deviceId}/code`, as the user reads it off the phone.
const ALICE_APP_SECRET: &[u8] = b"alice-pingid-app-passcode-secret";

/// Builds the demo tenant.
pub(crate) fn tenant() -> Tenant {
    let carol_secret = data_encoding::BASE32_NOPAD
        .decode(CAROL_TOTP_SECRET_BASE32.as_bytes())
        .expect("CAROL_TOTP_SECRET_BASE32 is valid base32");
    let users = vec![
        User {
            id: ALICE_ID.into(),
            username: "alice".into(),
            email: ALICE_EMAIL.into(),
            mobile_phone: ALICE_PHONE.into(),
            given_name: "Alice".into(),
            family_name: "Anders".into(),
        },
        User {
            id: BOB_ID.into(),
            username: "bob".into(),
            email: "bob@example.com".into(),
            mobile_phone: "+15555550102".into(),
            given_name: "Bob".into(),
            family_name: "Brown".into(),
        },
        User {
            id: CAROL_ID.into(),
            username: "carol".into(),
            email: "carol@example.com".into(),
            mobile_phone: "+15555550103".into(),
            given_name: "Carol".into(),
            family_name: "Chen".into(),
        },
        User {
            id: DAVE_ID.into(),
            username: "dave".into(),
            email: SHARED_EMAIL.into(),
            mobile_phone: "+15555550104".into(),
            given_name: "Dave".into(),
            family_name: "Dunn".into(),
        },
        User {
            id: ERIN_ID.into(),
            username: "erin".into(),
            email: SHARED_EMAIL.into(),
            mobile_phone: "+15555550105".into(),
            given_name: "Erin".into(),
            family_name: "Evans".into(),
        },
    ];
    let created_at = SystemTime::UNIX_EPOCH + Duration::from_secs(SEEDED_AT_UNIX_SECS);
    let seeded = |seq: u64, id: &str, nickname: &str, kind: DeviceKind| Device {
        id: id.into(),
        nickname: nickname.into(),
        kind,
        status: DeviceStatus::Active,
        policy_id: DEFAULT_POLICY_ID.into(),
        created_at,
        updated_at: created_at,
        seq,
        activation: Activation::default(),
    };
    let mut store = DeviceStore::default();
    store.by_user.insert(
        ALICE_ID.into(),
        vec![
            seeded(
                1,
                ALICE_MOBILE_DEVICE_ID,
                "Alice's iPhone",
                DeviceKind::Mobile {
                    application_id: PINGID_APP_ID.into(),
                    push_enabled: true,
                    model: "iPhone 15".into(),
                    os: "iOS".into(),
                    os_version: ALICE_IPHONE_OS_VERSION.into(),
                    location: Some(BERLIN_HQ),
                    otp_secret: ALICE_APP_SECRET.to_vec(),
                },
            ),
            seeded(
                2,
                ALICE_SMS_DEVICE_ID,
                "Mobile SMS",
                DeviceKind::Sms {
                    phone: ALICE_PHONE.into(),
                },
            ),
            seeded(
                3,
                ALICE_EMAIL_DEVICE_ID,
                "Work email",
                DeviceKind::Email {
                    email: ALICE_EMAIL.into(),
                },
            ),
        ],
    );
    store.by_user.insert(
        CAROL_ID.into(),
        vec![seeded(
            4,
            CAROL_TOTP_DEVICE_ID,
            "Authenticator",
            DeviceKind::Totp {
                secret: carol_secret,
            },
        )],
    );
    store.next_seq = 4;
    let base32 = |secret: &str| {
        data_encoding::BASE32_NOPAD
            .decode(secret.as_bytes())
            .expect("seeded OATH secrets are valid base32")
    };
    let policy = |id: &str, name: &str, default: bool, device_selection| Policy {
        id: id.into(),
        name: name.into(),
        default,
        device_selection,
        sms: MethodSettings::ON,
        voice: MethodSettings::ON,
        email: MethodSettings::ON,
        mobile: MethodSettings::ON,
        totp: MethodSettings::ON,
        fido2: MethodSettings::ON,
        oath_token: MethodSettings::ON,
        yubikey: MethodSettings::ON,
        desktop: MethodSettings::ON,
    };
    let restricted = Policy {
        voice: MethodSettings {
            enabled: false,
            pairing_disabled: false,
        },
        yubikey: MethodSettings {
            enabled: true,
            pairing_disabled: true,
        },
        ..policy(
            RESTRICTED_POLICY_ID,
            "Restricted",
            false,
            DeviceSelection::DefaultToFirst,
        )
    };
    let mfa_enabled = HashMap::from([
        (ALICE_ID.to_owned(), true),
        (BOB_ID.to_owned(), false),
        (CAROL_ID.to_owned(), true),
        (DAVE_ID.to_owned(), false),
        (ERIN_ID.to_owned(), false),
    ]);
    Tenant {
        env_id: ENV_ID.into(),
        worker: WorkerApp {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        },
        users,
        policies: vec![
            policy(
                DEFAULT_POLICY_ID,
                "Default MFA Policy",
                true,
                DeviceSelection::DefaultToFirst,
            ),
            policy(
                PROMPT_POLICY_ID,
                "Prompt to select",
                false,
                DeviceSelection::PromptToSelect,
            ),
            restricted,
        ],
        created_at,
        devices: Mutex::new(store),
        oath_tokens: vec![
            OathToken {
                serial_number: OATH_TOKEN_1_SERIAL.into(),
                secret: base32(OATH_TOKEN_1_SECRET_BASE32),
            },
            OathToken {
                serial_number: OATH_TOKEN_2_SERIAL.into(),
                secret: base32(OATH_TOKEN_2_SECRET_BASE32),
            },
        ],
        yubikeys: vec![YUBIKEY_1_PUBLIC_ID.into(), YUBIKEY_2_PUBLIC_ID.into()],
        max_allowed_devices: MAX_ALLOWED_DEVICES,
        mfa_enabled: Mutex::new(mfa_enabled),
    }
}
