//! The derives' output, compared with schemas built by hand and with serde's own reading.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Declared, Field, Schema, UUID_PATTERN};
use crate::Error;
use crate::secrets::Secret;

const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";

/// Kinds of things, named by serde's `rename_all` except one renamed variant and one skipped.
#[derive(Debug, PartialEq, Deserialize, crate::Values)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Kind {
    OneTime,
    Paired,
    #[serde(rename = "policy-default")]
    PolicyDefault,
    #[serde(skip)]
    #[allow(dead_code)]
    Internal,
}

#[derive(Debug, Deserialize, crate::Input)]
struct Entry {
    /// a device id
    #[field(id)]
    id: String,
    label: Option<String>,
}

#[derive(Debug, Default, Deserialize, crate::Input)]
#[serde(rename_all = "camelCase")]
struct Extra {
    /// spread into the outer object
    #[field(max_length = 10)]
    extra_note: Option<String>,
}

#[derive(Debug, Deserialize, crate::Input)]
#[serde(rename_all = "camelCase")]
struct Sample {
    /// the user
    #[field(id)]
    user_id: String,
    /// first line,
    ///
    ///   second line
    #[serde(rename = "x-Kind")]
    kind: Option<Kind>,
    #[field(max_length = 64, pattern = "^[0-9]{6,64}$")]
    otp: Secret<String>,
    /// how many
    #[serde(default)]
    count: i64,
    r#type: Option<bool>,
    /// ids, in order
    #[field(max_items = 2, items(id))]
    device_ids: Option<Vec<String>>,
    entries: Vec<Entry>,
    #[serde(flatten)]
    extra: Extra,
    #[serde(skip)]
    #[allow(dead_code)]
    cached: Option<String>,
}

/// `Sample` as the builder states it.
fn by_hand() -> Schema {
    Schema::new(vec![
        Field::string("userId").required().id().describe("the user"),
        Field::string("x-Kind")
            .one_of(&["ONE_TIME", "PAIRED", "policy-default"])
            .describe("first line, second line"),
        Field::string("otp")
            .required()
            .max_length(64)
            .pattern("^[0-9]{6,64}$"),
        Field::integer("count").describe("how many"),
        Field::boolean("type"),
        Field::array("deviceIds", Field::string("item").id())
            .max_items(2)
            .describe("ids, in order"),
        Field::array(
            "entries",
            Field::object(
                "item",
                vec![
                    Field::string("id").required().id().describe("a device id"),
                    Field::string("label"),
                ],
            ),
        )
        .required(),
        Field::string("extraNote")
            .max_length(10)
            .describe("spread into the outer object"),
    ])
}

fn problems(body: Value) -> Vec<String> {
    match Sample::schema().validate(&body) {
        Err(Error::Validation(problems)) => problems
            .into_iter()
            .map(|p| format!("{}: {}", p.field, p.problem))
            .collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn the_derived_schema_is_the_hand_written_one() {
    assert_eq!(Sample::schema().json_schema(), by_hand().json_schema());
}

#[test]
fn names_follow_serde() {
    let properties = &Sample::schema().json_schema()["properties"]["properties"];
    let mut names: Vec<&str> = properties["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "count",
            "deviceIds",
            "entries",
            "extraNote",
            "otp",
            "type",
            "userId",
            "x-Kind"
        ]
    );
    // Required: neither an Option nor `#[serde(default)]`, in declaration order.
    assert_eq!(properties["required"], json!(["userId", "otp", "entries"]));
}

#[test]
fn enum_values_are_the_serde_names() {
    let kind = &Sample::schema().json_schema()["properties"]["properties"]["properties"]["x-Kind"];
    assert_eq!(
        kind["enum"],
        json!(["ONE_TIME", "PAIRED", "policy-default"])
    );
    // serde reads the same names, so a value the schema accepts always deserializes.
    for (name, kind) in [
        ("ONE_TIME", Kind::OneTime),
        ("PAIRED", Kind::Paired),
        ("policy-default", Kind::PolicyDefault),
    ] {
        assert_eq!(serde_json::from_value::<Kind>(json!(name)).unwrap(), kind);
    }
}

#[test]
fn nested_objects_and_arrays_keep_their_bounds() {
    let properties = &Sample::schema().json_schema()["properties"]["properties"]["properties"];
    assert_eq!(properties["deviceIds"]["maxItems"], json!(2));
    assert_eq!(
        properties["deviceIds"]["items"]["pattern"],
        json!(UUID_PATTERN)
    );
    assert_eq!(properties["entries"]["items"]["required"], json!(["id"]));
    assert_eq!(
        properties["entries"]["items"]["properties"]["id"]["description"],
        json!("a device id")
    );
}

#[test]
fn descriptions_are_the_doc_comments_on_one_line() {
    let properties = &Sample::schema().json_schema()["properties"]["properties"]["properties"];
    assert_eq!(
        properties["x-Kind"]["description"],
        "first line, second line"
    );
    assert_eq!(properties["otp"].get("description"), None);
}

#[test]
fn a_valid_body_deserializes_as_serde_reads_it() {
    let body = json!({"properties": {"userId": ALICE, "x-Kind": "policy-default",
        "otp": "123456", "type": null, "deviceIds": [ALICE], "entries": [{"id": ALICE}],
        "extraNote": "hi"}});
    let properties = Sample::schema().validate(&body).unwrap();
    let sample: Sample = serde_json::from_value(Value::Object(properties)).unwrap();
    assert_eq!(sample.user_id, ALICE);
    assert_eq!(sample.kind, Some(Kind::PolicyDefault));
    assert_eq!(sample.otp.expose(), "123456");
    assert_eq!(sample.count, 0);
    assert_eq!(sample.r#type, None);
    assert_eq!(
        sample.device_ids.as_deref(),
        Some([ALICE.to_string()].as_slice())
    );
    assert_eq!(sample.entries[0].id, ALICE);
    assert_eq!(sample.entries[0].label, None);
    assert_eq!(sample.extra.extra_note.as_deref(), Some("hi"));
}

#[test]
fn every_violation_is_listed_with_its_path() {
    let body = json!({"properties": {"x-Kind": "oneTime", "otp": "12",
        "deviceIds": ["x", ALICE, ALICE], "entries": [{"label": 1}], "extraNote": "far too long",
        "cached": "no"}});
    assert_eq!(
        problems(body),
        [
            "properties.userId: is required",
            "properties.x-Kind: must be one of: ONE_TIME, PAIRED, policy-default",
            "properties.otp: must match the pattern ^[0-9]{6,64}$",
            "properties.deviceIds: must have at most 2 items",
            &format!("properties.deviceIds[0]: must match the pattern {UUID_PATTERN}"),
            "properties.entries[0].id: is required",
            "properties.entries[0].label: must be a string",
            "properties.extraNote: must be at most 10 characters",
            "properties.cached: is not a known field",
        ]
    );
}

#[test]
fn the_schema_is_built_once() {
    assert!(std::ptr::eq(Sample::schema(), Sample::schema()));
}
