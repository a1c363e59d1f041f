//! A local PingOne cloud for the PingID connector: worker-app OAuth, users, MFA devices,
//! device authentication policies and the device-authentication state machine, seeded with a
//! demo tenant ([`demo`]), plus a control API under `/_sim/` that plays the user's phone and
//! inbox, moves the clock, injects faults and counts calls.
//!
//! Written from `pingone-api.md` and the PingOne MFA OpenAPI description, independently of the
//! workspace's `shared` crate (handbook §4.4): the two implementations check each other.
//!
//! The legacy PingID side is served too: the PingID REST API at `/pingid/rest/4/{op}/do` and
//! the PPM browser authenticator at `/pingid/ppm/…`, for the orgs of [`demo::legacy`].
//!
//! One address serves both PingOne hosts: auth-host paths at `/{envId}/...` and API-host paths
//! at `/v1/environments/{envId}/...`. A client configured with base URL `B` therefore uses
//! `B` as its auth base and `B/v1` as its API base.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use pingid_sim::{SimConfig, Simulator};
//! let sim = Simulator::start("127.0.0.1:0".parse()?, SimConfig::default()).await?;
//! println!("PingOne at {}", sim.base_url());
//! sim.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod app;
#[cfg(feature = "soft-authenticator")]
pub mod authenticator;
mod clock;
mod control;
pub mod demo;
mod device_auth;
mod devices;
mod errors;
mod faults;
mod jws;
mod management;
mod outbox;
mod pingid;
mod request;
mod server;
mod state;
mod stats;
mod tenant;
mod token;
mod totp;
mod webauthn;
mod yubikey;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::TcpListener;

pub use server::RunningSim;

/// Lifetimes and limits of the simulated tenant (all measured on the simulator's clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Lifetime of worker-app access tokens (`expires_in`); PingOne's default is one hour.
    pub token_ttl: Duration,
    /// How long a push waits for the user before `PUSH_CONFIRMATION_TIMED_OUT`.
    pub push_timeout: Duration,
    /// How long a delivered SMS / voice / email OTP stays valid.
    pub otp_lifetime: Duration,
    /// Wrong OTPs one device authentication tolerates before it becomes `FAILED`.
    pub otp_max_failures: u32,
    /// How long a device authentication exists (from creation) before reads answer 404.
    pub device_authentication_lifetime: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(3600),
            push_timeout: Duration::from_secs(40),
            otp_lifetime: Duration::from_secs(300),
            otp_max_failures: 3,
            device_authentication_lifetime: Duration::from_secs(600),
        }
    }
}

/// Entry point: starts simulator servers.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds `addr` (port 0 picks a free port) and serves the seeded demo tenant in the
    /// background until the returned [`RunningSim`] is shut down or dropped.
    ///
    /// Choice left open by the references: only loopback addresses are accepted, because the
    /// control API is unauthenticated and hands out OTPs.
    pub async fn start(addr: SocketAddr, config: SimConfig) -> anyhow::Result<RunningSim> {
        if !addr.ip().is_loopback() {
            bail!("the simulator only listens on loopback addresses, not {addr}");
        }
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let addr = listener
            .local_addr()
            .context("cannot read the bound address")?;
        let state = Arc::new(state::AppState::new(config, format!("http://{addr}")));
        Ok(server::spawn(listener, addr, app::router(state)))
    }
}
