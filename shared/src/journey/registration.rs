//! The device-registration journey's rules that need no call: which methods the user may
//! register, with what is already paired and the room left under the environment's maximum.

use serde::Serialize;

use crate::device_type::seed_name;

/// One method on the "choose a method" screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    /// The method, by the seed's name.
    pub method: String,
    /// How many `ACTIVE` devices of this method the user has.
    pub paired: usize,
    /// Whether a device of this method may be added now.
    pub can_register: bool,
}

/// What the user may register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    /// The methods the policy allows, in its order.
    pub methods: Vec<Choice>,
    /// The user's devices, any status (PingOne counts them all against the maximum).
    pub devices: usize,
    /// The environment's `maxAllowedDevices`.
    pub max_allowed_devices: usize,
}

/// The choices for a user with `devices` (PingOne type, status) under a policy allowing
/// `allowed` (PingOne types, `allowedtypes` order) and an environment allowing `max` devices.
/// A method may be registered while there is room; `only`, when given (the authentication
/// journey handing over for mandatory methods), keeps just those methods.
pub fn choices(
    allowed: &[&str],
    devices: &[(&str, &str)],
    max: usize,
    only: Option<&[&str]>,
) -> Choices {
    let room = devices.len() < max;
    let mut methods: Vec<Choice> = Vec::new();
    for method in allowed.iter().map(|kind| seed_name(kind)) {
        if methods.iter().any(|choice| choice.method == method)
            || only.is_some_and(|only| !only.contains(&method))
        {
            continue;
        }
        let paired = devices
            .iter()
            .filter(|(kind, status)| *status == "ACTIVE" && seed_name(kind) == method)
            .count();
        methods.push(Choice {
            method: method.to_string(),
            paired,
            can_register: room,
        });
    }
    Choices {
        methods,
        devices: devices.len(),
        max_allowed_devices: max,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: [&str; 9] = [
        "SMS",
        "VOICE",
        "EMAIL",
        "MOBILE",
        "TOTP",
        "OATH_TOKEN",
        "YUBIKEY",
        "PINGID_DESKTOP",
        "PLATFORM",
    ];

    fn summary(choices: &Choices) -> Vec<(String, usize, bool)> {
        choices
            .methods
            .iter()
            .map(|c| (c.method.clone(), c.paired, c.can_register))
            .collect()
    }

    #[test]
    fn the_policys_methods_in_its_order_with_what_is_paired() {
        let alice = [
            ("MOBILE", "ACTIVE"),
            ("SMS", "ACTIVE"),
            ("EMAIL", "ACTIVATION_REQUIRED"),
        ];
        let choices = choices(&ALLOWED[..4], &alice, 5, None);
        assert_eq!(
            summary(&choices),
            [
                ("SMS".to_string(), 1, true),
                ("VOICE".to_string(), 0, true),
                ("EMAIL".to_string(), 0, true),
                ("PINGID_MOBILE".to_string(), 1, true),
            ]
        );
        assert_eq!((choices.devices, choices.max_allowed_devices), (3, 5));
    }

    #[test]
    fn at_the_maximum_nothing_more_may_be_registered() {
        let full = [("SMS", "ACTIVE"); 5];
        assert!(
            choices(&ALLOWED, &full, 5, None)
                .methods
                .iter()
                .all(|c| !c.can_register)
        );
    }

    #[test]
    fn a_hand_over_for_mandatory_methods_offers_just_those() {
        let choices = choices(&ALLOWED, &[("SMS", "ACTIVE")], 5, Some(&["VOICE", "EMAIL"]));
        let methods: Vec<&str> = choices.methods.iter().map(|c| c.method.as_str()).collect();
        assert_eq!(methods, ["VOICE", "EMAIL"]);
    }

    #[test]
    fn pingids_apps_go_by_the_seeds_names_in_the_choices() {
        assert_eq!(seed_name("MOBILE"), "PINGID_MOBILE");
        assert_eq!(seed_name("PINGID_DESKTOP_GEN2"), "PINGID_DESKTOP");
        assert_eq!(seed_name("SECURITY_KEY"), "SECURITY_KEY");
    }
}
