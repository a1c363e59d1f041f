//! The time budget of handbook §4.3: every synchronous capability answers within it, even when
//! Ping is slow. One [`Deadline`] per invocation; every network attempt gets what is left.

use std::time::Duration;

use tokio::time::Instant;

/// The default budget of one capability call.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(5);

/// The moment by which an invocation must have its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Instant);

impl Deadline {
    /// `budget` from now.
    pub fn after(budget: Duration) -> Self {
        Self(Instant::now() + budget)
    }

    /// Time left (zero once past).
    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    /// The instant itself, for `tokio::time::timeout_at`.
    pub fn instant(&self) -> Instant {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_never_exceeds_the_budget_and_stops_at_zero() {
        let deadline = Deadline::after(Duration::from_secs(5));
        let remaining = deadline.remaining();
        assert!(remaining <= Duration::from_secs(5) && remaining > Duration::from_secs(4));
        assert_eq!(Deadline::after(Duration::ZERO).remaining(), Duration::ZERO);
    }
}
