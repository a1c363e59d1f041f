//! OTP authentication: SMS and email devices, one-time devices, TOTP and OTP on start.

use pingid_sim::SimConfig;
use pingid_sim::demo::{
    ALICE_ID, ALICE_MOBILE_DEVICE_ID, ALICE_PHONE, ALICE_SMS_DEVICE_ID, BOB_ID, CAROL_ID,
    CAROL_TOTP_DEVICE_ID,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Sim, error_of, links_of, status_of};

/// alice authenticating with her SMS device; returns the authentication and the sent OTP.
async fn sms_otp_required(sim: &Sim) -> (Value, String) {
    let auth = sim
        .start_auth(json!({
            "user": { "id": ALICE_ID },
            "selectedDevice": { "id": ALICE_SMS_DEVICE_ID },
        }))
        .await;
    assert_eq!(status_of(&auth), "OTP_REQUIRED", "{auth}");
    let otp = sim.last_otp_to(ALICE_PHONE).await;
    (auth, otp)
}

/// A six-digit code that is not `otp`.
fn wrong(otp: &str) -> String {
    let first = if otp.starts_with('0') { '1' } else { '0' };
    format!("{first}{}", &otp[1..])
}

#[tokio::test]
async fn the_sms_otp_completes_the_authentication() {
    let sim = Sim::start().await;
    let (auth, otp) = sms_otp_required(&sim).await;
    assert_eq!(auth["selectedDevice"]["id"], ALICE_SMS_DEVICE_ID);
    assert_eq!(auth["_embedded"]["devices"][0]["phone"], "+1555*****01");
    assert_eq!(links_of(&auth), ["cancel", "otp.check", "self"]);

    let messages = sim.messages_to(ALICE_PHONE).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["channel"], "SMS");
    assert!(
        messages[0]["text"]
            .as_str()
            .is_some_and(|text| text.contains(&otp))
    );
    assert!(messages[0]["at"].is_string());

    let (status, done) = sim.check_otp(&auth, &otp).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn a_wrong_otp_reports_the_attempts_left() {
    let sim = Sim::start().await;
    let (auth, otp) = sms_otp_required(&sim).await;

    let (status, body) = sim.check_otp(&auth, &wrong(&otp)).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), ("INVALID_DATA", "INVALID_OTP", "otp"));
    assert_eq!(body["details"][0]["innerError"]["remainingAttempts"], 2);
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "OTP_REQUIRED");
}

#[tokio::test]
async fn too_many_wrong_otps_fail_the_authentication_for_good() {
    let sim = Sim::start().await;
    let (auth, otp) = sms_otp_required(&sim).await;

    for remaining in [2, 1, 0] {
        let (_, body) = sim.check_otp(&auth, &wrong(&otp)).await;
        assert_eq!(
            body["details"][0]["innerError"]["remainingAttempts"],
            remaining
        );
    }

    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "FAILED");
    assert_eq!(read["error"]["code"], "TOO_MANY_ATTEMPTS");
    let (status, body) = sim.check_otp(&auth, &otp).await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::BAD_REQUEST, "REQUEST_FAILED")
    );
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "FAILED");
}

#[tokio::test]
async fn the_failure_limit_is_configurable() {
    let sim = Sim::with_config(SimConfig {
        otp_max_failures: 1,
        ..SimConfig::default()
    })
    .await;
    let (auth, otp) = sms_otp_required(&sim).await;

    let (_, body) = sim.check_otp(&auth, &wrong(&otp)).await;

    assert_eq!(body["details"][0]["innerError"]["remainingAttempts"], 0);
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "FAILED");
}

#[tokio::test]
async fn an_expired_otp_is_rejected() {
    let sim = Sim::start().await;
    let (auth, otp) = sms_otp_required(&sim).await;

    sim.advance(300).await;
    let (status, body) = sim.check_otp(&auth, &otp).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), ("INVALID_DATA", "OTP_EXPIRED", "otp"));
}

#[tokio::test]
async fn an_otp_works_once() {
    let sim = Sim::start().await;
    let (auth, otp) = sms_otp_required(&sim).await;
    let (_, done) = sim.check_otp(&auth, &otp).await;
    assert_eq!(status_of(&done), "COMPLETED");

    let (status, body) = sim.check_otp(&auth, &otp).await;

    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::BAD_REQUEST, "REQUEST_FAILED")
    );
}

#[tokio::test]
async fn a_new_otp_replaces_the_previous_one() {
    let sim = Sim::start().await;
    let (auth, first_otp) = sms_otp_required(&sim).await;
    sim.cancel(&auth, "CHANGE_DEVICE").await;
    let (_, again) = sim.select(&auth, ALICE_SMS_DEVICE_ID).await;
    assert_eq!(status_of(&again), "OTP_REQUIRED");
    let second_otp = sim.last_otp_to(ALICE_PHONE).await;

    if first_otp != second_otp {
        let (_, body) = sim.check_otp(&auth, &first_otp).await;
        assert_eq!(error_of(&body).1, "INVALID_OTP");
    }
    let (_, done) = sim.check_otp(&auth, &second_otp).await;
    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn a_one_time_email_device_needs_no_pairing() {
    let sim = Sim::start().await;

    let auth = sim
        .start_auth(json!({
            "user": { "id": BOB_ID },
            "selectedDevice": { "oneTime": { "type": "EMAIL", "email": "bob.backup@example.com" } },
            "application": { "name": "ignored" },
            "userAgent": "ignored",
        }))
        .await;

    assert_eq!(status_of(&auth), "OTP_REQUIRED");
    assert!(auth.get("selectedDevice").is_none());
    assert_eq!(
        auth["_embedded"]["devices"],
        json!([{ "type": "EMAIL", "email": "b*********@example.com" }])
    );
    let messages = sim.messages_to("bob.backup@example.com").await;
    assert_eq!(messages[0]["channel"], "EMAIL");
    let otp = messages[0]["otp"].as_str().expect("otp");
    let (_, done) = sim.check_otp(&auth, otp).await;
    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn a_one_time_voice_device_calls_the_number() {
    let sim = Sim::start().await;

    let auth = sim
        .start_auth(json!({
            "user": { "id": BOB_ID },
            "selectedDevice": { "oneTime": { "type": "VOICE", "phone": "+4915112345678" } },
        }))
        .await;

    assert_eq!(auth["_embedded"]["devices"][0]["phone"], "+4915*******78");
    let messages = sim.messages_to("+4915112345678").await;
    assert_eq!(messages[0]["channel"], "VOICE");
}

#[tokio::test]
async fn one_time_devices_need_a_valid_phone_or_email() {
    let sim = Sim::start().await;
    let cases = [
        (
            json!({ "type": "SMS", "phone": "555-0101" }),
            "selectedDevice.oneTime.phone",
        ),
        (
            json!({ "type": "VOICE", "phone": "+1234" }),
            "selectedDevice.oneTime.phone",
        ),
        (
            json!({ "type": "EMAIL", "email": "not-an-address" }),
            "selectedDevice.oneTime.email",
        ),
        (json!({ "type": "EMAIL" }), "selectedDevice.oneTime.email"),
        (
            json!({ "type": "FAX", "phone": "+15555550102" }),
            "selectedDevice.oneTime.type",
        ),
    ];

    for (one_time, target) in cases {
        let (status, body) = sim
            .try_start_auth(
                json!({ "user": { "id": BOB_ID }, "selectedDevice": { "oneTime": one_time } }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{one_time}");
        assert_eq!(error_of(&body).0, "INVALID_DATA");
        assert_eq!(error_of(&body).2, target, "{one_time}");
    }
    assert!(sim.messages_to("+15555550102").await.is_empty());
}

#[tokio::test]
async fn the_authenticator_app_code_completes_a_totp_authentication() {
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": CAROL_ID } })).await;
    assert_eq!(status_of(&auth), "OTP_REQUIRED");
    assert_eq!(auth["selectedDevice"]["id"], CAROL_TOTP_DEVICE_ID);

    let code = sim.totp(CAROL_TOTP_DEVICE_ID).await;
    let (_, done) = sim.check_otp(&auth, &code).await;

    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn a_stale_authenticator_code_is_rejected() {
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": CAROL_ID } })).await;
    let code = sim.totp(CAROL_TOTP_DEVICE_ID).await;

    sim.advance(120).await;
    let (_, body) = sim.check_otp(&auth, &code).await;

    assert_eq!(error_of(&body).1, "INVALID_OTP");
}

#[tokio::test]
async fn an_otp_given_on_start_completes_at_once() {
    let sim = Sim::start().await;
    let code = sim.totp(CAROL_TOTP_DEVICE_ID).await;

    let auth = sim
        .start_auth(json!({ "user": { "id": CAROL_ID }, "selectedDevice": { "otp": code } }))
        .await;

    assert_eq!(status_of(&auth), "COMPLETED");
    assert_eq!(auth["selectedDevice"]["id"], CAROL_TOTP_DEVICE_ID);
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "COMPLETED");
}

#[tokio::test]
async fn a_wrong_otp_on_start_is_rejected_and_leaves_nothing_pending() {
    let sim = Sim::start().await;
    let code = sim.totp(CAROL_TOTP_DEVICE_ID).await;

    let (status, body) = sim
        .try_start_auth(json!({
            "user": { "id": CAROL_ID },
            "selectedDevice": { "id": CAROL_TOTP_DEVICE_ID, "otp": wrong(&code) },
        }))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), ("INVALID_DATA", "INVALID_OTP", "otp"));
    assert!(body.get("id").is_some() && body.get("status").is_none());
}

#[tokio::test]
async fn an_otp_on_start_needs_a_code_generating_device() {
    let sim = Sim::start().await;

    let (status, body) = sim
        .try_start_auth(json!({
            "user": { "id": ALICE_ID },
            "selectedDevice": { "id": ALICE_MOBILE_DEVICE_ID, "otp": "123456" },
        }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body).2, "selectedDevice.id");

    // Without a device id, alice has no device an OTP could match.
    let (_, body) = sim
        .try_start_auth(
            json!({ "user": { "id": ALICE_ID }, "selectedDevice": { "otp": "123456" } }),
        )
        .await;
    assert_eq!(error_of(&body).1, "INVALID_OTP");
}

#[tokio::test]
async fn totp_codes_are_only_served_for_totp_devices() {
    let sim = Sim::start().await;

    let response = sim
        .http
        .get(sim.url(&format!("/_sim/totp/{ALICE_SMS_DEVICE_ID}")))
        .send()
        .await
        .expect("answered");

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
