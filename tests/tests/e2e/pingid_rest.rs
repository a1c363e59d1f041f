//! The PingID REST API client (`shared::pingid::api`) against the simulator's PingID REST API:
//! two implementations written independently from the wire reference, checking each other —
//! signed requests accepted, signed responses verified, the `errorId` flows mapped, and a
//! response signed with the wrong key never taken for an answer.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use pingid_sim::{SimConfig, Simulator, demo};
use serde_json::{Map, Value, json};
use shared::budget::Deadline;
use shared::pingid::api::{Operation, Outcome, PingIdClient};
use shared::pingid::properties::Properties;

fn body(value: Value) -> Map<String, Value> {
    value.as_object().expect("an object").clone()
}

fn deadline() -> Deadline {
    Deadline::after(Duration::from_secs(5))
}

async fn setup() -> (pingid_sim::RunningSim, Properties, PingIdClient) {
    let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), SimConfig::default())
        .await
        .expect("simulator starts");
    let properties = Properties::parse(&demo::legacy::properties_file(&sim.base_url()))
        .expect("the demo properties file parses");
    let client = PingIdClient::new(PingIdClient::default_http().unwrap());
    (sim, properties, client)
}

/// `getuserdetails` for `user`.
async fn user_details(
    client: &PingIdClient,
    properties: &Properties,
    user: &str,
) -> Result<shared::pingid::api::ApiResponse, shared::Error> {
    client
        .call(
            properties,
            Operation::GetUserDetails,
            body(json!({ "userName": user, "getSameDeviceUsers": false })),
            SystemTime::now(),
            deadline(),
        )
        .await
}

#[tokio::test]
async fn user_details_come_back_signed_and_verified() {
    let (_sim, properties, client) = setup().await;
    let answer = user_details(&client, &properties, "alice")
        .await
        .expect("alice's details");
    assert_eq!(answer.error_id, 200);
    assert!(matches!(answer.outcome, Outcome::Ok));
    assert_eq!(
        answer.body["userDetails"]["userName"], "alice",
        "{}",
        answer.body
    );

    let unknown = user_details(&client, &properties, "mallory")
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), "NOT_FOUND");
}

#[tokio::test]
async fn an_sms_authentication_goes_through_authoffline() {
    let (sim, properties, client) = setup().await;
    let started = client
        .call(
            &properties,
            Operation::StartAuthentication,
            body(json!({ "spAlias": "web", "userName": "alice",
                "deviceId": demo::legacy::ALICE_SMS_DEVICE_ID })),
            SystemTime::now(),
            deadline(),
        )
        .await
        .expect("started");
    assert_eq!(started.error_id, 30001, "{}", started.body);
    assert!(matches!(started.outcome, Outcome::Continue));
    let session = started.body["sessionId"].as_str().unwrap().to_string();
    let messages: Value = e2e::get(format!(
        "{}/_sim/messages?to=%2B15555550101",
        sim.base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let otp = messages.as_array().unwrap().last().unwrap()["otp"]
        .as_str()
        .unwrap()
        .to_string();
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let refused = client
        .call(
            &properties,
            Operation::AuthOffline,
            body(json!({ "spAlias": "web", "userName": "alice", "otp": wrong, "sessionId": session })),
            SystemTime::now(),
            deadline(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "INVALID_OTP");
    let done = client
        .call(
            &properties,
            Operation::AuthOffline,
            body(
                json!({ "spAlias": "web", "userName": "alice", "otp": otp, "sessionId": session }),
            ),
            SystemTime::now(),
            deadline(),
        )
        .await
        .expect("the right passcode");
    assert_eq!(done.error_id, 200);
}

#[tokio::test]
async fn a_response_signed_with_another_key_is_never_an_answer() {
    let (sim, properties, client) = setup().await;
    shared::http::bare_builder()
        .build()
        .expect("the client builds")
        .post(format!(
            "{}/_sim/pingid/tamper-next-response",
            sim.base_url()
        ))
        .json(&json!({ "count": 1 }))
        .send()
        .await
        .unwrap();
    let error = user_details(&client, &properties, "alice")
        .await
        .unwrap_err();
    assert_eq!(error.code(), "UPSTREAM_INVALID");
    // the next one is genuine again
    let answer = user_details(&client, &properties, "alice").await.unwrap();
    assert_eq!(answer.error_id, 200);
}

#[tokio::test]
async fn another_orgs_properties_are_refused_by_this_org() {
    let (sim, _, client) = setup().await;
    // The second org's file, but its org alias swapped for the first org's: the signature is
    // made with a key the first org does not have.
    let other = demo::legacy::other_properties_file(&sim.base_url())
        .replace(demo::legacy::OTHER_ORG_ALIAS, demo::legacy::ORG_ALIAS);
    let impostor = Properties::parse(&other).unwrap();
    let error = user_details(&client, &impostor, "alice").await.unwrap_err();
    assert!(
        matches!(error.code(), "VALIDATION_FAILED" | "UPSTREAM_INVALID"),
        "{error}"
    );
}
