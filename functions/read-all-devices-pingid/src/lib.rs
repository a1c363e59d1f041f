//! `readAllDevicesPingID`: the MFA devices a user has paired, in their order (default first),
//! with what the PingID policy lets them enroll (`allowedtypes`), how it selects a device, and
//! the environment's pairing limits — what a registration or sign-in flow branches on.
//!
//! Filters, applied to `devices` unless `setFilterFlag` is `false` (the native form's switch
//! that hides them): `statusFilter` (`ALL`, `ACTIVE`, `ACTIVATION_REQUIRED`) and
//! `workforceDeviceTypes` (the form's labels — `Email`, `SMS`, `Voice`, `Authenticator App`,
//! `Fido2 Biometrics`, `Security Key`, `Oath token`, `YubiKey`, `Desktop app`,
//! `PingID Mobile app` — or device type names: PingOne's, and the seed's `PINGID_MOBILE` and
//! `PINGID_DESKTOP`, see `shared::device_type`). Devices keep PingOne's type names.
//!
//! The other outputs, flattened and, as the native connector shows them, in
//! `rawResponse._embedded` beside PingOne's unfiltered `devices`:
//! - `allowedtypes`: in a fixed order, the device types whose policy section is `enabled` and
//!   not `pairingDisabled`: the methods a registration flow should offer [I] (FIDO2's `fido2`
//!   section gives `FIDO2`; older `platform` / `securityKey` sections give `PLATFORM` /
//!   `SECURITY_KEY`; PingID's `desktop` gives `PINGID_DESKTOP_GEN2`, the type
//!   `createDevicePingID` takes).
//! - `applications`: the PingID mobile applications the policy names (`mobile.applications`),
//!   the ones `createPairingKeyPingID` can pair [I].
//! - `order`: the ids of all the user's devices (unfiltered) in the user's order, the default
//!   first: PingOne lists devices in that order [I].
//! - `mfaSettings`: the environment's `pairing` (`maxAllowedDevices`, `pairingKeyFormat`:
//!   whether another device may be added, and what a pairing key looks like) and `lockout`.
//! - `mfaPolicy`: the policy's id, name and `authentication.deviceSelection`.
//!
//! The policy is `workforcePolicyMfaPolicyId`, or the environment's default policy.
//!
//! PingOne, in parallel: `GET …/users/{userId}/devices`, `GET
//! …/deviceAuthenticationPolicies/{policyId}` (or the list, to find the default) and `GET
//! …/mfaSettings`. Settings without the pairing limits are `UPSTREAM_INVALID`, never a guess.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::journey::registration::{allowed_types, default_policy};
use shared::pingone::{DevicesOutput, Headers, PingOneCalls};
use shared::schema::Documented;
use shared::schema::output::{
    any_object, array, integer, nullable, object, pingone_output, string,
};
use shared::{Error, Handler, Invocation, device_type};

/// The capability.
pub struct ReadAllDevices;

/// The native form's labels for `workforceDeviceTypes`, each with the device type names
/// (`shared::device_type`) it selects.
const FORM_LABELS: &[(&str, &[&str])] = &[
    ("Email", &["EMAIL"]),
    ("SMS", &["SMS"]),
    ("Voice", &["VOICE"]),
    ("Authenticator App", &["TOTP"]),
    ("Fido2 Biometrics", &["FIDO2", "PLATFORM"]),
    ("Security Key", &["SECURITY_KEY"]),
    ("Oath token", &["OATH_TOKEN"]),
    ("YubiKey", &["YUBIKEY"]),
    ("Desktop app", &["PINGID_DESKTOP"]),
    ("PingID Mobile app", &["PINGID_MOBILE"]),
];

/// The accepted `workforceDeviceTypes` values: the form's labels, then the device type names
/// (`SMS` is both, listed once).
static LABELS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut labels: Vec<&str> = FORM_LABELS.iter().map(|(label, _)| *label).collect();
    for name in device_type::ALL {
        if !labels.contains(name) {
            labels.push(name);
        }
    }
    labels
});

/// Does `label` (a form label or a device type name) select a device of PingOne type
/// `pingone_type`?
fn selects(label: &str, pingone_type: &str) -> bool {
    match FORM_LABELS.iter().find(|(known, _)| *known == label) {
        Some((_, names)) => names
            .iter()
            .any(|name| device_type::is_a(pingone_type, name)),
        None => device_type::is_a(pingone_type, label),
    }
}

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id (the flow's pingIdUserId)
    #[field(id)]
    pub user_id: String,
    /// false switches the filters off
    pub set_filter_flag: Option<bool>,
    /// keep devices of this status
    #[field(one_of = &["ALL", "ACTIVE", "ACTIVATION_REQUIRED"])]
    pub status_filter: Option<String>,
    /// keep devices of these types
    #[field(max_items = LABELS.len(), items(one_of = LABELS.as_slice()))]
    pub workforce_device_types: Option<Vec<String>>,
    /// PingID (MFA) policy deciding allowedtypes; default policy when absent
    #[field(id)]
    pub workforce_policy_mfa_policy_id: Option<String>,
}

/// The output: PingOne's device list plus what the policy and the settings say.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    /// PingOne's device list (unfiltered), its `_embedded` holding the outputs below too.
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use (of the device list).
    pub headers: Headers,
    /// The devices, filtered, in the user's order.
    pub devices: Vec<Value>,
    /// Device types the policy lets the user enroll (lower-case key, as the native connector).
    #[serde(rename = "allowedtypes")]
    pub allowed_types: Vec<&'static str>,
    /// The PingID mobile applications the policy names.
    pub applications: Vec<Value>,
    /// The environment's pairing limits and key format, and its lockout.
    pub mfa_settings: Value,
    /// The policy applied: `id`, `name`, `authentication.deviceSelection`.
    pub mfa_policy: Value,
    /// Ids of all the user's devices in the user's order (the default first).
    pub order: Vec<String>,
}

impl Documented for Output {
    fn json_schema() -> Value {
        let policy = object(
            "The policy applied",
            &[
                ("id", nullable(string("The policy id"))),
                ("name", nullable(string("The policy name"))),
                (
                    "authentication",
                    object(
                        "How the policy picks a device",
                        &[(
                            "deviceSelection",
                            nullable(string("e.g. DEFAULT_TO_FIRST, PROMPT_TO_SELECT")),
                        )],
                        &[],
                    ),
                ),
            ],
            &[],
        );
        let settings = object(
            "The environment's MFA settings",
            &[
                (
                    "pairing",
                    object(
                        "Pairing limits",
                        &[
                            (
                                "maxAllowedDevices",
                                integer("Devices a user may have (any status)"),
                            ),
                            (
                                "pairingKeyFormat",
                                string("NUMERIC (12 digits) or ALPHANUMERIC (16 characters)"),
                            ),
                        ],
                        &[],
                    ),
                ),
                (
                    "lockout",
                    nullable(any_object(
                        "Lockout after failed passcodes: failureCount, durationSeconds",
                    )),
                ),
            ],
            &[],
        );
        pingone_output(
            "ReadAllDevicesOutput",
            "The user's devices (filtered, default first), what the policy lets them enroll, and \
             the pairing limits",
            &[
                (
                    "devices",
                    array(
                        any_object("A device as PingOne lists it"),
                        "The devices, filtered, in the user's order",
                    ),
                ),
                (
                    "allowedtypes",
                    array(
                        string("A device type, e.g. SMS, TOTP, FIDO2"),
                        "Device types the policy lets the user enroll",
                    ),
                ),
                (
                    "applications",
                    array(
                        any_object("A PingID application as the policy names it (id, type, …)"),
                        "The PingID mobile applications the policy names",
                    ),
                ),
                ("mfaSettings", settings),
                ("mfaPolicy", policy),
                (
                    "order",
                    array(
                        string("A device id"),
                        "Ids of all the user's devices in the user's order; the first is the \
                         default",
                    ),
                ),
            ],
        )
    }
}

impl Input {
    /// Does `device` pass the filters?
    fn keeps(&self, device: &Value) -> bool {
        if self.set_filter_flag == Some(false) {
            return true;
        }
        let field = |key: &str| device.get(key).and_then(Value::as_str).unwrap_or_default();
        let status_ok = match self.status_filter.as_deref() {
            None | Some("ALL") => true,
            Some(status) => field("status") == status,
        };
        let type_ok = match &self.workforce_device_types {
            None => true,
            Some(labels) => labels.iter().any(|label| selects(label, field("type"))),
        };
        status_ok && type_ok
    }
}

/// `mfaPolicy` of the output: the policy's id, name and device selection.
fn mfa_policy(policy: &Value) -> Value {
    json!({
        "id": policy.get("id"),
        "name": policy.get("name"),
        "authentication": { "deviceSelection": policy.pointer("/authentication/deviceSelection") },
    })
}

/// `applications` of the output: the PingID mobile applications the policy names.
fn applications(policy: &Value) -> Vec<Value> {
    policy
        .pointer("/mobile/applications")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// `mfaSettings` of the output; settings without the pairing limits are no answer.
fn mfa_settings(settings: &Value) -> Result<Value, Error> {
    let pairing = |key: &str| {
        settings
            .pointer(&format!("/pairing/{key}"))
            .filter(|value| !value.is_null())
            .ok_or_else(|| Error::UpstreamInvalid(format!("MFA settings without pairing.{key}")))
    };
    Ok(json!({
        "pairing": {
            "maxAllowedDevices": pairing("maxAllowedDevices")?.as_u64().ok_or_else(|| {
                Error::UpstreamInvalid("MFA settings with a non-integer maxAllowedDevices".into())
            })?,
            "pairingKeyFormat": pairing("pairingKeyFormat")?,
        },
        "lockout": settings.get("lockout"),
    }))
}

/// `order` of the output: the ids of `devices` as PingOne listed them.
fn order(devices: &[Value]) -> Vec<String> {
    devices
        .iter()
        .filter_map(|device| device.get("id").and_then(Value::as_str))
        .map(str::to_owned)
        .collect()
}

/// The named policy, or the environment's default one.
async fn policy(pingone: &PingOneCalls<'_>, id: Option<&str>) -> Result<Value, Error> {
    if let Some(id) = id {
        return Ok(pingone.read_policy(id).await?.body);
    }
    let listed = pingone.list_policies().await?.body;
    default_policy(&listed).cloned()
}

impl Handler for ReadAllDevices {
    const ID: &'static str = "readAllDevicesPingID";
    const SUMMARY: &'static str = "Lists the MFA devices a user has paired, default first.";
    type Input = Input;
    type Output = Output;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Output, Error> {
        let pingone = invocation.pingone();
        let (devices, policy, settings) = tokio::join!(
            pingone.list_devices(&input.user_id),
            policy(&pingone, input.workforce_policy_mfa_policy_id.as_deref()),
            pingone.read_mfa_settings(),
        );
        let listed = DevicesOutput::try_from(devices?)?;
        let policy = policy?;
        let mut output = Output {
            order: order(&listed.devices),
            allowed_types: allowed_types(&policy),
            applications: applications(&policy),
            mfa_settings: mfa_settings(&settings?.body)?,
            mfa_policy: mfa_policy(&policy),
            devices: listed
                .devices
                .into_iter()
                .filter(|device| input.keeps(device))
                .collect(),
            raw_response: listed.raw_response,
            status_code: listed.status_code,
            headers: listed.headers,
        };
        output.embed_in_raw_response();
        Ok(output)
    }
}

impl Output {
    /// Adds the outputs PingOne's list lacks to `rawResponse._embedded`, as the native
    /// connector shows them (its `devices` stay PingOne's, unfiltered).
    fn embed_in_raw_response(&mut self) {
        let added = [
            ("applications", json!(self.applications)),
            ("allowedtypes", json!(self.allowed_types)),
            ("order", json!(self.order)),
            ("mfaSettings", self.mfa_settings.clone()),
            ("mfaPolicy", self.mfa_policy.clone()),
        ];
        if let Some(embedded) = self
            .raw_response
            .get_mut("_embedded")
            .and_then(Value::as_object_mut)
        {
            for (key, value) in added {
                embedded.insert(key.into(), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(properties: Value) -> Input {
        let mut base = json!({"userId": "a11ce000-0000-4000-8000-000000000001"});
        base.as_object_mut()
            .unwrap()
            .extend(properties.as_object().unwrap().clone());
        serde_json::from_value(base).unwrap()
    }

    #[test]
    fn filters_keep_matching_devices_unless_switched_off() {
        let sms = json!({"type": "SMS", "status": "ACTIVE"});
        let pending_totp = json!({"type": "TOTP", "status": "ACTIVATION_REQUIRED"});
        let active = input(json!({"statusFilter": "ACTIVE"}));
        assert!(active.keeps(&sms) && !active.keeps(&pending_totp));
        let apps = input(json!({"workforceDeviceTypes": ["Authenticator App", "Email"]}));
        assert!(!apps.keeps(&sms) && apps.keeps(&pending_totp));
        let off = input(json!({"setFilterFlag": false, "statusFilter": "ACTIVE"}));
        assert!(off.keeps(&pending_totp));
    }

    #[test]
    fn the_seeds_type_names_select_pingones_types() {
        let mobile = json!({"type": "MOBILE", "status": "ACTIVE"});
        let desktop = json!({"type": "PINGID_DESKTOP", "status": "ACTIVE"});
        let desktop_gen2 = json!({"type": "PINGID_DESKTOP_GEN2", "status": "ACTIVE"});
        let sms = json!({"type": "SMS", "status": "ACTIVE"});
        let apps = input(json!({"workforceDeviceTypes": ["PINGID_MOBILE"]}));
        assert!(apps.keeps(&mobile) && !apps.keeps(&sms) && !apps.keeps(&desktop));
        for label in ["PINGID_DESKTOP", "Desktop app"] {
            let desktops = input(json!({"workforceDeviceTypes": [label]}));
            assert!(
                desktops.keeps(&desktop) && desktops.keeps(&desktop_gen2),
                "{label}"
            );
            assert!(!desktops.keeps(&mobile), "{label}");
        }
        let gen2 = input(json!({"workforceDeviceTypes": ["PINGID_DESKTOP_GEN2"]}));
        assert!(gen2.keeps(&desktop_gen2) && !gen2.keeps(&desktop));
    }

    /// The policy and settings the simulator's demo tenant answers, trimmed.
    fn demo_policy() -> Value {
        json!({"id": "p1", "name": "Default", "authentication": {"deviceSelection": "DEFAULT_TO_FIRST"},
            "sms": {"enabled": true},
            "mobile": {"enabled": true, "applications": [{"id": "app-1", "type": "pingIdAppConfig"}]}})
    }

    fn demo_settings() -> Value {
        json!({"pairing": {"maxAllowedDevices": 5, "pairingKeyFormat": "NUMERIC"},
            "lockout": {"failureCount": 5, "durationSeconds": 600},
            "_links": {"self": {"href": "https://api.pingone.com/v1/environments/e/mfaSettings"}}})
    }

    fn output_for(devices: Vec<Value>, policy: &Value, settings: &Value) -> Output {
        let mut output = Output {
            raw_response: json!({"_embedded": {"devices": devices.clone()}, "count": devices.len()}),
            status_code: 200,
            headers: Headers::default(),
            order: order(&devices),
            devices,
            allowed_types: allowed_types(policy),
            applications: applications(policy),
            mfa_settings: mfa_settings(settings).unwrap(),
            mfa_policy: mfa_policy(policy),
        };
        output.embed_in_raw_response();
        output
    }

    #[test]
    fn the_output_serializes_as_documented() {
        let device = json!({"id": "d1", "type": "SMS", "status": "ACTIVE"});
        for (policy, settings) in [
            (demo_policy(), demo_settings()),
            (
                json!({"id": "p2"}),
                json!({"pairing": {"maxAllowedDevices": 15, "pairingKeyFormat": "ALPHANUMERIC"}}),
            ),
        ] {
            let output = output_for(vec![device.clone()], &policy, &settings);
            let serialized = serde_json::to_value(&output).unwrap();
            let found = shared::schema::output::departures(&Output::json_schema(), &serialized);
            assert_eq!(found, Vec::<String>::new(), "{serialized}");
        }
    }

    #[test]
    fn the_raw_response_embeds_every_output_as_the_native_connector_does() {
        let devices = vec![
            json!({"id": "d1", "type": "MOBILE", "status": "ACTIVE"}),
            json!({"id": "d2", "type": "SMS", "status": "ACTIVE"}),
        ];
        let output = output_for(devices, &demo_policy(), &demo_settings());
        let embedded = &serde_json::to_value(&output).unwrap()["rawResponse"]["_embedded"];
        assert_eq!(embedded["order"], json!(["d1", "d2"]));
        assert_eq!(embedded["allowedtypes"], json!(["SMS", "MOBILE"]));
        assert_eq!(
            embedded["applications"],
            json!([{"id": "app-1", "type": "pingIdAppConfig"}])
        );
        assert_eq!(
            embedded["mfaSettings"],
            json!({"pairing": {"maxAllowedDevices": 5, "pairingKeyFormat": "NUMERIC"},
                "lockout": {"failureCount": 5, "durationSeconds": 600}})
        );
        assert_eq!(
            embedded["mfaPolicy"]["authentication"]["deviceSelection"],
            "DEFAULT_TO_FIRST"
        );
        assert_eq!(embedded["devices"].as_array().unwrap().len(), 2);
        assert_eq!(output.mfa_settings, embedded["mfaSettings"]);
    }

    #[test]
    fn settings_without_the_pairing_limits_are_no_answer() {
        for settings in [
            json!({}),
            json!({"pairing": {"pairingKeyFormat": "NUMERIC"}}),
            json!({"pairing": {"maxAllowedDevices": 5}}),
            json!({"pairing": {"maxAllowedDevices": "five", "pairingKeyFormat": "NUMERIC"}}),
        ] {
            let error = mfa_settings(&settings).unwrap_err();
            assert_eq!(error.code(), "UPSTREAM_INVALID", "{settings}");
        }
    }

    #[test]
    fn allowed_types_are_the_enabled_pairable_sections() {
        let policy = json!({
            "sms": {"enabled": true, "pairingDisabled": false},
            "voice": {"enabled": false},
            "email": {"enabled": true},
            "yubikey": {"enabled": true, "pairingDisabled": true},
            "desktop": {"enabled": true},
            "fido2": {"enabled": true},
        });
        assert_eq!(
            allowed_types(&policy),
            ["SMS", "EMAIL", "PINGID_DESKTOP_GEN2", "FIDO2"]
        );
    }
}
