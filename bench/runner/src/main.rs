//! `pingid-bench`: measures the functions against the Rust Lambda floor (`baseline-echo`) and
//! writes `bench/results.json`. Measurements, not tests: nothing here fails on a slow number.
//!
//! Everything runs on loopback: the binaries `make build` makes, against an in-process Lambda
//! Runtime API, moto's Secrets Manager and DynamoDB, and the simulator at zero latency.
//!
//! - `--cold-build`: first time a cold `make build` into `target/bench` and measure the binaries
//!   it produced (otherwise those in `PINGID_BIN_DIR`, default `target/lambda`);
//! - `--lto-table`: then a cold `make build` under each other row of [`builds::LTO_ROWS`], each
//!   measured for size and cold start (needs `--cold-build` for the chosen row);
//! - `--make-run`, `--make-test`: last, time `make run` (to its first answer) and `make test`
//!   from fresh clones;
//! - `--quick`: divide every sample count by 10 (for trying the harness, not for the report).

mod builds;
mod measure;
mod scenarios;

use anyhow::Context;

/// Cold starts per binary of each row of the LTO table that is not the shipped profile.
const LTO_COLD_STARTS: usize = 20;

fn main() -> anyhow::Result<()> {
    let flag = |name: &str| std::env::args().any(|arg| arg == name);
    let scale = if flag("--quick") { 10 } else { 1 };
    let out = std::env::args()
        .skip_while(|arg| arg != "--out")
        .nth(1)
        .unwrap_or_else(|| "bench/results.json".to_string());
    let root = e2e::workspace_root();
    anyhow::ensure!(
        !flag("--lto-table") || flag("--cold-build"),
        "--lto-table needs --cold-build (the chosen profile's row)"
    );

    let mut build = Vec::new();
    let bin_dir = if flag("--cold-build") {
        let target = root.join("target/bench");
        build.push(builds::cold_make_build(root, &target, None)?);
        builds::lambda_dir(&target)
    } else {
        std::env::var_os("PINGID_BIN_DIR").map_or_else(|| root.join("target/lambda"), Into::into)
    };

    // The shipped profile's row, when the table is measured.
    let chosen = match flag("--lto-table") {
        true => Some(builds::chosen_lto(root)?),
        false => None,
    };
    let mut lto = Vec::new();
    if let Some(chosen) = chosen {
        let target = root.join("target/bench-lto");
        for profile in builds::LTO_ROWS.into_iter().filter(|row| *row != chosen) {
            let time = builds::cold_make_build(root, &target, Some(profile))?;
            let row = tokio::runtime::Runtime::new()?.block_on(scenarios::lto_row(
                profile,
                time,
                &builds::lambda_dir(&target),
                (LTO_COLD_STARTS / scale).max(1),
            ))?;
            lto.push(row);
            std::fs::remove_dir_all(&target)?;
        }
    }

    let runtime = tokio::runtime::Runtime::new()?;
    let mut results = runtime.block_on(scenarios::run_all(
        &bin_dir,
        scenarios::Counts::scaled(scale),
    ))?;
    drop(runtime);
    if let Some(chosen) = chosen {
        lto.push(scenarios::LtoRow {
            profile: chosen,
            chosen: true,
            build: build[0].clone(),
            sizes: results.sizes.clone(),
            cold_start: results.cold_start.clone(),
        });
    }
    if flag("--make-run") {
        build.push(builds::make_run_from_fresh_clone(
            root,
            &root.join("target/bench-clone"),
        )?);
    }
    if flag("--make-test") {
        build.push(builds::make_test_from_fresh_clone(
            root,
            &root.join("target/bench-clone"),
        )?);
    }
    results.build = build;
    results.lto = lto;

    let text = serde_json::to_string_pretty(&results)?;
    std::fs::write(&out, text + "\n").with_context(|| format!("writing {out}"))?;
    eprintln!("wrote {out}");
    Ok(())
}
