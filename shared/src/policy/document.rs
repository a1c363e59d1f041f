//! The policy document: PingID's web authentication policies in the policy API's own shape
//! (`authenticationPolicies[]`, as `readbulkauthenticationpolicy` answers), plus the
//! deployment's IP-to-country table. Parsing checks everything and names every problem by its
//! path, policy name included: `authenticationPolicies[1](Finance).accessingCountryPolicy.
//! countries[0]`.
//!
//! ```json
//! {
//!   "policyVersion": 3,
//!   "countryIpRanges": { "DE": ["198.51.100.0/24", "2001:db8:de::/48"] },
//!   "authenticationPolicies": [
//!     { "policyName": "Finance", "priority": 1,
//!       "targets": { "APPLICATION": ["payroll"], "GROUP": ["Finance"] },
//!       "authenticationMethodsPolicy": { "allowedAuthenticationMethods": ["SWIPE", "OTP", "WEBAUTHN"] },
//!       "defaultPolicyAction": "AUTHENTICATE",
//!       "accessingCountryPolicy": { "priority": 1, "policyAction": "DENY", "countries": ["DE"] } },
//!     { "priority": 2, "defaultPolicyAction": "AUTHENTICATE" }
//!   ]
//! }
//! ```
//!
//! Ping documents the policy object's outline (`policyName`, `targets`, `priority`,
//! `showAuthenticationScreen`, `defaultPolicyAction`, one object per rule kind with `priority`
//! and `policyAction`), the actions and the allowed methods. The field names inside the rule
//! objects, and `countryIpRanges`, are ours [I]: each is listed in the README's policy section.
//!
//! Strict where a typo would weaken a policy: an unknown key in a policy or a rule is an error
//! (a misspelt `accesingCountryPolicy` must not silently drop a DENY rule), and so is a country
//! the table has no ranges for.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use ipnet::IpNet;
use serde_json::{Map, Value};

use super::model::{
    Action, Location, Method, Office, Policy, PolicySet, PushLevel, PushLimit, Rule, RuleKind,
    Targets, Version,
};
use crate::error::FieldProblem;

/// The rule objects a policy may hold, by key.
pub const RULE_KEYS: [&str; 8] = [
    "accessingCountryPolicy",
    "companyNetworkPolicy",
    "recentAuthenticationPolicy",
    "recentAuthenticationFromCompanyNetworkPolicy",
    "recentAuthenticationFromOfficePolicy",
    "newDevicePolicy",
    "mobileOSPolicy",
    "limitPushNotificationsPolicy",
];

/// The policy keys that are not rules.
const POLICY_KEYS: [&str; 6] = [
    "policyName",
    "priority",
    "targets",
    "showAuthenticationScreen",
    "defaultPolicyAction",
    "authenticationMethodsPolicy",
];

/// Top-level keys besides the policies: the API's common answer fields are tolerated, so its
/// `responseBody` can be stored as it comes.
const TOP_KEYS: [&str; 8] = [
    "authenticationPolicies",
    "policyVersion",
    "authenticationSource",
    "countryIpRanges",
    "errorId",
    "errorMsg",
    "uniqueMsgId",
    "clientData",
];

/// The most minutes a recent-authentication window may span (30 days).
const MAX_WINDOW_MINUTES: u64 = 43_200;
/// The longest name kept for a policy (the API's limit).
const MAX_POLICY_NAME: usize = 230;

/// A document that is not a valid policy set: every problem, by path.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the policy document is invalid: {}", summary(.0))]
pub struct InvalidDocument(pub Vec<FieldProblem>);

fn summary(problems: &[FieldProblem]) -> String {
    let shown: Vec<String> = problems
        .iter()
        .take(10)
        .map(|p| format!("{} {}", p.field, p.problem))
        .collect();
    match problems.len() {
        n if n > 10 => format!("{}; and {} more", shown.join("; "), n - 10),
        _ => shown.join("; "),
    }
}

/// Parses a policy document.
pub fn parse(text: &str) -> Result<PolicySet, InvalidDocument> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        InvalidDocument(vec![FieldProblem::new(
            "document",
            format!("is not JSON (line {}, column {})", e.line(), e.column()),
        )])
    })?;
    parse_value(&value)
}

/// Parses a policy document already read as JSON.
pub fn parse_value(value: &Value) -> Result<PolicySet, InvalidDocument> {
    let mut reader = Reader::default();
    let set = reader.document(value);
    match (set, reader.problems.is_empty()) {
        (Some(set), true) => Ok(set),
        _ => Err(InvalidDocument(reader.problems)),
    }
}

#[derive(Default)]
struct Reader {
    problems: Vec<FieldProblem>,
}

impl Reader {
    fn problem(&mut self, path: &str, text: impl Into<String>) {
        self.problems.push(FieldProblem::new(path, text));
    }

    fn object<'v>(&mut self, value: &'v Value, path: &str) -> Option<&'v Map<String, Value>> {
        let object = value.as_object();
        if object.is_none() {
            self.problem(path, "must be an object");
        }
        object
    }

    fn unknown_keys(&mut self, object: &Map<String, Value>, known: &[&str], path: &str) {
        for key in object.keys().filter(|key| !known.contains(&key.as_str())) {
            self.problem(&format!("{path}.{key}"), "is not a known field");
        }
    }

    fn strings<'v>(&mut self, value: &'v Value, path: &str) -> Vec<(String, &'v str)> {
        let Some(items) = value.as_array() else {
            self.problem(path, "must be an array of strings");
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let item_path = format!("{path}[{i}]");
                match item.as_str() {
                    Some(text) => Some((item_path, text)),
                    None => {
                        self.problem(&item_path, "must be a string");
                        None
                    }
                }
            })
            .collect()
    }

    fn integer(&mut self, value: Option<&Value>, path: &str, range: (u64, u64)) -> Option<u64> {
        let Some(value) = value else {
            self.problem(path, "is required");
            return None;
        };
        match value.as_u64().filter(|n| (range.0..=range.1).contains(n)) {
            Some(n) => Some(n),
            None => {
                self.problem(
                    path,
                    format!("must be a whole number from {} to {}", range.0, range.1),
                );
                None
            }
        }
    }

    fn action(&mut self, value: Option<&Value>, path: &str) -> Option<Action> {
        let Some(value) = value else {
            self.problem(path, "is required");
            return None;
        };
        let action = value.as_str().and_then(Action::parse);
        if action.is_none() {
            let names: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
            self.problem(path, format!("must be one of {}", names.join(", ")));
        }
        action
    }

    fn networks(&mut self, value: Option<&Value>, path: &str) -> Vec<IpNet> {
        let Some(value) = value else {
            return Vec::new();
        };
        self.strings(value, path)
            .into_iter()
            .filter_map(|(item_path, text)| match parse_network(text) {
                Some(net) => Some(net),
                None => {
                    self.problem(
                        &item_path,
                        format!(
                            "{:?} is not an IPv4 or IPv6 range in CIDR notation (or an address)",
                            truncate(text)
                        ),
                    );
                    None
                }
            })
            .collect()
    }

    fn document(&mut self, value: &Value) -> Option<PolicySet> {
        let top = self.object(value, "document")?;
        self.unknown_keys(top, &TOP_KEYS, "document");
        let version = match top.get("policyVersion") {
            None | Some(Value::Null) => None,
            Some(v) => {
                if v.as_i64().is_none() {
                    self.problem("policyVersion", "must be a whole number");
                }
                v.as_i64()
            }
        };
        if let Some(source) = top.get("authenticationSource")
            && source.as_str() != Some("WEB")
        {
            self.problem(
                "authenticationSource",
                "must be WEB (web authentication policies)",
            );
        }
        let countries = self.country_table(top.get("countryIpRanges"));
        let Some(list) = top.get("authenticationPolicies") else {
            self.problem("authenticationPolicies", "is required");
            return None;
        };
        let Some(list) = list.as_array().filter(|list| !list.is_empty()) else {
            self.problem(
                "authenticationPolicies",
                "must be an array with at least the default policy",
            );
            return None;
        };
        let mut policies: Vec<(u64, Policy, String)> = Vec::new();
        for (i, value) in list.iter().enumerate() {
            let name = value
                .get("policyName")
                .and_then(Value::as_str)
                .map(truncate);
            let path = match &name {
                Some(name) => format!("authenticationPolicies[{i}]({name})"),
                None => format!("authenticationPolicies[{i}]"),
            };
            if let Some((priority, policy)) = self.policy(value, &path, &countries) {
                policies.push((priority, policy, path));
            }
        }
        if policies.len() != list.len() {
            return None;
        }
        self.order(&mut policies);
        Some(PolicySet {
            version,
            policies: policies.into_iter().map(|(_, policy, _)| policy).collect(),
        })
    }

    /// Policies by priority: 1, 2, … with the one default policy last.
    fn order(&mut self, policies: &mut [(u64, Policy, String)]) {
        policies.sort_by_key(|(priority, _, _)| *priority);
        for (expected, (priority, _, path)) in (1..).zip(policies.iter()) {
            if *priority != expected {
                self.problem(
                    &format!("{path}.priority"),
                    format!(
                        "is {priority}, but priorities must run 1, 2, 3, … without gaps or repeats (expected {expected})"
                    ),
                );
                return;
            }
        }
        let defaults: Vec<&String> = policies
            .iter()
            .filter(|(_, policy, _)| policy.targets.is_none())
            .map(|(_, _, path)| path)
            .collect();
        match defaults.as_slice() {
            [] => self.problem(
                "authenticationPolicies",
                "has no default policy (one policy without targets, last by priority)",
            ),
            [_] if policies.last().is_some_and(|(_, p, _)| p.targets.is_none()) => {}
            [_] => {
                let path = defaults[0].clone();
                self.problem(
                    &format!("{path}.priority"),
                    "the default policy (no targets) must have the last priority",
                );
            }
            [_, more @ ..] => {
                for path in more.iter().map(|p| p.to_string()).collect::<Vec<_>>() {
                    self.problem(
                        &format!("{path}.targets"),
                        "is required: only the default policy has no targets, and there is one",
                    );
                }
            }
        }
    }

    fn country_table(&mut self, value: Option<&Value>) -> BTreeMap<String, Vec<IpNet>> {
        let mut table = BTreeMap::new();
        let Some(value) = value else {
            return table;
        };
        let Some(object) = self.object(value, "countryIpRanges") else {
            return table;
        };
        for (code, ranges) in object {
            let path = format!("countryIpRanges.{code}");
            if !is_country_code(code) {
                self.problem(
                    &path,
                    "is not an ISO 3166 alpha-2 country code (two capital letters)",
                );
                continue;
            }
            let networks = self.networks(Some(ranges), &path);
            table.insert(code.clone(), networks);
        }
        table
    }

    fn policy(
        &mut self,
        value: &Value,
        path: &str,
        countries: &BTreeMap<String, Vec<IpNet>>,
    ) -> Option<(u64, Policy)> {
        let object = self.object(value, path)?;
        let known: Vec<&str> = POLICY_KEYS
            .iter()
            .chain(RULE_KEYS.iter())
            .copied()
            .collect();
        self.unknown_keys(object, &known, path);
        let before = self.problems.len();
        let priority = self.integer(
            object.get("priority"),
            &format!("{path}.priority"),
            (1, 10_000),
        );
        let name = match object.get("policyName") {
            None => None,
            Some(Value::String(name)) if !name.trim().is_empty() => {
                if name.chars().count() > MAX_POLICY_NAME {
                    self.problem(
                        &format!("{path}.policyName"),
                        format!("must be at most {MAX_POLICY_NAME} characters"),
                    );
                }
                Some(name.clone())
            }
            Some(_) => {
                self.problem(&format!("{path}.policyName"), "must be a non-empty string");
                None
            }
        };
        let targets = match object.get("targets") {
            None => None,
            Some(targets) => self.targets(targets, &format!("{path}.targets")),
        };
        if targets.is_some() && name.is_none() {
            self.problem(
                &format!("{path}.policyName"),
                "is required on a policy with targets",
            );
        }
        let allowed_methods = self.allowed_methods(object.get("authenticationMethodsPolicy"), path);
        if let Some(show) = object.get("showAuthenticationScreen")
            && !show.is_boolean()
        {
            self.problem(
                &format!("{path}.showAuthenticationScreen"),
                "must be true or false",
            );
        }
        let default_action = self.action(
            object.get("defaultPolicyAction"),
            &format!("{path}.defaultPolicyAction"),
        );
        if let Some(action) = default_action {
            self.allowed(
                action,
                &allowed_methods,
                &format!("{path}.defaultPolicyAction"),
            );
        }
        let mut rules = Vec::new();
        for key in RULE_KEYS {
            if let Some(value) = object.get(key) {
                let rule_path = format!("{path}.{key}");
                if let Some(rule) = self.rule(key, value, &rule_path, &allowed_methods, countries) {
                    rules.push((rule, rule_path));
                }
            }
        }
        let mut seen = HashSet::new();
        for (rule, rule_path) in &rules {
            if !seen.insert(rule.priority) {
                self.problem(
                    &format!("{rule_path}.priority"),
                    format!(
                        "{} is the priority of another rule of this policy",
                        rule.priority
                    ),
                );
            }
        }
        let mut rules: Vec<Rule> = rules.into_iter().map(|(rule, _)| rule).collect();
        rules.sort_by_key(|rule| rule.priority);
        if self.problems.len() > before {
            return None;
        }
        Some((
            priority?,
            Policy {
                name: name.unwrap_or_else(|| "Default Policy".to_string()),
                targets,
                allowed_methods,
                default_action: default_action?,
                rules,
            },
        ))
    }

    fn targets(&mut self, value: &Value, path: &str) -> Option<Targets> {
        let object = self.object(value, path)?;
        self.unknown_keys(object, &["APPLICATION", "GROUP"], path);
        let mut targets = Targets::default();
        if let Some(apps) = object.get("APPLICATION") {
            let path = format!("{path}.APPLICATION");
            targets.applications = self
                .strings(apps, &path)
                .into_iter()
                .map(|(_, s)| s.to_string())
                .collect();
        }
        if let Some(groups) = object.get("GROUP") {
            let path = format!("{path}.GROUP");
            targets.groups = self
                .strings(groups, &path)
                .into_iter()
                .map(|(_, s)| s.to_string())
                .collect();
        }
        if targets.applications.is_empty() && targets.groups.is_empty() {
            self.problem(
                path,
                "must name at least one APPLICATION or GROUP (leave targets out for the default policy)",
            );
            return None;
        }
        Some(targets)
    }

    fn allowed_methods(&mut self, value: Option<&Value>, path: &str) -> Vec<Method> {
        let Some(value) = value else {
            return Method::ALL.to_vec();
        };
        let path = format!("{path}.authenticationMethodsPolicy");
        let Some(object) = self.object(value, &path) else {
            return Vec::new();
        };
        // Ping lists this object among the rules, with a priority and an action; what they mean
        // for a list of methods is not documented [I]. They are checked and not used: the
        // policy's `defaultPolicyAction` is what applies when no rule matches.
        self.unknown_keys(
            object,
            &["allowedAuthenticationMethods", "priority", "policyAction"],
            &path,
        );
        if let Some(priority) = object.get("priority") {
            self.integer(Some(priority), &format!("{path}.priority"), (1, 1000));
        }
        if let Some(action) = object.get("policyAction") {
            self.action(Some(action), &format!("{path}.policyAction"));
        }
        let path = format!("{path}.allowedAuthenticationMethods");
        let Some(list) = object.get("allowedAuthenticationMethods") else {
            self.problem(&path, "is required");
            return Vec::new();
        };
        let mut methods = Vec::new();
        for (item_path, name) in self.strings(list, &path) {
            match Method::parse(name) {
                Some(method) if !methods.contains(&method) => methods.push(method),
                Some(_) => self.problem(&item_path, "repeats a method"),
                None => {
                    let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                    self.problem(&item_path, format!("must be one of {}", names.join(", ")));
                }
            }
        }
        if methods.is_empty() {
            self.problem(&path, "must allow at least one method");
        }
        methods
    }

    /// An action that asks for one method is only valid where the policy allows it.
    fn allowed(&mut self, action: Action, allowed: &[Method], path: &str) {
        if let Some(method) = action.method()
            && !allowed.is_empty()
            && !allowed.contains(&method)
        {
            self.problem(
                path,
                format!(
                    "{action} needs method {}, which this policy does not allow",
                    method.name()
                ),
            );
        }
    }

    fn rule(
        &mut self,
        key: &'static str,
        value: &Value,
        path: &str,
        allowed: &[Method],
        countries: &BTreeMap<String, Vec<IpNet>>,
    ) -> Option<Rule> {
        let object = self.object(value, path)?;
        let before = self.problems.len();
        let field = |name: &str| format!("{path}.{name}");
        let priority = self.integer(object.get("priority"), &field("priority"), (1, 1000));
        let known: &[&str] = match key {
            "accessingCountryPolicy" => &["priority", "policyAction", "countries"],
            "companyNetworkPolicy" => &["priority", "policyAction", "ipRanges", "offices"],
            "recentAuthenticationPolicy" => &["priority", "policyAction", "timeWindowMinutes"],
            "recentAuthenticationFromCompanyNetworkPolicy" => &[
                "priority",
                "policyAction",
                "timeWindowMinutes",
                "ipRanges",
                "offices",
            ],
            "recentAuthenticationFromOfficePolicy" => {
                &["priority", "policyAction", "timeWindowMinutes", "offices"]
            }
            "newDevicePolicy" => &["priority", "policyAction"],
            "mobileOSPolicy" => &["priority", "policyAction", "minimumVersions"],
            _ => &["priority", "timeWindowMinutes", "limits"],
        };
        self.unknown_keys(object, known, path);
        let action = if key == "limitPushNotificationsPolicy" {
            None
        } else {
            let action = self.action(object.get("policyAction"), &field("policyAction"));
            if let Some(action) = action {
                self.allowed(action, allowed, &field("policyAction"));
                // The push limit's levels are checked where they are read (`push_levels`).
                let never_approve = matches!(key, "newDevicePolicy" | "mobileOSPolicy");
                if never_approve && action == Action::Approve {
                    self.problem(
                        &field("policyAction"),
                        "cannot be APPROVE: this rule matches when something is wrong, or unknown",
                    );
                }
            }
            action
        };
        let window = |reader: &mut Reader| {
            reader
                .integer(
                    object.get("timeWindowMinutes"),
                    &field("timeWindowMinutes"),
                    (1, MAX_WINDOW_MINUTES),
                )
                .map(|minutes| Duration::from_secs(minutes * 60))
        };
        let kind = match key {
            "accessingCountryPolicy" => {
                let mut codes = Vec::new();
                let mut ranges = Vec::new();
                match object.get("countries") {
                    None => self.problem(&field("countries"), "is required"),
                    Some(list) => {
                        for (item_path, code) in self.strings(list, &field("countries")) {
                            match countries.get(code) {
                                Some(table) => {
                                    codes.push(code.to_string());
                                    ranges.extend(table.iter().map(|net| (code.to_string(), *net)));
                                }
                                None if is_country_code(code) => self.problem(
                                    &item_path,
                                    format!(
                                        "{code} has no ranges in countryIpRanges: the rule could never match it"
                                    ),
                                ),
                                None => self.problem(
                                    &item_path,
                                    format!(
                                        "{:?} is not an ISO 3166 alpha-2 country code",
                                        truncate(code)
                                    ),
                                ),
                            }
                        }
                        if codes.is_empty() && self.problems.len() == before {
                            self.problem(&field("countries"), "must name at least one country");
                        }
                    }
                }
                action.map(|action| RuleKind::AccessingCountry {
                    action,
                    countries: codes,
                    ranges,
                })
            }
            "companyNetworkPolicy" => {
                let networks = self.networks(object.get("ipRanges"), &field("ipRanges"));
                let offices = self.offices(object.get("offices"), &field("offices"));
                if networks.is_empty() && offices.is_empty() && self.problems.len() == before {
                    self.problem(path, "must give ipRanges, offices or both");
                }
                action.map(|action| RuleKind::CompanyNetwork {
                    action,
                    networks,
                    offices,
                })
            }
            "recentAuthenticationPolicy" => {
                let within = window(self);
                action
                    .zip(within)
                    .map(|(action, within)| RuleKind::RecentAuthentication { action, within })
            }
            "recentAuthenticationFromCompanyNetworkPolicy" => {
                let within = window(self);
                let networks = self.networks(object.get("ipRanges"), &field("ipRanges"));
                if networks.is_empty() && self.problems.len() == before {
                    self.problem(&field("ipRanges"), "must list the company network");
                }
                let offices = self.offices(object.get("offices"), &field("offices"));
                action.zip(within).map(|(action, within)| {
                    RuleKind::RecentAuthenticationFromCompanyNetwork {
                        action,
                        within,
                        networks,
                        offices,
                    }
                })
            }
            "recentAuthenticationFromOfficePolicy" => {
                let within = window(self);
                let offices = self.offices(object.get("offices"), &field("offices"));
                if offices.is_empty() && self.problems.len() == before {
                    self.problem(&field("offices"), "must list at least one office");
                }
                action.zip(within).map(|(action, within)| {
                    RuleKind::RecentAuthenticationFromOffice {
                        action,
                        within,
                        offices,
                    }
                })
            }
            "newDevicePolicy" => action.map(|action| RuleKind::NewDevice { action }),
            "mobileOSPolicy" => {
                let minimum =
                    self.minimum_versions(object.get("minimumVersions"), &field("minimumVersions"));
                action.map(|action| RuleKind::MobileOs { action, minimum })
            }
            _ => {
                let minutes = match object.get("timeWindowMinutes") {
                    None => Some(24 * 60),
                    Some(v) => self.integer(
                        Some(v),
                        &field("timeWindowMinutes"),
                        (1, MAX_WINDOW_MINUTES),
                    ),
                };
                let levels = self.push_levels(object.get("limits"), &field("limits"), allowed);
                minutes.map(|minutes| {
                    RuleKind::LimitPushNotifications(PushLimit {
                        window: Duration::from_secs(minutes * 60),
                        levels,
                    })
                })
            }
        };
        if self.problems.len() > before {
            return None;
        }
        Some(Rule {
            key,
            priority: u32::try_from(priority?).ok()?,
            kind: kind?,
        })
    }

    fn offices(&mut self, value: Option<&Value>, path: &str) -> Vec<Office> {
        let Some(value) = value else {
            return Vec::new();
        };
        let Some(list) = value.as_array() else {
            self.problem(path, "must be an array of offices");
            return Vec::new();
        };
        let mut offices = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let Some(object) = self.object(item, &item_path) else {
                continue;
            };
            self.unknown_keys(
                object,
                &["name", "latitude", "longitude", "radiusMeters"],
                &item_path,
            );
            let name = object.get("name").and_then(Value::as_str);
            if name.is_none_or(|n| n.trim().is_empty()) {
                self.problem(&format!("{item_path}.name"), "must be a non-empty string");
            }
            let number = |key: &str| object.get(key).and_then(Value::as_f64);
            let at = number("latitude")
                .zip(number("longitude"))
                .and_then(|(lat, lon)| Location::new(lat, lon));
            if at.is_none() {
                self.problem(
                    &item_path,
                    "needs latitude (-90 to 90) and longitude (-180 to 180) in degrees",
                );
            }
            let radius = number("radiusMeters").filter(|r| *r > 0.0 && *r <= 50_000.0);
            if radius.is_none() {
                self.problem(
                    &format!("{item_path}.radiusMeters"),
                    "must be a number of metres above 0 and at most 50000",
                );
            }
            if let (Some(name), Some(at), Some(radius_m)) = (name, at, radius) {
                offices.push(Office {
                    name: truncate(name),
                    at,
                    radius_m,
                });
            }
        }
        offices
    }

    fn minimum_versions(&mut self, value: Option<&Value>, path: &str) -> Vec<(String, Version)> {
        let Some(value) = value else {
            self.problem(path, "is required");
            return Vec::new();
        };
        let Some(object) = self.object(value, path) else {
            return Vec::new();
        };
        let mut minimum = Vec::new();
        for (os, version) in object {
            let item_path = format!("{path}.{os}");
            if !matches!(os.as_str(), "iOS" | "Android") {
                self.problem(&item_path, "must be iOS or Android");
                continue;
            }
            match version.as_str().and_then(Version::parse) {
                Some(version) => minimum.push((os.clone(), version)),
                None => self.problem(&item_path, "must be a version such as \"16.4\""),
            }
        }
        if minimum.is_empty() && object.is_empty() {
            self.problem(path, "must give a minimum version for iOS, Android or both");
        }
        minimum
    }

    fn push_levels(
        &mut self,
        value: Option<&Value>,
        path: &str,
        allowed: &[Method],
    ) -> Vec<PushLevel> {
        let Some(list) = value
            .and_then(Value::as_array)
            .filter(|l| (1..=3).contains(&l.len()))
        else {
            self.problem(path, "must be an array of one to three levels");
            return Vec::new();
        };
        let mut levels: Vec<PushLevel> = Vec::new();
        for (i, item) in list.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            let Some(object) = self.object(item, &item_path) else {
                continue;
            };
            self.unknown_keys(object, &["count", "policyAction"], &item_path);
            let count = self.integer(
                object.get("count"),
                &format!("{item_path}.count"),
                (1, 1000),
            );
            let action_path = format!("{item_path}.policyAction");
            let action = self.action(object.get("policyAction"), &action_path);
            if let Some(action) = action {
                self.allowed(action, allowed, &action_path);
                if action == Action::Approve {
                    self.problem(
                        &action_path,
                        "cannot be APPROVE: too many pushes is no reason to let anyone in",
                    );
                }
            }
            if let (Some(count), Some(previous)) = (count, levels.last())
                && count <= u64::from(previous.count)
            {
                self.problem(
                    &format!("{item_path}.count"),
                    "must be larger than the count of the level before",
                );
            }
            if let (Some(count), Some(action)) = (count, action) {
                levels.push(PushLevel {
                    count: count as u32,
                    action,
                });
            }
        }
        levels
    }
}

/// A CIDR range, or a single address as its own range.
pub fn parse_network(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .map(|net| net.trunc())
        .or_else(|| text.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

fn is_country_code(code: &str) -> bool {
    code.len() == 2 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Values echoed into a problem are cut short: a document is the operator's, but its size is
/// not ours to print.
fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}
