//! Server-rendered pages of the simulated PingID authenticator: plain HTML, inline CSS, a
//! few lines of inline script where WebAuthn or the auto-submit needs it; no external assets.

use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` block: `<` escaped so no `</script>`.
pub(crate) fn script_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0}\
main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.4rem;color:#b3282d}\
button{font-size:1rem;padding:.5rem 1.2rem;margin:.3rem .3rem .3rem 0}\
input{font-size:1rem;padding:.4rem;width:8rem}#error{color:#b3282d}";

/// A complete page with `status`; `body_attrs` go on `<body>` (e.g. `onload`).
pub(crate) fn page(status: StatusCode, title: &str, body_attrs: &str, main: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head>\n<body{body_attrs}><main>\n{main}\n</main></body></html>\n",
        escape(title)
    );
    (
        status,
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

/// An error page: `<p id="error">`.
pub(crate) fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "PingID - Error",
        "",
        &format!("<h1>PingID</h1>\n<p id=\"error\">{}</p>", escape(message)),
    )
}

/// The auto-submitting form that carries `ppm_response` to `return_url`.
pub(crate) fn response_page(return_url: &str, ppm_response: &str) -> Response {
    page(
        StatusCode::OK,
        "PingID",
        " onload=\"document.getElementById('ppm-response').submit()\"",
        &format!(
            "<h1>PingID</h1>\n<p>Returning to the application…</p>\n\
<form id=\"ppm-response\" method=\"post\" action=\"{}\">\n\
<input type=\"hidden\" name=\"ppm_response\" value=\"{}\">\n\
<noscript><button type=\"submit\">Continue</button></noscript>\n</form>",
            escape(return_url),
            escape(ppm_response)
        ),
    )
}

/// Browser helpers for the WebAuthn pages: base64url ↔ bytes.
pub(crate) const B64URL_JS: &str = "const fromB64u=s=>Uint8Array.from(atob(s.replace(/-/g,'+')\
.replace(/_/g,'/').padEnd(Math.ceil(s.length/4)*4,'=')),c=>c.charCodeAt(0));\n\
const toB64u=b=>btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\\+/g,'-')\
.replace(/\\//g,'_').replace(/=+$/,'');\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(
            script_json(&serde_json::json!({ "a": "</script>" })),
            r#"{"a":"\u003c/script>"}"#
        );
    }
}
