//! Failure is closed and bounded (handbook §4.3): reads are retried once, writes never; PingOne
//! throttling and outages come back as stable codes within the time budget; a rotated worker
//! secret is picked up after PingOne rejects the old one.

use crate::support;

use pingid_sim::demo;
use serde_json::json;
use support::{Stack, failed, ok};

const DEVICES: &str = "GET /v1/environments/{envId}/users/{userId}/devices";
const CREATE: &str = "POST /{envId}/deviceAuthentications";
const TOKEN: &str = "POST /{envId}/as/token";

fn alice() -> serde_json::Value {
    json!({ "userId": demo::ALICE_ID })
}

#[tokio::test]
async fn a_read_is_retried_once_after_a_server_error() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    // The devices call itself: the handler reads the policies concurrently, and a fault on
    // the common prefix would go to whichever call arrives first.
    let prefix = format!(
        "/v1/environments/{}/users/{}/devices",
        demo::ENV_ID,
        demo::ALICE_ID
    );
    stack
        .sim_faults(json!([{ "pathPrefix": prefix, "status": 503, "count": 1 }]))
        .await;
    ok(&devices.call(alice()).await);
    assert_eq!(stack.stats(DEVICES).await, 2);
}

#[tokio::test]
async fn a_read_that_keeps_failing_is_unavailable_after_two_attempts() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    stack
        .sim_faults(json!([{ "pathPrefix": "/v1/environments", "status": 500 }]))
        .await;
    failed(&devices.call(alice()).await, 503, "UPSTREAM_UNAVAILABLE");
    assert_eq!(stack.stats(DEVICES).await, 2);
}

#[tokio::test]
async fn a_reset_connection_on_a_read_is_retried() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    stack
        .sim_faults(json!([{ "pathPrefix": "/v1/environments", "reset": true, "count": 1 }]))
        .await;
    ok(&devices.call(alice()).await);
}

#[tokio::test]
async fn writes_are_never_retried() {
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let prefix = format!("/{}/deviceAuthentications", demo::ENV_ID);
    stack
        .sim_faults(json!([{ "pathPrefix": prefix, "status": 503, "count": 1 }]))
        .await;
    failed(&create.call(alice()).await, 503, "UPSTREAM_UNAVAILABLE");
    assert_eq!(stack.stats(CREATE).await, 1);
    stack
        .sim_faults(json!([{ "pathPrefix": prefix, "reset": true, "count": 1 }]))
        .await;
    failed(&create.call(alice()).await, 503, "UPSTREAM_UNAVAILABLE");
    assert_eq!(stack.stats(CREATE).await, 2);
}

#[tokio::test]
async fn an_otp_check_is_sent_once_even_when_pingone_fails() {
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let validate = stack.function("validateOtpDeviceAuthentication").await;
    let started = ok(&create
        .call(json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID }))
        .await);
    let id = started["deviceAuthenticationId"].as_str().unwrap();
    let otp = stack.last_otp_sent_to(demo::ALICE_PHONE).await;
    let prefix = format!("/{}/deviceAuthentications/{id}", demo::ENV_ID);
    stack
        .sim_faults(json!([{ "pathPrefix": prefix, "method": "POST", "status": 502 }]))
        .await;
    let response = validate
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id, "otp": otp }))
        .await;
    failed(&response, 503, "UPSTREAM_UNAVAILABLE");
    assert_eq!(
        stack
            .stats("POST /{envId}/deviceAuthentications/{deviceAuthenticationId}")
            .await,
        1
    );
}

#[tokio::test]
async fn a_malformed_answer_is_never_taken_for_success() {
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let prefix = format!("/{}/deviceAuthentications", demo::ENV_ID);
    stack
        .sim_faults(json!([{ "pathPrefix": prefix, "malformedBody": true }]))
        .await;
    failed(&create.call(alice()).await, 502, "UPSTREAM_INVALID");
}

#[tokio::test]
async fn throttling_is_waited_out_inside_the_budget_and_reported_beyond_it() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    // Retry-After 1 s fits the 5 s budget: the read is retried and succeeds
    stack
        .sim_faults(json!([{ "pathPrefix": "/v1/environments", "status": 429, "retryAfterSeconds": 1, "count": 1 }]))
        .await;
    ok(&devices.call(alice()).await);
    // Retry-After 30 s does not: the caller is told to come back, with the delay
    stack
        .sim_faults(
            json!([{ "pathPrefix": "/v1/environments", "status": 429, "retryAfterSeconds": 30 }]),
        )
        .await;
    let response = devices.call(alice()).await;
    let body = failed(&response, 429, "RATE_LIMITED");
    assert_eq!(body["retryAfterSeconds"], 30);
    assert_eq!(response.header("retry-after"), Some("30"));
}

#[tokio::test]
async fn a_slow_pingone_gets_a_timeout_answer_within_the_budget() {
    let stack = Stack::start().await;
    let budget = [("PINGID_TIME_BUDGET_MS", "1000".to_string())];
    let devices = stack.function_with("readAllDevicesPingID", &budget).await;
    // PingOne answers after 3 s; with a 1 s budget the caller gets 504 instead of waiting
    stack
        .sim_faults(json!([{ "pathPrefix": "/v1/environments", "latencyMs": 3000 }]))
        .await;
    failed(&devices.call(alice()).await, 504, "UPSTREAM_UNAVAILABLE");
}

#[tokio::test]
async fn a_rotated_worker_secret_is_picked_up_after_pingone_rejects_the_old_one() {
    let stack = Stack::start().await;
    let wrong = json!({ "envId": demo::ENV_ID, "clientId": demo::CLIENT_ID,
        "clientSecret": "not-the-secret", "region": "NA" });
    stack
        .moto
        .put_secret_value(&stack.secret_arn, &wrong.to_string())
        .await
        .unwrap();
    // A capability with one PingOne call, so the token requests count exactly
    let devices = stack.function("readUserMFAEnabled").await;
    // Wrong credentials: a configuration error, and the function re-read the secret once
    let body = failed(&devices.call(alice()).await, 500, "CONFIG_UNAVAILABLE");
    assert!(!body.to_string().contains("not-the-secret"));
    assert_eq!(stack.stats(TOKEN).await, 2);
    // The operator rotates the secret; the next call is refused with the cached one, re-reads,
    // and succeeds, without waiting for the cache TTL
    let right = json!({ "envId": demo::ENV_ID, "clientId": demo::CLIENT_ID,
        "clientSecret": demo::CLIENT_SECRET, "region": "NA" });
    stack
        .moto
        .put_secret_value(&stack.secret_arn, &right.to_string())
        .await
        .unwrap();
    ok(&devices.call(alice()).await);
    support::assert_no_secret_in_logs(&[&devices], &["not-the-secret", demo::CLIENT_SECRET]);
}

#[tokio::test]
async fn a_missing_secret_is_a_configuration_error() {
    let stack = Stack::start().await;
    let missing = [(
        "PINGONE_CONNECTION_SECRET_ID",
        "pingid/does-not-exist".to_string(),
    )];
    let devices = stack.function_with("readAllDevicesPingID", &missing).await;
    failed(&devices.call(alice()).await, 500, "CONFIG_UNAVAILABLE");
    assert_eq!(stack.stats(TOKEN).await, 0);
}

#[tokio::test]
async fn a_connection_secret_of_another_region_than_the_pinned_one_is_refused() {
    // Given the demo tenant's secret, which names region NA
    let stack = Stack::start().await;
    let pinned_eu = [("PINGONE_REGION", "EU".to_string())];
    let pinned_na = [("PINGONE_REGION", "NA".to_string())];

    // When a deployment pinned to EU calls PingOne
    let eu = stack
        .function_with("readAllDevicesPingID", &pinned_eu)
        .await;
    // Then it refuses before asking PingOne anything
    failed(&eu.call(alice()).await, 500, "CONFIG_UNAVAILABLE");
    assert_eq!(stack.stats(TOKEN).await, 0);

    // while one pinned to NA works as usual
    let na = stack
        .function_with("readAllDevicesPingID", &pinned_na)
        .await;
    ok(&na.call(alice()).await);
}

/// A function whose secrets are kept one second, warmed by one call.
async fn warm_with_short_lived_secrets(stack: &Stack) -> support::Function {
    let short = [("PINGID_SECRET_TTL_SECONDS", "1".to_string())];
    let devices = stack.function_with("readAllDevicesPingID", &short).await;
    ok(&devices.call(alice()).await);
    devices
}

#[tokio::test]
async fn an_aws_outage_is_ridden_out_on_the_last_good_secret() {
    // Given a warm function, on an AWS of its own (the outage stops it)
    let stack = Stack::start_with_own_moto().await;
    let devices = warm_with_short_lived_secrets(&stack).await;
    // When AWS goes away and the secret's lifetime passes
    stack.moto.stop().await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    // Then calls still succeed on the last good value, with a warning for each attempt
    ok(&devices.call(alice()).await);
    ok(&devices.call(alice()).await);
    assert!(
        devices
            .logs()
            .iter()
            .any(|line| line.contains("WARN") && line.contains("secret")),
        "{:?}",
        devices.logs()
    );
}

#[tokio::test]
async fn a_revoked_secret_fails_closed_once_its_lifetime_is_over() {
    // Given a warm function
    let stack = Stack::start().await;
    let devices = warm_with_short_lived_secrets(&stack).await;
    // When its connection secret is deleted and the lifetime passes
    stack.moto.delete_secret(&stack.secret_arn).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1_500)).await;
    // Then nothing is served from memory
    failed(&devices.call(alice()).await, 500, "CONFIG_UNAVAILABLE");
}
