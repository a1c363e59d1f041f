//! Log lines are JSON, carry the Lambda request id, and never a secret.

mod support;

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
