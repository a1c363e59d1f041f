//! `initializeMfa` (legacy connector): MFA and on-the-fly registration by the PingID
//! authenticator, after the flow's first factor.
//!
//! First call (no `ppmResponse`): the redirect — a PPM request for `sub`, with the user facts
//! as attributes, signed with the properties file's key and bound to this capability, the
//! user and the return URL. Second call (`ppmResponse` from the return URL): the response is
//! verified (signature, nonce, expiry, audience, org, user), spent, and answered as the seed's
//! output object. A response for another user, another request, or past its expiry is refused
//! (`VALIDATION_FAILED`); a `failure` from PingID is an answer with `status: failure`.

use std::sync::LazyLock;
use std::time::SystemTime;

use serde::Deserialize;
use shared::legacy::flow::{
    self, Answer, CustomAuth, UserAttributes, attribute_fields, connection_fields,
};
use shared::pingid::ppm::{self, Endpoint, RequestSpec};
use shared::{Error, Field, Handler, Invocation, Schema};

/// The capability.
pub struct InitializeMfa;

/// The validated `properties`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// The PingID username.
    pub sub: String,
    /// Connection settings.
    pub custom_auth: Option<CustomAuth>,
    /// Second call: the authenticator's answer.
    pub ppm_response: Option<String>,
    /// User facts for PingID.
    #[serde(flatten)]
    pub user: UserAttributes,
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let mut fields = vec![
        Field::string("sub")
            .required()
            .max_length(100)
            .pattern("^\\S(.*\\S)?$")
            .describe("the PingID username"),
    ];
    fields.extend(connection_fields());
    fields.extend(attribute_fields());
    Schema::new(fields)
});

impl Handler for InitializeMfa {
    const ID: &'static str = "initializeMfa";
    const SUMMARY: &'static str =
        "Legacy: MFA by the PingID authenticator (PPM redirect, then the verified response).";
    type Input = Input;
    type Output = Answer;

    fn schema() -> &'static Schema {
        &SCHEMA
    }

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<Answer, Error> {
        let connection = flow::connection(invocation, input.custom_auth.as_ref()).await?;
        let now = SystemTime::now();
        match &input.ppm_response {
            None => {
                let spec = RequestSpec {
                    sub: Some(&input.sub),
                    attributes: input.user.ppm_attributes(),
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
