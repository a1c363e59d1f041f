//! PingOne error bodies (`{id, code, message, details}`, pingone-api.md §4.1) mapped to our
//! stable codes. Ping warns that the HTTP status of a class may change, so the mapping keys on
//! `code` and falls back to the status only when the body has none.

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, FieldProblem};

/// Detail codes that mean "the passcode was not accepted; the user may try again".
const OTP_DETAIL_CODES: &[&str] = &["INVALID_OTP", "OTP_EXPIRED"];

/// PingOne's error body, as far as we read it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PingOneError {
    /// Log correlation id on PingOne's side.
    pub id: Option<String>,
    /// Stable constant, e.g. `INVALID_DATA`.
    pub code: Option<String>,
    /// English, for debugging.
    pub message: Option<String>,
    /// Field-level problems.
    pub details: Vec<PingOneErrorDetail>,
}

/// One entry of `details`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PingOneErrorDetail {
    /// e.g. `INVALID_VALUE`, `INVALID_OTP`.
    pub code: Option<String>,
    /// The field at fault.
    pub target: Option<String>,
    /// English, for debugging.
    pub message: Option<String>,
    /// Extra facts (`remainingAttempts`, `allowedPattern`, …).
    pub inner_error: Option<Value>,
}

impl PingOneErrorDetail {
    fn problem(&self) -> FieldProblem {
        let mut problem = match (&self.code, &self.message) {
            (Some(code), Some(message)) => format!("{code}: {}", clip(message)),
            (Some(code), None) => code.clone(),
            (None, Some(message)) => clip(message),
            (None, None) => "rejected by PingOne".to_string(),
        };
        let remaining = self
            .inner_error
            .as_ref()
            .and_then(|inner| inner.get("remainingAttempts"))
            .and_then(Value::as_u64);
        if let Some(remaining) = remaining {
            problem.push_str(&format!(" ({remaining} attempt(s) remaining)"));
        }
        let field = self.target.clone().unwrap_or_else(|| "request".to_string());
        FieldProblem::new(field, problem)
    }
}

/// The attempts PingOne says are left after a wrong passcode (as [`PingOneErrorDetail::problem`] words
/// them: "(N attempt(s) remaining)").
pub fn attempts_left(details: &[FieldProblem]) -> Option<u32> {
    details.iter().find_map(|detail| {
        let (before, _) = detail.problem.split_once(" attempt(s) remaining")?;
        let (_, count) = before.rsplit_once('(')?;
        count.parse().ok()
    })
}

/// Whether PingOne named `code` among the problems (`CODE: message`).
pub fn names_code(details: &[FieldProblem], code: &str) -> bool {
    details.iter().any(|detail| {
        detail
            .problem
            .strip_prefix(code)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
    })
}

/// PingOne's English messages are for debugging; keep what we pass on short.
fn clip(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// Maps a non-2xx PingOne answer to our error.
pub fn map_error(status: u16, retry_after_seconds: Option<u64>, body: &[u8]) -> Error {
    let parsed: PingOneError = serde_json::from_slice(body).unwrap_or_default();
    let details: Vec<FieldProblem> = parsed.details.iter().map(|d| d.problem()).collect();
    let message = parsed
        .message
        .as_deref()
        .map(clip)
        .unwrap_or_else(|| format!("HTTP {status}"));
    let id = parsed.id.clone();
    let is_otp_problem = parsed.details.iter().any(|detail| {
        detail
            .code
            .as_deref()
            .is_some_and(|code| OTP_DETAIL_CODES.contains(&code))
    });

    let code = parsed.code.as_deref().unwrap_or(match status {
        400 => "INVALID_DATA",
        401 | 403 => "ACCESS_FAILED",
        404 => "NOT_FOUND",
        409 => "REQUEST_FAILED",
        429 => "REQUEST_LIMITED",
        500..=599 => "UNEXPECTED_ERROR",
        _ => "",
    });
    match code {
        "INVALID_DATA" | "INVALID_VALUE" | "INVALID_REQUEST" if is_otp_problem => {
            Error::InvalidOtp {
                details,
                ping_one_error_id: id,
            }
        }
        "INVALID_DATA" | "INVALID_VALUE" | "INVALID_REQUEST" => Error::Rejected {
            message,
            details,
            ping_one_error_id: id,
        },
        "REQUEST_FAILED" => Error::InvalidState {
            message,
            details,
            ping_one_error_id: id,
        },
        "NOT_FOUND" => no_such_resource(),
        "REQUEST_LIMITED" => Error::RateLimited {
            retry_after_seconds,
        },
        "ACCESS_FAILED" => Error::ConfigUnavailable(
            "PingOne refused the worker application access (check its role assignments)"
                .to_string(),
        ),
        "UNEXPECTED_ERROR" => Error::UpstreamUnavailable(format!("HTTP {status}")),
        _ if status >= 500 => Error::UpstreamUnavailable(format!("HTTP {status}")),
        _ => Error::UpstreamInvalid(format!("unexpected HTTP {status}")),
    }
}

/// PingOne's "not found", also the answer for a resource of another user: the two must not be
/// told apart.
pub fn no_such_resource() -> Error {
    Error::NotFound("PingOne has no such resource".to_string())
}

/// Parses a `Retry-After` header: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(status: u16, body: Value) -> Error {
        map_error(status, None, body.to_string().as_bytes())
    }

    #[test]
    fn invalid_data_becomes_validation_failed_with_pingones_targets() {
        let error = map(
            400,
            json!({"id": "p1-id", "code": "INVALID_DATA", "message": "One or more validation errors",
                   "details": [{"code": "INVALID_VALUE", "target": "phone", "message": "Bad phone"}]}),
        );
        let body = error.body("c");
        assert_eq!(body.code, "VALIDATION_FAILED");
        assert_eq!(body.ping_one_error_id.as_deref(), Some("p1-id"));
        assert_eq!(
            body.details,
            [FieldProblem::new("phone", "INVALID_VALUE: Bad phone")]
        );
    }

    #[test]
    fn a_wrong_otp_is_its_own_code_with_the_remaining_attempts() {
        let error = map(
            400,
            json!({"id": "x", "code": "INVALID_DATA", "message": "Invalid OTP",
                   "details": [{"code": "INVALID_OTP", "target": "otp", "message": "Invalid OTP",
                                "innerError": {"remainingAttempts": 2}}]}),
        );
        assert_eq!(error.code(), "INVALID_OTP");
        assert_eq!(error.http_status(), 400);
        assert!(
            error.body("c").details[0]
                .problem
                .contains("2 attempt(s) remaining")
        );
        let expired = map(
            400,
            json!({"code": "INVALID_DATA", "details": [{"code": "OTP_EXPIRED"}]}),
        );
        assert_eq!(expired.code(), "INVALID_OTP");
    }

    #[test]
    fn codes_win_over_statuses() {
        // Ping may move a class to another status; the code decides.
        assert_eq!(
            map(403, json!({"code": "INVALID_DATA"})).code(),
            "VALIDATION_FAILED"
        );
        assert_eq!(
            map(400, json!({"code": "REQUEST_FAILED"})).code(),
            "INVALID_STATE"
        );
        assert_eq!(map(400, json!({"code": "NOT_FOUND"})).code(), "NOT_FOUND");
    }

    #[test]
    fn each_pingone_code_has_its_mapping() {
        let table = [
            ("NOT_FOUND", 404, "NOT_FOUND"),
            ("REQUEST_FAILED", 400, "INVALID_STATE"),
            ("REQUEST_LIMITED", 429, "RATE_LIMITED"),
            ("ACCESS_FAILED", 403, "CONFIG_UNAVAILABLE"),
            ("UNEXPECTED_ERROR", 500, "UPSTREAM_UNAVAILABLE"),
            ("INVALID_REQUEST", 415, "VALIDATION_FAILED"),
        ];
        for (code, status, ours) in table {
            assert_eq!(
                map(status, json!({"id": "i", "code": code})).code(),
                ours,
                "{code}"
            );
        }
    }

    #[test]
    fn bodies_without_a_code_fall_back_to_the_status() {
        let cases = [
            (404, "NOT_FOUND"),
            (429, "RATE_LIMITED"),
            (502, "UPSTREAM_UNAVAILABLE"),
            (503, "UPSTREAM_UNAVAILABLE"),
            (400, "VALIDATION_FAILED"),
            (418, "UPSTREAM_INVALID"),
        ];
        for (status, ours) in cases {
            assert_eq!(
                map_error(status, None, b"<html>oops</html>").code(),
                ours,
                "{status}"
            );
        }
    }

    #[test]
    fn rate_limits_keep_the_retry_after() {
        let error = map_error(429, Some(7), br#"{"code":"REQUEST_LIMITED"}"#);
        assert!(matches!(
            error,
            Error::RateLimited {
                retry_after_seconds: Some(7)
            }
        ));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(3));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(0));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn long_pingone_messages_are_clipped() {
        let error = map(
            400,
            json!({"code": "INVALID_DATA", "message": "x".repeat(5000)}),
        );
        assert!(error.to_string().len() < 300);
    }

    #[test]
    fn pingones_words_after_a_wrong_passcode_are_read() {
        let wrong = [FieldProblem::new(
            "otp",
            "INVALID_OTP: The passcode is not correct. (2 attempt(s) remaining)",
        )];
        assert_eq!(attempts_left(&wrong), Some(2));
        assert!(names_code(&wrong, "INVALID_OTP"));
        assert!(!names_code(&wrong, "INVALID"));
        let blocked = [FieldProblem::new("otp", "TOO_MANY_ATTEMPTS: Too many.")];
        assert_eq!(attempts_left(&blocked), None);
        assert!(names_code(&blocked, "TOO_MANY_ATTEMPTS"));
    }
}
