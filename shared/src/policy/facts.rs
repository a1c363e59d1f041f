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

/// An IPv4 or IPv6 address, canonical.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.trim().parse().ok().map(canonical_ip)
}

/// A moment as flows write it: RFC 3339 (`2027-01-15T08:00:00Z`), or a number of
/// milliseconds since the epoch (what a JavaScript `Date.now()` gives, and DaVinci's
/// timestamps), in seconds since the epoch.
pub fn parse_timestamp(text: &str) -> Option<u64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().ok().map(|millis| millis / 1000);
    }
    parse_rfc3339(text)
}

/// An RFC 3339 time (`2027-01-15T08:00:00Z`), in seconds since the epoch.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let at =
        aws_smithy_types::DateTime::from_str(text, aws_smithy_types::date_time::Format::DateTime)
            .ok()?;
    u64::try_from(at.secs()).ok()
}

impl LastTransaction {
    /// The last transaction a flow keeps for this browser and user (its `policyRecentPingOneCookie`):
    /// a JSON object, as text or base64url, with `authTimestamp`, and optionally `ip`,
    /// `authMethod` and `location` (`"latitude,longitude"`). [I] PingOne's own cookie is not
    /// public; this is the shape the README asks a flow to keep, one per user, so two users
    /// of one browser never read each other's.
    pub fn from_cookie(text: &str) -> Result<LastTransaction, String> {
        use base64::Engine;
        let text = text.trim();
        let decoded;
        let json = if text.starts_with('{') {
            text
        } else {
            decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or("is neither a JSON object nor base64url of one")?;
            &decoded
        };
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|_| "is not a JSON object".to_string())?;
        let text = |key: &str| value.get(key).and_then(serde_json::Value::as_str);
        let at = match value.get("authTimestamp") {
            Some(serde_json::Value::Number(n)) => n.as_u64().map(|millis| millis / 1000),
            Some(serde_json::Value::String(s)) => parse_timestamp(s),
            _ => None,
        }
        .ok_or("needs authTimestamp (RFC 3339, or milliseconds since the epoch)")?;
        let ip = match text("ip") {
            None => None,
            Some(ip) => Some(parse_ip(ip).ok_or("has an ip that is no IP address")?),
        };
        let method = match text("authMethod") {
            None => None,
            Some(name) => Some(Method::parse(name).ok_or("has an authMethod Ping does not have")?),
        };
        let location = match text("location") {
            None => None,
            Some(at) => Some(
                Location::parse(at).ok_or("has a location that is not \"latitude,longitude\"")?,
            ),
        };
        Ok(LastTransaction {
            at,
            ip,
            method,
            location,
        })
    }
}
