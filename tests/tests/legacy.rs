//! The legacy connector's two calls through the real function binaries, with the test playing
//! the PingID authenticator: it reads the PPM request the first call produced and signs the
//! response PingID would post back (with the demo org's key, as the simulator does). What must
//! be refused is refused: a response for another user or another request, an expired or
//! forged one, one used twice, and a passwordless context that is forged, for another user or
//! used before. (The same loop in a real browser against the simulator's pages is in
//! `legacy_browser.rs`.)

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use pingid_sim::demo;
use serde_json::{Value, json};
use shared::pingid::jws;
use support::{Function, Stack, failed, ok};

const RETURN_URL: &str = "https://auth.example.com/pingid/return";

fn key() -> Vec<u8> {
    STANDARD
        .decode(demo::legacy::USE_BASE64_KEY)
        .expect("the demo key is base64")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The first call's redirect, checked, and the PPM request's claims.
async fn first_call(function: &Function, properties: Value) -> Value {
    let mut properties = properties;
    properties["customAuth"] = json!({ "skRedirectUri": RETURN_URL });
    let output = ok(&function.call(properties).await);
    assert_eq!(output["status"], "REDIRECT", "{output}");
    let redirect = &output["redirect"];
    assert_eq!(redirect["form"]["idp_account_id"], demo::legacy::ORG_ALIAS);
    let request = redirect["form"]["ppm_request"].as_str().unwrap();
    let html = redirect["html"].as_str().unwrap();
    assert!(
        html.contains(redirect["targetUrl"].as_str().unwrap()),
        "{html}"
    );
    let (_, claims) = jws::verify_hs256(request, &key()).expect("signed with the org key");
    assert_eq!(claims["aud"], "pingidauthenticator");
    assert_eq!(claims["returnUrl"], RETURN_URL);
    assert_eq!(claims["idpAccountId"], demo::legacy::ORG_ALIAS);
    claims
}

/// The `ppm_response` PingID would post for `request`.
fn response_to(
    request: &Value,
    sub: &str,
    status: &str,
    adjust: impl FnOnce(&mut Value),
) -> String {
    let mut claims = json!({
        "iss": request["aud"], "aud": request["iss"], "sub": sub, "nonce": request["nonce"],
        "iat": now(), "exp": now() + 300, "jti": "RYKCTVYY3KIKI===", "status": status,
        "idpAccountId": request["idpAccountId"], "inResponseTo": request["jti"],
        "dst": request["returnUrl"], "authnContext": "urn:oasis:names:tc:SAML:2.0:ac:classes:Telephony",
        "accessingDevice": { "ip": "203.0.113.10" }, "authenticationDevice": { "id": "d-1" },
        "authenticationType": "SWIPE",
    });
    adjust(&mut claims);
    jws::sign_hs256(&json!({ "alg": "HS256", "typ": "JWT" }), &claims, &key())
}

fn second(sub: &str, ppm_response: &str) -> Value {
    json!({ "sub": sub, "ppmResponse": ppm_response, "customAuth": { "skRedirectUri": RETURN_URL } })
}

fn problem(body: &Value) -> String {
    body["details"].to_string()
}

#[tokio::test]
async fn mfa_succeeds_once_for_the_user_it_was_asked_for() {
    let stack = Stack::start().await;
    let mfa = stack.function("initializeMfa").await;
    let request = first_call(
        &mfa,
        json!({ "sub": "alice", "fname": "Alice", "appName": "Payroll", "pingidIp": "203.0.113.10" }),
    )
    .await;
    assert_eq!(request["sub"], "alice");
    let attributes = request["attributes"].to_string();
    for expected in [
        "fname",
        "Alice",
        "appName",
        "Payroll",
        "pingidIp",
        "isUserAuthenticated",
    ] {
        assert!(attributes.contains(expected), "{expected}: {attributes}");
    }

    let response = response_to(&request, "alice", "success", |_| {});
    let output = ok(&mfa.call(second("alice", &response)).await);
    assert_eq!(output["status"], "success");
    assert_eq!(output["sub"], "alice");
    assert_eq!(output["ppmResponse"], response);
    assert_eq!(output["accessingDevice"]["ip"], "203.0.113.10");
    assert_eq!(output["authenticationDevice"]["id"], "d-1");
    assert_eq!(output["authenticationType"], "SWIPE");

    // The same response again: spent (recorded in DynamoDB)
    let again = failed(
        &mfa.call(second("alice", &response)).await,
        400,
        "VALIDATION_FAILED",
    );
    assert!(problem(&again).contains("already been used"), "{again}");
}

#[tokio::test]
async fn a_denial_is_an_answer_not_a_success() {
    let stack = Stack::start().await;
    let mfa = stack.function("initializeMfa").await;
    let request = first_call(&mfa, json!({ "sub": "alice" })).await;
    let response = response_to(&request, "alice", "failure", |claims| {
        claims["errorCode"] = json!("PINGID_001");
        claims["message"] = json!("The user denied the request");
    });
    let output = ok(&mfa.call(second("alice", &response)).await);
    assert_eq!(output["status"], "failure");
    assert_eq!(output["errorCode"], "PINGID_001");
}

#[tokio::test]
async fn responses_for_another_user_request_time_or_key_are_refused() {
    let stack = Stack::start().await;
    let mfa = stack.function("initializeMfa").await;
    let passwordless = stack.function("initializePasswordlessAuthentication").await;
    let for_alice = first_call(&mfa, json!({ "sub": "alice" })).await;

    // PingID says bob passed; the flow asked about alice
    let bobs = response_to(&for_alice, "bob", "success", |_| {});
    failed(
        &mfa.call(second("alice", &bobs)).await,
        400,
        "VALIDATION_FAILED",
    );
    failed(
        &mfa.call(second("bob", &bobs)).await,
        400,
        "VALIDATION_FAILED",
    );

    // Expired: PingID's exp has passed
    let expired = response_to(&for_alice, "alice", "success", |claims| {
        claims["iat"] = json!(now() - 900);
        claims["exp"] = json!(now() - 600);
    });
    failed(
        &mfa.call(second("alice", &expired)).await,
        400,
        "VALIDATION_FAILED",
    );

    // Signed with another key
    let mut forged_claims = Value::Null;
    let _ = response_to(&for_alice, "alice", "success", |claims| {
        forged_claims = claims.clone();
    });
    let forged = jws::sign_hs256(
        &json!({ "alg": "HS256" }),
        &forged_claims,
        b"another key of 32 bytes, really!",
    );
    failed(
        &mfa.call(second("alice", &forged)).await,
        400,
        "VALIDATION_FAILED",
    );

    // A nonce this deployment never issued
    let invented = response_to(&for_alice, "alice", "success", |claims| {
        claims["nonce"] = json!(URL_SAFE_NO_PAD.encode(b"made up by the caller"));
    });
    failed(
        &mfa.call(second("alice", &invented)).await,
        400,
        "VALIDATION_FAILED",
    );

    // The response to another request (a passwordless one) is not an MFA answer
    let other = first_call(&passwordless, json!({})).await;
    let elsewhere = response_to(&other, "alice", "success", |_| {});
    failed(
        &mfa.call(second("alice", &elsewhere)).await,
        400,
        "VALIDATION_FAILED",
    );

    // None of those spent the genuine response
    let genuine = response_to(&for_alice, "alice", "success", |_| {});
    assert_eq!(
        ok(&mfa.call(second("alice", &genuine)).await)["status"],
        "success"
    );
}

#[tokio::test]
async fn passwordless_context_is_bound_to_its_user_and_used_once() {
    let stack = Stack::start().await;
    let initialize = stack.function("initializePasswordlessAuthentication").await;
    let finalize = stack.function("finalizePasswordlessAuthentication").await;

    // The passkey sign-in resolves alice
    let request = first_call(&initialize, json!({})).await;
    assert!(
        request
            .get("sub")
            .is_none_or(|sub| sub.is_null() || sub == ""),
        "{request}"
    );
    let response = response_to(&request, "alice", "success", |claims| {
        claims["authenticationType"] = json!("FIDO2");
    });
    let output = ok(&initialize
        .call(json!({ "ppmResponse": response, "customAuth": { "skRedirectUri": RETURN_URL } }))
        .await);
    assert_eq!(
        (output["status"].as_str(), output["sub"].as_str()),
        (Some("success"), Some("alice"))
    );
    let context = output["passwordlessContext"]
        .as_str()
        .expect("a context")
        .to_string();

    // Not for bob, and not when tampered with
    let mut bob = json!({ "sub": "bob", "passwordlessContext": context });
    bob["customAuth"] = json!({ "skRedirectUri": RETURN_URL });
    let body = failed(&finalize.call(bob).await, 400, "VALIDATION_FAILED");
    assert!(problem(&body).contains("passwordlessContext"), "{body}");
    let mut tampered = context.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let forged = json!({ "sub": "alice", "passwordlessContext": tampered,
        "customAuth": { "skRedirectUri": RETURN_URL } });
    failed(&finalize.call(forged).await, 400, "VALIDATION_FAILED");

    // alice finalizes: PingID's policy approves
    let finalize_request = first_call(
        &finalize,
        json!({ "sub": "alice", "passwordlessContext": context }),
    )
    .await;
    assert_eq!(finalize_request["sub"], "alice");
    let approved = response_to(&finalize_request, "alice", "success", |_| {});
    let mut properties = second("alice", &approved);
    properties["passwordlessContext"] = json!(context);
    let done = ok(&finalize.call(properties.clone()).await);
    assert_eq!(done["status"], "success");

    // The context completed one sign-in; it does not start or complete another
    let reused = failed(&finalize.call(properties).await, 400, "VALIDATION_FAILED");
    assert!(problem(&reused).contains("already been used"), "{reused}");
    let again = json!({ "sub": "alice", "passwordlessContext": context,
        "customAuth": { "skRedirectUri": RETURN_URL } });
    failed(&finalize.call(again).await, 400, "VALIDATION_FAILED");
}

#[tokio::test]
async fn a_properties_file_in_the_request_is_refused_by_default() {
    let stack = Stack::start().await;
    let mfa = stack.function("initializeMfa").await;
    let inline = json!({ "sub": "alice", "customAuth": {
        "pingIdProperties": demo::legacy::properties_file(&stack.sim.base_url()),
        "skRedirectUri": RETURN_URL } });
    let body = failed(&mfa.call(inline).await, 400, "VALIDATION_FAILED");
    assert_eq!(
        body["details"][0]["field"],
        "properties.customAuth.pingIdProperties"
    );
    assert!(!body.to_string().contains(demo::legacy::USE_BASE64_KEY));
    // and without a return URL (none configured) the first call cannot be made
    let body = failed(
        &mfa.call(json!({ "sub": "alice" })).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        body["details"][0]["field"],
        "properties.customAuth.skRedirectUri"
    );
}
