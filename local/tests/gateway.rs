//! The local gateway: routes, caller authentication, bad input, and the token cache seen from
//! outside (a burst of cold calls asks PingOne for one token).

use std::net::SocketAddr;

use pingid_local::{DEFAULT_API_TOKEN, LocalConfig, RunningLocal, start};
use pingid_sim::demo;
use serde_json::{Value, json};

async fn local() -> RunningLocal {
    let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
    start(LocalConfig {
        addr: any_port,
        sim_addr: any_port,
        ..LocalConfig::default()
    })
    .await
    .expect("the local stack starts")
}

async fn post(
    local: &RunningLocal,
    capability: &str,
    body: String,
    token: Option<&str>,
) -> (u16, Value) {
    let mut request = shared::http::bare_builder()
        .build()
        .expect("the client builds")
        .post(format!("{}/v1/pingid/{capability}", local.base_url()))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

/// The simulator's call counts per PingOne endpoint.
async fn sim_stats(local: &RunningLocal) -> Value {
    get(format!("{}/_sim/stats", local.sim().base_url()))
        .await
        .expect("the simulator answers")
        .json()
        .await
        .expect("JSON stats")
}

async fn call(local: &RunningLocal, capability: &str, properties: Value) -> (u16, Value) {
    let body = json!({ "properties": properties }).to_string();
    post(local, capability, body, Some(DEFAULT_API_TOKEN)).await
}

#[tokio::test]
async fn health_needs_no_credential() {
    let local = local().await;
    let response = get(format!("{}/health", local.base_url())).await.unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn capabilities_need_the_callers_token() {
    let local = local().await;
    let body = json!({ "properties": { "userId": demo::ALICE_ID } }).to_string();
    for token in [None, Some("wrong-token"), Some("")] {
        let (status, error) = post(&local, "readAllDevicesPingID", body.clone(), token).await;
        assert_eq!(
            (status, error["code"].as_str()),
            (401, Some("UNAUTHORIZED")),
            "{token:?}"
        );
    }
    // An unauthenticated caller cannot even learn which capabilities exist
    let (status, _) = post(&local, "noSuchCapability", body, None).await;
    assert_eq!(status, 401);
    // and none of these calls reached a capability: PingOne was never asked anything
    let stats = sim_stats(&local).await;
    assert_eq!(stats, json!({}), "{stats}");
}

#[tokio::test]
async fn unknown_capabilities_and_routes_are_not_found() {
    let local = local().await;
    let (status, error) = call(&local, "deleteEverything", json!({})).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("NOT_FOUND")));
    let response = get(format!("{}/v2/nothing", local.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn bad_bodies_get_400_and_oversize_bodies_413() {
    let local = local().await;
    let token = Some(DEFAULT_API_TOKEN);
    let (status, error) = post(&local, "readAllDevicesPingID", "{not json".into(), token).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (400, Some("VALIDATION_FAILED"))
    );
    let huge = json!({ "properties": { "userId": "x".repeat(200_000) } }).to_string();
    let (status, error) = post(&local, "readAllDevicesPingID", huge, token).await;
    assert_eq!(
        (status, error["code"].as_str()),
        (413, Some("PAYLOAD_TOO_LARGE"))
    );
    let response = shared::http::bare_builder()
        .build()
        .expect("the client builds")
        .get(format!(
            "{}/v1/pingid/readAllDevicesPingID",
            local.base_url()
        ))
        .bearer_auth(DEFAULT_API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn the_sms_walkthrough_of_the_readme_works() {
    let local = local().await;
    let (status, started) = call(
        &local,
        "createDeviceAuthenticationPingID",
        json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID }),
    )
    .await;
    assert_eq!(
        (status, started["status"].as_str()),
        (200, Some("OTP_REQUIRED"))
    );
    let id = started["deviceAuthenticationId"].as_str().unwrap();
    let messages: Value = get(format!(
        "{}/_sim/messages?to=%2B15555550101",
        local.sim().base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let otp = messages[0]["otp"].as_str().unwrap();
    let (status, done) = call(
        &local,
        "validateOtpDeviceAuthentication",
        json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id, "otp": otp }),
    )
    .await;
    assert_eq!((status, done["status"].as_str()), (200, Some("COMPLETED")));
}

#[tokio::test]
async fn a_hundred_concurrent_cold_calls_make_one_token_request() {
    let local = local().await;
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let base = local.base_url();
            tokio::spawn(async move {
                let response = shared::http::bare_builder()
                    .build()
                    .expect("the client builds")
                    .post(format!("{base}/v1/pingid/readAllDevicesPingID"))
                    .bearer_auth(DEFAULT_API_TOKEN)
                    .json(&json!({ "properties": { "userId": demo::ALICE_ID } }))
                    .send()
                    .await
                    .unwrap();
                response.status().as_u16()
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap(), 200);
    }
    let stats = sim_stats(&local).await;
    assert_eq!(stats["POST /{envId}/as/token"], 1, "{stats}");
    assert_eq!(
        stats["GET /v1/environments/{envId}/users/{userId}/devices"], 100,
        "{stats}"
    );
}

/// `reqwest::get` on the product's TLS stack (reqwest has no crypto provider of its own here).
async fn get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    shared::http::bare_builder().build()?.get(url).send().await
}
