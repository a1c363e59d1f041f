//! The journey's answer as the API documents it: one `oneOf` branch per step.

use serde_json::{Value, json};
use shared::journey::{StepDoc, answer_schema};
use shared::schema::Documented;
use shared::schema::output::{array, integer, object, string};

use crate::Output;

impl Documented for Output {
    fn json_schema() -> Value {
        let devices = array(
            object(
                "A device, contact details masked",
                &[
                    ("id", string("PingOne's device id: select it with deviceId")),
                    ("type", string("PingOne's device type")),
                    ("nickname", string("The user's name for it")),
                    ("phone", string("The phone, masked")),
                    ("email", string("The address, masked")),
                ],
                &["nickname", "phone", "email"],
            ),
            "The user's usable devices",
        );
        let backups = array(
            json!({"type": "string", "enum": ["SMS", "VOICE", "EMAIL"]}),
            "The backups on offer, to the profile's phone or address",
        );
        let retry = string("Why the step is shown again: INVALID_OTP after a wrong code");
        let decision = object(
            "The policy decision the journey started with",
            &[
                ("action", string("The policy's action")),
                ("id", string("The evaluation id (its audit line)")),
            ],
            &[],
        );
        let mandatory = array(
            object(
                "A mandatory method",
                &[
                    (
                        "method",
                        string("The method, as mandatoryAuthenticationMethods names it"),
                    ),
                    (
                        "status",
                        json!({"type": "string", "enum": ["paired", "not paired"]}),
                    ),
                ],
                &[],
            ),
            "Every mandatory method, paired or not",
        );
        answer_schema(
            "AuthenticationJourneyAnswer",
            "The next step of the authentication journey",
            &[
                StepDoc {
                    step: "DEVICE_SELECTION",
                    description: "The user picks a device or a backup",
                    fields: &[
                        ("devices", devices),
                        ("backups", backups),
                        ("adminMessage", string("The flow's AdminMessage")),
                    ],
                    optional: &["adminMessage"],
                    is_final: false,
                },
                StepDoc {
                    step: "PUSH_PENDING",
                    description: "A push is on its way to the PingID app",
                    fields: &[
                        ("pollAfterSeconds", integer("When to poll again")),
                        ("retry", retry.clone()),
                    ],
                    optional: &["retry"],
                    is_final: false,
                },
                StepDoc {
                    step: "OTP_REQUIRED",
                    description: "A passcode is expected",
                    fields: &[
                        (
                            "channel",
                            string(
                                "Where it comes from: SMS, VOICE, EMAIL, MOBILE (the app's code), TOTP, …",
                            ),
                        ),
                        (
                            "destination",
                            string("The phone or address it went to, masked"),
                        ),
                        (
                            "attemptsLeft",
                            integer("Wrong passcodes the user may still type"),
                        ),
                        ("retry", retry),
                    ],
                    optional: &["destination", "attemptsLeft", "retry"],
                    is_final: false,
                },
                StepDoc {
                    step: "ASSERTION_REQUIRED",
                    description: "A WebAuthn assertion is expected",
                    fields: &[(
                        "publicKeyCredentialRequestOptions",
                        json!({"description": "PingOne's request options for navigator.credentials.get (JSON text or object, as PingOne gives them)"}),
                    )],
                    optional: &[],
                    is_final: false,
                },
                StepDoc {
                    step: "REGISTRATION_REQUIRED",
                    description: "Mandatory methods are not all paired: the continuation is the device-registration journey's",
                    fields: &[("mandatory", mandatory)],
                    optional: &[],
                    is_final: false,
                },
                StepDoc {
                    step: "COMPLETED",
                    description: "The user is authenticated",
                    fields: &[
                        ("method", string("The PingOne device type used")),
                        ("decision", decision),
                    ],
                    optional: &["method", "decision"],
                    is_final: true,
                },
                StepDoc {
                    step: "FAILED",
                    description: "Ended without authenticating",
                    fields: &[(
                        "reason",
                        json!({"type": "string", "enum": ["CANCELED", "PUSH_DENIED", "PUSH_TIMED_OUT", "PUSH_UNREACHABLE", "TOO_MANY_ATTEMPTS", "AUTHENTICATION_FAILED", "NO_USABLE_DEVICES", "UNEXPECTED_STATE"], "description": "Why, a stable code"}),
                    )],
                    optional: &[],
                    is_final: true,
                },
                StepDoc {
                    step: "DENIED",
                    description: "The policy refused the sign-in; nothing was sent",
                    fields: &[(
                        "reasons",
                        array(string("One sentence"), "The policy's reasons"),
                    )],
                    optional: &[],
                    is_final: true,
                },
            ],
        )
    }
}
