//! The AWS SDK as the functions use it: Secrets Manager (`aws-sdk-secretsmanager`) and DynamoDB
//! (`aws-sdk-dynamodb`), configured by `aws-config` once per process and speaking through the
//! process's one HTTPS stack ([`crate::http`]).
//!
//! What the SDK keeps right for us: endpoint rules (partitions, FIPS and dual-stack through
//! `AWS_USE_FIPS_ENDPOINT` / `AWS_USE_DUALSTACK_ENDPOINT`), `AWS_ENDPOINT_URL` and the
//! per-service `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_DYNAMODB` (moto, a VPC
//! endpoint), credential sources, SigV4, clock skew, retries and error shapes.
//!
//! What we choose:
//! - **Inside Lambda** the region and the execution role's credentials are in the environment
//!   for the life of the sandbox, so [`load`] gives them to the loader directly: it then builds
//!   no default region or credential chain (web identity's STS client, IMDS, ECS, SSO), which
//!   would cost init time and probe addresses that answer nothing in Lambda. Elsewhere (a laptop
//!   with a profile, `sam local`) the default chains apply.
//! - **Time**: an attempt may take 2 s and a call 5 s, the capability's whole budget; the
//!   invocation's deadline ends a call earlier. Throttling, 5xx and connection failures are tried
//!   again (the SDK's standard mode, 3 attempts) after 25 ms, then 50 ms, with jitter: AWS's
//!   default of a second would spend the budget waiting.
//! - **Errors** are described by [`failure`] from AWS's error code and the HTTP status only: an
//!   error message can quote a secret's ARN or the account, and ends up in a log line.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use crate::error::Error;

/// Cap of one attempt (connect, send, read the answer).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Cap of one call, retries included: the capability's time budget.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of one call (the SDK's standard mode).
const MAX_ATTEMPTS: u32 = 3;
/// Backoff before the second attempt, doubled before the third, with jitter.
const INITIAL_BACKOFF: Duration = Duration::from_millis(25);

/// The environment as far as [`load`] reads it itself (the loader reads the rest).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// Inside Lambda (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_REGION` and `AWS_ACCESS_KEY_ID` set): the
    /// region, with the credentials taken from the environment. `None` elsewhere.
    pub lambda_region: Option<String>,
}

impl AwsSettings {
    /// Reads the variables through `lookup` (blank values are unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let in_lambda =
            lookup("AWS_LAMBDA_FUNCTION_NAME").is_some() && lookup("AWS_ACCESS_KEY_ID").is_some();
        Self {
            lambda_region: lookup("AWS_REGION").filter(|_| in_lambda),
        }
    }
}

/// Loads the SDK configuration once per process; every SDK client is built from it.
pub async fn load(settings: &AwsSettings) -> Result<SdkConfig, Error> {
    Ok(loader(settings)?.load().await)
}

/// The loader with our choices made: the HTTP stack, time limits, retries, and in Lambda the
/// region and credentials.
fn loader(settings: &AwsSettings) -> Result<aws_config::ConfigLoader, Error> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(sdk_http_client()?)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(CALL_TIMEOUT)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(MAX_ATTEMPTS)
                .with_initial_backoff(INITIAL_BACKOFF),
        );
    if let Some(region) = &settings.lambda_region {
        loader = loader
            .region(Region::new(region.clone()))
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            );
    }
    Ok(loader)
}

/// A short description of a failed SDK call for errors and logs: AWS's error code and HTTP
/// status, or what went wrong on the way; never the error's message or body.
pub fn failure<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> String {
    match error {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            match service.err().code() {
                Some(code) => format!("{code} (HTTP {status})"),
                None => format!("HTTP {status}"),
            }
        }
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => "timed out".into(),
        SdkError::DispatchFailure(failure) if failure.is_io() => "could not connect".into(),
        SdkError::DispatchFailure(_) => "the request could not be sent".into(),
        SdkError::ResponseError(_) => "the answer could not be read".into(),
        SdkError::ConstructionFailure(_) => "the request could not be built".into(),
        _ => "failed".into(),
    }
}

/// Whether a failed SDK call may succeed if made again later: the service unreachable, timing
/// out, throttling or failing on its side (HTTP 5xx). A refusal (access denied, not found, a key
/// that will not decrypt) is an answer, not a failure to get one.
pub fn is_transient<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || matches!(
                    service.err().code(),
                    Some(
                        "ThrottlingException" | "TooManyRequestsException" | "RequestLimitExceeded"
                    )
                )
        }
        SdkError::ConstructionFailure(_) => false,
        _ => true,
    }
}

/// The AWS SDK's HTTP client over [`crate::http::client_builder`]'s stack, with its own
/// connection pool (build it once per process).
///
/// Request bodies must be in memory (every operation we call sends a small JSON document);
/// a streaming body is refused as a user error rather than buffered. Responses are read whole.
pub fn sdk_http_client() -> Result<SharedHttpClient, Error> {
    Ok(SharedHttpClient::new(SdkHttpClient {
        http: crate::http::build(crate::http::client_builder())?,
    }))
}

#[derive(Debug, Clone)]
struct SdkHttpClient {
    http: reqwest::Client,
}

impl HttpClient for SdkHttpClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(SdkConnector {
            http: self.http.clone(),
            timeout: settings.read_timeout().unwrap_or(ATTEMPT_TIMEOUT),
        })
    }
}

#[derive(Debug)]
struct SdkConnector {
    http: reqwest::Client,
    timeout: Duration,
}

impl HttpConnector for SdkConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let sent = self.request(request).map(|request| request.send());
        HttpConnectorFuture::new(async move {
            let response = sent?.await.map_err(connector_error)?;
            let status = StatusCode::try_from(response.status().as_u16())
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(connector_error)?;
            let mut answer = HttpResponse::new(status, SdkBody::from(body));
            for (name, value) in &headers {
                if let Ok(value) = value.to_str() {
                    answer
                        .headers_mut()
                        .append(name.as_str().to_owned(), value.to_owned());
                }
            }
            Ok(answer)
        })
    }
}

impl SdkConnector {
    fn request(&self, request: HttpRequest) -> Result<reqwest::RequestBuilder, ConnectorError> {
        let user = |message: &str| ConnectorError::user(message.to_owned().into());
        let method = reqwest::Method::from_bytes(request.method().as_bytes())
            .map_err(|_| user("invalid HTTP method"))?;
        let body = request
            .body()
            .bytes()
            .ok_or_else(|| user("streaming request bodies are not supported"))?
            .to_vec();
        let mut builder = self
            .http
            .request(method, request.uri())
            .timeout(self.timeout)
            .body(body);
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        Ok(builder)
    }
}

/// Classifies a reqwest failure the way the SDK's retry policy expects: a connection that never
/// opened is retried, a timeout is not.
fn connector_error(error: reqwest::Error) -> ConnectorError {
    if error.is_timeout() {
        ConnectorError::timeout(error.into())
    } else if error.is_connect() || error.is_request() || error.is_body() {
        ConnectorError::io(error.into())
    } else {
        ConnectorError::other(error.into(), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::{SecretError, SecretSource, SecretsManager};
    use crate::test_support::serve;
    use axum::http::{HeaderMap, StatusCode as AxumStatus};
    use std::sync::{Arc, Mutex};

    /// What a stand-in received: the headers and the body of each request.
    type Received = Arc<Mutex<Vec<(HeaderMap, serde_json::Value)>>>;

    /// A Secrets Manager stand-in on loopback that gives the `answers` in turn (status, body),
    /// repeating the last one; records each request.
    async fn secrets_manager(answers: Vec<(u16, serde_json::Value)>) -> (String, Received) {
        let received: Received = Arc::default();
        let log = received.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let log = log.clone();
                let answers = answers.clone();
                async move {
                    let mut log = log.lock().unwrap();
                    log.push((headers, serde_json::from_str(&body).unwrap()));
                    let (status, answer) = answers[(log.len() - 1).min(answers.len() - 1)].clone();
                    (
                        AxumStatus::from_u16(status).unwrap(),
                        [("content-type", "application/x-amz-json-1.1")],
                        answer.to_string(),
                    )
                }
            }),
        );
        (format!("http://{}", serve(app).await), received)
    }

    /// A source over the stand-in at `endpoint`, configured as [`load`] configures it.
    async fn source(endpoint: &str) -> SecretsManager {
        let config = loader(&AwsSettings::default())
            .unwrap()
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .load()
            .await;
        SecretsManager::new(aws_sdk_secretsmanager::Client::new(&config))
    }

    fn secret(value: &str) -> (u16, serde_json::Value) {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:pingid/known";
        (
            200,
            serde_json::json!({ "ARN": arn, "Name": "pingid/known", "SecretString": value, "VersionId": "v1" }),
        )
    }

    fn aws_error(status: u16, code: &str) -> (u16, serde_json::Value) {
        // The message quotes the account and the ARN, as AWS's do: it must go nowhere.
        let message = "User arn:aws:iam::123456789012:role/x is not authorized";
        (
            status,
            serde_json::json!({ "__type": code, "message": message }),
        )
    }

    #[tokio::test]
    async fn the_sdk_speaks_through_our_client_and_reads_the_current_version() {
        let (endpoint, received) = secrets_manager(vec![secret("{\"a\":1}")]).await;

        let value = source(&endpoint).await.fetch("pingid/known").await.unwrap();

        assert_eq!(value.expose().as_str(), "{\"a\":1}");
        let received = received.lock().unwrap();
        let (headers, body) = &received[0];
        assert_eq!(headers["x-amz-target"], "secretsmanager.GetSecretValue");
        assert!(
            headers["authorization"]
                .to_str()
                .unwrap()
                .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
        );
        assert_eq!(body["SecretId"], "pingid/known");
        assert_eq!(body["VersionStage"], "AWSCURRENT");
    }

    #[tokio::test]
    async fn an_unknown_secret_is_not_found() {
        let (endpoint, _) =
            secrets_manager(vec![aws_error(400, "ResourceNotFoundException")]).await;
        let error = source(&endpoint)
            .await
            .fetch("pingid/gone")
            .await
            .unwrap_err();
        assert!(matches!(error, SecretError::NotFound(id) if id == "pingid/gone"));
    }

    #[tokio::test]
    async fn throttling_and_server_errors_are_tried_again_up_to_three_attempts() {
        let (endpoint, received) = secrets_manager(vec![
            aws_error(400, "ThrottlingException"),
            aws_error(500, "InternalServiceError"),
            secret("v"),
        ])
        .await;
        let value = source(&endpoint).await.fetch("pingid/known").await.unwrap();
        assert_eq!(value.expose().as_str(), "v");
        assert_eq!(received.lock().unwrap().len(), 3);

        let (endpoint, received) =
            secrets_manager(vec![aws_error(503, "ServiceUnavailable")]).await;
        let error = source(&endpoint)
            .await
            .fetch("pingid/known")
            .await
            .unwrap_err();
        assert_eq!(received.lock().unwrap().len(), MAX_ATTEMPTS as usize);
        assert_eq!(
            error.to_string(),
            "secret store unavailable while reading \"pingid/known\": ServiceUnavailable (HTTP 503)"
        );
    }

    #[tokio::test]
    async fn a_refusal_is_not_tried_again_and_its_message_goes_nowhere() {
        let (endpoint, received) =
            secrets_manager(vec![aws_error(400, "AccessDeniedException")]).await;
        let error = source(&endpoint)
            .await
            .fetch("pingid/known")
            .await
            .unwrap_err();
        assert_eq!(received.lock().unwrap().len(), 1);
        // A refusal, not an outage: the secret cache serves nothing stale for it.
        assert!(matches!(error, SecretError::Refused { .. }), "{error:?}");
        let text = format!("{error} {error:?}");
        assert!(text.contains("AccessDeniedException (HTTP 400)"), "{text}");
        assert!(!text.contains("123456789012"), "{text}");
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_prompt_connection_failure() {
        // Port 1 on loopback refuses at once; the SDK tries three times, then gives up.
        let started = std::time::Instant::now();
        let error = source("http://127.0.0.1:1")
            .await
            .fetch("pingid/known")
            .await
            .unwrap_err();
        assert!(
            matches!(&error, SecretError::Unavailable { reason, .. } if reason == "could not connect"),
            "{error:?}"
        );
        assert!(started.elapsed() < CALL_TIMEOUT, "{:?}", started.elapsed());
    }
}
