//! `baseline-reqwest`: the reference of the warm CPU ratio (`make bench`). It is the floor
//! (`baseline-echo`: the same runtime, tokio flavour and log set-up) plus a bare reqwest client
//! that makes the HTTP calls the event lists, concurrently, and reads each answer as JSON.
//!
//! A function's warm CPU per invocation divided by this one's, given the PingOne calls the
//! function makes, is what our code costs beyond the runtime and the HTTP work any client of
//! PingOne must do: parsing and validating the input, mapping, the answer and its logging.
//!
//! The event is the function's own event (an API Gateway request, say), so that the runtime's
//! decoding of it weighs on both alike, with one key added: `"reference": {"token": "<bearer>",
//! "calls": [{"method": "GET"|"POST", "url": "…", "contentType": "…"?, "body": "…"?}]}`. The
//! answer: `{"statuses": [200, …]}`.

use std::sync::{Arc, LazyLock};

use futures_util::future::join_all;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
struct Calls {
    token: String,
    calls: Vec<Call>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Call {
    method: String,
    url: String,
    content_type: Option<String>,
    body: Option<String>,
}

/// One client per process, like the functions' (plain HTTP on loopback in the bench; rustls
/// with ring because reqwest has no provider of its own in this workspace).
static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports the default TLS versions")
    .with_root_certificates(rustls::RootCertStore::empty())
    .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .build()
        .expect("the client builds")
});

async fn call(token: &str, call: Call) -> Result<u16, reqwest::Error> {
    let method = if call.method == "POST" {
        reqwest::Method::POST
    } else {
        reqwest::Method::GET
    };
    let mut request = CLIENT.request(method, &call.url).bearer_auth(token);
    if let Some(content_type) = call.content_type {
        request = request.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    if let Some(body) = call.body {
        request = request.body(body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    response.json::<Value>().await?;
    Ok(status)
}

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    let failed = |e: &dyn std::fmt::Display| Diagnostic {
        error_type: "ReferenceError".to_owned(),
        error_message: e.to_string(),
    };
    let Calls { token, calls } =
        Calls::deserialize(&event.payload["reference"]).map_err(|e| failed(&e))?;
    let mut statuses = Vec::with_capacity(calls.len());
    for answer in join_all(calls.into_iter().map(|c| call(&token, c))).await {
        statuses.push(answer.map_err(|e| failed(&e))?);
    }
    Ok(json!({ "statuses": statuses }))
}

// Same runtime flavour and log set-up as the functions and the floor.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    LazyLock::force(&CLIENT);
    lambda_runtime::run(service_fn(handle)).await
}
