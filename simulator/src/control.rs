//! The control API under `/_sim/`: plays the user's phone and inbox, moves the clock, injects
//! faults and reports call counts. No authentication (the simulator only listens on loopback).
//! Bodies are read as JSON whatever their Content-Type, to keep `curl` use short.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::device_auth::PushDecision;
use crate::device_auth::routes::with_auth;
use crate::errors::{ApiError, ErrorCode};
use crate::faults::Fault;
use crate::outbox::Message;
use crate::request::{json_body, query};
use crate::state::SharedState;
use crate::tenant::DeviceKind;
use crate::totp;

/// The `/_sim` routes.
pub(crate) fn router() -> Router<SharedState> {
    Router::new()
        .route("/_sim/messages", get(messages))
        .route("/_sim/push/{deviceAuthenticationId}", post(push))
        .route("/_sim/totp/{deviceId}", get(totp_code))
        .route("/_sim/clock/advance", post(advance_clock))
        .route("/_sim/faults", put(set_faults).delete(clear_faults))
        .route("/_sim/stats", get(stats))
}

#[derive(Debug, Deserialize)]
struct MessagesQuery {
    to: Option<String>,
}

/// `GET /_sim/messages[?to=<phone or email>]`: delivered messages, oldest first.
async fn messages(
    RawQuery(raw): RawQuery,
    State(state): State<SharedState>,
) -> Result<Json<Vec<Message>>, ApiError> {
    let MessagesQuery { to } = query(raw.as_deref())?;
    // An unencoded `+` in a query decodes to a space: `?to=+1555…` typed by hand means the number.
    let to = to.map(|to| match to.strip_prefix(' ') {
        Some(rest) => format!("+{rest}"),
        None => to,
    });
    Ok(Json(state.outbox.messages(to.as_deref())))
}

#[derive(Debug, Deserialize)]
struct PushBody {
    decision: PushDecision,
}

/// `POST /_sim/push/{deviceAuthenticationId}` `{"decision":"APPROVE"|"DENY"|"TIMEOUT"}`:
/// answers the pending push and returns the device authentication as it now stands.
async fn push(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let PushBody { decision } = json_body(&body)?;
    let now = state.clock.now();
    with_auth(&state, &state.tenant.env_id, &id, |auth, _user| {
        auth.resolve_push(decision, now).map_err(|_| {
            ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::RequestFailed,
                format!(
                    "No push is pending: the authentication is {}.",
                    auth.status().as_str()
                ),
            )
        })?;
        Ok(None)
    })
    .map(Json)
}

/// `GET /_sim/totp/{deviceId}`: the code the TOTP device's authenticator app shows now.
async fn totp_code(
    State(state): State<SharedState>,
    Path(device_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match state.tenant.device(&device_id).map(|device| &device.kind) {
        Some(DeviceKind::Totp { secret }) => Ok(Json(
            json!({ "otp": totp::code_at(secret, state.clock.now()) }),
        )),
        _ => Err(ApiError::not_found("No TOTP device has this id.")),
    }
}

#[derive(Debug, Deserialize)]
struct AdvanceBody {
    seconds: u64,
}

/// The largest single clock step, far beyond any lifetime in the tenant; it keeps the clock
/// arithmetic clear of overflow.
const MAX_ADVANCE_SECS: u64 = 10 * 366 * 24 * 3600;

/// `POST /_sim/clock/advance` `{"seconds":N}`: moves the simulated clock forward.
async fn advance_clock(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let AdvanceBody { seconds } = json_body(&body)?;
    if seconds > MAX_ADVANCE_SECS {
        return Err(ApiError::invalid_value(
            "seconds",
            format!("Advance the clock by at most {MAX_ADVANCE_SECS} seconds at a time."),
        ));
    }
    let now = state.clock.advance(Duration::from_secs(seconds));
    Ok(Json(json!({ "now": rfc3339(now) })))
}

/// `PUT /_sim/faults` with one rule or an array of rules: replaces the active rules and
/// returns them.
async fn set_faults(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Json<Vec<Fault>>, ApiError> {
    let value: Value = json_body(&body)?;
    let rules: Vec<Fault> = if value.is_array() {
        json_body(&body)?
    } else {
        vec![json_body(&body)?]
    };
    for rule in &rules {
        rule.validate()
            .map_err(|message| ApiError::invalid_value("faults", message))?;
    }
    state.faults.replace(rules);
    Ok(Json(state.faults.list()))
}

/// `DELETE /_sim/faults`: removes every rule.
async fn clear_faults(State(state): State<SharedState>) -> StatusCode {
    state.faults.replace(Vec::new());
    StatusCode::NO_CONTENT
}

/// `GET /_sim/stats`: call counts per PingOne endpoint (see [`crate::stats`] for the keys).
async fn stats(State(state): State<SharedState>) -> Json<BTreeMap<String, u64>> {
    Json(state.stats.snapshot())
}
