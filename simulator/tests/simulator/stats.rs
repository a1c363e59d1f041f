//! Call counts per endpoint through `GET /_sim/stats`.

use pingid_sim::demo::{ALICE_ID, ENV_ID};
use serde_json::json;

use crate::support::Sim;

#[tokio::test]
async fn counts_calls_per_route_template() {
    let sim = Sim::start().await;
    let devices = sim.api_url(&format!("/users/{ALICE_ID}/devices"));
    sim.get(&devices).await; // also fetches the token
    sim.get(&devices).await;
    sim.http.get(&devices).send().await.expect("answered"); // rejected, still counted
    let auth = sim.start_auth(json!({ "user": { "id": ALICE_ID } })).await;
    sim.read_auth(&auth).await;
    sim.push(&auth, "APPROVE").await; // control API: not counted

    let stats = sim.stats().await;

    assert_eq!(
        stats,
        json!({
            "POST /{envId}/as/token": 1,
            "GET /v1/environments/{envId}/users/{userId}/devices": 3,
            "POST /{envId}/deviceAuthentications": 1,
            "GET /{envId}/deviceAuthentications/{deviceAuthenticationId}": 1,
        })
    );
    assert!(
        !stats.to_string().contains(ENV_ID),
        "keys are templates, not paths"
    );
}

#[tokio::test]
async fn faulted_requests_are_counted() {
    let sim = Sim::start().await;
    sim.token().await;
    sim.set_faults(json!({ "pathPrefix": "/v1", "status": 503, "count": 2 }))
        .await;

    for _ in 0..3 {
        sim.get(&sim.api_url("/mfaSettings")).await;
    }

    assert_eq!(
        sim.stats().await["GET /v1/environments/{envId}/mfaSettings"],
        3
    );
}
