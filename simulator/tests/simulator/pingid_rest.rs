//! The legacy PingID REST API: request authentication, the response envelope and the
//! authentication / pairing state machines.

use pingid_sim::demo::ALICE_PHONE;
use pingid_sim::demo::legacy::{ALICE_SMS_DEVICE_ID, CAROL_TOTP_DEVICE_ID, ORG_ALIAS, TOKEN};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::legacy::{OrgCreds, call, call_as, post_raw, request_parts, sign};
use crate::support::Sim;

fn user(name: &str) -> Value {
    json!({ "userName": name, "getSameDeviceUsers": false, "clientData": null })
}

#[tokio::test]
async fn a_signed_request_is_answered_with_a_signed_envelope() {
    let sim = Sim::start().await;
    let (status, body, header) = call_as(
        &sim,
        &OrgCreds::demo(),
        "getuserdetails",
        json!({ "userName": "alice", "getSameDeviceUsers": false, "clientData": "ctx-42" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        header,
        json!({ "alg": "HS256", "orgAlias": ORG_ALIAS, "token": TOKEN })
    );
    assert_eq!(body["errorId"], 200);
    assert_eq!(body["clientData"], "ctx-42");
    let unique = body["uniqueMsgId"].as_str().expect("uniqueMsgId");
    assert!(
        unique.starts_with("webs_") && unique.len() == 48,
        "{unique}"
    );
    let details = &body["userDetails"];
    assert_eq!(details["userName"], "alice");
    assert_eq!(details["status"], "ACTIVE");
    assert_eq!(details["fname"], "Alice");
    assert_eq!(details["devicesDetails"].as_array().map(Vec::len), Some(2));
    assert_eq!(details["deviceDetails"]["type"], "iPhone");
    assert_eq!(details["deviceDetails"]["deviceRole"], "PRIMARY");
    assert_eq!(body["sameDeviceUsersDetails"], json!([]));
}

#[tokio::test]
async fn the_op_segment_is_case_insensitive_and_org_alias_casing_is_free() {
    let sim = Sim::start().await;
    let org = OrgCreds::demo();
    let (_, payload) = request_parts(&org, user("bob"));
    let header = json!({ "alg": "HS256", "orgAlias": org.alias, "token": org.token });
    let (status, text) = post_raw(&sim, "GetUserDetails", sign(&header, &payload, &org.key)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
}

#[tokio::test]
async fn unknown_users_are_10564() {
    let sim = Sim::start().await;
    let (status, body) = call(&sim, "getuserdetails", user("mallory")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errorId"], 10564);
    assert_eq!(body["userDetails"], Value::Null);
}

/// Every tampered request is refused with a plain-JSON 400 envelope.
#[tokio::test]
async fn tampered_requests_are_refused() {
    let sim = Sim::start().await;
    let org = OrgCreds::demo();
    let (header, payload) = request_parts(&org, user("alice"));
    let good = sign(&header, &payload, &org.key);

    let none = {
        let (_, rest) = good.split_once('.').expect("jws");
        let (payload, _) = rest.split_once('.').expect("jws");
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            json!({ "alg": "none", "org_alias": org.alias, "token": org.token }).to_string(),
        );
        format!("{header}.{payload}.")
    };
    let hs512 = sign(
        &json!({ "alg": "HS512", "org_alias": org.alias, "token": org.token }),
        &payload,
        &org.key,
    );
    let wrong_key = sign(&header, &payload, b"0123456789abcdef0123456789abcdef");
    let flipped = {
        let mut bytes = good.clone().into_bytes();
        let at = bytes.len() - 5;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).expect("ascii")
    };
    let missing_signature = good[..good.rfind('.').expect("dot")].to_owned();
    let empty_signature = good[..=good.rfind('.').expect("dot")].to_owned();
    let token_mismatch = {
        let mut payload = payload.clone();
        payload["reqHeader"]["secretKey"] = json!("00000000000000000000000000000000");
        sign(&header, &payload, &org.key)
    };
    let other = OrgCreds::other();
    let signed_for_other_key = sign(&header, &payload, &other.key);
    let unknown_org = {
        let alias = "11111111-2222-4333-8444-555555555555";
        let mut payload = payload.clone();
        payload["reqHeader"]["orgAlias"] = json!(alias);
        sign(
            &json!({ "alg": "HS256", "org_alias": alias, "token": org.token }),
            &payload,
            &org.key,
        )
    };
    let cases = [
        ("alg none", none),
        ("HS512", hs512),
        ("wrong key", wrong_key),
        ("flipped signature byte", flipped),
        ("missing signature", missing_signature),
        ("empty signature", empty_signature),
        ("token != secretKey", token_mismatch),
        ("other org's key", signed_for_other_key),
        ("unknown org", unknown_org),
        ("not a JWS", "hello".to_owned()),
    ];
    for (name, body) in cases {
        let (status, text) = post_raw(&sim, "getuserdetails", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {text}");
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{name}: plain JSON"));
        assert_eq!(json["responseBody"]["errorId"], 400, "{name}");
        assert_eq!(json["responseBody"]["userDetails"], Value::Null, "{name}");
    }
}

#[tokio::test]
async fn a_request_signed_for_one_org_is_refused_by_the_other() {
    let sim = Sim::start().await;
    let demo = OrgCreds::demo();
    let other = OrgCreds::other();
    // The demo org's token and key, but naming the other org.
    let mut payload = request_parts(&demo, user("alice")).1;
    payload["reqHeader"]["orgAlias"] = json!(other.alias);
    let header = json!({ "alg": "HS256", "org_alias": other.alias, "token": demo.token });
    let (status, _) = post_raw(&sim, "getuserdetails", sign(&header, &payload, &demo.key)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The other org's own credentials work.
    let (status, body, _) = call_as(&sim, &other, "getuserdetails", user("alice")).await;
    assert_eq!(
        (status, body["errorId"].as_u64()),
        (StatusCode::OK, Some(200))
    );
}

#[tokio::test]
async fn sms_authentication_sends_an_otp_that_authoffline_accepts() {
    let sim = Sim::start().await;
    let (status, started) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "alice", "deviceId": ALICE_SMS_DEVICE_ID, "clientData": "c1" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(started["errorId"], 30001, "{started}");
    assert_eq!(started["clientData"], "c1");
    let session = started["sessionId"].as_str().expect("sessionId").to_owned();
    assert!(session.starts_with("webs_"));
    let otp = sim.last_otp_to(ALICE_PHONE).await;

    let (status, done) = call(
        &sim,
        "authoffline",
        json!({ "spAlias": "web", "userName": "alice", "otp": otp, "sessionId": session }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(done["errorId"], 200, "{done}");
    assert!(done["cookie"].is_string());

    // The session is used up.
    let (status, again) = call(
        &sim,
        "authoffline",
        json!({ "spAlias": "web", "userName": "alice", "otp": otp, "sessionId": session }),
    )
    .await;
    assert_eq!(
        (status, again["errorId"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(20517))
    );
}

#[tokio::test]
async fn wrong_otps_are_20513_until_the_session_is_gone() {
    let sim = Sim::start().await;
    let (_, started) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "alice", "deviceId": ALICE_SMS_DEVICE_ID.to_string() }),
    )
    .await;
    let session = started["sessionId"].clone();
    let otp = sim.last_otp_to(ALICE_PHONE).await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        let (status, body) = call(
            &sim,
            "authoffline",
            json!({ "spAlias": "web", "userName": "alice", "otp": wrong, "sessionId": session }),
        )
        .await;
        assert_eq!(
            (status, body["errorId"].as_u64()),
            (StatusCode::BAD_REQUEST, Some(20513))
        );
    }
    let (_, body) = call(
        &sim,
        "authoffline",
        json!({ "spAlias": "web", "userName": "alice", "otp": otp, "sessionId": session }),
    )
    .await;
    assert_eq!(body["errorId"], 20517);
}

#[tokio::test]
async fn async_push_waits_until_the_phone_approves() {
    let sim = Sim::start().await;
    let (status, started) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "alice", "async": true }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(started["errorId"], 30010, "{started}");
    let session = started["sessionId"].as_str().expect("sessionId").to_owned();

    let (_, waiting) = call(&sim, "authstatus", json!({ "sessionId": session })).await;
    assert_eq!(waiting["errorId"], 30010);

    let (status, _) = sim
        .control(
            &format!("pingid/push/{session}"),
            json!({ "decision": "APPROVE" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, done) = call(&sim, "authstatus", json!({ "sessionId": session })).await;
    assert_eq!(
        (status, done["errorId"].as_u64()),
        (StatusCode::OK, Some(200))
    );
}

#[tokio::test]
async fn a_denied_push_fails() {
    let sim = Sim::start().await;
    let (_, started) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "alice", "async": "true" }),
    )
    .await;
    let session = started["sessionId"].as_str().expect("sessionId").to_owned();
    sim.control(
        &format!("pingid/push/{session}"),
        json!({ "decision": "DENY" }),
    )
    .await;
    let (status, body) = call(&sim, "authstatus", json!({ "sessionId": session })).await;
    assert_eq!(
        (status, body["errorId"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(20516))
    );
}

#[tokio::test]
async fn the_prompting_org_offers_a_device_choice() {
    let sim = Sim::start().await;
    let other = OrgCreds::other();
    let (status, started, _) = call_as(
        &sim,
        &other,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "alice" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(started["errorId"], 30008);
    assert_eq!(started["multipleDevicesEnabled"], true);
    let devices = started["userDevices"].as_array().expect("devices");
    let sms = devices
        .iter()
        .find(|d| d["type"] == "SMS")
        .expect("an SMS device");
    let (_, chosen, _) = call_as(
        &sim,
        &other,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "alice", "sessionId": started["sessionId"], "deviceId": sms["deviceId"] }),
    )
    .await;
    assert_eq!(chosen["errorId"], 30001, "{chosen}");
    assert_eq!(chosen["sessionId"], started["sessionId"]);
}

#[tokio::test]
async fn carol_authenticates_with_her_authenticator_app() {
    let sim = Sim::start().await;
    let (_, started) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "carol" }),
    )
    .await;
    assert_eq!(started["errorId"], 30015);
    assert_eq!(started["userDevices"][0]["deviceId"], CAROL_TOTP_DEVICE_ID);
    let otp = sim.totp(pingid_sim::demo::CAROL_TOTP_DEVICE_ID).await;
    let (_, done) = call(
        &sim,
        "authoffline",
        json!({ "spAlias": "web", "userName": "carol", "otp": otp, "sessionId": started["sessionId"] }),
    )
    .await;
    assert_eq!(done["errorId"], 200, "{done}");
}

#[tokio::test]
async fn bob_pairs_an_sms_device_offline_and_then_authenticates() {
    let sim = Sim::start().await;
    let (status, no_device) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "bob" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(no_device["errorId"], 20520);

    let (status, started) = call(
        &sim,
        "startofflinepairing",
        json!({ "username": "bob", "type": "SMS", "pairingData": "15555550102" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let session = started["sessionId"].as_str().expect("sessionId").to_owned();
    assert!(session.starts_with("oacts_"));
    let otp = sim.last_otp_to("+15555550102").await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let (_, body) = call(
        &sim,
        "finalizeofflinepairing",
        json!({ "sessionId": session, "otp": wrong }),
    )
    .await;
    assert_eq!(body["errorId"], 20513);
    let (_, body) = call(
        &sim,
        "finalizeofflinepairing",
        json!({ "sessionId": "oacts_nope", "otp": otp }),
    )
    .await;
    assert_eq!(body["errorId"], 20517);
    let (_, body) = call(
        &sim,
        "finalizeofflinepairing",
        json!({ "sessionId": session, "otp": otp }),
    )
    .await;
    assert_eq!(body["errorId"], 200, "{body}");

    let (_, details) = call(&sim, "getuserdetails", user("bob")).await;
    assert_eq!(details["userDetails"]["status"], "ACTIVE");
    assert_eq!(details["userDetails"]["deviceDetails"]["type"], "SMS");
    let (_, started) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "bob" }),
    )
    .await;
    assert_eq!(started["errorId"], 30001);
}

#[tokio::test]
async fn adduser_and_activation_codes() {
    let sim = Sim::start().await;
    let (status, added) = call(
        &sim,
        "adduser",
        json!({ "username": "dave", "activateUser": true, "role": "REGULAR", "email": "dave@example.com", "fName": "Dave", "lname": "Doe" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(added["userDetails"]["status"], "PENDING_ACTIVATION");
    assert_eq!(added["userDetails"]["fname"], "Dave");
    assert_eq!(added["activationCode"].as_str().map(str::len), Some(12));
    let (status, again) = call(&sim, "adduser", json!({ "username": "dave" })).await;
    assert_eq!(
        (status, again["errorId"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(10556))
    );
    let (_, code) = call(&sim, "getactivationcode", json!({ "userName": "dave" })).await;
    assert_eq!(code["activationCode"].as_str().map(str::len), Some(12));
}

#[tokio::test]
async fn cancel_and_policy_read() {
    let sim = Sim::start().await;
    let (_, started) = call(
        &sim,
        "startauthentication",
        json!({ "spAlias": "web", "userName": "alice", "async": true }),
    )
    .await;
    let (_, cancelled) = call(
        &sim,
        "cancelauthentication",
        json!({ "sessionId": started["sessionId"], "cancelAuthenticationType": "DEFAULT" }),
    )
    .await;
    assert_eq!(cancelled["errorId"], 200);
    let (_, gone) = call(
        &sim,
        "authstatus",
        json!({ "sessionId": started["sessionId"] }),
    )
    .await;
    assert_eq!(gone["errorId"], 20517);
    let (_, policy) = call(
        &sim,
        "readbulkauthenticationpolicy",
        json!({ "authenticationSource": "WEB" }),
    )
    .await;
    assert_eq!(policy["errorId"], 200);
    assert!(policy["authenticationPolicies"].is_array());
}

#[tokio::test]
async fn faults_answer_signed_error_ids() {
    let sim = Sim::start().await;
    let response = sim
        .http
        .put(sim.url("/_sim/faults"))
        .json(&json!([{ "pathPrefix": "/pingid/rest", "errorId": 10551, "count": 1 }]))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = call(&sim, "getuserdetails", user("alice")).await;
    assert_eq!(
        (status, body["errorId"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(10551))
    );
    let (status, _) = call(&sim, "getuserdetails", user("alice")).await;
    assert_eq!(status, StatusCode::OK);

    sim.http
        .put(sim.url("/_sim/faults"))
        .json(&json!({ "pathPrefix": "/pingid/rest", "status": 503, "count": 1 }))
        .send()
        .await
        .expect("answered");
    let (status, body) = call(&sim, "getuserdetails", user("alice")).await;
    assert_eq!(
        (status, body["errorId"].as_u64()),
        (StatusCode::SERVICE_UNAVAILABLE, Some(500))
    );
}

#[tokio::test]
async fn a_tampered_response_does_not_verify() {
    let sim = Sim::start().await;
    let (status, _) = sim.control("pingid/tamper-next-response", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let org = OrgCreds::demo();
    let (header, payload) = request_parts(&org, user("alice"));
    let (status, text) = post_raw(&sim, "getuserdetails", sign(&header, &payload, &org.key)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(crate::legacy::verify(&text, &org.key).is_none());
    // Only the next one.
    let (status, _) = call(&sim, "getuserdetails", user("alice")).await;
    assert_eq!(status, StatusCode::OK);
}
