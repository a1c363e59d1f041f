//! Push authentication with alice's PingID app (her default device).

use pingid_sim::demo::{
    ALICE_ID, ALICE_MOBILE_DEVICE_ID, ALICE_PHONE, ALICE_SMS_DEVICE_ID, DEFAULT_POLICY_ID,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Sim, error_of, links_of, status_of};

async fn push_pending(sim: &Sim) -> Value {
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;
    assert_eq!(status_of(&auth), "PUSH_CONFIRMATION_REQUIRED", "{auth}");
    auth
}

#[tokio::test]
async fn the_default_policy_pushes_to_the_default_device() {
    let sim = Sim::start().await;

    let auth = push_pending(&sim).await;

    assert_eq!(auth["selectedDevice"]["id"], ALICE_MOBILE_DEVICE_ID);
    assert_eq!(auth["policy"]["id"], DEFAULT_POLICY_ID);
    assert_eq!(auth["user"]["id"], ALICE_ID);
    // The app's own code may complete it too ("Use Code").
    assert_eq!(links_of(&auth), ["cancel", "otp.check", "self"]);
    for field in ["createdAt", "updatedAt", "expiresAt"] {
        assert!(auth[field].is_string(), "{field}");
    }
}

#[tokio::test]
async fn an_approved_push_completes() {
    let sim = Sim::start().await;
    let auth = push_pending(&sim).await;

    let (status, approved) = sim.push(&auth, "APPROVE").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&approved), "COMPLETED");

    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "COMPLETED");
    assert_eq!(links_of(&read), ["self"]);
}

#[tokio::test]
async fn a_denied_push_fails_for_good() {
    let sim = Sim::start().await;
    let auth = push_pending(&sim).await;

    let (status, denied) = sim.push(&auth, "DENY").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&denied), "FAILED");
    assert_eq!(denied["error"]["code"], "PUSH_DENIED");

    // No later answer or action turns it into COMPLETED.
    let (status, _) = sim.push(&auth, "APPROVE").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = sim.select(&auth, ALICE_SMS_DEVICE_ID).await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::BAD_REQUEST, "REQUEST_FAILED")
    );
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "FAILED");
}

#[tokio::test]
async fn a_push_timed_out_by_the_control_api_allows_another_device() {
    let sim = Sim::start().await;
    let auth = push_pending(&sim).await;

    let (_, timed_out) = sim.push(&auth, "TIMEOUT").await;
    assert_eq!(status_of(&timed_out), "PUSH_CONFIRMATION_TIMED_OUT");
    assert_eq!(
        links_of(&timed_out),
        ["cancel", "device.select", "otp.check", "self"]
    );

    let (status, _) = sim.push(&auth, "APPROVE").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a timed-out push cannot be approved"
    );

    let (status, selected) = sim.select(&auth, ALICE_SMS_DEVICE_ID).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&selected), "OTP_REQUIRED");
    let (_, done) = sim
        .check_otp(&auth, &sim.last_otp_to(ALICE_PHONE).await)
        .await;
    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn an_unanswered_push_times_out_on_the_simulated_clock() {
    let sim = Sim::start().await;
    let auth = push_pending(&sim).await;

    sim.advance(39).await;
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "PUSH_CONFIRMATION_REQUIRED");

    sim.advance(1).await;
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "PUSH_CONFIRMATION_TIMED_OUT");
}

#[tokio::test]
async fn selecting_the_mobile_app_again_sends_a_new_push() {
    let sim = Sim::start().await;
    let auth = push_pending(&sim).await;
    sim.advance(40).await;

    let (_, again) = sim.select(&auth, ALICE_MOBILE_DEVICE_ID).await;
    assert_eq!(status_of(&again), "PUSH_CONFIRMATION_REQUIRED");

    let (_, approved) = sim.push(&auth, "APPROVE").await;
    assert_eq!(status_of(&approved), "COMPLETED");
}

#[tokio::test]
async fn pushes_to_unknown_authentications_are_not_found() {
    let sim = Sim::start().await;

    let unknown = json!({ "id": "00000000-0000-4000-8000-000000000000" });
    let (status, _) = sim.push(&unknown, "APPROVE").await;

    assert_eq!(status, StatusCode::NOT_FOUND);
}
