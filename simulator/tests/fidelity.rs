//! `make fidelity`: the simulator, and the project's own description of PingOne's answers
//! (`contract/pingone-responses.json`), compared with Ping's published OpenAPI description of
//! the MFA API, read from the path in `PINGONE_MFA_OPENAPI`.
//!
//! Ping's document lives beside the repository on the team's machines only, so this target is
//! not part of `make test`: it builds only with the `fidelity` feature
//! (`cargo test -p pingid-sim --features fidelity --test fidelity`), and `.ci/run` runs it when
//! the document is there. Two questions:
//! - do the simulator's bodies conform to the published schemas (the same two checks as the
//!   contract tests: validation, and no undeclared property)?
//! - does our description agree with the published one wherever both describe a shape? Every
//!   property we declare exists there with the same type, our enums are subsets of theirs, and
//!   we require what they require. All disagreements are listed at once.

// Shared with the simulator suite (`tests/simulator/`); this target uses part of the helpers.
#[allow(dead_code)]
#[path = "simulator/support.rs"]
mod support;

#[path = "simulator/schema.rs"]
mod schema;

use pingid_sim::demo::{
    BOB_ID, CAROL_ID, DEFAULT_POLICY_ID, PROMPT_POLICY_ID, RESTRICTED_POLICY_ID,
};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use schema::{SIMULATOR_EXTENSIONS, Schemas};
use support::{Sim, json_of};

/// The variable that names Ping's document.
const DOCUMENT: &str = "PINGONE_MFA_OPENAPI";

/// Ping's published MFA description (OpenAPI 3, YAML), from the path in `PINGONE_MFA_OPENAPI`.
fn published() -> Schemas {
    let path = std::env::var_os(DOCUMENT).unwrap_or_else(|| {
        panic!("{DOCUMENT} is not set: give the path of Ping's pingone-mfa.yaml")
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{DOCUMENT}={}: {error}", path.to_string_lossy()));
    let doc: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|error| {
        panic!("{DOCUMENT}={} is not YAML: {error}", path.to_string_lossy())
    });
    Schemas::new(doc, "/components/schemas")
}

// The simulator's bodies against the published schemas.

#[tokio::test]
async fn error_bodies_conform_to_p1_error() {
    let published = published();
    let sim = Sim::start().await;
    let no_token = sim
        .http
        .get(sim.api_url("/mfaSettings"))
        .send()
        .await
        .expect("answered");
    let auth = sim.start_auth(json!({ "user": { "id": CAROL_ID } })).await;
    sim.set_faults(json!([{ "pathPrefix": "/v1/environments", "status": 429, "count": 1 }]))
        .await;
    let limited = json_of(sim.get(&sim.api_url("/mfaSettings")).await).await;

    let errors = [
        ("401 without a token", json_of(no_token).await),
        (
            "404 unknown user",
            json_of(sim.get(&sim.api_url("/users/nobody")).await).await,
        ),
        (
            "400 limit out of range",
            json_of(sim.get(&sim.api_url("/users?limit=0")).await).await,
        ),
        (
            "400 unknown one-time type",
            sim.try_start_auth(json!({
                "user": { "id": BOB_ID },
                "selectedDevice": { "oneTime": { "type": "FAX" } },
            }))
            .await,
        ),
        ("400 wrong OTP", sim.check_otp(&auth, "000000").await),
        ("429 fault", limited),
    ];

    for (case, (status, body)) in &errors {
        assert!(
            status.is_client_error() || status.is_server_error(),
            "{case}: {status}"
        );
        published.assert_conforms("P1Error", body, SIMULATOR_EXTENSIONS);
    }
}

#[tokio::test]
async fn mfa_enabled_conforms_to_user_mfa_enabled() {
    let published = published();
    let sim = Sim::start().await;
    let url = sim.api_url(&format!("/users/{BOB_ID}/mfaEnabled"));

    let (status, read) = json_of(sim.get(&url).await).await;
    assert_eq!(status, StatusCode::OK);
    published.assert_conforms("UserMFAEnabled", &read, &[]);
    let (status, updated) = sim
        .call(
            Method::PUT,
            &url,
            Some("application/json"),
            Some(&json!({ "mfaEnabled": true })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    published.assert_conforms("UserMFAEnabled", &updated, &[]);
}

#[tokio::test]
async fn policies_conform_to_device_authentication_policy_and_entity_array() {
    let published = published();
    let sim = Sim::start().await;

    let (status, list) =
        json_of(sim.get(&sim.api_url("/deviceAuthenticationPolicies")).await).await;
    assert_eq!(status, StatusCode::OK);
    published.assert_conforms("EntityArray", &list, &[]);
    for id in [DEFAULT_POLICY_ID, PROMPT_POLICY_ID, RESTRICTED_POLICY_ID] {
        let (status, policy) = json_of(
            sim.get(&sim.api_url(&format!("/deviceAuthenticationPolicies/{id}")))
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        published.assert_conforms("DeviceAuthenticationPolicy", &policy, &[]);
    }
}

#[tokio::test]
async fn mfa_settings_conform_to_mfa_settings() {
    let published = published();
    let sim = Sim::start().await;

    let (status, settings) = json_of(sim.get(&sim.api_url("/mfaSettings")).await).await;

    assert_eq!(status, StatusCode::OK);
    published.assert_conforms("MFASettings", &settings, &[]);
}

// Our description against the published one.

#[test]
fn our_description_agrees_with_the_published_one_where_both_describe_a_shape() {
    let published = published();
    let ours = Schemas::contract();
    let counterparts = ours.doc()["published"]
        .as_object()
        .expect("the description names its published counterparts");

    let mut compared = 0;
    let mut disagreements = Vec::new();
    for (our_name, their_name) in counterparts {
        if our_name.starts_with('$') {
            continue;
        }
        let their_name = their_name.as_str().expect("a schema name");
        let (Some(our_shape), Some(their_shape)) =
            (ours.named(our_name), published.named(their_name))
        else {
            disagreements.push(format!(
                "{our_name}: no {their_name} in the published description"
            ));
            continue;
        };
        let comparison = Comparison {
            ours: &ours,
            theirs: &published,
        };
        comparison.compare(our_shape, their_shape, our_name, &mut disagreements);
        compared += 1;
    }

    assert!(compared >= 5, "only {compared} shapes compared");
    assert!(
        disagreements.is_empty(),
        "{} disagreements with the published description:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

/// Our schemas next to theirs.
struct Comparison<'a> {
    ours: &'a Schemas,
    theirs: &'a Schemas,
}

impl Comparison<'_> {
    /// Appends to `out` every way `our` (at `path`) disagrees with `their`, recursively.
    fn compare(&self, our: &Value, their: &Value, path: &str, out: &mut Vec<String>) {
        let (our_type, their_type) = (type_of(self.ours, our), type_of(self.theirs, their));
        if let (Some(ours), Some(theirs)) = (our_type, their_type) {
            // An integer is a number: ours may be the narrower.
            if ours != theirs && !(ours == "integer" && theirs == "number") {
                out.push(format!("{path}: type {ours} here, {theirs} there"));
                return;
            }
        }

        if let (Some(our_values), Some(their_values)) =
            (values_of(self.ours, our), values_of(self.theirs, their))
        {
            for value in our_values.iter().filter(|v| !their_values.contains(v)) {
                out.push(format!(
                    "{path}: {value} is not among the published values {}",
                    Value::Array(their_values.clone())
                ));
            }
        }

        let (our_shape, their_shape) = (self.ours.declared(our), self.theirs.declared(their));
        for name in &their_shape.required {
            if !our_shape.required.contains(name) {
                let declared = if our_shape.properties.contains_key(name) {
                    "does not require it"
                } else {
                    "does not declare it"
                };
                out.push(format!("{path}.{name}: required there; ours {declared}"));
            }
        }
        for (name, our_property) in &our_shape.properties {
            match their_shape
                .properties
                .get(name)
                .or(their_shape.additional.as_ref())
            {
                Some(their_property) => {
                    self.compare(our_property, their_property, &format!("{path}.{name}"), out)
                }
                None => out.push(format!("{path}.{name}: not in the published shape")),
            }
        }
        if let (Some(our_values), Some(their_values)) =
            (&our_shape.additional, &their_shape.additional)
        {
            self.compare(our_values, their_values, &format!("{path}.*"), out);
        }

        let (our_items, their_items) = (
            self.ours.resolve(our).get("items"),
            self.theirs.resolve(their).get("items"),
        );
        if let (Some(our_items), Some(their_items)) = (our_items, their_items) {
            self.compare(our_items, their_items, &format!("{path}[]"), out);
        }
    }
}

/// The JSON type a schema declares: `type`, or the type of its `enum` / `const` values, or the
/// first found across `allOf` (PingOne's composed shapes declare it in their parts).
fn type_of(schemas: &Schemas, schema: &Value) -> Option<String> {
    let schema = schemas.resolve(schema);
    if let Some(declared) = schema["type"].as_str() {
        return Some(declared.to_owned());
    }
    if let Some(first) = values_of(schemas, schema).and_then(|values| values.first().cloned()) {
        return Some(
            match first {
                Value::String(_) => "string",
                Value::Bool(_) => "boolean",
                Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                Value::Number(_) => "number",
                Value::Array(_) => "array",
                Value::Object(_) => "object",
                Value::Null => "null",
            }
            .to_owned(),
        );
    }
    schema["allOf"]
        .as_array()?
        .iter()
        .find_map(|part| type_of(schemas, part))
}

/// The values a schema allows, when it lists them (`enum`, or `const`).
fn values_of(schemas: &Schemas, schema: &Value) -> Option<Vec<Value>> {
    let schema = schemas.resolve(schema);
    if let Some(values) = schema["enum"].as_array() {
        return Some(values.clone());
    }
    schema.get("const").map(|value| vec![value.clone()])
}
