//! MFA authentication end to end: the real function binaries, speaking the Lambda Runtime API,
//! reading the PingOne connection secret from moto's Secrets Manager and calling the simulator
//! over HTTP. Each test is a flow a DaVinci flow would run.

use crate::support;

use pingid_sim::{SimConfig, demo};
use serde_json::{Value, json};
use support::{Function, Stack, assert_no_secret_in_logs, failed, ok};

/// The functions of the authentication flow, started once per test.
struct Flow {
    stack: Stack,
    create: Function,
    read: Function,
    select: Function,
    validate: Function,
    cancel: Function,
    /// Whose each started authentication is, as `createDeviceAuthenticationPingID` answered.
    owners: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl Flow {
    async fn start() -> Flow {
        Self::start_on(Stack::start().await).await
    }

    async fn start_on(stack: Stack) -> Flow {
        Flow {
            create: stack.function("createDeviceAuthenticationPingID").await,
            read: stack.function("readDeviceAuthentication").await,
            select: stack.function("deviceSelectDeviceAuthentication").await,
            validate: stack.function("validateOtpDeviceAuthentication").await,
            cancel: stack.function("cancelDeviceAuthenticationPingID").await,
            owners: Default::default(),
            stack,
        }
    }

    /// Starts an authentication and returns `(id, status)`.
    async fn start_authentication(&self, properties: Value) -> (String, String) {
        let output = ok(&self.create.call(properties.clone()).await);
        assert_eq!(
            output["statusCode"].as_u64().map(|s| s / 100),
            Some(2),
            "{output}"
        );
        assert_eq!(
            output["deviceAuthenticationId"],
            output["rawResponse"]["id"]
        );
        assert_eq!(output["status"], output["rawResponse"]["status"]);
        assert_eq!(output["userId"], properties["userId"]);
        let id = output["deviceAuthenticationId"]
            .as_str()
            .unwrap()
            .to_string();
        let owner = output["userId"].as_str().unwrap().to_string();
        self.owners.lock().unwrap().insert(id.clone(), owner);
        (id, output["status"].as_str().unwrap().to_string())
    }

    /// Starts an authentication on alice's SMS device; returns its id and the delivered code.
    async fn start_sms_authentication(&self) -> (String, String) {
        let (id, status) = self
            .start_authentication(
                json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID }),
            )
            .await;
        assert_eq!(status, "OTP_REQUIRED");
        (id, self.stack.last_otp_sent_to(demo::ALICE_PHONE).await)
    }

    /// The user who started authentication `id`.
    fn owner(&self, id: &str) -> String {
        self.owners.lock().unwrap()[id].clone()
    }

    async fn status_of(&self, id: &str) -> String {
        let output = ok(&self
            .read
            .call(json!({ "userId": self.owner(id), "deviceAuthenticationId": id }))
            .await);
        output["status"].as_str().unwrap().to_string()
    }

    async fn check_otp(&self, id: &str, otp: &str) -> e2e::ProxyResponse {
        self.validate
            .call(json!({ "userId": self.owner(id), "deviceAuthenticationId": id, "otp": otp }))
            .await
    }

    fn functions(&self) -> [&Function; 5] {
        [
            &self.create,
            &self.read,
            &self.select,
            &self.validate,
            &self.cancel,
        ]
    }
}

/// A passcode that is not `otp` (to type a wrong one on purpose).
fn wrong(otp: &str) -> String {
    otp.chars()
        .map(|c| char::from_digit((c.to_digit(10).unwrap_or(0) + 1) % 10, 10).unwrap_or('0'))
        .collect()
}

#[tokio::test]
async fn sms_otp_flow_completes_with_the_delivered_code() {
    // Given alice and her SMS device
    let flow = Flow::start().await;
    // When the flow starts an authentication on that device
    let (id, status) = flow
        .start_authentication(
            json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID }),
        )
        .await;
    assert_eq!(status, "OTP_REQUIRED");
    // Then a code reaches her phone, and typing it completes the authentication
    let otp = flow.stack.last_otp_sent_to(demo::ALICE_PHONE).await;
    let output = ok(&flow.check_otp(&id, &otp).await);
    assert_eq!(output["status"], "COMPLETED");
    assert_eq!(flow.status_of(&id).await, "COMPLETED");
    // And the code is single-use
    failed(&flow.check_otp(&id, &otp).await, 409, "INVALID_STATE");
    // And neither the code nor the worker secret was logged
    assert_no_secret_in_logs(&flow.functions(), &[&otp, demo::CLIENT_SECRET]);
}

#[tokio::test]
async fn push_approved_on_the_phone_completes() {
    let flow = Flow::start().await;
    // alice's default device is the PingID app: the policy sends a push
    let (id, status) = flow
        .start_authentication(json!({ "userId": demo::ALICE_ID }))
        .await;
    assert_eq!(status, "PUSH_CONFIRMATION_REQUIRED");
    assert_eq!(
        flow.status_of(&id).await,
        "PUSH_CONFIRMATION_REQUIRED",
        "still waiting"
    );
    flow.stack.push(&id, "APPROVE").await;
    assert_eq!(flow.status_of(&id).await, "COMPLETED");
}

#[tokio::test]
async fn push_denied_on_the_phone_fails_and_stays_failed() {
    let flow = Flow::start().await;
    let (id, _) = flow
        .start_authentication(json!({ "userId": demo::ALICE_ID }))
        .await;
    flow.stack.push(&id, "DENY").await;
    let output = ok(&flow
        .read
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id }))
        .await);
    assert_eq!(output["status"], "FAILED");
    assert!(
        output["rawResponse"]["error"]["code"].is_string(),
        "{output}"
    );
    // A denied push can never be turned into success by an OTP
    failed(&flow.check_otp(&id, "123456").await, 409, "INVALID_STATE");
    assert_eq!(flow.status_of(&id).await, "FAILED");
}

#[tokio::test]
async fn push_timeout_lets_the_user_pick_another_device() {
    let flow = Flow::start().await;
    let (id, _) = flow
        .start_authentication(json!({ "userId": demo::ALICE_ID }))
        .await;
    flow.stack.push(&id, "TIMEOUT").await;
    assert_eq!(flow.status_of(&id).await, "PUSH_CONFIRMATION_TIMED_OUT");
    // OTP fallback: select the SMS device, type the code
    let selected = ok(&flow
        .select
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id, "deviceId": demo::ALICE_SMS_DEVICE_ID }))
        .await);
    assert_eq!(selected["status"], "OTP_REQUIRED");
    let otp = flow.stack.last_otp_sent_to(demo::ALICE_PHONE).await;
    assert_eq!(ok(&flow.check_otp(&id, &otp).await)["status"], "COMPLETED");
}

impl Flow {
    /// The passcode alice's PingID app shows now (what she would read off the phone).
    async fn app_code(&self) -> String {
        let path = format!("/_sim/app/{}/code", demo::ALICE_MOBILE_DEVICE_ID);
        self.stack.sim_get(&path).await["otp"]
            .as_str()
            .expect("the app shows a code")
            .to_string()
    }

    /// Starts a push to alice's PingID app; returns the authentication's id.
    async fn start_push(&self) -> String {
        let (id, status) = self
            .start_authentication(json!({ "userId": demo::ALICE_ID }))
            .await;
        assert_eq!(status, "PUSH_CONFIRMATION_REQUIRED");
        id
    }
}

#[tokio::test]
async fn use_code_the_apps_passcode_completes_a_pending_push() {
    let flow = Flow::start().await;
    let id = flow.start_push().await;
    // The push is pending, and PingOne offers the passcode check beside the push
    let pending = ok(&flow
        .read
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id }))
        .await);
    assert!(
        pending["rawResponse"]["_links"]["otp.check"].is_object(),
        "{pending}"
    );
    // alice types the code her app shows instead of approving
    let code = flow.app_code().await;
    let done = ok(&flow.check_otp(&id, &code).await);
    assert_eq!(done["status"], "COMPLETED", "{done}");
    // and the push can no longer be answered
    let (status, _) = flow
        .stack
        .sim_post_raw(&format!("/_sim/push/{id}"), json!({ "decision": "DENY" }))
        .await;
    assert_eq!(status, 409);
    assert_eq!(flow.status_of(&id).await, "COMPLETED");
}

#[tokio::test]
async fn use_code_a_wrong_code_costs_an_attempt_and_the_push_stays_pending() {
    let flow = Flow::start().await;
    let id = flow.start_push().await;
    let code = flow.app_code().await;
    let body = failed(
        &flow.check_otp(&id, &wrong(&code)).await,
        400,
        "INVALID_OTP",
    );
    let problem = body["details"][0]["problem"].as_str().unwrap_or_default();
    assert!(problem.contains("remaining"), "{body}");
    assert_eq!(flow.status_of(&id).await, "PUSH_CONFIRMATION_REQUIRED");
    // wrong codes up to the limit fail the authentication, push and all
    for _ in 1..SimConfig::default().otp_max_failures {
        let response = flow.check_otp(&id, &wrong(&code)).await;
        assert!(matches!(response.status, 400 | 409), "{}", response.body);
    }
    assert_eq!(flow.status_of(&id).await, "FAILED");
    failed(&flow.check_otp(&id, &code).await, 409, "INVALID_STATE");
}

#[tokio::test]
async fn use_code_after_the_push_was_denied_is_refused() {
    let flow = Flow::start().await;
    let id = flow.start_push().await;
    flow.stack.push(&id, "DENY").await;
    let code = flow.app_code().await;
    failed(&flow.check_otp(&id, &code).await, 409, "INVALID_STATE");
    assert_eq!(flow.status_of(&id).await, "FAILED");
}

#[tokio::test]
async fn otp_fallback_a_timed_out_push_continues_with_the_apps_code() {
    let flow = Flow::start().await;
    let id = flow.start_push().await;
    flow.stack.push(&id, "TIMEOUT").await;
    assert_eq!(flow.status_of(&id).await, "PUSH_CONFIRMATION_TIMED_OUT");
    let code = flow.app_code().await;
    assert_eq!(ok(&flow.check_otp(&id, &code).await)["status"], "COMPLETED");
}

#[tokio::test]
async fn otp_fallback_a_phone_push_cannot_reach_asks_for_the_apps_code() {
    let flow = Flow::start().await;
    // alice's phone takes no pushes (switched off in the app, or out of reach)
    let path = format!("/_sim/app/{}", demo::ALICE_MOBILE_DEVICE_ID);
    flow.stack
        .sim_post(&path, json!({ "pushEnabled": false }))
        .await;
    let (id, status) = flow
        .start_authentication(json!({ "userId": demo::ALICE_ID }))
        .await;
    assert_eq!(status, "OTP_REQUIRED");
    let code = flow.app_code().await;
    assert_eq!(ok(&flow.check_otp(&id, &code).await)["status"], "COMPLETED");
}

#[tokio::test]
async fn test_mode_answers_the_passcode_instead_of_sending_it_where_the_deployment_allows_it() {
    let stack = Stack::start().await;
    let allowed = [("PINGID_ALLOW_TEST_MODE", "true".to_string())];
    let create = stack
        .function_with("createDeviceAuthenticationPingID", &allowed)
        .await;
    let flow = Flow::start_on(stack).await;
    let started = ok(&create
        .call(
            json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID,
            "createDeviceTestMode": true }),
        )
        .await);
    assert_eq!(started["status"], "OTP_REQUIRED", "{started}");
    let otp = started["rawResponse"]["test"]["otp"]
        .as_str()
        .expect("the passcode in the answer");
    // nothing reached alice's phone
    assert!(flow.stack.otps_sent_to(demo::ALICE_PHONE).await.is_empty());
    let id = started["deviceAuthenticationId"].as_str().unwrap();
    flow.owners
        .lock()
        .unwrap()
        .insert(id.to_string(), demo::ALICE_ID.to_string());
    assert_eq!(ok(&flow.check_otp(id, otp).await)["status"], "COMPLETED");
    // the same request where the deployment does not allow it: refused, nothing started
    let refused = failed(
        &flow
            .create
            .call(
                json!({ "userId": demo::ALICE_ID, "selectedDeviceId": demo::ALICE_SMS_DEVICE_ID,
                "createDeviceTestMode": true }),
            )
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(
        refused["details"][0]["field"], "properties.createDeviceTestMode",
        "{refused}"
    );
}

#[tokio::test]
async fn a_push_that_nobody_answers_times_out_by_itself() {
    let flow = Flow::start().await;
    let (id, _) = flow
        .start_authentication(json!({ "userId": demo::ALICE_ID }))
        .await;
    let config = SimConfig::default();
    let seconds = config.push_timeout.as_secs() + 1;
    flow.stack
        .sim_post("/_sim/clock/advance", json!({ "seconds": seconds }))
        .await;
    assert_eq!(flow.status_of(&id).await, "PUSH_CONFIRMATION_TIMED_OUT");
}

#[tokio::test]
async fn wrong_otps_are_refused_then_the_limit_fails_the_authentication() {
    let flow = Flow::start().await;
    let (id, otp) = flow.start_sms_authentication().await;
    // A wrong code: 400 INVALID_OTP naming the attempts left; the flow may ask again
    let body = failed(&flow.check_otp(&id, &wrong(&otp)).await, 400, "INVALID_OTP");
    let problem = body["details"][0]["problem"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(problem.contains("remaining"), "{body}");
    assert_eq!(flow.status_of(&id).await, "OTP_REQUIRED");
    // The right code still works after one mistake
    assert_eq!(ok(&flow.check_otp(&id, &otp).await)["status"], "COMPLETED");

    // A second authentication: wrong codes up to the limit fail it for good
    let (id, otp) = flow.start_sms_authentication().await;
    let limit = SimConfig::default().otp_max_failures;
    for _ in 0..limit {
        let response = flow.check_otp(&id, &wrong(&otp)).await;
        assert!(
            response.status == 400 || response.status == 409,
            "{}",
            response.body
        );
    }
    assert_eq!(flow.status_of(&id).await, "FAILED");
    failed(&flow.check_otp(&id, &otp).await, 409, "INVALID_STATE");
}

#[tokio::test]
async fn an_expired_otp_is_refused() {
    let flow = Flow::start().await;
    let (id, otp) = flow.start_sms_authentication().await;
    let seconds = SimConfig::default().otp_lifetime.as_secs() + 1;
    flow.stack
        .sim_post("/_sim/clock/advance", json!({ "seconds": seconds }))
        .await;
    failed(&flow.check_otp(&id, &otp).await, 400, "INVALID_OTP");
}

#[tokio::test]
async fn one_time_email_device_authenticates_without_pairing() {
    let flow = Flow::start().await;
    // bob has no device; he authenticates once with an address he types
    let (id, status) = flow
        .start_authentication(json!({
            "userId": demo::BOB_ID,
            "selectedDevice": "oneTime",
            "oneTimeDeviceType": "EMAIL",
            "oneTimeEmailDevice": "bob@example.com",
        }))
        .await;
    assert_eq!(status, "OTP_REQUIRED");
    let otp = flow.stack.last_otp_sent_to("bob@example.com").await;
    assert_eq!(ok(&flow.check_otp(&id, &otp).await)["status"], "COMPLETED");
    // Nothing was paired
    let devices = flow.stack.function("readAllDevicesPingID").await;
    let listed = ok(&devices.call(json!({ "userId": demo::BOB_ID })).await);
    assert_eq!(listed["devices"], json!([]));
    assert_no_secret_in_logs(&flow.functions(), &[&otp, demo::CLIENT_SECRET]);
}

#[tokio::test]
async fn cancel_ends_the_authentication_for_good() {
    let flow = Flow::start().await;
    let (id, _) = flow
        .start_authentication(json!({ "userId": demo::ALICE_ID }))
        .await;
    let cancelled = ok(&flow
        .cancel
        .call(
            json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id, "reason": "SIGNOUT" }),
        )
        .await);
    let status = cancelled["status"].as_str().unwrap().to_string();
    assert!(
        !["COMPLETED", "PUSH_CONFIRMATION_REQUIRED"].contains(&status.as_str()),
        "{cancelled}"
    );
    // Approving the push afterwards cannot complete it
    assert_eq!(flow.status_of(&id).await, status);
    failed(&flow.check_otp(&id, "123456").await, 409, "INVALID_STATE");
    // Cancelling twice is refused, not silently accepted
    let again = flow
        .cancel
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id }))
        .await;
    failed(&again, 409, "INVALID_STATE");
}

#[tokio::test]
async fn cancel_with_change_device_goes_back_to_device_selection() {
    let flow = Flow::start().await;
    let (id, _) = flow
        .start_authentication(json!({ "userId": demo::ALICE_ID }))
        .await;
    let changed = ok(&flow
        .cancel
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id, "reason": "CHANGE_DEVICE" }))
        .await);
    assert_eq!(changed["status"], "DEVICE_SELECTION_REQUIRED");
    let selected = ok(&flow
        .select
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id, "deviceId": demo::ALICE_EMAIL_DEVICE_ID }))
        .await);
    assert_eq!(selected["status"], "OTP_REQUIRED");
    let otp = flow.stack.last_otp_sent_to(demo::ALICE_EMAIL).await;
    assert_eq!(ok(&flow.check_otp(&id, &otp).await)["status"], "COMPLETED");
}

#[tokio::test]
async fn a_prompting_policy_asks_for_a_device_first() {
    let flow = Flow::start().await;
    let (id, status) = flow
        .start_authentication(json!({
            "userId": demo::ALICE_ID,
            "workforcePolicyMfaPolicyId": demo::PROMPT_POLICY_ID,
        }))
        .await;
    assert_eq!(status, "DEVICE_SELECTION_REQUIRED");
    let read = ok(&flow
        .read
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id }))
        .await);
    let offered = read["rawResponse"]["_embedded"]["devices"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(offered, 3, "{read}");
    let selected = ok(&flow
        .select
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": id, "deviceId": demo::ALICE_SMS_DEVICE_ID }))
        .await);
    assert_eq!(selected["status"], "OTP_REQUIRED");
}

#[tokio::test]
async fn an_authenticator_code_typed_up_front_completes_at_once() {
    let flow = Flow::start().await;
    let code = flow.stack.totp_code(demo::CAROL_TOTP_DEVICE_ID).await;
    let (_, status) = flow
        .start_authentication(json!({ "userId": demo::CAROL_ID, "otp": code }))
        .await;
    assert_eq!(status, "COMPLETED");
    // A wrong code up front is refused and nothing is left pending
    let refused = flow
        .create
        .call(json!({ "userId": demo::CAROL_ID, "otp": wrong(&code) }))
        .await;
    failed(&refused, 400, "INVALID_OTP");
}

#[tokio::test]
async fn read_all_devices_lists_alices_three_devices_default_first() {
    let stack = Stack::start().await;
    let devices = stack.function("readAllDevicesPingID").await;
    let output = ok(&devices.call(json!({ "userId": demo::ALICE_ID })).await);
    let ids: Vec<&str> = output["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], demo::ALICE_MOBILE_DEVICE_ID);
    assert_eq!(ids.len(), 3);
    assert_eq!(
        output["rawResponse"]["_embedded"]["devices"],
        output["devices"]
    );
    assert_eq!(output["statusCode"], 200);
    // An unknown user is a 404, not an empty list
    let missing = devices
        .call(json!({ "userId": "00000000-0000-4000-8000-000000000000" }))
        .await;
    failed(&missing, 404, "NOT_FOUND");
}

#[tokio::test]
async fn unknown_device_authentications_are_not_found() {
    let stack = Stack::start().await;
    let read = stack.function("readDeviceAuthentication").await;
    let response = read
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": "00000000-0000-4000-8000-000000000000" }))
        .await;
    failed(&response, 404, "NOT_FOUND");
}

#[tokio::test]
async fn a_one_time_device_with_a_bad_phone_is_refused_before_pingone_is_called() {
    let stack = Stack::start().await;
    let create = stack.function("createDeviceAuthenticationPingID").await;
    let response = create
        .call(json!({
            "userId": demo::ALICE_ID,
            "selectedDevice": "oneTime",
            "oneTimeDeviceType": "SMS",
            "oneTimeSmsDevice": "555-0101",
        }))
        .await;
    let body = failed(&response, 400, "VALIDATION_FAILED");
    assert_eq!(body["details"][0]["field"], "properties.oneTimeSmsDevice");
    assert_eq!(stack.stats("POST /{envId}/deviceAuthentications").await, 0);
}

/// An error body without what differs from call to call (its correlation id).
fn without_correlation(mut body: Value) -> Value {
    body.as_object_mut().unwrap().remove("correlationId");
    body
}

#[tokio::test]
async fn another_users_completed_authentication_reads_as_not_found() {
    // Given bob's own authentication, COMPLETED with a code sent to an address he controls
    let flow = Flow::start().await;
    let (bobs, _) = flow
        .start_authentication(json!({
            "userId": demo::BOB_ID, "selectedDevice": "oneTime",
            "oneTimeDeviceType": "EMAIL", "oneTimeEmailDevice": "bob@example.com",
        }))
        .await;
    let otp = flow.stack.last_otp_sent_to("bob@example.com").await;
    assert_eq!(
        ok(&flow.check_otp(&bobs, &otp).await)["status"],
        "COMPLETED"
    );
    // When a flow acting for alice is handed bob's id
    let passed_off = flow
        .read
        .call(json!({ "userId": demo::ALICE_ID, "deviceAuthenticationId": bobs }))
        .await;
    // Then it is not found, in the very words an unknown id gets
    let unknown = flow
        .read
        .call(json!({ "userId": demo::ALICE_ID,
            "deviceAuthenticationId": "00000000-0000-4000-8000-000000000000" }))
        .await;
    assert_eq!(
        without_correlation(failed(&passed_off, 404, "NOT_FOUND")),
        without_correlation(failed(&unknown, 404, "NOT_FOUND"))
    );
    // And bob himself still reads it
    assert_eq!(flow.status_of(&bobs).await, "COMPLETED");
}

#[tokio::test]
async fn no_action_reaches_another_users_authentication() {
    // Given alice's SMS authentication waiting for the code she received
    let flow = Flow::start().await;
    let assertion = flow
        .stack
        .function("validateAssertionDeviceAuthentication")
        .await;
    let (id, otp) = flow.start_sms_authentication().await;
    let actions = "POST /{envId}/deviceAuthentications/{deviceAuthenticationId}";
    // When each action is called for bob with alice's id (and even her right code)
    let as_bob = |extra: Value| {
        let mut properties = json!({ "userId": demo::BOB_ID, "deviceAuthenticationId": id });
        properties
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        properties
    };
    let refused = [
        flow.validate.call(as_bob(json!({ "otp": otp }))).await,
        flow.select
            .call(as_bob(json!({ "deviceId": demo::ALICE_SMS_DEVICE_ID })))
            .await,
        flow.cancel
            .call(as_bob(json!({ "reason": "SIGNOUT" })))
            .await,
        assertion
            .call(as_bob(
                json!({ "assertion": "{}", "origin": "https://login.example.com" }),
            ))
            .await,
        flow.read.call(as_bob(json!({}))).await,
    ];
    // Then each answers NOT_FOUND, and PingOne was asked to do nothing
    for response in &refused {
        failed(response, 404, "NOT_FOUND");
    }
    assert_eq!(flow.stack.stats(actions).await, 0);
    // And alice's authentication is as it was: her code still completes it
    assert_eq!(flow.status_of(&id).await, "OTP_REQUIRED");
    let output = ok(&flow.check_otp(&id, &otp).await);
    assert_eq!(
        (output["status"].as_str(), output["userId"].as_str()),
        (Some("COMPLETED"), Some(demo::ALICE_ID))
    );
    assert_no_secret_in_logs(&flow.functions(), &[&otp]);
}
