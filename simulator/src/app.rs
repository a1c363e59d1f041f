//! The route table: PingOne's auth-host and API-host paths on one address, plus `/_sim`.

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};

use crate::errors::{ApiError, ErrorCode};
use crate::state::SharedState;
use crate::{control, device_auth, devices, faults, management, pingid, stats, token};

/// Builds the application. Middleware order on PingOne routes, outermost first:
/// stats (counts everything) → faults (may answer before auth, like a failing gateway) →
/// bearer check (all routes except the token endpoint) → handler.
pub(crate) fn router(state: SharedState) -> Router {
    let protected = Router::new()
        // Auth host: runtime MFA.
        .route(
            "/{envId}/deviceAuthentications",
            post(device_auth::routes::create),
        )
        .route(
            "/{envId}/deviceAuthentications/{deviceAuthenticationId}",
            get(device_auth::routes::read).post(device_auth::routes::act),
        )
        // API host: management.
        .route(
            "/v1/environments/{envId}/users",
            get(management::list_users),
        )
        .route(
            "/v1/environments/{envId}/users/{userId}",
            get(management::read_user),
        )
        .route(
            "/v1/environments/{envId}/users/{userId}/devices",
            get(devices::list)
                .post(devices::create_or_reorder)
                .delete(devices::remove_order),
        )
        .route(
            "/v1/environments/{envId}/users/{userId}/devices/{deviceId}",
            get(devices::read)
                .post(devices::act)
                .delete(devices::delete),
        )
        .route(
            "/v1/environments/{envId}/users/{userId}/devices/{deviceId}/nickname",
            put(devices::set_nickname),
        )
        .route(
            "/v1/environments/{envId}/users/{userId}/pairingKeys",
            post(devices::create_pairing_key),
        )
        .route(
            "/v1/environments/{envId}/users/{userId}/pairingKeys/{pairingKeyId}",
            get(devices::read_pairing_key).delete(devices::delete_pairing_key),
        )
        .route(
            "/v1/environments/{envId}/users/{userId}/mfaEnabled",
            get(management::read_mfa_enabled).put(management::update_mfa_enabled),
        )
        .route(
            "/v1/environments/{envId}/deviceAuthenticationPolicies",
            get(management::list_policies),
        )
        .route(
            "/v1/environments/{envId}/deviceAuthenticationPolicies/{policyId}",
            get(management::read_policy),
        )
        .route(
            "/v1/environments/{envId}/mfaSettings",
            get(management::read_mfa_settings),
        )
        .route_layer(from_fn_with_state(state.clone(), token::require_bearer));

    let pingone = Router::new()
        .route("/{envId}/as/token", post(token::issue))
        .merge(protected)
        .fallback(|| async { ApiError::not_found("No such resource.") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::InvalidRequest,
                "The method is not allowed on this resource.",
            )
        })
        .layer(from_fn_with_state(state.clone(), faults::inject))
        .layer(from_fn_with_state(state.clone(), stats::count))
        .layer(axum::middleware::map_response(with_correlation_id));

    // The legacy PingID routes get the same stats and fault layers (a fault on `/pingid/rest`
    // is answered by the handler, signed with the caller's org key).
    let legacy = pingid::service_router()
        .layer(from_fn_with_state(state.clone(), faults::inject))
        .layer(from_fn_with_state(state.clone(), stats::count));

    pingone
        .merge(legacy)
        .merge(control::router())
        .merge(pingid::control_router())
        .with_state(state)
}

/// Every PingOne answer names its request with a `Correlation-Id`, as PingOne's do (the id a
/// caller quotes to Ping support).
async fn with_correlation_id(mut response: axum::response::Response) -> axum::response::Response {
    if let Ok(id) = axum::http::HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("correlation-id", id);
    }
    response
}
