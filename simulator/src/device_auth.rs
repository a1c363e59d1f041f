//! Device authentications (`/{envId}/deviceAuthentications` on the auth host): the runtime MFA
//! state machine.
//!
//! ```text
//!                    start ──┬─> DEVICE_SELECTION_REQUIRED ──device.select──┐
//!                            │        ^  (cancel CHANGE_DEVICE from any     │
//!                            │        |   non-terminal state)               v
//!                            ├────────┴──────────────────────────> device reached
//!   SMS / VOICE / EMAIL / TOTP: OTP_REQUIRED ──otp.check ok──> COMPLETED
//!                                    └──too many wrong OTPs──> FAILED (TOO_MANY_ATTEMPTS)
//!   MOBILE: PUSH_CONFIRMATION_REQUIRED ──approve──> COMPLETED
//!                                      ──deny─────> FAILED (PUSH_DENIED)
//!                                      ──timeout──> PUSH_CONFIRMATION_TIMED_OUT ──device.select──> …
//!   any non-terminal state ──cancel (other reasons)──> CANCELED
//! ```
//!
//! `COMPLETED`, `FAILED` and `CANCELED` are terminal: no action leaves them, so a failed,
//! denied, timed-out or cancelled authentication can never become `COMPLETED`.

pub(crate) mod routes;
mod view;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::SimConfig;
use crate::devices::{DESKTOP_ASSERTION, DESKTOP_AUTHENTICATION, unix};
use crate::errors::{ApiError, ErrorDetail};
use crate::outbox::{Channel, Delivery};
use crate::state::lock;
use crate::tenant::{Device, DeviceKind, DeviceSelection, Policy, Tenant, UserDevices};
use crate::{jws, totp, webauthn, yubikey};

/// The `status` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    DeviceSelectionRequired,
    OtpRequired,
    PushConfirmationRequired,
    PushConfirmationTimedOut,
    AssertionRequired,
    Completed,
    Failed,
    Canceled,
}

impl Status {
    /// The wire value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::DeviceSelectionRequired => "DEVICE_SELECTION_REQUIRED",
            Self::OtpRequired => "OTP_REQUIRED",
            Self::PushConfirmationRequired => "PUSH_CONFIRMATION_REQUIRED",
            Self::PushConfirmationTimedOut => "PUSH_CONFIRMATION_TIMED_OUT",
            Self::AssertionRequired => "ASSERTION_REQUIRED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Canceled => "CANCELED",
        }
    }

    fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled)
    }
}

/// Where the authentication currently stands, with what each state needs to proceed.
#[derive(Debug, Clone)]
enum State {
    DeviceSelectionRequired,
    OtpRequired(ExpectedOtp),
    PushConfirmationRequired { deadline: SystemTime },
    PushConfirmationTimedOut,
    AssertionRequired(ExpectedAssertion),
    Completed,
    Failed(AuthError),
    Canceled,
}

/// What an `ASSERTION_REQUIRED` authentication waits for.
#[derive(Debug, Clone)]
enum ExpectedAssertion {
    /// A WebAuthn assertion for the device's credential.
    Fido2 {
        device_id: String,
        rp_id: String,
        rp_name: String,
        credential: serde_json::Value,
        /// webauthn-rs `AuthenticationState` (JSON).
        state: serde_json::Value,
        /// `publicKeyCredentialRequestOptions`.
        options: String,
    },
    /// A JWS from the PingID desktop app.
    Desktop {
        device_id: String,
        rp_id: String,
        desktop_id: Option<String>,
        challenge: String,
        /// `pingIdDesktopCredentialRequestOptions`.
        options: String,
    },
}

/// A change to the device itself that a successful check makes.
#[derive(Debug)]
pub(crate) enum DeviceUpdate {
    /// The YubiKey's last accepted counter.
    YubikeyCounter { device_id: String, counter: u32 },
    /// The FIDO2 credential with its new sign counter.
    Fido2Credential {
        device_id: String,
        credential: serde_json::Value,
    },
}

/// The OTP an `OTP_REQUIRED` authentication waits for.
#[derive(Debug, Clone)]
enum ExpectedOtp {
    /// Sent by SMS, voice or email; single-use (the state moves on once it matches).
    Delivered { otp: String, expires_at: SystemTime },
    /// Whatever the authenticator app (or OATH token) shows (±1 step).
    Totp { secret: Vec<u8> },
    /// A fresh OTP of the bound YubiKey (counter above the last accepted one).
    Yubikey {
        device_id: String,
        public_id: Option<String>,
        last_counter: u32,
    },
}

/// The device being used: a paired one, or a one-time phone number / email address.
#[derive(Debug, Clone)]
enum SelectedDevice {
    Paired { id: String },
    OneTime(OneTimeDevice),
}

/// A device given inline for one authentication, without pairing.
#[derive(Debug, Clone)]
struct OneTimeDevice {
    channel: Channel,
    /// The phone number (SMS, VOICE) or email address (EMAIL).
    address: String,
}

/// The in-body `error` of a `FAILED` authentication.
#[derive(Debug, Clone, Serialize)]
struct AuthError {
    code: &'static str,
    message: &'static str,
}

/// Choice left open by the references: the error code of an authentication that ran out of
/// OTP attempts.
const TOO_MANY_ATTEMPTS: AuthError = AuthError {
    code: "TOO_MANY_ATTEMPTS",
    message: "Too many wrong passcodes were entered.",
};

const PUSH_DENIED: AuthError = AuthError {
    code: "PUSH_DENIED",
    message: "The user denied the push notification.",
};

/// One device authentication.
#[derive(Debug, Clone)]
pub(crate) struct DeviceAuthentication {
    id: Uuid,
    env_id: String,
    user_id: String,
    policy_id: String,
    state: State,
    selected: Option<SelectedDevice>,
    /// Wrong OTPs so far. Counted per authentication, not per device, so switching devices
    /// does not buy more guesses.
    failures: u32,
    created_at: SystemTime,
    updated_at: SystemTime,
    /// Fixed at creation: the authentication lives `device_authentication_lifetime` in total.
    expires_at: SystemTime,
}

/// The start request body; fields such as `application`, `userAgent` or `compatibility` are
/// accepted and ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StartRequest {
    user: Option<IdRef>,
    policy: Option<IdRef>,
    selected_device: Option<SelectedDeviceRequest>,
}

#[derive(Debug, Deserialize)]
struct IdRef {
    id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SelectedDeviceRequest {
    id: Option<String>,
    one_time: Option<OneTimeRequest>,
    otp: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OneTimeRequest {
    #[serde(rename = "type")]
    kind: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

/// `reason` of a cancel action; PingOne treats unknown values as `DEFAULT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CancelReason {
    ChangeDevice,
    /// `SIGNOUT`, `ADD_DEVICE`, `DEFAULT` or anything else: the authentication ends.
    Other,
}

impl CancelReason {
    /// Reads the wire value (absent = `DEFAULT`).
    pub(crate) fn parse(reason: Option<&str>) -> Self {
        match reason {
            Some("CHANGE_DEVICE") => Self::ChangeDevice,
            _ => Self::Other,
        }
    }
}

/// The user's answer to a push, played through the control API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum PushDecision {
    Approve,
    Deny,
    Timeout,
}

/// A push decision arrived while no push was pending.
#[derive(Debug)]
pub(crate) struct NoPushPending;

impl DeviceAuthentication {
    /// Starts an authentication for the request's user. Returns the new authentication and the
    /// OTP to deliver, if the reached device needs one.
    pub(crate) fn start(
        request: StartRequest,
        tenant: &Tenant,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<(Self, Option<Delivery>), ApiError> {
        let user_id = request
            .user
            .and_then(|user| user.id)
            .ok_or_else(|| required("user.id"))?;
        let user = tenant
            .user(&user_id)
            .ok_or_else(|| ApiError::invalid_value("user.id", "No user has this id."))?;
        let user = tenant.active_devices(user);
        let policy = match request.policy.and_then(|policy| policy.id) {
            Some(id) => tenant
                .policy(&id)
                .ok_or_else(|| ApiError::invalid_value("policy.id", "No policy has this id."))?,
            None => tenant
                .default_policy()
                .ok_or_else(|| ApiError::unexpected("The environment has no default policy."))?,
        };
        let mut auth = Self {
            id: Uuid::new_v4(),
            env_id: tenant.env_id.clone(),
            user_id: user.user.id.clone(),
            policy_id: policy.id.clone(),
            state: State::DeviceSelectionRequired,
            selected: None,
            failures: 0,
            created_at: now,
            updated_at: now,
            expires_at: now + config.device_authentication_lifetime,
        };

        let selection = request.selected_device.unwrap_or_default();
        let delivery = auth.begin(selection, &user, policy, now, config)?;
        Ok((auth, delivery))
    }

    /// Reaches the device the start request asks for: a one-time device, the device an OTP on
    /// start matches, the named device, or the one the policy picks (or none: selection).
    fn begin(
        &mut self,
        selection: SelectedDeviceRequest,
        user: &UserDevices<'_>,
        policy: &Policy,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<Option<Delivery>, ApiError> {
        match selection {
            SelectedDeviceRequest {
                one_time: Some(one_time),
                id,
                otp,
            } => {
                if id.is_some() || otp.is_some() {
                    return Err(ApiError::invalid_value(
                        "selectedDevice.oneTime",
                        "A one-time device cannot be combined with selectedDevice.id or selectedDevice.otp.",
                    ));
                }
                let device = one_time_device(one_time)?;
                Ok(Some(self.reach_one_time(device, now, config)))
            }
            SelectedDeviceRequest {
                otp: Some(otp), id, ..
            } => {
                self.complete_with_otp_on_start(user, id.as_deref(), &otp, now)?;
                Ok(None)
            }
            SelectedDeviceRequest { id: Some(id), .. } => {
                let device = user
                    .device(&id)
                    .ok_or_else(|| unknown_device("selectedDevice.id"))?;
                self.reach(device, now, config)
            }
            SelectedDeviceRequest { .. } => {
                let Some(default_device) = user.devices.first() else {
                    return Err(no_usable_devices());
                };
                let prompt = policy.device_selection == DeviceSelection::PromptToSelect
                    && user.devices.len() > 1;
                // Prompting means staying in DEVICE_SELECTION_REQUIRED, the initial state.
                if prompt {
                    Ok(None)
                } else {
                    self.reach(default_device, now, config)
                }
            }
        }
    }

    /// The authenticating user's id.
    pub(crate) fn user_id(&self) -> &str {
        &self.user_id
    }

    /// The current `status`.
    pub(crate) fn status(&self) -> Status {
        match self.state {
            State::DeviceSelectionRequired => Status::DeviceSelectionRequired,
            State::OtpRequired(_) => Status::OtpRequired,
            State::PushConfirmationRequired { .. } => Status::PushConfirmationRequired,
            State::PushConfirmationTimedOut => Status::PushConfirmationTimedOut,
            State::AssertionRequired(_) => Status::AssertionRequired,
            State::Completed => Status::Completed,
            State::Failed(_) => Status::Failed,
            State::Canceled => Status::Canceled,
        }
    }

    /// Applies what time alone changes: a push nobody answered before its deadline times out.
    fn catch_up(&mut self, now: SystemTime) {
        if let State::PushConfirmationRequired { deadline } = self.state
            && now >= deadline
        {
            self.state = State::PushConfirmationTimedOut;
            self.updated_at = deadline;
        }
    }

    /// `device.select`: allowed while selecting and after a push timed out.
    pub(crate) fn select_device(
        &mut self,
        user: &UserDevices<'_>,
        device_id: &str,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<Option<Delivery>, ApiError> {
        if !matches!(
            self.state,
            State::DeviceSelectionRequired | State::PushConfirmationTimedOut
        ) {
            return Err(self.not_allowed("device.select"));
        }
        let device = user
            .device(device_id)
            .ok_or_else(|| unknown_device("device.id"))?;
        self.reach(device, now, config)
    }

    /// `otp.check`: completes on the right OTP; a wrong one costs an attempt, and the last
    /// allowed wrong one fails the authentication.
    pub(crate) fn check_otp(
        &mut self,
        otp: &str,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<Option<DeviceUpdate>, ApiError> {
        let State::OtpRequired(expected) = &self.state else {
            return Err(self.not_allowed("otp.check"));
        };
        let mut update = None;
        let matches = match expected {
            ExpectedOtp::Delivered { expires_at, .. } if now >= *expires_at => {
                return Err(ApiError::invalid_data(
                    ErrorDetail::new("OTP_EXPIRED", "The passcode has expired.").target("otp"),
                ));
            }
            ExpectedOtp::Delivered { otp: sent, .. } => sent == otp,
            ExpectedOtp::Totp { secret } => totp::verify(secret, otp, now),
            ExpectedOtp::Yubikey {
                device_id,
                public_id,
                last_counter,
            } => match yubikey::parse(otp) {
                Some((id, counter))
                    if public_id.as_deref() == Some(id.as_str()) && counter > *last_counter =>
                {
                    update = Some(DeviceUpdate::YubikeyCounter {
                        device_id: device_id.clone(),
                        counter,
                    });
                    true
                }
                _ => false,
            },
        };
        self.updated_at = now;
        if matches {
            self.state = State::Completed;
            return Ok(update);
        }
        Err(invalid_otp(Some(self.count_failure(config))))
    }

    /// One more wrong answer: the attempts left (the authentication fails at zero).
    fn count_failure(&mut self, config: &SimConfig) -> u32 {
        self.failures += 1;
        let remaining = config.otp_max_failures.saturating_sub(self.failures);
        if remaining == 0 {
            self.state = State::Failed(TOO_MANY_ATTEMPTS);
        }
        remaining
    }

    /// `assertion.check`: a WebAuthn assertion (FIDO2 types) or the desktop app's JWS. A bad
    /// one costs an attempt like a wrong OTP.
    pub(crate) fn check_assertion(
        &mut self,
        assertion: &str,
        origin: &str,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<Option<DeviceUpdate>, ApiError> {
        let State::AssertionRequired(expected) = &self.state else {
            return Err(self.not_allowed("assertion.check"));
        };
        let outcome: Result<Option<DeviceUpdate>, String> = match expected {
            ExpectedAssertion::Fido2 {
                device_id,
                rp_id,
                rp_name,
                credential,
                state,
                ..
            } => webauthn::verify_assertion(rp_id, rp_name, state, credential, assertion, origin)
                .map(|credential| {
                    Some(DeviceUpdate::Fido2Credential {
                        device_id: device_id.clone(),
                        credential,
                    })
                }),
            ExpectedAssertion::Desktop {
                device_id,
                rp_id,
                desktop_id,
                challenge,
                ..
            } => {
                let claims = jws::key().verify(assertion);
                let valid = webauthn::origin_allowed(origin, rp_id).is_some()
                    && claims.is_some_and(|claims| {
                        claims["typ"] == DESKTOP_ASSERTION
                            && claims["deviceAuthenticationId"] == self.id.to_string().as_str()
                            && claims["deviceId"] == device_id.as_str()
                            && claims["challenge"] == challenge.as_str()
                            && desktop_id
                                .as_deref()
                                .is_some_and(|id| claims["desktopId"] == id)
                    });
                if valid {
                    Ok(None)
                } else {
                    Err("the desktop assertion is not valid".into())
                }
            }
        };
        self.updated_at = now;
        match outcome {
            Ok(update) => {
                self.state = State::Completed;
                Ok(update)
            }
            Err(reason) => {
                let remaining = self.count_failure(config);
                Err(ApiError::invalid_data(
                    ErrorDetail::new(
                        "INVALID_ASSERTION",
                        format!("The assertion could not be verified: {reason}."),
                    )
                    .target("assertion")
                    .inner_error(json!({ "remainingAttempts": remaining })),
                ))
            }
        }
    }

    /// The cancel action: `CHANGE_DEVICE` goes back to device selection, any other reason
    /// ends the authentication.
    pub(crate) fn cancel(
        &mut self,
        user: &UserDevices<'_>,
        reason: CancelReason,
        now: SystemTime,
    ) -> Result<(), ApiError> {
        if self.status().is_terminal() {
            return Err(self.not_allowed("cancel"));
        }
        match reason {
            CancelReason::ChangeDevice if user.devices.is_empty() => {
                return Err(no_usable_devices());
            }
            CancelReason::ChangeDevice => {
                self.state = State::DeviceSelectionRequired;
                self.selected = None;
            }
            CancelReason::Other => self.state = State::Canceled,
        }
        self.updated_at = now;
        Ok(())
    }

    /// The user's answer to a pending push.
    pub(crate) fn resolve_push(
        &mut self,
        decision: PushDecision,
        now: SystemTime,
    ) -> Result<(), NoPushPending> {
        if !matches!(self.state, State::PushConfirmationRequired { .. }) {
            return Err(NoPushPending);
        }
        self.state = match decision {
            PushDecision::Approve => State::Completed,
            PushDecision::Deny => State::Failed(PUSH_DENIED),
            PushDecision::Timeout => State::PushConfirmationTimedOut,
        };
        self.updated_at = now;
        Ok(())
    }

    /// Moves to the state the device calls for: an OTP for SMS, voice and email (returned for
    /// delivery), the code for TOTP / OATH / YubiKey, a push for the mobile app, an assertion
    /// for FIDO2 types and the desktop app.
    fn reach(
        &mut self,
        device: &Device,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<Option<Delivery>, ApiError> {
        self.selected = Some(SelectedDevice::Paired {
            id: device.id.clone(),
        });
        self.updated_at = now;
        let (channel, address) = match &device.kind {
            DeviceKind::Sms { phone } => (Channel::Sms, phone),
            DeviceKind::Voice { phone } => (Channel::Voice, phone),
            DeviceKind::Email { email } => (Channel::Email, email),
            DeviceKind::Totp { secret } | DeviceKind::OathToken { secret, .. } => {
                self.state = State::OtpRequired(ExpectedOtp::Totp {
                    secret: secret.clone(),
                });
                return Ok(None);
            }
            DeviceKind::Yubikey {
                public_id,
                last_counter,
            } => {
                self.state = State::OtpRequired(ExpectedOtp::Yubikey {
                    device_id: device.id.clone(),
                    public_id: public_id.clone(),
                    last_counter: *last_counter,
                });
                return Ok(None);
            }
            DeviceKind::Mobile { .. } => {
                self.state = State::PushConfirmationRequired {
                    deadline: now + config.push_timeout,
                };
                return Ok(None);
            }
            DeviceKind::Fido2 {
                rp_id,
                rp_name,
                credential,
                ..
            } => {
                let credential = credential
                    .clone()
                    .ok_or_else(|| ApiError::unexpected("The FIDO2 device has no credential."))?;
                let (options, state) = webauthn::request_options(rp_id, rp_name, &credential)
                    .map_err(|error| ApiError::unexpected(format!("WebAuthn options: {error}")))?;
                self.state = State::AssertionRequired(ExpectedAssertion::Fido2 {
                    device_id: device.id.clone(),
                    rp_id: rp_id.clone(),
                    rp_name: rp_name.clone(),
                    credential,
                    state,
                    options,
                });
                return Ok(None);
            }
            DeviceKind::Desktop {
                rp_id, desktop_id, ..
            } => {
                use base64::Engine;
                let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(rand::random::<[u8; 32]>());
                let options = jws::key().sign(&json!({
                    "typ": DESKTOP_AUTHENTICATION,
                    "environmentId": self.env_id,
                    "deviceAuthenticationId": self.id,
                    "deviceId": device.id,
                    "userId": self.user_id,
                    "rpId": rp_id,
                    "challenge": challenge,
                    "exp": unix(now + config.push_timeout.max(std::time::Duration::from_secs(300))),
                }));
                self.state = State::AssertionRequired(ExpectedAssertion::Desktop {
                    device_id: device.id.clone(),
                    rp_id: rp_id.clone(),
                    desktop_id: desktop_id.clone(),
                    challenge,
                    options,
                });
                return Ok(None);
            }
        };
        Ok(Some(self.send_otp(channel, address.clone(), now, config)))
    }

    /// The request options an `ASSERTION_REQUIRED` authentication shows:
    /// `(field name, value)`.
    pub(crate) fn assertion_options(&self) -> Option<(&'static str, &str)> {
        match &self.state {
            State::AssertionRequired(ExpectedAssertion::Fido2 { options, .. }) => {
                Some(("publicKeyCredentialRequestOptions", options))
            }
            State::AssertionRequired(ExpectedAssertion::Desktop { options, .. }) => {
                Some(("pingIdDesktopCredentialRequestOptions", options))
            }
            _ => None,
        }
    }

    fn reach_one_time(
        &mut self,
        device: OneTimeDevice,
        now: SystemTime,
        config: &SimConfig,
    ) -> Delivery {
        let delivery = self.send_otp(device.channel, device.address.clone(), now, config);
        self.selected = Some(SelectedDevice::OneTime(device));
        delivery
    }

    fn send_otp(
        &mut self,
        channel: Channel,
        to: String,
        now: SystemTime,
        config: &SimConfig,
    ) -> Delivery {
        let otp = format!("{:06}", rand::random_range(0..1_000_000));
        self.state = State::OtpRequired(ExpectedOtp::Delivered {
            otp: otp.clone(),
            expires_at: now + config.otp_lifetime,
        });
        Delivery {
            channel,
            to,
            otp,
            valid_for: config.otp_lifetime,
        }
    }

    /// OTP on start: checks `otp` against the named device, or against every device of the
    /// user that can verify a code without a delivery (TOTP). Nothing is left pending when it
    /// is wrong.
    fn complete_with_otp_on_start(
        &mut self,
        user: &UserDevices<'_>,
        device_id: Option<&str>,
        otp: &str,
        now: SystemTime,
    ) -> Result<(), ApiError> {
        let candidates: Vec<&Device> = match device_id {
            Some(id) => {
                let device = user
                    .device(id)
                    .ok_or_else(|| unknown_device("selectedDevice.id"))?;
                if !matches!(
                    device.kind,
                    DeviceKind::Totp { .. } | DeviceKind::OathToken { .. }
                ) {
                    // Choice left open: only code-generating devices can check an OTP on start.
                    return Err(ApiError::invalid_value(
                        "selectedDevice.id",
                        "This device cannot verify a passcode given on start.",
                    ));
                }
                vec![device]
            }
            None => user.devices.iter().collect(),
        };
        let matched = candidates.into_iter().find(|device| match &device.kind {
            DeviceKind::Totp { secret } | DeviceKind::OathToken { secret, .. } => {
                totp::verify(secret, otp, now)
            }
            _ => false,
        });
        let Some(device) = matched else {
            return Err(invalid_otp(None));
        };
        self.selected = Some(SelectedDevice::Paired {
            id: device.id.clone(),
        });
        self.state = State::Completed;
        self.updated_at = now;
        Ok(())
    }

    fn not_allowed(&self, action: &str) -> ApiError {
        ApiError::request_failed(format!(
            "The {action} action is not allowed while the authentication is {}.",
            self.status().as_str()
        ))
    }
}

fn one_time_device(request: OneTimeRequest) -> Result<OneTimeDevice, ApiError> {
    let (channel, address, target) = match request.kind.as_deref() {
        Some("SMS") => (Channel::Sms, request.phone, "selectedDevice.oneTime.phone"),
        Some("VOICE") => (
            Channel::Voice,
            request.phone,
            "selectedDevice.oneTime.phone",
        ),
        Some("EMAIL") => (
            Channel::Email,
            request.email,
            "selectedDevice.oneTime.email",
        ),
        _ => {
            return Err(ApiError::invalid_data(
                ErrorDetail::new(
                    "INVALID_VALUE",
                    "The one-time device type must be SMS, VOICE or EMAIL.",
                )
                .target("selectedDevice.oneTime.type")
                .inner_error(json!({ "allowedValues": ["SMS", "VOICE", "EMAIL"] })),
            ));
        }
    };
    let address = address.ok_or_else(|| required(target))?;
    let valid = match channel {
        Channel::Sms | Channel::Voice => is_phone_number(&address),
        Channel::Email => is_email_address(&address),
    };
    if !valid {
        let (message, pattern) = match channel {
            Channel::Email => ("The email address is not valid.", EMAIL_PATTERN),
            Channel::Sms | Channel::Voice => (
                "The phone number must be in international format: + and 8 to 15 digits.",
                PHONE_PATTERN,
            ),
        };
        return Err(ApiError::invalid_data(
            ErrorDetail::new("INVALID_VALUE", message)
                .target(target)
                .inner_error(json!({ "allowedPattern": pattern })),
        ));
    }
    Ok(OneTimeDevice { channel, address })
}

const PHONE_PATTERN: &str = r"^\+[0-9]{8,15}$";
const EMAIL_PATTERN: &str = r"^[^@\s]+@[^@\s]+\.[^@\s]+$";

fn is_phone_number(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn is_email_address(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let clean = |part: &str| !part.is_empty() && !part.contains(['@', ' ', '\t', '\n']);
    clean(local) && clean(domain) && domain.split('.').count() >= 2 && domain.split('.').all(clean)
}

fn required(target: &str) -> ApiError {
    ApiError::invalid_data(
        ErrorDetail::new("REQUIRED_VALUE", format!("{target} is required.")).target(target),
    )
}

fn unknown_device(target: &str) -> ApiError {
    ApiError::invalid_value(target, "The user has no usable device with this id.")
}

fn no_usable_devices() -> ApiError {
    ApiError::request_failed("The user has no device that can authenticate.").detail(
        ErrorDetail::new("NO_USABLE_DEVICES", "The user has no usable MFA device."),
    )
}

/// 400 `INVALID_DATA` / `INVALID_OTP`, with the attempts left when an authentication counts them.
fn invalid_otp(remaining_attempts: Option<u32>) -> ApiError {
    let detail = ErrorDetail::new("INVALID_OTP", "The passcode is not correct.").target("otp");
    let detail = match remaining_attempts {
        Some(remaining) => detail.inner_error(json!({ "remainingAttempts": remaining })),
        None => detail,
    };
    ApiError::invalid_data(detail)
}

/// All live device authentications, by id.
#[derive(Debug, Default)]
pub(crate) struct DeviceAuthStore {
    auths: Mutex<HashMap<Uuid, DeviceAuthentication>>,
}

impl DeviceAuthStore {
    /// Keeps a new authentication, forgetting expired ones so that a long-running simulator
    /// does not accumulate them.
    pub(crate) fn insert(&self, auth: DeviceAuthentication, now: SystemTime) {
        let mut auths = lock(&self.auths);
        auths.retain(|_, kept| now < kept.expires_at);
        auths.insert(auth.id, auth);
    }

    /// Runs `action` on authentication `id` of `env_id` as it stands at `now` (push deadline
    /// applied). `None` when it does not exist, belongs to another environment or has expired
    /// (expired ones are forgotten).
    pub(crate) fn update<R>(
        &self,
        env_id: &str,
        id: Uuid,
        now: SystemTime,
        action: impl FnOnce(&mut DeviceAuthentication) -> R,
    ) -> Option<R> {
        let mut auths = lock(&self.auths);
        if auths.get(&id).is_some_and(|auth| now >= auth.expires_at) {
            auths.remove(&id);
            return None;
        }
        let auth = auths.get_mut(&id).filter(|auth| auth.env_id == env_id)?;
        auth.catch_up(now);
        Some(action(auth))
    }
}

pub(crate) use view::render;

impl DeviceUpdate {
    /// Writes the change into the live device store.
    pub(crate) fn apply(self, tenant: &Tenant) {
        let mut store = lock(&tenant.devices);
        let device_id = match &self {
            Self::YubikeyCounter { device_id, .. } | Self::Fido2Credential { device_id, .. } => {
                device_id.clone()
            }
        };
        let Some(device) = store
            .by_user
            .values_mut()
            .flatten()
            .find(|device| device.id == device_id)
        else {
            return;
        };
        match (self, &mut device.kind) {
            (Self::YubikeyCounter { counter, .. }, DeviceKind::Yubikey { last_counter, .. }) => {
                *last_counter = (*last_counter).max(counter)
            }
            (
                Self::Fido2Credential { credential, .. },
                DeviceKind::Fido2 {
                    credential: stored, ..
                },
            ) => *stored = Some(credential),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_need_a_plus_and_8_to_15_digits() {
        assert!(is_phone_number("+15555550101"));
        assert!(is_phone_number("+12345678"));
        assert!(!is_phone_number("15555550101"));
        assert!(!is_phone_number("+1234567"));
        assert!(!is_phone_number("+1234567890123456"));
        assert!(!is_phone_number("+1555555010x"));
    }

    #[test]
    fn email_addresses_need_a_local_part_and_a_dotted_domain() {
        assert!(is_email_address("bob@example.com"));
        assert!(!is_email_address("bob@example"));
        assert!(!is_email_address("@example.com"));
        assert!(!is_email_address("bob@@example.com"));
        assert!(!is_email_address("bob@example..com"));
    }
}
