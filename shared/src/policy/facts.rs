//! What the evaluator knows about one request. Facts the flow passes are plain values; facts
//! that cost a call (the user's devices, the push counter) are [`Fetched`] on demand, only when
//! the policy that applies has a rule that reads them.

use std::net::IpAddr;
use std::time::Duration;

use super::model::{Location, Method, Version};

/// How long a device's reported location counts as where the device is now.
pub const LOCATION_MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// How far in the future a last authentication may be stamped (clock skew) and still count.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// The facts of one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The client's IP address (IPv4-mapped IPv6 addresses normalised to IPv4).
    pub ip: Option<IpAddr>,
    /// The application's id.
    pub application_id: Option<String>,
    /// The application's name.
    pub application_name: Option<String>,
    /// The user's groups (`None`: not given, which is not the same as none).
    pub groups: Option<Vec<String>>,
    /// The user's last successful MFA from this browser, when the flow knows one.
    pub last_transaction: Option<LastTransaction>,
    /// Now, in seconds since the epoch.
    pub now: u64,
    /// The user's PingID app devices, fetched when a rule needs them.
    pub devices: Fetched<Vec<MobileDevice>>,
    /// Push requests in the push-limit rule's window, this one included, counted when the rule
    /// is reached.
    pub push_requests: Fetched<u32>,
}

/// A fact that costs a call to know.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Fetched<T> {
    /// Not asked for yet.
    #[default]
    NotFetched,
    /// Asked for, but its source did not answer.
    Unavailable,
    /// Known.
    Known(T),
}

/// The user's last successful MFA as the flow remembers it for this browser.
#[derive(Debug, Clone, PartialEq)]
pub struct LastTransaction {
    /// When, in seconds since the epoch.
    pub at: u64,
    /// The accessing device's IP address then.
    pub ip: Option<IpAddr>,
    /// The method used.
    pub method: Option<Method>,
    /// Where the authenticating device was.
    pub location: Option<Location>,
}

/// One of the user's PingID app devices, as PingOne reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct MobileDevice {
    /// `os.type`: `iOS`, `Android`.
    pub os: Option<String>,
    /// `os.version`.
    pub version: Option<Version>,
    /// The last location the app reported, and when (seconds since the epoch).
    pub location: Option<(Location, u64)>,
}

/// An IP address as policies compare it: `::ffff:10.1.2.3` is `10.1.2.3`.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}
