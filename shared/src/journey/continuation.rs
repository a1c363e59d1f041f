//! A journey's continuation: what the client hands back to take the next step. A Lambda keeps
//! nothing between calls, so the step travels with the client, and everything about it is
//! guarded:
//!
//! - sealed ([`crate::sealed`], AES-256-GCM with a key derived from the journey secret): the
//!   client can neither read the step (device ids, destinations) nor change it;
//! - bound to its journey and its user: the additional data names both, so alice's
//!   continuation does not even open for bob, or for the other journey;
//! - valid for one step: each has an id, claimed in the single-use record (DynamoDB in a
//!   deployment) when it is redeemed, so a replayed continuation is refused;
//! - short-lived: it expires [`LIFETIME`] after it was issued.
//!
//! `j1.<b64url(nonce ‖ ciphertext ‖ tag)>`, about 200 bytes plus the step.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Journey;
use crate::clock::unix_seconds;
use crate::error::{Error, FieldProblem};
use crate::legacy::UsedOnce;
use crate::sealed::{self, SealingKey};

/// How long a continuation is good for.
pub const LIFETIME: Duration = Duration::from_secs(10 * 60);

const VERSION: &str = "j1";
const LABEL: &str = "pingid-connector/journey-continuation/v1";
const FIELD: &str = "continuation";
/// The longest continuation accepted: ours are far shorter.
const MAX_TOKEN_BYTES: usize = 8192;

#[derive(Serialize, Deserialize)]
struct Sealed<S> {
    /// Its id in the single-use record.
    id: String,
    /// Expiry, seconds since the epoch.
    exp: u64,
    /// The step.
    step: S,
}

/// Issues and redeems continuations with one deployment key.
pub struct Continuations {
    key: SealingKey,
}

impl Continuations {
    /// Continuations sealed with a key derived from `secret` (the journey secret's bytes).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: SealingKey::derive(secret, LABEL),
        }
    }

    /// A continuation of `journey` for `user_id` carrying `step`, issued at `now`.
    pub fn issue<S: Serialize>(
        &self,
        journey: Journey,
        user_id: &str,
        step: &S,
        now: SystemTime,
    ) -> String {
        let sealed = Sealed {
            id: uuid::Uuid::new_v4().to_string(),
            exp: unix_seconds(now) + LIFETIME.as_secs(),
            step,
        };
        sealed::seal(&self.key, VERSION, &binding(journey, user_id), &sealed)
    }

    /// The continuation `token` opened and checked (a continuation of `journey` for `user_id`,
    /// unexpired at `now`), not spent yet: a journey checks the client's action against the step
    /// first, so a mistake in the action (a field missing, an action the step does not offer)
    /// leaves the continuation usable; [`Opened::spend`] then spends it.
    pub fn open<S: DeserializeOwned>(
        &self,
        journey: Journey,
        user_id: &str,
        token: &str,
        now: SystemTime,
    ) -> Result<Opened<S>, Error> {
        // Another user's, another journey's, tampered or not ours at all: one answer, so
        // nothing is learnt about whose it is.
        let sealed: Sealed<S> = sealed::open(
            &self.key,
            VERSION,
            &binding(journey, user_id),
            token,
            MAX_TOKEN_BYTES,
        )
        .ok_or_else(|| {
            refuse(&format!(
                "is not a continuation of this user's {} journey",
                journey.name()
            ))
        })?;
        if unix_seconds(now) >= sealed.exp {
            return Err(refuse("has expired; start the journey again"));
        }
        Ok(Opened(sealed))
    }
}

/// An opened continuation: its step, readable before it is spent.
pub struct Opened<S>(Sealed<S>);

impl<S> Opened<S> {
    /// The step it carries.
    pub fn step(&self) -> &S {
        &self.0.step
    }

    /// Spends it in the single-use record: the step, unless it was spent before.
    pub async fn spend(self, used: &dyn UsedOnce) -> Result<S, Error> {
        let expires_at = UNIX_EPOCH + Duration::from_secs(self.0.exp);
        if !used
            .claim(&format!("journey#{}", self.0.id), expires_at)
            .await?
        {
            return Err(refuse(
                "was used already: each continuation takes one step; use the latest one",
            ));
        }
        Ok(self.0.step)
    }
}

fn binding(journey: Journey, user_id: &str) -> String {
    format!("{}\0{user_id}", journey.name())
}

fn refuse(problem: &str) -> Error {
    Error::Validation(vec![FieldProblem::new(
        format!("properties.{FIELD}"),
        problem,
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::legacy::MemoryUsedOnce;

    const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";
    const BOB: &str = "b0b00000-0000-4000-8000-000000000002";

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Step {
        device_authentication_id: String,
    }

    fn step() -> Step {
        Step {
            device_authentication_id: "0f6c2d1e-1111-4000-8000-000000000001".into(),
        }
    }

    // Opens a token and spends it, as a journey does once the action is accepted.
    impl Continuations {
        async fn redeem<S: DeserializeOwned>(
            &self,
            journey: Journey,
            user_id: &str,
            token: &str,
            now: SystemTime,
            used: &dyn UsedOnce,
        ) -> Result<S, Error> {
            self.open(journey, user_id, token, now)?.spend(used).await
        }
    }

    fn problem(error: Error) -> String {
        match error {
            Error::Validation(problems) => {
                assert_eq!(problems[0].field, "properties.continuation");
                problems[0].problem.clone()
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_continuation_takes_its_user_one_step_in_its_journey() {
        let continuations = Continuations::new(b"journey secret");
        let used = MemoryUsedOnce::default();
        let now = SystemTime::now();
        let token = continuations.issue(Journey::Authentication, ALICE, &step(), now);
        assert!(!token.contains("0f6c2d1e"), "the step is not readable");
        let redeemed: Step = continuations
            .redeem(Journey::Authentication, ALICE, &token, now, &used)
            .await
            .unwrap();
        assert_eq!(redeemed, step());

        // Once: a replay is refused
        let replay = continuations
            .redeem::<Step>(Journey::Authentication, ALICE, &token, now, &used)
            .await
            .unwrap_err();
        assert!(problem(replay).contains("used already"));
    }

    #[tokio::test]
    async fn alices_continuation_is_nothing_for_bob_or_the_other_journey_or_another_deployment() {
        let continuations = Continuations::new(b"journey secret");
        let used = MemoryUsedOnce::default();
        let now = SystemTime::now();
        let token = continuations.issue(Journey::Authentication, ALICE, &step(), now);
        let elsewhere = Continuations::new(b"another deployment");
        for (continuations, journey, user) in [
            (&continuations, Journey::Authentication, BOB),
            (&continuations, Journey::DeviceRegistration, ALICE),
            (&elsewhere, Journey::Authentication, ALICE),
        ] {
            let error = continuations
                .redeem::<Step>(journey, user, &token, now, &used)
                .await
                .unwrap_err();
            assert!(problem(error).contains("is not a continuation"), "{user}");
        }
        // None of those spent it: alice can still take her step
        continuations
            .redeem::<Step>(Journey::Authentication, ALICE, &token, now, &used)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_expired_or_tampered_continuation_is_refused() {
        let continuations = Continuations::new(b"journey secret");
        let used = MemoryUsedOnce::default();
        let issued = SystemTime::now();
        let token = continuations.issue(Journey::DeviceRegistration, ALICE, &step(), issued);
        let later = issued + LIFETIME + Duration::from_secs(1);
        let expired = continuations
            .redeem::<Step>(Journey::DeviceRegistration, ALICE, &token, later, &used)
            .await
            .unwrap_err();
        assert!(problem(expired).contains("expired"));

        let mut tampered = token.clone().into_bytes();
        let middle = tampered.len() / 2;
        tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        let error = continuations
            .redeem::<Step>(Journey::DeviceRegistration, ALICE, &tampered, issued, &used)
            .await
            .unwrap_err();
        assert!(problem(error).contains("is not a continuation"));
    }
}
