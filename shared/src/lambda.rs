//! The Lambda adapter: one binary per capability answers five kinds of events.
//!
//! - API Gateway REST API (payload v1) and HTTP API (payload v2) proxy events: the body is the
//!   request `{"properties": …}`; the answer is a proxy response with the output or the error
//!   body and the matching status.
//! - Direct invocation with the bare `{"properties": …}` object: the answer is the output
//!   object; a failure fails the invocation with `errorType` = the stable code and
//!   `errorMessage` = the error body as JSON text.
//! - EventBridge event (a rule targeting the function): its `detail` is the request, answered
//!   like a direct invocation, so a failure is a function error and EventBridge's retry policy
//!   and dead-letter queue apply.
//! - SQS event (an event source mapping with `FunctionResponseTypes: [ReportBatchItemFailures]`):
//!   each record's `body` is a request, either `{"properties": …}` or an EventBridge event that
//!   a rule delivered to the queue (its `detail` is the request). The answer is the partial
//!   batch response `{"batchItemFailures": [{"itemIdentifier": <messageId>}]}` naming **every**
//!   record that did not succeed: retryable failures (5xx codes, `RATE_LIMITED`) so SQS
//!   delivers them again, and permanent ones (validation, duplicate device, a body that is not
//!   JSON, …) too, so that after the queue's `maxReceiveCount` SQS moves them to the
//!   dead-letter queue. Nothing is dropped silently: a record leaves the queue only by
//!   succeeding or by being dead-lettered, where an operator can read and redrive it.
//!
//! The events are typed by `aws_lambda_events` (kept by the `lambda_runtime` project). The
//! payload is read as JSON first and its kind told by its keys, because one binary answers
//! every kind: a typed enum tried variant by variant would report a broken proxy event as "no
//! variant matched".

use aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::http::{HeaderMap, HeaderName, HeaderValue};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use base64::Engine;
use futures_util::StreamExt;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use tracing::Instrument;

use crate::capability::{
    Capability, Handler, Origin, Ports, Reply, dispatch, dispatch_json, parse_body,
};
use crate::config::Settings;
use crate::error::{Error, FieldProblem};
use crate::telemetry::{self, LogFormat};

/// Largest request body accepted (the inputs are short strings; 64 KiB is generous).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Records of one SQS batch answered at the same time, each within its own time budget. The
/// enrollment queue's batch size may not exceed it (a rule of `tests/tests/e2e/template.rs`), so a
/// whole batch takes about one budget, within the function's timeout; PingOne never sees more
/// than this many calls from one sandbox.
pub const MAX_CONCURRENT_RECORDS: usize = 10;

/// What `main` returns when init fails or the runtime stops.
pub type RuntimeError = lambda_runtime::Error;

/// Runs `handler` as a Lambda function: init once, then serve invocations until shutdown.
pub async fn run<H: Handler>(handler: H) -> Result<(), RuntimeError> {
    telemetry::init(LogFormat::Json);
    // Build the schema now so its patterns compile during init, not in the first call.
    let _ = <H::Input as crate::schema::Declared>::schema();
    let ports = Settings::from_env()?.ports().await?;
    let function = Function {
        capability: &handler,
        ports: &ports,
    };
    lambda_runtime::run(service_fn(|event| function.invoke(event))).await
}

/// One capability with its ports, answering Lambda events.
#[derive(Clone, Copy)]
pub struct Function<'a> {
    /// The capability this function serves.
    pub capability: &'a dyn Capability,
    /// Its ports.
    pub ports: &'a Ports,
}

/// The kinds of events a function answers, told apart by their keys.
enum Incoming {
    /// An API Gateway REST API proxy event (payload v1).
    Rest(Box<ApiGatewayProxyRequest>),
    /// An API Gateway HTTP API proxy event (payload v2).
    Http(Box<ApiGatewayV2httpRequest>),
    /// A proxy event that does not parse: answered as a proxy response of its version all the
    /// same.
    MalformedProxy { v2: bool, error: Error },
    /// A batch from an SQS event source mapping.
    Sqs(SqsEvent),
    /// An EventBridge event (a rule targeting the function).
    EventBridge(EventBridgeEvent),
    /// A bare `{"properties": …}` request, or anything else (validation names what is wrong).
    Direct(Value),
}

/// The keys that tell a proxy event from the others, read from the event's text. Everything
/// else is skipped, not built.
#[derive(Deserialize)]
struct ProxyKeys<'a> {
    #[serde(rename = "requestContext")]
    request_context: Option<serde::de::IgnoredAny>,
    #[serde(borrow)]
    version: Option<std::borrow::Cow<'a, str>>,
}

impl Incoming {
    /// Decodes the event as the runtime received it. A proxy event, what a function answers
    /// nearly always, is typed straight from its text: building a JSON tree of the whole API
    /// Gateway event first and then typing the tree was a third of a warm invocation's
    /// instructions (bench/ANALYSIS.md). The other kinds, and anything [`ProxyKeys`] cannot
    /// read, go through the tree as before.
    fn decode(event: &RawValue) -> Self {
        if let Ok(ProxyKeys {
            request_context: Some(_),
            version,
        }) = serde_json::from_str(event.get())
        {
            let v2 = version.as_deref() == Some("2.0");
            let malformed = |e: serde_json::Error| Incoming::malformed_proxy(v2, &e);
            return if v2 {
                serde_json::from_str(event.get())
                    .map_or_else(malformed, |e| Incoming::Http(Box::new(e)))
            } else {
                serde_json::from_str(event.get())
                    .map_or_else(malformed, |e| Incoming::Rest(Box::new(e)))
            };
        }
        // The runtime checked the text is JSON; a tree too deep to build is no request.
        Self::decode_tree(serde_json::from_str(event.get()).unwrap_or_default())
    }

    /// A proxy event that does not parse; serde's message without its position in the text,
    /// which means nothing to the caller.
    fn malformed_proxy(v2: bool, e: &serde_json::Error) -> Self {
        let message = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = message.strip_suffix(&suffix).unwrap_or(&message);
        Incoming::MalformedProxy {
            v2,
            error: Error::Validation(vec![FieldProblem::new(
                "event",
                format!("is not an API Gateway proxy event ({message})"),
            )]),
        }
    }

    /// Decodes an event from its JSON tree.
    fn decode_tree(payload: Value) -> Self {
        if payload.get("requestContext").is_some() {
            let v2 = payload.get("version").and_then(Value::as_str) == Some("2.0");
            let malformed = |e: serde_json::Error| Incoming::malformed_proxy(v2, &e);
            return if v2 {
                serde_json::from_value(payload)
                    .map_or_else(malformed, |e| Incoming::Http(Box::new(e)))
            } else {
                serde_json::from_value(payload)
                    .map_or_else(malformed, |e| Incoming::Rest(Box::new(e)))
            };
        }
        if is_sqs_event(&payload) {
            // A batch that does not parse is answered by `answer_batch` (it fails whole).
            return match serde_json::from_value(payload) {
                Ok(batch) => Incoming::Sqs(batch),
                Err(_) => Incoming::Sqs(SqsEvent::default()),
            };
        }
        if is_eventbridge_event(&payload) {
            return match EventBridgeEvent::deserialize(&payload) {
                Ok(event) => Incoming::EventBridge(event),
                // A field of another shape than EventBridge's (`time` not RFC 3339, say): the
                // detail is still the request.
                Err(_) => Incoming::Direct(request_of(payload)),
            };
        }
        Incoming::Direct(payload)
    }
}

/// What a function answers, by the kind of event.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// A REST API proxy response.
    Rest(Box<ApiGatewayProxyResponse>),
    /// An HTTP API (payload v2) response.
    Http(Box<ApiGatewayV2httpResponse>),
    /// The partial batch response of an SQS batch.
    Batch(SqsBatchResponse),
    /// The capability's output (a direct invocation or an EventBridge event).
    Output(Value),
}

impl<'a> Function<'a> {
    /// Answers one Lambda event.
    pub async fn invoke(self, event: LambdaEvent<Box<RawValue>>) -> Result<Answer, Diagnostic> {
        let correlation_id = event.context.request_id;
        let (request, origin) = match Incoming::decode(&event.payload) {
            Incoming::Rest(event) => {
                let reply = self
                    .answer_proxy(
                        event.http_method.as_str(),
                        event.body,
                        event.is_base64_encoded,
                        &correlation_id,
                        event.request_context.identity.source_ip.as_deref(),
                    )
                    .await;
                return Ok(rest_response(&reply, &correlation_id));
            }
            Incoming::Http(event) => {
                let reply = self
                    .answer_proxy(
                        event.request_context.http.method.as_str(),
                        event.body,
                        event.is_base64_encoded,
                        &correlation_id,
                        event.request_context.http.source_ip.as_deref(),
                    )
                    .await;
                return Ok(http_response(&reply, &correlation_id));
            }
            Incoming::MalformedProxy { v2, error } => {
                let reply = Reply::from_error(&error, &correlation_id);
                return Ok(match v2 {
                    true => http_response(&reply, &correlation_id),
                    false => rest_response(&reply, &correlation_id),
                });
            }
            Incoming::Sqs(batch) => return self.answer_batch(batch, &correlation_id).await,
            Incoming::EventBridge(event) => {
                // The event id stays the same across EventBridge's retries; it ties them together.
                tracing::info!(
                    eventId = event.id.as_deref().unwrap_or(""),
                    detailType = event.detail_type,
                    source = event.source,
                    "EventBridge event"
                );
                (event.detail, Origin::Event)
            }
            Incoming::Direct(request) => (request, Origin::Api),
        };
        let reply = dispatch_json(
            self.capability,
            self.ports,
            request,
            &correlation_id,
            origin,
        )
        .await;
        match reply.error_code {
            None => Ok(Answer::Output(reply.body)),
            Some(_) => Err(failed_invocation(&reply)),
        }
    }

    /// Answers an SQS batch with the partial batch response (see the module documentation).
    async fn answer_batch(
        self,
        batch: SqsEvent,
        correlation_id: &str,
    ) -> Result<Answer, Diagnostic> {
        let records: Option<Vec<(String, String)>> = batch
            .records
            .into_iter()
            .map(
                |SqsMessage {
                     message_id, body, ..
                 }| message_id.zip(body),
            )
            .collect();
        let Some(records) = records.filter(|records| !records.is_empty()) else {
            // Without every record's messageId no partial answer is possible: failing the
            // invocation makes SQS deliver the whole batch again (and dead-letter it in the end).
            // serde's message is left out: it could quote a body.
            let error = Error::Validation(vec![FieldProblem::new(
                "event",
                "is not an SQS event: every record needs a string messageId and body",
            )]);
            return Err(failed_invocation(&Reply::from_error(
                &error,
                correlation_id,
            )));
        };
        let mut answer = SqsBatchResponse::default();
        answer.batch_item_failures = futures_util::stream::iter(records)
            .map(|(message_id, body)| self.answer_record(message_id, body, correlation_id))
            .buffered(MAX_CONCURRENT_RECORDS)
            .filter_map(std::future::ready)
            .map(|message_id| {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                failure
            })
            .collect()
            .await;
        Ok(Answer::Batch(answer))
    }

    /// Answers one SQS record and logs its outcome (never its body: it holds phone numbers and
    /// e-mail addresses); returns its messageId when it did not succeed.
    async fn answer_record(
        self,
        message_id: String,
        body: String,
        correlation_id: &str,
    ) -> Option<String> {
        // Every line of this record's call carries its messageId (the batch shares a request id).
        let span =
            tracing::info_span!("record", requestId = correlation_id, messageId = %message_id);
        async move {
            let reply = match decode_body(Some(body), false).and_then(|bytes| parse_body(&bytes)) {
                Ok(request) => {
                    let request = request_of(request);
                    let (capability, ports) = (self.capability, self.ports);
                    dispatch_json(capability, ports, request, correlation_id, Origin::Event).await
                }
                Err(error) => Reply::from_error(&error, correlation_id),
            };
            let retryable = reply.status >= 500 || reply.status == 429;
            tracing::info!(
                messageId = %message_id,
                capability = self.capability.id(),
                outcome = reply.error_code.unwrap_or("OK"),
                retryable,
                correlationId = correlation_id,
                "record answered"
            );
            reply.error_code.map(|_| message_id)
        }
        .instrument(span)
        .await
    }

    async fn answer_proxy(
        self,
        method: &str,
        body: Option<String>,
        is_base64_encoded: bool,
        correlation_id: &str,
        source_ip: Option<&str>,
    ) -> Reply {
        if !method.eq_ignore_ascii_case("POST") {
            let error = Error::MethodNotAllowed(truncate_method(method));
            return Reply::from_error(&error, correlation_id);
        }
        let body = match decode_body(body, is_base64_encoded) {
            Ok(body) => body,
            Err(error) => return Reply::from_error(&error, correlation_id),
        };
        // API Gateway's own record of the connection; never `X-Forwarded-For`, which the
        // caller writes.
        let source_ip = source_ip.and_then(|ip| ip.parse().ok());
        dispatch(
            self.capability,
            self.ports,
            &body,
            correlation_id,
            source_ip,
        )
        .await
    }
}

/// The invocation error of a failed reply: `errorType` = the code, `errorMessage` = the body.
fn failed_invocation(reply: &Reply) -> Diagnostic {
    Diagnostic {
        error_type: reply.error_code.unwrap_or("INTERNAL").to_string(),
        error_message: reply.body.to_string(),
    }
}

/// Is `payload` an SQS event? Lambda sends non-empty batches from a single event source.
fn is_sqs_event(payload: &Value) -> bool {
    let first = payload
        .get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first());
    first
        .and_then(|record| record.get("eventSource"))
        .and_then(Value::as_str)
        == Some("aws:sqs")
}

/// Is `value` an EventBridge event? A capability request never has these keys.
fn is_eventbridge_event(value: &Value) -> bool {
    ["detail-type", "source", "detail"]
        .iter()
        .all(|key| value.get(key).is_some())
}

/// The request an SQS record carries: an EventBridge event's `detail`, else the body itself.
fn request_of(mut body: Value) -> Value {
    if is_eventbridge_event(&body) {
        return body["detail"].take();
    }
    body
}

fn truncate_method(method: &str) -> String {
    method.chars().take(16).collect()
}

/// The request body bytes, refusing oversize bodies before any parsing.
/// A proxy event's body as bytes, at most [`MAX_BODY_BYTES`] (checked before decoding).
pub fn decode_body(body: Option<String>, is_base64_encoded: bool) -> Result<Vec<u8>, Error> {
    let body = body.unwrap_or_default();
    // Base64 inflates by 4/3; check the encoded size first so we never decode a huge body.
    let encoded_limit = if is_base64_encoded {
        MAX_BODY_BYTES / 3 * 4 + 4
    } else {
        MAX_BODY_BYTES
    };
    if body.len() > encoded_limit {
        return Err(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    let bytes = if is_base64_encoded {
        base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .map_err(|_| {
                Error::Validation(vec![FieldProblem::new(
                    "body",
                    "is marked base64 but is not valid base64",
                )])
            })?
    } else {
        body.into_bytes()
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(bytes)
}

/// The reply's headers (content type, correlation id, `Retry-After`, …) as a header map. Every
/// value is ours (codes, numbers, ids), so none is refused; one that were would be left out
/// rather than fail the answer.
fn headers(reply: &Reply, correlation_id: &str) -> HeaderMap {
    reply
        .headers(correlation_id)
        .into_iter()
        .filter_map(|(name, value)| {
            Some((
                HeaderName::from_bytes(name.as_bytes()).ok()?,
                HeaderValue::from_str(&value).ok()?,
            ))
        })
        .collect()
}

/// The REST API (payload v1) proxy response.
fn rest_response(reply: &Reply, correlation_id: &str) -> Answer {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = reply.status.into();
    response.headers = headers(reply, correlation_id);
    response.body = Some(Body::Text(reply.body.to_string()));
    Answer::Rest(Box::new(response))
}

/// The HTTP API (payload v2) response.
fn http_response(reply: &Reply, correlation_id: &str) -> Answer {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = reply.status.into();
    response.headers = headers(reply, correlation_id);
    response.body = Some(Body::Text(reply.body.to_string()));
    Answer::Http(Box::new(response))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use super::*;
    use crate::BoxFuture;
    use crate::budget::Deadline;
    use crate::pingone::{PingOne, Request, Response};
    use crate::schema::{Documented, EMAIL_PATTERN};
    use crate::{Handler, Invocation};
    use serde_json::json;

    /// A user PingOne throttles, and one who already has the device being enrolled.
    const THROTTLED_USER: &str = "7a7a7a7a-0000-4000-8000-000000000429";
    const ENROLLED_USER: &str = "e0e0e0e0-0000-4000-8000-000000000409";

    /// An SQS batch of one record whose body is the HTTP route's request.
    const HTTP_BODY_RECORD: &str = r#"{"Records": [{
        "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a9HqGfWXh6Wxl6OYoVd3Dgc9Q2xy5Qt0jDTBqjq",
        "body": "{\"properties\":{\"userId\":\"b0b00000-0000-4000-8000-000000000002\",\"email\":\"bob@example.com\"}}",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767268800000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1767268800012"
        },
        "messageAttributes": {},
        "md5OfBody": "8c9a3e3bd0a5bd3e1a1ea4f2ec0d8c31",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue",
        "awsRegion": "us-east-1"
    }]}"#;

    /// An SQS batch of one record that an EventBridge rule delivered: the body is the event.
    const EVENTBRIDGE_RECORD: &str = r#"{"Records": [{
        "messageId": "2e1424d4-f796-459a-8184-9c92662be6da",
        "receiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq9lGfDmKh9aiVRb5qn3zG8gxlSVWq4Z2bVWbUO",
        "body": "{\"version\":\"0\",\"id\":\"6a7e8feb-b491-4cf7-a9f1-bf3703467718\",\"detail-type\":\"DeviceEnrollmentRequested\",\"source\":\"com.example.hr\",\"account\":\"123456789012\",\"time\":\"2026-01-01T12:00:00Z\",\"region\":\"us-east-1\",\"resources\":[],\"detail\":{\"properties\":{\"userId\":\"ca201000-0000-4000-8000-000000000003\",\"email\":\"carol@example.com\"}}}",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767268800000",
            "SenderId": "AIDAJXNJGGKNS7OSV23OI",
            "ApproximateFirstReceiveTimestamp": "1767268800009"
        },
        "messageAttributes": {},
        "md5OfBody": "3f1e8b2ed2e59b3a3b1c8a9a6f0f5a61",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue",
        "awsRegion": "us-east-1"
    }]}"#;

    /// An SQS batch of one record whose body is not JSON.
    const NOT_JSON_RECORD: &str = r#"{"Records": [{
        "messageId": "c80e8021-a70a-42c7-a470-796e1186f753",
        "receiptHandle": "AQEBJQ+/u6NsnT5t8Q/VbVxgdUl4TMKZ5FqhksRdIQvLBhwNvADoBxYSOVeCBXdnS9P+",
        "body": "enroll bob please",
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1767268800000",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "1767268800004"
        },
        "messageAttributes": {},
        "md5OfBody": "0c6d8b1f3a8e5e3c6e1f6c2b2d6b1a0e",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue",
        "awsRegion": "us-east-1"
    }]}"#;

    /// Five records: two enrollments (plain and EventBridge), a body that is not JSON, a user
    /// PingOne throttles (retryable) and a device the user already has (permanent).
    const MIXED_BATCH: &str = r#"{"Records": [
        {"messageId": "m-1-plain", "receiptHandle": "AQEB1", "md5OfBody": "a1",
         "body": "{\"properties\":{\"userId\":\"b0b00000-0000-4000-8000-000000000002\",\"email\":\"bob@example.com\"}}",
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767268800000", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1767268800001"},
         "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue", "awsRegion": "us-east-1"},
        {"messageId": "m-2-eventbridge", "receiptHandle": "AQEB2", "md5OfBody": "a2",
         "body": "{\"version\":\"0\",\"id\":\"0d9c1b6e-2f5a-4a57-9b8e-6e2b1f0b7c11\",\"detail-type\":\"DeviceEnrollmentRequested\",\"source\":\"com.example.hr\",\"account\":\"123456789012\",\"time\":\"2026-01-01T12:00:00Z\",\"region\":\"us-east-1\",\"resources\":[],\"detail\":{\"properties\":{\"userId\":\"ca201000-0000-4000-8000-000000000003\",\"email\":\"carol@example.com\"}}}",
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767268800000", "SenderId": "AIDAJXNJGGKNS7OSV23OI", "ApproximateFirstReceiveTimestamp": "1767268800001"},
         "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue", "awsRegion": "us-east-1"},
        {"messageId": "m-3-not-json", "receiptHandle": "AQEB3", "md5OfBody": "a3",
         "body": "<enroll user=\"bob\"/>",
         "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1767268800000", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1767268800001"},
         "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue", "awsRegion": "us-east-1"},
        {"messageId": "m-4-throttled", "receiptHandle": "AQEB4", "md5OfBody": "a4",
         "body": "{\"properties\":{\"userId\":\"7a7a7a7a-0000-4000-8000-000000000429\",\"email\":\"dave@example.com\"}}",
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767268800000", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1767268800001"},
         "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue", "awsRegion": "us-east-1"},
        {"messageId": "m-5-duplicate", "receiptHandle": "AQEB5", "md5OfBody": "a5",
         "body": "{\"properties\":{\"userId\":\"e0e0e0e0-0000-4000-8000-000000000409\",\"email\":\"erin@example.com\"}}",
         "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1767268800000", "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1767268800001"},
         "messageAttributes": {}, "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:EnrollmentQueue", "awsRegion": "us-east-1"}
    ]}"#;

    /// An EventBridge event as a rule targeting the function delivers it.
    const EVENTBRIDGE_EVENT: &str = r#"{
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "DeviceEnrollmentRequested",
        "source": "com.example.hr",
        "account": "123456789012",
        "time": "2026-01-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {"properties": {"userId": "b0b00000-0000-4000-8000-000000000002", "email": "bob@example.com"}}
    }"#;

    /// A capability like `createDevicePingID` for e-mail, small enough to read in a test.
    struct EnrollEmail;

    #[derive(Deserialize, crate::Input)]
    #[serde(rename_all = "camelCase")]
    struct EnrollEmailInput {
        #[field(id)]
        user_id: String,
        #[field(pattern = EMAIL_PATTERN)]
        email: String,
    }

    /// The created device as PingOne answered it.
    #[derive(serde::Serialize)]
    #[serde(transparent)]
    struct Created(Value);

    impl Documented for Created {
        fn json_schema() -> Value {
            json!({ "type": "object" })
        }
    }

    impl Handler for EnrollEmail {
        const ID: &'static str = "enrollEmail";
        const SUMMARY: &'static str = "Enrolls an email device (a test capability).";
        type Input = EnrollEmailInput;
        type Output = Created;

        async fn handle(
            &self,
            invocation: &Invocation<'_>,
            input: EnrollEmailInput,
        ) -> Result<Created, Error> {
            let body = json!({ "type": "EMAIL", "email": input.email });
            let created = invocation
                .pingone()
                .create_device(&input.user_id, body)
                .await?;
            Ok(Created(created.body))
        }
    }

    /// PingOne as these tests need it: it throttles one user, refuses a duplicate for another,
    /// and creates the device for anyone else. It keeps the path of every request it got.
    #[derive(Default)]
    struct Directory {
        paths: Mutex<Vec<String>>,
    }

    impl PingOne for Directory {
        fn send(&self, request: Request, _: Deadline) -> BoxFuture<'_, Result<Response, Error>> {
            Box::pin(async move {
                self.paths.lock().unwrap().push(request.path.clone());
                if request.path.contains(THROTTLED_USER) {
                    return Err(Error::RateLimited {
                        retry_after_seconds: Some(2),
                    });
                }
                if request.path.contains(ENROLLED_USER) {
                    return Err(Error::Rejected {
                        message: "The user already has this device.".into(),
                        details: vec![FieldProblem::new("email", "NOT_UNIQUE")],
                        ping_one_error_id: None,
                    });
                }
                let body = request.body.unwrap_or_default();
                Ok(Response::new(
                    201,
                    json!({ "id": "d0000000-0000-4000-8000-0000000000e1",
                        "type": "EMAIL", "email": body["email"], "status": "ACTIVATION_REQUIRED" }),
                ))
            })
        }
    }

    /// Invokes the e-mail enrollment with `payload`; returns the answer and PingOne's requests.
    async fn invoke(payload: &str) -> (Result<Value, Diagnostic>, Vec<String>) {
        let directory = Arc::new(Directory::default());
        let ports = Ports {
            pingone: directory.clone(),
            budget: Duration::from_secs(5),
            legacy: None,
            allow_active_from_events: false,
            allow_test_mode: false,
            limits: crate::limits::UserLimits::in_memory(Default::default()),
            one_time_destinations: Default::default(),
            policies: None,
            journeys: None,
        };
        let function = Function {
            capability: &EnrollEmail,
            ports: &ports,
        };
        let mut context = lambda_runtime::Context::default();
        context.request_id = "req-7".into();
        let payload = serde_json::from_str(payload).expect("fixtures are JSON");
        let answer = function
            .invoke(LambdaEvent::new(payload, context))
            .await
            .map(|answer| serde_json::to_value(answer).expect("answers serialize"));
        let paths = directory.paths.lock().unwrap().clone();
        (answer, paths)
    }

    #[tokio::test]
    async fn an_sqs_record_is_dispatched_whether_it_holds_the_http_body_or_an_eventbridge_event() {
        // Given a record whose body is the HTTP route's request (bob's), and one whose body is an
        // EventBridge event (carol's in its detail)
        let cases = [
            (HTTP_BODY_RECORD, "b0b00000-0000-4000-8000-000000000002"),
            (EVENTBRIDGE_RECORD, "ca201000-0000-4000-8000-000000000003"),
        ];
        for (batch, user) in cases {
            // when each batch is invoked
            let (answer, paths) = invoke(batch).await;
            // then PingOne enrolls the user's device and no record is reported failed.
            assert_eq!(answer.unwrap(), json!({ "batchItemFailures": [] }));
            assert_eq!(paths, [format!("users/{user}/devices")]);
        }
    }

    #[tokio::test]
    async fn an_sqs_record_that_is_not_json_is_reported_without_calling_pingone() {
        let (answer, paths) = invoke(NOT_JSON_RECORD).await;
        assert_eq!(
            answer.unwrap(),
            json!({ "batchItemFailures": [
                { "itemIdentifier": "c80e8021-a70a-42c7-a470-796e1186f753" }
            ] })
        );
        assert!(paths.is_empty(), "{paths:?}");
    }

    #[tokio::test]
    async fn a_mixed_batch_reports_every_record_that_did_not_succeed_retryable_or_not() {
        // Given two good enrollments, a body that is not JSON, a throttled user (retryable)
        // and a duplicate device (permanent); when the batch is invoked
        let (answer, paths) = invoke(MIXED_BATCH).await;
        // then exactly the three failures are named, in batch order, so SQS retries the
        // throttled one and, after maxReceiveCount, dead-letters the ones that never succeed.
        assert_eq!(
            answer.unwrap(),
            json!({ "batchItemFailures": [
                { "itemIdentifier": "m-3-not-json" },
                { "itemIdentifier": "m-4-throttled" },
                { "itemIdentifier": "m-5-duplicate" }
            ] })
        );
        assert_eq!(
            paths.len(),
            4,
            "every JSON record reached PingOne: {paths:?}"
        );
    }

    #[tokio::test]
    async fn an_sqs_event_without_message_ids_fails_the_whole_invocation() {
        // Given records that cannot be named in a partial answer
        let event = r#"{"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}"#;
        // then the invocation fails, so SQS delivers the whole batch again.
        let (answer, paths) = invoke(event).await;
        let error = answer.unwrap_err();
        assert_eq!(error.error_type, "VALIDATION_FAILED");
        assert!(paths.is_empty());
    }

    #[tokio::test]
    async fn a_direct_eventbridge_event_answers_its_output_or_fails_the_invocation() {
        // Given an EventBridge event whose detail enrolls bob: the output comes back
        let (answer, _) = invoke(EVENTBRIDGE_EVENT).await;
        assert_eq!(answer.unwrap()["status"], "ACTIVATION_REQUIRED");
        // Given one for a device the user already has: a function error, so EventBridge's retry
        // policy and dead-letter queue take over.
        let duplicate =
            EVENTBRIDGE_EVENT.replace("b0b00000-0000-4000-8000-000000000002", ENROLLED_USER);
        let error = invoke(&duplicate).await.0.unwrap_err();
        assert_eq!(error.error_type, "VALIDATION_FAILED");
        let body: Value = serde_json::from_str(&error.error_message).unwrap();
        assert_eq!(body["correlationId"], "req-7");
    }

    #[tokio::test]
    async fn a_direct_invocation_still_answers_the_bare_request() {
        let request = r#"{"properties": {"userId": "b0b00000-0000-4000-8000-000000000002", "email": "bob@example.com"}}"#;
        let (answer, _) = invoke(request).await;
        assert_eq!(answer.unwrap()["email"], "bob@example.com");
    }

    #[test]
    fn oversize_bodies_are_refused_before_decoding() {
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        assert!(matches!(
            decode_body(Some(big), false),
            Err(Error::PayloadTooLarge { .. })
        ));
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(vec![b'x'; MAX_BODY_BYTES + 1]);
        assert!(matches!(
            decode_body(Some(encoded), true),
            Err(Error::PayloadTooLarge { .. })
        ));
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let encoded = base64::engine::general_purpose::STANDARD.encode(br#"{"properties":{}}"#);
        assert_eq!(
            decode_body(Some(encoded), true).unwrap(),
            br#"{"properties":{}}"#
        );
        assert_eq!(
            decode_body(Some("%%%".into()), true).unwrap_err().code(),
            "VALIDATION_FAILED"
        );
        assert_eq!(decode_body(None, false).unwrap(), b"");
    }

    /// An event file of the repository's `events/` folder.
    fn event_file(name: &str) -> Box<RawValue> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../events")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("the events/ fixture exists");
        serde_json::from_str(&text).expect("events/ fixtures are JSON")
    }

    fn raw(value: Value) -> Box<RawValue> {
        serde_json::value::to_raw_value(&value).expect("a tree is JSON")
    }

    #[test]
    fn events_of_every_kind_are_told_apart_and_typed() {
        let Incoming::Rest(rest) =
            Incoming::decode(&event_file("read-all-devices-pingid.rest.json"))
        else {
            panic!("a REST API event")
        };
        assert_eq!(rest.http_method, "POST");
        assert!(rest.body.unwrap().starts_with("{"));
        let Incoming::Http(http) =
            Incoming::decode(&event_file("read-all-devices-pingid.http.json"))
        else {
            panic!("an HTTP API event")
        };
        assert_eq!(http.request_context.http.method, "POST");
        assert!(matches!(
            Incoming::decode(&event_file("create-device-pingid.sqs.json")),
            Incoming::Sqs(batch) if !batch.records.is_empty()
        ));
        assert!(matches!(
            Incoming::decode(&event_file("create-device-pingid.eventbridge.json")),
            Incoming::EventBridge(event) if event.detail.get("properties").is_some()
        ));
        assert!(matches!(
            Incoming::decode(&event_file("read-all-devices-pingid.direct.json")),
            Incoming::Direct(request) if request.get("properties").is_some()
        ));
    }

    #[test]
    fn a_proxy_event_that_does_not_parse_is_answered_in_its_own_version() {
        let broken_v2 = json!({"version": "2.0", "requestContext": {"http": {}}});
        let Incoming::MalformedProxy { v2: true, error } = Incoming::decode(&raw(broken_v2)) else {
            panic!("a malformed v2 event")
        };
        assert_eq!(error.code(), "VALIDATION_FAILED");
        // Typed from the event's text, but serde's position in that text is not the caller's.
        let message = format!("{error:?}");
        assert!(
            message.contains("is not an API Gateway proxy event"),
            "{message}"
        );
        assert!(!message.contains(" at line "), "{message}");
        let broken_v1 = json!({"requestContext": {}});
        assert!(matches!(
            Incoming::decode(&raw(broken_v1)),
            Incoming::MalformedProxy { v2: false, .. }
        ));
    }

    #[test]
    fn proxy_responses_carry_status_headers_and_a_json_body() {
        let reply = Reply::from_error(
            &Error::RateLimited {
                retry_after_seconds: Some(2),
            },
            "req-9",
        );
        let response = serde_json::to_value(rest_response(&reply, "req-9")).unwrap();
        assert_eq!(response["statusCode"], 429);
        assert_eq!(response["headers"]["retry-after"], "2");
        assert_eq!(response["headers"]["x-correlation-id"], "req-9");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["code"], "RATE_LIMITED");
    }
}
