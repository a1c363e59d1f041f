//! Self-tests of the browser harness: a real headless Chromium against pages served here.
//!
//! Each test serves its own pages from a tiny axum server on 127.0.0.1 and drives them through
//! [`Browser`]. Needs Debian's chromium + chromium-driver (`make test` installs them).

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::Router;
use axum::response::Html;
use axum::routing::{get, post};
use e2e::Browser;

/// Serves `router` on a free 127.0.0.1 port for the rest of the test.
async fn serve(router: Router) -> anyhow::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(address)
}

/// Starts the browser, printing how long it took (`--nocapture` shows it).
async fn start_browser() -> anyhow::Result<Browser> {
    let started = Instant::now();
    let browser = Browser::start().await?;
    eprintln!("browser started in {:?}", started.elapsed());
    Ok(browser)
}

/// Minimal HTML escaping for text echoed into a page.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const BUTTON_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>button</title></head>
<body>
  <input id="name" value="placeholder">
  <button id="greet" type="button">Greet</button>
  <p id="out">nothing yet</p>
  <script>
    let clicks = 0;
    document.getElementById("greet").addEventListener("click", () => {
      clicks += 1;
      const name = document.getElementById("name").value;
      document.getElementById("out").textContent = `hello ${name} (${clicks})`;
    });
  </script>
</body></html>"#;

#[tokio::test]
async fn a_click_changes_the_page_and_the_text_is_read_back() -> anyhow::Result<()> {
    // Given a page whose button writes the input's value into <p id="out">
    let address = serve(Router::new().route("/", get(|| async { Html(BUTTON_PAGE) }))).await?;
    let browser = start_browser().await?;
    let url = format!("http://{address}/");
    browser.goto(&url).await?;
    assert_eq!(browser.text("#out").await?, "nothing yet");

    // When a name is typed (replacing the placeholder) and the button clicked twice
    browser.fill("#name", "alice").await?;
    browser.click("#greet").await?;
    browser.click("#greet").await?;

    // Then the paragraph shows what the page's script wrote
    assert_eq!(browser.text("#out").await?, "hello alice (2)");
    assert_eq!(browser.current_url().await?, url);
    assert!(browser.page_source().await?.contains(r#"id="greet""#));
    Ok(())
}

#[tokio::test]
async fn waiting_for_a_missing_element_names_selector_url_and_page_text() -> anyhow::Result<()> {
    let address = serve(Router::new().route("/", get(|| async { Html(BUTTON_PAGE) }))).await?;
    let browser = start_browser().await?;
    browser.goto(&format!("http://{address}/")).await?;

    let error = browser.wait_for("#never").await.unwrap_err().to_string();

    assert!(error.contains("\"#never\""), "{error}");
    assert!(error.contains(&format!("http://{address}/")), "{error}");
    assert!(error.contains("nothing yet"), "{error}");
    assert!(browser.click("#never").await.is_err());
    Ok(())
}

/// Like the PPM protocol: the page posts a hidden form to the next route as soon as it loads.
const AUTO_SUBMIT_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>redirecting</title></head>
<body onload="document.forms[0].submit()">
  <form method="post" action="/result">
    <input type="hidden" name="ppm_response" value="header.payload&amp;signature=&quot;x&quot;">
    <noscript><button type="submit">Continue</button></noscript>
  </form>
</body></html>"#;

/// Renders the posted `ppm_response` field.
async fn result_page(body: String) -> Html<String> {
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let value = fields
        .iter()
        .find(|(name, _)| name == "ppm_response")
        .map_or("<missing>", |(_, value)| value.as_str());
    Html(format!(
        r#"<!doctype html><html><head><title>result</title></head>
<body><p id="result">{}</p></body></html>"#,
        escape(value)
    ))
}

#[tokio::test]
async fn an_auto_submitting_form_lands_on_the_page_that_renders_the_post() -> anyhow::Result<()> {
    // Given a page that posts a hidden form on load, and a route that renders the posted value
    let router = Router::new()
        .route("/start", get(|| async { Html(AUTO_SUBMIT_PAGE) }))
        .route("/result", post(result_page));
    let address = serve(router).await?;
    let browser = start_browser().await?;

    // When the browser opens the first page
    browser.goto(&format!("http://{address}/start")).await?;

    // Then it ends on the result page, which received the field's value (decoded by the browser)
    browser.wait_for("#result").await?;
    assert_eq!(
        browser.current_url().await?,
        format!("http://{address}/result")
    );
    assert_eq!(
        browser.text("#result").await?,
        r#"header.payload&signature="x""#
    );
    Ok(())
}

/// Registers a discoverable credential with user verification, then signs in with it without
/// naming it (`allowCredentials: []`), and writes the outcome into `<p id="out">`.
const WEBAUTHN_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>webauthn</title></head>
<body>
  <p id="out">running</p>
  <script>
    const random = (n) => crypto.getRandomValues(new Uint8Array(n));
    const b64url = (buffer) => btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const out = document.getElementById("out");
    (async () => {
      const created = await navigator.credentials.create({ publicKey: {
        rp: { id: "localhost", name: "PingID e2e" },
        user: { id: new TextEncoder().encode("user-1"), name: "alice", displayName: "Alice" },
        challenge: random(32),
        pubKeyCredParams: [{ type: "public-key", alg: -7 }, { type: "public-key", alg: -257 }],
        authenticatorSelection: {
          residentKey: "required", requireResidentKey: true, userVerification: "required",
        },
        timeout: 10000,
      }});
      const got = await navigator.credentials.get({ publicKey: {
        rpId: "localhost",
        challenge: random(32),
        allowCredentials: [],
        userVerification: "required",
        timeout: 10000,
      }});
      const flags = new Uint8Array(got.response.authenticatorData)[32];
      const userHandle = new TextDecoder().decode(got.response.userHandle);
      out.textContent = `created ${created.id} got ${got.id} same ${created.id === got.id}` +
        ` uv ${(flags & 4) !== 0} user ${userHandle}`;
      out.dataset.done = "ok";
    })().catch((error) => {
      out.textContent = `failed: ${error.name}: ${error.message}`;
      out.dataset.done = "error";
    });
  </script>
</body></html>"#;

#[tokio::test]
async fn a_virtual_authenticator_creates_and_uses_a_resident_credential() -> anyhow::Result<()> {
    // Given a virtual CTAP2 authenticator with resident keys and user verification
    let address = serve(Router::new().route("/", get(|| async { Html(WEBAUTHN_PAGE) }))).await?;
    let browser = start_browser().await?;
    let authenticator = browser.add_virtual_authenticator().await?;
    assert!(browser.credentials(&authenticator).await?.is_empty());

    // When a page on localhost (a valid RP id and a secure context) creates, then gets, a
    // credential
    browser
        .goto(&format!("http://localhost:{}/", address.port()))
        .await?;
    browser.wait_for("#out[data-done]").await?;

    // Then both ceremonies succeeded with the same credential and a verified user
    let outcome = browser.text("#out").await?;
    assert!(
        outcome.starts_with("created ") && outcome.ends_with("same true uv true user user-1"),
        "{outcome}"
    );
    let created_id = outcome.split(' ').nth(1).unwrap_or_default().to_owned();

    // And the authenticator holds exactly that one resident credential for localhost
    let credentials = browser.credentials(&authenticator).await?;
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    let credential = &credentials[0];
    assert_eq!(credential["rpId"], "localhost");
    assert_eq!(credential["isResidentCredential"], true);
    assert_eq!(credential["credentialId"], created_id.as_str());
    Ok(())
}
