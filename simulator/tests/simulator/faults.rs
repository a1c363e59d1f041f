//! Injected faults through `PUT /_sim/faults`.

use std::time::{Duration, Instant};

use pingid_sim::demo::ALICE_ID;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Sim, json_of};

fn alice_url(sim: &Sim) -> String {
    sim.api_url(&format!("/users/{ALICE_ID}"))
}

#[tokio::test]
async fn a_503_fault_answers_a_pingone_error_then_expires() {
    let sim = Sim::start().await;
    sim.token().await;
    sim.set_faults(json!({ "pathPrefix": "/v1/environments", "status": 503, "count": 1 }))
        .await;

    let (status, body) = json_of(sim.get(&alice_url(&sim)).await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "UNEXPECTED_ERROR");
    assert!(body["id"].is_string() && body["message"].is_string());

    assert_eq!(sim.get(&alice_url(&sim)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_429_fault_carries_retry_after() {
    let sim = Sim::start().await;
    sim.token().await;
    sim.set_faults(json!([{ "pathPrefix": "/v1", "status": 429, "retryAfterSeconds": 7 }]))
        .await;

    let response = sim.get(&alice_url(&sim)).await;

    assert_eq!(response.headers()["retry-after"], "7");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(body["code"], "REQUEST_LIMITED");
    // Without a count the fault stays until cleared.
    assert_eq!(
        sim.get(&alice_url(&sim)).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    sim.http
        .delete(sim.url("/_sim/faults"))
        .send()
        .await
        .expect("answered");
    assert_eq!(sim.get(&alice_url(&sim)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reset_fault_drops_the_connection_without_a_response() {
    let sim = Sim::start().await;
    let token = sim.token().await;
    sim.set_faults(json!({ "pathPrefix": "/v1", "reset": true, "count": 1 }))
        .await;

    let result = sim
        .http
        .get(alice_url(&sim))
        .bearer_auth(&token)
        .send()
        .await;

    let error = result.expect_err("no HTTP response");
    assert!(!error.is_timeout() && error.status().is_none(), "{error:?}");
    assert_eq!(sim.get(&alice_url(&sim)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_malformed_body_fault_answers_truncated_json() {
    let sim = Sim::start().await;
    sim.token().await;
    sim.set_faults(json!({ "pathPrefix": "/v1", "malformedBody": true, "count": 1 }))
        .await;

    let response = sim.get(&alice_url(&sim)).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().await.expect("a body");
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
}

#[tokio::test]
async fn a_latency_fault_delays_then_serves() {
    let sim = Sim::start().await;
    sim.token().await;
    sim.set_faults(json!({ "pathPrefix": "/v1", "latencyMs": 200, "count": 1 }))
        .await;

    let started = Instant::now();
    let response = sim.get(&alice_url(&sim)).await;

    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn faults_only_hit_their_path_prefix() {
    let sim = Sim::start().await;
    sim.set_faults(json!({ "pathPrefix": "/v1/environments", "status": 500 }))
        .await;

    // The token endpoint lives on the auth host paths and is untouched.
    let token = sim.token().await;

    assert!(!token.is_empty());
    assert_eq!(
        sim.get(&alice_url(&sim)).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
}

#[tokio::test]
async fn invalid_fault_rules_are_refused() {
    let sim = Sim::start().await;

    for rule in [
        json!({ "pathPrefix": "/v1", "status": 200 }),
        json!({ "pathPrefix": "/v1", "count": 0 }),
        json!({ "pathPrefix": "/v1", "retryAfter": 3 }),
    ] {
        let response = sim
            .http
            .put(sim.url("/_sim/faults"))
            .json(&rule)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{rule}");
    }
}
