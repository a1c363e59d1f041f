//! The error model of handbook §4.1: one enum, stable codes, and the JSON body a flow reads.
//!
//! Every failure a caller can see is an [`Error`]. Its [`Error::code`] is a stable constant that
//! DaVinci flows branch on; its message is English for humans and never carries a secret, an
//! OTP, a token or an upstream body verbatim.

use serde::Serialize;
use serde_json::{Value, json};

use crate::schema::Documented;
use crate::schema::output::{array, integer, object, string, titled};

/// Every (HTTP status, stable code) pair a failed call can answer with, by status: the API
/// documentation's error responses and the `code` enum are rendered from this table.
pub const STATUS_CODES: &[(u16, &str)] = &[
    (400, "VALIDATION_FAILED"),
    (400, "INVALID_OTP"),
    (401, "UNAUTHORIZED"),
    (404, "NOT_FOUND"),
    (405, "METHOD_NOT_ALLOWED"),
    (409, "INVALID_STATE"),
    (413, "PAYLOAD_TOO_LARGE"),
    (429, "RATE_LIMITED"),
    (429, "USER_RATE_LIMITED"),
    (500, "CONFIG_UNAVAILABLE"),
    (500, "INTERNAL"),
    (502, "UPSTREAM_INVALID"),
    (503, "UPSTREAM_UNAVAILABLE"),
    (504, "UPSTREAM_UNAVAILABLE"),
];

/// One problem with one field of the request, as listed in the error body's `details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// Path of the field in the request body, e.g. `properties.userId`.
    pub field: String,
    /// What is wrong with it, e.g. `is required`.
    pub problem: String,
}

impl FieldProblem {
    /// A problem with the field at `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// The problems a handler finds among its inputs beyond what the schema checks (inputs that
/// must agree, a value that must parse), each naming its field under `properties`; all are
/// reported at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldProblem>);

impl Problems {
    /// A problem with input `field`.
    pub fn add(&mut self, field: &str, text: impl Into<String>) {
        self.0
            .push(FieldProblem::new(format!("properties.{field}"), text));
    }

    /// Whether none was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The validation error listing them all.
    pub fn into_error(self) -> Error {
        Error::Validation(self.0)
    }
}

/// Everything that can go wrong in a capability call, with its stable code and HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request does not satisfy the capability's input schema (all violations listed).
    #[error("the request is invalid: {} problem(s)", .0.len())]
    Validation(Vec<FieldProblem>),
    /// PingOne rejected a value of the request (its `INVALID_DATA`), e.g. an unknown user.
    #[error("PingOne rejected the request: {message}")]
    Rejected {
        /// English summary, safe to show.
        message: String,
        /// The fields PingOne named.
        details: Vec<FieldProblem>,
        /// PingOne's error `id`, for support cases.
        ping_one_error_id: Option<String>,
    },
    /// The one-time passcode was wrong or expired; the flow may let the user try again.
    #[error("the one-time passcode is not valid")]
    InvalidOtp {
        /// Why (wrong, expired), and how many tries are left when PingOne says so.
        details: Vec<FieldProblem>,
        /// PingOne's error `id`.
        ping_one_error_id: Option<String>,
    },
    /// The action is not allowed in the resource's current state (e.g. an OTP for a completed
    /// authentication): PingOne's `REQUEST_FAILED`.
    #[error("the action is not allowed now: {message}")]
    InvalidState {
        /// English summary.
        message: String,
        /// Problems PingOne named (e.g. `NO_USABLE_DEVICES`).
        details: Vec<FieldProblem>,
        /// PingOne's error `id`.
        ping_one_error_id: Option<String>,
    },
    /// The caller did not present a valid credential.
    #[error("a valid credential is required")]
    Unauthorized,
    /// The route, capability or PingOne resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not for this HTTP method.
    #[error("method {0} is not allowed here; use POST")]
    MethodNotAllowed(String),
    /// The request body is larger than the limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// PingOne is throttling; `retry_after_seconds` is its `Retry-After` when it sent one.
    #[error("PingOne is rate limiting requests")]
    RateLimited {
        /// Seconds to wait before trying again.
        retry_after_seconds: Option<u64>,
    },
    /// This user had as many sends or passcode checks of one kind as the deployment allows in
    /// the current window (`shared::limits`); PingOne was not called.
    #[error("too many {what} for this user; try again in {retry_after_seconds} s")]
    UserRateLimited {
        /// What was limited, in words: "push notifications", "passcode checks", ….
        what: &'static str,
        /// Seconds until the window ends.
        retry_after_seconds: u64,
    },
    /// PingOne could not be reached or answered with a server error, within the time budget.
    #[error("PingOne is unavailable: {0}")]
    UpstreamUnavailable(String),
    /// The time budget ran out before PingOne answered.
    #[error("PingOne did not answer within the time budget")]
    UpstreamTimeout,
    /// PingOne answered with something we cannot read.
    #[error("PingOne sent an unexpected response: {0}")]
    UpstreamInvalid(String),
    /// A secret or setting needed to call Ping is missing, unreadable or rejected.
    #[error("configuration unavailable: {0}")]
    ConfigUnavailable(String),
    /// A bug on our side. The message is logged; the caller sees a generic text.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable code a flow branches on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) | Error::Rejected { .. } => "VALIDATION_FAILED",
            Error::InvalidOtp { .. } => "INVALID_OTP",
            Error::InvalidState { .. } => "INVALID_STATE",
            Error::Unauthorized => "UNAUTHORIZED",
            Error::NotFound(_) => "NOT_FOUND",
            Error::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Error::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::UserRateLimited { .. } => "USER_RATE_LIMITED",
            Error::UpstreamUnavailable(_) | Error::UpstreamTimeout => "UPSTREAM_UNAVAILABLE",
            Error::UpstreamInvalid(_) => "UPSTREAM_INVALID",
            Error::ConfigUnavailable(_) => "CONFIG_UNAVAILABLE",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status of the answer.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Validation(_) | Error::Rejected { .. } | Error::InvalidOtp { .. } => 400,
            Error::Unauthorized => 401,
            Error::NotFound(_) => 404,
            Error::MethodNotAllowed(_) => 405,
            Error::InvalidState { .. } => 409,
            Error::PayloadTooLarge { .. } => 413,
            Error::RateLimited { .. } | Error::UserRateLimited { .. } => 429,
            Error::ConfigUnavailable(_) | Error::Internal(_) => 500,
            Error::UpstreamInvalid(_) => 502,
            Error::UpstreamUnavailable(_) => 503,
            Error::UpstreamTimeout => 504,
        }
    }

    /// True for failures of the service rather than of the request (logged at error level).
    pub fn is_server_fault(&self) -> bool {
        self.http_status() >= 500
    }

    /// The JSON body of handbook §4.1 for this error.
    pub fn body(&self, correlation_id: &str) -> ErrorBody {
        let (details, ping_one_error_id) = match self {
            Error::Validation(details) => (details.clone(), None),
            Error::Rejected {
                details,
                ping_one_error_id,
                ..
            }
            | Error::InvalidOtp {
                details,
                ping_one_error_id,
            }
            | Error::InvalidState {
                details,
                ping_one_error_id,
                ..
            } => (details.clone(), ping_one_error_id.clone()),
            _ => (Vec::new(), None),
        };
        // A server fault's detail (a secret's ARN with the account id, a parser's message quoting
        // a value, an address) is the operator's: it goes to the call's log line, under the same
        // correlation id; the caller gets the fault's generic text.
        let message = match self {
            Error::Internal(_) => "internal error".to_string(),
            Error::ConfigUnavailable(_) => "configuration unavailable".to_string(),
            Error::UpstreamInvalid(_) => "PingOne sent an unexpected response".to_string(),
            Error::UpstreamUnavailable(_) => "PingOne is unavailable".to_string(),
            other => other.to_string(),
        };
        ErrorBody {
            code: self.code(),
            message,
            http_response_code: self.http_status(),
            details,
            correlation_id: correlation_id.to_string(),
            ping_one_error_id,
            retry_after_seconds: match self {
                Error::RateLimited {
                    retry_after_seconds,
                } => *retry_after_seconds,
                Error::UserRateLimited {
                    retry_after_seconds,
                    ..
                } => Some(*retry_after_seconds),
                _ => None,
            },
        }
    }
}

/// The error body every failed call returns (the names a DaVinci flow reads from a failed node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable code, e.g. `VALIDATION_FAILED`.
    pub code: &'static str,
    /// English description.
    pub message: String,
    /// The HTTP status of the answer, repeated for flows that only see the body.
    pub http_response_code: u16,
    /// Field problems (empty when none apply).
    pub details: Vec<FieldProblem>,
    /// The Lambda request id (or the local gateway's id) of this call, to find its log lines.
    pub correlation_id: String,
    /// PingOne's error id when PingOne produced the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_one_error_id: Option<String>,
    /// Seconds to wait before retrying, for `RATE_LIMITED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

impl Documented for ErrorBody {
    fn json_schema() -> Value {
        let mut codes: Vec<&str> = Vec::new();
        for (_, code) in STATUS_CODES {
            if !codes.contains(code) {
                codes.push(code);
            }
        }
        let code = json!({
            "type": "string",
            "enum": codes,
            "description": "Stable code a flow branches on",
        });
        let problem = object(
            "One problem with one field of the request",
            &[
                ("field", string("Path of the field, e.g. properties.userId")),
                ("problem", string("What is wrong with it, e.g. is required")),
            ],
            &[],
        );
        titled(
            "Error",
            object(
                "The body of every failed call",
                &[
                    ("code", code),
                    ("message", string("English description; never a secret")),
                    (
                        "httpResponseCode",
                        integer("The HTTP status, repeated for flows that only see the body"),
                    ),
                    (
                        "details",
                        array(problem, "Field problems (empty when none apply)"),
                    ),
                    (
                        "correlationId",
                        string("Id of this call in the logs (also the X-Correlation-Id header)"),
                    ),
                    (
                        "pingOneErrorId",
                        string("PingOne's error id, when PingOne produced the error"),
                    ),
                    (
                        "retryAfterSeconds",
                        integer("Seconds to wait before retrying (RATE_LIMITED, when known)"),
                    ),
                ],
                &["pingOneErrorId", "retryAfterSeconds"],
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_fault_body_carries_no_internal_detail() {
        let account = "123456789012";
        let faults = [
            Error::ConfigUnavailable(format!(
                "arn:aws:secretsmanager:eu-west-1:{account}:secret:pingone AccessDenied"
            )),
            Error::UpstreamInvalid(format!("invalid type: string \"{account}\", expected u64")),
            Error::UpstreamUnavailable(format!("connect to 10.0.0.1 for {account}")),
            Error::Internal(format!("state {account}")),
        ];
        for fault in faults {
            let body = serde_json::to_string(&fault.body("req-1")).unwrap();
            assert!(!body.contains(account), "{body}");
            assert!(
                body.contains("req-1"),
                "the correlation id ties it to the log: {body}"
            );
        }
    }
    use crate::schema::output::departures;

    #[test]
    fn validation_body_lists_every_problem_with_the_stable_code() {
        let error = Error::Validation(vec![
            FieldProblem::new("properties.userId", "is required"),
            FieldProblem::new("properties.otp", "must be a string"),
        ]);
        let body = serde_json::to_value(error.body("req-1")).unwrap();
        assert_eq!(
            body,
            json!({
                "code": "VALIDATION_FAILED",
                "message": "the request is invalid: 2 problem(s)",
                "httpResponseCode": 400,
                "details": [
                    {"field": "properties.userId", "problem": "is required"},
                    {"field": "properties.otp", "problem": "must be a string"}
                ],
                "correlationId": "req-1"
            })
        );
    }

    #[test]
    fn internal_errors_hide_their_message_from_callers() {
        let body = Error::Internal("token cache poisoned at line 42".into()).body("c");
        assert_eq!(body.message, "internal error");
        assert_eq!(body.http_response_code, 500);
    }

    #[test]
    fn rate_limited_carries_retry_after() {
        let body = Error::RateLimited {
            retry_after_seconds: Some(3),
        }
        .body("c");
        assert_eq!((body.code, body.http_response_code), ("RATE_LIMITED", 429));
        assert_eq!(body.retry_after_seconds, Some(3));
    }

    #[test]
    fn every_code_has_a_status_in_the_right_class() {
        let cases = [
            (Error::Unauthorized, 401),
            (Error::NotFound("x".into()), 404),
            (Error::MethodNotAllowed("GET".into()), 405),
            (Error::PayloadTooLarge { limit: 1 }, 413),
            (Error::UpstreamUnavailable("x".into()), 503),
            (Error::UpstreamTimeout, 504),
            (Error::UpstreamInvalid("x".into()), 502),
            (Error::ConfigUnavailable("x".into()), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.http_status(), status, "{}", error.code());
        }
    }

    /// One error of each variant; the match makes a new variant fail to compile here until it
    /// is added (and so documented in [`STATUS_CODES`]).
    fn one_of_each() -> Vec<Error> {
        let problems = vec![FieldProblem::new("properties.otp", "is wrong")];
        let all = vec![
            Error::Validation(problems.clone()),
            Error::Rejected {
                message: "no such user".into(),
                details: problems.clone(),
                ping_one_error_id: Some("e-1".into()),
            },
            Error::InvalidOtp {
                details: problems.clone(),
                ping_one_error_id: None,
            },
            Error::InvalidState {
                message: "completed".into(),
                details: Vec::new(),
                ping_one_error_id: Some("e-2".into()),
            },
            Error::Unauthorized,
            Error::NotFound("no such device".into()),
            Error::MethodNotAllowed("GET".into()),
            Error::PayloadTooLarge { limit: 1 },
            Error::RateLimited {
                retry_after_seconds: Some(2),
            },
            Error::UserRateLimited {
                what: "push notifications",
                retry_after_seconds: 60,
            },
            Error::UpstreamUnavailable("reset".into()),
            Error::UpstreamTimeout,
            Error::UpstreamInvalid("not JSON".into()),
            Error::ConfigUnavailable("no secret".into()),
            Error::Internal("bug".into()),
        ];
        for error in &all {
            match error {
                Error::Validation(_)
                | Error::Rejected { .. }
                | Error::InvalidOtp { .. }
                | Error::InvalidState { .. }
                | Error::Unauthorized
                | Error::NotFound(_)
                | Error::MethodNotAllowed(_)
                | Error::PayloadTooLarge { .. }
                | Error::RateLimited { .. }
                | Error::UserRateLimited { .. }
                | Error::UpstreamUnavailable(_)
                | Error::UpstreamTimeout
                | Error::UpstreamInvalid(_)
                | Error::ConfigUnavailable(_)
                | Error::Internal(_) => {}
            }
        }
        all
    }

    #[test]
    fn the_status_table_lists_exactly_what_errors_answer() {
        let answered: Vec<(u16, &str)> = one_of_each()
            .iter()
            .map(|error| (error.http_status(), error.code()))
            .collect();
        for pair in &answered {
            assert!(
                STATUS_CODES.contains(pair),
                "{pair:?} is not in STATUS_CODES"
            );
        }
        for pair in STATUS_CODES {
            assert!(answered.contains(pair), "{pair:?} is answered by no error");
        }
    }

    #[test]
    fn every_error_body_matches_the_documented_schema() {
        let schema = ErrorBody::json_schema();
        for error in one_of_each() {
            let body = serde_json::to_value(error.body("req-1")).unwrap();
            assert_eq!(departures(&schema, &body), Vec::<String>::new(), "{body}");
        }
    }
}
