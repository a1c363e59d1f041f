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
use crate::tenant::{MethodSettings, Policy, User};

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
        "pairing": { "maxAllowedDevices": tenant.max_allowed_devices, "pairingKeyFormat": "NUMERIC" },
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

fn mfa_enabled_json(state: &AppState, user: &User) -> Value {
    json!({
        "_links": { "self": { "href": format!("{}/mfaEnabled", user_href(state, user)) } },
        "mfaEnabled": state.tenant.mfa_enabled(&user.id),
    })
}

/// A policy body with PingOne's required sections (the PingID variant: with `desktop` and
/// `yubikey`). The OTP lifetime, failure count and push timeout reflect the simulator's
/// configuration; the rest are PingOne's usual defaults. `[I]` The mobile method's
/// `pairingDisabled` is rendered on its PingID application (the schema has it only there).
fn policy_json(state: &AppState, policy: &Policy) -> Value {
    let config = &state.config;
    let failure = json!({
        "count": config.otp_max_failures,
        "coolDown": { "duration": 0, "timeUnit": "MINUTES" },
    });
    let delivered_otp = |method: MethodSettings| {
        json!({
            "enabled": method.enabled,
            "pairingDisabled": method.pairing_disabled,
            "promptForNicknameOnPairing": false,
            "otp": {
                "lifeTime": { "duration": config.otp_lifetime.as_secs(), "timeUnit": "SECONDS" },
                "failure": failure,
            },
        })
    };
    let pingid_device = |method: MethodSettings| {
        json!({
            "enabled": method.enabled,
            "pairingDisabled": method.pairing_disabled,
            "promptForNicknameOnPairing": false,
            "otp": { "failure": failure },
            "pairingKeyLifetime": { "duration": 10, "timeUnit": "MINUTES" },
        })
    };
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
        "sms": delivered_otp(policy.sms),
        "voice": delivered_otp(policy.voice),
        "email": delivered_otp(policy.email),
        "mobile": {
            "enabled": policy.mobile.enabled,
            "promptForNicknameOnPairing": false,
            "otp": { "failure": failure },
            "applications": [{
                "id": crate::demo::PINGID_APP_ID,
                "type": "pingIdAppConfig",
                "pairingDisabled": policy.mobile.pairing_disabled,
                "push": { "enabled": true },
                "pushTimeout": { "duration": config.push_timeout.as_secs(), "timeUnit": "SECONDS" },
                "pairingKeyLifetime": { "duration": 10, "timeUnit": "MINUTES" },
                "otp": { "enabled": true },
            }],
        },
        "totp": {
            "enabled": policy.totp.enabled,
            "pairingDisabled": policy.totp.pairing_disabled,
            "promptForNicknameOnPairing": false,
            "otp": { "failure": failure },
        },
        "fido2": {
            "enabled": policy.fido2.enabled,
            "pairingDisabled": policy.fido2.pairing_disabled,
            "promptForNicknameOnPairing": false,
        },
        "oathToken": pingid_device(policy.oath_token),
        "desktop": pingid_device(policy.desktop),
        "yubikey": pingid_device(policy.yubikey),
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
