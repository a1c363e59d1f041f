//! The process's one HTTPS stack: reqwest over rustls, trusting Mozilla's root certificates
//! compiled into the binary. The PingOne and PingID clients build on [`client_builder`]; the
//! AWS SDK reaches the same stack through [`sdk_http_client`].
//!
//! Why compiled-in roots: reqwest's platform verifier and the SDK's own HTTPS client each read
//! and parse the system trust store (`/etc/ssl/certs`, about 150 certificates and 290 files) while
//! the function initialises. That was most of our cold-start init (13× the bare `lambda_runtime`
//! floor, `bench/REPORT.md`). `webpki-roots` holds the same Mozilla CA program the Lambda image's
//! bundle is built from, as ready-made trust anchors: nothing to read or parse. The roots change
//! with the crate version (`cargo update`), not with the Lambda image.
//!
//! Why the SDK goes through reqwest: the SDK's default client is a second hyper/rustls stack
//! that loads the trust store once more (when `aws-config` builds its STS client, at init). One
//! stack means one TLS configuration to review and less code in every binary.

use std::sync::Arc;
use std::time::Duration;

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

/// How long a TCP connect (plus the TLS handshake's first flight) may take. Ping's and AWS's
/// endpoints answer in tens of milliseconds; two seconds leaves room for one retry in the 5 s
/// budget.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an idle pooled connection is kept: warm invocations reuse it, a frozen sandbox
/// does not keep dead ones forever.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Cap of one AWS call when the SDK sets no read timeout. The invocation's deadline ends the
/// whole capability earlier; this only bounds a call made outside one (none today).
const SDK_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A reqwest builder with this product's HTTPS settings: rustls with the compiled-in roots,
/// TLS 1.2+, HTTP/2 or 1.1 by ALPN, connect timeout, no redirects (a bearer token or a signed
/// request must never follow one to another host), our user agent. Callers add what is theirs
/// (e.g. `https_only`).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config())
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("pingid-lambda/", env!("CARGO_PKG_VERSION")))
}

/// Builds a client, naming the failure as ours.
pub fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, Error> {
    builder
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
}

fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // aws-lc-rs supports TLS 1.2 and 1.3: this cannot fail.
        .expect("aws-lc-rs supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    // reqwest leaves ALPN to a preconfigured config; offer what its own config would.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

/// The AWS SDK's HTTP client over [`client_builder`]'s stack, with its own connection pool
/// (build it once per process). Give it to an SDK configuration with
/// `.http_client(sdk_http_client()?)`.
///
/// Request bodies must be in memory (every operation we call sends a small JSON document);
/// a streaming body is refused as a user error rather than buffered. Responses are read whole.
pub fn sdk_http_client() -> Result<SharedHttpClient, Error> {
    Ok(SharedHttpClient::new(SdkHttpClient {
        http: build(client_builder())?,
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
            timeout: settings.read_timeout().unwrap_or(SDK_CALL_TIMEOUT),
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

/// Classifies a reqwest failure the way the SDK's retry policy expects.
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
    use axum::http::{HeaderMap, StatusCode as AxumStatus};
    use std::sync::Mutex;

    #[test]
    fn the_tls_config_trusts_the_compiled_in_roots_and_offers_h2() {
        let config = tls_config();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }

    /// A Secrets Manager stand-in on loopback answering `GetSecretValue` for `pingid/known`
    /// (and 400 `ResourceNotFoundException` for any other id); records each request.
    async fn secrets_manager() -> (String, Arc<Mutex<Vec<(HeaderMap, String)>>>) {
        let seen: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
        let log = seen.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let log = log.clone();
                async move {
                    let request: serde_json::Value = serde_json::from_str(&body).unwrap();
                    log.lock().unwrap().push((headers, body));
                    let json = [("content-type", "application/x-amz-json-1.1")];
                    if request["SecretId"] == "pingid/known" {
                        let answer = serde_json::json!({ "ARN": "arn:aws:secretsmanager:us-east-1:1:secret:pingid/known",
                            "Name": "pingid/known", "SecretString": "{\"a\":1}", "VersionId": "v1" });
                        (AxumStatus::OK, json, answer.to_string())
                    } else {
                        let answer = serde_json::json!({ "__type": "ResourceNotFoundException",
                            "message": "Secrets Manager can't find the specified secret." });
                        (AxumStatus::BAD_REQUEST, json, answer.to_string())
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{address}"), seen)
    }

    fn source(endpoint: &str) -> SecretsManager {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .http_client(sdk_http_client().unwrap())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                None,
                None,
                "test",
            ))
            .build();
        SecretsManager::new(aws_sdk_secretsmanager::Client::from_conf(config))
    }

    #[tokio::test]
    async fn the_sdk_speaks_through_our_client_and_reads_the_answer_whole() {
        let (endpoint, seen) = secrets_manager().await;
        let secret = source(&endpoint).fetch("pingid/known").await.unwrap();
        assert_eq!(secret.expose().as_str(), "{\"a\":1}");

        let seen = seen.lock().unwrap();
        let (headers, body) = &seen[0];
        // The SDK's signed request arrives as it was built: target, signature, JSON body.
        assert_eq!(headers["x-amz-target"], "secretsmanager.GetSecretValue");
        assert!(
            headers["authorization"]
                .to_str()
                .unwrap()
                .starts_with("AWS4-HMAC-SHA256 ")
        );
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["SecretId"], "pingid/known");
        assert_eq!(body["VersionStage"], "AWSCURRENT");
    }

    #[tokio::test]
    async fn a_service_error_reaches_the_sdk_with_its_status_and_type() {
        let (endpoint, _) = secrets_manager().await;
        let error = source(&endpoint).fetch("pingid/unknown").await.unwrap_err();
        assert!(matches!(error, SecretError::NotFound(id) if id == "pingid/unknown"));
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_a_connection_failure_not_a_hang() {
        // Port 1 on loopback refuses at once; the SDK retries, then gives up.
        let error = source("http://127.0.0.1:1")
            .fetch("pingid/known")
            .await
            .unwrap_err();
        assert!(
            matches!(error, SecretError::Unavailable { .. }),
            "{error:?}"
        );
    }
}
