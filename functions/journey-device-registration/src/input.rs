//! The journey's input: the user, then the continuation and one action with its fields (and,
//! for `register`, the method's), every disagreement reported at once.

use serde::Deserialize;
use shared::error::FieldProblem;
use shared::journey::mandatory;
use shared::journey::registration::ActionName;
use shared::schema::{EMAIL_PATTERN, ORIGIN_PATTERN, OTP_PATTERN, PHONE_PATTERN};
use shared::secrets::Secret;

/// The validated `properties`.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id
    #[field(id)]
    pub ping_id_user_id: Option<String>,
    /// PingOne user id, the seed's other spelling of pingIdUserId
    #[serde(rename = "pingIDUserId")]
    #[field(id)]
    pub ping_id_user_id_seed: Option<String>,
    /// the previous answer's continuation; absent to start
    #[field(max_length = 8192)]
    pub continuation: Option<Secret<String>>,
    /// one of the actions the previous answer offered
    pub action: Option<ActionName>,
    /// register: the method, by the seed's name
    #[field(one_of = &mandatory::METHODS)]
    pub method: Option<String>,
    /// register SMS or VOICE: the phone number (E.164); the profile's mobilePhone when absent
    #[field(max_length = 16, pattern = PHONE_PATTERN)]
    pub phone: Option<String>,
    /// register EMAIL: the address; the profile's email when absent
    #[field(max_length = 254, pattern = EMAIL_PATTERN)]
    pub email: Option<String>,
    /// register OATH_TOKEN: the token's serial number
    #[field(max_length = 100, pattern = "^[A-Za-z0-9_-]+$")]
    pub serial_number: Option<String>,
    /// register SECURITY_KEY or PLATFORM: the relying party id (the page's domain)
    #[field(max_length = 253, pattern = "^[A-Za-z0-9.-]+$")]
    pub rp_id: Option<String>,
    /// register: the new device's name
    #[field(max_length = 100)]
    pub nickname: Option<String>,
    /// otp: the passcode the user typed
    #[field(max_length = 64, pattern = OTP_PATTERN)]
    pub otp: Option<Secret<String>>,
    /// attestation: the credential navigator.credentials.create returned (JSON), or the desktop app's attestation
    #[field(max_length = 16_384, pattern = "^\\S")]
    pub attestation: Option<Secret<String>>,
    /// attestation: the origin of the page that ran the ceremony
    #[field(max_length = 255, pattern = ORIGIN_PATTERN)]
    pub origin: Option<String>,
}

/// What `register` asks for.
#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) method: String,
    pub(crate) phone: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) serial_number: Option<String>,
    pub(crate) rp_id: Option<String>,
    pub(crate) nickname: Option<String>,
}

/// The client's next move, with the fields that go with it.
#[derive(Debug)]
pub(crate) enum Move {
    Register(Registration),
    Otp(Secret<String>),
    Resend,
    Attestation {
        attestation: Secret<String>,
        origin: String,
    },
    Poll,
    Cancel,
}

impl Move {
    pub(crate) fn name(&self) -> ActionName {
        match self {
            Move::Register(_) => ActionName::Register,
            Move::Otp(_) => ActionName::Otp,
            Move::Resend => ActionName::Resend,
            Move::Attestation { .. } => ActionName::Attestation,
            Move::Poll => ActionName::Poll,
            Move::Cancel => ActionName::Cancel,
        }
    }
}

/// The request, once its fields agree.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) user_id: String,
    pub(crate) continuation: Option<Secret<String>>,
    pub(crate) next: Option<Move>,
}

pub(crate) fn problem(field: &str, text: impl Into<String>) -> FieldProblem {
    FieldProblem::new(format!("properties.{field}"), text)
}

impl Input {
    /// The request, when the user is named; every disagreement among the fields is added to
    /// `problems` (the action's own fields, a field of another action or method).
    pub(crate) fn request(mut self, problems: &mut Vec<FieldProblem>) -> Option<Request> {
        let user_id = match (
            self.ping_id_user_id.take(),
            self.ping_id_user_id_seed.take(),
        ) {
            (Some(a), Some(b)) if a != b => {
                problems.push(problem(
                    "pingIDUserId",
                    "differs from pingIdUserId; give one of the two",
                ));
                None
            }
            (Some(id), _) | (None, Some(id)) => Some(id),
            (None, None) => {
                problems.push(problem("pingIdUserId", "is required (or pingIDUserId)"));
                None
            }
        };
        let action = self.action;
        let mut belongs = |field: &str, given: bool, owner: ActionName| {
            if given && action != Some(owner) {
                problems.push(problem(
                    field,
                    format!("applies only to the {} action", owner.name()),
                ));
            }
        };
        let register = ActionName::Register;
        belongs("method", self.method.is_some(), register);
        belongs("phone", self.phone.is_some(), register);
        belongs("email", self.email.is_some(), register);
        belongs("serialNumber", self.serial_number.is_some(), register);
        belongs("rpId", self.rp_id.is_some(), register);
        belongs("nickname", self.nickname.is_some(), register);
        belongs("otp", self.otp.is_some(), ActionName::Otp);
        belongs(
            "attestation",
            self.attestation.is_some(),
            ActionName::Attestation,
        );
        belongs("origin", self.origin.is_some(), ActionName::Attestation);
        match (&self.continuation, action) {
            (None, Some(action)) => problems.push(problem(
                "action",
                format!(
                    "{} needs the continuation of the answer that offered it; start without an action",
                    action.name()
                ),
            )),
            (Some(_), None) => problems.push(problem("action", "is required with a continuation")),
            _ => {}
        }
        let required = |problems: &mut Vec<FieldProblem>, field: &str| {
            problems.push(problem(
                field,
                format!(
                    "is required with the {} action",
                    action.map_or("", ActionName::name)
                ),
            ));
        };
        let next = match action {
            None => None,
            Some(ActionName::Register) => match self.method.take() {
                Some(method) => {
                    method_fields(&method, &self, problems);
                    Some(Move::Register(Registration {
                        method,
                        phone: self.phone,
                        email: self.email,
                        serial_number: self.serial_number,
                        rp_id: self.rp_id,
                        nickname: self.nickname,
                    }))
                }
                None => {
                    required(problems, "method");
                    None
                }
            },
            Some(ActionName::Otp) => match self.otp {
                Some(otp) => Some(Move::Otp(otp)),
                None => {
                    required(problems, "otp");
                    None
                }
            },
            Some(ActionName::Attestation) => match (self.attestation, self.origin) {
                (Some(attestation), Some(origin)) => Some(Move::Attestation {
                    attestation,
                    origin,
                }),
                (attestation, origin) => {
                    if attestation.is_none() {
                        required(problems, "attestation");
                    }
                    if origin.is_none() {
                        required(problems, "origin");
                    }
                    None
                }
            },
            Some(ActionName::Resend) => Some(Move::Resend),
            Some(ActionName::Poll) => Some(Move::Poll),
            Some(ActionName::Cancel) => Some(Move::Cancel),
        };
        Some(Request {
            user_id: user_id?,
            continuation: self.continuation,
            next,
        })
    }
}

/// `register`'s fields that belong to certain methods: given for another, or missing for
/// their own, each is a problem.
fn method_fields(method: &str, input: &Input, problems: &mut Vec<FieldProblem>) {
    let fido = ["SECURITY_KEY", "PLATFORM"].contains(&method);
    let fields = [
        (
            "phone",
            input.phone.is_some(),
            ["SMS", "VOICE"].contains(&method),
            "SMS and VOICE",
        ),
        ("email", input.email.is_some(), method == "EMAIL", "EMAIL"),
        (
            "serialNumber",
            input.serial_number.is_some(),
            method == "OATH_TOKEN",
            "OATH_TOKEN",
        ),
        (
            "rpId",
            input.rp_id.is_some(),
            fido,
            "SECURITY_KEY and PLATFORM",
        ),
    ];
    for (field, given, belongs, methods) in fields {
        if given && !belongs {
            problems.push(problem(field, format!("applies only to {methods}")));
        }
    }
    // The app names its device itself when it claims the key [I].
    if method == "PINGID_MOBILE" && input.nickname.is_some() {
        problems.push(problem(
            "nickname",
            "applies to every method but PINGID_MOBILE (the app names its device)",
        ));
    }
    if method == "OATH_TOKEN" && input.serial_number.is_none() {
        problems.push(problem("serialNumber", "is required for OATH_TOKEN"));
    }
}
