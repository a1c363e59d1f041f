//! `evalPolicyPingID`: evaluates the PingID web authentication policy for a sign-in, before a
//! flow decides whether and how to challenge the user. The answer is Ping's `{action, id}`, and
//! with it the policy and rule that decided and the reasons, in words a help desk can read.
//!
//! Every rule of the policy is enforced, including the five Ping's own Evaluate Policy leaves
//! out (limit push notifications, mobile OS version, recent authentication from office, and the
//! "authenticating device in company offices" parts of the two company-network rules), with
//! IPv4 and IPv6 alike; the model and the evaluator are `shared::policy`.
//!
//! Facts:
//! - the client IP is `ip` (also spelled `policyFactsIp`; given both, they must agree); without
//!   it, the address the request came from as API Gateway (or the local gateway) saw the
//!   connection, never an `X-Forwarded-For` header;
//! - the application (`applicationId`, `applicationName`) and the user's `groups` choose the
//!   policy; a group target with no `groups` given cannot be told, so the answer fails closed
//!   (give `[]` for a user in no group);
//! - the last MFA from this browser: `lastMFATransaction` says where it is read,
//!   `pingoneCookieLastTransaction` from `policyRecentPingOneCookie`, `customLastTransaction`
//!   from `policyRecentAuthTimestamp`, `policyRecentIp`, `policyRecentAuthMethod` and our
//!   `policyRecentAuthLocation`; without `lastMFATransaction`, whichever is given;
//! - what costs a call is read only when a rule needs it: the user's devices (PingOne's device
//!   list: OS version, last reported location) and the push counter (the per-user counters of
//!   `shared::limits`, DynamoDB in a deployment).
//!
//! `userAgent` and `riskLevel` are accepted as the catalogue lists them; no PingID rule reads
//! them, and `riskLevel` is written to the audit line.
//!
//! Fail closed: a fact a rule needs and nobody gave makes the answer the strictest action the
//! policy configures (never `APPROVE`); with no valid policy document the answer is `DENY`.
//!
//! Audit: each decision is one log line at INFO, `audit = "policyDecision"`, keyed by the
//! evaluation id, with the user id, application, action, policy, rule and reasons and nothing
//! else about the user: two users on one browser get two lines and never share one.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::error::Problems;
use shared::policy::facts::{parse_ip, parse_timestamp};
use shared::policy::model::{Location, Method};
use shared::policy::{Facts, LastTransaction, audit, decide};
use shared::schema::Documented;
use shared::schema::output::{array, boolean, nullable, pingone_output, string};
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct EvalPolicy;

/// Where the last MFA transaction is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, shared::Values)]
pub enum LastTransactionSource {
    /// `policyRecentPingOneCookie`.
    #[serde(rename = "pingoneCookieLastTransaction")]
    Cookie,
    /// The `policyRecent*` fields.
    #[serde(rename = "customLastTransaction")]
    Custom,
}

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
    /// the client's IP address (IPv4 or IPv6)
    #[field(max_length = 100)]
    pub ip: Option<String>,
    /// the client's IP address, the connector's other name for ip
    #[field(max_length = 100)]
    pub policy_facts_ip: Option<String>,
    /// the browser's user agent
    #[field(max_length = 1000)]
    pub user_agent: Option<String>,
    /// the browser's user agent, the connector's other name for userAgent
    #[field(max_length = 1000)]
    pub policy_facts_user_agent: Option<String>,
    /// the application's id (policy targets)
    #[field(max_length = 255)]
    pub application_id: Option<String>,
    /// the application's id, the connector's other name for applicationId
    #[field(max_length = 255)]
    pub policy_facts_application_id: Option<String>,
    /// the application's name (policy targets)
    #[field(max_length = 255)]
    pub application_name: Option<String>,
    /// the application's name, the connector's other name for applicationName
    #[field(max_length = 255)]
    pub policy_facts_application_name: Option<String>,
    /// risk level from PingOne Protect (recorded in the audit line)
    #[field(one_of = RISK_LEVELS)]
    pub risk_level: Option<String>,
    /// risk level, the connector's other name for riskLevel
    #[field(one_of = RISK_LEVELS)]
    pub policy_facts_risk_level: Option<String>,
    /// the user's groups (policy targets); [] for none
    #[field(max_items = 1000, items(max_length = 256))]
    pub groups: Option<Vec<String>>,
    /// the user's groups, the connector's other name for groups
    #[field(max_items = 1000, items(max_length = 256))]
    pub policy_facts_groups: Option<Vec<String>>,
    /// where the last MFA from this browser is read from
    #[serde(rename = "lastMFATransaction")]
    pub last_mfa_transaction: Option<LastTransactionSource>,
    /// the last MFA as the flow keeps it for this browser and user: JSON (or base64url of it) with authTimestamp, ip, authMethod, location
    #[field(max_length = 4096)]
    pub policy_recent_ping_one_cookie: Option<String>,
    /// method of the last MFA (a PingID allowed-method name)
    #[field(one_of = &Method::NAMES)]
    pub policy_recent_auth_method: Option<String>,
    /// the client's IP address at the last MFA
    #[field(max_length = 100)]
    pub policy_recent_ip: Option<String>,
    /// when the last MFA was: RFC 3339, or milliseconds since the epoch
    #[field(max_length = 40)]
    pub policy_recent_auth_timestamp: Option<String>,
    /// where the authenticating device was at the last MFA: "latitude,longitude"
    #[field(max_length = 64)]
    pub policy_recent_auth_location: Option<String>,
}

/// PingOne Protect's risk levels.
const RISK_LEVELS: &[&str] = &["LOW", "MEDIUM", "HIGH"];

/// The value under either of an input's two names; given both, they must agree (the second
/// name is reported).
fn either<'a, T: PartialEq>(
    problems: &mut Problems,
    (name, value): (&str, &'a Option<T>),
    (other, other_value): (&str, &'a Option<T>),
) -> Option<&'a T> {
    match (value, other_value) {
        (Some(a), Some(b)) if a != b => {
            problems.add(other, format!("differs from {name}; give one of the two"));
            None
        }
        (Some(a), _) => Some(a),
        (None, b) => b.as_ref(),
    }
}

/// The request's facts, once the inputs agree.
struct Request {
    facts: Facts,
    application: Option<String>,
    risk_level: Option<String>,
}

impl Input {
    fn request(&self, source_ip: Option<std::net::IpAddr>, now: u64) -> Result<Request, Error> {
        let mut problems = Problems::default();
        let ip = either(
            &mut problems,
            ("ip", &self.ip),
            ("policyFactsIp", &self.policy_facts_ip),
        );
        let ip = match ip {
            Some(text) => {
                let parsed = parse_ip(text);
                if parsed.is_none() {
                    let field = if self.ip.is_some() {
                        "ip"
                    } else {
                        "policyFactsIp"
                    };
                    problems.add(field, "is not an IPv4 or IPv6 address");
                }
                parsed
            }
            None => source_ip.map(shared::policy::facts::canonical_ip),
        };
        either(
            &mut problems,
            ("userAgent", &self.user_agent),
            ("policyFactsUserAgent", &self.policy_facts_user_agent),
        );
        let application_id = either(
            &mut problems,
            ("applicationId", &self.application_id),
            (
                "policyFactsApplicationId",
                &self.policy_facts_application_id,
            ),
        )
        .cloned();
        let application_name = either(
            &mut problems,
            ("applicationName", &self.application_name),
            (
                "policyFactsApplicationName",
                &self.policy_facts_application_name,
            ),
        )
        .cloned();
        let risk_level = either(
            &mut problems,
            ("riskLevel", &self.risk_level),
            ("policyFactsRiskLevel", &self.policy_facts_risk_level),
        )
        .cloned();
        let groups = either(
            &mut problems,
            ("groups", &self.groups),
            ("policyFactsGroups", &self.policy_facts_groups),
        )
        .cloned();
        let last_transaction = self.last_transaction(&mut problems);
        if !problems.is_empty() {
            return Err(problems.into_error());
        }
        Ok(Request {
            application: application_id.clone().or(application_name.clone()),
            risk_level,
            facts: Facts {
                ip,
                application_id,
                application_name,
                groups,
                last_transaction,
                now,
                ..Facts::default()
            },
        })
    }

    /// The last MFA from this browser, from the source `lastMFATransaction` names.
    fn last_transaction(&self, problems: &mut Problems) -> Option<LastTransaction> {
        let custom_fields = [
            (
                "policyRecentAuthTimestamp",
                self.policy_recent_auth_timestamp.is_some(),
            ),
            ("policyRecentIp", self.policy_recent_ip.is_some()),
            (
                "policyRecentAuthMethod",
                self.policy_recent_auth_method.is_some(),
            ),
            (
                "policyRecentAuthLocation",
                self.policy_recent_auth_location.is_some(),
            ),
        ];
        let custom_given = custom_fields.iter().any(|(_, given)| *given);
        let cookie_given = self.policy_recent_ping_one_cookie.is_some();
        let source = match self.last_mfa_transaction {
            Some(source) => source,
            None if cookie_given && custom_given => {
                problems.add(
                    "lastMFATransaction",
                    "is required when both policyRecentPingOneCookie and policyRecent* facts are given",
                );
                return None;
            }
            None if cookie_given => LastTransactionSource::Cookie,
            None if custom_given => LastTransactionSource::Custom,
            None => return None,
        };
        match source {
            LastTransactionSource::Cookie => {
                for (field, _) in custom_fields.iter().filter(|(_, given)| *given) {
                    problems.add(
                        field,
                        "is not read when lastMFATransaction is pingoneCookieLastTransaction",
                    );
                }
                let cookie = self.policy_recent_ping_one_cookie.as_deref()?;
                LastTransaction::from_cookie(cookie)
                    .map_err(|problem| problems.add("policyRecentPingOneCookie", problem))
                    .ok()
            }
            LastTransactionSource::Custom => {
                if cookie_given {
                    problems.add(
                        "policyRecentPingOneCookie",
                        "is not read when lastMFATransaction is customLastTransaction",
                    );
                }
                let Some(timestamp) = &self.policy_recent_auth_timestamp else {
                    if custom_given {
                        problems.add(
                            "policyRecentAuthTimestamp",
                            "is required with the other policyRecent* facts",
                        );
                    }
                    return None;
                };
                let at = parse_timestamp(timestamp);
                if at.is_none() {
                    problems.add(
                        "policyRecentAuthTimestamp",
                        "must be RFC 3339 (2027-01-15T08:00:00Z) or milliseconds since the epoch",
                    );
                }
                let ip = self.policy_recent_ip.as_deref().map(|text| {
                    let ip = parse_ip(text);
                    if ip.is_none() {
                        problems.add("policyRecentIp", "is not an IPv4 or IPv6 address");
                    }
                    ip
                });
                let location = self.policy_recent_auth_location.as_deref().map(|text| {
                    let location = Location::parse(text);
                    if location.is_none() {
                        problems.add(
                            "policyRecentAuthLocation",
                            "must be \"latitude,longitude\" in degrees",
                        );
                    }
                    location
                });
                Some(LastTransaction {
                    at: at?,
                    ip: ip.flatten(),
                    // The schema admits only method names.
                    method: self
                        .policy_recent_auth_method
                        .as_deref()
                        .and_then(Method::parse),
                    location: location.flatten(),
                })
            }
        }
    }
}

/// Ping's answer, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    /// `{action, id}`, as Ping's Evaluate Policy answers.
    pub raw_response: Value,
    /// 200: the decision was made here, not by a PingOne call.
    pub status_code: u16,
    /// No upstream headers: the decision was made here.
    pub headers: shared::pingone::Headers,
    /// What to do.
    pub action: String,
    /// The evaluation id, which keys the audit line.
    pub id: String,
    /// The policy that applied.
    pub matched_policy: Option<String>,
    /// The rule that decided (its key in the policy), when one did.
    pub matched_rule: Option<String>,
    /// Why, sentence by sentence.
    pub reasons: Vec<String>,
    /// The methods the user may authenticate with.
    pub allowed_methods: Vec<String>,
    /// Whether a missing fact or document decided.
    pub failed_closed: bool,
}

impl Documented for Output {
    fn json_schema() -> Value {
        pingone_output(
            "PolicyDecisionOutput",
            "The PingID policy decision: rawResponse {action, id} as Ping's, and why",
            &[
                (
                    "action",
                    string("APPROVE, DENY, AUTHENTICATE or one method's action (SMS, OTP_ONLY, …)"),
                ),
                (
                    "id",
                    string("The evaluation id; it keys the audit log line"),
                ),
                ("matchedPolicy", nullable(string("The policy that applied"))),
                (
                    "matchedRule",
                    nullable(string(
                        "The rule that decided, by its key; null for the policy's default action",
                    )),
                ),
                ("reasons", array(string("One sentence"), "Why, in order")),
                (
                    "allowedMethods",
                    array(
                        string("A PingID method name"),
                        "The methods the user may authenticate with",
                    ),
                ),
                (
                    "failedClosed",
                    boolean("Whether a missing fact or policy document decided"),
                ),
            ],
        )
    }
}

impl Handler for EvalPolicy {
    const ID: &'static str = "evalPolicyPingID";
    const SUMMARY: &'static str = "Evaluates the PingID policy for a sign-in: the action, and the policy, rule and reasons behind it.";
    type Input = Input;
    type Output = Output;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Output, Error> {
        let now = shared::clock::unix_seconds(std::time::SystemTime::now());
        let Request {
            facts,
            application,
            risk_level,
        } = input.request(invocation.source_ip(), now)?;
        let decision = decide(invocation, &input.user_id, facts).await?.decision;
        let id = uuid::Uuid::new_v4().to_string();
        audit(
            &id,
            &input.user_id,
            application.as_deref(),
            &decision,
            risk_level.as_deref(),
        );
        Ok(Output {
            raw_response: json!({ "action": decision.action.name(), "id": id }),
            status_code: 200,
            headers: Default::default(),
            action: decision.action.name().to_string(),
            id,
            matched_policy: decision.policy,
            matched_rule: decision.rule.map(str::to_string),
            reasons: decision.reasons,
            allowed_methods: decision
                .allowed_methods
                .iter()
                .map(|method| method.name().to_string())
                .collect(),
            failed_closed: decision.failed_closed,
        })
    }
}
