//! Self-tests of the e2e harness, run against the `baseline-echo` binary and moto.

use e2e::{
    ApiRequest, FunctionProcess, Invocation, Moto, PLACEHOLDER_LIVE_ID, ProxyResponse,
    apigw_v1_event, apigw_v2_event, replace_in_strings,
};
use serde_json::json;

const ECHO: &str = "baseline-echo";

#[tokio::test]
async fn invoking_the_echo_function_returns_the_event() -> anyhow::Result<()> {
    // Given the echo function running against the Runtime API emulator
    let echo = FunctionProcess::spawn(ECHO, &[]).await?;
    let event = json!({"properties": {"userId": "a11ce000-0000-4000-8000-000000000001"}});

    // When it is invoked twice (the second time on the warm process)
    let first = echo.invoke(event.clone()).await?;
    let second = echo.invoke(json!([1, "two", null])).await?;

    // Then each invocation returns its own event
    assert_eq!(first, Invocation::Response(event));
    assert_eq!(second, Invocation::Response(json!([1, "two", null])));
    Ok(())
}

#[tokio::test]
async fn a_failed_invocation_reports_error_type_and_message() -> anyhow::Result<()> {
    let echo = FunctionProcess::spawn(ECHO, &[]).await?;

    let outcome = echo.invoke(json!({"echoError": "boom"})).await?;

    assert_eq!(outcome.into_error()?, ("EchoError".into(), "boom".into()));
    // And the process stays warm for the next event
    assert_eq!(echo.invoke(json!(7)).await?.into_response()?, json!(7));
    Ok(())
}

#[tokio::test]
async fn the_function_sees_lambda_environment_and_logs_json() -> anyhow::Result<()> {
    // `lambda_runtime` logs a JSON line per invocation at debug level when asked to.
    let echo = FunctionProcess::spawn(ECHO, &[("AWS_LAMBDA_LOG_LEVEL", "debug".into())]).await?;

    echo.invoke(json!({})).await?;

    let logs = echo.logs();
    assert!(
        logs.iter()
            .any(|line| serde_json::from_str::<serde_json::Value>(line).is_ok()),
        "expected JSON log lines, got {logs:?}"
    );
    assert!(
        echo.runtime_api()
            .function_arn()
            .ends_with(":function:baseline-echo")
    );
    Ok(())
}

#[tokio::test]
async fn a_missing_binary_names_the_build_command() {
    let error = FunctionProcess::spawn("no-such-function", &[])
        .await
        .err()
        .map(|error| error.to_string());

    assert!(
        error
            .as_deref()
            .is_some_and(|message| message.contains("cargo build --workspace --bins")),
        "unexpected outcome: {error:?}"
    );
}

#[tokio::test]
async fn api_gateway_events_round_trip_through_a_function() -> anyhow::Result<()> {
    let echo = FunctionProcess::spawn(ECHO, &[]).await?;
    let body =
        json!({"properties": {"userId": "alice", "deviceAuthenticationId": PLACEHOLDER_LIVE_ID}});

    let rest = apigw_v1_event(
        "/v1/pingid/readDeviceAuthentication",
        &body,
        &[("X-Test", "1")],
    );
    let http = apigw_v2_event(
        "/v1/pingid/readDeviceAuthentication",
        &body,
        &[("X-Test", "1")],
    );

    let rest_seen = echo.invoke(rest.clone()).await?.into_response()?;
    assert_eq!(rest_seen, rest);
    assert_eq!(rest["httpMethod"], "POST");
    assert_eq!(rest["headers"]["X-Test"], "1");
    assert_eq!(rest["multiValueHeaders"]["X-Test"], json!(["1"]));
    assert_eq!(rest["requestContext"]["stage"], "Prod");
    let http_seen = echo.invoke(http.clone()).await?.into_response()?;
    assert_eq!(
        http_seen["routeKey"],
        "POST /v1/pingid/readDeviceAuthentication"
    );
    assert_eq!(http_seen["headers"]["x-test"], "1");
    let sent: serde_json::Value = serde_json::from_str(http_seen["body"].as_str().unwrap_or(""))?;
    assert_eq!(sent, body);
    Ok(())
}

#[test]
fn placeholders_are_replaced_inside_encoded_bodies() -> anyhow::Result<()> {
    let body =
        json!({"properties": {"userId": "alice", "deviceAuthenticationId": PLACEHOLDER_LIVE_ID}});
    let mut event =
        ApiRequest::post_json("/v1/pingid/readDeviceAuthentication", &body).rest_event();

    replace_in_strings(&mut event, PLACEHOLDER_LIVE_ID, "live-id");

    let sent: serde_json::Value = serde_json::from_str(event["body"].as_str().unwrap_or(""))?;
    assert_eq!(sent["properties"]["deviceAuthenticationId"], "live-id");
    Ok(())
}

#[test]
fn proxy_responses_are_read_with_case_insensitive_headers() -> anyhow::Result<()> {
    let response = ProxyResponse::from_value(&json!({
        "statusCode": 400,
        "headers": {"Content-Type": "application/json"},
        "body": "{\"code\":\"VALIDATION_FAILED\"}"
    }))?;

    assert_eq!(response.status, 400);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json()?["code"], "VALIDATION_FAILED");
    Ok(())
}

#[tokio::test]
async fn a_moto_secret_round_trips() -> anyhow::Result<()> {
    // Given moto with a secret
    let moto = Moto::start().await?;
    let value = r#"{"envId":"e","clientId":"c","clientSecret":"s","region":"NA"}"#;
    let arn = moto.create_secret("pingone/connection", value).await?;
    assert!(
        arn.starts_with("arn:aws:secretsmanager:us-east-1:"),
        "{arn}"
    );

    // When it is read back by ARN, then the value is the one stored
    let read = moto
        .secrets_client()
        .get_secret_value()
        .secret_id(&arn)
        .version_stage("AWSCURRENT")
        .send()
        .await?;
    assert_eq!(read.secret_string(), Some(value));

    // And after a new value is put, readers see the new one
    moto.put_secret_value(&arn, "{}").await?;
    let read = moto
        .secrets_client()
        .get_secret_value()
        .secret_id(&arn)
        .version_stage("AWSCURRENT")
        .send()
        .await?;
    assert_eq!(read.secret_string(), Some("{}"));
    assert!(
        moto.aws_env()
            .iter()
            .any(|(name, value)| *name == "AWS_ENDPOINT_URL" && value == moto.endpoint())
    );
    Ok(())
}
