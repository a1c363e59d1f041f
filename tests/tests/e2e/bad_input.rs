//! Bad input never reaches PingOne and never breaks the function: every case answers with the
//! error body naming the problem (400/405/413), never a 500, never a panic.

use crate::support;

use e2e::ApiRequest;
use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Stack, failed};

fn fields(body: &Value) -> Vec<(String, String)> {
    body["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_string(),
                d["problem"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn each_kind_of_bad_input_is_named_in_the_error_body() {
    let stack = Stack::start().await;
    let validate = stack.function("validateOtpDeviceAuthentication").await;
    let id = "a11ce000-0000-4000-8000-00000000aaaa";
    let alice = demo::ALICE_ID;

    // Missing required field
    let body = failed(
        &validate
            .call(json!({ "userId": alice, "deviceAuthenticationId": id }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        fields(&body),
        [("properties.otp".to_string(), "is required".to_string())]
    );

    // Overlong field
    let long = "1".repeat(65);
    let body = failed(
        &validate
            .call(json!({ "userId": alice, "deviceAuthenticationId": id, "otp": long }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(fields(&body)[0].1, "must be at most 64 characters");

    // Wrong type
    let body = failed(
        &validate
            .call(json!({ "userId": alice, "deviceAuthenticationId": id, "otp": 123456 }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        fields(&body)[0],
        ("properties.otp".to_string(), "must be a string".to_string())
    );

    // Several violations at once, unknown keys included
    let body = failed(
        &validate
            .call(json!({ "deviceAuthenticationId": "../../users", "clientSecret": "x" }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    let named: Vec<String> = fields(&body).into_iter().map(|(field, _)| field).collect();
    assert_eq!(
        named,
        [
            "properties.userId",
            "properties.deviceAuthenticationId",
            "properties.otp",
            "properties.clientSecret"
        ]
    );

    // Non-JSON body
    let path = "/v1/pingid/validateOtpDeviceAuthentication";
    let event = ApiRequest::post_json(path, &json!({}))
        .raw_body("otp=123456")
        .rest_event();
    let body = failed(
        &validate.invoke_proxy(event).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(fields(&body)[0].0, "body");

    // Oversize body
    let huge = json!({ "properties": { "userId": alice, "deviceAuthenticationId": id, "otp": "1".repeat(100_000) } });
    let event = ApiRequest::post_json(path, &huge).rest_event();
    failed(
        &validate.invoke_proxy(event).await,
        413,
        "PAYLOAD_TOO_LARGE",
    );

    // Wrong method
    let response = validate
        .invoke_proxy(ApiRequest::get(path).rest_event())
        .await;
    failed(&response, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(response.header("allow"), Some("POST"));

    // None of it reached PingOne, and the function never panicked
    assert_eq!(stack.stats("POST /{envId}/as/token").await, 0);
    assert!(
        validate
            .logs()
            .iter()
            .all(|line| !line.contains("panicked")),
        "{:?}",
        validate.logs()
    );
    // The function is still serving
    let still = validate
        .call(json!({ "userId": alice, "deviceAuthenticationId": id }))
        .await;
    failed(&still, 400, "VALIDATION_FAILED");
}

#[tokio::test]
async fn http_api_v2_events_are_served_like_rest_events() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    let path = "/v1/pingid/readAllDevicesPingID";
    let event = ApiRequest::post_json(path, &json!({ "properties": { "userId": demo::ALICE_ID } }))
        .http_event();
    let response = devices.invoke_proxy(event).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.json().unwrap()["devices"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let bad = ApiRequest::post_json(path, &json!({ "properties": {} })).http_event();
    failed(&devices.invoke_proxy(bad).await, 400, "VALIDATION_FAILED");
}

#[tokio::test]
async fn direct_invocation_answers_the_output_or_fails_with_the_code() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    let output = devices
        .process
        .invoke(json!({ "properties": { "userId": demo::ALICE_ID } }))
        .await
        .unwrap()
        .into_response()
        .unwrap();
    assert_eq!(output["devices"].as_array().unwrap().len(), 3);

    let (error_type, error_message) = devices
        .process
        .invoke(json!({ "properties": { "userId": 42 } }))
        .await
        .unwrap()
        .into_error()
        .unwrap();
    assert_eq!(error_type, "VALIDATION_FAILED");
    let body: Value = serde_json::from_str(&error_message).unwrap();
    assert_eq!(body["details"][0]["field"], "properties.userId");
}
