//! Passkey registration for the passwordless sign-in [I]: `GET /_sim/pingid/webauthn/register`
//! renders a page whose button runs `navigator.credentials.create` (discoverable credential,
//! user verification required, RP id = the page's host); the page posts the result to
//! `POST /_sim/pingid/webauthn/register`, which verifies it with `webauthn-rs-core`, stores
//! the passkey and pairs it as the user's `FIDO2 Biometrics` device.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::html::{B64URL_JS, error_page, escape, page, script_json};
use super::ppm::origin_and_rp_id;
use super::store::{
    Device, DeviceKind, Passkey, Registration, device_uuid, pingid_time, session_id,
};
use crate::demo::legacy::ORG_ALIAS;
use crate::state::{SharedState, lock};
use crate::webauthn;

/// How long a registration page may take [I].
const REGISTRATION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(600);

/// `GET /_sim/pingid/webauthn/register?username=alice[&org=<org alias>]`.
pub(crate) async fn register_page(
    State(state): State<SharedState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query: HashMap<String, String> =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    let org = query
        .get("org")
        .cloned()
        .unwrap_or_else(|| ORG_ALIAS.to_owned());
    let Some(user_name) = query.get("username").filter(|u| !u.is_empty()) else {
        return error_page(StatusCode::BAD_REQUEST, "Add ?username=<PingID username>.");
    };
    let user = lock(&state.legacy.data).user(&org, user_name).cloned();
    let Some(user) = user else {
        return error_page(StatusCode::NOT_FOUND, "No PingID user has this username.");
    };
    let Some((origin, rp_id)) = origin_and_rp_id(&headers) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The request has no usable Host header.",
        );
    };
    let display = match (&user.fname, &user.lname) {
        (Some(first), Some(last)) => format!("{first} {last}"),
        _ => user.user_name.clone(),
    };
    let (options, webauthn_state) = match webauthn::passkey_creation_options(
        &rp_id,
        &user.user_handle,
        &user.user_name,
        &display,
    ) {
        Ok(pair) => pair,
        Err(error) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &error),
    };
    let registration = session_id("reg_");
    lock(&state.legacy.data).registrations.insert(
        registration.clone(),
        Registration {
            org,
            user_name: user.user_name.clone(),
            state: webauthn_state,
            rp_id,
            origin,
            started: state.clock.now(),
        },
    );
    page(
        StatusCode::OK,
        "PingID - Register a passkey",
        "",
        &format!(
            "<h1>PingID</h1>\n<p>Register a passkey for <strong id=\"user\">{}</strong>.</p>\n\
<button id=\"register\" type=\"button\">Register a passkey</button>\n\
<form id=\"registration-form\" method=\"post\" action=\"/_sim/pingid/webauthn/register\">\n\
<input type=\"hidden\" name=\"registration\" value=\"{}\">\n\
<input type=\"hidden\" name=\"credential\" value=\"\">\n\
<input type=\"hidden\" name=\"error\" value=\"\">\n</form>\n\
<script id=\"options\" type=\"application/json\">{}</script>\n\
<script>\n{B64URL_JS}\
document.getElementById('register').addEventListener('click', async () => {{\n\
  const o = JSON.parse(document.getElementById('options').textContent);\n\
  const form = document.getElementById('registration-form');\n\
  try {{\n\
    const c = await navigator.credentials.create({{ publicKey: {{ rp: o.rp,\n\
      user: {{ id: fromB64u(o.user.id), name: o.user.name, displayName: o.user.displayName }},\n\
      challenge: fromB64u(o.challenge), pubKeyCredParams: o.pubKeyCredParams, timeout: o.timeout,\n\
      attestation: o.attestation || 'none', authenticatorSelection: o.authenticatorSelection }} }});\n\
    form.elements.credential.value = JSON.stringify({{ id: c.id, rawId: toB64u(c.rawId), type: c.type,\n\
      response: {{ clientDataJSON: toB64u(c.response.clientDataJSON),\n\
        attestationObject: toB64u(c.response.attestationObject) }},\n\
      clientExtensionResults: c.getClientExtensionResults() }});\n\
  }} catch (e) {{ form.elements.error.value = e.name || 'Error'; }}\n\
  form.submit();\n}});\n</script>",
            escape(&user.user_name),
            escape(&registration),
            script_json(&options)
        ),
    )
}

/// `POST /_sim/pingid/webauthn/register` (form `registration`, `credential` JSON or `error`).
pub(crate) async fn register(State(state): State<SharedState>, body: Bytes) -> Response {
    let fields: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let registration = fields
        .get("registration")
        .and_then(|id| lock(&state.legacy.data).registrations.remove(id));
    let Some(registration) = registration.filter(|r| {
        state
            .clock
            .now()
            .duration_since(r.started)
            .is_ok_and(|age| age <= REGISTRATION_LIFETIME)
    }) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This registration is no longer valid.",
        );
    };
    let credential = fields
        .get("credential")
        .map(String::as_str)
        .unwrap_or_default();
    if credential.is_empty() {
        let error = fields
            .get("error")
            .map(String::as_str)
            .unwrap_or("no credential");
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("The browser did not create a passkey ({error})."),
        );
    }
    let verified = webauthn::verify_registration(
        &registration.rp_id,
        "PingID",
        &registration.state,
        credential,
        &registration.origin,
    );
    let credential = match verified {
        Ok(credential) => credential,
        Err(error) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("The passkey did not verify: {error}"),
            );
        }
    };
    let credential_id = credential["cred_id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            credential["cred_id"].as_array().map(|bytes| {
                let bytes: Vec<u8> = bytes
                    .iter()
                    .filter_map(|b| b.as_u64())
                    .map(|b| b as u8)
                    .collect();
                URL_SAFE_NO_PAD.encode(bytes)
            })
        })
        .unwrap_or_default();
    let now = state.clock.now();
    let mut data = lock(&state.legacy.data);
    let device_id = data.new_device_id();
    data.passkeys.push(Passkey {
        org: registration.org.clone(),
        user_name: registration.user_name.clone(),
        device_id,
        rp_id: registration.rp_id.clone(),
        credential,
        credential_id,
    });
    if let Some(user) = data.user_mut(&registration.org, &registration.user_name) {
        user.devices.push(Device {
            id: device_id,
            uuid: device_uuid(device_id),
            nickname: "Passkey".into(),
            kind: DeviceKind::Fido2,
            enrollment: pingid_time(now),
        });
        user.status = "ACTIVE".into();
    }
    drop(data);
    page(
        StatusCode::OK,
        "PingID - Passkey registered",
        "",
        &format!(
            "<h1>PingID</h1>\n<p>Passkey registered for:</p>\n<p id=\"registered\">{}</p>\n\
<p>Device id <code id=\"device-id\">{device_id}</code>.</p>",
            escape(&registration.user_name)
        ),
    )
}
