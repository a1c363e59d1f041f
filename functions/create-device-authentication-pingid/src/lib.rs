//! `createDeviceAuthenticationPingID`: starts an MFA authentication for a user, or a
//! usernameless passkey sign-in.
//!
//! `selectedDevice` says which device:
//! - `default` (or absent, without `selectedDeviceId`): the policy decides — the user's default
//!   device, or `DEVICE_SELECTION_REQUIRED` with the devices to choose from;
//! - `id` (or absent, with `selectedDeviceId`): that paired device;
//! - `oneTime`: a device used for this session only, without pairing: `oneTimeDeviceType`
//!   SMS, VOICE or EMAIL and the matching `oneTimeSmsDevice` / `oneTimeVoiceDevice` /
//!   `oneTimeEmailDevice`.
//!
//! `otp` lets the user type a passcode up front (TOTP or HOTP codes): PingOne checks it against
//! the selected device, or every applicable device when none is selected.
//!
//! **Usernameless** (`usernameLess: true`, no `userId`): a passkey sign-in where the passkey
//! names the user. PingOne starts it without a user (`ASSERTION_REQUIRED`, request options
//! with no `allowCredentials`, user verification required); the browser's assertion goes to
//! `validateAssertionDeviceAuthentication` without `userId`, and the answer carries the user
//! the passkey belongs to. Nothing is sent, so no per-user limit applies to the start.
//!
//! FIDO2 inputs: `rpId` (also spelled `deviceAuthenRpId`, the catalogue's two names for the
//! relying party the ceremony runs for [I]; given both, they must agree) goes to PingOne as
//! `rp.id`, PingOne's documented field for a usernameless start, and otherwise the FIDO policy's
//! RP applies; `challenge` (base64url, at least 32 bytes) replaces the challenge PingOne would
//! draw; `compatibility` (`FULL`, `SECURITY_KEY_ONLY`, `NONE`; `fidoCompatibility` is the
//! catalogue's FULL/NONE spelling, and given both they must agree) says what the browser can do:
//! with `NONE`, PingOne leaves FIDO2 devices out.
//!
//! **Test mode** (`createDeviceTestMode` for a paired device, `oneTimeDeviceTestMode` for a
//! one-time device): PingOne answers with the passcode in `test.otp` instead of sending it, so a
//! flow can be tried without a phone. A passcode in the answer is no second factor, so it is
//! refused unless the deployment allows it (`AllowTestMode`, off by default).
//!
//! Limits (`shared::limits`): what the start will send (a push, a text or call, an e-mail) and
//! a passcode given up front are counted against the user's allowance before PingOne is called;
//! a one-time device may only send to the user's own phone or e-mail unless the deployment says
//! otherwise (`OneTimeDestinations`).
//!
//! Inputs must agree with each other; every disagreement is reported like a schema violation,
//! none is silently ignored.
//!
//! PingOne: `POST {auth}/{envId}/deviceAuthentications`. Where the references leave the body
//! open we chose, and mark [I]: the OTP on start travels as `selectedDevice.otp`; the browser's
//! `userAgent` as top-level `userAgent`; `ip` and `applicationName` as `clientContext`, the
//! context PingID shows the user with a push; `challenge`, `compatibility` and `testMode` as
//! top-level fields.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::error::Problems;
use shared::limits::{Kind, OneTimeDestinations, same_email, same_phone};
use shared::pingone::DeviceAuthenticationOutput;
use shared::schema::{EMAIL_PATTERN, FIDO_COMPATIBILITY, OTP_PATTERN, PHONE_PATTERN};
use shared::secrets::Secret;
use shared::{Error, FieldProblem, Handler, Invocation};

/// The capability.
pub struct CreateDeviceAuthentication;

/// Which device the authentication uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, shared::Values)]
pub enum Selection {
    /// The policy decides.
    #[serde(rename = "default")]
    Default,
    /// The device in `selectedDeviceId`.
    #[serde(rename = "id")]
    Id,
    /// A one-time device.
    #[serde(rename = "oneTime")]
    OneTime,
}

/// Kinds of one-time devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, shared::Values)]
pub enum OneTimeType {
    /// A text message to a phone.
    #[serde(rename = "SMS")]
    Sms,
    /// A voice call to a phone.
    #[serde(rename = "VOICE")]
    Voice,
    /// An e-mail.
    #[serde(rename = "EMAIL")]
    Email,
}

/// A relying party id: a domain name.
const RP_ID_PATTERN: &str = "^[A-Za-z0-9.-]+$";
/// A WebAuthn challenge: base64url of at least 32 bytes (43 characters).
const CHALLENGE_PATTERN: &str = "^[A-Za-z0-9_-]{43,}$";

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id; required unless usernameLess is true
    #[field(id)]
    pub user_id: Option<String>,
    /// true: a passkey sign-in without a user; the passkey names the user
    pub username_less: Option<bool>,
    /// default device (policy), a paired device by id, or a one-time device
    pub selected_device: Option<Selection>,
    /// paired device to use (selectedDevice = id)
    #[field(id)]
    pub selected_device_id: Option<String>,
    /// kind of one-time device (selectedDevice = oneTime)
    pub one_time_device_type: Option<OneTimeType>,
    /// phone for a one-time SMS, international format
    #[field(max_length = 16, pattern = PHONE_PATTERN)]
    pub one_time_sms_device: Option<String>,
    /// phone for a one-time voice call, international format
    #[field(max_length = 16, pattern = PHONE_PATTERN)]
    pub one_time_voice_device: Option<String>,
    /// address for a one-time e-mail
    #[field(max_length = 254, pattern = EMAIL_PATTERN)]
    pub one_time_email_device: Option<String>,
    /// passcode entered up front (TOTP/HOTP)
    #[field(max_length = 64, pattern = OTP_PATTERN)]
    pub otp: Option<Secret<String>>,
    /// PingID (MFA) policy id
    #[field(id)]
    pub workforce_policy_mfa_policy_id: Option<String>,
    /// FIDO2: relying party id (a domain) of the ceremony
    #[field(max_length = 253, pattern = RP_ID_PATTERN)]
    pub rp_id: Option<String>,
    /// FIDO2: relying party id, the catalogue's other name for rpId
    #[field(max_length = 253, pattern = RP_ID_PATTERN)]
    pub device_authen_rp_id: Option<String>,
    /// FIDO2: base64url challenge of at least 32 bytes
    #[field(max_length = 1024, pattern = CHALLENGE_PATTERN)]
    pub challenge: Option<String>,
    /// what the browser supports for FIDO2 (FULL, NONE)
    #[field(one_of = &["FULL", "NONE"])]
    pub fido_compatibility: Option<String>,
    /// what the browser supports for FIDO2
    #[field(one_of = FIDO_COMPATIBILITY)]
    pub compatibility: Option<String>,
    /// test mode for a paired device: the passcode comes back in test.otp, nothing is sent
    pub create_device_test_mode: Option<bool>,
    /// test mode for a one-time device: the passcode comes back in test.otp, nothing is sent
    pub one_time_device_test_mode: Option<bool>,
    /// the browser's user agent
    #[field(max_length = 1000)]
    pub user_agent: Option<String>,
    /// the user's IP address
    #[field(max_length = 100)]
    pub ip: Option<String>,
    /// application shown to the user
    #[field(max_length = 100)]
    pub application_name: Option<String>,
}

/// Who the authentication is for and the device PingOne is asked to use, once the inputs
/// agree.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    PolicyDefault(&'a str),
    Paired(&'a str, &'a str),
    OneTime {
        user_id: &'a str,
        kind: OneTimeType,
        contact: &'a str,
    },
    /// No user: the passkey will name one.
    Usernameless,
}

impl<'a> Target<'a> {
    /// The user the authentication is started for (none for a usernameless sign-in).
    fn user_id(&self) -> Option<&'a str> {
        match self {
            Self::PolicyDefault(user_id) | Self::Paired(user_id, _) => Some(user_id),
            Self::OneTime { user_id, .. } => Some(user_id),
            Self::Usernameless => None,
        }
    }
}

impl Input {
    /// Resolves the user, `selectedDevice` and the fields that go with them, listing every
    /// disagreement (`test_mode_allowed`: whether the deployment allows test mode).
    fn target(&self, test_mode_allowed: bool) -> Result<Target<'_>, Error> {
        let mut problems = Problems::default();
        let target = if self.username_less == Some(true) {
            self.usernameless(&mut problems)
        } else {
            match self.user_id.as_deref() {
                Some(user_id) => self.users_device(user_id, &mut problems),
                None => {
                    problems.add("userId", "is required unless usernameLess is true");
                    None
                }
            }
        };
        self.check_fido(&mut problems);
        if let Some(target) = &target {
            self.check_test_mode(target, test_mode_allowed, &mut problems);
        }
        match target {
            Some(target) if problems.is_empty() => Ok(target),
            _ => Err(problems.into_error()),
        }
    }

    /// A usernameless sign-in takes no user and no device choice: the passkey decides both.
    fn usernameless(&self, problems: &mut Problems) -> Option<Target<'_>> {
        let device_fields = [
            ("userId", self.user_id.is_some()),
            ("selectedDevice", self.selected_device.is_some()),
            ("selectedDeviceId", self.selected_device_id.is_some()),
            ("oneTimeDeviceType", self.one_time_device_type.is_some()),
            ("oneTimeSmsDevice", self.one_time_sms_device.is_some()),
            ("oneTimeVoiceDevice", self.one_time_voice_device.is_some()),
            ("oneTimeEmailDevice", self.one_time_email_device.is_some()),
            ("otp", self.otp.is_some()),
        ];
        for (field, _) in device_fields.iter().filter(|(_, given)| *given) {
            problems.add(
                field,
                "must not be given with usernameLess: the passkey names the user and the device",
            );
        }
        if self.compatibility.as_deref() == Some("NONE")
            || self.fido_compatibility.as_deref() == Some("NONE")
        {
            problems.add(
                "usernameLess",
                "needs a browser that can use passkeys, not compatibility NONE",
            );
        }
        Some(Target::Usernameless)
    }

    /// The device of `user_id` the inputs name.
    fn users_device<'a>(&'a self, user_id: &'a str, problems: &mut Problems) -> Option<Target<'a>> {
        let selection = self
            .selected_device
            .unwrap_or(match self.selected_device_id {
                Some(_) => Selection::Id,
                None => Selection::Default,
            });
        let one_time_fields = [
            ("oneTimeDeviceType", self.one_time_device_type.is_some()),
            ("oneTimeSmsDevice", self.one_time_sms_device.is_some()),
            ("oneTimeVoiceDevice", self.one_time_voice_device.is_some()),
            ("oneTimeEmailDevice", self.one_time_email_device.is_some()),
        ];
        match selection {
            Selection::Default | Selection::Id => {
                for (field, _) in one_time_fields.iter().filter(|(_, given)| *given) {
                    problems.add(field, "applies only when selectedDevice is oneTime");
                }
                match (selection, self.selected_device_id.as_deref()) {
                    (Selection::Id, Some(id)) => Some(Target::Paired(user_id, id)),
                    (Selection::Id, None) => {
                        problems.add("selectedDeviceId", "is required when selectedDevice is id");
                        None
                    }
                    (_, Some(_)) => {
                        problems.add(
                            "selectedDeviceId",
                            "must not be given when selectedDevice is default",
                        );
                        None
                    }
                    (_, None) => Some(Target::PolicyDefault(user_id)),
                }
            }
            Selection::OneTime => {
                if self.selected_device_id.is_some() {
                    problems.add(
                        "selectedDeviceId",
                        "must not be given with a one-time device",
                    );
                }
                if self.otp.is_some() {
                    problems.add(
                        "otp",
                        "must not be given with a one-time device: its passcode is sent after the start",
                    );
                }
                let Some(kind) = self.one_time_device_type else {
                    problems.add(
                        "oneTimeDeviceType",
                        "is required when selectedDevice is oneTime",
                    );
                    return None;
                };
                let (field, contact) = match kind {
                    OneTimeType::Sms => ("oneTimeSmsDevice", &self.one_time_sms_device),
                    OneTimeType::Voice => ("oneTimeVoiceDevice", &self.one_time_voice_device),
                    OneTimeType::Email => ("oneTimeEmailDevice", &self.one_time_email_device),
                };
                for (other, _) in one_time_fields[1..]
                    .iter()
                    .filter(|(name, given)| *given && *name != field)
                {
                    problems.add(other, "does not match oneTimeDeviceType");
                }
                match contact.as_deref() {
                    Some(contact) => Some(Target::OneTime {
                        user_id,
                        kind,
                        contact,
                    }),
                    None => {
                        problems.add(field, "is required for this oneTimeDeviceType");
                        None
                    }
                }
            }
        }
    }

    /// The two spellings of the relying party and of the browser's FIDO2 support must agree.
    fn check_fido(&self, problems: &mut Problems) {
        if let (Some(rp_id), Some(other)) = (&self.rp_id, &self.device_authen_rp_id)
            && !rp_id.eq_ignore_ascii_case(other)
        {
            problems.add("deviceAuthenRpId", "must equal rpId when both are given");
        }
        if let (Some(compatibility), Some(fido)) = (&self.compatibility, &self.fido_compatibility)
            && compatibility != fido
        {
            problems.add(
                "fidoCompatibility",
                "must equal compatibility when both are given",
            );
        }
    }

    /// Test mode: only where the deployment allows it, and the flag that fits the device.
    fn check_test_mode(&self, target: &Target<'_>, allowed: bool, problems: &mut Problems) {
        let one_time = matches!(target, Target::OneTime { .. });
        let paired = matches!(target, Target::PolicyDefault(_) | Target::Paired(..));
        for (field, flag, fits, fit) in [
            (
                "createDeviceTestMode",
                self.create_device_test_mode,
                paired,
                "applies to a paired device; a one-time device takes oneTimeDeviceTestMode",
            ),
            (
                "oneTimeDeviceTestMode",
                self.one_time_device_test_mode,
                one_time,
                "applies only when selectedDevice is oneTime",
            ),
        ] {
            if flag != Some(true) {
                continue;
            }
            if !allowed {
                problems.add(
                    field,
                    "test mode is off in this deployment (AllowTestMode=false): a passcode in the answer is no second factor",
                );
            } else if !fits {
                problems.add(field, fit);
            }
        }
    }

    /// The PingOne request body for `target`, the inputs already found to agree.
    fn body_for(&self, target: &Target<'_>) -> Value {
        let mut body = json!({});
        if let Some(user_id) = target.user_id() {
            body["user"] = json!({ "id": user_id });
        }
        let mut selected = Map::new();
        match *target {
            Target::PolicyDefault(_) | Target::Usernameless => {}
            Target::Paired(_, id) => {
                selected.insert("id".into(), json!(id));
            }
            Target::OneTime { kind, contact, .. } => {
                let one_time = match kind {
                    OneTimeType::Sms => json!({ "type": "SMS", "phone": contact }),
                    OneTimeType::Voice => json!({ "type": "VOICE", "phone": contact }),
                    OneTimeType::Email => json!({ "type": "EMAIL", "email": contact }),
                };
                selected.insert("oneTime".into(), one_time);
            }
        }
        if let Some(otp) = &self.otp {
            selected.insert("otp".into(), json!(otp.expose()));
        }
        if !selected.is_empty() {
            body["selectedDevice"] = Value::Object(selected);
        }
        if let Some(policy) = &self.workforce_policy_mfa_policy_id {
            body["policy"] = json!({ "id": policy });
        }
        if let Some(rp_id) = self.rp_id.as_ref().or(self.device_authen_rp_id.as_ref()) {
            body["rp"] = json!({ "id": rp_id });
        }
        if let Some(challenge) = &self.challenge {
            body["challenge"] = json!(challenge);
        }
        if let Some(compatibility) = self
            .compatibility
            .as_ref()
            .or(self.fido_compatibility.as_ref())
        {
            body["compatibility"] = json!(compatibility);
        }
        if self.create_device_test_mode == Some(true)
            || self.one_time_device_test_mode == Some(true)
        {
            body["testMode"] = json!(true);
        }
        if let Some(user_agent) = &self.user_agent {
            body["userAgent"] = json!(user_agent);
        }
        let mut context = Map::new();
        if let Some(ip) = &self.ip {
            context.insert("ip".into(), json!(ip));
        }
        if let Some(name) = &self.application_name {
            context.insert("applicationName".into(), json!(name));
        }
        if !context.is_empty() {
            body["clientContext"] = Value::Object(context);
        }
        body
    }
}

impl Handler for CreateDeviceAuthentication {
    const ID: &'static str = "createDeviceAuthenticationPingID";
    const SUMMARY: &'static str = "Starts an MFA authentication: default, chosen or one-time device, or a usernameless passkey sign-in.";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let target = input.target(invocation.test_mode_allowed())?;
        let body = input.body_for(&target);
        let pingone = invocation.pingone();
        let Some(user_id) = target.user_id() else {
            // Usernameless: nothing is sent and nobody's allowance is at stake before the
            // passkey names the user.
            let response = pingone.create_device_authentication(body).await?;
            return DeviceAuthenticationOutput::try_from(response);
        };
        let sends = input.what_is_sent(invocation, &target).await?;
        // Both before PingOne is called: over a limit, nothing is sent and no code is checked.
        let limits = invocation.limits();
        if input.otp.is_some() {
            // A passcode checked is spent whatever the answer: guesses are what is counted.
            let _spent = limits.take(user_id, Kind::OtpCheck).await?;
        }
        let started = pingone.create_device_authentication(body);
        // Nothing was sent when the policy asks the user to pick a device first.
        let sent = |response: &shared::pingone::Response| {
            matches!(
                response.body["status"].as_str(),
                Some("PUSH_CONFIRMATION_REQUIRED" | "OTP_REQUIRED")
            )
        };
        let response = limits.around(user_id, sends, started, sent).await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}

impl Input {
    /// What the start will send the user, counted against their limits before PingOne is
    /// called: a one-time device's channel (its destination checked against
    /// `OneTimeDestinations` first), or the channel of the paired device PingOne will reach, read
    /// from PingOne: the named device, or without one the user's default (the first of their
    /// device list, in the order they set) [I]. A passcode given up front sends nothing. Test
    /// mode is counted like a send: the allowance guards the deployment, not the phone.
    ///
    /// The read costs one PingOne call before the start; a policy that then asks the user to
    /// pick a device sends nothing, and the unit is given back.
    async fn what_is_sent(
        &self,
        invocation: &Invocation<'_>,
        target: &Target<'_>,
    ) -> Result<Option<Kind>, Error> {
        if self.otp.is_some() {
            return Ok(None);
        }
        let pingone = invocation.pingone();
        match *target {
            Target::OneTime {
                user_id,
                kind,
                contact,
            } => {
                self.check_destination(invocation, user_id, kind, contact)
                    .await?;
                Ok(Some(match kind {
                    OneTimeType::Sms | OneTimeType::Voice => Kind::SmsVoice,
                    OneTimeType::Email => Kind::Email,
                }))
            }
            Target::Paired(user_id, id) => match pingone.read_device(user_id, id).await {
                Ok(device) => Ok(device.body["type"].as_str().and_then(Kind::of_device_type)),
                // PingOne answers the start with its own words for an unknown device.
                Err(Error::NotFound(_)) => Ok(None),
                Err(other) => Err(other),
            },
            Target::PolicyDefault(user_id) => {
                let devices = pingone.list_devices(user_id).await?;
                Ok(devices
                    .body
                    .pointer("/_embedded/devices/0/type")
                    .and_then(Value::as_str)
                    .and_then(Kind::of_device_type))
            }
            Target::Usernameless => Ok(None),
        }
    }

    /// Refuses a one-time destination the deployment does not allow: none at all (`off`), or
    /// one that is not the phone or e-mail of the user's PingOne profile (`profile`, the
    /// default). The answer names the field, never the profile's value.
    async fn check_destination(
        &self,
        invocation: &Invocation<'_>,
        user_id: &str,
        kind: OneTimeType,
        contact: &str,
    ) -> Result<(), Error> {
        let field = match kind {
            OneTimeType::Sms => "oneTimeSmsDevice",
            OneTimeType::Voice => "oneTimeVoiceDevice",
            OneTimeType::Email => "oneTimeEmailDevice",
        };
        let refuse = |field: &str, text: &str| {
            Err(Error::Validation(vec![FieldProblem::new(
                format!("properties.{field}"),
                text,
            )]))
        };
        match invocation.one_time_destinations() {
            OneTimeDestinations::Any => Ok(()),
            OneTimeDestinations::Off => refuse(
                "selectedDevice",
                "one-time devices are turned off in this deployment (OneTimeDestinations=off)",
            ),
            OneTimeDestinations::Profile => {
                let user = invocation.pingone().read_user(user_id).await?;
                let profile = |key: &str| user.body[key].as_str().unwrap_or_default();
                let in_profile = match kind {
                    OneTimeType::Sms | OneTimeType::Voice => ["mobilePhone", "primaryPhone"]
                        .iter()
                        .any(|key| same_phone(profile(key), contact)),
                    OneTimeType::Email => same_email(profile("email"), contact),
                };
                if in_profile {
                    Ok(())
                } else {
                    refuse(
                        field,
                        "must be the user's own, as in their PingOne profile (OneTimeDestinations=profile)",
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use shared::Declared;

    use super::*;

    impl Input {
        /// The PingOne request body, or every disagreement of the inputs.
        fn request_body(&self, test_mode_allowed: bool) -> Result<Value, Error> {
            Ok(self.body_for(&self.target(test_mode_allowed)?))
        }
    }

    const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";
    const DEVICE: &str = "a11ce000-0000-4000-8000-0000000000d2";

    fn input(properties: Value) -> Input {
        let mut properties = properties;
        properties["userId"] = json!(ALICE);
        let validated = Input::schema()
            .validate(&json!({ "properties": properties }))
            .unwrap();
        serde_json::from_value(Value::Object(validated)).unwrap()
    }

    fn problems(properties: Value) -> Vec<String> {
        refused(&input(properties), true)
    }

    #[test]
    fn the_default_device_sends_only_the_user() {
        assert_eq!(
            input(json!({})).request_body(false).unwrap(),
            json!({"user": {"id": ALICE}})
        );
        let explicit = input(json!({"selectedDevice": "default"}))
            .request_body(false)
            .unwrap();
        assert_eq!(explicit, json!({"user": {"id": ALICE}}));
    }

    #[test]
    fn a_paired_device_by_id_with_or_without_the_selector() {
        let expected = json!({"user": {"id": ALICE}, "selectedDevice": {"id": DEVICE}});
        let implicit = input(json!({"selectedDeviceId": DEVICE}))
            .request_body(false)
            .unwrap();
        let explicit = input(json!({"selectedDevice": "id", "selectedDeviceId": DEVICE}));
        assert_eq!(implicit, expected);
        assert_eq!(explicit.request_body(false).unwrap(), expected);
    }

    #[test]
    fn one_time_devices_carry_their_contact() {
        let sms = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "SMS",
            "oneTimeSmsDevice": "+15555550123"}),
        );
        assert_eq!(
            sms.request_body(false).unwrap()["selectedDevice"],
            json!({"oneTime": {"type": "SMS", "phone": "+15555550123"}})
        );
        let voice = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "VOICE",
            "oneTimeVoiceDevice": "+15555550123"}),
        );
        assert_eq!(
            voice.request_body(false).unwrap()["selectedDevice"]["oneTime"]["type"],
            "VOICE"
        );
        let email = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "EMAIL",
            "oneTimeEmailDevice": "guest@example.com"}),
        );
        assert_eq!(
            email.request_body(false).unwrap()["selectedDevice"],
            json!({"oneTime": {"type": "EMAIL", "email": "guest@example.com"}})
        );
    }

    #[test]
    fn an_otp_on_start_rides_with_the_selection() {
        let body = input(json!({"otp": "123456"})).request_body(false).unwrap();
        assert_eq!(body["selectedDevice"], json!({"otp": "123456"}));
        let with_device = input(json!({"selectedDeviceId": DEVICE, "otp": "123456"}));
        assert_eq!(
            with_device.request_body(false).unwrap()["selectedDevice"],
            json!({"id": DEVICE, "otp": "123456"})
        );
    }

    #[test]
    fn policy_and_context_are_passed_on() {
        let policy = "b0b00000-0000-4000-8000-0000000000f1";
        let body = input(
            json!({"workforcePolicyMfaPolicyId": policy, "userAgent": "Mozilla/5.0",
            "ip": "192.0.2.1", "applicationName": "Payroll"}),
        )
        .request_body(false)
        .unwrap();
        assert_eq!(body["policy"], json!({"id": policy}));
        assert_eq!(body["userAgent"], "Mozilla/5.0");
        assert_eq!(
            body["clientContext"],
            json!({"ip": "192.0.2.1", "applicationName": "Payroll"})
        );
    }

    #[test]
    fn disagreeing_inputs_are_all_reported() {
        assert_eq!(
            problems(json!({"selectedDevice": "id"})),
            ["properties.selectedDeviceId: is required when selectedDevice is id"]
        );
        assert_eq!(
            problems(
                json!({"selectedDevice": "oneTime", "otp": "123456", "selectedDeviceId": DEVICE})
            ),
            [
                "properties.selectedDeviceId: must not be given with a one-time device",
                "properties.otp: must not be given with a one-time device: its passcode is sent after the start",
                "properties.oneTimeDeviceType: is required when selectedDevice is oneTime",
            ]
        );
        assert_eq!(
            problems(
                json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "EMAIL",
                "oneTimeSmsDevice": "+15555550123"})
            ),
            [
                "properties.oneTimeSmsDevice: does not match oneTimeDeviceType",
                "properties.oneTimeEmailDevice: is required for this oneTimeDeviceType",
            ]
        );
        assert_eq!(
            problems(
                json!({"selectedDevice": "default", "selectedDeviceId": DEVICE,
                "oneTimeDeviceType": "SMS"})
            ),
            [
                "properties.oneTimeDeviceType: applies only when selectedDevice is oneTime",
                "properties.selectedDeviceId: must not be given when selectedDevice is default",
            ]
        );
    }

    #[test]
    fn the_schema_refuses_bad_contacts() {
        let body = json!({"properties": {"userId": ALICE, "oneTimeSmsDevice": "5555550123",
            "oneTimeEmailDevice": "nobody"}});
        let Err(Error::Validation(problems)) = Input::schema().validate(&body) else {
            panic!("expected violations");
        };
        assert_eq!(problems.len(), 2);
    }

    fn without_user(properties: Value) -> Input {
        let validated = Input::schema()
            .validate(&json!({ "properties": properties }))
            .unwrap();
        serde_json::from_value(Value::Object(validated)).unwrap()
    }

    fn refused(input: &Input, test_mode_allowed: bool) -> Vec<String> {
        match input.request_body(test_mode_allowed) {
            Err(Error::Validation(problems)) => problems
                .into_iter()
                .map(|p| format!("{}: {}", p.field, p.problem))
                .collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_usernameless_sign_in_names_no_user_only_the_relying_party() {
        let challenge = "q2Yc8d3Vv1bqR0j3KX0vO8Ww8y6xQy3Zb7l2m9n4p5s";
        let body = without_user(json!({"usernameLess": true, "rpId": "example.com",
            "challenge": challenge, "fidoCompatibility": "FULL"}))
        .request_body(false)
        .unwrap();
        assert_eq!(
            body,
            json!({"rp": {"id": "example.com"}, "challenge": challenge, "compatibility": "FULL"})
        );
        let other_spelling = without_user(json!({"usernameLess": true,
            "deviceAuthenRpId": "example.com"}));
        assert_eq!(
            other_spelling.request_body(false).unwrap(),
            json!({"rp": {"id": "example.com"}})
        );
    }

    #[test]
    fn a_usernameless_sign_in_refuses_a_user_or_a_device() {
        let input = without_user(json!({"usernameLess": true, "userId": ALICE,
            "selectedDeviceId": DEVICE, "otp": "123456", "compatibility": "NONE"}));
        assert_eq!(
            refused(&input, false),
            [
                "properties.userId: must not be given with usernameLess: the passkey names the user and the device",
                "properties.selectedDeviceId: must not be given with usernameLess: the passkey names the user and the device",
                "properties.otp: must not be given with usernameLess: the passkey names the user and the device",
                "properties.usernameLess: needs a browser that can use passkeys, not compatibility NONE",
            ]
        );
        assert_eq!(
            refused(&without_user(json!({})), false),
            ["properties.userId: is required unless usernameLess is true"]
        );
    }

    #[test]
    fn the_two_spellings_must_agree() {
        let input = input(
            json!({"rpId": "example.com", "deviceAuthenRpId": "example.org",
            "compatibility": "SECURITY_KEY_ONLY", "fidoCompatibility": "FULL"}),
        );
        assert_eq!(
            refused(&input, false),
            [
                "properties.deviceAuthenRpId: must equal rpId when both are given",
                "properties.fidoCompatibility: must equal compatibility when both are given",
            ]
        );
    }

    #[test]
    fn test_mode_only_where_the_deployment_allows_it_and_on_the_matching_device() {
        let paired = input(json!({"createDeviceTestMode": true}));
        assert_eq!(
            refused(&paired, false),
            [
                "properties.createDeviceTestMode: test mode is off in this deployment (AllowTestMode=false): a passcode in the answer is no second factor"
            ]
        );
        assert_eq!(paired.request_body(true).unwrap()["testMode"], true);
        let one_time = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "SMS",
            "oneTimeSmsDevice": "+15555550123", "oneTimeDeviceTestMode": true}),
        );
        assert_eq!(one_time.request_body(true).unwrap()["testMode"], true);
        let mismatched = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "SMS",
            "oneTimeSmsDevice": "+15555550123", "createDeviceTestMode": true}),
        );
        assert_eq!(
            refused(&mismatched, true),
            [
                "properties.createDeviceTestMode: applies to a paired device; a one-time device takes oneTimeDeviceTestMode"
            ]
        );
        let off = input(json!({"createDeviceTestMode": false}));
        assert!(off.request_body(false).unwrap().get("testMode").is_none());
    }
}
