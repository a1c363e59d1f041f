//! The measurements of the benchmark issue, each a function returning its part of the results.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::{FunctionProcess, Moto};
use pingid_sim::{RunningSim, SimConfig, Simulator, demo};
use serde::Serialize;
use serde_json::{Value, json};

use crate::measure::{Summary, cpu_time, memory_kib};

/// An id no device authentication has: the call still fetches the secret, a token and asks
/// PingOne, which is what a cold start costs.
const UNKNOWN: &str = "00000000-0000-4000-8000-000000000000";

/// The binaries measured, with the event of their first (cold) invocation.
fn cold_start_events() -> Vec<(&'static str, Value)> {
    vec![
        ("baseline-echo", json!({ "properties": {} })),
        (
            "read-all-devices-pingid",
            json!({ "properties": { "userId": demo::ALICE_ID } }),
        ),
        (
            "create-device-authentication-pingid",
            json!({ "properties": { "userId": demo::ALICE_ID } }),
        ),
        (
            "read-device-authentication",
            json!({ "properties": { "deviceAuthenticationId": UNKNOWN } }),
        ),
        (
            "device-select-device-authentication",
            json!({ "properties": { "deviceAuthenticationId": UNKNOWN, "deviceId": demo::ALICE_SMS_DEVICE_ID } }),
        ),
        (
            "validate-otp-device-authentication",
            json!({ "properties": { "deviceAuthenticationId": UNKNOWN, "otp": "123456" } }),
        ),
        (
            "cancel-device-authentication-pingid",
            json!({ "properties": { "deviceAuthenticationId": UNKNOWN } }),
        ),
    ]
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
    /// Binary and artifact sizes.
    pub sizes: Vec<Size>,
    /// Local gateway and simulator throughput.
    pub throughput: Vec<Throughput>,
}

/// Cold start of one binary.
#[derive(Debug, Serialize)]
pub struct ColdStart {
    /// Binary name.
    pub binary: String,
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
    /// Invocation latency through the Runtime API.
    pub invoke: Summary,
    /// The same Runtime API round trip with the echo function (the floor).
    pub echo_invoke: Summary,
    /// The simulator answering the same PingOne call directly.
    pub simulator: Summary,
    /// `invoke − echo − simulator` at p50 and p99: what our code adds.
    pub overhead_p50_ms: f64,
    /// See `overhead_p50_ms`.
    pub overhead_p99_ms: f64,
    /// CPU time of the function process per invocation.
    pub cpu_us_per_invocation: f64,
    /// Peak RSS after all invocations.
    pub peak_rss_kib: u64,
    /// RSS after 1,000 invocations.
    pub rss_at_1000_kib: u64,
    /// RSS after all invocations.
    pub rss_at_end_kib: u64,
}

/// Size of one binary.
#[derive(Debug, Serialize)]
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

/// The simulator, moto with the connection secret, and how to start a function against them.
struct Stack {
    sim: RunningSim,
    moto: Moto,
    secret_arn: String,
    http: reqwest::Client,
    token: String,
}

impl Stack {
    async fn start() -> anyhow::Result<Stack> {
        let sim =
            Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), SimConfig::default()).await?;
        let moto = Moto::start().await?;
        let secret = json!({ "envId": demo::ENV_ID, "clientId": demo::CLIENT_ID,
            "clientSecret": demo::CLIENT_SECRET, "region": "NA" });
        let secret_arn = moto
            .create_secret("pingid/bench", &secret.to_string())
            .await?;
        let http = reqwest::Client::new();
        let token = issue_token(&http, &sim.base_url()).await?;
        Ok(Stack {
            sim,
            moto,
            secret_arn,
            http,
            token,
        })
    }

    async fn spawn(&self, binary: &str) -> anyhow::Result<FunctionProcess> {
        let mut env = self.moto.aws_env();
        env.push(("PINGONE_CONNECTION_SECRET_ID", self.secret_arn.clone()));
        env.push(("PINGONE_BASE_URL", self.sim.base_url()));
        FunctionProcess::spawn(binary, &env).await
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

/// Runs every measurement; `scale` divides the sample counts.
pub async fn run_all(scale: usize) -> anyhow::Result<Results> {
    let stack = Stack::start().await?;
    let machine = json!({
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "arch": std::env::consts::ARCH,
        "binaries": std::env::var("PINGID_BIN_DIR").unwrap_or_else(|_| "target/debug".into()),
    });
    eprintln!("cold start…");
    let cold_start = cold_start(&stack, 50 / scale.min(50)).await?;
    eprintln!("warm invocations…");
    let count = 10_000 / scale;
    // The Runtime API floor does not depend on the function: measure it once for both.
    let echo = echo_floor(&stack, count).await?;
    let warm = vec![
        warm_read_all_devices(&stack, count, echo).await?,
        warm_validate_otp(&stack, count, echo).await?,
    ];
    eprintln!("sizes…");
    let sizes = sizes()?;
    eprintln!("throughput…");
    let throughput = throughput(&stack, 3_000 / scale).await?;
    Ok(Results {
        machine,
        cold_start,
        warm,
        sizes,
        throughput,
    })
}

async fn cold_start(stack: &Stack, runs: usize) -> anyhow::Result<Vec<ColdStart>> {
    let mut results = Vec::new();
    for (binary, event) in cold_start_events() {
        let (mut init, mut first) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let function = stack.spawn(binary).await?;
            let started = Instant::now();
            function.invoke(event.clone()).await?;
            init.push(function.init_duration());
            first.push(function.init_duration() + started.elapsed());
        }
        results.push(ColdStart {
            binary: binary.to_string(),
            init: Summary::of(&mut init),
            first_response: Summary::of(&mut first),
        });
    }
    Ok(results)
}

/// Latencies of `count` echo invocations: the Runtime API round trip alone.
async fn echo_floor(stack: &Stack, count: usize) -> anyhow::Result<Summary> {
    let echo = stack.spawn("baseline-echo").await?;
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        echo.invoke(json!({ "properties": {} })).await?;
        samples.push(started.elapsed());
    }
    Ok(Summary::of(&mut samples))
}

struct WarmRun {
    invoke: Summary,
    cpu_us_per_invocation: f64,
    peak_rss_kib: u64,
    rss_at_1000_kib: u64,
    rss_at_end_kib: u64,
}

/// Invokes `function` `count` times with the events `next` makes (untimed), timing each call.
async fn warm_run<F, Fut>(
    function: &FunctionProcess,
    count: usize,
    mut next: F,
) -> anyhow::Result<WarmRun>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Value>>,
{
    let pid = function.pid().context_pid()?;
    // Warm up: secret, token, connection pool.
    function.invoke(next().await?).await?;
    let cpu_before = cpu_time(pid)?;
    let mut samples = Vec::with_capacity(count);
    let mut rss_at_1000 = 0;
    for n in 1..=count {
        let event = next().await?;
        let started = Instant::now();
        function.invoke(event).await?;
        samples.push(started.elapsed());
        if n == 1000.min(count) {
            rss_at_1000 = memory_kib(pid)?.0;
        }
    }
    let cpu = cpu_time(pid)? - cpu_before;
    let (rss, peak) = memory_kib(pid)?;
    Ok(WarmRun {
        invoke: Summary::of(&mut samples),
        cpu_us_per_invocation: cpu.as_secs_f64() * 1e6 / count as f64,
        peak_rss_kib: peak,
        rss_at_1000_kib: rss_at_1000,
        rss_at_end_kib: rss,
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

fn warm(binary: &str, run: WarmRun, echo: Summary, simulator: Summary) -> Warm {
    Warm {
        binary: binary.to_string(),
        overhead_p50_ms: run.invoke.p50_ms - echo.p50_ms - simulator.p50_ms,
        overhead_p99_ms: run.invoke.p99_ms - echo.p99_ms - simulator.p99_ms,
        invoke: run.invoke,
        echo_invoke: echo,
        simulator,
        cpu_us_per_invocation: run.cpu_us_per_invocation,
        peak_rss_kib: run.peak_rss_kib,
        rss_at_1000_kib: run.rss_at_1000_kib,
        rss_at_end_kib: run.rss_at_end_kib,
    }
}

async fn warm_read_all_devices(stack: &Stack, count: usize, echo: Summary) -> anyhow::Result<Warm> {
    let binary = "read-all-devices-pingid";
    let function = stack.spawn(binary).await?;
    let event = json!({ "properties": { "userId": demo::ALICE_ID } });
    let run = warm_run(&function, count, || {
        let event = event.clone();
        async move { Ok(event) }
    })
    .await?;
    let url = format!(
        "{}/v1/environments/{}/users/{}/devices",
        stack.sim.base_url(),
        demo::ENV_ID,
        demo::ALICE_ID
    );
    let mut direct = Vec::with_capacity(count);
    for _ in 0..count {
        direct.push(timed(stack.http.get(&url).bearer_auth(&stack.token)).await?);
    }
    Ok(warm(binary, run, echo, Summary::of(&mut direct)))
}

async fn warm_validate_otp(stack: &Stack, count: usize, echo: Summary) -> anyhow::Result<Warm> {
    let binary = "validate-otp-device-authentication";
    let function = stack.spawn(binary).await?;
    let run = warm_run(&function, count, || async {
        let (id, otp) = stack.totp_authentication().await?;
        Ok(json!({ "properties": { "deviceAuthenticationId": id, "otp": otp } }))
    })
    .await?;
    let mut direct = Vec::with_capacity(count);
    for _ in 0..count {
        let (id, otp) = stack.totp_authentication().await?;
        let url = format!(
            "{}/{}/deviceAuthentications/{id}",
            stack.sim.base_url(),
            demo::ENV_ID
        );
        let check = stack
            .http
            .post(url)
            .bearer_auth(&stack.token)
            .header(
                "content-type",
                "application/vnd.pingidentity.otp.check+json",
            )
            .body(json!({ "otp": otp }).to_string());
        direct.push(timed(check).await?);
    }
    Ok(warm(binary, run, echo, Summary::of(&mut direct)))
}

/// How long the simulator takes to answer `request` directly (the body read included).
async fn timed(request: reqwest::RequestBuilder) -> anyhow::Result<Duration> {
    let started = Instant::now();
    request.send().await?.bytes().await?;
    Ok(started.elapsed())
}

fn sizes() -> anyhow::Result<Vec<Size>> {
    let dir = std::env::var("PINGID_BIN_DIR").unwrap_or_else(|_| "target/release".into());
    let scratch = std::env::temp_dir().join(format!("pingid-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let mut sizes = Vec::new();
    for (binary, _) in cold_start_events() {
        let path = std::path::Path::new(&dir).join(binary);
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
        let client = reqwest::Client::new();
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
                    let body =
                        json!({ "properties": { "deviceAuthenticationId": id, "otp": otp } });
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
