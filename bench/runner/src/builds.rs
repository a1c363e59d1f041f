//! The build figures of the report, each timed on this machine as a user or CI would run it:
//! a cold `make build` (under each release profile of the LTO table), `make test` from a fresh
//! clone, and `make run` from a fresh clone to its first answer.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;

/// One timed build.
#[derive(Debug, Clone, Serialize)]
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

/// A release profile's LTO setting, as a row of the LTO table.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Lto {
    /// `profile.release.lto`.
    pub lto: &'static str,
    /// `profile.release.codegen-units`.
    pub codegen_units: u32,
}

/// The rows of the LTO table. Fat LTO with one codegen unit is the smallest and slowest to
/// build; thin LTO keeps cargo's default of 16 units, the point of thin LTO being to optimise
/// them in parallel; off is no cross-crate optimisation at all, 16 units.
pub const LTO_ROWS: [Lto; 3] = [
    Lto {
        lto: "fat",
        codegen_units: 1,
    },
    Lto {
        lto: "thin",
        codegen_units: 16,
    },
    Lto {
        lto: "off",
        codegen_units: 16,
    },
];

/// The LTO setting `Cargo.toml`'s `[profile.release]` chooses (what `make build` ships).
pub fn chosen_lto(root: &Path) -> anyhow::Result<Lto> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let release = manifest
        .split("[profile.release]")
        .nth(1)
        .context("Cargo.toml has no [profile.release]")?;
    let release = release.split("\n[").next().unwrap_or(release);
    let value = |key: &str| {
        release.lines().find_map(|line| {
            let (name, value) = line.split_once('=')?;
            (name.trim() == key).then(|| value.trim().trim_matches('"').to_string())
        })
    };
    let lto = value("lto").unwrap_or_else(|| "false".into());
    let codegen_units: u32 = value("codegen-units")
        .unwrap_or_else(|| "16".into())
        .parse()?;
    LTO_ROWS
        .into_iter()
        .find(|row| row.lto == lto && row.codegen_units == codegen_units)
        .with_context(|| {
            format!("[profile.release] lto = {lto}, codegen-units = {codegen_units} is not a row of builds::LTO_ROWS")
        })
}

/// `make build` for this machine's architecture into the empty target directory `target_dir`
/// (removed first, so nothing is reused; crate sources already downloaded are), under `lto`
/// when given (else `Cargo.toml`'s profile). Then, untimed, the two baselines the same way, so
/// that the floor is built like the functions. The binaries land in `<target_dir>/lambda/`.
pub fn cold_make_build(
    root: &Path,
    target_dir: &Path,
    lto: Option<Lto>,
) -> anyhow::Result<BuildTime> {
    if target_dir.exists() {
        std::fs::remove_dir_all(target_dir)
            .with_context(|| format!("removing {}", target_dir.display()))?;
    }
    std::fs::create_dir_all(target_dir)?;
    let (arch, flag) = match std::env::consts::ARCH {
        "aarch64" => ("arm64", "--arm64"),
        _ => ("x86_64", "--x86-64"),
    };
    let with_profile = |command: &mut Command| {
        command
            .current_dir(root)
            .env("CARGO_TARGET_DIR", target_dir);
        if let Some(lto) = lto {
            command.env("CARGO_PROFILE_RELEASE_LTO", lto.lto).env(
                "CARGO_PROFILE_RELEASE_CODEGEN_UNITS",
                lto.codegen_units.to_string(),
            );
        }
    };
    let what = match lto {
        Some(lto) => format!(
            "cold `make build` (lto = {}, codegen-units = {})",
            lto.lto, lto.codegen_units
        ),
        None => "cold `make build`".to_string(),
    };
    let mut make = Command::new("make");
    make.args(["build", &format!("ARCH={arch}")]);
    with_profile(&mut make);
    let time = timed(&what, make, &target_dir.join("cold-build.log"))?;
    anyhow::ensure!(time.succeeded, "{what} failed: see {}", time.log);

    let mut baselines = Command::new("cargo");
    baselines
        .args(["lambda", "build", "--release", flag])
        .args([
            "--package",
            "baseline-echo",
            "--package",
            "baseline-reqwest",
        ]);
    with_profile(&mut baselines);
    let baselines = timed(
        "the baselines",
        baselines,
        &target_dir.join("baselines.log"),
    )?;
    anyhow::ensure!(
        baselines.succeeded,
        "building the baselines failed: see {}",
        baselines.log
    );
    Ok(time)
}

/// Where [`cold_make_build`] leaves the binaries.
pub fn lambda_dir(target_dir: &Path) -> PathBuf {
    target_dir.join("lambda")
}

/// A fresh clone of `HEAD` at `<scratch>/repo` (`scratch` emptied first).
fn fresh_clone(root: &Path, scratch: &Path) -> anyhow::Result<PathBuf> {
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
    Ok(clone)
}

/// A command run in `clone` as a newcomer would: everything it builds stays in the clone.
fn in_clone(program: &str, clone: &Path) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(clone)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("PINGID_BIN_DIR");
    command
}

/// `make test` in a fresh clone of `HEAD` under `scratch`, with `CI=true` and no stdin, as
/// `.ci/run` runs it. Nothing is beside the clone: the repository stands alone.
pub fn make_test_from_fresh_clone(root: &Path, scratch: &Path) -> anyhow::Result<BuildTime> {
    let clone = fresh_clone(root, scratch)?;
    let mut command = in_clone("make", &clone);
    command.arg("test").env("CI", "true");
    let result = timed(
        "`make test` from a fresh clone (CI=true)",
        command,
        &scratch.join("make-test.log"),
    );
    // The clone's target directory is large; the log, beside it, is what is kept.
    let _ = std::fs::remove_dir_all(&clone);
    result
}

/// How long `make run` may take to answer before the measurement gives up.
const MAKE_RUN_LIMIT: Duration = Duration::from_secs(30 * 60);

/// `make run` in a fresh clone of `HEAD` under `scratch`, timed from the command to the local
/// gateway's first answer (`GET /health` on 127.0.0.1:3000), then stopped.
pub fn make_run_from_fresh_clone(root: &Path, scratch: &Path) -> anyhow::Result<BuildTime> {
    use std::os::unix::process::CommandExt as _;

    let clone = fresh_clone(root, scratch)?;
    let log = scratch.join("make-run.log");
    let what = "`make run` from a fresh clone, to the gateway's first answer";
    eprintln!("{what}… (log: {})", log.display());
    let out = std::fs::File::create(&log)?;
    let mut command = in_clone("make", &clone);
    // Its own process group, so that stopping it stops cargo and the gateway with it.
    command
        .arg("run")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    let started = Instant::now();
    let mut child = command
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let answered = loop {
        if gateway_answers() {
            break true;
        }
        if child.try_wait()?.is_some() || started.elapsed() > MAKE_RUN_LIMIT {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let seconds = started.elapsed().as_secs_f64();
    // SAFETY: kill(2) on the process group of a child this function started.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGINT) };
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&clone);
    Ok(BuildTime {
        what: what.to_string(),
        seconds,
        succeeded: answered,
        log: log.display().to_string(),
    })
}

/// Whether the local gateway answers `GET /health` with a success.
fn gateway_answers() -> bool {
    use std::io::{Read as _, Write as _};

    let Ok(mut stream) = std::net::TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], 3000)),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let mut answer = String::new();
    stream.write_all(request).is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 2")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chosen_profile_is_a_row_of_the_table() {
        let chosen = chosen_lto(e2e::workspace_root()).expect("Cargo.toml's profile is a row");
        assert!(LTO_ROWS.contains(&chosen));
    }
}
