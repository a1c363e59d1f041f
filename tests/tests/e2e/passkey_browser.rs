//! A usernameless passkey sign-in in a real browser (headless Chromium with a WebDriver virtual
//! authenticator that keeps discoverable credentials and verifies the user), through the local
//! gateway and the simulator: alice enrolls a FIDO2 device, and later signs in without saying
//! who she is; the passkey the browser picks names her.
//!
//! The page is the gateway's own origin (`http://localhost:PORT`, relying party `localhost`):
//! the script a sign-in page would run turns PingOne's options into `navigator.credentials`
//! calls and the browser's answer into the JSON text the capabilities take.

use std::net::SocketAddr;

use e2e::Browser;
use pingid_local::{DEFAULT_API_TOKEN, LocalConfig, RunningLocal, start};
use pingid_sim::demo;
use serde_json::{Value, json};

/// What a sign-in page does with PingOne's options: binary fields are arrays of signed bytes
/// (PingOne's wire convention), the browser wants ArrayBuffers, and the capabilities want the
/// credential back as JSON with base64url fields.
const CEREMONY: &str = r#"
const [kind, optionsText, done] = arguments;
const bytes = (a) => new Int8Array(a).buffer;
const b64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
// A member sent as null means "absent" to the server; WebIDL takes it for a value.
const clean = (value) => {
  if (Array.isArray(value)) { return value.map(clean); }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value)
      .filter(([, v]) => v !== null).map(([k, v]) => [k, clean(v)]));
  }
  return value;
};
const options = clean(JSON.parse(optionsText));
options.challenge = bytes(options.challenge);
(options.allowCredentials || []).forEach((c) => { c.id = bytes(c.id); });
(options.excludeCredentials || []).forEach((c) => { c.id = bytes(c.id); });
if (options.user) { options.user.id = bytes(options.user.id); }
const call = kind === 'create'
  ? navigator.credentials.create({ publicKey: options })
  : navigator.credentials.get({ publicKey: options });
call.then((credential) => {
  const r = credential.response;
  const response = kind === 'create'
    ? { attestationObject: b64url(r.attestationObject), clientDataJSON: b64url(r.clientDataJSON) }
    : { authenticatorData: b64url(r.authenticatorData), clientDataJSON: b64url(r.clientDataJSON),
        signature: b64url(r.signature), userHandle: r.userHandle ? b64url(r.userHandle) : null };
  done({ ok: JSON.stringify({ id: credential.id, rawId: b64url(credential.rawId),
    type: credential.type, response, extensions: {} }) });
}, (error) => done({ error: String(error) }));
"#;

/// The local stack on free ports.
async fn local_stack() -> RunningLocal {
    let config = LocalConfig {
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        sim_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..LocalConfig::default()
    };
    start(config).await.expect("the local stack starts")
}

/// Calls a capability through the gateway with the local token; returns `(status, body)`.
async fn call(local: &RunningLocal, capability: &str, properties: Value) -> (u16, Value) {
    let response = shared::http::bare_builder()
        .build()
        .expect("the client builds")
        .post(format!("{}/v1/pingid/{capability}", local.base_url()))
        .bearer_auth(DEFAULT_API_TOKEN)
        .json(&json!({ "properties": properties }))
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

async fn ok(local: &RunningLocal, capability: &str, properties: Value) -> Value {
    let (status, body) = call(local, capability, properties).await;
    assert_eq!(status, 200, "{capability}: {body}");
    body
}

/// Runs the page's ceremony (`create` or `get`) with PingOne's options; the credential's JSON.
async fn ceremony(browser: &Browser, kind: &str, options: &str) -> String {
    let answer = browser
        .execute_async(CEREMONY, vec![json!(kind), json!(options)])
        .await
        .unwrap();
    answer["ok"]
        .as_str()
        .unwrap_or_else(|| panic!("the browser's {kind}: {answer}"))
        .to_string()
}

#[tokio::test]
async fn alice_signs_in_with_a_passkey_without_saying_who_she_is() {
    let local = local_stack().await;
    let browser = Browser::start()
        .await
        .expect("chromium (make test installs it)");
    let authenticator = browser.add_virtual_authenticator().await.unwrap();
    let origin = format!("http://localhost:{}", local.addr().port());
    browser.goto(&format!("{origin}/health")).await.unwrap();

    // alice enrolls a FIDO2 device: the browser makes a discoverable credential
    let device = ok(
        &local,
        "createDevicePingID",
        json!({ "userId": demo::ALICE_ID, "workforceDeviceType": "FIDO2",
            "status": "ACTIVATION_REQUIRED", "rpId": "localhost" }),
    )
    .await;
    let creation = device["rawResponse"]["publicKeyCredentialCreationOptions"]
        .as_str()
        .expect("creation options");
    let attestation = ceremony(&browser, "create", creation).await;
    let credentials = browser.credentials(&authenticator).await.unwrap();
    assert_eq!(credentials.len(), 1);
    assert_eq!(
        credentials[0]["isResidentCredential"], true,
        "{credentials:?}"
    );
    let activated = ok(
        &local,
        "activateDevice",
        json!({ "userId": demo::ALICE_ID, "deviceId": device["deviceId"],
            "attestation": attestation, "origin": origin }),
    )
    .await;
    assert_eq!(activated["status"], "ACTIVE", "{activated}");

    // Later: a sign-in page that does not know who is there
    let started = ok(
        &local,
        "createDeviceAuthenticationPingID",
        json!({ "usernameLess": true, "rpId": "localhost" }),
    )
    .await;
    assert_eq!(started["status"], "ASSERTION_REQUIRED", "{started}");
    let request = started["rawResponse"]["publicKeyCredentialRequestOptions"]
        .as_str()
        .expect("request options");
    let assertion = ceremony(&browser, "get", request).await;
    let user_handle = serde_json::from_str::<Value>(&assertion).unwrap()["response"]["userHandle"]
        .as_str()
        .map(str::to_owned);
    assert!(
        user_handle.is_some(),
        "a discoverable credential names its user"
    );
    let done = ok(
        &local,
        "validateAssertionDeviceAuthentication",
        json!({ "deviceAuthenticationId": started["deviceAuthenticationId"],
            "assertion": assertion, "origin": origin }),
    )
    .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(
        done["userId"],
        demo::ALICE_ID,
        "the passkey named alice: {done}"
    );

    // The same assertion cannot sign in again
    let (status, body) = call(
        &local,
        "validateAssertionDeviceAuthentication",
        json!({ "deviceAuthenticationId": started["deviceAuthenticationId"],
            "assertion": assertion, "origin": origin }),
    )
    .await;
    assert_eq!(status, 404, "a completed sign-in is someone's now: {body}");
}
