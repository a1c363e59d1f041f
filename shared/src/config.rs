//! Process configuration, read once at init from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PINGONE_CONNECTION_SECRET_ID` | Secrets Manager id/ARN of the PingOne connection secret | `pingone-connection` |
//! | `PINGID_SECRETS_FILE` | read secrets from this JSON file instead of Secrets Manager (local runs) | unset |
//! | `PINGONE_BASE_URL` | send every PingOne call to this server (the simulator) | the region's hosts |
//! | `PINGID_TIME_BUDGET_MS` | time budget of one call | 5000 |
//! | `PINGID_SECRET_TTL_SECONDS` | how long a secret is kept in memory (≤ 300) | 300 |

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::budget::DEFAULT_BUDGET;
use crate::capability::Ports;
use crate::error::Error;
use crate::pingone::PingOneClient;
use crate::secrets::{MAX_TTL, SecretCache, SecretSource, SecretsFile, SecretsManager};

/// Settings of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Id of the PingOne connection secret.
    pub connection_secret_id: String,
    /// Local secrets file, instead of Secrets Manager.
    pub secrets_file: Option<PathBuf>,
    /// PingOne base URL override (simulator).
    pub pingone_base_url: Option<String>,
    /// Time budget of one call.
    pub budget: Duration,
    /// Secret cache TTL.
    pub secret_ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connection_secret_id: "pingone-connection".to_string(),
            secrets_file: None,
            pingone_base_url: None,
            budget: DEFAULT_BUDGET,
            secret_ttl: MAX_TTL,
        }
    }
}

impl Settings {
    /// Reads the variables of the table above; a malformed value is an init error.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Settings::from_env`], over any variable lookup (testable without touching the
    /// process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let defaults = Settings::default();
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let millis = |name: &str, default: Duration, unit_ms: u64| -> Result<Duration, Error> {
            match non_empty(name) {
                None => Ok(default),
                Some(text) => text
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|value| *value > 0)
                    .map(|value| Duration::from_millis(value * unit_ms))
                    .ok_or_else(|| {
                        Error::ConfigUnavailable(format!("{name} must be a positive whole number"))
                    }),
            }
        };
        Ok(Self {
            connection_secret_id: non_empty("PINGONE_CONNECTION_SECRET_ID")
                .unwrap_or(defaults.connection_secret_id),
            secrets_file: non_empty("PINGID_SECRETS_FILE").map(PathBuf::from),
            pingone_base_url: non_empty("PINGONE_BASE_URL"),
            budget: millis("PINGID_TIME_BUDGET_MS", defaults.budget, 1)?,
            secret_ttl: millis("PINGID_SECRET_TTL_SECONDS", defaults.secret_ttl, 1000)?
                .min(MAX_TTL),
        })
    }

    /// Builds the ports (clients and caches) once, for every invocation of the process.
    pub async fn ports(&self) -> Result<Ports, Error> {
        let source: Box<dyn SecretSource> = match &self.secrets_file {
            Some(path) => Box::new(SecretsFile::new(path)),
            None => Box::new(SecretsManager::from_env().await),
        };
        let secrets = Arc::new(SecretCache::new(source, self.secret_ttl));
        let pingone = PingOneClient::new(
            secrets,
            self.connection_secret_id.clone(),
            self.pingone_base_url.as_deref(),
        )?;
        Ok(Ports {
            pingone: Arc::new(pingone),
            budget: self.budget,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, Error> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(settings(&[]).unwrap(), Settings::default());
    }

    #[test]
    fn every_variable_is_read() {
        let read = settings(&[
            ("PINGONE_CONNECTION_SECRET_ID", "arn:aws:secretsmanager:x"),
            ("PINGID_SECRETS_FILE", "/tmp/s.json"),
            ("PINGONE_BASE_URL", "http://127.0.0.1:3001"),
            ("PINGID_TIME_BUDGET_MS", "2500"),
            ("PINGID_SECRET_TTL_SECONDS", "900"),
        ])
        .unwrap();
        assert_eq!(read.connection_secret_id, "arn:aws:secretsmanager:x");
        assert_eq!(read.secrets_file, Some(PathBuf::from("/tmp/s.json")));
        assert_eq!(
            read.pingone_base_url.as_deref(),
            Some("http://127.0.0.1:3001")
        );
        assert_eq!(read.budget, Duration::from_millis(2500));
        assert_eq!(read.secret_ttl, MAX_TTL, "capped at five minutes");
    }

    #[test]
    fn malformed_numbers_fail_init_with_the_variable_named() {
        for bad in ["soon", "-1", "0"] {
            let error = settings(&[("PINGID_TIME_BUDGET_MS", bad)]).unwrap_err();
            assert!(error.to_string().contains("PINGID_TIME_BUDGET_MS"), "{bad}");
        }
    }
}
