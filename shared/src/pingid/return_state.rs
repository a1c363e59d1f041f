//! The legacy return page's state: what the page needs at the browser's next return that a PPM
//! response does not carry (which capability to hand it to, and for a passwordless sign-in the
//! user and the `passwordlessContext` the finalize call takes). A Lambda keeps nothing between
//! two requests, so the page carries it in its own return URL (`?state=…`).
//!
//! It travels through the browser and the authenticator and may be logged on the way, and it
//! holds a username and a bearer context, so it is encrypted as well as integrity-protected:
//! `v1.<b64url(nonce ‖ AES-256-GCM(k_state, nonce, JSON, aad = "v1"))>` ([`crate::sealed`]) with
//! a random 96-bit nonce and `k_state = HMAC(key, "pingid-connector/return-state/v1")`, derived from the
//! properties key like the PPM nonces and contexts (no second secret; it rotates with the
//! file). The state proves only that this deployment wrote it: the PPM nonce binds the whole
//! return URL, state included, so a state moved to another response fails that check, and the
//! context inside is still opened and spent by the finalize capability.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::properties::Properties;
use super::unix_seconds;
use crate::error::{Error, FieldProblem};
use crate::sealed::{self, SealingKey};

/// How long a state is accepted: the lifetime of the PPM request it rides with.
pub const LIFETIME: std::time::Duration = super::ppm::LIFETIME;

const LABEL: &str = "pingid-connector/return-state/v1";
const VERSION: &str = "v1";
const FIELD: &str = "state";
/// A state we seal is ~400 bytes; a long one is not ours.
const MAX_TOKEN_BYTES: usize = 4096;

/// What the return page does with the next response.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnState {
    /// The capability the response goes to.
    #[serde(rename = "c")]
    pub capability: String,
    /// The user the request was made for.
    #[serde(rename = "sub", default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The passwordless context the finalize call takes.
    #[serde(rename = "ctx", default, skip_serializing_if = "Option::is_none")]
    pub passwordless_context: Option<String>,
    /// The flow session the sign-in is bound to.
    #[serde(rename = "fs", default, skip_serializing_if = "Option::is_none")]
    pub flow_session_id: Option<String>,
}

/// Debug names the capability only: the rest is personal or a credential.
impl fmt::Debug for ReturnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReturnState")
            .field("capability", &self.capability)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(flatten)]
    state: ReturnState,
    exp: u64,
}

fn key(properties: &Properties) -> SealingKey {
    SealingKey::derive(properties.key.expose(), LABEL)
}

/// Seals `state`, valid for [`LIFETIME`] from `now`.
pub fn seal(properties: &Properties, state: &ReturnState, now: SystemTime) -> String {
    let sealed = Sealed {
        state: state.clone(),
        exp: unix_seconds(now) + LIFETIME.as_secs(),
    };
    sealed::seal(&key(properties), VERSION, "", &sealed)
}

/// Opens a state sealed by [`seal`] with the same properties, not expired at `now`. Anything
/// else is an [`Error::Validation`] on `state`.
pub fn open(properties: &Properties, token: &str, now: SystemTime) -> Result<ReturnState, Error> {
    let sealed: Sealed = sealed::open(&key(properties), VERSION, "", token, MAX_TOKEN_BYTES)
        .ok_or_else(|| refuse("is not a return state of this deployment"))?;
    if unix_seconds(now) >= sealed.exp {
        return Err(refuse("has expired"));
    }
    Ok(sealed.state)
}

fn refuse(reason: &str) -> Error {
    Error::Validation(vec![FieldProblem::new(FIELD, reason)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn properties(byte: u8) -> Properties {
        super::super::sample_properties(byte)
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn state() -> ReturnState {
        ReturnState {
            capability: "finalizePasswordlessAuthentication".into(),
            sub: Some("alice".into()),
            passwordless_context: Some("v1.eyJleHAiOjF9.tag".into()),
            flow_session_id: None,
        }
    }

    #[test]
    fn a_sealed_state_opens_with_the_same_key_until_it_expires() {
        let token = seal(&properties(1), &state(), now());
        assert_eq!(open(&properties(1), &token, now()).unwrap(), state());
        let late = now() + LIFETIME;
        let error = open(&properties(1), &token, late).unwrap_err();
        assert!(format!("{error:?}").contains("has expired"), "{error:?}");
    }

    #[test]
    fn the_state_hides_the_user_and_the_context() {
        let token = seal(&properties(1), &state(), now());
        assert!(
            !token.contains("alice") && !token.contains("eyJ"),
            "{token}"
        );
        assert_ne!(
            token,
            seal(&properties(1), &state(), now()),
            "a fresh nonce each time"
        );
        assert!(!format!("{:?}", state()).contains("alice"));
    }

    #[test]
    fn a_tampered_foreign_or_malformed_state_is_refused() {
        let token = seal(&properties(1), &state(), now());
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 5;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let downgraded = token.replacen("v1.", "v2.", 1);
        let long = "v1.".repeat(2000);
        for bad in [
            flipped.as_str(),
            downgraded.as_str(),
            "v1.",
            "v1.AAAA",
            "",
            long.as_str(),
        ] {
            let error = open(&properties(1), bad, now()).unwrap_err();
            assert_eq!(error.code(), "VALIDATION_FAILED", "{bad}");
        }
        assert!(
            open(&properties(2), &token, now()).is_err(),
            "another org's key"
        );
    }
}
