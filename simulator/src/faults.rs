//! Injected faults: latency, error statuses (429 with `Retry-After`), dropped connections and
//! truncated bodies, configured through `PUT /_sim/faults`.

use std::sync::Mutex;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::errors::{ApiError, ErrorCode};
use crate::pingid::html::error_page;
use crate::pingid::rest::InjectedError;
use crate::state::{SharedState, lock};

/// One fault rule, as sent to `PUT /_sim/faults` (camelCase JSON).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Fault {
    /// Requests whose path starts with this are hit (empty: all PingOne and PingID requests).
    #[serde(default)]
    pub(crate) path_prefix: String,
    /// Only requests with this HTTP method are hit (absent: every method), e.g. to fail an
    /// action (`POST`) on a resource while reads of it (`GET`) are served.
    #[serde(default)]
    pub(crate) method: Option<String>,
    /// Delay before anything else happens (combinable with every other effect).
    #[serde(default)]
    pub(crate) latency_ms: u64,
    /// Answer with this status and a PingOne error body instead of serving the request.
    #[serde(default)]
    pub(crate) status: Option<u16>,
    /// `Retry-After` seconds sent with `status`.
    #[serde(default)]
    pub(crate) retry_after_seconds: Option<u64>,
    /// Close the connection without any HTTP response.
    #[serde(default)]
    pub(crate) reset: bool,
    /// Answer 200 `application/json` with a truncated JSON body.
    #[serde(default)]
    pub(crate) malformed_body: bool,
    /// PingID REST only (`/pingid/rest/…`): answer with this `errorId` in a response signed
    /// with the caller's org key (HTTP `status`, else 200 for 200/300xx and 400 otherwise).
    /// Without it, a `status` on a PingID REST path answers errorId 10551 (4xx) or 500 (5xx).
    #[serde(default)]
    pub(crate) error_id: Option<u32>,
    /// How many requests the rule hits before it expires; `None` until cleared.
    #[serde(default)]
    pub(crate) count: Option<u32>,
}

impl Fault {
    /// Rejects rules that could not be applied.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Some(status) = self.status
            && !(400..=599).contains(&status)
        {
            return Err(format!("status {status} is not an error status (400-599)"));
        }
        if self.count == Some(0) {
            return Err("count must be at least 1 (or null for no limit)".into());
        }
        Ok(())
    }
}

/// The active fault rules, in the order given.
#[derive(Debug, Default)]
pub(crate) struct FaultList {
    rules: Mutex<Vec<Fault>>,
}

impl FaultList {
    /// Replaces the active rules.
    pub(crate) fn replace(&self, rules: Vec<Fault>) {
        *lock(&self.rules) = rules;
    }

    /// The active rules.
    pub(crate) fn list(&self) -> Vec<Fault> {
        lock(&self.rules).clone()
    }

    /// The first rule matching `method` and `path`, using up one of its `count` (choice left
    /// open: when several rules match, only the first one applies).
    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        if path.starts_with("/_sim") {
            return None;
        }
        let mut rules = lock(&self.rules);
        let index = rules.iter().position(|rule| {
            path.starts_with(&rule.path_prefix)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|wanted| wanted.eq_ignore_ascii_case(method))
        })?;
        let rule = rules[index].clone();
        match &mut rules[index].count {
            Some(1) => {
                rules.remove(index);
            }
            Some(left) => *left -= 1,
            None => {}
        }
        Some(rule)
    }
}

/// Marks a response that must not be sent: the server drops the connection instead. Also the
/// error the connection's service returns to make hyper do so.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InjectedReset;

impl std::fmt::Display for InjectedReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by an injected fault")
    }
}

impl std::error::Error for InjectedReset {}

/// What a truncated body looks like: the start of a PingOne collection, cut mid-string.
const TRUNCATED_BODY: &str = r#"{"_links":{"self":{"href":"http://"#;

/// Middleware in front of every PingOne route: applies the first matching fault, if any.
pub(crate) async fn inject(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(fault) = state
        .faults
        .take(request.method().as_str(), request.uri().path())
    else {
        return next.run(request).await;
    };
    if fault.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(fault.latency_ms)).await;
    }
    if fault.reset {
        let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        response.extensions_mut().insert(InjectedReset);
        return response;
    }
    let path = request.uri().path().to_owned();
    if path.starts_with("/pingid/rest/") && (fault.status.is_some() || fault.error_id.is_some()) {
        // Answered by the REST handler once it knows the org to sign with.
        let mut request = request;
        request.extensions_mut().insert(InjectedError {
            status: fault.status,
            error_id: fault.error_id,
            retry_after_seconds: fault.retry_after_seconds,
        });
        return next.run(request).await;
    }
    if let Some(status) = fault.status {
        if path.starts_with("/pingid/") {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return error_page(status, "PingID is unavailable. Please try again later.");
        }
        return error_response(status, fault.retry_after_seconds);
    }
    if fault.malformed_body {
        return (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            TRUNCATED_BODY,
        )
            .into_response();
    }
    next.run(request).await
}

/// A PingOne error for an injected status (choice left open: the code by status class).
fn error_response(status: u16, retry_after_seconds: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let (code, message) = match status {
        StatusCode::TOO_MANY_REQUESTS => {
            (ErrorCode::RequestLimited, "Too many requests. Retry later.")
        }
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "The resource was not found."),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => (
            ErrorCode::AccessFailed,
            "Access to the resource was denied.",
        ),
        status if status.is_client_error() => (ErrorCode::InvalidRequest, "The request failed."),
        _ => (
            ErrorCode::UnexpectedError,
            "An unexpected error occurred. Retry later.",
        ),
    };
    let mut response = ApiError::new(status, code, message).into_response();
    if let Some(seconds) = retry_after_seconds {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(prefix: &str, count: Option<u32>) -> Fault {
        Fault {
            path_prefix: prefix.into(),
            method: None,
            latency_ms: 0,
            status: Some(503),
            retry_after_seconds: None,
            reset: false,
            malformed_body: false,
            error_id: None,
            count,
        }
    }

    #[test]
    fn counted_rules_expire_and_the_first_match_wins() {
        let faults = FaultList::default();
        faults.replace(vec![rule("/v1/environments", Some(2)), rule("/", None)]);
        assert_eq!(
            faults
                .take("GET", "/v1/environments/x")
                .map(|f| f.path_prefix),
            Some("/v1/environments".into())
        );
        assert_eq!(
            faults
                .take("GET", "/v1/environments/x")
                .map(|f| f.path_prefix),
            Some("/v1/environments".into())
        );
        assert_eq!(
            faults
                .take("GET", "/v1/environments/x")
                .map(|f| f.path_prefix),
            Some("/".into())
        );
        assert_eq!(faults.list().len(), 1);
    }

    #[test]
    fn control_paths_are_never_faulted() {
        let faults = FaultList::default();
        faults.replace(vec![rule("", None)]);
        assert!(faults.take("GET", "/_sim/stats").is_none());
        assert!(faults.take("GET", "/env/as/token").is_some());
    }

    #[test]
    fn a_rule_with_a_method_hits_only_that_method() {
        let faults = FaultList::default();
        let mut post_only = rule("/env/deviceAuthentications", None);
        post_only.method = Some("POST".into());
        faults.replace(vec![post_only]);
        assert!(faults.take("GET", "/env/deviceAuthentications/1").is_none());
        assert!(
            faults
                .take("POST", "/env/deviceAuthentications/1")
                .is_some()
        );
    }
}
