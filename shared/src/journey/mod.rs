//! The two PingID subflows as journeys (issue 17): state machines a flow drives with a few
//! calls, the product enforcing the rules between them. This module holds what both journeys
//! share; the steps and the handlers come with the journeys themselves.
//!
//! - [`authentication`]: the authentication journey's rules that need no call (switches,
//!   mandatory methods, the policy's say);
//! - [`registration`]: the methods a user may register, with what is paired and the room left;
//! - [`mandatory`]: the seed's `mandatoryAuthenticationMethods` variable, parsed exactly;
//! - [`actions`]: the client's next move checked against the step, and the command it becomes;
//! - [`steps`]: what each answer shows and the actions it offers, from PingOne's
//!   authentication state;
//! - [`continuation`]: the sealed, single-use token that carries a journey from one call to the
//!   next, bound to its user and its journey.

pub mod actions;
pub mod authentication;
pub mod continuation;
pub mod mandatory;
pub mod registration;
pub mod steps;

/// The two journeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    /// PingID Authentication Subflow: `POST /v1/journeys/authentication`.
    Authentication,
    /// PingID Device Registration Subflow: `POST /v1/journeys/device-registration`.
    DeviceRegistration,
}

impl Journey {
    /// The route segment, also what a continuation is bound to.
    pub fn name(self) -> &'static str {
        match self {
            Journey::Authentication => "authentication",
            Journey::DeviceRegistration => "device-registration",
        }
    }
}
