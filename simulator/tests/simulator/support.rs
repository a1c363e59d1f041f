//! A simulator on an ephemeral port plus a client that speaks to it like the connector does.

use pingid_sim::demo::{CLIENT_ID, CLIENT_SECRET, ENV_ID};
use pingid_sim::{RunningSim, SimConfig, Simulator};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::OnceCell;

pub const SELECT_DEVICE: &str = "application/vnd.pingidentity.device.select+json";
pub const CHECK_OTP: &str = "application/vnd.pingidentity.otp.check+json";
pub const CANCEL: &str = "application/vnd.pingidentity.cancel.push.authentication+json";
pub const CHECK_ASSERTION: &str = "application/vnd.pingidentity.assertion.check+json";
pub const ACTIVATE: &str = "application/vnd.pingidentity.device.activate+json";
pub const SEND_ACTIVATION_CODE: &str =
    "application/vnd.pingidentity.device.sendActivationCode+json";
pub const REORDER: &str = "application/vnd.pingidentity.devices.reorder+json";
pub const REMOVE_ORDER: &str = "application/vnd.pingidentity.devices.order.remove+json";

/// A running simulator and an HTTP client with a lazily fetched worker token.
pub struct Sim {
    running: RunningSim,
    pub http: reqwest::Client,
    token: OnceCell<String>,
}

impl Sim {
    /// A simulator with the default configuration.
    pub async fn start() -> Self {
        Self::with_config(SimConfig::default()).await
    }

    /// A simulator with `config`.
    pub async fn with_config(config: SimConfig) -> Self {
        let running = Simulator::start("127.0.0.1:0".parse().expect("valid address"), config)
            .await
            .expect("the simulator starts");
        // Plain HTTP on loopback; reqwest still wants a TLS config (it has no crypto provider of
        // its own in this workspace), so it gets one that trusts nothing.
        let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .build()
            .expect("the client builds");
        Self {
            running,
            http,
            token: OnceCell::new(),
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    /// Auth-host URL of the demo environment: `/{envId}` + `path`.
    pub fn auth_url(&self, path: &str) -> String {
        self.url(&format!("/{ENV_ID}{path}"))
    }

    /// API-host URL of the demo environment: `/v1/environments/{envId}` + `path`.
    pub fn api_url(&self, path: &str) -> String {
        self.url(&format!("/v1/environments/{ENV_ID}{path}"))
    }

    /// A raw token request with the worker's credentials in the form body.
    pub async fn request_token(&self, form: &[(&str, &str)]) -> Response {
        self.http
            .post(self.auth_url("/as/token"))
            .form(form)
            .send()
            .await
            .expect("token request is answered")
    }

    /// A worker access token (fetched once per simulator).
    pub async fn token(&self) -> String {
        self.token
            .get_or_init(|| async {
                let response = self
                    .request_token(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", CLIENT_ID),
                        ("client_secret", CLIENT_SECRET),
                    ])
                    .await;
                let (status, body) = json_of(response).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body["access_token"]
                    .as_str()
                    .expect("access_token is a string")
                    .to_owned()
            })
            .await
            .clone()
    }

    /// An authorized GET.
    pub async fn get(&self, url: &str) -> Response {
        self.http
            .get(url)
            .bearer_auth(self.token().await)
            .send()
            .await
            .expect("GET is answered")
    }

    /// An authorized POST of `body` as `content_type`.
    pub async fn post(&self, url: &str, content_type: &str, body: &Value) -> Response {
        self.http
            .post(url)
            .bearer_auth(self.token().await)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("POST is answered")
    }

    /// An authorized request with `method`, optional body and content type.
    pub async fn call(
        &self,
        method: reqwest::Method,
        url: &str,
        content_type: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, url)
            .bearer_auth(self.token().await);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        json_of(request.send().await.expect("answered")).await
    }

    /// `POST /_sim/{path}` (control API) with a JSON body.
    pub async fn control(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(&format!("/_sim/{path}")))
            .json(&body)
            .send()
            .await
            .expect("control call is answered");
        json_of(response).await
    }

    /// `POST /{envId}/deviceAuthentications`, whatever the answer.
    pub async fn try_start_auth(&self, body: Value) -> (StatusCode, Value) {
        json_of(
            self.post(
                &self.auth_url("/deviceAuthentications"),
                "application/json",
                &body,
            )
            .await,
        )
        .await
    }

    /// Starts a device authentication that must succeed; returns the resource.
    pub async fn start_auth(&self, body: Value) -> Value {
        let (status, auth) = self.try_start_auth(body).await;
        assert_eq!(status, StatusCode::OK, "{auth}");
        auth
    }

    /// `GET /{envId}/deviceAuthentications/{id}`.
    pub async fn read_auth(&self, auth: &Value) -> (StatusCode, Value) {
        json_of(self.get(&self.auth_url(&auth_path(auth))).await).await
    }

    /// An action on a device authentication.
    pub async fn act(&self, auth: &Value, content_type: &str, body: Value) -> (StatusCode, Value) {
        json_of(
            self.post(&self.auth_url(&auth_path(auth)), content_type, &body)
                .await,
        )
        .await
    }

    /// `otp.check`.
    pub async fn check_otp(&self, auth: &Value, otp: &str) -> (StatusCode, Value) {
        self.act(auth, CHECK_OTP, json!({ "otp": otp })).await
    }

    /// `device.select`.
    pub async fn select(&self, auth: &Value, device_id: &str) -> (StatusCode, Value) {
        self.act(
            auth,
            SELECT_DEVICE,
            json!({ "device": { "id": device_id } }),
        )
        .await
    }

    /// Cancel with `reason`.
    pub async fn cancel(&self, auth: &Value, reason: &str) -> (StatusCode, Value) {
        self.act(auth, CANCEL, json!({ "reason": reason })).await
    }

    /// Messages delivered to `to`, oldest first.
    pub async fn messages_to(&self, to: &str) -> Vec<Value> {
        let response = self
            .http
            .get(self.url("/_sim/messages"))
            .query(&[("to", to)])
            .send()
            .await
            .expect("messages are answered");
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array().expect("an array of messages").clone()
    }

    /// The OTP of the latest message to `to`.
    pub async fn last_otp_to(&self, to: &str) -> String {
        let messages = self.messages_to(to).await;
        let last = messages.last().expect("a message was delivered");
        last["otp"].as_str().expect("otp is a string").to_owned()
    }

    /// `POST /_sim/push/{id}` with `decision`.
    pub async fn push(&self, auth: &Value, decision: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .post(self.url(&format!("/_sim/push/{}", id_of(auth))))
            .json(&json!({ "decision": decision }))
            .send()
            .await
            .expect("push is answered");
        json_of(response).await
    }

    /// `GET /_sim/totp/{deviceId}`.
    pub async fn totp(&self, device_id: &str) -> String {
        let response = self
            .http
            .get(self.url(&format!("/_sim/totp/{device_id}")))
            .send()
            .await
            .expect("totp is answered");
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["otp"].as_str().expect("otp is a string").to_owned()
    }

    /// Moves the simulator's clock forward.
    pub async fn advance(&self, seconds: u64) {
        let response = self
            .http
            .post(self.url("/_sim/clock/advance"))
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .expect("clock advance is answered");
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// Replaces the active faults.
    pub async fn set_faults(&self, faults: Value) {
        let response = self
            .http
            .put(self.url("/_sim/faults"))
            .json(&faults)
            .send()
            .await
            .expect("faults are answered");
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// `GET /_sim/stats`.
    pub async fn stats(&self) -> Value {
        let response = self
            .http
            .get(self.url("/_sim/stats"))
            .send()
            .await
            .expect("stats are answered");
        json_of(response).await.1
    }
}

/// Status and JSON body of a response (`Null` when the body is not JSON).
pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("the body is readable");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A device authentication's `id`.
pub fn id_of(auth: &Value) -> &str {
    auth["id"].as_str().expect("the resource has an id")
}

fn auth_path(auth: &Value) -> String {
    format!("/deviceAuthentications/{}", id_of(auth))
}

/// `status` of a resource.
pub fn status_of(resource: &Value) -> &str {
    resource["status"].as_str().unwrap_or_default()
}

/// `(code, first detail's code, first detail's target)` of a PingOne error body.
pub fn error_of(body: &Value) -> (&str, &str, &str) {
    let detail = &body["details"][0];
    (
        body["code"].as_str().unwrap_or_default(),
        detail["code"].as_str().unwrap_or_default(),
        detail["target"].as_str().unwrap_or_default(),
    )
}

/// Names of the `_links` of a resource, sorted.
pub fn links_of(resource: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = resource["_links"]
        .as_object()
        .map(|links| links.keys().map(String::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}
