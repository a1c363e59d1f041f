//! The local gateway: every capability behind the API's routes (handbook §4.1) in one
//! process, with the Ping cloud simulator embedded and secrets read from a local file.
//!
//! It runs the same handlers through the same [`dispatch`] as the Lambda functions, so what
//! works here works behind API Gateway. Callers authenticate with a bearer token
//! (`local-dev-token` unless configured), as a deployment's callers must.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use pingid_sim::{RunningSim, SimConfig, Simulator};
use serde_json::json;
use shared::auth::ApiTokens;
use shared::capability::{Reply, dispatch};
use shared::config::Settings;
use shared::lambda::MAX_BODY_BYTES;
use shared::legacy::{FixedProperties, LegacyPorts, MemoryUsedOnce};
use shared::limits::{Limits, UserLimits};
use shared::{Capability, Error, Ports};

pub mod contract;
mod legacy_pages;

/// The bearer token callers present unless configured otherwise.
pub const DEFAULT_API_TOKEN: &str = "local-dev-token";

/// The local secrets file's entry holding the journeys' continuation key.
pub const LOCAL_JOURNEY_SECRET_ID: &str = "pingid-journeys";

/// Every capability the product serves, by Ping's capability id.
pub fn capabilities() -> Vec<Arc<dyn Capability>> {
    vec![
        Arc::new(read_all_devices_pingid::ReadAllDevices),
        Arc::new(create_device_authentication_pingid::CreateDeviceAuthentication),
        Arc::new(read_device_authentication::ReadDeviceAuthentication),
        Arc::new(device_select_device_authentication::DeviceSelectDeviceAuthentication),
        Arc::new(validate_otp_device_authentication::ValidateOtpDeviceAuthentication),
        Arc::new(cancel_device_authentication_pingid::CancelDeviceAuthentication),
        Arc::new(create_device_pingid::CreateDevice),
        Arc::new(activate_device::ActivateDevice),
        Arc::new(resend_otp_for_pairing::ResendOtpForPairing),
        Arc::new(create_pairing_key_pingid::CreatePairingKey),
        Arc::new(read_pairing_key::ReadPairingKey),
        Arc::new(delete_pairing_key::DeletePairingKey),
        Arc::new(read_device::ReadDevice),
        Arc::new(delete_device::DeleteDevice),
        Arc::new(update_device_nickname::UpdateDeviceNickname),
        Arc::new(set_device_order::SetDeviceOrder),
        Arc::new(read_user::ReadUser),
        Arc::new(read_user_mfa_enabled::ReadUserMfaEnabled),
        Arc::new(update_user_mfa_enabled::UpdateUserMfaEnabled),
        Arc::new(read_device_authentication_policy::ReadDeviceAuthenticationPolicy),
        Arc::new(validate_assertion_device_authentication::ValidateAssertionDeviceAuthentication),
        Arc::new(eval_policy_pingid::EvalPolicy),
    ]
}

/// The legacy (properties-file) connector's capabilities, under `/v1/pingid-legacy/`.
pub fn legacy_capabilities() -> Vec<Arc<dyn Capability>> {
    vec![
        Arc::new(initialize_mfa::InitializeMfa),
        Arc::new(initialize_passwordless_authentication::InitializePasswordless),
        Arc::new(finalize_passwordless_authentication::FinalizePasswordless),
    ]
}

/// The two journeys, under `/v1/journeys/`.
pub fn journeys() -> Vec<Arc<dyn Capability>> {
    vec![
        Arc::new(journey_authentication::AuthenticationJourney),
        Arc::new(journey_device_registration::DeviceRegistrationJourney),
    ]
}

/// How the local stack is set up.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    /// Where the gateway listens.
    pub addr: SocketAddr,
    /// Where the embedded simulator listens.
    pub sim_addr: SocketAddr,
    /// The bearer token callers must present.
    pub api_token: String,
    /// The local secrets file (the demo tenant's connection).
    pub secrets_file: PathBuf,
    /// The PingID policy document `evalPolicyPingID` evaluates (read at each call, so edits
    /// apply at once).
    pub policy_file: PathBuf,
    /// The simulator's settings.
    pub sim: SimConfig,
    /// Per-user limits instead of those of the environment (`PINGID_LIMIT_*`) or the defaults:
    /// a load test of one demo user needs more than a person would.
    pub limits: Option<Limits>,
}

impl Default for LocalConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            sim_addr: SocketAddr::from(([127, 0, 0, 1], 3001)),
            api_token: DEFAULT_API_TOKEN.to_string(),
            secrets_file: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/secrets.json")),
            policy_file: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/policy.json")),
            sim: SimConfig::default(),
            limits: None,
        }
    }
}

struct Gateway {
    capabilities: Vec<Arc<dyn Capability>>,
    legacy_capabilities: Vec<Arc<dyn Capability>>,
    journeys: Vec<Arc<dyn Capability>>,
    ports: Ports,
    api_tokens: ApiTokens,
    /// `http://localhost:PORT`: how a browser reaches the gateway (the legacy return page).
    public_base: String,
}

/// The running stack: gateway and simulator. Dropping it stops both.
pub struct RunningLocal {
    addr: SocketAddr,
    sim: RunningSim,
    server: tokio::task::JoinHandle<()>,
}

impl RunningLocal {
    /// The gateway's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` of the gateway.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The embedded simulator.
    pub fn sim(&self) -> &RunningSim {
        &self.sim
    }

    /// Serves until the process is asked to stop.
    pub async fn wait(&mut self) {
        let _ = (&mut self.server).await;
    }
}

impl Drop for RunningLocal {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the simulator, then the gateway in front of it.
pub async fn start(config: LocalConfig) -> anyhow::Result<RunningLocal> {
    let sim = Simulator::start(config.sim_addr, config.sim.clone()).await?;
    let settings = Settings {
        secrets_file: Some(config.secrets_file.clone()),
        pingone_base_url: Some(sim.base_url()),
        policy_file: Some(config.policy_file.clone()),
        // The journeys' continuation key: the local secrets file's `pingid-journeys`.
        journey_secret_id: Some(LOCAL_JOURNEY_SECRET_ID.into()),
        ..Settings::from_env()?
    };
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let mut ports = settings.ports().await?;
    if let Some(limits) = config.limits {
        ports.limits = UserLimits::in_memory(limits);
    }
    // The legacy org's properties point at the simulator by `localhost`: the authenticator's
    // passkey pages need a host name (WebAuthn takes no IP addresses as relying party ids).
    let sim_public = format!("http://localhost:{}", sim.addr().port());
    ports.legacy = Some(LegacyPorts {
        properties: Arc::new(FixedProperties::parse(
            &pingid_sim::demo::legacy::properties_file(&sim_public),
        )?),
        used: Arc::new(MemoryUsedOnce::default()),
        return_url: None,
        return_hosts: Vec::new(),
        allow_inline_properties: false,
    });
    let gateway = Arc::new(Gateway {
        capabilities: capabilities(),
        legacy_capabilities: legacy_capabilities(),
        journeys: journeys(),
        ports,
        api_tokens: ApiTokens::single("local", &config.api_token),
        public_base: format!("http://localhost:{}", addr.port()),
    });
    // One handler serves the three families of capability routes, each with its own list.
    let family = |family: Family| {
        any(call).with_state(Routes {
            gateway: gateway.clone(),
            family,
        })
    };
    let app = Router::new()
        .route("/health", get(health))
        .route("/v1/pingid/{capability_id}", family(Family::PingId))
        .route("/v1/pingid-legacy/{capability_id}", family(Family::Legacy))
        .route("/v1/journeys/{journey}", family(Family::Journeys))
        .route(
            "/v1/pingid-legacy/demo/{capability_id}",
            get(legacy_pages::start),
        )
        .route(legacy_return_page::PATH, post(legacy_pages::finish))
        .fallback(not_found)
        .with_state(gateway);
    let server = tokio::spawn(async move {
        // The connection's address is the source IP a policy evaluation falls back to.
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "local gateway stopped");
        }
    });
    Ok(RunningLocal { addr, sim, server })
}

async fn health() -> Response {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
}

async fn not_found() -> Response {
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let error = Error::NotFound("no such route".to_string());
    respond(&Reply::from_error(&error, &correlation_id), &correlation_id)
}

/// The routes of one family: `POST /v1/pingid/…`, `/v1/pingid-legacy/…` or `/v1/journeys/…`.
#[derive(Clone, Copy)]
enum Family {
    PingId,
    Legacy,
    Journeys,
}

/// What a capability route's handler is given: the gateway, and which of its lists it serves.
#[derive(Clone)]
struct Routes {
    gateway: Arc<Gateway>,
    family: Family,
}

async fn call(
    State(routes): State<Routes>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(capability_id): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let gateway = &routes.gateway;
    let capabilities = match routes.family {
        Family::PingId => &gateway.capabilities,
        Family::Legacy => &gateway.legacy_capabilities,
        Family::Journeys => &gateway.journeys,
    };
    serve(
        gateway,
        capabilities,
        &capability_id,
        &method,
        &headers,
        body,
        peer,
    )
    .await
}

async fn serve(
    gateway: &Gateway,
    capabilities: &[Arc<dyn Capability>],
    capability_id: &str,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
    peer: SocketAddr,
) -> Response {
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let reply = match gateway.admit(capabilities, capability_id, method, headers) {
        Err(error) => Reply::from_error(&error, &correlation_id),
        Ok(capability) => match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(bytes) => {
                dispatch(
                    capability.as_ref(),
                    &gateway.ports,
                    &bytes,
                    &correlation_id,
                    Some(peer.ip()),
                )
                .await
            }
            Err(_) => {
                let error = Error::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                };
                Reply::from_error(&error, &correlation_id)
            }
        },
    };
    respond(&reply, &correlation_id)
}

impl Gateway {
    /// Who may call what: the caller's credential first (an unauthenticated caller learns
    /// nothing, not even which capabilities exist), then the route.
    fn admit<'a>(
        &self,
        capabilities: &'a [Arc<dyn Capability>],
        capability_id: &str,
        method: &Method,
        headers: &HeaderMap,
    ) -> Result<&'a Arc<dyn Capability>, Error> {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        if self.api_tokens.admit(presented).is_none() {
            return Err(Error::Unauthorized);
        }
        let capability = capabilities
            .iter()
            .find(|capability| capability.id() == capability_id)
            .ok_or_else(|| {
                Error::NotFound(format!("no capability named {:.100}", capability_id))
            })?;
        if *method != Method::POST {
            return Err(Error::MethodNotAllowed(method.to_string()));
        }
        Ok(capability)
    }
}

fn respond(reply: &Reply, correlation_id: &str) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, reply.body.to_string()).into_response();
    let headers = response.headers_mut();
    for (name, value) in reply.headers(correlation_id) {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    if reply.error_code == Some("UNAUTHORIZED") {
        headers.insert(
            header::WWW_AUTHENTICATE,
            "Bearer".parse().expect("static header value"),
        );
    }
    response
}
