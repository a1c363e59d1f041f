//! `moto_server`: AWS APIs (Secrets Manager, …) over real HTTP on a loopback port.

use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use tokio::process::Command;

use crate::process::Supervised;

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

/// A running `moto_server`, killed when dropped. Each instance has its own empty state.
pub struct Moto {
    endpoint: String,
    secrets: aws_sdk_secretsmanager::Client,
    process: Supervised,
}

impl Moto {
    /// Starts `<workspace>/.venv/bin/moto_server` on a free 127.0.0.1 port and waits until it
    /// answers HTTP.
    pub async fn start() -> anyhow::Result<Self> {
        let server = crate::workspace_root().join(".venv/bin/moto_server");
        if !server.is_file() {
            bail!(
                "{} does not exist: run `make test` (it creates .venv with moto)",
                server.display()
            );
        }

        let mut last_error = None;
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let mut command = Command::new(&server);
            command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            let process = Supervised::spawn("moto_server", command)?;
            let endpoint = format!("http://127.0.0.1:{port}");
            match wait_until_ready(&endpoint, &process).await {
                Ok(()) => {
                    let secrets = secrets_client(&endpoint);
                    return Ok(Self {
                        endpoint,
                        secrets,
                        process,
                    });
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("moto_server did not start")))
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

    /// Creates the legacy connector's single-use table (`id` key, `expiresAt` TTL), as the SAM
    /// template does, and returns its name.
    pub async fn create_used_once_table(&self, name: &str) -> anyhow::Result<String> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let client = dynamodb_client(&self.endpoint);
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

    /// Every line moto logged so far (one per request served).
    pub fn logs(&self) -> Vec<String> {
        self.process.logs()
    }
}

/// A port that was free a moment ago. The listener is closed before moto binds the port, so a
/// race is possible; [`Moto::start`] retries with another port if it loses it.
fn free_port() -> anyhow::Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port for moto")?;
    Ok(listener.local_addr()?.port())
}

/// Polls `endpoint` until moto answers, failing early if the process exits.
async fn wait_until_ready(endpoint: &str, process: &Supervised) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
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

/// A Secrets Manager client for `endpoint` that reads nothing from the environment or disk.
fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "moto",
        ))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "moto",
        ))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
