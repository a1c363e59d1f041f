//! AWS, as far as the functions need it: Secrets Manager's `GetSecretValue` and DynamoDB's
//! `PutItem` and `GetItem` (the legacy single-use record). Both services speak AWS's JSON
//! protocol: a `POST /` of a JSON document, the operation named in `X-Amz-Target`, signed with
//! Signature Version 4.
//!
//! Why not the AWS SDK: at every cold start `aws-config` loaded its configuration and building
//! an SDK client parsed the SDK's endpoint-partitions JSON. That was about 0.8 ms of the 2 ms our
//! init took beyond the bare `lambda_runtime` floor, and the SDK crates made up several MiB of
//! every binary (`bench/ANALYSIS.md`). Signing stays with `aws-sigv4`, the SDK's own signer.
//! What is ours is the envelope (endpoint, headers, the error's type): the tests check it
//! against moto, and against a stand-in that verifies the signature of the request as it
//! arrived.
//!
//! Configuration is the environment, as Lambda sets it for the execution role:
//!
//! | variable | meaning |
//! |---|---|
//! | `AWS_REGION`, else `AWS_DEFAULT_REGION` | the region of the secrets and the table |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | the credentials |
//! | `AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_DYNAMODB`, then `AWS_ENDPOINT_URL` | another endpoint (moto, a VPC endpoint's name); the SDK's variables |
//!
//! [I] There are no profiles, SSO, container or instance-metadata credentials. A function runs
//! in Lambda (`provided.al2023`, which has no SnapStart). There the execution role's
//! credentials are in the environment for the life of the sandbox. Locally, a function runs
//! against moto or a secrets file.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_smithy_runtime_api::client::identity::Identity;
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::secrets::Secret;

/// Cap of one attempt. The invocation's deadline ends the whole capability earlier; this bounds
/// a call made outside one.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of one call when AWS throttles, fails (5xx) or cannot be connected to, as the SDK's
/// standard retry mode.
const MAX_ATTEMPTS: u32 = 3;
/// Backoff before the second attempt, doubled before the third, with full jitter.
const BACKOFF: Duration = Duration::from_millis(25);

/// The AWS services the functions call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServiceId {
    SecretsManager,
    DynamoDb,
}

/// One AWS service spoken in the JSON protocol.
#[derive(Debug)]
pub struct Service {
    id: ServiceId,
    /// The name in messages.
    pub name: &'static str,
    /// SigV4's service name (the credential scope).
    signing_name: &'static str,
    /// The first label of the service's host name.
    endpoint_prefix: &'static str,
    /// The variable naming another endpoint for this service only.
    endpoint_variable: &'static str,
    /// `X-Amz-Target` is `<prefix>.<operation>`.
    target_prefix: &'static str,
    /// The protocol version, in the content type.
    content_type: &'static str,
}

/// AWS Secrets Manager.
pub static SECRETS_MANAGER: Service = Service {
    id: ServiceId::SecretsManager,
    name: "Secrets Manager",
    signing_name: "secretsmanager",
    endpoint_prefix: "secretsmanager",
    endpoint_variable: "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    target_prefix: "secretsmanager",
    content_type: "application/x-amz-json-1.1",
};

/// Amazon DynamoDB.
pub static DYNAMODB: Service = Service {
    id: ServiceId::DynamoDb,
    name: "DynamoDB",
    signing_name: "dynamodb",
    endpoint_prefix: "dynamodb",
    endpoint_variable: "AWS_ENDPOINT_URL_DYNAMODB",
    target_prefix: "DynamoDB_20120810",
    content_type: "application/x-amz-json-1.0",
};

/// The AWS variables of the environment (the table above), read at init with the rest of the
/// settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Option<Secret<String>>,
    /// `AWS_SESSION_TOKEN` (always set in Lambda: the role's credentials are temporary).
    pub session_token: Option<Secret<String>>,
    /// `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    pub secrets_manager_endpoint_url: Option<String>,
    /// `AWS_ENDPOINT_URL_DYNAMODB`.
    pub dynamodb_endpoint_url: Option<String>,
}

impl AwsSettings {
    /// Reads the variables through `lookup` (which treats blank values as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            region: lookup("AWS_REGION").or_else(|| lookup("AWS_DEFAULT_REGION")),
            access_key_id: lookup("AWS_ACCESS_KEY_ID"),
            secret_access_key: lookup("AWS_SECRET_ACCESS_KEY").map(Secret::new),
            session_token: lookup("AWS_SESSION_TOKEN").map(Secret::new),
            endpoint_url: lookup("AWS_ENDPOINT_URL"),
            secrets_manager_endpoint_url: lookup(SECRETS_MANAGER.endpoint_variable),
            dynamodb_endpoint_url: lookup(DYNAMODB.endpoint_variable),
        }
    }

    /// Where `service` is called: its own variable, then `AWS_ENDPOINT_URL`, then AWS's public
    /// endpoint in `region`.
    fn endpoint(&self, service: &Service, region: &str) -> String {
        let own = match service.id {
            ServiceId::SecretsManager => &self.secrets_manager_endpoint_url,
            ServiceId::DynamoDb => &self.dynamodb_endpoint_url,
        };
        match own.as_ref().or(self.endpoint_url.as_ref()) {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!(
                "https://{}.{region}.{}",
                service.endpoint_prefix,
                dns_suffix(region)
            ),
        }
    }
}

/// The DNS suffix of `region`'s partition. [I] From AWS's published partitions: China, the
/// isolated regions and the European Sovereign Cloud have their own suffixes; every other
/// region (commercial and GovCloud) uses `amazonaws.com`. FIPS and dual-stack endpoints are
/// reached by naming them in `AWS_ENDPOINT_URL_*`.
fn dns_suffix(region: &str) -> &'static str {
    const PARTITIONS: [(&str, &str); 6] = [
        ("cn-", "amazonaws.com.cn"),
        ("us-isob-", "sc2s.sgov.gov"),
        ("us-isof-", "csp.hci.ic.gov"),
        ("us-iso-", "c2s.ic.gov"),
        ("eu-isoe-", "cloud.adc-e.uk"),
        ("eusc-", "amazonaws.eu"),
    ];
    PARTITIONS
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("amazonaws.com", |(_, suffix)| suffix)
}

/// Why an AWS call failed. Messages carry the service, the status and AWS's error type, never
/// a request or response body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    /// AWS answered with an error.
    #[error("{service} answered {status} {code}")]
    Service {
        /// The service's name.
        service: &'static str,
        /// The HTTP status.
        status: u16,
        /// AWS's error type, e.g. `ResourceNotFoundException`.
        code: String,
    },
    /// No connection could be made: nothing reached AWS.
    #[error("{service} could not be reached: {reason}")]
    Unreachable {
        /// The service's name.
        service: &'static str,
        /// A short reason.
        reason: String,
    },
    /// No usable answer: the attempt timed out or failed midway, or the answer could not be
    /// read.
    #[error("{service} gave no usable answer: {reason}")]
    Transport {
        /// The service's name.
        service: &'static str,
        /// A short reason.
        reason: String,
    },
}

impl AwsError {
    /// AWS's error type, when AWS answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            Self::Unreachable { .. } | Self::Transport { .. } => None,
        }
    }

    /// Whether another attempt may succeed: throttling, a server error, or a connection that
    /// was never made. Not a timeout or a broken exchange: the attempt may have been carried
    /// out, and a timeout's time is spent.
    fn is_retryable(&self) -> bool {
        match self {
            Self::Service { status, code, .. } => {
                *status >= 500
                    || *status == 429
                    || matches!(
                        code.as_str(),
                        "ThrottlingException"
                            | "Throttling"
                            | "TooManyRequestsException"
                            | "RequestLimitExceeded"
                            | "ProvisionedThroughputExceededException"
                    )
            }
            Self::Unreachable { .. } => true,
            Self::Transport { .. } => false,
        }
    }
}

/// A client of one service in one region, with the environment's credentials. Build it once
/// per process.
#[derive(Debug)]
pub struct AwsClient {
    http: reqwest::Client,
    service: &'static Service,
    /// The endpoint with the path `/`, as signed and as sent.
    url: String,
    region: String,
    identity: Identity,
}

impl AwsClient {
    /// A client of `service` over `http` (the process's HTTPS stack, [`crate::http`]).
    ///
    /// # Errors
    /// [`Error::ConfigUnavailable`] when the region or the credentials are missing, or the
    /// endpoint is not an http(s) URL.
    pub fn new(
        settings: &AwsSettings,
        service: &'static Service,
        http: reqwest::Client,
    ) -> Result<Self, Error> {
        let missing = |what: &str| {
            Error::ConfigUnavailable(format!(
                "{what} must be set to call {} (Lambda sets it)",
                service.name
            ))
        };
        let region = settings
            .region
            .clone()
            .ok_or_else(|| missing("AWS_REGION"))?;
        let access_key_id = settings
            .access_key_id
            .clone()
            .ok_or_else(|| missing("AWS_ACCESS_KEY_ID"))?;
        let secret_access_key = settings
            .secret_access_key
            .as_ref()
            .ok_or_else(|| missing("AWS_SECRET_ACCESS_KEY"))?;
        let endpoint = settings.endpoint(service, &region);
        // The signer needs a host, and panics without one: check here, once, at init.
        match url::Url::parse(&endpoint) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
            _ => {
                return Err(Error::ConfigUnavailable(format!(
                    "the {} endpoint {endpoint:?} is not an http(s) URL",
                    service.name
                )));
            }
        }
        let credentials = Credentials::new(
            access_key_id,
            secret_access_key.expose().clone(),
            settings.session_token.as_ref().map(|t| t.expose().clone()),
            None,
            "environment",
        );
        Ok(Self {
            http,
            service,
            url: format!("{endpoint}/"),
            region,
            identity: credentials.into(),
        })
    }

    /// Calls `operation` with `input` and reads the answer as `T`. Throttling, server errors and
    /// failed connections are tried again, up to three attempts in all.
    pub async fn call<T: DeserializeOwned>(
        &self,
        operation: &str,
        input: &impl Serialize,
    ) -> Result<T, AwsError> {
        let body = serde_json::to_vec(input).map_err(|e| self.transport(e.to_string()))?;
        let target = format!("{}.{operation}", self.service.target_prefix);
        let mut attempt = 1;
        loop {
            match self.attempt(&target, &body).await {
                Err(error) if error.is_retryable() && attempt < MAX_ATTEMPTS => {
                    let cap = BACKOFF * 2u32.pow(attempt - 1);
                    let wait = rand::rng().random_range(Duration::ZERO..=cap);
                    tracing::debug!(service = self.service.name, %error, ?wait, "retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
                Ok(bytes) => {
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        // serde names a line and column, never the content.
                        self.transport(format!("unreadable answer to {operation}: {e}"))
                    });
                }
            }
        }
    }

    /// One signed request; the answer's body on success.
    async fn attempt(&self, target: &str, body: &[u8]) -> Result<bytes::Bytes, AwsError> {
        let response = self
            .signed(target, body)?
            .send()
            .await
            .map_err(|e| self.failed(&e))?;
        let status = response.status();
        let error_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(|e| self.failed(&e))?;
        if status.is_success() {
            return Ok(bytes);
        }
        Err(AwsError::Service {
            service: self.service.name,
            status: status.as_u16(),
            code: error_code(error_type.as_deref(), &bytes),
        })
    }

    /// The request, signed now.
    fn signed(&self, target: &str, body: &[u8]) -> Result<reqwest::RequestBuilder, AwsError> {
        let unsigned = |e: &dyn std::fmt::Display| self.transport(format!("signing failed: {e}"));
        let headers = [
            ("content-type", self.service.content_type),
            ("x-amz-target", target),
        ];
        let signable = SignableRequest::new(
            "POST",
            self.url.as_str(),
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| unsigned(&e))?;
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(self.service.signing_name)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| unsigned(&e))?
            .into();
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| unsigned(&e))?
            .into_parts();
        let mut request = self
            .http
            .post(&self.url)
            .timeout(ATTEMPT_TIMEOUT)
            .body(body.to_vec());
        for (name, value) in headers.into_iter().chain(instructions.headers()) {
            request = request.header(name, value);
        }
        Ok(request)
    }

    fn transport(&self, reason: String) -> AwsError {
        AwsError::Transport {
            service: self.service.name,
            reason,
        }
    }

    /// A failed exchange, a connection never made told apart (the one safe to try again).
    fn failed(&self, error: &reqwest::Error) -> AwsError {
        if error.is_connect() {
            AwsError::Unreachable {
                service: self.service.name,
                reason: error.to_string(),
            }
        } else if error.is_timeout() {
            self.transport(format!("timed out after {} s", ATTEMPT_TIMEOUT.as_secs()))
        } else {
            self.transport(error.to_string())
        }
    }
}

/// AWS's error type from the `x-amzn-ErrorType` header or the body's `__type`, without the
/// namespace (`com.amazonaws.dynamodb.v20120810#`) or the header's `:<doc URL>` tail.
fn error_code(header: Option<&str>, body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(rename = "__type")]
        kind: Option<String>,
        code: Option<String>,
    }
    let from_body = || {
        serde_json::from_slice::<Body>(body)
            .ok()
            .and_then(|b| b.kind.or(b.code))
    };
    let raw = header.map(str::to_owned).or_else(from_body);
    raw.as_deref()
        .map(|raw| raw.split(':').next().unwrap_or(raw))
        .map(|raw| raw.rsplit('#').next().unwrap_or(raw))
        .filter(|code| !code.is_empty())
        .unwrap_or("UnknownError")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, StatusCode};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    fn settings(endpoint: &str) -> AwsSettings {
        AwsSettings {
            region: Some("eu-west-1".into()),
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some(Secret::new(
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            )),
            session_token: Some(Secret::new("session-token".into())),
            endpoint_url: Some(endpoint.into()),
            ..AwsSettings::default()
        }
    }

    fn client(endpoint: &str, service: &'static Service) -> AwsClient {
        let http = crate::http::build(crate::http::client_builder()).unwrap();
        AwsClient::new(&settings(endpoint), service, http).unwrap()
    }

    /// A request as the stand-in received it.
    struct Received {
        headers: HeaderMap,
        body: Vec<u8>,
    }

    /// An AWS stand-in on loopback: answers with `answers` in turn (status, body; the last one
    /// repeats) and records every request.
    async fn stand_in(answers: Vec<(u16, &'static str)>) -> (String, Arc<Mutex<Vec<Received>>>) {
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answers = Arc::new(Mutex::new(VecDeque::from(answers)));
        let log = seen.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                let (log, answers) = (log.clone(), answers.clone());
                async move {
                    log.lock().unwrap().push(Received {
                        headers,
                        body: body.to_vec(),
                    });
                    let mut answers = answers.lock().unwrap();
                    let (status, text) = if answers.len() > 1 {
                        answers.pop_front().unwrap()
                    } else {
                        answers[0]
                    };
                    (StatusCode::from_u16(status).unwrap(), text)
                }
            }),
        );
        let address = crate::test_support::serve(app).await;
        (format!("http://{address}"), seen)
    }

    /// `yyyymmddThhmmssZ` (SigV4's `x-amz-date`) as a time.
    fn amz_date(text: &str) -> SystemTime {
        let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
        let (y, m, d) = (n(0..4), n(4..6), n(6..8));
        // Days from the civil date (Howard Hinnant's algorithm).
        let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + d - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        let seconds = days * 86_400 + n(9..11) * 3600 + n(11..13) * 60 + n(13..15);
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds as u64)
    }

    /// Signs `received` again from what arrived on the wire (the headers the signature names,
    /// the body, the time it states) and returns the `Authorization` the server expects.
    fn expected_authorization(received: &Received, host_url: &str) -> String {
        let authorization = received.headers["authorization"].to_str().unwrap();
        let signed = authorization
            .split("SignedHeaders=")
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap();
        let headers: Vec<(&str, &str)> = signed
            .split(';')
            .map(|name| (name, received.headers[name].to_str().unwrap()))
            .collect();
        let time = amz_date(received.headers["x-amz-date"].to_str().unwrap());
        let identity: Identity = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("session-token".into()),
            None,
            "test",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("secretsmanager")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            "POST",
            host_url,
            headers.into_iter(),
            SignableBody::Bytes(&received.body),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        instructions
            .headers()
            .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            .unwrap()
            .1
            .to_string()
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Answer {
        #[serde(rename = "SecretString")]
        secret_string: String,
    }

    #[tokio::test]
    async fn the_request_that_arrives_carries_a_valid_signature_over_what_arrived() {
        let (endpoint, seen) = stand_in(vec![(200, r#"{"SecretString":"s3cr3t"}"#)]).await;
        let answer: Answer = client(&endpoint, &SECRETS_MANAGER)
            .call(
                "GetSecretValue",
                &serde_json::json!({ "SecretId": "pingid/known" }),
            )
            .await
            .unwrap();
        assert_eq!(answer.secret_string, "s3cr3t");

        let seen = seen.lock().unwrap();
        let received = &seen[0];
        let header = |name: &str| received.headers[name].to_str().unwrap();
        assert_eq!(header("x-amz-target"), "secretsmanager.GetSecretValue");
        assert_eq!(header("content-type"), "application/x-amz-json-1.1");
        assert_eq!(header("x-amz-security-token"), "session-token");
        let authorization = header("authorization");
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{authorization}"
        );
        assert!(authorization.contains("/eu-west-1/secretsmanager/aws4_request"));
        for name in ["host", "x-amz-date", "x-amz-target", "content-type"] {
            assert!(
                authorization.contains(name),
                "{name} is not signed: {authorization}"
            );
        }
        // The host as the server saw it (with the port) is the host that was signed.
        assert_eq!(
            expected_authorization(received, &format!("{endpoint}/")),
            authorization
        );
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&received.body).unwrap(),
            serde_json::json!({ "SecretId": "pingid/known" })
        );
    }

    #[tokio::test]
    async fn an_error_answer_is_named_by_its_type_without_the_namespace() {
        let (endpoint, _) = stand_in(vec![(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
        )])
        .await;
        let error = client(&endpoint, &DYNAMODB)
            .call::<serde_json::Value>("PutItem", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("ConditionalCheckFailedException"));
        assert_eq!(
            error.to_string(),
            "DynamoDB answered 400 ConditionalCheckFailedException"
        );
    }

    #[test]
    fn the_error_type_header_wins_and_loses_its_documentation_url() {
        assert_eq!(
            error_code(
                Some("ResourceNotFoundException:http://internal.amazon.com/"),
                b"{}"
            ),
            "ResourceNotFoundException"
        );
        assert_eq!(error_code(None, b"not json"), "UnknownError");
        assert_eq!(
            error_code(None, br#"{"__type":"AccessDeniedException"}"#),
            "AccessDeniedException"
        );
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_tried_again_up_to_three_attempts() {
        let (endpoint, seen) = stand_in(vec![
            (400, r#"{"__type":"ThrottlingException"}"#),
            (500, r#"{"__type":"InternalFailure"}"#),
            (200, r#"{"SecretString":"third time"}"#),
        ])
        .await;
        let answer: Answer = client(&endpoint, &SECRETS_MANAGER)
            .call("GetSecretValue", &serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(answer.secret_string, "third time");
        assert_eq!(seen.lock().unwrap().len(), 3);

        let (endpoint, seen) = stand_in(vec![(503, r#"{"__type":"ServiceUnavailable"}"#)]).await;
        let error = client(&endpoint, &SECRETS_MANAGER)
            .call::<Answer>("GetSecretValue", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("ServiceUnavailable"));
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_client_error_is_not_tried_again() {
        let (endpoint, seen) = stand_in(vec![(400, r#"{"__type":"AccessDeniedException"}"#)]).await;
        let error = client(&endpoint, &SECRETS_MANAGER)
            .call::<Answer>("GetSecretValue", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert_eq!(error.code(), Some("AccessDeniedException"));
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_connection_failure_not_a_hang() {
        // Port 1 on loopback refuses at once: three attempts, then the reason.
        let error = client("http://127.0.0.1:1", &SECRETS_MANAGER)
            .call::<Answer>("GetSecretValue", &serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(matches!(&error, AwsError::Unreachable { .. }), "{error:?}");
    }

    #[test]
    fn endpoints_come_from_the_service_variable_then_the_general_one_then_the_partition() {
        let mut settings = AwsSettings::default();
        assert_eq!(
            settings.endpoint(&SECRETS_MANAGER, "eu-west-1"),
            "https://secretsmanager.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            settings.endpoint(&DYNAMODB, "cn-north-1"),
            "https://dynamodb.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(
            settings.endpoint(&DYNAMODB, "us-isob-east-1"),
            "https://dynamodb.us-isob-east-1.sc2s.sgov.gov"
        );
        settings.endpoint_url = Some("http://127.0.0.1:5000/".into());
        assert_eq!(
            settings.endpoint(&DYNAMODB, "eu-west-1"),
            "http://127.0.0.1:5000"
        );
        settings.secrets_manager_endpoint_url =
            Some("https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com".into());
        assert_eq!(
            settings.endpoint(&SECRETS_MANAGER, "eu-west-1"),
            "https://vpce-1.secretsmanager.eu-west-1.vpce.amazonaws.com"
        );
        assert_eq!(
            settings.endpoint(&DYNAMODB, "eu-west-1"),
            "http://127.0.0.1:5000"
        );
    }

    #[test]
    fn missing_credentials_or_a_bad_endpoint_are_named_at_init() {
        let http = crate::http::build(crate::http::client_builder()).unwrap();
        let mut without_key = settings("http://127.0.0.1:1");
        without_key.secret_access_key = None;
        let error = AwsClient::new(&without_key, &SECRETS_MANAGER, http.clone()).unwrap_err();
        assert!(
            error.to_string().contains("AWS_SECRET_ACCESS_KEY"),
            "{error}"
        );
        let error =
            AwsClient::new(&settings("localhost:4566"), &SECRETS_MANAGER, http).unwrap_err();
        assert!(error.to_string().contains("not an http(s) URL"), "{error}");
    }

    #[test]
    fn the_secret_key_and_session_token_never_print() {
        let text = format!("{:?}", settings("http://127.0.0.1:1"));
        assert!(
            !text.contains("EXAMPLEKEY") && !text.contains("session-token"),
            "{text}"
        );
    }
}
