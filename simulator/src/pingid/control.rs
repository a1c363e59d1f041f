//! The legacy side of the control API (`/_sim/pingid/…`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::rest::resolve_push;
use super::store::PushDecision;
use crate::demo::legacy::{OTHER_ORG_ALIAS, other_properties_file, properties_file};
use crate::errors::{ApiError, ErrorCode};
use crate::request::json_body;
use crate::state::{SharedState, lock};

#[derive(Debug, Deserialize)]
struct PushBody {
    decision: PushDecision,
}

/// `POST /_sim/pingid/push/{sessionId}` `{"decision":"APPROVE"|"DENY"|"TIMEOUT"}`: the phone
/// answers the push of a `startauthentication` session. 200 `{"sessionId","decision"}`,
/// 404 unknown session, 409 no pending push.
pub(crate) async fn push(
    State(state): State<SharedState>,
    Path(session): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let PushBody { decision } = json_body(&body)?;
    match resolve_push(&state, &session, decision) {
        Ok(()) => Ok(Json(
            json!({ "sessionId": session, "decision": decision_name(decision) }),
        )),
        Err(None) => Err(ApiError::not_found(
            "No PingID authentication session has this id.",
        )),
        Err(Some(message)) => Err(ApiError::new(
            StatusCode::CONFLICT,
            ErrorCode::RequestFailed,
            message,
        )),
    }
}

fn decision_name(decision: PushDecision) -> &'static str {
    match decision {
        PushDecision::Approve => "APPROVE",
        PushDecision::Deny => "DENY",
        PushDecision::Timeout => "TIMEOUT",
    }
}

#[derive(Debug, Default, Deserialize)]
struct TamperBody {
    count: Option<u32>,
}

/// `POST /_sim/pingid/tamper-next-response` (optional `{"count":N}`, default 1): the next N
/// signed answers (REST responses and `ppm_response` tokens) are signed with a wrong key.
/// 200 `{"pending":N}`.
pub(crate) async fn tamper(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let TamperBody { count } = if body.iter().all(u8::is_ascii_whitespace) {
        TamperBody::default()
    } else {
        json_body(&body)?
    };
    let mut data = lock(&state.legacy.data);
    data.tamper_next = count.unwrap_or(1);
    Ok(Json(json!({ "pending": data.tamper_next })))
}

/// `GET /_sim/pingid/ppm/last`: `{"request": <claims>|null, "response": <claims>|null}` of the
/// last PPM request the authenticator accepted and the response it sent.
pub(crate) async fn last_ppm(State(state): State<SharedState>) -> Json<Value> {
    let data = lock(&state.legacy.data);
    Json(json!({
        "request": data.last_ppm_request,
        "response": data.last_ppm_response,
    }))
}

/// `GET /_sim/pingid/properties[?org=other]`: the `pingid.properties` of the demo org (or the
/// second org) pointing at this simulator, as `text/plain`.
pub(crate) async fn properties(
    State(state): State<SharedState>,
    RawQuery(raw): RawQuery,
) -> Response {
    let other = raw
        .as_deref()
        .is_some_and(|q| q == "org=other" || q == format!("org={OTHER_ORG_ALIAS}"));
    let file = if other {
        other_properties_file(&state.base_url)
    } else {
        properties_file(&state.base_url)
    };
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], file).into_response()
}
