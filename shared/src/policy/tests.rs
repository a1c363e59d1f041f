//! The policy's specification as tables: `fixtures/policy/cases.json` (requests against the
//! demo document and the decision each must get) and `fixtures/policy/invalid.json` (documents
//! that must be refused, with the path of every problem); then properties over generated
//! policies.

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use proptest::prelude::*;
use serde_json::Value;

use super::facts::canonical_ip;
use super::model::{Location, Policy, PushLevel, PushLimit, Rule, RuleKind, Targets, Version};
use super::*;
use crate::error::Error;

/// "Now" in every case: cases give times as minutes before it.
const NOW: u64 = 1_800_000_000;
const DEMO: &str = include_str!("../../../local/policy.json");
const CASES: &str = include_str!("../../fixtures/policy/cases.json");
const INVALID: &str = include_str!("../../fixtures/policy/invalid.json");

fn location(value: &Value) -> Location {
    let pair = value
        .as_array()
        .expect("a location is [latitude, longitude]");
    Location::new(pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()).expect("on the map")
}

fn minutes_ago(value: Option<&Value>) -> u64 {
    let minutes = value.and_then(Value::as_i64).unwrap_or(0);
    (NOW as i64 - minutes * 60) as u64
}

fn ip(value: &Value) -> IpAddr {
    canonical_ip(value.as_str().unwrap().parse().expect("an IP address"))
}

/// The facts a case gives, and what its fetches would answer.
fn facts_of(case: &Value) -> (Facts, Fetched<Vec<MobileDevice>>, Fetched<u32>) {
    let f = &case["facts"];
    let text = |key: &str| f.get(key).and_then(Value::as_str).map(str::to_string);
    let facts = Facts {
        ip: f.get("ip").map(ip),
        application_id: text("applicationId"),
        application_name: text("applicationName"),
        groups: f.get("groups").map(|groups| {
            groups
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap().to_string())
                .collect()
        }),
        last_transaction: f.get("last").map(|last| LastTransaction {
            at: minutes_ago(last.get("minutesAgo")),
            ip: last.get("ip").map(ip),
            method: last
                .get("method")
                .map(|m| Method::parse(m.as_str().unwrap()).expect("a method")),
            location: last.get("location").map(location),
        }),
        now: NOW,
        ..Facts::default()
    };
    let devices = match f.get("devices") {
        None => Fetched::Known(Vec::new()),
        Some(Value::String(s)) if s == "unavailable" => Fetched::Unavailable,
        Some(list) => Fetched::Known(
            list.as_array()
                .unwrap()
                .iter()
                .map(|d| MobileDevice {
                    os: d.get("os").and_then(Value::as_str).map(str::to_string),
                    version: d
                        .get("version")
                        .and_then(Value::as_str)
                        .map(|v| Version::parse(v).expect("a version")),
                    location: d
                        .get("location")
                        .map(|l| (location(l), minutes_ago(d.get("locationMinutesAgo")))),
                })
                .collect(),
        ),
    };
    let pushes = match f.get("pushRequests") {
        None => Fetched::Known(1),
        Some(Value::String(s)) if s == "unavailable" => Fetched::Unavailable,
        Some(n) => Fetched::Known(n.as_u64().unwrap() as u32),
    };
    (facts, devices, pushes)
}

/// Evaluates like the function does: fetching what the evaluator asks for, and recording it.
fn run(
    set: &PolicySet,
    mut facts: Facts,
    devices: Fetched<Vec<MobileDevice>>,
    pushes: Fetched<u32>,
) -> (Decision, Vec<&'static str>) {
    let mut fetched = Vec::new();
    for _ in 0..4 {
        match evaluate(set, &facts) {
            Outcome::Decided(decision) => return (decision, fetched),
            Outcome::Needs(Need::Devices) => {
                assert!(!fetched.contains(&"devices"), "devices asked for twice");
                fetched.push("devices");
                facts.devices = devices.clone();
            }
            Outcome::Needs(Need::PushRequests { .. }) => {
                assert!(
                    !fetched.contains(&"pushRequests"),
                    "push count asked for twice"
                );
                fetched.push("pushRequests");
                facts.push_requests = pushes.clone();
            }
        }
    }
    panic!("the evaluator kept asking for facts")
}

#[test]
fn every_case_of_the_table_gets_its_decision() {
    let demo = parse(DEMO).expect("the demo document is valid");
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    assert!(cases.len() >= 60, "the table has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        // A case may bring a document of its own: a rule the demo document cannot reach.
        let own = case
            .get("document")
            .map(|document| parse(&document.to_string()).unwrap_or_else(|e| panic!("{name}: {e}")));
        let set = own.as_ref().unwrap_or(&demo);
        let expect = &case["expect"];
        let (facts, devices, pushes) = facts_of(case);
        let (decision, fetched) = run(set, facts, devices, pushes);
        let mut wrong = Vec::new();
        if decision.action.name() != expect["action"] {
            wrong.push(format!(
                "action {} (expected {})",
                decision.action, expect["action"]
            ));
        }
        if decision.policy.as_deref() != expect["policy"].as_str() {
            wrong.push(format!(
                "policy {:?} (expected {})",
                decision.policy, expect["policy"]
            ));
        }
        if decision.rule != expect["rule"].as_str() {
            wrong.push(format!(
                "rule {:?} (expected {})",
                decision.rule, expect["rule"]
            ));
        }
        let failed_closed = expect["failedClosed"].as_bool().unwrap_or(false);
        if decision.failed_closed != failed_closed {
            wrong.push(format!("failedClosed {}", decision.failed_closed));
        }
        if let Some(expected) = expect.get("fetched") {
            let expected: Vec<&str> = expected
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            if fetched != expected {
                wrong.push(format!("fetched {fetched:?} (expected {expected:?})"));
            }
        }
        if let Some(reason) = expect["reason"].as_str()
            && !decision.reasons.iter().any(|r| r.contains(reason))
        {
            wrong.push(format!("no reason says {reason:?}"));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{name}: {}\n    reasons: {:?}",
                wrong.join(", "),
                decision.reasons
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_invalid_document_is_refused_with_the_path_of_each_problem() {
    let cases: Vec<Value> = serde_json::from_str(INVALID).unwrap();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let text = match &case["document"] {
            Value::String(text) => text.clone(),
            document => document.to_string(),
        };
        let mut expected: Vec<&str> = case["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        match parse(&text) {
            Ok(_) => failures.push(format!("{name}: accepted")),
            Err(InvalidDocument(problems)) => {
                let mut paths: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
                paths.sort_unstable();
                expected.sort_unstable();
                if paths != expected {
                    failures.push(format!("{name}: {problems:?}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn reasons_never_carry_the_clients_address_or_location() {
    let demo = parse(DEMO).unwrap();
    let cases: Vec<Value> = serde_json::from_str(CASES).unwrap();
    for case in &cases {
        let own = case.get("document").map(|d| parse(&d.to_string()).unwrap());
        let set = own.as_ref().unwrap_or(&demo);
        let (facts, devices, pushes) = facts_of(case);
        let secret_ish: Vec<String> = facts
            .ip
            .iter()
            .map(IpAddr::to_string)
            .chain(
                facts
                    .last_transaction
                    .iter()
                    .flat_map(|l| l.ip.map(|ip| ip.to_string())),
            )
            .collect();
        let (decision, _) = run(set, facts, devices, pushes);
        for reason in &decision.reasons {
            for value in &secret_ish {
                assert!(
                    !reason.contains(value.as_str()),
                    "{reason:?} carries {value}"
                );
            }
            assert!(!reason.contains("52.52"), "{reason:?} carries a coordinate");
        }
    }
}

#[test]
fn with_no_valid_document_every_request_is_denied() {
    let decision = Decision::without_policy("the policy document is invalid");
    assert_eq!(decision.action, Action::Deny);
    assert!(decision.failed_closed);
}

#[tokio::test]
async fn an_invalid_document_is_refused_and_the_last_valid_one_keeps_serving() {
    use std::sync::Mutex;
    struct Swappable(Mutex<Arc<str>>);
    impl PolicySource for Arc<Swappable> {
        fn text(&self) -> crate::BoxFuture<'_, Result<Arc<str>, Error>> {
            let text = self.0.lock().unwrap().clone();
            Box::pin(async move { Ok(text) })
        }
    }
    let source = Arc::new(Swappable(Mutex::new(Arc::from("not a policy"))));
    let store = PolicyStore::new(Box::new(source.clone()));
    assert!(store.current().await.is_err(), "nothing valid yet");
    *source.0.lock().unwrap() = Arc::from(DEMO);
    let valid = store.current().await.expect("the demo document loads");
    assert_eq!(valid.policies.len(), 4);
    *source.0.lock().unwrap() = Arc::from(DEMO.replace("\"DENY\"", "\"DENNY\""));
    let kept = store
        .current()
        .await
        .expect("the last valid document serves");
    assert!(Arc::ptr_eq(&valid, &kept));
    let edited = DEMO.replace("\"timeWindowMinutes\": 30 }", "\"timeWindowMinutes\": 31 }");
    *source.0.lock().unwrap() = Arc::from(edited);
    let newer = store.current().await.unwrap();
    assert!(!Arc::ptr_eq(&valid, &newer), "a valid edit replaces it");
}

#[test]
fn devices_are_read_from_pingones_list_with_os_and_location() {
    let list = serde_json::json!({ "_embedded": { "devices": [
        { "type": "SMS", "status": "ACTIVE" },
        { "type": "MOBILE", "status": "ACTIVE", "os": { "type": "iOS", "version": "17.4" },
          "location": { "latitude": 52.52, "longitude": 13.405, "updatedAt": "2027-01-15T08:00:00Z" } },
        { "type": "MOBILE", "status": "ACTIVATION_REQUIRED", "os": { "type": "Android", "version": "9" } },
        { "type": "MOBILE", "status": "ACTIVE", "os": { "type": "Android" } }
    ] } });
    let devices = mobile_devices(&list);
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert_eq!(devices[0].version, Version::parse("17.4"));
    let (at, when) = devices[0].location.unwrap();
    assert!(at.distance_m(Location::new(52.52, 13.405).unwrap()) < 1.0);
    assert_eq!(when, NOW, "2027-01-15T08:00:00Z");
}

// Properties over generated policies and requests.

const IPS: [&str; 6] = [
    "10.1.2.3",
    "192.0.2.7",
    "198.51.100.20",
    "2001:db8:c0::5",
    "2001:db8:bad::1",
    "203.0.113.5",
];
const NETWORKS: [&str; 4] = [
    "10.0.0.0/8",
    "192.0.2.0/24",
    "2001:db8:c0::/48",
    "2001:db8:bad::/48",
];
const BERLIN: (f64, f64) = (52.52, 13.405);
const MUNICH: (f64, f64) = (48.137, 11.575);

fn net(i: usize) -> IpNet {
    NETWORKS[i % NETWORKS.len()].parse().unwrap()
}

fn office() -> model::Office {
    model::Office {
        name: "Berlin HQ".into(),
        at: Location::new(BERLIN.0, BERLIN.1).unwrap(),
        radius_m: 300.0,
    }
}

fn any_action() -> impl Strategy<Value = Action> {
    proptest::sample::select(Action::ALL.to_vec())
}

/// Actions of the rules that match on something wrong or unknown (the parser refuses APPROVE).
fn strict_action() -> impl Strategy<Value = Action> {
    any_action().prop_filter("never APPROVE", |a| *a != Action::Approve)
}

fn rule_kind() -> impl Strategy<Value = RuleKind> {
    let networks = proptest::collection::vec(0..NETWORKS.len(), 1..3)
        .prop_map(|ix| ix.into_iter().map(net).collect::<Vec<_>>());
    let offices = any::<bool>().prop_map(|with| if with { vec![office()] } else { Vec::new() });
    let within = (1u64..120).prop_map(|m| Duration::from_secs(m * 60));
    prop_oneof![
        (any_action(), networks.clone()).prop_map(|(action, nets)| RuleKind::AccessingCountry {
            action,
            countries: vec!["XX".into()],
            ranges: nets.into_iter().map(|n| ("XX".to_string(), n)).collect(),
        }),
        (any_action(), networks.clone(), offices.clone()).prop_map(
            |(action, networks, offices)| {
                RuleKind::CompanyNetwork {
                    action,
                    networks,
                    offices,
                }
            }
        ),
        (any_action(), within.clone())
            .prop_map(|(action, within)| RuleKind::RecentAuthentication { action, within }),
        (any_action(), within.clone(), networks, offices).prop_map(
            |(action, within, networks, offices)| {
                RuleKind::RecentAuthenticationFromCompanyNetwork {
                    action,
                    within,
                    networks,
                    offices,
                }
            }
        ),
        (any_action(), within).prop_map(|(action, within)| {
            RuleKind::RecentAuthenticationFromOffice {
                action,
                within,
                offices: vec![office()],
            }
        }),
        strict_action().prop_map(|action| RuleKind::NewDevice { action }),
        strict_action().prop_map(|action| RuleKind::MobileOs {
            action,
            minimum: vec![
                ("iOS".into(), Version::parse("16").unwrap()),
                ("Android".into(), Version::parse("12").unwrap()),
            ],
        }),
        (strict_action(), strict_action(), 1u32..5).prop_map(|(first, second, count)| {
            RuleKind::LimitPushNotifications(PushLimit {
                window: Duration::from_secs(3600),
                levels: vec![
                    PushLevel {
                        count,
                        action: first,
                    },
                    PushLevel {
                        count: count + 2,
                        action: second,
                    },
                ],
            })
        }),
    ]
}

fn key_of(kind: &RuleKind) -> &'static str {
    match kind {
        RuleKind::AccessingCountry { .. } => "accessingCountryPolicy",
        RuleKind::CompanyNetwork { .. } => "companyNetworkPolicy",
        RuleKind::RecentAuthentication { .. } => "recentAuthenticationPolicy",
        RuleKind::RecentAuthenticationFromCompanyNetwork { .. } => {
            "recentAuthenticationFromCompanyNetworkPolicy"
        }
        RuleKind::RecentAuthenticationFromOffice { .. } => "recentAuthenticationFromOfficePolicy",
        RuleKind::NewDevice { .. } => "newDevicePolicy",
        RuleKind::MobileOs { .. } => "mobileOSPolicy",
        RuleKind::LimitPushNotifications(_) => "limitPushNotificationsPolicy",
    }
}

fn policy(targets: Option<Targets>) -> impl Strategy<Value = Policy> {
    (proptest::collection::vec(rule_kind(), 0..5), any_action()).prop_map(
        move |(kinds, default)| {
            let mut rules: Vec<Rule> = Vec::new();
            for kind in kinds {
                let key = key_of(&kind);
                if rules.iter().all(|r| r.key != key) {
                    rules.push(Rule {
                        key,
                        priority: rules.len() as u32 + 1,
                        kind,
                    });
                }
            }
            Policy {
                name: if targets.is_some() {
                    "Targeted".into()
                } else {
                    "Default Policy".into()
                },
                targets: targets.clone(),
                allowed_methods: Method::ALL.to_vec(),
                default_action: default,
                rules,
            }
        },
    )
}

fn policy_set() -> impl Strategy<Value = PolicySet> {
    let targeted = Targets {
        applications: vec!["payroll".into()],
        groups: vec!["Finance".into()],
    };
    (any::<bool>(), policy(Some(targeted)), policy(None)).prop_map(|(two, first, default)| {
        PolicySet {
            version: None,
            policies: if two {
                vec![first, default]
            } else {
                vec![default]
            },
        }
    })
}

/// Generated facts: every fact present, and what the fetches answer.
#[derive(Debug, Clone)]
struct Generated {
    facts: Facts,
    devices: Fetched<Vec<MobileDevice>>,
    pushes: Fetched<u32>,
}

fn generated() -> impl Strategy<Value = Generated> {
    let device = (
        any::<bool>(),
        10u32..18,
        any::<bool>(),
        prop_oneof![Just(1u64), Just(30u64)],
    )
        .prop_map(|(ios, version, in_berlin, age)| MobileDevice {
            os: Some(if ios { "iOS" } else { "Android" }.into()),
            version: Version::parse(&version.to_string()),
            location: Some((
                if in_berlin {
                    Location::new(BERLIN.0, BERLIN.1).unwrap()
                } else {
                    Location::new(MUNICH.0, MUNICH.1).unwrap()
                },
                NOW - age * 60,
            )),
        });
    (
        0..IPS.len(),
        any::<bool>(),
        any::<bool>(),
        (
            0u64..150,
            0..IPS.len(),
            proptest::sample::select(Method::ALL.to_vec()),
            any::<bool>(),
        ),
        proptest::collection::vec(device, 0..3),
        1u32..9,
    )
        .prop_map(
            |(ip_ix, payroll, finance, (ago, last_ip, method, at_office), devices, pushes)| {
                Generated {
                    facts: Facts {
                        ip: Some(ip(&Value::from(IPS[ip_ix]))),
                        application_id: Some(if payroll { "payroll" } else { "wiki" }.into()),
                        application_name: None,
                        groups: Some(if finance {
                            vec!["Finance".into()]
                        } else {
                            Vec::new()
                        }),
                        last_transaction: Some(LastTransaction {
                            at: NOW - ago * 60,
                            ip: Some(ip(&Value::from(IPS[last_ip]))),
                            method: Some(method),
                            location: Some(if at_office {
                                Location::new(BERLIN.0, BERLIN.1).unwrap()
                            } else {
                                Location::new(MUNICH.0, MUNICH.1).unwrap()
                            }),
                        }),
                        now: NOW,
                        ..Facts::default()
                    },
                    devices: Fetched::Known(devices),
                    pushes: Fetched::Known(pushes),
                }
            },
        )
}

/// Every way of knowing less: one fact at a time taken away.
fn with_less(g: &Generated) -> Vec<(&'static str, Generated)> {
    let mut out = Vec::new();
    let mut less = |name: &'static str, change: &dyn Fn(&mut Generated)| {
        let mut copy = g.clone();
        change(&mut copy);
        out.push((name, copy));
    };
    less("ip", &|g| g.facts.ip = None);
    less("application", &|g| g.facts.application_id = None);
    less("groups", &|g| g.facts.groups = None);
    less("last transaction", &|g| g.facts.last_transaction = None);
    less("last ip", &|g| {
        if let Some(last) = &mut g.facts.last_transaction {
            last.ip = None;
        }
    });
    less("last method", &|g| {
        if let Some(last) = &mut g.facts.last_transaction {
            last.method = None;
        }
    });
    less("last location", &|g| {
        if let Some(last) = &mut g.facts.last_transaction {
            last.location = None;
        }
    });
    less("devices", &|g| g.devices = Fetched::Unavailable);
    less("device versions", &|g| {
        if let Fetched::Known(devices) = &mut g.devices {
            devices.iter_mut().for_each(|d| d.version = None);
        }
    });
    less("device locations", &|g| {
        if let Fetched::Known(devices) = &mut g.devices {
            devices.iter_mut().for_each(|d| d.location = None);
        }
    });
    less("push count", &|g| g.pushes = Fetched::Unavailable);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn removing_facts_never_turns_a_refusal_or_challenge_into_approve(
        set in policy_set(),
        g in generated(),
    ) {
        let (full, _) = run(&set, g.facts.clone(), g.devices.clone(), g.pushes.clone());
        if full.action != Action::Approve {
            for (what, less) in with_less(&g) {
                let (decision, _) = run(&set, less.facts, less.devices, less.pushes);
                prop_assert_ne!(
                    decision.action,
                    Action::Approve,
                    "without the {} the answer {} became APPROVE: {:?}",
                    what,
                    full.action,
                    decision.reasons
                );
            }
        }
    }

    #[test]
    fn a_matching_top_priority_deny_rule_never_yields_approve(
        mut set in policy_set(),
        g in generated(),
        country in any::<bool>(),
        drop_ip in any::<bool>(),
    ) {
        let everywhere: Vec<IpNet> = vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
        for policy in &mut set.policies {
            let kind = if country {
                RuleKind::AccessingCountry {
                    action: Action::Deny,
                    countries: vec!["XX".into()],
                    ranges: everywhere.iter().map(|n| ("XX".to_string(), *n)).collect(),
                }
            } else {
                RuleKind::CompanyNetwork {
                    action: Action::Deny,
                    networks: everywhere.clone(),
                    offices: Vec::new(),
                }
            };
            policy.rules.retain(|r| r.key != key_of(&kind));
            policy.rules.insert(0, Rule { key: key_of(&kind), priority: 0, kind });
        }
        let mut facts = g.facts.clone();
        if drop_ip {
            facts.ip = None;
        }
        let (decision, fetched) = run(&set, facts, g.devices.clone(), g.pushes.clone());
        prop_assert_ne!(decision.action, Action::Approve, "{:?}", decision.reasons);
        if !drop_ip && decision.policy.is_some() {
            prop_assert_eq!(decision.action, Action::Deny);
            prop_assert!(fetched.is_empty(), "nothing is fetched past a matching first rule");
        }
    }
}
