//! Users and MFA devices on the API host.

use pingid_sim::demo::{
    ALICE_EMAIL, ALICE_EMAIL_DEVICE_ID, ALICE_ID, ALICE_MOBILE_DEVICE_ID, ALICE_PHONE,
    ALICE_SMS_DEVICE_ID, BOB_ID, CAROL_ID, CAROL_TOTP_DEVICE_ID, ENV_ID, PINGID_APP_ID,
};
use reqwest::StatusCode;

use crate::support::{Sim, json_of};

#[tokio::test]
async fn reads_a_user_by_id() {
    let sim = Sim::start().await;

    let (status, user) = json_of(sim.get(&sim.api_url(&format!("/users/{ALICE_ID}"))).await).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], ALICE_ID);
    assert_eq!(user["username"], "alice");
    assert_eq!(user["email"], ALICE_EMAIL);
    assert_eq!(user["mobilePhone"], ALICE_PHONE);
    assert_eq!(user["name"]["formatted"], "Alice Anders");
    assert_eq!(user["environment"]["id"], ENV_ID);
}

#[tokio::test]
async fn finds_users_with_a_scim_username_filter() {
    let sim = Sim::start().await;

    let response = sim
        .http
        .get(sim.api_url("/users"))
        .bearer_auth(sim.token().await)
        .query(&[("filter", r#"username eq "bob""#), ("limit", "2")])
        .send()
        .await
        .expect("answered");

    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 1);
    assert_eq!(body["size"], 1);
    assert_eq!(body["_embedded"]["users"][0]["id"], BOB_ID);
}

#[tokio::test]
async fn an_unknown_user_is_not_found() {
    let sim = Sim::start().await;

    let unknown = sim.api_url("/users/00000000-0000-4000-8000-00000000dead");
    let (status, body) = json_of(sim.get(&unknown).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "NOT_FOUND");

    let (status, _) = json_of(sim.get(&format!("{unknown}/devices")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_devices_in_the_users_order_unmasked() {
    let sim = Sim::start().await;

    let (status, body) = json_of(
        sim.get(&sim.api_url(&format!("/users/{ALICE_ID}/devices")))
            .await,
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], 3);
    assert!(
        body["_links"]["self"]["href"]
            .as_str()
            .is_some_and(|href| href.ends_with("/devices"))
    );
    let devices = &body["_embedded"]["devices"];
    assert_eq!(devices[0]["id"], ALICE_MOBILE_DEVICE_ID);
    assert_eq!(devices[0]["type"], "MOBILE");
    assert_eq!(devices[0]["pushEnabled"], true);
    assert_eq!(devices[0]["application"]["id"], PINGID_APP_ID);
    assert!(devices[0]["model"]["name"].is_string());
    assert!(devices[0]["os"]["type"].is_string());
    assert_eq!(devices[1]["id"], ALICE_SMS_DEVICE_ID);
    assert_eq!(devices[1]["phone"], ALICE_PHONE);
    assert_eq!(devices[2]["id"], ALICE_EMAIL_DEVICE_ID);
    assert_eq!(devices[2]["email"], ALICE_EMAIL);
    for device in devices.as_array().expect("devices") {
        assert_eq!(device["status"], "ACTIVE");
        assert_eq!(device["user"]["id"], ALICE_ID);
        assert_eq!(device["environment"]["id"], ENV_ID);
        for field in ["nickname", "createdAt", "updatedAt"] {
            assert!(device[field].is_string(), "{field} in {device}");
        }
    }
}

#[tokio::test]
async fn reads_one_device_and_never_its_totp_secret() {
    let sim = Sim::start().await;

    let url = sim.api_url(&format!("/users/{CAROL_ID}/devices/{CAROL_TOTP_DEVICE_ID}"));
    let (status, device) = json_of(sim.get(&url).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(device["type"], "TOTP");
    assert!(device.get("secret").is_none());

    // alice's device is not carol's.
    let foreign = sim.api_url(&format!("/users/{CAROL_ID}/devices/{ALICE_SMS_DEVICE_ID}"));
    assert_eq!(sim.get(&foreign).await.status(), StatusCode::NOT_FOUND);
}
