//! PingOne: the port the handlers call ([`PingOne`]), its HTTP client ([`PingOneClient`]) and
//! the typed calls behind the capabilities ([`PingOneCalls`]).

mod client;
pub mod connection;
pub mod errors;
mod headers;
mod management;
mod mfa;
pub mod token;
mod users;

use serde_json::Value;

pub use client::PingOneClient;
pub use connection::{Connection, Hosts, Region};
pub use headers::Headers;
pub use management::{
    DeviceOutput, EmptyOutput, MfaEnabledOutput, NicknameOutput, OrderOutput, PairingKeyOutput,
    PolicyOutput,
};
pub use mfa::{DeviceAuthenticationOutput, DevicesOutput, PingOneCalls, UsersAuthentication};
pub use users::{FoundUser, UserKey, UserOutput, UserProfile};

use crate::BoxFuture;
use crate::budget::Deadline;
use crate::error::Error;

/// Which PingOne host serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `auth.pingone.<tld>/{envId}/…`: tokens and device authentications.
    Auth,
    /// `api.pingone.<tld>/v1/environments/{envId}/…`: users, devices, policies.
    Api,
}

/// HTTP methods PingOne uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Create or act.
    Post,
    /// Replace.
    Put,
    /// Remove.
    Delete,
}

/// One PingOne API request, relative to the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Which host.
    pub host: Host,
    /// Which method.
    pub method: Method,
    /// Path below the environment, e.g. `users/{id}/devices` (segments already encoded).
    pub path: String,
    /// Query parameters, URL-encoded when sent. Kept apart from `path` so that the values (a
    /// user's name or address in a filter) are never spliced into the URL by hand nor written
    /// to the call's log line, which names only the path.
    pub query: Vec<(&'static str, String)>,
    /// `Content-Type` of the body: `application/json` or a PingOne vendor type.
    pub content_type: &'static str,
    /// JSON body, if any.
    pub body: Option<Value>,
}

impl Request {
    /// A read.
    pub fn get(host: Host, path: String) -> Self {
        Self {
            host,
            method: Method::Get,
            path,
            query: Vec::new(),
            content_type: "application/json",
            body: None,
        }
    }

    /// A read with query parameters.
    pub fn get_with(host: Host, path: String, query: Vec<(&'static str, String)>) -> Self {
        Self {
            query,
            ..Self::get(host, path)
        }
    }

    /// A POST with a JSON body of `content_type` (PingOne selects actions by vendor type).
    pub fn post(host: Host, path: String, content_type: &'static str, body: Value) -> Self {
        Self {
            host,
            method: Method::Post,
            path,
            query: Vec::new(),
            content_type,
            body: Some(body),
        }
    }

    /// A PUT with a JSON body.
    pub fn put(host: Host, path: String, body: Value) -> Self {
        Self {
            host,
            method: Method::Put,
            path,
            query: Vec::new(),
            content_type: "application/json",
            body: Some(body),
        }
    }

    /// A DELETE of `content_type` (PingOne gives some deletes a vendor type), without a body.
    pub fn delete(host: Host, path: String, content_type: &'static str) -> Self {
        Self {
            host,
            method: Method::Delete,
            path,
            query: Vec::new(),
            content_type,
            body: None,
        }
    }

    /// Reads may be retried once; writes never are (an OTP must not be submitted twice).
    pub fn is_idempotent(&self) -> bool {
        self.method == Method::Get
    }
}

/// PingOne's answer to a successful request.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The HTTP status (2xx).
    pub status: u16,
    /// The JSON body (`null` when empty).
    pub body: Value,
    /// The response headers a flow may read ([`Headers`]).
    pub headers: Headers,
}

impl Response {
    /// An answer without headers (fakes and tests).
    pub fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Headers::default(),
        }
    }
}

/// The PingOne port: sends one request within the deadline, with the worker app's token.
/// Non-2xx answers come back as our [`Error`]s.
pub trait PingOne: Send + Sync {
    /// Sends `request`, answering before `deadline`.
    fn send(&self, request: Request, deadline: Deadline) -> BoxFuture<'_, Result<Response, Error>>;
}

/// Percent-encodes one path segment. Ids are schema-checked UUIDs already; this keeps a path
/// from ever being steered by a value even if a schema were loosened.
pub fn segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    if encoded == "." || encoded == ".." {
        encoded = encoded.replace('.', "%2E");
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_climb_or_split() {
        assert_eq!(
            segment("a11ce000-0000-4000-8000-000000000001"),
            "a11ce000-0000-4000-8000-000000000001"
        );
        assert_eq!(segment("../admin"), "..%2Fadmin");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("a?b#c"), "a%3Fb%23c");
    }

    #[test]
    fn only_reads_are_idempotent() {
        assert!(Request::get(Host::Api, "users".into()).is_idempotent());
        let post = Request::post(Host::Auth, "x".into(), "application/json", Value::Null);
        assert!(!post.is_idempotent());
    }
}
