//! Device management end to end: reading, renaming, reordering and deleting devices, the MFA
//! status switch, the policy read, `readAllDevicesPingID`'s filters and outputs (`allowedtypes`,
//! `order`, `applications`, `mfaSettings`), and the seed's device type names.

use crate::support;

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

#[tokio::test]
async fn all_devices_come_with_their_order_the_policys_apps_and_the_pairing_limits() {
    let stack = Stack::start().await;
    let list = stack.function("readAllDevicesPingID").await;

    // Given alice's three devices under the default policy, when only her SMS device is kept
    let output = ok(&list
        .call(json!({ "userId": demo::ALICE_ID, "workforceDeviceTypes": ["SMS"] }))
        .await);

    // then the order is still all of hers, the default first
    let order = [
        demo::ALICE_MOBILE_DEVICE_ID,
        demo::ALICE_SMS_DEVICE_ID,
        demo::ALICE_EMAIL_DEVICE_ID,
    ];
    assert_eq!(output["order"], json!(order));
    assert_eq!(ids(&output["devices"]), [demo::ALICE_SMS_DEVICE_ID]);
    // the PingID app the policy names, and the environment's pairing limits
    assert_eq!(output["applications"][0]["id"], demo::PINGID_APP_ID);
    assert_eq!(
        output["mfaSettings"]["pairing"],
        json!({ "maxAllowedDevices": demo::MAX_ALLOWED_DEVICES, "pairingKeyFormat": "NUMERIC" })
    );
    assert!(output["mfaSettings"]["lockout"]["failureCount"].is_u64());
    // and rawResponse._embedded holds the same, beside PingOne's whole list
    let embedded = &output["rawResponse"]["_embedded"];
    for key in [
        "applications",
        "allowedtypes",
        "order",
        "mfaSettings",
        "mfaPolicy",
    ] {
        assert_eq!(embedded[key], output[key], "{key}");
    }
    assert_eq!(ids(&embedded["devices"]), order);
}

#[tokio::test]
async fn settings_that_cannot_be_read_fail_the_list() {
    let stack = Stack::start().await;
    let list = stack.function("readAllDevicesPingID").await;
    stack
        .sim_faults(
            json!([{ "pathPrefix": format!("/v1/environments/{}/mfaSettings", demo::ENV_ID),
            "status": 500 }]),
        )
        .await;
    failed(
        &list.call(json!({ "userId": demo::ALICE_ID })).await,
        503,
        "UPSTREAM_UNAVAILABLE",
    );
}

#[tokio::test]
async fn the_seeds_device_type_names_stand_for_pingones() {
    let stack = Stack::start().await;
    let list = stack.function("readAllDevicesPingID").await;
    let create = stack.function("createDevicePingID").await;

    // PINGID_MOBILE selects the PingID app, which keeps PingOne's type name
    let mobile = ok(&list
        .call(json!({ "userId": demo::ALICE_ID, "workforceDeviceTypes": ["PINGID_MOBILE"] }))
        .await);
    assert_eq!(ids(&mobile["devices"]), [demo::ALICE_MOBILE_DEVICE_ID]);
    assert_eq!(mobile["devices"][0]["type"], "MOBILE");

    // PINGID_DESKTOP creates the second-generation desktop app, and selects it
    let created = ok(&create
        .call(
            json!({ "userId": demo::BOB_ID, "workforceDeviceType": "PINGID_DESKTOP",
            "status": "ACTIVATION_REQUIRED" }),
        )
        .await);
    assert_eq!(created["device"]["type"], "PINGID_DESKTOP_GEN2");
    let desktops = ok(&list
        .call(json!({ "userId": demo::BOB_ID, "workforceDeviceTypes": ["PINGID_DESKTOP"] }))
        .await);
    assert_eq!(ids(&desktops["devices"]), [created["deviceId"].clone()]);
    let none = ok(&list
        .call(json!({ "userId": demo::BOB_ID, "workforceDeviceTypes": ["PINGID_MOBILE"] }))
        .await);
    assert_eq!(none["devices"], json!([]));

    // PINGID_MOBILE cannot be created: the answer says how the app is paired
    let body = failed(
        &create
            .call(
                json!({ "userId": demo::BOB_ID, "workforceDeviceType": "PINGID_MOBILE",
                "status": "ACTIVATION_REQUIRED" }),
            )
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        body["details"][0]["field"],
        "properties.workforceDeviceType"
    );
    assert!(
        body["details"][0]["problem"]
            .as_str()
            .is_some_and(|problem| problem.contains("createPairingKeyPingID")),
        "{body}"
    );
}
