//! The seeded demo tenant. Tests, docs and the local stack rely on these exact values.
//!
//! | user  | id                | devices (in order; the first is the default)                    |
//! |-------|-------------------|-----------------------------------------------------------------|
//! | alice | [`ALICE_ID`]      | PingID app (push) [`ALICE_MOBILE_DEVICE_ID`], SMS [`ALICE_SMS_DEVICE_ID`], email [`ALICE_EMAIL_DEVICE_ID`] |
//! | bob   | [`BOB_ID`]        | none (one-time devices only)                                    |
//! | carol | [`CAROL_ID`]      | authenticator app [`CAROL_TOTP_DEVICE_ID`] ([`CAROL_TOTP_SECRET_BASE32`]) |

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::tenant::{Device, DeviceKind, DeviceSelection, Policy, Tenant, User, WorkerApp};

/// The environment id (region NA).
pub const ENV_ID: &str = "7c3a1f52-0d4e-4b8a-9c61-5e2f3a4b6c7d";
/// The worker app's client id; it accepts client_secret_basic and client_secret_post.
pub const CLIENT_ID: &str = "local-worker";
/// The worker app's client secret.
pub const CLIENT_SECRET: &str = "local-worker-secret";

/// alice: username `alice`, alice@example.com, +15555550101, Alice Anders; MFA enabled.
pub const ALICE_ID: &str = "a11ce000-0000-4000-8000-000000000001";
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

/// The PingID mobile application alice's MOBILE device is paired with.
pub const PINGID_APP_ID: &str = "a9910000-0000-4000-8000-0000000000a1";

/// The environment's default device authentication policy (`DEFAULT_TO_FIRST`).
pub const DEFAULT_POLICY_ID: &str = "de7a0170-0000-4000-8000-0000000000f1";
/// A second policy that prompts the user to choose (`PROMPT_TO_SELECT`).
pub const PROMPT_POLICY_ID: &str = "9a0b7000-0000-4000-8000-0000000000f2";

/// When every seeded resource was created: 2024-01-01T00:00:00Z.
const SEEDED_AT_UNIX_SECS: u64 = 1_704_067_200;

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
            devices: vec![
                Device {
                    id: ALICE_MOBILE_DEVICE_ID.into(),
                    nickname: "Alice's iPhone".into(),
                    kind: DeviceKind::Mobile {
                        application_id: PINGID_APP_ID.into(),
                        push_enabled: true,
                        model: "iPhone 15".into(),
                        os: "iOS".into(),
                    },
                },
                Device {
                    id: ALICE_SMS_DEVICE_ID.into(),
                    nickname: "Mobile SMS".into(),
                    kind: DeviceKind::Sms {
                        phone: ALICE_PHONE.into(),
                    },
                },
                Device {
                    id: ALICE_EMAIL_DEVICE_ID.into(),
                    nickname: "Work email".into(),
                    kind: DeviceKind::Email {
                        email: ALICE_EMAIL.into(),
                    },
                },
            ],
        },
        User {
            id: BOB_ID.into(),
            username: "bob".into(),
            email: "bob@example.com".into(),
            mobile_phone: "+15555550102".into(),
            given_name: "Bob".into(),
            family_name: "Brown".into(),
            devices: Vec::new(),
        },
        User {
            id: CAROL_ID.into(),
            username: "carol".into(),
            email: "carol@example.com".into(),
            mobile_phone: "+15555550103".into(),
            given_name: "Carol".into(),
            family_name: "Chen".into(),
            devices: vec![Device {
                id: CAROL_TOTP_DEVICE_ID.into(),
                nickname: "Authenticator".into(),
                kind: DeviceKind::Totp {
                    secret: carol_secret,
                },
            }],
        },
    ];
    let mfa_enabled = HashMap::from([
        (ALICE_ID.to_owned(), true),
        (BOB_ID.to_owned(), false),
        (CAROL_ID.to_owned(), true),
    ]);
    Tenant {
        env_id: ENV_ID.into(),
        worker: WorkerApp {
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        },
        users,
        policies: vec![
            Policy {
                id: DEFAULT_POLICY_ID.into(),
                name: "Default MFA Policy".into(),
                default: true,
                device_selection: DeviceSelection::DefaultToFirst,
            },
            Policy {
                id: PROMPT_POLICY_ID.into(),
                name: "Prompt to select".into(),
                default: false,
                device_selection: DeviceSelection::PromptToSelect,
            },
        ],
        created_at: SystemTime::UNIX_EPOCH + Duration::from_secs(SEEDED_AT_UNIX_SECS),
        mfa_enabled: Mutex::new(mfa_enabled),
    }
}
