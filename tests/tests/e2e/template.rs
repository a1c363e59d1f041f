//! The deployment rules of `template.yaml`, checked on the template as written and on what SAM
//! turns it into (SAM's own translator, offline, through `tests/template/sam_transform.py` in the
//! repository's `.venv`): what a security reviewer signs off, kept true by a test.
//!
//! Each rule is a function listing its violations. The last test breaks the template in one
//! place per rule and checks that exactly that rule notices, so no rule passes vacuously.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};

use e2e::{venv_tool, workspace_root};
use serde_json::{Map, Value, json};
use shared::auth::{GROUPS, route};

/// Both shapes of one template.
struct Template {
    written: Value,
    transformed: Value,
}

type Rule = (&'static str, fn(&Template) -> Vec<String>);

/// Every rule, by the name a violation is reported under.
const RULES: &[Rule] = &[
    (
        "every route but /health and the legacy return page needs the bearer token",
        routes_need_the_token,
    ),
    (
        "each route in a token group, at the path the authorizer allows",
        routes_are_token_scopes,
    ),
    (
        "authorizer cache lifetime from AuthorizerCacheSeconds",
        authorizer_cache_from_parameter,
    ),
    (
        "API callers only from AllowedSourceCidrs when it is set",
        optional_source_ip_policy,
    ),
    ("one function per capability", one_function_per_capability),
    (
        "the legacy return page is open and served by its page function",
        legacy_return_page,
    ),
    ("arm64 on provided.al2023", arm64_on_al2023),
    ("memory and timeout within the budget", memory_and_timeout),
    ("X-Ray tracing", tracing_on),
    (
        "a log group with retention per function",
        log_groups_with_retention,
    ),
    ("an errors alarm per function", errors_alarm_per_function),
    (
        "default log level not debug or trace",
        quiet_logs_by_default,
    ),
    ("no secret readable on Resource '*'", no_wildcard_secrets),
    ("each function reads only its secrets", only_needed_secrets),
    (
        "kms:Decrypt only via Secrets Manager",
        kms_via_secrets_manager,
    ),
    (
        "DynamoDB and SQS actions scoped, no broad managed policy",
        scoped_data_access,
    ),
    (
        "queues dead-letter after a few receives, batches fit one budget",
        dead_letter_and_redrive,
    ),
    ("an alarm on dead-letter depth", dead_letter_alarm),
    (
        "sends and passcode checks limited per user",
        per_user_limits,
    ),
    (
        "enrollment events only from the named producers",
        enrollment_from_named_producers,
    ),
    ("stage and route throttling", throttling),
    (
        "API Gateway's refusals in the product's error body",
        gateway_responses,
    ),
    ("optional WAF with a rate-based rule", optional_waf),
    (
        "optional reserved concurrency and API access logs without bodies",
        optional_concurrency_and_access_logs,
    ),
    (
        "parameters for secrets, KMS key, region and log level",
        parameters,
    ),
    ("outputs the API URL", outputs_api_url),
];

#[test]
fn the_template_keeps_every_deployment_rule() {
    let template = transform_file();
    let mut report = Vec::new();
    for (name, rule) in RULES {
        for violation in rule(&template) {
            report.push(format!("{name}: {violation}"));
        }
    }
    assert!(
        report.is_empty(),
        "template.yaml breaks {} rule(s):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn each_rule_notices_when_the_template_breaks_it() {
    let written = transform_file().written;
    type Breakage = (&'static str, &'static str, fn(&mut Value));
    let breakages: &[Breakage] = &[
        (
            "the return page gains the bearer-token authorizer",
            "the legacy return page is open and served by its page function",
            |t| {
                set(
                    t,
                    "/Resources/LegacyReturnPageFunction/Properties/Events/Api/Properties",
                    json!({
                        "RestApiId": { "Ref": "PingIdApi" },
                        "Method": "post",
                        "Path": RETURN_PAGE,
                        "Auth": { "Authorizer": "BearerToken" },
                    }),
                )
            },
        ),
        (
            "the return page's route is served by a capability's binary, without the page's CSP",
            "the legacy return page is open and served by its page function",
            |t| {
                set(
                    t,
                    "/Resources/LegacyReturnPageFunction/Properties/CodeUri",
                    json!("target/lambda/initialize-mfa/"),
                )
            },
        ),
        (
            "a capability route is opened like the return page",
            "every route but /health and the legacy return page needs the bearer token",
            |t| {
                remove(
                    t,
                    "/Resources/InitializeMfaFunction/Properties/Events/Api/Properties/Auth",
                )
            },
        ),
        (
            "validateOtp may not count passcode checks",
            "sends and passcode checks limited per user",
            |t| {
                remove(
                    t,
                    "/Resources/ValidateOtpDeviceAuthenticationFunction/Properties/Policies/1",
                )
            },
        ),
        (
            "pushes are unlimited by default",
            "sends and passcode checks limited per user",
            |t| set(t, "/Parameters/PushLimit/Default", json!("off")),
        ),
        (
            "one-time devices send anywhere by default",
            "sends and passcode checks limited per user",
            |t| set(t, "/Parameters/OneTimeDestinations/Default", json!("any")),
        ),
        (
            "the enrollment rule listens on the account's default bus",
            "enrollment events only from the named producers",
            |t| remove(t, "/Resources/EnrollmentRule/Properties/EventBusName"),
        ),
        (
            "the enrollment bus takes events from anyone",
            "enrollment events only from the named producers",
            |t| remove(t, "/Resources/EnrollmentBusPolicy"),
        ),
        (
            "the enrollment queue takes messages from anyone of the account",
            "enrollment events only from the named producers",
            |t| {
                remove(
                    t,
                    "/Resources/EnrollmentQueuePolicy/Properties/PolicyDocument/Statement/1",
                )
            },
        ),
        (
            "the queue's deny spares the whole account",
            "enrollment events only from the named producers",
            |t| {
                let deny = "/Resources/EnrollmentQueuePolicy/Properties/PolicyDocument/Statement/1";
                t.pointer_mut(deny).expect("the deny")["Condition"]["StringNotEquals"] =
                    json!({ "aws:PrincipalAccount": { "Ref": "AWS::AccountId" } });
            },
        ),
        (
            "readDevice's route loses its authorizer",
            "every route but /health and the legacy return page needs the bearer token",
            |t| {
                remove(
                    t,
                    "/Resources/ReadDeviceFunction/Properties/Events/Api/Properties/Auth",
                )
            },
        ),
        (
            "readDevice moves to a path the authorizer does not allow",
            "each route in a token group, at the path the authorizer allows",
            |t| {
                set(
                    t,
                    "/Resources/ReadDeviceFunction/Properties/Events/Api/Properties/Path",
                    json!("/v1/pingid/devices/readDevice"),
                )
            },
        ),
        (
            "the authorizer cache lifetime is fixed in the template",
            "authorizer cache lifetime from AuthorizerCacheSeconds",
            |t| {
                set(
                    t,
                    "/Resources/PingIdApi/Properties/Auth/Authorizers/BearerToken/Identity/ReauthorizeEvery",
                    json!(300),
                )
            },
        ),
        (
            "AuthorizerCacheSeconds may exceed API Gateway's hour",
            "authorizer cache lifetime from AuthorizerCacheSeconds",
            |t| remove(t, "/Parameters/AuthorizerCacheSeconds/MaxValue"),
        ),
        (
            "the source-IP policy loses its deny",
            "API callers only from AllowedSourceCidrs when it is set",
            |t| {
                remove(
                    t,
                    "/Resources/PingIdApi/Properties/DefinitionBody/x-amazon-apigateway-policy/Fn::If/1/Statement/1",
                )
            },
        ),
        (
            "the source-IP policy applies even when AllowedSourceCidrs is empty",
            "API callers only from AllowedSourceCidrs when it is set",
            |t| {
                let policy =
                    "/Resources/PingIdApi/Properties/DefinitionBody/x-amazon-apigateway-policy";
                let always = t
                    .pointer(&format!("{policy}/Fn::If/1"))
                    .expect("the policy")
                    .clone();
                set(t, policy, always);
            },
        ),
        (
            "a changed AllowedSourceCidrs does not reach the stage",
            "API callers only from AllowedSourceCidrs when it is set",
            |t| remove(t, "/Resources/PingIdApi/Properties/AlwaysDeploy"),
        ),
        (
            "a function is dropped",
            "one function per capability",
            |t| remove(t, "/Resources/ReadPairingKeyFunction"),
        ),
        (
            "a function points at the repository instead of its artifact",
            "one function per capability",
            |t| {
                set(
                    t,
                    "/Resources/ReadDeviceFunction/Properties/CodeUri",
                    json!("."),
                )
            },
        ),
        (
            "a function goes back to a per-function sam build",
            "one function per capability",
            |t| {
                t["Resources"]["ReadDeviceFunction"]["Metadata"] =
                    json!({ "BuildMethod": "rust-cargolambda" });
            },
        ),
        (
            "the default architecture becomes x86_64",
            "arm64 on provided.al2023",
            |t| set(t, "/Parameters/Architecture/Default", json!("x86_64")),
        ),
        (
            "the timeout drops under the 5 s budget",
            "memory and timeout within the budget",
            |t| set(t, "/Globals/Function/Timeout", json!(3)),
        ),
        ("tracing passes through", "X-Ray tracing", |t| {
            set(t, "/Globals/Function/Tracing", json!("PassThrough"))
        }),
        (
            "a log group keeps logs forever",
            "a log group with retention per function",
            |t| remove(t, "/Resources/ReadDeviceLogs/Properties/RetentionInDays"),
        ),
        (
            "the authorizer's configuration error answers in API Gateway's own body",
            "API Gateway's refusals in the product's error body",
            |t| {
                remove(
                    t,
                    "/Resources/PingIdApi/Properties/GatewayResponses/AUTHORIZER_CONFIGURATION_ERROR",
                )
            },
        ),
        (
            "the enrollment batch grows past what the adapter answers at once",
            "queues dead-letter after a few receives, batches fit one budget",
            |t| {
                set(
                    t,
                    "/Resources/EnrollmentSource/Properties/BatchSize",
                    json!(25),
                )
            },
        ),
        (
            "reserved concurrency is dropped",
            "optional reserved concurrency and API access logs without bodies",
            |t| remove(t, "/Globals/Function/ReservedConcurrentExecutions"),
        ),
        (
            "access log lines carry the request",
            "optional reserved concurrency and API access logs without bodies",
            |t| {
                let format = "/Resources/PingIdApi/Properties/AccessLogSetting/Fn::If/1/Format";
                set(t, format, json!("$context.requestId $input.body"))
            },
        ),
        (
            "test mode (passcodes in answers) is on by default",
            "parameters for secrets, KMS key, region and log level",
            |t| set(t, "/Parameters/AllowTestMode/Default", json!("true")),
        ),
        (
            "enrollment events may create ACTIVE devices by default",
            "parameters for secrets, KMS key, region and log level",
            |t| {
                set(
                    t,
                    "/Parameters/AllowActiveEnrollmentFromEvents/Default",
                    json!("true"),
                )
            },
        ),
        ("an alarm is dropped", "an errors alarm per function", |t| {
            remove(t, "/Resources/DeleteDeviceErrors")
        }),
        (
            "the default log level is debug",
            "default log level not debug or trace",
            |t| set(t, "/Parameters/LogLevel/Default", json!("debug")),
        ),
        (
            "the connection secret policy grants '*'",
            "no secret readable on Resource '*'",
            |t| {
                set(
                    t,
                    "/Resources/PingOneConnectionReadPolicy/Properties/PolicyDocument/Statement/0/Resource",
                    json!("*"),
                )
            },
        ),
        (
            "readDevice may also read the API tokens",
            "each function reads only its secrets",
            |t| {
                let policies = t
                    .pointer_mut("/Resources/ReadDeviceFunction/Properties/Policies")
                    .and_then(Value::as_array_mut)
                    .expect("readDevice has policies");
                policies.push(json!({"Ref": "ApiTokensReadPolicy"}));
            },
        ),
        (
            "kms:Decrypt loses its kms:ViaService condition",
            "kms:Decrypt only via Secrets Manager",
            |t| {
                remove(
                    t,
                    "/Resources/PingOneConnectionReadPolicy/Properties/PolicyDocument/Statement/1/Fn::If/1/Condition",
                )
            },
        ),
        (
            "the queue consumer may read every queue",
            "DynamoDB and SQS actions scoped, no broad managed policy",
            |t| {
                set(
                    t,
                    "/Resources/EnrollmentQueueConsumePolicy/Properties/PolicyDocument/Statement/0/Resource",
                    json!("*"),
                )
            },
        ),
        (
            "the queue loses its redrive policy",
            "queues dead-letter after a few receives, batches fit one budget",
            |t| remove(t, "/Resources/EnrollmentQueue/Properties/RedrivePolicy"),
        ),
        (
            "the dead-letter alarm is dropped",
            "an alarm on dead-letter depth",
            |t| remove(t, "/Resources/EnrollmentDeadLetterQueueDepth"),
        ),
        (
            "the OTP route loses its own throttling",
            "stage and route throttling",
            |t| {
                let settings = t
                    .pointer_mut("/Resources/PingIdApi/Properties/MethodSettings")
                    .and_then(Value::as_array_mut)
                    .expect("the API has method settings");
                settings.retain(|s| {
                    !s["ResourcePath"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("validateOtp")
                });
            },
        ),
        (
            "the web ACL loses its rate-based rule",
            "optional WAF with a rate-based rule",
            |t| set(t, "/Resources/WebAcl/Properties/Rules", json!([])),
        ),
        (
            "the KMS key parameter is dropped",
            "parameters for secrets, KMS key, region and log level",
            |t| remove(t, "/Parameters/SecretsKmsKeyArn"),
        ),
        (
            "the API URL output is dropped",
            "outputs the API URL",
            |t| remove(t, "/Outputs/ApiUrl"),
        ),
    ];
    let covered: BTreeSet<&str> = breakages.iter().map(|(_, rule, _)| *rule).collect();
    let all: BTreeSet<&str> = RULES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        covered, all,
        "every rule has a breakage that proves it can fail"
    );

    let variants: Vec<Value> = breakages
        .iter()
        .map(|(_, _, breakage)| {
            let mut variant = written.clone();
            breakage(&mut variant);
            variant
        })
        .collect();
    let transformed = transform_many(&variants);
    for ((what, expected, _), template) in breakages.iter().zip(transformed) {
        let noticed: Vec<&str> = RULES
            .iter()
            .filter(|(_, rule)| !rule(&template).is_empty())
            .map(|(name, _)| *name)
            .collect();
        assert!(
            noticed.contains(expected),
            "when {what}, the rule \"{expected}\" should notice; noticed: {noticed:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The rules

fn routes_need_the_token(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let body = &t.transformed["Resources"]["PingIdApi"]["Properties"]["Body"];
    let Some(paths) = body["paths"].as_object() else {
        return vec!["the API has no paths".into()];
    };
    for (path, methods) in paths {
        for (method, operation) in methods.as_object().into_iter().flatten() {
            let operation = unless_condition(operation);
            let security = &operation["security"];
            if (path == "/health" && method == "get") || (path == RETURN_PAGE && method == "post") {
                // The two routes a caller without a token reaches: the liveness probe, and the
                // page a browser posts the PPM response to (its own rule checks the rest).
                if !security.is_null() && security != &json!([]) {
                    problems.push(format!(
                        "{} {path} must be open, has {security}",
                        method.to_uppercase()
                    ));
                }
            } else if security != &json!([{ "BearerToken": [] }]) {
                problems.push(format!(
                    "{} {path} does not require BearerToken (security {security})",
                    method.to_uppercase()
                ));
            }
        }
    }
    if !paths.contains_key("/health") {
        problems.push("no GET /health".into());
    }
    let scheme = &body["components"]["securitySchemes"]["BearerToken"];
    let authorizer = &scheme["x-amazon-apigateway-authorizer"];
    if authorizer["type"] != "token"
        || scheme["name"] != "Authorization"
        || !authorizer["authorizerUri"]
            .to_string()
            .contains("\"ApiAuthorizerFunction\",\"Arn\"")
    {
        problems.push(format!(
            "BearerToken must be a TOKEN authorizer on the Authorization header backed by ApiAuthorizerFunction: {scheme}"
        ));
    }
    problems
}

/// The authorizer allows a scoped token `POST` on `shared::auth::route(capability)` of each
/// capability of its groups: a route elsewhere would be refused to every scoped token, and a
/// capability in no group could be given to none.
fn routes_are_token_scopes(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let paths: BTreeSet<&str> =
        t.transformed["Resources"]["PingIdApi"]["Properties"]["Body"]["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, _)| path.as_str())
            .filter(|path| *path != "/health" && *path != RETURN_PAGE)
            .collect();
    let grouped: BTreeSet<&str> = GROUPS
        .iter()
        .flat_map(|(_, ids)| ids.iter().copied())
        .collect();
    for path in &paths {
        let id = path.rsplit('/').next().unwrap_or_default();
        if !grouped.contains(id) {
            problems.push(format!("{path}: {id} is in no token group"));
        } else if route(id) != *path {
            problems.push(format!(
                "{path}: the authorizer allows {id} at {}",
                route(id)
            ));
        }
    }
    for id in grouped {
        if !paths.contains(route(id).as_str()) {
            problems.push(format!("no route {} for {id}", route(id)));
        }
    }
    problems
}

/// API Gateway keeps the authorizer's answer per token `AuthorizerCacheSeconds` (0–3600, its
/// own bounds), which is how long a revoked or narrowed token keeps working: the operator's
/// choice, not the template's.
fn authorizer_cache_from_parameter(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let parameter = &t.written["Parameters"]["AuthorizerCacheSeconds"];
    if parameter["Type"] != "Number"
        || parameter["Default"] != 300
        || parameter["MinValue"] != 0
        || parameter["MaxValue"] != 3600
    {
        problems.push(format!(
            "AuthorizerCacheSeconds must be a Number 0–3600, default 300: {parameter}"
        ));
    }
    let written = &t.written["Resources"]["PingIdApi"]["Properties"]["Auth"]["Authorizers"]["BearerToken"]
        ["Identity"]["ReauthorizeEvery"];
    if *written != json!({ "Ref": "AuthorizerCacheSeconds" }) {
        problems.push(format!(
            "ReauthorizeEvery must be AuthorizerCacheSeconds, not {written}"
        ));
    }
    let ttl = &t.transformed["Resources"]["PingIdApi"]["Properties"]["Body"]["components"]["securitySchemes"]
        ["BearerToken"]["x-amazon-apigateway-authorizer"]["authorizerResultTtlInSeconds"];
    if *ttl != parameter["Default"] {
        problems.push(format!(
            "the deployed authorizer's TTL is {ttl}, not AuthorizerCacheSeconds"
        ));
    }
    problems
}

/// With `AllowedSourceCidrs`, API Gateway refuses every other address before the authorizer
/// runs; without it (the default) there is no resource policy at all. The stage is redeployed
/// on every update, since SAM's own redeploy trigger cannot see the parameter's value.
fn optional_source_ip_policy(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let parameter = &t.written["Parameters"]["AllowedSourceCidrs"];
    if parameter["Type"] != "CommaDelimitedList" || parameter["Default"] != "" {
        problems.push(format!(
            "AllowedSourceCidrs must be a CommaDelimitedList, empty by default: {parameter}"
        ));
    }
    let condition = &t.written["Conditions"]["HasSourceCidrs"];
    if *condition
        != json!({ "Fn::Not": [{ "Fn::Equals": [
            { "Fn::Join": [",", { "Ref": "AllowedSourceCidrs" }] }, ""] }] })
    {
        problems.push(format!(
            "HasSourceCidrs must say whether AllowedSourceCidrs is set: {condition}"
        ));
    }
    let api = &t.transformed["Resources"]["PingIdApi"]["Properties"];
    let policy = &api["Body"]["x-amazon-apigateway-policy"]["Fn::If"];
    if policy[0] != "HasSourceCidrs" || policy[2] != json!({ "Ref": "AWS::NoValue" }) {
        problems.push(format!(
            "the API's resource policy must exist only with HasSourceCidrs: {policy}"
        ));
    }
    let invoke_all = |statement: &Value, effect: &str| {
        statement["Effect"] == effect
            && statement["Principal"] == "*"
            && actions(statement).eq(["execute-api:Invoke"])
            && statement["Resource"] == "execute-api:/*"
    };
    let statements = policy[1]["Statement"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let allow = statements
        .iter()
        .any(|s| invoke_all(s, "Allow") && s["Condition"].is_null());
    let deny_others = statements.iter().any(|s| {
        invoke_all(s, "Deny")
            && s["Condition"]
                == json!({ "NotIpAddress": { "aws:SourceIp": { "Ref": "AllowedSourceCidrs" } } })
    });
    if !allow || !deny_others {
        problems.push(format!(
            "the resource policy must allow invoking and deny it from outside AllowedSourceCidrs: {}",
            policy[1]
        ));
    }
    if t.written["Resources"]["PingIdApi"]["Properties"]["AlwaysDeploy"] != true {
        problems.push(
            "without AlwaysDeploy a changed AllowedSourceCidrs never reaches the stage".into(),
        );
    }
    problems
}

fn one_function_per_capability(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let crates: BTreeSet<String> = std::fs::read_dir(workspace_root().join("functions"))
        .expect("functions/ is readable")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let mut binaries = BTreeMap::new();
    for (logical, function) in functions(&t.written) {
        // `make build` leaves each binary's artifact in target/lambda/<binary>/ (cargo-lambda's
        // layout), and `sam deploy` zips the function's CodeUri.
        let code_uri = function["Properties"]["CodeUri"]
            .as_str()
            .unwrap_or_default();
        let Some(binary) = code_uri
            .strip_prefix("target/lambda/")
            .and_then(|rest| rest.strip_suffix('/'))
            .map(str::to_string)
        else {
            problems.push(format!(
                "{logical}'s CodeUri must be target/lambda/<binary>/, not {code_uri:?}"
            ));
            continue;
        };
        if !function["Metadata"].is_null() {
            problems.push(format!(
                "{logical} has build Metadata: make build builds every function at once"
            ));
        }
        if let Some(other) = binaries.insert(binary.clone(), logical.clone()) {
            problems.push(format!("{logical} and {other} both run {binary}"));
        }
        let events = function["Properties"]["Events"].as_object();
        let routes: Vec<&Value> = events
            .into_iter()
            .flatten()
            .filter(|(_, event)| event["Type"] == "Api")
            .map(|(_, event)| &event["Properties"])
            .collect();
        // The authorizer has no route; the return page has its own (a rule of its own checks it).
        let expected_routes = usize::from(binary != "api-authorizer");
        if routes.len() != expected_routes
            || routes.iter().any(|route| {
                route["Method"] != "post"
                    || !route["Path"].as_str().is_some_and(|path| {
                        path.starts_with("/v1/pingid/")
                            || path.starts_with("/v1/pingid-legacy/")
                            || path.starts_with("/v1/journeys/")
                    })
            })
        {
            problems.push(format!(
                "{logical} must have {expected_routes} POST /v1/pingid[-legacy]/<capability> or /v1/journeys/<journey> route(s)"
            ));
        }
    }
    let built: BTreeSet<String> = binaries.into_keys().collect();
    for missing in crates.difference(&built) {
        problems.push(format!(
            "functions/{missing} has no function in the template"
        ));
    }
    for extra in built.difference(&crates) {
        problems.push(format!("binary {extra} has no crate under functions/"));
    }
    problems
}

/// The path of the legacy return page (`legacy_return_page::PATH`).
const RETURN_PAGE: &str = "/v1/pingid-legacy/return";

/// The legacy return page is reached by a browser, which has no bearer token: its one route is
/// open, and it is exactly the `legacy-return-page` binary behind it, whose every answer carries
/// the strict Content-Security-Policy (its own tests check the header). Another function behind
/// the open route would answer without that policy, or answer a capability without the token;
/// the authorizer on it would refuse every browser, and the loop would never complete.
fn legacy_return_page(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let function = &t.written["Resources"]["LegacyReturnPageFunction"];
    if function["Properties"]["CodeUri"] != "target/lambda/legacy-return-page/" {
        problems.push(format!(
            "LegacyReturnPageFunction must run the legacy-return-page binary (the page with the CSP), runs {}",
            function["Properties"]["CodeUri"]
        ));
    }
    let route = &function["Properties"]["Events"]["Api"]["Properties"];
    if route["Path"] != RETURN_PAGE || route["Method"] != "post" {
        problems.push(format!(
            "the return page's route must be POST {RETURN_PAGE}: {route}"
        ));
    }
    if !route["Auth"].is_null() {
        problems.push(format!(
            "the return page's route must have no authorizer (a browser has no token): {}",
            route["Auth"]
        ));
    }
    let paths = &t.transformed["Resources"]["PingIdApi"]["Properties"]["Body"]["paths"];
    let operation = unless_condition(&paths[RETURN_PAGE]["post"]);
    let security = &operation["security"];
    if operation.is_null() {
        problems.push(format!("the API has no POST {RETURN_PAGE}"));
    } else if !security.is_null() && security != &json!([]) {
        problems.push(format!("POST {RETURN_PAGE} requires {security}"));
    }
    let integration = operation["x-amazon-apigateway-integration"]["uri"].to_string();
    if !integration.contains("LegacyReturnPageFunction.Arn") {
        problems.push(format!(
            "POST {RETURN_PAGE} must invoke LegacyReturnPageFunction, invokes {integration}"
        ));
    }
    let output = t.written["Outputs"]["LegacyReturnPageUrl"]["Value"].to_string();
    if !output.contains("PingIdApi") || !output.contains(RETURN_PAGE) {
        problems.push(format!(
            "no LegacyReturnPageUrl output naming the page: {output}"
        ));
    }
    problems
}

fn arm64_on_al2023(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let globals = &t.written["Globals"]["Function"];
    if globals["Runtime"] != "provided.al2023" {
        problems.push(format!("runtime {}", globals["Runtime"]));
    }
    if globals["Architectures"] != json!([{ "Ref": "Architecture" }])
        || t.written["Parameters"]["Architecture"]["Default"] != "arm64"
    {
        problems.push("architecture must be the Architecture parameter, arm64 by default".into());
    }
    for (logical, function) in functions(&t.written) {
        for key in ["Runtime", "Architectures"] {
            if !function["Properties"][key].is_null() {
                problems.push(format!("{logical} overrides {key}"));
            }
        }
    }
    problems
}

fn memory_and_timeout(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    // shared::budget answers within 5 s; the function needs that plus init; API Gateway gives
    // up at 29 s.
    for (logical, function) in lambda_functions(&t.transformed) {
        let props = &function["Properties"];
        let memory = props["MemorySize"].as_u64().unwrap_or(0);
        let timeout = props["Timeout"].as_u64().unwrap_or(0);
        if !(128..=256).contains(&memory) {
            problems.push(format!(
                "{logical}: MemorySize {memory} (bench: peak RSS 14 MiB)"
            ));
        }
        let floor = if logical == "ApiAuthorizerFunction" {
            2
        } else {
            6
        };
        if !(floor..=29).contains(&timeout) {
            problems.push(format!(
                "{logical}: Timeout {timeout} outside {floor}..=29 s"
            ));
        }
    }
    problems
}

fn tracing_on(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    for (logical, function) in lambda_functions(&t.transformed) {
        if function["Properties"]["TracingConfig"]["Mode"] != "Active" {
            problems.push(format!("{logical} is not traced"));
        }
    }
    if t.written["Resources"]["PingIdApi"]["Properties"]["TracingEnabled"] != true {
        problems.push("the API stage is not traced".into());
    }
    problems
}

fn log_groups_with_retention(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let resources = &t.written["Resources"];
    for (logical, function) in functions(&t.written) {
        let group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"].as_str();
        let Some(group) = group else {
            problems.push(format!("{logical} has no log group of its own"));
            continue;
        };
        let resource = &resources[group];
        if resource["Type"] != "AWS::Logs::LogGroup" {
            problems.push(format!("{logical}: {group} is not a log group"));
        }
        if resource["Properties"]["RetentionInDays"].is_null() {
            problems.push(format!("{group} keeps logs forever"));
        }
        if resource["Condition"] != function["Condition"] {
            problems.push(format!("{group} is not deployed with {logical}"));
        }
    }
    problems
}

fn errors_alarm_per_function(t: &Template) -> Vec<String> {
    let alarmed: BTreeSet<String> = of_type(&t.written, "AWS::CloudWatch::Alarm")
        .filter(|(_, alarm)| {
            alarm["Properties"]["Namespace"] == "AWS/Lambda"
                && alarm["Properties"]["MetricName"] == "Errors"
        })
        .filter_map(|(_, alarm)| {
            alarm["Properties"]["Dimensions"][0]["Value"]["Ref"]
                .as_str()
                .map(String::from)
        })
        .collect();
    functions(&t.written)
        .filter(|(logical, _)| !alarmed.contains(logical.as_str()))
        .map(|(logical, _)| format!("{logical} has no Errors alarm"))
        .collect()
}

fn quiet_logs_by_default(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let default = &t.written["Parameters"]["LogLevel"]["Default"];
    if default != "info" && default != "warn" && default != "error" {
        problems.push(format!("LogLevel defaults to {default}"));
    }
    for (logical, function) in lambda_functions(&t.transformed) {
        if !function["Properties"]["Environment"]["Variables"]["RUST_LOG"].is_null() {
            problems.push(format!(
                "{logical} sets RUST_LOG (it would lift the request signer's and HTTP stacks' log level)"
            ));
        }
    }
    problems
}

fn no_wildcard_secrets(t: &Template) -> Vec<String> {
    let resources = &t.transformed["Resources"];
    statements(&t.transformed)
        .into_iter()
        .filter(|(_, statement)| actions(statement).any(|a| a.starts_with("secretsmanager:")))
        .filter_map(|(owner, statement)| {
            let only_get = actions(&statement).all(|a| a == "secretsmanager:GetSecretValue");
            let resource = &statement["Resource"];
            // A secret the deployer names (an ARN parameter), or one the stack itself creates.
            let one_secret = resource["Ref"].as_str().is_some_and(|name| {
                name.ends_with("SecretArn")
                    || resources[name]["Type"] == "AWS::SecretsManager::Secret"
            });
            (!only_get || !one_secret).then(|| {
                format!(
                    "{owner}: {:?} on {resource} (want GetSecretValue on one secret: an ARN parameter or the stack's own)",
                    actions(&statement).collect::<Vec<_>>()
                )
            })
        })
        .collect()
}

fn only_needed_secrets(t: &Template) -> Vec<String> {
    let resources = &t.transformed["Resources"];
    let mut problems = Vec::new();
    for (logical, function) in lambda_functions(&t.transformed) {
        let needed: BTreeSet<String> = function["Properties"]["Environment"]["Variables"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(name, _)| name.ends_with("_SECRET_ID"))
            .filter_map(|(_, value)| value["Ref"].as_str().map(String::from))
            .collect();
        let role = function["Properties"]["Role"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap_or_default();
        let mut readable = BTreeSet::new();
        for (_, statement) in role_statements(resources, role) {
            if actions(&statement).any(|a| a.starts_with("secretsmanager:"))
                && let Some(secret) = statement["Resource"]["Ref"].as_str()
            {
                readable.insert(secret.to_string());
            }
        }
        if readable != needed {
            problems.push(format!(
                "{logical} may read {readable:?} but its configuration names {needed:?}"
            ));
        }
    }
    problems
}

fn kms_via_secrets_manager(t: &Template) -> Vec<String> {
    statements(&t.transformed)
        .into_iter()
        .filter(|(_, statement)| actions(statement).any(|a| a.starts_with("kms:")))
        .filter_map(|(owner, statement)| {
            let via = statement["Condition"]["StringEquals"]["kms:ViaService"].to_string();
            let ok = actions(&statement).all(|a| a == "kms:Decrypt")
                && statement["Resource"] == json!({ "Ref": "SecretsKmsKeyArn" })
                && via.contains("secretsmanager.");
            (!ok).then(|| format!("{owner}: {statement}"))
        })
        .collect()
}

fn scoped_data_access(t: &Template) -> Vec<String> {
    let resources = &t.transformed["Resources"];
    let mut problems: Vec<String> = statements(&t.transformed)
        .into_iter()
        .filter(|(_, statement)| {
            actions(statement).any(|a| a.starts_with("dynamodb:") || a.starts_with("sqs:"))
        })
        .filter(|(_, statement)| statement["Effect"] == "Allow")
        // Resource policies (the queue's, for EventBridge) name a principal, not a function.
        .filter(|(_, statement)| statement.get("Principal").is_none())
        .filter_map(|(owner, statement)| {
            let target = statement["Resource"]["Fn::GetAtt"][0]
                .as_str()
                .unwrap_or("");
            let kind = resources[target]["Type"].as_str().unwrap_or("");
            let ok = matches!(kind, "AWS::DynamoDB::Table" | "AWS::SQS::Queue");
            (!ok).then(|| {
                format!(
                    "{owner}: {} on {}",
                    statement["Action"], statement["Resource"]
                )
            })
        })
        .collect();
    // AWS's managed policies a function may carry: logging and X-Ray (neither has a resource
    // to scope to). SAM's SQS event would add AWSLambdaSQSQueueExecutionRole (every queue).
    const ALLOWED: &[&str] = &[
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    ];
    for (logical, role) in of_type(&t.transformed, "AWS::IAM::Role") {
        for arn in role["Properties"]["ManagedPolicyArns"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(arn) = arn.as_str()
                && !ALLOWED.contains(&arn)
            {
                problems.push(format!("{logical} carries {arn}"));
            }
        }
    }
    problems
}

fn dead_letter_and_redrive(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let resources = &t.written["Resources"];
    let targets: BTreeSet<String> = of_type(&t.written, "AWS::SQS::Queue")
        .filter_map(|(_, queue)| {
            queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                .as_str()
                .map(String::from)
        })
        .collect();
    let consumed: Vec<(String, &Value)> =
        of_type(&t.written, "AWS::Lambda::EventSourceMapping").collect();
    for (logical, queue) in of_type(&t.written, "AWS::SQS::Queue") {
        if targets.contains(&logical) {
            let retention = queue["Properties"]["MessageRetentionPeriod"].as_u64();
            if retention != Some(14 * 24 * 3600) {
                problems.push(format!(
                    "dead-letter queue {logical} keeps records {retention:?} s, not 14 days"
                ));
            }
            continue;
        }
        let redrive = &queue["Properties"]["RedrivePolicy"];
        let target = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            .as_str()
            .unwrap_or("");
        let receives = redrive["maxReceiveCount"].as_u64().unwrap_or(0);
        if resources[target]["Type"] != "AWS::SQS::Queue" || !(1..=5).contains(&receives) {
            problems.push(format!(
                "{logical} must redrive to a dead-letter queue after 1-5 receives: {redrive}"
            ));
        }
        for (mapping, source) in &consumed {
            let props = &source["Properties"];
            if props["EventSourceArn"]["Fn::GetAtt"][0] != logical.as_str() {
                continue;
            }
            if props["FunctionResponseTypes"] != json!(["ReportBatchItemFailures"]) {
                problems.push(format!("{mapping} does not report partial batch failures"));
            }
            // The adapter answers up to MAX_CONCURRENT_RECORDS records at once, each within one
            // time budget: a larger batch would take several budgets, past the function's timeout.
            let batch = props["BatchSize"].as_u64().unwrap_or(10);
            if batch > shared::lambda::MAX_CONCURRENT_RECORDS as u64 {
                problems.push(format!(
                    "{mapping}: a batch of {batch} is more than the {} records answered at once",
                    shared::lambda::MAX_CONCURRENT_RECORDS
                ));
            }
            let function = props["FunctionName"]["Ref"].as_str().unwrap_or("");
            let timeout = resources[function]["Properties"]["Timeout"]
                .as_u64()
                .or_else(|| t.written["Globals"]["Function"]["Timeout"].as_u64())
                .unwrap_or(0);
            let visibility = queue["Properties"]["VisibilityTimeout"]
                .as_u64()
                .unwrap_or(30);
            if visibility < 6 * timeout {
                problems.push(format!(
                    "{logical}: visibility {visibility} s < 6 × {function}'s {timeout} s"
                ));
            }
        }
    }
    if targets.is_empty() {
        problems.push("no queue has a dead-letter queue".into());
    }
    problems
}

/// Sends and passcode checks are counted per user in one table every instance shares: the
/// functions that send or check may update it (and nothing else may do more), and each limit is
/// a parameter with the documented default.
fn per_user_limits(t: &Template) -> Vec<String> {
    const COUNTING: [&str; 8] = [
        "ActivateDeviceFunction",
        "AuthenticationJourneyFunction",
        "DeviceRegistrationJourneyFunction",
        "CreateDeviceAuthenticationPingIDFunction",
        "DeviceSelectDeviceAuthenticationFunction",
        "ValidateOtpDeviceAuthenticationFunction",
        "ResendOTPForPairingFunction",
        "CreateDevicePingIDFunction",
    ];
    let mut problems = Vec::new();
    let resources = &t.written["Resources"];
    let env = &t.written["Globals"]["Function"]["Environment"]["Variables"];
    let table = &resources["UserLimitsTable"];
    if table["Type"] != "AWS::DynamoDB::Table"
        || table["Properties"]["TimeToLiveSpecification"]
            != json!({ "AttributeName": "expiresAt", "Enabled": true })
        || env["PINGID_LIMITS_TABLE"] != json!({ "Ref": "UserLimitsTable" })
    {
        problems.push("no UserLimitsTable with an expiresAt TTL given to the functions".into());
    }
    for (parameter, default, variable) in [
        ("PushLimit", "3/300", "PINGID_LIMIT_PUSHES"),
        ("SmsVoiceLimit", "5/3600", "PINGID_LIMIT_SMS_VOICE"),
        ("EmailLimit", "10/3600", "PINGID_LIMIT_EMAILS"),
        ("OtpCheckLimit", "10/900", "PINGID_LIMIT_OTP_CHECKS"),
        (
            "OneTimeDestinations",
            "profile",
            "PINGID_ONE_TIME_DESTINATIONS",
        ),
    ] {
        if t.written["Parameters"][parameter]["Default"] != default
            || env[variable] != json!({ "Ref": parameter })
        {
            problems.push(format!(
                "{variable} is not parameter {parameter}, default {default}"
            ));
        }
    }
    let counts = json!({ "Ref": "UserLimitsPolicy" });
    for function in COUNTING {
        let policies = &resources[function]["Properties"]["Policies"];
        if !policies.as_array().is_some_and(|all| all.contains(&counts)) {
            problems.push(format!("{function} may not count in UserLimitsTable"));
        }
    }
    let statement = json!({ "Effect": "Allow", "Action": "dynamodb:UpdateItem",
        "Resource": { "Fn::GetAtt": ["UserLimitsTable", "Arn"] } });
    if resources["UserLimitsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        != json!([statement])
    {
        problems.push("UserLimitsPolicy grants more than UpdateItem on the table".into());
    }
    problems
}

/// A queue consumed by a function (an enrollment) is written to by one EventBridge rule on a bus
/// of the stack's own, and by the principals of `EnrollmentProducerArns`: the queue's policy and
/// the bus's deny everyone else (an IAM Allow elsewhere in the account cannot override a Deny).
fn enrollment_from_named_producers(t: &Template) -> Vec<String> {
    const PRODUCERS: &str = "EnrollmentProducerArns";
    let mut problems = Vec::new();
    let resources = &t.written["Resources"];
    let producers = json!({ "Ref": PRODUCERS });
    if t.written["Parameters"][PRODUCERS]["Type"] != "CommaDelimitedList" {
        problems.push(format!("no CommaDelimitedList parameter {PRODUCERS}"));
    }
    let consumed: BTreeSet<String> = of_type(&t.written, "AWS::Lambda::EventSourceMapping")
        .filter_map(|(_, m)| m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0].as_str())
        .map(String::from)
        .collect();
    for queue in &consumed {
        let rules: Vec<(String, &Value)> = of_type(&t.written, "AWS::Events::Rule")
            .filter(|(_, rule)| {
                rule["Properties"]["Targets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|target| target["Arn"]["Fn::GetAtt"][0] == queue.as_str())
            })
            .collect();
        for (rule, definition) in &rules {
            let bus = definition["Properties"]["EventBusName"]["Ref"]
                .as_str()
                .unwrap_or("");
            if resources[bus]["Type"] != "AWS::Events::EventBus" {
                problems.push(format!(
                    "{rule} listens on a bus that is not the stack's own"
                ));
                continue;
            }
            let denied = of_type(&t.written, "AWS::Events::EventBusPolicy").any(|(_, policy)| {
                let props = &policy["Properties"];
                let statement = &props["Statement"];
                props["EventBusName"]["Ref"] == bus
                    && statement["Effect"] == "Deny"
                    && statement["Principal"] == "*"
                    && statement["Action"] == "events:PutEvents"
                    && statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == producers
            });
            if !denied {
                problems.push(format!(
                    "{bus} does not deny events:PutEvents to all but {PRODUCERS}"
                ));
            }
        }
        let rule_arns: Vec<Value> = rules
            .iter()
            .map(|(rule, _)| json!({ "Fn::GetAtt": [rule, "Arn"] }))
            .collect();
        let denied = of_type(&t.written, "AWS::SQS::QueuePolicy")
            .filter(|(_, policy)| {
                policy["Properties"]["Queues"]
                    .as_array()
                    .is_some_and(|queues| queues.contains(&json!({ "Ref": queue })))
            })
            .flat_map(|(_, policy)| {
                policy["Properties"]["PolicyDocument"]["Statement"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .any(|statement| {
                // Exactly these conditions: each one more would narrow whom the deny reaches.
                let mut spared = json!({ "ArnNotLike": { "aws:PrincipalArn": producers } });
                match rule_arns.as_slice() {
                    [] => {}
                    [one] => spared["ArnNotEquals"] = json!({ "aws:SourceArn": one }),
                    many => spared["ArnNotEquals"] = json!({ "aws:SourceArn": many }),
                }
                statement["Effect"] == "Deny"
                    && statement["Principal"] == "*"
                    && actions(&statement).any(|action| action == "sqs:SendMessage")
                    && statement["Condition"] == spared
            });
        if !denied {
            problems.push(format!(
                "{queue}'s policy does not deny sqs:SendMessage to all but its rule and {PRODUCERS}"
            ));
        }
    }
    problems
}

fn dead_letter_alarm(t: &Template) -> Vec<String> {
    let alarmed: BTreeSet<String> = of_type(&t.written, "AWS::CloudWatch::Alarm")
        .filter(|(_, alarm)| {
            alarm["Properties"]["Namespace"] == "AWS/SQS"
                && alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        })
        .filter_map(|(_, alarm)| {
            alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
                .as_str()
                .map(String::from)
        })
        .collect();
    of_type(&t.written, "AWS::SQS::Queue")
        .filter_map(|(_, queue)| {
            queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
                .as_str()
                .map(String::from)
        })
        .filter(|dlq| !alarmed.contains(dlq))
        .map(|dlq| format!("no depth alarm on {dlq}"))
        .collect()
}

fn throttling(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    let settings = t.written["Resources"]["PingIdApi"]["Properties"]["MethodSettings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let stage = settings
        .iter()
        .find(|s| s["ResourcePath"] == "/*" && s["HttpMethod"] == "*");
    match stage {
        Some(stage) => {
            if stage["ThrottlingRateLimit"].is_null() || stage["ThrottlingBurstLimit"].is_null() {
                problems.push("the stage has no throttling".into());
            }
            if stage["DataTraceEnabled"] != false {
                problems.push("execution logs with bodies must be off".into());
            }
        }
        None => problems.push("no stage-wide method settings".into()),
    }
    // The routes that check what a user typed or signed get their own, lower limits; so does
    // starting an authentication, which checks an OTP given up front, and finding a user,
    // which tells whether a typed username or address names someone.
    for capability in [
        "createDeviceAuthenticationPingID",
        "validateOtpDeviceAuthentication",
        "activateDevice",
        "validateAssertionDeviceAuthentication",
        "readUser",
    ] {
        let path = format!("/~1v1~1pingid~1{capability}");
        let route = settings.iter().find(|s| s["ResourcePath"] == path.as_str());
        if route.is_none_or(|r| {
            r["ThrottlingRateLimit"] != json!({ "Ref": "CheckThrottlingRateLimit" })
                || r["ThrottlingBurstLimit"] != json!({ "Ref": "CheckThrottlingBurstLimit" })
        }) {
            problems.push(format!("{capability} has no route throttling of its own"));
        }
    }
    problems
}

/// The refusals API Gateway answers itself, each of which must carry the product's error body.
const GATEWAY_RESPONSES: &[&str] = &[
    "UNAUTHORIZED",
    "ACCESS_DENIED",
    "THROTTLED",
    "WAF_FILTERED",
    "MISSING_AUTHENTICATION_TOKEN",
    "AUTHORIZER_FAILURE",
    "AUTHORIZER_CONFIGURATION_ERROR",
    "INTEGRATION_TIMEOUT",
    "DEFAULT_5XX",
];

fn gateway_responses(t: &Template) -> Vec<String> {
    let responses = &t.written["Resources"]["PingIdApi"]["Properties"]["GatewayResponses"];
    let mut problems = Vec::new();
    for kind in GATEWAY_RESPONSES {
        let response = &responses[*kind];
        let template = response["ResponseTemplates"]["application/json"]
            .as_str()
            .unwrap_or_default()
            .replace("$context.requestId", "req-1");
        let body: Value = serde_json::from_str(&template).unwrap_or(Value::Null);
        let fields = [
            "code",
            "message",
            "httpResponseCode",
            "details",
            "correlationId",
        ];
        if fields.iter().any(|field| body.get(field).is_none())
            || body["httpResponseCode"] != response["StatusCode"]
            || body["correlationId"] != "req-1"
        {
            problems.push(format!(
                "{kind} does not answer in the error body: {template:?}"
            ));
        }
    }
    problems
}

fn optional_concurrency_and_access_logs(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, default) in [
        ("ReservedConcurrency", json!(0)),
        ("EnableAccessLogs", json!("false")),
    ] {
        if t.written["Parameters"][name]["Default"] != default {
            problems.push(format!("no parameter {name} defaulting to {default}"));
        }
    }
    let reserved = &t.written["Globals"]["Function"]["ReservedConcurrentExecutions"];
    if *reserved
        != json!({ "Fn::If": ["HasReservedConcurrency", { "Ref": "ReservedConcurrency" },
            { "Ref": "AWS::NoValue" }] })
    {
        problems.push(format!(
            "functions do not take ReservedConcurrency: {reserved}"
        ));
    }
    let access = &t.written["Resources"]["PingIdApi"]["Properties"]["AccessLogSetting"]["Fn::If"];
    let format = access[1]["Format"].as_str().unwrap_or_default();
    if access[0] != "UseAccessLogs" || access[2] != json!({ "Ref": "AWS::NoValue" }) {
        problems.push("the API's access logs are not switched by EnableAccessLogs".into());
    } else if !format.contains("$context.requestId") {
        problems.push(format!("access log lines lack the request id: {format}"));
    }
    // A line must never hold a body, a header (the bearer token) or a query string.
    for leak in [
        "$input",
        "$context.authorizer.token",
        "requestOverride",
        "$method.request",
    ] {
        if format.contains(leak) {
            problems.push(format!("access log lines hold {leak}"));
        }
    }
    problems
}

fn optional_waf(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    if t.written["Parameters"]["EnableWaf"]["Default"] != "false" {
        problems.push("EnableWaf must be a parameter (off by default)".into());
    }
    let acl = &t.written["Resources"]["WebAcl"];
    let rate_rule = acl["Properties"]["Rules"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|rule| {
            rule["Statement"]["RateBasedStatement"]["Limit"] == json!({ "Ref": "WafRateLimit" })
                && rule["Action"]["Block"].is_object()
        });
    if acl["Condition"] != "UseWaf" || !rate_rule {
        problems.push("the web ACL must be conditional with a blocking rate-based rule".into());
    }
    let association = &t.written["Resources"]["WebAclAssociation"];
    if association["Condition"] != "UseWaf"
        || !association["Properties"]["ResourceArn"]
            .to_string()
            .contains("/stages/Prod")
    {
        problems.push("the web ACL must be associated with the API stage".into());
    }
    problems
}

fn parameters(t: &Template) -> Vec<String> {
    let mut problems = Vec::new();
    // An enrollment event creates an ACTIVE device only where the deployment says so.
    let allow = "AllowActiveEnrollmentFromEvents";
    let env = &t.written["Resources"]["CreateDevicePingIDFunction"]["Properties"]["Environment"]["Variables"]
        ["PINGID_ALLOW_ACTIVE_ENROLLMENT_FROM_EVENTS"];
    if t.written["Parameters"][allow]["Default"] != "false" || *env != json!({ "Ref": allow }) {
        problems.push(format!(
            "createDevicePingID does not take {allow}, default false"
        ));
    }
    // A passcode answered instead of sent is no second factor: test mode only where asked for.
    let test_mode = "AllowTestMode";
    let env = &t.written["Resources"]["CreateDeviceAuthenticationPingIDFunction"]["Properties"]["Environment"]
        ["Variables"]["PINGID_ALLOW_TEST_MODE"];
    if t.written["Parameters"][test_mode]["Default"] != "false"
        || *env != json!({ "Ref": test_mode })
    {
        problems.push(format!(
            "createDeviceAuthenticationPingID does not take {test_mode}, default false"
        ));
    }
    problems.extend(
        [
            "PingOneConnectionSecretArn",
            "ApiTokensSecretArn",
            "PingIdPropertiesSecretArn",
            "PingOneRegion",
            "SecretsKmsKeyArn",
            "LogLevel",
            "LogRetentionDays",
            "Architecture",
        ]
        .into_iter()
        .filter(|name| t.written["Parameters"][name].is_null())
        .map(|name| format!("no parameter {name}")),
    );
    problems
}

fn outputs_api_url(t: &Template) -> Vec<String> {
    let url = t.written["Outputs"]["ApiUrl"]["Value"].to_string();
    if url.contains("execute-api") && url.contains("PingIdApi") {
        Vec::new()
    } else {
        vec![format!("ApiUrl output missing or not the API's URL: {url}")]
    }
}

// ---------------------------------------------------------------------------------------------
// Reading templates

fn of_type<'a>(template: &'a Value, kind: &'a str) -> impl Iterator<Item = (String, &'a Value)> {
    template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(move |(_, resource)| resource["Type"] == kind)
        .map(|(logical, resource)| (logical.clone(), resource))
}

fn functions(template: &Value) -> impl Iterator<Item = (String, &Value)> {
    of_type(template, "AWS::Serverless::Function")
}

fn lambda_functions(template: &Value) -> impl Iterator<Item = (String, &Value)> {
    of_type(template, "AWS::Lambda::Function")
}

/// `Fn::If [condition, value, AWS::NoValue]` → value: what is deployed when the condition holds.
fn unless_condition(value: &Value) -> &Value {
    match value.get("Fn::If").and_then(Value::as_array) {
        Some(branches) if branches.len() == 3 => &branches[1],
        _ => value,
    }
}

/// Every IAM statement of the transformed template, with the resource it belongs to.
fn statements(template: &Value) -> Vec<(String, Value)> {
    let mut found = Vec::new();
    for (logical, resource) in template["Resources"].as_object().into_iter().flatten() {
        let props = &resource["Properties"];
        let mut documents = vec![&props["PolicyDocument"]];
        for policy in props["Policies"].as_array().into_iter().flatten() {
            documents.push(&policy["PolicyDocument"]);
        }
        for document in documents {
            for statement in document["Statement"].as_array().into_iter().flatten() {
                let statement = unless_condition(statement);
                if statement.is_object() {
                    found.push((logical.clone(), statement.clone()));
                }
            }
        }
    }
    found
}

/// The statements a role grants: its inline policies and the template's managed policies it
/// attaches.
fn role_statements(resources: &Value, role: &str) -> Vec<(String, Value)> {
    let mut owners = vec![role.to_string()];
    for arn in resources[role]["Properties"]["ManagedPolicyArns"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(policy) = arn["Ref"].as_str() {
            owners.push(policy.to_string());
        }
    }
    let only_owners: Map<String, Value> = owners
        .iter()
        .filter_map(|owner| resources.get(owner).map(|r| (owner.clone(), r.clone())))
        .collect();
    statements(&json!({ "Resources": only_owners }))
}

fn actions(statement: &Value) -> impl Iterator<Item = &str> {
    let action = &statement["Action"];
    let list: Vec<&str> = match action {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
}

fn remove(template: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a parent");
    let removed = match template.pointer_mut(parent) {
        Some(Value::Object(map)) => map.remove(key),
        Some(Value::Array(items)) => key
            .parse::<usize>()
            .ok()
            .filter(|index| *index < items.len())
            .map(|index| items.remove(index)),
        _ => None,
    };
    assert!(removed.is_some(), "{pointer} is not in the template");
}

fn set(template: &mut Value, pointer: &str, value: Value) {
    *template
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is not in the template")) = value;
}

// ---------------------------------------------------------------------------------------------
// SAM's translator

fn python() -> std::path::PathBuf {
    // SAM's translator comes with aws-sam-cli.
    venv_tool("python").unwrap_or_else(|e| panic!("{e}"))
}

fn transform_file() -> Template {
    let output = Command::new(python())
        .arg(workspace_root().join("tests/template/sam_transform.py"))
        .arg(workspace_root().join("template.yaml"))
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "SAM could not transform template.yaml:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    template_of(serde_json::from_slice(&output.stdout).expect("the transform prints JSON"))
}

fn transform_many(templates: &[Value]) -> Vec<Template> {
    let mut child = Command::new(python())
        .arg(workspace_root().join("tests/template/sam_transform.py"))
        .arg("--many")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(Value::Array(templates.to_vec()).to_string().as_bytes())
        .expect("the templates are written");
    let output = child.wait_with_output().expect("python finishes");
    assert!(
        output.status.success(),
        "SAM could not transform a variant:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let all: Value = serde_json::from_slice(&output.stdout).expect("the transform prints JSON");
    all.as_array()
        .expect("one answer per template")
        .iter()
        .cloned()
        .map(template_of)
        .collect()
}

fn template_of(both: Value) -> Template {
    Template {
        written: both["written"].clone(),
        transformed: both["transformed"].clone(),
    }
}
