//! The simulator's bodies checked against PingOne's OpenAPI description
//! (`../shared/reference/openapi/pingone-mfa.yaml` beside the repository; reference data that is
//! read here, never copied). Two checks per body: JSON Schema validation, and no property the
//! schema does not declare (the schemas allow extra properties, so a misspelt field would
//! otherwise pass).

use std::path::PathBuf;

use pingid_sim::demo::{
    ALICE_ID, BOB_ID, CAROL_ID, DEFAULT_POLICY_ID, PROMPT_POLICY_ID, RESTRICTED_POLICY_ID,
};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use crate::support::{CHECK_OTP, Sim, json_of};

/// The OpenAPI document as JSON.
struct OpenApi {
    doc: Value,
}

impl OpenApi {
    fn load() -> Self {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/reference/openapi/pingone-mfa.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "the PingOne OpenAPI description must be at {}: {error}",
                path.display()
            )
        });
        let doc = serde_yaml_ng::from_str(&text).expect("the OpenAPI description is valid YAML");
        Self { doc }
    }

    /// Fails unless `body` is valid against `#/components/schemas/{schema}` and declares no
    /// properties beyond the schema's, except the listed `extensions` (dotted paths).
    fn assert_conforms(&self, schema: &str, body: &Value, extensions: &[&str]) {
        let root = json!({
            "$ref": format!("#/components/schemas/{schema}"),
            "components": self.doc["components"],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&root)
            .expect("the schema compiles");
        let violations: Vec<String> = validator
            .iter_errors(body)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect();
        assert!(
            violations.is_empty(),
            "{schema} violations {violations:#?} in {body:#}"
        );

        let mut undeclared = Vec::new();
        self.collect_undeclared(
            &json!({ "$ref": format!("#/components/schemas/{schema}") }),
            body,
            "",
            &mut undeclared,
        );
        undeclared.retain(|path| !extensions.contains(&path.as_str()));
        assert!(
            undeclared.is_empty(),
            "{schema} does not declare {undeclared:?} in {body:#}"
        );
    }

    /// Follows `$ref`s to the schema they name.
    fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema["$ref"].as_str() {
            let pointer = reference.trim_start_matches('#');
            schema = self
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("unresolvable {reference}"));
        }
        schema
    }

    /// Declared properties and the `additionalProperties` schema, merged across `allOf`.
    fn declared(
        &self,
        schema: &Value,
        properties: &mut Map<String, Value>,
        additional: &mut Option<Value>,
    ) {
        let schema = self.resolve(schema);
        if let Some(own) = schema["properties"].as_object() {
            properties.extend(own.clone());
        }
        if schema["additionalProperties"].is_object() {
            *additional = Some(schema["additionalProperties"].clone());
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.declared(part, properties, additional);
        }
    }

    fn collect_undeclared(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        match value {
            Value::Object(fields) => {
                let (mut properties, mut additional) = (Map::new(), None);
                self.declared(schema, &mut properties, &mut additional);
                for (name, field) in fields {
                    let field_path = if path.is_empty() {
                        name.clone()
                    } else {
                        format!("{path}.{name}")
                    };
                    match properties.get(name).or(additional.as_ref()) {
                        Some(field_schema) => {
                            self.collect_undeclared(field_schema, field, &field_path, out)
                        }
                        None => out.push(field_path),
                    }
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for item in items {
                        self.collect_undeclared(item_schema, item, &format!("{path}[]"), out);
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_openapi_description_is_present() {
    let api = OpenApi::load();
    for schema in [
        "P1Error",
        "UserMFAEnabled",
        "DeviceAuthenticationPolicy",
        "MFASettings",
        "EntityArray",
    ] {
        assert!(
            api.doc["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
}

/// `remainingAttempts` is the simulator's own addition to `innerError` (the schema's
/// `innerError` lists only range / pattern / allowed-value hints).
const P1_ERROR_EXTENSIONS: &[&str] = &["details[].innerError.remainingAttempts"];

#[tokio::test]
async fn error_bodies_are_p1_errors() {
    let api = OpenApi::load();
    let sim = Sim::start().await;
    let mut errors: Vec<(&str, StatusCode, Value)> = Vec::new();
    let mut record = |name, (status, body): (StatusCode, Value)| errors.push((name, status, body));

    let no_token = sim
        .http
        .get(sim.api_url(&format!("/users/{ALICE_ID}")))
        .send()
        .await
        .expect("answered");
    record("401 missing token", json_of(no_token).await);
    record(
        "403 other environment",
        json_of(
            sim.get(&sim.url("/v1/environments/00000000-0000-4000-8000-000000000000/mfaSettings"))
                .await,
        )
        .await,
    );
    record(
        "404 unknown user",
        json_of(sim.get(&sim.api_url("/users/nobody")).await).await,
    );
    record(
        "404 unknown route",
        json_of(sim.get(&sim.api_url("/nothing/here")).await).await,
    );
    record(
        "400 unknown user on start",
        sim.try_start_auth(json!({ "user": { "id": "nobody" } }))
            .await,
    );
    record(
        "400 bad one-time phone",
        sim.try_start_auth(json!({ "user": { "id": BOB_ID }, "selectedDevice": { "oneTime": { "type": "SMS", "phone": "12" } } }))
            .await,
    );
    record(
        "400 no usable devices",
        sim.try_start_auth(json!({ "user": { "id": BOB_ID } }))
            .await,
    );

    let auth = sim.start_auth(json!({ "user": { "id": CAROL_ID } })).await;
    record("400 invalid otp", sim.check_otp(&auth, "000000x").await);
    record(
        "415 unknown action",
        sim.act(&auth, "application/json", json!({})).await,
    );
    record("400 broken body", {
        let response = sim
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
        json_of(response).await
    });
    let code = sim.totp(pingid_sim::demo::CAROL_TOTP_DEVICE_ID).await;
    sim.check_otp(&auth, &code).await;
    record("400 request failed", sim.check_otp(&auth, &code).await);

    let sms = sim
        .start_auth(json!({ "user": { "id": BOB_ID }, "selectedDevice": { "oneTime": { "type": "SMS", "phone": "+15555550102" } } }))
        .await;
    sim.advance(300).await;
    record("400 expired otp", sim.check_otp(&sms, "123456").await);

    sim.set_faults(
        json!([{ "pathPrefix": "/v1", "status": 429, "retryAfterSeconds": 1, "count": 1 }]),
    )
    .await;
    record(
        "429 fault",
        json_of(sim.get(&sim.api_url("/mfaSettings")).await).await,
    );
    sim.set_faults(json!({ "pathPrefix": "/v1", "status": 503, "count": 1 }))
        .await;
    record(
        "503 fault",
        json_of(sim.get(&sim.api_url("/mfaSettings")).await).await,
    );

    for (name, status, body) in &errors {
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{name}: {status}"
        );
        assert!(
            body["id"].is_string() && body["code"].is_string() && body["message"].is_string(),
            "{name}: {body}"
        );
        api.assert_conforms("P1Error", body, P1_ERROR_EXTENSIONS);
    }
}

#[tokio::test]
async fn mfa_enabled_reads_and_updates_are_user_mfa_enabled() {
    let api = OpenApi::load();
    let sim = Sim::start().await;
    let url = sim.api_url(&format!("/users/{BOB_ID}/mfaEnabled"));

    let (status, before) = json_of(sim.get(&url).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(before["mfaEnabled"], false);
    api.assert_conforms("UserMFAEnabled", &before, &[]);

    let response = sim
        .http
        .put(&url)
        .bearer_auth(sim.token().await)
        .json(&json!({ "mfaEnabled": true }))
        .send()
        .await
        .expect("answered");
    let (status, updated) = json_of(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["mfaEnabled"], true);
    api.assert_conforms("UserMFAEnabled", &updated, &[]);

    let (_, after) = json_of(sim.get(&url).await).await;
    assert_eq!(after["mfaEnabled"], true);
}

#[tokio::test]
async fn policies_are_device_authentication_policies() {
    let api = OpenApi::load();
    let sim = Sim::start().await;

    let (status, list) =
        json_of(sim.get(&sim.api_url("/deviceAuthenticationPolicies")).await).await;
    assert_eq!(status, StatusCode::OK);
    api.assert_conforms("EntityArray", &list, &[]);
    let policies = list["_embedded"]["deviceAuthenticationPolicies"]
        .as_array()
        .expect("policies");
    assert_eq!(policies.len(), 3);

    for (id, selection, default) in [
        (DEFAULT_POLICY_ID, "DEFAULT_TO_FIRST", true),
        (PROMPT_POLICY_ID, "PROMPT_TO_SELECT", false),
        (RESTRICTED_POLICY_ID, "DEFAULT_TO_FIRST", false),
    ] {
        let (status, policy) = json_of(
            sim.get(&sim.api_url(&format!("/deviceAuthenticationPolicies/{id}")))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(policy["authentication"]["deviceSelection"], selection);
        assert_eq!(policy["default"], default);
        api.assert_conforms("DeviceAuthenticationPolicy", &policy, &[]);
        for method in [
            "sms",
            "voice",
            "email",
            "mobile",
            "totp",
            "fido2",
            "oathToken",
            "yubikey",
            "desktop",
        ] {
            assert!(
                policy[method]["enabled"].is_boolean(),
                "{method} in {policy}"
            );
        }
        for method in ["desktop", "yubikey", "oathToken"] {
            assert!(policy[method]["pairingKeyLifetime"].is_object(), "{method}");
            assert!(
                policy[method]["otp"]["failure"]["count"].is_number(),
                "{method}"
            );
        }
        assert_eq!(
            policy["mobile"]["applications"][0]["type"],
            "pingIdAppConfig"
        );
    }
    let (_, restricted) = json_of(
        sim.get(&sim.api_url(&format!(
            "/deviceAuthenticationPolicies/{RESTRICTED_POLICY_ID}"
        )))
        .await,
    )
    .await;
    assert_eq!(restricted["voice"]["enabled"], false);
    assert_eq!(restricted["yubikey"]["pairingDisabled"], true);
    assert_eq!(restricted["sms"]["enabled"], true);
}

#[tokio::test]
async fn mfa_settings_are_mfa_settings() {
    let api = OpenApi::load();
    let sim = Sim::start().await;

    let (status, settings) = json_of(sim.get(&sim.api_url("/mfaSettings")).await).await;

    assert_eq!(status, StatusCode::OK);
    api.assert_conforms("MFASettings", &settings, &[]);
}
