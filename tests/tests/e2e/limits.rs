//! Per-user limits on sends and guesses, end to end: the real function binaries counting in
//! moto's DynamoDB table and calling the simulator. Over a limit the answer is
//! `429 USER_RATE_LIMITED` with `Retry-After`, and PingOne is not called.

use crate::support;

use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Stack, failed, ok};

const STARTS: &str = "POST /{envId}/deviceAuthentications";
const ACTIONS: &str = "POST /{envId}/deviceAuthentications/{deviceAuthenticationId}";

/// Asserts `USER_RATE_LIMITED` with a `Retry-After` within `window` seconds.
fn limited(response: &e2e::ProxyResponse, window: u64) {
    let body = failed(response, 429, "USER_RATE_LIMITED");
    let seconds: u64 = response
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After header in seconds");
    assert!((1..=window).contains(&seconds), "{seconds}");
    assert_eq!(body["retryAfterSeconds"], seconds, "{body}");
}

#[tokio::test]
async fn a_fourth_push_in_five_minutes_is_refused_before_pingone_is_called() {
    // Given two instances of the function (the count is shared, not per process)
    let stack = Stack::start().await;
    let one = stack.function("createDeviceAuthenticationPingID").await;
    let other = stack.function("createDeviceAuthenticationPingID").await;
    let push = json!({ "userId": demo::ALICE_ID });
    // When alice is sent three pushes (her default device is the PingID app)
    for create in [&one, &other, &one] {
        let output = ok(&create.call(push.clone()).await);
        assert_eq!(output["status"], "PUSH_CONFIRMATION_REQUIRED");
    }
    // Then a fourth is refused, and PingOne saw three starts
    limited(&other.call(push.clone()).await, 300);
    assert_eq!(stack.stats(STARTS).await, 3);
    // And other kinds and other users are not held back
    let sms = json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID });
    assert_eq!(ok(&one.call(sms).await)["status"], "OTP_REQUIRED");
    let carol = json!({ "userId": demo::CAROL_ID });
    assert_eq!(ok(&one.call(carol).await)["status"], "OTP_REQUIRED");
}

#[tokio::test]
async fn a_policy_that_asks_for_a_device_first_spends_nothing() {
    // Given alice under the policy that prompts her to pick a device: nothing is sent at start
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let prompt = json!({ "userId": demo::ALICE_ID,
        "workforcePolicyMfaPolicyId": demo::PROMPT_POLICY_ID });
    for _ in 0..5 {
        let output = ok(&create.call(prompt.clone()).await);
        assert_eq!(output["status"], "DEVICE_SELECTION_REQUIRED");
    }
    // Then her three pushes are all still there
    for _ in 0..3 {
        ok(&create.call(json!({ "userId": demo::ALICE_ID })).await);
    }
    limited(&create.call(json!({ "userId": demo::ALICE_ID })).await, 300);
}

#[tokio::test]
async fn picking_the_app_at_device_selection_counts_as_a_push() {
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let select = stack.function("deviceSelectDeviceAuthentication").await;
    let prompt = json!({ "userId": demo::ALICE_ID,
        "workforcePolicyMfaPolicyId": demo::PROMPT_POLICY_ID });
    let pick_the_app = async || {
        let started = ok(&create.call(prompt.clone()).await);
        select
            .call(json!({ "userId": demo::ALICE_ID,
                "deviceAuthenticationId": started["deviceAuthenticationId"],
                "deviceId": demo::ALICE_MOBILE_DEVICE_ID }))
            .await
    };
    for round in 0..3 {
        let picked = pick_the_app().await;
        assert_eq!(picked.status, 200, "round {round}: {}", picked.body);
        assert_eq!(
            picked.json().unwrap()["status"],
            "PUSH_CONFIRMATION_REQUIRED"
        );
    }
    // Then the fourth pick is refused without asking PingOne
    let started = ok(&create
        .call(
            json!({ "userId": demo::ALICE_ID, "workforcePolicyMfaPolicyId": demo::PROMPT_POLICY_ID,
            "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID }),
        )
        .await);
    assert_eq!(started["status"], "OTP_REQUIRED");
    let before = stack.stats(ACTIONS).await;
    let cancel = stack.function("cancelDeviceAuthenticationPingID").await;
    let back = ok(&cancel
        .call(json!({ "userId": demo::ALICE_ID,
            "deviceAuthenticationId": started["deviceAuthenticationId"],
            "reason": "CHANGE_DEVICE" }))
        .await);
    assert_eq!(back["status"], "DEVICE_SELECTION_REQUIRED");
    let picked = select
        .call(json!({ "userId": demo::ALICE_ID,
            "deviceAuthenticationId": started["deviceAuthenticationId"],
            "deviceId": demo::ALICE_MOBILE_DEVICE_ID }))
        .await;
    limited(&picked, 300);
    assert_eq!(
        stack.stats(ACTIONS).await,
        before + 1,
        "only the cancel reached PingOne"
    );
    // And a start that would reach her default device (the app) is refused too: what the policy
    // would do is only known by asking PingOne, so the start is counted as the push it may be
    limited(&create.call(prompt).await, 300);
}

#[tokio::test]
async fn pairing_passcode_guesses_are_counted_across_devices() {
    // Given bob pairing e-mail devices, one after another (PingOne stops each after a few
    // wrong passcodes, but a new device can always be created)
    let stack = Stack::start().await;
    let create = stack.function("createDevicePingID").await;
    let activate = stack.function("activateDevice").await;
    let enroll = async |n: usize| {
        let device = ok(&create
            .call(
                json!({ "userId": demo::BOB_ID, "workforceDeviceType": "EMAIL",
                "email": format!("bob+{n}@example.com"), "status": "ACTIVATION_REQUIRED" }),
            )
            .await);
        device["deviceId"].as_str().unwrap().to_string()
    };
    let guess = async |id: &str| {
        activate
            .call(json!({ "userId": demo::BOB_ID, "deviceId": id, "otp": "000000" }))
            .await
    };
    // When ten wrong passcodes are typed, three per device
    let mut guesses = 0;
    let mut n = 0;
    while guesses < 10 {
        let id = enroll(n).await;
        n += 1;
        for _ in 0..3.min(10 - guesses) {
            let response = guess(&id).await;
            assert!(
                [400, 409].contains(&response.status),
                "a wrong passcode: {}",
                response.body
            );
            guesses += 1;
        }
    }
    // Then the eleventh, on a fresh device, is refused unchecked
    let id = enroll(n).await;
    const ACTIVATE: &str = "POST /v1/environments/{envId}/users/{userId}/devices/{deviceId}";
    let checks = stack.stats(ACTIVATE).await;
    limited(&guess(&id).await, 900);
    assert_eq!(stack.stats(ACTIVATE).await, checks);
    // while an attestation is no guess and goes through to PingOne
    let response = activate
        .call(json!({ "userId": demo::BOB_ID, "deviceId": id,
            "attestation": "{}", "origin": "https://login.example.com" }))
        .await;
    assert_ne!(response.status, 429, "{}", response.body);
}

#[tokio::test]
async fn passcode_guesses_are_counted_across_authentications() {
    // Given carol's authenticator app (nothing is sent: only the checks count)
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let validate = stack.function("validateOtpDeviceAuthentication").await;
    let start = async || {
        let started = ok(&create
            .call(json!({ "userId": demo::CAROL_ID,
                "selectedDeviceId": demo::CAROL_TOTP_DEVICE_ID }))
            .await);
        started["deviceAuthenticationId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let guess = async |id: &str| {
        validate
            .call(
                json!({ "userId": demo::CAROL_ID, "deviceAuthenticationId": id,
                "otp": "000000" }),
            )
            .await
    };
    // When ten wrong codes are typed, over four authentications (PingOne fails each after 3)
    let mut guesses = 0;
    while guesses < 10 {
        let id = start().await;
        for _ in 0..3.min(10 - guesses) {
            let response = guess(&id).await;
            assert!(
                [400, 409].contains(&response.status),
                "a wrong code: {}",
                response.body
            );
            guesses += 1;
        }
    }
    // Then the eleventh, in a fresh authentication, is refused unchecked
    let id = start().await;
    let checks = stack.stats(ACTIONS).await;
    limited(&guess(&id).await, 900);
    assert_eq!(stack.stats(ACTIONS).await, checks);
    // And a code typed up front at the start is a guess too
    let up_front = create
        .call(json!({ "userId": demo::CAROL_ID, "otp": "000000" }))
        .await;
    limited(&up_front, 900);
}

#[tokio::test]
async fn one_time_passcodes_go_only_to_the_users_own_phone_and_address() {
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let one_time = |kind: &str, field: &str, to: &str| -> Value {
        json!({ "userId": demo::ALICE_ID, "selectedDevice": "oneTime",
            "oneTimeDeviceType": kind, field: to })
    };
    // A number alice does not own is refused, naming the field and not her number
    let stranger = create
        .call(one_time("SMS", "oneTimeSmsDevice", "+15550009999"))
        .await;
    let body = failed(&stranger, 400, "VALIDATION_FAILED");
    assert_eq!(body["details"][0]["field"], "properties.oneTimeSmsDevice");
    assert!(
        !stranger.body.contains(demo::ALICE_PHONE),
        "{}",
        stranger.body
    );
    let email = create
        .call(one_time(
            "EMAIL",
            "oneTimeEmailDevice",
            "mallory@example.com",
        ))
        .await;
    failed(&email, 400, "VALIDATION_FAILED");
    assert_eq!(stack.stats(STARTS).await, 0);
    // Her own, as in her profile, is sent to
    let own = create
        .call(one_time("SMS", "oneTimeSmsDevice", demo::ALICE_PHONE))
        .await;
    assert_eq!(ok(&own)["status"], "OTP_REQUIRED");
    let own = create
        .call(one_time("EMAIL", "oneTimeEmailDevice", "Alice@Example.com"))
        .await;
    assert_eq!(ok(&own)["status"], "OTP_REQUIRED");
}

#[tokio::test]
async fn one_time_devices_follow_the_deployments_setting() {
    let stack = Stack::start().await;
    let setting = |value: &str| [("PINGID_ONE_TIME_DESTINATIONS", value.to_string())];
    let any = stack
        .function_with("createDeviceAuthenticationPingID", &setting("any"))
        .await;
    let off = stack
        .function_with("createDeviceAuthenticationPingID", &setting("off"))
        .await;
    let to_a_stranger = json!({ "userId": demo::ALICE_ID, "selectedDevice": "oneTime",
        "oneTimeDeviceType": "VOICE", "oneTimeVoiceDevice": "+15550009999" });
    assert_eq!(
        ok(&any.call(to_a_stranger.clone()).await)["status"],
        "OTP_REQUIRED"
    );
    let body = failed(&off.call(to_a_stranger).await, 400, "VALIDATION_FAILED");
    assert_eq!(body["details"][0]["field"], "properties.selectedDevice");
}

#[tokio::test]
async fn the_sixth_text_in_an_hour_is_refused_whichever_way_it_is_sent() {
    // Given alice's SMS device and her own number as a one-time device
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let by_device = json!({ "userId": demo::ALICE_ID,
        "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID });
    let one_time = json!({ "userId": demo::ALICE_ID, "selectedDevice": "oneTime",
        "oneTimeDeviceType": "VOICE", "oneTimeVoiceDevice": demo::ALICE_PHONE });
    // When five texts and calls are sent
    for properties in [&by_device, &one_time, &by_device, &one_time, &by_device] {
        assert_eq!(
            ok(&create.call(properties.clone()).await)["status"],
            "OTP_REQUIRED"
        );
    }
    // Then the sixth is refused, by either road, and the simulator sent five
    limited(&create.call(by_device).await, 3600);
    limited(&create.call(one_time).await, 3600);
    let sent = stack
        .sim_get(&format!(
            "/_sim/messages?to={}",
            support::urlencode(demo::ALICE_PHONE)
        ))
        .await;
    assert_eq!(sent.as_array().map(Vec::len), Some(5));
}

#[tokio::test]
async fn a_limit_set_to_off_is_not_counted() {
    let stack = Stack::start().await;
    let off = [("PINGID_LIMIT_PUSHES", "off".to_string())];
    let create = stack
        .function_with("createDeviceAuthenticationPingID", &off)
        .await;
    for _ in 0..5 {
        ok(&create.call(json!({ "userId": demo::ALICE_ID })).await);
    }
}
