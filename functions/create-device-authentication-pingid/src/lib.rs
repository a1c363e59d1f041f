//! `createDeviceAuthenticationPingID`: starts an MFA authentication for a user.
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
//! context PingID shows the user with a push.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use shared::limits::{Kind, OneTimeDestinations, same_email, same_phone};
use shared::pingone::DeviceAuthenticationOutput;
use shared::schema::{EMAIL_PATTERN, OTP_PATTERN, PHONE_PATTERN};
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

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub user_id: String,
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

/// The device PingOne is asked to use, once the inputs agree.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    PolicyDefault,
    Paired(&'a str),
    OneTime { kind: OneTimeType, contact: &'a str },
}

impl Input {
    /// Resolves `selectedDevice` and the fields that go with it, listing every disagreement.
    fn target(&self) -> Result<Target<'_>, Error> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, text: &str| {
            problems.push(FieldProblem::new(format!("properties.{field}"), text));
        };
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
        let target = match selection {
            Selection::Default | Selection::Id => {
                for (field, _) in one_time_fields.iter().filter(|(_, given)| *given) {
                    problem(field, "applies only when selectedDevice is oneTime");
                }
                match (selection, self.selected_device_id.as_deref()) {
                    (Selection::Id, Some(id)) => Some(Target::Paired(id)),
                    (Selection::Id, None) => {
                        problem("selectedDeviceId", "is required when selectedDevice is id");
                        None
                    }
                    (_, Some(_)) => {
                        problem(
                            "selectedDeviceId",
                            "must not be given when selectedDevice is default",
                        );
                        None
                    }
                    (_, None) => Some(Target::PolicyDefault),
                }
            }
            Selection::OneTime => {
                if self.selected_device_id.is_some() {
                    problem(
                        "selectedDeviceId",
                        "must not be given with a one-time device",
                    );
                }
                if self.otp.is_some() {
                    problem(
                        "otp",
                        "must not be given with a one-time device: its passcode is sent after the start",
                    );
                }
                match self.one_time_device_type {
                    None => {
                        problem(
                            "oneTimeDeviceType",
                            "is required when selectedDevice is oneTime",
                        );
                        None
                    }
                    Some(kind) => {
                        let (field, contact) = match kind {
                            OneTimeType::Sms => ("oneTimeSmsDevice", &self.one_time_sms_device),
                            OneTimeType::Voice => {
                                ("oneTimeVoiceDevice", &self.one_time_voice_device)
                            }
                            OneTimeType::Email => {
                                ("oneTimeEmailDevice", &self.one_time_email_device)
                            }
                        };
                        for (other, _) in one_time_fields[1..]
                            .iter()
                            .filter(|(name, given)| *given && *name != field)
                        {
                            problem(other, "does not match oneTimeDeviceType");
                        }
                        match contact.as_deref() {
                            Some(contact) => Some(Target::OneTime { kind, contact }),
                            None => {
                                problem(field, "is required for this oneTimeDeviceType");
                                None
                            }
                        }
                    }
                }
            }
        };
        match target {
            Some(target) if problems.is_empty() => Ok(target),
            _ => Err(Error::Validation(problems)),
        }
    }

    /// The PingOne request body.
    fn request_body(&self) -> Result<Value, Error> {
        let mut body = json!({ "user": { "id": self.user_id } });
        let mut selected = Map::new();
        match self.target()? {
            Target::PolicyDefault => {}
            Target::Paired(id) => {
                selected.insert("id".into(), json!(id));
            }
            Target::OneTime { kind, contact } => {
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
        Ok(body)
    }
}

impl Handler for CreateDeviceAuthentication {
    const ID: &'static str = "createDeviceAuthenticationPingID";
    const SUMMARY: &'static str =
        "Starts an MFA authentication: default, chosen or one-time device.";
    type Input = Input;
    type Output = DeviceAuthenticationOutput;

    async fn handle(
        &self,
        invocation: &Invocation<'_>,
        input: Input,
    ) -> Result<DeviceAuthenticationOutput, Error> {
        let body = input.request_body()?;
        let sends = input.what_is_sent(invocation).await?;
        // Both before PingOne is called: over a limit, nothing is sent and no code is checked.
        let limits = invocation.limits();
        if input.otp.is_some() {
            // A passcode checked is spent whatever the answer: guesses are what is counted.
            let _spent = limits.take(&input.user_id, Kind::OtpCheck).await?;
        }
        let pingone = invocation.pingone();
        let started = pingone.create_device_authentication(body);
        // Nothing was sent when the policy asks the user to pick a device first.
        let sent = |response: &shared::pingone::Response| {
            matches!(
                response.body["status"].as_str(),
                Some("PUSH_CONFIRMATION_REQUIRED" | "OTP_REQUIRED")
            )
        };
        let response = limits.around(&input.user_id, sends, started, sent).await?;
        DeviceAuthenticationOutput::try_from(response)
    }
}

impl Input {
    /// What the start will send the user, counted against their limits before PingOne is
    /// called: a one-time device's channel (its destination checked against
    /// `OneTimeDestinations` first), or the channel of the paired device PingOne will reach, read
    /// from PingOne: the named device, or without one the user's default (the first of their
    /// device list, in the order they set) [I]. A passcode given up front sends nothing.
    ///
    /// The read costs one PingOne call before the start; a policy that then asks the user to
    /// pick a device sends nothing, and the unit is given back.
    async fn what_is_sent(&self, invocation: &Invocation<'_>) -> Result<Option<Kind>, Error> {
        if self.otp.is_some() {
            return Ok(None);
        }
        let pingone = invocation.pingone();
        match self.target()? {
            Target::OneTime { kind, contact } => {
                self.check_destination(invocation, kind, contact).await?;
                Ok(Some(match kind {
                    OneTimeType::Sms | OneTimeType::Voice => Kind::SmsVoice,
                    OneTimeType::Email => Kind::Email,
                }))
            }
            Target::Paired(id) => match pingone.read_device(&self.user_id, id).await {
                Ok(device) => Ok(device.body["type"].as_str().and_then(Kind::of_device_type)),
                // PingOne answers the start with its own words for an unknown device.
                Err(Error::NotFound(_)) => Ok(None),
                Err(other) => Err(other),
            },
            Target::PolicyDefault => {
                let devices = pingone.list_devices(&self.user_id).await?;
                Ok(devices
                    .body
                    .pointer("/_embedded/devices/0/type")
                    .and_then(Value::as_str)
                    .and_then(Kind::of_device_type))
            }
        }
    }

    /// Refuses a one-time destination the deployment does not allow: none at all (`off`), or
    /// one that is not the phone or e-mail of the user's PingOne profile (`profile`, the
    /// default). The answer names the field, never the profile's value.
    async fn check_destination(
        &self,
        invocation: &Invocation<'_>,
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
                let user = invocation.pingone().read_user(&self.user_id).await?;
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
        match input(properties).request_body() {
            Err(Error::Validation(problems)) => problems
                .into_iter()
                .map(|p| format!("{}: {}", p.field, p.problem))
                .collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn the_default_device_sends_only_the_user() {
        assert_eq!(
            input(json!({})).request_body().unwrap(),
            json!({"user": {"id": ALICE}})
        );
        let explicit = input(json!({"selectedDevice": "default"}))
            .request_body()
            .unwrap();
        assert_eq!(explicit, json!({"user": {"id": ALICE}}));
    }

    #[test]
    fn a_paired_device_by_id_with_or_without_the_selector() {
        let expected = json!({"user": {"id": ALICE}, "selectedDevice": {"id": DEVICE}});
        let implicit = input(json!({"selectedDeviceId": DEVICE}))
            .request_body()
            .unwrap();
        let explicit = input(json!({"selectedDevice": "id", "selectedDeviceId": DEVICE}));
        assert_eq!(implicit, expected);
        assert_eq!(explicit.request_body().unwrap(), expected);
    }

    #[test]
    fn one_time_devices_carry_their_contact() {
        let sms = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "SMS",
            "oneTimeSmsDevice": "+15555550123"}),
        );
        assert_eq!(
            sms.request_body().unwrap()["selectedDevice"],
            json!({"oneTime": {"type": "SMS", "phone": "+15555550123"}})
        );
        let voice = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "VOICE",
            "oneTimeVoiceDevice": "+15555550123"}),
        );
        assert_eq!(
            voice.request_body().unwrap()["selectedDevice"]["oneTime"]["type"],
            "VOICE"
        );
        let email = input(
            json!({"selectedDevice": "oneTime", "oneTimeDeviceType": "EMAIL",
            "oneTimeEmailDevice": "guest@example.com"}),
        );
        assert_eq!(
            email.request_body().unwrap()["selectedDevice"],
            json!({"oneTime": {"type": "EMAIL", "email": "guest@example.com"}})
        );
    }

    #[test]
    fn an_otp_on_start_rides_with_the_selection() {
        let body = input(json!({"otp": "123456"})).request_body().unwrap();
        assert_eq!(body["selectedDevice"], json!({"otp": "123456"}));
        let with_device = input(json!({"selectedDeviceId": DEVICE, "otp": "123456"}));
        assert_eq!(
            with_device.request_body().unwrap()["selectedDevice"],
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
        .request_body()
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
}
