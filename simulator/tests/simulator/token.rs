//! Worker-app OAuth and the bearer check.

use pingid_sim::demo::{ALICE_ID, CLIENT_ID, CLIENT_SECRET};
use reqwest::StatusCode;

use crate::support::{Sim, json_of};

#[tokio::test]
async fn client_secret_basic_issues_a_bearer_token() {
    let sim = Sim::start().await;

    let response = sim
        .http
        .post(sim.auth_url("/as/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("answered");

    assert_eq!(response.headers()["cache-control"], "no-store");
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|token| token.len() >= 32)
    );
}

#[tokio::test]
async fn client_secret_post_issues_a_token_that_opens_the_api() {
    let sim = Sim::start().await;

    let response = sim.get(&sim.api_url(&format!("/users/{ALICE_ID}"))).await;

    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_or_missing_client_credentials_are_invalid_client() {
    let sim = Sim::start().await;

    let wrong_secret = sim
        .request_token(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "guess"),
        ])
        .await;
    let (status, body) = json_of(wrong_secret).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());

    let wrong_basic = sim
        .http
        .post(sim.auth_url("/as/token"))
        .basic_auth(CLIENT_ID, Some("guess"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("answered");
    assert_eq!(wrong_basic.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong_basic.headers().contains_key("www-authenticate"));

    let anonymous = sim
        .request_token(&[("grant_type", "client_credentials")])
        .await;
    let (status, body) = json_of(anonymous).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn other_grants_are_unsupported() {
    let sim = Sim::start().await;

    let response = sim
        .request_token(&[
            ("grant_type", "password"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .await;

    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn an_unknown_environment_is_an_oauth_error() {
    let sim = Sim::start().await;

    let response = sim
        .http
        .post(sim.url("/00000000-0000-4000-8000-000000000000/as/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("answered");

    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn tokens_expire_on_the_simulated_clock() {
    let sim = Sim::start().await;
    let user = sim.api_url(&format!("/users/{ALICE_ID}"));
    assert_eq!(sim.get(&user).await.status(), StatusCode::OK);

    sim.advance(3600).await;

    let (status, body) = json_of(sim.get(&user).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "ACCESS_FAILED");
}

#[tokio::test]
async fn every_pingone_route_requires_a_bearer_token() {
    let sim = Sim::start().await;
    let user = sim.api_url(&format!("/users/{ALICE_ID}"));

    let missing = sim.http.get(&user).send().await.expect("answered");
    let (status, body) = json_of(missing).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "ACCESS_FAILED");
    assert!(body["id"].is_string());

    let forged = sim
        .http
        .post(sim.auth_url("/deviceAuthentications"))
        .bearer_auth("not-a-token-this-simulator-issued")
        .json(&serde_json::json!({ "user": { "id": ALICE_ID } }))
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_for_one_environment_is_forbidden_in_another() {
    let sim = Sim::start().await;

    let other_env = sim.url(&format!(
        "/v1/environments/00000000-0000-4000-8000-000000000000/users/{ALICE_ID}"
    ));
    let (status, body) = json_of(sim.get(&other_env).await).await;

    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "ACCESS_FAILED");
}
