//! The API contract: the checked-in `openapi.yaml`, `docs/davinci/*.json` and route table of
//! `docs/api.md` are what the capability schemas generate, third-party validators accept them,
//! and the API reference's recorded examples, one or more per capability, fit the documented
//! outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use pingid_local::contract::{self, GeneratedFile};
use pingid_local::{capabilities, journeys, legacy_capabilities};
use serde_json::{Value, json};
use shared::error::ErrorBody;
use shared::schema::Documented;
use shared::schema::output::departures;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A tool of the repository's Python environment; missing means `make venv` has not run.
fn venv_tool(name: &str) -> PathBuf {
    let tool = repo().join(".venv/bin").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run `make venv`",
        tool.display()
    );
    tool
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}; run `make contract`"))
}

#[test]
fn checked_in_files_are_what_the_schemas_generate() {
    // Display, not Debug: a missing marker of docs/api.md should read as what to fix.
    let files = contract::files(&repo()).unwrap_or_else(|e| panic!("the contract renders: {e}"));
    for GeneratedFile { path, contents } in &files {
        let on_disk = read(path);
        if on_disk != *contents {
            let line = on_disk
                .lines()
                .zip(contents.lines())
                .position(|(old, new)| old != new)
                .map_or_else(
                    || "its length".to_string(),
                    |index| format!("line {}", index + 1),
                );
            panic!("{path} is out of date (first difference at {line}): run `make contract`");
        }
    }
    let stale = contract::stale_davinci_files(&repo(), &files).unwrap();
    assert!(
        stale.is_empty(),
        "{stale:?} belong to no capability: run `make contract`"
    );
}

#[test]
fn openapi_passes_openapi_spec_validator() {
    let output = Command::new(venv_tool("openapi-spec-validator"))
        .arg(repo().join(contract::OPENAPI_PATH))
        .output()
        .expect("openapi-spec-validator runs");
    assert_accepted(&output, "openapi-spec-validator");
}

/// Fails with the tool's own words unless it exited successfully.
fn assert_accepted(output: &Output, tool: &str) {
    assert!(
        output.status.success(),
        "{tool} refused:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Checks each case's schema is a valid draft 2020-12 schema and each instance fits it, with
/// the `jsonschema` package; prints one line per failure.
const CHECK_SCHEMAS: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
failures = []
for case in json.load(sys.stdin):
    Draft202012Validator.check_schema(case["schema"])
    validator = Draft202012Validator(case["schema"])
    for index, instance in enumerate(case["instances"]):
        for error in validator.iter_errors(instance):
            failures.append(f"{case['name']} example {index}: {error.json_path}: {error.message}")
print("\n".join(failures))
sys.exit(1 if failures else 0)
"#;

#[test]
fn davinci_schemas_are_valid_json_schemas_that_fit_the_recorded_examples() {
    let examples = recorded_examples();
    let mut cases = Vec::new();
    for id in capability_ids() {
        let node: Value = serde_json::from_str(&read(&format!("docs/davinci/{id}.json")))
            .expect("a DaVinci node file is JSON");
        let of = |success: bool| -> Vec<Value> {
            examples
                .iter()
                .filter(|example| example.capability == id && (example.status == 200) == success)
                .map(|example| example.body.clone())
                .collect()
        };
        cases.push(json!({"name": format!("{id} outputSchema"), "schema": node["outputSchema"], "instances": of(true)}));
        cases.push(json!({"name": format!("{id} outputSchemaError"), "schema": node["outputSchemaError"], "instances": of(false)}));
    }
    let mut child = Command::new(venv_tool("python"))
        .args(["-c", CHECK_SCHEMAS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    serde_json::to_writer(child.stdin.take().unwrap(), &cases).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_accepted(&output, "jsonschema");
}

#[test]
fn every_capability_has_a_recorded_example() {
    let examples = recorded_examples();
    let missing: Vec<&str> = capability_ids()
        .into_iter()
        .filter(|id| !examples.iter().any(|example| example.capability == *id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} records no example of {missing:?}",
        contract::API_DOC_PATH
    );
    let ids = capability_ids();
    for example in &examples {
        assert!(
            ids.contains(&example.capability.as_str()),
            "{} records an example of {}, which is no capability",
            contract::API_DOC_PATH,
            example.capability
        );
    }
}

#[test]
fn recorded_examples_carry_exactly_the_documented_keys() {
    let examples = recorded_examples();
    let all = capabilities()
        .into_iter()
        .chain(legacy_capabilities())
        .chain(journeys());
    let outputs: Vec<(&str, Value)> = all.map(|c| (c.id(), c.output_schema())).collect();
    for example in &examples {
        let schema = if example.status == 200 {
            let (_, schema) = outputs
                .iter()
                .find(|(id, _)| *id == example.capability)
                .unwrap_or_else(|| panic!("example of unknown {}", example.capability));
            schema.clone()
        } else {
            ErrorBody::json_schema()
        };
        let found = departures(&schema, &example.body);
        assert!(
            found.is_empty(),
            "{}'s {} {} example departs from its schema: {found:#?}",
            contract::API_DOC_PATH,
            example.capability,
            example.status
        );
    }
}

#[test]
fn summaries_are_the_template_descriptions() {
    let template = read("template.yaml");
    for capability in capabilities()
        .into_iter()
        .chain(legacy_capabilities())
        .chain(journeys())
    {
        let description = format!(
            "Description: \"{}: {}\"",
            capability.id(),
            capability.summary()
        );
        assert!(
            template.contains(&description),
            "template.yaml lacks {description}"
        );
    }
}

#[test]
fn api_gateway_refusals_are_documented() {
    let template: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&read("template.yaml")).expect("template.yaml is YAML");
    let documented = contract::documented_status_codes();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let refusals = resources
        .values()
        .filter_map(|resource| resource["Properties"]["GatewayResponses"].as_mapping())
        .flat_map(|responses| responses.values())
        .collect::<Vec<_>>();
    assert!(
        !refusals.is_empty(),
        "template.yaml has no GatewayResponses"
    );
    for refusal in refusals {
        let body = refusal["ResponseTemplates"]["application/json"]
            .as_str()
            .expect("a JSON template");
        // The template's body is JSON but for `$context` variables, which sit inside strings.
        let body: Value = serde_json::from_str(body).expect("the error body");
        let code = body["code"].as_str().expect("a code");
        // A refusal without a StatusCode keeps the status of whatever failed: any 5xx will do.
        let fits = |(status, known): &(u16, &str)| {
            *known == code
                && match refusal["StatusCode"].as_u64() {
                    Some(refused) => u64::from(*status) == refused,
                    None => *status >= 500,
                }
        };
        assert!(
            documented.iter().any(fits),
            "template.yaml refuses with {code} at {:?}, which openapi.yaml does not document",
            refusal["StatusCode"]
        );
    }
}

fn capability_ids() -> Vec<&'static str> {
    capabilities()
        .into_iter()
        .chain(legacy_capabilities())
        .chain(journeys())
        .map(|capability| capability.id())
        .collect()
}

/// One recorded answer of the API reference.
struct Example {
    capability: String,
    status: u16,
    body: Value,
}

/// The answers recorded in the API reference (`docs/api.md`): in each `<details>` of a
/// capability, a `` `200` `` (or other status) line, then a JSON block. The page shortens
/// copies of `rawResponse` to `"(same as rawResponse)"`; they are restored before checking.
/// The whole page is read: the generated route table holds no JSON blocks.
fn recorded_examples() -> Vec<Example> {
    let api = read(contract::API_DOC_PATH);
    let mut examples = Vec::new();
    let (mut capability, mut status) = (None, None);
    let mut lines = api.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("<details><summary><code>") {
            capability = rest.split('<').next().map(str::to_owned);
            status = None;
        } else if let Some(code) = line.strip_prefix('`').and_then(|l| l.strip_suffix('`')) {
            status = code.parse::<u16>().ok();
        } else if line == "```json" {
            let block: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            if let (Some(capability), Some(status)) = (&capability, status.take()) {
                let mut body: Value = serde_json::from_str(&block.join("\n")).unwrap_or_else(|e| {
                    panic!(
                        "{}'s {capability} {status} example: {e}",
                        contract::API_DOC_PATH
                    )
                });
                restore_copies(&mut body);
                examples.push(Example {
                    capability: capability.clone(),
                    status,
                    body,
                });
            }
        }
    }
    examples
}

fn restore_copies(body: &mut Value) {
    let raw = body["rawResponse"].clone();
    if let Some(members) = body.as_object_mut() {
        for value in members.values_mut() {
            if value == "(same as rawResponse)" {
                *value = raw.clone();
            }
        }
    }
}
