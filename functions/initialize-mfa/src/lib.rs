//! `initializeMfa` (legacy connector): MFA and on-the-fly registration by the PingID
//! authenticator, after the flow's first factor.
//!
//! First call (no `ppmResponse`): the redirect — a PPM request for `sub`, with the user facts
//! and the caller's `claimsNameValuePairs` as attributes, signed with the properties file's key and bound to this capability, the
//! user and the return URL. Second call (`ppmResponse` from the return URL): the response is
//! verified (signature, nonce, expiry, audience, org, user), spent, and answered as the seed's
//! output object. A response for another user, another request, or past its expiry is refused
//! (`VALIDATION_FAILED`); a `failure` from PingID is an answer with `status: failure`.

use std::time::SystemTime;

use serde::Deserialize;
use shared::legacy::flow::{self, Answer, Claims, Exchange, UserAttributes};
use shared::pingid::ppm::{self, Endpoint, RequestSpec};
use shared::{Error, Handler, Invocation};

/// The capability.
pub struct InitializeMfa;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// the PingID username
    #[field(max_length = 100, pattern = "^\\S(.*\\S)?$")]
    pub sub: String,
    /// Connection settings and, on the second call, the authenticator's answer.
    #[serde(flatten)]
    pub exchange: Exchange,
    /// User facts for PingID.
    #[serde(flatten)]
    pub user: UserAttributes,
    /// The seed's Attributes: extra PPM attributes.
    #[serde(flatten)]
    pub claims: Claims,
}

impl Handler for InitializeMfa {
    const ID: &'static str = "initializeMfa";
    const SUMMARY: &'static str =
        "Legacy: MFA by the PingID authenticator (PPM redirect, then the verified response).";
    type Input = Input;
    type Output = Answer;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Answer, Error> {
        let connection = flow::connection(invocation, input.exchange.custom_auth.as_ref()).await?;
        let now = SystemTime::now();
        match &input.exchange.ppm_response {
            None => {
                let spec = RequestSpec {
                    sub: Some(&input.sub),
                    attributes: input.claims.after(input.user.ppm_attributes())?,
                    return_url: &connection.return_url,
                    endpoint: Endpoint::Auth,
                    binding: Self::ID,
                };
                let redirect = ppm::request(&connection.properties, &spec, now);
                Ok(Answer::Redirect(redirect.into()))
            }
            Some(response) => {
                let outcome = flow::verified_outcome(
                    invocation,
                    &connection,
                    response,
                    Some(&input.sub),
                    Self::ID,
                    now,
                )
                .await?;
                Ok(Answer::Outcome(outcome))
            }
        }
    }
}
