//! Worker-app access tokens, cached per connection and refreshed before they expire.
//!
//! A token is reused until 60 s before its `expires_in` (so no call leaves with a token that
//! dies in flight). Refresh is single-flight: when many calls find the token stale at once,
//! one of them asks PingOne and the others wait for its answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::secrets::Secret;

/// How long before expiry a token counts as stale.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// Which cache slot a token belongs to: one per environment and worker app.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey {
    /// Where the token was issued (auth host base).
    pub auth_base: String,
    /// The environment id.
    pub env_id: String,
    /// The worker app's client id.
    pub client_id: String,
}

/// A token PingOne issued and how long it lives.
#[derive(Debug)]
pub struct IssuedToken {
    /// The bearer token.
    pub access_token: Secret<String>,
    /// Its `expires_in`.
    pub lifetime: Duration,
}

#[derive(Clone)]
struct Cached {
    token: Secret<Arc<str>>,
    stale_at: Instant,
}

#[derive(Default)]
struct Slot {
    current: RwLock<Option<Cached>>,
    refreshing: tokio::sync::Mutex<()>,
}

impl Slot {
    fn fresh(&self, now: Instant) -> Option<Secret<Arc<str>>> {
        let current = self.current.read().unwrap_or_else(|p| p.into_inner());
        current
            .as_ref()
            .filter(|cached| now < cached.stale_at)
            .map(|cached| cached.token.clone())
    }
}

/// Access tokens of every connection this process talks to.
pub struct TokenCache {
    slots: Mutex<HashMap<TokenKey, Arc<Slot>>>,
    clock: Arc<dyn Clock>,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }
}

impl TokenCache {
    /// An empty cache on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty cache on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn slot(&self, key: &TokenKey) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(key.clone()).or_default().clone()
    }

    /// The cached token for `key`, or a new one from `issue` (called by at most one caller
    /// at a time per key; the others wait and share its result).
    pub async fn get<F, Fut, E>(&self, key: &TokenKey, issue: F) -> Result<Secret<Arc<str>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IssuedToken, E>>,
    {
        let slot = self.slot(key);
        if let Some(token) = slot.fresh(self.clock.now()) {
            return Ok(token);
        }
        let _single_flight = slot.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed it already.
        if let Some(token) = slot.fresh(self.clock.now()) {
            return Ok(token);
        }
        let issued = issue().await?;
        // Short-lived tokens (custom resources allow 300 s) keep at least half their life.
        let margin = REFRESH_MARGIN.min(issued.lifetime / 2);
        let cached = Cached {
            token: Secret::new(Arc::from(issued.access_token.expose().as_str())),
            stale_at: self.clock.now() + issued.lifetime - margin,
        };
        let token = cached.token.clone();
        *slot.current.write().unwrap_or_else(|p| p.into_inner()) = Some(cached);
        Ok(token)
    }

    /// Forgets `token` if it is still the cached one for `key` (PingOne refused it). A newer
    /// token another call already fetched is kept.
    pub fn invalidate(&self, key: &TokenKey, token: &Secret<Arc<str>>) {
        let slot = self.slot(key);
        let mut current = slot.current.write().unwrap_or_else(|p| p.into_inner());
        if current
            .as_ref()
            .is_some_and(|cached| cached.token == *token)
        {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::error::Error;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key() -> TokenKey {
        TokenKey {
            auth_base: "http://sim".into(),
            env_id: "env".into(),
            client_id: "worker".into(),
        }
    }

    async fn issue(counter: &AtomicUsize, lifetime: Duration) -> Result<IssuedToken, Error> {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        // Let every other caller run (and queue behind the refresh) before answering.
        tokio::task::yield_now().await;
        Ok(IssuedToken {
            access_token: Secret::new(format!("token-{n}")),
            lifetime,
        })
    }

    #[tokio::test]
    async fn a_hundred_concurrent_cold_calls_make_exactly_one_token_request() {
        let cache = Arc::new(TokenCache::new());
        let requests = Arc::new(AtomicUsize::new(0));
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let (cache, requests) = (cache.clone(), requests.clone());
                tokio::spawn(async move {
                    let lifetime = Duration::from_secs(3600);
                    cache.get(&key(), || issue(&requests, lifetime)).await
                })
            })
            .collect();
        for call in calls {
            assert_eq!(&**call.await.unwrap().unwrap().expose(), "token-1");
        }
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_token_is_refreshed_sixty_seconds_before_it_expires() {
        let clock = ManualClock::new();
        let cache = TokenCache::with_clock(clock.clone());
        let requests = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        cache.get(&key(), || issue(&requests, hour)).await.unwrap();
        clock.advance(hour - Duration::from_secs(61));
        let still = cache.get(&key(), || issue(&requests, hour)).await.unwrap();
        assert_eq!(&**still.expose(), "token-1");
        clock.advance(Duration::from_secs(2));
        let renewed = cache.get(&key(), || issue(&requests, hour)).await.unwrap();
        assert_eq!(&**renewed.expose(), "token-2");
    }

    #[tokio::test]
    async fn short_lived_tokens_keep_half_their_life() {
        let clock = ManualClock::new();
        let cache = TokenCache::with_clock(clock.clone());
        let requests = AtomicUsize::new(0);
        let short = Duration::from_secs(100);
        cache.get(&key(), || issue(&requests, short)).await.unwrap();
        clock.advance(Duration::from_secs(40));
        cache.get(&key(), || issue(&requests, short)).await.unwrap();
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_issue_is_not_cached() {
        let cache = TokenCache::new();
        let failed = cache
            .get(&key(), || async {
                Err::<IssuedToken, _>(Error::UpstreamUnavailable("down".into()))
            })
            .await;
        assert!(failed.is_err());
        let requests = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        assert!(cache.get(&key(), || issue(&requests, hour)).await.is_ok());
    }

    #[tokio::test]
    async fn invalidate_forgets_only_the_refused_token() {
        let cache = TokenCache::new();
        let requests = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        let first = cache.get(&key(), || issue(&requests, hour)).await.unwrap();
        cache.invalidate(&key(), &first);
        let second = cache.get(&key(), || issue(&requests, hour)).await.unwrap();
        assert_eq!(&**second.expose(), "token-2");
        cache.invalidate(&key(), &first);
        let kept = cache.get(&key(), || issue(&requests, hour)).await.unwrap();
        assert_eq!(&**kept.expose(), "token-2");
    }

    #[tokio::test]
    async fn connections_have_separate_tokens() {
        let cache = TokenCache::new();
        let requests = AtomicUsize::new(0);
        let hour = Duration::from_secs(3600);
        let other = TokenKey {
            env_id: "other".into(),
            ..key()
        };
        cache.get(&key(), || issue(&requests, hour)).await.unwrap();
        cache.get(&other, || issue(&requests, hour)).await.unwrap();
        assert_eq!(requests.load(Ordering::SeqCst), 2);
    }
}
