//! The evaluator: facts in, decision out, with the reasons in words a help desk can read.
//!
//! Policies are tried by priority and the first whose targets match applies (the default
//! policy last); within it rules are tried by priority and the first that matches decides;
//! when none does, the policy's default action applies.
//!
//! **Failing closed.** Each rule answers matched, not matched, or *unknown* (a fact it needs is
//! missing). An unknown rule that could only waive authentication (its action is `APPROVE`) is
//! passed over: nobody is let in on a fact nobody gave. Any other unknown rule ends the
//! evaluation with the strictest action the policy configures, never `APPROVE`. Targets work
//! the same way: a policy for groups, when the request names none, might apply, so the
//! strictest action of that policy and those after it is the answer. Hence removing facts can
//! make an answer stricter, never `APPROVE`.
//!
//! No reason carries the client's IP address, coordinates or any other personal data: the
//! reasons go to the audit log.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;

use super::facts::{CLOCK_SKEW, Facts, Fetched, LOCATION_MAX_AGE, LastTransaction};
use super::model::{Action, Method, Office, Policy, PolicySet, Rule, RuleKind, Targets};

/// What the evaluator needs next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The user's PingID app devices ([`Facts::devices`]).
    Devices,
    /// The push counter over `window`, this request counted ([`Facts::push_requests`]).
    PushRequests {
        /// The rule's window.
        window: Duration,
    },
}

/// The evaluator's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Decided.
    Decided(Decision),
    /// A fact that costs a call is needed: fetch it into the facts and evaluate again.
    Needs(Need),
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// What to do.
    pub action: Action,
    /// The policy that applied (`None` when none could be chosen).
    pub policy: Option<String>,
    /// The rule that decided, by its key (`None`: the policy's default action, or failing
    /// closed).
    pub rule: Option<&'static str>,
    /// Why, sentence by sentence.
    pub reasons: Vec<String>,
    /// The methods the user may authenticate with (empty for `APPROVE` and `DENY`).
    pub allowed_methods: Vec<Method>,
    /// Whether a missing fact or document decided.
    pub failed_closed: bool,
}

impl Decision {
    /// The answer when there is no valid policy document at all.
    pub fn without_policy(why: &str) -> Decision {
        Decision {
            action: Action::Deny,
            policy: None,
            rule: None,
            reasons: vec![format!(
                "No valid policy document could be loaded ({why}); the request is denied until one can be."
            )],
            allowed_methods: Vec::new(),
            failed_closed: true,
        }
    }
}

/// Evaluates `facts` against `set`.
pub fn evaluate(set: &PolicySet, facts: &Facts) -> Outcome {
    let mut reasons = Vec::new();
    let policy = match select(set, facts, &mut reasons) {
        Ok(policy) => policy,
        Err(candidates) => {
            let action = candidates
                .iter()
                .map(|policy| policy.strictest_action())
                .max_by_key(|action| action.strictness())
                .unwrap_or(Action::Deny);
            reasons.push(format!(
                "The strictest action of the policies that might apply is {action}."
            ));
            return Outcome::Decided(Decision {
                action,
                policy: None,
                rule: None,
                reasons,
                allowed_methods: methods_of(action, &candidates[0].allowed_methods),
                failed_closed: true,
            });
        }
    };
    for rule in &policy.rules {
        let title = rule.title();
        match check(rule, policy, facts) {
            Check::Needs(need) => return Outcome::Needs(need),
            Check::Matched(action, why) => {
                reasons.push(format!("Rule \"{title}\" matched: {why}; action {action}."));
                return Outcome::Decided(decided(policy, Some(rule.key), action, reasons, false));
            }
            Check::NotMatched(why) => reasons.push(format!("Rule \"{title}\" did not match: {why}.")),
            Check::Unknown(missing) if rule.actions() == [Action::Approve] => reasons.push(format!(
                "Rule \"{title}\" was passed over: {missing} is not known, and it only approves on evidence."
            )),
            Check::Unknown(missing) => {
                let action = policy.strictest_action();
                reasons.push(format!(
                    "Rule \"{title}\" could not be evaluated: {missing} is not known; the strictest action of the policy applies: {action}."
                ));
                return Outcome::Decided(decided(policy, Some(rule.key), action, reasons, true));
            }
        }
    }
    let action = policy.default_action;
    reasons.push(format!(
        "No rule matched; the policy's default action applies: {action}."
    ));
    Outcome::Decided(decided(policy, None, action, reasons, false))
}

fn decided(
    policy: &Policy,
    rule: Option<&'static str>,
    action: Action,
    reasons: Vec<String>,
    failed_closed: bool,
) -> Decision {
    Decision {
        action,
        policy: Some(policy.name.clone()),
        rule,
        reasons,
        allowed_methods: methods_of(action, &policy.allowed_methods),
        failed_closed,
    }
}

fn methods_of(action: Action, allowed: &[Method]) -> Vec<Method> {
    match action {
        Action::Approve | Action::Deny => Vec::new(),
        Action::Authenticate => allowed.to_vec(),
        other => other.method().into_iter().collect(),
    }
}

/// The policy for the request, or the policies that might apply when targets cannot be told.
fn select<'p>(
    set: &'p PolicySet,
    facts: &Facts,
    reasons: &mut Vec<String>,
) -> Result<&'p Policy, Vec<&'p Policy>> {
    for (i, policy) in set.policies.iter().enumerate() {
        let Some(targets) = &policy.targets else {
            reasons.push(format!(
                "Policy \"{}\" applies: no other policy targets this request.",
                policy.name
            ));
            return Ok(policy);
        };
        match applies(targets, facts) {
            Tri::Yes(why) => {
                reasons.push(format!("Policy \"{}\" applies: {why}.", policy.name));
                return Ok(policy);
            }
            Tri::No => {}
            Tri::Unknown(missing) => {
                reasons.push(format!(
                    "Policy \"{}\" might apply, but {missing} is not known.",
                    policy.name
                ));
                return Err(set.policies[i..].iter().collect());
            }
        }
    }
    // The parser puts the default policy last.
    Err(set.policies.iter().collect())
}

enum Tri {
    Yes(String),
    No,
    Unknown(&'static str),
}

fn applies(targets: &Targets, facts: &Facts) -> Tri {
    let mut why = Vec::new();
    let mut unknown = None;
    if !targets.applications.is_empty() {
        let named = [&facts.application_id, &facts.application_name];
        if named.iter().all(|name| name.is_none()) {
            unknown = Some("the application");
        } else if let Some(app) = named
            .iter()
            .filter_map(|name| name.as_deref())
            .find(|name| targets.applications.iter().any(|t| t == name))
        {
            why.push(format!("application \"{app}\" is one of its targets"));
        } else {
            return Tri::No;
        }
    }
    if !targets.groups.is_empty() {
        match &facts.groups {
            None => unknown = unknown.or(Some("the user's groups")),
            Some(groups) => match groups.iter().find(|g| targets.groups.contains(g)) {
                Some(group) => why.push(format!("the user is in its group \"{group}\"")),
                None => return Tri::No,
            },
        }
    }
    match unknown {
        Some(missing) => Tri::Unknown(missing),
        None => Tri::Yes(why.join(" and ")),
    }
}

/// One rule's answer.
enum Check {
    Matched(Action, String),
    NotMatched(String),
    Unknown(&'static str),
    Needs(Need),
}

fn check(rule: &Rule, policy: &Policy, facts: &Facts) -> Check {
    match &rule.kind {
        RuleKind::AccessingCountry {
            action,
            countries,
            ranges,
        } => {
            let Some(ip) = facts.ip else {
                return Check::Unknown("the client IP address");
            };
            match ranges.iter().find(|(_, net)| net.contains(&ip)) {
                Some((country, _)) => Check::Matched(
                    *action,
                    format!("the request comes from {country} (by the deployment's IP table)"),
                ),
                None => Check::NotMatched(format!(
                    "the request does not come from {}",
                    countries.join(", ")
                )),
            }
        }
        RuleKind::CompanyNetwork {
            action,
            networks,
            offices,
        } => {
            let mut why = Vec::new();
            if !networks.is_empty() {
                match from_network(networks, facts.ip) {
                    Ok(net) => why.push(format!(
                        "the request comes from the company network ({net})"
                    )),
                    Err(check) => return check,
                }
            }
            match in_office(offices, facts) {
                Ok(None) => {}
                Ok(Some(name)) => {
                    why.push(format!("the authenticating device is in office \"{name}\""))
                }
                Err(check) => return check,
            }
            Check::Matched(*action, why.join(" and "))
        }
        RuleKind::RecentAuthentication { action, within } => match recent(facts, policy, *within) {
            Err(check) => check,
            Ok(last) => Check::Matched(
                *action,
                format!(
                    "the user authenticated from this browser {} ago, within {}",
                    ago(facts.now, last.at),
                    minutes(*within)
                ),
            ),
        },
        RuleKind::RecentAuthenticationFromCompanyNetwork {
            action,
            within,
            networks,
            offices,
        } => {
            let last = match recent(facts, policy, *within) {
                Err(check) => return check,
                Ok(last) => last,
            };
            let Some(last_ip) = last.ip else {
                return Check::Unknown("the IP address of the last authentication");
            };
            if !networks.iter().any(|net| net.contains(&last_ip)) {
                return Check::NotMatched(
                    "the last authentication was not from the company network".into(),
                );
            }
            if let Err(check) = from_network(networks, facts.ip) {
                return check;
            }
            let mut why = format!(
                "the user authenticated from the company network {} ago, within {}, and the request comes from it",
                ago(facts.now, last.at),
                minutes(*within)
            );
            match in_office(offices, facts) {
                Ok(None) => {}
                Ok(Some(name)) => why.push_str(&format!(
                    ", with the authenticating device in office \"{name}\""
                )),
                Err(check) => return check,
            }
            Check::Matched(*action, why)
        }
        RuleKind::RecentAuthenticationFromOffice {
            action,
            within,
            offices,
        } => {
            let last = match recent(facts, policy, *within) {
                Err(check) => return check,
                Ok(last) => last,
            };
            let Some(location) = last.location else {
                return Check::Unknown("where the last authentication's device was");
            };
            match offices.iter().find(|office| office.contains(location)) {
                Some(office) => Check::Matched(
                    *action,
                    format!(
                        "the user authenticated {} ago, within {}, with the device in office \"{}\"",
                        ago(facts.now, last.at),
                        minutes(*within),
                        office.name
                    ),
                ),
                None => Check::NotMatched(
                    "the last authentication's device was not in a company office".into(),
                ),
            }
        }
        RuleKind::NewDevice { action } => match &facts.last_transaction {
            None => Check::Matched(
                *action,
                "no earlier authentication of this user is known from this browser".into(),
            ),
            Some(_) => Check::NotMatched("this browser authenticated this user before".into()),
        },
        RuleKind::MobileOs { action, minimum } => {
            let devices = match &facts.devices {
                Fetched::NotFetched => return Check::Needs(Need::Devices),
                Fetched::Unavailable => return Check::Unknown("the user's devices"),
                Fetched::Known(devices) => devices,
            };
            let mut unknown = false;
            for device in devices {
                let Some(os) = &device.os else {
                    unknown = true;
                    continue;
                };
                let Some((_, min)) = minimum
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(os))
                else {
                    continue;
                };
                match &device.version {
                    None => unknown = true,
                    Some(version) if version < min => {
                        return Check::Matched(
                            *action,
                            format!(
                                "a PingID app device reports {os} {version}, older than the minimum {min}"
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            if unknown {
                Check::Unknown("the OS version of a PingID app device")
            } else if devices.is_empty() {
                Check::NotMatched("the user has no PingID app device".into())
            } else {
                Check::NotMatched("every PingID app device reports a supported OS version".into())
            }
        }
        RuleKind::LimitPushNotifications(limit) => {
            let count = match facts.push_requests {
                Fetched::NotFetched => {
                    return Check::Needs(Need::PushRequests {
                        window: limit.window,
                    });
                }
                Fetched::Unavailable => return Check::Unknown("the count of push requests"),
                Fetched::Known(count) => count,
            };
            match limit.levels.iter().rev().find(|level| count > level.count) {
                Some(level) => Check::Matched(
                    level.action,
                    format!(
                        "this is push request {count} in {}, over the limit of {}",
                        minutes(limit.window),
                        level.count
                    ),
                ),
                None => Check::NotMatched(format!(
                    "this is push request {count} in {}, within the limit of {}",
                    minutes(limit.window),
                    limit.levels.first().map_or(0, |level| level.count)
                )),
            }
        }
    }
}

/// The last authentication when it is recent and used an allowed method; otherwise the check.
fn recent<'f>(
    facts: &'f Facts,
    policy: &Policy,
    within: Duration,
) -> Result<&'f LastTransaction, Check> {
    let Some(last) = &facts.last_transaction else {
        return Err(Check::Unknown(
            "an earlier authentication from this browser",
        ));
    };
    if last.at > facts.now + CLOCK_SKEW.as_secs() {
        return Err(Check::NotMatched(
            "the last authentication is stamped in the future".into(),
        ));
    }
    if facts.now.saturating_sub(last.at) > within.as_secs() {
        return Err(Check::NotMatched(format!(
            "the last authentication was {} ago, longer than {}",
            ago(facts.now, last.at),
            minutes(within)
        )));
    }
    match last.method {
        None => Err(Check::Unknown("the method of the last authentication")),
        Some(method) if !policy.allowed_methods.contains(&method) => {
            Err(Check::NotMatched(format!(
                "the last authentication used {}, which this policy does not allow",
                method.name()
            )))
        }
        Some(_) => Ok(last),
    }
}

/// The company network range the request comes from; otherwise the rule's answer.
fn from_network(networks: &[IpNet], ip: Option<IpAddr>) -> Result<IpNet, Check> {
    let ip = ip.ok_or(Check::Unknown("the client IP address"))?;
    networks
        .iter()
        .find(|net| net.contains(&ip))
        .copied()
        .ok_or_else(|| {
            Check::NotMatched("the request does not come from the company network".into())
        })
}

/// The office one of the user's PingID app devices is in now, by a location it reported
/// within [`LOCATION_MAX_AGE`] (`None`: no office is required); otherwise the rule's answer.
fn in_office(offices: &[Office], facts: &Facts) -> Result<Option<String>, Check> {
    if offices.is_empty() {
        return Ok(None);
    }
    let devices = match &facts.devices {
        Fetched::NotFetched => return Err(Check::Needs(Need::Devices)),
        Fetched::Unavailable => return Err(Check::Unknown("where the authenticating device is")),
        Fetched::Known(devices) => devices,
    };
    let fresh: Vec<_> = devices
        .iter()
        .filter_map(|device| device.location)
        .filter(|(_, at)| facts.now.saturating_sub(*at) <= LOCATION_MAX_AGE.as_secs())
        .map(|(location, _)| location)
        .collect();
    if fresh.is_empty() {
        return Err(Check::Unknown("where the authenticating device is"));
    }
    offices
        .iter()
        .find(|office| fresh.iter().any(|at| office.contains(*at)))
        .map(|office| Some(office.name.clone()))
        .ok_or_else(|| {
            Check::NotMatched("the authenticating device is not in a company office".into())
        })
}

fn ago(now: u64, at: u64) -> String {
    let seconds = now.saturating_sub(at);
    match seconds {
        s if s < 120 => format!("{s} s"),
        s => format!("{} min", s / 60),
    }
}

fn minutes(window: Duration) -> String {
    format!("{} min", window.as_secs() / 60)
}
