//! The two PingID subflows as journeys (issue 17): state machines a flow drives with a few
//! calls, the product enforcing the rules between them. This module holds their rules that need
//! no call; the handlers (`functions/journey-*`) gather the facts and make the calls.
//!
//! - [`authentication`]: the authentication journey's rules that need no call (switches,
//!   mandatory methods, the policy's say);
//! - [`registration`]: the device-registration journey's: the methods a user may register,
//!   with what is paired and the room left, its steps and the actions each takes;
//! - [`mandatory`]: the seed's `mandatoryAuthenticationMethods` variable, parsed exactly;
//! - [`actions`]: the client's next move checked against the step, and the command it becomes;
//! - [`steps`]: what each answer shows and the actions it offers, from PingOne's
//!   authentication state;
//! - [`continuation`]: the sealed, single-use token that carries a journey from one call to the
//!   next, bound to its user and its journey;
//! - [`state`]: what the continuations carry, and the hand-over between the two journeys.

pub mod actions;
pub mod authentication;
pub mod continuation;
pub mod mandatory;
pub mod registration;
pub mod state;
pub mod steps;

use std::sync::Arc;

use serde::Serialize;

use crate::error::Error;
use crate::legacy::UsedOnce;
use crate::secrets::SecretCache;
use continuation::Continuations;
use steps::ActionSpec;

/// The two journeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    /// PingID Authentication Subflow: `POST /v1/journeys/authentication`.
    Authentication,
    /// PingID Device Registration Subflow: `POST /v1/journeys/device-registration`.
    DeviceRegistration,
}

impl Journey {
    /// The route segment, also what a continuation is bound to.
    pub fn name(self) -> &'static str {
        match self {
            Journey::Authentication => "authentication",
            Journey::DeviceRegistration => "device-registration",
        }
    }
}

/// Where the journeys keep what lasts between calls: the continuation key's secret
/// (`PINGID_JOURNEY_SECRET_ID`) and the single-use record (`PINGID_USED_ONCE_TABLE`).
#[derive(Clone)]
pub struct JourneyPorts {
    /// The secret cache the key is read through (rotating the secret takes effect within the
    /// cache's TTL; continuations sealed with the old key are then refused).
    pub secrets: Arc<SecretCache>,
    /// The secret holding the key material (any text of at least 32 characters).
    pub secret_id: String,
    /// Where spent continuations are recorded.
    pub used: Arc<dyn UsedOnce>,
}

/// The shortest key material accepted: 32 characters of a generated secret are ≥ 128 bits.
pub const MIN_KEY_CHARS: usize = 32;

impl JourneyPorts {
    /// The continuations of this deployment, keyed by the journey secret as it is now. The
    /// derivation is one HMAC over the cached secret: cheaper than keeping a derived key in
    /// step with the secret's rotation.
    pub async fn continuations(&self) -> Result<Continuations, Error> {
        let secret = self
            .secrets
            .get(&self.secret_id)
            .await
            .map_err(|e| Error::ConfigUnavailable(format!("the journey secret: {e}")))?;
        let material = secret.expose().trim();
        if material.chars().count() < MIN_KEY_CHARS {
            return Err(Error::ConfigUnavailable(format!(
                "the journey secret must hold at least {MIN_KEY_CHARS} characters"
            )));
        }
        Ok(Continuations::new(material.as_bytes()))
    }
}

/// One answer of a journey: the step and what its screen needs, the actions the client may
/// take next, and the continuation to send with the next one (none once the journey is over).
#[derive(Clone, Serialize)]
pub struct Answer<S> {
    /// The step, tagged `step`.
    #[serde(flatten)]
    pub step: S,
    /// What the client may do now.
    pub actions: Vec<ActionSpec>,
    /// The token for the next call; absent at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation: Option<String>,
}

/// The step and actions, never the continuation: a token is no more printed than a secret.
impl<S: std::fmt::Debug> std::fmt::Debug for Answer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("step", &self.step)
            .field("actions", &self.actions)
            .field(
                "continuation",
                &self.continuation.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// One step of a journey's documented output: its name, what it means, its own fields (those
/// in `optional` may be absent), and whether the journey ends there.
pub struct StepDoc<'a> {
    /// The `step` value.
    pub step: &'static str,
    /// What it means for the screen.
    pub description: &'static str,
    /// Its fields besides `step`, `actions` and `continuation`.
    pub fields: &'a [(&'static str, serde_json::Value)],
    /// The fields that may be absent.
    pub optional: &'a [&'static str],
    /// Whether the journey is over (no `continuation`).
    pub is_final: bool,
}

/// The JSON Schema of a journey's answers: one `oneOf` branch per step, each with its `step`
/// constant, its fields, the `actions` and (unless final) the `continuation`.
pub fn answer_schema(title: &str, description: &str, steps: &[StepDoc<'_>]) -> serde_json::Value {
    use crate::schema::output::{array, object, string, titled};
    let action = object(
        "An action the client may take next",
        &[
            ("action", string("The action value to send")),
            (
                "journey",
                string("The journey that takes it: POST /v1/journeys/{journey}"),
            ),
            (
                "fields",
                serde_json::json!({
                    "type": "object",
                    "description": "Its input fields, each with what it holds",
                    "additionalProperties": { "type": "string" },
                }),
            ),
        ],
        &[],
    );
    let branches: Vec<serde_json::Value> = steps
        .iter()
        .map(|doc| {
            let mut fields = vec![(
                "step",
                serde_json::json!({ "type": "string", "const": doc.step, "description": doc.description }),
            )];
            fields.extend(doc.fields.iter().cloned());
            fields.push(("actions", array(action.clone(), "What the client may do now")));
            let mut optional = doc.optional.to_vec();
            if !doc.is_final {
                fields.push((
                    "continuation",
                    string("The token to send with the next action: sealed, single-use, valid 10 minutes"),
                ));
            }
            if doc.is_final {
                optional.push("continuation");
            }
            titled(&format!("{title}{}", pascal(doc.step)), object(doc.description, &fields, &optional))
        })
        .collect();
    serde_json::json!({ "title": title, "description": description, "oneOf": branches })
}

/// `PUSH_PENDING` → `PushPending`.
fn pascal(step: &str) -> String {
    step.split('_')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_string() + &chars.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect()
}
