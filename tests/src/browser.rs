//! A real headless browser: Debian's Chromium driven by ChromeDriver over W3C WebDriver.
//!
//! [`Browser::start`] runs `chromedriver` on a free loopback port, opens a WebDriver session on a
//! headless Chromium with a fresh profile, and kills both (the whole process group) when the
//! handle drops. `make test` installs the two binaries (`make browser`); `PINGID_CHROMIUM` and
//! `PINGID_CHROMEDRIVER` override their paths.
//!
//! # Why plain HTTP calls instead of a WebDriver client crate
//!
//! WebDriver is JSON over HTTP, and the handful of commands a test needs (navigate, find, click,
//! type, read text, run a script) are one request each. `fantoccini` (the well-kept async
//! client) was measured against this workspace: with `default-features = false` (no TLS, which
//! loopback doesn't need) it still adds 21 crates to the e2e build, mostly second copies of what
//! the workspace already has in another major version (`http` 0.2, ICU 1.x via the `webdriver`
//! crate's `icu_segmenter`, two `cookie`s, `thiserror` 1). It has no WebAuthn commands either,
//! so those would be hand-written requests anyway. `reqwest` + `serde_json`, already
//! dependencies of this crate, cover everything with no new crate.
//!
//! Chromium is started with the flags this closed network needs (no background networking,
//! component updates, sync or QUIC: otherwise it keeps trying to reach Google's hosts).

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::process::Supervised;

/// Default path of Debian's `chromium` (a launcher script for `/usr/lib/chromium/chromium`).
const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
/// Default path of Debian's `chromedriver` (package `chromium-driver`).
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long ChromeDriver may take to report ready on `/status`.
const DRIVER_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often readiness, and [`Browser::wait_for`], poll.
const POLL: Duration = Duration::from_millis(50);
/// Attempts with a fresh port, in case another process takes the chosen one first.
const START_ATTEMPTS: usize = 3;
/// How long [`Browser::wait_for`] waits for a selector.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound for one WebDriver command over HTTP (session creation starts Chromium).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// Page load and script timeouts of the session, in milliseconds.
const PAGE_LOAD_TIMEOUT_MS: u64 = 30_000;
/// How many characters of the page's text a [`Browser::wait_for`] error quotes.
const TEXT_EXCERPT_CHARS: usize = 600;

/// What ChromeDriver prints once it listens on its port.
const STARTED_LINE: &str = "started successfully";

/// The W3C key under which a found element's reference is returned.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Chromium's command line: headless, and quiet on a network that only reaches loopback.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,800",
];

/// A headless Chromium session. Dropping it kills ChromeDriver and Chromium and removes the
/// temporary profile.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:<port>/session/<id>`: every command's URL starts with it.
    session_url: String,
    /// Declared last: dropped (and the processes killed) after everything that talks to them.
    driver: Driver,
}

impl Browser {
    /// Starts ChromeDriver on a free 127.0.0.1 port and opens a session on a headless Chromium
    /// with a new, empty `--user-data-dir`.
    pub async fn start() -> anyhow::Result<Self> {
        let chromium = binary("PINGID_CHROMIUM", DEFAULT_CHROMIUM)?;
        let chromedriver = binary("PINGID_CHROMEDRIVER", DEFAULT_CHROMEDRIVER)?;
        let http = shared::http::bare_builder()
            .timeout(COMMAND_TIMEOUT)
            // Never a proxy from the environment: the driver is on loopback.
            .no_proxy()
            .build()?;

        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let driver = Driver::spawn(&chromedriver)?;
            if let Err(error) = driver.wait_until_ready(&http).await {
                last_error = Some(error);
                continue;
            }
            let session_id = new_session(&http, &driver, &chromium).await?;
            let session_url = format!("{}/session/{session_id}", driver.url);
            return Ok(Self {
                http,
                session_url,
                driver,
            });
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("chromedriver did not start")))
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.command("POST", "/url", Some(json!({ "url": url })))
            .await
            .with_context(|| format!("navigating to {url}"))?;
        Ok(())
    }

    /// Clicks the first element matching the CSS selector `css`.
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await
        .with_context(|| format!("clicking {css:?}"))?;
        Ok(())
    }

    /// Replaces the value of the input matching `css` with `text`, as if typed.
    pub async fn fill(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let element = self.find(css).await?;
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await
        .with_context(|| format!("clearing {css:?}"))?;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await
        .with_context(|| format!("typing into {css:?}"))?;
        Ok(())
    }

    /// The rendered text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let element = self.find(css).await?;
        let value = self
            .command("GET", &format!("/element/{element}/text"), None)
            .await
            .with_context(|| format!("reading the text of {css:?}"))?;
        as_string(value, "element text")
    }

    /// Waits until an element matches `css`, polling for up to [`WAIT_TIMEOUT`]. The error names
    /// the selector, the page's URL and the start of its text.
    pub async fn wait_for(&self, css: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if self.try_find(css).await?.is_some() {
                return Ok(());
            }
            if started.elapsed() > WAIT_TIMEOUT {
                let url = self
                    .current_url()
                    .await
                    .unwrap_or_else(|e| format!("<unknown: {e:#}>"));
                let text = self
                    .body_text()
                    .await
                    .unwrap_or_else(|e| format!("<unknown: {e:#}>"));
                let excerpt: String = text.chars().take(TEXT_EXCERPT_CHARS).collect();
                let more = if excerpt.len() < text.len() {
                    " …"
                } else {
                    ""
                };
                bail!(
                    "no element matched {css:?} within {WAIT_TIMEOUT:?}\n  at {url}\n  page text: {excerpt:?}{more}"
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The URL of the current page.
    pub async fn current_url(&self) -> anyhow::Result<String> {
        let value = self.command("GET", "/url", None).await?;
        as_string(value, "current URL")
    }

    /// The current page's DOM, serialized as HTML.
    pub async fn page_source(&self) -> anyhow::Result<String> {
        let value = self.command("GET", "/source", None).await?;
        as_string(value, "page source")
    }

    /// Runs `script` in the page as an async function body: `arguments` are `args` followed
    /// by the callback the script calls with its result, which is returned (W3C "Execute Async
    /// Script"). For ceremonies a page would run itself, such as `navigator.credentials.get`.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        self.command(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
        .await
        .context("running an async script")
    }

    /// Adds a CTAP2 virtual authenticator (WebAuthn WebDriver extension) that holds resident
    /// keys and verifies the user, so pages can run `navigator.credentials.create/get` without a
    /// person. Returns its id.
    pub async fn add_virtual_authenticator(&self) -> anyhow::Result<String> {
        let options = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserConsenting": true,
            "isUserVerified": true,
        });
        let value = self
            .command("POST", "/webauthn/authenticator", Some(options))
            .await
            .context("adding a virtual authenticator")?;
        as_string(value, "authenticator id")
    }

    /// The credentials stored in the virtual authenticator `authenticator_id` (each a JSON
    /// object with `credentialId`, `isResidentCredential`, `rpId`, `userHandle`, `signCount`, …).
    pub async fn credentials(&self, authenticator_id: &str) -> anyhow::Result<Vec<Value>> {
        let value = self
            .command(
                "GET",
                &format!("/webauthn/authenticator/{authenticator_id}/credentials"),
                None,
            )
            .await
            .with_context(|| format!("listing credentials of authenticator {authenticator_id}"))?;
        match value {
            Value::Array(credentials) => Ok(credentials),
            other => bail!("expected a list of credentials, got {other}"),
        }
    }

    /// Everything ChromeDriver logged so far.
    pub fn driver_logs(&self) -> Vec<String> {
        self.driver.process.logs()
    }

    /// `document.body.innerText`, or "" before there is a body.
    async fn body_text(&self) -> anyhow::Result<String> {
        let script = "return document.body ? document.body.innerText : '';";
        let value = self
            .command(
                "POST",
                "/execute/sync",
                Some(json!({ "script": script, "args": [] })),
            )
            .await?;
        as_string(value, "page text")
    }

    /// The reference of the first element matching `css`; an error if there is none.
    async fn find(&self, css: &str) -> anyhow::Result<String> {
        match self.try_find(css).await? {
            Some(element) => Ok(element),
            None => {
                let url = self.current_url().await.unwrap_or_default();
                bail!("no element matches {css:?} at {url}")
            }
        }
    }

    /// The reference of the first element matching `css`, `None` if there is none.
    async fn try_find(&self, css: &str) -> anyhow::Result<Option<String>> {
        let body = json!({ "using": "css selector", "value": css });
        match self.send("POST", "/element", Some(body)).await? {
            Ok(value) => {
                let element = value
                    .get(ELEMENT_KEY)
                    .and_then(Value::as_str)
                    .with_context(|| format!("no element reference in {value}"))?;
                Ok(Some(element.to_owned()))
            }
            Err(error) if error.code == "no such element" => Ok(None),
            // The page was being replaced (a form post landing) while ChromeDriver looked: there
            // is no element yet, and `wait_for` looks again on the new page.
            Err(error) if error.code == "aborted by navigation" => Ok(None),
            Err(error) => Err(anyhow::anyhow!(error)).with_context(|| format!("finding {css:?}")),
        }
    }

    /// Sends a session command and returns its `value`, turning a WebDriver error into an error.
    async fn command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        Ok(self.send(method, path, body).await??)
    }

    /// Sends a session command: `Ok(Ok(value))` on success, `Ok(Err(_))` for a WebDriver error,
    /// `Err` when ChromeDriver could not be reached or answered nonsense.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Result<Value, WebDriverError>> {
        let url = format!("{}{path}", self.session_url);
        let method = reqwest::Method::from_bytes(method.as_bytes())?;
        call(&self.http, method, &url, body)
            .await
            .with_context(|| format!("chromedriver:\n{}", self.driver.process.log_tail()))
    }
}

/// A running ChromeDriver in its own process group, with the profile directory its Chromium
/// uses. Dropping it kills the group (ChromeDriver, Chromium and its helpers) and removes the
/// profile.
struct Driver {
    /// `http://127.0.0.1:<port>`.
    url: String,
    process: Supervised,
    profile: PathBuf,
}

impl Driver {
    /// Spawns `chromedriver` on a port that was free a moment ago.
    fn spawn(chromedriver: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let profile =
            std::env::temp_dir().join(format!("pingid-chromium-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&profile)
            .with_context(|| format!("creating the profile directory {}", profile.display()))?;
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            // Its own process group, so that Drop can kill Chromium with it.
            .process_group(0);
        let process = Supervised::spawn("chromedriver", command);
        let process = match process {
            Ok(process) => process,
            Err(error) => {
                let _ = std::fs::remove_dir_all(&profile);
                return Err(error);
            }
        };
        Ok(Self {
            url: format!("http://127.0.0.1:{port}"),
            process,
            profile,
        })
    }

    /// Polls `/status` until ChromeDriver says it is ready, failing early if it exits.
    ///
    /// Also waits for its "started successfully" line: a ChromeDriver that lost the port race
    /// exits, and `/status` would then be answered by whichever process holds the port.
    async fn wait_until_ready(&self, http: &reqwest::Client) -> anyhow::Result<()> {
        let status_url = format!("{}/status", self.url);
        let started = Instant::now();
        let exited = self.process.exited();
        tokio::pin!(exited);
        loop {
            if let Ok(response) = http
                .get(&status_url)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                && let Ok(status) = response.json::<Value>().await
                && status["value"]["ready"] == json!(true)
                && self
                    .process
                    .logs()
                    .iter()
                    .any(|line| line.contains(STARTED_LINE))
            {
                return Ok(());
            }
            if started.elapsed() > DRIVER_READY_TIMEOUT {
                bail!(
                    "chromedriver was not ready on {} within {DRIVER_READY_TIMEOUT:?}\n{}",
                    self.url,
                    self.process.log_tail()
                );
            }
            tokio::select! {
                status = &mut exited => bail!(
                    "chromedriver exited while starting ({})\n{}",
                    status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                    self.process.log_tail()
                ),
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(pid) = self.process.pid()
            && let Ok(pid) = libc::pid_t::try_from(pid)
        {
            // SAFETY: kill(2) has no memory-safety preconditions. The negative pid addresses the
            // process group this handle created (ChromeDriver is its leader and, being an
            // unreaped child until `Supervised` drops, keeps the id from being reused).
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        // Chromium may still be writing while it dies: retry briefly, then give up (a leftover
        // profile in the temp directory is harmless).
        for _ in 0..5 {
            if std::fs::remove_dir_all(&self.profile).is_ok() || !self.profile.exists() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Opens a WebDriver session on a headless Chromium and returns its id.
async fn new_session(
    http: &reqwest::Client,
    driver: &Driver,
    chromium: &Path,
) -> anyhow::Result<String> {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|&arg| arg.to_owned()).collect();
    args.push(format!("--user-data-dir={}", driver.profile.display()));
    let capabilities = json!({
        "capabilities": {
            "alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": "normal",
                "timeouts": {
                    "implicit": 0,
                    "pageLoad": PAGE_LOAD_TIMEOUT_MS,
                    "script": PAGE_LOAD_TIMEOUT_MS,
                },
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": args,
                },
            }
        }
    });
    let url = format!("{}/session", driver.url);
    let value = call(http, reqwest::Method::POST, &url, Some(capabilities))
        .await?
        .map_err(anyhow::Error::from)
        .with_context(|| {
            format!(
                "starting headless {} through chromedriver\n{}",
                chromium.display(),
                driver.process.log_tail()
            )
        })?;
    value["sessionId"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no sessionId in chromedriver's answer {value}"))
}

/// One WebDriver request. The outer error is transport or protocol trouble; the inner one is an
/// error WebDriver reported (`{"value": {"error": …, "message": …}}`).
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> anyhow::Result<Result<Value, WebDriverError>> {
    let mut request = http.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{method} {url}"))?;
    let status = response.status();
    let mut answer: Value = response
        .json()
        .await
        .with_context(|| format!("{method} {url}: answer ({status}) is not JSON"))?;
    let value = answer
        .get_mut("value")
        .map(Value::take)
        .with_context(|| format!("{method} {url}: no \"value\" in the answer {answer}"))?;
    if status.is_success() {
        return Ok(Ok(value));
    }
    let field = |name: &str| value[name].as_str().unwrap_or_default().to_owned();
    Ok(Err(WebDriverError {
        code: field("error"),
        message: field("message"),
        request: format!("{method} {url}"),
    }))
}

/// An error reported by ChromeDriver (<https://www.w3.org/TR/webdriver/#errors>).
#[derive(Debug)]
struct WebDriverError {
    /// The W3C error code, e.g. `no such element`.
    code: String,
    message: String,
    /// Method and URL of the failed request.
    request: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}: {}", self.request, self.code, self.message)
    }
}

impl std::error::Error for WebDriverError {}

/// The path in `$var`, or `default`; an error telling how to install it if it is missing.
fn binary(var: &str, default: &str) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    if !path.is_file() {
        bail!(
            "{} does not exist (set {var} to override): run `make test`, it installs chromium \
             and chromium-driver (or `make browser` for just those)",
            path.display()
        );
    }
    Ok(path)
}

/// A WebDriver `value` that should be a string.
fn as_string(value: Value, what: &str) -> anyhow::Result<String> {
    match value {
        Value::String(text) => Ok(text),
        other => bail!("expected the {what} as a string, got {other}"),
    }
}

/// A port that was free a moment ago; [`Browser::start`] retries if another process takes it.
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("finding a free port for chromedriver")?;
    Ok(listener.local_addr()?.port())
}
