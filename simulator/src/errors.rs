//! PingOne's error body (`P1Error` in the OpenAPI description):
//! `{"id","code","message","details":[{"code","target","message","innerError"}]}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Top-level error codes the simulator answers with (PingOne's stable constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ErrorCode {
    /// Validation failed on a field of the request.
    InvalidData,
    /// The resource does not exist (or is not visible to the caller).
    NotFound,
    /// Missing, invalid or expired credentials, or credentials for another environment.
    AccessFailed,
    /// The action is not allowed in the resource's current state.
    RequestFailed,
    /// The request itself is unusable: wrong content type, unparsable body.
    InvalidRequest,
    /// Rate limited.
    RequestLimited,
    /// The service failed.
    UnexpectedError,
}

/// One entry of `details`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorDetail {
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<String>,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    inner_error: Option<Value>,
}

impl ErrorDetail {
    /// A detail with a code (e.g. `INVALID_VALUE`, `INVALID_OTP`) and a message.
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            target: None,
            message: message.into(),
            inner_error: None,
        }
    }

    /// Names the request field at fault, in dotted form (`selectedDevice.id`).
    pub(crate) fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// Attaches machine-readable extras (`innerError`).
    pub(crate) fn inner_error(mut self, inner_error: Value) -> Self {
        self.inner_error = Some(inner_error);
        self
    }
}

/// An error answered in PingOne's shape with a fresh correlation `id`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    details: Vec<ErrorDetail>,
}

impl ApiError {
    /// An error with an explicit status and code.
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Appends one `details` entry.
    pub(crate) fn detail(mut self, detail: ErrorDetail) -> Self {
        self.details.push(detail);
        self
    }

    /// 400 `INVALID_DATA` with one detail.
    pub(crate) fn invalid_data(detail: ErrorDetail) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidData,
            "The request could not be completed. One or more validation errors were in the request.",
        )
        .detail(detail)
    }

    /// 400 `INVALID_DATA` for a field whose value is wrong (detail `INVALID_VALUE`).
    pub(crate) fn invalid_value(target: &str, message: impl Into<String>) -> Self {
        Self::invalid_data(ErrorDetail::new("INVALID_VALUE", message).target(target))
    }

    /// 404 `NOT_FOUND`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 400 `REQUEST_FAILED`: the action is not allowed in the current state.
    pub(crate) fn request_failed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::RequestFailed, message)
    }

    /// 400 `INVALID_REQUEST`: the body cannot be read.
    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }

    /// 415 `INVALID_REQUEST`: the content type is not one this endpoint accepts.
    pub(crate) fn unsupported_media_type(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::InvalidRequest,
            message,
        )
    }

    /// 500 `UNEXPECTED_ERROR`.
    pub(crate) fn unexpected(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::UnexpectedError,
            message,
        )
    }

    /// The top-level code.
    #[cfg(test)]
    pub(crate) fn code(&self) -> ErrorCode {
        self.code
    }
}

/// The serialized body.
#[derive(Serialize)]
struct P1Error<'a> {
    id: Uuid,
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    details: &'a [ErrorDetail],
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = P1Error {
            id: Uuid::new_v4(),
            code: self.code,
            message: &self.message,
            details: &self.details,
        };
        (self.status, Json(body)).into_response()
    }
}
