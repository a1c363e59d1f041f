//! `pingid-sim [--addr 127.0.0.1:3001] [--push-timeout 40s] …`: serves the simulator until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use pingid_sim::{SimConfig, Simulator, demo};
use tracing_subscriber::EnvFilter;

const USAGE: &str = "\
usage: pingid-sim [options]
  --addr ADDR                              listen address (loopback only) [127.0.0.1:3001]
  --token-ttl DURATION                     access token lifetime [1h]
  --push-timeout DURATION                  push confirmation timeout [40s]
  --otp-lifetime DURATION                  SMS/voice/email OTP lifetime [5m]
  --otp-max-failures N                     wrong OTPs before FAILED [3]
  --device-authentication-lifetime DURATION  device authentication lifetime [10m]
Durations are humantime strings (30s, 5m, 1h). Logs go to stderr (RUST_LOG sets the level).";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let Some((addr, config)) = parse_args(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let sim = Simulator::start(addr, config).await?;
    tracing::info!(
        "PingOne simulator at {} (auth base; API base {}/v1), environment {}, client {}",
        sim.base_url(),
        sim.base_url(),
        demo::ENV_ID,
        demo::CLIENT_ID
    );
    tokio::signal::ctrl_c()
        .await
        .context("cannot listen for Ctrl-C")?;
    sim.shutdown().await;
    Ok(())
}

/// Parses the command line; `None` when help was asked for.
fn parse_args(
    mut args: impl Iterator<Item = String>,
) -> anyhow::Result<Option<(SocketAddr, SimConfig)>> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 3001).into();
    let mut config = SimConfig::default();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--addr" => addr = value.parse().context("--addr must be IP:PORT")?,
            "--token-ttl" => config.token_ttl = duration(&flag, &value)?,
            "--push-timeout" => config.push_timeout = duration(&flag, &value)?,
            "--otp-lifetime" => config.otp_lifetime = duration(&flag, &value)?,
            "--otp-max-failures" => {
                config.otp_max_failures = value
                    .parse()
                    .context("--otp-max-failures must be a number")?;
            }
            "--device-authentication-lifetime" => {
                config.device_authentication_lifetime = duration(&flag, &value)?;
            }
            _ => bail!("unknown option {flag}\n{USAGE}"),
        }
    }
    Ok(Some((addr, config)))
}

fn duration(flag: &str, value: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(value)
        .with_context(|| format!("{flag} must be a duration such as 30s or 5m"))
}
