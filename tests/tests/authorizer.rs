//! The API's authorizer, as API Gateway calls it: the real `api-authorizer` binary behind the
//! in-test Runtime API, its tokens in moto's Secrets Manager, TOKEN events from `events/`.

mod support;

use e2e::{Invocation, load_event};
use serde_json::json;
use support::{DEMO_API_TOKEN, Stack};

#[tokio::test]
async fn an_accepted_token_is_allowed_on_the_whole_stage_under_its_name() {
    // Given the API-tokens secret naming the demo token
    let stack = Stack::start().await;
    let authorizer = stack.authorizer_with(&[]).await;

    // When API Gateway asks about a request carrying it
    let answer = authorizer
        .process
        .invoke(load_event("api-authorizer.token.json"))
        .await
        .unwrap()
        .into_response()
        .expect("an admission");

    // Then the caller is admitted as the token's name, on every route of the stage
    assert_eq!(answer["principalId"], "davinci-2026-11");
    assert_eq!(
        answer["policyDocument"],
        json!({"Version": "2012-10-17", "Statement": [{
            "Action": ["execute-api:Invoke"],
            "Effect": "Allow",
            "Resource": ["arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod/*"],
        }]})
    );
    // and no log line holds the token
    assert!(
        authorizer
            .logs()
            .iter()
            .all(|line| !line.contains(DEMO_API_TOKEN))
    );
}

#[tokio::test]
async fn an_unknown_or_missing_token_is_unauthorized() {
    let stack = Stack::start().await;
    let authorizer = stack.authorizer_with(&[]).await;
    let mut missing = load_event("api-authorizer.token.json");
    missing["authorizationToken"] = json!("");
    for event in [load_event("api-authorizer.token.unknown.json"), missing] {
        // API Gateway answers 401 for exactly this error message.
        let (error_type, message) = authorizer
            .process
            .invoke(event)
            .await
            .unwrap()
            .into_error()
            .expect("a refusal");
        assert_eq!(
            (error_type.as_str(), message.as_str()),
            ("Unauthorized", "Unauthorized")
        );
    }
}

#[tokio::test]
async fn without_its_secret_the_authorizer_admits_nobody() {
    // Given a secret id that does not exist (deleted, or no permission)
    let stack = Stack::start().await;
    let missing = [(
        "PINGID_API_TOKENS_SECRET_ID",
        "pingid/no-such-secret".to_string(),
    )];
    let authorizer = stack.authorizer_with(&missing).await;

    // When a request carries what would be a good token
    let invocation = authorizer
        .process
        .invoke(load_event("api-authorizer.token.json"))
        .await
        .unwrap();

    // Then it fails closed: an error that is not an admission (API Gateway answers 500)
    let Invocation::Error { error_type, .. } = invocation else {
        panic!("admitted without a token list: {invocation:?}");
    };
    assert_eq!(error_type, "CONFIG_UNAVAILABLE");
}
