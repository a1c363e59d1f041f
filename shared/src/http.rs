//! The process's one HTTPS stack: reqwest over rustls, trusting Mozilla's root certificates
//! compiled into the binary. The PingOne, PingID and AWS SDK clients ([`crate::sdk`]) build on
//! [`client_builder`].
//!
//! Why compiled-in roots: reqwest's platform verifier and the SDK's own HTTPS client each read
//! and parse the system trust store (`/etc/ssl/certs`, about 150 certificates and 290 files) while
//! the function initialises. That was most of our cold-start init (13× the bare `lambda_runtime`
//! floor, `bench/REPORT.md`). `webpki-roots` holds the same Mozilla CA program the Lambda image's
//! bundle is built from, as ready-made trust anchors: nothing to read or parse. The roots change
//! with the crate version (`cargo update`), not with the Lambda image.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use crate::error::Error;

/// How long a TCP connect (plus the TLS handshake's first flight) may take. Ping's and AWS's
/// endpoints answer in tens of milliseconds; two seconds leaves room for one retry in the 5 s
/// budget.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an idle pooled connection is kept: warm invocations reuse it, a frozen sandbox
/// does not keep dead ones forever.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// A reqwest builder with this product's HTTPS settings: rustls with the compiled-in roots,
/// TLS 1.2+, HTTP/2 or 1.1 by ALPN, connect timeout, no redirects (a bearer token or a signed
/// request must never follow one to another host), our user agent. Callers add what is theirs
/// (e.g. `https_only`).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(TLS_CONFIG.clone())
        .connect_timeout(CONNECT_TIMEOUT)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("pingid-lambda/", env!("CARGO_PKG_VERSION")))
}

/// A reqwest builder with nothing of ours but the TLS stack: for the tests and tools that speak
/// plain HTTP on loopback. reqwest carries no crypto provider of its own (`rustls-no-provider`),
/// so every client, even one that never opens TLS, is built on this or [`client_builder`].
pub fn bare_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(TLS_CONFIG.clone())
}

/// Builds a client, naming the failure as ours.
pub fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, Error> {
    builder
        .build()
        .map_err(|e| Error::Internal(format!("HTTP client: {e}")))
}

/// Built once per process: the PingOne client, the SDK's HTTP client and any other client get
/// copies of it (its verifier and roots are shared), not a trust store each.
static TLS_CONFIG: LazyLock<rustls::ClientConfig> = LazyLock::new(tls_config);

fn tls_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // ring supports TLS 1.2 and 1.3: this cannot fail.
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    // reqwest leaves ALPN to a preconfigured config; offer what its own config would.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_config_trusts_the_compiled_in_roots_and_offers_h2() {
        let config = tls_config();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }
}
