//! Enrollment driven by events, through a queue, with nothing lost: the enrollment queue (with
//! its dead-letter queue, `maxReceiveCount` 2) in moto, Lambda's SQS event source mapping
//! played by the test, and the real `create-device-pingid` binary answering partial batch
//! responses. A request enrolls exactly once; a message that can never succeed ends in the
//! dead-letter queue with its body intact; a throttled one is delivered again and succeeds.

use crate::support;

use e2e::{Batch, Queue, SqsEventSource, load_event};
use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Function, Stack, assert_no_secret_in_logs, ok};

/// Receives before SQS dead-letters a message, as the template's redrive policy sets it.
const MAX_RECEIVE_COUNT: u32 = 2;

const BOB_EMAIL: &str = "bob@example.com";
const BOB_PHONE: &str = "+15555550102";

/// The queues the template provides, and the functions this test calls.
struct EnrollmentByEvents {
    stack: Stack,
    queue: Queue,
    dead_letters: Queue,
    enroll: Function,
    list: Function,
}

impl EnrollmentByEvents {
    async fn start() -> Self {
        let stack = Stack::start().await;
        let dead_letters = stack
            .moto
            .create_queue("EnrollmentDeadLetterQueue")
            .await
            .expect("dead-letter queue created");
        let queue = stack
            .moto
            .create_queue_with_dead_letter_queue(
                "EnrollmentQueue",
                &dead_letters,
                MAX_RECEIVE_COUNT,
            )
            .await
            .expect("enrollment queue created");
        Self {
            enroll: stack.function("createDevicePingID").await,
            list: stack.function("readAllDevicesPingID").await,
            stack,
            queue,
            dead_letters,
        }
    }

    /// Sends `body` to the enrollment queue; returns its message id.
    async fn send(&self, body: &Value) -> String {
        self.stack
            .moto
            .send_message(&self.queue, &body.to_string())
            .await
            .expect("message sent")
    }

    /// Feeds the queue to the function until nothing is left in it.
    async fn drain(&self) -> Vec<Batch> {
        let batches = SqsEventSource::new(&self.stack.moto, &self.queue)
            .drain(&self.enroll.process)
            .await
            .expect("the queue drains");
        let depth = self.stack.moto.queue_depth(&self.queue).await.unwrap();
        assert_eq!(depth, (0, 0), "visible and in-flight messages left");
        batches
    }

    /// Bob's devices of `kind` on `contact` (`phone` or `email`).
    async fn bobs_devices(&self, kind: &str, field: &str, contact: &str) -> usize {
        let output = ok(&self.list.call(json!({ "userId": demo::BOB_ID })).await);
        output["devices"]
            .as_array()
            .expect("a device list")
            .iter()
            .filter(|device| device["type"] == kind && device[field] == contact)
            .count()
    }

    /// `(messageId, outcome)` of each "record answered" line the function logged.
    fn record_outcomes(&self) -> Vec<(String, String)> {
        let text = |line: &Value, key: &str| line[key].as_str().unwrap_or_default().to_string();
        self.enroll
            .logs()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["message"] == "record answered")
            .inspect(|line| {
                assert_eq!(line["capability"], "createDevicePingID", "{line}");
                assert!(line["correlationId"].is_string(), "{line}");
            })
            .map(|line| (text(&line, "messageId"), text(&line, "outcome")))
            .collect()
    }

    /// `(messageId, body)` of every message waiting in the dead-letter queue.
    async fn dead_lettered(&self) -> Vec<(String, String)> {
        // Hidden for a minute: each message is read once, and the test ends well before.
        let messages = self
            .stack
            .moto
            .receive_messages(&self.dead_letters, 60)
            .await
            .expect("dead-letter queue readable");
        messages
            .into_iter()
            .map(|message| (message.message_id, message.body))
            .collect()
    }
}

/// `{"properties": …}` enrolling a device for bob, as the HTTP route takes it.
fn enrollment(kind: &str, field: &str, contact: &str) -> Value {
    json!({ "properties": {
        "userId": demo::BOB_ID,
        "workforceDeviceType": kind,
        "status": "ACTIVATION_REQUIRED",
        field: contact,
    } })
}

/// An EventBridge event as a rule delivers it to the queue (the envelope of the events/
/// fixture): `detail` is the request.
fn eventbridge_event(detail: Value) -> Value {
    let mut event = load_event("create-device-pingid.eventbridge.json");
    event["detail"] = detail;
    event
}

#[tokio::test]
async fn queued_enrollments_happen_once_and_an_invalid_message_is_dead_lettered_intact() {
    // Given the enrollment queue holding bob's email device as the HTTP body, his SMS device as
    // an EventBridge event, and an email device without an address (never valid)
    let flow = EnrollmentByEvents::start().await;
    let email = flow.send(&enrollment("EMAIL", "email", BOB_EMAIL)).await;
    let sms_event = eventbridge_event(enrollment("SMS", "phone", BOB_PHONE));
    let sms = flow.send(&sms_event).await;
    let invalid_body = json!({ "properties": {
        "userId": demo::BOB_ID,
        "workforceDeviceType": "EMAIL",
        "status": "ACTIVATION_REQUIRED",
    } });
    let invalid = flow.send(&invalid_body).await;

    // When Lambda's event source mapping feeds the queue to createDevicePingID until it is empty
    let batches = flow.drain().await;

    // Then the first batch reports only the invalid message; SQS delivers it once more, and on
    // the receive after maxReceiveCount moves it to the dead-letter queue.
    assert_eq!(
        batches,
        [
            Batch {
                message_ids: vec![email.clone(), sms.clone(), invalid.clone()],
                failed: vec![invalid.clone()],
            },
            Batch {
                message_ids: vec![invalid.clone()],
                failed: vec![invalid.clone()],
            },
        ]
    );
    // and each valid request enrolled its device exactly once
    assert_eq!(flow.bobs_devices("EMAIL", "email", BOB_EMAIL).await, 1);
    assert_eq!(flow.bobs_devices("SMS", "phone", BOB_PHONE).await, 1);
    // and the invalid message waits in the dead-letter queue, same id, body intact
    assert_eq!(
        flow.dead_lettered().await,
        [(invalid.clone(), invalid_body.to_string())]
    );
    // and the function logged one line per delivered record, and no phone number or address.
    let mut logged = flow.record_outcomes();
    logged.sort();
    let mut expected = [
        (email, "OK"),
        (sms, "OK"),
        (invalid.clone(), "VALIDATION_FAILED"),
        (invalid, "VALIDATION_FAILED"),
    ]
    .map(|(id, outcome)| (id, outcome.to_string()));
    expected.sort();
    assert_eq!(logged, expected);
    assert_no_secret_in_logs(&[&flow.enroll], &[BOB_EMAIL, BOB_PHONE]);
}

#[tokio::test]
async fn a_throttled_enrollment_is_delivered_again_and_succeeds() {
    // Given PingOne throttles the next device creation for bob
    let flow = EnrollmentByEvents::start().await;
    let devices = format!(
        "/v1/environments/{}/users/{}/devices",
        demo::ENV_ID,
        demo::BOB_ID
    );
    flow.stack
        .sim_faults(
            json!([{ "pathPrefix": devices, "status": 429, "retryAfterSeconds": 1, "count": 1 }]),
        )
        .await;
    let email = flow.send(&enrollment("EMAIL", "email", BOB_EMAIL)).await;

    // When the queue is fed to createDevicePingID
    let batches = flow.drain().await;

    // Then the first delivery is reported failed (RATE_LIMITED) and the second enrolls the
    // device, once; nothing is dead-lettered.
    assert_eq!(
        batches,
        [
            Batch {
                message_ids: vec![email.clone()],
                failed: vec![email.clone()],
            },
            Batch {
                message_ids: vec![email],
                failed: vec![],
            },
        ]
    );
    assert_eq!(flow.bobs_devices("EMAIL", "email", BOB_EMAIL).await, 1);
    assert!(flow.dead_lettered().await.is_empty());
}

#[tokio::test]
async fn an_enrollment_event_may_not_create_an_active_device_unless_the_deployment_allows_it() {
    // Given an SMS device for bob with status ACTIVE (no pairing passcode to bob's phone)
    let stack = Stack::start().await;
    let mut request = enrollment("SMS", "phone", "+15555550177");
    request["properties"]["status"] = json!("ACTIVE");
    let created = "POST /v1/environments/{envId}/users/{userId}/devices";

    // When it arrives as an enrollment event, the deployment not allowing it
    let function = stack.function("createDevicePingID").await;
    let answer = function
        .process
        .invoke(eventbridge_event(request.clone()))
        .await
        .expect("an answer");
    // Then it is refused, naming the field, and PingOne is not asked
    let (code, body) = answer.into_error().expect("a failed invocation");
    assert_eq!(code, "VALIDATION_FAILED");
    assert!(body.contains("properties.status"), "{body}");
    assert_eq!(stack.stats(created).await, 0);

    // Through the API (its bearer token checked) the same request pairs the device
    ok(&function.call(request["properties"].clone()).await);
    assert_eq!(stack.stats(created).await, 1);

    // And from events too where the deployment allows it
    let allowed = [(
        "PINGID_ALLOW_ACTIVE_ENROLLMENT_FROM_EVENTS",
        "true".to_string(),
    )];
    let trusting = stack.function_with("createDevicePingID", &allowed).await;
    let mut other = request.clone();
    other["properties"]["phone"] = json!("+15555550178");
    let answer = trusting
        .process
        .invoke(eventbridge_event(other))
        .await
        .expect("an answer");
    answer.into_response().expect("the created device");
    assert_eq!(stack.stats(created).await, 2);
}
