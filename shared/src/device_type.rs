//! Device type names as callers write them, and the PingOne types each stands for.
//!
//! PingOne names a device by its own types (`MOBILE`, `PINGID_DESKTOP_GEN2`, …) and our outputs
//! keep those names. The seed (the DaVinci PingID connector's page and its subflows, e.g.
//! `mandatoryAuthenticationMethods`) writes PingID's two apps as `PINGID_MOBILE` and
//! `PINGID_DESKTOP`, so every input that names a device type accepts both spellings and goes
//! through this one table: a filter, a creation and the mandatory methods cannot disagree on
//! what `PINGID_DESKTOP` means.

/// Every device type name an input accepts: PingOne's types and the seed's `PINGID_MOBILE`
/// and `PINGID_DESKTOP`.
pub const ALL: &[&str] = &[
    "SMS",
    "VOICE",
    "EMAIL",
    "TOTP",
    "FIDO2",
    "PLATFORM",
    "SECURITY_KEY",
    "OATH_TOKEN",
    "YUBIKEY",
    "MOBILE",
    "PINGID_MOBILE",
    "PINGID_DESKTOP_GEN2",
    "PINGID_DESKTOP",
];

/// The PingOne device types `name` stands for, the one a new device is created as first
/// (`None`: not a device type name).
///
/// `PINGID_DESKTOP` is also PingOne's name for the first-generation desktop app, which still
/// shows up in device lists: as a name it selects both generations, and a new desktop device
/// is always the second generation, the only one PingOne pairs [I].
pub fn pingone_types(name: &str) -> Option<&'static [&'static str]> {
    match name {
        "PINGID_MOBILE" => Some(&["MOBILE"]),
        "PINGID_DESKTOP" => Some(&["PINGID_DESKTOP_GEN2", "PINGID_DESKTOP"]),
        _ => ALL
            .iter()
            .find(|known| **known == name)
            .map(std::slice::from_ref),
    }
}

/// Whether a device PingOne lists with type `device_type` is a device of type `name`.
pub fn is_a(device_type: &str, name: &str) -> bool {
    pingone_types(name).is_some_and(|types| types.contains(&device_type))
}

/// The PingOne type a new device named `name` is created as (`PINGID_DESKTOP` →
/// `PINGID_DESKTOP_GEN2`, `PINGID_MOBILE` → `MOBILE`).
pub fn created_as(name: &str) -> Option<&'static str> {
    pingone_types(name).and_then(|types| types.first().copied())
}

/// The seed's name for a device PingOne lists with type `pingone_type`: PingID's two apps are
/// `PINGID_MOBILE` and `PINGID_DESKTOP` (either generation), the others keep PingOne's names.
pub fn seed_name(pingone_type: &str) -> &str {
    match pingone_type {
        "MOBILE" => "PINGID_MOBILE",
        "PINGID_DESKTOP_GEN2" => "PINGID_DESKTOP",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_names_stand_for_pingones_types() {
        assert_eq!(pingone_types("PINGID_MOBILE"), Some(&["MOBILE"][..]));
        assert!(is_a("MOBILE", "PINGID_MOBILE"));
        assert!(is_a("PINGID_DESKTOP", "PINGID_DESKTOP"));
        assert!(is_a("PINGID_DESKTOP_GEN2", "PINGID_DESKTOP"));
        assert!(!is_a("PINGID_DESKTOP", "PINGID_DESKTOP_GEN2"));
        assert!(!is_a("SMS", "PINGID_MOBILE"));
        assert_eq!(created_as("PINGID_DESKTOP"), Some("PINGID_DESKTOP_GEN2"));
        assert_eq!(created_as("PINGID_MOBILE"), Some("MOBILE"));
    }

    #[test]
    fn pingones_names_stand_for_themselves() {
        for name in ALL
            .iter()
            .filter(|name| !["PINGID_MOBILE", "PINGID_DESKTOP"].contains(name))
        {
            assert_eq!(created_as(name), Some(*name));
            assert!(is_a(name, name));
        }
        assert_eq!(pingone_types("Desktop app"), None);
        assert!(!is_a("SMS", "sms"));
    }
}
