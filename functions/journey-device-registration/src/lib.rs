//! `POST /v1/journeys/device-registration`: PingID's Device Registration Subflow as a journey.
//! A client (a DaVinci flow's HTTP node in a loop, or an app) calls it a few times; each answer
//! names the `step`, what its screen needs, the `actions` the client may take next with their
//! fields, and the `continuation` to send with the next call.
//!
//! - start (no continuation): `METHOD_SELECTION`, the methods the environment's default
//!   policy lets the user pair, with the paired count and whether there is room under
//!   `maxAllowedDevices`;
//! - `register`: SMS, VOICE, EMAIL (a pairing passcode is sent; the profile's `mobilePhone` /
//!   `email` when none is given [I]), TOTP (the key and its QR code), YUBIKEY, OATH_TOKEN →
//!   `ACTIVATION_REQUIRED`; SECURITY_KEY, PLATFORM, PINGID_DESKTOP → `ATTESTATION_REQUIRED`;
//!   PINGID_MOBILE → `PAIRING_KEY_ISSUED` (a pairing key the app claims);
//! - `otp`, `resend`, `attestation`, `poll` → `REGISTERED` with the new device, or the same
//!   step again (a wrong passcode, an unclaimed key), or `FAILED`;
//! - `cancel` → `FAILED` `CANCELED`.
//!
//! Handed over by the authentication journey (mandatory methods not paired), the journey offers
//! just those methods and, once one is paired, answers with a continuation of the
//! authentication journey, so the sign-in goes on under the terms it started with.
//!
//! What guards it: the continuation is sealed, single-use and bound to this journey and the
//! user (`shared::journey::continuation`); the action and its fields are checked against the
//! step before the continuation is spent, so a client's mistake (400) leaves it usable; it is
//! spent before PingOne is asked to act; each step reads again what it relies on (the device
//! is still this user's and still waiting); sends and passcode checks are counted against the
//! user's limits (`shared::limits`) before PingOne is called. No passcode, key or continuation
//! reaches a log line.
//!
//! PingOne: the calls of `readAllDevicesPingID`, `createDevicePingID`, `activateDevice`,
//! `resendOTPForPairing`, `createPairingKeyPingID`, `readPairingKey`, `deleteDevice`,
//! `deletePairingKey` and `readUser`. None is retried but reads.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::journey::actions::At;
use shared::journey::continuation::{Continuations, Opened};
use shared::journey::registration::{self, Choices, Concealed, RegisteredDevice, Step};
use shared::journey::state::{AuthenticationState, RegistrationState, Terms};
use shared::journey::{Answer, Journey, steps};
use shared::legacy::UsedOnce;
use shared::limits::{Kind, Taken};
use shared::pingone::errors;
use shared::pingone::{DeviceOutput, DevicesOutput, PairingKeyOutput};
use shared::secrets::Secret;
use shared::{Error, Handler, Invocation, device_type};

mod input;
mod output;

pub use input::Input;
use input::{Move, Registration, problem};

/// The journey.
pub struct DeviceRegistrationJourney;

/// The answer: the step, its actions and the continuation.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Output(pub Answer<Step>);

impl Handler for DeviceRegistrationJourney {
    const ID: &'static str = "device-registration";
    const SUMMARY: &'static str =
        "Registers an MFA device step by step: method, passcode or attestation or pairing key.";
    type Input = Input;
    type Output = Output;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Output, Error> {
        let mut problems = Vec::new();
        let Some(request) = input.request(&mut problems) else {
            return Err(Error::Validation(problems));
        };
        let ports = invocation.journeys()?;
        let call = Call {
            invocation,
            continuations: ports.continuations().await?,
            used: ports.used.as_ref(),
            user: &request.user_id,
            now: SystemTime::now(),
        };
        let Some(token) = &request.continuation else {
            if !problems.is_empty() {
                return Err(Error::Validation(problems));
            }
            return call.selection(None, None).await;
        };
        let opened = match call.continuations.open::<RegistrationState>(
            Journey::DeviceRegistration,
            call.user,
            token.expose(),
            call.now,
        ) {
            Ok(opened) => Some(opened),
            Err(Error::Validation(found)) => {
                problems.extend(found);
                None
            }
            Err(other) => return Err(other),
        };
        if let (Some(opened), Some(next)) = (&opened, &request.next)
            && let Err(refused) = opened.step().offers(next.name())
        {
            problems.push(problem("action", refused));
        }
        match (opened, request.next) {
            (Some(opened), Some(next)) if problems.is_empty() => call.take(opened, next).await,
            _ => Err(Error::Validation(problems)),
        }
    }
}

/// One call of the journey: who, when, and what it answers with.
struct Call<'c> {
    invocation: &'c Invocation<'c>,
    continuations: Continuations,
    used: &'c dyn UsedOnce,
    user: &'c str,
    now: SystemTime,
}

impl Call<'_> {
    /// An answer that goes on: `step`, with a continuation carrying `state`.
    fn next(&self, step: Step, state: &RegistrationState) -> Output {
        let continuation =
            self.continuations
                .issue(Journey::DeviceRegistration, self.user, state, self.now);
        Output(Answer {
            actions: step.actions(false),
            step,
            continuation: Some(continuation),
        })
    }

    /// A final answer; a registered device hands back to the authentication journey when it
    /// handed over (`resume`), with a continuation of that journey.
    fn end(&self, step: Step, resume: Option<Terms>) -> Output {
        let continuation = match (&step, resume) {
            (Step::Registered { .. }, Some(terms)) => Some(self.continuations.issue(
                Journey::Authentication,
                self.user,
                &AuthenticationState::new(At::Registered, terms),
                self.now,
            )),
            _ => None,
        };
        Output(Answer {
            actions: step.actions(continuation.is_some()),
            step,
            continuation,
        })
    }

    /// Spends the continuation, after taking one `kind` from the user's allowance: over the
    /// limit (429) the continuation stays usable, for when the window has passed.
    async fn spend(
        &self,
        opened: Opened<RegistrationState>,
        kind: Option<Kind>,
    ) -> Result<(RegistrationState, Option<Taken>), Error> {
        let limits = self.invocation.limits();
        let taken = match kind {
            Some(kind) => Some(limits.take(self.user, kind).await?),
            None => None,
        };
        match opened.spend(self.used).await {
            Ok(state) => Ok((state, taken)),
            Err(error) => {
                if let Some(taken) = taken {
                    limits.give_back(taken).await;
                }
                Err(error)
            }
        }
    }

    /// `send`'s outcome; the unit `taken` for it is given back when nothing was sent.
    async fn sent<T>(
        &self,
        taken: Option<Taken>,
        send: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let outcome = send.await;
        if let (Err(_), Some(taken)) = (&outcome, taken) {
            self.invocation.limits().give_back(taken).await;
        }
        outcome
    }

    async fn take(&self, opened: Opened<RegistrationState>, next: Move) -> Result<Output, Error> {
        let state = opened.step().clone();
        match (state, next) {
            (state, Move::Cancel) => self.cancel(opened, &state).await,
            (RegistrationState::MethodSelection { only, resume }, Move::Register(registration)) => {
                self.register(opened, only, resume, registration).await
            }
            (RegistrationState::Activation { device_id, .. }, Move::Otp(otp)) => {
                self.otp(opened, &device_id, &otp).await
            }
            (RegistrationState::Activation { device_id, .. }, Move::Resend) => {
                self.resend(opened, &device_id).await
            }
            (
                RegistrationState::Attestation { device_id, .. },
                Move::Attestation {
                    attestation,
                    origin,
                },
            ) => {
                let proof = json!({ "attestation": attestation.expose(), "origin": origin });
                self.attest(opened, &device_id, proof).await
            }
            (RegistrationState::PairingKey { pairing_key_id, .. }, Move::Poll) => {
                self.poll(opened, &pairing_key_id).await
            }
            // `offers` refused these before: a client's mistake, never a fault.
            (state, next) => Err(Error::Validation(vec![problem(
                "action",
                format!(
                    "{} is not offered at {}",
                    next.name().name(),
                    state.step_name()
                ),
            )])),
        }
    }

    /// What the user may register, from their devices, the default policy and the settings.
    async fn choices(&self, only: Option<&[String]>) -> Result<Choices, Error> {
        let pingone = self.invocation.pingone();
        let (devices, policies, settings) = tokio::join!(
            pingone.list_devices(self.user),
            pingone.list_policies(),
            pingone.read_mfa_settings(),
        );
        let devices = DevicesOutput::try_from(devices?)?.devices;
        let policies = policies?.body;
        let allowed = registration::allowed_types(registration::default_policy(&policies)?);
        let max = registration::max_allowed_devices(&settings?.body)?;
        let text = |device: &Value, key: &str| -> String {
            device[key].as_str().unwrap_or_default().to_string()
        };
        let listed: Vec<(String, String)> = devices
            .iter()
            .map(|device| (text(device, "type"), text(device, "status")))
            .collect();
        let pairs: Vec<(&str, &str)> = listed
            .iter()
            .map(|(t, s)| (t.as_str(), s.as_str()))
            .collect();
        let only: Option<Vec<&str>> = only.map(|only| only.iter().map(String::as_str).collect());
        Ok(registration::choices(
            &allowed,
            &pairs,
            max,
            only.as_deref(),
        ))
    }

    /// `METHOD_SELECTION`.
    async fn selection(
        &self,
        only: Option<Vec<String>>,
        resume: Option<Terms>,
    ) -> Result<Output, Error> {
        let choices = self.choices(only.as_deref()).await?;
        let step = Step::MethodSelection {
            methods: choices.methods,
            devices: choices.devices,
            max_allowed_devices: choices.max_allowed_devices,
        };
        Ok(self.next(step, &RegistrationState::MethodSelection { only, resume }))
    }

    /// `register`: the method must be on offer with room left; then the device (or the
    /// pairing key) is created.
    async fn register(
        &self,
        opened: Opened<RegistrationState>,
        only: Option<Vec<String>>,
        resume: Option<Terms>,
        registration: Registration,
    ) -> Result<Output, Error> {
        let choices = self.choices(only.as_deref()).await?;
        let method = registration.method.as_str();
        match choices
            .methods
            .iter()
            .find(|choice| choice.method == method)
        {
            None => {
                let offered: Vec<&str> =
                    choices.methods.iter().map(|c| c.method.as_str()).collect();
                return Err(Error::Validation(vec![problem(
                    "method",
                    format!(
                        "{method} is not offered to this user; offered: {}",
                        offered.join(" ")
                    ),
                )]));
            }
            Some(choice) if !choice.can_register => {
                return Err(Error::Validation(vec![problem(
                    "method",
                    format!(
                        "no room for another device: the user has {} of the {} allowed",
                        choices.devices, choices.max_allowed_devices
                    ),
                )]));
            }
            Some(_) => {}
        }
        let destination = self.destination(&registration).await?;
        let pingone = self.invocation.pingone();
        if method == "PINGID_MOBILE" {
            // PingOne pairs the app only through a key it claims, never by creating a device.
            self.spend(opened, None).await?;
            let key =
                PairingKeyOutput::try_from(pingone.create_pairing_key(self.user, &[]).await?)?;
            let step = Step::of_pairing_key(&key.raw_response)?;
            let state = RegistrationState::PairingKey {
                pairing_key_id: key.pairing_key_id,
                resume,
            };
            return Ok(self.next(step, &state));
        }
        let pingone_type = device_type::created_as(method).unwrap_or(method);
        let body = device_body(pingone_type, &registration, destination.as_deref());
        // The pairing passcode is a send like any other, so enrolling and cancelling a phone in
        // a loop is no way around the limits.
        let sends = Kind::of_device_type(pingone_type).filter(|kind| *kind != Kind::Push);
        let (_, taken) = self.spend(opened, sends).await?;
        let created = self
            .sent(taken, pingone.create_device(self.user, body))
            .await?;
        let device = DeviceOutput::try_from(created)?;
        if device.status == "ACTIVE" {
            let registered = RegisteredDevice::of(&device.device)?;
            return Ok(self.end(Step::Registered { device: registered }, resume));
        }
        let state = pending(method, &device, destination.as_deref(), resume)?;
        Ok(self.next(shown(&state, None, None), &state))
    }

    /// Where the pairing passcode goes: the number or address given, else the profile's [I].
    async fn destination(&self, registration: &Registration) -> Result<Option<String>, Error> {
        let (given, field, profile_key) = match registration.method.as_str() {
            "SMS" | "VOICE" => (&registration.phone, "phone", "mobilePhone"),
            "EMAIL" => (&registration.email, "email", "email"),
            _ => return Ok(None),
        };
        if let Some(given) = given {
            return Ok(Some(given.clone()));
        }
        let profile = self.invocation.pingone().read_user(self.user).await?.body;
        let found = profile[profile_key].as_str().filter(|value| match field {
            "phone" => registration::is_e164(value),
            _ => value.contains('@'),
        });
        match found {
            Some(value) => Ok(Some(value.to_string())),
            None => Err(Error::Validation(vec![problem(
                field,
                format!("is required: the user's profile has no usable {profile_key}"),
            )])),
        }
    }

    /// The device in the state, read again: still this user's (another user's is PingOne's
    /// 404, `NOT_FOUND`) and still waiting for activation.
    async fn waiting(&self, device_id: &str) -> Result<Value, Error> {
        let device = self
            .invocation
            .pingone()
            .read_device(self.user, device_id)
            .await?
            .body;
        if device["status"] != "ACTIVATION_REQUIRED" {
            return Err(Error::InvalidState {
                message: "the device is no longer waiting for activation".into(),
                details: Vec::new(),
                ping_one_error_id: None,
            });
        }
        Ok(device)
    }

    /// `otp`: counted as a passcode check whether right or wrong. A wrong one shows the step
    /// again with the attempts left; none left ends the journey.
    async fn otp(
        &self,
        opened: Opened<RegistrationState>,
        device_id: &str,
        otp: &Secret<String>,
    ) -> Result<Output, Error> {
        self.waiting(device_id).await?;
        let (state, taken) = self.spend(opened, Some(Kind::OtpCheck)).await?;
        drop(taken);
        let activated = self
            .invocation
            .pingone()
            .activate_device(self.user, device_id, json!({ "otp": otp.expose() }))
            .await;
        let resume = state.resume().cloned();
        match activated {
            Ok(device) => Ok(self.end(
                Step::Registered {
                    device: RegisteredDevice::of(&device.body)?,
                },
                resume,
            )),
            Err(Error::InvalidOtp { details, .. }) => match errors::attempts_left(&details) {
                Some(0) => Ok(self.give_up(device_id, "TOO_MANY_ATTEMPTS").await),
                left => {
                    let retry = if errors::names_code(&details, "OTP_EXPIRED") {
                        "OTP_EXPIRED"
                    } else {
                        "INVALID_OTP"
                    };
                    Ok(self.next(shown(&state, left, Some(retry)), &state))
                }
            },
            Err(Error::Rejected { details, .. })
                if errors::names_code(&details, "TOO_MANY_ATTEMPTS") =>
            {
                Ok(self.give_up(device_id, "TOO_MANY_ATTEMPTS").await)
            }
            Err(other) => Err(other),
        }
    }

    /// `resend`: a new pairing passcode (the previous one stops working), counted as a send.
    async fn resend(
        &self,
        opened: Opened<RegistrationState>,
        device_id: &str,
    ) -> Result<Output, Error> {
        let device = self.waiting(device_id).await?;
        let sends = device["type"].as_str().and_then(Kind::of_device_type);
        let (state, taken) = self.spend(opened, sends).await?;
        let pingone = self.invocation.pingone();
        self.sent(taken, pingone.resend_pairing_otp(self.user, device_id))
            .await?;
        Ok(self.next(shown(&state, None, None), &state))
    }

    /// `attestation`: one PingOne refuses shows the step again, so the ceremony can be
    /// repeated.
    async fn attest(
        &self,
        opened: Opened<RegistrationState>,
        device_id: &str,
        proof: Value,
    ) -> Result<Output, Error> {
        self.waiting(device_id).await?;
        let (state, _) = self.spend(opened, None).await?;
        let pingone = self.invocation.pingone();
        match pingone.activate_device(self.user, device_id, proof).await {
            Ok(device) => {
                let device = RegisteredDevice::of(&device.body)?;
                Ok(self.end(Step::Registered { device }, state.resume().cloned()))
            }
            Err(Error::Rejected { .. } | Error::InvalidOtp { .. }) => {
                Ok(self.next(shown(&state, None, Some("INVALID_ATTESTATION")), &state))
            }
            Err(other) => Err(other),
        }
    }

    /// `poll`: the key read again (a key of another user's is PingOne's 404).
    async fn poll(
        &self,
        opened: Opened<RegistrationState>,
        pairing_key_id: &str,
    ) -> Result<Output, Error> {
        let (state, _) = self.spend(opened, None).await?;
        let pingone = self.invocation.pingone();
        let key =
            PairingKeyOutput::try_from(pingone.read_pairing_key(self.user, pairing_key_id).await?)?;
        match key.status.as_str() {
            "CLAIMED" => {
                // A claimed key names the device the app became [I].
                let device_id = key
                    .raw_response
                    .pointer("/device/id")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        Error::UpstreamInvalid("claimed pairing key without device.id".into())
                    })?;
                let device = pingone.read_device(self.user, device_id).await?.body;
                let device = RegisteredDevice::of(&device)?;
                Ok(self.end(Step::Registered { device }, state.resume().cloned()))
            }
            "EXPIRED" => Ok(self.end(
                Step::Failed {
                    reason: "PAIRING_KEY_EXPIRED",
                },
                None,
            )),
            _ => Ok(self.next(Step::of_pairing_key(&key.raw_response)?, &state)),
        }
    }

    /// `cancel`. An unfinished device is deleted: `ACTIVATION_REQUIRED` devices count against
    /// `maxAllowedDevices`, so one left behind would take the room of the next registration.
    /// Only a device still waiting is deleted, never one that became `ACTIVE` meanwhile; an
    /// unclaimed pairing key is withdrawn.
    async fn cancel(
        &self,
        opened: Opened<RegistrationState>,
        state: &RegistrationState,
    ) -> Result<Output, Error> {
        let pingone = self.invocation.pingone();
        match state {
            RegistrationState::MethodSelection { .. } => {
                self.spend(opened, None).await?;
            }
            RegistrationState::Activation { device_id, .. }
            | RegistrationState::Attestation { device_id, .. } => {
                let waiting = match self.waiting(device_id).await {
                    Ok(_) => true,
                    Err(Error::NotFound(_) | Error::InvalidState { .. }) => false,
                    Err(other) => return Err(other),
                };
                self.spend(opened, None).await?;
                if waiting {
                    forgive_not_found(pingone.delete_device(self.user, device_id).await)?;
                }
            }
            RegistrationState::PairingKey { pairing_key_id, .. } => {
                self.spend(opened, None).await?;
                forgive_not_found(pingone.delete_pairing_key(self.user, pairing_key_id).await)?;
            }
        }
        Ok(self.end(Step::Failed { reason: "CANCELED" }, None))
    }

    /// Ends the journey with `reason`, deleting the unfinished device (see
    /// [`Call::cancel`]); best effort: the answer is the failure either way.
    async fn give_up(&self, device_id: &str, reason: &'static str) -> Output {
        let deleted = self
            .invocation
            .pingone()
            .delete_device(self.user, device_id)
            .await;
        if let Err(error) = forgive_not_found(deleted) {
            tracing::warn!(
                code = error.code(),
                "an unfinished device could not be deleted"
            );
        }
        self.end(Step::Failed { reason }, None)
    }
}

/// Gone already is as good as deleted.
fn forgive_not_found<T>(outcome: Result<T, Error>) -> Result<(), Error> {
    match outcome {
        Ok(_) | Err(Error::NotFound(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// PingOne's create body for `pingone_type`, waiting for activation.
fn device_body(
    pingone_type: &str,
    registration: &Registration,
    destination: Option<&str>,
) -> Value {
    let mut body = Map::new();
    body.insert("type".into(), json!(pingone_type));
    body.insert("status".into(), json!("ACTIVATION_REQUIRED"));
    match (pingone_type, destination) {
        ("SMS" | "VOICE", Some(phone)) => {
            body.insert("phone".into(), json!(phone));
        }
        ("EMAIL", Some(email)) => {
            body.insert("email".into(), json!(email));
        }
        _ => {}
    }
    if let Some(nickname) = &registration.nickname {
        body.insert("nickname".into(), json!(nickname));
    }
    if let Some(serial) = &registration.serial_number {
        body.insert("serialNumber".into(), json!(serial));
    }
    if let Some(rp_id) = &registration.rp_id {
        body.insert("rp".into(), json!({ "id": rp_id }));
    }
    Value::Object(body)
}

/// The state of a device `method` just created: what its screen shows comes from PingOne's
/// answer (the TOTP key, the creation options) or the destination, masked.
fn pending(
    method: &str,
    device: &DeviceOutput,
    destination: Option<&str>,
    resume: Option<Terms>,
) -> Result<RegistrationState, Error> {
    let device_id = device.device_id.clone();
    let member = |key: &str| {
        device
            .device
            .get(key)
            .filter(|value| !value.is_null())
            .cloned()
            .ok_or_else(|| Error::UpstreamInvalid(format!("a new {method} device without `{key}`")))
    };
    let concealed = |key: &str| -> Result<Concealed, Error> {
        member(key)?.as_str().map(Concealed::new).ok_or_else(|| {
            Error::UpstreamInvalid(format!("a new {method} device whose `{key}` is no text"))
        })
    };
    let attestation = |key: &str| -> Result<RegistrationState, Error> {
        Ok(RegistrationState::Attestation {
            method: method.to_string(),
            device_id: device_id.clone(),
            options: member(key)?,
            resume: resume.clone(),
        })
    };
    let activation = |destination: Option<String>, key_uri, secret| RegistrationState::Activation {
        method: method.to_string(),
        device_id: device_id.clone(),
        destination,
        key_uri,
        secret,
        resume: resume.clone(),
    };
    Ok(match method {
        "SMS" | "VOICE" => activation(destination.map(steps::mask_phone), None, None),
        "EMAIL" => activation(destination.map(steps::mask_email), None, None),
        "TOTP" => activation(None, Some(concealed("keyUri")?), Some(concealed("secret")?)),
        "SECURITY_KEY" | "PLATFORM" => attestation("publicKeyCredentialCreationOptions")?,
        "PINGID_DESKTOP" => attestation("pingIdDesktopCredentialCreationOptions")?,
        _ => activation(None, None, None),
    })
}

/// The step `state` shows, again after a wrong passcode (`attempts_left`, `retry`).
fn shown(
    state: &RegistrationState,
    attempts_left: Option<u32>,
    retry: Option<&'static str>,
) -> Step {
    match state {
        RegistrationState::Activation {
            method,
            destination,
            key_uri,
            secret,
            ..
        } => Step::ActivationRequired {
            method: method.clone(),
            destination: destination.clone(),
            key_uri: key_uri.clone(),
            secret: secret.clone(),
            attempts_left,
            retry,
        },
        RegistrationState::Attestation {
            method, options, ..
        } => {
            let (fido, desktop) = match method.as_str() {
                "PINGID_DESKTOP" => (None, Some(options.clone())),
                _ => (Some(options.clone()), None),
            };
            Step::AttestationRequired {
                method: method.clone(),
                public_key_credential_creation_options: fido,
                ping_id_desktop_credential_creation_options: desktop,
                retry,
            }
        }
        // Shown from PingOne's answers, never from the state alone.
        RegistrationState::MethodSelection { .. } | RegistrationState::PairingKey { .. } => {
            Step::Failed {
                reason: "UNEXPECTED_STATE",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::BoxFuture;
    use shared::budget::Deadline;
    use shared::capability::{Origin, Ports, Reply, dispatch_json};
    use shared::error::FieldProblem;
    use shared::journey::JourneyPorts;
    use shared::journey::authentication::{Backup, Switches};
    use shared::legacy::MemoryUsedOnce;
    use shared::limits::UserLimits;
    use shared::pingone::{Method, PingOne, Request as PingOneRequest, Response};
    use shared::schema::Documented;
    use shared::schema::output::departures;
    use shared::secrets::{SecretCache, SecretError, SecretSource};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const BOB: &str = "b0b00000-0000-4000-8000-000000000002";
    const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";
    const KEY: &str = "unit-journey-key-0123456789abcdefghijklmnopqrstuvwxyz";
    const RIGHT_OTP: &str = "246810";

    /// PingOne as far as the journey uses it: bob's and alice's devices, one default policy
    /// (SMS, VOICE, EMAIL, TOTP, mobile, FIDO2), at most `max` devices; passcodes are
    /// `RIGHT_OTP`, three tries each.
    struct Tenant {
        max: usize,
        devices: Mutex<Vec<(String, Value, u32)>>,
        calls: Mutex<Vec<String>>,
    }

    impl Tenant {
        fn new(max: usize) -> Arc<Self> {
            let alices = json!({"id": "a11ce000-0000-4000-8000-0000000000d2", "type": "SMS",
                "status": "ACTIVATION_REQUIRED", "phone": "+15555550101"});
            Arc::new(Self {
                max,
                devices: Mutex::new(vec![(ALICE.into(), alices, 0)]),
                calls: Mutex::new(Vec::new()),
            })
        }

        /// The requests that acted (anything but a read).
        fn acts(&self) -> Vec<String> {
            let calls = self.calls.lock().unwrap();
            calls
                .iter()
                .filter(|c| !c.starts_with("Get"))
                .cloned()
                .collect()
        }

        fn answer(&self, request: PingOneRequest) -> Result<Response, Error> {
            let not_found = || Err(Error::NotFound("PingOne has no such resource".into()));
            self.calls
                .lock()
                .unwrap()
                .push(format!("{:?} {}", request.method, request.path));
            let parts: Vec<&str> = request.path.split('/').collect();
            let mut devices = self.devices.lock().unwrap();
            let ok = |body: Value| Ok(Response::new(200, body));
            match (request.method, parts.as_slice()) {
                (Method::Get, ["deviceAuthenticationPolicies"]) => ok(json!({"_embedded": {
                    "deviceAuthenticationPolicies": [{"id": "p1", "default": true,
                        "sms": {"enabled": true}, "voice": {"enabled": true},
                        "email": {"enabled": true}, "totp": {"enabled": true},
                        "mobile": {"enabled": true}, "fido2": {"enabled": true},
                        "yubikey": {"enabled": true, "pairingDisabled": true}}]}})),
                (Method::Get, ["mfaSettings"]) => {
                    ok(json!({"pairing": {"maxAllowedDevices": self.max}}))
                }
                (Method::Get, ["users", user]) => ok(json!({"id": user,
                    "mobilePhone": "+15555550102", "email": "bob@example.com"})),
                (Method::Get, ["users", user, "devices"]) => {
                    let listed: Vec<&Value> = devices
                        .iter()
                        .filter(|(owner, ..)| owner == user)
                        .map(|(_, device, _)| device)
                        .collect();
                    ok(json!({"_embedded": {"devices": listed}}))
                }
                (Method::Post, ["users", user, "devices"]) => {
                    let mut device = request.body.unwrap_or_default();
                    let id = format!("d0000000-0000-4000-8000-{:012}", devices.len() + 1);
                    device["id"] = json!(id);
                    if device["type"] == "TOTP" {
                        device["secret"] = json!("JBSWY3DPEHPK3PXP");
                        device["keyUri"] =
                            json!("otpauth://totp/PingOne:bob?secret=JBSWY3DPEHPK3PXP");
                    }
                    devices.push((user.to_string(), device.clone(), 0));
                    Ok(Response::new(201, device))
                }
                (method, ["users", user, "devices", id]) => {
                    let Some(index) = devices
                        .iter()
                        .position(|(owner, device, _)| owner == user && device["id"] == *id)
                    else {
                        return not_found();
                    };
                    match method {
                        Method::Get => ok(devices[index].1.clone()),
                        Method::Delete => {
                            devices.remove(index);
                            Ok(Response::new(204, Value::Null))
                        }
                        _ if request.content_type.contains("sendActivationCode") => {
                            Ok(Response::new(204, Value::Null))
                        }
                        _ => {
                            let (_, device, failures) = &mut devices[index];
                            let otp = request.body.unwrap_or_default()["otp"].clone();
                            if otp == RIGHT_OTP {
                                device["status"] = json!("ACTIVE");
                                return ok(device.clone());
                            }
                            *failures += 1;
                            Err(Error::InvalidOtp {
                                details: vec![FieldProblem::new(
                                    "otp",
                                    format!(
                                        "INVALID_OTP: The passcode is not correct. ({} attempt(s) remaining)",
                                        3 - *failures
                                    ),
                                )],
                                ping_one_error_id: None,
                            })
                        }
                    }
                }
                _ => not_found(),
            }
        }
    }

    impl PingOne for Tenant {
        fn send(
            &self,
            request: PingOneRequest,
            _: Deadline,
        ) -> BoxFuture<'_, Result<Response, Error>> {
            Box::pin(async move { self.answer(request) })
        }
    }

    struct JourneyKey;

    impl SecretSource for JourneyKey {
        fn fetch<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>> {
            Box::pin(async { Ok(Secret::new(KEY.to_string())) })
        }
    }

    fn ports(tenant: &Arc<Tenant>) -> Ports {
        Ports {
            pingone: tenant.clone(),
            budget: Duration::from_secs(5),
            legacy: None,
            allow_active_from_events: false,
            allow_test_mode: false,
            limits: UserLimits::in_memory(Default::default()),
            one_time_destinations: Default::default(),
            policies: None,
            journeys: Some(JourneyPorts {
                secrets: Arc::new(SecretCache::new(
                    Box::new(JourneyKey),
                    Duration::from_secs(60),
                )),
                secret_id: "journey".into(),
                used: Arc::new(MemoryUsedOnce::default()),
            }),
        }
    }

    async fn call(ports: &Ports, properties: Value) -> Reply {
        let request = json!({ "properties": properties });
        dispatch_json(
            &DeviceRegistrationJourney,
            ports,
            request,
            "c1",
            Origin::Api,
        )
        .await
    }

    /// The 200 answer, checked against the documented schema.
    async fn answer(ports: &Ports, properties: Value) -> Value {
        let reply = call(ports, properties).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let found = departures(&Output::json_schema(), &reply.body);
        assert!(found.is_empty(), "{found:?} in {}", reply.body);
        reply.body
    }

    /// The fields a 400 names.
    async fn refused(ports: &Ports, properties: Value) -> Vec<String> {
        let reply = call(ports, properties).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(reply.body["code"], "VALIDATION_FAILED");
        reply.body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap().to_string())
            .collect()
    }

    fn actions(answer: &Value) -> Vec<&str> {
        answer["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["action"].as_str().unwrap())
            .collect()
    }

    fn problems(properties: Value) -> Vec<(String, String)> {
        let input: Input = serde_json::from_value(properties).unwrap();
        let mut problems = Vec::new();
        input.request(&mut problems);
        problems.into_iter().map(|p| (p.field, p.problem)).collect()
    }

    #[test]
    fn every_field_that_does_not_go_with_the_action_is_named_at_once() {
        let found = problems(json!({"pingIdUserId": BOB, "pingIDUserId": ALICE,
            "continuation": "j1.x", "action": "register", "method": "EMAIL",
            "phone": "+15555550102", "otp": "123456", "origin": "https://a.example"}));
        let fields: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "properties.pingIDUserId",
                "properties.otp",
                "properties.origin",
                "properties.phone",
            ]
        );
        assert_eq!(found[1].1, "applies only to the otp action");
        assert_eq!(found[3].1, "applies only to SMS and VOICE");

        let oath = problems(json!({"pingIDUserId": BOB, "continuation": "j1.x",
            "action": "register", "method": "OATH_TOKEN", "rpId": "example.com"}));
        assert_eq!(
            oath,
            [
                (
                    "properties.rpId".into(),
                    "applies only to SECURITY_KEY and PLATFORM".into()
                ),
                (
                    "properties.serialNumber".into(),
                    "is required for OATH_TOKEN".into()
                ),
            ]
        );
        let missing = problems(json!({"continuation": "j1.x", "action": "attestation"}));
        let fields: Vec<&str> = missing.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "properties.pingIdUserId",
                "properties.attestation",
                "properties.origin"
            ]
        );
        // An action belongs to a continuation; a continuation needs an action
        assert_eq!(
            problems(json!({"pingIdUserId": BOB, "action": "cancel"}))[0].0,
            "properties.action"
        );
        assert_eq!(
            problems(json!({"pingIdUserId": BOB, "continuation": "j1.x"})),
            [(
                "properties.action".into(),
                "is required with a continuation".into()
            )]
        );
        assert!(problems(json!({"pingIdUserId": BOB})).is_empty());
    }

    #[tokio::test]
    async fn an_sms_device_is_registered_after_a_wrong_passcode_and_the_right_one() {
        let tenant = Tenant::new(5);
        let ports = ports(&tenant);
        let start = answer(&ports, json!({"pingIdUserId": BOB})).await;
        assert_eq!(start["step"], "METHOD_SELECTION");
        assert_eq!(start["maxAllowedDevices"], 5);
        let methods: Vec<&str> = start["methods"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["method"].as_str().unwrap())
            .collect();
        assert_eq!(
            methods,
            [
                "SMS",
                "VOICE",
                "EMAIL",
                "PINGID_MOBILE",
                "TOTP",
                "SECURITY_KEY",
                "PLATFORM"
            ]
        );
        assert_eq!(actions(&start), ["register", "cancel"]);

        // The profile's phone when none is given, masked on the screen
        let sent = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": start["continuation"],
            "action": "register", "method": "SMS", "nickname": "Work phone"}),
        )
        .await;
        assert_eq!(
            sent,
            json!({"step": "ACTIVATION_REQUIRED", "method": "SMS", "destination": "+1555*****02",
                "actions": sent["actions"], "continuation": sent["continuation"]})
        );
        assert_eq!(actions(&sent), ["otp", "resend", "cancel"]);

        let wrong = answer(
            &ports,
            json!({"pingIDUserId": BOB, "continuation": sent["continuation"],
            "action": "otp", "otp": "000000"}),
        )
        .await;
        assert_eq!(
            (&wrong["step"], &wrong["retry"], &wrong["attemptsLeft"]),
            (
                &json!("ACTIVATION_REQUIRED"),
                &json!("INVALID_OTP"),
                &json!(2)
            )
        );
        assert_eq!(wrong["destination"], "+1555*****02");

        let done = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": wrong["continuation"],
            "action": "otp", "otp": RIGHT_OTP}),
        )
        .await;
        assert_eq!(done["step"], "REGISTERED");
        assert_eq!(
            done["device"],
            json!({"id": "d0000000-0000-4000-8000-000000000002", "type": "SMS",
                "status": "ACTIVE", "nickname": "Work phone"})
        );
        assert!(done.get("continuation").is_none() && actions(&done).is_empty());
    }

    #[tokio::test]
    async fn a_mistake_is_refused_before_the_continuation_is_spent() {
        let tenant = Tenant::new(5);
        let ports = ports(&tenant);
        let start = answer(&ports, json!({"pingIdUserId": BOB})).await;
        let token = start["continuation"].clone();
        // An action the step does not offer, a method not on offer
        assert_eq!(
            refused(
                &ports,
                json!({"pingIdUserId": BOB, "continuation": token,
                "action": "otp", "otp": "123456"})
            )
            .await,
            ["properties.action"]
        );
        assert_eq!(
            refused(
                &ports,
                json!({"pingIdUserId": BOB, "continuation": token,
                "action": "register", "method": "YUBIKEY"})
            )
            .await,
            ["properties.method"]
        );
        // Another user's id: the continuation is nothing to him
        assert_eq!(
            refused(
                &ports,
                json!({"pingIdUserId": ALICE, "continuation": token,
                "action": "cancel"})
            )
            .await,
            ["properties.continuation"]
        );
        assert!(tenant.acts().is_empty(), "{:?}", tenant.acts());
        // Still usable; once
        let sent = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": token,
            "action": "register", "method": "EMAIL"}),
        )
        .await;
        assert_eq!(sent["destination"], "b****@example.com");
        assert_eq!(
            refused(
                &ports,
                json!({"pingIdUserId": BOB, "continuation": token,
                "action": "register", "method": "EMAIL"})
            )
            .await,
            ["properties.continuation"]
        );
        assert_eq!(tenant.acts().len(), 1);
    }

    #[tokio::test]
    async fn with_no_room_left_nothing_may_be_registered() {
        let tenant = Tenant::new(1);
        let ports = ports(&tenant);
        let first = answer(&ports, json!({"pingIdUserId": BOB})).await;
        let totp = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": first["continuation"],
            "action": "register", "method": "TOTP"}),
        )
        .await;
        assert!(
            totp["keyUri"]
                .as_str()
                .unwrap()
                .starts_with("otpauth://totp/")
        );
        assert_eq!(actions(&totp), ["otp", "cancel"]);
        // The unfinished TOTP device takes the only place
        let full = answer(&ports, json!({"pingIdUserId": BOB})).await;
        assert!(
            full["methods"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["canRegister"] == false)
        );
        assert_eq!(actions(&full), ["cancel"]);
        assert_eq!(
            refused(
                &ports,
                json!({"pingIdUserId": BOB, "continuation": full["continuation"],
                "action": "register", "method": "SMS"})
            )
            .await,
            ["properties.method"]
        );
        // Cancelling the TOTP registration deletes its device and makes room again
        let canceled = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": totp["continuation"],
            "action": "cancel"}),
        )
        .await;
        assert_eq!(canceled["step"], "FAILED");
        assert_eq!(canceled["reason"], "CANCELED");
        assert!(
            tenant
                .acts()
                .iter()
                .any(|c| c.starts_with("Delete users/b0b"))
        );
        let again = answer(&ports, json!({"pingIdUserId": BOB})).await;
        assert_eq!(again["devices"], 0);
    }

    #[tokio::test]
    async fn too_many_wrong_passcodes_end_the_journey_and_delete_the_device() {
        let tenant = Tenant::new(5);
        let ports = ports(&tenant);
        let start = answer(&ports, json!({"pingIdUserId": BOB})).await;
        let mut step = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": start["continuation"],
            "action": "register", "method": "VOICE", "phone": "+15555550104"}),
        )
        .await;
        for left in [2, 1] {
            step = answer(
                &ports,
                json!({"pingIdUserId": BOB, "continuation": step["continuation"],
                "action": "otp", "otp": "000000"}),
            )
            .await;
            assert_eq!(step["attemptsLeft"], left);
        }
        let failed = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": step["continuation"],
            "action": "otp", "otp": "000000"}),
        )
        .await;
        assert_eq!(
            (&failed["step"], &failed["reason"]),
            (&json!("FAILED"), &json!("TOO_MANY_ATTEMPTS"))
        );
        assert!(
            tenant
                .devices
                .lock()
                .unwrap()
                .iter()
                .all(|(owner, ..)| owner != BOB)
        );
    }

    #[tokio::test]
    async fn a_hand_over_offers_the_mandatory_methods_and_hands_back() {
        let tenant = Tenant::new(5);
        let ports = ports(&tenant);
        let continuations = Continuations::new(KEY.as_bytes());
        let terms = Terms {
            switches: Switches {
                backups: vec![Backup::Sms],
                use_code: true,
                otp_fallback: false,
            },
            mandatory: vec!["VOICE".into()],
            admin_message: Some("Call the help desk".into()),
            decision: None,
            allowed_methods: None,
        };
        // What the authentication journey hands over
        let state = RegistrationState::MethodSelection {
            only: Some(vec!["VOICE".into()]),
            resume: Some(terms.clone()),
        };
        let now = SystemTime::now();
        let token = continuations.issue(Journey::DeviceRegistration, BOB, &state, now);
        assert_eq!(
            refused(
                &ports,
                json!({"pingIdUserId": BOB, "continuation": token,
                "action": "register", "method": "SMS"})
            )
            .await,
            ["properties.method"]
        );
        let sent = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": token,
            "action": "register", "method": "VOICE"}),
        )
        .await;
        let done = answer(
            &ports,
            json!({"pingIdUserId": BOB, "continuation": sent["continuation"],
            "action": "otp", "otp": RIGHT_OTP}),
        )
        .await;
        assert_eq!(done["step"], "REGISTERED");
        assert_eq!(
            done["actions"],
            json!([{"action": "continue", "journey": "authentication", "fields": {}}])
        );
        // The continuation is the authentication journey's, at REGISTERED, under its terms
        let back = done["continuation"].as_str().unwrap();
        let opened = continuations
            .open::<AuthenticationState>(Journey::Authentication, BOB, back, now)
            .unwrap();
        assert_eq!(
            opened.step(),
            &AuthenticationState::new(At::Registered, terms)
        );
        assert!(
            continuations
                .open::<RegistrationState>(Journey::DeviceRegistration, BOB, back, now)
                .is_err()
        );
    }

    #[test]
    fn a_new_device_shows_what_its_screen_needs() {
        let created = |body: Value| DeviceOutput::try_from(Response::new(201, body)).unwrap();
        let fido = created(json!({"id": "d1", "status": "ACTIVATION_REQUIRED",
            "publicKeyCredentialCreationOptions": "{\"rp\":{}}"}));
        let state = pending("PLATFORM", &fido, None, None).unwrap();
        assert_eq!(
            serde_json::to_value(shown(&state, None, None)).unwrap(),
            json!({"step": "ATTESTATION_REQUIRED", "method": "PLATFORM",
                "publicKeyCredentialCreationOptions": "{\"rp\":{}}"})
        );
        let desktop = created(json!({"id": "d2", "status": "ACTIVATION_REQUIRED",
            "pingIdDesktopCredentialCreationOptions": "eyJ.x.y"}));
        let state = pending("PINGID_DESKTOP", &desktop, None, None).unwrap();
        assert_eq!(
            serde_json::to_value(shown(&state, None, Some("INVALID_ATTESTATION"))).unwrap(),
            json!({"step": "ATTESTATION_REQUIRED", "method": "PINGID_DESKTOP",
                "pingIdDesktopCredentialCreationOptions": "eyJ.x.y", "retry": "INVALID_ATTESTATION"})
        );
        let yubikey = created(json!({"id": "d3", "status": "ACTIVATION_REQUIRED"}));
        let state = pending("YUBIKEY", &yubikey, None, None).unwrap();
        assert_eq!(
            serde_json::to_value(shown(&state, None, None)).unwrap(),
            json!({"step": "ACTIVATION_REQUIRED", "method": "YUBIKEY"})
        );
        // PingOne's answer without what the screen needs is no answer
        let bare = created(json!({"id": "d4", "status": "ACTIVATION_REQUIRED"}));
        let error = pending("TOTP", &bare, None, None).unwrap_err();
        assert_eq!(error.code(), "UPSTREAM_INVALID");
        // The body PingOne is asked to create
        let registration = Registration {
            method: "SECURITY_KEY".into(),
            phone: None,
            email: None,
            serial_number: None,
            rp_id: Some("login.example.com".into()),
            nickname: Some("Key".into()),
        };
        assert_eq!(
            device_body("SECURITY_KEY", &registration, None),
            json!({"type": "SECURITY_KEY", "status": "ACTIVATION_REQUIRED", "nickname": "Key",
                "rp": {"id": "login.example.com"}})
        );
    }

    #[test]
    fn no_debug_output_prints_a_passcode_or_a_continuation() {
        let input: Input = serde_json::from_value(json!({"pingIdUserId": BOB,
            "continuation": "j1.SECRETTOKEN", "action": "otp", "otp": "987654"}))
        .unwrap();
        let printed = format!("{input:?}");
        assert!(
            !printed.contains("987654") && !printed.contains("SECRETTOKEN"),
            "{printed}"
        );
        let output = Output(Answer {
            step: Step::Failed { reason: "CANCELED" },
            actions: Vec::new(),
            continuation: Some("j1.SECRETTOKEN".into()),
        });
        assert!(!format!("{output:?}").contains("SECRETTOKEN"));
    }
}
