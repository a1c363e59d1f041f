//! Helpers for the legacy PingID side: an independent JWS HS256 signer/verifier and a
//! PingID REST client for the demo orgs.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use pingid_sim::demo::legacy::{
    ORG_ALIAS, OTHER_ORG_ALIAS, OTHER_TOKEN, OTHER_USE_BASE64_KEY, TOKEN, USE_BASE64_KEY,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::Sim;

/// An org's credentials.
#[derive(Clone)]
pub struct OrgCreds {
    pub alias: String,
    pub token: String,
    pub key: Vec<u8>,
}

impl OrgCreds {
    pub fn demo() -> Self {
        Self {
            alias: ORG_ALIAS.into(),
            token: TOKEN.into(),
            key: STANDARD.decode(USE_BASE64_KEY).expect("base64"),
        }
    }

    pub fn other() -> Self {
        Self {
            alias: OTHER_ORG_ALIAS.into(),
            token: OTHER_TOKEN.into(),
            key: STANDARD.decode(OTHER_USE_BASE64_KEY).expect("base64"),
        }
    }
}

/// A compact JWS over the given header and payload JSON.
pub fn sign(header: &Value, payload: &Value, key: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload.to_string())
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// The header and payload of a JWS that verifies under `key`, else `None`.
pub fn verify(token: &str, key: &[u8]) -> Option<(Value, Value)> {
    let (input, signature) = token.rsplit_once('.')?;
    let (header, payload) = input.split_once('.')?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key");
    mac.update(input.as_bytes());
    mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?)
        .ok()?;
    let decode = |part: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok();
    Some((decode(header)?, decode(payload)?))
}

/// The standard request header and payload for `org`.
pub fn request_parts(org: &OrgCreds, body: Value) -> (Value, Value) {
    (
        json!({ "alg": "HS256", "org_alias": org.alias, "token": org.token }),
        json!({
            "reqHeader": {
                "locale": "en",
                "orgAlias": org.alias,
                "secretKey": org.token,
                "timestamp": "2026-01-02 03:04:05.678",
                "version": "4.9",
            },
            "reqBody": body,
        }),
    )
}

/// POSTs a raw body to `/pingid/rest/4/{op}/do`; (status, raw body).
pub async fn post_raw(sim: &Sim, op: &str, body: String) -> (StatusCode, String) {
    let response = sim
        .http
        .post(sim.url(&format!("/pingid/rest/4/{op}/do")))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered");
    let status = response.status();
    (status, response.text().await.expect("text body"))
}

/// A signed call for `org`; returns (status, verified responseBody, response header).
pub async fn call_as(
    sim: &Sim,
    org: &OrgCreds,
    op: &str,
    body: Value,
) -> (StatusCode, Value, Value) {
    let (header, payload) = request_parts(org, body);
    let (status, text) = post_raw(sim, op, sign(&header, &payload, &org.key)).await;
    let (header, payload) = verify(&text, &org.key)
        .unwrap_or_else(|| panic!("the answer verifies with the org key: {status} {text}"));
    (status, payload["responseBody"].clone(), header)
}

/// A signed call for the demo org; (status, responseBody).
pub async fn call(sim: &Sim, op: &str, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = call_as(sim, &OrgCreds::demo(), op, body).await;
    (status, body)
}

/// A PPM request JWT for the demo org (or `org`), with `claims` merged over the defaults.
pub fn ppm_request(org: &OrgCreds, overrides: Value) -> (String, Value) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let mut claims = json!({
        "iss": "DaVinci",
        "sub": "alice",
        "aud": "pingidauthenticator",
        "nonce": "n-0123456789abcdef",
        "iat": now,
        "exp": now + 600,
        "jti": "req-1",
        "idpAccountId": org.alias,
        "returnUrl": "http://localhost:9/return",
        "attributes": [
            { "name": "appName", "value": "Payroll" },
            { "name": "pingidIp", "value": "127.0.0.1" },
            { "name": "isUserAuthenticated", "value": "true" },
        ],
    });
    if let (Some(claims), Some(overrides)) = (claims.as_object_mut(), overrides.as_object()) {
        for (name, value) in overrides {
            if value.is_null() {
                claims.remove(name);
            } else {
                claims.insert(name.clone(), value.clone());
            }
        }
    }
    (
        sign(&json!({ "alg": "HS256", "typ": "JWT" }), &claims, &org.key),
        claims,
    )
}

/// POSTs a form to a simulator path; (status, HTML).
pub async fn post_form(sim: &Sim, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let response = sim
        .http
        .post(sim.url(path))
        .form(form)
        .send()
        .await
        .expect("answered");
    let status = response.status();
    (status, response.text().await.expect("html"))
}

/// The value of `<input … name="{name}" value="…">` in `html` (HTML-unescaped).
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    let end = start + html[start..].find('"')?;
    Some(
        html[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
