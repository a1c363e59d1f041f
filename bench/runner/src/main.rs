//! `pingid-bench`: measures the functions against the Rust Lambda floor (`baseline-echo`) and
//! writes `bench/results.json`. Measurements, not tests: nothing here fails on a slow number.
//!
//! Everything runs on loopback: release binaries (`PINGID_BIN_DIR`, set by `make bench`)
//! against an in-process Lambda Runtime API, moto's Secrets Manager, and the simulator at zero
//! latency. `--quick` divides every sample count by 10 (for trying the harness, not for the
//! report).

mod measure;
mod scenarios;

use anyhow::Context;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let scale = if quick { 10 } else { 1 };
    let out = std::env::args()
        .skip_while(|arg| arg != "--out")
        .nth(1)
        .unwrap_or_else(|| "bench/results.json".to_string());

    let results = scenarios::run_all(scale).await?;
    let text = serde_json::to_string_pretty(&results)?;
    std::fs::write(&out, text + "\n").with_context(|| format!("writing {out}"))?;
    eprintln!("wrote {out}");
    Ok(())
}
