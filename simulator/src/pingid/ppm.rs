//! The PPM browser authenticator (`authenticator_url = {base}/pingid/ppm`).
//!
//! `POST /pingid/ppm/auth` verifies the signed `ppm_request` and shows the simulated user's
//! screen (approve / deny, and an SMS passcode form for users with an SMS device); the answer
//! is an auto-submitting form that POSTs `ppm_response` to the request's `returnUrl`.
//! `POST /pingid/ppm/passwordless` [I] runs a discoverable WebAuthn sign-in and answers the
//! same way with the user the passkey belongs to.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::HOST;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};
use url::Url;

use super::html::{B64URL_JS, error_page, escape, page, response_page, script_json};
use super::jws::{Parsed, sign};
use super::rest::signing_key;
use super::store::{DeviceKind, PpmSession, User, digits, session_id};
use crate::outbox::{Channel, Delivery};
use crate::state::{AppState, SharedState, lock};
use crate::webauthn;

/// The PPM request `aud` of an authentication.
const AUDIENCE: &str = "pingidauthenticator";
/// How long an authenticator page stays usable [I].
const PAGE_LIFETIME: Duration = Duration::from_secs(600);
/// How long a passwordless sign-in lets `/auth` auto-approve the same user [I].
const PASSWORDLESS_FRESHNESS: Duration = Duration::from_secs(600);
/// Lifetime of a `ppm_response` (`exp - iat`).
const RESPONSE_LIFETIME_SECS: u64 = 300;
/// `authnContext` of every response [I] (the reference's example value).
const AUTHN_CONTEXT: &str = "urn:oasis:names:tc:SAML:2.0:ac:classes:Telephony";

fn form(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

fn unix_secs(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The value of attribute `name` in the request's `attributes` array.
fn attribute(claims: &Value, name: &str) -> Option<String> {
    claims["attributes"].as_array()?.iter().find_map(|a| {
        (a["name"] == name).then(|| match &a["value"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    })
}

/// A verified PPM request.
struct Request {
    org: String,
    claims: Value,
    user: Option<User>,
}

/// Verifies the form of a PPM POST; `passwordless` requires an empty or absent `sub`.
fn verify(
    state: &AppState,
    fields: &HashMap<String, String>,
    passwordless: bool,
) -> Result<Request, String> {
    let alias = fields
        .get("idp_account_id")
        .filter(|a| !a.is_empty())
        .ok_or("The idp_account_id form field is missing.")?;
    let org = state
        .legacy
        .org(alias)
        .ok_or("The idp_account_id names no PingID org.")?;
    let token = fields
        .get("ppm_request")
        .ok_or("The ppm_request form field is missing.")?;
    let parsed = Parsed::new(token).map_err(|e| format!("Invalid PPM request: {e}"))?;
    if !parsed.verifies_with(&org.key) {
        return Err("The PPM request signature is invalid.".into());
    }
    let claims = parsed.payload;
    if claims["aud"] != AUDIENCE {
        return Err(format!("The PPM request aud must be {AUDIENCE}."));
    }
    let exp = claims["exp"]
        .as_f64()
        .ok_or("The PPM request has no exp.")?;
    // Seconds per the docs; many clients send milliseconds.
    let exp = if exp > 1e12 { exp / 1000.0 } else { exp };
    if exp <= unix_secs(state.clock.now()) as f64 {
        return Err("The PPM request has expired.".into());
    }
    if claims["idpAccountId"] != org.alias.as_str() {
        return Err("The PPM request idpAccountId is not the org of idp_account_id.".into());
    }
    if !claims["nonce"].is_string() {
        return Err("The PPM request has no nonce.".into());
    }
    let iss = claims["iss"]
        .as_str()
        .ok_or("The PPM request has no iss.")?;
    // [I] The optional `iss` form field must repeat the claim.
    if fields.get("iss").is_some_and(|form_iss| form_iss != iss) {
        return Err("The iss form field differs from the PPM request iss.".into());
    }
    claims["returnUrl"]
        .as_str()
        .and_then(|u| Url::parse(u).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or("The PPM request returnUrl is not an absolute http(s) URL.")?;
    let sub = claims["sub"].as_str().unwrap_or_default();
    let user = if passwordless {
        if !sub.is_empty() {
            return Err("A passwordless PPM request has no sub.".into());
        }
        None
    } else {
        if sub.is_empty() {
            return Err("The PPM request has no sub.".into());
        }
        let data = lock(&state.legacy.data);
        Some(
            data.user(&org.alias, sub)
                .cloned()
                .ok_or("The PPM request sub is not a PingID user of this org.")?,
        )
    };
    Ok(Request {
        org: org.alias.clone(),
        claims,
        user,
    })
}

/// How a PPM ends.
enum Outcome<'a> {
    Success {
        authentication_type: &'a str,
        device: Option<i64>,
    },
    Failure {
        error_code: &'a str,
        message: &'a str,
        authentication_type: Option<&'a str>,
        device: Option<i64>,
    },
}

/// Signs the §9.4 response to `claims` for `sub`, records it and renders the auto-post page.
fn respond(state: &AppState, org: &str, request: &Value, sub: &str, outcome: Outcome) -> Response {
    let Some(org) = state.legacy.org(org) else {
        return error_page(StatusCode::INTERNAL_SERVER_ERROR, "Unknown org.");
    };
    let now = unix_secs(state.clock.now());
    let jti: [u8; 8] = rand::random();
    let return_url = request["returnUrl"].as_str().unwrap_or_default().to_owned();
    let mut claims = json!({
        "iss": request["aud"],
        "aud": request["iss"],
        "sub": sub,
        "nonce": request["nonce"],
        "iat": now,
        "exp": now + RESPONSE_LIFETIME_SECS,
        "jti": data_encoding::BASE32.encode(&jti),
        "idpAccountId": org.alias,
        "authnContext": AUTHN_CONTEXT,
        "inResponseTo": request.get("jti").cloned().unwrap_or_else(|| Value::from("")),
        "dst": return_url,
        "accessingDevice": { "ip": attribute(request, "pingidIp") },
        // [I] The request's attributes, echoed: Ping's own PPM response type has an
        // `attributes` list (pingid-api.md §9.4), and a test can see what arrived.
        "attributes": request.get("attributes").cloned().unwrap_or_else(|| json!([])),
    });
    let (status, authentication_type, device) = match outcome {
        Outcome::Success {
            authentication_type,
            device,
        } => ("success", Some(authentication_type), device),
        Outcome::Failure {
            error_code,
            message,
            authentication_type,
            device,
        } => {
            claims["errorCode"] = error_code.into();
            claims["message"] = message.into();
            ("failure", authentication_type, device)
        }
    };
    claims["status"] = status.into();
    // [I] Device ids as strings: DaVinci is JavaScript and the ids exceed 2^53.
    claims["authenticationDevice"] = json!({ "id": device.map(|id| id.to_string()) });
    claims["authenticationType"] = authentication_type.into();
    let token = sign(
        &json!({ "alg": "HS256", "typ": "JWT" }),
        &claims,
        &signing_key(state, org),
    );
    lock(&state.legacy.data).last_ppm_response = Some(claims);
    response_page(&return_url, &token)
}

/// The device an "approve" stands for: the PingID app, else the primary device.
fn swipe_device(user: &User) -> Option<i64> {
    user.devices
        .iter()
        .find(|d| matches!(d.kind, DeviceKind::Mobile { .. }))
        .or_else(|| user.devices.first())
        .map(|d| d.id)
}

/// `POST /pingid/ppm/auth` (form `idp_account_id`, `ppm_request`, optional `iss`).
pub(crate) async fn auth(State(state): State<SharedState>, body: Bytes) -> Response {
    let fields = form(&body);
    let request = match verify(&state, &fields, false) {
        Ok(request) => request,
        Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
    };
    let Some(user) = request.user else {
        return error_page(StatusCode::BAD_REQUEST, "The PPM request has no sub.");
    };
    let now = state.clock.now();
    let fresh_passkey = {
        let mut data = lock(&state.legacy.data);
        data.last_ppm_request = Some(request.claims.clone());
        data.last_ppm_response = None;
        data.passwordless
            .get(&(request.org.clone(), user.user_name.clone()))
            .filter(|(at, _)| {
                now.duration_since(*at)
                    .is_ok_and(|age| age <= PASSWORDLESS_FRESHNESS)
            })
            .map(|(_, device)| *device)
    };
    // [I] The policy sees a passwordless sign-in of this user in the last 10 minutes.
    if let Some(device) = fresh_passkey
        && attribute(&request.claims, "isUserAuthenticated").as_deref() == Some("true")
    {
        return respond(
            &state,
            &request.org,
            &request.claims,
            &user.user_name,
            Outcome::Success {
                authentication_type: "FIDO2",
                device: Some(device),
            },
        );
    }
    let otp = user
        .sms_device()
        .map(|(_, phone)| (digits(6), phone.to_owned()));
    let session = session_id("ppm_");
    lock(&state.legacy.data).ppm_sessions.insert(
        session.clone(),
        PpmSession {
            org: request.org.clone(),
            claims: request.claims.clone(),
            user_name: Some(user.user_name.clone()),
            otp: otp.as_ref().map(|(code, _)| code.clone()),
            failures: 0,
            started: now,
            webauthn: None,
        },
    );
    if let Some((code, phone)) = otp {
        state.outbox.deliver(
            Delivery {
                channel: Channel::Sms,
                to: phone,
                otp: code,
                valid_for: state.config.otp_lifetime,
            },
            now,
        );
    }
    auth_page(&state, &session, None)
}

/// The approve / deny (and passcode) page of PPM session `session`.
fn auth_page(state: &AppState, session: &str, error: Option<&str>) -> Response {
    let data = lock(&state.legacy.data);
    let Some(ppm) = data.ppm_sessions.get(session) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This authentication is no longer valid.",
        );
    };
    let user_name = ppm.user_name.clone().unwrap_or_default();
    let user = data.user(&ppm.org, &user_name);
    let app = attribute(&ppm.claims, "appName").unwrap_or_else(|| "the application".into());
    let phone = user.and_then(|u| u.sms_device().map(|(_, p)| p.to_owned()));
    drop(data);
    let error = error
        .map(|e| format!("<p id=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    let session = escape(session);
    let otp_form = phone
        .map(|phone| {
            let tail: String = phone
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!(
                "<form method=\"post\" action=\"/pingid/ppm/auth/otp\">\n\
<p>Or enter the passcode sent to <span id=\"otp-phone\">•••{}</span>:</p>\n\
<input type=\"hidden\" name=\"session\" value=\"{session}\">\n\
<input id=\"otp\" name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\">\n\
<button id=\"submit-otp\" type=\"submit\">Verify</button>\n</form>",
                escape(&tail)
            )
        })
        .unwrap_or_default();
    page(
        StatusCode::OK,
        "PingID",
        "",
        &format!(
            "<h1>PingID</h1>\n<p>Authenticating <strong id=\"user\">{}</strong> \
for <strong id=\"app-name\">{}</strong>.</p>\n{error}\
<form method=\"post\" action=\"/pingid/ppm/auth/decision\">\n\
<input type=\"hidden\" name=\"session\" value=\"{session}\">\n\
<button id=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\n\
<button id=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n</form>\n{otp_form}",
            escape(&user_name),
            escape(&app)
        ),
    )
}

/// The live PPM session named by the form's `session`.
fn take_session(
    state: &AppState,
    fields: &HashMap<String, String>,
) -> Option<(String, PpmSession)> {
    let id = fields.get("session")?;
    let mut data = lock(&state.legacy.data);
    let ppm = data.ppm_sessions.get(id).cloned()?;
    let age = state
        .clock
        .now()
        .duration_since(ppm.started)
        .unwrap_or_default();
    if age > PAGE_LIFETIME {
        data.ppm_sessions.remove(id);
        return None;
    }
    Some((id.clone(), ppm))
}

/// The page for a used, expired or unknown PPM session.
fn invalid_session() -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "This authentication is no longer valid.",
    )
}

/// `POST /pingid/ppm/auth/decision` (form `session`, `decision` = `approve` | `deny`).
pub(crate) async fn decision(State(state): State<SharedState>, body: Bytes) -> Response {
    let fields = form(&body);
    let Some((id, ppm)) = take_session(&state, &fields) else {
        return invalid_session();
    };
    let approve = match fields.get("decision").map(String::as_str) {
        Some("approve") => true,
        Some("deny") => false,
        _ => return error_page(StatusCode::BAD_REQUEST, "Choose approve or deny."),
    };
    let user_name = ppm.user_name.clone().unwrap_or_default();
    let device = {
        let mut data = lock(&state.legacy.data);
        data.ppm_sessions.remove(&id);
        data.user(&ppm.org, &user_name).and_then(swipe_device)
    };
    let outcome = if approve {
        Outcome::Success {
            authentication_type: "SWIPE",
            device,
        }
    } else {
        Outcome::Failure {
            error_code: "PINGID_001",
            message: "The user denied the authentication.",
            authentication_type: Some("SWIPE"),
            device,
        }
    };
    respond(&state, &ppm.org, &ppm.claims, &user_name, outcome)
}

/// `POST /pingid/ppm/auth/otp` (form `session`, `otp`).
pub(crate) async fn otp(State(state): State<SharedState>, body: Bytes) -> Response {
    let fields = form(&body);
    let Some((id, ppm)) = take_session(&state, &fields) else {
        return invalid_session();
    };
    let Some(expected) = ppm.otp.clone() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "No passcode was sent for this authentication.",
        );
    };
    let user_name = ppm.user_name.clone().unwrap_or_default();
    let given = fields.get("otp").map(|o| o.trim()).unwrap_or_default();
    let fresh = state
        .clock
        .now()
        .duration_since(ppm.started)
        .is_ok_and(|age| age <= state.config.otp_lifetime);
    let device = lock(&state.legacy.data)
        .user(&ppm.org, &user_name)
        .and_then(|u| u.sms_device().map(|(d, _)| d.id));
    if fresh && given == expected {
        lock(&state.legacy.data).ppm_sessions.remove(&id);
        return respond(
            &state,
            &ppm.org,
            &ppm.claims,
            &user_name,
            Outcome::Success {
                authentication_type: "SMS",
                device,
            },
        );
    }
    let failures = ppm.failures + 1;
    let max = state.config.otp_max_failures;
    if failures >= max {
        lock(&state.legacy.data).ppm_sessions.remove(&id);
        return respond(
            &state,
            &ppm.org,
            &ppm.claims,
            &user_name,
            Outcome::Failure {
                error_code: "PINGID_001",
                message: "Too many wrong passcodes.",
                authentication_type: Some("SMS"),
                device,
            },
        );
    }
    if let Some(session) = lock(&state.legacy.data).ppm_sessions.get_mut(&id) {
        session.failures = failures;
    }
    let left = max - failures;
    auth_page(
        &state,
        &id,
        Some(&format!(
            "Wrong passcode. {left} attempt{} left.",
            if left == 1 { "" } else { "s" }
        )),
    )
}

/// The page origin (`http://host[:port]`) and RP id (the host) from the `Host` header.
pub(crate) fn origin_and_rp_id(headers: &HeaderMap) -> Option<(String, String)> {
    let host = headers.get(HOST)?.to_str().ok()?;
    let url = Url::parse(&format!("http://{host}")).ok()?;
    let rp_id = url.host_str()?.to_owned();
    Some((format!("http://{host}"), rp_id))
}

/// `POST /pingid/ppm/passwordless` [I] (form `idp_account_id`, `ppm_request` without `sub`).
pub(crate) async fn passwordless(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let request = match verify(&state, &fields, true) {
        Ok(request) => request,
        Err(message) => return error_page(StatusCode::BAD_REQUEST, &message),
    };
    let Some((origin, rp_id)) = origin_and_rp_id(&headers) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The request has no usable Host header.",
        );
    };
    let (options, webauthn_state) = match webauthn::passkey_request_options(&rp_id) {
        Ok(pair) => pair,
        Err(error) => return error_page(StatusCode::INTERNAL_SERVER_ERROR, &error),
    };
    let session = session_id("ppm_");
    {
        let mut data = lock(&state.legacy.data);
        data.last_ppm_request = Some(request.claims.clone());
        data.last_ppm_response = None;
        data.ppm_sessions.insert(
            session.clone(),
            PpmSession {
                org: request.org.clone(),
                claims: request.claims.clone(),
                user_name: None,
                otp: None,
                failures: 0,
                started: state.clock.now(),
                webauthn: Some((webauthn_state, rp_id, origin)),
            },
        );
    }
    let app = attribute(&request.claims, "appName").unwrap_or_else(|| "the application".into());
    page(
        StatusCode::OK,
        "PingID - Sign in",
        "",
        &format!(
            "<h1>PingID</h1>\n<p>Sign in to <strong id=\"app-name\">{}</strong> with a passkey.</p>\n\
<button id=\"sign-in\" type=\"button\">Sign in with a passkey</button>\n\
<form id=\"assertion-form\" method=\"post\" action=\"/pingid/ppm/passwordless/assertion\">\n\
<input type=\"hidden\" name=\"session\" value=\"{}\">\n\
<input type=\"hidden\" name=\"assertion\" value=\"\">\n\
<input type=\"hidden\" name=\"error\" value=\"\">\n</form>\n\
<script id=\"options\" type=\"application/json\">{}</script>\n\
<script>\n{B64URL_JS}\
document.getElementById('sign-in').addEventListener('click', async () => {{\n\
  const o = JSON.parse(document.getElementById('options').textContent);\n\
  const form = document.getElementById('assertion-form');\n\
  try {{\n\
    const c = await navigator.credentials.get({{ publicKey: {{ challenge: fromB64u(o.challenge), rpId: o.rpId,\n\
      allowCredentials: [], userVerification: o.userVerification, timeout: o.timeout }} }});\n\
    form.elements.assertion.value = JSON.stringify({{ id: c.id, rawId: toB64u(c.rawId), type: c.type,\n\
      response: {{ clientDataJSON: toB64u(c.response.clientDataJSON),\n\
        authenticatorData: toB64u(c.response.authenticatorData),\n\
        signature: toB64u(c.response.signature),\n\
        userHandle: c.response.userHandle ? toB64u(c.response.userHandle) : null }},\n\
      clientExtensionResults: c.getClientExtensionResults() }});\n\
  }} catch (e) {{ form.elements.error.value = e.name || 'Error'; }}\n\
  form.submit();\n}});\n</script>",
            escape(&app),
            escape(&session),
            script_json(&options)
        ),
    )
}

/// `POST /pingid/ppm/passwordless/assertion` (form `session`, `assertion` JSON or `error`):
/// verifies the assertion and auto-posts the response.
pub(crate) async fn passwordless_assertion(
    State(state): State<SharedState>,
    body: Bytes,
) -> Response {
    let fields = form(&body);
    let Some((id, ppm)) = take_session(&state, &fields) else {
        return invalid_session();
    };
    let Some((webauthn_state, rp_id, origin)) = ppm.webauthn.clone() else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This is not a passwordless sign-in.",
        );
    };
    lock(&state.legacy.data).ppm_sessions.remove(&id);
    let fail = |code: &str, message: &str| {
        respond(
            &state,
            &ppm.org,
            &ppm.claims,
            "",
            Outcome::Failure {
                error_code: code,
                message,
                authentication_type: Some("FIDO2"),
                device: None,
            },
        )
    };
    let assertion = fields
        .get("assertion")
        .map(String::as_str)
        .unwrap_or_default();
    if assertion.is_empty() {
        // The browser's DOMException name, e.g. NotAllowedError → NOT_ALLOWED_ERROR.
        let code = match fields.get("error").map(String::as_str) {
            Some("NotAllowedError") => "NOT_ALLOWED_ERROR",
            Some("AbortError") => "ABORT_ERROR",
            Some("SecurityError") => "SECURITY_ERROR",
            Some("InvalidStateError") => "INVALID_STATE_ERROR",
            _ => "AUTH_GENERIC_ERROR",
        };
        return fail(code, "The browser did not return a passkey assertion.");
    }
    let Ok((credential_id, user_handle)) = webauthn::assertion_identity(assertion) else {
        return fail("AUTH_GENERIC_ERROR", "The assertion is unreadable.");
    };
    let passkey = {
        let data = lock(&state.legacy.data);
        data.passkeys
            .iter()
            .find(|p| p.credential_id == credential_id && p.org == ppm.org && p.rp_id == rp_id)
            .cloned()
            .filter(|p| {
                let handle = data
                    .user(&p.org, &p.user_name)
                    .map(|u| u.user_handle.clone());
                user_handle.is_none() || user_handle == handle
            })
    };
    let Some(passkey) = passkey else {
        return fail(
            "USER_DOES_NOT_EXIST",
            "No user of this org has this passkey.",
        );
    };
    match webauthn::verify_passkey_assertion(
        &rp_id,
        &webauthn_state,
        &passkey.credential,
        assertion,
        &origin,
    ) {
        Ok(updated) => {
            let now = state.clock.now();
            {
                let mut data = lock(&state.legacy.data);
                if let Some(stored) = data
                    .passkeys
                    .iter_mut()
                    .find(|p| p.credential_id == passkey.credential_id)
                {
                    stored.credential = updated;
                }
                data.passwordless.insert(
                    (passkey.org.clone(), passkey.user_name.clone()),
                    (now, passkey.device_id),
                );
            }
            respond(
                &state,
                &ppm.org,
                &ppm.claims,
                &passkey.user_name,
                Outcome::Success {
                    authentication_type: "FIDO2",
                    device: Some(passkey.device_id),
                },
            )
        }
        Err(_) => fail("SECURITY_ERROR", "The passkey assertion did not verify."),
    }
}
