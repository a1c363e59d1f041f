//! Who may call the API, and what: the bearer tokens of the API-tokens secret.
//!
//! Every route but `/health` requires `Authorization: Bearer <token>`. In AWS the check runs in
//! the API's Lambda authorizer (`functions/api-authorizer`) before any capability function is
//! invoked; the local gateway runs the same check in-process. The secret is a JSON object
//! naming each accepted token, so two can be valid at once while a client moves to a new one.
//! A token is either a string, which may call every route (the format before tokens had
//! scopes, so a secret written then keeps working unchanged), or an object giving the token
//! (`token`) and what it may call (`may`: group names of [`GROUPS`] and capability ids):
//!
//! ```json
//! {"tokens": {
//!   "davinci-signin-2026-11": {"token": "<at least 32 characters>", "may": ["authenticate"]},
//!   "davinci-selfservice-2026-11": {"token": "<…>", "may": ["enroll", "manage"]},
//!   "ops-2026-11": "<…: every route>"
//! }}
//! ```
//!
//! Scopes exist because one token able to call everything lets a leaked sign-in flow's token
//! turn a user's MFA off or pair a device of its own. A `may` entry that is neither a group nor
//! a capability id makes the whole secret malformed, like any other mistake in it: nobody is
//! admitted rather than a token silently getting less (or, after a typo, more) than intended.
//!
//! Only SHA-256 digests of the tokens are kept in memory, and a presented token is compared with
//! every digest without an early exit, so neither timing nor a memory dump of the process gives
//! a token away. The name of the token that matched is the caller's identity in the logs.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// Shortest token accepted in the secret: 32 characters of a random token are ≥ 128 bits
/// (`openssl rand -base64 32` gives 44).
pub const MIN_TOKEN_CHARS: usize = 32;

/// What a `may` entry can name besides a capability id: the capabilities one kind of flow
/// needs, so a secret says "a sign-in flow" rather than a dozen ids that must be kept in step
/// with the product. A capability may be in several groups; every capability is in at least
/// one (a test checks this against the product's capability list), so any route can be given.
pub const GROUPS: &[(&str, &[&str])] = &[
    // A sign-in flow: the authentication steps, and the reads that decide whether and how to
    // run them (who the user is, is MFA on, which devices, what the policy allows). A sign-in
    // starts from what the person typed, a username or an address, so resolving it to the
    // PingOne user (`readUser`) is its first step; it reads no more than any step after it
    // does, and answers one user or NOT_FOUND, so it lists nobody. The legacy connector's
    // capabilities are all sign-ins, and so is the authentication journey (which hands users
    // with mandatory methods to pair to the device-registration journey: a flow running both
    // needs "authenticate" and "enroll").
    (
        "authenticate",
        &[
            "evalPolicyPingID",
            "readUser",
            "readUserMFAEnabled",
            "readAllDevicesPingID",
            "readDeviceAuthenticationPolicy",
            "createDeviceAuthenticationPingID",
            "readDeviceAuthentication",
            "deviceSelectDeviceAuthentication",
            "validateOtpDeviceAuthentication",
            "validateAssertionDeviceAuthentication",
            "cancelDeviceAuthenticationPingID",
            "initializeMfa",
            "initializePasswordlessAuthentication",
            "finalizePasswordlessAuthentication",
            "authentication",
        ],
    ),
    // Pairing a new device: create it, activate it, resend its passcode, pairing keys; and the
    // device-registration journey, which does all of these.
    (
        "enroll",
        &[
            "createDevicePingID",
            "activateDevice",
            "resendOTPForPairing",
            "createPairingKeyPingID",
            "readPairingKey",
            "deletePairingKey",
            "device-registration",
        ],
    ),
    // A user's own devices afterwards: read, rename, reorder, unpair.
    (
        "manage",
        &[
            "readAllDevicesPingID",
            "readDevice",
            "updateDeviceNickname",
            "setDeviceOrder",
            "deleteDevice",
        ],
    ),
    // What changes a user's account as a whole: switching MFA off (or on), with the read that
    // shows its state.
    ("admin", &["updateUserMFAEnabled", "readUserMFAEnabled"]),
];

/// The legacy (properties-file) connector's capabilities: routed under `/v1/pingid-legacy/`.
pub const LEGACY_CAPABILITIES: &[&str] = &[
    "initializeMfa",
    "initializePasswordlessAuthentication",
    "finalizePasswordlessAuthentication",
];

/// The two journeys, by the route segment that names them (`crate::journey::Journey::name`):
/// routed under `/v1/journeys/`.
pub const JOURNEYS: &[&str] = &["authentication", "device-registration"];

/// The path of a capability's route, as API Gateway and the local gateway route it:
/// `/v1/pingid/{capabilityId}`, `/v1/pingid-legacy/{capabilityId}` for the legacy connector,
/// `/v1/journeys/{journey}` for the journeys.
pub fn route(capability_id: &str) -> String {
    if LEGACY_CAPABILITIES.contains(&capability_id) {
        format!("/v1/pingid-legacy/{capability_id}")
    } else if JOURNEYS.contains(&capability_id) {
        format!("/v1/journeys/{capability_id}")
    } else {
        format!("/v1/pingid/{capability_id}")
    }
}

/// Every capability id a `may` entry can name: those of the groups.
fn known_capability(id: &str) -> Option<&'static str> {
    GROUPS
        .iter()
        .flat_map(|(_, ids)| ids.iter())
        .find(|known| **known == id)
        .copied()
}

/// What a token may call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every route of the API: a token given as a plain string.
    All,
    /// These capabilities only, by id (the token's groups expanded).
    Only(BTreeSet<&'static str>),
}

impl Scope {
    /// Whether a token of this scope may call capability `capability_id`.
    pub fn allows(&self, capability_id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(ids) => ids.contains(capability_id),
        }
    }
}

/// A caller the secret admits: the token's name (its identity in logs) and what it may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted<'a> {
    /// The name the secret gives the token.
    pub name: &'a str,
    /// The routes the token may call.
    pub scope: &'a Scope,
}

/// The accepted bearer tokens, by name.
pub struct ApiTokens {
    tokens: Vec<(String, [u8; 32], Scope)>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scopes: BTreeMap<&str, &Scope> = self
            .tokens
            .iter()
            .map(|(name, _, scope)| (name.as_str(), scope))
            .collect();
        f.debug_struct("ApiTokens")
            .field("scopes", &scopes)
            .finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensSecret {
    tokens: BTreeMap<String, Value>,
}

/// A token with a scope, as the secret writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScopedToken {
    token: String,
    may: Vec<String>,
}

/// The shape of the secret, for errors (which never quote the secret itself).
const SHAPE: &str = "{\"tokens\": {\"<name>\": \"<token>\" or {\"token\": \"<token>\", \"may\": [\"<group or capability id>\", …]}, …}}";

impl ApiTokens {
    /// Reads the secret's JSON text. A malformed secret, no token, a token shorter than
    /// [`MIN_TOKEN_CHARS`], a `may` naming nothing or something unknown, or one token under two
    /// names with different scopes is a configuration error (the message names the token, never
    /// quotes one).
    pub fn parse(secret: &str) -> Result<Self, Error> {
        let parsed: TokensSecret = serde_json::from_str(secret).map_err(|_| {
            Error::ConfigUnavailable(format!("the API-tokens secret must be {SHAPE}"))
        })?;
        if parsed.tokens.is_empty() {
            return Err(Error::ConfigUnavailable(
                "the API-tokens secret names no token".into(),
            ));
        }
        let entries: Vec<(String, String, Option<Vec<String>>)> = parsed
            .tokens
            .into_iter()
            .map(|(name, entry)| match entry {
                Value::String(token) => Ok((name, token, None)),
                Value::Object(_) => match serde_json::from_value::<ScopedToken>(entry) {
                    Ok(scoped) => Ok((name, scoped.token, Some(scoped.may))),
                    Err(_) => Err(malformed_entry(&name)),
                },
                _ => Err(malformed_entry(&name)),
            })
            .collect::<Result<_, _>>()?;
        let mut tokens: Vec<(String, [u8; 32], Scope)> = Vec::with_capacity(entries.len());
        for (name, token, may) in &entries {
            if token.chars().count() < MIN_TOKEN_CHARS {
                return Err(Error::ConfigUnavailable(format!(
                    "API token {name:.64} is shorter than {MIN_TOKEN_CHARS} characters"
                )));
            }
            let scope = match may {
                None => Scope::All,
                Some(may) => scope_of(name, may, &entries)?,
            };
            let digest = digest(token);
            // Which name, hence which scope, a token gets must not depend on the names' order.
            if let Some((other, _, _)) = tokens
                .iter()
                .find(|(_, other, other_scope)| *other == digest && *other_scope != scope)
            {
                return Err(Error::ConfigUnavailable(format!(
                    "API tokens {other:.64} and {name:.64} are the same token with different scopes"
                )));
            }
            tokens.push((name.clone(), digest, scope));
        }
        Ok(Self { tokens })
    }

    /// One token (the local gateway's), of any length and allowed every route: it guards a
    /// loopback demo only.
    pub fn single(name: &str, token: &str) -> Self {
        Self {
            tokens: vec![(name.to_string(), digest(token), Scope::All)],
        }
    }

    /// The caller an `Authorization` header value presents (the token's name and scope), or
    /// `None` when the header is not `Bearer <an accepted token>`.
    pub fn admit(&self, authorization: &str) -> Option<Admitted<'_>> {
        let presented = bearer(authorization)?;
        let presented = digest(presented);
        // Every digest is compared in full, whatever matched before.
        let mut admitted = None;
        for (name, accepted, scope) in &self.tokens {
            let difference = accepted
                .iter()
                .zip(&presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if difference == 0 {
                admitted = Some(Admitted { name, scope });
            }
        }
        admitted
    }
}

fn malformed_entry(name: &str) -> Error {
    Error::ConfigUnavailable(format!(
        "API token {name:.64} must be \"<token>\" or {{\"token\": \"<token>\", \"may\": [\"<group or capability id>\", …]}}"
    ))
}

/// The capabilities `may` names, groups expanded. An entry is quoted in the error unless it is
/// one of the secret's tokens (pasted into the wrong field), which no message may carry.
fn scope_of(
    name: &str,
    may: &[String],
    entries: &[(String, String, Option<Vec<String>>)],
) -> Result<Scope, Error> {
    if may.is_empty() {
        return Err(Error::ConfigUnavailable(format!(
            "API token {name:.64} may call nothing: list a group or capability id, or remove the token"
        )));
    }
    let mut ids = BTreeSet::new();
    for entry in may {
        if let Some((_, group)) = GROUPS.iter().find(|(group, _)| group == entry) {
            ids.extend(group.iter().copied());
        } else if let Some(id) = known_capability(entry) {
            ids.insert(id);
        } else {
            let groups: Vec<&str> = GROUPS.iter().map(|(group, _)| *group).collect();
            let shown = if entries.iter().any(|(_, token, _)| token == entry) {
                "an entry that is a token (not shown)".to_string()
            } else {
                format!("{:?}", entry.chars().take(64).collect::<String>())
            };
            return Err(Error::ConfigUnavailable(format!(
                "API token {name:.64} may call {shown}, which is neither a group ({}) nor a capability id",
                groups.join(", ")
            )));
        }
    }
    Ok(Scope::Only(ids))
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 9110 §11.1).
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = "cur-0123456789abcdefghijklmnopqrstuv";
    const NEXT: &str = "nxt-0123456789abcdefghijklmnopqrstuv";
    const SIGNIN: &str = "sgn-0123456789abcdefghijklmnopqrstuv";

    fn tokens() -> ApiTokens {
        ApiTokens::parse(&format!(
            r#"{{"tokens": {{"davinci": "{CURRENT}", "davinci-next": "{NEXT}"}}}}"#
        ))
        .unwrap()
    }

    fn scope_of_token(secret: &str, token: &str) -> Scope {
        let tokens = ApiTokens::parse(secret).unwrap();
        tokens
            .admit(&format!("Bearer {token}"))
            .expect("admitted")
            .scope
            .clone()
    }

    fn only(ids: &[&'static str]) -> Scope {
        Scope::Only(ids.iter().copied().collect())
    }

    #[test]
    fn each_named_token_is_admitted_under_its_name() {
        let tokens = tokens();
        let name = |header: String| tokens.admit(&header).map(|admitted| admitted.name);
        assert_eq!(name(format!("Bearer {CURRENT}")), Some("davinci"));
        assert_eq!(name(format!("bearer {NEXT}")), Some("davinci-next"));
    }

    #[test]
    fn a_token_given_as_a_string_may_call_every_route() {
        let tokens = tokens();
        let admitted = tokens.admit(&format!("Bearer {CURRENT}")).unwrap();
        assert_eq!(admitted.scope, &Scope::All);
        assert!(admitted.scope.allows("updateUserMFAEnabled"));
        assert!(admitted.scope.allows("initializeMfa"));
    }

    #[test]
    fn a_scoped_token_may_call_its_groups_and_capabilities_only() {
        // Given a token that may enroll devices and read one
        let secret = format!(
            r#"{{"tokens": {{"self-service": {{"token": "{SIGNIN}", "may": ["enroll", "readDevice"]}}}}}}"#
        );

        // Then it may call the enrollment capabilities and readDevice, nothing else
        let scope = scope_of_token(&secret, SIGNIN);
        assert_eq!(
            scope,
            only(&[
                "activateDevice",
                "createDevicePingID",
                "createPairingKeyPingID",
                "deletePairingKey",
                "device-registration",
                "readDevice",
                "readPairingKey",
                "resendOTPForPairing",
            ])
        );
        assert!(!scope.allows("deleteDevice"));
        assert!(!scope.allows("updateUserMFAEnabled"));
    }

    #[test]
    fn a_sign_in_token_may_authenticate_but_not_change_devices_or_switch_mfa_off() {
        let secret = format!(
            r#"{{"tokens": {{"davinci-signin": {{"token": "{SIGNIN}", "may": ["authenticate"]}}}}}}"#
        );
        let scope = scope_of_token(&secret, SIGNIN);
        for allowed in [
            "readUserMFAEnabled",
            "readAllDevicesPingID",
            "createDeviceAuthenticationPingID",
            "readDeviceAuthentication",
            "deviceSelectDeviceAuthentication",
            "validateOtpDeviceAuthentication",
            "validateAssertionDeviceAuthentication",
            "cancelDeviceAuthenticationPingID",
            "initializeMfa",
            "initializePasswordlessAuthentication",
            "finalizePasswordlessAuthentication",
        ] {
            assert!(scope.allows(allowed), "{allowed}");
        }
        for refused in [
            "updateUserMFAEnabled",
            "createDevicePingID",
            "activateDevice",
            "deleteDevice",
            "setDeviceOrder",
            "updateDeviceNickname",
        ] {
            assert!(!scope.allows(refused), "{refused}");
        }
    }

    #[test]
    fn only_the_admin_group_may_switch_mfa() {
        for (group, _) in GROUPS {
            let secret =
                format!(r#"{{"tokens": {{"t": {{"token": "{SIGNIN}", "may": ["{group}"]}}}}}}"#);
            let scope = scope_of_token(&secret, SIGNIN);
            assert_eq!(
                scope.allows("updateUserMFAEnabled"),
                *group == "admin",
                "{group}"
            );
        }
    }

    #[test]
    fn string_and_scoped_tokens_live_side_by_side() {
        let secret = format!(
            r#"{{"tokens": {{"ops": "{CURRENT}", "davinci-signin": {{"token": "{SIGNIN}", "may": ["authenticate"]}}}}}}"#
        );
        let tokens = ApiTokens::parse(&secret).unwrap();
        let ops = tokens.admit(&format!("Bearer {CURRENT}")).unwrap();
        let signin = tokens.admit(&format!("Bearer {SIGNIN}")).unwrap();
        assert_eq!((ops.name, ops.scope), ("ops", &Scope::All));
        assert_eq!(signin.name, "davinci-signin");
        assert!(!signin.scope.allows("updateUserMFAEnabled"));
    }

    #[test]
    fn an_unknown_group_or_capability_makes_the_secret_malformed_naming_token_and_entry() {
        for (bad, quoted) in [
            // Capability ids are Ping's, case included.
            ("updateUserMfaEnabled", "\"updateUserMfaEnabled\""),
            ("enrol", "\"enrol\""),
            ("all", "\"all\""),
            ("", "\"\""),
        ] {
            let secret = format!(
                r#"{{"tokens": {{"davinci-signin": {{"token": "{SIGNIN}", "may": ["authenticate", "{bad}"]}}}}}}"#
            );
            let error = ApiTokens::parse(&secret).unwrap_err();
            let message = error.to_string();
            assert_eq!(error.code(), "CONFIG_UNAVAILABLE", "{bad}");
            assert!(message.contains("davinci-signin"), "{message}");
            assert!(message.contains(quoted), "{message}");
            assert!(!message.contains(SIGNIN), "{message}");
        }
    }

    #[test]
    fn a_token_pasted_into_may_is_not_quoted() {
        let secret = format!(
            r#"{{"tokens": {{"ops": "{CURRENT}", "davinci-signin": {{"token": "{SIGNIN}", "may": ["{CURRENT}"]}}}}}}"#
        );
        let message = ApiTokens::parse(&secret).unwrap_err().to_string();
        assert!(message.contains("davinci-signin"), "{message}");
        assert!(!message.contains(CURRENT), "{message}");
    }

    #[test]
    fn one_token_under_two_names_with_different_scopes_is_malformed() {
        let secret = format!(
            r#"{{"tokens": {{"ops": "{SIGNIN}", "davinci-signin": {{"token": "{SIGNIN}", "may": ["authenticate"]}}}}}}"#
        );
        let message = ApiTokens::parse(&secret).unwrap_err().to_string();
        assert!(
            message.contains("davinci-signin") && message.contains("ops"),
            "{message}"
        );
        assert!(!message.contains(SIGNIN), "{message}");
    }

    #[test]
    fn anything_else_is_refused() {
        let tokens = tokens();
        for header in [
            String::new(),
            "Bearer".to_string(),
            "Bearer ".to_string(),
            CURRENT.to_string(),
            format!("Basic {CURRENT}"),
            format!("Bearer {}", &CURRENT[..CURRENT.len() - 1]),
            format!("Bearer {CURRENT}x"),
            format!("Bearer {}", CURRENT.to_uppercase()),
        ] {
            assert_eq!(tokens.admit(&header), None, "{header:?}");
        }
    }

    #[test]
    fn a_weak_or_malformed_secret_is_a_configuration_error_that_quotes_no_token() {
        for secret in [
            r#"{"tokens": {"short": "0123456789"}}"#,
            r#"{"tokens": {}}"#,
            r#"{"tokens": ["0123456789abcdefghijklmnopqrstuvwxyz"]}"#,
            r#"{"token": {"a": "0123456789abcdefghijklmnopqrstuvwxyz"}}"#,
            "0123456789abcdefghijklmnopqrstuvwxyz",
            r#"{"tokens": {"a": 1234567890123456789012345678901234567890}}"#,
            r#"{"tokens": {"a": {"token": "0123456789", "may": ["authenticate"]}}}"#,
            r#"{"tokens": {"a": {"token": "0123456789abcdefghijklmnopqrstuvwxyz"}}}"#,
            r#"{"tokens": {"a": {"token": "0123456789abcdefghijklmnopqrstuvwxyz", "may": []}}}"#,
            r#"{"tokens": {"a": {"token": "0123456789abcdefghijklmnopqrstuvwxyz", "may": "authenticate"}}}"#,
            r#"{"tokens": {"a": {"token": "0123456789abcdefghijklmnopqrstuvwxyz", "may": ["authenticate"], "note": 1}}}"#,
            r#"{"tokens": {"a": {"secret": "0123456789abcdefghijklmnopqrstuvwxyz", "may": ["authenticate"]}}}"#,
        ] {
            let error = ApiTokens::parse(secret).unwrap_err();
            assert_eq!(error.code(), "CONFIG_UNAVAILABLE", "{secret}");
            assert!(!error.to_string().contains("0123456789"), "{error}");
        }
    }

    #[test]
    fn a_capability_routes_under_its_connector() {
        assert_eq!(route("readDevice"), "/v1/pingid/readDevice");
        assert_eq!(
            route("updateUserMFAEnabled"),
            "/v1/pingid/updateUserMFAEnabled"
        );
        assert_eq!(route("initializeMfa"), "/v1/pingid-legacy/initializeMfa");
        assert_eq!(
            route("finalizePasswordlessAuthentication"),
            "/v1/pingid-legacy/finalizePasswordlessAuthentication"
        );
    }

    #[test]
    fn debug_shows_names_and_scopes_only() {
        let secret = format!(
            r#"{{"tokens": {{"davinci-next": "{NEXT}", "davinci-signin": {{"token": "{SIGNIN}", "may": ["admin"]}}}}}}"#
        );
        let shown = format!("{:?}", ApiTokens::parse(&secret).unwrap());
        assert!(shown.contains("davinci-next") && shown.contains("updateUserMFAEnabled"));
        assert!(!shown.contains(NEXT) && !shown.contains(SIGNIN), "{shown}");
    }
}
