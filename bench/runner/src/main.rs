//! `pingid-bench`: measures the functions against the Rust Lambda floor (`baseline-echo`) and
//! writes `bench/results.json`. Measurements, not tests: nothing here fails on a slow number.
//!
//! Everything runs on loopback: release binaries against an in-process Lambda Runtime API,
//! moto's Secrets Manager and DynamoDB, and the simulator at zero latency.
//!
//! - `--cold-build`: first time a cold `cargo build --release` of the workspace into
//!   `target/bench` and measure the binaries it produced (otherwise `PINGID_BIN_DIR`);
//! - `--make-test`: last, time `make test` from a fresh clone;
//! - `--quick`: divide every sample count by 10 (for trying the harness, not for the report).

mod builds;
mod measure;
mod scenarios;

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    let flag = |name: &str| std::env::args().any(|arg| arg == name);
    let scale = if flag("--quick") { 10 } else { 1 };
    let out = std::env::args()
        .skip_while(|arg| arg != "--out")
        .nth(1)
        .unwrap_or_else(|| "bench/results.json".to_string());
    let root = e2e::workspace_root();

    let mut build = Vec::new();
    if flag("--cold-build") {
        let target = root.join("target/bench");
        let time = builds::cold_release_build(root, &target)?;
        anyhow::ensure!(time.succeeded, "the release build failed: see {}", time.log);
        build.push(time);
        // SAFETY: the process has one thread until the runtime below starts.
        unsafe { std::env::set_var("PINGID_BIN_DIR", target.join("release")) };
    }

    let runtime = tokio::runtime::Runtime::new()?;
    let mut results = runtime.block_on(scenarios::run_all(scenarios::Counts::scaled(scale)))?;
    drop(runtime);
    if flag("--make-test") {
        build.push(builds::make_test_from_fresh_clone(
            root,
            &root.join("target/bench-clone"),
        )?);
    }
    results.build = build;

    let text = serde_json::to_string_pretty(&results)?;
    std::fs::write(&out, text + "\n").with_context(|| format!("writing {out}"))?;
    eprintln!("wrote {out}");
    Ok(())
}
