//! Device enrollment for every method: create → pair → activate → listed ACTIVE → a device
//! authentication with that device completes.

use pingid_sim::authenticator::SoftAuthenticator;
use pingid_sim::demo::{ALICE_ID, BOB_ID, OATH_TOKEN_1_SERIAL, YUBIKEY_1_PUBLIC_ID};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ACTIVATE, CHECK_ASSERTION, REMOVE_ORDER, REORDER, Sim, json_of, status_of};

pub const BOB_PHONE: &str = "+15555550102";
pub const BOB_EMAIL: &str = "bob@example.com";
pub const ORIGIN: &str = "https://localhost";

/// `POST …/users/{user}/devices` (application/json).
pub async fn create(sim: &Sim, user: &str, body: Value) -> (StatusCode, Value) {
    sim.call(
        Method::POST,
        &sim.api_url(&format!("/users/{user}/devices")),
        Some("application/json"),
        Some(&body),
    )
    .await
}

/// Activation of `device` with `body`.
pub async fn activate(sim: &Sim, user: &str, device: &Value, body: Value) -> (StatusCode, Value) {
    sim.call(
        Method::POST,
        &sim.api_url(&format!(
            "/users/{user}/devices/{}",
            device["id"].as_str().expect("id")
        )),
        Some(ACTIVATE),
        Some(&body),
    )
    .await
}

/// `create` that must answer 201.
pub async fn created(sim: &Sim, user: &str, body: Value) -> Value {
    let (status, device) = create(sim, user, body).await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    device
}

/// Activation that must answer 200 with an ACTIVE device.
async fn activated(sim: &Sim, user: &str, device: &Value, body: Value) {
    let (status, active) = activate(sim, user, device, body).await;
    assert_eq!(status, StatusCode::OK, "{active}");
    assert_eq!(status_of(&active), "ACTIVE");
}

/// The device is listed ACTIVE.
async fn listed_active(sim: &Sim, user: &str, device: &Value) {
    let (status, list) = json_of(
        sim.get(&sim.api_url(&format!("/users/{user}/devices")))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let entry = list["_embedded"]["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["id"] == device["id"])
        .cloned()
        .expect("listed");
    assert_eq!(status_of(&entry), "ACTIVE");
}

/// Starts an authentication with `device` selected.
async fn start_with(sim: &Sim, user: &str, device: &Value) -> Value {
    sim.start_auth(json!({ "user": { "id": user }, "selectedDevice": { "id": device["id"] } }))
        .await
}

#[tokio::test]
async fn sms_voice_and_email_pair_with_a_delivered_otp() {
    let sim = Sim::start().await;
    for (body, to) in [
        (json!({ "type": "SMS", "phone": BOB_PHONE }), BOB_PHONE),
        (json!({ "type": "VOICE", "phone": BOB_PHONE }), BOB_PHONE),
        (json!({ "type": "EMAIL", "email": BOB_EMAIL }), BOB_EMAIL),
    ] {
        let device = created(&sim, BOB_ID, body).await;
        assert_eq!(status_of(&device), "ACTIVATION_REQUIRED");
        let otp = sim.last_otp_to(to).await;
        activated(&sim, BOB_ID, &device, json!({ "otp": otp })).await;
        listed_active(&sim, BOB_ID, &device).await;

        let auth = start_with(&sim, BOB_ID, &device).await;
        assert_eq!(status_of(&auth), "OTP_REQUIRED");
        let (status, done) = sim.check_otp(&auth, &sim.last_otp_to(to).await).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(status_of(&done), "COMPLETED");
    }
    let voice = sim.messages_to(BOB_PHONE).await;
    assert!(voice.iter().any(|m| m["channel"] == "VOICE"));
}

#[tokio::test]
async fn an_active_sms_device_is_created_without_a_message() {
    let sim = Sim::start().await;
    let device = created(
        &sim,
        BOB_ID,
        json!({ "type": "SMS", "phone": BOB_PHONE, "status": "ACTIVE" }),
    )
    .await;
    assert_eq!(status_of(&device), "ACTIVE");
    assert!(sim.messages_to(BOB_PHONE).await.is_empty());
}

#[tokio::test]
async fn totp_pairs_with_the_authenticator_code() {
    let sim = Sim::start().await;
    let device = created(&sim, BOB_ID, json!({ "type": "TOTP" })).await;
    assert!(device["secret"].is_string(), "{device}");
    assert!(
        device["keyUri"]
            .as_str()
            .is_some_and(|uri| uri.starts_with("otpauth://totp/PingOne:bob?secret="))
    );
    let id = device["id"].as_str().expect("id");
    activated(&sim, BOB_ID, &device, json!({ "otp": sim.totp(id).await })).await;
    listed_active(&sim, BOB_ID, &device).await;
    let auth = start_with(&sim, BOB_ID, &device).await;
    let (status, done) = sim.check_otp(&auth, &sim.totp(id).await).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn an_oath_token_pairs_with_its_code() {
    let sim = Sim::start().await;
    let device = created(
        &sim,
        BOB_ID,
        json!({ "type": "OATH_TOKEN", "serialNumber": OATH_TOKEN_1_SERIAL }),
    )
    .await;
    let response = sim
        .http
        .get(sim.url(&format!("/_sim/oath/{OATH_TOKEN_1_SERIAL}")))
        .send()
        .await
        .expect("answered");
    let (_, code) = json_of(response).await;
    activated(
        &sim,
        BOB_ID,
        &device,
        json!({ "otp": code["otp"], "oathResync": true }),
    )
    .await;
    listed_active(&sim, BOB_ID, &device).await;
    let auth = start_with(&sim, BOB_ID, &device).await;
    let otp = sim.totp(device["id"].as_str().expect("id")).await;
    let (status, done) = sim.check_otp(&auth, &otp).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(status_of(&done), "COMPLETED");
}

async fn yubikey_otp(sim: &Sim) -> String {
    let (status, body) = sim
        .control(&format!("yubikey/{YUBIKEY_1_PUBLIC_ID}/otp"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["otp"].as_str().expect("otp").to_owned()
}

#[tokio::test]
async fn a_yubikey_pairs_and_refuses_a_replayed_otp() {
    let sim = Sim::start().await;
    let device = created(&sim, BOB_ID, json!({ "type": "YUBIKEY" })).await;
    let first = yubikey_otp(&sim).await;
    assert_eq!(first.len(), 44);
    assert!(first.starts_with(YUBIKEY_1_PUBLIC_ID));
    activated(&sim, BOB_ID, &device, json!({ "otp": first })).await;
    listed_active(&sim, BOB_ID, &device).await;

    let auth = start_with(&sim, BOB_ID, &device).await;
    assert_eq!(status_of(&auth), "OTP_REQUIRED");
    let (status, replay) = sim.check_otp(&auth, &first).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{replay}");
    assert_eq!(replay["details"][0]["code"], "INVALID_OTP");
    let second = yubikey_otp(&sim).await;
    let (status, done) = sim.check_otp(&auth, &second).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(status_of(&done), "COMPLETED");

    let again = start_with(&sim, BOB_ID, &device).await;
    let (status, _) = sim.check_otp(&again, &second).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn fido2_types_pair_and_authenticate_with_a_software_authenticator() {
    let sim = Sim::start().await;
    let mut authenticator = SoftAuthenticator::new();
    for kind in ["FIDO2", "PLATFORM", "SECURITY_KEY"] {
        let device = created(
            &sim,
            BOB_ID,
            json!({ "type": kind, "rp": { "id": "localhost", "name": "Sim" } }),
        )
        .await;
        let options_text = device["publicKeyCredentialCreationOptions"]
            .as_str()
            .expect("creation options are JSON text");
        let options: Value = serde_json::from_str(options_text).expect("JSON");
        assert!(
            options["challenge"]
                .as_array()
                .is_some_and(|c| c.len() == 32),
            "{options}"
        );
        assert!(options["user"]["id"].is_array());
        assert_eq!(options["rp"]["id"], "localhost");
        assert!(
            options["pubKeyCredParams"]
                .as_array()
                .expect("params")
                .iter()
                .any(|p| p["alg"] == -7)
        );
        let attestation = authenticator
            .register(options_text, ORIGIN)
            .expect("registers");
        activated(
            &sim,
            BOB_ID,
            &device,
            json!({ "attestation": attestation, "origin": ORIGIN }),
        )
        .await;
        listed_active(&sim, BOB_ID, &device).await;

        let auth = start_with(&sim, BOB_ID, &device).await;
        assert_eq!(status_of(&auth), "ASSERTION_REQUIRED", "{auth}");
        let request = auth["publicKeyCredentialRequestOptions"]
            .as_str()
            .expect("request options");
        let assertion = authenticator.assert(request, ORIGIN).expect("asserts");
        let (status, done) = sim
            .act(
                &auth,
                CHECK_ASSERTION,
                json!({ "assertion": assertion, "origin": ORIGIN, "compatibility": "FULL" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(status_of(&done), "COMPLETED");
    }
}

#[tokio::test]
async fn a_custom_challenge_is_used_for_registration() {
    let sim = Sim::start().await;
    use base64::Engine;
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32]);
    let device = created(
        &sim,
        BOB_ID,
        json!({ "type": "FIDO2", "challenge": challenge }),
    )
    .await;
    let options: Value = serde_json::from_str(
        device["publicKeyCredentialCreationOptions"]
            .as_str()
            .expect("text"),
    )
    .expect("JSON");
    assert_eq!(options["challenge"], json!(vec![7; 32]));
    let attestation = SoftAuthenticator::new()
        .register(
            device["publicKeyCredentialCreationOptions"]
                .as_str()
                .expect("text"),
            "http://localhost:3000",
        )
        .expect("registers");
    activated(
        &sim,
        BOB_ID,
        &device,
        json!({ "attestation": attestation, "origin": "http://localhost:3000" }),
    )
    .await;
}

#[tokio::test]
async fn the_desktop_app_pairs_and_authenticates() {
    let sim = Sim::start().await;
    let device = created(&sim, BOB_ID, json!({ "type": "PINGID_DESKTOP_GEN2" })).await;
    let options = device["pingIdDesktopCredentialCreationOptions"]
        .as_str()
        .expect("JWS");
    assert_eq!(options.split('.').count(), 3);
    let (status, registered) = sim
        .control("desktop/register", json!({ "options": options }))
        .await;
    assert_eq!(status, StatusCode::OK, "{registered}");
    activated(
        &sim,
        BOB_ID,
        &device,
        json!({ "attestation": registered["attestation"], "origin": ORIGIN }),
    )
    .await;
    listed_active(&sim, BOB_ID, &device).await;

    let auth = start_with(&sim, BOB_ID, &device).await;
    assert_eq!(status_of(&auth), "ASSERTION_REQUIRED");
    let request = auth["pingIdDesktopCredentialRequestOptions"]
        .as_str()
        .expect("JWS");
    let (status, answer) = sim
        .control("desktop/authenticate", json!({ "options": request }))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, done) = sim
        .act(
            &auth,
            CHECK_ASSERTION,
            json!({ "assertion": answer["assertion"], "origin": ORIGIN }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn a_pairing_key_claimed_by_the_app_gives_a_push_device() {
    let sim = Sim::start().await;
    let (status, key) = sim
        .call(
            Method::POST,
            &sim.api_url(&format!("/users/{BOB_ID}/pairingKeys")),
            Some("application/json"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    assert_eq!(key["status"], "INITIAL");
    let code = key["code"].as_str().expect("code");
    assert!(code.len() == 12 && code.bytes().all(|b| b.is_ascii_digit()));

    let (status, claimed) = sim
        .control(
            &format!("pairing-keys/{code}/claim"),
            json!({ "model": "Pixel 9", "os": "Android" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    assert_eq!(claimed["userId"], BOB_ID);
    let device_id = claimed["deviceId"].as_str().expect("deviceId");

    let key_url = sim.api_url(&format!(
        "/users/{BOB_ID}/pairingKeys/{}",
        key["id"].as_str().expect("id")
    ));
    let (_, read) = json_of(sim.get(&key_url).await).await;
    assert_eq!(read["status"], "CLAIMED");
    assert_eq!(read["device"]["id"], device_id);
    let (status, _) = sim
        .control(&format!("pairing-keys/{code}/claim"), json!({}))
        .await;
    assert_eq!(status, StatusCode::GONE);

    let device = json!({ "id": device_id });
    listed_active(&sim, BOB_ID, &device).await;
    let auth = start_with(&sim, BOB_ID, &device).await;
    assert_eq!(status_of(&auth), "PUSH_CONFIRMATION_REQUIRED");
    let (status, done) = sim.push(&auth, "APPROVE").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&done), "COMPLETED");

    let (status, _) = sim.call(Method::DELETE, &key_url, None, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn nickname_order_and_delete() {
    let sim = Sim::start().await;
    let devices = sim.api_url(&format!("/users/{ALICE_ID}/devices"));
    let (_, list) = json_of(sim.get(&devices).await).await;
    let ids: Vec<String> = list["_embedded"]["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|d| d["id"].as_str().expect("id").to_owned())
        .collect();

    let (status, renamed) = sim
        .call(
            Method::PUT,
            &format!("{devices}/{}/nickname", ids[1]),
            Some("application/json"),
            Some(&json!({ "nickname": "Old phone" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["nickname"], "Old phone");
    let (status, _) = sim
        .call(
            Method::PUT,
            &format!("{devices}/{}/nickname", ids[1]),
            Some("application/json"),
            Some(&json!({ "nickname": "" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, order) = sim
        .call(
            Method::POST,
            &devices,
            Some(REORDER),
            Some(&json!({ "order": [{ "id": ids[2] }] })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{order}");
    assert_eq!(
        order,
        json!({ "order": [{ "id": ids[2] }, { "id": ids[0] }, { "id": ids[1] }] })
    );
    let (status, _) = sim
        .call(
            Method::POST,
            &devices,
            Some(REORDER),
            Some(&json!({ "order": [{ "id": ids[2] }, { "id": ids[2] }] })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sim
        .call(Method::DELETE, &devices, Some(REMOVE_ORDER), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = json_of(sim.get(&devices).await).await;
    assert_eq!(list["_embedded"]["devices"][0]["id"], ids[0].as_str());

    let (status, _) = sim
        .call(Method::DELETE, &format!("{devices}/{}", ids[1]), None, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = json_of(sim.get(&devices).await).await;
    assert_eq!(list["count"], 2);
}
