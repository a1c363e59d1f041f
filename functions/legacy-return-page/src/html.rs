//! The page's HTML and its headers. The outcome is in markup a flow or a test reads by id
//! (`#outcome[data-status]`, `#status`, `#sub`, `#code`); nothing else is promised.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use shared::error::ErrorBody;
use shared::legacy::flow::PpmOutcome;
use shared::pingid::ppm::{Redirect, html_escape as escape};

/// The one script a page may run: the redirect's auto-submit, allowed by its hash.
const AUTO_SUBMIT: &str = "document.forms[0].submit();";

/// The policy of a page that runs nothing and posts nowhere.
const OUTCOME_POLICY: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// One answer of the page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The document.
    pub html: String,
    /// Its Content-Security-Policy.
    pub csp: String,
}

impl Page {
    /// Every header of the answer.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        vec![
            ("content-type", "text/html; charset=utf-8".into()),
            ("content-security-policy", self.csp.clone()),
            ("x-content-type-options", "nosniff".into()),
            ("referrer-policy", "no-referrer".into()),
            ("cache-control", "no-store".into()),
            ("x-frame-options", "DENY".into()),
        ]
    }

    /// The verified outcome of `capability` (a `failure` from PingID is an outcome too).
    pub fn outcome(capability: &str, outcome: &PpmOutcome) -> Self {
        let code = outcome.error_code.as_deref().unwrap_or_default();
        let body = format!(
            "<dl>\
             <dt>Status</dt><dd id=\"status\">{}</dd>\
             <dt>User</dt><dd id=\"sub\">{}</dd>\
             <dt>Authenticated with</dt><dd id=\"authenticationType\">{}</dd>\
             <dt>From</dt><dd id=\"accessingIp\">{}</dd>\
             <dt>Code</dt><dd id=\"code\">{}</dd>\
             <dt>Message</dt><dd id=\"message\">{}</dd>\
             </dl>",
            escape(&outcome.status),
            escape(&outcome.sub),
            escape(outcome.authentication_type.as_deref().unwrap_or_default()),
            escape(outcome.accessing_device.ip.as_deref().unwrap_or_default()),
            escape(code),
            escape(outcome.message.as_deref().unwrap_or_default()),
        );
        let title = format!("{capability}: {}", outcome.status);
        Self::document(200, &outcome.status, capability, &title, &body)
    }

    /// A refusal or failure, by its error body (never an internal detail: that is logged).
    pub fn error(error: &ErrorBody) -> Self {
        let details: String = error
            .details
            .iter()
            .map(|detail| {
                format!(
                    "<li><code>{}</code> {}</li>",
                    escape(&detail.field),
                    escape(&detail.problem)
                )
            })
            .collect();
        let body = format!(
            "<dl>\
             <dt>Status</dt><dd id=\"status\">error</dd>\
             <dt>Code</dt><dd id=\"code\">{}</dd>\
             <dt>Message</dt><dd id=\"message\">{}</dd>\
             <dt>Correlation id</dt><dd id=\"correlationId\">{}</dd>\
             </dl><ul id=\"details\">{details}</ul>",
            escape(error.code),
            escape(&error.message),
            escape(&error.correlation_id),
        );
        Self::document(error.http_response_code, "error", "", error.code, &body)
    }

    /// The next step of a passkey sign-in: an auto-submitting form to the authenticator. The
    /// policy allows that one script (by hash) and a form post to the authenticator's origin.
    pub fn redirect(redirect: &Redirect, sub: &str) -> Self {
        let inputs: String = redirect
            .form
            .iter()
            .map(|(name, value)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    escape(name),
                    escape(value)
                )
            })
            .collect();
        let origin = url::Url::parse(&redirect.target_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_else(|_| "'none'".into());
        let html = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>PingID</title></head>\
             <body><main id=\"outcome\" data-status=\"redirect\">\
             <p id=\"passwordless\">Signed in with a passkey as <b id=\"sub\">{}</b>; completing…</p>\
             <form method=\"post\" action=\"{}\">{inputs}\
             <noscript><button type=\"submit\">Continue</button></noscript></form>\
             </main><script>{AUTO_SUBMIT}</script></body></html>",
            escape(sub),
            escape(&redirect.target_url),
        );
        let hash = STANDARD.encode(Sha256::digest(AUTO_SUBMIT.as_bytes()));
        Self {
            status: 200,
            html,
            csp: format!(
                "default-src 'none'; script-src 'sha256-{hash}'; base-uri 'none'; \
                 form-action {origin}; frame-ancestors 'none'"
            ),
        }
    }

    fn document(status: u16, outcome: &str, capability: &str, title: &str, body: &str) -> Self {
        let html = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
             <body><main id=\"outcome\" data-status=\"{}\" data-capability=\"{}\">\
             <h1>{}</h1>{body}</main></body></html>",
            escape(title),
            escape(outcome),
            escape(capability),
            escape(title),
        );
        Self {
            status,
            html,
            csp: OUTCOME_POLICY.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::legacy::flow::{AccessingDevice, AuthenticationDevice};
    use std::collections::BTreeMap;

    fn outcome(sub: &str) -> PpmOutcome {
        PpmOutcome {
            ppm_response: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln".into(),
            status: "failure".into(),
            sub: sub.into(),
            accessing_device: AccessingDevice { ip: None },
            authentication_device: AuthenticationDevice { id: None },
            authentication_type: Some("SWIPE".into()),
            error_code: Some("PINGID_001".into()),
            message: Some("denied <b>".into()),
            passwordless_context: None,
        }
    }

    #[test]
    fn an_outcome_shows_the_user_and_code_escaped_and_never_the_response() {
        let page = Page::outcome("initializeMfa", &outcome("<script>alert(1)</script>"));
        assert!(page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.html.contains("<script>"), "{}", page.html);
        assert!(page.html.contains("<dd id=\"code\">PINGID_001</dd>"));
        assert!(page.html.contains("denied &lt;b&gt;"));
        assert!(!page.html.contains("eyJ"), "the PPM response is not shown");
        assert_eq!(page.csp, OUTCOME_POLICY);
        let headers: BTreeMap<_, _> = page.headers().into_iter().collect();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
    }

    #[test]
    fn a_redirect_runs_only_its_hashed_script_and_posts_only_to_the_authenticator() {
        let redirect = Redirect {
            target_url: "https://authenticator.pingone.com/pingid/ppm/auth".into(),
            form: BTreeMap::from([("ppm_request".to_string(), "a\"><x".to_string())]),
            html: String::new(),
        };
        let page = Page::redirect(&redirect, "alice");
        let hash = STANDARD.encode(Sha256::digest(AUTO_SUBMIT.as_bytes()));
        assert!(page.csp.contains(&format!("script-src 'sha256-{hash}'")));
        assert!(
            page.csp
                .contains("form-action https://authenticator.pingone.com;")
        );
        assert!(
            page.html
                .contains(&format!("<script>{AUTO_SUBMIT}</script>"))
        );
        assert!(page.html.contains("value=\"a&quot;&gt;&lt;x\""));
        assert!(
            !page.html.contains("onload"),
            "no inline handler: the policy forbids it"
        );
    }
}
