//! The legacy return page (`POST /v1/pingid-legacy/return`, the `legacy-return-page` crate) and
//! the seed's Attributes (`claimsNameValuePairs`) through the local stack over HTTP: a flow
//! makes the first call with the page as its return URL, the simulated PingID authenticator
//! (its real pages, driven by their forms) answers, and its `ppm_response` is posted to the page
//! the way the browser would. The page completes the call once, refuses a replay, a tampered
//! or foreign state and a forged response, escapes what it shows, and always sends its strict
//! Content-Security-Policy. (The same loop in Chromium is in `legacy_browser.rs`.)

use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pingid_local::{DEFAULT_API_TOKEN, LocalConfig, RunningLocal, start};
use pingid_sim::demo;
use serde_json::{Value, json};
use shared::pingid::jws;

const PAGE: &str = "/v1/pingid-legacy/return";

struct Local {
    stack: RunningLocal,
    http: reqwest::Client,
}

impl Local {
    async fn start() -> Self {
        let config = LocalConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            sim_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..LocalConfig::default()
        };
        let stack = start(config).await.expect("the local stack starts");
        let http = shared::http::bare_builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { stack, http }
    }

    /// The page as a browser reaches it (the URL a flow gives as its return URL).
    fn page_url(&self) -> String {
        format!("http://localhost:{}{PAGE}", self.stack.addr().port())
    }

    /// A capability's call with the API token; `(status, body)`.
    async fn call(&self, capability: &str, properties: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!(
                "{}/v1/pingid-legacy/{capability}",
                self.stack.base_url()
            ))
            .bearer_auth(DEFAULT_API_TOKEN)
            .json(&json!({ "properties": properties }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// initializeMfa's first call for alice with the page as the return URL: the redirect.
    async fn start_mfa(&self, extra: Value) -> Value {
        let mut properties = json!({
            "sub": "alice",
            "customAuth": { "skRedirectUri": self.page_url() },
        });
        for (key, value) in extra.as_object().into_iter().flatten() {
            properties[key] = value.clone();
        }
        let (status, output) = self.call("initializeMfa", properties).await;
        assert_eq!(status, 200, "{output}");
        output["redirect"].clone()
    }

    /// The simulated user answers `redirect` on the authenticator's pages (approve or deny);
    /// the `ppm_response` the authenticator's last page would post.
    async fn authenticator_answers(&self, redirect: &Value, decision: &str) -> String {
        let target = redirect["targetUrl"].as_str().unwrap().to_string();
        let screen = self.post_form(&target, &redirect["form"]).await.1;
        let session = hidden(&screen, "session").expect("the authenticator's screen");
        let decision_url = target.replace("/pingid/ppm/auth", "/pingid/ppm/auth/decision");
        let (_, last) = self
            .post_form(
                &decision_url,
                &json!({ "session": session, "decision": decision }),
            )
            .await;
        assert!(last.contains(&self.page_url()), "posts to the page: {last}");
        hidden(&last, "ppm_response").expect("a ppm_response")
    }

    async fn post_form(&self, url: &str, form: &Value) -> (reqwest::header::HeaderMap, String) {
        let fields: Vec<(String, String)> = form
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect();
        let response = self.http.post(url).form(&fields).send().await.unwrap();
        let headers = response.headers().clone();
        (headers, response.text().await.unwrap())
    }

    /// What the browser does with the authenticator's last page: posts `ppm_response` to the
    /// page (`query` appended). `(status, headers, html)`.
    async fn post_to_page(
        &self,
        query: &str,
        ppm_response: &str,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let response = self
            .http
            .post(format!("{}{query}", self.page_url()))
            .form(&[("ppm_response", ppm_response)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    async fn last_ppm(&self) -> Value {
        e2e::get(format!(
            "{}/_sim/pingid/ppm/last",
            self.stack.sim().base_url()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    }
}

/// The value of the hidden input `name` in `html` (HTML-unescaped as a browser would).
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The text of the element with `id` (no nested markup in the page's values).
fn by_id(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('<')? + start;
    Some(html[start..end].to_string())
}

fn assert_strict_headers(headers: &reqwest::header::HeaderMap) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let csp = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp:?}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert_eq!(header("cache-control"), "no-store");
    assert!(header("content-type").starts_with("text/html"));
}

#[tokio::test]
async fn the_page_completes_mfa_once_and_refuses_the_replay() {
    let local = Local::start().await;
    // Given alice approved at the authenticator a request made for the page
    let redirect = local.start_mfa(json!({})).await;
    let ppm_response = local.authenticator_answers(&redirect, "approve").await;

    // When the browser posts the response to the page
    let (status, headers, html) = local.post_to_page("", &ppm_response).await;

    // Then the page made the second call: success for alice, under its strict policy
    assert_eq!(status, 200, "{html}");
    assert_strict_headers(&headers);
    assert_eq!(by_id(&html, "status").as_deref(), Some("success"), "{html}");
    assert_eq!(by_id(&html, "sub").as_deref(), Some("alice"));
    assert!(html.contains("data-capability=\"initializeMfa\""), "{html}");
    assert!(!html.contains(&ppm_response), "the response is never shown");
    assert!(!html.contains("<script"), "an outcome runs nothing");

    // And the same post again is refused: the response was spent
    let (status, headers, html) = local.post_to_page("", &ppm_response).await;
    assert_eq!(status, 400, "{html}");
    assert_strict_headers(&headers);
    assert_eq!(by_id(&html, "code").as_deref(), Some("VALIDATION_FAILED"));
    assert!(html.contains("already been used"), "{html}");
}

#[tokio::test]
async fn a_denial_shows_pingids_failure_code() {
    let local = Local::start().await;
    let redirect = local.start_mfa(json!({})).await;
    let ppm_response = local.authenticator_answers(&redirect, "deny").await;
    let (status, _, html) = local.post_to_page("", &ppm_response).await;
    assert_eq!(status, 200, "a failure is an answer: {html}");
    assert_eq!(by_id(&html, "status").as_deref(), Some("failure"));
    assert_eq!(by_id(&html, "code").as_deref(), Some("PINGID_001"));
}

#[tokio::test]
async fn a_tampered_or_foreign_state_and_a_forged_response_are_refused_without_spending() {
    let local = Local::start().await;
    let redirect = local.start_mfa(json!({})).await;
    let ppm_response = local.authenticator_answers(&redirect, "approve").await;

    // A state this deployment never sealed, and one cut short
    for query in [
        "?state=v1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "?state=v1.",
    ] {
        let (status, headers, html) = local.post_to_page(query, &ppm_response).await;
        assert_eq!(status, 400, "{query}: {html}");
        assert_strict_headers(&headers);
        assert_eq!(by_id(&html, "code").as_deref(), Some("VALIDATION_FAILED"));
        assert!(html.contains("<code>state</code>"), "{html}");
    }
    // A response whose signature was changed
    let mut forged = ppm_response.clone();
    forged.pop();
    forged.push(if ppm_response.ends_with('A') {
        'B'
    } else {
        'A'
    });
    let (status, _, html) = local.post_to_page("", &forged).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("does not answer a request"), "{html}");
    // No form field at all
    let (status, _, html) = local.post_to_page("", "").await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("<code>ppm_response</code>"), "{html}");

    // None of that spent the genuine response
    let (status, _, html) = local.post_to_page("", &ppm_response).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(by_id(&html, "status").as_deref(), Some("success"));
}

#[tokio::test]
async fn what_the_page_shows_is_escaped() {
    let local = Local::start().await;
    // Given a request for a user whose name is markup, and PingID's answer (signed with the
    // org's key, as the authenticator signs) carrying markup in its message too
    let user = "<script>alert(1)</script>";
    let redirect = local.start_mfa(json!({ "sub": user })).await;
    let request = redirect["form"]["ppm_request"].as_str().unwrap();
    let key = STANDARD.decode(demo::legacy::USE_BASE64_KEY).unwrap();
    let (_, request) = jws::verify_hs256(request, &key).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": request["aud"], "aud": request["iss"], "sub": user, "nonce": request["nonce"],
        "iat": now, "exp": now + 300, "idpAccountId": request["idpAccountId"],
        "dst": request["returnUrl"], "status": "failure", "errorCode": "PINGID_001",
        "message": "<img src=x onerror=alert(2)>",
    });
    let ppm_response = jws::sign_hs256(&json!({ "alg": "HS256", "typ": "JWT" }), &claims, &key);
    // When it is posted to the page
    let (status, _, html) = local.post_to_page("", &ppm_response).await;
    // Then both are shown as text, never as markup
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "{html}"
    );
}

#[tokio::test]
async fn attributes_reach_pingid_in_the_ppm_request_and_come_back() {
    let local = Local::start().await;
    // Given a flow that adds the seed's Attributes to a passkey sign-in
    let (status, output) = local
        .call(
            "initializePasswordlessAuthentication",
            json!({
                "customAuth": { "skRedirectUri": local.page_url() },
                "claimsNameValuePairs": [
                    { "name": "department", "value": "Sales" },
                    { "name": "email", "value": "alice@example.com" },
                ],
            }),
        )
        .await;
    assert_eq!(status, 200, "{output}");
    // When the authenticator receives the PPM request
    let target = output["redirect"]["targetUrl"]
        .as_str()
        .unwrap()
        .to_string();
    local.post_form(&target, &output["redirect"]["form"]).await;
    // Then it holds them after the connector's own attribute, in order
    let request = local.last_ppm().await["request"].clone();
    assert_eq!(
        request["attributes"],
        json!([
            { "name": "isUserAuthenticated", "value": "false" },
            { "name": "department", "value": "Sales" },
            { "name": "email", "value": "alice@example.com" },
        ]),
        "{request}"
    );

    // And for MFA the named facts come first, the attributes after, and PingID echoes them
    let redirect = local
        .start_mfa(json!({
            "fname": "Alice",
            "claimsNameValuePairs": [{ "name": "costCenter", "value": "4711" }],
        }))
        .await;
    local.authenticator_answers(&redirect, "approve").await;
    let last = local.last_ppm().await;
    let names = |claims: &Value| -> Vec<String> {
        claims["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| a["name"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        names(&last["request"]),
        ["fname", "isUserAuthenticated", "costCenter"]
    );
    assert_eq!(names(&last["response"]), names(&last["request"]));
}

#[tokio::test]
async fn attributes_that_would_override_the_connectors_claims_are_all_named_and_nothing_is_sent() {
    let local = Local::start().await;
    let before = local.last_ppm().await;
    let (status, body) = local
        .call(
            "initializeMfa",
            json!({
                "sub": "alice",
                "customAuth": { "skRedirectUri": local.page_url() },
                "claimsNameValuePairs": [
                    { "name": "sub", "value": "mallory" },
                    { "name": "isUserAuthenticated", "value": "true" },
                    { "name": "team", "value": "a" },
                    { "name": "TEAM", "value": "b" },
                    { "name": "EXP", "value": "99999999999" },
                ],
            }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "VALIDATION_FAILED");
    let fields = crate::support::problem_fields(&body);
    assert_eq!(
        fields,
        [
            "properties.claimsNameValuePairs[0].name",
            "properties.claimsNameValuePairs[1].name",
            "properties.claimsNameValuePairs[3].name",
            "properties.claimsNameValuePairs[4].name",
        ],
        "{body}"
    );
    // Bounds are the schema's: too many pairs, a long value, a name that is not one
    let many: Vec<Value> = (0..21)
        .map(|i| json!({ "name": format!("n{i}"), "value": "v" }))
        .collect();
    let (status, body) = local
        .call(
            "initializePasswordlessAuthentication",
            json!({ "customAuth": { "skRedirectUri": local.page_url() }, "claimsNameValuePairs": many }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["details"].to_string().contains("at most 20 items"),
        "{body}"
    );
    let (status, body) = local
        .call(
            "initializePasswordlessAuthentication",
            json!({
                "customAuth": { "skRedirectUri": local.page_url() },
                "claimsNameValuePairs": [
                    { "name": "a b", "value": "v" },
                    { "name": "ok", "value": "v".repeat(1001) },
                ],
            }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let details = body["details"].to_string();
    assert!(
        details.contains("claimsNameValuePairs[0].name"),
        "{details}"
    );
    assert!(
        details.contains("claimsNameValuePairs[1].value"),
        "{details}"
    );
    assert_eq!(
        local.last_ppm().await,
        before,
        "no PPM request reached PingID"
    );
}
