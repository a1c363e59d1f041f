//! Checking a JSON body against a named shape of a schema document: the project's own
//! description (`contract/pingone-responses.json`, `#/definitions/…`) or, in the fidelity target,
//! Ping's published OpenAPI description (`#/components/schemas/…`).
//!
//! Two checks per body. JSON Schema validation, and no property that the shape does not
//! declare: PingOne's shapes (and ours, which follow them) allow extra properties, so without the
//! second check a misspelt field would pass as an extra one.

use serde_json::{Map, Value, json};

/// Properties the simulator adds to PingOne's shapes, by dotted path. `remainingAttempts` tells
/// a caller how many wrong OTPs are left (README, "Choices the references leave open"); Ping's
/// description does not have it, so ours does not either. Named one by one so that any other
/// undeclared property still fails.
pub const SIMULATOR_EXTENSIONS: &[&str] = &["details[].innerError.remainingAttempts"];

/// A JSON document holding named schemas under one JSON pointer.
pub struct Schemas {
    doc: Value,
    /// Where the named schemas are: `/definitions` or `/components/schemas`.
    names: &'static str,
}

/// A shape's declarations merged across `allOf`: what a body may contain and must contain.
#[derive(Default)]
pub struct Declared {
    pub properties: Map<String, Value>,
    /// The schema of undeclared properties, when the shape is a map (`_links`).
    pub additional: Option<Value>,
    pub required: Vec<String>,
}

impl Schemas {
    /// The project's own description of PingOne's answers, `contract/pingone-responses.json`.
    /// Read from the package, never from beside the repository: a fresh clone has only this.
    pub fn contract() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/contract/pingone-responses.json"
        );
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
        let doc = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{path} is not JSON: {error}"));
        Self::new(doc, "/definitions")
    }

    /// `doc` with its named schemas under the JSON pointer `names`.
    pub fn new(doc: Value, names: &'static str) -> Self {
        assert!(
            doc.pointer(names).is_some_and(Value::is_object),
            "the document has no {names}"
        );
        Self { doc, names }
    }

    /// The whole document.
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// `#{names}/{name}`, the reference to a named schema.
    pub fn reference(&self, name: &str) -> String {
        format!("#{}/{name}", self.names)
    }

    /// The named schema, if the document has it.
    pub fn named(&self, name: &str) -> Option<&Value> {
        self.doc.pointer(&format!("{}/{name}", self.names))
    }

    /// Fails unless `body` is valid against the named schema and declares no property beyond
    /// it, except the `extensions` (dotted paths such as `details[].innerError.remainingAttempts`).
    pub fn assert_conforms(&self, name: &str, body: &Value, extensions: &[&str]) {
        let violations = self.violations(name, body, extensions);
        assert!(
            violations.is_empty(),
            "{name} violations {violations:#?} in {body:#}"
        );
    }

    /// Everything wrong with `body` as a `name`: schema violations, then undeclared properties.
    pub fn violations(&self, name: &str, body: &Value, extensions: &[&str]) -> Vec<String> {
        assert!(self.named(name).is_some(), "no schema named {name}");
        let reference = self.reference(name);
        // The validator resolves `#/…` references against this root, so it carries the
        // document's top-level member that holds the named schemas.
        let top = self
            .names
            .split('/')
            .nth(1)
            .expect("a pointer has a first segment");
        let mut root = Map::new();
        root.insert("$ref".to_owned(), json!(reference));
        root.insert(top.to_owned(), self.doc[top].clone());
        let root = Value::Object(root);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&root)
            .unwrap_or_else(|error| panic!("{name} does not compile: {error}"));
        let mut violations: Vec<String> = validator
            .iter_errors(body)
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect();

        let mut undeclared = Vec::new();
        self.collect_undeclared(&json!({ "$ref": reference }), body, "", &mut undeclared);
        violations.extend(
            undeclared
                .into_iter()
                .filter(|path| !extensions.contains(&path.as_str()))
                .map(|path| format!("{path}: not declared by {name}")),
        );
        violations
    }

    /// Follows `$ref`s (local JSON pointers) to the schema they name.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema["$ref"].as_str() {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{reference} is not a local reference"));
            schema = self
                .doc
                .pointer(pointer)
                .unwrap_or_else(|| panic!("unresolvable {reference}"));
        }
        schema
    }

    /// The declarations of `schema`, merged across `allOf` (conditional parts, `if`/`then`,
    /// only add requirements, so they are not merged).
    pub fn declared(&self, schema: &Value) -> Declared {
        let mut declared = Declared::default();
        self.merge_declared(schema, &mut declared);
        declared
    }

    fn merge_declared(&self, schema: &Value, declared: &mut Declared) {
        let schema = self.resolve(schema);
        if let Some(own) = schema["properties"].as_object() {
            declared.properties.extend(own.clone());
        }
        if schema["additionalProperties"].is_object() {
            declared.additional = Some(schema["additionalProperties"].clone());
        }
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name
                .as_str()
                .expect("required names are strings")
                .to_owned();
            if !declared.required.contains(&name) {
                declared.required.push(name);
            }
        }
        for part in schema["allOf"].as_array().into_iter().flatten() {
            self.merge_declared(part, declared);
        }
    }

    fn collect_undeclared(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
        let schema = self.resolve(schema);
        match value {
            Value::Object(fields) => {
                let Declared {
                    properties,
                    additional,
                    ..
                } = self.declared(schema);
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
