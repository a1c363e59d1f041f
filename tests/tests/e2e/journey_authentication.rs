//! The authentication journey end to end: its function binary against the simulator and moto
//! (the continuation key in Secrets Manager, spent continuations in DynamoDB), driven as a
//! client would: start, then follow the answer's actions with its continuation. One scenario
//! per test, covering each of the subflow's variables alone and combined.

use std::time::{Duration, SystemTime};

use crate::support;

use pingid_sim::authenticator::SoftAuthenticator;
use pingid_sim::{SimConfig, demo};
use serde_json::{Value, json};
use shared::journey::Journey;
use shared::journey::continuation::{Continuations, LIFETIME};
use support::{Function, Stack, action_names, failed, ok, problems, refused};

const JOURNEY: &str = "authentication";

/// The stack and the journey's function.
struct Client {
    stack: Stack,
    journey: Function,
}

impl Client {
    async fn start() -> Client {
        Self::on(Stack::start().await).await
    }

    async fn on(stack: Stack) -> Client {
        Client {
            journey: stack.function(JOURNEY).await,
            stack,
        }
    }

    /// Starts alice's journey with `variables`.
    async fn begin(&self, user: &str, variables: Value) -> Value {
        let mut properties = variables;
        properties["pingIdUserId"] = json!(user);
        ok(&self.journey.call(properties).await)
    }

    /// Takes `action` (with `fields`) from `answer`, as `user`, expecting 200.
    async fn take(&self, user: &str, answer: &Value, action: &str, fields: Value) -> Value {
        self.journey.take(user, answer, action, fields).await
    }

    /// Selects `device` at `answer`'s device selection.
    async fn select(&self, user: &str, answer: &Value, device: &str) -> Value {
        self.take(user, answer, "select", json!({ "deviceId": device }))
            .await
    }

    /// The passcode alice's PingID app shows now.
    async fn app_code(&self) -> String {
        let path = format!("/_sim/app/{}/code", demo::ALICE_MOBILE_DEVICE_ID);
        self.stack.sim_get(&path).await["otp"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Decides the pending push of alice's latest authentication, as her phone.
    async fn answer_push(&self, decision: &str) {
        let id = self.latest(demo::ALICE_ID).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        self.stack.push(&id, decision).await;
    }

    /// `{id, status}` of the user's latest device authentication in the simulator.
    async fn latest(&self, user: &str) -> Value {
        let path = format!("/_sim/users/{user}/latest-device-authentication");
        self.stack.sim_get(&path).await
    }

    /// How many passcodes reached alice's phone (texts and calls).
    async fn passcodes_to_alice(&self) -> usize {
        self.stack.otps_sent_to(demo::ALICE_PHONE).await.len()
    }

    async fn authentications_started(&self) -> u64 {
        self.stack
            .stats("POST /{envId}/deviceAuthentications")
            .await
    }
}

fn step(answer: &Value) -> &str {
    answer["step"].as_str().unwrap_or_default()
}

/// alice, push only: her app is the one device selected at the selection screen.
async fn alice_at_push(client: &Client, variables: Value) -> Value {
    let selection = client.begin(demo::ALICE_ID, variables).await;
    assert_eq!(step(&selection), "DEVICE_SELECTION", "{selection}");
    let pending = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_MOBILE_DEVICE_ID)
        .await;
    assert_eq!(step(&pending), "PUSH_PENDING", "{pending}");
    pending
}

#[tokio::test]
async fn push_approved_completes_with_the_app() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    // Three devices, masked, and the journey's own actions
    let devices = selection["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 3, "{selection}");
    assert!(
        selection.to_string().contains("+1555*****01"),
        "{selection}"
    );
    assert!(!selection.to_string().contains(demo::ALICE_PHONE));
    assert!(!selection.to_string().contains(demo::ALICE_EMAIL));
    assert_eq!(action_names(&selection), ["select", "cancel"]);
    assert!(
        selection["continuation"]
            .as_str()
            .unwrap()
            .starts_with("j1.")
    );

    let pending = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_MOBILE_DEVICE_ID)
        .await;
    assert_eq!(step(&pending), "PUSH_PENDING");
    assert_eq!(pending["pollAfterSeconds"], 2);
    let still = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(step(&still), "PUSH_PENDING");
    client.answer_push("APPROVE").await;
    let done = client.take(demo::ALICE_ID, &still, "poll", json!({})).await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
    assert_eq!(done["method"], "MOBILE");
    assert!(done.get("continuation").is_none());
    assert_eq!(action_names(&done), Vec::<&str>::new());
}

#[tokio::test]
async fn push_denied_fails() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({})).await;
    client.answer_push("DENY").await;
    let done = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(
        done,
        json!({"step": "FAILED", "reason": "PUSH_DENIED", "actions": []})
    );
}

#[tokio::test]
async fn push_timeout_falls_back_to_the_apps_code_with_otp_fallback() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({ "otpFallback": true })).await;
    client.answer_push("TIMEOUT").await;
    let fallback = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(step(&fallback), "OTP_REQUIRED", "{fallback}");
    assert_eq!(fallback["channel"], "MOBILE");
    let code = client.app_code().await;
    let done = client
        .take(demo::ALICE_ID, &fallback, "otp", json!({ "otp": code }))
        .await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
}

#[tokio::test]
async fn push_timeout_fails_without_otp_fallback() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({ "otpFallback": false })).await;
    client.answer_push("TIMEOUT").await;
    let done = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(step(&done), "FAILED");
    assert_eq!(done["reason"], "PUSH_TIMED_OUT");
}

#[tokio::test]
async fn the_templates_spelling_otp_fallback_with_a_space_is_the_same_switch() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({ "OTP Fallback": true })).await;
    client.answer_push("TIMEOUT").await;
    let fallback = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(step(&fallback), "OTP_REQUIRED");

    // Both spellings, disagreeing: refused, naming the second
    let response = client
        .journey
        .call(json!({ "pingIdUserId": demo::ALICE_ID, "otpFallback": true, "OTP Fallback": false }))
        .await;
    refused(
        &response,
        &["properties.OTP Fallback: differs from otpFallback; give one of the two"],
    );
}

#[tokio::test]
async fn a_phone_push_cannot_reach_asks_for_the_apps_code_only_with_otp_fallback() {
    let client = Client::start().await;
    let phone = format!("/_sim/app/{}", demo::ALICE_MOBILE_DEVICE_ID);
    client
        .stack
        .sim_post(&phone, json!({ "pushEnabled": false }))
        .await;
    let selection = client
        .begin(demo::ALICE_ID, json!({ "otpFallback": true }))
        .await;
    let code_step = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_MOBILE_DEVICE_ID)
        .await;
    assert_eq!(step(&code_step), "OTP_REQUIRED", "{code_step}");
    assert_eq!(code_step["channel"], "MOBILE");
    let code = client.app_code().await;
    let done = client
        .take(demo::ALICE_ID, &code_step, "otp", json!({ "otp": code }))
        .await;
    assert_eq!(step(&done), "COMPLETED");

    let selection = client
        .begin(demo::ALICE_ID, json!({ "otpFallback": false }))
        .await;
    let done = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_MOBILE_DEVICE_ID)
        .await;
    assert_eq!(step(&done), "FAILED");
    assert_eq!(done["reason"], "PUSH_UNREACHABLE");
}

#[tokio::test]
async fn use_code_completes_a_pending_push_with_the_apps_code() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({ "useCode": true })).await;
    assert_eq!(action_names(&pending), ["poll", "useCode", "cancel"]);
    let code = client.app_code().await;
    let done = client
        .take(demo::ALICE_ID, &pending, "useCode", json!({ "otp": code }))
        .await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
    assert_eq!(done["method"], "MOBILE");
}

#[tokio::test]
async fn a_wrong_app_code_shows_the_pending_push_again() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({ "useCode": true })).await;
    let again = client
        .take(
            demo::ALICE_ID,
            &pending,
            "useCode",
            json!({ "otp": "000000" }),
        )
        .await;
    assert_eq!(step(&again), "PUSH_PENDING", "{again}");
    assert_eq!(again["retry"], "INVALID_OTP");
    client.answer_push("APPROVE").await;
    let done = client.take(demo::ALICE_ID, &again, "poll", json!({})).await;
    assert_eq!(step(&done), "COMPLETED");
}

#[tokio::test]
async fn use_code_off_is_refused_and_the_continuation_stays_usable() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({ "useCode": false })).await;
    assert_eq!(action_names(&pending), ["poll", "cancel"]);
    let response = client
        .journey
        .act(
            demo::ALICE_ID,
            &pending,
            "useCode",
            json!({ "otp": "123456" }),
        )
        .await;
    refused(
        &response,
        &["properties.action: useCode is switched off for this journey"],
    );
    // Nothing was spent: the same continuation polls
    client.answer_push("APPROVE").await;
    let done = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(step(&done), "COMPLETED");
}

/// A backup chosen at selection: the passcode goes to the profile's phone or address.
async fn backup_completes(variable: &str, backup: &str, to: &str, channel: &str, masked: &str) {
    let client = Client::start().await;
    let selection = client
        .begin(
            demo::ALICE_ID,
            json!({ variable: true, "SMSBackup": variable == "SMSBackup" }),
        )
        .await;
    assert!(
        selection["backups"]
            .as_array()
            .unwrap()
            .contains(&json!(backup)),
        "{selection}"
    );
    let code_step = client
        .take(
            demo::ALICE_ID,
            &selection,
            "select",
            json!({ "backup": backup }),
        )
        .await;
    assert_eq!(step(&code_step), "OTP_REQUIRED", "{code_step}");
    assert_eq!(code_step["channel"], channel);
    assert_eq!(code_step["destination"], masked);
    let otp = client.stack.last_otp_sent_to(to).await;
    let done = client
        .take(demo::ALICE_ID, &code_step, "otp", json!({ "otp": otp }))
        .await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
    assert_eq!(done["method"], channel);
}

#[tokio::test]
async fn the_sms_backup_texts_the_profiles_phone() {
    backup_completes("SMSBackup", "SMS", demo::ALICE_PHONE, "SMS", "+1555*****01").await;
}

#[tokio::test]
async fn the_phone_backup_calls_the_profiles_phone() {
    backup_completes(
        "phoneBackup",
        "VOICE",
        demo::ALICE_PHONE,
        "VOICE",
        "+1555*****01",
    )
    .await;
}

#[tokio::test]
async fn the_email_backup_mails_the_profiles_address() {
    backup_completes(
        "emailBackup",
        "EMAIL",
        demo::ALICE_EMAIL,
        "EMAIL",
        "a****@example.com",
    )
    .await;
}

#[tokio::test]
async fn a_backup_switched_off_is_not_offered_and_cannot_be_chosen() {
    let client = Client::start().await;
    let selection = client
        .begin(
            demo::ALICE_ID,
            json!({ "SMSBackup": false, "phoneBackup": false, "emailBackup": true }),
        )
        .await;
    assert_eq!(selection["backups"], json!(["EMAIL"]));
    let response = client
        .journey
        .act(
            demo::ALICE_ID,
            &selection,
            "select",
            json!({ "backup": "SMS" }),
        )
        .await;
    refused(
        &response,
        &["properties.action: the SMS backup is not offered to this user"],
    );
    assert_eq!(client.passcodes_to_alice().await, 0);
}

#[tokio::test]
async fn a_user_without_devices_gets_the_backups_alone_or_fails_without_them() {
    let client = Client::start().await;
    let selection = client
        .begin(demo::BOB_ID, json!({ "emailBackup": true }))
        .await;
    assert_eq!(step(&selection), "DEVICE_SELECTION");
    assert_eq!(selection["devices"], json!([]));
    assert_eq!(selection["backups"], json!(["EMAIL"]));
    let code_step = client
        .take(
            demo::BOB_ID,
            &selection,
            "select",
            json!({ "backup": "EMAIL" }),
        )
        .await;
    let otp = client.stack.last_otp_sent_to("bob@example.com").await;
    let done = client
        .take(demo::BOB_ID, &code_step, "otp", json!({ "otp": otp }))
        .await;
    assert_eq!(step(&done), "COMPLETED");

    let none = client.begin(demo::BOB_ID, json!({})).await;
    assert_eq!(
        none,
        json!({"step": "FAILED", "reason": "NO_USABLE_DEVICES", "actions": []})
    );
}

#[tokio::test]
async fn a_wrong_passcode_shows_the_step_again_with_the_attempts_left() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    let code_step = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_SMS_DEVICE_ID)
        .await;
    assert_eq!(step(&code_step), "OTP_REQUIRED");
    assert_eq!(code_step["channel"], "SMS");
    let again = client
        .take(
            demo::ALICE_ID,
            &code_step,
            "otp",
            json!({ "otp": "000000" }),
        )
        .await;
    assert_eq!(step(&again), "OTP_REQUIRED", "{again}");
    assert_eq!(again["retry"], "INVALID_OTP");
    assert_eq!(again["channel"], "SMS");
    assert_eq!(again["destination"], code_step["destination"]);
    assert!(again["attemptsLeft"].as_u64().is_some(), "{again}");
    let otp = client.stack.last_otp_sent_to(demo::ALICE_PHONE).await;
    let done = client
        .take(demo::ALICE_ID, &again, "otp", json!({ "otp": otp }))
        .await;
    assert_eq!(step(&done), "COMPLETED");
}

#[tokio::test]
async fn too_many_wrong_passcodes_fail_the_journey() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    let mut answer = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_SMS_DEVICE_ID)
        .await;
    for _ in 0..10 {
        if step(&answer) != "OTP_REQUIRED" {
            break;
        }
        answer = client
            .take(demo::ALICE_ID, &answer, "otp", json!({ "otp": "000000" }))
            .await;
    }
    assert_eq!(step(&answer), "FAILED", "{answer}");
    assert_eq!(answer["reason"], "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn one_device_and_no_backups_goes_straight_to_its_challenge() {
    let client = Client::start().await;
    let code_step = client.begin(demo::CAROL_ID, json!({})).await;
    assert_eq!(step(&code_step), "OTP_REQUIRED", "{code_step}");
    assert_eq!(code_step["channel"], "TOTP");
    let code = client.stack.totp_code(demo::CAROL_TOTP_DEVICE_ID).await;
    let done = client
        .take(demo::CAROL_ID, &code_step, "otp", json!({ "otp": code }))
        .await;
    assert_eq!(step(&done), "COMPLETED");
    assert_eq!(done["method"], "TOTP");
}

#[tokio::test]
async fn the_admin_message_is_on_the_selection_screen() {
    let client = Client::start().await;
    let selection = client
        .begin(
            demo::ALICE_ID,
            json!({ "AdminMessage": "Trouble? Call the help desk on 1234." }),
        )
        .await;
    assert_eq!(
        selection["adminMessage"],
        "Trouble? Call the help desk on 1234."
    );
}

#[tokio::test]
async fn cancel_ends_the_journey_and_pingones_authentication() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({})).await;
    let done = client
        .take(demo::ALICE_ID, &pending, "cancel", json!({}))
        .await;
    assert_eq!(
        done,
        json!({"step": "FAILED", "reason": "CANCELED", "actions": []})
    );
    assert_eq!(client.latest(demo::ALICE_ID).await["status"], "CANCELED");
}

#[tokio::test]
async fn a_policy_deny_ends_the_journey_before_anything_is_sent() {
    let client = Client::start().await;
    let denied = client
        .begin(
            demo::ALICE_ID,
            json!({ "policy": { "ip": "192.0.2.44", "applicationId": "wiki", "groups": [] } }),
        )
        .await;
    assert_eq!(step(&denied), "DENIED", "{denied}");
    assert!(
        denied["reasons"]
            .to_string()
            .contains("Accessing from countries"),
        "{denied}"
    );
    assert!(denied.get("continuation").is_none());
    assert_eq!(client.authentications_started().await, 0);
    assert_eq!(
        client
            .stack
            .stats("GET /v1/environments/{envId}/users/{userId}/devices")
            .await,
        0
    );
}

#[tokio::test]
async fn a_recent_mfa_from_this_browser_completes_without_a_challenge() {
    let client = Client::start().await;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    // The flow's record of her last MFA on this browser, a minute ago
    let cookie = json!({ "authTimestamp": format!("{}", now - 60_000),
                         "ip": "198.51.100.77", "authMethod": "SWIPE" })
    .to_string();
    let wiki = json!({ "ip": "198.51.100.20", "applicationId": "wiki", "groups": [] });
    let mut recent = wiki.clone();
    recent["policyRecentPingOneCookie"] = json!(cookie);
    let done = client
        .begin(demo::ALICE_ID, json!({ "policy": recent }))
        .await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
    assert_eq!(done["decision"]["action"], "APPROVE");
    assert_eq!(client.authentications_started().await, 0);
    // Without it, she authenticates
    let selection = client
        .begin(demo::ALICE_ID, json!({ "policy": wiki }))
        .await;
    assert_eq!(step(&selection), "DEVICE_SELECTION", "{selection}");
}

#[tokio::test]
async fn a_policy_approve_completes_without_a_challenge() {
    let client = Client::start().await;
    let done = client
        .begin(
            demo::ALICE_ID,
            json!({ "policy": { "ip": "10.1.2.3", "applicationId": "intranet", "groups": [] } }),
        )
        .await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
    assert_eq!(done["decision"]["action"], "APPROVE");
    assert!(done.get("method").is_none());
    assert_eq!(client.authentications_started().await, 0);
}

#[tokio::test]
async fn the_policys_methods_choose_the_devices_and_the_switches_the_flow_leaves_unset() {
    let client = Client::start().await;
    // The intranet away from the office: the policy allows the app (push and its code), so
    // neither her SMS nor her e-mail device is offered, nor any backup: straight to the push
    let phone = format!("/_sim/app/{}", demo::ALICE_MOBILE_DEVICE_ID);
    client
        .stack
        .sim_post(
            &phone,
            json!({ "location": { "latitude": 48.137, "longitude": 11.575 } }),
        )
        .await;
    let intranet = json!({ "ip": "10.1.2.3", "applicationId": "intranet", "groups": [] });
    let pending = client
        .begin(demo::ALICE_ID, json!({ "policy": intranet }))
        .await;
    assert_eq!(step(&pending), "PUSH_PENDING", "{pending}");
    // The office rule read her devices; the journey used that list rather than reading it again
    assert_eq!(
        client
            .stack
            .stats("GET /v1/environments/{envId}/users/{userId}/devices")
            .await,
        1
    );
    // OTP allowed by the policy: Use Code is on
    assert_eq!(action_names(&pending), ["poll", "useCode", "cancel"]);

    // The flow's variables win: SMS backup on, Use Code off, whatever the policy says
    let selection = client
        .begin(
            demo::ALICE_ID,
            json!({ "policy": intranet, "SMSBackup": true, "useCode": false }),
        )
        .await;
    assert_eq!(step(&selection), "DEVICE_SELECTION", "{selection}");
    assert_eq!(selection["backups"], json!(["SMS"]));
    let offered: Vec<&Value> = selection["devices"].as_array().unwrap().iter().collect();
    assert_eq!(offered.len(), 1, "{selection}");
    assert_eq!(offered[0]["type"], "MOBILE");
    // A device the policy does not allow is not found, like any device not offered
    let response = client
        .journey
        .act(
            demo::ALICE_ID,
            &selection,
            "select",
            json!({ "deviceId": demo::ALICE_SMS_DEVICE_ID }),
        )
        .await;
    failed(&response, 404, "NOT_FOUND");
    let pending = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_MOBILE_DEVICE_ID)
        .await;
    assert_eq!(action_names(&pending), ["poll", "cancel"]);
    client.answer_push("APPROVE").await;
    let done = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(done["decision"]["action"], "AUTHENTICATE", "{done}");
}

#[tokio::test]
async fn mandatory_methods_all_paired_let_the_journey_go_on() {
    let client = Client::start().await;
    let selection = client
        .begin(
            demo::ALICE_ID,
            json!({ "mandatoryAuthenticationMethods": "PINGID_MOBILE SMS EMAIL" }),
        )
        .await;
    assert_eq!(step(&selection), "DEVICE_SELECTION", "{selection}");
}

#[tokio::test]
async fn a_missing_mandatory_method_lists_every_one_and_hands_over_to_registration() {
    let client = Client::start().await;
    let required = client
        .begin(
            demo::ALICE_ID,
            json!({ "mandatoryAuthenticationMethods": "SMS VOICE EMAIL" }),
        )
        .await;
    assert_eq!(step(&required), "REGISTRATION_REQUIRED", "{required}");
    assert_eq!(
        required["mandatory"],
        json!([
            {"method": "SMS", "status": "paired"},
            {"method": "VOICE", "status": "not paired"},
            {"method": "EMAIL", "status": "paired"},
        ])
    );
    assert_eq!(required["actions"][0]["journey"], "device-registration");
    assert_eq!(required["actions"][0]["action"], "register");
    // Nothing was sent before registration
    assert_eq!(client.authentications_started().await, 0);
    // The continuation is the registration journey's: the authentication journey refuses it
    let response = client
        .journey
        .act(demo::ALICE_ID, &required, "poll", json!({}))
        .await;
    refused(
        &response,
        &["properties.continuation: is not a continuation of this user's authentication journey"],
    );
}

#[tokio::test]
async fn an_invalid_mandatory_method_is_refused_naming_it() {
    let client = Client::start().await;
    for (given, problem) in [
        (
            "SMS voice",
            "\"voice\" is not a method (methods are written in upper case): one of PINGID_DESKTOP PINGID_MOBILE SMS VOICE EMAIL TOTP SECURITY_KEY PLATFORM YUBIKEY OATH_TOKEN",
        ),
        (
            "SMS  EMAIL",
            "\"SMS  EMAIL\" has a space too many: methods are separated by single spaces",
        ),
        (
            "FIDO2",
            "\"FIDO2\" is not a method: one of PINGID_DESKTOP PINGID_MOBILE SMS VOICE EMAIL TOTP SECURITY_KEY PLATFORM YUBIKEY OATH_TOKEN",
        ),
        ("SMS SMS", "SMS is listed twice"),
    ] {
        let response = client
            .journey
            .call(
                json!({ "pingIdUserId": demo::ALICE_ID, "mandatoryAuthenticationMethods": given }),
            )
            .await;
        let expected = format!("properties.mandatoryAuthenticationMethods: {problem}");
        refused(&response, &[expected.as_str()]);
    }
    assert_eq!(
        client
            .stack
            .stats("GET /v1/environments/{envId}/users/{userId}/devices")
            .await,
        0
    );
}

#[tokio::test]
async fn a_replayed_continuation_is_refused() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    client
        .select(demo::ALICE_ID, &selection, demo::ALICE_SMS_DEVICE_ID)
        .await;
    let response = client
        .journey
        .act(
            demo::ALICE_ID,
            &selection,
            "select",
            json!({ "deviceId": demo::ALICE_SMS_DEVICE_ID }),
        )
        .await;
    let body = failed(&response, 400, "VALIDATION_FAILED");
    assert_eq!(
        problems(&body),
        [
            "properties.continuation: was used already: each continuation takes one step; use the latest one"
        ]
    );
    assert_eq!(client.passcodes_to_alice().await, 1);
}

#[tokio::test]
async fn an_expired_continuation_is_refused() {
    let client = Client::start().await;
    // Sealed with the deployment's key, issued eleven minutes ago
    let key = support::JOURNEY_KEY;
    let state = shared::journey::state::AuthenticationState::new(
        shared::journey::actions::At::PushPending,
        shared::journey::state::Terms {
            switches: Default::default(),
            mandatory: Vec::new(),
            admin_message: None,
            decision: None,
            allowed_methods: None,
        },
    );
    let issued = SystemTime::now() - LIFETIME - Duration::from_secs(60);
    let token = Continuations::new(key.as_bytes()).issue(
        Journey::Authentication,
        demo::ALICE_ID,
        &state,
        issued,
    );
    let response = client
        .journey
        .call(json!({ "pingIdUserId": demo::ALICE_ID, "continuation": token, "action": "poll" }))
        .await;
    refused(
        &response,
        &["properties.continuation: has expired; start the journey again"],
    );
}

#[tokio::test]
async fn a_tampered_continuation_is_refused() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    let token = selection["continuation"].as_str().unwrap();
    let mut bytes = token.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    let response = client
        .journey
        .call(json!({ "pingIdUserId": demo::ALICE_ID, "continuation": tampered, "action": "select", "deviceId": demo::ALICE_SMS_DEVICE_ID }))
        .await;
    refused(
        &response,
        &["properties.continuation: is not a continuation of this user's authentication journey"],
    );
    assert_eq!(client.passcodes_to_alice().await, 0);
}

#[tokio::test]
async fn alices_continuation_cannot_act_for_bob() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({})).await;
    // Presented with bob's id (or the other spelling of it): the same refusal as a forgery
    for field in ["pingIdUserId", "pingIDUserId"] {
        let response = client
            .journey
            .call(json!({ field: demo::BOB_ID, "continuation": pending["continuation"], "action": "cancel" }))
            .await;
        refused(
            &response,
            &[
                "properties.continuation: is not a continuation of this user's authentication journey",
            ],
        );
    }
    // alice's push is untouched, and her continuation still hers
    client.answer_push("APPROVE").await;
    let done = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(step(&done), "COMPLETED");
}

#[tokio::test]
async fn a_device_not_offered_is_not_found_and_the_continuation_stays_usable() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    // carol's device, or one that does not exist: the same answer
    for device in [
        demo::CAROL_TOTP_DEVICE_ID,
        "a11ce000-0000-4000-8000-0000000000ff",
    ] {
        let response = client
            .journey
            .act(
                demo::ALICE_ID,
                &selection,
                "select",
                json!({ "deviceId": device }),
            )
            .await;
        failed(&response, 404, "NOT_FOUND");
    }
    assert_eq!(client.authentications_started().await, 0);
    let code_step = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_SMS_DEVICE_ID)
        .await;
    assert_eq!(step(&code_step), "OTP_REQUIRED");
}

#[tokio::test]
async fn an_action_the_step_does_not_offer_is_refused_before_anything_happens() {
    let client = Client::start().await;
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    for (action, fields, problem) in [
        (
            "poll",
            json!({}),
            "properties.action: poll is not offered at DEVICE_SELECTION",
        ),
        (
            "otp",
            json!({ "otp": "123456" }),
            "properties.action: otp is not offered at DEVICE_SELECTION",
        ),
        (
            "continue",
            json!({}),
            "properties.action: continue is not offered at DEVICE_SELECTION",
        ),
    ] {
        let response = client
            .journey
            .act(demo::ALICE_ID, &selection, action, fields)
            .await;
        refused(&response, &[problem]);
    }
    // The continuation was not spent
    let code_step = client
        .select(demo::ALICE_ID, &selection, demo::ALICE_SMS_DEVICE_ID)
        .await;
    assert_eq!(step(&code_step), "OTP_REQUIRED");
}

#[tokio::test]
async fn every_input_problem_is_named_at_once() {
    let client = Client::start().await;
    // At the start: no user, an action's fields, a bad mandatory list
    let response = client
        .journey
        .call(
            json!({ "action": "poll", "otp": "123456", "mandatoryAuthenticationMethods": "sms",
                      "policy": { "ip": "not-an-address", "groups": [] } }),
        )
        .await;
    let body = failed(&response, 400, "VALIDATION_FAILED");
    let found = problems(&body);
    for field in [
        "pingIdUserId",
        "action",
        "otp",
        "mandatoryAuthenticationMethods",
        "policy.ip",
    ] {
        assert!(
            found
                .iter()
                .any(|p| p.starts_with(&format!("properties.{field}:"))),
            "{field} in {found:?}"
        );
    }
    // With a continuation: start variables, two selections, a field of another action
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    let response = client
        .journey
        .act(
            demo::ALICE_ID,
            &selection,
            "select",
            json!({ "SMSBackup": true, "deviceId": demo::ALICE_SMS_DEVICE_ID, "backup": "SMS", "origin": "https://a.example" }),
        )
        .await;
    refused(
        &response,
        &[
            "properties.SMSBackup: is set at the start; the journey keeps it and a continuation cannot change it",
            "properties.origin: does not go with this action",
            "properties.backup: select takes a deviceId or a backup, not both",
        ],
    );
    // Both spellings of the user, disagreeing
    let response = client
        .journey
        .call(json!({ "pingIdUserId": demo::ALICE_ID, "pingIDUserId": demo::BOB_ID }))
        .await;
    refused(
        &response,
        &["properties.pingIDUserId: differs from pingIdUserId; give one of the two"],
    );
}

#[tokio::test]
async fn the_seeds_other_spelling_of_the_user_id_works_alike() {
    let client = Client::start().await;
    let properties = json!({ "pingIDUserId": demo::CAROL_ID });
    let answer = ok(&client.journey.call(properties).await);
    assert_eq!(step(&answer), "OTP_REQUIRED");
}

#[tokio::test]
async fn a_journey_cannot_push_bomb_the_per_user_limit_holds() {
    let client = Client::start().await;
    // The deployment's default: 3 pushes per user in 5 minutes
    for _ in 0..3 {
        alice_at_push(&client, json!({})).await;
    }
    let selection = client.begin(demo::ALICE_ID, json!({})).await;
    let response = client
        .journey
        .act(
            demo::ALICE_ID,
            &selection,
            "select",
            json!({ "deviceId": demo::ALICE_MOBILE_DEVICE_ID }),
        )
        .await;
    failed(&response, 429, "USER_RATE_LIMITED");
    assert_eq!(client.authentications_started().await, 3);
}

#[tokio::test]
async fn no_passcode_or_continuation_reaches_a_log_line() {
    let client = Client::start().await;
    let selection = client
        .begin(demo::ALICE_ID, json!({ "SMSBackup": true }))
        .await;
    let code_step = client
        .take(
            demo::ALICE_ID,
            &selection,
            "select",
            json!({ "backup": "SMS" }),
        )
        .await;
    let otp = client.stack.last_otp_sent_to(demo::ALICE_PHONE).await;
    let done = client
        .take(demo::ALICE_ID, &code_step, "otp", json!({ "otp": otp }))
        .await;
    assert_eq!(step(&done), "COMPLETED");
    let secrets = [
        otp.as_str(),
        selection["continuation"].as_str().unwrap(),
        code_step["continuation"].as_str().unwrap(),
        demo::ALICE_PHONE,
    ];
    support::assert_no_secret_in_logs(&[&client.journey], &secrets);
}

#[tokio::test]
async fn a_push_nobody_answers_times_out_on_the_simulators_clock() {
    let client = Client::start().await;
    let pending = alice_at_push(&client, json!({ "otpFallback": true })).await;
    let seconds = SimConfig::default().push_timeout.as_secs() + 1;
    client.stack.advance_clock(seconds).await;
    let fallback = client
        .take(demo::ALICE_ID, &pending, "poll", json!({}))
        .await;
    assert_eq!(step(&fallback), "OTP_REQUIRED", "{fallback}");
}

/// bob's device of `properties`, created and activated through the capabilities.
async fn bob_pairs(stack: &Stack, properties: Value) -> Value {
    let create = stack.function("createDevicePingID").await;
    let mut properties = properties;
    properties["userId"] = json!(demo::BOB_ID);
    let device = ok(&create.call(properties).await);
    assert_eq!(device["statusCode"], 201, "{device}");
    device
}

#[tokio::test]
async fn a_passkey_answers_the_assertion_step() {
    const ORIGIN: &str = "https://login.example.com";
    let stack = Stack::start().await;
    let mut authenticator = SoftAuthenticator::new();
    let device = bob_pairs(
        &stack,
        json!({ "workforceDeviceType": "SECURITY_KEY", "rpId": "login.example.com",
                "rpName": "Example", "status": "ACTIVATION_REQUIRED" }),
    )
    .await;
    let options = device["rawResponse"]["publicKeyCredentialCreationOptions"]
        .as_str()
        .unwrap();
    let attestation = authenticator.register(options, ORIGIN).unwrap();
    let activate = stack.function("activateDevice").await;
    ok(&activate
        .call(
            json!({ "userId": demo::BOB_ID, "deviceId": device["deviceId"],
                      "attestation": attestation, "origin": ORIGIN }),
        )
        .await);

    let client = Client::on(stack).await;
    let challenge = client.begin(demo::BOB_ID, json!({})).await;
    assert_eq!(step(&challenge), "ASSERTION_REQUIRED", "{challenge}");
    assert_eq!(action_names(&challenge), ["assertion", "cancel"]);
    let request = challenge["publicKeyCredentialRequestOptions"]
        .as_str()
        .expect("request options (JSON text)");
    let assertion = authenticator.assert(request, ORIGIN).unwrap();
    let done = client
        .take(
            demo::BOB_ID,
            &challenge,
            "assertion",
            json!({ "assertion": assertion, "origin": ORIGIN }),
        )
        .await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
    assert_eq!(done["method"], "SECURITY_KEY");
}

#[tokio::test]
async fn mandatory_sms_voice_email_with_sms_paired_registers_voice_and_email_then_authenticates() {
    let stack = Stack::start().await;
    bob_pairs(
        &stack,
        json!({ "workforceDeviceType": "SMS", "phone": "+15555550102", "status": "ACTIVE" }),
    )
    .await;
    let registration = stack.function("device-registration").await;
    let client = Client::on(stack).await;
    let mut answer = client
        .begin(
            demo::BOB_ID,
            json!({ "mandatoryAuthenticationMethods": "SMS VOICE EMAIL" }),
        )
        .await;
    assert_eq!(step(&answer), "REGISTRATION_REQUIRED", "{answer}");
    assert_eq!(
        answer["mandatory"],
        json!([
            {"method": "SMS", "status": "paired"},
            {"method": "VOICE", "status": "not paired"},
            {"method": "EMAIL", "status": "not paired"},
        ])
    );
    // Each missing method in turn, in the device-registration journey, which hands back
    for (method, to) in [("VOICE", "+15555550102"), ("EMAIL", "bob@example.com")] {
        assert_eq!(answer["actions"][0]["journey"], "device-registration");
        let mut properties = json!({
            "pingIdUserId": demo::BOB_ID, "continuation": answer["continuation"],
            "action": "register", "method": method,
        });
        if method == "VOICE" {
            properties["phone"] = json!(to);
        }
        let activation = ok(&registration.call(properties).await);
        assert_eq!(step(&activation), "ACTIVATION_REQUIRED", "{activation}");
        let otp = client.stack.last_otp_sent_to(to).await;
        let registered = ok(&registration
            .call(json!({
                "pingIdUserId": demo::BOB_ID, "continuation": activation["continuation"],
                "action": "otp", "otp": otp,
            }))
            .await);
        assert_eq!(step(&registered), "REGISTERED", "{registered}");
        assert_eq!(registered["actions"][0]["journey"], "authentication");
        answer = client
            .take(demo::BOB_ID, &registered, "continue", json!({}))
            .await;
        if method == "VOICE" {
            assert_eq!(step(&answer), "REGISTRATION_REQUIRED", "{answer}");
            assert_eq!(answer["mandatory"][1]["status"], "paired");
            assert_eq!(answer["mandatory"][2]["status"], "not paired");
        }
    }
    // All three paired: the journey authenticates
    assert_eq!(step(&answer), "DEVICE_SELECTION", "{answer}");
    assert_eq!(answer["devices"].as_array().unwrap().len(), 3);
    let sms = answer["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["type"] == "SMS")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let code_step = client.select(demo::BOB_ID, &answer, &sms).await;
    let otp = client.stack.last_otp_sent_to("+15555550102").await;
    let done = client
        .take(demo::BOB_ID, &code_step, "otp", json!({ "otp": otp }))
        .await;
    assert_eq!(step(&done), "COMPLETED", "{done}");
}
