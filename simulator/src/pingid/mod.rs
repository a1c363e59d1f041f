//! The legacy PingID side of the simulator: the PingID REST API (`/pingid/rest/4/{op}/do`,
//! JWS HS256 both ways, [`rest`]), the PPM browser authenticator (`/pingid/ppm/…`, [`ppm`]),
//! passkey registration for its passwordless sign-in ([`passkey`]) and their control
//! endpoints under `/_sim/pingid/` ([`control`]). Written from `pingid-api.md` alone; it
//! shares no protocol code with the workspace's `shared` crate.

pub(crate) mod control;
pub(crate) mod html;
pub(crate) mod jws;
pub(crate) mod passkey;
pub(crate) mod ppm;
pub(crate) mod rest;
pub(crate) mod store;

use axum::Router;
use axum::routing::{get, post};

use crate::state::SharedState;

/// The PingID routes (REST and PPM); the app adds stats and faults around them.
pub(crate) fn service_router() -> Router<SharedState> {
    Router::new()
        .route("/pingid/rest/4/{op}/do", post(rest::handle))
        .route("/pingid/ppm/auth", post(ppm::auth))
        .route("/pingid/ppm/auth/decision", post(ppm::decision))
        .route("/pingid/ppm/auth/otp", post(ppm::otp))
        .route("/pingid/ppm/passwordless", post(ppm::passwordless))
        .route(
            "/pingid/ppm/passwordless/assertion",
            post(ppm::passwordless_assertion),
        )
}

/// The `/_sim/pingid` control routes.
pub(crate) fn control_router() -> Router<SharedState> {
    Router::new()
        .route("/_sim/pingid/push/{sessionId}", post(control::push))
        .route("/_sim/pingid/tamper-next-response", post(control::tamper))
        .route("/_sim/pingid/ppm/last", get(control::last_ppm))
        .route("/_sim/pingid/properties", get(control::properties))
        .route(
            "/_sim/pingid/webauthn/register",
            get(passkey::register_page).post(passkey::register),
        )
}
