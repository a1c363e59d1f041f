//! Secrets (handbook §4.2): where they come from, how long we keep them, and how they stay out
//! of logs.
//!
//! - [`Secret`] wraps every secret value; its `Debug` prints `[redacted]` and it has no
//!   `Display`, so a secret cannot reach a log line or an error body by accident.
//! - [`SecretSource`] is the port: [`SecretsManager`] in AWS, [`SecretsFile`] for local runs.
//! - [`SecretCache`] keeps values for a TTL (≤ 300 s), never caches a failure, and can be told
//!   to re-read one secret (after PingOne rejected the credentials it holds: rotation).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::BoxFuture;
use crate::clock::{Clock, SystemClock};

/// The longest a secret value is served from memory before it is read again.
pub const MAX_TTL: Duration = Duration::from_secs(300);

/// A secret value. `Debug` is redacted and there is no `Display`: call [`Secret::expose`] at the
/// one place the value is really needed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a secret value.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself; keep the borrow short and never log it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

/// Inputs such as OTPs arrive as secrets and stay wrapped from the first byte.
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Secret)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Why a secret could not be read. Messages name the secret id, never its value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// The secret does not exist (or we may not read it).
    #[error("secret {0:?} was not found or is not readable")]
    NotFound(String),
    /// The store answered and refused it (access denied, its key would not decrypt, the secret
    /// scheduled for deletion): revoked for us, so no earlier value of it is served either.
    #[error("secret store refused {id:?}: {reason}")]
    Refused {
        /// The secret id.
        id: String,
        /// AWS's error code and HTTP status (no message).
        reason: String,
    },
    /// The store could not be reached or failed.
    #[error("secret store unavailable while reading {id:?}: {reason}")]
    Unavailable {
        /// The secret id.
        id: String,
        /// A short reason (no value).
        reason: String,
    },
}

/// Where secrets come from (the port).
pub trait SecretSource: Send + Sync {
    /// Reads the current value of secret `id`.
    fn fetch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>>;
}

/// AWS Secrets Manager.
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    /// A source over the SDK client (built once, at init).
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

impl SecretSource for SecretsManager {
    fn fetch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>> {
        Box::pin(async move {
            use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
            let output = self
                .client
                .get_secret_value()
                .secret_id(id)
                // Explicit stage: after a rotation moto (and caches in front of AWS) may
                // otherwise answer with the previous version.
                .version_stage("AWSCURRENT")
                .send()
                .await
                .map_err(|error| match error.as_service_error() {
                    Some(GetSecretValueError::ResourceNotFoundException(_)) => {
                        SecretError::NotFound(id.to_string())
                    }
                    _ if crate::sdk::is_transient(&error) => SecretError::Unavailable {
                        id: id.to_string(),
                        reason: crate::sdk::failure(&error),
                    },
                    _ => SecretError::Refused {
                        id: id.to_string(),
                        reason: crate::sdk::failure(&error),
                    },
                })?;
            output
                .secret_string
                .map(Secret::new)
                .ok_or_else(|| SecretError::Unavailable {
                    id: id.to_string(),
                    reason: "the secret has no string value".to_string(),
                })
        })
    }
}

/// A local JSON file `{ "<secret id>": <value> }` standing in for Secrets Manager
/// (`PINGID_SECRETS_FILE`). A value that is a JSON object is handed out as its JSON text, as
/// Secrets Manager hands out a key/value secret.
pub struct SecretsFile {
    path: PathBuf,
}

impl SecretsFile {
    /// A source reading `path` (read on every fetch, so edits apply after the cache TTL).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl SecretSource for SecretsFile {
    fn fetch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>> {
        Box::pin(async move {
            let unavailable = |reason: String| SecretError::Unavailable {
                id: id.to_string(),
                reason,
            };
            let text = tokio::fs::read_to_string(&self.path).await.map_err(|e| {
                unavailable(format!("cannot read {}: {}", self.path.display(), e.kind()))
            })?;
            let mut secrets: HashMap<String, serde_json::Value> = serde_json::from_str(&text)
                .map_err(|e| {
                    // serde's message names a line and column, never the content.
                    unavailable(format!("{} is not a JSON object: {e}", self.path.display()))
                })?;
            match secrets.remove(id) {
                Some(serde_json::Value::String(value)) => Ok(Secret::new(value)),
                Some(value) => Ok(Secret::new(value.to_string())),
                None => Err(SecretError::NotFound(id.to_string())),
            }
        })
    }
}

/// How long past its TTL the last good value of a secret is served while the store cannot be
/// reached (the default of `PINGID_SECRET_STALE_SECONDS`).
pub const DEFAULT_STALE_LIMIT: Duration = Duration::from_secs(3600);

/// While a stale value is served, how often the store is tried again: the calls in between are
/// not made to wait for an outage's timeouts and retries.
const RETRY_EVERY: Duration = Duration::from_secs(30);

struct Cached {
    value: Secret<Arc<str>>,
    fetched_at: Instant,
    /// Set while the value is stale and the store down: the next attempt is not before then.
    retry_at: Option<Instant>,
}

/// Secrets kept in memory for a TTL, shared by every invocation of the process.
///
/// Stale but safe: when the store cannot be reached, throttles or fails on its side, the last
/// good value is served for up to the stale limit past its TTL, with a warning at each refresh
/// attempt, so a Secrets Manager outage does not become an outage of MFA. When the store
/// answers with a refusal (the secret revoked, deleted, its key denied), nothing is served.
pub struct SecretCache {
    source: Box<dyn SecretSource>,
    ttl: Duration,
    stale_limit: Duration,
    entries: Mutex<HashMap<String, Cached>>,
    clock: Arc<dyn Clock>,
    // One lock per secret: a burst of cold calls reads each secret once, and a slow read of one
    // secret holds up no call that needs another.
    fetching: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SecretCache {
    /// A cache over `source`; `ttl` is capped at [`MAX_TTL`].
    pub fn new(source: Box<dyn SecretSource>, ttl: Duration) -> Self {
        Self::with_clock(source, ttl, Arc::new(SystemClock))
    }

    /// Like [`SecretCache::new`], on `clock`.
    pub fn with_clock(source: Box<dyn SecretSource>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            source,
            ttl: ttl.min(MAX_TTL),
            stale_limit: DEFAULT_STALE_LIMIT,
            entries: Mutex::new(HashMap::new()),
            clock,
            fetching: Mutex::new(HashMap::new()),
        }
    }

    /// The same cache serving a value at most `limit` past its TTL while the store is down
    /// (zero: never).
    pub fn with_stale_limit(mut self, limit: Duration) -> Self {
        self.stale_limit = limit;
        self
    }

    /// The value of `id`, from memory while fresh, else from the source.
    pub async fn get(&self, id: &str) -> Result<Secret<Arc<str>>, SecretError> {
        if let Some(value) = self.servable(id) {
            return Ok(value);
        }
        let lock = self.lock_of(id);
        let _only_one_fetch = lock.lock().await;
        if let Some(value) = self.servable(id) {
            return Ok(value);
        }
        self.fetch_and_store(id).await
    }

    /// Reads `id` from the source now, whatever the cache holds (used once after PingOne
    /// rejected the credentials: the secret may have been rotated).
    pub async fn refresh(&self, id: &str) -> Result<Secret<Arc<str>>, SecretError> {
        let lock = self.lock_of(id);
        let _only_one_fetch = lock.lock().await;
        self.fetch_and_store(id).await
    }

    fn lock_of(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self
            .fetching
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        locks.entry(id.to_string()).or_default().clone()
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cached>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached value when it may be served without asking the store: fresh, or stale while
    /// the store is down and not yet due to be tried again.
    fn servable(&self, id: &str) -> Option<Secret<Arc<str>>> {
        let now = self.clock.now();
        let entries = self.entries();
        let cached = entries.get(id)?;
        let age = now.duration_since(cached.fetched_at);
        let waiting = cached.retry_at.is_some_and(|retry_at| now < retry_at);
        (age < self.ttl || (waiting && age < self.ttl + self.stale_limit))
            .then(|| cached.value.clone())
    }

    async fn fetch_and_store(&self, id: &str) -> Result<Secret<Arc<str>>, SecretError> {
        let fetched = self.source.fetch(id).await;
        let now = self.clock.now();
        let mut entries = self.entries();
        match fetched {
            Ok(value) => {
                let value = Secret::new(Arc::<str>::from(value.expose().as_str()));
                let cached = Cached {
                    value: value.clone(),
                    fetched_at: now,
                    retry_at: None,
                };
                entries.insert(id.to_string(), cached);
                Ok(value)
            }
            Err(error @ SecretError::Unavailable { .. }) => {
                let stale = entries.get_mut(id).filter(|cached| {
                    now.duration_since(cached.fetched_at) < self.ttl + self.stale_limit
                });
                let Some(cached) = stale else {
                    return Err(error);
                };
                cached.retry_at = Some(now + RETRY_EVERY);
                tracing::warn!(
                    secret = id,
                    error = %error,
                    age_seconds = now.duration_since(cached.fetched_at).as_secs(),
                    "the secret store is unavailable: serving the last good value"
                );
                Ok(cached.value.clone())
            }
            // Revoked or gone: what was read before must not be served any more.
            Err(error) => {
                entries.remove(id);
                Err(error)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A source that counts reads and can be told to fail.
    struct Counting {
        reads: Arc<AtomicUsize>,
        fail: Arc<std::sync::atomic::AtomicBool>,
    }

    impl SecretSource for Counting {
        fn fetch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>> {
            Box::pin(async move {
                let n = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
                if self.fail.load(Ordering::SeqCst) {
                    return Err(SecretError::Unavailable {
                        id: id.into(),
                        reason: "down".into(),
                    });
                }
                Ok(Secret::new(format!("value-{n}")))
            })
        }
    }

    /// A cache over a counting source, with the source's switches and the cache's clock.
    type Fixture = (
        SecretCache,
        Arc<AtomicUsize>,
        Arc<std::sync::atomic::AtomicBool>,
        Arc<ManualClock>,
    );

    fn cache(ttl: Duration) -> Fixture {
        let reads = Arc::new(AtomicUsize::new(0));
        let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let source = Counting {
            reads: reads.clone(),
            fail: fail.clone(),
        };
        let clock = ManualClock::new();
        let cache = SecretCache::with_clock(Box::new(source), ttl, clock.clone());
        (cache, reads, fail, clock)
    }

    #[test]
    fn debug_output_never_shows_the_value() {
        let secret = Secret::new("hunter2".to_string());
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert!(!format!("{:?}", Some(&secret)).contains("hunter2"));
    }

    #[tokio::test]
    async fn values_are_served_from_memory_until_the_ttl_passes() {
        let (cache, reads, _, clock) = cache(Duration::from_secs(60));
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "value-1");
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "value-1");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(61));
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "value-2");
    }

    #[tokio::test]
    async fn the_ttl_is_capped_at_five_minutes() {
        let (cache, reads, _, clock) = cache(Duration::from_secs(3600));
        cache.get("s").await.unwrap();
        clock.advance(MAX_TTL + Duration::from_secs(1));
        cache.get("s").await.unwrap();
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn failures_are_never_cached() {
        let (cache, reads, fail, _) = cache(Duration::from_secs(60));
        fail.store(true, Ordering::SeqCst);
        assert!(cache.get("s").await.is_err());
        fail.store(false, Ordering::SeqCst);
        assert!(cache.get("s").await.is_ok());
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn refresh_reads_the_source_again() {
        let (cache, _, _, _) = cache(Duration::from_secs(60));
        cache.get("s").await.unwrap();
        assert_eq!(&**cache.refresh("s").await.unwrap().expose(), "value-2");
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "value-2");
    }

    #[tokio::test]
    async fn concurrent_cold_reads_fetch_once() {
        let (cache, reads, _, _) = cache(Duration::from_secs(60));
        let cache = Arc::new(cache);
        let calls = (0..50).map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get("s").await.map(|_| ()) })
        });
        for call in calls.collect::<Vec<_>>() {
            call.await.unwrap().unwrap();
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn while_the_store_is_down_the_last_good_value_is_served_for_the_stale_limit() {
        let (cache, reads, fail, clock) = cache(Duration::from_secs(60));
        let cache = cache.with_stale_limit(Duration::from_secs(3600));
        cache.get("s").await.unwrap();
        fail.store(true, Ordering::SeqCst);
        clock.advance(Duration::from_secs(61));
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "value-1");
        assert_eq!(reads.load(Ordering::SeqCst), 2, "one refresh attempt");
        // The calls right after do not wait for the store again...
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "value-1");
        assert_eq!(reads.load(Ordering::SeqCst), 2);
        // ...until the retry interval has passed.
        clock.advance(RETRY_EVERY);
        assert!(cache.get("s").await.is_ok());
        assert_eq!(reads.load(Ordering::SeqCst), 3);
        // Past the stale limit nothing is served.
        clock.advance(Duration::from_secs(3600));
        assert!(matches!(
            cache.get("s").await,
            Err(SecretError::Unavailable { .. })
        ));
        // And the store back up serves the new value at once.
        fail.store(false, Ordering::SeqCst);
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "value-5");
    }

    /// A source that answers from a script, one answer per read.
    struct Scripted(Mutex<std::collections::VecDeque<Result<&'static str, SecretError>>>);

    impl SecretSource for Scripted {
        fn fetch<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>> {
            let next = self
                .0
                .lock()
                .unwrap()
                .pop_front()
                .expect("a scripted answer");
            Box::pin(async move { next.map(|value| Secret::new(value.to_string())) })
        }
    }

    #[tokio::test]
    async fn a_revoked_secret_is_never_served_from_memory() {
        let refused = SecretError::Refused {
            id: "s".into(),
            reason: "AccessDeniedException (HTTP 400)".into(),
        };
        let source = Scripted(Mutex::new(
            [Ok("v1"), Err(refused), Ok("v2")].into_iter().collect(),
        ));
        let clock = ManualClock::new();
        let cache =
            SecretCache::with_clock(Box::new(source), Duration::from_secs(60), clock.clone());
        cache.get("s").await.unwrap();
        clock.advance(Duration::from_secs(61));
        assert!(matches!(
            cache.get("s").await,
            Err(SecretError::Refused { .. })
        ));
        // Nothing of it is kept: the next call reads the store again.
        assert_eq!(&**cache.get("s").await.unwrap().expose(), "v2");
    }

    /// A source whose reads of "slow" wait until released.
    struct Gated(Arc<tokio::sync::Notify>);

    impl SecretSource for Gated {
        fn fetch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>> {
            Box::pin(async move {
                if id == "slow" {
                    self.0.notified().await;
                }
                Ok(Secret::new(format!("{id}-value")))
            })
        }
    }

    #[tokio::test]
    async fn a_slow_read_of_one_secret_holds_up_no_other() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let cache = Arc::new(SecretCache::new(
            Box::new(Gated(gate.clone())),
            Duration::from_secs(60),
        ));
        let slow = tokio::spawn({
            let cache = cache.clone();
            async move { cache.get("slow").await.map(|_| ()) }
        });
        tokio::task::yield_now().await;
        let other = tokio::time::timeout(Duration::from_secs(1), cache.get("fast")).await;
        assert_eq!(
            &**other.expect("not held up").unwrap().expose(),
            "fast-value"
        );
        gate.notify_one();
        slow.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn the_secrets_file_serves_strings_and_objects() {
        let dir = std::env::temp_dir().join(format!("secrets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("secrets.json");
        std::fs::write(&path, r#"{"text": "a=b", "object": {"clientId": "x"}}"#).unwrap();
        let file = SecretsFile::new(&path);
        assert_eq!(file.fetch("text").await.unwrap().expose(), "a=b");
        assert_eq!(
            file.fetch("object").await.unwrap().expose(),
            r#"{"clientId":"x"}"#
        );
        assert!(matches!(
            file.fetch("missing").await,
            Err(SecretError::NotFound(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
