//! The two build figures of the report: a cold `cargo build --release` of the workspace, and
//! `make test` from a fresh clone, both timed on this machine as CI would run them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

/// One timed build.
#[derive(Debug, Serialize)]
pub struct BuildTime {
    /// What was run.
    pub what: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Whether it succeeded.
    pub succeeded: bool,
    /// Where its output went.
    pub log: String,
}

/// `cargo build --release --workspace --bins` into the empty target directory `target_dir`
/// (removed first, so nothing is reused; crate sources already downloaded are). Its binaries
/// are the ones the benchmark then measures.
pub fn cold_release_build(root: &Path, target_dir: &Path) -> anyhow::Result<BuildTime> {
    if target_dir.exists() {
        std::fs::remove_dir_all(target_dir)
            .with_context(|| format!("removing {}", target_dir.display()))?;
    }
    std::fs::create_dir_all(target_dir)?;
    let log = target_dir.join("cold-build.log");
    let mut command = Command::new("cargo");
    command
        .args(["build", "--release", "--workspace", "--bins"])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir);
    timed(
        "cold `cargo build --release --workspace --bins`",
        command,
        &log,
    )
}

/// `make test` in a fresh clone of `HEAD` under `scratch`, with `CI=true` and no stdin, as
/// `.ci/run` runs it. The clone sits beside a link to the reference folder the repository
/// expects beside it (`../shared`), so its tests see the same layout as in CI.
pub fn make_test_from_fresh_clone(root: &Path, scratch: &Path) -> anyhow::Result<BuildTime> {
    if scratch.exists() {
        std::fs::remove_dir_all(scratch)?;
    }
    std::fs::create_dir_all(scratch)?;
    let clone = scratch.join("repo");
    let status = Command::new("git")
        .args(["clone", "--quiet"])
        .arg(root)
        .arg(&clone)
        .status()?;
    anyhow::ensure!(status.success(), "git clone failed");
    let reference = root.join("../shared");
    if reference.is_dir() {
        std::os::unix::fs::symlink(reference.canonicalize()?, scratch.join("shared"))?;
    }
    let log = scratch.join("make-test.log");
    let mut command = Command::new("make");
    command
        .arg("test")
        .current_dir(&clone)
        .env("CI", "true")
        // Everything the clone builds stays in the clone.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("PINGID_BIN_DIR");
    let result = timed("`make test` from a fresh clone (CI=true)", command, &log);
    // The clone's target directory is large; the log, beside it, is what is kept.
    let _ = std::fs::remove_dir_all(&clone);
    result
}

fn timed(what: &str, mut command: Command, log: &Path) -> anyhow::Result<BuildTime> {
    eprintln!("{what}… (log: {})", log.display());
    let out = std::fs::File::create(log)?;
    let started = Instant::now();
    let status = command
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .status()
        .with_context(|| format!("starting {what}"))?;
    Ok(BuildTime {
        what: what.to_string(),
        seconds: started.elapsed().as_secs_f64(),
        succeeded: status.success(),
        log: log.display().to_string(),
    })
}
