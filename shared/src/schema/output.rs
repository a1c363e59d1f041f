//! Documented outputs: the JSON Schema of what a capability answers.
//!
//! The API documentation (OpenAPI 200 responses, DaVinci `outputSchema`) is rendered from these
//! schemas, and [`departures`] holds them to what the handlers really serialize: each output
//! type's tests serialize representative values and check them against its schema.
//!
//! Output objects leave `additionalProperties` open on purpose: a client that validates strictly
//! keeps working when a field is added. The tests are stricter than the schema: every key a
//! value carries must be declared.

use serde_json::{Map, Value, json};

/// An output type whose serialized shape is described as JSON Schema (draft 2020-12).
pub trait Documented {
    /// The JSON Schema of the serialized value.
    fn json_schema() -> Value;
}

/// A string property.
pub fn string(description: &str) -> Value {
    json!({ "type": "string", "description": description })
}

/// A boolean property.
pub fn boolean(description: &str) -> Value {
    json!({ "type": "boolean", "description": description })
}

/// An integer property.
pub fn integer(description: &str) -> Value {
    json!({ "type": "integer", "description": description })
}

/// An object passed through as it came (PingOne's JSON): any members.
pub fn any_object(description: &str) -> Value {
    json!({ "type": "object", "description": description })
}

/// An array whose items follow `items`.
pub fn array(items: Value, description: &str) -> Value {
    json!({ "type": "array", "items": items, "description": description })
}

/// `schema`, or `null` (an `Option` serialized without `skip_serializing_if`).
pub fn nullable(mut schema: Value) -> Value {
    if let Some(kind) = schema.get("type").cloned() {
        schema["type"] = json!([kind, "null"]);
    }
    schema
}

/// An object with these properties in this order; all are required but those in `optional`
/// (the ones serialized with `skip_serializing_if`).
pub fn object(description: &str, properties: &[(&str, Value)], optional: &[&str]) -> Value {
    let required: Vec<&str> = properties
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !optional.contains(name))
        .collect();
    let properties: Map<String, Value> = properties
        .iter()
        .map(|(name, schema)| (name.to_string(), schema.clone()))
        .collect();
    json!({
        "type": "object",
        "description": description,
        "properties": properties,
        "required": required,
    })
}

/// `schema` named `title` (the name of the shape in the API documentation).
pub fn titled(title: &str, mut schema: Value) -> Value {
    schema["title"] = json!(title);
    schema
}

/// The envelope of every PingOne-backed output: `rawResponse` and `statusCode`, then `extra`
/// (the convenience copies), all required.
pub fn pingone_output(title: &str, description: &str, extra: &[(&str, Value)]) -> Value {
    pingone_output_with(title, description, extra, &[])
}

/// [`pingone_output`] whose `optional` extras may be absent.
pub fn pingone_output_with(
    title: &str,
    description: &str,
    extra: &[(&str, Value)],
    optional: &[&str],
) -> Value {
    let mut properties = vec![
        (
            "rawResponse",
            any_object("PingOne's JSON body as it came ({} when PingOne sent none)"),
        ),
        ("statusCode", integer("PingOne's HTTP status")),
        ("headers", crate::pingone::Headers::json_schema()),
    ];
    properties.extend(extra.iter().cloned());
    titled(title, object(description, &properties, optional))
}

/// Where `value` departs from `schema`: a wrong type, enum or const, a missing required key, a
/// key the schema does not declare, or not exactly one fitting `oneOf` branch. Each departure
/// names its path (`$.device.id`). Empty when `value` conforms.
///
/// Covers the keywords the output schemas use (`type`, `enum`, `const`, `properties`,
/// `required`, `items`, `oneOf`); it checks outputs against their documentation in tests and
/// is no general JSON Schema validator.
pub fn departures(schema: &Value, value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    check(schema, value, "$", &mut found);
    found
}

fn check(schema: &Value, value: &Value, path: &str, found: &mut Vec<String>) {
    if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
        let fitting = branches
            .iter()
            .filter(|branch| departures(branch, value).is_empty())
            .count();
        if fitting != 1 {
            found.push(format!("{path}: fits {fitting} oneOf branches, not one"));
        }
        return;
    }
    let kinds: Vec<&str> = match schema.get("type") {
        Some(Value::String(kind)) => vec![kind.as_str()],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !kinds.is_empty() && !kinds.iter().any(|kind| is_of_kind(value, kind)) {
        found.push(format!("{path}: is not of type {}", kinds.join(" or ")));
        return;
    }
    if schema
        .get("const")
        .is_some_and(|constant| constant != value)
    {
        found.push(format!("{path}: is not the documented constant"));
    }
    let allowed = schema.get("enum").and_then(Value::as_array);
    if allowed.is_some_and(|allowed| !allowed.contains(value)) {
        found.push(format!("{path}: is not one of the documented values"));
    }
    match value {
        Value::Object(members) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (key, member) in members {
                    let member_path = format!("{path}.{key}");
                    match properties.get(key) {
                        Some(property) => check(property, member, &member_path, found),
                        None => found.push(format!("{member_path}: is not declared")),
                    }
                }
            }
            let required = schema.get("required").and_then(Value::as_array);
            for key in required.into_iter().flatten().filter_map(Value::as_str) {
                if !members.contains_key(key) {
                    found.push(format!("{path}.{key}: is required but missing"));
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (index, item) in items.iter().enumerate() {
                    check(item_schema, item, &format!("{path}[{index}]"), found);
                }
            }
        }
        _ => {}
    }
}

/// Panics unless `value` serializes to exactly what its type documents (tests of output types).
#[cfg(test)]
pub(crate) fn assert_documented<T: serde::Serialize + Documented>(value: &T) {
    let serialized = serde_json::to_value(value).expect("outputs serialize");
    let found = departures(&T::json_schema(), &serialized);
    assert!(found.is_empty(), "{found:#?} in {serialized:#}");
}

fn is_of_kind(value: &Value, kind: &str) -> bool {
    match kind {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "null" => value.is_null(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> Value {
        titled(
            "Device",
            object(
                "a device",
                &[
                    ("id", string("its id")),
                    ("nickname", nullable(string("its name"))),
                    ("kind", json!({ "enum": ["SMS", "EMAIL"] })),
                    ("tags", array(string("a tag"), "its tags")),
                    ("note", string("only sometimes")),
                ],
                &["note"],
            ),
        )
    }

    #[test]
    fn a_conforming_value_has_no_departures() {
        let value = json!({"id": "d1", "nickname": null, "kind": "SMS", "tags": ["a"]});
        assert_eq!(departures(&device(), &value), Vec::<String>::new());
    }

    #[test]
    fn missing_undeclared_and_mistyped_keys_are_named() {
        let value = json!({"nickname": 7, "kind": "VOICE", "tags": [1], "extra": true});
        let mut found = departures(&device(), &value);
        found.sort();
        assert_eq!(
            found,
            [
                "$.extra: is not declared",
                "$.id: is required but missing",
                "$.kind: is not one of the documented values",
                "$.nickname: is not of type string or null",
                "$.tags[0]: is not of type string",
            ]
        );
    }

    #[test]
    fn exactly_one_branch_must_fit() {
        let schema = json!({ "oneOf": [
            object("a", &[("a", string("a"))], &[]),
            object("b", &[("b", string("b"))], &[]),
        ]});
        assert!(departures(&schema, &json!({"a": "x"})).is_empty());
        assert_eq!(
            departures(&schema, &json!({"c": "x"})),
            ["$: fits 0 oneOf branches, not one"]
        );
    }

    #[test]
    fn pingone_outputs_start_with_the_envelope() {
        let schema = pingone_output("Thing", "a thing", &[("id", string("its id"))]);
        assert_eq!(schema["title"], "Thing");
        assert_eq!(
            schema["required"],
            json!(["rawResponse", "statusCode", "headers", "id"])
        );
    }
}
