//! The Lambda adapter: one binary per capability answers three kinds of events.
//!
//! - API Gateway REST API (payload v1) and HTTP API (payload v2) proxy events: the body is the
//!   request `{"properties": …}`; the answer is a proxy response with the output or the error
//!   body and the matching status.
//! - Direct invocation with the bare `{"properties": …}` object: the answer is the output
//!   object; a failure fails the invocation with `errorType` = the stable code and
//!   `errorMessage` = the error body as JSON text.
//!
//! We decode the two proxy shapes ourselves (a few fields) rather than through `lambda_http`,
//! so one binary serves all three kinds with no extra dependency tree.

use base64::Engine;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::capability::{Capability, Handler, Ports, Reply, dispatch, dispatch_json};
use crate::config::Settings;
use crate::error::Error;
use crate::telemetry::{self, LogFormat};

/// Largest request body accepted (the inputs are short strings; 64 KiB is generous).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What `main` returns when init fails or the runtime stops.
pub type RuntimeError = lambda_runtime::Error;

/// Runs `handler` as a Lambda function: init once, then serve invocations until shutdown.
pub async fn run<H: Handler>(handler: H) -> Result<(), RuntimeError> {
    telemetry::init(LogFormat::Json);
    // Build the schema now so its patterns compile during init, not in the first call.
    let _ = H::schema();
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

/// An API Gateway REST API (payload v1) proxy event, as far as we read it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RestEvent {
    http_method: String,
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

/// An API Gateway HTTP API (payload v2) proxy event, as far as we read it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpEvent {
    request_context: HttpRequestContext,
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

#[derive(Deserialize)]
struct HttpRequestContext {
    http: HttpDescription,
}

#[derive(Deserialize)]
struct HttpDescription {
    method: String,
}

/// A proxy request reduced to what a capability route needs.
#[derive(Debug)]
struct ProxyRequest {
    method: String,
    body: Option<String>,
    is_base64_encoded: bool,
}

impl<'a> Function<'a> {
    /// Answers one Lambda event.
    pub async fn invoke(self, event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
        let correlation_id = event.context.request_id;
        let payload = event.payload;
        if payload.get("requestContext").is_some() {
            let reply = match parse_proxy(payload) {
                Ok(request) => self.answer_proxy(request, &correlation_id).await,
                Err(error) => Reply::from_error(&error, &correlation_id),
            };
            return Ok(proxy_response(&reply, &correlation_id));
        }
        let reply = dispatch_json(self.capability, self.ports, payload, &correlation_id).await;
        match reply.error_code {
            None => Ok(reply.body),
            Some(code) => Err(Diagnostic {
                error_type: code.to_string(),
                error_message: reply.body.to_string(),
            }),
        }
    }

    async fn answer_proxy(self, request: ProxyRequest, correlation_id: &str) -> Reply {
        if !request.method.eq_ignore_ascii_case("POST") {
            let error = Error::MethodNotAllowed(truncate_method(&request.method));
            return Reply::from_error(&error, correlation_id);
        }
        let body = match decode_body(request.body, request.is_base64_encoded) {
            Ok(body) => body,
            Err(error) => return Reply::from_error(&error, correlation_id),
        };
        dispatch(self.capability, self.ports, &body, correlation_id).await
    }
}

fn parse_proxy(payload: Value) -> Result<ProxyRequest, Error> {
    let malformed = |e: serde_json::Error| {
        Error::Validation(vec![crate::error::FieldProblem::new(
            "event",
            format!("is not an API Gateway proxy event ({e})"),
        )])
    };
    if payload.get("version").and_then(Value::as_str) == Some("2.0") {
        let event: HttpEvent = serde_json::from_value(payload).map_err(malformed)?;
        Ok(ProxyRequest {
            method: event.request_context.http.method,
            body: event.body,
            is_base64_encoded: event.is_base64_encoded,
        })
    } else {
        let event: RestEvent = serde_json::from_value(payload).map_err(malformed)?;
        Ok(ProxyRequest {
            method: event.http_method,
            body: event.body,
            is_base64_encoded: event.is_base64_encoded,
        })
    }
}

fn truncate_method(method: &str) -> String {
    method.chars().take(16).collect()
}

/// The request body bytes, refusing oversize bodies before any parsing.
fn decode_body(body: Option<String>, is_base64_encoded: bool) -> Result<Vec<u8>, Error> {
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
                Error::Validation(vec![crate::error::FieldProblem::new(
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

/// The proxy response (same shape for REST v1 and HTTP v2).
fn proxy_response(reply: &Reply, correlation_id: &str) -> Value {
    let headers: serde_json::Map<String, Value> = reply
        .headers(correlation_id)
        .into_iter()
        .map(|(name, value)| (name.to_string(), Value::String(value)))
        .collect();
    json!({
        "statusCode": reply.status,
        "headers": headers,
        "body": reply.body.to_string(),
        "isBase64Encoded": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn proxy_events_of_both_versions_are_read() {
        let rest = json!({"httpMethod": "POST", "requestContext": {}, "body": "{}", "isBase64Encoded": false});
        let rest = parse_proxy(rest).unwrap();
        assert_eq!(
            (rest.method.as_str(), rest.body.as_deref()),
            ("POST", Some("{}"))
        );
        let http = json!({"version": "2.0", "requestContext": {"http": {"method": "GET"}}});
        let http = parse_proxy(http).unwrap();
        assert_eq!((http.method.as_str(), http.body), ("GET", None));
        let neither = json!({"requestContext": {}});
        assert_eq!(
            parse_proxy(neither).unwrap_err().code(),
            "VALIDATION_FAILED"
        );
    }

    #[test]
    fn proxy_responses_carry_status_headers_and_a_json_body() {
        let reply = Reply::from_error(
            &Error::RateLimited {
                retry_after_seconds: Some(2),
            },
            "req-9",
        );
        let response = proxy_response(&reply, "req-9");
        assert_eq!(response["statusCode"], 429);
        assert_eq!(response["headers"]["retry-after"], "2");
        assert_eq!(response["headers"]["x-correlation-id"], "req-9");
        let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["code"], "RATE_LIMITED");
    }
}
