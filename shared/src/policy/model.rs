//! The policy model: PingID's web authentication policy as the policy API describes it, parsed
//! and checked (`super::document`), ready to evaluate.

use std::fmt;
use std::time::Duration;

use ipnet::IpNet;

/// What a policy, a rule or a decision tells the flow to do (the policy API's actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Let the user in without a second factor.
    Approve,
    /// Refuse the sign-in.
    Deny,
    /// Authenticate with any method the policy allows.
    Authenticate,
    /// A passcode by text message.
    Sms,
    /// A passcode by voice call.
    Voice,
    /// A YubiKey.
    Yubikey,
    /// A passcode by e-mail.
    Email,
    /// The PingID desktop app.
    Desktop,
    /// A passcode from the PingID mobile app.
    OtpOnly,
    /// A swipe in the PingID mobile app.
    SwipeOnly,
    /// Biometrics in the PingID mobile app.
    FingerprintOnly,
    /// An OATH hardware token.
    OathToken,
    /// An authenticator app (TOTP).
    AuthenticatorApp,
    /// A push with number matching.
    NumberMatching,
    /// A security key (FIDO2).
    Webauthn,
    /// A platform authenticator (FIDO2 biometrics).
    WebauthnPlatform,
}

impl Action {
    /// Every action, in the policy API's order.
    pub const ALL: [Action; 16] = [
        Action::Approve,
        Action::Deny,
        Action::Authenticate,
        Action::Sms,
        Action::Voice,
        Action::Yubikey,
        Action::Email,
        Action::Desktop,
        Action::OtpOnly,
        Action::SwipeOnly,
        Action::FingerprintOnly,
        Action::OathToken,
        Action::AuthenticatorApp,
        Action::NumberMatching,
        Action::Webauthn,
        Action::WebauthnPlatform,
    ];

    /// The policy API's name.
    pub fn name(self) -> &'static str {
        match self {
            Action::Approve => "APPROVE",
            Action::Deny => "DENY",
            Action::Authenticate => "AUTHENTICATE",
            Action::Sms => "SMS",
            Action::Voice => "VOICE",
            Action::Yubikey => "YUBIKEY",
            Action::Email => "EMAIL",
            Action::Desktop => "DESKTOP",
            Action::OtpOnly => "OTP_ONLY",
            Action::SwipeOnly => "SWIPE_ONLY",
            Action::FingerprintOnly => "FINGERPRINT_ONLY",
            Action::OathToken => "OATHTOKEN",
            Action::AuthenticatorApp => "AUTHENTICATOR_APP",
            Action::NumberMatching => "NUMBER_MATCHING",
            Action::Webauthn => "WEBAUTHN",
            Action::WebauthnPlatform => "WEBAUTHN_PLATFORM",
        }
    }

    /// The action of a policy API name.
    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.name() == name)
    }

    /// The one method this action asks for (`None`: no method, or any allowed one).
    pub fn method(self) -> Option<Method> {
        Some(match self {
            Action::Approve | Action::Deny | Action::Authenticate => return None,
            Action::Sms => Method::Sms,
            Action::Voice => Method::Voice,
            Action::Yubikey => Method::Yubikey,
            Action::Email => Method::Email,
            Action::Desktop => Method::Desktop,
            Action::OtpOnly => Method::Otp,
            Action::SwipeOnly => Method::Swipe,
            Action::FingerprintOnly => Method::Fingerprint,
            Action::OathToken => Method::OathToken,
            Action::AuthenticatorApp => Method::AuthenticatorApp,
            Action::NumberMatching => Method::NumberMatching,
            Action::Webauthn => Method::Webauthn,
            Action::WebauthnPlatform => Method::WebauthnPlatform,
        })
    }

    /// How strict the action is, for failing closed: refusing is strictest, then the
    /// phishing-resistant methods, the app's strong methods, the app's other methods and the
    /// hardware codes, the codes sent over the phone network or by e-mail, any method, and
    /// letting the user in. [I] PingID names no order; this one ranks by what an attacker
    /// needs to get past each.
    pub fn strictness(self) -> u8 {
        match self {
            Action::Approve => 0,
            Action::Authenticate => 1,
            Action::Sms | Action::Voice | Action::Email => 2,
            Action::OtpOnly
            | Action::SwipeOnly
            | Action::Desktop
            | Action::OathToken
            | Action::AuthenticatorApp => 3,
            Action::NumberMatching | Action::FingerprintOnly => 4,
            Action::Yubikey | Action::Webauthn | Action::WebauthnPlatform => 5,
            Action::Deny => 6,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An authentication method a policy may allow (the policy API's allowed methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// A swipe in the PingID mobile app.
    Swipe,
    /// Biometrics in the PingID mobile app.
    Fingerprint,
    /// A text message.
    Sms,
    /// A voice call.
    Voice,
    /// A YubiKey.
    Yubikey,
    /// An e-mail.
    Email,
    /// A passcode from the PingID mobile app.
    Otp,
    /// The PingID desktop app.
    Desktop,
    /// A rescue code.
    Rescue,
    /// A security key.
    Webauthn,
    /// A platform authenticator.
    WebauthnPlatform,
    /// An OATH token.
    OathToken,
    /// An authenticator app.
    AuthenticatorApp,
    /// A push with number matching.
    NumberMatching,
}

impl Method {
    /// Every method, in the policy API's order.
    pub const ALL: [Method; 14] = [
        Method::Swipe,
        Method::Fingerprint,
        Method::Sms,
        Method::Voice,
        Method::Yubikey,
        Method::Email,
        Method::Otp,
        Method::Desktop,
        Method::Rescue,
        Method::Webauthn,
        Method::WebauthnPlatform,
        Method::OathToken,
        Method::AuthenticatorApp,
        Method::NumberMatching,
    ];

    /// Every method's name, in the order of [`Method::ALL`].
    pub const NAMES: [&'static str; 14] = [
        "SWIPE",
        "FINGERPRINT",
        "SMS",
        "VOICE",
        "YUBIKEY",
        "EMAIL",
        "OTP",
        "DESKTOP",
        "RESCUE",
        "WEBAUTHN",
        "WEBAUTHN_PLATFORM",
        "OATHTOKEN",
        "AUTHENTICATOR_APP",
        "NUMBER_MATCHING",
    ];

    /// The policy API's name.
    pub fn name(self) -> &'static str {
        Method::NAMES[self as usize]
    }

    /// The method of a policy API name.
    pub fn parse(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|method| method.name() == name)
    }

    /// The methods a device of PingOne type `kind` authenticates with: what a policy must
    /// allow (one of them) for the device to be offered. The PingID app does four; a rescue
    /// code is no device. [I] PingOne's `FIDO2` type counts as a security key.
    pub fn of_device_type(kind: &str) -> &'static [Method] {
        match kind {
            "MOBILE" => &[
                Method::Swipe,
                Method::NumberMatching,
                Method::Fingerprint,
                Method::Otp,
            ],
            "SMS" => &[Method::Sms],
            "VOICE" => &[Method::Voice],
            "EMAIL" => &[Method::Email],
            "TOTP" => &[Method::AuthenticatorApp],
            "OATH_TOKEN" => &[Method::OathToken],
            "YUBIKEY" => &[Method::Yubikey],
            "SECURITY_KEY" | "FIDO2" => &[Method::Webauthn],
            "PLATFORM" => &[Method::WebauthnPlatform],
            "PINGID_DESKTOP_GEN2" | "DESKTOP" => &[Method::Desktop],
            _ => &[],
        }
    }
}

/// The whole policy document: the policies in the order they are tried, the default last.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicySet {
    /// The policy API's `policyVersion`, when the document carries one.
    pub version: Option<i64>,
    /// The policies, by priority; the last is the default policy.
    pub policies: Vec<Policy>,
}

impl PolicySet {
    /// The default policy (the document always has one; the parser makes sure).
    pub fn default_policy(&self) -> &Policy {
        self.policies
            .last()
            .expect("a parsed policy set has a default policy")
    }
}

/// One policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// `policyName`; "Default Policy" for the default.
    pub name: String,
    /// Which requests the policy is for (`None`: the default policy, every request).
    pub targets: Option<Targets>,
    /// The methods a user may authenticate with under this policy.
    pub allowed_methods: Vec<Method>,
    /// The action when no rule matches.
    pub default_action: Action,
    /// The rules, by priority.
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The actions this policy can answer with (rules, sub-rules and its default).
    pub fn actions(&self) -> impl Iterator<Item = Action> + '_ {
        self.rules
            .iter()
            .flat_map(Rule::actions)
            .chain(std::iter::once(self.default_action))
    }

    /// The strictest action this policy configures, and never `APPROVE`: what a request gets
    /// when the policy cannot be evaluated for it.
    pub fn strictest_action(&self) -> Action {
        let strictest = self
            .actions()
            .max_by_key(|action| action.strictness())
            .unwrap_or(Action::Deny);
        match strictest {
            Action::Approve => Action::Authenticate,
            action => action,
        }
    }
}

/// The applications and groups a policy is for. Each kind given must match: the application
/// is one of `applications` (by id or by name), and the user is in one of `groups`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Targets {
    /// Application ids or names (`targets.APPLICATION`).
    pub applications: Vec<String>,
    /// Group names (`targets.GROUP`).
    pub groups: Vec<String>,
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its key in the policy object, e.g. `accessingCountryPolicy`.
    pub key: &'static str,
    /// Its `priority` within the policy.
    pub priority: u32,
    /// What it checks and what it answers.
    pub kind: RuleKind,
}

impl Rule {
    /// What the rule answers when it matches (for the push limit: each level's).
    pub fn actions(&self) -> Vec<Action> {
        match &self.kind {
            RuleKind::LimitPushNotifications(rule) => {
                rule.levels.iter().map(|level| level.action).collect()
            }
            RuleKind::AccessingCountry { action, .. }
            | RuleKind::CompanyNetwork { action, .. }
            | RuleKind::RecentAuthentication { action, .. }
            | RuleKind::RecentAuthenticationFromCompanyNetwork { action, .. }
            | RuleKind::RecentAuthenticationFromOffice { action, .. }
            | RuleKind::NewDevice { action }
            | RuleKind::MobileOs { action, .. } => vec![*action],
        }
    }

    /// The rule's name in the words of PingID's admin console, for reasons.
    pub fn title(&self) -> &'static str {
        match self.kind {
            RuleKind::AccessingCountry { .. } => "Accessing from countries",
            RuleKind::CompanyNetwork { .. } => "Accessing from company network",
            RuleKind::RecentAuthentication { .. } => "Recent authentication",
            RuleKind::RecentAuthenticationFromCompanyNetwork { .. } => {
                "Recent authentication from company network"
            }
            RuleKind::RecentAuthenticationFromOffice { .. } => "Recent authentication from office",
            RuleKind::NewDevice { .. } => "Authenticating from new device",
            RuleKind::MobileOs { .. } => "Mobile OS version",
            RuleKind::LimitPushNotifications(_) => "Limit push notifications",
        }
    }
}

/// The kinds of rules and their settings.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// The request comes from one of `countries` (located by the deployment's IP table).
    AccessingCountry {
        /// What to answer.
        action: Action,
        /// ISO 3166 alpha-2 codes.
        countries: Vec<String>,
        /// The table's ranges of those countries.
        ranges: Vec<(String, IpNet)>,
    },
    /// The request comes from the company network (IPv4 and IPv6), and, when offices are
    /// given, the user's authenticating device is in one of them.
    CompanyNetwork {
        /// What to answer.
        action: Action,
        /// The company network.
        networks: Vec<IpNet>,
        /// "Authenticating device in company offices" (empty: not required).
        offices: Vec<Office>,
    },
    /// The user authenticated recently from this accessing device, with an allowed method.
    RecentAuthentication {
        /// What to answer.
        action: Action,
        /// How recent.
        within: Duration,
    },
    /// A recent authentication from the company network, and this request from it too (and
    /// the authenticating device in an office, when offices are given).
    RecentAuthenticationFromCompanyNetwork {
        /// What to answer.
        action: Action,
        /// How recent.
        within: Duration,
        /// The company network.
        networks: Vec<IpNet>,
        /// "Authenticating device in company offices" (empty: not required).
        offices: Vec<Office>,
    },
    /// A recent authentication whose authenticating device was in an office.
    RecentAuthenticationFromOffice {
        /// What to answer.
        action: Action,
        /// How recent.
        within: Duration,
        /// The offices.
        offices: Vec<Office>,
    },
    /// The accessing device has no earlier authentication of this user.
    NewDevice {
        /// What to answer (never `APPROVE`: a new device is no reason to let anyone in).
        action: Action,
    },
    /// One of the user's PingID mobile devices reports an OS older than the minimum.
    MobileOs {
        /// What to answer (never `APPROVE`).
        action: Action,
        /// Minimum version by OS type (`iOS`, `Android`), compared by dotted numbers.
        minimum: Vec<(String, Version)>,
    },
    /// The user asked for more pushes in the window than a level allows.
    LimitPushNotifications(PushLimit),
}

/// The limit push notifications rule: up to three escalating levels.
#[derive(Debug, Clone, PartialEq)]
pub struct PushLimit {
    /// The counting window.
    pub window: Duration,
    /// The levels, by ascending `count`: past a level's count, its action applies.
    pub levels: Vec<PushLevel>,
}

/// One level of the push limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PushLevel {
    /// Push requests allowed in the window before this level applies.
    pub count: u32,
    /// What to answer past it (never `APPROVE`).
    pub action: Action,
}

/// A company office: a circle on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct Office {
    /// Its name, for reasons.
    pub name: String,
    /// Where it is.
    pub at: Location,
    /// How far from `at` still counts as in the office, in metres.
    pub radius_m: f64,
}

impl Office {
    /// Whether `location` is in this office.
    pub fn contains(&self, location: Location) -> bool {
        self.at.distance_m(location) <= self.radius_m
    }
}

/// A point on the map, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Location {
    /// Latitude, -90 to 90.
    pub latitude: f64,
    /// Longitude, -180 to 180.
    pub longitude: f64,
}

impl Location {
    /// The great-circle distance to `other`, in metres (haversine, mean Earth radius).
    pub fn distance_m(self, other: Location) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_008.8;
        let (lat1, lat2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.longitude - self.longitude).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().min(1.0).asin()
    }

    /// `latitude,longitude` in degrees.
    pub fn parse(text: &str) -> Option<Location> {
        let (latitude, longitude) = text.split_once(',')?;
        Location::new(
            latitude.trim().parse().ok()?,
            longitude.trim().parse().ok()?,
        )
    }

    /// A location when both are in range.
    pub fn new(latitude: f64, longitude: f64) -> Option<Location> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            Location {
                latitude,
                longitude,
            },
        )
    }
}

/// An OS version: dotted numbers, compared number by number (`16.10` is newer than `16.9`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(Vec<u32>);

impl Version {
    /// `None` unless every part is a number.
    pub fn parse(text: &str) -> Option<Version> {
        let parts: Option<Vec<u32>> = text.trim().split('.').map(|p| p.parse().ok()).collect();
        let mut parts = parts.filter(|parts| !parts.is_empty())?;
        // 17 and 17.0 are the same version.
        while parts.len() > 1 && parts.last() == Some(&0) {
            parts.pop();
        }
        Some(Version(parts))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u32::to_string).collect();
        f.write_str(&parts.join("."))
    }
}
