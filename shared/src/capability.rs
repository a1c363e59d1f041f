//! The capability abstraction: an id, an input (its schema derived), one async handler over
//! ports, an output.
//!
//! A function crate implements [`Handler`] (typed input and output). Everything else sees it as
//! a [`Capability`] (object-safe, JSON in and out), so the Lambda adapter and the local gateway
//! run every capability through the same [`dispatch`]: parse, validate, call within the time
//! budget, answer with the output or the error body.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::BoxFuture;
use crate::budget::Deadline;
use crate::error::{Error, FieldProblem};
use crate::journey::JourneyPorts;
use crate::legacy::LegacyPorts;
use crate::limits::{OneTimeDestinations, UserLimits};
use crate::pingone::{PingOne, PingOneCalls};
use crate::policy::PolicyStore;
use crate::schema::{Declared, Documented, Schema};

/// What handlers call out to, built once per process and shared by every invocation.
#[derive(Clone)]
pub struct Ports {
    /// The PingOne API.
    pub pingone: Arc<dyn PingOne>,
    /// The time budget of one call.
    pub budget: Duration,
    /// The legacy connector's ports; `None` in functions of the PingOne-based connector.
    pub legacy: Option<LegacyPorts>,
    /// Whether an enrollment event may create a device that is `ACTIVE` at once
    /// (`PINGID_ALLOW_ACTIVE_ENROLLMENT_FROM_EVENTS`; off by default).
    pub allow_active_from_events: bool,
    /// Whether a request may ask for test mode, in which PingOne answers with the passcode
    /// (`test.otp`) instead of sending it (`PINGID_ALLOW_TEST_MODE`; off by default: a passcode
    /// in an answer is no second factor).
    pub allow_test_mode: bool,
    /// The per-user limits on sends and passcode checks.
    pub limits: UserLimits,
    /// Where one-time devices may send passcodes (`PINGID_ONE_TIME_DESTINATIONS`).
    pub one_time_destinations: OneTimeDestinations,
    /// The PingID policy document (`PINGID_POLICY_SECRET_ID`); `None` where no function of the
    /// process evaluates policy.
    pub policies: Option<Arc<PolicyStore>>,
    /// The journeys' continuation key and single-use record (`PINGID_JOURNEY_SECRET_ID`);
    /// `None` outside the journey functions.
    pub journeys: Option<JourneyPorts>,
}

/// Where a call came from, for the few decisions that depend on who could have sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Through the API (its bearer token checked), the local gateway, or a direct invocation
    /// (which IAM grants on the function itself).
    Api,
    /// An enrollment event, from the SQS queue or EventBridge: no API credential was checked.
    Event,
}

/// One call of a capability: its ports, its deadline, its correlation id.
pub struct Invocation<'a> {
    ports: &'a Ports,
    deadline: Deadline,
    correlation_id: &'a str,
    origin: Origin,
    source_ip: Option<IpAddr>,
}

impl<'a> Invocation<'a> {
    /// A call through the API starting now with the ports' budget.
    pub fn new(ports: &'a Ports, correlation_id: &'a str) -> Self {
        Self::from(ports, correlation_id, Origin::Api)
    }

    /// A call from `origin` starting now with the ports' budget.
    pub fn from(ports: &'a Ports, correlation_id: &'a str, origin: Origin) -> Self {
        Self {
            ports,
            deadline: Deadline::after(ports.budget),
            correlation_id,
            origin,
            source_ip: None,
        }
    }

    /// The same call, made from `source_ip` (the connection's address as API Gateway or the
    /// local gateway saw it; never a header the caller could write).
    pub fn with_source_ip(mut self, source_ip: Option<IpAddr>) -> Self {
        self.source_ip = source_ip;
        self
    }

    /// The address the request came from, when it came over HTTP.
    pub fn source_ip(&self) -> Option<IpAddr> {
        self.source_ip
    }

    /// The policy document's store.
    pub fn policies(&self) -> Option<&PolicyStore> {
        self.ports.policies.as_deref()
    }

    /// Whether this call may create a device that is `ACTIVE` at once (no pairing passcode to
    /// the user): through the API, or from an event where the deployment allows it. Anyone who
    /// may send to the account's enrollment queue or bus is not thereby trusted to pair a phone
    /// of their choosing as someone's MFA device.
    pub fn may_create_active_devices(&self) -> bool {
        self.origin == Origin::Api || self.ports.allow_active_from_events
    }

    /// Whether this deployment lets requests ask for test mode.
    pub fn test_mode_allowed(&self) -> bool {
        self.ports.allow_test_mode
    }

    /// The per-user limits on sends and passcode checks.
    pub fn limits(&self) -> &UserLimits {
        &self.ports.limits
    }

    /// Where one-time devices may send passcodes.
    pub fn one_time_destinations(&self) -> OneTimeDestinations {
        self.ports.one_time_destinations
    }

    /// The PingOne calls of this invocation (each bound to its deadline).
    pub fn pingone(&self) -> PingOneCalls<'_> {
        PingOneCalls::new(self.ports.pingone.as_ref(), self.deadline)
    }

    /// The legacy connector's ports (configured by `PINGID_PROPERTIES_SECRET_ID`).
    pub fn legacy(&self) -> Result<&LegacyPorts, Error> {
        self.ports.legacy.as_ref().ok_or_else(|| {
            Error::ConfigUnavailable(
                "no pingid.properties configured (PINGID_PROPERTIES_SECRET_ID)".into(),
            )
        })
    }

    /// The journeys' ports (configured by `PINGID_JOURNEY_SECRET_ID`).
    pub fn journeys(&self) -> Result<&JourneyPorts, Error> {
        self.ports.journeys.as_ref().ok_or_else(|| {
            Error::ConfigUnavailable(
                "no journey secret configured (PINGID_JOURNEY_SECRET_ID)".into(),
            )
        })
    }

    /// The id that ties the answer to the log lines.
    pub fn correlation_id(&self) -> &str {
        self.correlation_id
    }

    /// When the answer is due.
    pub fn deadline(&self) -> Deadline {
        self.deadline
    }
}

/// A capability as its crate writes it.
pub trait Handler: Send + Sync + 'static {
    /// Ping's capability id, e.g. `readAllDevicesPingID` (also the route segment).
    const ID: &'static str;
    /// One sentence saying what the capability does (the API documentation's summary).
    const SUMMARY: &'static str;
    /// The typed input: the validated `properties`; its schema is derived from it.
    type Input: DeserializeOwned + Send + Declared;
    /// The output object, with its documented JSON Schema.
    type Output: Serialize + Documented;

    /// Does the work.
    fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, Error>> + Send;
}

/// A capability as the adapters see it: object-safe, JSON in and out.
pub trait Capability: Send + Sync {
    /// Ping's capability id.
    fn id(&self) -> &'static str;
    /// One sentence saying what the capability does.
    fn summary(&self) -> &'static str;
    /// The input schema.
    fn schema(&self) -> &'static Schema;
    /// The JSON Schema of the output object.
    fn output_schema(&self) -> Value;
    /// Runs the handler on validated `properties`.
    fn call<'a>(
        &'a self,
        invocation: &'a Invocation<'a>,
        properties: Map<String, Value>,
    ) -> BoxFuture<'a, Result<Value, Error>>;
}

impl<H: Handler> Capability for H {
    fn id(&self) -> &'static str {
        H::ID
    }

    fn summary(&self) -> &'static str {
        H::SUMMARY
    }

    fn schema(&self) -> &'static Schema {
        H::Input::schema()
    }

    fn output_schema(&self) -> Value {
        H::Output::json_schema()
    }

    fn call<'a>(
        &'a self,
        invocation: &'a Invocation<'a>,
        properties: Map<String, Value>,
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(async move {
            // The schema has accepted these properties, so a mismatch here is our bug.
            let input: H::Input =
                serde_json::from_value(Value::Object(properties)).map_err(|e| {
                    Error::Internal(format!("{}: schema and input type disagree: {e}", H::ID))
                })?;
            let output = self.handle(invocation, input).await?;
            serde_json::to_value(output).map_err(|e| Error::Internal(e.to_string()))
        })
    }
}

/// The answer to one call, before it is framed for API Gateway, Lambda or the local gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// The output object, or the error body.
    pub body: Value,
    /// The stable error code, when the call failed.
    pub error_code: Option<&'static str>,
    /// `Retry-After` seconds, for rate limiting.
    pub retry_after_seconds: Option<u64>,
}

impl Reply {
    /// The reply for a failure.
    pub fn from_error(error: &Error, correlation_id: &str) -> Self {
        let body = error.body(correlation_id);
        Self {
            status: body.http_response_code,
            retry_after_seconds: body.retry_after_seconds,
            error_code: Some(body.code),
            body: serde_json::to_value(body).unwrap_or(Value::Null),
        }
    }
}

impl Reply {
    /// The HTTP headers every front end (API Gateway, local gateway) sends with this reply.
    pub fn headers(&self, correlation_id: &str) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            ("content-type", "application/json".to_string()),
            // MFA answers are per user and per moment: no cache may keep them.
            ("cache-control", "no-store".to_string()),
            ("x-correlation-id", correlation_id.to_string()),
        ];
        if let Some(seconds) = self.retry_after_seconds {
            headers.push(("retry-after", seconds.to_string()));
        }
        if self.error_code == Some("METHOD_NOT_ALLOWED") {
            headers.push(("allow", "POST".to_string()));
        }
        headers
    }
}

/// Runs one call of `capability` on a raw request body: JSON parse, schema validation, the
/// handler within the time budget. Never panics on input; every outcome is a [`Reply`].
/// `source_ip` is the connection's address as the front end saw it.
pub async fn dispatch(
    capability: &dyn Capability,
    ports: &Ports,
    body: &[u8],
    correlation_id: &str,
    source_ip: Option<IpAddr>,
) -> Reply {
    match parse_body(body) {
        Ok(request) => {
            run(
                capability,
                ports,
                request,
                correlation_id,
                Origin::Api,
                source_ip,
            )
            .await
        }
        Err(error) => finish(capability, Err(error), 0, correlation_id),
    }
}

/// Like [`dispatch`], for a request that is JSON already (direct Lambda invocation).
pub async fn dispatch_json(
    capability: &dyn Capability,
    ports: &Ports,
    request: Value,
    correlation_id: &str,
    origin: Origin,
) -> Reply {
    run(capability, ports, request, correlation_id, origin, None).await
}

async fn run(
    capability: &dyn Capability,
    ports: &Ports,
    request: Value,
    correlation_id: &str,
    origin: Origin,
    source_ip: Option<IpAddr>,
) -> Reply {
    let started = std::time::Instant::now();
    let outcome = async {
        let properties = capability.schema().validate(&request)?;
        let invocation = Invocation::from(ports, correlation_id, origin).with_source_ip(source_ip);
        // Backstop: the PingOne client already ends each call at the deadline.
        tokio::time::timeout_at(
            invocation.deadline().instant(),
            capability.call(&invocation, properties),
        )
        .await
        .unwrap_or(Err(Error::UpstreamTimeout))
    }
    .await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    finish(capability, outcome, elapsed_ms, correlation_id)
}

/// Parses a request body; the problem is reported like any validation failure.
pub fn parse_body(body: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(body).map_err(|e| {
        Error::Validation(vec![FieldProblem::new(
            "body",
            format!("is not valid JSON ({e})"),
        )])
    })
}

fn finish(
    capability: &dyn Capability,
    outcome: Result<Value, Error>,
    elapsed_ms: u64,
    correlation_id: &str,
) -> Reply {
    let id = capability.id();
    match outcome {
        Ok(output) => {
            tracing::info!(capability = id, status = 200, elapsed_ms, "call finished");
            Reply {
                status: 200,
                body: output,
                error_code: None,
                retry_after_seconds: None,
            }
        }
        Err(error) => {
            let reply = Reply::from_error(&error, correlation_id);
            let (status, code) = (reply.status, error.code());
            if error.is_server_fault() {
                // The full message (not the caller's copy) helps the operator; it holds no
                // secret: errors are built to carry none.
                tracing::error!(capability = id, status, code, elapsed_ms, error = %error, "call failed");
            } else {
                tracing::info!(capability = id, status, code, elapsed_ms, "call refused");
            }
            reply
        }
    }
}
