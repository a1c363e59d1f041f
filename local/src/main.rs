//! `pingid-local`: the local stack (`make run`). Settings from the environment:
//! `PINGID_LOCAL_ADDR` (127.0.0.1:3000), `PINGID_SIM_ADDR` (127.0.0.1:3001),
//! `PINGID_LOCAL_TOKEN` (local-dev-token), `PINGID_SECRETS_FILE` (local/secrets.json),
//! `PINGID_POLICY_FILE` (local/policy.json, the demo policy document).

use anyhow::Context;
use pingid_local::{LocalConfig, start};
use shared::telemetry::{self, LogFormat};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init(LogFormat::Text);
    let defaults = LocalConfig::default();
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let config = LocalConfig {
        addr: match env("PINGID_LOCAL_ADDR") {
            Some(addr) => addr.parse().context("PINGID_LOCAL_ADDR")?,
            None => defaults.addr,
        },
        sim_addr: match env("PINGID_SIM_ADDR") {
            Some(addr) => addr.parse().context("PINGID_SIM_ADDR")?,
            None => defaults.sim_addr,
        },
        api_token: env("PINGID_LOCAL_TOKEN").unwrap_or(defaults.api_token),
        secrets_file: env("PINGID_SECRETS_FILE")
            .map(Into::into)
            .unwrap_or(defaults.secrets_file),
        policy_file: env("PINGID_POLICY_FILE")
            .map(Into::into)
            .unwrap_or(defaults.policy_file),
        sim: defaults.sim,
        limits: None,
    };
    let mut local = start(config).await?;
    tracing::info!(
        gateway = %local.base_url(),
        simulator = %local.sim().base_url(),
        "local stack ready: POST /v1/pingid/{{capabilityId}}, /v1/pingid-legacy/{{capabilityId}} and /v1/journeys/{{journey}} with Authorization: Bearer <token>"
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("stopping"),
        _ = local.wait() => {}
    }
    Ok(())
}
