//! `moto_server`: AWS APIs (Secrets Manager, DynamoDB, SQS) over real HTTP on a loopback port.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use serde_json::json;
use tokio::process::Command;

use crate::process::Supervised;

/// A client of the SDK crate `$sdk` for `endpoint` that reads nothing from the environment or
/// disk (the SDK crates have one `Config` type each, hence a macro rather than a function).
macro_rules! moto_client {
    ($sdk:ident, $endpoint:expr) => {{
        let config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            // The functions' own HTTP stack: the SDK crates bring none.
            .http_client(shared::sdk::sdk_http_client()?)
            .endpoint_url($endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                None,
                None,
                "moto",
            ))
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// The region every test uses; moto keeps separate state per region.
const REGION: &str = "us-east-1";

/// Fake credentials: moto accepts anything, and having some stops the SDK from probing the
/// instance-metadata address for real ones.
const ACCESS_KEY_ID: &str = "testing";
const SECRET_ACCESS_KEY: &str = "testing";

/// How long moto may take to answer its first request (it is usually ready in about a second).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How often readiness is polled.
const READY_POLL: Duration = Duration::from_millis(50);
/// Attempts with a fresh port, in case another process takes the chosen one first.
const START_ATTEMPTS: usize = 3;
/// Most messages one `ReceiveMessage` returns (SQS's limit, and Lambda's batch size here).
const MAX_MESSAGES_PER_RECEIVE: i32 = 10;

/// A `moto_server` to create resources in: one of its own ([`Moto::start`]: killed when dropped,
/// its state empty), or a handle on the test process's shared server ([`Moto::shared`]), whose
/// resources carry a prefix of the handle's own so that tests sharing the server never meet.
pub struct Moto {
    endpoint: String,
    secrets: aws_sdk_secretsmanager::Client,
    sqs: aws_sdk_sqs::Client,
    server: Server,
    /// Prepended to the name of every secret, table and queue created through this handle.
    prefix: String,
}

enum Server {
    Own(Box<Supervised>),
    /// The shared server, which logs to this file.
    Shared(PathBuf),
}

/// The test process's shared server: its endpoint and log, and the pipe whose closing (when the
/// test process exits, however it exits) makes the wrapper shell kill it.
struct SharedServer {
    endpoint: String,
    log: PathBuf,
    _lifeline: std::sync::Mutex<std::process::ChildStdin>,
    _wrapper: std::sync::Mutex<std::process::Child>,
}

static SHARED: tokio::sync::OnceCell<SharedServer> = tokio::sync::OnceCell::const_new();
static HANDLES: AtomicUsize = AtomicUsize::new(0);

/// Starts moto behind `sh`, which kills it once its stdin (a pipe from this process) closes: a
/// server shared by the whole test process outlives every test's runtime and must not outlive
/// the process.
async fn start_shared() -> anyhow::Result<SharedServer> {
    const WRAPPER: &str = r#"moto_server=$1; port=$2; log=$3
"$moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null &
pid=$!
read -r _line
kill "$pid"
wait "$pid"
rm -f "$log""#;
    let server = crate::venv_tool("moto_server")?;
    let mut last_error = None;
    for _ in 0..START_ATTEMPTS {
        let port = free_port()?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let log =
            std::env::temp_dir().join(format!("pingid-moto-{}-{port}.log", std::process::id()));
        let mut wrapper = std::process::Command::new("sh")
            .args(["-c", WRAPPER, "sh"])
            .arg(&server)
            .arg(port.to_string())
            .arg(&log)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting the shared moto_server")?;
        let lifeline = wrapper.stdin.take().context("the wrapper's stdin")?;
        let http = shared::http::bare_builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let started = Instant::now();
        let ready = loop {
            if let Ok(response) = http.get(format!("{endpoint}/moto-api/")).send().await
                && response.status().is_success()
            {
                break true;
            }
            if started.elapsed() > READY_TIMEOUT || wrapper.try_wait()?.is_some() {
                break false;
            }
            tokio::time::sleep(READY_POLL).await;
        };
        // Only the server's own "Running on" line proves the endpoint is ours.
        let mut ours = false;
        for _ in 0..20 {
            if ready && read_lines(&log).iter().any(|line| line.contains(&endpoint)) {
                ours = true;
                break;
            }
            tokio::time::sleep(READY_POLL).await;
        }
        if ours {
            return Ok(SharedServer {
                endpoint,
                log,
                _lifeline: std::sync::Mutex::new(lifeline),
                _wrapper: std::sync::Mutex::new(wrapper),
            });
        }
        drop(lifeline);
        let _ = wrapper.wait();
        last_error = Some(anyhow::anyhow!(
            "the shared moto_server did not start on {endpoint}\n{}",
            read_lines(&log).join("\n")
        ));
    }
    Err(last_error.unwrap_or_else(|| anyhow::anyhow!("moto_server did not start")))
}

fn read_lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// An SQS queue in moto.
#[derive(Debug, Clone)]
pub struct Queue {
    /// `QueueUrl`: what the SQS calls take.
    pub url: String,
    /// `QueueArn`: what a redrive policy and Lambda's SQS events name.
    pub arn: String,
}

/// A message as `ReceiveMessage` returned it (with every system attribute).
#[derive(Debug, Clone)]
pub struct ReceivedMessage {
    /// `MessageId`, kept when SQS moves the message to a dead-letter queue.
    pub message_id: String,
    /// `ReceiptHandle` of this receive: what `DeleteMessage` takes.
    pub receipt_handle: String,
    /// `Body`.
    pub body: String,
    /// `MD5OfBody`.
    pub md5_of_body: String,
    /// `ApproximateReceiveCount`, `SentTimestamp`, `SenderId`, …
    pub attributes: BTreeMap<String, String>,
}

impl Moto {
    /// Starts `<workspace>/.venv/bin/moto_server` on a free 127.0.0.1 port and waits until it
    /// answers HTTP.
    pub async fn start() -> anyhow::Result<Self> {
        let server = crate::venv_tool("moto_server")?;

        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let mut command = Command::new(&server);
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            let process = Supervised::spawn("moto_server", command)?;
            let endpoint = format!("http://127.0.0.1:{port}");
            match wait_until_ready(&endpoint, &process).await {
                // Another test's moto may have taken the port between `free_port` and this
                // one's bind, and answered the probe: only our server's own "Running on" line
                // proves the endpoint is ours (sharing a server breaks test isolation).
                Ok(()) if !announced(&process, &endpoint).await => {
                    last_error = Some(anyhow::anyhow!(
                        "another server answered on {endpoint}\n{}",
                        process.log_tail()
                    ));
                }
                Ok(()) => {
                    return Ok(Self {
                        secrets: moto_client!(aws_sdk_secretsmanager, &endpoint),
                        sqs: moto_client!(aws_sdk_sqs, &endpoint),
                        endpoint,
                        server: Server::Own(Box::new(process)),
                        prefix: String::new(),
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("moto_server did not start")))
    }

    /// A handle on the test process's shared server, started on first use: a server costs
    /// about a second to start, and most tests need nothing of one but their own resources,
    /// which this handle names apart from every other handle's. A test that stops the server
    /// (an AWS outage) starts its own with [`Moto::start`].
    pub async fn shared() -> anyhow::Result<Self> {
        let server = SHARED.get_or_try_init(start_shared).await?;
        let endpoint = server.endpoint.clone();
        Ok(Self {
            secrets: moto_client!(aws_sdk_secretsmanager, &endpoint),
            sqs: moto_client!(aws_sdk_sqs, &endpoint),
            endpoint,
            server: Server::Shared(server.log.clone()),
            prefix: format!("t{}-", HANDLES.fetch_add(1, Ordering::Relaxed)),
        })
    }

    /// Stops the server for good (an AWS outage, as the functions see it: connections refused).
    /// Only a server of the test's own can be stopped.
    pub async fn stop(&self) -> anyhow::Result<()> {
        match &self.server {
            Server::Own(process) => process.stop().await.context("stopping moto_server"),
            Server::Shared(_) => bail!("the shared moto_server cannot be stopped: use Moto::start"),
        }
    }

    /// Deletes `secret_id` at once, without a recovery window: the next read is refused
    /// (`ResourceNotFoundException`), as for a secret revoked by its owner.
    pub async fn delete_secret(&self, secret_id: &str) -> anyhow::Result<()> {
        self.secrets
            .delete_secret()
            .secret_id(secret_id)
            .force_delete_without_recovery(true)
            .send()
            .await
            .with_context(|| format!("deleting secret {secret_id} in moto"))?;
        Ok(())
    }

    /// The server's base URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Environment for a function process whose AWS SDK should talk to this server.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// A Secrets Manager client pointed at this server.
    pub fn secrets_client(&self) -> &aws_sdk_secretsmanager::Client {
        &self.secrets
    }

    /// Creates a secret with a string value and returns its ARN.
    pub async fn create_secret(&self, name: &str, value: &str) -> anyhow::Result<String> {
        let name = &format!("{}{name}", self.prefix);
        let created = self
            .secrets
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .with_context(|| format!("creating secret {name} in moto"))?;
        created
            .arn
            .with_context(|| format!("moto returned no ARN for secret {name}"))
    }

    /// Creates a table keyed by the string `id` (its items expire by `expiresAt`), the shape of
    /// the template's single-use and per-user limits tables, and returns its name.
    pub async fn create_id_table(&self, name: &str) -> anyhow::Result<String> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let name = &format!("{}{name}", self.prefix);
        let client = moto_client!(aws_sdk_dynamodb, &self.endpoint);
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()?,
            )
            .send()
            .await
            .with_context(|| format!("creating table {name} in moto"))?;
        Ok(name.to_string())
    }

    /// Stores a new current value for an existing secret (a rotation, as seen by readers).
    pub async fn put_secret_value(&self, secret_id: &str, value: &str) -> anyhow::Result<()> {
        self.secrets
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(value)
            .send()
            .await
            .with_context(|| format!("updating secret {secret_id} in moto"))?;
        Ok(())
    }

    /// Creates a standard SQS queue.
    pub async fn create_queue(&self, name: &str) -> anyhow::Result<Queue> {
        self.create_queue_with(name, None).await
    }

    /// Creates a standard SQS queue whose messages move to `dead_letter` once they have been
    /// received `max_receive_count` times without being deleted (its `RedrivePolicy`).
    pub async fn create_queue_with_dead_letter_queue(
        &self,
        name: &str,
        dead_letter: &Queue,
        max_receive_count: u32,
    ) -> anyhow::Result<Queue> {
        let policy = json!({
            "deadLetterTargetArn": dead_letter.arn,
            "maxReceiveCount": max_receive_count,
        });
        self.create_queue_with(name, Some(policy.to_string())).await
    }

    async fn create_queue_with(
        &self,
        name: &str,
        redrive_policy: Option<String>,
    ) -> anyhow::Result<Queue> {
        let name = &format!("{}{name}", self.prefix);
        let mut request = self.sqs.create_queue().queue_name(name);
        if let Some(policy) = redrive_policy {
            request = request.attributes(QueueAttributeName::RedrivePolicy, policy);
        }
        let created = request
            .send()
            .await
            .with_context(|| format!("creating queue {name} in moto"))?;
        let url = created
            .queue_url
            .with_context(|| format!("moto returned no URL for queue {name}"))?;
        let arn = self
            .queue_attribute(&url, QueueAttributeName::QueueArn)
            .await?;
        Ok(Queue { url, arn })
    }

    /// Sends `body` to `queue` and returns the message id.
    pub async fn send_message(&self, queue: &Queue, body: &str) -> anyhow::Result<String> {
        let sent = self
            .sqs
            .send_message()
            .queue_url(&queue.url)
            .message_body(body)
            .send()
            .await
            .with_context(|| format!("sending a message to {}", queue.url))?;
        sent.message_id.context("moto returned no message id")
    }

    /// Receives up to 10 visible messages without waiting, hiding them for
    /// `visibility_timeout` seconds (0: visible again at once, so a retry needs no sleep).
    pub async fn receive_messages(
        &self,
        queue: &Queue,
        visibility_timeout: i32,
    ) -> anyhow::Result<Vec<ReceivedMessage>> {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&queue.url)
            .max_number_of_messages(MAX_MESSAGES_PER_RECEIVE)
            .visibility_timeout(visibility_timeout)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .with_context(|| format!("receiving from {}", queue.url))?;
        received
            .messages()
            .iter()
            .map(|message| {
                let field = |value: Option<&str>, name: &str| {
                    value
                        .map(str::to_owned)
                        .with_context(|| format!("a received message has no {name}"))
                };
                Ok(ReceivedMessage {
                    message_id: field(message.message_id(), "MessageId")?,
                    receipt_handle: field(message.receipt_handle(), "ReceiptHandle")?,
                    body: field(message.body(), "Body")?,
                    md5_of_body: field(message.md5_of_body(), "MD5OfBody")?,
                    attributes: message
                        .attributes()
                        .into_iter()
                        .flatten()
                        .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
                        .collect(),
                })
            })
            .collect()
    }

    /// Deletes the message received with `receipt_handle`.
    pub async fn delete_message(&self, queue: &Queue, receipt_handle: &str) -> anyhow::Result<()> {
        self.sqs
            .delete_message()
            .queue_url(&queue.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .with_context(|| format!("deleting a message from {}", queue.url))?;
        Ok(())
    }

    /// Messages in `queue`: `(visible, in flight)` (`ApproximateNumberOfMessages`,
    /// `ApproximateNumberOfMessagesNotVisible`; exact in moto).
    pub async fn queue_depth(&self, queue: &Queue) -> anyhow::Result<(u64, u64)> {
        let count = async |name: QueueAttributeName| -> anyhow::Result<u64> {
            let value = self.queue_attribute(&queue.url, name).await?;
            value
                .parse()
                .with_context(|| format!("a message count that is not a number: {value}"))
        };
        Ok((
            count(QueueAttributeName::ApproximateNumberOfMessages).await?,
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible).await?,
        ))
    }

    async fn queue_attribute(&self, url: &str, name: QueueAttributeName) -> anyhow::Result<String> {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(name.clone())
            .send()
            .await
            .with_context(|| format!("reading {} of {url}", name.as_str()))?;
        attributes
            .attributes()
            .and_then(|all| all.get(&name))
            .cloned()
            .with_context(|| format!("moto returned no {} for {url}", name.as_str()))
    }

    /// The region moto's resources live in (the `awsRegion` of Lambda's SQS events).
    pub fn region(&self) -> &'static str {
        REGION
    }

    /// Every line moto logged so far (one per request served; the shared server's are every
    /// test's).
    pub fn logs(&self) -> Vec<String> {
        match &self.server {
            Server::Own(process) => process.logs(),
            Server::Shared(log) => read_lines(log),
        }
    }
}

/// A port that was free a moment ago. The listener is closed before moto binds the port, so a
/// race is possible; [`Moto::start`] retries with another port if it loses it.
fn free_port() -> anyhow::Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port for moto")?;
    Ok(listener.local_addr()?.port())
}

/// Whether `process` printed that it serves `endpoint` (werkzeug's "Running on" line, read
/// from its captured output, which may trail the first answer by a moment).
async fn announced(process: &Supervised, endpoint: &str) -> bool {
    for _ in 0..20 {
        if process.logs().iter().any(|line| line.contains(endpoint)) {
            return true;
        }
        tokio::time::sleep(READY_POLL).await;
    }
    false
}

/// Polls `endpoint` until moto answers, failing early if the process exits.
async fn wait_until_ready(endpoint: &str, process: &Supervised) -> anyhow::Result<()> {
    let http = shared::http::bare_builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let probe_url = format!("{endpoint}/moto-api/");
    let started = Instant::now();
    let exited = process.exited();
    tokio::pin!(exited);
    loop {
        if let Ok(response) = http.get(&probe_url).send().await
            && response.status().is_success()
        {
            return Ok(());
        }
        if started.elapsed() > READY_TIMEOUT {
            bail!(
                "moto_server did not answer on {endpoint} within {READY_TIMEOUT:?}\n{}",
                process.log_tail()
            );
        }
        tokio::select! {
            status = &mut exited => bail!(
                "moto_server exited while starting ({})\n{}",
                status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string()),
                process.log_tail()
            ),
            () = tokio::time::sleep(READY_POLL) => {}
        }
    }
}
