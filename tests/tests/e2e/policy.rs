//! `evalPolicyPingID` end to end: the function binary with the demo policy document in moto's
//! Secrets Manager, its push counter in moto's DynamoDB, the user's devices from the simulator.
//! The rules themselves are specified by the table in `shared/fixtures/policy/cases.json`; here
//! is what only a running deployment shows: counting across invocations and instances, facts
//! read from PingOne, the client IP from API Gateway, the audit lines, and a bad document.

use crate::support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use e2e::ApiRequest;
use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Stack, failed, ok};

const EVAL: &str = "evalPolicyPingID";

/// A last MFA of `user` from this browser ten hours ago: the "new device" rule is satisfied
/// and no recent-authentication rule applies.
fn known_browser(properties: Value) -> Value {
    let ten_hours_ago = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .saturating_sub(Duration::from_secs(10 * 3600))
        .as_millis();
    let mut properties = properties;
    properties["lastMFATransaction"] = json!("customLastTransaction");
    properties["policyRecentAuthTimestamp"] = json!(ten_hours_ago.to_string());
    properties["policyRecentAuthMethod"] = json!("SWIPE");
    properties
}

/// alice signing in to payroll as a member of Finance (the "Finance" policy).
fn alice_to_payroll() -> Value {
    known_browser(json!({
        "userId": demo::ALICE_ID,
        "ip": "198.51.100.20",
        "applicationId": "payroll",
        "groups": ["Finance"],
    }))
}

#[tokio::test]
async fn push_requests_escalate_across_invocations_and_instances() {
    // Given two instances counting in one DynamoDB table
    let stack = Stack::start().await;
    let one = stack.function(EVAL).await;
    let other = stack.function(EVAL).await;

    // When alice asks to sign in six times within the hour, alternating instances
    let mut actions = Vec::new();
    for i in 0..6 {
        let function = if i % 2 == 0 { &one } else { &other };
        let decision = ok(&function.call(alice_to_payroll()).await);
        actions.push(decision["action"].as_str().unwrap().to_string());
        if i == 3 {
            assert_eq!(
                decision["matchedRule"], "limitPushNotificationsPolicy",
                "{decision}"
            );
        }
    }

    // Then the fourth request is past the first level (3: passcodes only), the sixth past the
    // second (5: deny)
    assert_eq!(
        actions,
        [
            "AUTHENTICATE",
            "AUTHENTICATE",
            "AUTHENTICATE",
            "OTP_ONLY",
            "OTP_ONLY",
            "DENY"
        ]
    );
    // And another user has a count of their own
    let mut carol = alice_to_payroll();
    carol["userId"] = json!(demo::CAROL_ID);
    assert_eq!(ok(&one.call(carol).await)["action"], "AUTHENTICATE");
}

#[tokio::test]
async fn the_os_version_and_the_office_come_from_the_users_phone() {
    let stack = Stack::start().await;
    let eval = stack.function(EVAL).await;
    let phone = format!("/_sim/app/{}", demo::ALICE_MOBILE_DEVICE_ID);

    // alice's iPhone reports iOS 17.4: the Finance policy's minimum (16.0) is met
    let decision = ok(&eval.call(alice_to_payroll()).await);
    assert_eq!(decision["action"], "AUTHENTICATE", "{decision}");

    // Once it reports 15.7, the mobile OS rule denies
    stack.sim_post(&phone, json!({ "osVersion": "15.7" })).await;
    let decision = ok(&eval.call(alice_to_payroll()).await);
    assert_eq!(decision["action"], "DENY", "{decision}");
    assert_eq!(decision["matchedRule"], "mobileOSPolicy");
    assert!(
        decision["reasons"].to_string().contains("iOS 15.7"),
        "{decision}"
    );

    // On the company network with her phone in the Berlin office: the intranet approves
    let intranet = json!({
        "userId": demo::ALICE_ID,
        "ip": "10.1.2.3",
        "applicationId": "intranet",
        "groups": [],
    });
    let decision = ok(&eval.call(intranet.clone()).await);
    assert_eq!(decision["action"], "APPROVE", "{decision}");
    assert_eq!(decision["matchedRule"], "companyNetworkPolicy");
    assert!(
        decision["reasons"].to_string().contains("Berlin HQ"),
        "{decision}"
    );

    // With the phone in Munich, or reporting no location, she authenticates
    for location in [
        json!({ "latitude": 48.137, "longitude": 11.575 }),
        Value::Null,
    ] {
        stack
            .sim_post(&phone, json!({ "location": location }))
            .await;
        let decision = ok(&eval.call(intranet.clone()).await);
        assert_eq!(decision["action"], "AUTHENTICATE", "{decision}");
        assert_eq!(decision["matchedRule"], Value::Null);
    }
}

#[tokio::test]
async fn without_an_ip_input_the_connections_address_decides_never_x_forwarded_for() {
    let stack = Stack::start().await;
    let eval = stack.function(EVAL).await;
    let body = json!({ "properties": {
        "userId": demo::ALICE_ID, "applicationId": "wiki", "groups": [],
    }});
    let path = format!("/v1/pingid/{EVAL}");
    let from = |source_ip: &str, forwarded: &str, v2: bool| {
        let request = ApiRequest::post_json(&path, &body).header("X-Forwarded-For", forwarded);
        let mut event = if v2 {
            request.http_event()
        } else {
            request.rest_event()
        };
        let context = if v2 { "http" } else { "identity" };
        event["requestContext"][context]["sourceIp"] = json!(source_ip);
        event
    };

    for v2 in [false, true] {
        // A connection from a denied country, claiming the company network in a header
        let decision = ok(&eval.invoke_proxy(from("192.0.2.44", "10.1.2.3", v2)).await);
        assert_eq!(decision["action"], "DENY", "{decision}");
        assert_eq!(decision["matchedRule"], "accessingCountryPolicy");

        // A connection from the company network, whatever the header says
        let decision = ok(&eval.invoke_proxy(from("10.1.2.3", "192.0.2.44", v2)).await);
        assert_eq!(decision["action"], "APPROVE", "{decision}");
        assert_eq!(decision["matchedRule"], "companyNetworkPolicy");
    }

    // The flow's input wins over the connection
    let mut with_ip = body.clone();
    with_ip["properties"]["ip"] = json!("2001:db8:bad::7");
    let request = ApiRequest::post_json(&path, &with_ip);
    let decision = ok(&eval.invoke_proxy(request.rest_event()).await);
    assert_eq!(decision["action"], "DENY", "{decision}");
}

#[tokio::test]
async fn two_users_on_one_browser_get_an_audit_line_each_with_nothing_personal_but_the_user_id() {
    let stack = Stack::start().await;
    let eval = stack.function(EVAL).await;
    let cookie = |at: &str| {
        json!({ "authTimestamp": at, "ip": "198.51.100.77", "authMethod": "SWIPE" }).to_string()
    };
    let browser = "Mozilla/5.0 (Macintosh) Shared-Kiosk/1.0";

    // alice, then bob, on the same browser (same user agent), each with the flow's record of
    // their own last MFA there
    let mut ids = Vec::new();
    for user in [demo::ALICE_ID, demo::BOB_ID] {
        let decision = ok(&eval
            .call(json!({
                "userId": user,
                "ip": "198.51.100.20",
                "userAgent": browser,
                "applicationId": "wiki",
                "groups": [],
                "lastMFATransaction": "pingoneCookieLastTransaction",
                "policyRecentPingOneCookie": cookie(&format!("{}", now_millis() - 60_000)),
            }))
            .await);
        assert_eq!(decision["action"], "APPROVE", "{decision}");
        assert_eq!(decision["rawResponse"]["id"], decision["id"]);
        ids.push((user, decision["id"].as_str().unwrap().to_string()));
    }

    let audit: Vec<Value> = eval
        .logs()
        .iter()
        .filter(|line| line.contains("policyDecision"))
        .map(|line| serde_json::from_str(line).expect("JSON log lines"))
        .collect();
    assert_eq!(audit.len(), 2, "{audit:?}");
    for ((user, id), line) in ids.iter().zip(&audit) {
        let text = line.to_string();
        assert!(
            text.contains(&format!("\"evaluationId\":\"{id}\"")),
            "{text}"
        );
        assert!(text.contains(&format!("\"userId\":\"{user}\"")), "{text}");
        assert!(text.contains("\"action\":\"APPROVE\""), "{text}");
        assert!(text.contains("recentAuthenticationPolicy"), "{text}");
    }
    // No address, user agent or cookie reaches any log line
    for line in eval.logs() {
        for personal in ["198.51.100.20", "198.51.100.77", "Shared-Kiosk"] {
            assert!(!line.contains(personal), "{line}");
        }
    }
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[tokio::test]
async fn an_invalid_document_is_refused_and_the_last_valid_one_keeps_deciding() {
    let stack = Stack::start().await;
    let ttl = [("PINGID_SECRET_TTL_SECONDS", "1".to_string())];
    let eval = stack.function_with(EVAL, &ttl).await;
    let request = json!({ "userId": demo::ALICE_ID, "ip": "192.0.2.9", "applicationId": "wiki", "groups": [] });
    assert_eq!(ok(&eval.call(request.clone()).await)["action"], "DENY");

    // An edit with a misspelt action reaches the secret
    let broken = support::DEMO_POLICY.replacen("\"DENY\"", "\"DENNY\"", 1);
    stack
        .moto
        .put_secret_value(&stack.policy_arn, &broken)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;

    // The decision still comes from the last valid document, and the log names the field
    let decision = ok(&eval.call(request).await);
    assert_eq!(decision["action"], "DENY", "{decision}");
    assert_eq!(decision["failedClosed"], false);
    assert!(
        eval.logs().iter().any(|line| line
            .contains("authenticationPolicies[0](Contractors).defaultPolicyAction")),
        "{:?}",
        eval.logs()
    );
}

#[tokio::test]
async fn with_no_valid_document_every_request_is_denied_and_inputs_are_checked_first() {
    let stack = Stack::start().await;
    let arn = stack
        .moto
        .create_secret("pingid/policy-broken", "{\"authenticationPolicies\": []}")
        .await
        .unwrap();
    let eval = stack
        .function_with(EVAL, &[("PINGID_POLICY_SECRET_ID", arn)])
        .await;

    // From the company network, where the demo document would approve: denied
    let decision = ok(&eval
        .call(json!({ "userId": demo::ALICE_ID, "ip": "10.1.2.3", "applicationId": "wiki", "groups": [] }))
        .await);
    assert_eq!(decision["action"], "DENY", "{decision}");
    assert_eq!(decision["failedClosed"], true);
    assert_eq!(decision["matchedPolicy"], Value::Null);

    // Every input problem is named at once, before any document matters
    let body = failed(
        &eval
            .call(json!({
                "userId": demo::ALICE_ID,
                "ip": "not-an-address",
                "policyFactsIp": "10.1.2.3",
                "groups": ["Finance"],
                "policyFactsGroups": ["Sales"],
                "policyRecentAuthTimestamp": "yesterday",
            }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    let fields = support::problem_fields(&body);
    assert_eq!(
        fields,
        [
            "properties.policyFactsIp",
            "properties.policyFactsGroups",
            "properties.policyRecentAuthTimestamp"
        ],
        "{body}"
    );
}

#[tokio::test]
async fn a_legacy_tenant_can_keep_its_policy_in_pingid_and_the_country_table_in_the_secret() {
    let stack = Stack::start().await;
    let from_secret = stack.function(EVAL).await;
    let from_pingid = stack
        .function_with(EVAL, &[("PINGID_POLICY_SOURCE", "pingid".to_string())])
        .await;
    let request = json!({
        "userId": demo::ALICE_ID, "ip": "192.0.2.9", "applicationId": "wiki", "groups": [],
    });

    // The demo document (the secret) denies a sign-in from KP
    let decision = ok(&from_secret.call(request.clone()).await);
    assert_eq!(decision["action"], "DENY", "{decision}");

    // The legacy org's policy set in PingID (the simulator's: one default policy, no country
    // rule) authenticates it, twice from one read of the policy API
    for _ in 0..2 {
        let decision = ok(&from_pingid.call(request.clone()).await);
        assert_eq!(decision["action"], "AUTHENTICATE", "{decision}");
        assert_eq!(decision["matchedPolicy"], "Default Policy");
        assert_eq!(
            decision["allowedMethods"],
            json!([
                "SWIPE",
                "SMS",
                "VOICE",
                "EMAIL",
                "OTP",
                "AUTHENTICATOR_APP",
                "WEBAUTHN_PLATFORM"
            ]),
            "the methods PingID's document allows, as it lists them"
        );
    }
    let reads = from_pingid
        .logs()
        .iter()
        .filter(|line| line.contains("policy document loaded"))
        .count();
    assert_eq!(reads, 1);
}
