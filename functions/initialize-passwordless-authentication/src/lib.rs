//! `initializePasswordlessAuthentication` (legacy connector): the user signs in with a FIDO2
//! passkey at the PingID authenticator, without a username; PingID tells who it was.
//!
//! First call: the redirect — a PPM request without `sub` to the authenticator's passwordless
//! endpoint, carrying the caller's `claimsNameValuePairs` (the seed's Attributes) as PPM
//! attributes. Second call (`ppmResponse`): the verified response names the user (`sub`); on
//! success the answer carries a `passwordlessContext` for `finalizePasswordlessAuthentication`:
//! sealed with a key derived from the properties file, bound to that user, valid 10 minutes,
//! usable once.
//!
//! With `flowSessionId` (the flow's own session, e.g. DaVinci's interaction id) both calls and
//! the context are bound to that session: the redirect's PPM request is made for it, a response
//! to a request of another session (or of none) is refused without being spent, and the
//! context opens only in `finalizePasswordlessAuthentication` calls that give the same value.
//! So a passkey sign-in an attacker completed for himself cannot be played into a victim's
//! flow, which would go on signed in as the attacker.

use std::time::SystemTime;

use serde::Deserialize;
use shared::legacy::flow::{self, Answer, Claims, Exchange, FlowSession};
use shared::pingid::context;
use shared::pingid::ppm::{self, Endpoint, RequestSpec};
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct InitializePasswordless;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// Connection settings and, on the second call, the authenticator's answer.
    #[serde(flatten)]
    pub exchange: Exchange,
    /// The caller's flow session, when it binds the sign-in to one.
    #[serde(flatten)]
    pub session: FlowSession,
    /// The seed's Attributes: extra PPM attributes (facts a PingID policy or screen reads,
    /// e.g. `email`), after the connector's own `isUserAuthenticated`.
    #[serde(flatten)]
    pub claims: Claims,
}

impl Handler for InitializePasswordless {
    const ID: &'static str = "initializePasswordlessAuthentication";
    const SUMMARY: &'static str = "Legacy: passkey sign-in at the PingID authenticator; answers the user and a passwordless context.";
    type Input = Input;
    type Output = Answer;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Answer, Error> {
        let connection = flow::connection(invocation, input.exchange.custom_auth.as_ref()).await?;
        let now = SystemTime::now();
        let binding = input.session.binding(Self::ID);
        let Some(response) = &input.exchange.ppm_response else {
            let spec = RequestSpec {
                sub: None,
                attributes: input
                    .claims
                    .after(vec![("isUserAuthenticated", "false".to_string())])?,
                return_url: &connection.return_url,
                endpoint: Endpoint::Passwordless,
                binding: &binding,
            };
            let redirect = ppm::request(&connection.properties, &spec, now);
            return Ok(Answer::Redirect(redirect.into()));
        };
        let mut outcome =
            flow::verified_outcome(invocation, &connection, response, None, &binding, now).await?;
        if flow::succeeded(&outcome) {
            let sealed = context::seal(
                &connection.properties,
                &outcome.sub,
                input.session.id(),
                now,
            );
            outcome.passwordless_context = Some(sealed.token);
        }
        Ok(Answer::Outcome(outcome))
    }
}
