//! The legacy connector's return page (`POST /v1/pingid-legacy/return`): the PingID
//! authenticator makes the browser post `ppm_response` here; the page makes the second call of
//! the capability the response answers and shows the outcome, so a deployment completes the
//! PPM loop with no page of its own. The local gateway serves this same code at the same path.
//!
//! A browser reaches it, with no bearer token: nothing it receives is trusted, everything it
//! acts on is proven.
//! - Without `?state=`, the response must answer a request of `initializeMfa` (for the
//!   response's user) or of `initializePasswordlessAuthentication` made for exactly this page's
//!   URL ([`ppm::answered_binding`]: the nonce MAC binds user, return URL and capability).
//! - With `?state=`, the state must be one this deployment sealed ([`return_state`]: encrypted
//!   and authenticated); it names the capability and what its call needs. The nonce binds the
//!   whole return URL, state included, so a state moved to another response is refused too.
//! - The capability then verifies the response again (signature, nonce, expiry, user) and
//!   spends it: a replayed post is refused (`VALIDATION_FAILED`, "already been used").
//!
//! A successful passkey sign-in (`initializePasswordlessAuthentication`) goes on at once to
//! `finalizePasswordlessAuthentication` for the user it resolved: the page answers with the
//! finalize redirect, its return URL carrying a sealed state with the user and the
//! `passwordlessContext`, which only the finalize call opens and spends.
//!
//! Every page has a strict Content-Security-Policy (no script but the redirect's one
//! auto-submit, by hash), `nosniff`, no referrer, no caching; every value shown is
//! HTML-escaped. The PPM response, the state and the context are never shown or logged.

mod html;
mod lambda;

use std::time::SystemTime;

use serde::Deserialize;
use shared::capability::{Invocation, Origin};
use shared::legacy::flow::{Answer, CustomAuth, Exchange, FlowSession, PpmOutcome, is_return_url};
use shared::pingid::ppm::{self, Redirect};
use shared::pingid::return_state::{self, ReturnState};
use shared::{Error, FieldProblem, Handler, Ports};

use finalize_passwordless_authentication::FinalizePasswordless;
use initialize_mfa::InitializeMfa;
use initialize_passwordless_authentication::InitializePasswordless;

pub use html::Page;
pub use lambda::run;

/// Where the page is served, on the API and on the local gateway.
pub const PATH: &str = "/v1/pingid-legacy/return";

const MFA: &str = InitializeMfa::ID;
const PASSWORDLESS: &str = InitializePasswordless::ID;
const FINALIZE: &str = FinalizePasswordless::ID;

/// The authenticator's form post.
#[derive(Deserialize)]
struct ReturnForm {
    ppm_response: Option<String>,
}

/// What one post asks of a capability.
struct Call {
    capability: &'static str,
    state: ReturnState,
    return_url: String,
    ppm_response: String,
}

/// Answers the authenticator's post of `form` to `page_url` (the page's URL as the browser
/// reached it, without the query), with the query's `state` if any.
pub async fn answer(ports: &Ports, page_url: &str, state: Option<&str>, form: &[u8]) -> Page {
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let answered = complete(ports, page_url, state, form, &correlation_id).await;
    let page = match &answered {
        Ok((_, page)) => page.clone(),
        Err(error) => Page::error(&error.body(&correlation_id)),
    };
    let capability = answered
        .as_ref()
        .map_or("none", |(capability, _)| *capability);
    match &answered {
        Err(error) if page.status >= 500 => {
            tracing::error!(correlation_id, capability, code = error.code(), %error, "legacy return failed");
        }
        Err(error) => {
            tracing::info!(
                correlation_id,
                capability,
                code = error.code(),
                "legacy return refused"
            );
        }
        Ok(_) => tracing::info!(
            correlation_id,
            capability,
            status = page.status,
            "legacy return"
        ),
    }
    page
}

async fn complete(
    ports: &Ports,
    page_url: &str,
    state: Option<&str>,
    form: &[u8],
    correlation_id: &str,
) -> Result<(&'static str, Page), Error> {
    let invocation = Invocation::from(ports, correlation_id, Origin::Api);
    let call = resolve(&invocation, page_url, state, form).await?;
    let capability = call.capability;
    let deadline = invocation.deadline().instant();
    let answer = tokio::time::timeout_at(deadline, second_call(&invocation, &call))
        .await
        .unwrap_or(Err(Error::UpstreamTimeout))?;
    let Answer::Outcome(outcome) = answer else {
        return Err(Error::Internal(format!(
            "{capability} answered a redirect to a response"
        )));
    };
    if capability == PASSWORDLESS && shared::legacy::flow::succeeded(&outcome) {
        let redirect = tokio::time::timeout_at(
            deadline,
            start_finalize(&invocation, page_url, &call.state, &outcome),
        )
        .await
        .unwrap_or(Err(Error::UpstreamTimeout))?;
        return Ok((capability, Page::redirect(&redirect, &outcome.sub)));
    }
    Ok((capability, Page::outcome(capability, &outcome)))
}

/// Which capability the post goes to, and with what: from the sealed state, or from the
/// response itself (see the crate docs).
async fn resolve(
    invocation: &Invocation<'_>,
    page_url: &str,
    state: Option<&str>,
    form: &[u8],
) -> Result<Call, Error> {
    let ppm_response = serde_urlencoded::from_bytes::<ReturnForm>(form)
        .ok()
        .and_then(|form| form.ppm_response)
        .filter(|response| !response.is_empty())
        .ok_or_else(|| {
            problem(
                "ppm_response",
                "is required (the authenticator's form field)",
            )
        })?;
    if !is_return_url(page_url) {
        return Err(Error::ConfigUnavailable(format!(
            "the return page is served at {page_url:.200}, which is not an https URL"
        )));
    }
    let properties = invocation.legacy()?.properties.properties().await?;
    let now = SystemTime::now();
    if let Some(token) = state {
        let state = return_state::open(&properties, token, now)?;
        let capability = [MFA, PASSWORDLESS, FINALIZE]
            .into_iter()
            .find(|id| *id == state.capability)
            .ok_or_else(|| problem("state", "names no legacy capability"))?;
        return Ok(Call {
            capability,
            state,
            return_url: format!("{page_url}?state={token}"),
            ppm_response,
        });
    }
    let bindings = [(MFA, true), (PASSWORDLESS, false)];
    let (capability, sub) =
        ppm::answered_binding(&properties, &ppm_response, page_url, &bindings, now).ok_or_else(
            || {
                problem(
                    "ppm_response",
                    "does not answer a request of this deployment for this page",
                )
            },
        )?;
    Ok(Call {
        capability,
        state: ReturnState {
            capability: capability.to_string(),
            sub: (capability == MFA).then_some(sub),
            passwordless_context: None,
            flow_session_id: None,
        },
        return_url: page_url.to_string(),
        ppm_response,
    })
}

/// The capability's second call, typed: the page builds the input itself, so the seed's
/// 100-character bound on a caller's `skRedirectUri` does not apply to the page's own URL.
async fn second_call(invocation: &Invocation<'_>, call: &Call) -> Result<Answer, Error> {
    let exchange = Exchange {
        custom_auth: Some(CustomAuth {
            ping_id_properties: None,
            sk_redirect_uri: Some(call.return_url.clone()),
        }),
        ppm_response: Some(call.ppm_response.clone()),
    };
    let session = FlowSession {
        flow_session_id: call.state.flow_session_id.clone(),
    };
    let sub = || {
        call.state
            .sub
            .clone()
            .ok_or_else(|| problem("state", "names no user"))
    };
    match call.capability {
        MFA => {
            let input = initialize_mfa::Input {
                sub: sub()?,
                exchange,
                user: Default::default(),
                claims: Default::default(),
            };
            InitializeMfa.handle(invocation, input).await
        }
        PASSWORDLESS => {
            let input = initialize_passwordless_authentication::Input {
                exchange,
                session,
                claims: Default::default(),
            };
            InitializePasswordless.handle(invocation, input).await
        }
        _ => {
            let input = finalize_passwordless_authentication::Input {
                sub: sub()?,
                passwordless_context: call
                    .state
                    .passwordless_context
                    .clone()
                    .ok_or_else(|| problem("state", "names no passwordless context"))?,
                exchange,
                user: Default::default(),
                claims: Default::default(),
                session,
            };
            FinalizePasswordless.handle(invocation, input).await
        }
    }
}

/// The first call of `finalizePasswordlessAuthentication` for the user a passkey resolved; its
/// return URL is this page with a sealed state holding what the second call needs.
async fn start_finalize(
    invocation: &Invocation<'_>,
    page_url: &str,
    signed_in: &ReturnState,
    outcome: &PpmOutcome,
) -> Result<Redirect, Error> {
    let context = outcome
        .passwordless_context
        .clone()
        .ok_or_else(|| Error::Internal("a passkey sign-in without a context".into()))?;
    let next = ReturnState {
        capability: FINALIZE.to_string(),
        sub: Some(outcome.sub.clone()),
        passwordless_context: Some(context.clone()),
        flow_session_id: signed_in.flow_session_id.clone(),
    };
    let properties = invocation.legacy()?.properties.properties().await?;
    let token = return_state::seal(&properties, &next, SystemTime::now());
    let input = finalize_passwordless_authentication::Input {
        sub: outcome.sub.clone(),
        passwordless_context: context,
        exchange: Exchange {
            custom_auth: Some(CustomAuth {
                ping_id_properties: None,
                sk_redirect_uri: Some(format!("{page_url}?state={token}")),
            }),
            ppm_response: None,
        },
        user: Default::default(),
        claims: Default::default(),
        session: FlowSession {
            flow_session_id: next.flow_session_id,
        },
    };
    match FinalizePasswordless.handle(invocation, input).await? {
        Answer::Redirect(output) => Ok(output.redirect),
        Answer::Outcome(_) => Err(Error::Internal("finalize answered its first call".into())),
    }
}

fn problem(field: &str, text: &str) -> Error {
    Error::Validation(vec![FieldProblem::new(field, text)])
}
