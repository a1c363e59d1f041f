//! MFA device management on the API host (`/v1/environments/{envId}/users/{userId}/devices…`):
//! list, read, create (pairing), activate, resend the pairing OTP, nickname, order, delete; and
//! PingID mobile-app pairing keys (`…/users/{userId}/pairingKeys`).
//!
//! Device lookups are scoped to the user in the path: another user's device id is 404.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::clock::rfc3339;
use crate::errors::{ApiError, ErrorDetail};
use crate::outbox::{Channel, Delivery};
use crate::request::{json_body, media_type, require_media_type};
use crate::state::{AppState, SharedState, lock};
use crate::tenant::{
    Activation, Device, DeviceKind, DeviceStatus, Fido2Type, PairingKey, Policy, User,
};
use crate::{jws, totp, webauthn, yubikey};

const ACTIVATE: &str = "application/vnd.pingidentity.device.activate+json";
/// Lower-cased, as [`media_type`] returns it (PingOne spells it `…sendActivationCode+json`).
const SEND_ACTIVATION_CODE: &str = "application/vnd.pingidentity.device.sendactivationcode+json";
const REORDER: &str = "application/vnd.pingidentity.devices.reorder+json";
const REMOVE_ORDER: &str = "application/vnd.pingidentity.devices.order.remove+json";

/// `[I]` How long a pairing key is valid (PingOne's documented default).
pub(crate) const PAIRING_KEY_LIFETIME: Duration = Duration::from_secs(600);
/// Valid (`INITIAL`, unexpired) pairing keys a user may hold at once.
pub(crate) const MAX_VALID_PAIRING_KEYS: usize = 20;
/// `[I]` How long the PingID desktop creation / request options are valid.
const DESKTOP_OPTIONS_LIFETIME: Duration = Duration::from_secs(300);
/// `[I]` Issuer shown by authenticator apps for TOTP devices.
const TOTP_ISSUER: &str = "PingOne";
/// `[I]` TOTP steps (30 s) either side accepted when activating an OATH token with
/// `oathResync: true` (otherwise ±1).
const OATH_RESYNC_STEPS: u64 = 10;

/// `GET …/users/{userId}/devices`: every device with its `status`, in the user's order.
pub(crate) async fn list(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    let devices: Vec<Value> = lock(&state.tenant.devices)
        .of(&user.id)
        .iter()
        .map(|device| device_json(&state, user, device))
        .collect();
    Ok(Json(json!({
        "_links": { "self": { "href": format!("{}/devices", user_href(&state, user)) } },
        "_embedded": { "devices": devices },
        "count": devices.len(),
        "size": devices.len(),
    })))
}

/// `GET …/users/{userId}/devices/{deviceId}`.
pub(crate) async fn read(
    State(state): State<SharedState>,
    Path((_env, user_id, device_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    let store = lock(&state.tenant.devices);
    let device = store
        .of(&user.id)
        .iter()
        .find(|device| device.id == device_id)
        .ok_or_else(no_device)?;
    Ok(Json(device_json(&state, user, device)))
}

/// `DELETE …/users/{userId}/devices/{deviceId}` → 204.
pub(crate) async fn delete(
    State(state): State<SharedState>,
    Path((_env, user_id, device_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = find_user(&state, &user_id)?;
    let mut store = lock(&state.tenant.devices);
    let devices = store.of_mut(&user.id);
    let index = devices
        .iter()
        .position(|device| device.id == device_id)
        .ok_or_else(no_device)?;
    devices.remove(index);
    Ok(StatusCode::NO_CONTENT)
}

/// `POST …/users/{userId}/devices`: create (`application/json`, 201) or reorder
/// (`…devices.reorder+json`, 200).
pub(crate) async fn create_or_reorder(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    let user = find_user(&state, &user_id)?;
    match media_type(&headers).as_deref() {
        Some(REORDER) => reorder(&state, user, &body).map(|body| Json(body).into_response()),
        _ => {
            require_media_type(&headers, "application/json")?;
            create(&state, user, &body).map(created)
        }
    }
}

/// 201 with the new resource, and its URL (`_links.self.href`) in `Location`, as PingOne
/// answers a create.
pub(crate) fn created(body: Value) -> axum::response::Response {
    let location = body
        .pointer("/_links/self/href")
        .and_then(Value::as_str)
        .and_then(|href| axum::http::HeaderValue::from_str(href).ok());
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    if let Some(location) = location {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    response
}

/// `DELETE …/users/{userId}/devices` with `…devices.order.remove+json` → 204: the order goes
/// back to creation order.
pub(crate) async fn remove_order(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let user = find_user(&state, &user_id)?;
    require_media_type(&headers, REMOVE_ORDER)?;
    lock(&state.tenant.devices)
        .of_mut(&user.id)
        .sort_by_key(|device| device.seq);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct OrderBody {
    order: Vec<IdRef>,
}

#[derive(Deserialize)]
struct IdRef {
    id: String,
}

fn reorder(state: &AppState, user: &User, body: &[u8]) -> Result<Value, ApiError> {
    let OrderBody { order } = json_body(body)?;
    let mut store = lock(&state.tenant.devices);
    let devices = store.of_mut(&user.id);
    for (index, entry) in order.iter().enumerate() {
        let listed_before = order[..index].iter().any(|earlier| earlier.id == entry.id);
        if listed_before || !devices.iter().any(|device| device.id == entry.id) {
            return Err(ApiError::invalid_value(
                "order",
                format!(
                    "{} is not one of the user's devices, or is listed twice.",
                    entry.id
                ),
            ));
        }
    }
    let mut front = Vec::with_capacity(order.len());
    for entry in &order {
        if let Some(index) = devices.iter().position(|device| device.id == entry.id) {
            front.push(devices.remove(index));
        }
    }
    front.append(devices);
    *devices = front;
    let order: Vec<Value> = devices.iter().map(|d| json!({ "id": d.id })).collect();
    Ok(json!({ "order": order }))
}

#[derive(Deserialize)]
struct NicknameBody {
    nickname: Option<String>,
}

/// `PUT …/users/{userId}/devices/{deviceId}/nickname` `{"nickname":"…"}` → 200 device.
pub(crate) async fn set_nickname(
    State(state): State<SharedState>,
    Path((_env, user_id, device_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    require_media_type(&headers, "application/json")?;
    let NicknameBody { nickname } = json_body(&body)?;
    let nickname = nickname
        .filter(|nickname| (1..=100).contains(&nickname.chars().count()))
        .ok_or_else(|| {
            ApiError::invalid_data(
                ErrorDetail::new(
                    "INVALID_VALUE",
                    "The nickname must have 1 to 100 characters.",
                )
                .target("nickname")
                .inner_error(json!({ "rangeMinimumValue": 1, "rangeMaximumValue": 100 })),
            )
        })?;
    let now = state.clock.now();
    let mut store = lock(&state.tenant.devices);
    let device = store
        .of_mut(&user.id)
        .iter_mut()
        .find(|device| device.id == device_id)
        .ok_or_else(no_device)?;
    device.nickname = nickname;
    device.updated_at = now;
    Ok(Json(device_json(&state, user, device)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<String>,
    nickname: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    policy: Option<OptionalIdRef>,
    rp: Option<RpRef>,
    challenge: Option<String>,
    serial_number: Option<String>,
}

#[derive(Deserialize)]
struct OptionalIdRef {
    id: Option<String>,
}

#[derive(Deserialize)]
struct RpRef {
    id: Option<String>,
    name: Option<String>,
}

const CREATABLE_TYPES: &[&str] = &[
    "SMS",
    "VOICE",
    "EMAIL",
    "TOTP",
    "YUBIKEY",
    "OATH_TOKEN",
    "FIDO2",
    "PLATFORM",
    "SECURITY_KEY",
    "PINGID_DESKTOP_GEN2",
];

/// `[I]` Default RP id and name of FIDO2 and desktop devices created without `rp`.
pub(crate) const DEFAULT_RP_ID: &str = "localhost";
const DEFAULT_RP_NAME: &str = "PingOne";

fn create(state: &AppState, user: &User, body: &[u8]) -> Result<Value, ApiError> {
    let request: CreateBody = json_body(body)?;
    let kind = request.kind.as_deref().ok_or_else(|| required("type"))?;
    if kind == "MOBILE" {
        return Err(ApiError::invalid_value(
            "type",
            "MOBILE devices are paired with a pairing key (POST …/pairingKeys), not created.",
        ));
    }
    if !CREATABLE_TYPES.contains(&kind) {
        return Err(ApiError::invalid_data(
            ErrorDetail::new("INVALID_VALUE", "Unsupported device type.")
                .target("type")
                .inner_error(json!({ "allowedValues": CREATABLE_TYPES })),
        ));
    }
    let delivered = matches!(kind, "SMS" | "VOICE" | "EMAIL");
    let status = match request.status.as_deref() {
        None | Some("ACTIVATION_REQUIRED") => DeviceStatus::ActivationRequired,
        Some("ACTIVE") if delivered => DeviceStatus::Active,
        Some("ACTIVE") => {
            return Err(ApiError::invalid_value(
                "status",
                "Only SMS, VOICE and EMAIL devices can be created ACTIVE.",
            ));
        }
        Some(_) => {
            return Err(ApiError::invalid_data(
                ErrorDetail::new(
                    "INVALID_VALUE",
                    "status must be ACTIVE or ACTIVATION_REQUIRED.",
                )
                .target("status")
                .inner_error(json!({ "allowedValues": ["ACTIVE", "ACTIVATION_REQUIRED"] })),
            ));
        }
    };
    let policy = resolve_policy(state, request.policy.and_then(|policy| policy.id))?;
    let method = policy
        .method(kind)
        .ok_or_else(|| ApiError::invalid_value("type", "Unsupported device type."))?;
    if !method.enabled || method.pairing_disabled {
        return Err(ApiError::invalid_data(
            ErrorDetail::new(
                "DEVICE_TYPE_NOT_ALLOWED",
                format!("The policy does not allow pairing {kind} devices."),
            )
            .target("type"),
        ));
    }
    if let Some(nickname) = &request.nickname
        && !(1..=100).contains(&nickname.chars().count())
    {
        return Err(ApiError::invalid_value(
            "nickname",
            "The nickname must have 1 to 100 characters.",
        ));
    }
    let challenge = match request.challenge.as_deref() {
        Some(text) if matches!(kind, "FIDO2" | "PLATFORM" | "SECURITY_KEY") => {
            let bytes = webauthn::challenge(text)?;
            Some(bytes)
        }
        _ => None,
    };
    let (rp_id, rp_name) = match request.rp {
        Some(rp) => (
            rp.id.unwrap_or_else(|| DEFAULT_RP_ID.into()),
            rp.name.unwrap_or_else(|| DEFAULT_RP_NAME.into()),
        ),
        None => (DEFAULT_RP_ID.into(), DEFAULT_RP_NAME.into()),
    };
    if rp_id.is_empty() || rp_id.contains(['/', ':', ' ']) {
        return Err(ApiError::invalid_value(
            "rp.id",
            "The RP id must be a domain name.",
        ));
    }

    let now = state.clock.now();
    let device_id = Uuid::new_v4().to_string();
    let mut store = lock(&state.tenant.devices);
    let existing = store.of(&user.id);
    // Duplicates, then the device limit.
    let (kind_data, default_nickname) = match kind {
        "SMS" | "VOICE" => {
            let phone = request.phone.ok_or_else(|| required("phone"))?;
            if !is_e164(&phone) {
                return Err(ApiError::invalid_data(
                    ErrorDetail::new(
                        "INVALID_VALUE",
                        "The phone number must be E.164: + and 7 to 15 digits.",
                    )
                    .target("phone")
                    .inner_error(json!({ "allowedPattern": PHONE_PATTERN })),
                ));
            }
            let duplicate = existing.iter().any(|device| match &device.kind {
                DeviceKind::Sms { phone: p } => kind == "SMS" && *p == phone,
                DeviceKind::Voice { phone: p } => kind == "VOICE" && *p == phone,
                _ => false,
            });
            if duplicate {
                return Err(uniqueness("phone", "The user already has this device."));
            }
            let data = if kind == "SMS" {
                DeviceKind::Sms {
                    phone: phone.clone(),
                }
            } else {
                DeviceKind::Voice {
                    phone: phone.clone(),
                }
            };
            (data, phone)
        }
        "EMAIL" => {
            let email = request.email.ok_or_else(|| required("email"))?;
            if !is_email(&email) {
                return Err(ApiError::invalid_value(
                    "email",
                    "The email address is not valid.",
                ));
            }
            let duplicate = existing.iter().any(|device| {
                matches!(&device.kind, DeviceKind::Email { email: e } if e.eq_ignore_ascii_case(&email))
            });
            if duplicate {
                return Err(uniqueness("email", "The user already has this device."));
            }
            (
                DeviceKind::Email {
                    email: email.clone(),
                },
                email,
            )
        }
        "TOTP" => (
            DeviceKind::Totp {
                secret: rand::random::<[u8; 20]>().to_vec(),
            },
            "Authenticator app".into(),
        ),
        "OATH_TOKEN" => {
            let serial = request
                .serial_number
                .ok_or_else(|| required("serialNumber"))?;
            let token = state.tenant.oath_token(&serial).ok_or_else(|| {
                ApiError::invalid_value(
                    "serialNumber",
                    "No imported OATH token has this serial number.",
                )
            })?;
            let assigned = store.by_user.values().flatten().any(|device| {
                matches!(&device.kind, DeviceKind::OathToken { serial_number, .. } if *serial_number == serial)
            });
            if assigned {
                return Err(uniqueness(
                    "serialNumber",
                    "This OATH token is already assigned.",
                ));
            }
            (
                DeviceKind::OathToken {
                    serial_number: serial.clone(),
                    secret: token.secret.clone(),
                },
                format!("OATH token {serial}"),
            )
        }
        "YUBIKEY" => (
            DeviceKind::Yubikey {
                public_id: None,
                last_counter: 0,
            },
            "YubiKey".into(),
        ),
        "FIDO2" | "PLATFORM" | "SECURITY_KEY" => {
            let fido_type = match kind {
                "PLATFORM" => Fido2Type::Platform,
                "SECURITY_KEY" => Fido2Type::SecurityKey,
                _ => Fido2Type::Fido2,
            };
            let exclude = existing
                .iter()
                .filter_map(|device| match &device.kind {
                    DeviceKind::Fido2 {
                        credential: Some(credential),
                        ..
                    } => credential["cred_id"]
                        .as_str()
                        .and_then(|id| URL_SAFE_NO_PAD.decode(id).ok()),
                    _ => None,
                })
                .collect();
            let (creation_options, registration) =
                webauthn::creation_options(&rp_id, &rp_name, user, fido_type, challenge, exclude)
                    .map_err(|error| ApiError::unexpected(format!("WebAuthn options: {error}")))?;
            (
                DeviceKind::Fido2 {
                    fido_type,
                    rp_id: rp_id.clone(),
                    rp_name: rp_name.clone(),
                    creation_options,
                    registration,
                    credential: None,
                },
                "Security key".into(),
            )
        }
        _ => {
            // PINGID_DESKTOP_GEN2
            let challenge = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
            let options = jws::key().sign(&json!({
                "typ": DESKTOP_REGISTRATION,
                "iss": state.base_url,
                "environmentId": state.tenant.env_id,
                "deviceId": device_id,
                "userId": user.id,
                "username": user.username,
                "rpId": rp_id,
                "challenge": challenge,
                "exp": unix(now + DESKTOP_OPTIONS_LIFETIME),
            }));
            (
                DeviceKind::Desktop {
                    rp_id: rp_id.clone(),
                    creation_options: options,
                    challenge,
                    desktop_id: None,
                },
                "PingID desktop".into(),
            )
        }
    };
    if existing.len() >= state.tenant.max_allowed_devices {
        return Err(ApiError::invalid_data(
            ErrorDetail::new(
                "LIMIT_EXCEEDED",
                format!(
                    "The user already has the maximum of {} devices.",
                    state.tenant.max_allowed_devices
                ),
            )
            .target("devices")
            .inner_error(json!({ "maximumValue": state.tenant.max_allowed_devices })),
        ));
    }
    let mut device = Device {
        id: device_id,
        nickname: request.nickname.unwrap_or(default_nickname),
        kind: kind_data,
        status,
        policy_id: policy.id.clone(),
        created_at: now,
        updated_at: now,
        seq: store.next_seq(),
        activation: Activation::default(),
    };
    let delivery = if status == DeviceStatus::ActivationRequired {
        pairing_otp(state, &mut device, now)
    } else {
        None
    };
    let body = device_json(state, user, &device);
    store.of_mut(&user.id).push(device);
    drop(store);
    if let Some(delivery) = delivery {
        state.outbox.deliver(delivery, now);
    }
    Ok(body)
}

/// For SMS / VOICE / EMAIL: a fresh pairing OTP (replacing any earlier one, failures reset).
fn pairing_otp(state: &AppState, device: &mut Device, now: SystemTime) -> Option<Delivery> {
    let (channel, to) = match &device.kind {
        DeviceKind::Sms { phone } => (Channel::Sms, phone.clone()),
        DeviceKind::Voice { phone } => (Channel::Voice, phone.clone()),
        DeviceKind::Email { email } => (Channel::Email, email.clone()),
        _ => return None,
    };
    let otp = format!("{:06}", rand::random_range(0..1_000_000));
    let lifetime = state.config.otp_lifetime;
    device.activation = Activation {
        otp: Some((otp.clone(), now + lifetime)),
        failures: 0,
    };
    Some(Delivery {
        channel,
        to,
        otp,
        valid_for: lifetime,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivateBody {
    otp: Option<String>,
    oath_resync: Option<bool>,
    attestation: Option<String>,
    origin: Option<String>,
}

/// `POST …/users/{userId}/devices/{deviceId}`: activate (`…device.activate+json`, 200 device) or
/// resend the pairing OTP (`…device.sendActivationCode+json`, 204).
pub(crate) async fn act(
    State(state): State<SharedState>,
    Path((_env, user_id, device_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let user = find_user(&state, &user_id)?;
    match media_type(&headers).as_deref() {
        Some(ACTIVATE) => {
            activate(&state, user, &device_id, &body).map(|b| (StatusCode::OK, Json(b)))
        }
        Some(SEND_ACTIVATION_CODE) => {
            resend(&state, user, &device_id)?;
            Ok((StatusCode::NO_CONTENT, Json(Value::Null)))
        }
        other => Err(ApiError::unsupported_media_type(format!(
            "Content-Type {} names no device action; use {ACTIVATE} or {SEND_ACTIVATION_CODE}",
            other.unwrap_or("(none)")
        ))),
    }
}

fn resend(state: &AppState, user: &User, device_id: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut store = lock(&state.tenant.devices);
    let device = store
        .of_mut(&user.id)
        .iter_mut()
        .find(|device| device.id == device_id)
        .ok_or_else(no_device)?;
    if device.status == DeviceStatus::Active {
        return Err(already_active());
    }
    let delivery = pairing_otp(state, device, now).ok_or_else(|| {
        ApiError::invalid_value(
            "type",
            "Only SMS, VOICE and EMAIL devices have a pairing OTP to send.",
        )
    })?;
    drop(store);
    state.outbox.deliver(delivery, now);
    Ok(())
}

fn activate(
    state: &AppState,
    user: &User,
    device_id: &str,
    body: &[u8],
) -> Result<Value, ApiError> {
    let request: ActivateBody = json_body(body)?;
    let now = state.clock.now();
    let max_failures = state.config.otp_max_failures;
    let mut store = lock(&state.tenant.devices);
    // A YubiKey may be bound to one device only.
    let bound_yubikeys: Vec<String> = store
        .by_user
        .values()
        .flatten()
        .filter_map(|device| match &device.kind {
            DeviceKind::Yubikey {
                public_id: Some(id),
                ..
            } => Some(id.clone()),
            _ => None,
        })
        .collect();
    let device = store
        .of_mut(&user.id)
        .iter_mut()
        .find(|device| device.id == device_id)
        .ok_or_else(no_device)?;
    if device.status == DeviceStatus::Active {
        return Err(already_active());
    }
    let uses_otp = !matches!(
        device.kind,
        DeviceKind::Fido2 { .. } | DeviceKind::Desktop { .. }
    );
    if uses_otp && device.activation.failures >= max_failures {
        return Err(ApiError::invalid_data(
            ErrorDetail::new(
                "TOO_MANY_ATTEMPTS",
                "Too many wrong passcodes; request a new one (sendActivationCode).",
            )
            .target("otp"),
        ));
    }
    let otp_ok = match &mut device.kind {
        DeviceKind::Fido2 {
            rp_id,
            rp_name,
            registration,
            credential,
            ..
        } => {
            let (attestation, origin) = attestation_and_origin(&request)?;
            let verified =
                webauthn::verify_registration(rp_id, rp_name, registration, attestation, origin)
                    .map_err(|error| invalid_attestation(&error))?;
            *credential = Some(verified);
            true
        }
        DeviceKind::Desktop {
            rp_id,
            challenge,
            desktop_id,
            ..
        } => {
            let (attestation, origin) = attestation_and_origin(&request)?;
            if webauthn::origin_allowed(origin, rp_id).is_none() {
                return Err(invalid_attestation("the origin does not match the RP id"));
            }
            let claims = jws::key()
                .verify(attestation)
                .ok_or_else(|| invalid_attestation("bad signature"))?;
            let fresh = claims["exp"].as_u64().is_some_and(|exp| exp > unix(now));
            if claims["typ"] != DESKTOP_ATTESTATION
                || claims["deviceId"] != device_id
                || claims["userId"] != user.id.as_str()
                || claims["challenge"] != challenge.as_str()
                || !fresh
            {
                return Err(invalid_attestation(
                    "the attestation is for another registration",
                ));
            }
            *desktop_id = claims["desktopId"].as_str().map(str::to_owned);
            true
        }
        kind => {
            let otp = request.otp.as_deref().ok_or_else(|| required("otp"))?;
            match kind {
                DeviceKind::Sms { .. } | DeviceKind::Voice { .. } | DeviceKind::Email { .. } => {
                    match &device.activation.otp {
                        Some((_, expires_at)) if now >= *expires_at => {
                            return Err(ApiError::invalid_data(
                                ErrorDetail::new("OTP_EXPIRED", "The passcode has expired.")
                                    .target("otp"),
                            ));
                        }
                        Some((sent, _)) => sent == otp,
                        None => false,
                    }
                }
                DeviceKind::Totp { secret } => totp::verify(secret, otp, now),
                DeviceKind::OathToken { secret, .. } => {
                    let steps = if request.oath_resync == Some(true) {
                        OATH_RESYNC_STEPS
                    } else {
                        1
                    };
                    totp::verify_window(secret, otp, now, steps)
                }
                DeviceKind::Yubikey {
                    public_id,
                    last_counter,
                } => match yubikey::parse(otp) {
                    Some((id, _)) if bound_yubikeys.contains(&id) => {
                        return Err(uniqueness("otp", "This YubiKey is already enrolled."));
                    }
                    Some((id, counter)) => {
                        *public_id = Some(id);
                        *last_counter = counter;
                        true
                    }
                    None => false,
                },
                DeviceKind::Mobile { .. }
                | DeviceKind::Fido2 { .. }
                | DeviceKind::Desktop { .. } => false,
            }
        }
    };
    device.updated_at = now;
    if !otp_ok {
        device.activation.failures += 1;
        let remaining = max_failures.saturating_sub(device.activation.failures);
        return Err(ApiError::invalid_data(
            ErrorDetail::new("INVALID_OTP", "The passcode is not correct.")
                .target("otp")
                .inner_error(json!({ "remainingAttempts": remaining })),
        ));
    }
    device.status = DeviceStatus::Active;
    device.activation = Activation::default();
    Ok(device_json(state, user, device))
}

fn attestation_and_origin(request: &ActivateBody) -> Result<(&str, &str), ApiError> {
    let attestation = request
        .attestation
        .as_deref()
        .ok_or_else(|| required("attestation"))?;
    let origin = request
        .origin
        .as_deref()
        .ok_or_else(|| required("origin"))?;
    Ok((attestation, origin))
}

fn invalid_attestation(reason: &str) -> ApiError {
    ApiError::invalid_data(
        ErrorDetail::new(
            "INVALID_ATTESTATION",
            format!("The attestation could not be verified: {reason}."),
        )
        .target("attestation"),
    )
}

/// `[I]` Activating an `ACTIVE` device: 400 `REQUEST_FAILED` with detail `DEVICE_ALREADY_ACTIVE`.
fn already_active() -> ApiError {
    ApiError::request_failed("The device is already active.").detail(ErrorDetail::new(
        "DEVICE_ALREADY_ACTIVE",
        "The device is already active.",
    ))
}

/// `typ` claims of the PingID desktop tokens.
pub(crate) const DESKTOP_REGISTRATION: &str = "pingid.desktop.registration";
pub(crate) const DESKTOP_ATTESTATION: &str = "pingid.desktop.attestation";
pub(crate) const DESKTOP_AUTHENTICATION: &str = "pingid.desktop.authentication";
pub(crate) const DESKTOP_ASSERTION: &str = "pingid.desktop.assertion";

/// Seconds since the epoch.
pub(crate) fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[derive(Deserialize, Default)]
struct PairingKeyBody {
    applications: Option<Vec<IdRef>>,
}

/// `POST …/users/{userId}/pairingKeys` → 201.
pub(crate) async fn create_pairing_key(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<axum::response::Response, ApiError> {
    let user = find_user(&state, &user_id)?;
    let request: PairingKeyBody = if body.iter().all(u8::is_ascii_whitespace) {
        PairingKeyBody::default()
    } else {
        json_body(&body)?
    };
    let application_ids: Vec<String> = match request.applications {
        Some(apps) if !apps.is_empty() => apps.into_iter().map(|app| app.id).collect(),
        _ => vec![crate::demo::PINGID_APP_ID.to_owned()],
    };
    if let Some(unknown) = application_ids
        .iter()
        .find(|id| id.as_str() != crate::demo::PINGID_APP_ID)
    {
        return Err(ApiError::invalid_value(
            "applications.id",
            format!("No mobile application has id {unknown}."),
        ));
    }
    let now = state.clock.now();
    let mut store = lock(&state.tenant.devices);
    let valid = store
        .pairing_keys
        .iter()
        .filter(|key| key.user_id == user.id && key.status(now) == "INITIAL")
        .count();
    if valid >= MAX_VALID_PAIRING_KEYS {
        return Err(ApiError::invalid_data(
            ErrorDetail::new(
                "LIMIT_EXCEEDED",
                format!("A user can hold at most {MAX_VALID_PAIRING_KEYS} valid pairing keys."),
            )
            .target("pairingKey")
            .inner_error(json!({ "maximumValue": MAX_VALID_PAIRING_KEYS })),
        ));
    }
    let code: String = (0..12)
        .map(|_| char::from(b'0' + rand::random_range(0..10u8)))
        .collect();
    let key = PairingKey {
        id: Uuid::new_v4().to_string(),
        code,
        user_id: user.id.clone(),
        application_ids,
        created_at: now,
        expires_at: now + PAIRING_KEY_LIFETIME,
        claimed_by: None,
    };
    let body = pairing_key_json(&state, &key, now);
    store.pairing_keys.push(key);
    Ok(created(body))
}

/// `GET …/users/{userId}/pairingKeys/{id}`.
pub(crate) async fn read_pairing_key(
    State(state): State<SharedState>,
    Path((_env, user_id, key_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    let now = state.clock.now();
    let store = lock(&state.tenant.devices);
    let key = store
        .pairing_keys
        .iter()
        .find(|key| key.id == key_id && key.user_id == user.id)
        .ok_or_else(|| ApiError::not_found("The user has no pairing key with this id."))?;
    Ok(Json(pairing_key_json(&state, key, now)))
}

/// `DELETE …/users/{userId}/pairingKeys/{id}` → 204.
pub(crate) async fn delete_pairing_key(
    State(state): State<SharedState>,
    Path((_env, user_id, key_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = find_user(&state, &user_id)?;
    let mut store = lock(&state.tenant.devices);
    let before = store.pairing_keys.len();
    store
        .pairing_keys
        .retain(|key| !(key.id == key_id && key.user_id == user.id));
    if store.pairing_keys.len() == before {
        return Err(ApiError::not_found(
            "The user has no pairing key with this id.",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

fn pairing_key_json(state: &AppState, key: &PairingKey, now: SystemTime) -> Value {
    let mut body = json!({
        "_links": { "self": { "href": format!(
            "{}/v1/environments/{}/users/{}/pairingKeys/{}",
            state.base_url, state.tenant.env_id, key.user_id, key.id
        ) } },
        "id": key.id,
        "code": key.code,
        "status": key.status(now),
        "applications": key.application_ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
        "user": { "id": key.user_id },
        "environment": { "id": state.tenant.env_id },
        "createdAt": rfc3339(key.created_at),
        "expiresAt": rfc3339(key.expires_at),
    });
    if let Some(device_id) = &key.claimed_by {
        body["device"] = json!({ "id": device_id });
    }
    body
}

/// Why a pairing-key claim failed.
pub(crate) enum ClaimError {
    Unknown,
    Gone(&'static str),
    Refused(ApiError),
}

/// The PingID app scanning pairing key `code`: a new `ACTIVE`, push-enabled MOBILE device.
/// `[I]` The environment's default policy decides whether mobile pairing is allowed.
pub(crate) fn claim_pairing_key(
    state: &AppState,
    code: &str,
    model: Option<String>,
    os: Option<String>,
) -> Result<(String, String), ClaimError> {
    let now = state.clock.now();
    let policy = state
        .tenant
        .default_policy()
        .ok_or_else(|| ClaimError::Refused(ApiError::unexpected("No default policy.")))?;
    let mut store = lock(&state.tenant.devices);
    let key = store
        .pairing_keys
        .iter()
        .find(|key| key.code == code)
        .ok_or(ClaimError::Unknown)?;
    match key.status(now) {
        "CLAIMED" => return Err(ClaimError::Gone("The pairing key was already used.")),
        "EXPIRED" => return Err(ClaimError::Gone("The pairing key has expired.")),
        _ => {}
    }
    if !policy.mobile.enabled || policy.mobile.pairing_disabled {
        return Err(ClaimError::Refused(ApiError::invalid_data(
            ErrorDetail::new(
                "DEVICE_TYPE_NOT_ALLOWED",
                "The policy does not allow pairing MOBILE devices.",
            )
            .target("type"),
        )));
    }
    let user_id = key.user_id.clone();
    let application_id = key.application_ids[0].clone();
    if store.of(&user_id).len() >= state.tenant.max_allowed_devices {
        return Err(ClaimError::Refused(ApiError::invalid_data(
            ErrorDetail::new(
                "LIMIT_EXCEEDED",
                "The user already has the maximum number of devices.",
            )
            .target("devices"),
        )));
    }
    let model = model.unwrap_or_else(|| "iPhone 15".into());
    let device = Device {
        id: Uuid::new_v4().to_string(),
        nickname: model.clone(),
        kind: DeviceKind::Mobile {
            application_id,
            push_enabled: true,
            model,
            os: os.unwrap_or_else(|| "iOS".into()),
            os_version: "17.4".into(),
            location: None,
            otp_secret: rand::random::<[u8; 20]>().to_vec(),
        },
        status: DeviceStatus::Active,
        policy_id: policy.id.clone(),
        created_at: now,
        updated_at: now,
        seq: store.next_seq(),
        activation: Activation::default(),
    };
    let device_id = device.id.clone();
    store.of_mut(&user_id).push(device);
    if let Some(key) = store.pairing_keys.iter_mut().find(|key| key.code == code) {
        key.claimed_by = Some(device_id.clone());
    }
    Ok((user_id, device_id))
}

fn resolve_policy(state: &AppState, id: Option<String>) -> Result<&Policy, ApiError> {
    match id {
        Some(id) => state.tenant.policy(&id).ok_or_else(|| {
            ApiError::invalid_value("policy.id", "No device authentication policy has this id.")
        }),
        None => state
            .tenant
            .default_policy()
            .ok_or_else(|| ApiError::unexpected("The environment has no default policy.")),
    }
}

fn find_user<'a>(state: &'a AppState, user_id: &str) -> Result<&'a User, ApiError> {
    state
        .tenant
        .user(user_id)
        .ok_or_else(|| ApiError::not_found("No user has this id."))
}

fn no_device() -> ApiError {
    ApiError::not_found("The user has no device with this id.")
}

fn required(target: &str) -> ApiError {
    ApiError::invalid_data(
        ErrorDetail::new("REQUIRED_VALUE", format!("{target} is required.")).target(target),
    )
}

fn uniqueness(target: &str, message: &str) -> ApiError {
    ApiError::invalid_data(ErrorDetail::new("UNIQUENESS_VIOLATION", message).target(target))
}

const PHONE_PATTERN: &str = r"^\+[1-9][0-9]{6,14}$";

/// `^\+[1-9][0-9]{6,14}$`.
fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let clean = |part: &str| !part.is_empty() && !part.contains(['@', ' ', '\t', '\n']);
    clean(local) && clean(domain) && domain.split('.').count() >= 2 && domain.split('.').all(clean)
}

fn user_href(state: &AppState, user: &User) -> String {
    format!(
        "{}/v1/environments/{}/users/{}",
        state.base_url, state.tenant.env_id, user.id
    )
}

/// The device resource, unmasked. While `ACTIVATION_REQUIRED` it also carries what pairing
/// needs: TOTP `secret` and `keyUri`, FIDO2 `publicKeyCredentialCreationOptions`, desktop
/// `pingIdDesktopCredentialCreationOptions` (`[I]`: shown on every read until activation).
pub(crate) fn device_json(state: &AppState, user: &User, device: &Device) -> Value {
    let mut body = json!({
        "_links": { "self": { "href": format!("{}/devices/{}", user_href(state, user), device.id) } },
        "id": device.id,
        "environment": { "id": state.tenant.env_id },
        "user": { "id": user.id },
        "type": device.kind.type_name(),
        "status": device.status,
        "nickname": device.nickname,
        "policy": { "id": device.policy_id },
        "createdAt": rfc3339(device.created_at),
        "updatedAt": rfc3339(device.updated_at),
    });
    let pairing = device.status == DeviceStatus::ActivationRequired;
    match &device.kind {
        DeviceKind::Mobile {
            application_id,
            push_enabled,
            model,
            os,
            os_version,
            location,
            ..
        } => {
            body["application"] = json!({ "id": application_id });
            body["pushEnabled"] = json!(push_enabled);
            body["model"] = json!({ "name": model });
            body["os"] = json!({ "type": os, "version": os_version });
            if let Some((latitude, longitude)) = location {
                body["location"] = json!({
                    "latitude": latitude,
                    "longitude": longitude,
                    "updatedAt": rfc3339(state.clock.now()),
                });
            }
        }
        DeviceKind::Sms { phone } | DeviceKind::Voice { phone } => body["phone"] = json!(phone),
        DeviceKind::Email { email } => body["email"] = json!(email),
        DeviceKind::Totp { secret } => {
            if pairing {
                let secret = data_encoding::BASE32_NOPAD.encode(secret);
                body["secret"] = json!(secret);
                body["keyUri"] = json!(format!(
                    "otpauth://totp/{TOTP_ISSUER}:{}?secret={secret}&issuer={TOTP_ISSUER}",
                    url_encode(&user.username)
                ));
            }
        }
        DeviceKind::OathToken { serial_number, .. } => body["serialNumber"] = json!(serial_number),
        DeviceKind::Yubikey { .. } => {}
        DeviceKind::Fido2 {
            rp_id,
            rp_name,
            creation_options,
            ..
        } => {
            body["rp"] = json!({ "id": rp_id, "name": rp_name });
            if pairing {
                body["publicKeyCredentialCreationOptions"] = json!(creation_options);
            }
        }
        DeviceKind::Desktop {
            creation_options, ..
        } => {
            if pairing {
                body["pingIdDesktopCredentialCreationOptions"] = json!(creation_options);
            }
        }
    }
    body
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_must_be_e164() {
        assert!(is_e164("+15555550102"));
        assert!(is_e164("+1234567"));
        assert!(!is_e164("+123456"));
        assert!(!is_e164("+0123456789"));
        assert!(!is_e164("15555550102"));
        assert!(!is_e164("+1234567890123456"));
    }
}
