//! Management API (`/v1/environments/{envId}/...` on the API host): users, MFA devices,
//! `mfaEnabled`, device authentication policies and MFA settings. Nothing is masked here.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::errors::{ApiError, ErrorDetail};
use crate::request::{json_body, query, require_media_type};
use crate::state::{AppState, SharedState};
use crate::tenant::{Device, DeviceKind, Policy, User};

/// `GET /v1/environments/{envId}/users/{userId}`.
pub(crate) async fn read_user(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    Ok(Json(user_json(&state, user)))
}

#[derive(Debug, Deserialize)]
struct ListUsersQuery {
    filter: Option<String>,
    limit: Option<usize>,
}

/// `GET /v1/environments/{envId}/users?filter=…&limit=…`. The filter supports what the
/// connector sends: `username eq "…"` and `email eq "…"` (attribute names and values compared
/// case-insensitively, as SCIM does for these attributes).
pub(crate) async fn list_users(
    State(state): State<SharedState>,
    Path(env_id): Path<String>,
    RawQuery(raw_query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params: ListUsersQuery = query(raw_query.as_deref())?;
    let filter = params
        .filter
        .as_deref()
        .map(UserFilter::parse)
        .transpose()?;
    let limit = params.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_data(
            ErrorDetail::new("INVALID_VALUE", "limit must be between 1 and 1000.")
                .target("limit")
                .inner_error(json!({ "rangeMinimumValue": 1, "rangeMaximumValue": 1000 })),
        ));
    }
    let matching: Vec<&User> = state
        .tenant
        .users
        .iter()
        .filter(|user| filter.as_ref().is_none_or(|filter| filter.matches(user)))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|user| user_json(&state, user))
        .collect();
    Ok(Json(json!({
        "_links": { "self": { "href": format!("{}/v1/environments/{env_id}/users", state.base_url) } },
        "_embedded": { "users": page },
        "count": matching.len(),
        "size": page.len(),
    })))
}

/// `GET /v1/environments/{envId}/users/{userId}/devices`, in the user's order.
pub(crate) async fn list_devices(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    let devices: Vec<Value> = user
        .devices
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

/// `GET /v1/environments/{envId}/users/{userId}/devices/{deviceId}`.
pub(crate) async fn read_device(
    State(state): State<SharedState>,
    Path((_env, user_id, device_id)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    let device = user
        .device(&device_id)
        .ok_or_else(|| ApiError::not_found("The user has no device with this id."))?;
    Ok(Json(device_json(&state, user, device)))
}

/// `GET /v1/environments/{envId}/users/{userId}/mfaEnabled`.
pub(crate) async fn read_mfa_enabled(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    Ok(Json(mfa_enabled_json(&state, user)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MfaEnabledBody {
    mfa_enabled: bool,
}

/// `PUT /v1/environments/{envId}/users/{userId}/mfaEnabled` with `{"mfaEnabled": bool}`.
/// The flag is stored and reported; device authentications do not consult it.
pub(crate) async fn update_mfa_enabled(
    State(state): State<SharedState>,
    Path((_env, user_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let user = find_user(&state, &user_id)?;
    require_media_type(&headers, "application/json")?;
    let MfaEnabledBody { mfa_enabled } = json_body(&body)?;
    state.tenant.set_mfa_enabled(&user.id, mfa_enabled);
    Ok(Json(mfa_enabled_json(&state, user)))
}

/// `GET /v1/environments/{envId}/deviceAuthenticationPolicies`.
pub(crate) async fn list_policies(
    State(state): State<SharedState>,
    Path(env_id): Path<String>,
) -> Json<Value> {
    let policies: Vec<Value> = state
        .tenant
        .policies
        .iter()
        .map(|policy| policy_json(&state, policy))
        .collect();
    Json(json!({
        "_links": { "self": { "href": format!("{}/v1/environments/{env_id}/deviceAuthenticationPolicies", state.base_url) } },
        "_embedded": { "deviceAuthenticationPolicies": policies },
        "count": policies.len(),
        "size": policies.len(),
    }))
}

/// `GET /v1/environments/{envId}/deviceAuthenticationPolicies/{policyId}`.
pub(crate) async fn read_policy(
    State(state): State<SharedState>,
    Path((_env, policy_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let policy = state
        .tenant
        .policy(&policy_id)
        .ok_or_else(|| ApiError::not_found("No device authentication policy has this id."))?;
    Ok(Json(policy_json(&state, policy)))
}

/// `GET /v1/environments/{envId}/mfaSettings`.
pub(crate) async fn read_mfa_settings(State(state): State<SharedState>) -> Json<Value> {
    let tenant = &state.tenant;
    Json(json!({
        "_links": { "self": { "href": format!("{}/v1/environments/{}/mfaSettings", state.base_url, tenant.env_id) } },
        "environment": { "id": tenant.env_id },
        "pairing": { "maxAllowedDevices": 5, "pairingKeyFormat": "NUMERIC" },
        "lockout": { "failureCount": 5, "durationSeconds": 600 },
        "phoneExtensions": { "enabled": false },
        "users": { "mfaEnabled": false },
        "updatedAt": rfc3339(tenant.created_at),
    }))
}

fn find_user<'a>(state: &'a AppState, user_id: &str) -> Result<&'a User, ApiError> {
    state
        .tenant
        .user(user_id)
        .ok_or_else(|| ApiError::not_found("No user has this id."))
}

fn user_href(state: &AppState, user: &User) -> String {
    format!(
        "{}/v1/environments/{}/users/{}",
        state.base_url, state.tenant.env_id, user.id
    )
}

fn user_json(state: &AppState, user: &User) -> Value {
    let created = rfc3339(state.tenant.created_at);
    json!({
        "_links": { "self": { "href": user_href(state, user) } },
        "id": user.id,
        "environment": { "id": state.tenant.env_id },
        "username": user.username,
        "email": user.email,
        "mobilePhone": user.mobile_phone,
        "name": {
            "given": user.given_name,
            "family": user.family_name,
            "formatted": user.formatted_name(),
        },
        "enabled": true,
        "mfaEnabled": state.tenant.mfa_enabled(&user.id),
        "lifecycle": { "status": "ACCOUNT_OK" },
        "createdAt": created,
        "updatedAt": created,
    })
}

fn device_json(state: &AppState, user: &User, device: &Device) -> Value {
    let created = rfc3339(state.tenant.created_at);
    let mut body = json!({
        "_links": { "self": { "href": format!("{}/devices/{}", user_href(state, user), device.id) } },
        "id": device.id,
        "environment": { "id": state.tenant.env_id },
        "user": { "id": user.id },
        "type": device.kind.type_name(),
        "status": "ACTIVE",
        "nickname": device.nickname,
        "createdAt": created,
        "updatedAt": created,
    });
    match &device.kind {
        DeviceKind::Mobile {
            application_id,
            push_enabled,
            model,
            os,
        } => {
            body["application"] = json!({ "id": application_id });
            body["pushEnabled"] = json!(push_enabled);
            body["model"] = json!({ "name": model });
            body["os"] = json!({ "type": os });
        }
        DeviceKind::Sms { phone } => body["phone"] = json!(phone),
        DeviceKind::Email { email } => body["email"] = json!(email),
        // The TOTP secret is only ever shown at pairing, never when reading a device.
        DeviceKind::Totp { .. } => {}
    }
    body
}

fn mfa_enabled_json(state: &AppState, user: &User) -> Value {
    json!({
        "_links": { "self": { "href": format!("{}/mfaEnabled", user_href(state, user)) } },
        "mfaEnabled": state.tenant.mfa_enabled(&user.id),
    })
}

/// A policy body with PingOne's required sections. The OTP lifetime, failure count and push
/// timeout reflect the simulator's configuration; the rest are PingOne's usual defaults.
fn policy_json(state: &AppState, policy: &Policy) -> Value {
    let config = &state.config;
    let failure = json!({
        "count": config.otp_max_failures,
        "coolDown": { "duration": 0, "timeUnit": "MINUTES" },
    });
    let delivered_otp = json!({
        "enabled": true,
        "otp": {
            "lifeTime": { "duration": config.otp_lifetime.as_secs(), "timeUnit": "SECONDS" },
            "failure": failure,
        },
    });
    let disabled = json!({ "enabled": false, "otp": { "failure": failure } });
    json!({
        "_links": { "self": { "href": format!(
            "{}/v1/environments/{}/deviceAuthenticationPolicies/{}",
            state.base_url, state.tenant.env_id, policy.id
        ) } },
        "id": policy.id,
        "environment": { "id": state.tenant.env_id },
        "name": policy.name,
        "default": policy.default,
        "forSignOnPolicy": false,
        "authentication": { "deviceSelection": policy.device_selection },
        "newDeviceNotification": "NONE",
        "ignoreUserLock": false,
        "sms": delivered_otp,
        "voice": delivered_otp,
        "email": delivered_otp,
        "mobile": {
            "enabled": true,
            "otp": { "failure": failure },
            "applications": [{
                "id": crate::demo::PINGID_APP_ID,
                "type": "pingIdAppConfig",
                "push": { "enabled": true },
                "pushTimeout": { "duration": config.push_timeout.as_secs(), "timeUnit": "SECONDS" },
                "otp": { "enabled": true },
            }],
        },
        "totp": { "enabled": true, "otp": { "failure": failure } },
        "fido2": { "enabled": false },
        "desktop": disabled,
        "yubikey": disabled,
        "updatedAt": rfc3339(state.tenant.created_at),
    })
}

/// A parsed `filter` query: `<attribute> eq "<value>"`.
#[derive(Debug, PartialEq, Eq)]
struct UserFilter {
    attribute: FilterAttribute,
    value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FilterAttribute {
    Username,
    Email,
}

impl UserFilter {
    fn parse(filter: &str) -> Result<Self, ApiError> {
        let unsupported = || {
            ApiError::invalid_value(
                "filter",
                r#"Supported filters: username eq "value" and email eq "value"."#,
            )
        };
        let (attribute, rest) = filter
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?;
        let (operator, quoted) = rest
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or_else(unsupported)?;
        if !operator.eq_ignore_ascii_case("eq") {
            return Err(unsupported());
        }
        let attribute = if attribute.eq_ignore_ascii_case("username") {
            FilterAttribute::Username
        } else if attribute.eq_ignore_ascii_case("email") {
            FilterAttribute::Email
        } else {
            return Err(unsupported());
        };
        let value = unquote(quoted.trim()).ok_or_else(unsupported)?;
        Ok(Self { attribute, value })
    }

    fn matches(&self, user: &User) -> bool {
        let actual = match self.attribute {
            FilterAttribute::Username => &user.username,
            FilterAttribute::Email => &user.email,
        };
        actual.eq_ignore_ascii_case(&self.value)
    }
}

/// `"a \"b\" \\ c"` → `a "b" \ c`; `None` unless the whole input is one quoted string.
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut value = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?),
            '"' => return None,
            c => value.push(c),
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_username_and_email_equality_filters() {
        let filter = UserFilter::parse(r#"username eq "alice""#).expect("valid filter");
        assert_eq!(filter.attribute, FilterAttribute::Username);
        assert_eq!(filter.value, "alice");
        let filter = UserFilter::parse(r#"EMAIL Eq "a\"b\\c@example.com""#).expect("valid filter");
        assert_eq!(filter.attribute, FilterAttribute::Email);
        assert_eq!(filter.value, r#"a"b\c@example.com"#);
    }

    #[test]
    fn rejects_other_filters() {
        for filter in [
            r#"username sw "al""#,
            r#"name.given eq "Alice""#,
            r#"username eq alice"#,
            r#"username eq "al"ice""#,
            "username",
        ] {
            assert!(UserFilter::parse(filter).is_err(), "{filter}");
        }
    }
}
