//! Device management end to end: reading, renaming, reordering and deleting devices, the MFA
//! status switch, the policy read, and `readAllDevicesPingID`'s filters and `allowedtypes`.

mod support;

use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Stack, failed, ok};

fn ids(devices: &Value) -> Vec<String> {
    devices
        .as_array()
        .expect("a device list")
        .iter()
        .map(|device| device["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_device_is_read_and_renamed() {
    let stack = Stack::start().await;
    let read = stack.function("readDevice").await;
    let rename = stack.function("updateDeviceNickname").await;
    let device = json!({ "userId": demo::ALICE_ID, "deviceId": demo::ALICE_EMAIL_DEVICE_ID });
    let before = ok(&read.call(device.clone()).await);
    assert_eq!(before["deviceId"], demo::ALICE_EMAIL_DEVICE_ID);
    assert_eq!(before["device"]["type"], "EMAIL");
    let mut renaming = device.clone();
    renaming["nickname"] = json!("Work email");
    let renamed = ok(&rename.call(renaming).await);
    assert_eq!(renamed["nickname"], "Work email");
    let after = ok(&read.call(device).await);
    assert_eq!(after["device"]["nickname"], "Work email");
}

#[tokio::test]
async fn the_default_device_and_the_order_are_set_and_removed() {
    let stack = Stack::start().await;
    let order = stack.function("setDeviceOrder").await;
    let list = stack.function("readAllDevicesPingID").await;
    let authenticate = stack.function("createDeviceAuthenticationPingID").await;
    let alice = || json!({ "userId": demo::ALICE_ID });
    let original = ids(&ok(&list.call(alice()).await)["devices"]);
    assert_eq!(original[0], demo::ALICE_MOBILE_DEVICE_ID);

    // Email becomes the default: first in the list, and what a default authentication uses
    let mut properties = alice();
    properties["defaultDeviceId"] = json!(demo::ALICE_EMAIL_DEVICE_ID);
    let output = ok(&order.call(properties).await);
    let expected = [
        demo::ALICE_EMAIL_DEVICE_ID,
        demo::ALICE_MOBILE_DEVICE_ID,
        demo::ALICE_SMS_DEVICE_ID,
    ];
    assert_eq!(output["order"], json!(expected));
    assert_eq!(ids(&output["devices"]), expected);
    assert_eq!(ids(&ok(&list.call(alice()).await)["devices"]), expected);
    let started = ok(&authenticate.call(alice()).await);
    assert_eq!(started["status"], "OTP_REQUIRED", "{started}");
    assert_eq!(
        started["rawResponse"]["selectedDevice"]["id"],
        demo::ALICE_EMAIL_DEVICE_ID
    );

    // A full order in one go
    let mut properties = alice();
    properties["deviceOrderList"] = json!([demo::ALICE_SMS_DEVICE_ID]);
    let output = ok(&order.call(properties).await);
    assert_eq!(output["order"][0], demo::ALICE_SMS_DEVICE_ID);

    // Removing the custom order brings PingOne's own back
    let mut properties = alice();
    properties["setDeviceOrder"] = json!(false);
    let output = ok(&order.call(properties).await);
    assert_eq!(output["order"], json!(original));

    // Another user's device is refused before anything changes
    let mut properties = alice();
    properties["defaultDeviceId"] = json!(demo::CAROL_TOTP_DEVICE_ID);
    let body = failed(&order.call(properties).await, 400, "VALIDATION_FAILED");
    assert!(
        body["details"]
            .to_string()
            .contains("not one of the user's devices")
    );
}

#[tokio::test]
async fn a_deleted_device_is_gone() {
    let stack = Stack::start().await;
    let delete = stack.function("deleteDevice").await;
    let read = stack.function("readDevice").await;
    let device = json!({ "userId": demo::CAROL_ID, "deviceId": demo::CAROL_TOTP_DEVICE_ID });
    let output = ok(&delete.call(device.clone()).await);
    assert_eq!(output["statusCode"], 204);
    assert_eq!(output["rawResponse"], json!({}));
    failed(&read.call(device.clone()).await, 404, "NOT_FOUND");
    failed(&delete.call(device).await, 404, "NOT_FOUND");
}

#[tokio::test]
async fn mfa_is_switched_on_and_read_back() {
    let stack = Stack::start().await;
    let read = stack.function("readUserMFAEnabled").await;
    let update = stack.function("updateUserMFAEnabled").await;
    let bob = json!({ "userId": demo::BOB_ID });
    assert_eq!(ok(&read.call(bob.clone()).await)["mfaEnabled"], false);
    let updated = ok(&update
        .call(json!({ "userId": demo::BOB_ID, "mfaEnabled": true }))
        .await);
    assert_eq!(updated["mfaEnabled"], true);
    assert_eq!(ok(&read.call(bob).await)["mfaEnabled"], true);
    let body = failed(
        &update.call(json!({ "userId": demo::BOB_ID })).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(body["details"][0]["field"], "properties.mfaEnabled");
}

#[tokio::test]
async fn a_policy_is_read_with_its_pingid_sections() {
    let stack = Stack::start().await;
    let read = stack.function("readDeviceAuthenticationPolicy").await;
    let output = ok(&read
        .call(json!({ "deviceAuthenticationPolicyId": demo::RESTRICTED_POLICY_ID }))
        .await);
    let policy = &output["deviceAuthenticationPolicy"];
    assert_eq!(policy["id"], demo::RESTRICTED_POLICY_ID);
    assert_eq!(policy["voice"]["enabled"], false);
    assert_eq!(policy["yubikey"]["pairingDisabled"], true);
    assert!(policy["desktop"].is_object(), "{policy}");
    assert!(policy["authentication"]["deviceSelection"].is_string());
    // customDeviceAuthenticationPolicyId wins
    let output = ok(&read
        .call(
            json!({ "deviceAuthenticationPolicyId": demo::RESTRICTED_POLICY_ID,
            "customDeviceAuthenticationPolicyId": demo::PROMPT_POLICY_ID }),
        )
        .await);
    assert_eq!(output["rawResponse"]["id"], demo::PROMPT_POLICY_ID);
    failed(
        &read
            .call(json!({ "deviceAuthenticationPolicyId": "00000000-0000-4000-8000-000000000000" }))
            .await,
        404,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn devices_are_filtered_and_the_policy_names_what_can_be_enrolled() {
    let stack = Stack::start().await;
    let list = stack.function("readAllDevicesPingID").await;
    let all = ok(&list.call(json!({ "userId": demo::ALICE_ID })).await);
    assert_eq!(all["devices"].as_array().unwrap().len(), 3);
    assert_eq!(all["mfaPolicy"]["id"], demo::DEFAULT_POLICY_ID);
    assert_eq!(
        all["mfaPolicy"]["authentication"]["deviceSelection"],
        "DEFAULT_TO_FIRST"
    );
    let allowed = all["allowedtypes"].to_string();
    for kind in [
        "SMS", "VOICE", "EMAIL", "MOBILE", "TOTP", "YUBIKEY", "FIDO2",
    ] {
        assert!(
            allowed.contains(&format!("\"{kind}\"")),
            "{kind}: {allowed}"
        );
    }
    let filtered = ok(&list
        .call(json!({ "userId": demo::ALICE_ID, "statusFilter": "ACTIVE",
            "workforceDeviceTypes": ["SMS", "PingID Mobile app"] }))
        .await);
    assert_eq!(
        ids(&filtered["devices"]),
        [demo::ALICE_MOBILE_DEVICE_ID, demo::ALICE_SMS_DEVICE_ID]
    );
    // rawResponse stays PingOne's whole list
    assert_eq!(
        filtered["rawResponse"]["_embedded"]["devices"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let body = failed(
        &list
            .call(json!({ "userId": demo::ALICE_ID, "workforceDeviceTypes": ["Pager"] }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        body["details"][0]["field"],
        "properties.workforceDeviceTypes[0]"
    );
}
