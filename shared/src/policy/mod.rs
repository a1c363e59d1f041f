//! PingID web authentication policy: the model ([`model`]), the document parser
//! ([`document`]), the facts of a request ([`facts`]) and the evaluator ([`evaluate`]), which is
//! pure: facts in, decision out. What costs a call (the document, the user's devices, the push
//! counter) comes through ports; [`PolicyStore`] keeps the document.
//!
//! The store reads the document from a [`PolicySource`] on each evaluation (the source caches
//! it like a secret), parses it only when its text changed, and keeps the last valid one: an
//! invalid document is refused with every problem logged by path, and the previous document
//! goes on serving. With no valid document at all the answer is `DENY` (fail closed).

pub mod document;
pub mod evaluate;
pub mod facts;
pub mod model;
pub mod source;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};

use serde_json::Value;

pub use document::{InvalidDocument, parse};
pub use evaluate::{Decision, Need, Outcome, evaluate};
pub use facts::{Facts, Fetched, LastTransaction, MobileDevice};
pub use model::{Action, Method, PolicySet};
pub use source::{FilePolicy, PingIdPolicy, PolicySource, SecretPolicy};

/// The policy document of a process: the source, and the last valid document parsed from it.
pub struct PolicyStore {
    source: Box<dyn PolicySource>,
    last: Mutex<Option<(Arc<str>, Arc<PolicySet>)>>,
}

/// Why no document could be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl PolicyStore {
    /// A store over `source`.
    pub fn new(source: Box<dyn PolicySource>) -> Self {
        Self {
            source,
            last: Mutex::new(None),
        }
    }

    /// The document to evaluate with: the source's, when valid; otherwise the last valid one.
    pub async fn current(&self) -> Result<Arc<PolicySet>, Unavailable> {
        let text = match self.source.text().await {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!(code = error.code(), error = %error, "the policy document could not be read");
                return self.last_valid("the policy document could not be read");
            }
        };
        if let Some((kept, set)) = &*self.lock()
            && (Arc::ptr_eq(kept, &text) || **kept == *text)
        {
            return Ok(set.clone());
        }
        match parse(&text) {
            Ok(set) => {
                let set = Arc::new(set);
                *self.lock() = Some((text, set.clone()));
                tracing::info!(
                    policies = set.policies.len(),
                    version = set.version,
                    "policy document loaded"
                );
                Ok(set)
            }
            Err(InvalidDocument(problems)) => {
                for problem in &problems {
                    tracing::error!(
                        field = %problem.field,
                        problem = %problem.problem,
                        "the policy document is invalid; the last valid one stays in force"
                    );
                }
                self.last_valid("the policy document is invalid")
            }
        }
    }

    fn last_valid(&self, why: &str) -> Result<Arc<PolicySet>, Unavailable> {
        self.lock()
            .as_ref()
            .map(|(_, set)| set.clone())
            .ok_or_else(|| Unavailable(why.to_string()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Arc<str>, Arc<PolicySet>)>> {
        self.last.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The user's PingID app devices in PingOne's device list (`_embedded.devices`): type
/// `MOBILE`, with `os.type`, `os.version` and the last `location` the app reported
/// (`latitude`, `longitude`, `updatedAt`). [I] PingOne documents `os` on mobile devices; the
/// location is what the PingID app reports to PingID for its office rules, and a tenant whose
/// answers carry none leaves office conditions unknown (failing closed).
pub fn mobile_devices(list: &Value) -> Vec<MobileDevice> {
    let devices = list
        .pointer("/_embedded/devices")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    devices
        .iter()
        .filter(|device| device.get("type").and_then(Value::as_str) == Some("MOBILE"))
        .filter(|device| {
            device.get("status").and_then(Value::as_str) != Some("ACTIVATION_REQUIRED")
        })
        .map(|device| MobileDevice {
            os: device
                .pointer("/os/type")
                .and_then(Value::as_str)
                .map(str::to_string),
            version: device
                .pointer("/os/version")
                .and_then(Value::as_str)
                .and_then(model::Version::parse),
            location: device.get("location").and_then(|location| {
                let at = model::Location::new(
                    location.get("latitude")?.as_f64()?,
                    location.get("longitude")?.as_f64()?,
                )?;
                let updated = location.get("updatedAt")?.as_str()?;
                Some((at, facts::parse_rfc3339(updated)?))
            }),
        })
        .collect()
}

/// A decision, and the user's device list (PingOne's body) when a rule read it: a caller that
/// needs the list too does not read it a second time.
pub struct Decided {
    /// The decision.
    pub decision: Decision,
    /// PingOne's device list of the user, when a rule needed the devices and PingOne answered.
    pub device_list: Option<Value>,
}

/// The decision for `user_id` on `facts`, fetching what the applicable rules need: the user's
/// PingID app devices (one PingOne read) and the push counter (the per-user limits table), each
/// only when a rule reaches for it. A fact that cannot be fetched is unavailable, and the rule
/// needing it fails closed. Without a valid document the answer is `DENY`.
pub async fn decide(
    invocation: &crate::Invocation<'_>,
    user_id: &str,
    mut facts: Facts,
) -> Result<Decided, crate::Error> {
    let store = invocation.policies().ok_or_else(|| {
        crate::Error::ConfigUnavailable(
            "no policy document configured (PINGID_POLICY_SECRET_ID)".into(),
        )
    })?;
    let mut device_list = None;
    let set = match store.current().await {
        Err(unavailable) => {
            return Ok(Decided {
                decision: Decision::without_policy(&unavailable.0),
                device_list,
            });
        }
        Ok(set) => set,
    };
    loop {
        match evaluate(&set, &facts) {
            Outcome::Decided(decision) => {
                return Ok(Decided {
                    decision,
                    device_list,
                });
            }
            Outcome::Needs(Need::Devices) => {
                facts.devices = match invocation.pingone().list_devices(user_id).await {
                    Ok(response) => {
                        let devices = Fetched::Known(mobile_devices(&response.body));
                        device_list = Some(response.body);
                        devices
                    }
                    Err(error) => {
                        tracing::warn!(code = error.code(), error = %error, "the user's devices could not be read");
                        Fetched::Unavailable
                    }
                };
            }
            Outcome::Needs(Need::PushRequests { window }) => {
                facts.push_requests = match invocation
                    .limits()
                    .count_push_request(user_id, window)
                    .await
                {
                    Ok(count) => Fetched::Known(count),
                    Err(error) => {
                        tracing::warn!(code = error.code(), error = %error, "the push counter could not be read");
                        Fetched::Unavailable
                    }
                };
            }
        }
    }
}

/// Writes the decision's audit line, keyed by its evaluation id `id`: who, what, which policy
/// and rule, and why; nothing personal but the user's id (no address, agent or location).
pub fn audit(
    id: &str,
    user_id: &str,
    application: Option<&str>,
    decision: &Decision,
    risk_level: Option<&str>,
) {
    tracing::info!(
        audit = "policyDecision",
        evaluationId = %id,
        userId = %user_id,
        application = application.unwrap_or(""),
        action = decision.action.name(),
        matchedPolicy = decision.policy.as_deref().unwrap_or(""),
        matchedRule = decision.rule.unwrap_or(""),
        failedClosed = decision.failed_closed,
        riskLevel = risk_level.unwrap_or(""),
        reasons = ?decision.reasons,
        "policy decision"
    );
}
