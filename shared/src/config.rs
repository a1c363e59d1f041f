//! Process configuration, read once at init from the environment.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `PINGONE_CONNECTION_SECRET_ID` | Secrets Manager id/ARN of the PingOne connection secret | `pingone-connection` |
//! | `PINGID_SECRETS_FILE` | read secrets from this JSON file instead of Secrets Manager (local runs) | unset |
//! | `PINGONE_BASE_URL` | send every PingOne call to this server (the simulator) | the region's hosts |
//! | `PINGONE_REGION` | the only PingOne region the connection secret may name (`NA`, `EU`, `CA`, `AU`, `SG`, `AP`) | any |
//! | `PINGID_TIME_BUDGET_MS` | time budget of one call | 5000 |
//! | `PINGID_ALLOW_ACTIVE_ENROLLMENT_FROM_EVENTS` | whether an enrollment event (SQS, EventBridge) may create an `ACTIVE` device | `false` |
//! | `PINGID_ALLOW_TEST_MODE` | whether a request may ask for test mode (passcodes answered in `test.otp` instead of sent) | `false` |
//! | `PINGID_SECRET_STALE_SECONDS` | how long past its TTL a secret's last good value is served while Secrets Manager is down | 3600 |
//! | `PINGID_SECRET_TTL_SECONDS` | how long a secret is kept in memory (≤ 300) | 300 |
//! | `PINGID_PROPERTIES_SECRET_ID` | secret holding the legacy `pingid.properties` text; set only for the legacy functions | unset |
//! | `PINGID_USED_ONCE_TABLE` | DynamoDB table recording used PPM responses and passwordless contexts | unset: per-process record |
//! | `PINGID_LEGACY_RETURN_URL` | the legacy return URL when a request gives no `skRedirectUri` (https, or `http://localhost`) | unset |
//! | `PINGID_LEGACY_RETURN_HOSTS` | comma-separated hosts a legacy return URL may be on | unset: any |
//! | `PINGID_ALLOW_INLINE_PROPERTIES` | `true` lets requests carry `customAuth.pingIdProperties` | `false` |
//! | `PINGID_LIMITS_TABLE` | DynamoDB table of the per-user counters ([`crate::limits`]) | unset: per-process counters |
//! | `PINGID_LIMIT_PUSHES`, `PINGID_LIMIT_SMS_VOICE`, `PINGID_LIMIT_EMAILS`, `PINGID_LIMIT_OTP_CHECKS` | per-user limits, `<count>/<seconds>` or `off` | `3/300`, `5/3600`, `10/3600`, `10/900` |
//! | `PINGID_ONE_TIME_DESTINATIONS` | where one-time devices may send: `profile`, `any` or `off` | `profile` |
//! | `PINGID_POLICY_SECRET_ID` | secret holding the PingID policy document ([`crate::policy`]); set for `evalPolicyPingID` | unset |
//! | `PINGID_POLICY_SOURCE` | `secret`: the document is the policy secret's; `pingid`: read from the legacy tenant's PingID policy API with the properties file (the policy secret, if set, adds its `countryIpRanges`) | `secret` |
//! | `PINGID_POLICY_FILE` | read the policy document from this file instead (local runs; edits apply at once) | unset |
//! | `PINGID_JOURNEY_SECRET_ID` | secret holding the key material (≥ 32 characters) the journeys seal their continuations with ([`crate::journey`]); set for the two journey functions | unset |
//! | `PINGID_API_TOKENS_SECRET_ID` | the API's bearer tokens (`shared::auth`); read by the authorizer only | unset |
//! | `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT_URL`, … | the AWS SDK's own variables ([`crate::sdk`]) | Lambda's |

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::budget::DEFAULT_BUDGET;
use crate::capability::Ports;
use crate::error::Error;
use crate::journey::JourneyPorts;
use crate::legacy::flow::is_return_url;
use crate::legacy::{DynamoUsedOnce, LegacyPorts, MemoryUsedOnce, SecretProperties, UsedOnce};
use crate::limits::{
    Counters, DynamoCounters, Kind, Limit, Limits, MemoryCounters, OneTimeDestinations, UserLimits,
};
use crate::pingid::PingIdClient;
use crate::pingone::{PingOneClient, Region};
use crate::policy::{FilePolicy, PingIdPolicy, PolicySource, PolicyStore, SecretPolicy};

/// The longest a read of the PingID policy API may take: an evaluation waiting on it still
/// answers within its budget (from the last valid document, when the read fails).
const POLICY_READ_BUDGET: Duration = Duration::from_secs(2);
use crate::sdk::AwsSettings;
use crate::secrets::{
    DEFAULT_STALE_LIMIT, MAX_TTL, SecretCache, SecretSource, SecretsFile, SecretsManager,
};

/// Settings of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Id of the PingOne connection secret.
    pub connection_secret_id: String,
    /// Local secrets file, instead of Secrets Manager.
    pub secrets_file: Option<PathBuf>,
    /// PingOne base URL override (simulator).
    pub pingone_base_url: Option<String>,
    /// The region the connection secret must name.
    pub pingone_region: Option<Region>,
    /// Time budget of one call.
    pub budget: Duration,
    /// Secret cache TTL.
    pub secret_ttl: Duration,
    /// How long past its TTL a secret's last good value is served while the store is down.
    pub secret_stale: Duration,
    /// Id of the legacy `pingid.properties` secret.
    pub properties_secret_id: Option<String>,
    /// DynamoDB table of used single-use tokens.
    pub used_once_table: Option<String>,
    /// Default legacy return URL.
    pub legacy_return_url: Option<String>,
    /// The hosts a legacy return URL may be on (empty: any).
    pub legacy_return_hosts: Vec<String>,
    /// Whether requests may carry their own properties file.
    pub allow_inline_properties: bool,
    /// Whether an enrollment event may create an `ACTIVE` device.
    pub allow_active_from_events: bool,
    /// Whether requests may ask for test mode.
    pub allow_test_mode: bool,
    /// Id of the API-tokens secret (the authorizer's).
    pub api_tokens_secret_id: Option<String>,
    /// `PINGID_JOURNEY_SECRET_ID`.
    pub journey_secret_id: Option<String>,
    /// The per-user limits.
    pub limits: Limits,
    /// DynamoDB table of the per-user counters.
    pub limits_table: Option<String>,
    /// Id of the secret holding the PingID policy document.
    pub policy_secret_id: Option<String>,
    /// A file holding the policy document, instead of the secret (local runs).
    pub policy_file: Option<PathBuf>,
    /// Whether the policy document is read from the PingID policy API (legacy tenants).
    pub policy_from_pingid: bool,
    /// Where one-time devices may send.
    pub one_time_destinations: OneTimeDestinations,
    /// What the AWS SDK's loader is told rather than left to find ([`crate::sdk`]).
    pub aws: AwsSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            connection_secret_id: "pingone-connection".to_string(),
            secrets_file: None,
            pingone_base_url: None,
            pingone_region: None,
            budget: DEFAULT_BUDGET,
            secret_ttl: MAX_TTL,
            secret_stale: DEFAULT_STALE_LIMIT,
            properties_secret_id: None,
            used_once_table: None,
            legacy_return_url: None,
            legacy_return_hosts: Vec::new(),
            allow_inline_properties: false,
            allow_active_from_events: false,
            allow_test_mode: false,
            api_tokens_secret_id: None,
            journey_secret_id: None,
            policy_secret_id: None,
            policy_file: None,
            policy_from_pingid: false,
            limits: Limits::default(),
            limits_table: None,
            one_time_destinations: OneTimeDestinations::default(),
            aws: AwsSettings::default(),
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
        let settings = Self {
            connection_secret_id: non_empty("PINGONE_CONNECTION_SECRET_ID")
                .unwrap_or(defaults.connection_secret_id),
            secrets_file: non_empty("PINGID_SECRETS_FILE").map(PathBuf::from),
            pingone_base_url: non_empty("PINGONE_BASE_URL"),
            pingone_region: match non_empty("PINGONE_REGION") {
                None => None,
                Some(text) => Some(Region::parse(&text).ok_or_else(|| {
                    Error::ConfigUnavailable(
                        "PINGONE_REGION must be NA, EU, CA, AU, SG or AP".into(),
                    )
                })?),
            },
            budget: millis("PINGID_TIME_BUDGET_MS", defaults.budget, 1)?,
            secret_ttl: millis("PINGID_SECRET_TTL_SECONDS", defaults.secret_ttl, 1000)?
                .min(MAX_TTL),
            secret_stale: millis("PINGID_SECRET_STALE_SECONDS", defaults.secret_stale, 1000)?,
            properties_secret_id: non_empty("PINGID_PROPERTIES_SECRET_ID"),
            used_once_table: non_empty("PINGID_USED_ONCE_TABLE"),
            legacy_return_url: match non_empty("PINGID_LEGACY_RETURN_URL") {
                Some(url) if !is_return_url(&url) => {
                    return Err(Error::ConfigUnavailable(
                        "PINGID_LEGACY_RETURN_URL must be an https URL (or http://localhost)"
                            .into(),
                    ));
                }
                url => url,
            },
            legacy_return_hosts: non_empty("PINGID_LEGACY_RETURN_HOSTS")
                .map(|hosts| {
                    hosts
                        .split(',')
                        .map(|host| host.trim().to_ascii_lowercase())
                        .filter(|host| !host.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            allow_inline_properties: match non_empty("PINGID_ALLOW_INLINE_PROPERTIES").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => {
                    return Err(Error::ConfigUnavailable(
                        "PINGID_ALLOW_INLINE_PROPERTIES must be true or false".into(),
                    ));
                }
            },
            allow_active_from_events: match non_empty("PINGID_ALLOW_ACTIVE_ENROLLMENT_FROM_EVENTS")
                .as_deref()
            {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => {
                    return Err(Error::ConfigUnavailable(
                        "PINGID_ALLOW_ACTIVE_ENROLLMENT_FROM_EVENTS must be true or false".into(),
                    ));
                }
            },
            allow_test_mode: match non_empty("PINGID_ALLOW_TEST_MODE").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => {
                    return Err(Error::ConfigUnavailable(
                        "PINGID_ALLOW_TEST_MODE must be true or false".into(),
                    ));
                }
            },
            api_tokens_secret_id: non_empty("PINGID_API_TOKENS_SECRET_ID"),
            journey_secret_id: non_empty("PINGID_JOURNEY_SECRET_ID"),
            policy_secret_id: non_empty("PINGID_POLICY_SECRET_ID"),
            policy_file: non_empty("PINGID_POLICY_FILE").map(PathBuf::from),
            policy_from_pingid: match non_empty("PINGID_POLICY_SOURCE").as_deref() {
                None | Some("secret") => false,
                Some("pingid") => true,
                Some(_) => {
                    return Err(Error::ConfigUnavailable(
                        "PINGID_POLICY_SOURCE must be secret or pingid".into(),
                    ));
                }
            },
            limits: {
                let mut limits = defaults.limits;
                for kind in Kind::ALL {
                    if let Some(text) = non_empty(kind.variable()) {
                        let limit = Limit::parse(&text).map_err(|problem| {
                            Error::ConfigUnavailable(format!("{} {problem}", kind.variable()))
                        })?;
                        limits.set(kind, limit);
                    }
                }
                limits
            },
            limits_table: non_empty("PINGID_LIMITS_TABLE"),
            one_time_destinations: match non_empty("PINGID_ONE_TIME_DESTINATIONS") {
                None => defaults.one_time_destinations,
                Some(text) => OneTimeDestinations::parse(&text).ok_or_else(|| {
                    Error::ConfigUnavailable(
                        "PINGID_ONE_TIME_DESTINATIONS must be profile, any or off".into(),
                    )
                })?,
            },
            aws: AwsSettings::from_lookup(non_empty),
        };
        // In Lambda every sandbox is a process of its own: a spent PPM response or
        // passwordless context remembered in one process's memory could be replayed on
        // another. Refusing to start is the only safe answer there.
        let in_lambda = non_empty("AWS_LAMBDA_FUNCTION_NAME").is_some();
        if in_lambda
            && (settings.properties_secret_id.is_some() || settings.journey_secret_id.is_some())
            && settings.used_once_table.is_none()
        {
            return Err(Error::ConfigUnavailable(
                "PINGID_USED_ONCE_TABLE must name the single-use table of the legacy and journey \
                 functions in Lambda"
                    .into(),
            ));
        }
        Ok(settings)
    }

    /// The secret cache over Secrets Manager (or the local secrets file), built once per
    /// process, and the AWS SDK configuration it loaded (`None` for a secrets file), from which
    /// the DynamoDB client is built too.
    pub async fn secrets(
        &self,
    ) -> Result<(Arc<SecretCache>, Option<aws_config::SdkConfig>), Error> {
        let (source, aws): (Box<dyn SecretSource>, _) = match &self.secrets_file {
            Some(path) => (Box::new(SecretsFile::new(path)), None),
            None => {
                let config = crate::sdk::load(&self.aws).await?;
                let client = aws_sdk_secretsmanager::Client::new(&config);
                (Box::new(SecretsManager::new(client)), Some(config))
            }
        };
        let cache = SecretCache::new(source, self.secret_ttl).with_stale_limit(self.secret_stale);
        Ok((Arc::new(cache), aws))
    }

    /// Builds the ports (clients and caches) once, for every invocation of the process.
    pub async fn ports(&self) -> Result<Ports, Error> {
        let (secrets, aws) = self.secrets().await?;
        let pingone = PingOneClient::new(
            secrets.clone(),
            self.connection_secret_id.clone(),
            self.pingone_base_url.as_deref(),
        )?
        .pinned_to(self.pingone_region);
        // One record of spent tokens for the process, built only where something spends them.
        let used = match (&self.properties_secret_id, &self.journey_secret_id) {
            (None, None) => None,
            _ => Some(self.used_once(aws.as_ref())?),
        };
        let legacy = match (&self.properties_secret_id, &used) {
            (Some(secret_id), Some(used)) => Some(LegacyPorts {
                properties: Arc::new(SecretProperties::new(secrets.clone(), secret_id.clone())),
                used: used.clone(),
                return_url: self.legacy_return_url.clone(),
                return_hosts: self.legacy_return_hosts.clone(),
                allow_inline_properties: self.allow_inline_properties,
            }),
            _ => None,
        };
        let journeys = match (&self.journey_secret_id, used) {
            (Some(secret_id), Some(used)) => Some(JourneyPorts {
                secrets: secrets.clone(),
                secret_id: secret_id.clone(),
                used,
            }),
            _ => None,
        };
        let policies = self.policies(&secrets, legacy.as_ref())?;
        Ok(Ports {
            pingone: Arc::new(pingone),
            budget: self.budget,
            legacy,
            allow_active_from_events: self.allow_active_from_events,
            allow_test_mode: self.allow_test_mode,
            limits: UserLimits::new(self.limits, self.counters(aws.as_ref())?),
            one_time_destinations: self.one_time_destinations,
            policies,
            journeys,
        })
    }

    /// The policy document's source: a file (local runs), the PingID policy API of a legacy
    /// tenant (`PINGID_POLICY_SOURCE=pingid`, with the properties secret; the policy secret, if
    /// any, gives its country table), or the policy secret.
    fn policies(
        &self,
        secrets: &Arc<SecretCache>,
        legacy: Option<&LegacyPorts>,
    ) -> Result<Option<Arc<PolicyStore>>, Error> {
        let secret = |id: &String| -> Box<dyn PolicySource> {
            Box::new(SecretPolicy::new(secrets.clone(), id.clone()))
        };
        let source: Box<dyn PolicySource> = match (&self.policy_file, self.policy_from_pingid) {
            (Some(path), _) => Box::new(FilePolicy::new(path.clone())),
            (None, true) => {
                let legacy = legacy.ok_or_else(|| {
                    Error::ConfigUnavailable(
                        "PINGID_POLICY_SOURCE=pingid needs PINGID_PROPERTIES_SECRET_ID".into(),
                    )
                })?;
                Box::new(PingIdPolicy::new(
                    legacy.properties.clone(),
                    PingIdClient::new(PingIdClient::default_http()?),
                    self.secret_ttl,
                    POLICY_READ_BUDGET.min(self.budget),
                    self.policy_secret_id.as_ref().map(secret),
                ))
            }
            (None, false) => match &self.policy_secret_id {
                Some(id) => secret(id),
                None => return Ok(None),
            },
        };
        Ok(Some(Arc::new(PolicyStore::new(source))))
    }

    /// The per-user counters: the DynamoDB table when one is configured, else this process's
    /// memory (the local stack runs every capability in one process; a deployment with many
    /// instances sets the table, as the template does).
    fn counters(&self, aws: Option<&aws_config::SdkConfig>) -> Result<Arc<dyn Counters>, Error> {
        match (&self.limits_table, aws) {
            (None, _) => {
                tracing::warn!(
                    "PINGID_LIMITS_TABLE is not set: per-user limits are counted per process only"
                );
                Ok(Arc::new(MemoryCounters::default()))
            }
            (Some(table), Some(config)) => {
                Ok(Arc::new(DynamoCounters::new(config.clone(), table.clone())))
            }
            (Some(_), None) => Err(Error::ConfigUnavailable(
                "PINGID_LIMITS_TABLE needs AWS (not a secrets file)".into(),
            )),
        }
    }

    /// The single-use record: the DynamoDB table when one is configured, else this process's
    /// memory (enough for one process; a deployment with many instances sets the table).
    fn used_once(&self, aws: Option<&aws_config::SdkConfig>) -> Result<Arc<dyn UsedOnce>, Error> {
        match (&self.used_once_table, aws) {
            // Outside Lambda only ([`Settings::from_lookup`] refuses it there).
            (None, _) => {
                tracing::warn!(
                    "PINGID_USED_ONCE_TABLE is not set: single use is enforced per process only"
                );
                Ok(Arc::new(MemoryUsedOnce::default()))
            }
            (Some(table), Some(config)) => Ok(Arc::new(DynamoUsedOnce::new(
                aws_sdk_dynamodb::Client::new(config),
                table.clone(),
            ))),
            (Some(_), None) => Err(Error::ConfigUnavailable(
                "PINGID_USED_ONCE_TABLE needs AWS (not a secrets file)".into(),
            )),
        }
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
    fn in_lambda_a_legacy_function_without_its_single_use_table_refuses_to_start() {
        let legacy = [
            ("AWS_LAMBDA_FUNCTION_NAME", "initialize-mfa"),
            ("PINGID_PROPERTIES_SECRET_ID", "pingid/properties"),
        ];
        match settings(&legacy) {
            Err(Error::ConfigUnavailable(message)) => {
                assert!(message.contains("PINGID_USED_ONCE_TABLE"), "{message}")
            }
            other => panic!("expected a refusal to start, got {other:?}"),
        }
        let mut with_table = legacy.to_vec();
        with_table.push(("PINGID_USED_ONCE_TABLE", "pingid-used-once"));
        assert!(settings(&with_table).is_ok());
        // Outside Lambda (the local gateway, one process) per-process memory is enough.
        assert!(settings(&legacy[1..]).is_ok());
        // A function that is not legacy needs no table.
        assert!(settings(&legacy[..1]).is_ok());
    }

    #[test]
    fn the_legacy_return_url_is_https_and_its_hosts_a_list() {
        for plain in ["http://auth.example.com/return", "javascript:alert(1)"] {
            assert!(
                matches!(
                    settings(&[("PINGID_LEGACY_RETURN_URL", plain)]),
                    Err(Error::ConfigUnavailable(_))
                ),
                "{plain}"
            );
        }
        let read = settings(&[
            (
                "PINGID_LEGACY_RETURN_URL",
                "https://auth.example.com/return",
            ),
            (
                "PINGID_LEGACY_RETURN_HOSTS",
                " Auth.example.com, ,login.example.com",
            ),
        ])
        .unwrap();
        assert_eq!(
            read.legacy_return_hosts,
            ["auth.example.com", "login.example.com"]
        );
    }

    #[test]
    fn the_stale_limit_of_secrets_is_an_hour_unless_set() {
        assert_eq!(
            settings(&[]).unwrap().secret_stale,
            Duration::from_secs(3600)
        );
        let read = settings(&[("PINGID_SECRET_STALE_SECONDS", "600")]).unwrap();
        assert_eq!(read.secret_stale, Duration::from_secs(600));
        assert!(settings(&[("PINGID_SECRET_STALE_SECONDS", "soon")]).is_err());
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(settings(&[]).unwrap(), Settings::default());
    }

    #[test]
    fn in_lambda_the_aws_region_and_credentials_are_the_environments() {
        let lambda = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_LAMBDA_FUNCTION_NAME", "read-all-devices-pingid"),
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
        ];
        let region = |vars: &[(&str, &str)]| settings(vars).unwrap().aws.lambda_region;
        assert_eq!(region(&lambda).as_deref(), Some("eu-west-1"));
        // Elsewhere (sam local, a laptop with a profile) the SDK's default chains apply.
        for missing in 0..lambda.len() {
            let mut vars = lambda.to_vec();
            vars.remove(missing);
            assert_eq!(region(&vars), None, "without {}", lambda[missing].0);
        }
    }

    #[test]
    fn every_variable_is_read() {
        let read = settings(&[
            ("PINGONE_CONNECTION_SECRET_ID", "arn:aws:secretsmanager:x"),
            ("PINGID_SECRETS_FILE", "/tmp/s.json"),
            ("PINGONE_BASE_URL", "http://127.0.0.1:3001"),
            ("PINGONE_REGION", "eu"),
            ("PINGID_TIME_BUDGET_MS", "2500"),
            ("PINGID_SECRET_TTL_SECONDS", "900"),
            ("PINGID_PROPERTIES_SECRET_ID", "pingid/properties"),
            ("PINGID_USED_ONCE_TABLE", "pingid-used-once"),
            (
                "PINGID_LEGACY_RETURN_URL",
                "https://auth.example.com/return",
            ),
            ("PINGID_ALLOW_INLINE_PROPERTIES", "true"),
            ("PINGID_API_TOKENS_SECRET_ID", "pingid/api-tokens"),
        ])
        .unwrap();
        assert_eq!(read.connection_secret_id, "arn:aws:secretsmanager:x");
        assert_eq!(read.secrets_file, Some(PathBuf::from("/tmp/s.json")));
        assert_eq!(
            read.pingone_base_url.as_deref(),
            Some("http://127.0.0.1:3001")
        );
        assert_eq!(read.pingone_region, Some(Region::Europe));
        assert!(settings(&[("PINGONE_REGION", "mars")]).is_err());
        assert_eq!(read.budget, Duration::from_millis(2500));
        assert_eq!(read.secret_ttl, MAX_TTL, "capped at five minutes");
        assert_eq!(
            read.properties_secret_id.as_deref(),
            Some("pingid/properties")
        );
        assert_eq!(read.used_once_table.as_deref(), Some("pingid-used-once"));
        assert_eq!(
            read.legacy_return_url.as_deref(),
            Some("https://auth.example.com/return")
        );
        assert!(read.allow_inline_properties);
        assert_eq!(
            read.api_tokens_secret_id.as_deref(),
            Some("pingid/api-tokens")
        );
        assert!(settings(&[("PINGID_ALLOW_INLINE_PROPERTIES", "yes")]).is_err());
    }

    #[test]
    fn malformed_numbers_fail_init_with_the_variable_named() {
        for bad in ["soon", "-1", "0"] {
            let error = settings(&[("PINGID_TIME_BUDGET_MS", bad)]).unwrap_err();
            assert!(error.to_string().contains("PINGID_TIME_BUDGET_MS"), "{bad}");
        }
    }
}
