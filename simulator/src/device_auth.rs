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
//!           PUSH_CONFIRMATION_REQUIRED / _TIMED_OUT ──otp.check (the app's code, "Use Code")──> COMPLETED
//!           push switched off on the phone: OTP_REQUIRED (the app's code)
//!   usernameless (no user.id, `rp.id`): ASSERTION_REQUIRED (any discoverable credential of the
//!           RP) ──assertion.check──> COMPLETED, the credential's owner becomes `user.id`
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
use crate::devices::{DEFAULT_RP_ID, DESKTOP_ASSERTION, DESKTOP_AUTHENTICATION, unix};
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
    /// A usernameless sign-in: an assertion of any discoverable credential of `rp_id`, with
    /// user verification; the credential's owner is the user.
    Discoverable {
        rp_id: String,
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
    /// `None` for a usernameless sign-in until the assertion names the user.
    user_id: Option<String>,
    policy_id: String,
    state: State,
    selected: Option<SelectedDevice>,
    /// The PingID app's passcode secret while its push is pending or timed out: the code the
    /// app shows ("Use Code") completes the authentication like an approval.
    app_code: Option<Vec<u8>>,
    /// `compatibility: NONE`: the browser cannot run WebAuthn, so FIDO2 devices are left out.
    fido_allowed: bool,
    /// Test mode: delivered passcodes are not sent but shown in the resource (`test.otp`).
    test_mode: bool,
    /// A caller-chosen WebAuthn challenge for the FIDO2 ceremony.
    challenge: Option<Vec<u8>>,
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
    /// The relying party of a FIDO2 ceremony; without `user.id` it starts a usernameless
    /// sign-in.
    rp: Option<IdRef>,
    /// A caller-chosen WebAuthn challenge (base64url, at least 32 bytes).
    challenge: Option<String>,
    /// `FULL`, `SECURITY_KEY_ONLY` or `NONE` (no WebAuthn in this browser).
    compatibility: Option<String>,
    /// Passcodes are shown in the resource instead of being sent.
    test_mode: Option<bool>,
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
    /// Starts an authentication for the request's user, or a usernameless sign-in when the
    /// request names no user. Returns the new authentication and the OTP to deliver, if the
    /// reached device needs one (none in test mode: the passcode is shown instead).
    pub(crate) fn start(
        request: StartRequest,
        tenant: &Tenant,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<(Self, Option<Delivery>), ApiError> {
        let policy = match request.policy.and_then(|policy| policy.id) {
            Some(id) => tenant
                .policy(&id)
                .ok_or_else(|| ApiError::invalid_value("policy.id", "No policy has this id."))?,
            None => tenant
                .default_policy()
                .ok_or_else(|| ApiError::unexpected("The environment has no default policy."))?,
        };
        let fido_allowed = match request.compatibility.as_deref() {
            None | Some("FULL" | "SECURITY_KEY_ONLY") => true,
            Some("NONE") => false,
            Some(_) => {
                return Err(ApiError::invalid_value(
                    "compatibility",
                    "The compatibility must be FULL, SECURITY_KEY_ONLY or NONE.",
                ));
            }
        };
        let challenge = request
            .challenge
            .as_deref()
            .map(webauthn::challenge)
            .transpose()?;
        let rp_id = request.rp.and_then(|rp| rp.id);
        let mut auth = Self {
            id: Uuid::new_v4(),
            env_id: tenant.env_id.clone(),
            user_id: None,
            policy_id: policy.id.clone(),
            state: State::DeviceSelectionRequired,
            selected: None,
            app_code: None,
            fido_allowed,
            test_mode: request.test_mode == Some(true),
            challenge: challenge.clone(),
            failures: 0,
            created_at: now,
            updated_at: now,
            expires_at: now + config.device_authentication_lifetime,
        };
        let Some(user_id) = request.user.and_then(|user| user.id) else {
            // A device can only be chosen for a user; without one and without a device it is a
            // usernameless sign-in.
            if request.selected_device.is_some() {
                return Err(required("user.id"));
            }
            auth.begin_usernameless(rp_id, challenge, policy)?;
            return Ok((auth, None));
        };
        let user = tenant
            .user(&user_id)
            .ok_or_else(|| ApiError::invalid_value("user.id", "No user has this id."))?;
        let user = auth.usable(tenant.active_devices(user));
        auth.user_id = Some(user.user.id.clone());
        let selection = request.selected_device.unwrap_or_default();
        let delivery = auth.begin(selection, &user, policy, now, config)?;
        Ok((auth, delivery))
    }

    /// A usernameless sign-in: request options with no `allowCredentials` (the browser offers
    /// the passkeys it holds for the RP) and user verification required, as PingOne asks of a
    /// credential that must name the user by itself.
    fn begin_usernameless(
        &mut self,
        rp_id: Option<String>,
        challenge: Option<Vec<u8>>,
        policy: &Policy,
    ) -> Result<(), ApiError> {
        if !self.fido_allowed {
            return Err(ApiError::invalid_value(
                "compatibility",
                "A usernameless sign-in needs WebAuthn; the compatibility is NONE.",
            ));
        }
        if !policy.fido2.enabled {
            return Err(ApiError::request_failed(
                "The policy does not allow FIDO2, so no usernameless sign-in.",
            ));
        }
        let rp_id = rp_id.unwrap_or_else(|| DEFAULT_RP_ID.into());
        let (options, state) = webauthn::usernameless_request_options(&rp_id, challenge)
            .map_err(|error| ApiError::unexpected(format!("WebAuthn options: {error}")))?;
        self.state = State::AssertionRequired(ExpectedAssertion::Discoverable {
            rp_id,
            state,
            options,
        });
        Ok(())
    }

    /// The user's devices this authentication may use: without WebAuthn in the browser
    /// (`compatibility: NONE`), not the FIDO2 ones.
    pub(crate) fn usable<'a>(&self, mut user: UserDevices<'a>) -> UserDevices<'a> {
        if !self.fido_allowed {
            user.devices
                .retain(|device| !matches!(device.kind, DeviceKind::Fido2 { .. }));
        }
        user
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
                Ok(self.reach_one_time(device, now, config))
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

    /// The authenticating user's id; `None` for a usernameless sign-in not yet completed.
    pub(crate) fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The passcode a test-mode authentication shows instead of sending it.
    pub(crate) fn test_otp(&self) -> Option<&str> {
        match &self.state {
            State::OtpRequired(ExpectedOtp::Delivered { otp, .. }) if self.test_mode => Some(otp),
            _ => None,
        }
    }

    /// Whether the PingID app's own code may complete the authentication now.
    pub(crate) fn takes_app_code(&self) -> bool {
        self.app_code.is_some()
            && matches!(
                self.state,
                State::PushConfirmationRequired { .. } | State::PushConfirmationTimedOut
            )
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
        user: Option<&UserDevices<'_>>,
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
            .and_then(|user| user.device(device_id))
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
        if self.takes_app_code() {
            let secret = self.app_code.as_deref().unwrap_or_default();
            self.updated_at = now;
            if totp::verify(secret, otp, now) {
                self.state = State::Completed;
                return Ok(None);
            }
            return Err(invalid_otp(Some(self.count_failure(config))));
        }
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

    /// `assertion.check`: a WebAuthn assertion (FIDO2 types, or any discoverable credential of
    /// the RP for a usernameless sign-in, whose owner then becomes the authentication's user)
    /// or the desktop app's JWS. A bad one costs an attempt like a wrong OTP.
    pub(crate) fn check_assertion(
        &mut self,
        tenant: &Tenant,
        assertion: &str,
        origin: &str,
        now: SystemTime,
        config: &SimConfig,
    ) -> Result<Option<DeviceUpdate>, ApiError> {
        let State::AssertionRequired(expected) = &self.state else {
            return Err(self.not_allowed("assertion.check"));
        };
        let mut owner = None;
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
            ExpectedAssertion::Discoverable { rp_id, state, .. } => discoverable_credential(
                tenant, rp_id, assertion,
            )
            .and_then(|(user_id, device_id, credential)| {
                let credential = webauthn::verify_passkey_assertion(
                    rp_id,
                    state,
                    &credential,
                    assertion,
                    origin,
                )?;
                owner = Some((user_id, device_id.clone()));
                Ok(Some(DeviceUpdate::Fido2Credential {
                    device_id,
                    credential,
                }))
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
                if let Some((user_id, device_id)) = owner {
                    self.user_id = Some(user_id);
                    self.selected = Some(SelectedDevice::Paired { id: device_id });
                }
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
        user: Option<&UserDevices<'_>>,
        reason: CancelReason,
        now: SystemTime,
    ) -> Result<(), ApiError> {
        if self.status().is_terminal() {
            return Err(self.not_allowed("cancel"));
        }
        match reason {
            CancelReason::ChangeDevice if user.is_none_or(|user| user.devices.is_empty()) => {
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
        self.app_code = None;
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
            // A phone that push cannot reach (push switched off) is asked for the app's code.
            DeviceKind::Mobile {
                push_enabled: false,
                otp_secret,
                ..
            } => {
                self.state = State::OtpRequired(ExpectedOtp::Totp {
                    secret: otp_secret.clone(),
                });
                return Ok(None);
            }
            DeviceKind::Mobile { otp_secret, .. } => {
                self.state = State::PushConfirmationRequired {
                    deadline: now + config.push_timeout,
                };
                self.app_code = Some(otp_secret.clone());
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
                let (options, state) =
                    webauthn::request_options(rp_id, rp_name, &credential, self.challenge.clone())
                        .map_err(|error| {
                            ApiError::unexpected(format!("WebAuthn options: {error}"))
                        })?;
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
        Ok(self.send_otp(channel, address.clone(), now, config))
    }

    /// The request options an `ASSERTION_REQUIRED` authentication shows:
    /// `(field name, value)`.
    pub(crate) fn assertion_options(&self) -> Option<(&'static str, &str)> {
        match &self.state {
            State::AssertionRequired(ExpectedAssertion::Fido2 { options, .. }) => {
                Some(("publicKeyCredentialRequestOptions", options))
            }
            State::AssertionRequired(ExpectedAssertion::Discoverable { options, .. }) => {
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
    ) -> Option<Delivery> {
        let delivery = self.send_otp(device.channel, device.address.clone(), now, config);
        self.selected = Some(SelectedDevice::OneTime(device));
        delivery
    }

    /// Draws a passcode and waits for it; returns the message to send, none in test mode
    /// (the resource shows the code as `test.otp` instead).
    fn send_otp(
        &mut self,
        channel: Channel,
        to: String,
        now: SystemTime,
        config: &SimConfig,
    ) -> Option<Delivery> {
        let otp = format!("{:06}", rand::random_range(0..1_000_000));
        self.state = State::OtpRequired(ExpectedOtp::Delivered {
            otp: otp.clone(),
            expires_at: now + config.otp_lifetime,
        });
        (!self.test_mode).then_some(Delivery {
            channel,
            to,
            otp,
            valid_for: config.otp_lifetime,
        })
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

/// The active FIDO2 device of `rp_id` holding the credential an assertion names, with its
/// owner: `(user id, device id, credential)`. A user handle in the assertion must be that
/// owner's (WebAuthn user handles are PingOne user ids).
fn discoverable_credential(
    tenant: &Tenant,
    rp_id: &str,
    assertion: &str,
) -> Result<(String, String, serde_json::Value), String> {
    let (credential_id, user_handle) = webauthn::assertion_identity(assertion)?;
    let store = lock(&tenant.devices);
    store
        .by_user
        .iter()
        .flat_map(|(user_id, devices)| devices.iter().map(move |device| (user_id, device)))
        .find_map(|(user_id, device)| match &device.kind {
            DeviceKind::Fido2 {
                rp_id: device_rp,
                credential: Some(credential),
                ..
            } if device.status == crate::tenant::DeviceStatus::Active
                && device_rp.eq_ignore_ascii_case(rp_id)
                && credential["cred_id"] == credential_id.as_str() =>
            {
                Some((user_id.clone(), device.id.clone(), credential.clone()))
            }
            _ => None,
        })
        .filter(|(user_id, ..)| {
            user_handle
                .as_deref()
                .is_none_or(|handle| handle == user_id.as_bytes())
        })
        .ok_or_else(|| "no passkey of this relying party has this credential".into())
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

impl DeviceAuthStore {
    /// The id and status of `user_id`'s latest authentication at `now`: what the user's phone
    /// would show (a client that drives PingOne through a journey never sees the id).
    pub(crate) fn latest_of(&self, user_id: &str, now: SystemTime) -> Option<(Uuid, &'static str)> {
        let mut auths = lock(&self.auths);
        let auth = auths
            .values_mut()
            .filter(|auth| auth.user_id.as_deref() == Some(user_id) && now < auth.expires_at)
            .max_by_key(|auth| auth.created_at)?;
        auth.catch_up(now);
        Some((auth.id, auth.status().as_str()))
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
