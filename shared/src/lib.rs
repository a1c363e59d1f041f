//! The common crate of the PingID connector for AWS Lambda: the capability abstraction, input
//! schemas, the error model, secrets, the PingOne client and the Lambda adapter.
//!
//! A function crate is a [`capability::Handler`] plus a three-line `main` calling
//! [`lambda::run`]; the local gateway serves the same handlers through
//! [`capability::dispatch`].

pub mod auth;
pub mod budget;
pub mod capability;
pub mod clock;
pub mod config;
pub mod device_type;
pub mod error;
pub mod http;
pub mod journey;
pub mod lambda;
pub mod legacy;
pub mod limits;
pub mod pingid;
pub mod pingone;
pub mod policy;
pub mod schema;
pub mod sdk;
pub mod sealed;
pub mod secrets;
pub mod telemetry;

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future: what object-safe async traits (the ports) return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

// The derives' generated code names `::shared`, also when it runs in this crate.
extern crate self as shared;

pub use capability::{Capability, Handler, Invocation, Ports};
pub use error::{Error, FieldProblem};
pub use schema::{Declared, Field, Schema};
/// Derives an input struct's schema from its serde declaration: one declaration per field.
///
/// ```
/// use serde::Deserialize;
/// use shared::schema::{Declared, OTP_PATTERN};
/// use shared::secrets::Secret;
///
/// #[derive(Debug, Deserialize, shared::Input)]
/// #[serde(rename_all = "camelCase")]
/// pub struct Input {
///     /// the API description of deviceAuthenticationId
///     #[field(id)]
///     pub device_authentication_id: String,
///     /// the one-time passcode the user entered
///     #[field(max_length = 64, pattern = OTP_PATTERN)]
///     pub otp: Option<Secret<String>>,
///     /// device ids to put first, in order
///     #[field(max_items = 100, items(id))]
///     pub device_order_list: Option<Vec<String>>,
/// }
///
/// // Every problem is named at once, by its JSON name.
/// let request = serde_json::json!({ "properties": { "otp": "1", "deviceOrderList": [7] } });
/// let Err(shared::Error::Validation(problems)) = Input::schema().validate(&request) else {
///     panic!("three problems")
/// };
/// let fields: Vec<&str> = problems.iter().map(|problem| problem.field.as_str()).collect();
/// assert_eq!(fields, ["properties.deviceAuthenticationId", "properties.otp", "properties.deviceOrderList[0]"]);
/// ```
///
/// Names follow `rename_all` / `rename`; a field is required unless its type is an `Option`
/// or it has `#[serde(default)]`; `#[serde(flatten)]` includes another `Input`'s fields;
/// `#[field(...)]` takes `id`, `max_length`, `pattern`, `one_of` (strings), `max_items` and
/// `items(...)` (arrays). A bound that does not fit the type is a compile error.
pub use shared_derive::Input;
/// Derives the string field of a unit enum: one of the variants' serde names.
pub use shared_derive::Values;

/// Test support shared by the modules' tests.
#[cfg(test)]
pub(crate) mod test_support {
    /// Serves `app` on a free loopback port for the rest of the test; returns its address.
    pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        address
    }
}
