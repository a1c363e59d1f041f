//! The HTTP client behind the [`PingOne`] port.
//!
//! Per call: the connection comes from the secret cache, the token from the token cache; the
//! request gets what is left of the deadline. Recovery, each at most once per call:
//! - PingOne refuses the worker credentials at the token endpoint → re-read the secret (it may
//!   have been rotated) and ask again;
//! - PingOne refuses the token on a resource (401) → drop it, get a new one, send again (the
//!   request was refused before it did anything, so this is safe even for writes);
//! - an idempotent read fails transiently (connection, timeout, 5xx, 429 whose `Retry-After`
//!   fits the budget) → send it once more. Writes are never retried: an OTP is never submitted
//!   twice, and failure is never turned into success.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::connection::{Connection, Hosts, Region};
use super::errors::{map_error, parse_retry_after};
use super::token::{IssuedToken, TokenCache, TokenKey};
use super::{Headers, Host, Method, PingOne, Request, Response};
use crate::BoxFuture;
use crate::budget::Deadline;
use crate::error::Error;
use crate::secrets::{Secret, SecretCache};

/// PingOne bodies are small; anything larger is not PingOne talking.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// A retry is not worth starting with less time than this left.
const MIN_ATTEMPT: Duration = Duration::from_millis(250);
/// The first attempt of a retryable request leaves this share of the budget for the retry.
const FIRST_ATTEMPT_SHARE: f64 = 0.6;

/// The connection in use and everything derived from it, rebuilt only when the secret changes.
struct Resolved {
    secret_text: Secret<Arc<str>>,
    connection: Connection,
    hosts: Hosts,
    token_key: TokenKey,
}

/// Why one attempt failed, and what may be done about it.
enum AttemptError {
    /// 401 on a resource: the token is no good.
    TokenRefused,
    /// Worth one more try if the request is idempotent.
    Transient {
        error: Error,
        retry_after: Option<Duration>,
    },
    /// Final.
    Final(Error),
}

impl AttemptError {
    /// The error of a last attempt: nothing more will be tried.
    fn into_error(self) -> Error {
        match self {
            // Refused twice in one call (a fresh token too): the worker app lacks access.
            AttemptError::TokenRefused => {
                Error::ConfigUnavailable("PingOne refused the worker application's token".into())
            }
            AttemptError::Transient { error, .. } | AttemptError::Final(error) => error,
        }
    }
}

enum IssueError {
    CredentialsRejected,
    Other(Error),
}

/// Talks to PingOne for one deployment (one connection secret).
pub struct PingOneClient {
    http: reqwest::Client,
    secrets: Arc<SecretCache>,
    secret_id: String,
    hosts_override: Option<Hosts>,
    region_pin: Option<Region>,
    tokens: TokenCache,
    resolved: Mutex<Option<Arc<Resolved>>>,
}

impl PingOneClient {
    /// A client reading its connection from secret `secret_id`. `base_url_override` sends every
    /// call to one server (the simulator) instead of the region's hosts.
    pub fn new(
        secrets: Arc<SecretCache>,
        secret_id: impl Into<String>,
        base_url_override: Option<&str>,
    ) -> Result<Self, Error> {
        // Plain HTTP only where an override (the local simulator) asks for it.
        let http = crate::http::build(
            crate::http::client_builder().https_only(base_url_override.is_none()),
        )?;
        Ok(Self {
            http,
            secrets,
            secret_id: secret_id.into(),
            hosts_override: base_url_override.map(Hosts::single),
            region_pin: None,
            tokens: TokenCache::new(),
            resolved: Mutex::new(None),
        })
    }

    /// Refuses connection secrets of another region than `region` (`None`: any region).
    pub fn pinned_to(mut self, region: Option<Region>) -> Self {
        self.region_pin = region;
        self
    }

    async fn resolve(&self, reread_secret: bool) -> Result<Arc<Resolved>, Error> {
        let secret = if reread_secret {
            self.secrets.refresh(&self.secret_id).await
        } else {
            self.secrets.get(&self.secret_id).await
        }
        .map_err(|e| Error::ConfigUnavailable(e.to_string()))?;

        let mut resolved = self.resolved.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(current) = resolved.as_ref()
            && Arc::ptr_eq(current.secret_text.expose(), secret.expose())
        {
            return Ok(current.clone());
        }
        let connection = Connection::from_secret(secret.expose())
            .and_then(|connection| connection.in_region(self.region_pin))
            .map_err(Error::ConfigUnavailable)?;
        let hosts = self
            .hosts_override
            .clone()
            .unwrap_or_else(|| Hosts::for_region(connection.region));
        let token_key = TokenKey {
            auth_base: hosts.auth.clone(),
            env_id: connection.env_id.clone(),
            client_id: connection.client_id.clone(),
        };
        let fresh = Arc::new(Resolved {
            secret_text: secret,
            connection,
            hosts,
            token_key,
        });
        *resolved = Some(fresh.clone());
        Ok(fresh)
    }

    /// The connection and a valid token for it.
    async fn authorise(
        &self,
        deadline: Deadline,
    ) -> Result<(Arc<Resolved>, Secret<Arc<str>>), Error> {
        let resolved = self.resolve(false).await?;
        match self
            .tokens
            .get(&resolved.token_key, || self.issue(&resolved, deadline))
            .await
        {
            Ok(token) => Ok((resolved, token)),
            Err(IssueError::Other(error)) => Err(error),
            Err(IssueError::CredentialsRejected) => {
                tracing::warn!(
                    "PingOne rejected the worker credentials; re-reading the secret once"
                );
                let reread = self.resolve(true).await?;
                match self
                    .tokens
                    .get(&reread.token_key, || self.issue(&reread, deadline))
                    .await
                {
                    Ok(token) => Ok((reread, token)),
                    Err(IssueError::Other(error)) => Err(error),
                    Err(IssueError::CredentialsRejected) => Err(Error::ConfigUnavailable(
                        "PingOne rejected the worker application's client id or secret".into(),
                    )),
                }
            }
        }
    }

    /// `POST {auth}/{envId}/as/token` with HTTP Basic (the method the connector docs prescribe).
    async fn issue(
        &self,
        resolved: &Resolved,
        deadline: Deadline,
    ) -> Result<IssuedToken, IssueError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: u64,
        }
        let url = format!(
            "{}/{}/as/token",
            resolved.hosts.auth, resolved.connection.env_id
        );
        let connection = &resolved.connection;
        let attempt = async {
            let response = self
                .http
                .post(&url)
                .basic_auth(
                    &connection.client_id,
                    Some(connection.client_secret.expose()),
                )
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .map_err(transport_error)?;
            let status = response.status().as_u16();
            let body = read_body(response).await?;
            Ok::<_, Error>((status, body))
        };
        let (status, body) = tokio::time::timeout_at(deadline.instant(), attempt)
            .await
            .map_err(|_| IssueError::Other(Error::UpstreamTimeout))?
            .map_err(IssueError::Other)?;
        match status {
            200 => {
                let token: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
                    IssueError::Other(Error::UpstreamInvalid("token response is not valid".into()))
                })?;
                Ok(IssuedToken {
                    access_token: Secret::new(token.access_token),
                    lifetime: Duration::from_secs(token.expires_in),
                })
            }
            // OAuth's invalid_client (401, some servers 400): rotation may have changed the secret.
            401 => Err(IssueError::CredentialsRejected),
            400 if is_invalid_client(&body) => Err(IssueError::CredentialsRejected),
            status if status >= 500 || status == 429 => Err(IssueError::Other(
                Error::UpstreamUnavailable(format!("token endpoint answered HTTP {status}")),
            )),
            status => Err(IssueError::Other(Error::ConfigUnavailable(format!(
                "the token endpoint refused the request (HTTP {status}); check envId and region"
            )))),
        }
    }

    async fn attempt(
        &self,
        resolved: &Resolved,
        token: &Secret<Arc<str>>,
        request: &Request,
        until: tokio::time::Instant,
    ) -> Result<Response, AttemptError> {
        let env = &resolved.connection.env_id;
        let url = match request.host {
            Host::Auth => format!("{}/{env}/{}", resolved.hosts.auth, request.path),
            Host::Api => format!("{}/environments/{env}/{}", resolved.hosts.api, request.path),
        };
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .http
            .request(method, &url)
            .bearer_auth(&**token.expose());
        if !request.query.is_empty() {
            builder = builder.query(&request.query);
        }
        if let Some(body) = &request.body {
            let bytes = serde_json::to_vec(body)
                .map_err(|e| AttemptError::Final(Error::Internal(e.to_string())))?;
            builder = builder.body(bytes);
        }
        // PingOne selects actions by vendor type, even on a DELETE without a body (removing
        // the device order), so every write names its type.
        if request.method != Method::Get {
            builder = builder.header(reqwest::header::CONTENT_TYPE, request.content_type);
        }
        let exchange = async {
            let response = builder.send().await.map_err(transport_error)?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after);
            let headers = Headers::from_http(response.headers());
            let body = read_body(response).await?;
            Ok::<_, Error>((status, retry_after, headers, body))
        };
        let started = tokio::time::Instant::now();
        let outcome = tokio::time::timeout_at(until, exchange).await;
        let (status, retry_after, headers, body) = match outcome {
            Err(_elapsed) => {
                return Err(AttemptError::Transient {
                    error: Error::UpstreamTimeout,
                    retry_after: None,
                });
            }
            Ok(Err(error)) => {
                return Err(AttemptError::Transient {
                    error,
                    retry_after: None,
                });
            }
            Ok(Ok(answer)) => answer,
        };
        tracing::debug!(
            method = ?request.method,
            path = %request.path,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "PingOne call"
        );
        match status {
            200..=299 => {
                let body = if body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&body).map_err(|_| AttemptError::Transient {
                        error: Error::UpstreamInvalid("PingOne sent a malformed JSON body".into()),
                        retry_after: None,
                    })?
                };
                Ok(Response {
                    status,
                    body,
                    headers,
                })
            }
            401 => Err(AttemptError::TokenRefused),
            429 | 500..=599 => Err(AttemptError::Transient {
                error: map_error(status, retry_after, &body),
                retry_after: retry_after.map(Duration::from_secs),
            }),
            _ => Err(AttemptError::Final(map_error(status, retry_after, &body))),
        }
    }

    async fn send_within(&self, request: Request, deadline: Deadline) -> Result<Response, Error> {
        let (resolved, token) = self.authorise(deadline).await?;
        let retryable = request.is_idempotent();
        let first_until = if retryable {
            tokio::time::Instant::now() + deadline.remaining().mul_f64(FIRST_ATTEMPT_SHARE)
        } else {
            deadline.instant()
        };
        match self.attempt(&resolved, &token, &request, first_until).await {
            Ok(response) => Ok(response),
            Err(AttemptError::Final(error)) => Err(error),
            Err(AttemptError::TokenRefused) => {
                self.tokens.invalidate(&resolved.token_key, &token);
                let (resolved, token) = self.authorise(deadline).await?;
                self.attempt(&resolved, &token, &request, deadline.instant())
                    .await
                    .map_err(AttemptError::into_error)
            }
            Err(AttemptError::Transient { error, retry_after }) => {
                let wait = retry_after.unwrap_or(Duration::ZERO);
                if !retryable || deadline.remaining() < wait + MIN_ATTEMPT {
                    return Err(error);
                }
                tracing::info!(path = %request.path, code = error.code(), "retrying a PingOne read once");
                tokio::time::sleep(wait).await;
                self.attempt(&resolved, &token, &request, deadline.instant())
                    .await
                    .map_err(AttemptError::into_error)
            }
        }
    }
}

impl PingOne for PingOneClient {
    fn send(&self, request: Request, deadline: Deadline) -> BoxFuture<'_, Result<Response, Error>> {
        Box::pin(async move {
            // The whole call, token and retry included, ends at the deadline.
            tokio::time::timeout_at(deadline.instant(), self.send_within(request, deadline))
                .await
                .unwrap_or(Err(Error::UpstreamTimeout))
        })
    }
}

fn is_invalid_client(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("error")
                .and_then(Value::as_str)
                .map(|e| e == "invalid_client")
        })
        .unwrap_or(false)
}

/// Describes a transport failure without reqwest's text, which carries the full URL.
fn transport_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::UpstreamTimeout
    } else if error.is_connect() {
        Error::UpstreamUnavailable("could not connect".into())
    } else {
        Error::UpstreamUnavailable("the connection failed".into())
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Error::UpstreamInvalid("response body too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
