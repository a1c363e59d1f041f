//! The PingID REST API: `POST /pingid/rest/4/{op}/do`, a compact JWS in, a compact JWS out.
//!
//! Every request is authenticated before anything else: HS256 only, the header `token` equal
//! to `reqHeader.secretKey` and to a token of the org named by `reqHeader.orgAlias` (the header
//! names the same org as `org_alias` or `orgAlias`), HMAC-SHA256 under the org's decoded key,
//! compared in constant time. A refusal is HTTP 400 with a plain-JSON (unsigned)
//! `{"responseBody":{"errorId":400,…}}` [I]: the signature cannot be trusted, so neither can
//! the key to sign with.

use std::time::SystemTime;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::jws::{Parsed, sign};
use super::store::{
    AuthSession, AuthStage, Device, DeviceKind, Legacy, Org, PairingSession, PushDecision, User,
    device_uuid, digits, pingid_time, session_id, unix_ms, user_handle,
};
use crate::outbox::{Channel, Delivery};
use crate::state::{AppState, SharedState, lock};
use crate::totp;

/// errorIds the simulator answers with. Ids marked [I] are not in the public error table.
pub(crate) mod ids {
    pub(crate) const OK: u32 = 200;
    pub(crate) const SMS_OTP: u32 = 30001;
    pub(crate) const VOICE_OTP: u32 = 30002;
    pub(crate) const EMAIL_OTP: u32 = 30005;
    pub(crate) const ONLINE_FLOW: u32 = 30007;
    pub(crate) const SELECT_DEVICE: u32 = 30008;
    pub(crate) const ASYNC_WAIT: u32 = 30010;
    pub(crate) const FIDO_PLATFORM: u32 = 30013;
    pub(crate) const AUTHENTICATOR_APP_OTP: u32 = 30015;
    pub(crate) const INVALID_INPUT: u32 = 400;
    pub(crate) const FAILED_TRANSACTION: u32 = 10551;
    pub(crate) const USER_EXISTS: u32 = 10556;
    pub(crate) const USER_NOT_EXISTS: u32 = 10564;
    pub(crate) const WRONG_OTP: u32 = 20513;
    /// [I] The user denied the push (the number PingFederate uses for "user canceled").
    pub(crate) const PUSH_DENIED: u32 = 20516;
    pub(crate) const INVALID_SESSION: u32 = 20517;
    /// [I] Nobody answered the push within the push timeout.
    pub(crate) const PUSH_TIMEOUT: u32 = 20519;
    /// [I] The user has no paired device to authenticate with.
    pub(crate) const NO_DEVICE: u32 = 20520;
    pub(crate) const INVALID_PHONE: u32 = 20559;
    /// [I] An injected service failure (5xx fault without an `errorId`).
    pub(crate) const SERVICE_ERROR: u32 = 500;
}

/// `errorMsg` for `error_id`.
pub(crate) fn message(error_id: u32) -> &'static str {
    match error_id {
        ids::OK => "ok",
        ids::SMS_OTP => "Please enter the OTP from the SMS.",
        ids::VOICE_OTP => "Please enter the OTP from the call.",
        ids::EMAIL_OTP => "Please enter the OTP from the email.",
        ids::ONLINE_FLOW => "Continue the authentication flow using online flow",
        ids::SELECT_DEVICE => "Multiple devices selection flow.",
        ids::ASYNC_WAIT => "Asynchronous authentication: waiting for client response.",
        ids::FIDO_PLATFORM => "webauthn.platform.flow",
        ids::AUTHENTICATOR_APP_OTP => "Please enter the OTP from the authenticator application.",
        ids::INVALID_INPUT => "Invalid input.",
        ids::FAILED_TRANSACTION => "Failed transaction. Please retry.",
        ids::USER_EXISTS => {
            "User already exists. Username should be unique within the organization."
        }
        ids::USER_NOT_EXISTS => "User not exists.",
        ids::WRONG_OTP => "Wrong OTP.",
        ids::PUSH_DENIED => "The user denied the authentication.",
        ids::INVALID_SESSION => "Invalid session.",
        ids::PUSH_TIMEOUT => "The authentication timed out.",
        ids::NO_DEVICE => "The user has no paired device.",
        ids::INVALID_PHONE => "Invalid phone number.",
        500..=599 => "Internal server error.",
        _ => "Request failed.",
    }
}

/// HTTP status for `error_id`: 200 for 200 and 300xx, 500 for 5xx ids, else 400.
pub(crate) fn http_status(error_id: u32) -> StatusCode {
    match error_id {
        200 | 30000..=30999 => StatusCode::OK,
        500..=599 => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An operation's answer before signing.
#[derive(Debug)]
pub(crate) struct Reply {
    error_id: u32,
    fields: Map<String, Value>,
}

impl Reply {
    fn new(error_id: u32, fields: Value) -> Self {
        let fields = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        Self { error_id, fields }
    }

    fn ok(fields: Value) -> Self {
        Self::new(ids::OK, fields)
    }

    fn error(error_id: u32) -> Self {
        Self::new(error_id, Value::Null)
    }
}

/// A fault the fault middleware hands to the handler, which answers it after authenticating
/// the request (so the answer is signed with the caller's org key).
#[derive(Debug, Clone)]
pub(crate) struct InjectedError {
    pub(crate) status: Option<u16>,
    pub(crate) error_id: Option<u32>,
    pub(crate) retry_after_seconds: Option<u64>,
}

/// An authenticated caller.
struct Caller {
    org: Org,
    token: String,
    body: Value,
}

/// Checks a request JWS (see the module doc); the refusal text on failure.
fn authenticate(legacy: &Legacy, raw: &[u8]) -> Result<Caller, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "The request body is not text.")?;
    let parsed = Parsed::new(text)?;
    let token = parsed.header["token"]
        .as_str()
        .ok_or("The JWS header has no token.")?;
    let req_header = &parsed.payload["reqHeader"];
    let alias = req_header["orgAlias"]
        .as_str()
        .ok_or("reqHeader.orgAlias is missing.")?;
    let header_alias = parsed.header["org_alias"]
        .as_str()
        .or_else(|| parsed.header["orgAlias"].as_str())
        .ok_or("The JWS header names no org (org_alias or orgAlias).")?;
    if header_alias != alias {
        return Err("The JWS header and reqHeader name different orgs.");
    }
    let org = legacy.org(alias).ok_or("Unknown org.")?;
    if req_header["secretKey"].as_str() != Some(token) {
        return Err("reqHeader.secretKey does not match the JWS header token.");
    }
    if token != org.token {
        return Err("The token is not valid for this org.");
    }
    if !parsed.verifies_with(&org.key) {
        return Err("Invalid message signature.");
    }
    let body = parsed.payload["reqBody"].clone();
    if !body.is_object() {
        return Err("reqBody is missing.");
    }
    Ok(Caller {
        org: org.clone(),
        token: token.to_owned(),
        body,
    })
}

fn unique_msg_id() -> String {
    session_id("webs_")
}

/// The plain-JSON refusal of an unauthenticated request.
fn refusal(message: &str) -> Response {
    let body = json!({ "responseBody": {
        "errorId": ids::INVALID_INPUT,
        "errorMsg": message,
        "uniqueMsgId": unique_msg_id(),
        "clientData": null,
    }});
    (
        StatusCode::BAD_REQUEST,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body.to_string(),
    )
        .into_response()
}

/// The key to sign the next answer of `org` with: the org's, or a wrong one when a tamper is
/// pending (`POST /_sim/pingid/tamper-next-response`).
pub(crate) fn signing_key(state: &AppState, org: &Org) -> Vec<u8> {
    if lock(&state.legacy.data).take_tamper() {
        org.key.iter().map(|b| b ^ 0x5a).collect()
    } else {
        org.key.clone()
    }
}

/// `POST /pingid/rest/4/{op}/do`.
pub(crate) async fn handle(
    State(state): State<SharedState>,
    Path(op): Path<String>,
    injected: Option<Extension<InjectedError>>,
    body: Bytes,
) -> Response {
    let caller = match authenticate(&state.legacy, &body) {
        Ok(caller) => caller,
        Err(message) => return refusal(message),
    };
    let client_data = caller
        .body
        .get("clientData")
        .cloned()
        .unwrap_or(Value::Null);
    let (reply, status, retry_after) = match injected {
        Some(Extension(fault)) => {
            let error_id = fault.error_id.unwrap_or(match fault.status {
                Some(status) if status >= 500 => ids::SERVICE_ERROR,
                _ => ids::FAILED_TRANSACTION,
            });
            (
                Reply::error(error_id),
                fault.status.and_then(|s| StatusCode::from_u16(s).ok()),
                fault.retry_after_seconds,
            )
        }
        None => (
            dispatch(&state, &caller, &op.to_ascii_lowercase()),
            None,
            None,
        ),
    };
    let mut inner = reply.fields;
    inner.insert("errorId".into(), reply.error_id.into());
    inner.insert("errorMsg".into(), message(reply.error_id).into());
    inner.insert("uniqueMsgId".into(), unique_msg_id().into());
    inner.insert("clientData".into(), client_data);
    let header = json!({ "alg": "HS256", "orgAlias": caller.org.alias, "token": caller.token });
    let token = sign(
        &header,
        &json!({ "responseBody": inner }),
        &signing_key(&state, &caller.org),
    );
    let mut response = (
        status.unwrap_or_else(|| http_status(reply.error_id)),
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        token,
    )
        .into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn dispatch(state: &AppState, caller: &Caller, op: &str) -> Reply {
    let body = &caller.body;
    let org = &caller.org;
    let result = match op {
        "getuserdetails" => get_user_details(state, org, body),
        "adduser" => add_user(state, org, body),
        "getactivationcode" => get_activation_code(state, org, body),
        "startofflinepairing" => start_offline_pairing(state, org, body),
        "finalizeofflinepairing" => finalize_offline_pairing(state, org, body),
        "startauthentication" => start_authentication(state, org, body),
        "authstatus" => auth_status(state, org, body),
        "authoffline" => auth_offline(state, org, body),
        "cancelauthentication" => cancel_authentication(state, org, body),
        "readbulkauthenticationpolicy" => read_policy(body),
        // [I] An operation the simulator does not serve is "Invalid input.".
        _ => Err(ids::INVALID_INPUT),
    };
    result.unwrap_or_else(Reply::error)
}

type OpResult = Result<Reply, u32>;

/// A string field (numbers are accepted and turned into text).
fn text(body: &Value, name: &str) -> Option<String> {
    match &body[name] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A boolean given as a JSON boolean or as `"true"` / `"false"`.
fn flag(body: &Value, name: &str) -> bool {
    match &body[name] {
        Value::Bool(b) => *b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A device id given as a number or a string.
fn id_field(body: &Value, name: &str) -> Result<Option<i64>, u32> {
    match &body[name] {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_i64().map(Some).ok_or(ids::INVALID_INPUT),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => s.parse().map(Some).map_err(|_| ids::INVALID_INPUT),
        _ => Err(ids::INVALID_INPUT),
    }
}

fn now(state: &AppState) -> SystemTime {
    state.clock.now()
}

fn get_user_details(state: &AppState, org: &Org, body: &Value) -> OpResult {
    let name = text(body, "userName").ok_or(ids::INVALID_INPUT)?;
    let data = lock(&state.legacy.data);
    Ok(match data.user(&org.alias, &name) {
        Some(user) => Reply::ok(json!({
            "userDetails": user.details(),
            "sameDeviceUsersDetails": [],
        })),
        None => Reply::new(
            ids::USER_NOT_EXISTS,
            json!({ "userDetails": null, "sameDeviceUsersDetails": [] }),
        ),
    })
}

fn add_user(state: &AppState, org: &Org, body: &Value) -> OpResult {
    // `username` per the docs; `userName` tolerated [I].
    let name = text(body, "username")
        .or_else(|| text(body, "userName"))
        .ok_or(ids::INVALID_INPUT)?;
    if name.chars().count() > 250 {
        return Err(ids::INVALID_INPUT);
    }
    let activate = flag(body, "activateUser");
    let role = match text(body, "role").as_deref() {
        None | Some("REGULAR") => "REGULAR",
        Some("ADMIN") => "ADMIN",
        Some(_) => return Err(ids::INVALID_INPUT),
    };
    let mut data = lock(&state.legacy.data);
    if data.user(&org.alias, &name).is_some() {
        return Err(ids::USER_EXISTS);
    }
    data.next_user_id += 1;
    let user = User {
        user_handle: user_handle(&org.alias, &name),
        user_name: name.clone(),
        user_id: data.next_user_id,
        email: text(body, "email"),
        fname: text(body, "fName").or_else(|| text(body, "fname")),
        lname: text(body, "lname").or_else(|| text(body, "lName")),
        status: if activate {
            "PENDING_ACTIVATION"
        } else {
            "NOT_ACTIVE"
        }
        .into(),
        role: role.into(),
        last_login_ms: None,
        devices: Vec::new(),
    };
    let details = user.details();
    data.users.entry(org.alias.clone()).or_default().push(user);
    let code = if activate {
        let code = digits(12);
        data.activation_codes
            .insert(code.clone(), (org.alias.clone(), name));
        code
    } else {
        String::new()
    };
    Ok(Reply::ok(
        json!({ "userDetails": details, "activationCode": code }),
    ))
}

fn get_activation_code(state: &AppState, org: &Org, body: &Value) -> OpResult {
    let name = text(body, "userName").ok_or(ids::INVALID_INPUT)?;
    let mut data = lock(&state.legacy.data);
    let user = data
        .user(&org.alias, &name)
        .ok_or(ids::USER_NOT_EXISTS)?
        .user_name
        .clone();
    let code = digits(12);
    data.activation_codes
        .insert(code.clone(), (org.alias.clone(), user));
    Ok(Reply::ok(json!({ "activationCode": code })))
}

/// `+` and 8–15 digits from a phone given with or without `+`, spaces or dashes.
fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .trim()
        .trim_start_matches('+')
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
        .collect();
    (digits.chars().all(|c| c.is_ascii_digit()) && (8..=15).contains(&digits.len()))
        .then(|| format!("+{digits}"))
}

fn start_offline_pairing(state: &AppState, org: &Org, body: &Value) -> OpResult {
    let name = text(body, "username")
        .or_else(|| text(body, "userName"))
        .ok_or(ids::INVALID_INPUT)?;
    let kind = text(body, "type").ok_or(ids::INVALID_INPUT)?;
    let pairing_data = text(body, "pairingData").ok_or(ids::INVALID_INPUT)?;
    let (kind, channel, to) = match kind.as_str() {
        "SMS" | "VOICE" => {
            let phone = normalize_phone(&pairing_data).ok_or(ids::INVALID_PHONE)?;
            if kind == "SMS" {
                (
                    DeviceKind::Sms {
                        phone: phone.clone(),
                    },
                    Channel::Sms,
                    phone,
                )
            } else {
                (
                    DeviceKind::Voice {
                        phone: phone.clone(),
                    },
                    Channel::Voice,
                    phone,
                )
            }
        }
        "EMAIL" if pairing_data.contains('@') => (
            DeviceKind::Email {
                email: pairing_data.clone(),
            },
            Channel::Email,
            pairing_data.clone(),
        ),
        // [I] OATH tokens (`TOKEN`) are not simulated on the legacy side.
        _ => return Err(ids::INVALID_INPUT),
    };
    let at = now(state);
    let otp = digits(6);
    let (session, device_id, uuid) = {
        let mut data = lock(&state.legacy.data);
        let user = data
            .user(&org.alias, &name)
            .ok_or(ids::USER_NOT_EXISTS)?
            .user_name
            .clone();
        let device_id = data.new_device_id();
        let device = Device {
            id: device_id,
            uuid: device_uuid(device_id),
            nickname: match &kind {
                DeviceKind::Sms { .. } => "Mobile SMS".into(),
                DeviceKind::Voice { .. } => "Voice".into(),
                _ => "Email".into(),
            },
            kind,
            enrollment: pingid_time(at),
        };
        let uuid = device.uuid.clone();
        let session = session_id("oacts_");
        data.pairing_sessions.insert(
            session.clone(),
            PairingSession {
                org: org.alias.clone(),
                user_name: user,
                device,
                otp: otp.clone(),
                started: at,
                failures: 0,
            },
        );
        (session, device_id, uuid)
    };
    state.outbox.deliver(
        Delivery {
            channel,
            to,
            otp,
            valid_for: state.config.otp_lifetime,
        },
        at,
    );
    Ok(Reply::ok(json!({
        "sessionId": session,
        "deviceId": device_id.to_string(),
        "deviceUuid": uuid,
        "tokenType": null,
    })))
}

fn finalize_offline_pairing(state: &AppState, org: &Org, body: &Value) -> OpResult {
    let session = text(body, "sessionId").ok_or(ids::INVALID_SESSION)?;
    let otp = text(body, "otp").ok_or(ids::INVALID_INPUT)?;
    let at = now(state);
    let mut data = lock(&state.legacy.data);
    let pairing = data
        .pairing_sessions
        .get_mut(&session)
        .filter(|p| p.org == org.alias)
        .ok_or(ids::INVALID_SESSION)?;
    if at > pairing.started + state.config.otp_lifetime {
        data.pairing_sessions.remove(&session);
        return Err(ids::INVALID_SESSION);
    }
    if pairing.otp != otp {
        pairing.failures += 1;
        if pairing.failures >= state.config.otp_max_failures {
            data.pairing_sessions.remove(&session);
        }
        return Err(ids::WRONG_OTP);
    }
    let pairing = data
        .pairing_sessions
        .remove(&session)
        .ok_or(ids::INVALID_SESSION)?;
    let user = data
        .user_mut(&org.alias, &pairing.user_name)
        .ok_or(ids::USER_NOT_EXISTS)?;
    user.devices.push(pairing.device);
    user.status = "ACTIVE".into();
    Ok(Reply::ok(json!({})))
}

/// The common members of a `startauthentication` answer.
fn auth_fields(user: &User, session: &str, device: Option<&Device>, multiple: bool) -> Value {
    let devices: Vec<Value> = user
        .devices
        .iter()
        .enumerate()
        .map(|(i, d)| d.details(i == 0))
        .collect();
    json!({
        "sessionId": session,
        "userDevices": devices,
        "multipleDevicesEnabled": multiple,
        "extendedAuthenticationDetails": {
            "adminHelp": null,
            "gracePeriod": null,
            "lastSuccessfulLogin": user.last_login_ms,
            "numberForMatching": null,
        },
        "cookie": null,
        "authenticatingDeviceId": device.map(|d| d.uuid.clone()),
        "errorParams": null,
    })
}

fn start_authentication(state: &AppState, org: &Org, body: &Value) -> OpResult {
    if text(body, "spAlias").is_some_and(|alias| alias != "web") {
        return Err(ids::INVALID_INPUT);
    }
    let name = text(body, "userName").ok_or(ids::INVALID_INPUT)?;
    let wanted_device = id_field(body, "deviceId")?;
    let given_session = text(body, "sessionId");
    let asynchronous = flag(body, "async");
    let at = now(state);
    let mut data = lock(&state.legacy.data);
    let user = data
        .user(&org.alias, &name)
        .ok_or(ids::USER_NOT_EXISTS)?
        .clone();
    if user.devices.is_empty() {
        return Err(ids::NO_DEVICE);
    }
    // A sessionId continues a device selection (30008) of the same user.
    if let Some(session) = &given_session {
        let known = data.auth_sessions.get(session).is_some_and(|s| {
            s.org == org.alias
                && s.user_name == user.user_name
                && matches!(s.stage, AuthStage::Selection)
        });
        if !known {
            return Err(ids::INVALID_SESSION);
        }
    }
    let multiple = org.prompt_device_selection && user.devices.len() > 1;
    let device = match wanted_device {
        Some(id) => user
            .devices
            .iter()
            .find(|d| d.id == id)
            .ok_or(ids::INVALID_INPUT)?,
        None if multiple => {
            let session = given_session.unwrap_or_else(|| session_id("webs_"));
            data.auth_sessions.insert(
                session.clone(),
                AuthSession {
                    org: org.alias.clone(),
                    user_name: user.user_name.clone(),
                    device_id: None,
                    stage: AuthStage::Selection,
                    started: at,
                },
            );
            return Ok(Reply::new(
                ids::SELECT_DEVICE,
                auth_fields(&user, &session, None, true),
            ));
        }
        None => &user.devices[0],
    };
    let mut delivery = None;
    let (error_id, stage) = match &device.kind {
        DeviceKind::Mobile { .. } if asynchronous => {
            (ids::ASYNC_WAIT, AuthStage::Push { decision: None })
        }
        // [I] The synchronous online flow (`authonline`) is not served; 30007 is answered
        // as the reference says, and the session accepts `authstatus` polls too.
        DeviceKind::Mobile { .. } => (ids::ONLINE_FLOW, AuthStage::Push { decision: None }),
        DeviceKind::Sms { phone }
        | DeviceKind::Voice { phone }
        | DeviceKind::Email { email: phone } => {
            let otp = digits(6);
            let (channel, id) = match &device.kind {
                DeviceKind::Sms { .. } => (Channel::Sms, ids::SMS_OTP),
                DeviceKind::Voice { .. } => (Channel::Voice, ids::VOICE_OTP),
                _ => (Channel::Email, ids::EMAIL_OTP),
            };
            delivery = Some(Delivery {
                channel,
                to: phone.clone(),
                otp: otp.clone(),
                valid_for: state.config.otp_lifetime,
            });
            (
                id,
                AuthStage::Otp {
                    expected: Some(otp),
                    failures: 0,
                },
            )
        }
        DeviceKind::Totp { .. } => (
            ids::AUTHENTICATOR_APP_OTP,
            AuthStage::Otp {
                expected: None,
                failures: 0,
            },
        ),
        DeviceKind::Fido2 => (ids::FIDO_PLATFORM, AuthStage::Fido),
    };
    let session = given_session.unwrap_or_else(|| session_id("webs_"));
    data.auth_sessions.insert(
        session.clone(),
        AuthSession {
            org: org.alias.clone(),
            user_name: user.user_name.clone(),
            device_id: Some(device.id),
            stage,
            started: at,
        },
    );
    let fields = auth_fields(&user, &session, Some(device), multiple);
    drop(data);
    if let Some(delivery) = delivery {
        state.outbox.deliver(delivery, at);
    }
    Ok(Reply::new(error_id, fields))
}

/// An opaque PingID cookie [I]: any string; clients only store and echo it.
fn cookie() -> String {
    session_id("sim-cookie.")
}

fn succeed(state: &AppState, org: &Org, user_name: &str, session: &str) -> Reply {
    let at = now(state);
    let mut data = lock(&state.legacy.data);
    data.auth_sessions.remove(session);
    if let Some(user) = data.user_mut(&org.alias, user_name) {
        user.last_login_ms = Some(unix_ms(at));
    }
    Reply::ok(json!({ "sessionId": session, "cookie": cookie() }))
}

fn auth_status(state: &AppState, org: &Org, body: &Value) -> OpResult {
    let session = text(body, "sessionId").ok_or(ids::INVALID_SESSION)?;
    let at = now(state);
    let (user_name, decision) = {
        let mut data = lock(&state.legacy.data);
        let auth = data
            .auth_sessions
            .get(&session)
            .filter(|s| s.org == org.alias)
            .ok_or(ids::INVALID_SESSION)?;
        let AuthStage::Push { decision } = auth.stage else {
            return Err(ids::INVALID_SESSION);
        };
        let timed_out = at > auth.started + state.config.push_timeout;
        let decision = match decision {
            None if timed_out => Some(PushDecision::Timeout),
            other => other,
        };
        let user_name = auth.user_name.clone();
        if matches!(decision, Some(PushDecision::Deny | PushDecision::Timeout)) {
            data.auth_sessions.remove(&session);
        }
        (user_name, decision)
    };
    match decision {
        None => Ok(Reply::new(
            ids::ASYNC_WAIT,
            json!({ "sessionId": session, "cookie": null }),
        )),
        Some(PushDecision::Approve) => Ok(succeed(state, org, &user_name, &session)),
        Some(PushDecision::Deny) => Err(ids::PUSH_DENIED),
        Some(PushDecision::Timeout) => Err(ids::PUSH_TIMEOUT),
    }
}

fn auth_offline(state: &AppState, org: &Org, body: &Value) -> OpResult {
    let session = text(body, "sessionId").ok_or(ids::INVALID_SESSION)?;
    let otp = text(body, "otp").ok_or(ids::INVALID_INPUT)?;
    let at = now(state);
    let user_name = {
        let mut data = lock(&state.legacy.data);
        let auth = data
            .auth_sessions
            .get(&session)
            .filter(|s| s.org == org.alias)
            .cloned()
            .ok_or(ids::INVALID_SESSION)?;
        // [I] A userName, when given, must be the session's user.
        if text(body, "userName").is_some_and(|n| !n.eq_ignore_ascii_case(&auth.user_name)) {
            return Err(ids::INVALID_SESSION);
        }
        let AuthStage::Otp { expected, failures } = &auth.stage else {
            return Err(ids::INVALID_SESSION);
        };
        if at > auth.started + state.config.otp_lifetime {
            data.auth_sessions.remove(&session);
            return Err(ids::INVALID_SESSION);
        }
        let right = match expected {
            Some(expected) => *expected == otp,
            None => data
                .user(&org.alias, &auth.user_name)
                .and_then(|u| u.devices.iter().find(|d| Some(d.id) == auth.device_id))
                .is_some_and(|d| match &d.kind {
                    DeviceKind::Totp { secret } => totp::verify(secret, &otp, at),
                    _ => false,
                }),
        };
        if !right {
            let failures = failures + 1;
            if failures >= state.config.otp_max_failures {
                data.auth_sessions.remove(&session);
            } else if let Some(AuthSession {
                stage: AuthStage::Otp { failures: f, .. },
                ..
            }) = data.auth_sessions.get_mut(&session)
            {
                *f = failures;
            }
            return Err(ids::WRONG_OTP);
        }
        auth.user_name
    };
    Ok(succeed(state, org, &user_name, &session))
}

fn cancel_authentication(state: &AppState, org: &Org, body: &Value) -> OpResult {
    let session = text(body, "sessionId").ok_or(ids::INVALID_SESSION)?;
    let mut data = lock(&state.legacy.data);
    if data
        .auth_sessions
        .get(&session)
        .is_none_or(|s| s.org != org.alias)
    {
        return Err(ids::INVALID_SESSION);
    }
    data.auth_sessions.remove(&session);
    Ok(Reply::ok(json!({})))
}

/// The org's single (default) web policy [I].
fn read_policy(body: &Value) -> OpResult {
    if text(body, "authenticationSource").is_some_and(|s| s != "WEB") {
        return Err(ids::INVALID_INPUT);
    }
    Ok(Reply::ok(json!({
        "policyVersion": 1,
        "authenticationPolicies": [{
            "priority": 1,
            "showAuthenticationScreen": true,
            "defaultPolicyAction": "AUTHENTICATE",
            "authenticationMethodsPolicy": {
                "priority": 1,
                "policyAction": "AUTHENTICATE",
                "allowedAuthenticationMethods": [
                    "SWIPE", "SMS", "VOICE", "EMAIL", "OTP", "AUTHENTICATOR_APP", "WEBAUTHN_PLATFORM"
                ],
            },
        }],
    })))
}

/// Resolves a pending push of session `session` (control API). `Err(None)` unknown session,
/// `Err(Some(_))` not a pending push.
pub(crate) fn resolve_push(
    state: &AppState,
    session: &str,
    decision: PushDecision,
) -> Result<(), Option<&'static str>> {
    let at = now(state);
    let mut data = lock(&state.legacy.data);
    let auth = data.auth_sessions.get_mut(session).ok_or(None)?;
    let expired = at > auth.started + state.config.push_timeout;
    match &mut auth.stage {
        AuthStage::Push {
            decision: pending @ None,
        } if !expired => {
            *pending = Some(decision);
            Ok(())
        }
        AuthStage::Push { .. } => Err(Some("The push has already been answered or timed out.")),
        _ => Err(Some("The session does not wait for a push.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalized() {
        assert_eq!(
            normalize_phone("15555550102").as_deref(),
            Some("+15555550102")
        );
        assert_eq!(
            normalize_phone("+1 555-555-0102").as_deref(),
            Some("+15555550102")
        );
        assert_eq!(normalize_phone("12ab"), None);
    }

    #[test]
    fn statuses_follow_error_classes() {
        assert_eq!(http_status(200), StatusCode::OK);
        assert_eq!(http_status(30010), StatusCode::OK);
        assert_eq!(http_status(20513), StatusCode::BAD_REQUEST);
        assert_eq!(http_status(503), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
