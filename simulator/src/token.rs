//! Worker-app OAuth: `POST /{envId}/as/token` (client credentials grant) and the bearer-token
//! check in front of every other PingOne route.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawPathParams, Request, State};
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL, PRAGMA, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::errors::{ApiError, ErrorCode};
use crate::request::media_type;
use crate::state::{SharedState, lock};

/// Access tokens issued so far, by token value.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    tokens: Mutex<HashMap<String, IssuedToken>>,
}

#[derive(Debug)]
struct IssuedToken {
    env_id: String,
    expires_at: SystemTime,
}

impl TokenStore {
    /// Issues an opaque random token for `env_id`, valid until `expires_at`.
    fn issue(&self, env_id: &str, now: SystemTime, expires_at: SystemTime) -> String {
        let token = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let mut tokens = lock(&self.tokens);
        // Forget expired tokens here so a long-running simulator does not accumulate them.
        tokens.retain(|_, issued| issued.expires_at > now);
        let issued = IssuedToken {
            env_id: env_id.to_owned(),
            expires_at,
        };
        tokens.insert(token.clone(), issued);
        token
    }

    /// Checks that `token` was issued here, is unexpired at `now` and belongs to `env_id`.
    fn authorize(
        &self,
        token: Option<&str>,
        env_id: &str,
        now: SystemTime,
    ) -> Result<(), ApiError> {
        let token = token.ok_or_else(|| {
            access_failed(
                StatusCode::UNAUTHORIZED,
                "A bearer access token is required.",
            )
        })?;
        let tokens = lock(&self.tokens);
        let issued = tokens
            .get(token)
            .filter(|issued| issued.expires_at > now)
            .ok_or_else(|| {
                access_failed(
                    StatusCode::UNAUTHORIZED,
                    "The access token is invalid or has expired.",
                )
            })?;
        if issued.env_id != env_id {
            return Err(access_failed(
                StatusCode::FORBIDDEN,
                "The access token was issued for another environment.",
            ));
        }
        Ok(())
    }
}

fn access_failed(status: StatusCode, message: &str) -> ApiError {
    ApiError::new(status, ErrorCode::AccessFailed, message)
}

/// Middleware for every PingOne route except the token endpoint: requires a valid
/// `Authorization: Bearer` token for the environment named in the path (`{envId}`).
pub(crate) async fn require_bearer(
    State(state): State<SharedState>,
    params: RawPathParams,
    request: Request,
    next: Next,
) -> Response {
    let env_id = params
        .iter()
        .find_map(|(name, value)| (name == "envId").then_some(value))
        .unwrap_or_default();
    let token = bearer_token(request.headers());
    match state.tokens.authorize(token, env_id, state.clock.now()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("Bearer").then(|| token.trim())
}

/// The token request's form fields (others, such as `scope`, are ignored).
#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The successful token response.
#[derive(Debug, Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

/// `POST /{envId}/as/token`: client credentials grant, with the client authenticated by HTTP
/// Basic (`client_secret_basic`) or by form fields (`client_secret_post`), not both.
pub(crate) async fn issue(
    State(state): State<SharedState>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    // Choice left open: an unknown environment is answered like any malformed token request.
    if env_id != state.tenant.env_id {
        return Err(OAuthError::invalid_request("Unknown environment."));
    }
    if media_type(&headers).as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "The token request must be application/x-www-form-urlencoded.",
        ));
    }
    let form: TokenForm = serde_urlencoded::from_bytes(&body)
        .map_err(|_| OAuthError::invalid_request("The form body cannot be parsed."))?;

    let credentials = client_credentials(&headers, &form)?;
    let worker = &state.tenant.worker;
    if credentials.id != worker.client_id || credentials.secret != worker.client_secret {
        return Err(OAuthError::invalid_client(credentials.basic));
    }

    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only the client_credentials grant is supported.",
            ));
        }
        None => return Err(OAuthError::invalid_request("grant_type is required.")),
    }

    let now = state.clock.now();
    let ttl = state.config.token_ttl;
    let body = TokenResponse {
        access_token: state.tokens.issue(&env_id, now, now + ttl),
        token_type: "Bearer",
        expires_in: ttl.as_secs(),
    };
    // RFC 6749 §5.1: token responses must not be cached.
    let no_cache = [
        (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (PRAGMA, HeaderValue::from_static("no-cache")),
    ];
    Ok((no_cache, Json(body)).into_response())
}

/// Client credentials as presented, and whether they came by HTTP Basic.
struct ClientCredentials {
    id: String,
    secret: String,
    basic: bool,
}

fn client_credentials(
    headers: &HeaderMap,
    form: &TokenForm,
) -> Result<ClientCredentials, OAuthError> {
    let basic = headers
        .get(AUTHORIZATION)
        .map(|value| basic_credentials(value).ok_or(OAuthError::invalid_client(true)))
        .transpose()?;
    let posted = form.client_id.clone().zip(form.client_secret.clone());
    match (basic, posted) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "Use one client authentication method, not both.",
        )),
        (Some((id, secret)), None) => Ok(ClientCredentials {
            id,
            secret,
            basic: true,
        }),
        (None, Some((id, secret))) => Ok(ClientCredentials {
            id,
            secret,
            basic: false,
        }),
        (None, None) => Err(OAuthError::invalid_client(false)),
    }
}

/// Decodes `Basic base64(id:secret)`. (The RFC 6749 form-encoding of id and secret inside the
/// header is not undone: the seeded credentials contain no characters it would change.)
fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    let (scheme, encoded) = value.to_str().ok()?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// An OAuth 2.0 error response (`{"error","error_description"}`, RFC 6749 §5.2).
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    /// Whether to challenge for HTTP Basic (`WWW-Authenticate`), as RFC 6749 asks after a
    /// failed Basic authentication.
    basic_challenge: bool,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: &'static str) -> Self {
        Self {
            status,
            error,
            description,
            basic_challenge: false,
        }
    }

    fn invalid_request(description: &'static str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_client(basic_challenge: bool) -> Self {
        Self {
            basic_challenge,
            ..Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed.",
            )
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": self.error,
            "error_description": self.description,
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.basic_challenge {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"PingOne\""),
            );
        }
        response
    }
}
