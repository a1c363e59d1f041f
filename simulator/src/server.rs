//! The HTTP/1 server loop. The simulator drives hyper connections itself (instead of
//! `axum::serve`) so that an injected `reset` fault can drop a connection without answering.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use crate::faults::InjectedReset;

/// A simulator serving in the background. Dropping it stops the server too.
#[derive(Debug)]
pub struct RunningSim {
    addr: SocketAddr,
    server: Option<JoinHandle<()>>,
}

impl RunningSim {
    /// The address the simulator listens on (with the real port when started on port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://IP:PORT` without a trailing slash: the auth base URL; the API base is this plus `/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, closes the open ones and waits until the port is released.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            // The only possible error is the cancellation we just asked for.
            let _ = server.await;
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// Serves `router` on `listener` (bound to `addr`) in a background task.
pub(crate) fn spawn(listener: TcpListener, addr: SocketAddr, router: Router) -> RunningSim {
    RunningSim {
        addr,
        server: Some(tokio::spawn(accept_loop(listener, router))),
    }
}

/// Accepts connections until aborted. Connections live in a `JoinSet` so that aborting this
/// task (shutdown or drop) also closes every open connection.
async fn accept_loop(listener: TcpListener, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve_connection(stream, router.clone()));
                }
                Err(error) => {
                    tracing::warn!("accept failed: {error}");
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections so the set does not grow for the server's lifetime.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, router: Router) {
    let service = service_fn(move |request| handle(router.clone(), request));
    // No header-read timeout: closing idle keep-alive connections would race with clients
    // reusing them, and a local simulator has no slow-client attack to fend off.
    let connection = http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(error) = connection.await {
        tracing::debug!("connection closed: {error}");
    }
}

/// Runs one request through the router and logs it. Returning an error makes hyper close the
/// connection without writing a response, which is exactly the `reset` fault.
async fn handle(
    router: Router,
    request: hyper::Request<Incoming>,
) -> Result<axum::response::Response, InjectedReset> {
    let method = request.method().clone();
    // Path only: query strings may carry addresses and are not needed to follow the traffic.
    let path = request.uri().path().to_owned();
    let Ok::<_, Infallible>(response) = router.oneshot(request).await;
    if response.extensions().get::<InjectedReset>().is_some() {
        tracing::info!("{method} {path} connection reset (injected fault)");
        return Err(InjectedReset);
    }
    tracing::info!("{method} {path} {}", response.status().as_u16());
    Ok(response)
}
