//! Everything one simulator instance knows, shared by all request handlers.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::SimConfig;
use crate::clock::SimClock;
use crate::demo;
use crate::device_auth::DeviceAuthStore;
use crate::faults::FaultList;
use crate::outbox::Outbox;
use crate::pingid::store::{self as legacy_store, Legacy};
use crate::stats::Stats;
use crate::tenant::Tenant;
use crate::token::TokenStore;

/// Handle passed to every handler and middleware.
pub(crate) type SharedState = Arc<AppState>;

/// The simulator's state. Each mutable part has its own mutex, held only for short, non-async,
/// non-panicking sections and never two at a time.
pub(crate) struct AppState {
    pub(crate) config: SimConfig,
    /// `http://IP:PORT`, the prefix of every `_links` href.
    pub(crate) base_url: String,
    pub(crate) clock: SimClock,
    pub(crate) tenant: Tenant,
    pub(crate) tokens: TokenStore,
    pub(crate) device_auths: DeviceAuthStore,
    pub(crate) outbox: Outbox,
    pub(crate) faults: FaultList,
    pub(crate) stats: Stats,
    /// The legacy PingID orgs, users and sessions.
    pub(crate) legacy: Legacy,
}

impl AppState {
    /// A fresh simulator holding the seeded demo tenant.
    pub(crate) fn new(config: SimConfig, base_url: String) -> Self {
        Self {
            config,
            base_url,
            clock: SimClock::default(),
            tenant: demo::tenant(),
            tokens: TokenStore::default(),
            device_auths: DeviceAuthStore::default(),
            outbox: Outbox::default(),
            faults: FaultList::default(),
            stats: Stats::default(),
            legacy: legacy_store::seed(),
        }
    }
}

/// Locks `mutex`, recovering the data if a previous holder panicked: every critical section
/// leaves the data consistent, so a poisoned lock carries no broken invariant.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
