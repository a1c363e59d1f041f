//! The measurements of the benchmark issue, each a function returning its part of the results.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::{FunctionProcess, Invocation, Moto};
use pingid_sim::{RunningSim, SimConfig, Simulator, demo};
use serde::Serialize;
use serde_json::{Value, json};
use shared::limits::{Kind, Limit, Limits};

use crate::measure::{Summary, cpu_time, memory_kib};

/// Every Lambda binary of the product with the `events/` fixture of its cold invocation, and
/// the floor. Fixtures are the REST events API Gateway sends (or the TOKEN event of the
/// authorizer); their live-resource id placeholder stays an id PingOne does not know, so the
/// first call still reads its secret, gets a token and asks the Ping cloud, which is what a cold
/// start costs. [`cold_start`] refuses to run if a `functions/` crate is missing here.
const COLD_START: &[(&str, &str)] = &[
    ("baseline-echo", ""),
    (
        "read-all-devices-pingid",
        "read-all-devices-pingid.rest.json",
    ),
    (
        "create-device-authentication-pingid",
        "create-device-authentication-pingid.rest.json",
    ),
    (
        "read-device-authentication",
        "read-device-authentication.rest.json",
    ),
    (
        "device-select-device-authentication",
        "device-select-device-authentication.rest.json",
    ),
    (
        "validate-otp-device-authentication",
        "validate-otp-device-authentication.rest.json",
    ),
    (
        "cancel-device-authentication-pingid",
        "cancel-device-authentication-pingid.rest.json",
    ),
    ("create-device-pingid", "create-device-pingid.rest.json"),
    ("activate-device", "activate-device.rest.json"),
    ("resend-otp-for-pairing", "resend-otp-for-pairing.rest.json"),
    (
        "create-pairing-key-pingid",
        "create-pairing-key-pingid.rest.json",
    ),
    ("read-pairing-key", "read-pairing-key.rest.json"),
    ("delete-pairing-key", "delete-pairing-key.http.json"),
    ("read-device", "read-device.rest.json"),
    ("delete-device", "delete-device.rest.json"),
    ("update-device-nickname", "update-device-nickname.rest.json"),
    ("set-device-order", "set-device-order.rest.json"),
    ("read-user", "read-user.rest.json"),
    ("read-user-mfa-enabled", "read-user-mfa-enabled.rest.json"),
    ("eval-policy-pingid", "eval-policy-pingid.rest.json"),
    ("journey-authentication", "journey-authentication.rest.json"),
    (
        "journey-device-registration",
        "journey-device-registration.rest.json",
    ),
    (
        "update-user-mfa-enabled",
        "update-user-mfa-enabled.rest.json",
    ),
    (
        "read-device-authentication-policy",
        "read-device-authentication-policy.rest.json",
    ),
    (
        "validate-assertion-device-authentication",
        "validate-assertion-device-authentication.rest.not-fido.json",
    ),
    ("initialize-mfa", "initialize-mfa.rest.json"),
    (
        "initialize-passwordless-authentication",
        "initialize-passwordless-authentication.rest.json",
    ),
    (
        "finalize-passwordless-authentication",
        "finalize-passwordless-authentication.rest.forged-context.json",
    ),
    ("api-authorizer", "api-authorizer.token.json"),
    // The return page has no event of its own (`events/` holds the capabilities' and the
    // authorizer's): a REST POST that carries no `ppm_response`, which the page answers with
    // its 400 page after the whole runtime path.
    ("legacy-return-page", "initialize-mfa.rest.json"),
];

/// The bearer token the bench's API-tokens secret holds, as in `events/api-authorizer.token.json`.
const DEMO_API_TOKEN: &str = "demo-davinci-token-0123456789abcdefghijklmnopqrstuv";

/// The event of `binary`'s cold invocation: its fixture with the passcode placeholder made a
/// well-formed (wrong) passcode, so that input validation passes and the call reaches the cloud.
fn cold_event(fixture: &str) -> Value {
    if fixture.is_empty() {
        return json!({ "properties": {} });
    }
    let mut event = e2e::load_event(fixture);
    e2e::replace_in_strings(&mut event, e2e::PLACEHOLDER_OTP, "123456");
    event
}

/// What the first answer was, for the report: the HTTP status of a proxy response, the
/// authorizer's decision, or the error type of a failed invocation.
fn first_answer(invocation: &Invocation) -> String {
    match invocation {
        Invocation::Response(value) => match value.get("statusCode") {
            Some(status) => status.to_string(),
            None => value
                .pointer("/policyDocument/Statement/0/Effect")
                .and_then(Value::as_str)
                .unwrap_or("response")
                .to_string(),
        },
        Invocation::Error { error_type, .. } => error_type.clone(),
    }
}

/// Fails unless every crate under `functions/` is measured.
fn check_every_function_is_measured() -> anyhow::Result<()> {
    let dir = e2e::workspace_root().join("functions");
    for entry in std::fs::read_dir(&dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        anyhow::ensure!(
            COLD_START.iter().any(|(binary, _)| *binary == name),
            "functions/{name} has no cold-start fixture in bench/runner/src/scenarios.rs"
        );
    }
    Ok(())
}

/// Everything `bench/results.json` holds.
#[derive(Debug, Serialize)]
pub struct Results {
    /// Where and when.
    pub machine: Value,
    /// Cold start per binary.
    pub cold_start: Vec<ColdStart>,
    /// Warm invocations.
    pub warm: Vec<Warm>,
    /// The floor's memory over the same long run (what the runtime itself does to RSS).
    pub floor_memory: Memory,
    /// The control: `read-all-devices-pingid`'s memory over the same run when every event
    /// carries the same trace id, so the runtime's `setenv` reuses one string.
    pub same_trace_id_memory: Memory,
    /// Binary and artifact sizes.
    pub sizes: Vec<Size>,
    /// Why there are no arm64 sizes.
    pub arm64: String,
    /// Local gateway and simulator throughput.
    pub throughput: Vec<Throughput>,
    /// Build times (set by `main` when measured).
    pub build: Vec<crate::builds::BuildTime>,
    /// The LTO table (set by `main` when measured).
    pub lto: Vec<LtoRow>,
}

/// Cold start of one binary.
#[derive(Debug, Clone, Serialize)]
pub struct ColdStart {
    /// Binary name.
    pub binary: String,
    /// The fixture of its first invocation (`events/`).
    pub fixture: String,
    /// What the first invocation answered (HTTP status, authorizer decision or error type).
    pub first_answer: String,
    /// Exec to the first `/next`.
    pub init: Summary,
    /// Exec to the first response.
    pub first_response: Summary,
}

/// Warm invocations of one function.
#[derive(Debug, Serialize)]
pub struct Warm {
    /// Binary name.
    pub binary: String,
    /// Invocations that answered as expected (out of `handler.samples`).
    pub expected_answers: usize,
    /// Handler time (the Runtime API handing out the event → the function's result).
    pub handler: Summary,
    /// The same for the echo function (the runtime's own floor).
    pub echo_handler: Summary,
    /// The simulator answering the same PingOne call directly.
    pub simulator: Summary,
    /// `handler − echo handler − simulator` at p50: what our code adds.
    pub overhead_p50_ms: f64,
    /// The same difference of the p99s (a difference of percentiles, not a percentile).
    pub overhead_p99_ms: f64,
    /// CPU time of the function process per invocation.
    pub cpu_us_per_invocation: f64,
    /// CPU time per invocation of the reference (`baseline-reqwest`: the floor plus a bare
    /// reqwest client making the same PingOne calls and reading the same bodies).
    pub reference_cpu_us_per_invocation: f64,
    /// `cpu_us_per_invocation ÷ reference_cpu_us_per_invocation`.
    pub cpu_ratio: f64,
    /// Memory over the long run.
    pub memory: Memory,
    /// What binding the call to its user costs, for the capabilities that read the
    /// authentication before acting on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_binding: Option<BindingCost>,
    /// What counting the call against the user's limit costs, for the capabilities that do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limit_check: Option<LimitCost>,
}

/// The price of the per-user limit (finding 3 of the security issue): the same warm run with
/// the limit on (one conditional DynamoDB update, here moto's) and off.
#[derive(Debug, Serialize)]
pub struct LimitCost {
    /// Handler time p50, limit on minus limit off: the wall time the count adds (against moto
    /// on loopback; DynamoDB in the region answers in a few ms).
    pub handler_p50_ms: f64,
    /// CPU per invocation, limit on minus limit off.
    pub cpu_us: f64,
}

/// The price of reading an authentication before acting on it (finding 1 of the security
/// issue): one more PingOne call, measured on its own.
#[derive(Debug, Serialize)]
pub struct BindingCost {
    /// The simulator answering the read directly, p50: the wall time the binding adds.
    pub read_p50_ms: f64,
    /// CPU per invocation of the reference making the read and the action, minus the reference
    /// making the action alone: the CPU the binding adds with the named dependencies.
    pub reference_cpu_us: f64,
}

/// Resident memory of one function process over a long run of invocations.
#[derive(Debug, Serialize)]
pub struct Memory {
    /// Invocations in the run.
    pub invocations: usize,
    /// Peak RSS at the end of the run.
    pub peak_rss_kib: u64,
    /// `(invocations so far, RSS KiB)` every [`RSS_SAMPLE_EVERY`] invocations.
    pub rss_kib: Vec<(usize, u64)>,
}

/// Size of one binary.
#[derive(Debug, Clone, Serialize)]
pub struct Size {
    /// Binary name.
    pub binary: String,
    /// Architecture it was built for.
    pub arch: &'static str,
    /// Stripped binary.
    pub binary_bytes: u64,
    /// Zipped as `bootstrap` (the Lambda artifact).
    pub zip_bytes: u64,
}

/// Load on one target at one concurrency.
#[derive(Debug, Serialize)]
pub struct Throughput {
    /// What was loaded.
    pub target: String,
    /// Concurrent clients.
    pub concurrency: usize,
    /// Requests per second.
    pub requests_per_second: f64,
    /// Latency percentiles.
    pub latency: Summary,
}

/// RSS is sampled every this many invocations of the long run.
const RSS_SAMPLE_EVERY: usize = 1_000;

/// The simulator (also the legacy PingID service), and moto holding every secret a function
/// reads and the legacy single-use table: the stack of `tests/tests/e2e/support`, on loopback.
struct Stack {
    /// Where the binaries are ([`e2e::bin_path_in`]).
    bin_dir: PathBuf,
    sim: RunningSim,
    /// Kept for its server: dropping it stops moto.
    _moto: Moto,
    env: Vec<(&'static str, String)>,
    http: reqwest::Client,
    token: String,
}

impl Stack {
    async fn start(bin_dir: &Path) -> anyhow::Result<Stack> {
        let sim =
            Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), SimConfig::default()).await?;
        let moto = Moto::start().await?;
        let connection = json!({ "envId": demo::ENV_ID, "clientId": demo::CLIENT_ID,
            "clientSecret": demo::CLIENT_SECRET, "region": "NA" });
        let tokens = json!({ "tokens": { "davinci-2026-11": DEMO_API_TOKEN } });
        let mut env = moto.aws_env();
        env.extend([
            (
                "PINGONE_CONNECTION_SECRET_ID",
                moto.create_secret("pingid/bench", &connection.to_string())
                    .await?,
            ),
            ("PINGONE_BASE_URL", sim.base_url()),
            (
                "PINGID_PROPERTIES_SECRET_ID",
                moto.create_secret(
                    "pingid/properties",
                    &demo::legacy::properties_file(&sim.base_url()),
                )
                .await?,
            ),
            (
                "PINGID_USED_ONCE_TABLE",
                moto.create_id_table("pingid-used-once").await?,
            ),
            // Counted for real (moto's DynamoDB), under a limit one user's load never reaches.
            (
                "PINGID_LIMITS_TABLE",
                moto.create_id_table("pingid-limits").await?,
            ),
            (Kind::OtpCheck.variable(), format!("{}/900", UNDER_LOAD)),
            (
                "PINGID_API_TOKENS_SECRET_ID",
                moto.create_secret("pingid/api-tokens", &tokens.to_string())
                    .await?,
            ),
            (
                "PINGID_JOURNEY_SECRET_ID",
                moto.create_secret(
                    "pingid/journeys",
                    "bench-journey-key-0123456789abcdefghijklmnop",
                )
                .await?,
            ),
        ]);
        let http = shared::http::bare_builder().build()?;
        let token = issue_token(&http, &sim.base_url()).await?;
        Ok(Stack {
            bin_dir: bin_dir.to_path_buf(),
            sim,
            _moto: moto,
            env,
            http,
            token,
        })
    }

    async fn spawn(&self, binary: &str) -> anyhow::Result<FunctionProcess> {
        self.spawn_with(binary, &[]).await
    }

    /// Like [`Stack::spawn`], with `extra` variables over the stack's.
    async fn spawn_with(
        &self,
        binary: &str,
        extra: &[(&'static str, String)],
    ) -> anyhow::Result<FunctionProcess> {
        let mut env = self.env.clone();
        env.retain(|(name, _)| extra.iter().all(|(other, _)| other != name));
        env.extend_from_slice(extra);
        FunctionProcess::spawn_at(binary, &e2e::bin_path_in(&self.bin_dir, binary), &env).await
    }

    /// Starts carol's TOTP authentication on the simulator directly; returns its id and code.
    async fn totp_authentication(&self) -> anyhow::Result<(String, String)> {
        totp_authentication(&self.http, &self.sim.base_url(), &self.token).await
    }
}

/// A worker token from the simulator at `base`.
async fn issue_token(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let token: Value = http
        .post(format!("{base}/{}/as/token", demo::ENV_ID))
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await?
        .json()
        .await?;
    Ok(token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// A limit that one demo user driven by the bench never reaches (every call is still counted).
const UNDER_LOAD: u32 = 1_000_000_000;

/// The default limits with passcode checks under [`UNDER_LOAD`]: the bench checks carol's
/// codes thousands of times.
fn one_user_under_load() -> Limits {
    let mut limits = Limits::default();
    limits.set(
        Kind::OtpCheck,
        Some(Limit {
            count: UNDER_LOAD,
            window: Duration::from_secs(900),
        }),
    );
    limits
}

/// Starts carol's TOTP authentication on the simulator at `base` (untimed set-up for the OTP
/// checks); returns its id and the current code.
async fn totp_authentication(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<(String, String)> {
    let started: Value = http
        .post(format!("{base}/{}/deviceAuthentications", demo::ENV_ID))
        .bearer_auth(token)
        .json(&json!({ "user": { "id": demo::CAROL_ID },
            "selectedDevice": { "id": demo::CAROL_TOTP_DEVICE_ID } }))
        .send()
        .await?
        .json()
        .await?;
    let code: Value = http
        .get(format!("{base}/_sim/totp/{}", demo::CAROL_TOTP_DEVICE_ID))
        .send()
        .await?
        .json()
        .await?;
    Ok((
        started["id"].as_str().unwrap_or_default().to_string(),
        code["otp"].as_str().unwrap_or_default().to_string(),
    ))
}

/// How many of everything one run measures.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// Cold starts per binary.
    pub cold_starts: usize,
    /// Timed warm invocations per function.
    pub warm: usize,
    /// Invocations of the memory run (the timed ones included).
    pub memory: usize,
    /// Requests per throughput measurement.
    pub load: usize,
}

impl Counts {
    /// The issue's counts, divided by `scale` (10 for a quick try of the harness).
    pub fn scaled(scale: usize) -> Self {
        Self {
            cold_starts: (50 / scale).max(1),
            warm: 10_000 / scale,
            memory: 50_000 / scale,
            load: 3_000 / scale,
        }
    }
}

/// Runs every measurement on the binaries in `bin_dir`.
pub async fn run_all(bin_dir: &Path, counts: Counts) -> anyhow::Result<Results> {
    check_every_function_is_measured()?;
    let stack = Stack::start(bin_dir).await?;
    let machine = json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "arch": std::env::consts::ARCH,
        "binaries": bin_dir.display().to_string(),
    });
    eprintln!("cold start ({} binaries)…", COLD_START.len());
    let cold_start = cold_start(&stack, counts.cold_starts).await?;
    eprintln!("warm invocations and memory…");
    // The Runtime API floor does not depend on the function: measure it once for both.
    let (echo, floor_memory) = echo_floor(&stack, counts).await?;
    let warm = vec![
        warm_read_all_devices(&stack, counts, echo).await?,
        warm_validate_otp(&stack, counts, echo).await?,
    ];
    let same_trace_id_memory = read_all_devices_with_one_trace_id(&stack, counts).await?;
    eprintln!("sizes…");
    let sizes = sizes(bin_dir)?;
    eprintln!("throughput…");
    let throughput = throughput(&stack, counts.load).await?;
    Ok(Results {
        machine,
        cold_start,
        warm,
        floor_memory,
        same_trace_id_memory,
        sizes,
        arm64: arm64_note(),
        throughput,
        build: Vec::new(),
        lto: Vec::new(),
    })
}

/// One row of the LTO table: a cold `make build` under one release profile, and what its
/// binaries measure.
#[derive(Debug, Serialize)]
pub struct LtoRow {
    /// The profile's setting.
    pub profile: crate::builds::Lto,
    /// Whether it is `Cargo.toml`'s (what `make build` ships).
    pub chosen: bool,
    /// The cold `make build`.
    pub build: crate::builds::BuildTime,
    /// Sizes of its binaries.
    pub sizes: Vec<Size>,
    /// Cold starts of its binaries.
    pub cold_start: Vec<ColdStart>,
}

/// Measures the binaries a cold build under `profile` left in `bin_dir`: sizes, and `runs` cold
/// starts of each (round robin, the floor among them).
pub async fn lto_row(
    profile: crate::builds::Lto,
    build: crate::builds::BuildTime,
    bin_dir: &Path,
    runs: usize,
) -> anyhow::Result<LtoRow> {
    let stack = Stack::start(bin_dir).await?;
    Ok(LtoRow {
        profile,
        chosen: false,
        build,
        sizes: sizes(bin_dir)?,
        cold_start: cold_start(&stack, runs).await?,
    })
}

/// `runs` cold starts of every binary, round robin: start `i` of each binary before start
/// `i + 1` of any, so that the machine drifting over the minutes this takes weighs on the floor
/// and the functions alike.
async fn cold_start(stack: &Stack, runs: usize) -> anyhow::Result<Vec<ColdStart>> {
    let events: Vec<Value> = COLD_START.iter().map(|(_, f)| cold_event(f)).collect();
    let mut init = vec![Vec::with_capacity(runs); COLD_START.len()];
    let mut first = init.clone();
    let mut answers = vec![String::new(); COLD_START.len()];
    for _ in 0..runs {
        for (index, (binary, _)) in COLD_START.iter().enumerate() {
            let function = stack.spawn(binary).await?;
            let started = Instant::now();
            let invocation = function.invoke(events[index].clone()).await?;
            init[index].push(function.init_duration());
            first[index].push(function.init_duration() + started.elapsed());
            // The first run's answer is the fixture's own outcome (later runs of a create
            // may meet what the first one made).
            if answers[index].is_empty() {
                answers[index] = first_answer(&invocation);
            }
        }
    }
    let measured = init.iter_mut().zip(&mut first).zip(answers);
    Ok(COLD_START
        .iter()
        .zip(measured)
        .map(|((binary, fixture), ((init, first), answer))| ColdStart {
            binary: binary.to_string(),
            fixture: fixture.to_string(),
            first_answer: answer,
            init: Summary::of(init),
            first_response: Summary::of(first),
        })
        .collect())
}

/// Handler times of echo invocations (the runtime's own floor), and the echo process's memory
/// over the same long run as the functions'.
async fn echo_floor(stack: &Stack, counts: Counts) -> anyhow::Result<(Summary, Memory)> {
    let echo = stack.spawn("baseline-echo").await?;
    let run = warm_run(
        &echo,
        counts,
        || async { Ok(json!({ "properties": {} })) },
        |answer| matches!(answer, Invocation::Response(_)),
    )
    .await?;
    Ok((run.handler, run.memory))
}

struct WarmRun {
    expected_answers: usize,
    handler: Summary,
    cpu_us_per_invocation: f64,
    memory: Memory,
}

/// Invokes `function` `counts.memory` times with the events `next` makes (untimed): the first
/// `counts.warm` give the handler times and the CPU time; RSS is sampled all along.
/// `expected(answer)` tells whether an answer is the one the event should get.
async fn warm_run<F, Fut>(
    function: &FunctionProcess,
    counts: Counts,
    mut next: F,
    expected: impl Fn(&Invocation) -> bool,
) -> anyhow::Result<WarmRun>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Value>>,
{
    let pid = function.pid().context_pid()?;
    // Warm up: secret, token, connection pool.
    function.invoke(next().await?).await?;
    let cpu_before = cpu_time(pid)?;
    let mut samples = Vec::with_capacity(counts.warm);
    let (mut expected_answers, mut cpu_us_per_invocation) = (0, 0.0);
    let mut rss_kib = vec![(0, memory_kib(pid)?.0)];
    for n in 1..=counts.memory.max(counts.warm) {
        let answer = function.invoke_timed(next().await?).await?;
        if n <= counts.warm {
            samples.push(answer.handler_time);
            expected_answers += usize::from(expected(&answer.invocation));
        }
        if n == counts.warm {
            let cpu = cpu_time(pid)? - cpu_before;
            cpu_us_per_invocation = cpu.as_secs_f64() * 1e6 / counts.warm as f64;
        }
        if n % RSS_SAMPLE_EVERY == 0 {
            rss_kib.push((n, memory_kib(pid)?.0));
        }
    }
    Ok(WarmRun {
        expected_answers,
        handler: Summary::of(&mut samples),
        cpu_us_per_invocation,
        memory: Memory {
            invocations: counts.memory,
            peak_rss_kib: memory_kib(pid)?.1,
            rss_kib,
        },
    })
}

trait PidExt {
    fn context_pid(self) -> anyhow::Result<u32>;
}

impl PidExt for Option<u32> {
    fn context_pid(self) -> anyhow::Result<u32> {
        self.ok_or_else(|| anyhow::anyhow!("the function process has no pid"))
    }
}

fn warm(binary: &str, run: WarmRun, reference: WarmRun, echo: Summary, simulator: Summary) -> Warm {
    Warm {
        binary: binary.to_string(),
        expected_answers: run.expected_answers,
        overhead_p50_ms: run.handler.p50_ms - echo.p50_ms - simulator.p50_ms,
        overhead_p99_ms: run.handler.p99_ms - echo.p99_ms - simulator.p99_ms,
        handler: run.handler,
        echo_handler: echo,
        simulator,
        cpu_us_per_invocation: run.cpu_us_per_invocation,
        reference_cpu_us_per_invocation: reference.cpu_us_per_invocation,
        cpu_ratio: run.cpu_us_per_invocation / reference.cpu_us_per_invocation,
        memory: run.memory,
        user_binding: None,
        rate_limit_check: None,
    }
}

/// The reference of the CPU ratio.
const REFERENCE: &str = "baseline-reqwest";

/// One PingOne call of the reference's event.
fn reference_call(
    method: &str,
    url: &str,
    content_type: Option<&str>,
    body: Option<&str>,
) -> Value {
    json!({ "method": method, "url": url, "contentType": content_type, "body": body })
}

/// The reference's warm run (`counts.warm` invocations, no long memory run): `next` gives the
/// function's event and the calls the function makes for it; the reference receives that
/// event, with the calls and the stack's worker token under `reference`, and every call must
/// answer 200.
async fn reference_run<F, Fut>(
    stack: &Stack,
    counts: Counts,
    mut next: F,
) -> anyhow::Result<WarmRun>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<(Value, Vec<Value>)>>,
{
    let reference = stack.spawn(REFERENCE).await?;
    let counts = Counts {
        memory: counts.warm,
        ..counts
    };
    let run = warm_run(
        &reference,
        counts,
        || {
            let next = next();
            async move {
                let (mut event, calls) = next.await?;
                event["reference"] = json!({ "token": stack.token, "calls": calls });
                Ok(event)
            }
        },
        |answer| match answer {
            Invocation::Response(value) => value["statuses"]
                .as_array()
                .is_some_and(|all| all.iter().all(|status| status == 200)),
            Invocation::Error { .. } => false,
        },
    )
    .await?;
    anyhow::ensure!(
        run.expected_answers == counts.warm,
        "the reference answered {} of {} invocations as expected",
        run.expected_answers,
        counts.warm
    );
    Ok(run)
}

/// The proxy response's status and JSON body, when `invocation` is one.
fn proxy(invocation: &Invocation) -> Option<(u16, Value)> {
    let Invocation::Response(response) = invocation else {
        return None;
    };
    let response = e2e::ProxyResponse::from_value(response).ok()?;
    Some((response.status, response.json().ok()?))
}

const READ_ALL_DEVICES: &str = "read-all-devices-pingid";

/// The warm run of `read-all-devices-pingid` (a process of it, alice's fixture every time).
async fn read_all_devices_run(
    function: &FunctionProcess,
    counts: Counts,
) -> anyhow::Result<WarmRun> {
    let event = cold_event("read-all-devices-pingid.rest.json");
    warm_run(
        function,
        counts,
        || {
            let event = event.clone();
            async move { Ok(event) }
        },
        |answer| matches!(proxy(answer), Some((200, body)) if body["devices"].is_array()),
    )
    .await
}

/// The memory control: the same run with one trace id for every event, so that the runtime's
/// `setenv("_X_AMZN_TRACE_ID")` reuses one string.
async fn read_all_devices_with_one_trace_id(
    stack: &Stack,
    counts: Counts,
) -> anyhow::Result<Memory> {
    let function = stack.spawn(READ_ALL_DEVICES).await?;
    function.runtime_api().fix_trace_id();
    Ok(read_all_devices_run(&function, counts).await?.memory)
}

async fn warm_read_all_devices(
    stack: &Stack,
    counts: Counts,
    echo: Summary,
) -> anyhow::Result<Warm> {
    let function = stack.spawn(READ_ALL_DEVICES).await?;
    let run = read_all_devices_run(&function, counts).await?;
    // The handler's own PingOne calls, made the same way: the user's devices and the
    // environment's policies (for `allowedTypes` and `mfaPolicy`), concurrently.
    let environment = format!("{}/v1/environments/{}", stack.sim.base_url(), demo::ENV_ID);
    let devices = format!("{environment}/users/{}/devices", demo::ALICE_ID);
    let policies = format!("{environment}/deviceAuthenticationPolicies");
    let mut direct = Vec::with_capacity(counts.warm);
    for _ in 0..counts.warm {
        let started = Instant::now();
        let (devices, policies) = tokio::join!(
            timed(stack.http.get(&devices).bearer_auth(&stack.token)),
            timed(stack.http.get(&policies).bearer_auth(&stack.token)),
        );
        devices?;
        policies?;
        direct.push(started.elapsed());
    }
    let calls = vec![
        reference_call("GET", &devices, None, None),
        reference_call("GET", &policies, None, None),
    ];
    let event = cold_event("read-all-devices-pingid.rest.json");
    let reference = reference_run(stack, counts, || {
        let (event, calls) = (event.clone(), calls.clone());
        async move { Ok((event, calls)) }
    })
    .await?;
    Ok(warm(
        READ_ALL_DEVICES,
        run,
        reference,
        echo,
        Summary::of(&mut direct),
    ))
}

async fn warm_validate_otp(stack: &Stack, counts: Counts, echo: Summary) -> anyhow::Result<Warm> {
    let binary = "validate-otp-device-authentication";
    let function = stack.spawn(binary).await?;
    let fixture = e2e::load_event("validate-otp-device-authentication.rest.json");
    // A fresh TOTP authentication of carol's (untimed) and the fixture checking its code (the
    // fixture's is alice's: the function answers another user's authentication NOT_FOUND).
    let next_check = || async {
        let (id, otp) = stack.totp_authentication().await?;
        let mut event = fixture.clone();
        e2e::replace_in_strings(&mut event, demo::ALICE_ID, demo::CAROL_ID);
        e2e::replace_in_strings(&mut event, e2e::PLACEHOLDER_LIVE_ID, &id);
        e2e::replace_in_strings(&mut event, e2e::PLACEHOLDER_OTP, &otp);
        anyhow::Ok((event, id, otp))
    };
    let run = warm_run(
        &function,
        counts,
        || async { Ok(next_check().await?.0) },
        |answer| matches!(proxy(answer), Some((200, body)) if body["status"] == "COMPLETED"),
    )
    .await?;
    let url = |id: &str| {
        format!(
            "{}/{}/deviceAuthentications/{id}",
            stack.sim.base_url(),
            demo::ENV_ID
        )
    };
    // The function reads the authentication (is it the user's?), then checks the code.
    let (mut direct, mut reads) = (Vec::new(), Vec::new());
    for _ in 0..counts.warm {
        let (id, otp) = stack.totp_authentication().await?;
        let read = stack.http.get(url(&id)).bearer_auth(&stack.token);
        let check = stack
            .http
            .post(url(&id))
            .bearer_auth(&stack.token)
            .header("content-type", OTP_CHECK)
            .body(json!({ "otp": otp }).to_string());
        let read = timed(read).await?;
        reads.push(read);
        direct.push(read + timed(check).await?);
    }
    let calls = |id: &str, otp: &str, bound: bool| {
        let body = json!({ "otp": otp }).to_string();
        let check = reference_call("POST", &url(id), Some(OTP_CHECK), Some(&body));
        match bound {
            true => vec![reference_call("GET", &url(id), None, None), check],
            false => vec![check],
        }
    };
    let reference_with = |bound: bool| {
        reference_run(stack, counts, move || async move {
            let (event, id, otp) = next_check().await?;
            Ok((event, calls(&id, &otp, bound)))
        })
    };
    let reference = reference_with(true).await?;
    let unbound = reference_with(false).await?;
    let user_binding = BindingCost {
        read_p50_ms: Summary::of(&mut reads).p50_ms,
        reference_cpu_us: reference.cpu_us_per_invocation - unbound.cpu_us_per_invocation,
    };
    // The same run without the per-user limit: the difference is what the count costs.
    let unlimited = stack
        .spawn_with(binary, &[(Kind::OtpCheck.variable(), "off".to_string())])
        .await?;
    let unlimited = warm_run(
        &unlimited,
        Counts {
            memory: counts.warm,
            ..counts
        },
        || async { Ok(next_check().await?.0) },
        |answer| matches!(proxy(answer), Some((200, body)) if body["status"] == "COMPLETED"),
    )
    .await?;
    let rate_limit_check = LimitCost {
        handler_p50_ms: run.handler.p50_ms - unlimited.handler.p50_ms,
        cpu_us: run.cpu_us_per_invocation - unlimited.cpu_us_per_invocation,
    };
    let mut warm = warm(binary, run, reference, echo, Summary::of(&mut direct));
    warm.user_binding = Some(user_binding);
    warm.rate_limit_check = Some(rate_limit_check);
    Ok(warm)
}

/// PingOne's media type of an OTP check.
const OTP_CHECK: &str = "application/vnd.pingidentity.otp.check+json";

/// How long the simulator takes to answer `request` directly (the body read included).
async fn timed(request: reqwest::RequestBuilder) -> anyhow::Result<Duration> {
    let started = Instant::now();
    request.send().await?.bytes().await?;
    Ok(started.elapsed())
}

fn sizes(bin_dir: &Path) -> anyhow::Result<Vec<Size>> {
    let scratch = std::env::temp_dir().join(format!("pingid-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let mut sizes = Vec::new();
    for (binary, _) in COLD_START {
        let path = e2e::bin_path_in(bin_dir, binary);
        let bootstrap = scratch.join("bootstrap");
        std::fs::copy(&path, &bootstrap)?;
        let zip = scratch.join(format!("{binary}.zip"));
        // The artifact Lambda receives: the binary named `bootstrap`, deflated in a zip.
        let status = std::process::Command::new("python3")
            .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED, compresslevel=9); z.write(sys.argv[2], 'bootstrap'); z.close()"])
            .arg(&zip)
            .arg(&bootstrap)
            .status()?;
        anyhow::ensure!(status.success(), "zipping {binary} failed");
        sizes.push(Size {
            binary: binary.to_string(),
            arch: std::env::consts::ARCH,
            binary_bytes: std::fs::metadata(&path)?.len(),
            zip_bytes: std::fs::metadata(&zip)?.len(),
        });
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(sizes)
}

/// Why the report has no arm64 sizes: cross-building needs the aarch64 standard library,
/// which rustup installs from its own server.
fn arm64_note() -> String {
    let sysroot = std::process::Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_default();
    let std_dir = std::path::Path::new(&sysroot).join("lib/rustlib/aarch64-unknown-linux-gnu");
    if std_dir.is_dir() {
        "not built by `make bench`; `make build` (ARCH=arm64) prints the arm64 artifact sizes"
            .into()
    } else {
        "not measured: the aarch64 standard library is not installed on this machine \
         (`rustup target add aarch64-unknown-linux-gnu` needs static.rust-lang.org, which it \
         cannot reach); where it is, `make build` (ARCH=arm64) prints the arm64 artifact sizes"
            .into()
    }
}

/// Sends `requests` requests from `concurrency` clients to `target`; `request(n)` builds the
/// n-th. Every answer must be a success.
async fn load<F>(
    target: &str,
    concurrency: usize,
    requests: usize,
    request: F,
) -> anyhow::Result<Throughput>
where
    F: Fn(usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (request, next) = (request.clone(), next.clone());
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= requests {
                        return Ok::<_, anyhow::Error>(samples);
                    }
                    let at = Instant::now();
                    let status = request(n).send().await?.status();
                    anyhow::ensure!(status.is_success(), "HTTP {status}");
                    samples.push(at.elapsed());
                }
            })
        })
        .collect();
    let mut samples: Vec<Duration> = Vec::with_capacity(requests);
    for worker in workers {
        samples.extend(worker.await??);
    }
    Ok(Throughput {
        target: target.to_string(),
        concurrency,
        requests_per_second: requests as f64 / started.elapsed().as_secs_f64(),
        latency: Summary::of(&mut samples),
    })
}

async fn throughput(stack: &Stack, requests: usize) -> anyhow::Result<Vec<Throughput>> {
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    let local = pingid_local::start(pingid_local::LocalConfig {
        addr: any_port,
        sim_addr: any_port,
        limits: Some(one_user_under_load()),
        ..pingid_local::LocalConfig::default()
    })
    .await?;
    let local_sim = local.sim().base_url();
    let local_token = issue_token(&stack.http, &local_sim).await?;
    let gateway = |capability: &str| format!("{}/v1/pingid/{capability}", local.base_url());
    let (read_url, check_url) = (
        gateway("readAllDevicesPingID"),
        gateway("validateOtpDeviceAuthentication"),
    );
    let sim_url = format!(
        "{}/v1/environments/{}/users/{}/devices",
        stack.sim.base_url(),
        demo::ENV_ID,
        demo::ALICE_ID
    );
    let mut results = Vec::new();
    for concurrency in [1, 16, 128] {
        let client = shared::http::bare_builder().build()?;
        let (c, url) = (client.clone(), read_url.clone());
        let body = json!({ "properties": { "userId": demo::ALICE_ID } }).to_string();
        results.push(
            load(
                "gateway readAllDevicesPingID",
                concurrency,
                requests,
                move |_| {
                    c.post(&url)
                        .bearer_auth(pingid_local::DEFAULT_API_TOKEN)
                        .body(body.clone())
                },
            )
            .await?,
        );

        // OTP checks: one fresh TOTP authentication per request, started beforehand.
        let mut prepared = Vec::with_capacity(requests);
        for _ in 0..requests {
            prepared.push(totp_authentication(&client, &local_sim, &local_token).await?);
        }
        let (c, url) = (client.clone(), check_url.clone());
        results.push(
            load(
                "gateway validateOtpDeviceAuthentication",
                concurrency,
                requests,
                move |n| {
                    let (id, otp) = &prepared[n];
                    let body = json!({ "properties": { "userId": demo::CAROL_ID,
                            "deviceAuthenticationId": id, "otp": otp } });
                    c.post(&url)
                        .bearer_auth(pingid_local::DEFAULT_API_TOKEN)
                        .body(body.to_string())
                },
            )
            .await?,
        );

        let (url, token) = (sim_url.clone(), stack.token.clone());
        results.push(
            load(
                "simulator alone: list devices",
                concurrency,
                requests,
                move |_| client.get(&url).bearer_auth(&token),
            )
            .await?,
        );
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `make bench` refuses to start while a function has no cold-start fixture; `make test`
    /// says so first, when the function is added.
    #[test]
    fn every_function_has_a_cold_start_fixture_that_exists() {
        check_every_function_is_measured().unwrap();
        for (binary, fixture) in COLD_START.iter().filter(|(_, fixture)| !fixture.is_empty()) {
            let path = e2e::workspace_root().join("events").join(fixture);
            assert!(path.is_file(), "{binary}: events/{fixture} is missing");
        }
    }
}
