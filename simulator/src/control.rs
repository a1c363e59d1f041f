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
use crate::devices::{
    ClaimError, DESKTOP_ASSERTION, DESKTOP_ATTESTATION, DESKTOP_AUTHENTICATION,
    DESKTOP_REGISTRATION, claim_pairing_key as claim, unix,
};
use crate::errors::{ApiError, ErrorCode};
use crate::faults::Fault;
use crate::outbox::Message;
use crate::request::{json_body, query};
use crate::state::SharedState;
use crate::state::lock;
use crate::tenant::DeviceKind;
use crate::{jws, totp, yubikey};

/// The `/_sim` routes.
pub(crate) fn router() -> Router<SharedState> {
    Router::new()
        .route("/_sim/messages", get(messages))
        .route("/_sim/push/{deviceAuthenticationId}", post(push))
        .route(
            "/_sim/users/{userId}/latest-device-authentication",
            get(latest_device_authentication),
        )
        .route("/_sim/totp/{deviceId}", get(totp_code))
        .route("/_sim/app/{deviceId}/code", get(app_code))
        .route("/_sim/app/{deviceId}", post(set_app))
        .route("/_sim/oath/{serialNumber}", get(oath_code))
        .route("/_sim/yubikey/{publicId}/otp", post(yubikey_otp))
        .route("/_sim/pairing-keys/{code}/claim", post(claim_pairing_key))
        .route("/_sim/desktop/register", post(desktop_register))
        .route("/_sim/desktop/authenticate", post(desktop_authenticate))
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

/// `GET /_sim/users/{userId}/latest-device-authentication`: `{"id", "status"}` of the user's
/// latest device authentication, as the user's phone would know it.
async fn latest_device_authentication(
    State(state): State<SharedState>,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (id, status) = state
        .device_auths
        .latest_of(&user_id, state.clock.now())
        .ok_or_else(|| ApiError::not_found("This user has no live device authentication."))?;
    Ok(Json(json!({ "id": id.to_string(), "status": status })))
}

/// `GET /_sim/totp/{deviceId}`: the code the TOTP device's authenticator app (or the OATH
/// device's token) shows now.
async fn totp_code(
    State(state): State<SharedState>,
    Path(device_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    shown_code(
        &state,
        &device_id,
        "No TOTP or OATH device has this id.",
        |kind| match kind {
            DeviceKind::Totp { secret } | DeviceKind::OathToken { secret, .. } => Some(secret),
            _ => None,
        },
    )
}

/// `{"otp"}`: the code a device whose secret `secret_of` finds shows now (RFC 6238).
fn shown_code(
    state: &SharedState,
    device_id: &str,
    unknown: &str,
    secret_of: impl Fn(&DeviceKind) -> Option<&Vec<u8>>,
) -> Result<Json<Value>, ApiError> {
    let secret = lock(&state.tenant.devices)
        .find(device_id)
        .and_then(|device| secret_of(&device.kind).cloned())
        .ok_or_else(|| ApiError::not_found(unknown))?;
    Ok(Json(
        json!({ "otp": totp::code_at(&secret, state.clock.now()) }),
    ))
}

/// `GET /_sim/app/{deviceId}/code`: the passcode the PingID app shows now, which the user may
/// type instead of approving the push ("Use Code").
async fn app_code(
    State(state): State<SharedState>,
    Path(device_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    shown_code(
        &state,
        &device_id,
        "No PingID app device has this id.",
        |kind| match kind {
            DeviceKind::Mobile { otp_secret, .. } => Some(otp_secret),
            _ => None,
        },
    )
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct AppBody {
    push_enabled: Option<bool>,
    os_version: Option<String>,
    /// `{"latitude", "longitude"}`, or `null`: the app stops reporting where the phone is.
    #[serde(default, deserialize_with = "some")]
    location: Option<Option<AppLocation>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppLocation {
    latitude: f64,
    longitude: f64,
}

/// A present field, `null` included, as `Some` (absent stays `None`).
fn some<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `POST /_sim/app/{deviceId}` `{"pushEnabled": false}`: the phone stops taking pushes (switched
/// off in the app, or out of reach); authentications then ask for the app's code instead.
/// `"osVersion": "15.7"` changes the OS version the app reports, and `"location":
/// {"latitude", "longitude"}` (or `null`) where the phone is; each field is optional.
async fn set_app(
    State(state): State<SharedState>,
    Path(device_id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let AppBody {
        push_enabled,
        os_version,
        location,
    } = json_body(&body)?;
    let mut store = lock(&state.tenant.devices);
    let device = store
        .by_user
        .values_mut()
        .flatten()
        .find(|device| device.id == device_id);
    match device.map(|device| &mut device.kind) {
        Some(DeviceKind::Mobile {
            push_enabled: enabled,
            os_version: version,
            location: at,
            ..
        }) => {
            if let Some(push_enabled) = push_enabled {
                *enabled = push_enabled;
            }
            if let Some(os_version) = os_version {
                *version = os_version;
            }
            if let Some(location) = location {
                *at = location.map(|l| (l.latitude, l.longitude));
            }
            Ok(Json(json!({
                "pushEnabled": *enabled,
                "osVersion": *version,
                "location": at.map(|(latitude, longitude)| json!({ "latitude": latitude, "longitude": longitude })),
            })))
        }
        _ => Err(ApiError::not_found("No PingID app device has this id.")),
    }
}

/// `GET /_sim/oath/{serialNumber}`: the code the seeded OATH token shows now.
async fn oath_code(
    State(state): State<SharedState>,
    Path(serial): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let token = state
        .tenant
        .oath_token(&serial)
        .ok_or_else(|| ApiError::not_found("No OATH token has this serial number."))?;
    Ok(Json(
        json!({ "otp": totp::code_at(&token.secret, state.clock.now()) }),
    ))
}

/// `POST /_sim/yubikey/{publicId}/otp`: touches the seeded YubiKey; a fresh OTP with a higher
/// counter each time.
async fn yubikey_otp(
    State(state): State<SharedState>,
    Path(public_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if !state.tenant.yubikeys.contains(&public_id) {
        return Err(ApiError::not_found("No YubiKey has this public id."));
    }
    let counter = {
        let mut store = lock(&state.tenant.devices);
        let counter = store.yubikey_counters.entry(public_id.clone()).or_insert(0);
        *counter += 1;
        *counter
    };
    Ok(Json(json!({ "otp": yubikey::otp(&public_id, counter) })))
}

#[derive(Debug, Default, Deserialize)]
struct ClaimBody {
    model: Option<String>,
    os: Option<String>,
}

/// `POST /_sim/pairing-keys/{code}/claim` `{"model","os"}` (optional): the PingID app scans
/// the key. 200 `{"userId","deviceId"}`; 404 unknown code; 410 expired or used key.
async fn claim_pairing_key(
    State(state): State<SharedState>,
    Path(code): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let ClaimBody { model, os } = if body.iter().all(u8::is_ascii_whitespace) {
        ClaimBody::default()
    } else {
        json_body(&body)?
    };
    match claim(&state, &code, model, os) {
        Ok((user_id, device_id)) => Ok(Json(json!({ "userId": user_id, "deviceId": device_id }))),
        Err(ClaimError::Unknown) => Err(ApiError::not_found("No pairing key has this code.")),
        Err(ClaimError::Gone(message)) => Err(ApiError::new(
            StatusCode::GONE,
            ErrorCode::RequestFailed,
            message,
        )),
        Err(ClaimError::Refused(error)) => Err(error),
    }
}

#[derive(Debug, Deserialize)]
struct DesktopBody {
    options: String,
}

fn desktop_options(state: &SharedState, body: &[u8], typ: &str) -> Result<Value, ApiError> {
    let DesktopBody { options } = json_body(body)?;
    let claims = jws::key()
        .verify(&options)
        .filter(|claims| claims["typ"] == typ)
        .ok_or_else(|| {
            ApiError::invalid_value("options", "These are not PingOne's desktop options.")
        })?;
    let now = unix(state.clock.now());
    if claims["exp"].as_u64().is_none_or(|exp| exp <= now) {
        return Err(ApiError::invalid_value(
            "options",
            "The options have expired.",
        ));
    }
    Ok(claims)
}

/// `POST /_sim/desktop/register` `{"options":"<pingIdDesktopCredentialCreationOptions>"}` →
/// `{"attestation":"<JWS>"}`: the PingID desktop app's `/register` on port 9410.
async fn desktop_register(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let claims = desktop_options(&state, &body, DESKTOP_REGISTRATION)?;
    let device_id = claims["deviceId"].as_str().unwrap_or_default();
    let attestation = jws::key().sign(&json!({
        "typ": DESKTOP_ATTESTATION,
        "deviceId": device_id,
        "userId": claims["userId"],
        "challenge": claims["challenge"],
        "desktopId": jws::key().derive_id(device_id),
        "exp": claims["exp"],
    }));
    Ok(Json(json!({ "attestation": attestation })))
}

/// `POST /_sim/desktop/authenticate` `{"options":"<pingIdDesktopCredentialRequestOptions>"}` →
/// `{"assertion":"<JWS>"}`: the PingID desktop app's `/authenticate` on port 9410.
async fn desktop_authenticate(
    State(state): State<SharedState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let claims = desktop_options(&state, &body, DESKTOP_AUTHENTICATION)?;
    let device_id = claims["deviceId"].as_str().unwrap_or_default();
    let assertion = jws::key().sign(&json!({
        "typ": DESKTOP_ASSERTION,
        "deviceAuthenticationId": claims["deviceAuthenticationId"],
        "deviceId": device_id,
        "userId": claims["userId"],
        "challenge": claims["challenge"],
        "desktopId": jws::key().derive_id(device_id),
    }));
    Ok(Json(json!({ "assertion": assertion })))
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
