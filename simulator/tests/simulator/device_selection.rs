//! Starting, selecting a device, cancelling, and the requests the state machine refuses.

use pingid_sim::demo::{
    ALICE_EMAIL, ALICE_EMAIL_DEVICE_ID, ALICE_ID, ALICE_MOBILE_DEVICE_ID, ALICE_SMS_DEVICE_ID,
    BOB_ID, CAROL_TOTP_DEVICE_ID, PROMPT_POLICY_ID,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{CHECK_OTP, Sim, error_of, json_of, links_of, status_of};

async fn selection_required(sim: &Sim) -> Value {
    let auth = sim
        .start_auth(json!({ "user": { "id": ALICE_ID }, "policy": { "id": PROMPT_POLICY_ID } }))
        .await;
    assert_eq!(status_of(&auth), "DEVICE_SELECTION_REQUIRED", "{auth}");
    auth
}

#[tokio::test]
async fn a_prompting_policy_offers_the_devices_masked() {
    let sim = Sim::start().await;

    let auth = selection_required(&sim).await;

    assert_eq!(auth["policy"]["id"], PROMPT_POLICY_ID);
    assert!(auth.get("selectedDevice").is_none());
    assert_eq!(links_of(&auth), ["cancel", "device.select", "self"]);
    let devices = &auth["_embedded"]["devices"];
    assert_eq!(devices[0]["id"], ALICE_MOBILE_DEVICE_ID);
    assert_eq!(devices[0]["type"], "MOBILE");
    assert_eq!(devices[1]["phone"], "+1555*****01");
    assert_eq!(devices[2]["email"], "a****@example.com");
    for device in devices.as_array().expect("devices") {
        assert!(device["nickname"].is_string());
    }
}

#[tokio::test]
async fn selecting_the_email_device_sends_an_otp_there() {
    let sim = Sim::start().await;
    let auth = selection_required(&sim).await;

    let (status, selected) = sim.select(&auth, ALICE_EMAIL_DEVICE_ID).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&selected), "OTP_REQUIRED");
    assert_eq!(selected["selectedDevice"]["id"], ALICE_EMAIL_DEVICE_ID);

    let (_, done) = sim
        .check_otp(&auth, &sim.last_otp_to(ALICE_EMAIL).await)
        .await;
    assert_eq!(status_of(&done), "COMPLETED");
}

#[tokio::test]
async fn only_the_users_own_devices_can_be_selected() {
    let sim = Sim::start().await;
    let auth = selection_required(&sim).await;

    let (status, body) = sim.select(&auth, CAROL_TOTP_DEVICE_ID).await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error_of(&body),
        ("INVALID_DATA", "INVALID_VALUE", "device.id")
    );
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "DEVICE_SELECTION_REQUIRED");
}

#[tokio::test]
async fn a_device_cannot_be_selected_while_an_otp_is_awaited() {
    let sim = Sim::start().await;
    let auth = selection_required(&sim).await;
    sim.select(&auth, ALICE_SMS_DEVICE_ID).await;

    let (status, body) = sim.select(&auth, ALICE_EMAIL_DEVICE_ID).await;

    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::BAD_REQUEST, "REQUEST_FAILED")
    );
}

#[tokio::test]
async fn cancel_with_change_device_returns_to_selection() {
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;
    assert_eq!(status_of(&auth), "PUSH_CONFIRMATION_REQUIRED");

    let (status, changed) = sim.cancel(&auth, "CHANGE_DEVICE").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&changed), "DEVICE_SELECTION_REQUIRED");
    assert_eq!(
        changed["_embedded"]["devices"].as_array().map(Vec::len),
        Some(3)
    );
    assert!(changed.get("selectedDevice").is_none());
    let (status, _) = sim.push(&auth, "APPROVE").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the cancelled push can no longer be approved"
    );
}

#[tokio::test]
async fn cancel_with_signout_ends_the_authentication() {
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;

    let (status, cancelled) = sim.cancel(&auth, "SIGNOUT").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&cancelled), "CANCELED");
    assert_eq!(links_of(&cancelled), ["self"]);

    let (status, _) = sim.push(&auth, "APPROVE").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = sim.cancel(&auth, "CHANGE_DEVICE").await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::BAD_REQUEST, "REQUEST_FAILED")
    );
    let (_, read) = sim.read_auth(&auth).await;
    assert_eq!(status_of(&read), "CANCELED");
}

#[tokio::test]
async fn a_completed_authentication_cannot_be_cancelled() {
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;
    sim.push(&auth, "APPROVE").await;

    let (status, body) = sim.cancel(&auth, "SIGNOUT").await;

    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::BAD_REQUEST, "REQUEST_FAILED")
    );
}

#[tokio::test]
async fn a_user_without_devices_cannot_authenticate_without_a_one_time_device() {
    let sim = Sim::start().await;

    let (status, body) = sim
        .try_start_auth(json!({ "user": { "id": BOB_ID } }))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body).0, "REQUEST_FAILED");
    assert_eq!(error_of(&body).1, "NO_USABLE_DEVICES");
}

#[tokio::test]
async fn start_requests_name_the_field_at_fault() {
    let sim = Sim::start().await;
    let cases = [
        (
            json!({ "user": { "id": "00000000-0000-4000-8000-000000000000" } }),
            "user.id",
        ),
        (
            json!({ "policy": { "id": PROMPT_POLICY_ID }, "selectedDevice": { "id": ALICE_SMS_DEVICE_ID } }),
            "user.id",
        ),
        (
            json!({ "user": { "id": ALICE_ID }, "policy": { "id": "00000000-0000-4000-8000-000000000000" } }),
            "policy.id",
        ),
        (
            json!({ "user": { "id": ALICE_ID }, "selectedDevice": { "id": CAROL_TOTP_DEVICE_ID } }),
            "selectedDevice.id",
        ),
    ];

    for (request, target) in cases {
        let (status, body) = sim.try_start_auth(request.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{request}");
        assert_eq!(error_of(&body).0, "INVALID_DATA", "{request}");
        assert_eq!(error_of(&body).2, target, "{request}");
    }
}

#[tokio::test]
async fn requests_with_the_wrong_content_type_or_broken_json_are_refused() {
    let sim = Sim::start().await;
    let create = sim.auth_url("/deviceAuthentications");

    let (status, body) = json_of(
        sim.post(
            &create,
            "text/plain",
            &json!({ "user": { "id": ALICE_ID } }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "INVALID_REQUEST")
    );

    let broken = sim
        .http
        .post(&create)
        .bearer_auth(sim.token().await)
        .header("content-type", "application/json")
        .body(r#"{"user":{"id":"#)
        .send()
        .await
        .expect("answered");
    let (status, body) = json_of(broken).await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::BAD_REQUEST, "INVALID_REQUEST")
    );

    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;
    let (status, body) = sim
        .act(&auth, "application/json", json!({ "otp": "123456" }))
        .await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "INVALID_REQUEST")
    );
    let (status, _) = sim.act(&auth, CHECK_OTP, json!({ "code": "123456" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn authentications_disappear_after_their_lifetime() {
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;

    sim.advance(599).await;
    let (status, _) = sim.read_auth(&auth).await;
    assert_eq!(status, StatusCode::OK);

    sim.advance(1).await;
    let (status, body) = sim.read_auth(&auth).await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, _) = sim.push(&auth, "APPROVE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let sim = Sim::start().await;

    for id in ["00000000-0000-4000-8000-000000000000", "not-a-uuid"] {
        let (status, body) = sim.read_auth(&json!({ "id": id })).await;
        assert_eq!(
            (status, error_of(&body).0),
            (StatusCode::NOT_FOUND, "NOT_FOUND"),
            "{id}"
        );
    }
}
