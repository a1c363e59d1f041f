//! `readUser` end to end: one PingOne user found by id, username or address, and every other
//! outcome (no user, two users, an injected filter clause) the same `404 NOT_FOUND`.

use crate::support;

use pingid_sim::demo;
use serde_json::{Value, json};
use support::{Stack, failed, ok};

/// The fields an error body's details name, in order.
fn fields(body: &Value) -> Vec<&str> {
    body["details"]
        .as_array()
        .expect("details")
        .iter()
        .map(|detail| detail["field"].as_str().expect("a field"))
        .collect()
}

/// The error body without what differs from call to call.
fn without_correlation(mut body: Value) -> Value {
    body.as_object_mut()
        .expect("an error body")
        .remove("correlationId");
    body
}

#[tokio::test]
async fn alice_is_found_by_each_key() {
    let stack = Stack::start().await;
    let read = stack.function("readUser").await;

    for (properties, matched) in [
        (json!({ "userId": demo::ALICE_ID }), "userId"),
        (json!({ "username": "alice" }), "username"),
        (json!({ "username": "ALICE" }), "username"),
        (json!({ "email": demo::ALICE_EMAIL }), "email"),
    ] {
        let output = ok(&read.call(properties.clone()).await);
        assert_eq!(output["matched"], matched, "{properties}");
        assert_eq!(
            output["user"],
            json!({
                "id": demo::ALICE_ID,
                "username": "alice",
                "email": demo::ALICE_EMAIL,
                "mobilePhone": demo::ALICE_PHONE,
                "name": { "given": "Alice", "family": "Anders", "formatted": "Alice Anders" },
            }),
            "{properties}"
        );
        assert_eq!(output["statusCode"], 200);
    }
}

#[tokio::test]
async fn no_user_and_two_users_give_the_same_answer() {
    let stack = Stack::start().await;
    let read = stack.function("readUser").await;

    // Given dave and erin, who share an address, and an address and a name nobody has
    let two = failed(
        &read.call(json!({ "email": demo::SHARED_EMAIL })).await,
        404,
        "NOT_FOUND",
    );
    let no_address = failed(
        &read.call(json!({ "email": "nobody@example.com" })).await,
        404,
        "NOT_FOUND",
    );
    let no_name = failed(
        &read.call(json!({ "username": "nobody" })).await,
        404,
        "NOT_FOUND",
    );
    let no_id = failed(
        &read
            .call(json!({ "userId": "00000000-0000-4000-8000-00000000dead" }))
            .await,
        404,
        "NOT_FOUND",
    );

    // then the answers cannot be told apart
    let two = without_correlation(two);
    for none in [no_address, no_name, no_id] {
        assert_eq!(without_correlation(none), two);
    }
    // while each of the two is found by name
    for (username, id) in [("dave", demo::DAVE_ID), ("erin", demo::ERIN_ID)] {
        let output = ok(&read.call(json!({ "username": username })).await);
        assert_eq!(output["user"]["id"], id);
        assert_eq!(output["user"]["email"], demo::SHARED_EMAIL);
    }
}

#[tokio::test]
async fn a_value_cannot_add_a_clause_to_the_filter() {
    let stack = Stack::start().await;
    let read = stack.function("readUser").await;

    // Unescaped, each would widen `username eq` to users whose name starts with "a" (alice) or
    // is bob; escaped, each is one odd username nobody has.
    for username in [
        r#"nobody" or username sw "a"#,
        r#"nobody\" or username eq "bob"#,
        r#"x") or (username eq "bob"#,
    ] {
        failed(
            &read.call(json!({ "username": username })).await,
            404,
            "NOT_FOUND",
        );
    }
    // Each went to PingOne as a filter it could parse (a filter it cannot parse is a 400, not
    // a 404): the values were accepted, escaped, and matched nobody.
    let stats = stack.sim_get("/_sim/stats").await;
    assert_eq!(stats["GET /v1/environments/{envId}/users"], 3, "{stats}");
}

#[tokio::test]
async fn one_key_exactly_and_each_offending_field_named() {
    let stack = Stack::start().await;
    let read = stack.function("readUser").await;

    let none = failed(&read.call(json!({})).await, 400, "VALIDATION_FAILED");
    assert_eq!(
        fields(&none),
        [
            "properties.userId",
            "properties.username",
            "properties.email"
        ]
    );

    let several = failed(
        &read
            .call(json!({ "userId": demo::ALICE_ID, "email": demo::ALICE_EMAIL }))
            .await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(fields(&several), ["properties.userId", "properties.email"]);

    let malformed = failed(
        &read.call(json!({ "email": "alice" })).await,
        400,
        "VALIDATION_FAILED",
    );
    assert_eq!(malformed["details"][0]["field"], "properties.email");
}
