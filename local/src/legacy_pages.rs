//! The legacy connector's browser loop on the local stack: a start page that makes the first
//! call and sends the browser to the PingID authenticator (the simulator), and the return page
//! (`/v1/pingid-legacy/return`, the `legacy-return-page` crate: the same code a deployment
//! serves) that the authenticator posts `ppm_response` to, which makes the second call and
//! shows the outcome. In a deployment the flow (DaVinci, an app) makes the first call; the start
//! page exists only here, so the whole loop can be tried in a browser on `make run`:
//!
//! - `GET /v1/pingid-legacy/demo/initializeMfa?sub=alice`
//! - `GET /v1/pingid-legacy/demo/initializePasswordlessAuthentication` (then, on success, the
//!   return page goes on to `finalizePasswordlessAuthentication` for the user it resolved)
//!
//! The start page names the return page as the return URL, as a deployment's
//! `LegacyReturnUrl` does: the return page keeps nothing in memory.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::Capability;
use shared::capability::{Origin, dispatch_json};
use shared::pingid::ppm::html_escape as escape;

use crate::Gateway;

/// The capability ids of the legacy connector's first calls the demo makes.
const INITIALIZE_MFA: &str = "initializeMfa";
const INITIALIZE_PASSWORDLESS: &str = "initializePasswordlessAuthentication";

#[derive(Deserialize)]
pub(crate) struct StartQuery {
    sub: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct ReturnQuery {
    state: Option<String>,
}

/// `GET /v1/pingid-legacy/demo/{capabilityId}`.
pub(crate) async fn start(
    State(gateway): State<Arc<Gateway>>,
    Path(capability_id): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    let (capability, mut properties) = match (capability_id.as_str(), query.sub) {
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
    properties["customAuth"] = json!({ "skRedirectUri": return_page_url(&gateway) });
    let (status, output) = call(&gateway, capability, properties).await;
    match output.pointer("/redirect/html").and_then(Value::as_str) {
        Some(html) if status == 200 => Html(html.to_string()).into_response(),
        _ => page(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            &format!(
                "{capability}: {}",
                output["code"].as_str().unwrap_or("error")
            ),
            &format!("<pre id=\"result\">{}</pre>", escape(&output.to_string())),
        ),
    }
}

/// `POST /v1/pingid-legacy/return[?state=…]` with the form field `ppm_response`: the return
/// page, as deployed.
pub(crate) async fn finish(
    State(gateway): State<Arc<Gateway>>,
    Query(query): Query<ReturnQuery>,
    body: Bytes,
) -> Response {
    let page = legacy_return_page::answer(
        &gateway.ports,
        &return_page_url(&gateway),
        query.state.as_deref(),
        &body,
    )
    .await;
    let status = StatusCode::from_u16(page.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, page.html.clone()).into_response();
    for (name, value) in page.headers() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// The return page as a browser reaches it on this gateway.
fn return_page_url(gateway: &Gateway) -> String {
    format!("{}{}", gateway.public_base, legacy_return_page::PATH)
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

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    );
    (status, Html(html)).into_response()
}
