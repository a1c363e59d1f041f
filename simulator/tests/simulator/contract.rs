//! The simulator's PingOne answers checked against the project's own description of them,
//! `contract/pingone-responses.json`. That description lists every route the simulator serves
//! for PingOne with the shape of each answer; the tests below call each route, in each state
//! that changes the shape of its answer, and check the body: JSON Schema validation plus no
//! undeclared property (see `schema.rs`).
//!
//! Everything here is read from the repository, so a fresh clone runs it. How the description
//! agrees with Ping's published OpenAPI document is `make fidelity`'s business
//! (`tests/fidelity.rs`).

use std::collections::BTreeSet;

use pingid_sim::authenticator::SoftAuthenticator;
use pingid_sim::demo::{
    ALICE_ID, ALICE_MOBILE_DEVICE_ID, ALICE_PHONE, ALICE_SMS_DEVICE_ID, BOB_ID, CAROL_ID,
    CAROL_TOTP_DEVICE_ID, CLIENT_ID, CLIENT_SECRET, DEFAULT_POLICY_ID, OATH_TOKEN_1_SERIAL,
    PINGID_APP_ID, PROMPT_POLICY_ID, RESTRICTED_POLICY_ID,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::enrollment::{BOB_EMAIL, BOB_PHONE, ORIGIN, create as create_device};
use crate::schema::{SIMULATOR_EXTENSIONS, Schemas};
use crate::support::{
    CHECK_ASSERTION, CHECK_OTP, REMOVE_ORDER, REORDER, SEND_ACTIVATION_CODE, Sim, json_of,
    status_of,
};

/// The routes, named as in the description (`<METHOD> <route template>`).
mod endpoint {
    pub const TOKEN: &str = "POST /{envId}/as/token";
    pub const START: &str = "POST /{envId}/deviceAuthentications";
    pub const READ_AUTH: &str = "GET /{envId}/deviceAuthentications/{deviceAuthenticationId}";
    pub const ACT: &str = "POST /{envId}/deviceAuthentications/{deviceAuthenticationId}";
    pub const FIND_USERS: &str = "GET /v1/environments/{envId}/users";
    pub const READ_USER: &str = "GET /v1/environments/{envId}/users/{userId}";
    pub const LIST_DEVICES: &str = "GET /v1/environments/{envId}/users/{userId}/devices";
    pub const CREATE_OR_REORDER: &str = "POST /v1/environments/{envId}/users/{userId}/devices";
    pub const REMOVE_ORDER: &str = "DELETE /v1/environments/{envId}/users/{userId}/devices";
    pub const READ_DEVICE: &str = "GET /v1/environments/{envId}/users/{userId}/devices/{deviceId}";
    pub const DEVICE_ACTION: &str =
        "POST /v1/environments/{envId}/users/{userId}/devices/{deviceId}";
    pub const DELETE_DEVICE: &str =
        "DELETE /v1/environments/{envId}/users/{userId}/devices/{deviceId}";
    pub const NICKNAME: &str =
        "PUT /v1/environments/{envId}/users/{userId}/devices/{deviceId}/nickname";
    pub const CREATE_PAIRING_KEY: &str = "POST /v1/environments/{envId}/users/{userId}/pairingKeys";
    pub const READ_PAIRING_KEY: &str =
        "GET /v1/environments/{envId}/users/{userId}/pairingKeys/{pairingKeyId}";
    pub const DELETE_PAIRING_KEY: &str =
        "DELETE /v1/environments/{envId}/users/{userId}/pairingKeys/{pairingKeyId}";
    pub const READ_MFA_ENABLED: &str = "GET /v1/environments/{envId}/users/{userId}/mfaEnabled";
    pub const UPDATE_MFA_ENABLED: &str = "PUT /v1/environments/{envId}/users/{userId}/mfaEnabled";
    pub const LIST_POLICIES: &str = "GET /v1/environments/{envId}/deviceAuthenticationPolicies";
    pub const READ_POLICY: &str =
        "GET /v1/environments/{envId}/deviceAuthenticationPolicies/{policyId}";
    pub const MFA_SETTINGS: &str = "GET /v1/environments/{envId}/mfaSettings";
}

/// The description, and what a test of an answer needs from it.
struct Contract {
    schemas: Schemas,
}

impl Contract {
    fn load() -> Self {
        Self {
            schemas: Schemas::contract(),
        }
    }

    /// Checks that `endpoint` answered `expected` with the body the description gives for that
    /// status (an `errors` body for a 4xx / 5xx it does not list), and returns the body.
    fn checked(&self, endpoint: &str, expected: StatusCode, answer: (StatusCode, Value)) -> Value {
        let (status, body) = answer;
        assert_eq!(status, expected, "{endpoint}: {body:#}");
        let described = &self.schemas.doc()["endpoints"][endpoint];
        assert!(
            described.is_object(),
            "the description does not list {endpoint}"
        );
        match described.get(status.as_str()) {
            Some(Value::String(shape)) => {
                self.schemas
                    .assert_conforms(shape, &body, SIMULATOR_EXTENSIONS);
            }
            Some(Value::Null) => assert_eq!(body, Value::Null, "{endpoint} {status} has no body"),
            Some(other) => panic!("{endpoint} {status}: {other} names no shape"),
            None if status.is_client_error() || status.is_server_error() => {
                self.assert_error(&body)
            }
            None => panic!("the description gives no {status} answer for {endpoint}"),
        }
        body
    }

    /// Checks an error body of any route (or of none: an unknown path).
    fn assert_error(&self, body: &Value) {
        let shape = self.schemas.doc()["errors"]
            .as_str()
            .expect("the description names the error shape");
        self.schemas
            .assert_conforms(shape, body, SIMULATOR_EXTENSIONS);
    }

    /// The routes the description lists, `<METHOD> <template>`.
    fn endpoints(&self) -> BTreeSet<String> {
        self.schemas.doc()["endpoints"]
            .as_object()
            .expect("endpoints")
            .keys()
            .filter(|key| !key.starts_with('$'))
            .cloned()
            .collect()
    }
}

/// `<METHOD> <template>` of every route of the simulator's PingOne router (`src/app.rs`; the
/// legacy PingID and `/_sim` routes live in their own modules).
fn served_pingone_routes() -> BTreeSet<String> {
    let source = include_str!("../../src/app.rs");
    let mut routes = BTreeSet::new();
    for (start, _) in source.match_indices(".route(") {
        let arguments = balanced_arguments(&source[start + ".route(".len()..]);
        let template = arguments
            .split('"')
            .nth(1)
            .expect("a route starts with its template");
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = arguments
                .match_indices(&format!("{method}("))
                .any(|(at, _)| {
                    !arguments[..at]
                        .ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
                });
            if called {
                routes.insert(format!("{} {template}", method.to_uppercase()));
            }
        }
    }
    routes
}

/// The text up to the parenthesis that closes the one just opened.
fn balanced_arguments(text: &str) -> &str {
    let mut depth = 1;
    for (at, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..at];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses in src/app.rs")
}

// The description itself.

#[test]
fn the_description_lists_every_pingone_route_the_simulator_serves() {
    let served = served_pingone_routes();
    assert!(served.len() > 20, "{served:#?}");

    assert_eq!(Contract::load().endpoints(), served);
}

#[test]
fn every_answer_and_every_published_counterpart_names_a_defined_shape() {
    let contract = Contract::load();
    let doc = contract.schemas.doc();
    let mut named: Vec<&str> = vec![doc["errors"].as_str().expect("errors")];
    for (endpoint, answers) in doc["endpoints"].as_object().expect("endpoints") {
        if endpoint.starts_with('$') {
            continue;
        }
        let answers = answers.as_object().expect("statuses to shapes");
        assert!(!answers.is_empty(), "{endpoint}");
        for (status, shape) in answers {
            let status: u16 = status.parse().expect("an HTTP status");
            assert!((200..600).contains(&status), "{endpoint} {status}");
            named.extend(shape.as_str());
        }
    }
    for (ours, _) in doc["published"].as_object().expect("published") {
        if !ours.starts_with('$') {
            named.push(ours);
        }
    }

    for shape in named {
        assert!(contract.schemas.named(shape).is_some(), "{shape}");
    }
}

#[test]
fn every_required_member_is_a_declared_property() {
    let contract = Contract::load();
    let definitions = contract.schemas.doc()["definitions"]
        .as_object()
        .expect("definitions");
    let mut shapes: Vec<(String, Value)> = definitions
        .iter()
        .map(|(name, schema)| (name.clone(), schema.clone()))
        .collect();
    let mut checked = 0;
    while let Some((path, schema)) = shapes.pop() {
        let declared = contract.schemas.declared(&schema);
        for name in &declared.required {
            assert!(
                declared.properties.contains_key(name) || declared.additional.is_some(),
                "{path} requires {name} but does not declare it"
            );
        }
        for (name, property) in &declared.properties {
            shapes.push((format!("{path}.{name}"), property.clone()));
        }
        if let Some(items) = contract.schemas.resolve(&schema).get("items") {
            shapes.push((format!("{path}[]"), items.clone()));
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked}");
}

// The token endpoint.

async fn token_answer(sim: &Sim, form: &[(&str, &str)]) -> (StatusCode, Value) {
    json_of(sim.request_token(form).await).await
}

#[tokio::test]
async fn the_token_endpoint_answers_a_token_or_an_oauth_error() {
    let contract = Contract::load();
    let sim = Sim::start().await;
    let token = contract.checked(
        endpoint::TOKEN,
        StatusCode::OK,
        token_answer(
            &sim,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ],
        )
        .await,
    );
    assert_eq!(token["token_type"], "Bearer");

    let refused = contract.checked(
        endpoint::TOKEN,
        StatusCode::UNAUTHORIZED,
        token_answer(
            &sim,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", "guess"),
            ],
        )
        .await,
    );
    assert_eq!(refused["error"], "invalid_client");
    let unsupported = contract.checked(
        endpoint::TOKEN,
        StatusCode::BAD_REQUEST,
        token_answer(
            &sim,
            &[
                ("grant_type", "password"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ],
        )
        .await,
    );
    assert_eq!(unsupported["error"], "unsupported_grant_type");
}

// Errors.

#[tokio::test]
async fn every_kind_of_refusal_is_a_p1_error() {
    use endpoint::*;
    let contract = Contract::load();
    let sim = Sim::start().await;
    let other_environment = "00000000-0000-4000-8000-000000000000";

    let no_token = sim
        .http
        .get(sim.api_url(&format!("/users/{ALICE_ID}")))
        .send()
        .await
        .expect("answered");
    contract.checked(READ_USER, StatusCode::UNAUTHORIZED, json_of(no_token).await);
    let other = sim.url(&format!("/v1/environments/{other_environment}/mfaSettings"));
    contract.checked(
        MFA_SETTINGS,
        StatusCode::FORBIDDEN,
        json_of(sim.get(&other).await).await,
    );
    contract.checked(
        READ_USER,
        StatusCode::NOT_FOUND,
        json_of(sim.get(&sim.api_url("/users/nobody")).await).await,
    );
    let (status, unknown_route) = json_of(sim.get(&sim.api_url("/nothing/here")).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    contract.assert_error(&unknown_route);
    let (status, wrong_method) = sim
        .call(Method::PATCH, &sim.api_url("/mfaSettings"), None, None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    contract.assert_error(&wrong_method);

    contract.checked(
        START,
        StatusCode::BAD_REQUEST,
        sim.try_start_auth(json!({ "user": { "id": "nobody" } }))
            .await,
    );
    contract.checked(
        START,
        StatusCode::BAD_REQUEST,
        sim.try_start_auth(json!({
            "user": { "id": BOB_ID },
            "selectedDevice": { "oneTime": { "type": "SMS", "phone": "12" } },
        }))
        .await,
    );
    contract.checked(
        START,
        StatusCode::BAD_REQUEST,
        sim.try_start_auth(json!({ "user": { "id": BOB_ID } }))
            .await,
    );

    let auth = sim.start_auth(json!({ "user": { "id": CAROL_ID } })).await;
    let invalid = contract.checked(
        ACT,
        StatusCode::BAD_REQUEST,
        sim.check_otp(&auth, "000000x").await,
    );
    assert_eq!(invalid["details"][0]["code"], "INVALID_OTP");
    contract.checked(
        ACT,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        sim.act(&auth, "application/json", json!({})).await,
    );
    let broken = sim
        .http
        .post(sim.auth_url(&format!(
            "/deviceAuthentications/{}",
            auth["id"].as_str().expect("id")
        )))
        .bearer_auth(sim.token().await)
        .header("content-type", CHECK_OTP)
        .body("{")
        .send()
        .await
        .expect("answered");
    contract.checked(ACT, StatusCode::BAD_REQUEST, json_of(broken).await);
    let code = sim.totp(CAROL_TOTP_DEVICE_ID).await;
    sim.check_otp(&auth, &code).await;
    contract.checked(
        ACT,
        StatusCode::BAD_REQUEST,
        sim.check_otp(&auth, &code).await,
    );

    let sms = sim
        .start_auth(json!({
            "user": { "id": BOB_ID },
            "selectedDevice": { "oneTime": { "type": "SMS", "phone": BOB_PHONE } },
        }))
        .await;
    sim.advance(300).await;
    contract.checked(
        ACT,
        StatusCode::BAD_REQUEST,
        sim.check_otp(&sms, "123456").await,
    );

    sim.set_faults(
        json!([{ "pathPrefix": "/v1", "status": 429, "retryAfterSeconds": 1, "count": 1 }]),
    )
    .await;
    contract.checked(
        MFA_SETTINGS,
        StatusCode::TOO_MANY_REQUESTS,
        json_of(sim.get(&sim.api_url("/mfaSettings")).await).await,
    );
    sim.set_faults(json!({ "pathPrefix": "/v1", "status": 503, "count": 1 }))
        .await;
    contract.checked(
        MFA_SETTINGS,
        StatusCode::SERVICE_UNAVAILABLE,
        json_of(sim.get(&sim.api_url("/mfaSettings")).await).await,
    );
}

// Users.

#[tokio::test]
async fn users_are_read_by_id_and_found_by_filter() {
    let contract = Contract::load();
    let sim = Sim::start().await;

    let alice = contract.checked(
        endpoint::READ_USER,
        StatusCode::OK,
        json_of(sim.get(&sim.api_url(&format!("/users/{ALICE_ID}"))).await).await,
    );
    assert_eq!(alice["username"], "alice");

    let everyone = contract.checked(
        endpoint::FIND_USERS,
        StatusCode::OK,
        json_of(sim.get(&sim.api_url("/users")).await).await,
    );
    assert_eq!(everyone["count"], 5);
    let found = sim
        .http
        .get(sim.api_url("/users"))
        .bearer_auth(sim.token().await)
        .query(&[("filter", r#"email eq "bob@example.com""#)])
        .send()
        .await
        .expect("answered");
    let found = contract.checked(endpoint::FIND_USERS, StatusCode::OK, json_of(found).await);
    assert_eq!(found["_embedded"]["users"][0]["id"], BOB_ID);
}

// MFA devices.

/// `POST …/users/{user}/devices` (application/json), whatever the answer.
fn device_url(sim: &Sim, user: &str, device: &Value) -> String {
    sim.api_url(&format!(
        "/users/{user}/devices/{}",
        device["id"].as_str().expect("a device id")
    ))
}

#[tokio::test]
async fn device_lists_and_reads_are_devices() {
    let contract = Contract::load();
    let sim = Sim::start().await;

    for (user, count) in [(ALICE_ID, 3), (BOB_ID, 0), (CAROL_ID, 1)] {
        let list = contract.checked(
            endpoint::LIST_DEVICES,
            StatusCode::OK,
            json_of(
                sim.get(&sim.api_url(&format!("/users/{user}/devices")))
                    .await,
            )
            .await,
        );
        let devices = list["_embedded"]["devices"].as_array().expect("devices");
        assert_eq!(devices.len(), count);
        for device in devices {
            let read = contract.checked(
                endpoint::READ_DEVICE,
                StatusCode::OK,
                json_of(sim.get(&device_url(&sim, user, device)).await).await,
            );
            // The phone reports its location as it goes: the time of the last report may move
            // between the two reads, nothing else may.
            let unstamped = |mut device: Value| {
                if let Some(location) = device.get_mut("location") {
                    location["updatedAt"] = Value::Null;
                }
                device
            };
            assert_eq!(unstamped(read), unstamped(device.clone()));
        }
    }
}

#[tokio::test]
async fn every_creatable_device_type_is_answered_as_a_device_with_what_pairing_needs() {
    let contract = Contract::load();
    let sim = Sim::start().await;

    for (body, pairing_field) in [
        (json!({ "type": "SMS", "phone": BOB_PHONE }), "phone"),
        (json!({ "type": "VOICE", "phone": BOB_PHONE }), "phone"),
        (json!({ "type": "EMAIL", "email": BOB_EMAIL }), "email"),
        (json!({ "type": "TOTP" }), "keyUri"),
        (
            json!({ "type": "OATH_TOKEN", "serialNumber": OATH_TOKEN_1_SERIAL }),
            "serialNumber",
        ),
        (json!({ "type": "YUBIKEY" }), "id"),
        (
            json!({ "type": "FIDO2" }),
            "publicKeyCredentialCreationOptions",
        ),
        (
            json!({ "type": "PLATFORM" }),
            "publicKeyCredentialCreationOptions",
        ),
        (
            json!({ "type": "SECURITY_KEY" }),
            "publicKeyCredentialCreationOptions",
        ),
        (
            json!({ "type": "PINGID_DESKTOP_GEN2" }),
            "pingIdDesktopCredentialCreationOptions",
        ),
        (
            json!({ "type": "SMS", "phone": BOB_PHONE, "status": "ACTIVE" }),
            "phone",
        ),
    ] {
        let device = contract.checked(
            endpoint::CREATE_OR_REORDER,
            StatusCode::CREATED,
            create_device(&sim, BOB_ID, body.clone()).await,
        );
        assert_eq!(device["type"], body["type"]);
        assert_eq!(
            status_of(&device),
            body["status"].as_str().unwrap_or("ACTIVATION_REQUIRED")
        );
        assert!(device[pairing_field].is_string(), "{device:#}");

        // Bob may hold five devices: each goes before the next is created.
        contract.checked(
            endpoint::DELETE_DEVICE,
            StatusCode::NO_CONTENT,
            sim.call(
                Method::DELETE,
                &device_url(&sim, BOB_ID, &device),
                None,
                None,
            )
            .await,
        );
    }
}

#[tokio::test]
async fn activation_answers_the_active_device_and_a_resent_code_answers_nothing() {
    let contract = Contract::load();
    let sim = Sim::start().await;
    let sms = contract.checked(
        endpoint::CREATE_OR_REORDER,
        StatusCode::CREATED,
        create_device(&sim, BOB_ID, json!({ "type": "SMS", "phone": BOB_PHONE })).await,
    );
    let totp = contract.checked(
        endpoint::CREATE_OR_REORDER,
        StatusCode::CREATED,
        create_device(&sim, BOB_ID, json!({ "type": "TOTP" })).await,
    );

    contract.checked(
        endpoint::DEVICE_ACTION,
        StatusCode::NO_CONTENT,
        sim.call(
            Method::POST,
            &device_url(&sim, BOB_ID, &sms),
            Some(SEND_ACTIVATION_CODE),
            None,
        )
        .await,
    );
    let otp = sim.last_otp_to(BOB_PHONE).await;
    let wrong = contract.checked(
        endpoint::DEVICE_ACTION,
        StatusCode::BAD_REQUEST,
        crate::enrollment::activate(&sim, BOB_ID, &sms, json!({ "otp": "000000x" })).await,
    );
    assert_eq!(wrong["details"][0]["code"], "INVALID_OTP");
    let active = contract.checked(
        endpoint::DEVICE_ACTION,
        StatusCode::OK,
        crate::enrollment::activate(&sim, BOB_ID, &sms, json!({ "otp": otp })).await,
    );
    assert_eq!(status_of(&active), "ACTIVE");

    let code = sim.totp(totp["id"].as_str().expect("id")).await;
    let active = contract.checked(
        endpoint::DEVICE_ACTION,
        StatusCode::OK,
        crate::enrollment::activate(&sim, BOB_ID, &totp, json!({ "otp": code })).await,
    );
    assert_eq!(status_of(&active), "ACTIVE");
    assert!(active.get("secret").is_none(), "{active:#}");
}

#[tokio::test]
async fn nickname_order_and_delete_answers() {
    let contract = Contract::load();
    let sim = Sim::start().await;
    let devices = sim.api_url(&format!("/users/{ALICE_ID}/devices"));
    let sms = json!({ "id": ALICE_SMS_DEVICE_ID });

    let renamed = contract.checked(
        endpoint::NICKNAME,
        StatusCode::OK,
        sim.call(
            Method::PUT,
            &format!("{}/nickname", device_url(&sim, ALICE_ID, &sms)),
            Some("application/json"),
            Some(&json!({ "nickname": "Old phone" })),
        )
        .await,
    );
    assert_eq!(renamed["nickname"], "Old phone");

    let order = contract.checked(
        endpoint::CREATE_OR_REORDER,
        StatusCode::OK,
        sim.call(
            Method::POST,
            &devices,
            Some(REORDER),
            Some(&json!({ "order": [sms] })),
        )
        .await,
    );
    assert_eq!(order["order"][0], sms);
    contract.checked(
        endpoint::REMOVE_ORDER,
        StatusCode::NO_CONTENT,
        sim.call(Method::DELETE, &devices, Some(REMOVE_ORDER), None)
            .await,
    );
    contract.checked(
        endpoint::DELETE_DEVICE,
        StatusCode::NO_CONTENT,
        sim.call(
            Method::DELETE,
            &device_url(&sim, ALICE_ID, &sms),
            None,
            None,
        )
        .await,
    );
}

// Pairing keys.

#[tokio::test]
async fn pairing_keys_are_answered_in_each_status() {
    let contract = Contract::load();
    let sim = Sim::start().await;
    let keys = sim.api_url(&format!("/users/{BOB_ID}/pairingKeys"));
    let key_url = |key: &Value| format!("{keys}/{}", key["id"].as_str().expect("a key id"));

    let claimed = contract.checked(
        endpoint::CREATE_PAIRING_KEY,
        StatusCode::CREATED,
        sim.call(
            Method::POST,
            &keys,
            Some("application/json"),
            Some(&json!({})),
        )
        .await,
    );
    assert_eq!(claimed["status"], "INITIAL");
    let (status, _) = sim
        .control(
            &format!(
                "pairing-keys/{}/claim",
                claimed["code"].as_str().expect("code")
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let read_claimed = contract.checked(
        endpoint::READ_PAIRING_KEY,
        StatusCode::OK,
        json_of(sim.get(&key_url(&claimed)).await).await,
    );
    assert_eq!(read_claimed["status"], "CLAIMED");

    let expiring = contract.checked(
        endpoint::CREATE_PAIRING_KEY,
        StatusCode::CREATED,
        sim.call(
            Method::POST,
            &keys,
            Some("application/json"),
            Some(&json!({ "applications": [{ "id": PINGID_APP_ID }] })),
        )
        .await,
    );
    let initial = contract.checked(
        endpoint::READ_PAIRING_KEY,
        StatusCode::OK,
        json_of(sim.get(&key_url(&expiring)).await).await,
    );
    assert_eq!(initial["status"], "INITIAL");
    sim.advance(10 * 60).await;
    let expired = contract.checked(
        endpoint::READ_PAIRING_KEY,
        StatusCode::OK,
        json_of(sim.get(&key_url(&expiring)).await).await,
    );
    assert_eq!(expired["status"], "EXPIRED");

    contract.checked(
        endpoint::DELETE_PAIRING_KEY,
        StatusCode::NO_CONTENT,
        sim.call(Method::DELETE, &key_url(&expiring), None, None)
            .await,
    );
}

// The MFA flag, policies and settings.

#[tokio::test]
async fn mfa_enabled_is_read_and_updated() {
    let contract = Contract::load();
    let sim = Sim::start().await;
    let url = sim.api_url(&format!("/users/{BOB_ID}/mfaEnabled"));

    let before = contract.checked(
        endpoint::READ_MFA_ENABLED,
        StatusCode::OK,
        json_of(sim.get(&url).await).await,
    );
    assert_eq!(before["mfaEnabled"], false);
    let updated = contract.checked(
        endpoint::UPDATE_MFA_ENABLED,
        StatusCode::OK,
        sim.call(
            Method::PUT,
            &url,
            Some("application/json"),
            Some(&json!({ "mfaEnabled": true })),
        )
        .await,
    );
    assert_eq!(updated["mfaEnabled"], true);
}

#[tokio::test]
async fn policies_are_listed_and_read() {
    let contract = Contract::load();
    let sim = Sim::start().await;

    let list = contract.checked(
        endpoint::LIST_POLICIES,
        StatusCode::OK,
        json_of(sim.get(&sim.api_url("/deviceAuthenticationPolicies")).await).await,
    );
    let listed = list["_embedded"]["deviceAuthenticationPolicies"]
        .as_array()
        .expect("policies");
    assert_eq!(listed.len(), 3);

    for id in [DEFAULT_POLICY_ID, PROMPT_POLICY_ID, RESTRICTED_POLICY_ID] {
        let policy = contract.checked(
            endpoint::READ_POLICY,
            StatusCode::OK,
            json_of(
                sim.get(&sim.api_url(&format!("/deviceAuthenticationPolicies/{id}")))
                    .await,
            )
            .await,
        );
        assert!(listed.contains(&policy), "{id}");
    }
}

#[tokio::test]
async fn mfa_settings_are_read() {
    let contract = Contract::load();
    let sim = Sim::start().await;

    let settings = contract.checked(
        endpoint::MFA_SETTINGS,
        StatusCode::OK,
        json_of(sim.get(&sim.api_url("/mfaSettings")).await).await,
    );

    assert_eq!(settings["pairing"]["maxAllowedDevices"], 5);
}

// Device authentications: one answer per status, and each route that answers it.

#[tokio::test]
async fn a_push_is_answered_while_pending_timed_out_and_completed() {
    use endpoint::*;
    let contract = Contract::load();
    let sim = Sim::start().await;

    let auth = contract.checked(
        START,
        StatusCode::OK,
        sim.try_start_auth(json!({ "user": { "id": ALICE_ID } }))
            .await,
    );
    assert_eq!(status_of(&auth), "PUSH_CONFIRMATION_REQUIRED");
    assert_eq!(auth["selectedDevice"]["id"], ALICE_MOBILE_DEVICE_ID);
    sim.push(&auth, "TIMEOUT").await;
    let timed_out = contract.checked(READ_AUTH, StatusCode::OK, sim.read_auth(&auth).await);
    assert_eq!(status_of(&timed_out), "PUSH_CONFIRMATION_TIMED_OUT");

    let pushed_again = contract.checked(
        ACT,
        StatusCode::OK,
        sim.select(&auth, ALICE_MOBILE_DEVICE_ID).await,
    );
    assert_eq!(status_of(&pushed_again), "PUSH_CONFIRMATION_REQUIRED");
    sim.push(&auth, "APPROVE").await;
    let completed = contract.checked(READ_AUTH, StatusCode::OK, sim.read_auth(&auth).await);
    assert_eq!(status_of(&completed), "COMPLETED");
}

#[tokio::test]
async fn a_denied_push_is_answered_as_failed_with_its_error() {
    let contract = Contract::load();
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;

    sim.push(&auth, "DENY").await;

    let failed = contract.checked(
        endpoint::READ_AUTH,
        StatusCode::OK,
        sim.read_auth(&auth).await,
    );
    assert_eq!(status_of(&failed), "FAILED");
    assert_eq!(failed["error"]["code"], "PUSH_DENIED");
}

#[tokio::test]
async fn cancelling_is_answered_with_a_selection_or_as_canceled() {
    use endpoint::*;
    let contract = Contract::load();
    let sim = Sim::start().await;
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;

    let selecting = contract.checked(
        ACT,
        StatusCode::OK,
        sim.cancel(&auth, "CHANGE_DEVICE").await,
    );
    assert_eq!(status_of(&selecting), "DEVICE_SELECTION_REQUIRED");
    let canceled = contract.checked(ACT, StatusCode::OK, sim.cancel(&auth, "SIGNOUT").await);
    assert_eq!(status_of(&canceled), "CANCELED");
    let read = contract.checked(READ_AUTH, StatusCode::OK, sim.read_auth(&auth).await);
    assert_eq!(status_of(&read), "CANCELED");
}

#[tokio::test]
async fn a_selection_is_answered_with_masked_devices_then_an_otp_request() {
    use endpoint::*;
    let contract = Contract::load();
    let sim = Sim::start().await;

    let auth = contract.checked(
        START,
        StatusCode::OK,
        sim.try_start_auth(
            json!({ "user": { "id": ALICE_ID }, "policy": { "id": PROMPT_POLICY_ID } }),
        )
        .await,
    );
    assert_eq!(status_of(&auth), "DEVICE_SELECTION_REQUIRED");
    assert_eq!(auth["_embedded"]["devices"][1]["phone"], "+1555*****01");
    let otp_required = contract.checked(
        ACT,
        StatusCode::OK,
        sim.select(&auth, ALICE_SMS_DEVICE_ID).await,
    );
    assert_eq!(status_of(&otp_required), "OTP_REQUIRED");
    let read = contract.checked(READ_AUTH, StatusCode::OK, sim.read_auth(&auth).await);
    assert_eq!(status_of(&read), "OTP_REQUIRED");

    let otp = sim.last_otp_to(ALICE_PHONE).await;
    let completed = contract.checked(ACT, StatusCode::OK, sim.check_otp(&auth, &otp).await);
    assert_eq!(status_of(&completed), "COMPLETED");
}

#[tokio::test]
async fn too_many_wrong_otps_are_answered_as_failed() {
    let contract = Contract::load();
    let sim = Sim::start().await;
    let auth = sim
        .start_auth(
            json!({ "user": { "id": CAROL_ID }, "selectedDevice": { "id": CAROL_TOTP_DEVICE_ID } }),
        )
        .await;
    for _ in 0..3 {
        contract.checked(
            endpoint::ACT,
            StatusCode::BAD_REQUEST,
            sim.check_otp(&auth, "000000x").await,
        );
    }

    let failed = contract.checked(
        endpoint::READ_AUTH,
        StatusCode::OK,
        sim.read_auth(&auth).await,
    );

    assert_eq!(status_of(&failed), "FAILED");
    assert_eq!(failed["error"]["code"], "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn one_time_devices_and_otps_on_start_are_answered_like_paired_ones() {
    let contract = Contract::load();
    let sim = Sim::start().await;

    let one_time = contract.checked(
        endpoint::START,
        StatusCode::OK,
        sim.try_start_auth(json!({
            "user": { "id": BOB_ID },
            "selectedDevice": { "oneTime": { "type": "EMAIL", "email": BOB_EMAIL } },
        }))
        .await,
    );
    assert_eq!(status_of(&one_time), "OTP_REQUIRED");
    assert_eq!(
        one_time["_embedded"]["devices"][0],
        json!({ "type": "EMAIL", "email": "b**@example.com" })
    );

    let code = sim.totp(CAROL_TOTP_DEVICE_ID).await;
    let at_once = contract.checked(
        endpoint::START,
        StatusCode::OK,
        sim.try_start_auth(
            json!({ "user": { "id": CAROL_ID }, "selectedDevice": { "otp": code } }),
        )
        .await,
    );
    assert_eq!(status_of(&at_once), "COMPLETED");
}

#[tokio::test]
async fn fido2_and_desktop_assertions_are_requested_and_checked() {
    use endpoint::*;
    let contract = Contract::load();
    let sim = Sim::start().await;
    let mut authenticator = SoftAuthenticator::new();

    let fido2 = contract.checked(
        CREATE_OR_REORDER,
        StatusCode::CREATED,
        create_device(&sim, BOB_ID, json!({ "type": "FIDO2" })).await,
    );
    let attestation = authenticator
        .register(
            fido2["publicKeyCredentialCreationOptions"]
                .as_str()
                .expect("options"),
            ORIGIN,
        )
        .expect("registers");
    contract.checked(
        DEVICE_ACTION,
        StatusCode::OK,
        crate::enrollment::activate(
            &sim,
            BOB_ID,
            &fido2,
            json!({ "attestation": attestation, "origin": ORIGIN }),
        )
        .await,
    );
    let desktop = contract.checked(
        CREATE_OR_REORDER,
        StatusCode::CREATED,
        create_device(&sim, BOB_ID, json!({ "type": "PINGID_DESKTOP_GEN2" })).await,
    );
    let (_, registered) = sim
        .control(
            "desktop/register",
            json!({ "options": desktop["pingIdDesktopCredentialCreationOptions"] }),
        )
        .await;
    contract.checked(
        DEVICE_ACTION,
        StatusCode::OK,
        crate::enrollment::activate(
            &sim,
            BOB_ID,
            &desktop,
            json!({ "attestation": registered["attestation"], "origin": ORIGIN }),
        )
        .await,
    );

    let fido2_auth = contract.checked(
        START,
        StatusCode::OK,
        sim.try_start_auth(
            json!({ "user": { "id": BOB_ID }, "selectedDevice": { "id": fido2["id"] } }),
        )
        .await,
    );
    assert_eq!(status_of(&fido2_auth), "ASSERTION_REQUIRED");
    let assertion = authenticator
        .assert(
            fido2_auth["publicKeyCredentialRequestOptions"]
                .as_str()
                .expect("options"),
            ORIGIN,
        )
        .expect("asserts");
    let completed = contract.checked(
        ACT,
        StatusCode::OK,
        sim.act(
            &fido2_auth,
            CHECK_ASSERTION,
            json!({ "assertion": assertion, "origin": ORIGIN }),
        )
        .await,
    );
    assert_eq!(status_of(&completed), "COMPLETED");

    let desktop_auth = contract.checked(
        START,
        StatusCode::OK,
        sim.try_start_auth(
            json!({ "user": { "id": BOB_ID }, "selectedDevice": { "id": desktop["id"] } }),
        )
        .await,
    );
    assert_eq!(status_of(&desktop_auth), "ASSERTION_REQUIRED");
    let read = contract.checked(
        READ_AUTH,
        StatusCode::OK,
        sim.read_auth(&desktop_auth).await,
    );
    assert!(read["pingIdDesktopCredentialRequestOptions"].is_string());
    let (_, answer) = sim
        .control(
            "desktop/authenticate",
            json!({ "options": desktop_auth["pingIdDesktopCredentialRequestOptions"] }),
        )
        .await;
    let completed = contract.checked(
        ACT,
        StatusCode::OK,
        sim.act(
            &desktop_auth,
            CHECK_ASSERTION,
            json!({ "assertion": answer["assertion"], "origin": ORIGIN }),
        )
        .await,
    );
    assert_eq!(status_of(&completed), "COMPLETED");
}
