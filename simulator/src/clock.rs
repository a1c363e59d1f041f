//! The simulator's clock: wall time plus an offset that tests grow through
//! `POST /_sim/clock/advance`, so expiry can be tested without sleeping.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::state::lock;

/// Wall-clock time shifted forward by everything `advance` has added.
#[derive(Debug, Default)]
pub(crate) struct SimClock {
    offset: Mutex<Duration>,
}

impl SimClock {
    /// The current simulated time.
    pub(crate) fn now(&self) -> SystemTime {
        SystemTime::now() + *lock(&self.offset)
    }

    /// Moves the clock forward by `by` and returns the new time.
    pub(crate) fn advance(&self, by: Duration) -> SystemTime {
        let mut offset = lock(&self.offset);
        *offset = offset.saturating_add(by);
        SystemTime::now() + *offset
    }
}

/// RFC 3339 with milliseconds in UTC (`2026-01-02T03:04:05.678Z`), PingOne's timestamp format.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time).to_string()
}
