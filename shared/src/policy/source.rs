//! Where the policy document comes from: a secret (Secrets Manager, the deployment's usual
//! source), a file (local runs), or the PingID policy API of a legacy tenant.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::time::Instant;

use crate::BoxFuture;
use crate::budget::Deadline;
use crate::error::Error;
use crate::legacy::PropertiesSource;
use crate::pingid::{Operation, PingIdClient};
use crate::secrets::SecretCache;

/// Where the policy document comes from.
pub trait PolicySource: Send + Sync {
    /// The document's text as the source holds it now.
    fn text(&self) -> BoxFuture<'_, Result<Arc<str>, Error>>;
}

/// The document kept in a secret (Secrets Manager, or the local secrets file), through the
/// process's secret cache: read at most once per TTL, and served stale while the store is down.
pub struct SecretPolicy {
    secrets: Arc<SecretCache>,
    secret_id: String,
}

impl SecretPolicy {
    /// The document in secret `secret_id`.
    pub fn new(secrets: Arc<SecretCache>, secret_id: impl Into<String>) -> Self {
        Self {
            secrets,
            secret_id: secret_id.into(),
        }
    }
}

impl PolicySource for SecretPolicy {
    fn text(&self) -> BoxFuture<'_, Result<Arc<str>, Error>> {
        Box::pin(async move {
            let secret = self
                .secrets
                .get(&self.secret_id)
                .await
                .map_err(|e| Error::ConfigUnavailable(format!("the policy secret: {e}")))?;
            Ok(secret.expose().clone())
        })
    }
}

/// The document in a file, read at each evaluation so that edits apply at once (local runs:
/// `PINGID_POLICY_FILE`).
pub struct FilePolicy {
    path: std::path::PathBuf,
}

impl FilePolicy {
    /// The document in `path`.
    pub fn new(path: impl Into<std::path::PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl PolicySource for FilePolicy {
    fn text(&self) -> BoxFuture<'_, Result<Arc<str>, Error>> {
        Box::pin(async move {
            tokio::fs::read_to_string(&self.path)
                .await
                .map(Arc::from)
                .map_err(|e| {
                    Error::ConfigUnavailable(format!(
                        "cannot read {}: {}",
                        self.path.display(),
                        e.kind()
                    ))
                })
        })
    }
}

/// The policy set of a legacy tenant, read with its `pingid.properties` from the PingID policy
/// API (`readbulkauthenticationpolicy`, web policies), kept for `ttl` like a secret. PingID
/// holds no IP-to-country table: when `countries` is given (a document source whose
/// `countryIpRanges` the deployment keeps, the policy secret), its table is added, so
/// accessing-country rules can be evaluated; without it they are refused at load.
pub struct PingIdPolicy {
    properties: Arc<dyn PropertiesSource>,
    client: PingIdClient,
    ttl: Duration,
    budget: Duration,
    countries: Option<Box<dyn PolicySource>>,
    kept: Mutex<Option<(Instant, Arc<str>)>>,
    /// When the last read failed: PingID is not tried again for [`RETRY_AFTER`], so an outage
    /// costs the evaluations in between nothing (the store serves the last valid document).
    failed_at: Mutex<Option<Instant>>,
}

/// How long after a failed read of the PingID policy API the next is tried.
const RETRY_AFTER: Duration = Duration::from_secs(30);

impl PingIdPolicy {
    /// Reads with `properties` through `client`, keeping an answer `ttl`; each read has
    /// `budget`.
    pub fn new(
        properties: Arc<dyn PropertiesSource>,
        client: PingIdClient,
        ttl: Duration,
        budget: Duration,
        countries: Option<Box<dyn PolicySource>>,
    ) -> Self {
        Self {
            properties,
            client,
            ttl,
            budget,
            countries,
            kept: Mutex::new(None),
            failed_at: Mutex::new(None),
        }
    }

    fn kept(&self) -> Option<Arc<str>> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.as_ref()
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, text)| text.clone())
    }

    async fn read(&self) -> Result<Arc<str>, Error> {
        let properties = self.properties.properties().await?;
        let mut body = serde_json::Map::new();
        body.insert("authenticationSource".into(), Value::from("WEB"));
        let answer = self
            .client
            .call(
                &properties,
                Operation::ReadBulkAuthenticationPolicy,
                body,
                SystemTime::now(),
                Deadline::after(self.budget),
            )
            .await?;
        if answer.error_id != 200 {
            return Err(Error::UpstreamInvalid(format!(
                "PingID answered the policy read with errorId {}",
                answer.error_id
            )));
        }
        let mut document = answer.body;
        if let Some(countries) = &self.countries {
            let table: Value = serde_json::from_str(&countries.text().await?).map_err(|_| {
                Error::ConfigUnavailable("the country table's document is not JSON".into())
            })?;
            if let (Some(document), Some(table)) =
                (document.as_object_mut(), table.get("countryIpRanges"))
            {
                document.insert("countryIpRanges".into(), table.clone());
            }
        }
        Ok(Arc::from(document.to_string()))
    }
}

impl PolicySource for PingIdPolicy {
    fn text(&self) -> BoxFuture<'_, Result<Arc<str>, Error>> {
        Box::pin(async move {
            if let Some(text) = self.kept() {
                return Ok(text);
            }
            let mut failed_at = *self.failed_at.lock().unwrap_or_else(|p| p.into_inner());
            if failed_at.is_some_and(|at| at.elapsed() < RETRY_AFTER) {
                return Err(Error::UpstreamUnavailable(
                    "the PingID policy API failed moments ago".into(),
                ));
            }
            let text = match self.read().await {
                Ok(text) => text,
                Err(error) => {
                    failed_at = Some(Instant::now());
                    *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = failed_at;
                    return Err(error);
                }
            };
            *self.kept.lock().unwrap_or_else(|p| p.into_inner()) =
                Some((Instant::now(), text.clone()));
            Ok(text)
        })
    }
}
