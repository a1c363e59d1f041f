//! An in-test emulator of the AWS Lambda Runtime API (version 2018-06-01).
//!
//! It serves the four endpoints a custom runtime such as `lambda_runtime` uses, on
//! `127.0.0.1:<free port>`:
//! - `GET  /2018-06-01/runtime/invocation/next` — long-polls until an event is queued, then
//!   returns it with the `Lambda-Runtime-*` headers;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` — the invocation's result;
//! - `POST /2018-06-01/runtime/invocation/{id}/error` — the invocation failed;
//! - `POST /2018-06-01/runtime/init/error` — the function could not initialise.
//!
//! Like the Lambda service, it hands out one event per `next` call, in queue order.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::Invocation;

/// The function timeout the deadline header announces; the same as `Timeout` in
/// `template.yaml`'s Globals, so functions see the time budget they get in AWS.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest request or response payload, as in Lambda's synchronous invocation limit.
const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// The region and account that appear in the emulated function ARN.
const REGION: &str = "us-east-1";
const ACCOUNT_ID: &str = "123456789012";

/// What the runtime reported about its initialisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitState {
    /// No `next` call and no init error yet: the function is still starting.
    Starting,
    /// The runtime asked for its first event, so initialisation finished.
    Ready,
    /// The runtime posted to `/runtime/init/error`.
    Failed {
        /// `errorType` of the report.
        error_type: String,
        /// `errorMessage` of the report.
        error_message: String,
    },
}

/// A queued invocation whose result has not arrived yet.
pub struct PendingInvocation {
    /// The `Lambda-Runtime-Aws-Request-Id` the function will see.
    pub request_id: String,
    /// Resolves with the function's response or error.
    pub result: oneshot::Receiver<Answer>,
}

/// The outcome of one invocation, as the Runtime API saw it.
#[derive(Debug)]
pub struct Answer {
    /// The function's response or error.
    pub invocation: Invocation,
    /// From handing the event out (`next`) to receiving the result: the handler's time as
    /// Lambda bills it, without the wait in the queue.
    pub handler_time: Duration,
}

/// A running Runtime API emulator; the server stops when this is dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<ApiState>,
    server: JoinHandle<()>,
}

/// An event waiting for the runtime's next `next` call.
struct Queued {
    request_id: String,
    event: Value,
    reply: oneshot::Sender<Answer>,
}

struct ApiState {
    function_arn: String,
    queue_tx: mpsc::UnboundedSender<Queued>,
    /// Behind an async mutex so that only one `next` call waits on the queue at a time.
    queue_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<Queued>>,
    /// Reply channels of events handed out and not yet answered, with when they were handed
    /// out, by request id.
    in_flight: Mutex<HashMap<String, (oneshot::Sender<Answer>, Instant)>>,
    init: watch::Sender<InitState>,
    /// When the runtime first asked for an event: the end of its init phase.
    ready_at: std::sync::OnceLock<Instant>,
    /// Hand out one trace id for every event instead of a new one each (see
    /// [`RuntimeApi::fix_trace_id`]).
    fixed_trace_id: std::sync::OnceLock<String>,
}

impl RuntimeApi {
    /// From now on every event carries the same trace id. Lambda gives each invocation its own;
    /// the benchmark's control run uses one to show what the runtime's per-invocation
    /// `setenv("_X_AMZN_TRACE_ID")` does to memory (`bench/ANALYSIS.md`).
    pub fn fix_trace_id(&self) {
        let _ = self.state.fixed_trace_id.set(trace_id());
    }

    /// Starts the emulator for a function called `function_name` on a free loopback port.
    pub async fn start(function_name: &str) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding the Runtime API emulator")?;
        let addr = listener.local_addr()?;
        let (queue_tx, queue_rx) = mpsc::unbounded_channel();
        let state = Arc::new(ApiState {
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"),
            queue_tx,
            queue_rx: tokio::sync::Mutex::new(queue_rx),
            in_flight: Mutex::new(HashMap::new()),
            init: watch::Sender::new(InitState::Starting),
            ready_at: std::sync::OnceLock::new(),
            fixed_trace_id: std::sync::OnceLock::new(),
        });

        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{request_id}/response",
                post(response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{request_id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .layer(DefaultBodyLimit::max(MAX_PAYLOAD_BYTES))
            .with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            // Only fails if the listener breaks; the invocation then times out with a message.
            let _ = axum::serve(listener, router).await;
        });

        Ok(Self {
            addr,
            state,
            server,
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API` (`host:port`, no scheme).
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The ARN sent in `Lambda-Runtime-Invoked-Function-Arn`.
    pub fn function_arn(&self) -> &str {
        &self.state.function_arn
    }

    /// Queues `event` for the runtime's next `next` call.
    pub fn enqueue(&self, event: Value) -> PendingInvocation {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (reply, result) = oneshot::channel();
        // The receiver lives in `self.state`, so the send cannot fail while `self` exists.
        let _ = self.state.queue_tx.send(Queued {
            request_id: request_id.clone(),
            event,
            reply,
        });
        PendingInvocation { request_id, result }
    }

    /// What the runtime has reported about its initialisation so far.
    pub fn init_state(&self) -> InitState {
        self.state.init.borrow().clone()
    }

    /// When the runtime first called `next` (taken as the request arrived, so a slow test
    /// task does not lengthen a measured init), if it has.
    pub fn ready_at(&self) -> Option<Instant> {
        self.state.ready_at.get().copied()
    }

    /// Resolves once initialisation has finished or failed, returning the outcome.
    pub async fn initialised(&self) -> InitState {
        let mut init = self.state.init.subscribe();
        // `wait_for` only fails when the sender is dropped, and `self.state` holds it.
        match init.wait_for(|state| *state != InitState::Starting).await {
            Ok(state) => state.clone(),
            Err(_) => InitState::Starting,
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `GET /runtime/invocation/next`: waits for an event and hands it to the runtime.
async fn next(State(state): State<Arc<ApiState>>) -> Response {
    state.ready_at.get_or_init(Instant::now);
    state.init.send_if_modified(|init| {
        let first_call = *init == InitState::Starting;
        if first_call {
            *init = InitState::Ready;
        }
        first_call
    });

    let queued = state.queue_rx.lock().await.recv().await;
    let Some(queued) = queued else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let body = match serde_json::to_vec(&queued.event) {
        Ok(body) => body,
        Err(error) => {
            let _ = queued.reply.send(Answer {
                invocation: Invocation::Error {
                    error_type: "Harness.InvalidEvent".to_owned(),
                    error_message: error.to_string(),
                },
                handler_time: Duration::ZERO,
            });
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };

    let deadline_ms = (SystemTime::now() + FUNCTION_TIMEOUT)
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let lambda_headers = [
        ("lambda-runtime-aws-request-id", queued.request_id.clone()),
        ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            state.function_arn.clone(),
        ),
        (
            "lambda-runtime-trace-id",
            state.fixed_trace_id.get().cloned().unwrap_or_else(trace_id),
        ),
    ];
    for (name, value) in lambda_headers {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(name, value);
        }
    }

    state
        .in_flight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(queued.request_id, (queued.reply, Instant::now()));
    (StatusCode::OK, headers, body).into_response()
}

/// `POST /runtime/invocation/{id}/response`.
async fn response(
    State(state): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    body: Bytes,
) -> Response {
    // Lambda passes any payload through; ours are JSON, and a non-JSON payload is kept as a
    // JSON string so a test comparing objects fails visibly instead of the harness erroring.
    let payload = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    complete(&state, &request_id, Invocation::Response(payload))
}

/// The body of an `/error` report, as `lambda_runtime` and the other runtimes send it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorReport {
    error_type: Option<String>,
    error_message: Option<String>,
}

/// Reads an error report, falling back to the `Lambda-Runtime-Function-Error-Type` header and
/// the raw body when the body is not the usual JSON.
fn error_report(headers: &HeaderMap, body: &Bytes) -> (String, String) {
    let report: ErrorReport = serde_json::from_slice(body).unwrap_or_default();
    let error_type = report
        .error_type
        .or_else(|| {
            headers
                .get("lambda-runtime-function-error-type")
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Unknown".to_owned());
    let error_message = report
        .error_message
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    (error_type, error_message)
}

/// `POST /runtime/invocation/{id}/error`.
async fn invocation_error(
    State(state): State<Arc<ApiState>>,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (error_type, error_message) = error_report(&headers, &body);
    complete(
        &state,
        &request_id,
        Invocation::Error {
            error_type,
            error_message,
        },
    )
}

/// `POST /runtime/init/error`.
async fn init_error(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (error_type, error_message) = error_report(&headers, &body);
    state.init.send_replace(InitState::Failed {
        error_type,
        error_message,
    });
    accepted()
}

/// Delivers the result of `request_id` to whoever queued it.
fn complete(state: &ApiState, request_id: &str, result: Invocation) -> Response {
    let reply = state
        .in_flight
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(request_id);
    match reply {
        Some((reply, handed_out)) => {
            // The caller may have timed out and gone; Lambda accepts the result regardless.
            let _ = reply.send(Answer {
                invocation: result,
                handler_time: handed_out.elapsed(),
            });
            accepted()
        }
        // What the real Runtime API answers for an unknown or already-answered request id.
        None => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({
                "errorType": "InvalidRequestID",
                "errorMessage": format!("Invalid request ID: {request_id}"),
            })),
        )
            .into_response(),
    }
}

/// `202 Accepted` with the body the real Runtime API sends.
fn accepted() -> Response {
    (StatusCode::ACCEPTED, axum::Json(json!({"status": "OK"}))).into_response()
}

/// An X-Ray trace header in the format Lambda sends.
fn trace_id() -> String {
    let epoch_seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let random = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{epoch_seconds:08x}-{};Parent={};Sampled=0",
        &random[..24],
        &parent[..16]
    )
}
