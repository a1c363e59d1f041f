//! Every file in `events/` is invoked against the real function binary and its outcome is the
//! one `events/README.md` promises. A file missing from the table, or a row without a file,
//! fails the test.

use crate::support;

use std::collections::{BTreeSet, HashMap};

use e2e::{
    Invocation, PLACEHOLDER_LIVE_ID, PLACEHOLDER_OTP, load_event, replace_in_strings,
    workspace_root,
};
use serde_json::Value;
use support::{AUTHORIZER, FUNCTIONS, Stack};

/// One row of the README's "Expected outcomes" table.
#[derive(Debug)]
struct Row {
    file: String,
    live_id_from: Option<String>,
    http: Option<u16>,
    status: Option<String>,
    error: Option<String>,
}

fn cell(text: &str) -> Option<String> {
    let text = text.trim().trim_matches('`');
    (text != "—" && !text.is_empty()).then(|| text.to_string())
}

fn expected_outcomes() -> Vec<Row> {
    let readme = std::fs::read_to_string(workspace_root().join("events/README.md"))
        .expect("events/README.md");
    let table = readme
        .split("## Expected outcomes")
        .nth(1)
        .expect("an Expected outcomes section");
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 6, "malformed row: {line}");
            Row {
                file: cell(cells[0]).expect("a file name"),
                live_id_from: cell(cells[2]),
                http: cell(cells[3]).map(|s| s.parse().expect("HTTP status")),
                status: cell(cells[4]),
                error: cell(cells[5]),
            }
        })
        .collect()
}

fn binary_of(file: &str) -> &'static str {
    FUNCTIONS
        .iter()
        .map(|(_, binary)| *binary)
        .chain([AUTHORIZER])
        .find(|binary| file.starts_with(&format!("{binary}.")))
        .unwrap_or_else(|| panic!("{file} names no function"))
}

/// Puts the delivered passcode where the event has the placeholder `otp`.
fn set_otp(event: &mut Value, otp: &str) {
    if let Some(Value::String(body)) = event.get("body") {
        let mut request: Value = serde_json::from_str(body).expect("JSON body");
        request["properties"]["otp"] = Value::String(otp.to_string());
        event["body"] = Value::String(request.to_string());
    } else {
        event["properties"]["otp"] = Value::String(otp.to_string());
    }
}

/// What a row is checked against: `(HTTP status or None for direct, output status, error code)`;
/// for an SQS batch the "error code" is the list of messageIds its answer reports failed.
type Outcome = (Option<u16>, Option<String>, Option<String>);

/// The outcome, and the output object when the call succeeded.
fn outcome(invocation: Invocation) -> (Outcome, Option<Value>) {
    // A capability's `status`, or a journey's `step`.
    let status_of = |output: &Value| {
        output
            .get("status")
            .or_else(|| output.get("step"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match invocation {
        Invocation::Response(answer) if answer.get("batchItemFailures").is_some() => {
            let failed: Vec<&str> = answer["batchItemFailures"]
                .as_array()
                .expect("batchItemFailures is an array")
                .iter()
                .map(|failure| {
                    failure["itemIdentifier"]
                        .as_str()
                        .expect("an itemIdentifier")
                })
                .collect();
            (
                (None, None, (!failed.is_empty()).then(|| failed.join(", "))),
                None,
            )
        }
        Invocation::Response(value)
            if value.get("statusCode").is_some() && value.get("body").is_some() =>
        {
            let response = Invocation::Response(value)
                .into_proxy_response()
                .expect("proxy response");
            let body = response.json().expect("JSON body");
            if response.status == 200 {
                ((Some(200), status_of(&body), None), Some(body))
            } else {
                let code = body.get("code").and_then(Value::as_str).map(str::to_string);
                ((Some(response.status), None, code), None)
            }
        }
        Invocation::Response(output) => ((None, status_of(&output), None), Some(output)),
        Invocation::Error { error_type, .. } => ((None, None, Some(error_type)), None),
    }
}

/// The output object of an invocation (the proxy response's body, or the direct output).
fn output_of(invocation: Invocation) -> Value {
    match invocation {
        Invocation::Response(value) if value.get("body").is_some() => Invocation::Response(value)
            .into_proxy_response()
            .unwrap()
            .json()
            .unwrap(),
        Invocation::Response(output) => output,
        Invocation::Error { error_message, .. } => {
            panic!("the source event failed: {error_message}")
        }
    }
}

/// The id of the resource an output describes.
fn live_id(output: &Value) -> String {
    output["rawResponse"]["id"]
        .as_str()
        .expect("a rawResponse.id")
        .to_string()
}

/// Device authentications are cheap and change state at every step, so a row acting on one
/// gets a fresh one: its source event is played again. Enrolled devices and pairing keys are
/// the ones the source row created (playing it again would enroll a duplicate).
fn replays(source: &str) -> bool {
    source.starts_with("create-device-authentication-pingid.")
}

#[tokio::test]
async fn every_event_file_gives_the_documented_outcome() {
    let rows = expected_outcomes();
    let documented: BTreeSet<String> = rows.iter().map(|row| row.file.clone()).collect();
    let on_disk: BTreeSet<String> = std::fs::read_dir(workspace_root().join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    assert_eq!(
        documented, on_disk,
        "events/ and its README table must list the same files"
    );
    for (_, binary) in FUNCTIONS {
        assert!(
            on_disk.iter().any(|file| binary_of(file) == *binary),
            "no event for {binary}"
        );
    }

    let stack = Stack::start().await;
    // Every row acting on an authentication replays its start: more pushes and texts to alice
    // than her limits allow in one run. The limits have their own specification (limits.rs).
    let unlimited =
        ["PINGID_LIMIT_PUSHES", "PINGID_LIMIT_SMS_VOICE"].map(|name| (name, "off".to_string()));
    let mut functions = HashMap::new();
    for (capability_id, binary) in FUNCTIONS {
        functions.insert(
            *binary,
            stack.function_with(capability_id, &unlimited).await,
        );
    }
    functions.insert(AUTHORIZER, stack.authorizer_with(&[]).await);
    let mut outputs: HashMap<String, Value> = HashMap::new();
    for row in &rows {
        let mut event = load_event(&row.file);
        if let Some(source) = &row.live_id_from {
            let output = if replays(source) {
                let started = functions[binary_of(source)]
                    .process
                    .invoke(load_event(source))
                    .await
                    .unwrap();
                output_of(started)
            } else {
                outputs
                    .get(source)
                    .unwrap_or_else(|| panic!("{}: {source} must be a row above", row.file))
                    .clone()
            };
            replace_in_strings(&mut event, PLACEHOLDER_LIVE_ID, &live_id(&output));
            if event.to_string().contains(PLACEHOLDER_OTP) {
                // The passcode delivered last: to the device's phone or address when the
                // source enrolled one, else the authentication's.
                let to = ["phone", "email"]
                    .iter()
                    .find_map(|key| output["rawResponse"][key].as_str());
                let query = to.map(|to| format!("?to={}", support::urlencode(to)));
                let messages = stack
                    .sim_get(&format!("/_sim/messages{}", query.unwrap_or_default()))
                    .await;
                let otp = messages
                    .as_array()
                    .and_then(|all| all.last())
                    .and_then(|message| message["otp"].as_str())
                    .expect("a delivered passcode");
                set_otp(&mut event, otp);
            }
        }
        let invocation = functions[binary_of(&row.file)]
            .process
            .invoke(event)
            .await
            .unwrap();
        let expected = (row.http, row.status.clone(), row.error.clone());
        let (actual, output) = outcome(invocation);
        assert_eq!(actual, expected, "{}", row.file);
        if let Some(output) = output {
            outputs.insert(row.file.clone(), output);
        }
    }
}
