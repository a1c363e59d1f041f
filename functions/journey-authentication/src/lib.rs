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

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::error::Problems;
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
use shared::journey::{Answer, Journey, StepDoc, answer_schema};
use shared::limits::Kind;
use shared::pingone::Response;
use shared::pingone::errors::attempts_left;
use shared::policy::{Decision, Facts, audit, decide};
use shared::schema::output::{array, integer, object, string};
use shared::schema::{Documented, ORIGIN_PATTERN, OTP_PATTERN};
use shared::secrets::Secret;
use shared::{Error, FieldProblem, Handler, Invocation};

/// The journey.
pub struct AuthenticationJourney;

/// What the client asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, shared::Values)]
pub enum ActionName {
    /// Pick a device (`deviceId`) or a backup (`backup`).
    #[serde(rename = "select")]
    Select,
    /// A passcode (`otp`).
    #[serde(rename = "otp")]
    Otp,
    /// The PingID app's code while a push is pending (`otp`).
    #[serde(rename = "useCode")]
    UseCode,
    /// A WebAuthn assertion (`assertion`, `origin`).
    #[serde(rename = "assertion")]
    Assertion,
    /// Whether the push was answered.
    #[serde(rename = "poll")]
    Poll,
    /// Go on after the device-registration journey handed back.
    #[serde(rename = "continue")]
    Continue,
    /// Give up.
    #[serde(rename = "cancel")]
    Cancel,
}

/// The backups by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, shared::Values)]
pub enum BackupName {
    /// A text to the profile's phone.
    #[serde(rename = "SMS")]
    Sms,
    /// A call to the profile's phone.
    #[serde(rename = "VOICE")]
    Voice,
    /// An e-mail to the profile's address.
    #[serde(rename = "EMAIL")]
    Email,
}

impl From<BackupName> for Backup {
    fn from(name: BackupName) -> Backup {
        match name {
            BackupName::Sms => Backup::Sms,
            BackupName::Voice => Backup::Voice,
            BackupName::Email => Backup::Email,
        }
    }
}

/// The facts a policy evaluation takes at the start (see `evalPolicyPingID`).
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct PolicyFacts {
    /// the client's IP address (IPv4 or IPv6); the connection's address when absent
    #[field(max_length = 100)]
    pub ip: Option<String>,
    /// the application's id (policy targets)
    #[field(max_length = 255)]
    pub application_id: Option<String>,
    /// the application's name (policy targets)
    #[field(max_length = 255)]
    pub application_name: Option<String>,
    /// the user's groups (policy targets); [] for none
    #[field(max_items = 1000, items(max_length = 256))]
    pub groups: Option<Vec<String>>,
}

/// The validated `properties`. The subflow's variables keep the seed's spellings.
#[derive(Debug, Deserialize, shared::Input)]
pub struct Input {
    /// PingOne user id
    #[serde(rename = "pingIdUserId")]
    #[field(id)]
    pub ping_id_user_id: Option<String>,
    /// PingOne user id, the seed's other spelling of pingIdUserId
    #[serde(rename = "pingIDUserId")]
    #[field(id)]
    pub ping_id_user_id_caps: Option<String>,
    /// start: the message shown at device selection
    #[serde(rename = "AdminMessage")]
    #[field(max_length = 1000)]
    pub admin_message: Option<String>,
    /// start: offer a passcode by text to the profile's phone (default: the policy's SMS method)
    #[serde(rename = "SMSBackup")]
    pub sms_backup: Option<bool>,
    /// start: offer a passcode by voice call to the profile's phone (default: the policy's VOICE method)
    #[serde(rename = "phoneBackup")]
    pub phone_backup: Option<bool>,
    /// start: offer a passcode by e-mail to the profile's address (default: the policy's EMAIL method)
    #[serde(rename = "emailBackup")]
    pub email_backup: Option<bool>,
    /// start: let the user type the PingID app's code while a push is pending (default: the policy's OTP method)
    #[serde(rename = "useCode")]
    pub use_code: Option<bool>,
    /// start: ask for the app's code when the push times out or cannot reach the phone (default: the policy's OTP method)
    #[serde(rename = "otpFallback")]
    pub otp_fallback: Option<bool>,
    /// start: otpFallback, as the seed's template spells it
    #[serde(rename = "OTP Fallback")]
    pub otp_fallback_spaced: Option<bool>,
    /// start: methods that must all be paired before authenticating, upper case, single spaces (PINGID_DESKTOP PINGID_MOBILE SMS VOICE EMAIL TOTP SECURITY_KEY PLATFORM YUBIKEY OATH_TOKEN)
    #[serde(rename = "mandatoryAuthenticationMethods")]
    #[field(max_length = 200)]
    pub mandatory_authentication_methods: Option<String>,
    /// start: evaluate the PingID policy first with these facts
    pub policy: Option<PolicyFacts>,
    /// the continuation of the last answer (absent: start)
    #[field(max_length = 8192)]
    pub continuation: Option<Secret<String>>,
    /// one of the last answer's actions
    pub action: Option<ActionName>,
    /// select: the device, one of those listed
    #[serde(rename = "deviceId")]
    #[field(id)]
    pub device_id: Option<String>,
    /// select: a backup, one of those listed
    pub backup: Option<BackupName>,
    /// otp, useCode: the passcode the user typed
    #[field(max_length = 64, pattern = OTP_PATTERN)]
    pub otp: Option<Secret<String>>,
    /// assertion: JSON text of the browser's PublicKeyCredential
    #[field(max_length = 16_384, pattern = "^\\S")]
    pub assertion: Option<Secret<String>>,
    /// assertion: the origin of the page that ran the ceremony
    #[field(max_length = 255, pattern = ORIGIN_PATTERN)]
    pub origin: Option<String>,
}

/// A call, once its inputs agree.
enum Call<'a> {
    Start {
        variables: Variables,
        mandatory: Vec<&'static str>,
    },
    Continue {
        token: &'a str,
        action: UserAction,
    },
}

impl Input {
    /// The user, and what the call asks, with every problem of the inputs at once.
    fn call(&self) -> Result<(&str, Call<'_>), Error> {
        let mut problems = Problems::default();
        let user = match (&self.ping_id_user_id, &self.ping_id_user_id_caps) {
            (Some(a), Some(b)) if a != b => {
                problems.add(
                    "pingIDUserId",
                    "differs from pingIdUserId; give one of the two",
                );
                None
            }
            (Some(user), _) | (None, Some(user)) => Some(user.as_str()),
            (None, None) => {
                problems.add("pingIdUserId", "is required");
                None
            }
        };
        let call = match &self.continuation {
            None => self.start(&mut problems),
            Some(token) => self.next(token.expose(), &mut problems),
        };
        match (user, call) {
            (Some(user), Some(call)) if problems.is_empty() => Ok((user, call)),
            _ => Err(problems.into_error()),
        }
    }

    fn start(&self, problems: &mut Problems) -> Option<Call<'_>> {
        for (field, given) in self.action_fields() {
            if given {
                problems.add(
                    field,
                    "is an action's field: it goes with a continuation, not at the start",
                );
            }
        }
        let otp_fallback = match (self.otp_fallback, self.otp_fallback_spaced) {
            (Some(a), Some(b)) if a != b => {
                problems.add(
                    "OTP Fallback",
                    "differs from otpFallback; give one of the two",
                );
                None
            }
            (a, b) => a.or(b),
        };
        let mandatory = match mandatory::parse(
            self.mandatory_authentication_methods
                .as_deref()
                .unwrap_or_default(),
        ) {
            Ok(methods) => methods,
            Err(problem) => {
                problems.add("mandatoryAuthenticationMethods", problem);
                Vec::new()
            }
        };
        Some(Call::Start {
            variables: Variables {
                sms_backup: self.sms_backup,
                phone_backup: self.phone_backup,
                email_backup: self.email_backup,
                use_code: self.use_code,
                otp_fallback,
            },
            mandatory,
        })
    }

    fn next<'a>(&'a self, token: &'a str, problems: &mut Problems) -> Option<Call<'a>> {
        let start_only = [
            ("AdminMessage", self.admin_message.is_some()),
            ("SMSBackup", self.sms_backup.is_some()),
            ("phoneBackup", self.phone_backup.is_some()),
            ("emailBackup", self.email_backup.is_some()),
            ("useCode", self.use_code.is_some()),
            ("otpFallback", self.otp_fallback.is_some()),
            ("OTP Fallback", self.otp_fallback_spaced.is_some()),
            (
                "mandatoryAuthenticationMethods",
                self.mandatory_authentication_methods.is_some(),
            ),
            ("policy", self.policy.is_some()),
        ];
        for (field, _) in start_only.iter().filter(|(_, given)| *given) {
            problems.add(
                field,
                "is set at the start; the journey keeps it and a continuation cannot change it",
            );
        }
        let Some(name) = self.action else {
            problems.add("action", "is required with a continuation");
            return None;
        };
        // Each action's own fields; any other action field given is reported.
        let wanted: &[&str] = match name {
            ActionName::Select => &["deviceId", "backup"],
            ActionName::Otp | ActionName::UseCode => &["otp"],
            ActionName::Assertion => &["assertion", "origin"],
            ActionName::Poll | ActionName::Continue | ActionName::Cancel => &[],
        };
        for (field, given) in self.action_fields().into_iter().skip(1) {
            if given && !wanted.contains(&field) {
                problems.add(field, "does not go with this action");
            }
        }
        let action = match name {
            ActionName::Select => match (&self.device_id, self.backup) {
                (Some(id), None) => Some(UserAction::SelectDevice(id.clone())),
                (None, Some(backup)) => Some(UserAction::SelectBackup(backup.into())),
                (Some(_), Some(_)) => {
                    problems.add("backup", "select takes a deviceId or a backup, not both");
                    None
                }
                (None, None) => {
                    problems.add("deviceId", "select needs a deviceId or a backup");
                    None
                }
            },
            ActionName::Otp | ActionName::UseCode => match &self.otp {
                Some(otp) => Some(if name == ActionName::Otp {
                    UserAction::Otp(otp.clone())
                } else {
                    UserAction::UseCode(otp.clone())
                }),
                None => {
                    problems.add("otp", "is required for this action");
                    None
                }
            },
            ActionName::Assertion => match (&self.assertion, &self.origin) {
                (Some(assertion), Some(origin)) => Some(UserAction::Assertion {
                    assertion: assertion.clone(),
                    origin: origin.clone(),
                }),
                (assertion, origin) => {
                    for (field, given) in [
                        ("assertion", assertion.is_some()),
                        ("origin", origin.is_some()),
                    ] {
                        if !given {
                            problems.add(field, "is required for the assertion action");
                        }
                    }
                    None
                }
            },
            ActionName::Poll => Some(UserAction::Poll),
            ActionName::Continue => Some(UserAction::Continue),
            ActionName::Cancel => Some(UserAction::Cancel),
        };
        action.map(|action| Call::Continue { token, action })
    }

    /// `action` and the actions' fields, whether each is given.
    fn action_fields(&self) -> [(&'static str, bool); 6] {
        [
            ("action", self.action.is_some()),
            ("deviceId", self.device_id.is_some()),
            ("backup", self.backup.is_some()),
            ("otp", self.otp.is_some()),
            ("assertion", self.assertion.is_some()),
            ("origin", self.origin.is_some()),
        ]
    }
}

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
            } => journey.start(&input, variables, mandatory).await,
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
    ) -> Result<Answer<Step>, Error> {
        let decision = match &input.policy {
            Some(facts) => Some(self.policy(facts).await?),
            None => None,
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
        self.proceed(terms).await
    }

    /// The policy decision on `facts`, audited under its evaluation id.
    async fn policy(&self, facts: &PolicyFacts) -> Result<(String, Decision), Error> {
        let ip = match &facts.ip {
            Some(text) => Some(shared::policy::facts::parse_ip(text).ok_or_else(|| {
                Error::Validation(vec![FieldProblem::new(
                    "properties.policy.ip",
                    "is not an IPv4 or IPv6 address",
                )])
            })?),
            None => self
                .invocation
                .source_ip()
                .map(shared::policy::facts::canonical_ip),
        };
        let facts_in = Facts {
            ip,
            application_id: facts.application_id.clone(),
            application_name: facts.application_name.clone(),
            groups: facts.groups.clone(),
            now: shared::clock::unix_seconds(self.now),
            ..Facts::default()
        };
        let decision = decide(self.invocation, self.user, facts_in).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let application = facts
            .application_id
            .as_ref()
            .or(facts.application_name.as_ref());
        audit(
            &id,
            self.user,
            application.map(String::as_str),
            &decision,
            None,
        );
        Ok((id, decision))
    }

    /// After the start, or back from registering a mandatory method: the mandatory methods,
    /// then device selection or the one device.
    async fn proceed(&self, terms: Terms) -> Result<Answer<Step>, Error> {
        let listed = self.invocation.pingone().list_devices(self.user).await?;
        let devices: Vec<Value> = listed
            .body
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
            Command::Resume => self.proceed(state.terms).await,
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

impl Documented for Output {
    fn json_schema() -> Value {
        let devices = array(
            object(
                "A device, contact details masked",
                &[
                    ("id", string("PingOne's device id: select it with deviceId")),
                    ("type", string("PingOne's device type")),
                    ("nickname", string("The user's name for it")),
                    ("phone", string("The phone, masked")),
                    ("email", string("The address, masked")),
                ],
                &["nickname", "phone", "email"],
            ),
            "The user's usable devices",
        );
        let backups = array(
            json!({"type": "string", "enum": ["SMS", "VOICE", "EMAIL"]}),
            "The backups on offer, to the profile's phone or address",
        );
        let retry = string("Why the step is shown again: INVALID_OTP after a wrong code");
        let decision = object(
            "The policy decision the journey started with",
            &[
                ("action", string("The policy's action")),
                ("id", string("The evaluation id (its audit line)")),
            ],
            &[],
        );
        let mandatory = array(
            object(
                "A mandatory method",
                &[
                    (
                        "method",
                        string("The method, as mandatoryAuthenticationMethods names it"),
                    ),
                    (
                        "status",
                        json!({"type": "string", "enum": ["paired", "not paired"]}),
                    ),
                ],
                &[],
            ),
            "Every mandatory method, paired or not",
        );
        answer_schema(
            "AuthenticationJourneyAnswer",
            "The next step of the authentication journey",
            &[
                StepDoc {
                    step: "DEVICE_SELECTION",
                    description: "The user picks a device or a backup",
                    fields: &[
                        ("devices", devices),
                        ("backups", backups),
                        ("adminMessage", string("The flow's AdminMessage")),
                    ],
                    optional: &["adminMessage"],
                    is_final: false,
                },
                StepDoc {
                    step: "PUSH_PENDING",
                    description: "A push is on its way to the PingID app",
                    fields: &[
                        ("pollAfterSeconds", integer("When to poll again")),
                        ("retry", retry.clone()),
                    ],
                    optional: &["retry"],
                    is_final: false,
                },
                StepDoc {
                    step: "OTP_REQUIRED",
                    description: "A passcode is expected",
                    fields: &[
                        (
                            "channel",
                            string(
                                "Where it comes from: SMS, VOICE, EMAIL, MOBILE (the app's code), TOTP, …",
                            ),
                        ),
                        (
                            "destination",
                            string("The phone or address it went to, masked"),
                        ),
                        (
                            "attemptsLeft",
                            integer("Wrong passcodes the user may still type"),
                        ),
                        ("retry", retry),
                    ],
                    optional: &["destination", "attemptsLeft", "retry"],
                    is_final: false,
                },
                StepDoc {
                    step: "ASSERTION_REQUIRED",
                    description: "A WebAuthn assertion is expected",
                    fields: &[(
                        "publicKeyCredentialRequestOptions",
                        json!({"description": "PingOne's request options for navigator.credentials.get (JSON text or object, as PingOne gives them)"}),
                    )],
                    optional: &[],
                    is_final: false,
                },
                StepDoc {
                    step: "REGISTRATION_REQUIRED",
                    description: "Mandatory methods are not all paired: the continuation is the device-registration journey's",
                    fields: &[("mandatory", mandatory)],
                    optional: &[],
                    is_final: false,
                },
                StepDoc {
                    step: "COMPLETED",
                    description: "The user is authenticated",
                    fields: &[
                        ("method", string("The PingOne device type used")),
                        ("decision", decision),
                    ],
                    optional: &["method", "decision"],
                    is_final: true,
                },
                StepDoc {
                    step: "FAILED",
                    description: "Ended without authenticating",
                    fields: &[(
                        "reason",
                        json!({"type": "string", "enum": ["CANCELED", "PUSH_DENIED", "PUSH_TIMED_OUT", "PUSH_UNREACHABLE", "TOO_MANY_ATTEMPTS", "AUTHENTICATION_FAILED", "NO_USABLE_DEVICES", "UNEXPECTED_STATE"], "description": "Why, a stable code"}),
                    )],
                    optional: &[],
                    is_final: true,
                },
                StepDoc {
                    step: "DENIED",
                    description: "The policy refused the sign-in; nothing was sent",
                    fields: &[(
                        "reasons",
                        array(string("One sentence"), "The policy's reasons"),
                    )],
                    optional: &[],
                    is_final: true,
                },
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::journey::authentication::{Mandatory, Switches};
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
