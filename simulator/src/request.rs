//! Request reading shared by the handlers, with PingOne-shaped errors instead of axum's plain
//! text rejections.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use crate::errors::{ApiError, ErrorDetail};

/// The request's media type, lower-cased and without parameters (`; charset=utf-8`).
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// Fails with 415 `INVALID_REQUEST` unless the body is declared as `expected`.
pub(crate) fn require_media_type(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    match media_type(headers) {
        Some(actual) if actual == expected => Ok(()),
        Some(actual) => Err(ApiError::unsupported_media_type(format!(
            "Content-Type {actual} is not supported here; use {expected}"
        ))),
        None => Err(ApiError::unsupported_media_type(format!(
            "Content-Type is missing; use {expected}"
        ))),
    }
}

/// Parses a JSON body: unparsable JSON is `INVALID_REQUEST`, JSON of the wrong shape is
/// `INVALID_DATA` (as PingOne separates a broken request from invalid values).
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::invalid_request(format!("The body is not valid JSON: {error}"))
    })?;
    serde_json::from_value(value).map_err(|error| {
        ApiError::invalid_data(ErrorDetail::new("INVALID_VALUE", error.to_string()))
    })
}

/// Parses a query string (absent = empty) into `T`; failures are `INVALID_DATA`.
pub(crate) fn query<T: DeserializeOwned>(raw: Option<&str>) -> Result<T, ApiError> {
    serde_urlencoded::from_str(raw.unwrap_or_default()).map_err(|error| {
        ApiError::invalid_data(ErrorDetail::new("INVALID_VALUE", error.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::errors::ErrorCode;

    #[test]
    fn media_type_ignores_parameters_and_case() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "Application/JSON; charset=UTF-8"
                .parse()
                .expect("valid header"),
        );
        assert_eq!(media_type(&headers).as_deref(), Some("application/json"));
        assert!(require_media_type(&headers, "application/json").is_ok());
    }

    #[test]
    fn broken_json_is_invalid_request_and_wrong_shape_is_invalid_data() {
        let broken = json_body::<serde_json::Value>(b"{\"otp\":").unwrap_err();
        assert_eq!(broken.code(), ErrorCode::InvalidRequest);
        let wrong = json_body::<HashMap<String, u8>>(b"{\"a\":\"x\"}").unwrap_err();
        assert_eq!(wrong.code(), ErrorCode::InvalidData);
    }
}
