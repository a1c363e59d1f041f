//! End-to-end test harness: real compiled Lambda binaries, a real Lambda Runtime API, real HTTP.
//!
//! The pieces, each usable on its own:
//! - [`FunctionProcess`] runs a compiled function binary against an in-test
//!   [`RuntimeApi`](runtime_api::RuntimeApi) exactly as the Lambda service would (same
//!   environment variables, same Runtime API), and invokes it with any event.
//! - [`Moto`] runs `moto_server` from the repository's `.venv` on a free loopback port, so the
//!   functions' AWS SDK calls (Secrets Manager, DynamoDB) hit a real HTTP API; it also serves
//!   the SQS queues of the event-driven tests.
//! - [`SqsEventSource`] plays Lambda's SQS event source mapping over a moto queue: batches in,
//!   partial batch responses honoured, failed records left to SQS's redrive.
//! - [`Browser`] drives a headless Chromium through ChromeDriver (W3C WebDriver), with a
//!   virtual WebAuthn authenticator on demand.
//! - [`events`] builds API Gateway REST (v1) and HTTP API (v2) proxy events and loads the
//!   fixtures in `events/`.
//!
//! Everything listens on 127.0.0.1 only and every child process is killed when its handle drops.
//! Chromium itself is killed with ChromeDriver (they share a process group).
//! Binaries are not built here: run `cargo build --workspace --bins` first (`make test` does).

mod browser;
mod event_source;
pub mod events;
mod function;
mod moto;
mod process;
pub mod runtime_api;

use std::path::{Path, PathBuf};

pub use browser::{Browser, WAIT_TIMEOUT};
pub use event_source::{Batch, SqsEventSource, sqs_event};
pub use events::{
    ApiRequest, PLACEHOLDER_LIVE_ID, PLACEHOLDER_OTP, ProxyResponse, apigw_v1_event,
    apigw_v2_event, load_event, replace_in_strings,
};
pub use function::{FunctionProcess, INVOKE_TIMEOUT, Invocation};
pub use moto::{Moto, Queue, ReceivedMessage};
pub use runtime_api::Answer;

/// `reqwest::get` on the product's TLS stack (reqwest has no crypto provider of its own here).
pub async fn get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    shared::http::bare_builder().build()?.get(url).send().await
}

/// The repository root (the Cargo workspace directory).
pub fn workspace_root() -> &'static Path {
    // This crate lives in `<root>/tests`; the path is fixed at compile time, which is what tests
    // want (they run from the package directory, not the root).
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives one level below the workspace root")
}

/// A tool of the repository's Python virtualenv (`<root>/.venv/bin/<name>`: moto_server, python,
/// cargo-lambda, …), or why it is missing: `make test` (`make venv`) installs them all.
pub fn venv_tool(name: &str) -> anyhow::Result<PathBuf> {
    let path = workspace_root().join(".venv/bin").join(name);
    anyhow::ensure!(
        path.is_file(),
        "{} does not exist: run `make venv` (make test does; requirements-dev.txt pins it)",
        path.display()
    );
    Ok(path)
}

/// The binary `name` in `dir`: `<dir>/<name>/bootstrap` if it is there (the layout `make build`
/// leaves in `target/lambda/`), else `<dir>/<name>` (cargo's layout).
pub fn bin_path_in(dir: &Path, name: &str) -> PathBuf {
    let lambda = dir.join(name).join("bootstrap");
    if lambda.is_file() {
        lambda
    } else {
        dir.join(name)
    }
}

/// Where the compiled binary `name` is expected.
///
/// [`bin_path_in`] `$PINGID_BIN_DIR` when that variable is set (e.g. to test release builds),
/// otherwise `<target dir>/debug/<name>`, honouring `CARGO_TARGET_DIR` like cargo does.
pub fn bin_path(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("PINGID_BIN_DIR") {
        return bin_path_in(Path::new(&dir), name);
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    // A relative CARGO_TARGET_DIR is relative to where cargo ran, i.e. the workspace root.
    workspace_root().join(target_dir).join("debug").join(name)
}
