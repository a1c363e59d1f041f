//! The device-registration journey end to end: its function binary against the simulator and
//! moto (the continuation key in Secrets Manager, spent continuations and the per-user limits
//! in DynamoDB), driven as a client would: start, then follow the answer's actions with its
//! continuation. One method per test (the proof read off the simulator as the user's phone,
//! app, key or browser would give it), then what must be refused.

use std::time::SystemTime;

use crate::support;

use pingid_sim::authenticator::SoftAuthenticator;
use pingid_sim::demo;
use serde_json::{Value, json};
use shared::journey::Journey;
use shared::journey::actions::At;
use shared::journey::authentication::{Backup, Switches};
use shared::journey::continuation::Continuations;
use shared::journey::state::{AuthenticationState, RegistrationState, Terms};
use support::{
    Function, Stack, action_names, assert_no_secret_in_logs, failed, ok, problem_fields,
};

const JOURNEY: &str = "device-registration";
/// The page the WebAuthn ceremonies run on, and its relying party id.
const ORIGIN: &str = "https://login.example.com";
const RP_ID: &str = "login.example.com";
/// The desktop app's relying party in the simulator is `localhost`.
const DESKTOP_ORIGIN: &str = "https://localhost";
const CREATE_DEVICE: &str = "POST /v1/environments/{envId}/users/{userId}/devices";

/// The stack, the journey's function, and a device list to check PingOne's side.
struct Client {
    stack: Stack,
    journey: Function,
    list: Function,
}

impl Client {
    async fn start() -> Client {
        let stack = Stack::start().await;
        Client {
            journey: stack.function(JOURNEY).await,
            list: stack.function("readAllDevicesPingID").await,
            stack,
        }
    }

    /// Starts `user`'s journey: `METHOD_SELECTION`.
    async fn begin(&self, user: &str) -> Value {
        let selection = ok(&self.journey.call(json!({ "pingIdUserId": user })).await);
        assert_eq!(selection["step"], "METHOD_SELECTION", "{selection}");
        selection
    }

    /// Takes `action` (with `fields`) from `answer`, as `user`, expecting 200.
    async fn take(&self, user: &str, answer: &Value, action: &str, fields: Value) -> Value {
        self.journey.take(user, answer, action, fields).await
    }

    /// bob registers `method` (with `fields`) from a fresh start.
    async fn register(&self, method: &str, fields: Value) -> Value {
        let selection = self.begin(demo::BOB_ID).await;
        let mut fields = fields;
        fields["method"] = json!(method);
        self.take(demo::BOB_ID, &selection, "register", fields)
            .await
    }

    /// `user`'s devices as PingOne lists them.
    async fn devices(&self, user: &str) -> Vec<Value> {
        let listed = ok(&self.list.call(json!({ "userId": user })).await);
        listed["devices"].as_array().unwrap().clone()
    }

    /// The status PingOne lists bob's device `id` with.
    async fn status_of(&self, id: &Value) -> Option<String> {
        self.devices(demo::BOB_ID)
            .await
            .into_iter()
            .find(|device| device["id"] == *id)
            .map(|device| device["status"].as_str().unwrap().to_string())
    }

    /// The id of bob's device waiting for activation (the journey keeps it in its
    /// continuation; the user reads their app or token for it).
    async fn waiting_device(&self) -> String {
        let devices = self.devices(demo::BOB_ID).await;
        let waiting: Vec<&Value> = devices
            .iter()
            .filter(|device| device["status"] == "ACTIVATION_REQUIRED")
            .collect();
        assert_eq!(waiting.len(), 1, "{devices:?}");
        waiting[0]["id"].as_str().unwrap().to_string()
    }

    /// The device of a `REGISTERED` answer is `ACTIVE` in PingOne.
    async fn assert_registered(&self, done: &Value, kind: &str) {
        assert_eq!(done["step"], "REGISTERED", "{done}");
        assert_eq!(done["device"]["type"], kind, "{done}");
        assert_eq!(done["device"]["status"], "ACTIVE", "{done}");
        assert!(done.get("continuation").is_none(), "{done}");
        assert_eq!(done["actions"], json!([]), "{done}");
        assert_eq!(
            self.status_of(&done["device"]["id"]).await.as_deref(),
            Some("ACTIVE")
        );
    }
}

/// bob registers a phone (`SMS`, `VOICE`) or address (`EMAIL`) given as `field`, or the
/// profile's when `contact` is `None`; the passcode comes from the simulator's outbox.
async fn sent_passcode_round_trip(
    method: &str,
    field: &str,
    given: Option<&str>,
    to: &str,
    masked: &str,
) {
    let client = Client::start().await;
    let fields = match given {
        Some(contact) => json!({ field: contact, "nickname": "Bob's" }),
        None => json!({}),
    };
    let pending = client.register(method, fields).await;
    assert_eq!(pending["step"], "ACTIVATION_REQUIRED", "{pending}");
    assert_eq!(pending["method"], method);
    assert_eq!(pending["destination"], masked, "{pending}");
    assert_eq!(action_names(&pending), ["otp", "resend", "cancel"]);
    let otp = client.stack.last_otp_sent_to(to).await;
    let done = client
        .take(demo::BOB_ID, &pending, "otp", json!({ "otp": otp }))
        .await;
    client.assert_registered(&done, method).await;
    let continuation = pending["continuation"].as_str().unwrap();
    assert_no_secret_in_logs(&[&client.journey], &[&otp, continuation]);
}

#[tokio::test]
async fn bob_registers_an_sms_device() {
    sent_passcode_round_trip(
        "SMS",
        "phone",
        Some("+15555550102"),
        "+15555550102",
        "+1555*****02",
    )
    .await;
}

#[tokio::test]
async fn bob_registers_a_voice_device() {
    sent_passcode_round_trip(
        "VOICE",
        "phone",
        Some("+15555550104"),
        "+15555550104",
        "+1555*****04",
    )
    .await;
}

#[tokio::test]
async fn bob_registers_his_profiles_email_address_when_none_is_given() {
    sent_passcode_round_trip(
        "EMAIL",
        "email",
        None,
        "bob@example.com",
        "b****@example.com",
    )
    .await;
}

#[tokio::test]
async fn bob_registers_an_authenticator_app_from_the_key_shown() {
    let client = Client::start().await;
    let pending = client.register("TOTP", json!({})).await;
    assert_eq!(pending["step"], "ACTIVATION_REQUIRED", "{pending}");
    assert_eq!(action_names(&pending), ["otp", "cancel"]);
    let secret = pending["secret"].as_str().expect("the key");
    let key_uri = pending["keyUri"].as_str().expect("the QR code's URI");
    assert!(
        key_uri.starts_with("otpauth://totp/") && key_uri.contains(secret),
        "{key_uri}"
    );
    // The app set up with that key shows its code
    let device = client.waiting_device().await;
    let code = client.stack.totp_code(&device).await;
    let done = client
        .take(demo::BOB_ID, &pending, "otp", json!({ "otp": code }))
        .await;
    client.assert_registered(&done, "TOTP").await;
    assert_no_secret_in_logs(&[&client.journey], &[secret]);
}

/// bob registers a WebAuthn `method` with a software authenticator.
async fn webauthn_round_trip(method: &str) {
    let client = Client::start().await;
    let mut authenticator = SoftAuthenticator::new();
    let pending = client.register(method, json!({ "rpId": RP_ID })).await;
    assert_eq!(pending["step"], "ATTESTATION_REQUIRED", "{pending}");
    assert_eq!(action_names(&pending), ["attestation", "cancel"]);
    let options = pending["publicKeyCredentialCreationOptions"]
        .as_str()
        .expect("creation options (JSON text)");
    let attestation = authenticator.register(options, ORIGIN).unwrap();
    // The right attestation from the wrong page: the ceremony may be repeated
    let elsewhere = client
        .take(
            demo::BOB_ID,
            &pending,
            "attestation",
            json!({ "attestation": attestation, "origin": "https://evil.example.net" }),
        )
        .await;
    assert_eq!(elsewhere["step"], "ATTESTATION_REQUIRED", "{elsewhere}");
    assert_eq!(elsewhere["retry"], "INVALID_ATTESTATION");
    let done = client
        .take(
            demo::BOB_ID,
            &elsewhere,
            "attestation",
            json!({ "attestation": attestation, "origin": ORIGIN }),
        )
        .await;
    client.assert_registered(&done, method).await;
}

#[tokio::test]
async fn bob_registers_a_security_key() {
    webauthn_round_trip("SECURITY_KEY").await;
}

#[tokio::test]
async fn bob_registers_a_platform_authenticator() {
    webauthn_round_trip("PLATFORM").await;
}

#[tokio::test]
async fn bob_pairs_the_pingid_app_with_a_pairing_key() {
    let client = Client::start().await;
    let issued = client.register("PINGID_MOBILE", json!({})).await;
    assert_eq!(issued["step"], "PAIRING_KEY_ISSUED", "{issued}");
    assert_eq!(action_names(&issued), ["poll", "cancel"]);
    let key = issued["pairingKey"].as_str().unwrap().to_string();
    assert!(
        key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()),
        "{key}"
    );
    assert!(issued["expiresAt"].is_string() && issued["pollAfterSeconds"].is_number());
    // Not claimed yet: the same step again
    let waiting = client.take(demo::BOB_ID, &issued, "poll", json!({})).await;
    assert_eq!(waiting["step"], "PAIRING_KEY_ISSUED", "{waiting}");
    assert_eq!(waiting["pairingKey"], key.as_str());
    // The user types the key into the PingID app
    let claimed = client
        .stack
        .sim_post(&format!("/_sim/pairing-keys/{key}/claim"), json!({}))
        .await;
    let done = client.take(demo::BOB_ID, &waiting, "poll", json!({})).await;
    client.assert_registered(&done, "MOBILE").await;
    assert_eq!(done["device"]["id"], claimed["deviceId"]);
    assert_no_secret_in_logs(&[&client.journey], &[&key]);
}

#[tokio::test]
async fn an_expired_pairing_key_ends_the_journey() {
    let client = Client::start().await;
    let issued = client.register("PINGID_MOBILE", json!({})).await;
    client.stack.advance_clock(11 * 60).await;
    let expired = client.take(demo::BOB_ID, &issued, "poll", json!({})).await;
    assert_eq!(
        (&expired["step"], &expired["reason"]),
        (&json!("FAILED"), &json!("PAIRING_KEY_EXPIRED"))
    );
    assert!(expired.get("continuation").is_none());
}

#[tokio::test]
async fn bob_registers_a_yubikey() {
    let client = Client::start().await;
    let pending = client.register("YUBIKEY", json!({})).await;
    assert_eq!(
        pending,
        json!({"step": "ACTIVATION_REQUIRED", "method": "YUBIKEY",
            "actions": pending["actions"], "continuation": pending["continuation"]})
    );
    let otp = client
        .stack
        .sim_post(
            &format!("/_sim/yubikey/{}/otp", demo::YUBIKEY_1_PUBLIC_ID),
            json!({}),
        )
        .await["otp"]
        .clone();
    let done = client
        .take(demo::BOB_ID, &pending, "otp", json!({ "otp": otp }))
        .await;
    client.assert_registered(&done, "YUBIKEY").await;
}

#[tokio::test]
async fn bob_registers_the_pingid_desktop_app() {
    let client = Client::start().await;
    let pending = client.register("PINGID_DESKTOP", json!({})).await;
    assert_eq!(pending["step"], "ATTESTATION_REQUIRED", "{pending}");
    let options = &pending["pingIdDesktopCredentialCreationOptions"];
    assert!(options.is_string(), "{pending}");
    let registered = client
        .stack
        .sim_post("/_sim/desktop/register", json!({ "options": options }))
        .await;
    let done = client
        .take(
            demo::BOB_ID,
            &pending,
            "attestation",
            json!({ "attestation": registered["attestation"], "origin": DESKTOP_ORIGIN }),
        )
        .await;
    client.assert_registered(&done, "PINGID_DESKTOP_GEN2").await;
}

#[tokio::test]
async fn a_wrong_passcode_shows_the_step_again_and_the_right_one_registers() {
    let client = Client::start().await;
    let phone = "+15555550102";
    let pending = client.register("SMS", json!({ "phone": phone })).await;
    let right = client.stack.last_otp_sent_to(phone).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let again = client
        .take(demo::BOB_ID, &pending, "otp", json!({ "otp": wrong }))
        .await;
    assert_eq!(again["step"], "ACTIVATION_REQUIRED", "{again}");
    assert_eq!(again["retry"], "INVALID_OTP");
    assert_eq!(again["attemptsLeft"], 2);
    assert_eq!(again["destination"], pending["destination"]);
    assert_ne!(again["continuation"], pending["continuation"]);
    let done = client
        .take(demo::BOB_ID, &again, "otp", json!({ "otp": right }))
        .await;
    client.assert_registered(&done, "SMS").await;
}

#[tokio::test]
async fn three_wrong_passcodes_end_the_journey_and_remove_the_device() {
    let client = Client::start().await;
    let mut step = client
        .register("EMAIL", json!({ "email": "bob@example.com" }))
        .await;
    for _ in 0..3 {
        step = client
            .take(demo::BOB_ID, &step, "otp", json!({ "otp": "00000000" }))
            .await;
    }
    assert_eq!(
        (&step["step"], &step["reason"]),
        (&json!("FAILED"), &json!("TOO_MANY_ATTEMPTS")),
        "{step}"
    );
    assert_eq!(client.devices(demo::BOB_ID).await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_resent_passcode_replaces_the_first() {
    let client = Client::start().await;
    let email = "bob@example.com";
    let pending = client.register("EMAIL", json!({ "email": email })).await;
    let resent = client
        .take(demo::BOB_ID, &pending, "resend", json!({}))
        .await;
    assert_eq!(resent["step"], "ACTIVATION_REQUIRED", "{resent}");
    assert_eq!(resent["destination"], "b****@example.com");
    let sent = client.stack.otps_sent_to(email).await;
    assert_eq!(sent.len(), 2);
    let done = client
        .take(demo::BOB_ID, &resent, "otp", json!({ "otp": sent[1] }))
        .await;
    client.assert_registered(&done, "EMAIL").await;
}

#[tokio::test]
async fn sends_are_limited_per_user_and_a_refused_one_keeps_the_continuation() {
    let client = Client::start().await;
    let phone = "+15555550102";
    // One text at registration and four resends: the default allowance of five an hour
    let mut step = client.register("SMS", json!({ "phone": phone })).await;
    for _ in 0..4 {
        step = client.take(demo::BOB_ID, &step, "resend", json!({})).await;
    }
    let refused = client
        .journey
        .act(demo::BOB_ID, &step, "resend", json!({}))
        .await;
    failed(&refused, 429, "USER_RATE_LIMITED");
    assert_eq!(client.stack.otps_sent_to(phone).await.len(), 5);
    // The continuation was not spent: the passcode received still registers the phone
    let otp = client.stack.last_otp_sent_to(phone).await;
    let done = client
        .take(demo::BOB_ID, &step, "otp", json!({ "otp": otp }))
        .await;
    client.assert_registered(&done, "SMS").await;
}

#[tokio::test]
async fn cancelling_deletes_the_unfinished_device() {
    let client = Client::start().await;
    let pending = client
        .register("SMS", json!({ "phone": "+15555550102" }))
        .await;
    assert_eq!(client.devices(demo::BOB_ID).await.len(), 1);
    let canceled = client
        .take(demo::BOB_ID, &pending, "cancel", json!({}))
        .await;
    assert_eq!(
        canceled,
        json!({"step": "FAILED", "reason": "CANCELED", "actions": []})
    );
    assert_eq!(client.devices(demo::BOB_ID).await, Vec::<Value>::new());
}

#[tokio::test]
async fn with_no_room_left_a_method_cannot_be_registered() {
    let client = Client::start().await;
    // alice has three devices; two unfinished ones fill her five places
    let create = client.stack.function("createDevicePingID").await;
    for (kind, extra) in [
        ("EMAIL", json!({ "email": "alice.backup@example.com" })),
        ("TOTP", json!({})),
    ] {
        let mut properties = extra;
        properties["userId"] = json!(demo::ALICE_ID);
        properties["workforceDeviceType"] = json!(kind);
        properties["status"] = json!("ACTIVATION_REQUIRED");
        ok(&create.call(properties).await);
    }
    let selection = client.begin(demo::ALICE_ID).await;
    assert_eq!(
        (
            selection["devices"].clone(),
            selection["maxAllowedDevices"].clone()
        ),
        (json!(5), json!(5))
    );
    let methods = selection["methods"].as_array().unwrap();
    assert!(
        methods.iter().all(|m| m["canRegister"] == false),
        "{selection}"
    );
    let sms = methods.iter().find(|m| m["method"] == "SMS").unwrap();
    assert_eq!(sms["paired"], 1);
    assert_eq!(action_names(&selection), ["cancel"]);
    let before = client.stack.stats(CREATE_DEVICE).await;
    let refused = client
        .journey
        .act(
            demo::ALICE_ID,
            &selection,
            "register",
            json!({ "method": "VOICE", "phone": "+15555550109" }),
        )
        .await;
    let body = failed(&refused, 400, "VALIDATION_FAILED");
    assert_eq!(problem_fields(&body), ["properties.method"]);
    assert_eq!(client.stack.stats(CREATE_DEVICE).await, before);
    // A method that is no method at all is the schema's to refuse
    let unknown = client
        .journey
        .act(
            demo::ALICE_ID,
            &selection,
            "register",
            json!({ "method": "FAX" }),
        )
        .await;
    assert_eq!(
        problem_fields(&failed(&unknown, 400, "VALIDATION_FAILED")),
        ["properties.method"]
    );
}

#[tokio::test]
async fn a_client_mistake_names_every_field_and_keeps_the_continuation() {
    let client = Client::start().await;
    let selection = client.begin(demo::BOB_ID).await;
    let mistaken = client
        .journey
        .act(
            demo::BOB_ID,
            &selection,
            "otp",
            json!({ "otp": "123456", "phone": "+15555550102", "origin": ORIGIN }),
        )
        .await;
    let body = failed(&mistaken, 400, "VALIDATION_FAILED");
    assert_eq!(
        problem_fields(&body),
        ["properties.phone", "properties.origin", "properties.action"]
    );
    assert_eq!(client.stack.stats(CREATE_DEVICE).await, 0);
    let pending = client
        .take(
            demo::BOB_ID,
            &selection,
            "register",
            json!({ "method": "TOTP" }),
        )
        .await;
    assert_eq!(pending["step"], "ACTIVATION_REQUIRED");
}

#[tokio::test]
async fn a_replayed_continuation_is_refused() {
    let client = Client::start().await;
    let selection = client.begin(demo::BOB_ID).await;
    let email = json!({ "method": "EMAIL", "email": "bob@example.com" });
    client
        .take(demo::BOB_ID, &selection, "register", email.clone())
        .await;
    let replayed = client
        .journey
        .act(demo::BOB_ID, &selection, "register", email)
        .await;
    let body = failed(&replayed, 400, "VALIDATION_FAILED");
    assert_eq!(problem_fields(&body), ["properties.continuation"]);
    assert!(
        body["details"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("used already")
    );
    assert_eq!(client.stack.otps_sent_to("bob@example.com").await.len(), 1);
    assert_eq!(client.devices(demo::BOB_ID).await.len(), 1);
}

#[tokio::test]
async fn alices_continuation_is_nothing_for_bob() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID).await;
    let pending = client
        .take(
            demo::ALICE_ID,
            &selection,
            "register",
            json!({ "method": "TOTP" }),
        )
        .await;
    let summary = |devices: Vec<Value>| -> Vec<(Value, Value)> {
        devices
            .into_iter()
            .map(|device| (device["id"].clone(), device["status"].clone()))
            .collect()
    };
    let before = summary(client.devices(demo::ALICE_ID).await);
    for (action, fields) in [("otp", json!({ "otp": "123456" })), ("cancel", json!({}))] {
        let refused = client
            .journey
            .act(demo::BOB_ID, &pending, action, fields)
            .await;
        let body = failed(&refused, 400, "VALIDATION_FAILED");
        assert_eq!(
            problem_fields(&body),
            ["properties.continuation"],
            "{action}"
        );
    }
    // Nothing changed for either of them, and alice can still go on
    assert_eq!(summary(client.devices(demo::ALICE_ID).await), before);
    assert_eq!(client.devices(demo::BOB_ID).await, Vec::<Value>::new());
    let canceled = client
        .take(demo::ALICE_ID, &pending, "cancel", json!({}))
        .await;
    assert_eq!(canceled["reason"], "CANCELED");
    assert_eq!(client.devices(demo::ALICE_ID).await.len(), before.len() - 1);
}

fn terms() -> Terms {
    Terms {
        switches: Switches {
            backups: vec![Backup::Sms],
            use_code: true,
            otp_fallback: true,
        },
        mandatory: vec!["VOICE".into()],
        admin_message: None,
        decision: None,
        allowed_methods: None,
    }
}

#[tokio::test]
async fn a_continuation_of_the_authentication_journey_is_refused() {
    let client = Client::start().await;
    let continuations = Continuations::new(support::JOURNEY_KEY.as_bytes());
    let state = AuthenticationState::new(At::Registered, terms());
    let token = continuations.issue(
        Journey::Authentication,
        demo::BOB_ID,
        &state,
        SystemTime::now(),
    );
    let refused = client
        .journey
        .call(json!({ "pingIdUserId": demo::BOB_ID, "continuation": token,
            "action": "register", "method": "SMS", "phone": "+15555550102" }))
        .await;
    let body = failed(&refused, 400, "VALIDATION_FAILED");
    assert_eq!(
        body["details"],
        json!([{"field": "properties.continuation",
            "problem": "is not a continuation of this user's device-registration journey"}])
    );
    assert_eq!(client.stack.stats(CREATE_DEVICE).await, 0);
}

/// Handed over by the authentication journey (as it seals its hand-over), the journey offers
/// only the mandatory methods and, once one is paired, hands back with a continuation of the
/// authentication journey.
#[tokio::test]
async fn a_handed_over_registration_hands_back_to_the_authentication_journey() {
    let client = Client::start().await;
    let continuations = Continuations::new(support::JOURNEY_KEY.as_bytes());
    let state = RegistrationState::MethodSelection {
        only: Some(vec!["VOICE".into()]),
        resume: Some(terms()),
    };
    let now = SystemTime::now();
    let handed = json!({ "continuation":
        continuations.issue(Journey::DeviceRegistration, demo::ALICE_ID, &state, now) });
    let refused = client
        .journey
        .act(
            demo::ALICE_ID,
            &handed,
            "register",
            json!({ "method": "SMS" }),
        )
        .await;
    assert_eq!(
        problem_fields(&failed(&refused, 400, "VALIDATION_FAILED")),
        ["properties.method"]
    );
    // alice's profile phone, by voice
    let pending = ok(&client
        .journey
        .act(
            demo::ALICE_ID,
            &handed,
            "register",
            json!({ "method": "VOICE" }),
        )
        .await);
    assert_eq!(pending["destination"], "+1555*****01", "{pending}");
    let otp = client.stack.last_otp_sent_to(demo::ALICE_PHONE).await;
    let done = client
        .take(demo::ALICE_ID, &pending, "otp", json!({ "otp": otp }))
        .await;
    assert_eq!(done["step"], "REGISTERED", "{done}");
    assert_eq!(done["device"]["type"], "VOICE");
    assert_eq!(
        done["actions"],
        json!([{"action": "continue", "journey": "authentication", "fields": {}}])
    );
    let back = done["continuation"]
        .as_str()
        .expect("the authentication journey's");
    let opened = continuations
        .open::<AuthenticationState>(
            Journey::Authentication,
            demo::ALICE_ID,
            back,
            SystemTime::now(),
        )
        .expect("an authentication continuation of alice's");
    assert_eq!(
        opened.step(),
        &AuthenticationState::new(At::Registered, terms())
    );
}
