//! The journey's answer as the API documents it: one `oneOf` branch per step.

use serde_json::Value;
use shared::journey::{StepDoc, answer_schema};
use shared::schema::Documented;

use crate::Output;

impl Documented for Output {
    fn json_schema() -> Value {
        use shared::schema::output::{array, boolean, integer, object, string};
        let choice = object(
            "A method the user may register",
            &[
                (
                    "method",
                    string("The method, by the seed's name (SMS, PINGID_MOBILE, …)"),
                ),
                (
                    "paired",
                    integer("ACTIVE devices of this method the user has"),
                ),
                (
                    "canRegister",
                    boolean("Whether one may be added now (room under the maximum)"),
                ),
            ],
            &[],
        );
        let device = object(
            "The new device, as PingOne has it",
            &[
                ("id", string("PingOne's device id")),
                (
                    "type",
                    string("PingOne's device type (SMS, MOBILE, PINGID_DESKTOP_GEN2, …)"),
                ),
                ("status", string("ACTIVE")),
                ("nickname", string("The device's name")),
            ],
            &["nickname"],
        );
        let method = || {
            (
                "method",
                string("The method being registered, by the seed's name"),
            )
        };
        let steps = [
            StepDoc {
                step: "METHOD_SELECTION",
                description: "The user picks a method to register",
                fields: &[
                    (
                        "methods",
                        array(choice, "The methods on offer, in the policy's order"),
                    ),
                    ("devices", integer("The user's devices, any status")),
                    (
                        "maxAllowedDevices",
                        integer("Devices a user may have (any status)"),
                    ),
                ],
                optional: &[],
                is_final: false,
            },
            StepDoc {
                step: "ACTIVATION_REQUIRED",
                description: "The new device waits for a passcode (sent, or from the app, token or key)",
                fields: &[
                    method(),
                    (
                        "destination",
                        string("SMS, VOICE, EMAIL: where the passcode went, masked"),
                    ),
                    (
                        "keyUri",
                        string("TOTP: the otpauth:// URI to show as a QR code"),
                    ),
                    (
                        "secret",
                        string("TOTP: the key, to type into the app by hand"),
                    ),
                    (
                        "attemptsLeft",
                        integer("After a wrong passcode: the attempts left"),
                    ),
                    (
                        "retry",
                        string("Why the step is shown again: INVALID_OTP or OTP_EXPIRED"),
                    ),
                ],
                optional: &["destination", "keyUri", "secret", "attemptsLeft", "retry"],
                is_final: false,
            },
            StepDoc {
                step: "ATTESTATION_REQUIRED",
                description: "The new device waits for its attestation (browser or desktop app)",
                fields: &[
                    method(),
                    (
                        "publicKeyCredentialCreationOptions",
                        string(
                            "SECURITY_KEY, PLATFORM: options for navigator.credentials.create (JSON text)",
                        ),
                    ),
                    (
                        "pingIdDesktopCredentialCreationOptions",
                        string("PINGID_DESKTOP: the options for the desktop app"),
                    ),
                    (
                        "retry",
                        string("Why the step is shown again: INVALID_ATTESTATION"),
                    ),
                ],
                optional: &[
                    "publicKeyCredentialCreationOptions",
                    "pingIdDesktopCredentialCreationOptions",
                    "retry",
                ],
                is_final: false,
            },
            StepDoc {
                step: "PAIRING_KEY_ISSUED",
                description: "A pairing key waits for the PingID mobile app to claim it",
                fields: &[
                    (
                        "pairingKey",
                        string("The key to type or scan into the PingID app"),
                    ),
                    ("expiresAt", string("When the key expires (RFC 3339)")),
                    ("pollAfterSeconds", integer("When to poll again")),
                ],
                optional: &["expiresAt"],
                is_final: false,
            },
            StepDoc {
                step: "REGISTERED",
                description: "The device is paired; handed over from the authentication journey, \
                              the continuation is that journey's",
                fields: &[("device", device)],
                // Final for this journey; the continuation, when present, is the
                // authentication journey's.
                optional: &["continuation"],
                is_final: false,
            },
            StepDoc {
                step: "FAILED",
                description: "Ended without a new device",
                fields: &[(
                    "reason",
                    string("CANCELED, TOO_MANY_ATTEMPTS or PAIRING_KEY_EXPIRED"),
                )],
                optional: &[],
                is_final: true,
            },
        ];
        answer_schema(
            "DeviceRegistrationAnswer",
            "One step of the device-registration journey",
            &steps,
        )
    }
}
