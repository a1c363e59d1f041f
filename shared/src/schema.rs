//! Declarative input schemas and their validation.
//!
//! A capability declares each input field once, on its serde input type: `#[derive(Input)]`
//! (see [`crate::Input`]) reads the serde names, takes the JSON kind from the Rust type
//! ([`FieldType`]), the bounds from `#[field(...)]` and the description from the doc comment,
//! and builds the [`Schema`]. The same schema validates every request (reporting *every*
//! violation with its field path) before serde sees it, and renders the JSON Schema for the
//! API documentation, so the three can never drift. Outputs are described in [`output`].
//!
//! Request envelope: `{"properties": {...}}`. Choices the references leave open:
//! - `null` for an optional field means "absent" (DaVinci sends `null` for empty inputs);
//!   `null` for a required field is reported as missing.
//! - Lengths count Unicode scalar values, as JSON Schema's `maxLength` does.
//! - Patterns follow JSON Schema (a search, not a full match), so every pattern here is anchored.

use regex_lite::Regex;
use serde_json::{Map, Value, json};

use crate::error::{Error, FieldProblem};
use crate::secrets::Secret;

pub mod output;

#[cfg(test)]
mod derive_tests;

pub use output::Documented;

/// Ids PingOne gives users, devices, policies and device authentications: UUIDs. Checking the
/// shape also keeps path segments such as `../` out of the URLs we build from them.
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";
/// International phone numbers as PingOne wants them: `+`, country code, digits.
pub const PHONE_PATTERN: &str = "^\\+[1-9][0-9]{6,14}$";
/// A single e-mail address (deliberately simple: PingOne performs the authoritative check).
pub const EMAIL_PATTERN: &str = "^[^@\\s]{1,64}@[^@\\s]+\\.[^@\\s]+$";
/// One-time passcodes: digits for SMS/e-mail/TOTP; letters too for YubiKey OTPs (modhex).
pub const OTP_PATTERN: &str = "^[0-9A-Za-z]{6,64}$";

/// How many problems a validation error lists; the rest are counted in one last entry, so that
/// a large body cannot make a larger error.
pub const MAX_PROBLEMS: usize = 50;

/// The page origin a WebAuthn ceremony ran on: scheme, host and optional port, nothing else.
pub const ORIGIN_PATTERN: &str = "^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$";
/// FIDO2 compatibility levels PingOne accepts with a device selection or an assertion.
pub const FIDO_COMPATIBILITY: &[&str] = &["FULL", "SECURITY_KEY_ONLY", "NONE"];

/// The JSON type of a field.
#[derive(Debug)]
pub enum Kind {
    /// A JSON string.
    String,
    /// A JSON boolean.
    Boolean,
    /// A JSON number without fraction.
    Integer,
    /// A JSON array whose items are all of one kind.
    Array(Box<Field>),
    /// A JSON object with its own declared fields (unknown keys rejected).
    Object(Vec<Field>),
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Boolean => "boolean",
            Kind::Integer => "integer",
            Kind::Array(_) => "array",
            Kind::Object(_) => "object",
        }
    }

    fn matches(&self, value: &Value) -> bool {
        match self {
            Kind::String => value.is_string(),
            Kind::Boolean => value.is_boolean(),
            Kind::Integer => value.is_i64() || value.is_u64(),
            Kind::Array(_) => value.is_array(),
            Kind::Object(_) => value.is_object(),
        }
    }
}

/// One declared input field and its rules.
#[derive(Debug)]
pub struct Field {
    name: &'static str,
    kind: Kind,
    required: bool,
    max_length: Option<usize>,
    max_items: Option<usize>,
    allowed: Option<&'static [&'static str]>,
    pattern: Option<(&'static str, Regex)>,
    description: &'static str,
}

impl Field {
    fn new(name: &'static str, kind: Kind) -> Self {
        Self {
            name,
            kind,
            required: false,
            max_length: None,
            max_items: None,
            allowed: None,
            pattern: None,
            description: "",
        }
    }

    /// A string field.
    pub fn string(name: &'static str) -> Self {
        Self::new(name, Kind::String)
    }

    /// A boolean field.
    pub fn boolean(name: &'static str) -> Self {
        Self::new(name, Kind::Boolean)
    }

    /// An integer field.
    pub fn integer(name: &'static str) -> Self {
        Self::new(name, Kind::Integer)
    }

    /// An array field whose items follow `items` (its name is ignored).
    pub fn array(name: &'static str, items: Field) -> Self {
        Self::new(name, Kind::Array(Box::new(items)))
    }

    /// A nested object with its own fields.
    pub fn object(name: &'static str, fields: Vec<Field>) -> Self {
        Self::new(name, Kind::Object(fields))
    }

    /// A PingOne id (a UUID): at most 36 characters matching [`UUID_PATTERN`].
    pub fn id(self) -> Self {
        self.max_length(36).pattern(UUID_PATTERN)
    }

    /// The items of an array field get `bounds` (no effect on other kinds: the derive only
    /// calls it for a [`List`]).
    pub fn items(mut self, bounds: impl FnOnce(Field) -> Field) -> Self {
        self.kind = match self.kind {
            Kind::Array(items) => Kind::Array(Box::new(bounds(*items))),
            other => other,
        };
        self
    }

    /// The field must be present (and not `null`).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// At most `n` characters.
    pub fn max_length(mut self, n: usize) -> Self {
        self.max_length = Some(n);
        self
    }

    /// At most `n` array items.
    pub fn max_items(mut self, n: usize) -> Self {
        self.max_items = Some(n);
        self
    }

    /// The value must be one of `values`.
    pub fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.allowed = Some(values);
        self
    }

    /// The string must match `pattern` (anchor it: JSON Schema patterns search).
    ///
    /// # Panics
    /// When `pattern` is not a valid regular expression: schemas are static declarations, so
    /// this is a programming error caught by each capability's schema test at build time.
    pub fn pattern(mut self, pattern: &'static str) -> Self {
        let regex = Regex::new(pattern)
            .unwrap_or_else(|e| panic!("invalid pattern {pattern:?} in schema: {e}"));
        self.pattern = Some((pattern, regex));
        self
    }

    /// A one-line description for the API documentation.
    pub fn describe(mut self, text: &'static str) -> Self {
        self.description = text;
        self
    }

    fn check(&self, path: &str, value: &Value, problems: &mut Vec<FieldProblem>) {
        if !self.kind.matches(value) {
            problems.push(FieldProblem::new(
                path,
                format!("must be {} {}", article(self.kind.name()), self.kind.name()),
            ));
            return;
        }
        match (&self.kind, value) {
            (Kind::String, Value::String(text)) => self.check_string(path, text, problems),
            (Kind::Array(items), Value::Array(values)) => {
                if let Some(max) = self.max_items.filter(|max| values.len() > *max) {
                    problems.push(FieldProblem::new(
                        path,
                        format!("must have at most {max} items"),
                    ));
                }
                // Items beyond the bound are refused as a whole above, not one by one.
                let checked = self.max_items.unwrap_or(values.len());
                for (index, item) in values.iter().take(checked).enumerate() {
                    items.check(&format!("{path}[{index}]"), item, problems);
                }
            }
            (Kind::Object(fields), Value::Object(map)) => check_object(fields, path, map, problems),
            _ => {}
        }
    }

    fn check_string(&self, path: &str, text: &str, problems: &mut Vec<FieldProblem>) {
        if let Some(max) = self.max_length.filter(|max| text.chars().count() > *max) {
            problems.push(FieldProblem::new(
                path,
                format!("must be at most {max} characters"),
            ));
            // A pattern or enum check of an overlong value adds noise, not information.
            return;
        }
        if let Some(allowed) = self.allowed.filter(|allowed| !allowed.contains(&text)) {
            problems.push(FieldProblem::new(
                path,
                format!("must be one of: {}", allowed.join(", ")),
            ));
        }
        if let Some((source, _)) = self.pattern.as_ref().filter(|(_, r)| !r.is_match(text)) {
            problems.push(FieldProblem::new(
                path,
                format!("must match the pattern {source}"),
            ));
        }
    }

    fn json_schema(&self) -> Value {
        let mut schema = Map::new();
        schema.insert("type".into(), json!(self.kind.name()));
        if !self.description.is_empty() {
            schema.insert("description".into(), json!(self.description));
        }
        if let Some(max) = self.max_length {
            schema.insert("maxLength".into(), json!(max));
        }
        if let Some(max) = self.max_items {
            schema.insert("maxItems".into(), json!(max));
        }
        if let Some(allowed) = self.allowed {
            schema.insert("enum".into(), json!(allowed));
        }
        if let Some((source, _)) = &self.pattern {
            schema.insert("pattern".into(), json!(source));
        }
        match &self.kind {
            Kind::Array(items) => {
                schema.insert("items".into(), items.json_schema());
            }
            Kind::Object(fields) => schema.extend(object_json_schema(fields)),
            _ => {}
        }
        Value::Object(schema)
    }
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn check_object(
    fields: &[Field],
    path: &str,
    map: &Map<String, Value>,
    problems: &mut Vec<FieldProblem>,
) {
    for field in fields {
        let field_path = format!("{path}.{}", field.name);
        match map.get(field.name) {
            None | Some(Value::Null) if field.required => {
                problems.push(FieldProblem::new(field_path, "is required"));
            }
            None | Some(Value::Null) => {}
            Some(value) => field.check(&field_path, value, problems),
        }
    }
    let mut unknown: Vec<&String> = map
        .keys()
        .filter(|key| !fields.iter().any(|field| field.name == key.as_str()))
        .collect();
    unknown.sort();
    for key in unknown {
        problems.push(FieldProblem::new(
            format!("{path}.{}", truncate(key, 100)),
            "is not a known field",
        ));
    }
}

/// The first [`MAX_PROBLEMS`] problems, and one entry counting the others.
fn at_most_listed(mut problems: Vec<FieldProblem>) -> Vec<FieldProblem> {
    if problems.len() > MAX_PROBLEMS {
        let rest = problems.len() - MAX_PROBLEMS;
        problems.truncate(MAX_PROBLEMS);
        problems.push(FieldProblem::new(
            "properties",
            format!("and {rest} more problems, not listed"),
        ));
    }
    problems
}

fn object_json_schema(fields: &[Field]) -> Map<String, Value> {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|field| (field.name.to_string(), field.json_schema()))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut schema = Map::new();
    schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        schema.insert("required".into(), json!(required));
    }
    schema.insert("additionalProperties".into(), json!(false));
    schema
}

/// Echoing a caller's 1 MB key back would make the error body as large as the attack.
fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// An input object declared by `#[derive(shared::Input)]`: its fields and its schema.
pub trait Declared {
    /// The object's fields, in declaration order.
    fn fields() -> Vec<Field>;
    /// The schema of a request whose `properties` is this object; built once per process.
    fn schema() -> &'static Schema;
}

/// A Rust type as a JSON input value: the kind of field it makes.
pub trait FieldType {
    /// The field may be absent or `null` (an `Option`).
    const OPTIONAL: bool = false;
    /// The field `name` holding this type, before its bounds and description.
    fn field(name: &'static str) -> Field;
}

/// A type whose JSON is a string: `id`, `max_length`, `pattern` and `one_of` apply to it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a JSON string: id, max_length, pattern and one_of bound strings"
)]
pub trait Text: FieldType {}

/// A type whose JSON is an array: `max_items` and `items(...)` apply to it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a JSON array: max_items and items(...) bound arrays"
)]
pub trait List: FieldType {
    /// The type of the items.
    type Item: FieldType;
}

impl FieldType for String {
    fn field(name: &'static str) -> Field {
        Field::string(name)
    }
}
impl Text for String {}

impl FieldType for bool {
    fn field(name: &'static str) -> Field {
        Field::boolean(name)
    }
}

// Only `i64`: the schema has no numeric bounds yet, so a narrower type would let a value pass
// validation that serde then refuses (an internal error instead of a listed violation).
impl FieldType for i64 {
    fn field(name: &'static str) -> Field {
        Field::integer(name)
    }
}

impl<T: FieldType> FieldType for Secret<T> {
    fn field(name: &'static str) -> Field {
        T::field(name)
    }
}
impl<T: Text> Text for Secret<T> {}

impl<T: FieldType> FieldType for Option<T> {
    const OPTIONAL: bool = true;
    fn field(name: &'static str) -> Field {
        T::field(name)
    }
}
impl<T: Text> Text for Option<T> {}
impl<T: List> List for Option<T> {
    type Item = T::Item;
}

impl<T: FieldType> FieldType for Vec<T> {
    fn field(name: &'static str) -> Field {
        // An item's name is never shown: problems name it by its index.
        Field::array(name, T::field("item"))
    }
}
impl<T: FieldType> List for Vec<T> {
    type Item = T;
}

/// What the derives' generated code calls; not an API.
#[doc(hidden)]
pub mod __derive {
    use super::{List, Text};

    /// Fails to compile unless `T` is a string: the span of the call points at the bound.
    pub fn text<T: Text>() {}
    /// Fails to compile unless `T` is an array.
    pub fn list<T: List>() {}
    /// Fails to compile unless `T` is an array of strings.
    pub fn text_items<T: List>()
    where
        T::Item: Text,
    {
    }
}

/// The input schema of one capability: the fields of `properties`.
#[derive(Debug)]
pub struct Schema {
    fields: Vec<Field>,
}

impl Schema {
    /// A schema with these fields.
    pub fn new(fields: Vec<Field>) -> Self {
        Self { fields }
    }

    /// Validates a request body `{"properties": {...}}` and returns `properties`, or every
    /// problem found.
    pub fn validate(&self, body: &Value) -> Result<Map<String, Value>, Error> {
        let Value::Object(envelope) = body else {
            return Err(Error::Validation(vec![FieldProblem::new(
                "body",
                "must be a JSON object with a \"properties\" object",
            )]));
        };
        let mut problems = Vec::new();
        for key in envelope.keys().filter(|key| key.as_str() != "properties") {
            problems.push(FieldProblem::new(
                truncate(key, 100),
                "is not a known field",
            ));
        }
        let properties = match envelope.get("properties") {
            Some(Value::Object(properties)) => {
                check_object(&self.fields, "properties", properties, &mut problems);
                Some(properties)
            }
            None | Some(Value::Null) => {
                problems.push(FieldProblem::new("properties", "is required"));
                None
            }
            Some(_) => {
                problems.push(FieldProblem::new("properties", "must be an object"));
                None
            }
        };
        match properties {
            Some(properties) if problems.is_empty() => Ok(properties.clone()),
            _ => Err(Error::Validation(at_most_listed(problems))),
        }
    }

    /// The JSON Schema of the request body (`{"properties": {...}}`), for the API documentation.
    pub fn json_schema(&self) -> Value {
        let mut properties = object_json_schema(&self.fields);
        properties.insert("type".into(), json!("object"));
        json!({
            "type": "object",
            "properties": { "properties": Value::Object(properties) },
            "required": ["properties"],
            "additionalProperties": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new(vec![
            Field::string("userId")
                .required()
                .max_length(36)
                .pattern(UUID_PATTERN),
            Field::string("type").one_of(&["SMS", "EMAIL"]),
            Field::boolean("usernameLess"),
            Field::integer("count"),
            Field::array("groups", Field::string("group").max_length(5)).max_items(2),
            Field::object(
                "selectedDevice",
                vec![Field::string("id").required().pattern(UUID_PATTERN)],
            ),
        ])
    }

    const ALICE: &str = "a11ce000-0000-4000-8000-000000000001";

    fn problems(body: Value) -> Vec<(String, String)> {
        match schema().validate(&body) {
            Err(Error::Validation(problems)) => {
                problems.into_iter().map(|p| (p.field, p.problem)).collect()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn pair(field: &str, problem: &str) -> (String, String) {
        (field.to_string(), problem.to_string())
    }

    #[test]
    fn a_valid_body_yields_its_properties() {
        let body = json!({"properties": {"userId": ALICE, "type": "SMS", "usernameLess": false,
            "count": 3, "groups": ["a", "b"], "selectedDevice": {"id": ALICE}}});
        let properties = schema().validate(&body).unwrap();
        assert_eq!(properties["userId"], ALICE);
    }

    #[test]
    fn a_body_full_of_problems_lists_the_first_fifty_and_counts_the_rest() {
        let unknown: Map<String, Value> = (0..1000)
            .map(|n| (format!("extra{n:04}"), json!(n)))
            .collect();
        let mut properties = unknown;
        properties.insert("userId".into(), json!(ALICE));
        let listed = problems(json!({ "properties": properties }));
        assert_eq!(listed.len(), MAX_PROBLEMS + 1);
        assert_eq!(
            listed[0],
            pair("properties.extra0000", "is not a known field")
        );
        assert_eq!(
            listed[MAX_PROBLEMS],
            pair("properties", "and 950 more problems, not listed")
        );
    }

    #[test]
    fn array_items_are_checked_only_up_to_max_items() {
        let groups: Vec<Value> = (0..1000).map(|_| json!("far too long")).collect();
        assert_eq!(
            problems(json!({"properties": {"userId": ALICE, "groups": groups}})),
            [
                pair("properties.groups", "must have at most 2 items"),
                pair("properties.groups[0]", "must be at most 5 characters"),
                pair("properties.groups[1]", "must be at most 5 characters"),
            ]
        );
    }

    #[test]
    fn required_field_missing_or_null() {
        assert_eq!(
            problems(json!({"properties": {}})),
            [pair("properties.userId", "is required")]
        );
        assert_eq!(
            problems(json!({"properties": {"userId": null}})),
            [pair("properties.userId", "is required")]
        );
    }

    #[test]
    fn null_optional_field_counts_as_absent() {
        let body = json!({"properties": {"userId": ALICE, "type": null}});
        assert!(schema().validate(&body).is_ok());
    }

    #[test]
    fn wrong_types_are_named() {
        let body = json!({"properties": {"userId": 7, "usernameLess": "yes", "count": 1.5,
            "groups": "a", "selectedDevice": []}});
        assert_eq!(
            problems(body),
            [
                pair("properties.userId", "must be a string"),
                pair("properties.usernameLess", "must be a boolean"),
                pair("properties.count", "must be an integer"),
                pair("properties.groups", "must be an array"),
                pair("properties.selectedDevice", "must be an object"),
            ]
        );
    }

    #[test]
    fn max_length_counts_characters_not_bytes() {
        let ok = json!({"properties": {"userId": ALICE, "groups": ["ééééé"]}});
        assert!(schema().validate(&ok).is_ok());
        let long = json!({"properties": {"userId": ALICE, "groups": ["éééééé"]}});
        assert_eq!(
            problems(long),
            [pair("properties.groups[0]", "must be at most 5 characters")]
        );
    }

    #[test]
    fn enum_and_pattern_violations() {
        let body = json!({"properties": {"userId": "../../admin", "type": "FAX"}});
        assert_eq!(
            problems(body),
            [
                pair(
                    "properties.userId",
                    &format!("must match the pattern {UUID_PATTERN}")
                ),
                pair("properties.type", "must be one of: SMS, EMAIL"),
            ]
        );
    }

    #[test]
    fn nested_objects_and_arrays_report_their_paths() {
        let body = json!({"properties": {"userId": ALICE, "groups": ["a", "b", "c"],
            "selectedDevice": {"name": "x"}}});
        assert_eq!(
            problems(body),
            [
                pair("properties.groups", "must have at most 2 items"),
                pair("properties.selectedDevice.id", "is required"),
                pair("properties.selectedDevice.name", "is not a known field"),
            ]
        );
    }

    #[test]
    fn unknown_keys_are_rejected_at_every_level() {
        let body = json!({"connection": {}, "properties": {"userId": ALICE, "clientSecret": "s"}});
        assert_eq!(
            problems(body),
            [
                pair("connection", "is not a known field"),
                pair("properties.clientSecret", "is not a known field"),
            ]
        );
    }

    #[test]
    fn several_violations_are_reported_together() {
        let body = json!({"properties": {"type": "FAX", "count": "3", "extra": 1}});
        assert_eq!(problems(body).len(), 4);
    }

    #[test]
    fn the_envelope_must_be_an_object_with_properties() {
        assert_eq!(problems(json!([])).len(), 1);
        assert_eq!(problems(json!({})), [pair("properties", "is required")]);
        assert_eq!(
            problems(json!({"properties": 1})),
            [pair("properties", "must be an object")]
        );
    }

    #[test]
    fn overlong_unknown_keys_are_truncated_in_the_report() {
        let key = "k".repeat(10_000);
        let body = json!({"properties": {"userId": ALICE, key: 1}});
        let reported = &problems(body)[0].0;
        assert!(reported.len() < 200, "{} bytes", reported.len());
    }

    #[test]
    fn json_schema_mirrors_the_declaration() {
        let rendered = schema().json_schema();
        let properties = &rendered["properties"]["properties"];
        assert_eq!(properties["required"], json!(["userId"]));
        assert_eq!(properties["additionalProperties"], json!(false));
        assert_eq!(properties["properties"]["userId"]["maxLength"], json!(36));
        assert_eq!(
            properties["properties"]["type"]["enum"],
            json!(["SMS", "EMAIL"])
        );
        assert_eq!(
            properties["properties"]["groups"]["items"]["maxLength"],
            json!(5)
        );
        assert_eq!(
            properties["properties"]["selectedDevice"]["required"],
            json!(["id"])
        );
    }

    #[test]
    fn the_shared_patterns_accept_and_reject_what_they_should() {
        let matches = |pattern: &str, text: &str| Regex::new(pattern).unwrap().is_match(text);
        assert!(matches(PHONE_PATTERN, "+15555550101"));
        assert!(!matches(PHONE_PATTERN, "5555550101"));
        assert!(matches(EMAIL_PATTERN, "alice@example.com"));
        assert!(!matches(EMAIL_PATTERN, "alice@example"));
        assert!(matches(OTP_PATTERN, "123456"));
        assert!(!matches(OTP_PATTERN, "12 456"));
    }
}
