//! Device enrollment end to end, one test per method: enroll with `createDevicePingID` (or a
//! pairing key for the PingID app) → prove possession (the passcode from the simulator's
//! outbox, a TOTP / OATH / YubiKey code, a software FIDO2 authenticator, the simulated desktop
//! app, or the app claiming the key) → `activateDevice` → the device is listed `ACTIVE` by
//! `readAllDevicesPingID` → it authenticates with `createDeviceAuthenticationPingID`.
//! Then what must be refused: a wrong passcode, an expired pairing key, a method the policy
//! disables, an invalid phone, a duplicate device, and another user's device.

use crate::support;

use base64::Engine as _;
use pingid_sim::authenticator::SoftAuthenticator;
use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Function, Stack, assert_no_secret_in_logs, failed, ok};

/// The page the WebAuthn ceremonies run on, and its relying party id.
const ORIGIN: &str = "https://login.example.com";
const RP_ID: &str = "login.example.com";
/// The page origin of the desktop ceremonies: the simulator's desktop relying party is
/// `localhost` (PingOne takes it from the policy, not from the enrollment).
const DESKTOP_ORIGIN: &str = "https://localhost";

/// The functions an enrollment flow calls, started once per test.
struct Enrollment {
    stack: Stack,
    create: Function,
    activate: Function,
    list: Function,
    authenticate: Function,
    check_otp: Function,
    check_assertion: Function,
    read_authentication: Function,
}

impl Enrollment {
    async fn start() -> Enrollment {
        let stack = Stack::start().await;
        Enrollment {
            create: stack.function("createDevicePingID").await,
            activate: stack.function("activateDevice").await,
            list: stack.function("readAllDevicesPingID").await,
            authenticate: stack.function("createDeviceAuthenticationPingID").await,
            check_otp: stack.function("validateOtpDeviceAuthentication").await,
            check_assertion: stack
                .function("validateAssertionDeviceAuthentication")
                .await,
            read_authentication: stack.function("readDeviceAuthentication").await,
            stack,
        }
    }

    /// Enrolls a device for bob and returns the output; it waits for activation.
    async fn enroll(&self, properties: Value) -> Value {
        let mut properties = properties;
        properties["userId"] = json!(demo::BOB_ID);
        properties["status"] = json!("ACTIVATION_REQUIRED");
        let output = ok(&self.create.call(properties).await);
        assert_eq!(output["statusCode"], 201, "{output}");
        assert_eq!(output["status"], "ACTIVATION_REQUIRED", "{output}");
        assert_eq!(output["deviceId"], output["rawResponse"]["id"]);
        output
    }

    /// Activates bob's device with `proof` (`otp`, or `attestation` + `origin`).
    async fn activate(&self, device_id: &str, proof: Value) -> e2e::ProxyResponse {
        let mut properties = proof;
        properties["userId"] = json!(demo::BOB_ID);
        properties["deviceId"] = json!(device_id);
        self.activate.call(properties).await
    }

    /// Activates and checks the device is then `ACTIVE`, and listed so.
    async fn activate_ok(&self, device_id: &str, proof: Value) {
        let output = ok(&self.activate(device_id, proof).await);
        assert_eq!(output["status"], "ACTIVE", "{output}");
        assert_eq!(
            self.listed_status(device_id).await.as_deref(),
            Some("ACTIVE")
        );
    }

    /// The status `readAllDevicesPingID` lists bob's device with, if listed.
    async fn listed_status(&self, device_id: &str) -> Option<String> {
        let output = ok(&self.list.call(json!({ "userId": demo::BOB_ID })).await);
        output["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|device| device["id"] == device_id)
            .map(|device| device["status"].as_str().unwrap().to_string())
    }

    /// Starts bob's authentication on `device_id`; returns the output.
    async fn authenticate(&self, device_id: &str) -> Value {
        ok(&self
            .authenticate
            .call(json!({ "userId": demo::BOB_ID, "selectedDeviceId": device_id }))
            .await)
    }

    /// Authenticates with an OTP device: `OTP_REQUIRED`, then `otp()` completes it.
    async fn authenticate_with_code(&self, device_id: &str, otp: impl AsyncFnOnce() -> String) {
        let started = self.authenticate(device_id).await;
        assert_eq!(started["status"], "OTP_REQUIRED", "{started}");
        let code = otp().await;
        let done = ok(&self
            .check_otp
            .call(
                json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": started["deviceAuthenticationId"], "otp": code }),
            )
            .await);
        assert_eq!(done["status"], "COMPLETED", "{done}");
    }

    /// The current TOTP code of a device, after moving past the code used last.
    async fn next_totp(&self, device_id: &str) -> String {
        self.stack.advance_clock(30).await;
        self.stack.totp_code(device_id).await
    }

    /// A fresh OTP from one of the seeded YubiKeys.
    async fn yubikey_otp(&self, public_id: &str) -> String {
        self.stack
            .sim_post(&format!("/_sim/yubikey/{public_id}/otp"), json!({}))
            .await["otp"]
            .as_str()
            .expect("an OTP")
            .to_string()
    }
}

async fn phone_or_email_round_trip(kind: &str, field: &str, contact: &str) {
    let flow = Enrollment::start().await;
    let device = flow
        .enroll(json!({ "workforceDeviceType": kind, field: contact, "nickname": "Bob's" }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    assert_eq!(
        flow.listed_status(id).await.as_deref(),
        Some("ACTIVATION_REQUIRED")
    );
    let pairing_otp = flow.stack.last_otp_sent_to(contact).await;
    flow.activate_ok(id, json!({ "otp": pairing_otp })).await;
    flow.authenticate_with_code(id, async || flow.stack.last_otp_sent_to(contact).await)
        .await;
    assert_no_secret_in_logs(&[&flow.activate, &flow.check_otp], &[&pairing_otp]);
}

#[tokio::test]
async fn sms_enroll_activate_authenticate() {
    phone_or_email_round_trip("SMS", "phone", "+15555550102").await;
}

#[tokio::test]
async fn voice_enroll_activate_authenticate() {
    phone_or_email_round_trip("VOICE", "phone", "+15555550104").await;
}

#[tokio::test]
async fn email_enroll_activate_authenticate() {
    phone_or_email_round_trip("EMAIL", "email", "bob@example.com").await;
}

#[tokio::test]
async fn totp_enroll_activate_authenticate() {
    let flow = Enrollment::start().await;
    let device = flow.enroll(json!({ "workforceDeviceType": "TOTP" })).await;
    let id = device["deviceId"].as_str().unwrap();
    // The authenticator app is set up from the secret or its QR code
    assert!(
        device["rawResponse"]["secret"]
            .as_str()
            .is_some_and(|s| s.len() >= 16)
    );
    let key_uri = device["rawResponse"]["keyUri"].as_str().unwrap();
    assert!(key_uri.starts_with("otpauth://totp/"), "{key_uri}");
    let code = flow.next_totp(id).await;
    flow.activate_ok(id, json!({ "otp": code })).await;
    flow.authenticate_with_code(id, async || flow.next_totp(id).await)
        .await;
}

#[tokio::test]
async fn oath_token_enroll_activate_authenticate() {
    let flow = Enrollment::start().await;
    let device = flow
        .enroll(json!({ "workforceDeviceType": "OATH_TOKEN", "serialNumber": demo::OATH_TOKEN_1_SERIAL }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let code = flow
        .stack
        .sim_get(&format!("/_sim/oath/{}", demo::OATH_TOKEN_1_SERIAL))
        .await;
    flow.activate_ok(id, json!({ "otp": code["otp"] })).await;
    flow.authenticate_with_code(id, async || flow.next_totp(id).await)
        .await;
}

#[tokio::test]
async fn yubikey_enroll_activate_authenticate_and_replay_is_refused() {
    let flow = Enrollment::start().await;
    let key = demo::YUBIKEY_1_PUBLIC_ID;
    let device = flow
        .enroll(json!({ "workforceDeviceType": "YUBIKEY" }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let otp = flow.yubikey_otp(key).await;
    flow.activate_ok(id, json!({ "otp": otp })).await;
    flow.authenticate_with_code(id, async || flow.yubikey_otp(key).await)
        .await;
    // A YubiKey OTP already used does not authenticate again
    let started = flow.authenticate(id).await;
    let replayed = flow
        .check_otp
        .call(json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": started["deviceAuthenticationId"], "otp": otp }))
        .await;
    failed(&replayed, 400, "INVALID_OTP");
}

#[tokio::test]
async fn yubikey_enrolled_and_activated_in_one_call() {
    let flow = Enrollment::start().await;
    let otp = flow.yubikey_otp(demo::YUBIKEY_2_PUBLIC_ID).await;
    let output = ok(&flow
        .create
        .call(
            json!({ "userId": demo::BOB_ID, "workforceDeviceType": "YUBIKEY",
            "status": "ACTIVATION_REQUIRED", "yubiKey": otp }),
        )
        .await);
    assert_eq!(output["status"], "ACTIVE", "{output}");
    assert_eq!(output["statusCode"], 201);
}

/// Enrolls a WebAuthn device of `kind` with a software authenticator and signs in with it.
async fn fido_round_trip(kind: &str) {
    let flow = Enrollment::start().await;
    let mut authenticator = SoftAuthenticator::new();
    let device = flow
        .enroll(json!({ "workforceDeviceType": kind, "rpId": RP_ID, "rpName": "Example" }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let options = device["rawResponse"]["publicKeyCredentialCreationOptions"]
        .as_str()
        .expect("creation options (JSON text)");
    let attestation = authenticator.register(options, ORIGIN).unwrap();
    flow.activate_ok(id, json!({ "attestation": attestation, "origin": ORIGIN }))
        .await;

    let started = flow.authenticate(id).await;
    assert_eq!(started["status"], "ASSERTION_REQUIRED", "{started}");
    let request = started["rawResponse"]["publicKeyCredentialRequestOptions"]
        .as_str()
        .expect("request options (JSON text)");
    let assertion = authenticator.assert(request, ORIGIN).unwrap();
    let done = ok(&flow
        .check_assertion
        .call(
            json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": started["deviceAuthenticationId"],
            "assertion": assertion, "origin": ORIGIN }),
        )
        .await);
    assert_eq!(done["status"], "COMPLETED", "{done}");
}

#[tokio::test]
async fn fido2_enroll_activate_authenticate() {
    fido_round_trip("FIDO2").await;
}

#[tokio::test]
async fn platform_authenticator_enroll_activate_authenticate() {
    fido_round_trip("PLATFORM").await;
}

#[tokio::test]
async fn security_key_enroll_activate_authenticate() {
    fido_round_trip("SECURITY_KEY").await;
}

/// `headers` in every output: PingOne's correlation id, and the `Location` of what it created;
/// never a credential.
#[tokio::test]
async fn outputs_carry_pingones_headers_a_flow_may_use() {
    let flow = Enrollment::start().await;
    let device = flow
        .enroll(json!({ "workforceDeviceType": "EMAIL", "email": "bob@example.com" }))
        .await;
    let headers = &device["headers"];
    assert!(headers["correlation-id"].is_string(), "{device}");
    let location = headers["location"].as_str().expect("a Location");
    assert!(
        location.ends_with(&format!(
            "/devices/{}",
            device["deviceId"].as_str().unwrap()
        )),
        "{location}"
    );
    let listed = ok(&flow.list.call(json!({ "userId": demo::BOB_ID })).await);
    assert!(listed["headers"]["correlation-id"].is_string(), "{listed}");
    let started = ok(&flow
        .authenticate
        .call(json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID }))
        .await);
    assert!(
        started["headers"]["correlation-id"].is_string(),
        "{started}"
    );
    for output in [&device, &listed, &started] {
        let names: Vec<&String> = output["headers"].as_object().unwrap().keys().collect();
        assert!(
            names
                .iter()
                .all(|name| ["correlation-id", "location"].contains(&name.as_str())),
            "{names:?}"
        );
    }
}

/// A usernameless passkey sign-in: started without a user, the passkey names bob.
#[tokio::test]
async fn a_usernameless_passkey_sign_in_names_its_user() {
    let flow = Enrollment::start().await;
    // bob registers a passkey (a FIDO2 device that verifies him)
    let mut authenticator = SoftAuthenticator::with_user_verification();
    let device = flow
        .enroll(json!({ "workforceDeviceType": "FIDO2", "rpId": RP_ID }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let options = device["rawResponse"]["publicKeyCredentialCreationOptions"]
        .as_str()
        .unwrap();
    let attestation = authenticator.register(options, ORIGIN).unwrap();
    let credential_id = serde_json::from_str::<Value>(&attestation).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    flow.activate_ok(id, json!({ "attestation": attestation, "origin": ORIGIN }))
        .await;

    // A browser that cannot run WebAuthn is not offered bob's only device
    let no_webauthn = flow
        .authenticate
        .call(json!({ "userId": demo::BOB_ID, "fidoCompatibility": "NONE" }))
        .await;
    assert_eq!(no_webauthn.status / 100, 4, "{}", no_webauthn.body);

    // The sign-in page starts without knowing who is there, with a challenge of its own
    let challenge = [7u8; 32];
    let started = ok(&flow
        .authenticate
        .call(json!({ "usernameLess": true, "rpId": RP_ID,
            "challenge": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(challenge) }))
        .await);
    assert_eq!(started["status"], "ASSERTION_REQUIRED", "{started}");
    assert!(started.get("userId").is_none(), "{started}");
    let request = started["rawResponse"]["publicKeyCredentialRequestOptions"]
        .as_str()
        .expect("request options");
    let request_json: Value = serde_json::from_str(request).unwrap();
    assert_eq!(request_json["allowCredentials"], json!([]), "{request}");
    assert_eq!(request_json["userVerification"], "required", "{request}");
    // PingOne's wire convention: binary values as arrays of signed bytes
    assert_eq!(request_json["challenge"], json!(vec![7; 32]), "{request}");
    let authentication = started["deviceAuthenticationId"].as_str().unwrap();
    // Nobody can read it by naming a user: it is nobody's yet
    failed(
        &flow
            .read_authentication
            .call(json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": authentication }))
            .await,
        404,
        "NOT_FOUND",
    );

    // The browser's assertion, without a userId: the answer says it was bob
    let assertion = authenticator
        .assert_usernameless(request, ORIGIN, &credential_id)
        .unwrap();
    let done = ok(&flow
        .check_assertion
        .call(
            json!({ "deviceAuthenticationId": authentication, "assertion": assertion,
            "origin": ORIGIN }),
        )
        .await);
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["userId"], demo::BOB_ID, "{done}");
    assert_eq!(done["rawResponse"]["selectedDevice"]["id"], id, "{done}");
    // Once bob's, it is read as bob's, and only by naming him
    let read = ok(&flow
        .read_authentication
        .call(json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": authentication }))
        .await);
    assert_eq!(read["status"], "COMPLETED");
    failed(
        &flow
            .read_authentication
            .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": authentication }))
            .await,
        404,
        "NOT_FOUND",
    );
}

/// Without a userId only an unowned usernameless sign-in is reachable: another user's
/// authentication answers as unknown, and nothing is checked against it.
#[tokio::test]
async fn naming_no_user_reaches_no_ones_authentication() {
    let flow = Enrollment::start().await;
    let started = ok(&flow
        .authenticate
        .call(json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID }))
        .await);
    let id = started["deviceAuthenticationId"].as_str().unwrap();
    failed(
        &flow
            .check_assertion
            .call(json!({ "deviceAuthenticationId": id, "assertion": "{}",
                "origin": ORIGIN }))
            .await,
        404,
        "NOT_FOUND",
    );
    let usernameless = ok(&flow
        .authenticate
        .call(json!({ "usernameLess": true, "rpId": RP_ID }))
        .await);
    // A forged assertion for the unowned one costs an attempt and names nobody
    let forged = flow
        .check_assertion
        .call(
            json!({ "deviceAuthenticationId": usernameless["deviceAuthenticationId"],
            "assertion": "{\"id\":\"AAAA\"}", "origin": ORIGIN }),
        )
        .await;
    assert_eq!(forged.status, 400, "{}", forged.body);
}

#[tokio::test]
async fn a_forged_attestation_or_assertion_is_refused() {
    let flow = Enrollment::start().await;
    let mut authenticator = SoftAuthenticator::new();
    let device = flow
        .enroll(json!({ "workforceDeviceType": "FIDO2", "rpId": RP_ID }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let options = device["rawResponse"]["publicKeyCredentialCreationOptions"]
        .as_str()
        .unwrap();
    let attestation = authenticator.register(options, ORIGIN).unwrap();
    // The right attestation from the wrong page
    let elsewhere = json!({ "attestation": attestation, "origin": "https://evil.example.net" });
    failed(
        &flow.activate(id, elsewhere).await,
        400,
        "VALIDATION_FAILED",
    );
    flow.activate_ok(id, json!({ "attestation": attestation, "origin": ORIGIN }))
        .await;

    let started = flow.authenticate(id).await;
    let request = started["rawResponse"]["publicKeyCredentialRequestOptions"]
        .as_str()
        .unwrap();
    let assertion = authenticator.assert(request, ORIGIN).unwrap();
    let forged = flip_signature_byte(&assertion);
    let refused = flow
        .check_assertion
        .call(
            json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": started["deviceAuthenticationId"],
            "assertion": forged, "origin": ORIGIN }),
        )
        .await;
    failed(&refused, 400, "VALIDATION_FAILED");
}

/// The assertion with one byte of its signature changed.
fn flip_signature_byte(assertion: &str) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut credential: Value = serde_json::from_str(assertion).unwrap();
    let signature = credential["response"]["signature"].as_str().unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    credential["response"]["signature"] = json!(URL_SAFE_NO_PAD.encode(bytes));
    credential.to_string()
}

#[tokio::test]
async fn pingid_desktop_enroll_activate_authenticate() {
    let flow = Enrollment::start().await;
    let device = flow
        .enroll(json!({ "workforceDeviceType": "PINGID_DESKTOP_GEN2" }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let options = &device["rawResponse"]["pingIdDesktopCredentialCreationOptions"];
    assert!(options.is_string(), "{device}");
    // The desktop app (on the user's machine, port 9410) turns the options into an attestation
    let registered = flow
        .stack
        .sim_post("/_sim/desktop/register", json!({ "options": options }))
        .await;
    flow.activate_ok(
        id,
        json!({ "attestation": registered["attestation"], "origin": DESKTOP_ORIGIN }),
    )
    .await;

    let started = flow.authenticate(id).await;
    assert_eq!(started["status"], "ASSERTION_REQUIRED", "{started}");
    let request = &started["rawResponse"]["pingIdDesktopCredentialRequestOptions"];
    let signed = flow
        .stack
        .sim_post("/_sim/desktop/authenticate", json!({ "options": request }))
        .await;
    let done = ok(&flow
        .check_assertion
        .call(
            json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": started["deviceAuthenticationId"],
            "assertion": signed["assertion"], "origin": DESKTOP_ORIGIN }),
        )
        .await);
    assert_eq!(done["status"], "COMPLETED", "{done}");
}

#[tokio::test]
async fn pingid_app_pairs_with_a_pairing_key_and_approves_a_push() {
    let flow = Enrollment::start().await;
    let create_key = flow.stack.function("createPairingKeyPingID").await;
    let read_key = flow.stack.function("readPairingKey").await;
    let key = ok(&create_key.call(json!({ "userId": demo::BOB_ID })).await);
    assert_eq!(key["status"], "INITIAL", "{key}");
    let code = key["rawResponse"]["code"].as_str().unwrap();
    assert!(
        code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    let key_id = key["pairingKeyId"].as_str().unwrap();

    // The user types (or scans) the key into the PingID app
    let claimed = flow
        .stack
        .sim_post(&format!("/_sim/pairing-keys/{code}/claim"), json!({}))
        .await;
    let device_id = claimed["deviceId"].as_str().unwrap();
    let read = ok(&read_key
        .call(json!({ "userId": demo::BOB_ID, "pairingKeyId": key_id }))
        .await);
    assert_eq!(read["status"], "CLAIMED", "{read}");
    assert_eq!(
        flow.listed_status(device_id).await.as_deref(),
        Some("ACTIVE")
    );

    let started = flow.authenticate(device_id).await;
    assert_eq!(started["status"], "PUSH_CONFIRMATION_REQUIRED", "{started}");
    let id = started["deviceAuthenticationId"].as_str().unwrap();
    flow.stack.push(id, "APPROVE").await;
    let done = ok(&flow
        .read_authentication
        .call(json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": id }))
        .await);
    assert_eq!(done["status"], "COMPLETED", "{done}");
}

#[tokio::test]
async fn an_expired_pairing_key_cannot_be_claimed() {
    let flow = Enrollment::start().await;
    let create_key = flow.stack.function("createPairingKeyPingID").await;
    let read_key = flow.stack.function("readPairingKey").await;
    let key = ok(&create_key.call(json!({ "userId": demo::BOB_ID })).await);
    let code = key["rawResponse"]["code"].as_str().unwrap();
    flow.stack.advance_clock(11 * 60).await;
    let (status, _) = flow
        .stack
        .sim_post_raw(&format!("/_sim/pairing-keys/{code}/claim"), json!({}))
        .await;
    assert_eq!(status, 410);
    let read = ok(&read_key
        .call(json!({ "userId": demo::BOB_ID, "pairingKeyId": key["pairingKeyId"] }))
        .await);
    assert_eq!(read["status"], "EXPIRED", "{read}");
    let devices = ok(&flow.list.call(json!({ "userId": demo::BOB_ID })).await);
    assert_eq!(devices["devices"], json!([]));
}

#[tokio::test]
async fn a_wrong_pairing_passcode_is_refused_and_the_right_one_still_works() {
    let flow = Enrollment::start().await;
    let phone = "+15555550102";
    let device = flow
        .enroll(json!({ "workforceDeviceType": "SMS", "phone": phone }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let right = flow.stack.last_otp_sent_to(phone).await;
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let body = failed(
        &flow.activate(id, json!({ "otp": wrong })).await,
        400,
        "INVALID_OTP",
    );
    assert!(body["details"].to_string().contains("remaining"), "{body}");
    assert_eq!(
        flow.listed_status(id).await.as_deref(),
        Some("ACTIVATION_REQUIRED")
    );
    flow.activate_ok(id, json!({ "otp": right })).await;
}

#[tokio::test]
async fn a_resent_pairing_passcode_replaces_the_first() {
    let flow = Enrollment::start().await;
    let resend = flow.stack.function("resendOTPForPairing").await;
    let email = "bob@example.com";
    let device = flow
        .enroll(json!({ "workforceDeviceType": "EMAIL", "email": email }))
        .await;
    let id = device["deviceId"].as_str().unwrap();
    let first = flow.stack.last_otp_sent_to(email).await;
    let output = ok(&resend
        .call(json!({ "userId": demo::BOB_ID, "deviceId": id }))
        .await);
    assert_eq!(output["status"], "ACTIVATION_REQUIRED", "{output}");
    let sent = flow.stack.otps_sent_to(email).await;
    assert_eq!(sent.len(), 2);
    let second = sent[1].clone();
    if first != second {
        failed(
            &flow.activate(id, json!({ "otp": first })).await,
            400,
            "INVALID_OTP",
        );
    }
    flow.activate_ok(id, json!({ "otp": second })).await;
}

#[tokio::test]
async fn a_method_the_policy_disables_is_refused() {
    let flow = Enrollment::start().await;
    let refused = flow
        .create
        .call(
            json!({ "userId": demo::BOB_ID, "workforceDeviceType": "VOICE",
            "status": "ACTIVATION_REQUIRED", "phone": "+15555550104",
            "workforcePolicyMfaPolicyId": demo::RESTRICTED_POLICY_ID }),
        )
        .await;
    let body = failed(&refused, 400, "VALIDATION_FAILED");
    assert!(body["details"].to_string().contains("type"), "{body}");
    // and readAllDevicesPingID does not offer it under that policy
    let listed = ok(&flow
        .list
        .call(json!({ "userId": demo::BOB_ID, "workforcePolicyMfaPolicyId": demo::RESTRICTED_POLICY_ID }))
        .await);
    let allowed: Vec<&str> = listed["allowedtypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        allowed.contains(&"SMS") && allowed.contains(&"FIDO2"),
        "{allowed:?}"
    );
    assert!(
        !allowed.contains(&"VOICE") && !allowed.contains(&"YUBIKEY"),
        "{allowed:?}"
    );
    assert!(flow.stack.otps_sent_to("+15555550104").await.is_empty());
}

#[tokio::test]
async fn an_invalid_phone_is_refused_before_pingone_is_called() {
    let flow = Enrollment::start().await;
    let refused = flow
        .create
        .call(
            json!({ "userId": demo::BOB_ID, "workforceDeviceType": "SMS",
            "status": "ACTIVATION_REQUIRED", "phone": "555-0102" }),
        )
        .await;
    let body = failed(&refused, 400, "VALIDATION_FAILED");
    assert_eq!(body["details"][0]["field"], "properties.phone", "{body}");
    assert_eq!(
        flow.stack
            .stats("POST /v1/environments/{envId}/users/{userId}/devices")
            .await,
        0
    );
}

#[tokio::test]
async fn a_duplicate_device_is_refused() {
    let flow = Enrollment::start().await;
    let sms = json!({ "workforceDeviceType": "SMS", "phone": "+15555550102" });
    flow.enroll(sms.clone()).await;
    let mut again = sms;
    again["userId"] = json!(demo::BOB_ID);
    again["status"] = json!("ACTIVATION_REQUIRED");
    failed(&flow.create.call(again).await, 400, "VALIDATION_FAILED");
}

#[tokio::test]
async fn another_users_device_cannot_be_deleted_read_or_renamed() {
    let stack = Stack::start().await;
    let delete = stack.function("deleteDevice").await;
    let read = stack.function("readDevice").await;
    let rename = stack.function("updateDeviceNickname").await;
    let alices = json!({ "userId": demo::BOB_ID, "deviceId": demo::ALICE_SMS_DEVICE_ID });
    failed(&delete.call(alices.clone()).await, 404, "NOT_FOUND");
    failed(&read.call(alices.clone()).await, 404, "NOT_FOUND");
    let mut renamed = alices;
    renamed["nickname"] = json!("mine now");
    failed(&rename.call(renamed).await, 404, "NOT_FOUND");
    // alice still has it, under its name
    let own = ok(&read
        .call(json!({ "userId": demo::ALICE_ID, "deviceId": demo::ALICE_SMS_DEVICE_ID }))
        .await);
    assert_eq!(own["status"], "ACTIVE");
    assert_ne!(own["device"]["nickname"], "mine now");
}
