//! Call counts per PingOne endpoint, keyed `"<METHOD> <route template>"`, for example
//! `"POST /{envId}/as/token"` or `"GET /v1/environments/{envId}/users/{userId}/devices"`.
//! Requests that match no route are not counted; `/_sim` requests never are.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::{SharedState, lock};

/// Counts so far, sorted by key.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    counts: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// A copy of the counts.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, u64> {
        lock(&self.counts).clone()
    }

    fn record(&self, key: String) {
        *lock(&self.counts).entry(key).or_default() += 1;
    }
}

/// Outermost middleware on the PingOne routes, so that requests answered by a fault or
/// rejected by the bearer check are counted too.
pub(crate) async fn count(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        state
            .stats
            .record(format!("{} {}", request.method(), route.as_str()));
    }
    next.run(request).await
}
