//! Refused enrollments and rejected activations / assertions.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pingid_sim::authenticator::SoftAuthenticator;
use pingid_sim::demo::{ALICE_ID, ALICE_SMS_DEVICE_ID, BOB_ID, CAROL_ID, RESTRICTED_POLICY_ID};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::enrollment::{BOB_EMAIL, BOB_PHONE, ORIGIN, activate, create, created};
use crate::support::{CHECK_ASSERTION, SEND_ACTIVATION_CODE, Sim, error_of, json_of, status_of};

#[tokio::test]
async fn a_wrong_activation_otp_counts_down_then_needs_a_resend() {
    let sim = Sim::start().await;
    let device = created(&sim, BOB_ID, json!({ "type": "SMS", "phone": BOB_PHONE })).await;
    for remaining in [2, 1, 0] {
        let (status, body) = activate(&sim, BOB_ID, &device, json!({ "otp": "000000x" })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_of(&body), ("INVALID_DATA", "INVALID_OTP", "otp"));
        assert_eq!(
            body["details"][0]["innerError"]["remainingAttempts"],
            remaining
        );
    }
    let right = sim.last_otp_to(BOB_PHONE).await;
    let (_, body) = activate(&sim, BOB_ID, &device, json!({ "otp": right })).await;
    assert_eq!(error_of(&body).1, "TOO_MANY_ATTEMPTS");

    let (status, _) = sim
        .call(
            Method::POST,
            &sim.api_url(&format!(
                "/users/{BOB_ID}/devices/{}",
                device["id"].as_str().expect("id")
            )),
            Some(SEND_ACTIVATION_CODE),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let fresh = sim.last_otp_to(BOB_PHONE).await;
    let (status, active) = activate(&sim, BOB_ID, &device, json!({ "otp": fresh })).await;
    assert_eq!(status, StatusCode::OK, "{active}");
    let (status, again) = activate(&sim, BOB_ID, &device, json!({ "otp": fresh })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(again["code"], "REQUEST_FAILED");
}

#[tokio::test]
async fn an_expired_pairing_otp_is_refused() {
    let sim = Sim::start().await;
    let device = created(&sim, BOB_ID, json!({ "type": "EMAIL", "email": BOB_EMAIL })).await;
    let otp = sim.last_otp_to(BOB_EMAIL).await;
    sim.advance(301).await;
    let (_, body) = activate(&sim, BOB_ID, &device, json!({ "otp": otp })).await;
    assert_eq!(error_of(&body).1, "OTP_EXPIRED");
}

#[tokio::test]
async fn an_expired_pairing_key_cannot_be_claimed() {
    let sim = Sim::start().await;
    let url = sim.api_url(&format!("/users/{BOB_ID}/pairingKeys"));
    let (_, key) = sim
        .call(
            Method::POST,
            &url,
            Some("application/json"),
            Some(&json!({})),
        )
        .await;
    sim.advance(11 * 60).await;
    let (status, body) = sim
        .control(
            &format!("pairing-keys/{}/claim", key["code"].as_str().expect("code")),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::GONE, "{body}");
    let (_, read) = json_of(
        sim.get(&format!("{url}/{}", key["id"].as_str().expect("id")))
            .await,
    )
    .await;
    assert_eq!(read["status"], "EXPIRED");
    let (status, _) = sim
        .control("pairing-keys/000000000000/claim", json!({}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_21st_valid_pairing_key_is_refused() {
    let sim = Sim::start().await;
    let url = sim.api_url(&format!("/users/{BOB_ID}/pairingKeys"));
    for _ in 0..20 {
        let (status, _) = sim
            .call(
                Method::POST,
                &url,
                Some("application/json"),
                Some(&json!({})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, body) = sim
        .call(
            Method::POST,
            &url,
            Some("application/json"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&body),
        ("INVALID_DATA", "LIMIT_EXCEEDED", "pairingKey")
    );
    let (status, _) = sim
        .call(
            Method::POST,
            &url,
            Some("application/json"),
            Some(&json!({ "applications": [{ "id": "nope" }] })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_restricted_policy_refuses_voice_and_yubikey_pairing() {
    let sim = Sim::start().await;
    for kind in ["VOICE", "YUBIKEY"] {
        let (status, body) = create(
            &sim,
            BOB_ID,
            json!({ "type": kind, "phone": BOB_PHONE, "policy": { "id": RESTRICTED_POLICY_ID } }),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            error_of(&body),
            ("INVALID_DATA", "DEVICE_TYPE_NOT_ALLOWED", "type")
        );
    }
    let (_, body) = create(
        &sim,
        BOB_ID,
        json!({ "type": "SMS", "phone": BOB_PHONE, "policy": { "id": "nope" } }),
    )
    .await;
    assert_eq!(error_of(&body).2, "policy.id");
}

#[tokio::test]
async fn invalid_bodies_are_refused() {
    let sim = Sim::start().await;
    let cases = [
        (
            json!({ "type": "SMS", "phone": "5555550102" }),
            "INVALID_VALUE",
            "phone",
        ),
        (
            json!({ "type": "SMS", "phone": "+0555555" }),
            "INVALID_VALUE",
            "phone",
        ),
        (
            json!({ "type": "EMAIL", "email": "bob@" }),
            "INVALID_VALUE",
            "email",
        ),
        (json!({ "type": "MOBILE" }), "INVALID_VALUE", "type"),
        (
            json!({ "type": "TOTP", "status": "ACTIVE" }),
            "INVALID_VALUE",
            "status",
        ),
        (
            json!({ "type": "OATH_TOKEN", "serialNumber": "OATH-999" }),
            "INVALID_VALUE",
            "serialNumber",
        ),
        (
            json!({ "type": "FIDO2", "challenge": URL_SAFE_NO_PAD.encode([1u8; 8]) }),
            "INVALID_VALUE",
            "challenge",
        ),
    ];
    for (body, code, target) in cases {
        let (status, error) = create(&sim, BOB_ID, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(error_of(&error), ("INVALID_DATA", code, target), "{body}");
    }
    let (status, _) = create(
        &sim,
        "00000000-0000-4000-8000-00000000dead",
        json!({ "type": "TOTP" }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn duplicates_and_the_device_limit_are_refused() {
    let sim = Sim::start().await;
    created(&sim, BOB_ID, json!({ "type": "SMS", "phone": BOB_PHONE })).await;
    let (_, body) = create(&sim, BOB_ID, json!({ "type": "SMS", "phone": BOB_PHONE })).await;
    assert_eq!(
        error_of(&body),
        ("INVALID_DATA", "UNIQUENESS_VIOLATION", "phone")
    );
    created(
        &sim,
        BOB_ID,
        json!({ "type": "OATH_TOKEN", "serialNumber": "OATH-000001" }),
    )
    .await;
    let (_, body) = create(
        &sim,
        CAROL_ID,
        json!({ "type": "OATH_TOKEN", "serialNumber": "OATH-000001" }),
    )
    .await;
    assert_eq!(error_of(&body).1, "UNIQUENESS_VIOLATION");

    for _ in 0..3 {
        created(&sim, BOB_ID, json!({ "type": "TOTP" })).await;
    }
    let (_, body) = create(&sim, BOB_ID, json!({ "type": "TOTP" })).await;
    assert_eq!(
        error_of(&body),
        ("INVALID_DATA", "LIMIT_EXCEEDED", "devices")
    );
}

#[tokio::test]
async fn another_users_device_is_not_found() {
    let sim = Sim::start().await;
    let url = sim.api_url(&format!("/users/{BOB_ID}/devices/{ALICE_SMS_DEVICE_ID}"));
    let (status, body) = sim.call(Method::DELETE, &url, None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NOT_FOUND");
    let (status, _) = json_of(
        sim.get(&sim.api_url(&format!("/users/{ALICE_ID}/devices/{ALICE_SMS_DEVICE_ID}")))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// Flips one byte of a base64url field inside a PublicKeyCredential JSON text.
fn tamper(credential: &str, field: &str) -> String {
    let mut value: Value = serde_json::from_str(credential).expect("JSON");
    let encoded = value["response"][field].as_str().expect("field");
    let mut bytes = URL_SAFE_NO_PAD.decode(encoded).expect("base64url");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    value["response"][field] = json!(URL_SAFE_NO_PAD.encode(bytes));
    value.to_string()
}

#[tokio::test]
async fn tampered_attestations_and_assertions_are_rejected() {
    let sim = Sim::start().await;
    let mut authenticator = SoftAuthenticator::new();
    let device = created(&sim, BOB_ID, json!({ "type": "SECURITY_KEY" })).await;
    let options = device["publicKeyCredentialCreationOptions"]
        .as_str()
        .expect("text");
    let attestation = authenticator.register(options, ORIGIN).expect("registers");

    let (status, body) = activate(
        &sim,
        BOB_ID,
        &device,
        json!({ "attestation": tamper(&attestation, "attestationObject"), "origin": ORIGIN }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&body),
        ("INVALID_DATA", "INVALID_ATTESTATION", "attestation")
    );
    let (_, body) = activate(
        &sim,
        BOB_ID,
        &device,
        json!({ "attestation": attestation, "origin": "https://evil.example" }),
    )
    .await;
    assert_eq!(error_of(&body).1, "INVALID_ATTESTATION");
    let (status, body) = activate(
        &sim,
        BOB_ID,
        &device,
        json!({ "attestation": attestation, "origin": ORIGIN }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let auth = sim
        .start_auth(json!({ "user": { "id": BOB_ID }, "selectedDevice": { "id": device["id"] } }))
        .await;
    let request = auth["publicKeyCredentialRequestOptions"]
        .as_str()
        .expect("options");
    let assertion = authenticator.assert(request, ORIGIN).expect("asserts");
    let (status, body) = sim
        .act(
            &auth,
            CHECK_ASSERTION,
            json!({ "assertion": tamper(&assertion, "signature"), "origin": ORIGIN }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&body),
        ("INVALID_DATA", "INVALID_ASSERTION", "assertion")
    );
    assert_eq!(body["details"][0]["innerError"]["remainingAttempts"], 2);
    let (status, done) = sim
        .act(
            &auth,
            CHECK_ASSERTION,
            json!({ "assertion": assertion, "origin": ORIGIN }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(status_of(&done), "COMPLETED");
}
