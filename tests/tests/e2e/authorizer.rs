//! The API's authorizer, as API Gateway calls it: the real `api-authorizer` binary behind the
//! in-test Runtime API, its tokens in moto's Secrets Manager, TOKEN events from `events/`.

use crate::support;

use std::collections::BTreeSet;

use e2e::{Invocation, load_event};
use serde_json::{Value, json};
use shared::auth::{GROUPS, LEGACY_CAPABILITIES, route};
use support::{DEMO_API_TOKEN, Stack};

/// The stage the `events/api-authorizer.*` fixtures call.
const STAGE_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/Prod";

/// A token of a sign-in flow, scoped to `authenticate` in [`scoped_secret`].
const SIGNIN_TOKEN: &str = "signin-davinci-token-0123456789abcdefghijklmnopq";

/// The API-tokens secret during a move to scoped tokens: the demo token as it was (every route)
/// and a sign-in flow's token that may only authenticate.
fn scoped_secret() -> Value {
    json!({"tokens": {
        "davinci-2026-11": DEMO_API_TOKEN,
        "davinci-signin-2026-11": {"token": SIGNIN_TOKEN, "may": ["authenticate"]},
    }})
}

/// Whether an authorizer's policy lets API Gateway invoke `method_arn`, as IAM evaluates it:
/// an `Allow` of `execute-api:Invoke` whose resource matches (`*` any run of characters, `?`
/// one), and no `Deny` that does.
fn allows(policy: &Value, method_arn: &str) -> bool {
    let matching = |effect: &str| {
        policy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|statement| {
                statement["Effect"] == effect
                    && statement["Action"]
                        .as_array()
                        .is_some_and(|actions| actions.contains(&json!("execute-api:Invoke")))
                    && statement["Resource"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .any(|pattern| glob(pattern.as_bytes(), method_arn.as_bytes()))
            })
    };
    matching("Allow") && !matching("Deny")
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob(&pattern[1..], text) || (!text.is_empty() && glob(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => glob(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob(&pattern[1..], &text[1..]),
        _ => false,
    }
}

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

#[tokio::test]
async fn a_token_scoped_to_authenticate_may_sign_in_but_not_switch_mfa_off() {
    // Given an API-tokens secret with a sign-in flow's token scoped to `authenticate`, next to
    // a token in the format from before scopes
    let stack = Stack::start().await;
    let secret = stack
        .moto
        .create_secret("pingid/api-tokens-scoped", &scoped_secret().to_string())
        .await
        .expect("API tokens stored");
    let authorizer = stack
        .authorizer_with(&[("PINGID_API_TOKENS_SECRET_ID", secret)])
        .await;
    let start = format!("{STAGE_ARN}/POST/v1/pingid/createDeviceAuthenticationPingID");
    let switch_mfa = format!("{STAGE_ARN}/POST/v1/pingid/updateUserMFAEnabled");
    let legacy_mfa = format!("{STAGE_ARN}/POST/v1/pingid-legacy/initializeMfa");
    let enroll = format!("{STAGE_ARN}/POST/v1/pingid/createDevicePingID");

    // When API Gateway asks about the sign-in token, for the route the flow calls first and for
    // the one it must not call
    for called in [&start, &switch_mfa] {
        let mut event = load_event("api-authorizer.token.json");
        event["authorizationToken"] = json!(format!("Bearer {SIGNIN_TOKEN}"));
        event["methodArn"] = json!(called);
        let answer = authorizer
            .process
            .invoke(event)
            .await
            .unwrap()
            .into_response()
            .expect("an admission");

        // Then, whichever was called (API Gateway caches the policy for every route), the
        // token may start and run an authentication, the legacy connector's included, and may
        // neither switch MFA off nor enroll a device: those are absent from its policy, which
        // API Gateway answers with 403
        assert_eq!(answer["principalId"], "davinci-signin-2026-11");
        let policy = &answer["policyDocument"];
        assert!(allows(policy, &start), "{policy}");
        assert!(allows(policy, &legacy_mfa), "{policy}");
        assert!(!allows(policy, &switch_mfa), "{policy}");
        assert!(!allows(policy, &enroll), "{policy}");
        assert!(
            !policy.to_string().contains("updateUserMFAEnabled"),
            "{policy}"
        );
    }

    // and the token from before scopes still gets the whole stage
    let answer = authorizer
        .process
        .invoke(load_event("api-authorizer.token.json"))
        .await
        .unwrap()
        .into_response()
        .expect("an admission");
    assert_eq!(answer["principalId"], "davinci-2026-11");
    assert_eq!(
        answer["policyDocument"]["Statement"][0]["Resource"],
        json!([format!("{STAGE_ARN}/*")])
    );
    assert!(allows(&answer["policyDocument"], &switch_mfa));
    // and no log line holds a token
    assert!(
        authorizer
            .logs()
            .iter()
            .all(|line| !line.contains(DEMO_API_TOKEN) && !line.contains(SIGNIN_TOKEN))
    );
}

#[tokio::test]
async fn a_secret_with_an_unknown_scope_admits_nobody_and_says_which_token() {
    // Given a scope with a typo (capability ids are case-sensitive)
    let stack = Stack::start().await;
    let mut tokens = scoped_secret();
    tokens["tokens"]["davinci-signin-2026-11"]["may"] =
        json!(["authenticate", "updateUserMfaEnabled"]);
    let secret = stack
        .moto
        .create_secret("pingid/api-tokens-typo", &tokens.to_string())
        .await
        .expect("API tokens stored");
    let authorizer = stack
        .authorizer_with(&[("PINGID_API_TOKENS_SECRET_ID", secret)])
        .await;

    // When even the unscoped token calls
    let invocation = authorizer
        .process
        .invoke(load_event("api-authorizer.token.json"))
        .await
        .unwrap();

    // Then it fails closed (API Gateway answers 500), and the log names the token and the entry
    let Invocation::Error { error_type, .. } = invocation else {
        panic!("admitted with a malformed secret: {invocation:?}");
    };
    assert_eq!(error_type, "CONFIG_UNAVAILABLE");
    let logs = authorizer.logs();
    assert!(
        logs.iter()
            .any(|line| line.contains("davinci-signin-2026-11")
                && line.contains("updateUserMfaEnabled")),
        "{logs:#?}"
    );
    assert!(
        logs.iter()
            .all(|line| !line.contains(DEMO_API_TOKEN) && !line.contains(SIGNIN_TOKEN))
    );
}

#[test]
fn every_capability_of_the_product_is_in_a_token_group_under_its_route() {
    let plain: Vec<&str> = pingid_local::capabilities()
        .iter()
        .map(|c| c.id())
        .collect();
    let legacy: Vec<&str> = pingid_local::legacy_capabilities()
        .iter()
        .map(|c| c.id())
        .collect();
    let journeys: Vec<&str> = pingid_local::journeys().iter().map(|c| c.id()).collect();
    let grouped: BTreeSet<&str> = GROUPS
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();

    // Any route can be given to a token: each capability is in a group
    for id in plain.iter().chain(&legacy).chain(&journeys) {
        assert!(grouped.contains(id), "{id} is in no token group");
    }
    // and the groups name no capability the product does not have
    let product: BTreeSet<&str> = plain
        .iter()
        .chain(&legacy)
        .chain(&journeys)
        .copied()
        .collect();
    assert_eq!(
        grouped.difference(&product).collect::<Vec<_>>(),
        Vec::<&&str>::new()
    );
    // and the authorizer allows each under the path the gateway routes it on
    for id in &plain {
        assert_eq!(route(id), format!("/v1/pingid/{id}"));
    }
    for id in &legacy {
        assert_eq!(route(id), format!("/v1/pingid-legacy/{id}"));
    }
    for id in &journeys {
        assert_eq!(route(id), format!("/v1/journeys/{id}"));
    }
    assert_eq!(
        shared::auth::JOURNEYS
            .iter()
            .copied()
            .collect::<BTreeSet<_>>(),
        journeys.iter().copied().collect::<BTreeSet<_>>()
    );
    assert_eq!(
        LEGACY_CAPABILITIES.iter().copied().collect::<BTreeSet<_>>(),
        legacy.iter().copied().collect::<BTreeSet<_>>()
    );
}
