//! `baseline-echo`: a Lambda function that returns its event unchanged.
//!
//! It is the floor every capability is measured against (same runtime crate, same release
//! profile, same logging set-up, no work), and the binary the e2e harness tests itself with.
//!
//! One escape hatch exists so the harness can exercise the Runtime API's error path: an event
//! object carrying a string `"echoError"` fails the invocation with `errorType` `EchoError` and
//! that string as `errorMessage`. Checking one key of an object costs nothing measurable.

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::Value;

/// Returns the event, or fails with `EchoError` when asked to.
async fn echo(event: LambdaEvent<Value>) -> Result<Value, Diagnostic> {
    match event.payload.get("echoError").and_then(Value::as_str) {
        Some(message) => Err(Diagnostic {
            error_type: "EchoError".to_owned(),
            error_message: message.to_owned(),
        }),
        None => Ok(event.payload),
    }
}

// Same runtime flavour as the capability functions, so the floor is like for like.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL like the capability functions do.
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(echo)).await
}
