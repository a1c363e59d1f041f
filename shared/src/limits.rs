//! Per-user limits on what a caller can make PingOne do to a user: push notifications, text
//! messages and calls, e-mails, and passcode checks.
//!
//! Why per user: the API's own throttling is per route and per token, so one flow with a valid
//! token could still send a user push after push until they approve one out of weariness
//! (push-bombing, OWASP ASVS 6.6.4), text a premium number again and again at the deployment's
//! cost (SMS pumping), or guess passcodes across many authentications. Each capability that
//! sends or checks takes one unit of the user's allowance **before** PingOne is called; over
//! the allowance it answers `429 USER_RATE_LIMITED` with `Retry-After`, and PingOne is not
//! called at all.
//!
//! Windows are fixed (they start at multiples of their length since the epoch), one counter per
//! user, kind and window, so a counter is one conditional update ("add one unless it holds the
//! limit already") and expires by itself. A fixed window lets a burst of twice the limit
//! straddle a boundary; a sliding log would cost a read and a write per call and an item per
//! send, for an attacker who then still gets the limit per window. We took the cheaper.
//!
//! Where the counters live: a DynamoDB table (`PINGID_LIMITS_TABLE`; key `id`, TTL
//! `expiresAt`) shared by every instance; without it, this process's memory (the local stack,
//! where every capability runs in one process).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::BoxFuture;
use crate::clock::unix_seconds;
use crate::error::Error;

/// What is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A push notification to the PingID app.
    Push,
    /// A text message or a voice call with a passcode (the two cost alike).
    SmsVoice,
    /// An e-mail with a passcode.
    Email,
    /// A passcode checked (typed by the user), whichever the authentication.
    OtpCheck,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 4] = [Kind::Push, Kind::SmsVoice, Kind::Email, Kind::OtpCheck];

    /// The name in counter keys.
    fn key(self) -> &'static str {
        match self {
            Kind::Push => "push",
            Kind::SmsVoice => "sms-voice",
            Kind::Email => "email",
            Kind::OtpCheck => "otp-check",
        }
    }

    /// The words of the error message.
    fn what(self) -> &'static str {
        match self {
            Kind::Push => "push notifications",
            Kind::SmsVoice => "text messages and voice calls",
            Kind::Email => "e-mails",
            Kind::OtpCheck => "passcode checks",
        }
    }

    /// The variable that sets the limit.
    pub fn variable(self) -> &'static str {
        match self {
            Kind::Push => "PINGID_LIMIT_PUSHES",
            Kind::SmsVoice => "PINGID_LIMIT_SMS_VOICE",
            Kind::Email => "PINGID_LIMIT_EMAILS",
            Kind::OtpCheck => "PINGID_LIMIT_OTP_CHECKS",
        }
    }

    /// What a device of PingOne type `device_type` is sent when an authentication reaches it
    /// (`None`: nothing is sent; the user reads a code off an app or a key, or uses a passkey).
    pub fn of_device_type(device_type: &str) -> Option<Kind> {
        match device_type {
            "MOBILE" => Some(Kind::Push),
            "SMS" | "VOICE" => Some(Kind::SmsVoice),
            "EMAIL" => Some(Kind::Email),
            _ => None,
        }
    }
}

/// At most `count` in any window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// How many.
    pub count: u32,
    /// The window's length.
    pub window: Duration,
}

impl Limit {
    /// `"<count>/<seconds>"`, e.g. `3/300`; `off` for no limit.
    pub fn parse(text: &str) -> Result<Option<Limit>, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let parsed = text.split_once('/').and_then(|(count, seconds)| {
            let count: u32 = count.trim().parse().ok().filter(|c| *c > 0)?;
            let seconds: u64 = seconds.trim().parse().ok().filter(|s| *s > 0)?;
            Some(Limit {
                count,
                window: Duration::from_secs(seconds),
            })
        });
        parsed
            .map(Some)
            .ok_or_else(|| "must be <count>/<seconds> (e.g. 3/300) or off".to_string())
    }
}

/// The limit of each kind (`None`: that kind is not limited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Push notifications; default 3 per 5 minutes.
    pub push: Option<Limit>,
    /// Text messages and voice calls; default 5 per hour.
    pub sms_voice: Option<Limit>,
    /// E-mails; default 10 per hour.
    pub email: Option<Limit>,
    /// Passcode checks; default 10 per 15 minutes.
    pub otp_check: Option<Limit>,
}

impl Default for Limits {
    fn default() -> Self {
        let limit = |count, seconds| {
            Some(Limit {
                count,
                window: Duration::from_secs(seconds),
            })
        };
        Self {
            push: limit(3, 300),
            sms_voice: limit(5, 3600),
            email: limit(10, 3600),
            otp_check: limit(10, 900),
        }
    }
}

impl Limits {
    /// The limit of `kind`.
    pub fn of(&self, kind: Kind) -> Option<Limit> {
        match kind {
            Kind::Push => self.push,
            Kind::SmsVoice => self.sms_voice,
            Kind::Email => self.email,
            Kind::OtpCheck => self.otp_check,
        }
    }

    /// Sets the limit of `kind`.
    pub fn set(&mut self, kind: Kind, limit: Option<Limit>) {
        match kind {
            Kind::Push => self.push = limit,
            Kind::SmsVoice => self.sms_voice = limit,
            Kind::Email => self.email = limit,
            Kind::OtpCheck => self.otp_check = limit,
        }
    }
}

/// Where a one-time device (`createDeviceAuthenticationPingID` with `selectedDevice: oneTime`)
/// may send its passcode.
///
/// A one-time device is only as strong as the flow that picks its destination: a flow that takes
/// the number or address from what the user types lets the user authenticate with a phone of
/// their own, which is no second factor. And every number is a possible SMS-pumping target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OneTimeDestinations {
    /// Only the phone (`mobilePhone` or `primaryPhone`) or e-mail of the user's PingOne profile.
    #[default]
    Profile,
    /// Any number or address (the flow vouches for it).
    Any,
    /// No one-time devices.
    Off,
}

impl OneTimeDestinations {
    /// `profile`, `any` or `off`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "profile" => Some(Self::Profile),
            "any" => Some(Self::Any),
            "off" => Some(Self::Off),
            _ => None,
        }
    }
}

/// A phone number as digits with its leading `+`, so `+1 (555) 555-0101` and `+15555550101`
/// compare equal.
pub fn same_phone(a: &str, b: &str) -> bool {
    let digits = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    };
    let (a, b) = (digits(a), digits(b));
    !a.is_empty() && a == b
}

/// An e-mail address compared without case (what delivery does in practice).
pub fn same_email(a: &str, b: &str) -> bool {
    !a.trim().is_empty() && a.trim().eq_ignore_ascii_case(b.trim())
}

/// The store of counters.
pub trait Counters: Send + Sync {
    /// Adds one to counter `id` unless it holds `limit` already: `Ok(true)` when it was added.
    /// The counter may be forgotten after `expires_at` (epoch seconds).
    fn take<'a>(
        &'a self,
        id: &'a str,
        limit: u32,
        expires_at: u64,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// Takes one back off counter `id` (what was counted was not sent after all).
    fn give_back<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>>;

    /// Adds one to counter `id` whatever it holds and answers the new count (a policy rule
    /// decides what a count means, not the store).
    fn add<'a>(&'a self, id: &'a str, expires_at: u64) -> BoxFuture<'a, Result<u32, Error>>;
}

/// The per-user limits of a process: the configured [`Limits`] over a [`Counters`] store.
#[derive(Clone)]
pub struct UserLimits {
    limits: Limits,
    counters: Arc<dyn Counters>,
}

/// One unit taken from a user's allowance, to give back if nothing was sent.
#[derive(Debug)]
#[must_use = "give it back when nothing was sent"]
pub struct Taken {
    counter: Option<String>,
}

impl UserLimits {
    /// `limits` counted in `counters`.
    pub fn new(limits: Limits, counters: Arc<dyn Counters>) -> Self {
        Self { limits, counters }
    }

    /// The default limits in this process's memory (tests, and the local stack).
    pub fn in_memory(limits: Limits) -> Self {
        Self::new(limits, Arc::new(MemoryCounters::default()))
    }

    /// The configured limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Takes one `kind` from `user_id`'s allowance, or refuses with `USER_RATE_LIMITED` and the
    /// seconds until the window ends. A store that cannot be reached fails the call (503): a
    /// limit that gives way when its store does is no limit.
    pub async fn take(&self, user_id: &str, kind: Kind) -> Result<Taken, Error> {
        let Some(limit) = self.limits.of(kind) else {
            return Ok(Taken { counter: None });
        };
        let now = unix_seconds(SystemTime::now());
        let (start, end) = window(now, limit.window);
        let counter = format!("limit#{}#{user_id}#{start}", kind.key());
        if self.counters.take(&counter, limit.count, end).await? {
            Ok(Taken {
                counter: Some(counter),
            })
        } else {
            Err(Error::UserRateLimited {
                what: kind.what(),
                retry_after_seconds: end.saturating_sub(now).max(1),
            })
        }
    }

    /// Takes one `kind` from `user_id`'s allowance (none when `kind` is `None`: nothing is
    /// sent), then runs `send`; gives the unit back when `send` fails or `sent` says its answer
    /// sent nothing.
    pub async fn around<T>(
        &self,
        user_id: &str,
        kind: Option<Kind>,
        send: impl Future<Output = Result<T, Error>>,
        sent: impl FnOnce(&T) -> bool,
    ) -> Result<T, Error> {
        let Some(kind) = kind else {
            return send.await;
        };
        let taken = self.take(user_id, kind).await?;
        let outcome = send.await;
        if !outcome.as_ref().is_ok_and(sent) {
            self.give_back(taken).await;
        }
        outcome
    }

    /// Counts one push request of `user_id` for the policy's limit-push-notifications rule, in
    /// the fixed window of `window` holding now, and answers how many the window holds with
    /// this one. Counted apart from the deployment's own push limit: the rule's window is the
    /// policy's, and its levels escalate rather than refuse.
    pub async fn count_push_request(&self, user_id: &str, window: Duration) -> Result<u32, Error> {
        let now = unix_seconds(SystemTime::now());
        let (start, end) = self::window(now, window);
        let counter = format!("policy-push#{user_id}#{}#{start}", window.as_secs());
        self.counters.add(&counter, end).await
    }

    /// Gives `taken` back: PingOne sent nothing after all (an error, or a policy that asks the
    /// user to pick a device first). Best effort: a failure only leaves the unit spent.
    pub async fn give_back(&self, taken: Taken) {
        if let Some(counter) = taken.counter
            && let Err(error) = self.counters.give_back(&counter).await
        {
            tracing::warn!(
                code = error.code(),
                "a rate-limit unit could not be given back"
            );
        }
    }
}

/// The fixed window holding `now` (epoch seconds): its start and its end.
fn window(now: u64, length: Duration) -> (u64, u64) {
    let length = length.as_secs().max(1);
    let start = now - now % length;
    (start, start + length)
}

/// Counters in this process's memory.
#[derive(Default)]
pub struct MemoryCounters {
    counters: Mutex<HashMap<String, (u32, u64)>>,
}

impl Counters for MemoryCounters {
    fn take<'a>(
        &'a self,
        id: &'a str,
        limit: u32,
        expires_at: u64,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let now = unix_seconds(SystemTime::now());
            let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
            counters.retain(|_, (_, expires)| *expires > now);
            let (count, _) = counters.entry(id.to_string()).or_insert((0, expires_at));
            if *count >= limit {
                return Ok(false);
            }
            *count += 1;
            Ok(true)
        })
    }

    fn give_back<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((count, _)) = counters.get_mut(id) {
                *count = count.saturating_sub(1);
            }
            Ok(())
        })
    }

    fn add<'a>(&'a self, id: &'a str, expires_at: u64) -> BoxFuture<'a, Result<u32, Error>> {
        Box::pin(async move {
            let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
            let now = unix_seconds(SystemTime::now());
            counters.retain(|_, (_, expires)| *expires > now);
            let (count, _) = counters.entry(id.to_string()).or_insert((0, expires_at));
            *count = count.saturating_add(1);
            Ok(*count)
        })
    }
}

/// Counters in a DynamoDB table with partition key `id` (string) and TTL attribute `expiresAt`
/// (epoch seconds); the count is the number attribute `hits`. Taking is one conditional
/// `UpdateItem`, so instances racing for the last unit cannot both get it.
///
/// The client is built at the first count, not at init: most functions never count (reads,
/// renames), and building an SDK client is a good part of a cold start.
pub struct DynamoCounters {
    config: aws_config::SdkConfig,
    client: std::sync::OnceLock<aws_sdk_dynamodb::Client>,
    table: String,
}

impl DynamoCounters {
    /// Counters in `table`, reached with `config`.
    pub fn new(config: aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self {
            config,
            client: std::sync::OnceLock::new(),
            table: table.into(),
        }
    }

    fn client(&self) -> &aws_sdk_dynamodb::Client {
        self.client
            .get_or_init(|| aws_sdk_dynamodb::Client::new(&self.config))
    }
}

impl DynamoCounters {
    /// The request adding one to counter `id`, and moving its expiry to `expires_at`: what
    /// taking and counting share.
    fn count_one(
        &self,
        id: &str,
        expires_at: u64,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        use aws_sdk_dynamodb::types::AttributeValue;
        self.client()
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_string()))
            .update_expression("ADD hits :one SET expiresAt = :expires")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at.to_string()))
    }
}

fn store_error(reason: String) -> Error {
    Error::UpstreamUnavailable(format!("the rate-limit table is unavailable: {reason}"))
}

impl Counters for DynamoCounters {
    fn take<'a>(
        &'a self,
        id: &'a str,
        limit: u32,
        expires_at: u64,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
        use aws_sdk_dynamodb::types::AttributeValue;
        Box::pin(async move {
            let outcome = self
                .count_one(id, expires_at)
                .condition_expression("attribute_not_exists(hits) OR hits < :limit")
                .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
                .send()
                .await;
            match outcome {
                Ok(_) => Ok(true),
                Err(error) => match error.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(false),
                    _ => Err(store_error(crate::sdk::failure(&error))),
                },
            }
        })
    }

    fn give_back<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        Box::pin(async move {
            self.client()
                .update_item()
                .table_name(&self.table)
                .key("id", AttributeValue::S(id.to_string()))
                .update_expression("ADD hits :minus")
                .condition_expression("hits > :zero")
                .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
                .await
                .map(|_| ())
                .map_err(|error| store_error(crate::sdk::failure(&error)))
        })
    }

    fn add<'a>(&'a self, id: &'a str, expires_at: u64) -> BoxFuture<'a, Result<u32, Error>> {
        use aws_sdk_dynamodb::types::ReturnValue;
        Box::pin(async move {
            let output = self
                .count_one(id, expires_at)
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await
                .map_err(|error| store_error(crate::sdk::failure(&error)))?;
            output
                .attributes()
                .and_then(|attributes| attributes.get("hits"))
                .and_then(|hits| hits.as_n().ok())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| store_error("UpdateItem answered no count".into()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_as_count_per_seconds_or_off() {
        let three_in_five_minutes = Limit {
            count: 3,
            window: Duration::from_secs(300),
        };
        assert_eq!(Limit::parse("3/300"), Ok(Some(three_in_five_minutes)));
        assert_eq!(Limit::parse(" 3 / 300 "), Ok(Some(three_in_five_minutes)));
        assert_eq!(Limit::parse("OFF"), Ok(None));
        for bad in ["", "3", "0/300", "3/0", "-1/300", "3/5m", "three/300"] {
            assert!(Limit::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn destinations_compare_as_delivery_sees_them() {
        assert!(same_phone("+1 (555) 555-0101", "+15555550101"));
        assert!(!same_phone("+15555550101", "+15555550199"));
        assert!(!same_phone("", ""));
        assert!(same_email("Alice@Example.com", "alice@example.com "));
        assert!(!same_email("alice@example.com", "alice.backup@example.com"));
        assert_eq!(
            OneTimeDestinations::parse("Profile"),
            Some(OneTimeDestinations::Profile)
        );
        assert_eq!(OneTimeDestinations::parse("sometimes"), None);
    }

    #[test]
    fn windows_are_fixed_multiples_of_their_length() {
        assert_eq!(window(1_000, Duration::from_secs(300)), (900, 1_200));
        assert_eq!(window(1_200, Duration::from_secs(300)), (1_200, 1_500));
        assert_eq!(window(7, Duration::ZERO), (7, 8));
    }

    #[test]
    fn devices_are_sent_what_their_type_says() {
        assert_eq!(Kind::of_device_type("MOBILE"), Some(Kind::Push));
        assert_eq!(Kind::of_device_type("SMS"), Some(Kind::SmsVoice));
        assert_eq!(Kind::of_device_type("VOICE"), Some(Kind::SmsVoice));
        assert_eq!(Kind::of_device_type("EMAIL"), Some(Kind::Email));
        for silent in [
            "TOTP",
            "FIDO2",
            "YUBIKEY",
            "OATH_TOKEN",
            "PINGID_DESKTOP_GEN2",
        ] {
            assert_eq!(Kind::of_device_type(silent), None, "{silent}");
        }
    }

    #[tokio::test]
    async fn the_allowance_runs_out_per_user_and_kind_and_comes_back_when_given() {
        let limits = UserLimits::in_memory(Limits::default());
        for _ in 0..3 {
            let _ = limits.take("alice", Kind::Push).await.unwrap();
        }
        let refused = limits.take("alice", Kind::Push).await.unwrap_err();
        assert_eq!(
            (refused.code(), refused.http_status()),
            ("USER_RATE_LIMITED", 429)
        );
        let seconds = refused.body("c").retry_after_seconds.unwrap();
        assert!((1..=300).contains(&seconds), "{seconds}");
        // Another user, another kind: untouched
        let _ = limits.take("bob", Kind::Push).await.unwrap();
        let taken = limits.take("alice", Kind::SmsVoice).await.unwrap();
        // A unit given back can be taken again
        limits.give_back(taken).await;
        for _ in 0..5 {
            let _ = limits.take("alice", Kind::SmsVoice).await.unwrap();
        }
        assert!(limits.take("alice", Kind::SmsVoice).await.is_err());
    }

    #[tokio::test]
    async fn a_kind_turned_off_is_never_refused() {
        let mut off = Limits::default();
        off.set(Kind::OtpCheck, None);
        let limits = UserLimits::in_memory(off);
        for _ in 0..100 {
            let _ = limits.take("alice", Kind::OtpCheck).await.unwrap();
        }
    }
}
