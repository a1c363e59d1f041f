//! The stack every capability test stands on: the simulator, moto's Secrets Manager holding the
//! PingOne connection secret, and the real function binaries speaking the Runtime API.

#![allow(dead_code)] // each test file uses its own subset

use std::net::SocketAddr;

use e2e::{ApiRequest, FunctionProcess, Moto, ProxyResponse};
use pingid_sim::{RunningSim, SimConfig, Simulator, demo};
use serde_json::{Value, json};

/// Binary name of each capability id.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("readAllDevicesPingID", "read-all-devices-pingid"),
    ("evalPolicyPingID", "eval-policy-pingid"),
    ("authentication", "journey-authentication"),
    ("device-registration", "journey-device-registration"),
    (
        "createDeviceAuthenticationPingID",
        "create-device-authentication-pingid",
    ),
    ("readDeviceAuthentication", "read-device-authentication"),
    (
        "deviceSelectDeviceAuthentication",
        "device-select-device-authentication",
    ),
    (
        "validateOtpDeviceAuthentication",
        "validate-otp-device-authentication",
    ),
    (
        "cancelDeviceAuthenticationPingID",
        "cancel-device-authentication-pingid",
    ),
    ("createDevicePingID", "create-device-pingid"),
    ("activateDevice", "activate-device"),
    ("resendOTPForPairing", "resend-otp-for-pairing"),
    ("createPairingKeyPingID", "create-pairing-key-pingid"),
    ("readPairingKey", "read-pairing-key"),
    ("deletePairingKey", "delete-pairing-key"),
    ("readDevice", "read-device"),
    ("deleteDevice", "delete-device"),
    ("updateDeviceNickname", "update-device-nickname"),
    ("setDeviceOrder", "set-device-order"),
    ("readUser", "read-user"),
    ("readUserMFAEnabled", "read-user-mfa-enabled"),
    ("updateUserMFAEnabled", "update-user-mfa-enabled"),
    (
        "readDeviceAuthenticationPolicy",
        "read-device-authentication-policy",
    ),
    (
        "validateAssertionDeviceAuthentication",
        "validate-assertion-device-authentication",
    ),
    ("initializeMfa", "initialize-mfa"),
    (
        "initializePasswordlessAuthentication",
        "initialize-passwordless-authentication",
    ),
    (
        "finalizePasswordlessAuthentication",
        "finalize-passwordless-authentication",
    ),
];

/// The API authorizer's binary (not a capability: it answers API Gateway's TOKEN events).
pub const AUTHORIZER: &str = "api-authorizer";

/// The bearer token the stack's API-tokens secret accepts (named `davinci-2026-11`), as in
/// `events/api-authorizer.token.json`.
pub const DEMO_API_TOKEN: &str = "demo-davinci-token-0123456789abcdefghijklmnopqrstuv";

/// The journeys' continuation key in the stack's Secrets Manager: a test that needs a
/// continuation no journey would issue (an expired one) seals it with this.
pub const JOURNEY_KEY: &str = "e2e-journey-key-0123456789abcdefghijklmnopqrstuvwxyz";

/// A simulator, a moto server with the connection secret, and a way to start functions.
pub struct Stack {
    pub sim: RunningSim,
    pub moto: Moto,
    pub secret_arn: String,
    /// The legacy org's `pingid.properties` secret (pointing at this simulator).
    pub properties_arn: String,
    /// The legacy connector's single-use table.
    pub used_once_table: String,
    /// The per-user limits' counters (`shared::limits`).
    pub limits_table: String,
    /// The API's bearer tokens (`DEMO_API_TOKEN` and a second one, as during a rotation).
    pub api_tokens_arn: String,
    /// The PingID policy document's secret (the demo document, `local/policy.json`).
    pub policy_arn: String,
    /// The journeys' continuation key.
    pub journey_arn: String,
    http: reqwest::Client,
}

/// The demo tenant's policy document, as `make run` serves it.
pub const DEMO_POLICY: &str = include_str!("../../../../local/policy.json");

impl Stack {
    /// Starts the simulator and moto, and stores the demo tenant's connection secret.
    pub async fn start() -> Stack {
        Self::start_with(SimConfig::default()).await
    }

    /// Like [`Stack::start`] with simulator settings.
    pub async fn start_with(config: SimConfig) -> Stack {
        let moto = Moto::shared()
            .await
            .expect("moto starts (make test installs it)");
        Self::on(config, moto).await
    }

    /// Like [`Stack::start`], on a moto server of the test's own, which the test may stop (an
    /// AWS outage); every other stack shares one server and has resources of its own on it.
    pub async fn start_with_own_moto() -> Stack {
        let moto = Moto::start()
            .await
            .expect("moto starts (make test installs it)");
        Self::on(SimConfig::default(), moto).await
    }

    async fn on(config: SimConfig, moto: Moto) -> Stack {
        let sim = Simulator::start(SocketAddr::from(([127, 0, 0, 1], 0)), config)
            .await
            .expect("simulator starts");
        let secret = json!({
            "envId": demo::ENV_ID,
            "clientId": demo::CLIENT_ID,
            "clientSecret": demo::CLIENT_SECRET,
            "region": "NA",
        });
        let secret_arn = moto
            .create_secret("pingid/pingone-connection", &secret.to_string())
            .await
            .expect("secret stored");
        let properties = demo::legacy::properties_file(&sim.base_url());
        let properties_arn = moto
            .create_secret("pingid/properties", &properties)
            .await
            .expect("properties stored");
        let used_once_table = moto
            .create_id_table("pingid-used-once")
            .await
            .expect("table created");
        let limits_table = moto
            .create_id_table("pingid-limits")
            .await
            .expect("table created");
        let policy_arn = moto
            .create_secret("pingid/policy", DEMO_POLICY)
            .await
            .expect("policy stored");
        let journey_arn = moto
            .create_secret("pingid/journeys", JOURNEY_KEY)
            .await
            .expect("journey key stored");
        let tokens = json!({"tokens": {
            "davinci-2026-11": DEMO_API_TOKEN,
            "davinci-2027-05": "next-davinci-token-0123456789abcdefghijklmnopqrst",
        }});
        let api_tokens_arn = moto
            .create_secret("pingid/api-tokens", &tokens.to_string())
            .await
            .expect("API tokens stored");
        Stack {
            sim,
            moto,
            secret_arn,
            properties_arn,
            used_once_table,
            limits_table,
            api_tokens_arn,
            policy_arn,
            journey_arn,
            http: shared::http::bare_builder()
                .build()
                .expect("the client builds"),
        }
    }

    /// The environment a function gets in this stack.
    pub fn function_env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.moto.aws_env();
        env.push(("PINGONE_CONNECTION_SECRET_ID", self.secret_arn.clone()));
        env.push(("PINGONE_BASE_URL", self.sim.base_url()));
        env.push(("PINGID_PROPERTIES_SECRET_ID", self.properties_arn.clone()));
        env.push(("PINGID_USED_ONCE_TABLE", self.used_once_table.clone()));
        env.push(("PINGID_LIMITS_TABLE", self.limits_table.clone()));
        env.push(("PINGID_API_TOKENS_SECRET_ID", self.api_tokens_arn.clone()));
        env.push(("PINGID_POLICY_SECRET_ID", self.policy_arn.clone()));
        env.push(("PINGID_JOURNEY_SECRET_ID", self.journey_arn.clone()));
        env
    }

    /// Starts the API authorizer's binary, with extra environment.
    pub async fn authorizer_with(&self, extra: &[(&'static str, String)]) -> Function {
        let mut env = self.function_env();
        env.extend_from_slice(extra);
        let process = FunctionProcess::spawn(AUTHORIZER, &env)
            .await
            .expect("the authorizer starts");
        Function {
            capability_id: "apiAuthorizer".to_string(),
            process,
        }
    }

    /// Starts the compiled function binary of `capability_id`.
    pub async fn function(&self, capability_id: &str) -> Function {
        self.function_with(capability_id, &[]).await
    }

    /// Like [`Stack::function`], with extra environment.
    pub async fn function_with(
        &self,
        capability_id: &str,
        extra: &[(&'static str, String)],
    ) -> Function {
        let binary = binary(capability_id);
        let mut env = self.function_env();
        env.extend_from_slice(extra);
        let process = FunctionProcess::spawn(binary, &env)
            .await
            .expect("function starts");
        Function {
            capability_id: capability_id.to_string(),
            process,
        }
    }

    /// GET on the simulator's control API.
    pub async fn sim_get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.sim.base_url());
        let response = self.http.get(url).send().await.expect("simulator answers");
        response.json().await.expect("simulator sends JSON")
    }

    /// POST on the simulator's control API.
    pub async fn sim_post(&self, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.sim.base_url());
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("simulator answers");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("simulator sends JSON")
    }

    /// POST on the simulator's control API, whatever the answer: `(status, body)`.
    pub async fn sim_post_raw(&self, path: &str, body: Value) -> (u16, Value) {
        let url = format!("{}{path}", self.sim.base_url());
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .expect("simulator answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Moves the simulator's clock forward.
    pub async fn advance_clock(&self, seconds: u64) {
        self.sim_post("/_sim/clock/advance", json!({ "seconds": seconds }))
            .await;
    }

    /// PUT faults on the simulator.
    pub async fn sim_faults(&self, faults: Value) {
        let url = format!("{}/_sim/faults", self.sim.base_url());
        let response = self
            .http
            .put(url)
            .json(&faults)
            .send()
            .await
            .expect("simulator answers");
        assert!(
            response.status().is_success(),
            "faults: {}",
            response.status()
        );
    }

    /// The OTPs delivered to `to`, oldest first.
    pub async fn otps_sent_to(&self, to: &str) -> Vec<String> {
        let messages = self
            .sim_get(&format!("/_sim/messages?to={}", urlencode(to)))
            .await;
        messages
            .as_array()
            .expect("messages are an array")
            .iter()
            .map(|message| {
                message["otp"]
                    .as_str()
                    .expect("message has an otp")
                    .to_string()
            })
            .collect()
    }

    /// The latest OTP delivered to `to`.
    pub async fn last_otp_sent_to(&self, to: &str) -> String {
        self.otps_sent_to(to)
            .await
            .pop()
            .expect("an OTP was delivered")
    }

    /// The code the authenticator app (or OATH token) of device `device_id` shows now.
    pub async fn totp_code(&self, device_id: &str) -> String {
        self.sim_get(&format!("/_sim/totp/{device_id}")).await["otp"]
            .as_str()
            .expect("the app shows a code")
            .to_string()
    }

    /// Decides the pending push of `device_authentication_id`.
    pub async fn push(&self, device_authentication_id: &str, decision: &str) {
        self.sim_post(
            &format!("/_sim/push/{device_authentication_id}"),
            json!({ "decision": decision }),
        )
        .await;
    }

    /// Calls per simulator endpoint.
    pub async fn stats(&self, key: &str) -> u64 {
        self.sim_get("/_sim/stats").await[key].as_u64().unwrap_or(0)
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The binary serving `capability_id`.
pub fn binary(capability_id: &str) -> &'static str {
    FUNCTIONS
        .iter()
        .find(|(id, _)| *id == capability_id)
        .map(|(_, binary)| *binary)
        .unwrap_or_else(|| panic!("no function for {capability_id}"))
}

/// A running function binary.
pub struct Function {
    pub capability_id: String,
    pub process: FunctionProcess,
}

impl Function {
    /// POSTs `{"properties": properties}` through an API Gateway REST (v1) event.
    pub async fn call(&self, properties: Value) -> ProxyResponse {
        self.call_body(&json!({ "properties": properties })).await
    }

    /// POSTs `body` as the request body through a REST (v1) event.
    pub async fn call_body(&self, body: &Value) -> ProxyResponse {
        let path = shared::auth::route(&self.capability_id);
        self.invoke_proxy(ApiRequest::post_json(&path, body).rest_event())
            .await
    }

    /// Invokes with an API Gateway proxy event and reads the proxy response.
    pub async fn invoke_proxy(&self, event: Value) -> ProxyResponse {
        self.process
            .invoke(event)
            .await
            .expect("the function answers")
            .into_proxy_response()
            .expect("a proxy response")
    }

    /// Takes `action` (with `fields`) from a journey's `answer`, as `user`, whatever the
    /// outcome: the continuation goes with it, as a client following the answer sends it.
    pub async fn act(
        &self,
        user: &str,
        answer: &Value,
        action: &str,
        fields: Value,
    ) -> ProxyResponse {
        let mut properties = fields;
        properties["pingIdUserId"] = json!(user);
        properties["continuation"] = answer["continuation"].clone();
        properties["action"] = json!(action);
        self.call(properties).await
    }

    /// Like [`Function::act`], for an action the answer offered, expecting 200.
    pub async fn take(&self, user: &str, answer: &Value, action: &str, fields: Value) -> Value {
        assert!(
            action_names(answer).contains(&action),
            "{action} is not offered by {answer}"
        );
        ok(&self.act(user, answer, action, fields).await)
    }

    /// Everything the process wrote.
    pub fn logs(&self) -> Vec<String> {
        self.process.logs()
    }
}

/// The JSON body of a 200 answer (panics with the body otherwise).
pub fn ok(response: &ProxyResponse) -> Value {
    assert_eq!(
        response.status, 200,
        "expected 200, got {}: {}",
        response.status, response.body
    );
    response.json().expect("JSON body")
}

/// The fields an error body's `details` name, in order.
pub fn problem_fields(body: &Value) -> Vec<&str> {
    body["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|detail| detail["field"].as_str().expect("a field"))
        .collect()
}

/// The error body of a failed answer with `status` and `code`.
pub fn failed(response: &ProxyResponse, status: u16, code: &str) -> Value {
    assert_eq!(
        response.status, status,
        "expected {status}, got: {}",
        response.body
    );
    let body = response.json().expect("JSON body");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["httpResponseCode"], status, "{body}");
    assert!(
        body["correlationId"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{body}"
    );
    body
}

/// Asserts that no log line of `functions` contains any of `secrets`.
pub fn assert_no_secret_in_logs(functions: &[&Function], secrets: &[&str]) {
    for function in functions {
        for line in function.logs() {
            for secret in secrets {
                assert!(
                    !line.contains(secret),
                    "{} logged a secret: {line}",
                    function.capability_id
                );
            }
        }
    }
}

/// The actions a journey's answer offers, by name.
pub fn action_names(answer: &Value) -> Vec<&str> {
    answer["actions"]
        .as_array()
        .expect("an answer lists its actions")
        .iter()
        .map(|action| action["action"].as_str().expect("an action name"))
        .collect()
}

/// `field: problem` for each detail of an error body.
pub fn problems(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d["field"].as_str().unwrap(),
                d["problem"].as_str().unwrap()
            )
        })
        .collect()
}

/// Asserts a 400 `VALIDATION_FAILED` answer naming exactly `expected` (`field: problem`).
pub fn refused(response: &ProxyResponse, expected: &[&str]) {
    let body = failed(response, 400, "VALIDATION_FAILED");
    assert_eq!(problems(&body), expected);
}
