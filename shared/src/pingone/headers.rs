//! The PingOne response headers a flow may read: every PingOne-backed output carries them as
//! `headers`, beside `rawResponse` and `statusCode`, as the catalogue's envelope does.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::schema::output::{object, string};

/// The headers copied, by lower-case name, with what a flow does with each: an allowlist, so an
/// authorization, cookie or any other header PingOne may send is never passed on.
const KEPT: &[(&str, &str)] = &[
    (
        "correlation-id",
        "PingOne's id of the request, to quote to Ping support",
    ),
    ("location", "The URL of a resource PingOne created"),
    ("retry-after", "Seconds to wait before calling again"),
    ("x-ratelimit-limit", "PingOne's rate limit"),
    ("x-ratelimit-remaining", "Calls left in PingOne's window"),
    ("x-ratelimit-reset", "When PingOne's window resets"),
];

/// The longest value copied: a header is a hint to a flow, never a payload.
const MAX_VALUE_CHARS: usize = 512;

/// PingOne response headers a flow can use (see [`KEPT`]), by lower-case name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Headers(BTreeMap<&'static str, String>);

impl Headers {
    /// The kept headers of a PingOne answer; values that are not text are left out.
    pub fn from_http(headers: &reqwest::header::HeaderMap) -> Self {
        Self(
            KEPT.iter()
                .filter_map(|(name, _)| {
                    let value = headers.get(*name)?.to_str().ok()?;
                    Some((*name, value.chars().take(MAX_VALUE_CHARS).collect()))
                })
                .collect(),
        )
    }

    /// The value of a kept header.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The schema of `headers` in every output: each kept header, each optional.
    pub fn json_schema() -> Value {
        let properties: Vec<(&str, Value)> = KEPT
            .iter()
            .map(|(name, meaning)| (*name, string(meaning)))
            .collect();
        let names: Vec<&str> = KEPT.iter().map(|(name, _)| *name).collect();
        object(
            "PingOne's response headers a flow may use (never an authorization or cookie header)",
            &properties,
            &names,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn only_the_headers_a_flow_may_use_are_copied() {
        let mut http = HeaderMap::new();
        for (name, value) in [
            ("Correlation-Id", "c0ffee"),
            (
                "Location",
                "https://api.pingone.com/v1/environments/e/users/u/devices/d",
            ),
            ("Authorization", "Bearer secret-token"),
            ("Set-Cookie", "ST=secret; Secure"),
            ("WWW-Authenticate", "Bearer"),
            ("X-RateLimit-Remaining", "99"),
        ] {
            http.insert(
                reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_static(value),
            );
        }
        let headers = Headers::from_http(&http);
        let serialized = serde_json::to_value(&headers).unwrap();
        assert_eq!(
            serialized,
            serde_json::json!({
                "correlation-id": "c0ffee",
                "location": "https://api.pingone.com/v1/environments/e/users/u/devices/d",
                "x-ratelimit-remaining": "99",
            })
        );
        assert!(!serialized.to_string().contains("secret"));
        let found = crate::schema::output::departures(&Headers::json_schema(), &serialized);
        assert_eq!(found, Vec::<String>::new());
    }
}
