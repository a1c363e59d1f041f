//! The legacy connector's browser loop on the local stack: a start page that makes the first
//! call and sends the browser to the PingID authenticator (the simulator), and the return page
//! (`/v1/pingid-legacy/return`) the authenticator posts `ppm_response` to, which makes the
//! second call and shows the outcome. In a deployment DaVinci plays both parts; these pages
//! exist only here, so the whole loop can be tried in a browser on `make run`:
//!
//! - `GET /v1/pingid-legacy/demo/initializeMfa?sub=alice`
//! - `GET /v1/pingid-legacy/demo/initializePasswordlessAuthentication` (then, on success, the
//!   return page goes on to `finalizePasswordlessAuthentication` for the user it resolved)
//!
//! What the second call needs (which capability, the user, the passwordless context) is kept
//! here under a random `state` in the return URL, used once, like a flow's own state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::Capability;
use shared::capability::{Origin, dispatch_json};
use shared::pingid::ppm::html_escape as escape;

use crate::Gateway;

/// The capability ids of the legacy connector.
const INITIALIZE_MFA: &str = "initializeMfa";
const INITIALIZE_PASSWORDLESS: &str = "initializePasswordlessAuthentication";
const FINALIZE_PASSWORDLESS: &str = "finalizePasswordlessAuthentication";

/// What a return needs to make the second call.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    capability: &'static str,
    properties: Value,
}

/// Pending returns by state.
#[derive(Default)]
pub(crate) struct Returns(Mutex<HashMap<String, Pending>>);

impl Returns {
    fn put(&self, pending: Pending) -> String {
        let state = uuid::Uuid::new_v4().simple().to_string();
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(state.clone(), pending);
        state
    }

    fn take(&self, state: &str) -> Option<Pending> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(state)
    }
}

#[derive(Deserialize)]
pub(crate) struct StartQuery {
    sub: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ReturnQuery {
    state: String,
}

#[derive(Deserialize)]
pub(crate) struct ReturnForm {
    ppm_response: Option<String>,
}

/// `GET /v1/pingid-legacy/demo/{capabilityId}`.
pub(crate) async fn start(
    State(gateway): State<Arc<Gateway>>,
    Path(capability_id): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    let (capability, properties) = match (capability_id.as_str(), query.sub) {
        (INITIALIZE_MFA, Some(sub)) => (
            INITIALIZE_MFA,
            json!({ "sub": sub, "appName": "Local demo", "pingidIp": "127.0.0.1" }),
        ),
        (INITIALIZE_MFA, None) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Missing user",
                "<p>Add <code>?sub=alice</code> to the address.</p>",
            );
        }
        (INITIALIZE_PASSWORDLESS, _) => (INITIALIZE_PASSWORDLESS, json!({})),
        _ => {
            return page(
                StatusCode::NOT_FOUND,
                "Unknown capability",
                "<p>Try <code>initializeMfa?sub=alice</code> or <code>initializePasswordlessAuthentication</code>.</p>",
            );
        }
    };
    redirect_to_authenticator(&gateway, capability, properties, "").await
}

/// `POST /v1/pingid-legacy/return?state=…` with the form field `ppm_response`.
pub(crate) async fn finish(
    State(gateway): State<Arc<Gateway>>,
    Query(query): Query<ReturnQuery>,
    body: Bytes,
) -> Response {
    // The authenticator's auto-submitted form (application/x-www-form-urlencoded).
    let form: ReturnForm =
        serde_urlencoded::from_bytes(&body).unwrap_or(ReturnForm { ppm_response: None });
    let Some(pending) = gateway.returns.take(&query.state) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Unknown or used return",
            "<p>This return was not expected, or was already used. Start again.</p>",
        );
    };
    let Some(ppm_response) = form.ppm_response else {
        return page(
            StatusCode::BAD_REQUEST,
            "No PPM response",
            "<p>The authenticator sent no <code>ppm_response</code>.</p>",
        );
    };
    let mut properties = pending.properties.clone();
    properties["ppmResponse"] = json!(ppm_response);
    properties["customAuth"] = json!({ "skRedirectUri": return_url(&gateway, &query.state) });
    let (status, output) = call(&gateway, pending.capability, properties).await;
    let succeeded = status == 200 && output["status"] == "success";
    if pending.capability == INITIALIZE_PASSWORDLESS && succeeded {
        // The passkey named the user; PingID's policy completes the sign-in.
        let finalize = json!({
            "sub": output["sub"],
            "passwordlessContext": output["passwordlessContext"],
            "appName": "Local demo",
            "pingidIp": "127.0.0.1",
        });
        let note = format!(
            "<p id=\"passwordless\">Signed in with a passkey as <b>{}</b>; completing…</p>",
            escape(output["sub"].as_str().unwrap_or_default())
        );
        return redirect_to_authenticator(&gateway, FINALIZE_PASSWORDLESS, finalize, &note).await;
    }
    result_page(pending.capability, status, &output)
}

/// Makes the first call and answers with its auto-submitting form.
async fn redirect_to_authenticator(
    gateway: &Gateway,
    capability: &'static str,
    properties: Value,
    note: &str,
) -> Response {
    let state = gateway.returns.put(Pending {
        capability,
        properties: properties.clone(),
    });
    let mut first = properties;
    first["customAuth"] = json!({ "skRedirectUri": return_url(gateway, &state) });
    let (status, output) = call(gateway, capability, first).await;
    match output.pointer("/redirect/html").and_then(Value::as_str) {
        Some(html) if status == 200 => Html(format!("{note}{html}")).into_response(),
        _ => result_page(capability, status, &output),
    }
}

fn return_url(gateway: &Gateway, state: &str) -> String {
    format!(
        "{}/v1/pingid-legacy/return?state={state}",
        gateway.public_base
    )
}

async fn call(gateway: &Gateway, capability_id: &str, properties: Value) -> (u16, Value) {
    let Some(capability) = gateway
        .legacy_capabilities
        .iter()
        .find(|capability| capability.id() == capability_id)
    else {
        return (404, json!({ "code": "NOT_FOUND" }));
    };
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let request = json!({ "properties": properties });
    let reply = dispatch_json(
        capability.as_ref() as &dyn Capability,
        &gateway.ports,
        request,
        &correlation_id,
        Origin::Api,
    )
    .await;
    (reply.status, reply.body)
}

/// The outcome: status and user up front, the whole output below.
fn result_page(capability: &str, status: u16, output: &Value) -> Response {
    let outcome = output["status"]
        .as_str()
        .or_else(|| output["code"].as_str())
        .unwrap_or("unknown");
    let body = format!(
        "<p>HTTP <span id=\"http\">{status}</span></p>\
         <p>Status: <b id=\"status\">{}</b></p>\
         <p>User: <b id=\"sub\">{}</b></p>\
         <pre id=\"result\">{}</pre>\
         <p><a href=\"/v1/pingid-legacy/demo/initializeMfa?sub=alice\">MFA for alice again</a> · \
         <a href=\"/v1/pingid-legacy/demo/initializePasswordlessAuthentication\">passwordless</a></p>",
        escape(outcome),
        escape(output["sub"].as_str().unwrap_or("—")),
        escape(&serde_json::to_string_pretty(output).unwrap_or_default()),
    );
    let code = if status == 200 {
        StatusCode::OK
    } else {
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY)
    };
    page(code, &format!("{capability}: {outcome}"), &body)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    );
    (status, Html(html)).into_response()
}
