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
pub mod error;
pub mod http;
pub mod lambda;
pub mod legacy;
pub mod pingid;
pub mod pingone;
pub mod schema;
pub mod sdk;
pub mod secrets;
pub mod telemetry;

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future: what object-safe async traits (the ports) return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use capability::{Capability, Handler, Invocation, Ports};
pub use error::{Error, FieldProblem};
pub use schema::{Field, Schema};

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
