//! HTTP handlers for `/{envId}/deviceAuthentications[/{id}]`. The bearer check has already
//! tied `{envId}` to the caller's token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{CancelReason, DeviceAuthentication, DeviceUpdate, StartRequest, render};
use crate::errors::ApiError;
use crate::outbox::Delivery;
use crate::request::{json_body, media_type, require_media_type};
use crate::state::{AppState, SharedState};
use crate::tenant::UserDevices;

const SELECT_DEVICE: &str = "application/vnd.pingidentity.device.select+json";
const CHECK_OTP: &str = "application/vnd.pingidentity.otp.check+json";
const CANCEL: &str = "application/vnd.pingidentity.cancel.push.authentication+json";
const CHECK_ASSERTION: &str = "application/vnd.pingidentity.assertion.check+json";

/// `POST /{envId}/deviceAuthentications` (application/json). Answers 200 with the new
/// resource (choice left open: 200 rather than 201, as for every other action).
pub(crate) async fn create(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    require_media_type(&headers, "application/json")?;
    let request: StartRequest = json_body(&body)?;
    let now = state.clock.now();
    let (auth, delivery) = DeviceAuthentication::start(request, &state.tenant, now, &state.config)?;
    let user = users_devices(&state, &auth)?;
    let body = render(&auth, user.as_ref(), &state.base_url);
    state.device_auths.insert(auth, now);
    deliver(&state, delivery);
    Ok(Json(body))
}

/// `GET /{envId}/deviceAuthentications/{id}`: the current state (push deadline applied).
pub(crate) async fn read(
    State(state): State<SharedState>,
    Path((env_id, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    with_auth(&state, &env_id, &id, |_, _| Ok(None)).map(Json)
}

/// The actions a POST to an authentication can ask for, told apart by Content-Type.
enum Action {
    SelectDevice { device_id: String },
    CheckOtp { otp: String },
    CheckAssertion { assertion: String, origin: String },
    Cancel { reason: CancelReason },
}

#[derive(Deserialize)]
struct SelectBody {
    device: DeviceRef,
}

#[derive(Deserialize)]
struct DeviceRef {
    id: String,
}

#[derive(Deserialize)]
struct OtpBody {
    otp: String,
}

/// `compatibility` is accepted and ignored.
#[derive(Deserialize)]
struct AssertionBody {
    assertion: String,
    origin: String,
}

#[derive(Deserialize)]
struct CancelBody {
    reason: Option<String>,
}

impl Action {
    fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        match media_type(headers).as_deref() {
            Some(SELECT_DEVICE) => {
                let SelectBody { device } = json_body(body)?;
                Ok(Self::SelectDevice {
                    device_id: device.id,
                })
            }
            Some(CHECK_OTP) => {
                let OtpBody { otp } = json_body(body)?;
                Ok(Self::CheckOtp { otp })
            }
            Some(CHECK_ASSERTION) => {
                let AssertionBody { assertion, origin } = json_body(body)?;
                Ok(Self::CheckAssertion { assertion, origin })
            }
            Some(CANCEL) => {
                let CancelBody { reason } = json_body(body)?;
                Ok(Self::Cancel {
                    reason: CancelReason::parse(reason.as_deref()),
                })
            }
            other => Err(ApiError::unsupported_media_type(format!(
                "Content-Type {} names no device authentication action; use {SELECT_DEVICE}, {CHECK_OTP}, {CHECK_ASSERTION} or {CANCEL}",
                other.unwrap_or("(none)")
            ))),
        }
    }
}

/// `POST /{envId}/deviceAuthentications/{id}`: `device.select`, `otp.check` or cancel.
/// A rejected OTP still changes the resource (one attempt fewer, or `FAILED`).
pub(crate) async fn act(
    State(state): State<SharedState>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let action = Action::parse(&headers, &body)?;
    let config = &state.config;
    let now = state.clock.now();
    let mut update: Option<DeviceUpdate> = None;
    let result = with_auth(&state, &env_id, &id, |auth, user| match action {
        Action::SelectDevice { device_id } => auth.select_device(user, &device_id, now, config),
        Action::CheckOtp { otp } => auth.check_otp(&otp, now, config).map(|done| {
            update = done;
            None
        }),
        Action::CheckAssertion { assertion, origin } => auth
            .check_assertion(&state.tenant, &assertion, &origin, now, config)
            .map(|done| {
                update = done;
                None
            }),
        Action::Cancel { reason } => auth.cancel(user, reason, now).map(|()| None),
    });
    if let Some(update) = update {
        update.apply(&state.tenant);
    }
    result.map(Json)
}

/// Runs `step` on the live authentication `id`, delivers the OTP it produced and renders the
/// result. Unknown, expired or other-environment ids are 404.
pub(crate) fn with_auth(
    state: &AppState,
    env_id: &str,
    id: &str,
    step: impl FnOnce(
        &mut DeviceAuthentication,
        Option<&UserDevices<'_>>,
    ) -> Result<Option<Delivery>, ApiError>,
) -> Result<Value, ApiError> {
    let not_found = || ApiError::not_found("No device authentication has this id.");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let now = state.clock.now();
    let outcome = state
        .device_auths
        .update(env_id, id, now, |auth| {
            // Lock order: the authentication store, then the device store.
            let user = users_devices(state, auth)?;
            let delivery = step(auth, user.as_ref())?;
            // A usernameless sign-in learns its user from the assertion.
            let user = match user {
                Some(user) => Some(user),
                None => users_devices(state, auth)?,
            };
            Ok((render(auth, user.as_ref(), &state.base_url), delivery))
        })
        .ok_or_else(not_found)?;
    let (body, delivery) = outcome?;
    deliver(state, delivery);
    Ok(body)
}

/// The authentication's user with the devices it may use; `None` while a usernameless sign-in
/// has no user yet.
fn users_devices<'a>(
    state: &'a AppState,
    auth: &DeviceAuthentication,
) -> Result<Option<UserDevices<'a>>, ApiError> {
    let Some(user_id) = auth.user_id() else {
        return Ok(None);
    };
    let user = state
        .tenant
        .user(user_id)
        .ok_or_else(|| ApiError::unexpected("The user disappeared."))?;
    Ok(Some(auth.usable(state.tenant.active_devices(user))))
}

fn deliver(state: &AppState, delivery: Option<Delivery>) {
    if let Some(delivery) = delivery {
        state.outbox.deliver(delivery, state.clock.now());
    }
}
