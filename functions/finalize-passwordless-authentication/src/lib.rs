//! `finalizePasswordlessAuthentication` (legacy connector): PingID's policy evaluation that
//! completes a passwordless sign-in, for the user `initializePasswordlessAuthentication`
//! resolved.
//!
//! Both calls open the `passwordlessContext` first: sealed by this deployment's key, for this
//! `sub`, not expired (10 minutes), not used. First call: the redirect — a PPM request for `sub`
//! bound to this context. Second call (`ppmResponse`): the response is verified against the
//! same binding and the context is spent, so it completes one sign-in only; a forged,
//! cross-user, expired or replayed context is refused (`VALIDATION_FAILED`).
//!
//! A context sealed for a flow session (`flowSessionId` given to the initialize calls) opens
//! only when this call gives the same value, and one sealed without opens only without: any
//! other call is refused as an invalid context before anything is read from or written to the
//! single-use record, so a refused call never spends the context of the flow it was played in.

use std::time::SystemTime;

use serde::Deserialize;
use shared::legacy::flow::{self, Answer, Claims, Exchange, FlowSession, UserAttributes};
use shared::pingid::context;
use shared::pingid::ppm::{self, Endpoint, RequestSpec};
use shared::{Error, FieldProblem, Handler, Invocation};

/// The capability.
pub struct FinalizePasswordless;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// the PingID username initializePasswordlessAuthentication returned
    #[field(max_length = 100, pattern = "^\\S(.*\\S)?$")]
    pub sub: String,
    /// the context initializePasswordlessAuthentication returned
    #[field(max_length = 2000)]
    pub passwordless_context: String,
    /// Connection settings and, on the second call, the authenticator's answer.
    #[serde(flatten)]
    pub exchange: Exchange,
    /// User facts for PingID's policy.
    #[serde(flatten)]
    pub user: UserAttributes,
    /// The seed's Attributes: extra PPM attributes.
    #[serde(flatten)]
    pub claims: Claims,
    /// The flow session the context was sealed for, if any.
    #[serde(flatten)]
    pub session: FlowSession,
}

fn context_used() -> Error {
    Error::Validation(vec![FieldProblem::new(
        "properties.passwordlessContext",
        "has already been used",
    )])
}

impl Handler for FinalizePasswordless {
    const ID: &'static str = "finalizePasswordlessAuthentication";
    const SUMMARY: &'static str =
        "Legacy: PingID policy evaluation completing a passwordless sign-in.";
    type Input = Input;
    type Output = Answer;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Answer, Error> {
        let connection = flow::connection(invocation, input.exchange.custom_auth.as_ref()).await?;
        let now = SystemTime::now();
        let opened = context::open(
            &connection.properties,
            &input.passwordless_context,
            &input.sub,
            input.session.id(),
            now,
        )?;
        let used = &invocation.legacy()?.used;
        let context_id = format!("context:{}", opened.id);
        if used.is_used(&context_id).await? {
            return Err(context_used());
        }
        // The PPM round trip belongs to this context (and so to its flow session, which the
        // binding names too): a response to another finalize is refused.
        let binding = input
            .session
            .binding(&format!("{}:{}", Self::ID, opened.id));
        let Some(response) = &input.exchange.ppm_response else {
            let spec = RequestSpec {
                sub: Some(&input.sub),
                attributes: input.claims.after(input.user.ppm_attributes())?,
                return_url: &connection.return_url,
                endpoint: Endpoint::Auth,
                binding: &binding,
            };
            let redirect = ppm::request(&connection.properties, &spec, now);
            return Ok(Answer::Redirect(redirect.into()));
        };
        let outcome = flow::verified_outcome(
            invocation,
            &connection,
            response,
            Some(&input.sub),
            &binding,
            now,
        )
        .await?;
        if !used.claim(&context_id, opened.expires_at).await? {
            return Err(context_used());
        }
        Ok(Answer::Outcome(outcome))
    }
}
