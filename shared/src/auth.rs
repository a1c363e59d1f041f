//! Who may call the API: the bearer tokens of the API-tokens secret.
//!
//! Every route but `/health` requires `Authorization: Bearer <token>`. In AWS the check runs in
//! the API's Lambda authorizer (`functions/api-authorizer`) before any capability function is
//! invoked; the local gateway runs the same check in-process. The secret is a JSON object
//! naming each accepted token, so two can be valid at once while a client moves to a new one:
//!
//! ```json
//! {"tokens": {"davinci-2026-11": "<at least 32 characters>", "davinci-2027-05": "<…>"}}
//! ```
//!
//! Only SHA-256 digests of the tokens are kept in memory, and a presented token is compared with
//! every digest without an early exit, so neither timing nor a memory dump of the process gives
//! a token away. The name of the token that matched is the caller's identity in the logs.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// Shortest token accepted in the secret: 32 characters of a random token are ≥ 128 bits
/// (`openssl rand -base64 32` gives 44).
pub const MIN_TOKEN_CHARS: usize = 32;

/// The accepted bearer tokens, by name.
pub struct ApiTokens {
    tokens: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.tokens.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("ApiTokens").field("names", &names).finish()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensSecret {
    tokens: std::collections::BTreeMap<String, String>,
}

impl ApiTokens {
    /// Reads the secret's JSON text. A malformed secret, no token, or a token shorter than
    /// [`MIN_TOKEN_CHARS`] is a configuration error (the message never quotes a token).
    pub fn parse(secret: &str) -> Result<Self, Error> {
        let parsed: TokensSecret = serde_json::from_str(secret).map_err(|_| {
            Error::ConfigUnavailable(
                "the API-tokens secret must be {\"tokens\": {\"<name>\": \"<token>\", …}}".into(),
            )
        })?;
        if parsed.tokens.is_empty() {
            return Err(Error::ConfigUnavailable(
                "the API-tokens secret names no token".into(),
            ));
        }
        let mut tokens = Vec::with_capacity(parsed.tokens.len());
        for (name, token) in parsed.tokens {
            if token.chars().count() < MIN_TOKEN_CHARS {
                return Err(Error::ConfigUnavailable(format!(
                    "API token {name:.64} is shorter than {MIN_TOKEN_CHARS} characters"
                )));
            }
            tokens.push((name, digest(&token)));
        }
        Ok(Self { tokens })
    }

    /// One token (the local gateway's), of any length: it guards a loopback demo only.
    pub fn single(name: &str, token: &str) -> Self {
        Self {
            tokens: vec![(name.to_string(), digest(token))],
        }
    }

    /// The name of the token an `Authorization` header value presents, or `None` when the
    /// header is not `Bearer <an accepted token>`.
    pub fn admit(&self, authorization: &str) -> Option<&str> {
        let presented = bearer(authorization)?;
        let presented = digest(presented);
        // Every digest is compared in full, whatever matched before.
        let mut admitted = None;
        for (name, accepted) in &self.tokens {
            let difference = accepted
                .iter()
                .zip(&presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            if difference == 0 {
                admitted = Some(name.as_str());
            }
        }
        admitted
    }
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 9110 §11.1).
fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURRENT: &str = "cur-0123456789abcdefghijklmnopqrstuv";
    const NEXT: &str = "nxt-0123456789abcdefghijklmnopqrstuv";

    fn tokens() -> ApiTokens {
        ApiTokens::parse(&format!(
            r#"{{"tokens": {{"davinci": "{CURRENT}", "davinci-next": "{NEXT}"}}}}"#
        ))
        .unwrap()
    }

    #[test]
    fn each_named_token_is_admitted_under_its_name() {
        let tokens = tokens();
        assert_eq!(tokens.admit(&format!("Bearer {CURRENT}")), Some("davinci"));
        assert_eq!(
            tokens.admit(&format!("bearer {NEXT}")),
            Some("davinci-next")
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let tokens = tokens();
        for header in [
            String::new(),
            "Bearer".to_string(),
            "Bearer ".to_string(),
            CURRENT.to_string(),
            format!("Basic {CURRENT}"),
            format!("Bearer {}", &CURRENT[..CURRENT.len() - 1]),
            format!("Bearer {CURRENT}x"),
            format!("Bearer {}", CURRENT.to_uppercase()),
        ] {
            assert_eq!(tokens.admit(&header), None, "{header:?}");
        }
    }

    #[test]
    fn a_weak_or_malformed_secret_is_a_configuration_error_that_quotes_no_token() {
        for secret in [
            r#"{"tokens": {"short": "0123456789"}}"#,
            r#"{"tokens": {}}"#,
            r#"{"tokens": ["0123456789abcdefghijklmnopqrstuvwxyz"]}"#,
            r#"{"token": {"a": "0123456789abcdefghijklmnopqrstuvwxyz"}}"#,
            "0123456789abcdefghijklmnopqrstuvwxyz",
        ] {
            let error = ApiTokens::parse(secret).unwrap_err();
            assert_eq!(error.code(), "CONFIG_UNAVAILABLE", "{secret}");
            assert!(!error.to_string().contains("0123456789"), "{error}");
        }
    }

    #[test]
    fn debug_shows_names_only() {
        let shown = format!("{:?}", tokens());
        assert!(shown.contains("davinci-next"));
        assert!(!shown.contains(CURRENT) && !shown.contains(NEXT));
    }
}
