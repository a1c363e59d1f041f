//! Logging: JSON lines in Lambda (each carrying the invocation's `requestId`, from the
//! runtime's span), compact text for the local gateway.
//!
//! The level comes from `RUST_LOG`, else Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`. Unless
//! `RUST_LOG` says otherwise, the AWS SDK and HTTP stacks are held at `warn`: at their trace
//! level they print response bodies, and a `GetSecretValue` body is a secret.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, with the current span's fields (Lambda).
    Json,
    /// Human-readable lines (local runs).
    Text,
}

/// The filter directives in force for `level` when `RUST_LOG` is not set.
pub fn default_directives(level: &str) -> String {
    // The SDK's crates trace requests and answers whole (a secret's value, the session token
    // in the signed headers): never below warn.
    format!(
        "{level},aws_config=warn,aws_runtime=warn,aws_sigv4=warn,aws_smithy_runtime=warn,\
         aws_smithy_runtime_api=warn,aws_smithy_http=warn,aws_sdk_secretsmanager=warn,\
         aws_sdk_dynamodb=warn,hyper=warn,hyper_util=warn,h2=warn,rustls=warn,reqwest=warn"
    )
}

/// Installs the global subscriber (a second call is a no-op, which tests rely on).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
            .map(|level| level.to_ascii_lowercase())
            .unwrap_or_else(|_| "info".to_string());
        EnvFilter::try_new(default_directives(&level))
            .unwrap_or_else(|_| EnvFilter::new(default_directives("info")))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _already_installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}
