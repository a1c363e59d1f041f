//! The ports of the legacy (properties-file) connector: where the `pingid.properties` come
//! from, and the record of what may be used only once (PPM responses and passwordless
//! contexts).
//!
//! A PPM response is a bearer proof that a user passed MFA for a few minutes; a passwordless
//! context is a bearer proof that a user signed in with a passkey. Both are integrity-protected
//! and short-lived, but only a record of their use stops one from being played twice inside its
//! lifetime. That record must be shared by every Lambda instance, so production uses a DynamoDB
//! table (conditional writes, items expire by TTL); a process-local record serves local runs.

pub mod flow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::BoxFuture;
use crate::error::Error;
use crate::pingid::properties::Properties;
use crate::secrets::{Secret, SecretCache};

/// Where the legacy connector's `pingid.properties` come from.
pub trait PropertiesSource: Send + Sync {
    /// The parsed properties (re-read after the secret cache's TTL).
    fn properties(&self) -> BoxFuture<'_, Result<Arc<Properties>, Error>>;
}

/// The properties file in a Secrets Manager secret (plain text), parsed once per version.
pub struct SecretProperties {
    secrets: Arc<SecretCache>,
    secret_id: String,
    parsed: Mutex<Option<Parsed>>,
}

/// The secret text last seen and what it parsed to.
type Parsed = (Secret<Arc<str>>, Arc<Properties>);

impl SecretProperties {
    /// Properties from the secret `secret_id`, read through `secrets`.
    pub fn new(secrets: Arc<SecretCache>, secret_id: impl Into<String>) -> Self {
        Self {
            secrets,
            secret_id: secret_id.into(),
            parsed: Mutex::new(None),
        }
    }
}

impl PropertiesSource for SecretProperties {
    fn properties(&self) -> BoxFuture<'_, Result<Arc<Properties>, Error>> {
        Box::pin(async move {
            let text = self
                .secrets
                .get(&self.secret_id)
                .await
                .map_err(|e| Error::ConfigUnavailable(e.to_string()))?;
            let mut parsed = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((seen, properties)) = parsed.as_ref()
                && Arc::ptr_eq(seen.expose(), text.expose())
            {
                return Ok(properties.clone());
            }
            let properties = Arc::new(Properties::parse(text.expose())?);
            *parsed = Some((text, properties.clone()));
            Ok(properties)
        })
    }
}

/// Properties fixed at start (the local stack, whose simulator address is known only then).
pub struct FixedProperties(Arc<Properties>);

impl FixedProperties {
    /// Parses `text` once.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Ok(Self(Arc::new(Properties::parse(text)?)))
    }
}

impl PropertiesSource for FixedProperties {
    fn properties(&self) -> BoxFuture<'_, Result<Arc<Properties>, Error>> {
        Box::pin(async move { Ok(self.0.clone()) })
    }
}

/// The record of single-use tokens.
pub trait UsedOnce: Send + Sync {
    /// Records `id` as used until `expires_at`. `Ok(false)` when it was used before.
    fn claim<'a>(
        &'a self,
        id: &'a str,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, Error>>;
    /// Whether `id` has been used (for an early, friendly refusal; [`UsedOnce::claim`] is the
    /// check that counts).
    fn is_used<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, Error>>;
}

/// A process-local record: enough for one process (the local stack), not for many Lambda
/// instances.
#[derive(Default)]
pub struct MemoryUsedOnce {
    used: Mutex<HashMap<String, SystemTime>>,
}

impl UsedOnce for MemoryUsedOnce {
    fn claim<'a>(
        &'a self,
        id: &'a str,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
            let now = SystemTime::now();
            used.retain(|_, until| *until > now);
            Ok(used.insert(id.to_string(), expires_at).is_none())
        })
    }

    fn is_used<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let used = self.used.lock().unwrap_or_else(|p| p.into_inner());
            Ok(used.contains_key(id))
        })
    }
}

/// The record in a DynamoDB table with partition key `id` (string) and TTL attribute
/// `expiresAt` (epoch seconds). A claim is a conditional put, so two instances racing for the
/// same token cannot both win.
///
/// A claim that AWS failed (5xx) may still have been written; tried again, it reads as already
/// used. That denies one sign-in rather than letting a token count twice: the safe side.
pub struct DynamoUsedOnce {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoUsedOnce {
    /// A record in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn store_error(reason: String) -> Error {
    Error::UpstreamUnavailable(format!("the single-use record is unavailable: {reason}"))
}

impl UsedOnce for DynamoUsedOnce {
    fn claim<'a>(
        &'a self,
        id: &'a str,
        expires_at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        use aws_sdk_dynamodb::operation::put_item::PutItemError;
        use aws_sdk_dynamodb::types::AttributeValue;
        Box::pin(async move {
            let expires = crate::clock::unix_seconds(expires_at);
            let outcome = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("id", AttributeValue::S(id.to_string()))
                .item("expiresAt", AttributeValue::N(expires.to_string()))
                .condition_expression("attribute_not_exists(id)")
                .send()
                .await;
            match outcome {
                Ok(_) => Ok(true),
                Err(error) => match error.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(_)) => Ok(false),
                    _ => Err(store_error(crate::sdk::failure(&error))),
                },
            }
        })
    }

    fn is_used<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        use aws_sdk_dynamodb::types::AttributeValue;
        Box::pin(async move {
            let output = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("id", AttributeValue::S(id.to_string()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|error| store_error(crate::sdk::failure(&error)))?;
            Ok(output.item.is_some())
        })
    }
}

/// What the legacy capabilities call out to.
#[derive(Clone)]
pub struct LegacyPorts {
    /// The deployment's `pingid.properties`.
    pub properties: Arc<dyn PropertiesSource>,
    /// Single-use record.
    pub used: Arc<dyn UsedOnce>,
    /// The return URL when a request names none (`skRedirectUri`).
    pub return_url: Option<String>,
    /// The hosts a return URL may be on; empty: any.
    pub return_hosts: Vec<String>,
    /// Whether a request may carry its own properties file (`customAuth.pingIdProperties`).
    /// Off by default: a properties file is a secret and should not travel through flows.
    pub allow_inline_properties: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_token_is_claimed_once() {
        let record = MemoryUsedOnce::default();
        let until = SystemTime::now() + Duration::from_secs(60);
        assert!(!record.is_used("a").await.unwrap());
        assert!(record.claim("a", until).await.unwrap());
        assert!(record.is_used("a").await.unwrap());
        assert!(!record.claim("a", until).await.unwrap());
        assert!(record.claim("b", until).await.unwrap());
    }
}
