//! The authentication journey, `POST /v1/journeys/authentication`: Ping's "PingID
//! Authentication Subflow" as a state machine a flow drives with a few calls.
//!
//! **Start** with `pingIdUserId` and the subflow's variables (`AdminMessage`, `SMSBackup`,
//! `phoneBackup`, `emailBackup`, `useCode`, `otpFallback`, `mandatoryAuthenticationMethods`),
//! and `policy` facts when the deployment evaluates policy first. **Continue** with the
//! `continuation` of the last answer and an `action`. Every answer is the next step, with what
//! its screen needs, the `actions` on offer and their fields, and a fresh continuation until
//! the journey ends (`COMPLETED`, `FAILED`, `DENIED`).
//!
//! The order of the start, each part of the seed's subflow:
//! 1. Policy, when `policy` is given: `DENY` ends the journey before anything is sent;
//!    `APPROVE` completes it without a challenge; any other action goes on, and the methods it
//!    allows are the switches' defaults.
//! 2. Mandatory methods: unless the user has an `ACTIVE` device of every listed method,
//!    `REGISTRATION_REQUIRED` lists them all, `paired` or `not paired`, and its continuation is
//!    the device-registration journey's, limited to the missing ones. That journey hands back
//!    (`continue`) once one is paired, and the check runs again.
//! 3. Device selection: with more than one usable device, or any backup on, the user picks
//!    (`DEVICE_SELECTION`: devices masked, backups, the admin message); otherwise the one
//!    device is used at once.
//! 4. The challenge, as PingOne's device authentication goes: `PUSH_PENDING` (`poll`, and
//!    `useCode` when Use Code is on), `OTP_REQUIRED` (`otp`; a wrong passcode shows the step
//!    again with the attempts left), `ASSERTION_REQUIRED` (`assertion`).
//!
//! Each switch is set in one place: the variable when the flow sets it, else the policy's
//! methods (`shared::journey::authentication::Variables::switches`). A backup sends a
//! passcode to the phone or address of the user's PingOne profile, never to one the caller
//! names. OTP fallback: when the push times out, or PingOne asks for the app's code because the
//! push cannot reach the phone, the user types the app's code; with the fallback off the
//! journey fails (`PUSH_TIMED_OUT`, `PUSH_UNREACHABLE`).
//!
//! Guarded like the capabilities: continuations are sealed, bound to the user and the journey,
//! single-use and short-lived (`shared::journey::continuation`); the action is checked against
//! the step before the continuation is spent, so a client's mistake costs nothing; each action
//! on PingOne's authentication reads it as the user's first (`users_authentication`); sends
//! and passcode checks count against the user's limits before PingOne is called.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Value, json};
use shared::journey::actions::{At, Command, UserAction, command};
use shared::journey::authentication::{
    Backup, Ending, Variables, after_policy, registration_required,
};
use shared::journey::continuation::Continuations;
use shared::journey::mandatory;
use shared::journey::state::{
    AuthenticationState, Offered, PolicyDecision, RegistrationState, Terms,
};
use shared::journey::steps::{Step, shown_device};
use shared::journey::{Answer, Journey};
use shared::limits::Kind;
use shared::pingone::Response;
use shared::pingone::errors::attempts_left;
use shared::policy::{Decided, audit, decide};
use shared::secrets::Secret;
use shared::{Error, FieldProblem, Handler, Invocation};

mod input;
mod output;

pub use input::{ActionName, Input, PolicyFacts};
use input::{Call, PolicyRequest};

/// The journey.
pub struct AuthenticationJourney;

/// The journey's answer.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Output(pub Answer<Step>);

impl Handler for AuthenticationJourney {
    const ID: &'static str = "authentication";
    const SUMMARY: &'static str = "The PingID authentication subflow as a journey: policy, mandatory methods, device selection with backups, push with Use Code and OTP fallback, passcodes, passkeys.";
    type Input = Input;
    type Output = Output;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Output, Error> {
        let (user, call) = input.call()?;
        let journey = Run {
            invocation,
            continuations: invocation.journeys()?.continuations().await?,
            user,
            now: SystemTime::now(),
        };
        match call {
            Call::Start {
                variables,
                mandatory,
                policy,
            } => journey.start(&input, variables, mandatory, policy).await,
            Call::Continue { token, action } => journey.next(token, action).await,
        }
        .map(Output)
    }
}

/// One call of the journey for one user.
struct Run<'a> {
    invocation: &'a Invocation<'a>,
    continuations: Continuations,
    user: &'a str,
    now: SystemTime,
}

impl Run<'_> {
    async fn start(
        &self,
        input: &Input,
        variables: Variables,
        mandatory: Vec<&'static str>,
        policy: Option<Box<PolicyRequest>>,
    ) -> Result<Answer<Step>, Error> {
        let (decision, device_list) = match policy {
            Some(request) => {
                let (id, decided) = self.policy(*request).await?;
                (Some((id, decided.decision)), decided.device_list)
            }
            None => (None, None),
        };
        let mut recorded = None;
        if let Some((id, decision)) = &decision {
            let made = PolicyDecision {
                action: decision.action.name().to_string(),
                id: id.clone(),
            };
            match after_policy(decision.action) {
                Some(Ending::Denied) => {
                    return Ok(end(Step::Denied {
                        reasons: decision.reasons.clone(),
                    }));
                }
                Some(Ending::Approved) => {
                    return Ok(end(Step::Completed {
                        method: None,
                        decision: Some(made),
                    }));
                }
                None => recorded = Some(made),
            }
        }
        let allowed = decision
            .as_ref()
            .map(|(_, decision)| decision.allowed_methods.as_slice());
        let terms = Terms {
            switches: variables.switches(allowed),
            mandatory: mandatory.iter().map(|m| m.to_string()).collect(),
            admin_message: input.admin_message.clone(),
            decision: recorded,
            allowed_methods: allowed
                .map(|methods| methods.iter().map(|m| m.name().to_string()).collect()),
        };
        self.proceed(terms, device_list).await
    }

    /// The policy decision on the request's facts, audited under its evaluation id.
    async fn policy(&self, request: PolicyRequest) -> Result<(String, Decided), Error> {
        let PolicyRequest {
            mut facts,
            application,
            risk_level,
        } = request;
        // The connection's address when the flow gives none; never a header.
        facts.ip = facts.ip.or(self
            .invocation
            .source_ip()
            .map(shared::policy::facts::canonical_ip));
        facts.now = shared::clock::unix_seconds(self.now);
        let decided = decide(self.invocation, self.user, facts).await?;
        let id = uuid::Uuid::new_v4().to_string();
        audit(
            &id,
            self.user,
            application.as_deref(),
            &decided.decision,
            risk_level.as_deref(),
        );
        Ok((id, decided))
    }

    /// After the start, or back from registering a mandatory method: the mandatory methods,
    /// then device selection or the one device. `device_list`: the user's device list when the
    /// policy already read it in this call; otherwise it is read here.
    async fn proceed(
        &self,
        terms: Terms,
        device_list: Option<Value>,
    ) -> Result<Answer<Step>, Error> {
        let listed = match device_list {
            Some(body) => body,
            None => {
                self.invocation
                    .pingone()
                    .list_devices(self.user)
                    .await?
                    .body
            }
        };
        let devices: Vec<Value> = listed
            .pointer("/_embedded/devices")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let kinds: Vec<(&str, &str)> = devices
            .iter()
            .map(|d| {
                (
                    d["type"].as_str().unwrap_or_default(),
                    d["status"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        let mandatory: Vec<&'static str> = terms
            .mandatory
            .iter()
            .filter_map(|m| mandatory::METHODS.iter().copied().find(|known| known == m))
            .collect();
        if let Some(list) = registration_required(&mandatory, &kinds) {
            let missing = list
                .iter()
                .filter(|m| m.status == "not paired")
                .map(|m| m.method.to_string())
                .collect();
            let handover = RegistrationState::MethodSelection {
                only: Some(missing),
                resume: Some(terms),
            };
            let token = self.continuations.issue(
                Journey::DeviceRegistration,
                self.user,
                &handover,
                self.now,
            );
            return Ok(answer(
                Step::RegistrationRequired { mandatory: list },
                token,
                &Default::default(),
            ));
        }
        // The user's devices the policy's methods allow (all of them without a policy).
        let usable: Vec<&Value> = devices
            .iter()
            .filter(|d| d["status"] == "ACTIVE" && d["id"].is_string())
            .filter(|d| terms.allow_device(d["type"].as_str().unwrap_or_default()))
            .collect();
        match (usable.as_slice(), terms.switches.backups.is_empty()) {
            ([], true) => Ok(end(Step::Failed {
                reason: "NO_USABLE_DEVICES",
            })),
            ([device], true) => {
                let offered = offered(device);
                let mut state = AuthenticationState::new(At::DeviceSelection, terms);
                state.devices = vec![offered.clone()];
                self.authenticate(state, Target::Device(&offered)).await
            }
            _ => {
                let mut state = AuthenticationState::new(At::DeviceSelection, terms);
                state.devices = usable.iter().map(|d| offered(d)).collect();
                let step = Step::DeviceSelection {
                    devices: usable.iter().map(|d| shown_device(d)).collect(),
                    backups: state.terms.switches.backups.clone(),
                    admin_message: state.terms.admin_message.clone(),
                };
                Ok(self.carry_on(step, state))
            }
        }
    }

    /// Continues with `action` on the journey in `token`.
    async fn next(&self, token: &str, action: UserAction) -> Result<Answer<Step>, Error> {
        let ports = self.invocation.journeys()?;
        let opened = self.continuations.open::<AuthenticationState>(
            Journey::Authentication,
            self.user,
            token,
            self.now,
        )?;
        // Checked before the continuation is spent: a mistake leaves it usable.
        let command = command(opened.step().at, &opened.step().terms.switches, action)?;
        if let Command::SelectDevice(id) = &command
            && !opened.step().devices.iter().any(|d| &d.id == id)
        {
            return Err(shared::pingone::errors::no_such_resource());
        }
        let state = opened.spend(ports.used.as_ref()).await?;
        match command {
            Command::SelectDevice(id) => {
                let device = state
                    .devices
                    .iter()
                    .find(|d| d.id == id)
                    .cloned()
                    .ok_or_else(shared::pingone::errors::no_such_resource)?;
                match state.authentication_id.clone() {
                    // PingOne itself asked for a selection: select on its authentication.
                    Some(id) => self.select_on(state, &id, &device).await,
                    None => self.authenticate(state, Target::Device(&device)).await,
                }
            }
            Command::SendBackup(backup) => {
                if let Some(id) = &state.authentication_id {
                    self.abandon(id).await;
                }
                let contact = self.profile_contact(backup).await?;
                self.authenticate(state, Target::Backup(backup, &contact))
                    .await
            }
            Command::CheckOtp(code) => self.check_otp(state, code).await,
            Command::CheckAssertion { assertion, origin } => {
                let id = authentication_of(&state)?;
                let pingone = self.invocation.pingone();
                let (authentication, _) = pingone.users_authentication(self.user, &id).await?;
                match pingone
                    .check_assertion(&authentication, assertion.expose(), &origin, None)
                    .await
                {
                    Ok(response) => Ok(self.after(state, &response.body)),
                    // A refused assertion: the authentication says what follows.
                    Err(Error::Rejected { .. } | Error::InvalidState { .. }) => {
                        self.read(state).await
                    }
                    Err(other) => Err(other),
                }
            }
            Command::Read => self.read(state).await,
            // A device was just paired: the list is read afresh.
            Command::Resume => self.proceed(state.terms, None).await,
            Command::Cancel => {
                if let Some(id) = &state.authentication_id {
                    self.abandon(id).await;
                }
                Ok(end(Step::Failed { reason: "CANCELED" }))
            }
        }
    }

    /// Starts PingOne's device authentication on `target`, counting what it sends.
    async fn authenticate(
        &self,
        state: AuthenticationState,
        target: Target<'_>,
    ) -> Result<Answer<Step>, Error> {
        let (selected, kind) = match target {
            Target::Device(device) => (
                json!({ "id": device.id }),
                Kind::of_device_type(&device.kind),
            ),
            Target::Backup(backup, contact) => {
                let (one_time, kind) = match backup {
                    Backup::Sms => (json!({"type": "SMS", "phone": contact}), Kind::SmsVoice),
                    Backup::Voice => (json!({"type": "VOICE", "phone": contact}), Kind::SmsVoice),
                    Backup::Email => (json!({"type": "EMAIL", "email": contact}), Kind::Email),
                };
                (json!({ "oneTime": one_time }), Some(kind))
            }
        };
        let body = json!({ "user": { "id": self.user }, "selectedDevice": selected });
        let pingone = self.invocation.pingone();
        let started = pingone.create_device_authentication(body);
        let response = self
            .invocation
            .limits()
            .around(self.user, kind, started, sent)
            .await?;
        Ok(self.after(state, &response.body))
    }

    /// `device.select` on the authentication PingOne started with a selection.
    async fn select_on(
        &self,
        state: AuthenticationState,
        id: &str,
        device: &Offered,
    ) -> Result<Answer<Step>, Error> {
        let pingone = self.invocation.pingone();
        let (authentication, _) = pingone.users_authentication(self.user, id).await?;
        let selected = pingone.select_device(&authentication, &device.id, None);
        let response = self
            .invocation
            .limits()
            .around(
                self.user,
                Kind::of_device_type(&device.kind),
                selected,
                sent,
            )
            .await?;
        Ok(self.after(state, &response.body))
    }

    /// A passcode (or the app's code) checked against the authentication; a wrong one shows
    /// the step again with the attempts left.
    async fn check_otp(
        &self,
        state: AuthenticationState,
        code: Secret<String>,
    ) -> Result<Answer<Step>, Error> {
        let id = authentication_of(&state)?;
        let pingone = self.invocation.pingone();
        let (authentication, _) = pingone.users_authentication(self.user, &id).await?;
        // A passcode checked is spent whatever the answer: guesses are what is counted.
        let _spent = self
            .invocation
            .limits()
            .take(self.user, Kind::OtpCheck)
            .await?;
        match pingone.check_otp(&authentication, code.expose()).await {
            Ok(response) => Ok(self.after(state, &response.body)),
            Err(Error::InvalidOtp { details, .. }) => {
                let step = match state.at {
                    At::PushPending => Step::PushPending {
                        poll_after_seconds: shared::journey::steps::POLL_AFTER_SECONDS,
                        retry: Some("INVALID_OTP"),
                    },
                    _ => Step::OtpRequired {
                        channel: state.channel.clone().unwrap_or_else(|| "OTP".into()),
                        destination: state.destination.clone(),
                        attempts_left: attempts_left(&details),
                        retry: Some("INVALID_OTP"),
                    },
                };
                Ok(self.carry_on(step, state))
            }
            // Too many wrong passcodes, or the authentication ended meanwhile.
            Err(Error::InvalidState { .. }) => self.read(state).await,
            Err(other) => Err(other),
        }
    }

    /// The authentication as PingOne has it now.
    async fn read(&self, state: AuthenticationState) -> Result<Answer<Step>, Error> {
        let id = authentication_of(&state)?;
        let (_, response) = self
            .invocation
            .pingone()
            .users_authentication(self.user, &id)
            .await?;
        Ok(self.after(state, &response.body))
    }

    /// The answer for PingOne's authentication `body`.
    fn after(&self, mut state: AuthenticationState, body: &Value) -> Answer<Step> {
        let mut step = Step::of_device_authentication(
            body,
            &state.terms.switches,
            state.terms.admin_message.as_deref(),
        );
        if let Some(id) = body["id"].as_str() {
            state.authentication_id = Some(id.to_string());
        }
        match &mut step {
            Step::Completed { decision, .. } => {
                *decision = state.terms.decision.clone();
                return end(step);
            }
            Step::Failed { .. } | Step::Denied { .. } | Step::RegistrationRequired { .. } => {
                return end(step);
            }
            Step::DeviceSelection { devices, .. } => {
                state.at = At::DeviceSelection;
                state.devices = devices.iter().map(offered).collect();
                *devices = devices.iter().map(shown_device).collect();
            }
            Step::PushPending { .. } => state.at = At::PushPending,
            Step::OtpRequired {
                channel,
                destination,
                ..
            } => {
                state.at = At::OtpRequired;
                // PingOne masks the destination; masked again in case a tenant does not.
                *destination = destination.as_deref().map(|d| {
                    if d.contains('@') {
                        shared::journey::steps::mask_email(d)
                    } else {
                        shared::journey::steps::mask_phone(d)
                    }
                });
                state.channel = Some(channel.clone());
                state.destination = destination.clone();
            }
            Step::AssertionRequired { .. } => state.at = At::AssertionRequired,
        }
        self.carry_on(step, state)
    }

    /// `step` with its actions and the continuation carrying `state`.
    fn carry_on(&self, step: Step, state: AuthenticationState) -> Answer<Step> {
        let token = self
            .continuations
            .issue(Journey::Authentication, self.user, &state, self.now);
        answer(step, token, &state.terms.switches)
    }

    /// The profile's phone or address for `backup`.
    async fn profile_contact(&self, backup: Backup) -> Result<String, Error> {
        let user = self.invocation.pingone().read_user(self.user).await?;
        let keys: &[&str] = match backup {
            Backup::Sms | Backup::Voice => &["mobilePhone", "primaryPhone"],
            Backup::Email => &["email"],
        };
        keys.iter()
            .find_map(|key| user.body[*key].as_str().filter(|v| !v.is_empty()))
            .map(str::to_string)
            .ok_or_else(|| {
                Error::Validation(vec![FieldProblem::new(
                    "properties.backup",
                    format!(
                        "the user's profile has no {} for the {} backup",
                        if backup == Backup::Email {
                            "e-mail address"
                        } else {
                            "phone number"
                        },
                        backup.name()
                    ),
                )])
            })
    }

    /// Cancels PingOne's authentication `id`, best effort: the journey has moved on, and an
    /// authentication left open expires on its own.
    async fn abandon(&self, id: &str) {
        let pingone = self.invocation.pingone();
        let cancelled = match pingone.users_authentication(self.user, id).await {
            Ok((authentication, _)) => pingone
                .cancel_device_authentication(&authentication, "DEFAULT")
                .await
                .map(|_| ()),
            Err(error) => Err(error),
        };
        if let Err(error) = cancelled {
            tracing::warn!(code = error.code(), error = %error, "an abandoned authentication could not be cancelled");
        }
    }
}

/// What PingOne's authentication is started on.
enum Target<'a> {
    Device(&'a Offered),
    Backup(Backup, &'a str),
}

/// Whether PingOne's answer sent something (a push, a text, a call, an e-mail).
fn sent(response: &Response) -> bool {
    matches!(
        response.body["status"].as_str(),
        Some("PUSH_CONFIRMATION_REQUIRED" | "OTP_REQUIRED")
    )
}

fn offered(device: &Value) -> Offered {
    Offered {
        id: device["id"].as_str().unwrap_or_default().to_string(),
        kind: device["type"].as_str().unwrap_or_default().to_string(),
    }
}

fn authentication_of(state: &AuthenticationState) -> Result<String, Error> {
    state.authentication_id.clone().ok_or_else(|| {
        Error::Validation(vec![FieldProblem::new(
            "properties.action",
            "no authentication is under way at this step",
        )])
    })
}

fn answer(
    step: Step,
    token: String,
    switches: &shared::journey::authentication::Switches,
) -> Answer<Step> {
    Answer {
        actions: step.actions(switches),
        step,
        continuation: Some(token),
    }
}

/// A final answer: no actions, no continuation.
fn end(step: Step) -> Answer<Step> {
    Answer {
        step,
        actions: Vec::new(),
        continuation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::journey::authentication::{Mandatory, Switches};
    use shared::schema::Documented;
    use shared::schema::output::departures;

    fn switches() -> Switches {
        Switches {
            backups: vec![Backup::Sms],
            use_code: true,
            otp_fallback: true,
        }
    }

    #[test]
    fn every_step_answers_as_documented() {
        let steps = [
            Step::DeviceSelection {
                devices: vec![json!({"id": "d1", "type": "SMS", "phone": "+1555*****01"})],
                backups: vec![Backup::Sms],
                admin_message: Some("Call the help desk".into()),
            },
            Step::PushPending {
                poll_after_seconds: 2,
                retry: Some("INVALID_OTP"),
            },
            Step::OtpRequired {
                channel: "SMS".into(),
                destination: Some("+1555*****01".into()),
                attempts_left: Some(2),
                retry: None,
            },
            Step::AssertionRequired {
                public_key_credential_request_options: json!("{\"challenge\":\"…\"}"),
            },
            Step::RegistrationRequired {
                mandatory: vec![Mandatory {
                    method: "VOICE",
                    status: "not paired",
                }],
            },
            Step::Completed {
                method: Some("MOBILE".into()),
                decision: Some(PolicyDecision {
                    action: "AUTHENTICATE".into(),
                    id: "e1".into(),
                }),
            },
            Step::Failed {
                reason: "PUSH_DENIED",
            },
            Step::Denied {
                reasons: vec!["Rule \"Accessing from countries\" matched.".into()],
            },
        ];
        let schema = Output::json_schema();
        for step in steps {
            let output = if step.is_final() {
                Output(end(step))
            } else {
                Output(answer(step, "j1.token".into(), &switches()))
            };
            let value = serde_json::to_value(&output).unwrap();
            assert_eq!(departures(&schema, &value), Vec::<String>::new(), "{value}");
        }
    }

    #[test]
    fn a_debug_print_shows_no_passcode_or_continuation() {
        let input: Input = serde_json::from_value(json!({
            "pingIdUserId": "a11ce000-0000-4000-8000-000000000001",
            "continuation": "j1.token", "action": "otp", "otp": "493817",
        }))
        .unwrap();
        let printed = format!("{input:?}");
        assert!(
            !printed.contains("493817") && !printed.contains("j1.token"),
            "{printed}"
        );
        let output = Output(answer(
            Step::PushPending {
                poll_after_seconds: 2,
                retry: None,
            },
            "j1.token".into(),
            &switches(),
        ));
        assert!(!format!("{output:?}").contains("j1.token"));
    }
}
