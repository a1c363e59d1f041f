//! The API contract, rendered from the capabilities themselves: `openapi.yaml` (OpenAPI 3.1)
//! and, per capability, the settings of a DaVinci HTTP node (`docs/davinci/<id>.json`).
//!
//! Request bodies are each capability's [`shared::Schema::json_schema`] (the schema the
//! handler validates with), outputs its [`shared::Capability::output_schema`], errors the one
//! [`ErrorBody`] schema with the statuses of [`STATUS_CODES`] (and of API Gateway's own
//! refusals): nothing is described twice, so the files cannot drift from the code; a test
//! checks the checked-in copies are current.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value, json};
use shared::Capability;
use shared::error::{ErrorBody, STATUS_CODES};
use shared::schema::Documented;

use crate::{capabilities, legacy_capabilities};

/// Where the OpenAPI document lives, relative to the repository root.
pub const OPENAPI_PATH: &str = "openapi.yaml";
/// Where the DaVinci node settings live, relative to the repository root.
pub const DAVINCI_DIR: &str = "docs/davinci";

/// The DaVinci company variable holding the deployment's base URL (the stack's `ApiUrl`).
const URL_VARIABLE: &str = "{{global.company.variables.pingidConnectorUrl}}";
/// The DaVinci company variable (secret) holding the callers' bearer token.
const TOKEN_VARIABLE: &str = "{{global.company.variables.pingidConnectorToken}}";

/// API Gateway's own refusals (template.yaml `GatewayResponses`) at statuses no capability
/// answers with; they carry the same error body. The rest of its refusals share a status and
/// code with [`STATUS_CODES`].
const GATEWAY_STATUS_CODES: &[(u16, &str)] = &[(403, "UNAUTHORIZED"), (403, "RATE_LIMITED")];

/// Every (HTTP status, code) pair a caller can meet: the functions' and API Gateway's.
pub fn documented_status_codes() -> Vec<(u16, &'static str)> {
    let mut pairs: Vec<(u16, &str)> = STATUS_CODES
        .iter()
        .chain(GATEWAY_STATUS_CODES)
        .copied()
        .collect();
    pairs.sort_by_key(|(status, _)| *status);
    pairs
}

/// What can stop the contract from being rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// Two capabilities document different output shapes under one title.
    #[error("two different output schemas are both titled {0:?}")]
    TitleClash(String),
    /// An output schema has no `title` to name it by.
    #[error("the output schema of {0} has no title")]
    Untitled(&'static str),
    /// The document could not be rendered as YAML.
    #[error("rendering YAML: {0}")]
    Yaml(#[from] serde_yaml_ng::Error),
    /// A document could not be rendered as JSON.
    #[error("rendering JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A file could not be read, written or removed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

/// One generated file: its path relative to the repository root and its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// E.g. `docs/davinci/readDevice.json`.
    pub path: String,
    /// The text, ending with a newline.
    pub contents: String,
}

/// One family of routes: `POST {prefix}/{capabilityId}` for each of its capabilities.
struct Family {
    prefix: &'static str,
    tag: &'static str,
    capabilities: Vec<Arc<dyn Capability>>,
}

fn families() -> [Family; 2] {
    [
        Family {
            prefix: "/v1/pingid",
            tag: "pingid",
            capabilities: capabilities(),
        },
        Family {
            prefix: "/v1/pingid-legacy",
            tag: "pingid-legacy",
            capabilities: legacy_capabilities(),
        },
    ]
}

/// Every generated file: `openapi.yaml`, then `docs/davinci/<capabilityId>.json` by id.
pub fn files() -> Result<Vec<GeneratedFile>, ContractError> {
    let mut files = vec![GeneratedFile {
        path: OPENAPI_PATH.to_string(),
        contents: openapi_yaml()?,
    }];
    for family in families() {
        for capability in &family.capabilities {
            let node = DavinciNode::new(&family, capability.as_ref());
            files.push(GeneratedFile {
                path: format!("{DAVINCI_DIR}/{}.json", capability.id()),
                contents: serde_json::to_string_pretty(&node)? + "\n",
            });
        }
    }
    Ok(files)
}

/// Writes every generated file under `repo` and removes `docs/davinci/*.json` files no
/// capability generates any more (a renamed or retired capability).
pub fn write(repo: &Path) -> Result<(), ContractError> {
    let files = files()?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ContractError::Io { path, source }
    };
    let davinci = repo.join(DAVINCI_DIR);
    std::fs::create_dir_all(&davinci).map_err(io(&davinci))?;
    for stale in stale_davinci_files(repo, &files)? {
        std::fs::remove_file(&stale).map_err(io(&stale))?;
    }
    for file in &files {
        let path = repo.join(&file.path);
        std::fs::write(&path, &file.contents).map_err(io(&path))?;
    }
    Ok(())
}

/// `docs/davinci/*.json` files under `repo` that are not among `files`.
pub fn stale_davinci_files(
    repo: &Path,
    files: &[GeneratedFile],
) -> Result<Vec<PathBuf>, ContractError> {
    let dir = repo.join(DAVINCI_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ContractError::Io { path: dir, source }),
    };
    let mut stale = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|source| ContractError::Io {
                path: dir.clone(),
                source,
            })?
            .path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        let generated = files
            .iter()
            .any(|file| file.path == format!("{DAVINCI_DIR}/{name}"));
        if name.ends_with(".json") && !generated {
            stale.push(path);
        }
    }
    stale.sort();
    Ok(stale)
}

/// The top of the OpenAPI document; a struct so the sections keep the conventional order
/// (maps inside are sorted by key, which keeps the file deterministic).
#[derive(Serialize)]
struct OpenApi {
    openapi: &'static str,
    info: Value,
    servers: Value,
    security: Value,
    tags: Value,
    paths: Map<String, Value>,
    components: Value,
}

/// The OpenAPI 3.1 document of every route, as YAML.
pub fn openapi_yaml() -> Result<String, ContractError> {
    let mut paths = Map::new();
    paths.insert("/health".into(), health_path());
    let mut schemas = Map::new();
    schemas.insert("Error".into(), ErrorBody::json_schema());
    for family in families() {
        for capability in &family.capabilities {
            let output = hoist(&mut schemas, capability.as_ref())?;
            let request = format!("{}Request", capability.id());
            schemas.insert(request.clone(), capability.schema().json_schema());
            let path = format!("{}/{}", family.prefix, capability.id());
            let operation = operation(&family, capability.as_ref(), &request, &output);
            paths.insert(path, json!({ "post": operation }));
        }
    }
    let document = OpenApi {
        openapi: "3.1.0",
        info: json!({
            "title": "PingID connector for AWS Lambda",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The PingID connector's capabilities as an HTTP API: one POST route \
                per capability, taking `{\"properties\": {...}}` with exactly the capability's \
                input fields. Failures answer the Error body with a stable `code`. Generated \
                from the capability schemas by `make contract`; do not edit by hand.",
            "license": { "name": "Apache-2.0", "identifier": "Apache-2.0" },
        }),
        servers: json!([
            {
                "url": "https://{apiId}.execute-api.{region}.amazonaws.com/Prod",
                "description": "A deployed stack: its ApiUrl output (API Gateway stage URL)",
                "variables": {
                    "apiId": { "default": "your-api-id", "description": "The REST API's id" },
                    "region": { "default": "us-east-1", "description": "The stack's AWS region" },
                },
            },
            { "url": "http://localhost:3000", "description": "The local stack (`make run`)" },
        ]),
        security: json!([{ "bearer": [] }]),
        tags: json!([
            { "name": "pingid", "description": "The PingID connector (PingOne MFA behind a worker app)" },
            { "name": "pingid-legacy", "description": "The PingID legacy connector (PPM with a pingid.properties file)" },
        ]),
        paths,
        components: json!({
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token of the deployment's API-tokens secret (locally `local-dev-token`)",
                },
            },
            "headers": {
                "CorrelationId": {
                    "description": "Id of this call in the logs (also the error body's correlationId)",
                    "schema": { "type": "string" },
                },
                "RetryAfter": {
                    "description": "Seconds to wait before retrying, when PingOne said",
                    "schema": { "type": "integer" },
                },
                "WwwAuthenticate": {
                    "description": "The scheme the credential must use",
                    "schema": { "const": "Bearer" },
                },
            },
            "responses": error_responses(),
            "schemas": schemas,
        }),
    };
    Ok(serde_yaml_ng::to_string(&document)?)
}

/// Puts the capability's output schema into `schemas` under its title; returns the title.
fn hoist(
    schemas: &mut Map<String, Value>,
    capability: &dyn Capability,
) -> Result<String, ContractError> {
    let schema = capability.output_schema();
    let title = schema
        .get("title")
        .and_then(Value::as_str)
        .ok_or(ContractError::Untitled(capability.id()))?
        .to_string();
    match schemas.get(&title) {
        Some(known) if *known != schema => Err(ContractError::TitleClash(title)),
        Some(_) => Ok(title),
        None => {
            schemas.insert(title.clone(), schema);
            Ok(title)
        }
    }
}

fn health_path() -> Value {
    json!({
        "get": {
            "operationId": "health",
            "summary": "Liveness of the API; needs no credential.",
            "security": [],
            "responses": {
                "200": {
                    "description": "The API is up",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": { "status": { "const": "ok" } },
                        "required": ["status"],
                    }}},
                },
            },
        },
    })
}

fn operation(family: &Family, capability: &dyn Capability, request: &str, output: &str) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "The capability's output",
            "headers": { "X-Correlation-Id": { "$ref": "#/components/headers/CorrelationId" } },
            "content": { "application/json": { "schema": {
                "$ref": format!("#/components/schemas/{output}"),
            }}},
        }),
    );
    for status in operation_error_statuses() {
        responses.insert(
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/{}", response_name(status)) }),
        );
    }
    json!({
        "operationId": capability.id(),
        "summary": capability.summary(),
        "tags": [family.tag],
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": {
                "$ref": format!("#/components/schemas/{request}"),
            }}},
        },
        "responses": responses,
    })
}

/// The statuses a capability's POST can fail with: all but 405, which answers other methods.
fn operation_error_statuses() -> BTreeSet<u16> {
    documented_status_codes()
        .into_iter()
        .map(|(status, _)| status)
        .filter(|status| *status != 405)
        .collect()
}

/// `components.responses`: one per error status, naming the codes it carries.
fn error_responses() -> Value {
    let mut codes: BTreeMap<u16, Vec<&str>> = BTreeMap::new();
    for (status, code) in documented_status_codes() {
        codes.entry(status).or_default().push(code);
    }
    let mut responses = Map::new();
    for status in operation_error_statuses() {
        let mut headers = json!({
            "X-Correlation-Id": { "$ref": "#/components/headers/CorrelationId" },
        });
        if status == 401 {
            headers["WWW-Authenticate"] = json!({ "$ref": "#/components/headers/WwwAuthenticate" });
        }
        if status == 429 {
            headers["Retry-After"] = json!({ "$ref": "#/components/headers/RetryAfter" });
        }
        let reason = StatusCode::from_u16(status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("Error");
        let codes = codes.get(&status).map(|codes| codes.join(", "));
        responses.insert(
            response_name(status),
            json!({
                "description": format!("{reason}: {}", codes.unwrap_or_default()),
                "headers": headers,
                "content": { "application/json": { "schema": {
                    "$ref": "#/components/schemas/Error",
                }}},
            }),
        );
    }
    Value::Object(responses)
}

/// `BadRequest` for 400: the reason phrase without spaces.
fn response_name(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .map(|reason| reason.replace([' ', '-'], ""))
        .unwrap_or_else(|| format!("Status{status}"))
}

/// The settings of one DaVinci HTTP connector node ("Make REST API Call") calling a
/// capability, named as the node's properties are in DaVinci flow exports.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DavinciNode {
    capability: &'static str,
    summary: &'static str,
    connector: &'static str,
    node_capability: &'static str,
    url: String,
    http_method: &'static str,
    headers: Vec<Header>,
    /// The body template: `{"properties": {...}}` with one placeholder per input field.
    raw: String,
    /// The input fields the capability requires (keep their lines of `raw`).
    required: Vec<String>,
    output_schema: Value,
    output_schema_error: Value,
}

#[derive(Serialize)]
struct Header {
    key: &'static str,
    value: String,
}

impl DavinciNode {
    fn new(family: &Family, capability: &dyn Capability) -> Self {
        let input = capability.schema().json_schema();
        let properties = &input["properties"]["properties"];
        Self {
            capability: capability.id(),
            summary: capability.summary(),
            connector: "HTTP (httpConnector)",
            node_capability: "Make REST API Call (makeRestApiCall)",
            url: format!("{URL_VARIABLE}{}/{}", family.prefix, capability.id()),
            http_method: "POST",
            headers: vec![
                Header {
                    key: "Authorization",
                    value: format!("Bearer {TOKEN_VARIABLE}"),
                },
                Header {
                    key: "Content-Type",
                    value: "application/json".into(),
                },
            ],
            raw: format!(
                "{{\n  \"properties\": {}\n}}",
                body_template(properties, "global.parameters", 2)
            ),
            required: names(&properties["required"]),
            output_schema: capability.output_schema(),
            output_schema_error: ErrorBody::json_schema(),
        }
    }
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// The JSON text of an object schema's members with a DaVinci variable as each value: strings
/// quoted, other kinds bare (DaVinci substitutes the variable's JSON), objects expanded.
/// Required members first in declaration order, then the optional ones.
fn body_template(object: &Value, variable: &str, indent: usize) -> String {
    let empty = Map::new();
    let properties = object["properties"].as_object().unwrap_or(&empty);
    let required = names(&object["required"]);
    let optional = properties.keys().filter(|name| !required.contains(name));
    let pad = " ".repeat(indent + 2);
    let members: Vec<String> = required
        .iter()
        .chain(optional)
        .filter_map(|name| {
            let schema = properties.get(name)?;
            let path = format!("{variable}.{name}");
            let value = match schema["type"].as_str() {
                Some("object") => body_template(schema, &path, indent + 2),
                Some("string") => format!("\"{{{{{path}}}}}\""),
                _ => format!("{{{{{path}}}}}"),
            };
            Some(format!("{pad}\"{name}\": {value}"))
        })
        .collect();
    if members.is_empty() {
        return "{}".into();
    }
    format!("{{\n{}\n{}}}", members.join(",\n"), " ".repeat(indent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_templates_put_required_fields_first_and_expand_objects() {
        let schema = json!({
            "properties": {
                "a": { "type": "boolean" },
                "id": { "type": "string" },
                "nested": { "type": "object", "properties": { "x": { "type": "string" } } },
            },
            "required": ["id"],
        });
        assert_eq!(
            body_template(&schema, "global.parameters", 2),
            "{\n    \"id\": \"{{global.parameters.id}}\",\n    \"a\": {{global.parameters.a}},\n    \
             \"nested\": {\n      \"x\": \"{{global.parameters.nested.x}}\"\n    }\n  }"
        );
    }

    #[test]
    fn error_responses_are_named_by_their_reason() {
        assert_eq!(response_name(429), "TooManyRequests");
        assert_eq!(response_name(504), "GatewayTimeout");
        assert!(!operation_error_statuses().contains(&405));
    }
}
