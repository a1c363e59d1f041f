//! The PPM browser authenticator, driven with plain form posts.

use pingid_sim::demo::ALICE_PHONE;
use pingid_sim::demo::legacy::{ALICE_MOBILE_DEVICE_ID, ALICE_SMS_DEVICE_ID, ORG_ALIAS};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::legacy::{OrgCreds, input_value, post_form, ppm_request, verify};
use crate::support::Sim;

/// Opens the authenticator page for a request with `overrides`; (status, html).
async fn open(sim: &Sim, overrides: Value) -> (StatusCode, String) {
    let (token, _) = ppm_request(&OrgCreds::demo(), overrides);
    post_form(
        sim,
        "/pingid/ppm/auth",
        &[
            ("idp_account_id", ORG_ALIAS),
            ("ppm_request", &token),
            ("iss", "DaVinci"),
        ],
    )
    .await
}

/// The verified claims of the `ppm_response` in an auto-post page.
fn response_claims(html: &str) -> Value {
    assert!(
        html.contains(
            "<form id=\"ppm-response\" method=\"post\" action=\"http://localhost:9/return\">"
        ),
        "{html}"
    );
    assert!(html.contains("onload="), "auto-submits");
    let token = input_value(html, "ppm_response").expect("a ppm_response input");
    let (header, claims) =
        verify(&token, &OrgCreds::demo().key).expect("verifies with the org key");
    assert_eq!(header, json!({ "alg": "HS256", "typ": "JWT" }));
    claims
}

#[tokio::test]
async fn a_valid_request_renders_the_users_page() {
    let sim = Sim::start().await;
    let (status, html) = open(&sim, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    for needle in [
        "id=\"approve\"",
        "id=\"deny\"",
        "id=\"otp\"",
        "id=\"submit-otp\"",
        "<strong id=\"user\">alice</strong>",
        "<strong id=\"app-name\">Payroll</strong>",
    ] {
        assert!(html.contains(needle), "{needle} in {html}");
    }
    // The passcode went to alice's phone when the page opened.
    assert_eq!(sim.messages_to(ALICE_PHONE).await.len(), 1);
    let (_, last) = sim_get(&sim, "/_sim/pingid/ppm/last").await;
    assert_eq!(last["request"]["sub"], "alice");
    assert_eq!(last["response"], Value::Null);
}

async fn sim_get(sim: &Sim, path: &str) -> (StatusCode, Value) {
    let response = sim.http.get(sim.url(path)).send().await.expect("answered");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn approve_posts_a_signed_success_to_the_return_url() {
    let sim = Sim::start().await;
    let (_, page) = open(&sim, json!({})).await;
    let session = input_value(&page, "session").expect("session");
    let (status, html) = post_form(
        &sim,
        "/pingid/ppm/auth/decision",
        &[("session", &session), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let claims = response_claims(&html);
    assert_eq!(claims["status"], "success");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["nonce"], "n-0123456789abcdef");
    assert_eq!(claims["iss"], "pingidauthenticator");
    assert_eq!(claims["aud"], "DaVinci");
    assert_eq!(claims["idpAccountId"], ORG_ALIAS);
    assert_eq!(claims["inResponseTo"], "req-1");
    assert_eq!(claims["dst"], "http://localhost:9/return");
    assert_eq!(claims["authenticationType"], "SWIPE");
    assert_eq!(
        claims["authenticationDevice"]["id"],
        ALICE_MOBILE_DEVICE_ID.to_string()
    );
    assert_eq!(claims["accessingDevice"]["ip"], "127.0.0.1");
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        300
    );
    let (_, last) = sim_get(&sim, "/_sim/pingid/ppm/last").await;
    assert_eq!(last["response"], claims);

    // The page is single use.
    let (status, _) = post_form(
        &sim,
        "/pingid/ppm/auth/decision",
        &[("session", &session), ("decision", "approve")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn deny_posts_a_failure() {
    let sim = Sim::start().await;
    let (_, page) = open(&sim, json!({})).await;
    let session = input_value(&page, "session").expect("session");
    let (_, html) = post_form(
        &sim,
        "/pingid/ppm/auth/decision",
        &[("session", &session), ("decision", "deny")],
    )
    .await;
    let claims = response_claims(&html);
    assert_eq!(claims["status"], "failure");
    assert_eq!(claims["errorCode"], "PINGID_001");
    assert!(claims["message"].is_string());
}

#[tokio::test]
async fn the_sms_passcode_succeeds_after_a_wrong_one() {
    let sim = Sim::start().await;
    let (_, page) = open(&sim, json!({})).await;
    let session = input_value(&page, "session").expect("session");
    let otp = sim.last_otp_to(ALICE_PHONE).await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let (status, retry) = post_form(
        &sim,
        "/pingid/ppm/auth/otp",
        &[("session", &session), ("otp", wrong)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(retry.contains("id=\"error\""), "{retry}");
    assert!(retry.contains("id=\"submit-otp\""));
    let (_, html) = post_form(
        &sim,
        "/pingid/ppm/auth/otp",
        &[("session", &session), ("otp", &otp)],
    )
    .await;
    let claims = response_claims(&html);
    assert_eq!(claims["status"], "success");
    assert_eq!(claims["authenticationType"], "SMS");
    assert_eq!(
        claims["authenticationDevice"]["id"],
        ALICE_SMS_DEVICE_ID.to_string()
    );
}

#[tokio::test]
async fn three_wrong_passcodes_fail() {
    let sim = Sim::start().await;
    let (_, page) = open(&sim, json!({})).await;
    let session = input_value(&page, "session").expect("session");
    let otp = sim.last_otp_to(ALICE_PHONE).await;
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let mut last = String::new();
    for _ in 0..3 {
        last = post_form(
            &sim,
            "/pingid/ppm/auth/otp",
            &[("session", &session), ("otp", wrong)],
        )
        .await
        .1;
    }
    let claims = response_claims(&last);
    assert_eq!(claims["status"], "failure");
}

#[tokio::test]
async fn users_without_sms_get_only_approve_and_deny() {
    let sim = Sim::start().await;
    let (status, html) = open(&sim, json!({ "sub": "carol" })).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"approve\"") && !html.contains("id=\"otp\""));
}

#[tokio::test]
async fn invalid_requests_render_a_400_page_and_never_post() {
    let sim = Sim::start().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    for (name, overrides) in [
        ("expired", json!({ "exp": now - 1 })),
        ("expired in ms", json!({ "exp": (now - 1) * 1000 })),
        ("wrong aud", json!({ "aud": "md" })),
        ("unknown user", json!({ "sub": "mallory" })),
        ("relative returnUrl", json!({ "returnUrl": "/return" })),
        (
            "other idpAccountId",
            json!({ "idpAccountId": OrgCreds::other().alias }),
        ),
    ] {
        let (status, html) = open(&sim, overrides).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        assert!(
            html.contains("id=\"error\"") && !html.contains("ppm_response"),
            "{name}"
        );
    }
    // Milliseconds in the future are fine.
    let (status, _) = open(&sim, json!({ "exp": (now + 600) * 1000 })).await;
    assert_eq!(status, StatusCode::OK);
    // Signed with the other org's key.
    let (token, _) = ppm_request(&OrgCreds::other(), json!({ "idpAccountId": ORG_ALIAS }));
    let (status, html) = post_form(
        &sim,
        "/pingid/ppm/auth",
        &[("idp_account_id", ORG_ALIAS), ("ppm_request", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(!html.contains("ppm_response"));
}

#[tokio::test]
async fn a_tampered_ppm_response_does_not_verify() {
    let sim = Sim::start().await;
    let (_, page) = open(&sim, json!({})).await;
    let session = input_value(&page, "session").expect("session");
    sim.control("pingid/tamper-next-response", json!({})).await;
    let (_, html) = post_form(
        &sim,
        "/pingid/ppm/auth/decision",
        &[("session", &session), ("decision", "approve")],
    )
    .await;
    let token = input_value(&html, "ppm_response").expect("a ppm_response");
    assert!(verify(&token, &OrgCreds::demo().key).is_none());
}

#[tokio::test]
async fn the_passwordless_page_runs_a_discoverable_get() {
    let sim = Sim::start().await;
    let (token, _) = ppm_request(&OrgCreds::demo(), json!({ "sub": null }));
    let (status, html) = post_form(
        &sim,
        "/pingid/ppm/passwordless",
        &[("idp_account_id", ORG_ALIAS), ("ppm_request", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"sign-in\""));
    assert!(html.contains("navigator.credentials.get"));
    assert!(html.contains("\"allowCredentials\":[]"), "{html}");
    assert!(html.contains("\"userVerification\":\"required\""), "{html}");
    // A garbage assertion is a failure response.
    let session = input_value(&html, "session").expect("session");
    let (_, html) = post_form(
        &sim,
        "/pingid/ppm/passwordless/assertion",
        &[("session", &session), ("assertion", "{}")],
    )
    .await;
    let claims = response_claims(&html);
    assert_eq!(claims["status"], "failure");
    // A sub is refused on the passwordless endpoint.
    let (token, _) = ppm_request(&OrgCreds::demo(), json!({}));
    let (status, _) = post_form(
        &sim,
        "/pingid/ppm/passwordless",
        &[("idp_account_id", ORG_ALIAS), ("ppm_request", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_registration_page_asks_for_a_discoverable_credential() {
    let sim = Sim::start().await;
    let response = sim
        .http
        .get(sim.url("/_sim/pingid/webauthn/register?username=alice"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(html.contains("id=\"register\""));
    assert!(html.contains("\"residentKey\":\"required\""), "{html}");
    assert!(html.contains("navigator.credentials.create"));
    let response = sim
        .http
        .get(sim.url("/_sim/pingid/webauthn/register?username=mallory"))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

/// The text of `<script id="options" type="application/json">…</script>`.
fn options_json(html: &str) -> String {
    let start = html
        .find("<script id=\"options\" type=\"application/json\">")
        .expect("an options script")
        + "<script id=\"options\" type=\"application/json\">".len();
    let end = start + html[start..].find("</script>").expect("closed");
    html[start..end].replace("\\u003c", "<")
}

/// Registration, passwordless sign-in and the follow-up auto-approval, over HTTP at
/// `http://localhost:PORT` with the soft passkey playing the browser.
#[tokio::test]
async fn a_registered_passkey_signs_in_without_a_username() {
    use pingid_sim::authenticator::SoftAuthenticator;

    let sim = Sim::start().await;
    let port = sim.url("").rsplit(':').next().expect("port").to_owned();
    let origin = format!("http://localhost:{port}");
    let at = |path: &str| format!("{origin}{path}");
    let mut passkey = SoftAuthenticator::with_user_verification();

    let html = sim
        .http
        .get(at("/_sim/pingid/webauthn/register?username=alice"))
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    let credential = passkey
        .register_passkey(&options_json(&html), &origin)
        .expect("registers");
    let credential_id = serde_json::from_str::<Value>(&credential).expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let registration = input_value(&html, "registration").expect("registration");
    let response = sim
        .http
        .post(at("/_sim/pingid/webauthn/register"))
        .form(&[
            ("registration", registration.as_str()),
            ("credential", &credential),
        ])
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(html.contains("<p id=\"registered\">alice</p>"), "{html}");

    let (token, _) = ppm_request(&OrgCreds::demo(), json!({ "sub": null }));
    let html = sim
        .http
        .post(at("/pingid/ppm/passwordless"))
        .form(&[("idp_account_id", ORG_ALIAS), ("ppm_request", &token)])
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    let assertion = passkey
        .assert_passkey(&options_json(&html), &origin, &credential_id)
        .expect("asserts");
    let session = input_value(&html, "session").expect("session");
    let html = sim
        .http
        .post(at("/pingid/ppm/passwordless/assertion"))
        .form(&[("session", session.as_str()), ("assertion", &assertion)])
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("html");
    let claims = response_claims(&html);
    assert_eq!(claims["status"], "success", "{claims}");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["authenticationType"], "FIDO2");
    let device = claims["authenticationDevice"]["id"].clone();
    assert!(device.is_string());

    // The same user's MFA right after: approved without a page.
    let (status, html) = open(&sim, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let claims = response_claims(&html);
    assert_eq!(claims["status"], "success");
    assert_eq!(claims["authenticationType"], "FIDO2");
    assert_eq!(claims["authenticationDevice"]["id"], device);
    // Not without isUserAuthenticated.
    let (_, html) = open(&sim, json!({ "attributes": [] })).await;
    assert!(html.contains("id=\"approve\""));

    // The passkey is alice's device now.
    let (_, details) =
        crate::legacy::call(&sim, "getuserdetails", json!({ "userName": "alice" })).await;
    let devices = details["userDetails"]["devicesDetails"]
        .as_array()
        .expect("devices");
    assert_eq!(
        devices.last().expect("a device")["type"],
        "FIDO2 Biometrics"
    );
}
