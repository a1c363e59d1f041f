//! The AWS SDK's HTTP client over reqwest, for the tests' SDK clients (seeding moto, playing
//! Lambda's SQS poller). The functions call AWS through `shared::aws` and carry no SDK; the
//! SDK crates here are built without an HTTPS client of their own, so the tests reuse the
//! functions' reqwest stack rather than compile a second one.

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

/// Cap of one SDK call when the SDK sets no read timeout.
const SDK_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The AWS SDK's HTTP client over the functions' own stack ([`shared::http::client_builder`]),
/// with its own connection pool. Give it to an SDK configuration with
/// `.http_client(sdk_http_client()?)`.
///
/// Request bodies must be in memory (every operation we call sends a small JSON document);
/// a streaming body is refused as a user error rather than buffered. Responses are read whole.
pub fn sdk_http_client() -> Result<SharedHttpClient, shared::error::Error> {
    Ok(SharedHttpClient::new(SdkHttpClient {
        http: shared::http::build(shared::http::client_builder())?,
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
