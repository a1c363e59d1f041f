//! Time as the caches see it. Production uses the monotonic clock; tests move a manual one, so
//! expiry is tested without sleeping and without tokio's `test-util` (which, as a
//! dev-dependency feature, would make every test build recompile the whole dependency tree).

use tokio::time::Instant;

/// Whole seconds since the Unix epoch (0 for a clock before 1970): what expiry times, counter
/// windows and tokens are written in.
pub fn unix_seconds(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (tests).
#[cfg(test)]
pub struct ManualClock {
    start: Instant,
    elapsed: std::sync::Mutex<std::time::Duration>,
}

#[cfg(test)]
impl ManualClock {
    /// A clock standing at the real now.
    pub fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            start: Instant::now(),
            elapsed: std::sync::Mutex::new(std::time::Duration::ZERO),
        })
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        *self.elapsed.lock().unwrap() += by;
    }
}

#[cfg(test)]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap()
    }
}
