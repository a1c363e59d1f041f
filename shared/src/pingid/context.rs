//! The sealed `passwordlessContext` (handbook §4.1 legacy outputs; security S-CTX): handed to
//! the flow by `initializePasswordlessAuthentication`, brought back to
//! `finalizePasswordlessAuthentication`. It is integrity-protected, bound to the resolved user
//! and, when the flow gave one, to the flow's session (`flowSessionId`), expires within 10
//! minutes, and carries a unique id so the caller can use it once.
//!
//! Format: `v1.<b64url(JSON {"exp","id","sub"[,"fs"]})>.<b64url(HMAC-SHA256(k_ctx, "v1.<payload>"))>`
//! with `k_ctx = HMAC(key, "pingid-connector/passwordless-context/v1")`. The version is inside
//! the MAC, so it cannot be downgraded. The content is readable (the user's own name and an
//! expiry), not secret. `fs` is there only for a context bound to a flow session:
//! `b64url(HMAC-SHA256(k_fs, flowSessionId))` with
//! `k_fs = HMAC(key, "pingid-connector/passwordless-context/flow-session/v1")`. A keyed digest,
//! not the id: the context may pass through places the session id should not (a browser, a
//! log), and without the key nobody can test a guessed id against it. Being inside the MAC, it
//! can be neither removed nor swapped.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::Mac;
use serde::Deserialize;
use serde_json::json;

use super::properties::Properties;
use super::{b64url, b64url_decode, derive_key, mac, random_bytes, unix_seconds};
use crate::error::{Error, FieldProblem};

/// How long a context is accepted.
pub const LIFETIME: Duration = Duration::from_secs(600);

const LABEL: &str = "pingid-connector/passwordless-context/v1";
const FLOW_SESSION_LABEL: &str = "pingid-connector/passwordless-context/flow-session/v1";
const VERSION: &str = "v1";
const FIELD: &str = "properties.passwordlessContext";
/// Contexts we issue are ~150 bytes (~200 bound to a flow session); a long one is not ours.
const MAX_TOKEN_BYTES: usize = 4096;

/// A freshly sealed context.
#[derive(Clone)]
pub struct Sealed {
    /// The opaque token the flow carries.
    pub token: String,
    /// Unique id, for the caller's single-use store.
    pub id: String,
    /// When it stops being accepted (whole seconds).
    pub expires_at: SystemTime,
}

/// Debug leaves out the token (it is a credential until used).
impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A context that passed every check (the caller still checks single use by `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// Unique id of the context.
    pub id: String,
    /// The user it is bound to.
    pub sub: String,
    /// When it stops being accepted; keep the used id at least until then.
    pub expires_at: SystemTime,
}

#[derive(Deserialize)]
struct Content {
    exp: u64,
    id: String,
    sub: String,
    /// The flow-session digest of a bound context (module docs); absent: unbound.
    fs: Option<String>,
}

/// Seals a context for `sub`, valid for [`LIFETIME`] from `now`, bound to `flow_session` when
/// given: it then opens only for that same flow session (see [`open`]).
pub fn seal(
    properties: &Properties,
    sub: &str,
    flow_session: Option<&str>,
    now: SystemTime,
) -> Sealed {
    let id = b64url(&random_bytes::<16>());
    let exp = unix_seconds(now) + LIFETIME.as_secs();
    let mut content = json!({"exp": exp, "id": id, "sub": sub});
    if let Some(session) = flow_session {
        let digest = flow_session_mac(properties, session)
            .finalize()
            .into_bytes();
        content["fs"] = json!(b64url(&digest));
    }
    let content = content.to_string();
    let signed = format!("{VERSION}.{}", b64url(content.as_bytes()));
    let tag = tag(properties).chain_update(signed.as_bytes()).finalize();
    Sealed {
        token: format!("{signed}.{}", b64url(&tag.into_bytes())),
        id,
        expires_at: UNIX_EPOCH + Duration::from_secs(exp),
    }
}

/// Opens a context: it must be ours (MAC), of the caller's flow session, for `expected_sub`,
/// and not expired at `now`. Forged, foreign-user and expired contexts are an
/// [`Error::Validation`] on `properties.passwordlessContext`.
///
/// The flow session is checked strictly, both ways: a context sealed for a session opens only
/// with that same `flow_session` (compared in constant time), and an unbound one only with
/// none, so a caller cannot opt out of a binding by leaving the session out, nor get a
/// different answer by adding one. Any mismatch is refused as a context that is not valid here
/// (the very answer a forged one gets): another flow's context is not this flow's, and the
/// answer tells nobody whether the context or the session was the wrong half.
pub fn open(
    properties: &Properties,
    token: &str,
    expected_sub: &str,
    flow_session: Option<&str>,
    now: SystemTime,
) -> Result<Opened, Error> {
    let invalid = || refuse("is not a valid passwordless context");
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid());
    }
    let (signed, tag_b64) = token.rsplit_once('.').ok_or_else(invalid)?;
    let (version, content_b64) = signed.split_once('.').ok_or_else(invalid)?;
    if version != VERSION {
        return Err(invalid());
    }
    let received = b64url_decode(tag_b64).ok_or_else(invalid)?;
    tag(properties)
        .chain_update(signed.as_bytes())
        .verify_slice(&received)
        .map_err(|_| invalid())?;
    let content: Content = b64url_decode(content_b64)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(invalid)?;
    let same_flow_session = match (&content.fs, flow_session) {
        (None, None) => true,
        (Some(digest), Some(session)) => b64url_decode(digest).is_some_and(|digest| {
            flow_session_mac(properties, session)
                .verify_slice(&digest)
                .is_ok()
        }),
        _ => false,
    };
    if !same_flow_session {
        return Err(invalid());
    }
    if content.sub != expected_sub {
        return Err(refuse("belongs to another user"));
    }
    if unix_seconds(now) >= content.exp {
        return Err(refuse("has expired"));
    }
    Ok(Opened {
        id: content.id,
        sub: content.sub,
        expires_at: UNIX_EPOCH + Duration::from_secs(content.exp),
    })
}

fn tag(properties: &Properties) -> super::HmacSha256 {
    mac(&derive_key(properties.key.expose(), LABEL))
}

/// The keyed digest of a flow session id, ready to finalise or verify.
fn flow_session_mac(properties: &Properties, session: &str) -> super::HmacSha256 {
    mac(&derive_key(properties.key.expose(), FLOW_SESSION_LABEL)).chain_update(session.as_bytes())
}

fn refuse(reason: &str) -> Error {
    Error::Validation(vec![FieldProblem::new(FIELD, reason)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;

    fn properties(key: u8) -> Properties {
        Properties {
            key: Secret::new(vec![key; 32]),
            token: "t".into(),
            org_alias: "org".into(),
            idp_url: "https://idp.example/pingid".into(),
            authenticator_url: "https://authenticator.example/pingid/ppm".into(),
            admin_url: None,
            use_signature: true,
        }
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn reason(result: Result<Opened, Error>) -> String {
        match result {
            Err(Error::Validation(problems)) => {
                assert_eq!(problems[0].field, "properties.passwordlessContext");
                problems[0].problem.clone()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_sealed_context_opens_for_its_user_until_it_expires() {
        let sealed = seal(&properties(1), "bob", None, now());
        assert_eq!(sealed.expires_at, now() + LIFETIME);
        let opened = open(
            &properties(1),
            &sealed.token,
            "bob",
            None,
            now() + Duration::from_secs(599),
        )
        .unwrap();
        assert_eq!(
            opened,
            Opened {
                id: sealed.id.clone(),
                sub: "bob".into(),
                expires_at: sealed.expires_at
            }
        );
        assert_eq!(
            reason(open(
                &properties(1),
                &sealed.token,
                "bob",
                None,
                now() + LIFETIME
            )),
            "has expired"
        );
        assert!(!format!("{sealed:?}").contains(&sealed.token));
    }

    #[test]
    fn every_context_has_its_own_id() {
        let a = seal(&properties(1), "bob", None, now());
        let b = seal(&properties(1), "bob", None, now());
        assert_ne!(a.id, b.id);
        assert_ne!(a.token, b.token);
    }

    #[test]
    fn a_context_for_another_user_is_refused() {
        let sealed = seal(&properties(1), "bob", None, now());
        assert_eq!(
            reason(open(&properties(1), &sealed.token, "alice", None, now())),
            "belongs to another user"
        );
    }

    #[test]
    fn forged_contexts_are_refused() {
        let sealed = seal(&properties(1), "bob", None, now());
        let (signed, tag) = sealed.token.rsplit_once('.').unwrap();
        let content = |json: &str| b64url(json.as_bytes());
        let far = unix_seconds(now()) + 86_400;
        let forged = [
            // Another key (another org or a rotated file).
            seal(&properties(2), "bob", None, now()).token,
            // The user swapped inside, old tag kept.
            format!(
                "v1.{}.{tag}",
                content(&format!(r#"{{"exp":{far},"id":"x","sub":"alice"}}"#))
            ),
            // The expiry pushed out, old tag kept.
            format!(
                "v1.{}.{tag}",
                content(&format!(r#"{{"exp":{far},"id":"x","sub":"bob"}}"#))
            ),
            // Version downgrade.
            format!("v0.{}", &sealed.token[3..]),
            // Tag stripped, flipped, truncated.
            format!("{signed}."),
            signed.to_string(),
            format!("{signed}.{}", {
                let mut bytes = b64url_decode(tag).unwrap();
                bytes[31] ^= 1;
                b64url(&bytes)
            }),
            format!("{signed}.{}", &tag[..tag.len() - 4]),
            String::new(),
            "not a context".into(),
            "x".repeat(10_000),
        ];
        for token in forged {
            assert_eq!(
                reason(open(&properties(1), &token, "bob", None, now())),
                "is not a valid passwordless context",
                "{token}"
            );
        }
    }

    const SESSION: &str = "5c7d3e1a-93b4-4f0e-8a61-2d9c0b7e4f15";

    /// The readable content of a token.
    fn content(token: &str) -> serde_json::Value {
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&b64url_decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn a_context_bound_to_a_flow_session_opens_only_in_that_session() {
        let sealed = seal(&properties(1), "bob", Some(SESSION), now());
        let opened = open(&properties(1), &sealed.token, "bob", Some(SESSION), now()).unwrap();
        assert_eq!(opened.id, sealed.id);
        // The id is not in the readable content, only its keyed digest.
        let readable = content(&sealed.token);
        assert!(!readable.to_string().contains(SESSION), "{readable}");
        assert_eq!(readable["fs"].as_str().map(str::len), Some(43));
        // Another session, none, a prefix or a case change: the answer a forged context gets.
        for other in [
            None,
            Some("5c7d3e1a-93b4-4f0e-8a61-2d9c0b7e4f16"),
            Some("5C7D3E1A-93B4-4F0E-8A61-2D9C0B7E4F15"),
            Some("5c7d3e1a"),
        ] {
            assert_eq!(
                reason(open(&properties(1), &sealed.token, "bob", other, now())),
                "is not a valid passwordless context",
                "{other:?}"
            );
        }
        // The same session id under another key digests differently: no cross-org match.
        let elsewhere = seal(&properties(2), "bob", Some(SESSION), now());
        assert_ne!(content(&elsewhere.token)["fs"], readable["fs"]);
    }

    #[test]
    fn an_unbound_context_is_refused_with_a_flow_session() {
        // Strict both ways: a caller that names a session expects a context of that session.
        let sealed = seal(&properties(1), "bob", None, now());
        assert!(content(&sealed.token).get("fs").is_none());
        assert_eq!(
            reason(open(
                &properties(1),
                &sealed.token,
                "bob",
                Some(SESSION),
                now()
            )),
            "is not a valid passwordless context"
        );
    }

    #[test]
    fn the_flow_session_binding_cannot_be_stripped_or_swapped() {
        let sealed = seal(&properties(1), "bob", Some(SESSION), now());
        let (_, tag) = sealed.token.rsplit_once('.').unwrap();
        let mut stripped = content(&sealed.token);
        stripped.as_object_mut().unwrap().remove("fs");
        let mut swapped = content(&sealed.token);
        swapped["fs"] =
            content(&seal(&properties(1), "bob", Some("mallory's"), now()).token)["fs"].clone();
        for (changed, session) in [(stripped, None), (swapped, Some("mallory's"))] {
            let token = format!("v1.{}.{tag}", b64url(changed.to_string().as_bytes()));
            assert_eq!(
                reason(open(&properties(1), &token, "bob", session, now())),
                "is not a valid passwordless context"
            );
        }
    }
}
