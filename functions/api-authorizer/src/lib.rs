//! The API's Lambda authorizer (API Gateway `TOKEN` type): admits a request whose
//! `Authorization` header is `Bearer <an accepted token>` and refuses everything else before any
//! capability function runs.
//!
//! The accepted tokens are the API-tokens secret (`PINGID_API_TOKENS_SECRET_ID`, read through the
//! shared ≤ 300 s secret cache; see [`shared::auth`]). Answers:
//! - an accepted token: an `Allow` policy, with the token's name as `principalId`, on every
//!   route the token may call, not just the called one: API Gateway caches the policy per token
//!   (the template's `AuthorizerCacheSeconds`) and applies it to the caller's next requests to
//!   any route, so it must answer for all of them. A token without a scope (the secret's plain
//!   string form) gets the whole stage; a scoped one gets one statement listing the
//!   `POST` resource of each of its routes, and API Gateway refuses (403) the others;
//! - anything else: the error `Unauthorized`, which API Gateway answers with 401;
//! - the secret unreadable or malformed: another error, which API Gateway answers with 500.
//!   Fail closed: without the list of tokens nobody is admitted.

use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequest,
    ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::Value;
use shared::Error;
use shared::auth::{self, ApiTokens, Scope};
use shared::config::Settings;
use shared::secrets::SecretCache;
use shared::telemetry::{self, LogFormat};

/// The message API Gateway turns into a 401 (it must be exactly this).
pub const UNAUTHORIZED: &str = "Unauthorized";

/// An API Gateway `TOKEN` authorizer event: `authorizationToken` is the `Authorization` header
/// as sent, `methodArn` is `arn:aws:execute-api:{region}:{account}:{apiId}/{stage}/{method}/{path}`.
pub type TokenEvent = ApiGatewayCustomAuthorizerRequest;

/// The authorizer's answer to an admitted caller: the accepted token's name as `principalId`
/// (who called, in API Gateway's logs and `$context`) and the IAM policy API Gateway enforces
/// (and caches for this token). No `context`: the capabilities need nothing from it.
pub type Admission = ApiGatewayCustomAuthorizerResponse<serde_json::Map<String, Value>>;

/// Why a request is not admitted.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// No or an unknown credential: 401.
    #[error("Unauthorized")]
    Unauthorized,
    /// The tokens could not be read: 500, nobody admitted.
    #[error("{0}")]
    Unavailable(Error),
}

/// The authorizer over its secret, built once per process.
pub struct Authorizer {
    secrets: Arc<SecretCache>,
    secret_id: String,
    /// The last secret text and its parsed tokens: parsed again only when the cache refetched.
    parsed: Mutex<Option<(Arc<str>, Arc<ApiTokens>)>>,
}

impl Authorizer {
    /// An authorizer reading secret `secret_id` through `secrets`.
    pub fn new(secrets: Arc<SecretCache>, secret_id: impl Into<String>) -> Self {
        Self {
            secrets,
            secret_id: secret_id.into(),
            parsed: Mutex::new(None),
        }
    }

    /// Admits or refuses one request.
    pub async fn authorize(&self, event: &TokenEvent) -> Result<Admission, Refusal> {
        let tokens = self.tokens().await.map_err(Refusal::Unavailable)?;
        let admitted = tokens
            .admit(event.authorization_token.as_deref().unwrap_or_default())
            .ok_or(Refusal::Unauthorized)?;
        let mut admission = Admission::default();
        admission.principal_id = Some(admitted.name.to_string());
        admission.policy_document = allow(
            event.method_arn.as_deref().unwrap_or_default(),
            admitted.scope,
        )?;
        Ok(admission)
    }

    async fn tokens(&self) -> Result<Arc<ApiTokens>, Error> {
        let text = self
            .secrets
            .get(&self.secret_id)
            .await
            .map_err(|e| Error::ConfigUnavailable(e.to_string()))?;
        let text = text.expose();
        let mut parsed = self
            .parsed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((source, tokens)) = parsed.as_ref()
            && Arc::ptr_eq(source, text)
        {
            return Ok(tokens.clone());
        }
        let tokens = Arc::new(ApiTokens::parse(text)?);
        *parsed = Some((text.clone(), tokens.clone()));
        Ok(tokens)
    }
}

/// `Allow execute-api:Invoke` on what `scope` may call in the stage `method_arn` belongs to:
/// every method of the stage for [`Scope::All`], else the `POST` resource of each route
/// (`{api}/{stage}/POST/v1/pingid/{capabilityId}`, the legacy connector's under
/// `/v1/pingid-legacy/`), in one statement so the cached answer stays small.
fn allow(method_arn: &str, scope: &Scope) -> Result<ApiGatewayCustomAuthorizerPolicy, Refusal> {
    // arn:aws:execute-api:region:account:apiId/stage/METHOD/path…
    let mut parts = method_arn.splitn(3, '/');
    let (Some(api), Some(stage)) = (parts.next(), parts.next()) else {
        return Err(Refusal::Unauthorized);
    };
    if !api.starts_with("arn:") || api.split(':').count() != 6 || stage.is_empty() {
        return Err(Refusal::Unauthorized);
    }
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".into()];
    statement.effect = IamPolicyEffect::Allow;
    statement.resource = match scope {
        Scope::All => vec![format!("{api}/{stage}/*")],
        Scope::Only(capabilities) => capabilities
            .iter()
            .map(|id| format!("{api}/{stage}/POST{}", auth::route(id)))
            .collect(),
    };
    let mut policy = ApiGatewayCustomAuthorizerPolicy::default();
    policy.version = Some("2012-10-17".into());
    policy.statement = vec![statement];
    Ok(policy)
}

/// Runs the authorizer as a Lambda function.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    telemetry::init(LogFormat::Json);
    let settings = Settings::from_env()?;
    let secret_id = settings
        .api_tokens_secret_id
        .clone()
        .ok_or_else(|| Error::ConfigUnavailable("PINGID_API_TOKENS_SECRET_ID is not set".into()))?;
    let (secrets, _) = settings.secrets().await?;
    let authorizer = Authorizer::new(secrets, secret_id);
    lambda_runtime::run(service_fn(|event: LambdaEvent<TokenEvent>| {
        let authorizer = &authorizer;
        async move {
            let request_id = event.context.request_id;
            match authorizer.authorize(&event.payload).await {
                Ok(admission) => {
                    tracing::info!(
                        request_id,
                        principal = admission.principal_id.as_deref(),
                        "admitted"
                    );
                    Ok(admission)
                }
                Err(Refusal::Unauthorized) => {
                    tracing::info!(request_id, "refused: no accepted bearer token");
                    Err(Diagnostic {
                        error_type: "Unauthorized".into(),
                        error_message: UNAUTHORIZED.into(),
                    })
                }
                Err(Refusal::Unavailable(error)) => {
                    tracing::error!(request_id, code = error.code(), %error, "tokens unavailable");
                    Err(Diagnostic {
                        error_type: error.code().into(),
                        error_message: error.code().into(),
                    })
                }
            }
        }
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::BoxFuture;
    use shared::secrets::{Secret, SecretError, SecretSource};
    use std::time::Duration;

    const METHOD_ARN: &str =
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/POST/v1/pingid/readDevice";
    const TOKEN: &str = "davinci-token-0123456789abcdefghijklmnop";

    struct Fixed(&'static str);

    impl SecretSource for Fixed {
        fn fetch<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Secret<String>, SecretError>> {
            let value = self.0.to_string();
            Box::pin(async move { Ok(Secret::new(value)) })
        }
    }

    fn authorizer(secret: &'static str) -> Authorizer {
        let cache = SecretCache::new(Box::new(Fixed(secret)), Duration::from_secs(300));
        Authorizer::new(Arc::new(cache), "pingid/api-tokens")
    }

    fn event(authorization: &str, method_arn: &str) -> TokenEvent {
        serde_json::from_value(json!({
            "type": "TOKEN",
            "authorizationToken": authorization,
            "methodArn": method_arn,
        }))
        .unwrap()
    }

    const SECRET: &str = r#"{"tokens": {"davinci": "davinci-token-0123456789abcdefghijklmnop"}}"#;

    #[tokio::test]
    async fn an_accepted_token_is_allowed_the_whole_stage_under_its_name() {
        let admission = authorizer(SECRET)
            .authorize(&event(&format!("Bearer {TOKEN}"), METHOD_ARN))
            .await
            .unwrap();
        let answer = serde_json::to_value(admission).unwrap();
        assert_eq!(answer["principalId"], "davinci");
        assert_eq!(
            answer["policyDocument"],
            json!({ "Version": "2012-10-17", "Statement": [{ "Action": ["execute-api:Invoke"],
                "Effect": "Allow", "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/*"] }] })
        );
    }

    const SCOPED_TOKEN: &str = "self-service-token-0123456789abcdefghijkl";
    const SCOPED_SECRET: &str = r#"{"tokens": {
        "davinci": "davinci-token-0123456789abcdefghijklmnop",
        "self-service": {"token": "self-service-token-0123456789abcdefghijkl",
                         "may": ["enroll", "readDevice", "initializeMfa"]}
    }}"#;

    async fn scoped_policy(method_arn: &str) -> Value {
        let admission = authorizer(SCOPED_SECRET)
            .authorize(&event(&format!("Bearer {SCOPED_TOKEN}"), method_arn))
            .await
            .unwrap();
        let answer = serde_json::to_value(admission).unwrap();
        assert_eq!(answer["principalId"], "self-service");
        answer["policyDocument"].clone()
    }

    #[tokio::test]
    async fn a_scoped_token_is_allowed_exactly_its_routes() {
        let policy = scoped_policy(METHOD_ARN).await;
        let stage = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod";
        assert_eq!(
            policy,
            json!({ "Version": "2012-10-17", "Statement": [{ "Action": ["execute-api:Invoke"],
                "Effect": "Allow", "Resource": [
                    format!("{stage}/POST/v1/pingid/activateDevice"),
                    format!("{stage}/POST/v1/pingid/createDevicePingID"),
                    format!("{stage}/POST/v1/pingid/createPairingKeyPingID"),
                    format!("{stage}/POST/v1/pingid/deletePairingKey"),
                    format!("{stage}/POST/v1/journeys/device-registration"),
                    format!("{stage}/POST/v1/pingid-legacy/initializeMfa"),
                    format!("{stage}/POST/v1/pingid/readDevice"),
                    format!("{stage}/POST/v1/pingid/readPairingKey"),
                    format!("{stage}/POST/v1/pingid/resendOTPForPairing"),
                ] }] })
        );
    }

    #[tokio::test]
    async fn a_route_outside_the_scope_is_not_in_the_policy_even_when_it_is_the_one_called() {
        // API Gateway caches the answer per token for every route: calling an out-of-scope route
        // first must not widen it, nor calling an in-scope one narrow it.
        let update_mfa = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/POST/v1/pingid/updateUserMFAEnabled";
        let policy = scoped_policy(update_mfa).await;
        let resources = policy["Statement"][0]["Resource"].as_array().unwrap();
        assert!(!resources.iter().any(|r| r == update_mfa), "{policy}");
        assert!(
            !resources.iter().any(|r| r.as_str().unwrap().contains('*')),
            "{policy}"
        );
        assert_eq!(policy, scoped_policy(METHOD_ARN).await);
    }

    #[tokio::test]
    async fn a_token_without_a_scope_keeps_the_whole_stage_next_to_scoped_ones() {
        let admission = authorizer(SCOPED_SECRET)
            .authorize(&event(&format!("Bearer {TOKEN}"), METHOD_ARN))
            .await
            .unwrap();
        let answer = serde_json::to_value(admission).unwrap();
        assert_eq!(answer["principalId"], "davinci");
        assert_eq!(
            answer["policyDocument"]["Statement"][0]["Resource"],
            json!(["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/*"])
        );
    }

    #[tokio::test]
    async fn a_missing_or_unknown_token_is_unauthorized() {
        for authorization in ["", "Bearer ", "Bearer not-the-token-0123456789abcdefghij"] {
            let refusal = authorizer(SECRET)
                .authorize(&event(authorization, METHOD_ARN))
                .await
                .unwrap_err();
            assert!(
                matches!(refusal, Refusal::Unauthorized),
                "{authorization:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_method_arn_that_is_not_one_is_unauthorized() {
        let refusal = authorizer(SECRET)
            .authorize(&event(&format!("Bearer {TOKEN}"), "not-an-arn"))
            .await
            .unwrap_err();
        assert!(matches!(refusal, Refusal::Unauthorized));
    }

    #[tokio::test]
    async fn a_malformed_secret_admits_nobody() {
        let refusal = authorizer(r#"{"tokens": {"short": "abc"}}"#)
            .authorize(&event("Bearer abc", METHOD_ARN))
            .await
            .unwrap_err();
        assert!(matches!(refusal, Refusal::Unavailable(_)));
    }

    #[tokio::test]
    async fn a_scope_naming_an_unknown_group_admits_nobody_not_even_the_other_tokens() {
        let secret = r#"{"tokens": {
            "davinci": "davinci-token-0123456789abcdefghijklmnop",
            "self-service": {"token": "self-service-token-0123456789abcdefghijkl",
                             "may": ["enrol"]}
        }}"#;
        let refusal = authorizer(secret)
            .authorize(&event(&format!("Bearer {TOKEN}"), METHOD_ARN))
            .await
            .unwrap_err();
        let Refusal::Unavailable(error) = refusal else {
            panic!("admitted with a malformed secret");
        };
        let message = error.to_string();
        assert!(
            message.contains("self-service") && message.contains("\"enrol\""),
            "{message}"
        );
        assert!(!message.contains("token-0123456789"), "{message}");
    }
}
