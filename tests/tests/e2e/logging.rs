//! Log lines are JSON, carry the Lambda request id, and never a secret.

use crate::support;

use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Stack, failed, ok};

#[tokio::test]
async fn every_log_line_is_json_with_the_request_id_of_its_invocation() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    ok(&devices.call(json!({ "userId": demo::ALICE_ID })).await);
    let refused = failed(&devices.call(json!({})).await, 400, "VALIDATION_FAILED");
    let request_id = refused["correlationId"].as_str().unwrap();

    let lines: Vec<Value> = devices
        .logs()
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let calls: Vec<&Value> = lines
        .iter()
        .filter(|line| line.get("capability").is_some())
        .collect();
    assert_eq!(calls.len(), 2, "one line per call: {lines:?}");
    for line in &calls {
        assert!(line["span"]["requestId"].is_string(), "{line}");
        assert_eq!(line["capability"], "readAllDevicesPingID");
    }
    assert_eq!(calls[1]["span"]["requestId"], request_id);
    assert_eq!(calls[1]["code"], "VALIDATION_FAILED");
}

/// Every form a value could take in a log line: as it is, base64 (standard and URL-safe, with
/// and without padding), URL-encoded, and hex.
fn forms_of(value: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    vec![
        value.to_string(),
        STANDARD.encode(value),
        STANDARD_NO_PAD.encode(value),
        URL_SAFE.encode(value),
        URL_SAFE_NO_PAD.encode(value),
        support::urlencode(value),
        hex.clone(),
        hex.to_uppercase(),
    ]
}

fn assert_nowhere_in(lines: &[String], value: &str) {
    assert!(!lines.is_empty(), "the function logged nothing at all");
    for form in forms_of(value) {
        for line in lines {
            assert!(
                !line.contains(&form),
                "{value} appears as {form} in: {line}"
            );
        }
    }
}

#[tokio::test]
async fn at_trace_no_line_carries_a_passcode_or_a_bearer_token() {
    // Given a function at Lambda's TRACE level, and the authorizer with RUST_LOG=trace
    let stack = Stack::start().await;
    let trace = [("AWS_LAMBDA_LOG_LEVEL", "TRACE".to_string())];
    let otp_check = stack
        .function_with("validateOtpDeviceAuthentication", &trace)
        .await;
    let rust_log = [("RUST_LOG", "trace".to_string())];
    let authorizer = stack.authorizer_with(&rust_log).await;

    // When each is called with a canary where a passcode and a bearer token go
    let otp = "CanaryOtp7Q4Zx9";
    let refused = otp_check
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": demo::ALICE_ID, "otp": otp }))
        .await;
    assert!(
        refused.status >= 400,
        "an unknown authentication is refused"
    );
    let token = "canary-bearer-4f1c9e2a7d6b3e8f0a5c";
    let mut event = e2e::load_event("api-authorizer.token.json");
    e2e::replace_in_strings(&mut event, support::DEMO_API_TOKEN, token);
    authorizer.process.invoke(event).await.expect("an answer");

    // Then no log line holds either, in any encoding
    assert_nowhere_in(&otp_check.logs(), otp);
    assert_nowhere_in(&authorizer.logs(), token);
}
