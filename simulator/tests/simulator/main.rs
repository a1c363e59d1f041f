//! The simulator over real HTTP: one simulator per test, on an ephemeral port.
//! (One test binary with modules, so the suite links once.)

mod legacy;
mod schema;
mod support;

mod contract;
mod device_selection;
mod enrollment;
mod enrollment_errors;
mod faults;
mod management;
mod otp;
mod pingid_ppm;
mod pingid_rest;
mod push;
mod stats;
mod token;
