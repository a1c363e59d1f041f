//! The PingID REST API client (`pingid-api.md` §2–§4, §6): `POST {idp_url}/rest/4/{op}/do` with
//! a signed JWS body; the answer is verified and bound to the request before anything in it is
//! believed.
//!
//! Binding: each call puts a fresh 128-bit nonce in `reqBody.clientData`, and PingID echoes
//! `clientData` in every response. A response that is validly signed but carries another (or
//! no) `clientData` is a replay or a mix-up and is refused. Ping documents no replay protection
//! of its own for this API (§2.5, §8).
//!
//! Recovery: only reads ([`Operation::is_read`]) are sent a second time, once, within the
//! deadline, after a transient failure (connection, timeout, HTTP 5xx, errorId 10551 "Failed
//! transaction. Please retry."). Writes are never retried: an OTP is never submitted twice.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::jws;
use super::properties::Properties;
use super::{b64url, random_bytes};
use crate::budget::Deadline;
use crate::error::Error;

/// PingID bodies are small; anything larger is not PingID talking.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// A retry is not worth starting with less time than this left.
const MIN_ATTEMPT: Duration = Duration::from_millis(250);
/// The first attempt of a read leaves the rest of the budget for its retry.
const FIRST_ATTEMPT_SHARE: f64 = 0.6;
/// `reqHeader.version`: StartAuthentication needs 4.9 or later (§2.3).
const API_VERSION: &str = "4.9";
/// Longest `errorMsg` we pass on.
const MAX_MESSAGE_CHARS: usize = 200;

/// The PingID API operations the connector calls (§6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `getuserdetails`: read a user and their devices.
    GetUserDetails,
    /// `adduser`: create a user.
    AddUser,
    /// `getactivationcode`: a code for online pairing.
    GetActivationCode,
    /// `startofflinepairing`: send a pairing OTP by SMS, voice or email.
    StartOfflinePairing,
    /// `finalizeofflinepairing`: submit the pairing OTP.
    FinalizeOfflinePairing,
    /// `startauthentication`: begin an authentication.
    StartAuthentication,
    /// `authstatus`: poll an asynchronous authentication.
    AuthStatus,
    /// `authoffline`: submit an authentication OTP.
    AuthOffline,
    /// `cancelauthentication`: end an authentication.
    CancelAuthentication,
    /// `readbulkauthenticationpolicy`: read the policy set.
    ReadBulkAuthenticationPolicy,
}

impl Operation {
    /// The path segment, lowercase as in every example (§2.1).
    pub fn path(self) -> &'static str {
        match self {
            Operation::GetUserDetails => "getuserdetails",
            Operation::AddUser => "adduser",
            Operation::GetActivationCode => "getactivationcode",
            Operation::StartOfflinePairing => "startofflinepairing",
            Operation::FinalizeOfflinePairing => "finalizeofflinepairing",
            Operation::StartAuthentication => "startauthentication",
            Operation::AuthStatus => "authstatus",
            Operation::AuthOffline => "authoffline",
            Operation::CancelAuthentication => "cancelauthentication",
            Operation::ReadBulkAuthenticationPolicy => "readbulkauthenticationpolicy",
        }
    }

    /// True for reads, the only operations sent twice. Everything else changes state, sends
    /// a message to the user or submits an OTP.
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Operation::GetUserDetails
                | Operation::AuthStatus
                | Operation::ReadBulkAuthenticationPolicy
        )
    }
}

/// How a successful call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `errorId` 200: done.
    Ok,
    /// `errorId` 30001–30018: the flow continues as the id says (OTP sent, poll, …).
    Continue,
}

/// A verified PingID answer with errorId 200 or 300xx.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// `errorId`.
    pub error_id: i64,
    /// `errorMsg`.
    pub error_msg: Option<String>,
    /// The `responseBody` object (the payload itself when PingID sent it unwrapped).
    pub body: Value,
    /// Done or continue.
    pub outcome: Outcome,
}

/// Why one attempt failed.
enum Failure {
    /// Worth a second try if the operation is a read.
    Transient(Error),
    /// Final.
    Final(Error),
}

impl Failure {
    fn into_error(self) -> Error {
        match self {
            Failure::Transient(error) | Failure::Final(error) => error,
        }
    }
}

/// Talks to the PingID REST API.
#[derive(Debug, Clone)]
pub struct PingIdClient {
    http: reqwest::Client,
}

impl PingIdClient {
    /// A client over `http`, built once per process (see [`PingIdClient::default_http`]).
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }

    /// The HTTP client this API wants: the product's HTTPS stack ([`crate::http`]: no
    /// redirects, so a signed request is never replayed to another host). HTTPS is enforced by
    /// [`Properties`], which allows plain HTTP only on loopback (the local simulator).
    pub fn default_http() -> Result<reqwest::Client, Error> {
        crate::http::build(crate::http::client_builder())
    }

    /// POST `{idp_url}/rest/4/{op}/do` with the signed request; verifies the response (HS256
    /// only, header `token` == `properties.token`, header `orgAlias`/`org_alias` ==
    /// `org_alias`, `responseBody.clientData` == the nonce this call put in
    /// `reqBody.clientData`, replacing any `clientData` in `body`); unwraps `responseBody`
    /// (accepting the unwrapped form too). Plain-JSON bodies (starting with `{`) are read for
    /// their error but never trusted for success. The whole call ends by `deadline`.
    pub async fn call(
        &self,
        properties: &Properties,
        op: Operation,
        body: Map<String, Value>,
        now: SystemTime,
        deadline: Deadline,
    ) -> Result<ApiResponse, Error> {
        let nonce = b64url(&random_bytes::<16>());
        let request = request_token(properties, body, &nonce, now);
        let url = format!("{}/rest/4/{}/do", properties.idp_url, op.path());
        let exchange = async {
            let first_until = if op.is_read() {
                tokio::time::Instant::now() + deadline.remaining().mul_f64(FIRST_ATTEMPT_SHARE)
            } else {
                deadline.instant()
            };
            let attempt = |until| self.attempt(properties, &url, &request, &nonce, until);
            match attempt(first_until).await {
                Ok(response) => Ok(response),
                Err(Failure::Final(error)) => Err(error),
                Err(Failure::Transient(error)) => {
                    if !op.is_read() || deadline.remaining() < MIN_ATTEMPT {
                        return Err(error);
                    }
                    tracing::info!(
                        op = op.path(),
                        code = error.code(),
                        "retrying a PingID read once"
                    );
                    attempt(deadline.instant())
                        .await
                        .map_err(Failure::into_error)
                }
            }
        };
        tokio::time::timeout_at(deadline.instant(), exchange)
            .await
            .unwrap_or(Err(Error::UpstreamTimeout))
    }

    async fn attempt(
        &self,
        properties: &Properties,
        url: &str,
        request: &str,
        nonce: &str,
        until: tokio::time::Instant,
    ) -> Result<ApiResponse, Failure> {
        let exchange = async {
            let response = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::ACCEPT, "*/*")
                .body(request.to_string())
                .send()
                .await
                .map_err(transport_error)?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(crate::pingone::errors::parse_retry_after);
            let body = read_body(response).await?;
            Ok::<_, Error>((status, retry_after, body))
        };
        let started = tokio::time::Instant::now();
        let (status, retry_after, body) = match tokio::time::timeout_at(until, exchange).await {
            Err(_elapsed) => return Err(Failure::Transient(Error::UpstreamTimeout)),
            Ok(Err(error)) => return Err(Failure::Transient(error)),
            Ok(Ok(answer)) => answer,
        };
        tracing::debug!(
            url,
            status,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "PingID call"
        );
        match status {
            500..=599 => {
                return Err(Failure::Transient(Error::UpstreamUnavailable(format!(
                    "PingID answered HTTP {status}"
                ))));
            }
            // [I] PingID documents no rate limit; a proxy in front of it may still send one.
            429 => {
                return Err(Failure::Final(Error::RateLimited {
                    retry_after_seconds: retry_after,
                }));
            }
            _ => {}
        }
        let invalid = |reason: &str| Failure::Final(Error::UpstreamInvalid(reason.to_string()));
        let text =
            std::str::from_utf8(&body).map_err(|_| invalid("PingID sent a non-UTF-8 body"))?;
        let text = text.trim();
        if text.starts_with('{') {
            // §3.1: error bodies are sometimes plain JSON. Read them, never believe success.
            let payload: Value =
                serde_json::from_str(text).map_err(|_| invalid("PingID sent malformed JSON"))?;
            classify(status, unwrap_body(payload).map_err(Failure::Final)?, false)
        } else {
            let body = verify_response(properties, text, nonce).map_err(Failure::Final)?;
            classify(status, body, true)
        }
    }
}

/// The signed request (§2): header `{"alg","org_alias","token"}`, payload
/// `{"reqHeader":{…},"reqBody":{…,"clientData":nonce}}` in the documented member order.
fn request_token(
    properties: &Properties,
    mut body: Map<String, Value>,
    nonce: &str,
    now: SystemTime,
) -> String {
    body.insert("clientData".into(), Value::String(nonce.to_string()));
    // serde_json sorts members, which for these two objects is the documented order.
    let header = json!({
        "alg": "HS256",
        "org_alias": properties.org_alias,
        "token": properties.token,
    });
    let req_header = json!({
        "locale": "en",
        "orgAlias": properties.org_alias,
        "secretKey": properties.token,
        "timestamp": format_timestamp(now),
        "version": API_VERSION,
    });
    // Built by hand so reqHeader comes first, as in every example (sorting would swap them).
    let payload = format!(
        r#"{{"reqHeader":{req_header},"reqBody":{}}}"#,
        Value::Object(body)
    );
    jws::sign_json(&header.to_string(), &payload, properties.key.expose())
}

/// Verifies a response JWS (§3.2) and returns its `responseBody`, bound to `nonce`.
fn verify_response(properties: &Properties, token: &str, nonce: &str) -> Result<Value, Error> {
    let invalid = |reason: &str| Error::UpstreamInvalid(reason.to_string());
    let (header, payload) = jws::verify_hs256(token, properties.key.expose())
        .map_err(|e| Error::UpstreamInvalid(format!("PingID response refused: {e}")))?;
    if header.get("token").and_then(Value::as_str) != Some(properties.token.as_str()) {
        return Err(invalid(
            "the PingID response was issued for another client token",
        ));
    }
    // The org member is `org_alias` in older answers and `orgAlias` now (§3.2): one must be
    // present, and every one present must name our org.
    let orgs: Vec<Option<&str>> = ["orgAlias", "org_alias"]
        .iter()
        .filter_map(|name| header.get(*name).map(Value::as_str))
        .collect();
    if orgs.is_empty()
        || orgs
            .iter()
            .any(|org| *org != Some(properties.org_alias.as_str()))
    {
        return Err(invalid("the PingID response was issued for another org"));
    }
    let body = unwrap_body(payload)?;
    if body.get("clientData").and_then(Value::as_str) != Some(nonce) {
        return Err(invalid(
            "the PingID response does not answer this request (clientData mismatch)",
        ));
    }
    Ok(body)
}

/// `responseBody` when present (real responses), else the payload itself (older examples).
fn unwrap_body(payload: Value) -> Result<Value, Error> {
    match payload {
        Value::Object(mut object) => match object.remove("responseBody") {
            Some(body @ Value::Object(_)) => Ok(body),
            Some(_) => Err(Error::UpstreamInvalid(
                "PingID sent a responseBody that is not an object".into(),
            )),
            None => Ok(Value::Object(object)),
        },
        _ => Err(Error::UpstreamInvalid(
            "PingID sent a non-object body".into(),
        )),
    }
}

/// Maps `errorId` (§4) to the outcome or to our error model.
fn classify(status: u16, body: Value, signed: bool) -> Result<ApiResponse, Failure> {
    let error_id = body
        .get("errorId")
        .and_then(Value::as_i64)
        .ok_or_else(|| Failure::Final(Error::UpstreamInvalid("PingID sent no errorId".into())))?;
    let error_msg = body
        .get("errorMsg")
        .and_then(Value::as_str)
        .map(str::to_string);
    let ping_id = Some(error_id.to_string());
    let outcome = match error_id {
        200 => Outcome::Ok,
        30001..=30018 => Outcome::Continue,
        10551 => {
            return Err(Failure::Transient(Error::UpstreamUnavailable(
                "PingID asked to retry the transaction (errorId 10551)".into(),
            )));
        }
        10564 => {
            return Err(Failure::Final(Error::NotFound(
                "the PingID user does not exist".into(),
            )));
        }
        20513 => {
            return Err(Failure::Final(Error::InvalidOtp {
                details: Vec::new(),
                ping_one_error_id: ping_id,
            }));
        }
        20517 => {
            return Err(Failure::Final(Error::InvalidState {
                message: "the PingID session is invalid or has expired".into(),
                details: Vec::new(),
                ping_one_error_id: ping_id,
            }));
        }
        // [I] The undocumented "PingID Service Errors" (§3.4, §11): most likely 500/5xxxx.
        500 | 50_000..=59_999 => {
            return Err(Failure::Transient(Error::UpstreamUnavailable(format!(
                "PingID reported a service error (errorId {error_id})"
            ))));
        }
        _ => {
            return Err(Failure::Final(Error::Rejected {
                message: error_msg
                    .as_deref()
                    .map(sanitise)
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "PingID rejected the request".into()),
                details: Vec::new(),
                ping_one_error_id: ping_id,
            }));
        }
    };
    if !signed {
        return Err(Failure::Final(Error::UpstreamInvalid(
            "PingID sent an unsigned success".into(),
        )));
    }
    if !(200..300).contains(&status) {
        return Err(Failure::Final(Error::UpstreamInvalid(format!(
            "PingID reported success with HTTP {status}"
        ))));
    }
    Ok(ApiResponse {
        error_id,
        error_msg,
        body,
        outcome,
    })
}

/// Upstream text made safe for an error message: no control characters, bounded length.
fn sanitise(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_MESSAGE_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// `yyyy-MM-dd HH:mm:ss.SSS` in UTC (§2.5).
fn format_timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let seconds = since.as_secs();
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let second_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03}",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (era-based conversion over
/// 400-year cycles of 146 097 days, with years starting in March so leap days come last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

/// Describes a transport failure without reqwest's text, which carries the full URL.
fn transport_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::UpstreamTimeout
    } else if error.is_connect() {
        Error::UpstreamUnavailable("could not connect to PingID".into())
    } else {
        Error::UpstreamUnavailable("the connection to PingID failed".into())
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Error::UpstreamInvalid(
                "PingID response body too large".into(),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;
    use axum::extract::{Path, State};
    use axum::http::HeaderMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const ORG: &str = "aaaaaaaa-a1b2-123a-b456-1234abcd5678";
    const TOKEN: &str = "1a2b3c4d5e6f";
    const KEY: [u8; 32] = [0x42; 32];

    /// What the stub service saw: the verified request.
    struct Seen {
        attempt: usize,
        op: String,
        content_type: String,
        header: Value,
        payload: Value,
    }

    impl Seen {
        fn nonce(&self) -> &str {
            self.payload["reqBody"]["clientData"].as_str().unwrap()
        }
    }

    type Script = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

    #[derive(Clone)]
    struct Stub {
        script: Script,
        hits: Arc<AtomicUsize>,
        seen: Arc<std::sync::Mutex<Vec<Seen>>>,
    }

    /// A PingID stand-in on loopback that checks requests and answers as `script` says.
    async fn serve(
        script: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static,
    ) -> (Properties, Stub) {
        async fn handle(
            State(stub): State<Stub>,
            Path(op): Path<String>,
            headers: HeaderMap,
            body: String,
        ) -> (axum::http::StatusCode, String) {
            let Ok((header, payload)) = jws::verify_hs256(&body, &KEY) else {
                return (
                    axum::http::StatusCode::UNAUTHORIZED,
                    r#"{"responseBody":{"errorId":400}}"#.into(),
                );
            };
            let seen = Seen {
                attempt: stub.hits.fetch_add(1, Ordering::SeqCst) + 1,
                op,
                content_type: headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string(),
                header,
                payload,
            };
            let (status, text) = (stub.script)(&seen);
            stub.seen.lock().unwrap().push(seen);
            (axum::http::StatusCode::from_u16(status).unwrap(), text)
        }
        let stub = Stub {
            script: Arc::new(script),
            hits: Arc::new(AtomicUsize::new(0)),
            seen: Arc::default(),
        };
        let app = axum::Router::new()
            .route("/pingid/rest/4/{op}/do", axum::routing::post(handle))
            .with_state(stub.clone());
        let address = crate::test_support::serve(app).await;
        (properties(&format!("http://{address}/pingid")), stub)
    }

    fn properties(idp_url: &str) -> Properties {
        Properties {
            key: Secret::new(KEY.to_vec()),
            token: TOKEN.into(),
            org_alias: ORG.into(),
            idp_url: idp_url.into(),
            authenticator_url: "http://127.0.0.1:1/pingid/ppm".into(),
            admin_url: None,
            use_signature: true,
        }
    }

    /// A response as the real service signs it: `orgAlias` header, `responseBody` wrapper.
    fn signed_with(key: &[u8], header: Value, body: Value) -> String {
        jws::sign_hs256(&header, &json!({ "responseBody": body }), key)
    }

    fn signed(body: Value) -> String {
        signed_with(
            &KEY,
            json!({"alg": "HS256", "orgAlias": ORG, "token": TOKEN}),
            body,
        )
    }

    /// A signed answer echoing the request's nonce.
    fn answer(seen: &Seen, error_id: i64, extra: Value) -> String {
        let mut body = json!({
            "errorId": error_id,
            "errorMsg": "ok",
            "uniqueMsgId": "webs_x",
            "clientData": seen.nonce(),
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        signed(body)
    }

    fn user_body() -> Map<String, Value> {
        json!({"userName": "alice", "getSameDeviceUsers": false})
            .as_object()
            .unwrap()
            .clone()
    }

    async fn call(properties: &Properties, op: Operation) -> Result<ApiResponse, Error> {
        call_within(properties, op, Duration::from_secs(5)).await
    }

    async fn call_within(
        properties: &Properties,
        op: Operation,
        budget: Duration,
    ) -> Result<ApiResponse, Error> {
        let client = PingIdClient::new(PingIdClient::default_http().unwrap());
        let now = UNIX_EPOCH + Duration::from_millis(1_441_281_445_229);
        client
            .call(properties, op, user_body(), now, Deadline::after(budget))
            .await
    }

    #[test]
    fn timestamps_are_utc_in_the_documented_format() {
        let at = |ms: u64| format_timestamp(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(1_441_281_445_229), "2015-09-03 11:57:25.229");
        assert_eq!(at(0), "1970-01-01 00:00:00.000");
        assert_eq!(at(951_782_400_000), "2000-02-29 00:00:00.000");
        assert_eq!(at(4_107_542_399_999), "2100-02-28 23:59:59.999");
    }

    #[tokio::test]
    async fn a_success_is_verified_unwrapped_and_the_request_is_as_documented() {
        let (properties, stub) = serve(|seen| {
            (
                200,
                answer(seen, 200, json!({"userDetails": {"userName": "alice"}})),
            )
        })
        .await;
        let response = call(&properties, Operation::GetUserDetails).await.unwrap();
        assert_eq!(response.outcome, Outcome::Ok);
        assert_eq!(response.error_id, 200);
        assert_eq!(response.error_msg.as_deref(), Some("ok"));
        assert_eq!(response.body["userDetails"]["userName"], "alice");

        let seen = stub.seen.lock().unwrap();
        let seen = &seen[0];
        assert_eq!(seen.op, "getuserdetails");
        assert_eq!(seen.content_type, "application/json");
        assert_eq!(
            seen.header,
            json!({"alg": "HS256", "org_alias": ORG, "token": TOKEN})
        );
        assert_eq!(
            seen.payload["reqHeader"],
            json!({"locale": "en", "orgAlias": ORG, "secretKey": TOKEN,
                   "timestamp": "2015-09-03 11:57:25.229", "version": "4.9"})
        );
        assert_eq!(seen.payload["reqBody"]["userName"], "alice");
        assert_eq!(seen.payload["reqBody"]["getSameDeviceUsers"], false);
        // A 128-bit nonce, base64url.
        assert_eq!(b64url_decode_len(seen.nonce()), 16);
    }

    fn b64url_decode_len(text: &str) -> usize {
        super::super::b64url_decode(text).map_or(0, |b| b.len())
    }

    #[tokio::test]
    async fn the_unwrapped_form_and_the_older_header_member_are_accepted() {
        let (properties, _) = serve(|seen| {
            let header = json!({"alg": "HS256", "org_alias": ORG, "token": TOKEN});
            let body = json!({"errorId": 200, "errorMsg": "", "clientData": seen.nonce()});
            (200, jws::sign_hs256(&header, &body, &KEY))
        })
        .await;
        let response = call(&properties, Operation::AddUser).await.unwrap();
        assert_eq!(response.outcome, Outcome::Ok);
    }

    #[tokio::test]
    async fn a_flow_status_continues() {
        let (properties, _) =
            serve(|seen| (200, answer(seen, 30007, json!({"sessionId": "webs_abc"})))).await;
        let response = call(&properties, Operation::StartAuthentication)
            .await
            .unwrap();
        assert_eq!(
            (response.outcome, response.error_id),
            (Outcome::Continue, 30007)
        );
        assert_eq!(response.body["sessionId"], "webs_abc");
    }

    #[tokio::test]
    async fn an_unknown_user_is_not_found_signed_or_plain() {
        let (properties, _) = serve(|seen| {
            (
                400,
                answer(
                    seen,
                    10564,
                    json!({"errorMsg": "User not exists.", "userDetails": null}),
                ),
            )
        })
        .await;
        let error = call(&properties, Operation::GetUserDetails)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::NotFound(_)), "{error:?}");

        let (properties, stub) = serve(|_| {
            (
                400,
                r#"{"responseBody":{"errorId":10564,"errorMsg":"User not exists."}}"#.into(),
            )
        })
        .await;
        let error = call(&properties, Operation::GetUserDetails)
            .await
            .unwrap_err();
        assert!(matches!(error, Error::NotFound(_)), "{error:?}");
        assert_eq!(
            stub.hits.load(Ordering::SeqCst),
            1,
            "a final error is not retried"
        );
    }

    #[tokio::test]
    async fn a_read_is_retried_once_after_10551() {
        let (properties, stub) = serve(|seen| match seen.attempt {
            1 => (
                400,
                answer(
                    seen,
                    10551,
                    json!({"errorMsg": "Failed transaction. Please retry."}),
                ),
            ),
            _ => (200, answer(seen, 200, json!({}))),
        })
        .await;
        let response = call(&properties, Operation::GetUserDetails).await.unwrap();
        assert_eq!(response.outcome, Outcome::Ok);
        assert_eq!(stub.hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn writes_and_otp_submissions_are_never_retried() {
        for op in [
            Operation::AddUser,
            Operation::AuthOffline,
            Operation::FinalizeOfflinePairing,
        ] {
            let (properties, stub) = serve(|seen| (400, answer(seen, 10551, json!({})))).await;
            let error = call(&properties, op).await.unwrap_err();
            assert_eq!(error.code(), "UPSTREAM_UNAVAILABLE", "{op:?}");
            assert_eq!(stub.hits.load(Ordering::SeqCst), 1, "{op:?}");
        }
        let (properties, stub) = serve(|_| (503, "busy".into())).await;
        let error = call(&properties, Operation::AuthOffline).await.unwrap_err();
        assert!(matches!(error, Error::UpstreamUnavailable(_)));
        assert_eq!(stub.hits.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_read_gets_one_retry_after_a_server_error_then_gives_up() {
        let (properties, stub) = serve(|_| (502, "<html>bad gateway</html>".into())).await;
        let error = call(&properties, Operation::AuthStatus).await.unwrap_err();
        assert!(matches!(error, Error::UpstreamUnavailable(_)), "{error:?}");
        assert_eq!(stub.hits.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn error_ids_map_to_the_stable_codes() {
        let cases = [
            (20513, "INVALID_OTP"),
            (20517, "INVALID_STATE"),
            (10556, "VALIDATION_FAILED"),
            (400, "VALIDATION_FAILED"),
        ];
        for (id, code) in cases {
            let (properties, _) = serve(move |seen| {
                (
                    400,
                    answer(seen, id, json!({"errorMsg": "User already exists.\u{7}"})),
                )
            })
            .await;
            let error = call(&properties, Operation::FinalizeOfflinePairing)
                .await
                .unwrap_err();
            assert_eq!(error.code(), code, "{id}");
            if let Error::Rejected {
                message,
                ping_one_error_id,
                ..
            } = &error
            {
                assert_eq!(message, "User already exists.");
                assert_eq!(ping_one_error_id.as_deref(), Some(id.to_string().as_str()));
            }
        }
    }

    #[tokio::test]
    async fn a_slow_service_times_out_within_the_deadline() {
        async fn slow() -> String {
            tokio::time::sleep(Duration::from_secs(5)).await;
            String::new()
        }
        let app = axum::Router::new().route("/pingid/rest/4/{op}/do", axum::routing::post(slow));
        let address = crate::test_support::serve(app).await;
        let properties = properties(&format!("http://{address}/pingid"));
        let started = tokio::time::Instant::now();
        let error = call_within(&properties, Operation::AddUser, Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::UpstreamTimeout), "{error:?}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn an_unreachable_service_is_unavailable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let properties = properties(&format!("http://{address}/pingid"));
        let error = call(&properties, Operation::AddUser).await.unwrap_err();
        assert!(matches!(error, Error::UpstreamUnavailable(_)), "{error:?}");
    }

    /// Each tampered answer must be refused as UPSTREAM_INVALID, never taken as a success.
    #[tokio::test]
    async fn the_tamper_corpus_is_refused() {
        type Forge = fn(&Seen) -> String;
        let cases: [(&str, Forge); 17] = [
            ("signed with another key", |seen| {
                signed_with(
                    &[7u8; 32],
                    json!({"alg": "HS256", "orgAlias": ORG, "token": TOKEN}),
                    json!({"errorId": 200, "clientData": seen.nonce()}),
                )
            }),
            ("alg none", |seen| {
                let token = signed(json!({"errorId": 200, "clientData": seen.nonce()}));
                let payload = token.split('.').nth(1).unwrap().to_string();
                format!("{}.{payload}.", super::super::b64url(br#"{"alg":"none","orgAlias":"aaaaaaaa-a1b2-123a-b456-1234abcd5678","token":"1a2b3c4d5e6f"}"#))
            }),
            ("alg HS512 header over an HS256 signature", |seen| {
                signed_with(
                    &KEY,
                    json!({"alg": "HS512", "orgAlias": ORG, "token": TOKEN}),
                    json!({"errorId": 200, "clientData": seen.nonce()}),
                )
            }),
            ("flipped signature byte", |seen| {
                let token = signed(json!({"errorId": 200, "clientData": seen.nonce()}));
                let (input, signature) = token.rsplit_once('.').unwrap();
                let mut bytes = super::super::b64url_decode(signature).unwrap();
                bytes[0] ^= 0x80;
                format!("{input}.{}", super::super::b64url(&bytes))
            }),
            ("missing signature", |seen| {
                let token = signed(json!({"errorId": 200, "clientData": seen.nonce()}));
                format!("{}.", token.rsplit_once('.').unwrap().0)
            }),
            ("two parts", |seen| {
                let token = signed(json!({"errorId": 200, "clientData": seen.nonce()}));
                token.rsplit_once('.').unwrap().0.to_string()
            }),
            ("header token is not ours", |seen| {
                signed_with(
                    &KEY,
                    json!({"alg": "HS256", "orgAlias": ORG, "token": "ffffffffffff"}),
                    json!({"errorId": 200, "clientData": seen.nonce()}),
                )
            }),
            ("header org is not ours", |seen| {
                signed_with(
                    &KEY,
                    json!({"alg": "HS256", "orgAlias": "bbbbbbbb-0000-0000-0000-000000000000", "token": TOKEN}),
                    json!({"errorId": 200, "clientData": seen.nonce()}),
                )
            }),
            ("header names two orgs, one not ours", |seen| {
                signed_with(
                    &KEY,
                    json!({"alg": "HS256", "orgAlias": ORG, "org_alias": "other", "token": TOKEN}),
                    json!({"errorId": 200, "clientData": seen.nonce()}),
                )
            }),
            ("header names no org", |seen| {
                signed_with(
                    &KEY,
                    json!({"alg": "HS256", "token": TOKEN}),
                    json!({"errorId": 200, "clientData": seen.nonce()}),
                )
            }),
            ("missing clientData nonce", |_| {
                signed(json!({"errorId": 200, "clientData": null}))
            }),
            ("wrong clientData nonce", |_| {
                signed(json!({"errorId": 200, "clientData": "AAAAAAAAAAAAAAAAAAAAAA"}))
            }),
            ("plain JSON claiming success", |seen| {
                json!({"responseBody": {"errorId": 200, "clientData": seen.nonce()}}).to_string()
            }),
            ("plain JSON claiming a flow status", |seen| {
                json!({"responseBody": {"errorId": 30007, "clientData": seen.nonce()}}).to_string()
            }),
            ("no errorId", |seen| {
                signed(json!({"clientData": seen.nonce()}))
            }),
            ("html instead of a JWS", |_| {
                "<html><body>proxy error</body></html>".into()
            }),
            ("empty body", |_| String::new()),
        ];
        for (name, forge) in cases {
            let (properties, _) = serve(move |seen| (200, forge(seen))).await;
            let error = call(&properties, Operation::AuthStatus).await.unwrap_err();
            assert_eq!(error.code(), "UPSTREAM_INVALID", "{name}: {error:?}");
        }
        // A success with an error HTTP status is not believed either.
        let (properties, _) = serve(|seen| (400, answer(seen, 200, json!({})))).await;
        let error = call(&properties, Operation::AddUser).await.unwrap_err();
        assert_eq!(error.code(), "UPSTREAM_INVALID");
    }
}
