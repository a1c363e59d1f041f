//! The legacy connector's loop in a real browser (headless Chromium): the local gateway's demo
//! page makes the first call, the browser posts the PPM request to the simulated PingID
//! authenticator, the simulated user acts on its page, the authenticator posts `ppm_response`
//! to the return page (the `legacy-return-page` crate, as a deployment serves it, under its
//! strict Content-Security-Policy), which makes the second call and shows the outcome.
//! Passwordless runs a real WebAuthn ceremony against a virtual authenticator.

use std::net::SocketAddr;

use e2e::Browser;
use pingid_local::{LocalConfig, RunningLocal, start};

/// The local stack on free ports.
async fn local_stack() -> RunningLocal {
    let config = LocalConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        sim_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..LocalConfig::default()
    };
    start(config).await.expect("the local stack starts")
}

/// `http://localhost:PORT` of the gateway (browsers reach it by name, as a user would).
fn gateway(local: &RunningLocal) -> String {
    format!("http://localhost:{}", local.addr().port())
}

fn simulator(local: &RunningLocal) -> String {
    format!("http://localhost:{}", local.sim().addr().port())
}

/// Waits for the return page and reads `(status, sub)`.
async fn outcome(browser: &Browser) -> (String, String) {
    browser.wait_for("#status").await.expect("the return page");
    (
        browser.text("#status").await.unwrap(),
        browser.text("#sub").await.unwrap(),
    )
}

#[tokio::test]
async fn alice_approves_on_the_authenticator_page() {
    let local = local_stack().await;
    let browser = Browser::start()
        .await
        .expect("chromium (make test installs it)");
    let start_url = format!(
        "{}/v1/pingid-legacy/demo/initializeMfa?sub=alice",
        gateway(&local)
    );
    browser.goto(&start_url).await.unwrap();
    browser.wait_for("#approve").await.unwrap();
    assert!(
        browser
            .current_url()
            .await
            .unwrap()
            .contains("/pingid/ppm/auth")
    );
    browser.click("#approve").await.unwrap();
    assert_eq!(
        outcome(&browser).await,
        ("success".to_string(), "alice".to_string())
    );
    assert_eq!(browser.text("#authenticationType").await.unwrap(), "SWIPE");
    assert_eq!(
        browser.text("#accessingIp").await.unwrap(),
        "127.0.0.1",
        "the accessing IP the first call gave"
    );
}

#[tokio::test]
async fn alice_denies_and_the_flow_sees_a_failure() {
    let local = local_stack().await;
    let browser = Browser::start().await.expect("chromium");
    let start_url = format!(
        "{}/v1/pingid-legacy/demo/initializeMfa?sub=alice",
        gateway(&local)
    );
    browser.goto(&start_url).await.unwrap();
    browser.wait_for("#deny").await.unwrap();
    browser.click("#deny").await.unwrap();
    assert_eq!(
        outcome(&browser).await,
        ("failure".to_string(), "alice".to_string())
    );
}

#[tokio::test]
async fn alice_types_the_sms_passcode() {
    let local = local_stack().await;
    let browser = Browser::start().await.expect("chromium");
    let start_url = format!(
        "{}/v1/pingid-legacy/demo/initializeMfa?sub=alice",
        gateway(&local)
    );
    browser.goto(&start_url).await.unwrap();
    browser.wait_for("#otp").await.unwrap();
    let messages: serde_json::Value = e2e::get(format!(
        "{}/_sim/messages?to=%2B15555550101",
        local.sim().base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let otp = messages
        .as_array()
        .and_then(|all| all.last())
        .and_then(|message| message["otp"].as_str())
        .expect("the authenticator texted alice a passcode")
        .to_string();
    browser.fill("#otp", &otp).await.unwrap();
    browser.click("#submit-otp").await.unwrap();
    assert_eq!(
        outcome(&browser).await,
        ("success".to_string(), "alice".to_string())
    );
}

#[tokio::test]
async fn alice_signs_in_with_a_passkey_and_the_policy_completes_it() {
    let local = local_stack().await;
    let browser = Browser::start().await.expect("chromium");
    let authenticator = browser.add_virtual_authenticator().await.unwrap();

    // alice registers a passkey with PingID
    let register = format!(
        "{}/_sim/pingid/webauthn/register?username=alice",
        simulator(&local)
    );
    browser.goto(&register).await.unwrap();
    browser.click("#register").await.unwrap();
    browser.wait_for("#registered").await.unwrap();
    assert_eq!(browser.credentials(&authenticator).await.unwrap().len(), 1);

    // Initialize passwordless: no username; the passkey says who it is. The return page goes
    // on to finalize with the context, and PingID's policy approves.
    let start_url = format!(
        "{}/v1/pingid-legacy/demo/initializePasswordlessAuthentication",
        gateway(&local)
    );
    browser.goto(&start_url).await.unwrap();
    browser.wait_for("#sign-in").await.unwrap();
    browser.click("#sign-in").await.unwrap();
    assert_eq!(
        outcome(&browser).await,
        ("success".to_string(), "alice".to_string())
    );
    let title = browser.page_source().await.unwrap();
    assert!(
        title.contains("finalizePasswordlessAuthentication"),
        "{title}"
    );
    // The return page went on to finalize with its one script, allowed by hash: had
    // Chromium's policy check refused it, the finalize form would never have been posted.
}
