//! Logging: JSON lines in Lambda (each carrying the invocation's `requestId`, from the
//! runtime's span), compact text for the local gateway.
//!
//! The level comes from `RUST_LOG`, else Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`. Whatever
//! either says, only this product's own lines go below `info` ([`allowed`]): below it,
//! `lambda_runtime` prints every raw event (OTPs, PPM responses, the authorizer's bearer token)
//! and the HTTP stacks their frames. The AWS SDK and HTTP crates are held at `warn`: at their
//! trace level they print response bodies, and a `GetSecretValue` body is a secret.

use tracing::Level;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{FilterExt as _, filter_fn};
use tracing_subscriber::layer::{Layer as _, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

/// The crates whose lines may go below `info`: ours, which never log a body, a secret or a
/// passcode at any level.
const OWN_CRATES: &[&str] = &["shared"];

/// The crates held at `warn` whatever the level: the AWS SDK's (they trace requests and answers
/// whole: a secret's value, the session token in the signed headers) and the HTTP stacks'.
const QUIET_CRATES: &[&str] = &[
    "aws_config",
    "aws_runtime",
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_sdk_secretsmanager",
    "aws_sdk_dynamodb",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "reqwest",
];

/// Whether a line or span of `target` at `level` may be written at all. This is a ceiling the
/// level and `RUST_LOG` cannot lift; they only choose below it.
pub fn allowed(target: &str, level: &Level) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    if QUIET_CRATES.contains(&krate) {
        *level <= Level::WARN
    } else {
        OWN_CRATES.contains(&krate) || *level <= Level::INFO
    }
}

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
    let quiet: Vec<String> = QUIET_CRATES
        .iter()
        .map(|krate| format!("{krate}=warn"))
        .collect();
    format!("{level},{}", quiet.join(","))
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
    let ceiling = filter_fn(|metadata| allowed(metadata.target(), metadata.level()));
    let layer = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
            .boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .compact()
            .with_target(false)
            .boxed(),
    };
    let _already_installed = tracing_subscriber::registry()
        .with(layer.with_filter(filter.and(ceiling)))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_lines_go_below_info() {
        assert!(allowed("shared::pingone::client", &Level::TRACE));
        assert!(!allowed("lambda_runtime::runtime", &Level::TRACE));
        assert!(!allowed(
            "lambda_runtime::layers::api_response",
            &Level::DEBUG
        ));
        assert!(allowed("lambda_runtime::layers::trace", &Level::INFO));
        assert!(!allowed("h2::codec", &Level::INFO));
        assert!(!allowed("aws_smithy_runtime::client", &Level::INFO));
        assert!(allowed("aws_smithy_runtime::client", &Level::WARN));
        // A crate whose name only starts like ours is not ours.
        assert!(!allowed("shared_thing", &Level::DEBUG));
    }
}
