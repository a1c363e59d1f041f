//! The end-to-end tests: the real function binaries (and the local stack, and a browser)
//! against the simulator and moto. One test binary with a module per subject: each binary of
//! its own would link the whole harness again (about 6 s each on 2 cores), and `cargo test`
//! runs binaries one after another but the tests of one binary side by side.

mod support;

mod authentication;
mod authorizer;
mod bad_input;
mod browser_harness;
mod cargo_lambda;
mod devices;
mod enrollment;
mod enrollment_queue;
mod events;
mod harness;
mod journey_authentication;
mod journey_registration;
mod legacy;
mod legacy_browser;
mod legacy_return_page;
mod limits;
mod logging;
mod passkey_browser;
mod pingid_rest;
mod policy;
mod resilience;
mod template;
mod users;
