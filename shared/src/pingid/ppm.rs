//! PPM, the browser-redirect protocol of the PingID authenticator (`pingid-api.md` §9): the
//! signed request the browser posts to the authenticator, and the check of the signed response
//! the browser brings back.
//!
//! [I] The request nonce is stateless and self-verifying, so no session store is needed between
//! the redirect and the return: `nonce = b64url(r) "." exp "." b64url(HMAC(k_nonce, r, exp,
//! sub, return_url, binding))` with 16 random bytes `r` and
//! `k_nonce = HMAC(key, "pingid-connector/ppm-nonce/v1")`. The authenticator echoes the nonce in
//! its signed response; recomputing the MAC proves the response answers a request we made, for
//! this user, this return URL and this binding, and not after `exp`. (Fields enter the MAC
//! length-prefixed, so no two field lists collide.)

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use hmac::Mac;
use serde::Serialize;
use serde_json::{Value, json};

use super::jws::{self, JwsError};
use super::properties::Properties;
use super::update_fields;
use super::{HmacSha256, b64url, b64url_decode, derive_key, mac, random_bytes, unix_seconds};
use crate::error::{Error, FieldProblem};

/// [I] Our `iss`: names this connector to the authenticator, which echoes it as the response's
/// `aud` (Ping reserves `pingone`; DaVinci's own value is not public).
pub const ISSUER: &str = "pingid-connector-lambda";
/// The authenticator's audience for authentication (§9.3).
pub const AUDIENCE: &str = "pingidauthenticator";
/// Lifetime of a request (and of its nonce): the documented example's 600 s.
pub const LIFETIME: Duration = Duration::from_secs(600);

const NONCE_LABEL: &str = "pingid-connector/ppm-nonce/v1";
const FIELD: &str = "properties.ppmResponse";
/// An `exp` above this is in milliseconds (some producers send ms, §9.3).
const MILLISECONDS_THRESHOLD: u64 = 1_000_000_000_000;

/// What the browser must POST to the authenticator.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    /// The authenticator endpoint.
    pub target_url: String,
    /// The form fields: `idp_account_id` (the org alias) and `ppm_request` (the signed JWT).
    pub form: BTreeMap<String, String>,
    /// A self-submitting HTML form posting `form` to `target_url` (all values HTML-escaped).
    pub html: String,
}

/// Debug names the target only: the signed request is a bearer credential for its lifetime.
impl fmt::Debug for Redirect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redirect")
            .field("target_url", &self.target_url)
            .finish_non_exhaustive()
    }
}

/// Which authenticator endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `{authenticator_url}/auth`: MFA for a known user.
    Auth,
    /// [I] `{authenticator_url}/passwordless`: a discoverable-credential ceremony that resolves
    /// the user. Ping documents no path for it (§9.5); this is the one our simulator serves.
    Passwordless,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Auth => "/auth",
            Endpoint::Passwordless => "/passwordless",
        }
    }
}

/// What to ask the authenticator.
#[derive(Debug, Clone)]
pub struct RequestSpec<'a> {
    /// The PingID username; `None` for passwordless (the authenticator resolves the user).
    pub sub: Option<&'a str>,
    /// PPM `attributes`, in order (`fname`, `isUserAuthenticated`, `pingidIp`, …).
    pub attributes: Vec<(&'a str, String)>,
    /// Where the browser returns with `ppm_response`.
    pub return_url: &'a str,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// What the nonce binds the exchange to besides the user and return URL (e.g. the
    /// capability id), so a response for one purpose is refused for another.
    pub binding: &'a str,
}

/// Builds the signed PPM request (§9.3) and the form that carries it.
pub fn request(properties: &Properties, spec: &RequestSpec, now: SystemTime) -> Redirect {
    let issued = unix_seconds(now);
    let exp = issued + LIFETIME.as_secs();
    let nonce = make_nonce(properties, spec, exp);
    let attributes: Vec<Value> = spec
        .attributes
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let mut claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "nonce": nonce,
        "iat": issued,
        "exp": exp,
        "jti": b64url(&random_bytes::<16>()),
        "idpAccountId": properties.org_alias,
        "returnUrl": spec.return_url,
        "attributes": attributes,
    });
    // [I] Passwordless sends no `sub`: no user is known yet, and an empty username is not one.
    if let Some(sub) = spec.sub {
        claims["sub"] = Value::String(sub.to_string());
    }
    let header = json!({
        "alg": "HS256",
        "typ": "JWT",
        "org_alias": properties.org_alias,
        "token": properties.token,
    });
    let ppm_request = jws::sign_hs256(&header, &claims, properties.key.expose());
    let target_url = format!("{}{}", properties.authenticator_url, spec.endpoint.path());
    let form = BTreeMap::from([
        ("idp_account_id".to_string(), properties.org_alias.clone()),
        ("ppm_request".to_string(), ppm_request),
    ]);
    let html = auto_post(&target_url, &form);
    Redirect {
        target_url,
        form,
        html,
    }
}

/// The verified claims of a PPM response.
#[derive(Clone)]
pub struct Response {
    /// The user (for passwordless: the one the authenticator resolved).
    pub sub: String,
    /// `success` or `failure` (lowercased). Only `success` means the user authenticated.
    pub status: String,
    /// Every claim, for the capability's output (`authenticationType`, `accessingDevice`, …).
    pub claims: Value,
    /// The response JWT as received (the capability's `ppmResponse` output).
    pub raw: String,
}

/// Debug leaves out the raw JWT and the claims (which carry the nonce).
impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("sub", &self.sub)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// Checks a `ppm_response` (§9.4 recipe and [I] checks) against the request this connector made
/// for `expected_sub` (`None`: passwordless), `return_url` and `binding`: HS256 signature with
/// the properties key; a nonce made by us for exactly these values and not expired; `exp` not
/// passed; `aud` == [`ISSUER`]; `iss` (when present) == [`AUDIENCE`]; `idpAccountId` ==
/// `org_alias`; `dst` (when present) == `return_url`; `sub` == `expected_sub`. A `failure`
/// status comes back as `Ok` only after all of that passed. Any failure is an
/// [`Error::Validation`] on `properties.ppmResponse`: the caller sent a bad, forged, expired or
/// foreign response.
pub fn verify_response(
    properties: &Properties,
    ppm_response: &str,
    expected_sub: Option<&str>,
    return_url: &str,
    binding: &str,
    now: SystemTime,
) -> Result<Response, Error> {
    let (_header, claims) =
        jws::verify_hs256(ppm_response, properties.key.expose()).map_err(|error| match error {
            JwsError::Algorithm => refuse("is not signed with HS256"),
            _ => refuse("is not a PPM response signed for this PingID org"),
        })?;
    let now = unix_seconds(now);
    let text = |name: &str| claims.get(name).and_then(Value::as_str);

    let nonce = text("nonce").ok_or_else(|| refuse("has no nonce"))?;
    check_nonce(
        properties,
        nonce,
        expected_sub.unwrap_or(""),
        return_url,
        binding,
        now,
    )?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .map(|exp| {
            if exp > MILLISECONDS_THRESHOLD {
                exp / 1000
            } else {
                exp
            }
        })
        .ok_or_else(|| refuse("has no expiry"))?;
    if now >= exp {
        return Err(refuse("has expired"));
    }
    let audience_is_us = match claims.get("aud") {
        Some(Value::String(aud)) => aud == ISSUER,
        Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(ISSUER)),
        _ => false,
    };
    if !audience_is_us {
        return Err(refuse("was not issued to this connector"));
    }
    if claims.get("iss").is_some() && text("iss") != Some(AUDIENCE) {
        return Err(refuse("was not issued by the PingID authenticator"));
    }
    if text("idpAccountId") != Some(properties.org_alias.as_str()) {
        return Err(refuse("belongs to another PingID org"));
    }
    if claims.get("dst").is_some() && text("dst") != Some(return_url) {
        return Err(refuse("was sent to another return URL"));
    }
    let sub = text("sub")
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| refuse("names no user"))?;
    if expected_sub.is_some_and(|expected| expected != sub) {
        return Err(refuse("is for another user"));
    }
    let status = text("status")
        .map(str::to_ascii_lowercase)
        .filter(|status| status == "success" || status == "failure")
        .ok_or_else(|| refuse("has no known status"))?;
    Ok(Response {
        sub: sub.to_string(),
        status,
        raw: ppm_response.to_string(),
        claims,
    })
}

fn refuse(reason: &str) -> Error {
    Error::Validation(vec![FieldProblem::new(FIELD, reason)])
}

/// Which request a response answers, for a page that receives responses it did not ask for
/// (the legacy return page): the first of `bindings` (each with whether its request named the
/// user, as MFA does, or none, as passwordless does) that [`verify_response`] accepts the
/// response for, with the response's user. It spends nothing and only routes: the capability
/// the page hands the response to verifies it again and spends it.
pub fn answered_binding<'b>(
    properties: &Properties,
    ppm_response: &str,
    return_url: &str,
    bindings: &[(&'b str, bool)],
    now: SystemTime,
) -> Option<(&'b str, String)> {
    let (_, claims) = jws::verify_hs256(ppm_response, properties.key.expose()).ok()?;
    let sub = claims.get("sub").and_then(Value::as_str)?;
    bindings.iter().find_map(|(binding, names_user)| {
        let expected = names_user.then_some(sub);
        verify_response(properties, ppm_response, expected, return_url, binding, now)
            .ok()
            .map(|response| (*binding, response.sub))
    })
}

/// `b64url(r) "." exp "." b64url(MAC)` for a fresh random `r` (see the module docs).
fn make_nonce(properties: &Properties, spec: &RequestSpec, exp: u64) -> String {
    let random = random_bytes::<16>();
    let sub = spec.sub.unwrap_or("");
    let tag = nonce_mac(properties, &random, exp, sub, spec.return_url, spec.binding)
        .finalize()
        .into_bytes();
    format!("{}.{exp}.{}", b64url(&random), b64url(&tag))
}

/// The nonce MAC, ready to finalise or verify.
fn nonce_mac(
    properties: &Properties,
    random: &[u8],
    exp: u64,
    sub: &str,
    return_url: &str,
    binding: &str,
) -> HmacSha256 {
    let key = derive_key(properties.key.expose(), NONCE_LABEL);
    let mut mac = mac(&key);
    let exp = exp.to_string();
    update_fields(
        &mut mac,
        &[
            random,
            exp.as_bytes(),
            sub.as_bytes(),
            return_url.as_bytes(),
            binding.as_bytes(),
        ],
    );
    mac
}

fn check_nonce(
    properties: &Properties,
    nonce: &str,
    sub: &str,
    return_url: &str,
    binding: &str,
    now: u64,
) -> Result<(), Error> {
    let foreign = || refuse("does not answer a request of this connector for this user");
    let mut parts = nonce.split('.');
    let (Some(random), Some(exp), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(foreign());
    };
    let random = b64url_decode(random)
        .filter(|r| r.len() == 16)
        .ok_or_else(foreign)?;
    let exp: u64 = exp
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| exp.parse().ok())
        .flatten()
        .ok_or_else(foreign)?;
    let tag = b64url_decode(tag).ok_or_else(foreign)?;
    nonce_mac(properties, &random, exp, sub, return_url, binding)
        .verify_slice(&tag)
        .map_err(|_| foreign())?;
    if now >= exp {
        return Err(refuse("has expired"));
    }
    Ok(())
}

/// A page that posts `form` to `target` on load (with a button when scripts are off).
fn auto_post(target: &str, form: &BTreeMap<String, String>) -> String {
    let inputs: String = form
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                html_escape(name),
                html_escape(value)
            )
        })
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>PingID</title></head>\n\
         <body onload=\"document.forms[0].submit()\">\n\
         <form method=\"post\" action=\"{}\">\n{inputs}\
         <noscript><button type=\"submit\">Continue</button></noscript>\n\
         </form>\n</body></html>\n",
        html_escape(target)
    )
}

/// HTML-escapes text for an element body or a quoted attribute value.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const ORG: &str = "aaaaaaaa-a1b2-123a-b456-1234abcd5678";
    const RETURN_URL: &str = "https://connector.example.com/v1/pingid-legacy/return";

    fn properties() -> Properties {
        super::super::sample_properties(0x5a)
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000)
    }

    fn later(seconds: u64) -> SystemTime {
        now() + Duration::from_secs(seconds)
    }

    fn spec(sub: Option<&str>) -> RequestSpec<'_> {
        RequestSpec {
            sub,
            attributes: vec![
                ("isUserAuthenticated", "true".into()),
                ("fname", "Alice".into()),
            ],
            return_url: RETURN_URL,
            endpoint: if sub.is_some() {
                Endpoint::Auth
            } else {
                Endpoint::Passwordless
            },
            binding: "initializeMfa",
        }
    }

    /// The request's header and claims, as the authenticator reads them.
    fn read(redirect: &Redirect) -> (Value, Value) {
        jws::verify_hs256(&redirect.form["ppm_request"], properties().key.expose()).unwrap()
    }

    /// The authenticator's answer to `redirect` (§9.4 claims), with `change` applied.
    fn respond(redirect: &Redirect, resolved_sub: &str, change: impl FnOnce(&mut Value)) -> String {
        respond_with_key(redirect, resolved_sub, properties().key.expose(), change)
    }

    fn respond_with_key(
        redirect: &Redirect,
        resolved_sub: &str,
        key: &[u8],
        change: impl FnOnce(&mut Value),
    ) -> String {
        let (_, request) = read(redirect);
        let issued = unix_seconds(now()) + 20;
        let mut claims = json!({
            "iss": request["aud"],
            "aud": request["iss"],
            "sub": resolved_sub,
            "nonce": request["nonce"],
            "iat": issued,
            "exp": issued + 300,
            "jti": "RYKCTVYY3KIKI===",
            "status": "success",
            "idpAccountId": ORG,
            "authnContext": "urn:oasis:names:tc:SAML:2.0:ac:classes:Telephony",
            "inResponseTo": request["jti"],
            "dst": request["returnUrl"],
            "authenticationType": "SWIPE",
        });
        change(&mut claims);
        jws::sign_hs256(&json!({"alg": "HS256", "typ": "JWT"}), &claims, key)
    }

    fn verify(
        response: &str,
        expected_sub: Option<&str>,
        at: SystemTime,
    ) -> Result<Response, Error> {
        verify_response(
            &properties(),
            response,
            expected_sub,
            RETURN_URL,
            "initializeMfa",
            at,
        )
    }

    /// The one field problem of a refused response; it never quotes the response.
    fn refused(result: Result<Response, Error>, response: &str) -> String {
        match result {
            Err(Error::Validation(problems)) => {
                assert_eq!(problems.len(), 1);
                assert_eq!(problems[0].field, "properties.ppmResponse");
                assert!(response.is_empty() || !problems[0].problem.contains(response));
                problems[0].problem.clone()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn the_request_carries_the_documented_claims_and_form() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        assert_eq!(
            redirect.target_url,
            "https://authenticator.pingone.com/pingid/ppm/auth"
        );
        assert_eq!(
            redirect.form.keys().collect::<Vec<_>>(),
            ["idp_account_id", "ppm_request"]
        );
        assert_eq!(redirect.form["idp_account_id"], ORG);
        let (header, claims) = read(&redirect);
        assert_eq!(
            header,
            json!({"alg": "HS256", "typ": "JWT", "org_alias": ORG, "token": "1a2b3c4d5e6f"})
        );
        let iat = unix_seconds(now());
        assert_eq!(claims["iss"], ISSUER);
        assert_eq!(claims["aud"], "pingidauthenticator");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(
            (claims["iat"].as_u64(), claims["exp"].as_u64()),
            (Some(iat), Some(iat + 600))
        );
        assert_eq!(claims["idpAccountId"], ORG);
        assert_eq!(claims["returnUrl"], RETURN_URL);
        assert_eq!(
            claims["attributes"],
            json!([{"name": "isUserAuthenticated", "value": "true"}, {"name": "fname", "value": "Alice"}])
        );
        assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 22));
        let nonce = claims["nonce"].as_str().unwrap();
        assert_eq!(
            nonce.split('.').nth(1),
            Some((iat + 600).to_string().as_str())
        );
        // Every request is new.
        let again = read(&request(&properties(), &spec(Some("alice")), now())).1;
        assert_ne!(again["nonce"], claims["nonce"]);
        assert_ne!(again["jti"], claims["jti"]);
        // The page posts exactly the form.
        assert!(
            redirect
                .html
                .contains(&format!("action=\"{}\"", redirect.target_url))
        );
        assert!(redirect.html.contains(&format!(
            "name=\"ppm_request\" value=\"{}\"",
            redirect.form["ppm_request"]
        )));
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_form_page_escapes_every_value() {
        let mut properties = properties();
        properties.authenticator_url = "https://a.example/ppm?x=\"><script>&'".into();
        properties.org_alias = "\"><img src=x onerror=alert(1)>".into();
        let redirect = request(&properties, &spec(Some("alice")), now());
        assert!(!redirect.html.contains("<script>") && !redirect.html.contains("<img"));
        assert!(redirect.html.contains("&quot;&gt;&lt;script&gt;&amp;&#39;"));
    }

    #[test]
    fn a_genuine_response_round_trips() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        let response = respond(&redirect, "alice", |_| {});
        let verified = verify(&response, Some("alice"), later(30)).unwrap();
        assert_eq!(
            (verified.sub.as_str(), verified.status.as_str()),
            ("alice", "success")
        );
        assert_eq!(verified.claims["authenticationType"], "SWIPE");
        assert_eq!(verified.raw, response);
        assert!(!format!("{verified:?}").contains(&response));
    }

    #[test]
    fn a_failure_is_reported_once_it_is_known_to_be_genuine() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        let response = respond(&redirect, "alice", |c| {
            c["status"] = json!("FAILURE");
            c["errorCode"] = json!("PINGID_001");
        });
        let verified = verify(&response, Some("alice"), later(30)).unwrap();
        assert_eq!(verified.status, "failure");
        assert_eq!(verified.claims["errorCode"], "PINGID_001");
        // A failure without its nonce is not genuine enough.
        let response = respond(&redirect, "alice", |c| {
            c["status"] = json!("failure");
            c.as_object_mut().unwrap().remove("nonce");
        });
        assert_eq!(
            refused(verify(&response, Some("alice"), later(30)), &response),
            "has no nonce"
        );
    }

    #[test]
    fn passwordless_resolves_the_user_with_a_subjectless_request() {
        let redirect = request(&properties(), &spec(None), now());
        assert_eq!(
            redirect.target_url,
            "https://authenticator.pingone.com/pingid/ppm/passwordless"
        );
        assert!(read(&redirect).1.get("sub").is_none());
        let response = respond(&redirect, "bob", |_| {});
        let verified = verify(&response, None, later(30)).unwrap();
        assert_eq!(verified.sub, "bob");
        // The resolved user must be named.
        let response = respond(&redirect, "", |_| {});
        assert_eq!(
            refused(verify(&response, None, later(30)), &response),
            "names no user"
        );
        // An MFA response for alice cannot stand in for a passwordless one.
        let mfa = request(&properties(), &spec(Some("alice")), now());
        let response = respond(&mfa, "alice", |_| {});
        refused(verify(&response, None, later(30)), &response);
    }

    #[test]
    fn a_page_learns_which_request_a_response_answers_and_nothing_from_a_foreign_one() {
        let bindings = [("initializeMfa", true), ("initializePasswordless", false)];
        let answered = |response: &str, return_url: &str| {
            answered_binding(&properties(), response, return_url, &bindings, later(30))
        };
        let mfa = request(&properties(), &spec(Some("alice")), now());
        assert_eq!(
            answered(&respond(&mfa, "alice", |_| {}), RETURN_URL),
            Some(("initializeMfa", "alice".to_string()))
        );
        let passwordless = RequestSpec {
            binding: "initializePasswordless",
            ..spec(None)
        };
        let passwordless = request(&properties(), &passwordless, now());
        assert_eq!(
            answered(&respond(&passwordless, "bob", |_| {}), RETURN_URL),
            Some(("initializePasswordless", "bob".to_string()))
        );
        let other_purpose = RequestSpec {
            binding: "finalizePasswordlessAuthentication:ctx",
            ..spec(Some("alice"))
        };
        let other_purpose = request(&properties(), &other_purpose, now());
        assert_eq!(
            answered(&respond(&other_purpose, "alice", |_| {}), RETURN_URL),
            None
        );
        assert_eq!(
            answered(
                &respond(&mfa, "alice", |_| {}),
                "https://elsewhere.example.com/r"
            ),
            None
        );
        let forged = respond_with_key(&mfa, "alice", &[7; 32], |_| {});
        assert_eq!(answered(&forged, RETURN_URL), None);
    }

    #[test]
    fn a_response_for_another_user_is_refused() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        // Alice's genuine response presented for mallory's login.
        let response = respond(&redirect, "alice", |_| {});
        refused(verify(&response, Some("mallory"), later(30)), &response);
        // A response whose sub differs from the request's.
        let response = respond(&redirect, "mallory", |_| {});
        assert_eq!(
            refused(verify(&response, Some("alice"), later(30)), &response),
            "is for another user"
        );
    }

    #[test]
    fn a_response_to_another_request_purpose_or_return_url_is_refused() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        let response = respond(&redirect, "alice", |_| {});
        let result = verify_response(
            &properties(),
            &response,
            Some("alice"),
            RETURN_URL,
            "finalizePasswordless",
            later(30),
        );
        refused(result, &response);
        let result = verify_response(
            &properties(),
            &response,
            Some("alice"),
            "https://evil.example/r",
            "initializeMfa",
            later(30),
        );
        refused(result, &response);
        // A nonce this connector never made.
        let response = respond(&redirect, "alice", |c| {
            c["nonce"] = json!("AAAAAAAAAAAAAAAAAAAAAA.9999999999.AAAA");
        });
        refused(verify(&response, Some("alice"), later(30)), &response);
    }

    #[test]
    fn expired_nonces_and_expired_responses_are_refused() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        // The request's nonce is dead after 600 s, whatever the response's own exp says.
        let response = respond(&redirect, "alice", |c| {
            c["exp"] = json!(unix_seconds(now()) + 3600)
        });
        assert!(verify(&response, Some("alice"), later(599)).is_ok());
        assert_eq!(
            refused(verify(&response, Some("alice"), later(600)), &response),
            "has expired"
        );
        // The response's exp (here 320 s after the request) is enforced too, in s or ms.
        let response = respond(&redirect, "alice", |_| {});
        assert_eq!(
            refused(verify(&response, Some("alice"), later(320)), &response),
            "has expired"
        );
        let response = respond(&redirect, "alice", |c| {
            c["exp"] = json!((unix_seconds(now()) + 320) * 1000);
        });
        assert!(verify(&response, Some("alice"), later(319)).is_ok());
        assert_eq!(
            refused(verify(&response, Some("alice"), later(320)), &response),
            "has expired"
        );
        let response = respond(&redirect, "alice", |c| {
            c.as_object_mut().unwrap().remove("exp");
        });
        assert_eq!(
            refused(verify(&response, Some("alice"), later(30)), &response),
            "has no expiry"
        );
    }

    #[test]
    fn forged_and_unsigned_responses_are_refused() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        let forged = respond_with_key(&redirect, "alice", &[1u8; 32], |_| {});
        refused(verify(&forged, Some("alice"), later(30)), &forged);
        let genuine = respond(&redirect, "alice", |_| {});
        let payload = genuine.split('.').nth(1).unwrap();
        let none = format!("{}.{payload}.", b64url(br#"{"alg":"none"}"#));
        refused(verify(&none, Some("alice"), later(30)), &none);
        let none_signed = format!(
            "{}.{payload}.{}",
            b64url(br#"{"alg":"none"}"#),
            genuine.rsplit('.').next().unwrap()
        );
        assert_eq!(
            refused(verify(&none_signed, Some("alice"), later(30)), &none_signed),
            "is not signed with HS256"
        );
        refused(verify("", Some("alice"), later(30)), "");
    }

    #[test]
    fn responses_for_another_org_audience_issuer_or_destination_are_refused() {
        let redirect = request(&properties(), &spec(Some("alice")), now());
        type Change = fn(&mut Value);
        let cases: [(&str, Change); 6] = [
            ("belongs to another PingID org", |c| {
                c["idpAccountId"] = json!("bbbbbbbb-0000-0000-0000-000000000000")
            }),
            ("belongs to another PingID org", |c| {
                c.as_object_mut().unwrap().remove("idpAccountId");
            }),
            ("was not issued to this connector", |c| {
                c["aud"] = json!("PingFed")
            }),
            ("was not issued by the PingID authenticator", |c| {
                c["iss"] = json!("md")
            }),
            ("was sent to another return URL", |c| {
                c["dst"] = json!("https://evil.example/r")
            }),
            ("has no known status", |c| c["status"] = json!("maybe")),
        ];
        for (reason, change) in cases {
            let response = respond(&redirect, "alice", change);
            assert_eq!(
                refused(verify(&response, Some("alice"), later(30)), &response),
                reason
            );
        }
        // An audience list naming us is fine.
        let response = respond(&redirect, "alice", |c| c["aud"] = json!(["x", ISSUER]));
        assert!(verify(&response, Some("alice"), later(30)).is_ok());
    }
}
