//! The client's next move in the authentication journey, checked against the step it is at:
//! an action the step does not offer, or one a switch has turned off, is refused before
//! anything is sent. What the handler must then do is a [`Command`]; the handler only carries
//! it out with the PingOne calls the capabilities use.

use serde::{Deserialize, Serialize};

use super::authentication::{Backup, Switches};
use crate::error::{Error, FieldProblem};
use crate::secrets::Secret;

/// Where the journey stands, kept in its continuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum At {
    /// `DEVICE_SELECTION`.
    DeviceSelection,
    /// `PUSH_PENDING`.
    PushPending,
    /// `OTP_REQUIRED`.
    OtpRequired,
    /// `ASSERTION_REQUIRED`.
    AssertionRequired,
    /// Back from the device-registration journey, which handed over after pairing a
    /// mandatory method: the journey re-checks the mandatory methods and goes on.
    Registered,
}

/// What the client asks for.
#[derive(Debug)]
pub enum UserAction {
    /// A device of the user's by id.
    SelectDevice(String),
    /// A backup to the profile's phone or address.
    SelectBackup(Backup),
    /// The passcode the user typed.
    Otp(Secret<String>),
    /// The app's code instead of waiting for the push.
    UseCode(Secret<String>),
    /// The browser's assertion.
    Assertion {
        /// The credential, as JSON text.
        assertion: Secret<String>,
        /// The page's origin.
        origin: String,
    },
    /// Whether the push was answered.
    Poll,
    /// Go on after the device-registration journey handed back.
    Continue,
    /// Give up.
    Cancel,
}

/// What the handler does for an accepted action.
#[derive(Debug)]
pub enum Command {
    /// `device.select` with this device.
    SelectDevice(String),
    /// A one-time passcode by this backup, to the profile's phone or address.
    SendBackup(Backup),
    /// `otp.check` with this passcode.
    CheckOtp(Secret<String>),
    /// `assertion.check`.
    CheckAssertion {
        /// The credential.
        assertion: Secret<String>,
        /// The origin.
        origin: String,
    },
    /// Read the authentication again.
    Read,
    /// Check the mandatory methods again, and authenticate when all are paired.
    Resume,
    /// Cancel the authentication.
    Cancel,
}

impl At {
    /// The step's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            At::DeviceSelection => "DEVICE_SELECTION",
            At::PushPending => "PUSH_PENDING",
            At::OtpRequired => "OTP_REQUIRED",
            At::AssertionRequired => "ASSERTION_REQUIRED",
            At::Registered => "REGISTERED",
        }
    }
}

impl UserAction {
    /// The action's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            UserAction::SelectDevice(_) | UserAction::SelectBackup(_) => "select",
            UserAction::Otp(_) => "otp",
            UserAction::UseCode(_) => "useCode",
            UserAction::Assertion { .. } => "assertion",
            UserAction::Poll => "poll",
            UserAction::Continue => "continue",
            UserAction::Cancel => "cancel",
        }
    }
}

/// The command for `action` at `at` under `switches`. Anything the step does not offer is
/// refused, naming the action.
pub fn command(at: At, switches: &Switches, action: UserAction) -> Result<Command, Error> {
    let name = action.name();
    let refuse =
        |problem: String| Error::Validation(vec![FieldProblem::new("properties.action", problem)]);
    let not_offered = || refuse(format!("{name} is not offered at {}", at.name()));
    Ok(match (at, action) {
        (_, UserAction::Cancel) => Command::Cancel,
        (At::DeviceSelection, UserAction::SelectDevice(id)) => Command::SelectDevice(id),
        (At::DeviceSelection, UserAction::SelectBackup(backup)) => {
            if !switches.backups.contains(&backup) {
                return Err(refuse(format!(
                    "the {} backup is not offered to this user",
                    backup.name()
                )));
            }
            Command::SendBackup(backup)
        }
        (At::PushPending, UserAction::Poll) => Command::Read,
        (At::PushPending, UserAction::UseCode(code)) => {
            if !switches.use_code {
                return Err(refuse("useCode is switched off for this journey".into()));
            }
            Command::CheckOtp(code)
        }
        (At::OtpRequired, UserAction::Otp(code)) => Command::CheckOtp(code),
        (At::AssertionRequired, UserAction::Assertion { assertion, origin }) => {
            Command::CheckAssertion { assertion, origin }
        }
        (At::Registered, UserAction::Continue) => Command::Resume,
        _ => return Err(not_offered()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn switches(use_code: bool) -> Switches {
        Switches {
            backups: vec![Backup::Sms],
            use_code,
            otp_fallback: true,
        }
    }

    fn code() -> Secret<String> {
        Secret::new("123456".to_string())
    }

    fn refusal(result: Result<Command, Error>) -> String {
        match result {
            Err(Error::Validation(problems)) => problems[0].problem.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_step_takes_the_actions_it_offers() {
        let on = switches(true);
        assert!(matches!(
            command(At::DeviceSelection, &on, UserAction::SelectDevice("d1".into())),
            Ok(Command::SelectDevice(id)) if id == "d1"
        ));
        assert!(matches!(
            command(
                At::DeviceSelection,
                &on,
                UserAction::SelectBackup(Backup::Sms)
            ),
            Ok(Command::SendBackup(Backup::Sms))
        ));
        assert!(matches!(
            command(At::PushPending, &on, UserAction::Poll),
            Ok(Command::Read)
        ));
        assert!(matches!(
            command(At::PushPending, &on, UserAction::UseCode(code())),
            Ok(Command::CheckOtp(_))
        ));
        assert!(matches!(
            command(At::OtpRequired, &on, UserAction::Otp(code())),
            Ok(Command::CheckOtp(_))
        ));
        assert!(matches!(
            command(At::Registered, &on, UserAction::Continue),
            Ok(Command::Resume)
        ));
        for at in [
            At::DeviceSelection,
            At::PushPending,
            At::OtpRequired,
            At::AssertionRequired,
            At::Registered,
        ] {
            assert!(matches!(
                command(at, &on, UserAction::Cancel),
                Ok(Command::Cancel)
            ));
        }
    }

    #[test]
    fn anything_else_is_refused_before_anything_is_sent() {
        let off = switches(false);
        assert_eq!(
            refusal(command(At::OtpRequired, &off, UserAction::Poll)),
            "poll is not offered at OTP_REQUIRED"
        );
        assert_eq!(
            refusal(command(At::PushPending, &off, UserAction::Otp(code()))),
            "otp is not offered at PUSH_PENDING"
        );
        assert_eq!(
            refusal(command(At::PushPending, &off, UserAction::UseCode(code()))),
            "useCode is switched off for this journey"
        );
        assert_eq!(
            refusal(command(
                At::DeviceSelection,
                &off,
                UserAction::SelectBackup(Backup::Email)
            )),
            "the EMAIL backup is not offered to this user"
        );
        assert_eq!(
            refusal(command(At::DeviceSelection, &off, UserAction::Continue)),
            "continue is not offered at DEVICE_SELECTION"
        );
        assert_eq!(
            refusal(command(
                At::AssertionRequired,
                &off,
                UserAction::SelectDevice("d1".into())
            )),
            "select is not offered at ASSERTION_REQUIRED"
        );
    }
}
