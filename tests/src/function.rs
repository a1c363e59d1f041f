//! Running a compiled Lambda function binary and invoking it like the Lambda service does.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;
use tokio::process::Command;

use crate::events::ProxyResponse;
use crate::process::Supervised;
use crate::runtime_api::{Answer, InitState, RuntimeApi};

/// How long a function may take to initialise (reach its first `next` call).
const INIT_TIMEOUT: Duration = Duration::from_secs(20);

/// How long [`FunctionProcess::invoke`] waits for an answer. Longer than the function timeout
/// the runtime announces (10 s) so a slow debug build on a busy machine is not a false failure.
pub const INVOKE_TIMEOUT: Duration = Duration::from_secs(20);

/// The outcome of one invocation, as reported to the Runtime API.
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The function posted a result (`/response`).
    Response(Value),
    /// The function failed the invocation (`/error`).
    Error {
        /// `errorType`: for our functions, the stable error code (e.g. `VALIDATION_FAILED`).
        error_type: String,
        /// `errorMessage`: for our functions, the error body JSON as a string.
        error_message: String,
    },
}

impl Invocation {
    /// The response payload, or an error describing the failed invocation.
    pub fn into_response(self) -> anyhow::Result<Value> {
        match self {
            Self::Response(value) => Ok(value),
            Self::Error {
                error_type,
                error_message,
            } => bail!("expected a response, the invocation failed: {error_type}: {error_message}"),
        }
    }

    /// `(errorType, errorMessage)`, or an error if the invocation succeeded.
    pub fn into_error(self) -> anyhow::Result<(String, String)> {
        match self {
            Self::Error {
                error_type,
                error_message,
            } => Ok((error_type, error_message)),
            Self::Response(value) => bail!("expected the invocation to fail, it returned {value}"),
        }
    }

    /// The response read as an API Gateway proxy response (v1 and v2 share the shape).
    pub fn into_proxy_response(self) -> anyhow::Result<ProxyResponse> {
        ProxyResponse::from_value(&self.into_response()?)
    }
}

/// A compiled Lambda function binary running against its own [`RuntimeApi`].
///
/// The process and the emulator are stopped (SIGKILL) when this is dropped.
pub struct FunctionProcess {
    name: String,
    init_duration: Duration,
    // Field order matters for drop: the process dies before its Runtime API goes away, so it
    // never logs connection errors into a half-torn-down test.
    process: Supervised,
    api: RuntimeApi,
}

impl FunctionProcess {
    /// Starts the compiled binary `binary` (see [`crate::bin_path`]) and waits until it asks
    /// for its first event.
    ///
    /// The process gets a clean environment: `PATH`, the variables the Lambda service sets
    /// (`AWS_LAMBDA_RUNTIME_API`, `AWS_LAMBDA_FUNCTION_NAME`, memory size, version, JSON log
    /// format, log group and stream), then `env`, which may override any of them.
    /// Fails if the function reports an init error or exits while starting.
    pub async fn spawn(binary: &str, env: &[(&str, String)]) -> anyhow::Result<Self> {
        Self::spawn_at(binary, &crate::bin_path(binary), env).await
    }

    /// [`FunctionProcess::spawn`] of the binary at `path`, known as `binary`.
    pub async fn spawn_at(
        binary: &str,
        path: &std::path::Path,
        env: &[(&str, String)],
    ) -> anyhow::Result<Self> {
        if !path.is_file() {
            bail!(
                "{} does not exist: run `cargo build --workspace --bins` first (`make test` does)",
                path.display()
            );
        }

        let api = RuntimeApi::start(binary).await?;
        let mut command = Command::new(path);
        command.env_clear();
        if let Some(path_var) = std::env::var_os("PATH") {
            command.env("PATH", path_var);
        }
        command
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", binary)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{binary}"))
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("2025/01/01/[$LATEST]{}", uuid::Uuid::new_v4().simple()),
            )
            .envs(env.iter().map(|(name, value)| (*name, value)));
        // Init is timed from just before the exec to the first `next` request's arrival.
        let started = Instant::now();
        let process = Supervised::spawn(binary, command)?;

        tokio::select! {
            init = api.initialised() => match init {
                InitState::Ready => {}
                InitState::Failed { error_type, error_message } => bail!(
                    "{binary} failed to initialise: {error_type}: {error_message}\n{}",
                    process.log_tail()
                ),
                InitState::Starting => bail!("the Runtime API of {binary} stopped during init"),
            },
            status = process.exited() => bail!(
                "{binary} exited while initialising ({})\n{}",
                describe_exit(status),
                process.log_tail()
            ),
            () = tokio::time::sleep(INIT_TIMEOUT) => bail!(
                "{binary} did not ask for an event within {INIT_TIMEOUT:?}\n{}",
                process.log_tail()
            ),
        }

        Ok(Self {
            name: binary.to_owned(),
            init_duration: api
                .ready_at()
                .map_or_else(|| started.elapsed(), |ready| ready - started),
            process,
            api,
        })
    }

    /// Invokes the function with `event` and waits up to [`INVOKE_TIMEOUT`] for the outcome.
    pub async fn invoke(&self, event: Value) -> anyhow::Result<Invocation> {
        self.invoke_with_timeout(event, INVOKE_TIMEOUT).await
    }

    /// Invokes the function with `event` and waits up to `timeout` for the outcome.
    ///
    /// Fails (with the tail of the function's output) if the process exits or the time runs
    /// out; a function *error* is a successful [`Invocation::Error`].
    pub async fn invoke_with_timeout(
        &self,
        event: Value,
        timeout: Duration,
    ) -> anyhow::Result<Invocation> {
        Ok(self.answer(event, timeout).await?.invocation)
    }

    /// Invokes the function with `event` and returns the outcome with the handler's time
    /// as the Runtime API saw it (benchmarks).
    pub async fn invoke_timed(&self, event: Value) -> anyhow::Result<Answer> {
        self.answer(event, INVOKE_TIMEOUT).await
    }

    async fn answer(&self, event: Value, timeout: Duration) -> anyhow::Result<Answer> {
        let pending = self.api.enqueue(event);
        let name = &self.name;
        let request_id = &pending.request_id;
        tokio::select! {
            // A result that arrives together with the exit still counts.
            biased;
            result = pending.result => result.with_context(|| {
                format!("the Runtime API dropped invocation {request_id} of {name}")
            }),
            status = self.process.exited() => bail!(
                "{name} exited during invocation {request_id} ({})\n{}",
                describe_exit(status),
                self.process.log_tail()
            ),
            () = tokio::time::sleep(timeout) => bail!(
                "{name} did not answer invocation {request_id} within {timeout:?}\n{}",
                self.process.log_tail()
            ),
        }
    }

    /// Every line the function wrote to stdout or stderr so far (JSON lines with
    /// `AWS_LAMBDA_LOG_FORMAT=JSON`).
    pub fn logs(&self) -> Vec<String> {
        self.process.logs()
    }

    /// The binary's name, which is also its `AWS_LAMBDA_FUNCTION_NAME`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The OS process id (benchmarks read its CPU time and memory from `/proc`).
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The time from process start to its first `next` call: the cold start's init phase.
    pub fn init_duration(&self) -> Duration {
        self.init_duration
    }

    /// The emulator this function talks to (e.g. to read its function ARN).
    pub fn runtime_api(&self) -> &RuntimeApi {
        &self.api
    }
}

/// Formats the result of waiting for a process exit.
fn describe_exit(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(error) => format!("exit status unavailable: {error}"),
    }
}
