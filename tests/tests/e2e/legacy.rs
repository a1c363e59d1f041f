//! The legacy connector's two calls through the real function binaries, with the test playing
//! the PingID authenticator: it reads the PPM request the first call produced and signs the
//! response PingID would post back (with the demo org's key, as the simulator does). What must
//! be refused is refused: a response for another user or another request, an expired or
//! forged one, one used twice, a passwordless context that is forged, for another user or
//! used before, and a passwordless sign-in bound to one flow session (`flowSessionId`) played
//! in another. (The same loop in a real browser against the simulator's pages is in
//! `legacy_browser.rs`.)

use crate::support;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use e2e::ProxyResponse;
use pingid_sim::demo;
use serde_json::{Value, json};
use shared::pingid::jws;
use support::{Function, Stack, assert_no_secret_in_logs, failed, ok};

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

/// DaVinci-style interaction ids: the victim's flow and the attacker's own.
const VICTIM_FLOW: &str = "03d1a2b4-5c6d-4e7f-8a9b-0c1d2e3f4a5b";
const ATTACKER_FLOW: &str = "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910";

/// `properties` with `flowSessionId` set to `session` (left out for `None`).
fn in_session(properties: Value, session: Option<&str>) -> Value {
    let mut properties = properties;
    if let Some(session) = session {
        properties["flowSessionId"] = json!(session);
    }
    properties
}

/// A refusal without its per-call correlation id: what two refusals must share to be "the same".
fn refusal(body: &Value) -> Value {
    let mut body = body.clone();
    body.as_object_mut().unwrap().remove("correlationId");
    body
}

/// The refusal a tampered passwordless context gets (the answer a flow-session mismatch must
/// give too).
async fn tampered_context_refusal(finalize: &Function) -> Value {
    let body = failed(
        &finalize
            .call(
                json!({ "sub": "alice", "passwordlessContext": "v1.eyJleHAiOjB9.forged",
                "customAuth": { "skRedirectUri": RETURN_URL } }),
            )
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        body["details"][0]["field"],
        "properties.passwordlessContext"
    );
    refusal(&body)
}

/// The refusal a PPM response to no request of this connector gets (the answer a response
/// made for another flow session must give too).
async fn foreign_response_refusal(initialize: &Function) -> Value {
    let request = first_call(initialize, json!({})).await;
    let invented = response_to(&request, "alice", "success", |claims| {
        claims["nonce"] = json!(URL_SAFE_NO_PAD.encode(b"made up by the caller"));
    });
    let body = failed(
        &initialize
            .call(json!({ "ppmResponse": invented, "customAuth": { "skRedirectUri": RETURN_URL } }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(body["details"][0]["field"], "properties.ppmResponse");
    refusal(&body)
}

/// The second `initializePasswordlessAuthentication` call with `response`, in `session`.
async fn resolve(initialize: &Function, response: &str, session: Option<&str>) -> ProxyResponse {
    let properties =
        json!({ "ppmResponse": response, "customAuth": { "skRedirectUri": RETURN_URL } });
    initialize.call(in_session(properties, session)).await
}

/// A `finalizePasswordlessAuthentication` call for `sub` with `context`, in `session`: the
/// first (no `response`) or the second.
async fn finalize_call(
    finalize: &Function,
    sub: &str,
    context: &str,
    response: Option<&str>,
    session: Option<&str>,
) -> ProxyResponse {
    let mut properties = json!({ "sub": sub, "passwordlessContext": context,
        "customAuth": { "skRedirectUri": RETURN_URL } });
    if let Some(response) = response {
        properties["ppmResponse"] = json!(response);
    }
    finalize.call(in_session(properties, session)).await
}

/// The readable content of a passwordless context.
fn context_content(context: &str) -> Value {
    let payload = context.split('.').nth(1).expect("v1.<payload>.<tag>");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The finalize PPM round trip for `sub` with `context` in `session`: PingID's approving answer.
async fn finalize_response(
    finalize: &Function,
    sub: &str,
    context: &str,
    session: Option<&str>,
) -> String {
    let properties = json!({ "sub": sub, "passwordlessContext": context });
    let request = first_call(finalize, in_session(properties, session)).await;
    response_to(&request, sub, "success", |_| {})
}

#[tokio::test]
async fn a_passwordless_sign_in_bound_to_a_flow_session_completes_in_that_session() {
    let stack = Stack::start().await;
    let initialize = stack.function("initializePasswordlessAuthentication").await;
    let finalize = stack.function("finalizePasswordlessAuthentication").await;

    let request = first_call(&initialize, in_session(json!({}), Some(VICTIM_FLOW))).await;
    // The PPM request (readable by the browser) does not carry the session id.
    assert!(!request.to_string().contains(VICTIM_FLOW), "{request}");
    let response = response_to(&request, "alice", "success", |_| {});
    let output = ok(&resolve(&initialize, &response, Some(VICTIM_FLOW)).await);
    assert_eq!(
        (output["status"].as_str(), output["sub"].as_str()),
        (Some("success"), Some("alice"))
    );
    let context = output["passwordlessContext"].as_str().unwrap().to_string();
    // The context holds a digest of the session, not the session.
    let content = context_content(&context);
    assert!(content["fs"].is_string(), "{content}");
    assert!(!content.to_string().contains(VICTIM_FLOW), "{content}");

    let approved = finalize_response(&finalize, "alice", &context, Some(VICTIM_FLOW)).await;
    let done = ok(&finalize_call(
        &finalize,
        "alice",
        &context,
        Some(&approved),
        Some(VICTIM_FLOW),
    )
    .await);
    assert_eq!(
        (done["status"].as_str(), done["sub"].as_str()),
        (Some("success"), Some("alice"))
    );
    assert_no_secret_in_logs(
        &[&initialize, &finalize],
        &[VICTIM_FLOW, &context, &response, &approved],
    );
}

#[tokio::test]
async fn an_attackers_passkey_sign_in_cannot_complete_in_a_victims_flow() {
    let stack = Stack::start().await;
    let initialize = stack.function("initializePasswordlessAuthentication").await;
    let finalize = stack.function("finalizePasswordlessAuthentication").await;
    let foreign_response = foreign_response_refusal(&initialize).await;
    let foreign_context = tampered_context_refusal(&finalize).await;

    // The victim's flow sends her browser to PingID; so does the attacker's own flow, and he
    // signs in with his own passkey.
    let victims_request = first_call(&initialize, in_session(json!({}), Some(VICTIM_FLOW))).await;
    let attackers_request =
        first_call(&initialize, in_session(json!({}), Some(ATTACKER_FLOW))).await;
    let attackers_response = response_to(&attackers_request, "mallory", "success", |_| {});

    // His PPM response posted to the victim's return page: refused like a response to no
    // request of ours, and not spent.
    let body = failed(
        &resolve(&initialize, &attackers_response, Some(VICTIM_FLOW)).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(refusal(&body), foreign_response);
    let attackers_context = ok(
        &resolve(&initialize, &attackers_response, Some(ATTACKER_FLOW)).await,
    )["passwordlessContext"]
        .as_str()
        .unwrap()
        .to_string();

    // His context and his finalize response played in the victim's flow: refused as a forged
    // context, at either call, before the single-use record is read.
    let attackers_approval = finalize_response(
        &finalize,
        "mallory",
        &attackers_context,
        Some(ATTACKER_FLOW),
    )
    .await;
    for response in [None, Some(attackers_approval.as_str())] {
        let body = failed(
            &finalize_call(
                &finalize,
                "mallory",
                &attackers_context,
                response,
                Some(VICTIM_FLOW),
            )
            .await,
            400,
            "VALIDATION_FAILED",
        );
        assert_eq!(refusal(&body), foreign_context);
    }

    // The victim's own sign-in is untouched: her passkey answer resolves her, the attacker's
    // finalize response in her context is refused without spending it, and her own completes.
    let victims_response = response_to(&victims_request, "alice", "success", |_| {});
    let victims_context = ok(&resolve(&initialize, &victims_response, Some(VICTIM_FLOW)).await)
        ["passwordlessContext"]
        .as_str()
        .unwrap()
        .to_string();
    failed(
        &finalize_call(
            &finalize,
            "alice",
            &victims_context,
            Some(&attackers_approval),
            Some(VICTIM_FLOW),
        )
        .await,
        400,
        "VALIDATION_FAILED",
    );
    let victims_approval =
        finalize_response(&finalize, "alice", &victims_context, Some(VICTIM_FLOW)).await;
    let done = ok(&finalize_call(
        &finalize,
        "alice",
        &victims_context,
        Some(&victims_approval),
        Some(VICTIM_FLOW),
    )
    .await);
    assert_eq!(
        (done["status"].as_str(), done["sub"].as_str()),
        (Some("success"), Some("alice"))
    );

    // The refused plays spent nothing of the attacker's either: in his own flow they complete.
    let done = ok(&finalize_call(
        &finalize,
        "mallory",
        &attackers_context,
        Some(&attackers_approval),
        Some(ATTACKER_FLOW),
    )
    .await);
    assert_eq!(done["sub"], "mallory");
}

#[tokio::test]
async fn a_bound_passwordless_sign_in_is_refused_without_its_flow_session() {
    let stack = Stack::start().await;
    let initialize = stack.function("initializePasswordlessAuthentication").await;
    let finalize = stack.function("finalizePasswordlessAuthentication").await;
    let foreign_response = foreign_response_refusal(&initialize).await;
    let foreign_context = tampered_context_refusal(&finalize).await;

    // The second initialize call without the session (or with another): refused, not spent.
    let request = first_call(&initialize, in_session(json!({}), Some(VICTIM_FLOW))).await;
    let response = response_to(&request, "alice", "success", |_| {});
    for session in [None, Some(ATTACKER_FLOW)] {
        let body = failed(
            &resolve(&initialize, &response, session).await,
            400,
            "VALIDATION_FAILED",
        );
        assert_eq!(refusal(&body), foreign_response, "{session:?}");
    }
    let context =
        ok(&resolve(&initialize, &response, Some(VICTIM_FLOW)).await)["passwordlessContext"]
            .as_str()
            .unwrap()
            .to_string();

    // Either finalize call without the session: refused like a forged context, not spent.
    let body = failed(
        &finalize_call(&finalize, "alice", &context, None, None).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(refusal(&body), foreign_context);
    let approved = finalize_response(&finalize, "alice", &context, Some(VICTIM_FLOW)).await;
    let body = failed(
        &finalize_call(&finalize, "alice", &context, Some(&approved), None).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(refusal(&body), foreign_context);
    let done = ok(&finalize_call(
        &finalize,
        "alice",
        &context,
        Some(&approved),
        Some(VICTIM_FLOW),
    )
    .await);
    assert_eq!(done["status"], "success");
}

#[tokio::test]
async fn an_unbound_passwordless_sign_in_works_as_before_and_takes_no_flow_session_later() {
    let stack = Stack::start().await;
    let initialize = stack.function("initializePasswordlessAuthentication").await;
    let finalize = stack.function("finalizePasswordlessAuthentication").await;
    let foreign_response = foreign_response_refusal(&initialize).await;
    let foreign_context = tampered_context_refusal(&finalize).await;

    // Strict: a session named only from the second call on is refused, at initialize…
    let request = first_call(&initialize, json!({})).await;
    let response = response_to(&request, "alice", "success", |_| {});
    let body = failed(
        &resolve(&initialize, &response, Some(VICTIM_FLOW)).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(refusal(&body), foreign_response);
    let context = ok(&resolve(&initialize, &response, None).await)["passwordlessContext"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(context_content(&context).get("fs").is_none(), "{context}");

    // …and at finalize, at either call, without spending the context.
    let body = failed(
        &finalize_call(&finalize, "alice", &context, None, Some(VICTIM_FLOW)).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(refusal(&body), foreign_context);
    let approved = finalize_response(&finalize, "alice", &context, None).await;
    let body = failed(
        &finalize_call(
            &finalize,
            "alice",
            &context,
            Some(&approved),
            Some(VICTIM_FLOW),
        )
        .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(refusal(&body), foreign_context);

    // Without a session throughout, as before.
    let done = ok(&finalize_call(&finalize, "alice", &context, Some(&approved), None).await);
    assert_eq!(
        (done["status"].as_str(), done["sub"].as_str()),
        (Some("success"), Some("alice"))
    );
}
