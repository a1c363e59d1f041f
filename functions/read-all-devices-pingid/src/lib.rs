//! `readAllDevicesPingID`: the MFA devices a user has paired, in their order (default first),
//! with what the PingID policy lets them enroll (`allowedtypes`) and how it selects a device.
//!
//! Filters, applied to `devices` unless `setFilterFlag` is `false` (the native form's switch
//! that hides them): `statusFilter` (`ALL`, `ACTIVE`, `ACTIVATION_REQUIRED`) and
//! `workforceDeviceTypes` (the form's labels — `Email`, `SMS`, `Voice`, `Authenticator App`,
//! `Fido2 Biometrics`, `Security Key`, `Oath token`, `YubiKey`, `Desktop app`,
//! `PingID Mobile app` — or PingOne's type names). `rawResponse` stays PingOne's unfiltered
//! list.
//!
//! `allowedtypes` lists, in a fixed order, the device types whose policy section is `enabled`
//! and not `pairingDisabled`: the methods a registration flow should offer [I] (FIDO2's
//! `fido2` section gives `FIDO2`; older `platform` / `securityKey` sections give `PLATFORM` /
//! `SECURITY_KEY`; PingID's `desktop` gives `PINGID_DESKTOP_GEN2`, the type
//! `createDevicePingID` takes). The policy is `workforcePolicyMfaPolicyId`, or the
//! environment's default policy.
//!
//! PingOne: `GET …/users/{userId}/devices`, and in parallel `GET
//! …/deviceAuthenticationPolicies/{policyId}` (or the list, to find the default).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::pingone::{DevicesOutput, Headers, PingOneCalls};
use shared::schema::Documented;
use shared::schema::output::{any_object, array, nullable, object, pingone_output, string};
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct ReadAllDevices;

/// `workforceDeviceTypes` values: the native form's labels, then PingOne's type names, each
/// with the device types it selects.
const TYPE_LABELS: &[(&str, &[&str])] = &[
    ("Email", &["EMAIL"]),
    ("SMS", &["SMS"]),
    ("Voice", &["VOICE"]),
    ("Authenticator App", &["TOTP"]),
    ("Fido2 Biometrics", &["FIDO2", "PLATFORM"]),
    ("Security Key", &["SECURITY_KEY"]),
    ("Oath token", &["OATH_TOKEN"]),
    ("YubiKey", &["YUBIKEY"]),
    ("Desktop app", &["PINGID_DESKTOP", "PINGID_DESKTOP_GEN2"]),
    ("PingID Mobile app", &["MOBILE"]),
    ("EMAIL", &["EMAIL"]),
    ("VOICE", &["VOICE"]),
    ("TOTP", &["TOTP"]),
    ("FIDO2", &["FIDO2"]),
    ("PLATFORM", &["PLATFORM"]),
    ("SECURITY_KEY", &["SECURITY_KEY"]),
    ("OATH_TOKEN", &["OATH_TOKEN"]),
    ("YUBIKEY", &["YUBIKEY"]),
    ("PINGID_DESKTOP", &["PINGID_DESKTOP"]),
    ("PINGID_DESKTOP_GEN2", &["PINGID_DESKTOP_GEN2"]),
    ("MOBILE", &["MOBILE"]),
];

/// The accepted `workforceDeviceTypes` values.
static LABELS: LazyLock<Vec<&'static str>> =
    LazyLock::new(|| TYPE_LABELS.iter().map(|(label, _)| *label).collect());

/// Policy sections and the device type each enables, in `allowedtypes` order.
const POLICY_SECTIONS: &[(&str, &str)] = &[
    ("sms", "SMS"),
    ("voice", "VOICE"),
    ("email", "EMAIL"),
    ("mobile", "MOBILE"),
    ("totp", "TOTP"),
    ("oathToken", "OATH_TOKEN"),
    ("yubikey", "YUBIKEY"),
    ("desktop", "PINGID_DESKTOP_GEN2"),
    ("fido2", "FIDO2"),
    ("platform", "PLATFORM"),
    ("securityKey", "SECURITY_KEY"),
];

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

/// The output: PingOne's device list plus what the policy says.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Output {
    /// PingOne's device list as it came (unfiltered).
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
    /// The policy applied: `id`, `name`, `authentication.deviceSelection`.
    pub mfa_policy: Value,
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
        pingone_output(
            "ReadAllDevicesOutput",
            "The user's devices (filtered, default first) and what the policy lets them enroll",
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
                ("mfaPolicy", policy),
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
            Some(labels) => labels.iter().any(|label| {
                TYPE_LABELS
                    .iter()
                    .find(|(name, _)| name == label)
                    .is_some_and(|(_, types)| types.contains(&field("type")))
            }),
        };
        status_ok && type_ok
    }
}

/// The device types `policy` lets users enroll.
fn allowed_types(policy: &Value) -> Vec<&'static str> {
    POLICY_SECTIONS
        .iter()
        .filter(|(section, _)| {
            let flag = |key: &str| policy.pointer(&format!("/{section}/{key}"))?.as_bool();
            flag("enabled") == Some(true) && flag("pairingDisabled") != Some(true)
        })
        .map(|(_, kind)| *kind)
        .collect()
}

/// `mfaPolicy` of the output: the policy's id, name and device selection.
fn mfa_policy(policy: &Value) -> Value {
    json!({
        "id": policy.get("id"),
        "name": policy.get("name"),
        "authentication": { "deviceSelection": policy.pointer("/authentication/deviceSelection") },
    })
}

/// The named policy, or the environment's default one.
async fn policy(pingone: &PingOneCalls<'_>, id: Option<&str>) -> Result<Value, Error> {
    if let Some(id) = id {
        return Ok(pingone.read_policy(id).await?.body);
    }
    let listed = pingone.list_policies().await?.body;
    listed
        .pointer("/_embedded/deviceAuthenticationPolicies")
        .and_then(Value::as_array)
        .and_then(|policies| {
            policies
                .iter()
                .find(|policy| policy.get("default").and_then(Value::as_bool) == Some(true))
        })
        .cloned()
        .ok_or_else(|| Error::UpstreamInvalid("no default device authentication policy".into()))
}

impl Handler for ReadAllDevices {
    const ID: &'static str = "readAllDevicesPingID";
    const SUMMARY: &'static str = "Lists the MFA devices a user has paired, default first.";
    type Input = Input;
    type Output = Output;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Output, Error> {
        let pingone = invocation.pingone();
        let (devices, policy) = tokio::join!(
            pingone.list_devices(&input.user_id),
            policy(&pingone, input.workforce_policy_mfa_policy_id.as_deref()),
        );
        let listed = DevicesOutput::try_from(devices?)?;
        let policy = policy?;
        Ok(Output {
            devices: listed
                .devices
                .into_iter()
                .filter(|device| input.keeps(device))
                .collect(),
            allowed_types: allowed_types(&policy),
            mfa_policy: mfa_policy(&policy),
            raw_response: listed.raw_response,
            status_code: listed.status_code,
            headers: listed.headers,
        })
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
    fn the_output_serializes_as_documented() {
        let device = json!({"id": "d1", "type": "SMS", "status": "ACTIVE"});
        for policy in [
            json!({"id": "p1", "name": "Default", "authentication": {"deviceSelection": "DEFAULT_TO_FIRST"}}),
            json!({"id": "p2"}),
        ] {
            let output = Output {
                raw_response: json!({"_embedded": {"devices": [device.clone()]}, "count": 1}),
                status_code: 200,
                headers: Headers::default(),
                devices: vec![device.clone()],
                allowed_types: allowed_types(&json!({"sms": {"enabled": true}})),
                mfa_policy: mfa_policy(&policy),
            };
            let serialized = serde_json::to_value(&output).unwrap();
            let found = shared::schema::output::departures(&Output::json_schema(), &serialized);
            assert_eq!(found, Vec::<String>::new(), "{serialized}");
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
