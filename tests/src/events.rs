//! API Gateway proxy events and responses, and the fixtures in `events/`.
//!
//! The builders produce the events API Gateway really sends (full `requestContext`, both
//! header maps for REST), so functions are tested against what they will see in AWS.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};

/// The id used by fixtures that act on a live resource (a device authentication, an enrolled
/// device, a pairing key); tests replace it (see [`replace_in_strings`]) with an id the
/// simulator just issued.
pub const PLACEHOLDER_LIVE_ID: &str = "d0000000-0000-4000-8000-00000000da01";

/// The `otp` used by fixtures that submit the passcode of a live authentication or pairing; tests replace
/// it with the one the simulator delivered. Letters, not digits, so that it never matches part
/// of a UUID (replacement works on substrings).
pub const PLACEHOLDER_OTP: &str = "PASSCODE";

/// The API id, account and stage that appear in generated events.
const API_ID: &str = "a1b2c3d4e5";
const ACCOUNT_ID: &str = "123456789012";
const REGION: &str = "us-east-1";
/// REST API stage, as in `template.yaml`.
const REST_STAGE: &str = "Prod";
/// Client address in generated events (TEST-NET-3, reserved for documentation).
const SOURCE_IP: &str = "203.0.113.10";
const USER_AGENT: &str = "pingid-e2e/1.0";

/// An HTTP request to turn into an API Gateway proxy event.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    method: String,
    path: String,
    body: Option<String>,
    headers: Vec<(String, String)>,
}

impl ApiRequest {
    /// `POST path` with `body` serialised as JSON.
    pub fn post_json(path: &str, body: &Value) -> Self {
        Self {
            method: "POST".to_owned(),
            path: path.to_owned(),
            body: Some(body.to_string()),
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
        }
    }

    /// `GET path` without a body.
    pub fn get(path: &str) -> Self {
        Self {
            method: "GET".to_owned(),
            path: path.to_owned(),
            body: None,
            headers: Vec::new(),
        }
    }

    /// Replaces the body with `body` verbatim (e.g. malformed JSON).
    pub fn raw_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Adds a header, replacing any header of the same name (case-insensitively).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds each of `headers` (see [`ApiRequest::header`]).
    pub fn headers(self, headers: &[(&str, &str)]) -> Self {
        headers
            .iter()
            .fold(self, |request, (name, value)| request.header(name, value))
    }

    /// The request as an API Gateway REST API (payload format 1.0) proxy event, sent through a
    /// resource with exactly this path on the `Prod` stage.
    pub fn rest_event(&self) -> Value {
        let now = now_millis();
        let request_id = uuid::Uuid::new_v4().to_string();
        let headers = self.all_headers(false);
        let single: Map<String, Value> = headers
            .iter()
            .map(|(name, value)| (name.clone(), json!(value)))
            .collect();
        let multi: Map<String, Value> = headers
            .iter()
            .map(|(name, value)| (name.clone(), json!([value])))
            .collect();
        json!({
            "resource": self.path,
            "path": self.path,
            "httpMethod": self.method,
            "headers": single,
            "multiValueHeaders": multi,
            "queryStringParameters": null,
            "multiValueQueryStringParameters": null,
            "pathParameters": null,
            "stageVariables": null,
            "requestContext": {
                "resourceId": "a1b2c3",
                "resourcePath": self.path,
                "httpMethod": self.method,
                "extendedRequestId": "Yx2ZbF5IoAMEbzQ=",
                "requestTime": clf_time(now),
                "path": format!("/{REST_STAGE}{}", self.path),
                "accountId": ACCOUNT_ID,
                "protocol": "HTTP/1.1",
                "stage": REST_STAGE,
                "domainPrefix": API_ID,
                "requestTimeEpoch": now,
                "requestId": request_id,
                "identity": {
                    "cognitoIdentityPoolId": null,
                    "accountId": null,
                    "cognitoIdentityId": null,
                    "caller": null,
                    "sourceIp": SOURCE_IP,
                    "principalOrgId": null,
                    "accessKey": null,
                    "cognitoAuthenticationType": null,
                    "cognitoAuthenticationProvider": null,
                    "userArn": null,
                    "userAgent": USER_AGENT,
                    "user": null
                },
                "domainName": domain_name(),
                "apiId": API_ID
            },
            "body": self.body,
            "isBase64Encoded": false
        })
    }

    /// The request as an API Gateway HTTP API (payload format 2.0) proxy event on the
    /// `$default` stage.
    pub fn http_event(&self) -> Value {
        let now = now_millis();
        let route_key = format!("{} {}", self.method, self.path);
        // HTTP APIs lower-case header names and join repeated values with commas.
        let headers: Map<String, Value> = self
            .all_headers(true)
            .into_iter()
            .map(|(name, value)| (name, json!(value)))
            .collect();
        json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "domainName": domain_name(),
                "domainPrefix": API_ID,
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": SOURCE_IP,
                    "userAgent": USER_AGENT
                },
                "requestId": "Yx2ZbF5IoAMEbzQ=",
                "routeKey": route_key,
                "stage": "$default",
                "time": clf_time(now),
                "timeEpoch": now
            },
            "body": self.body,
            "isBase64Encoded": false
        })
    }

    /// The caller's headers plus the ones API Gateway adds, callers' taking precedence.
    fn all_headers(&self, lowercase: bool) -> BTreeMap<String, String> {
        let gateway_headers = [
            ("Host", domain_name()),
            ("User-Agent", USER_AGENT.to_owned()),
            (
                "X-Amzn-Trace-Id",
                format!(
                    "Root=1-{:08x}-{}",
                    now_millis() / 1000,
                    &uuid::Uuid::new_v4().simple().to_string()[..24]
                ),
            ),
            ("X-Forwarded-For", SOURCE_IP.to_owned()),
            ("X-Forwarded-Port", "443".to_owned()),
            ("X-Forwarded-Proto", "https".to_owned()),
        ];
        let mut headers = BTreeMap::new();
        let caller_headers = self
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone()));
        for (name, value) in gateway_headers.into_iter().chain(caller_headers) {
            let name = if lowercase {
                name.to_ascii_lowercase()
            } else {
                name.to_owned()
            };
            headers.retain(|existing: &String, _| !existing.eq_ignore_ascii_case(&name));
            headers.insert(name, value);
        }
        headers
    }
}

/// `POST path` with a JSON `body` as an API Gateway REST API (v1) proxy event.
pub fn apigw_v1_event(path: &str, body: &Value, headers: &[(&str, &str)]) -> Value {
    ApiRequest::post_json(path, body)
        .headers(headers)
        .rest_event()
}

/// `POST path` with a JSON `body` as an API Gateway HTTP API (v2) proxy event.
pub fn apigw_v2_event(path: &str, body: &Value, headers: &[(&str, &str)]) -> Value {
    ApiRequest::post_json(path, body)
        .headers(headers)
        .http_event()
}

/// The fixture `events/<file>`, parsed. Panics with the path on a missing or invalid file:
/// fixtures are part of the test, not input.
pub fn load_event(file: &str) -> Value {
    let path = events_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading event fixture {}: {error}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("parsing event fixture {}: {error}", path.display()))
}

/// The `events/` directory of the repository.
pub fn events_dir() -> PathBuf {
    crate::workspace_root().join("events")
}

/// Replaces `from` with `to` in every string of `value`, including JSON encoded in strings
/// (such as a proxy event's `body`), e.g. to put a live id in place of
/// [`PLACEHOLDER_LIVE_ID`].
pub fn replace_in_strings(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(text) if text.contains(from) => *text = text.replace(from, to),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_in_strings(item, from, to)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|field| replace_in_strings(field, from, to)),
        _ => {}
    }
}

/// An API Gateway proxy response (`statusCode`, `headers`, `body`), as v1 and v2 both accept.
#[derive(Debug, Clone, PartialEq)]
pub struct ProxyResponse {
    /// `statusCode`.
    pub status: u16,
    /// `headers`, with lower-cased names.
    pub headers: BTreeMap<String, String>,
    /// `body`, as sent (a JSON document for our functions); empty if absent.
    pub body: String,
}

impl ProxyResponse {
    /// Reads a proxy response object returned by a function.
    pub fn from_value(value: &Value) -> anyhow::Result<Self> {
        let status = value
            .get("statusCode")
            .and_then(Value::as_u64)
            .and_then(|status| u16::try_from(status).ok())
            .with_context(|| format!("no numeric statusCode in proxy response {value}"))?;
        if value.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) {
            bail!("unexpected base64-encoded proxy response {value}");
        }
        let headers = value
            .get("headers")
            .and_then(Value::as_object)
            .map(|headers| {
                headers
                    .iter()
                    .map(|(name, value)| {
                        let value = value
                            .as_str()
                            .map_or_else(|| value.to_string(), str::to_owned);
                        (name.to_ascii_lowercase(), value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = match value.get("body") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(body)) => body.clone(),
            Some(other) => bail!("proxy response body is not a string: {other}"),
        };
        Ok(Self {
            status,
            headers,
            body,
        })
    }

    /// The header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_str(&self.body)
            .with_context(|| format!("proxy response body is not JSON: {}", self.body))
    }
}

/// `<api id>.execute-api.<region>.amazonaws.com`.
fn domain_name() -> String {
    format!("{API_ID}.execute-api.{REGION}.amazonaws.com")
}

/// Milliseconds since the Unix epoch.
fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// A time in API Gateway's Common Log Format, e.g. `09/Apr/2015:12:34:56 +0000`.
fn clf_time(epoch_millis: u64) -> String {
    let time = UNIX_EPOCH + std::time::Duration::from_millis(epoch_millis);
    // httpdate gives "Thu, 09 Apr 2015 12:34:56 GMT"; the fields are the same, reordered.
    let http_date = httpdate::fmt_http_date(time);
    match http_date.split(' ').collect::<Vec<_>>().as_slice() {
        [_, day, month, year, clock, _] => format!("{day}/{month}/{year}:{clock} +0000"),
        _ => http_date,
    }
}
