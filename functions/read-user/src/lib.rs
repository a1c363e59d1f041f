//! `readUser`: finds the PingOne user a flow is about, by exactly one of `userId`, `username`
//! or `email`, and answers the fields a flow uses (`user.id` is every other capability's
//! `userId`; `mobilePhone` and `email` are the backups' profile phone and address) and which
//! key `matched`.
//!
//! Exactly one user or `404 NOT_FOUND`: no user and several users (two accounts sharing an
//! address) give the same answer, so a caller learns nothing beyond what it asked. Several
//! keys, or none, are `400 VALIDATION_FAILED` naming each field: a flow that passes two keys
//! has to say which one it means.
//!
//! PingOne: `GET /environments/{envId}/users/{userId}`, or `GET …/users?filter=username eq
//! "…"&limit=2` (`email eq` for an address), the value escaped as a SCIM string so no input
//! can add a clause to the filter (`shared::pingone::UserKey`).

use serde::Deserialize;
use shared::pingone::{UserKey, UserOutput};
use shared::schema::EMAIL_PATTERN;
use shared::{Error, FieldProblem, Handler, Invocation};

/// The capability.
pub struct ReadUser;

/// The validated `properties`: exactly one of the three keys.
#[derive(Debug, Deserialize, shared::Input)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// PingOne user id (give exactly one of userId, username, email)
    #[field(id)]
    pub user_id: Option<String>,
    /// the username, compared without regard to case (or userId, or email)
    #[field(max_length = 128, pattern = "^[^\\x00-\\x1F\\x7F]+$")]
    pub username: Option<String>,
    /// the e-mail address, compared without regard to case (or userId, or username)
    #[field(max_length = 254, pattern = EMAIL_PATTERN)]
    pub email: Option<String>,
}

impl Input {
    /// The one key given; several or none are a problem on each field concerned.
    fn key(&self) -> Result<UserKey<'_>, Error> {
        let given: Vec<UserKey<'_>> = [
            self.user_id.as_deref().map(UserKey::Id),
            self.username.as_deref().map(UserKey::Username),
            self.email.as_deref().map(UserKey::Email),
        ]
        .into_iter()
        .flatten()
        .collect();
        match given.as_slice() {
            [key] => Ok(*key),
            [] => Err(Error::Validation(
                ["userId", "username", "email"]
                    .into_iter()
                    .map(|field| {
                        FieldProblem::new(
                            format!("properties.{field}"),
                            "one of userId, username or email is required",
                        )
                    })
                    .collect(),
            )),
            several => Err(Error::Validation(
                several
                    .iter()
                    .map(|key| {
                        FieldProblem::new(
                            format!("properties.{}", key.field()),
                            "give only one of userId, username or email",
                        )
                    })
                    .collect(),
            )),
        }
    }
}

impl Handler for ReadUser {
    const ID: &'static str = "readUser";
    const SUMMARY: &'static str = "Finds one PingOne user by id, username or e-mail address.";
    type Input = Input;
    type Output = UserOutput;

    async fn handle(&self, invocation: &Invocation<'_>, input: Input) -> Result<UserOutput, Error> {
        let key = input.key()?;
        let found = invocation.pingone().find_user(key).await?;
        UserOutput::new(found, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use shared::Declared;

    fn problems(properties: Value) -> Vec<(String, String)> {
        let input: Input = serde_json::from_value(properties).unwrap();
        match input.key() {
            Err(Error::Validation(problems)) => {
                problems.into_iter().map(|p| (p.field, p.problem)).collect()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn each_key_alone_names_what_it_looks_up() {
        let cases = [
            (
                json!({"userId": "a11ce000-0000-4000-8000-000000000001"}),
                UserKey::Id("a11ce000-0000-4000-8000-000000000001"),
            ),
            (json!({"username": "alice"}), UserKey::Username("alice")),
            (
                json!({"email": "alice@example.com"}),
                UserKey::Email("alice@example.com"),
            ),
        ];
        for (properties, expected) in cases {
            let input: Input = serde_json::from_value(properties).unwrap();
            assert_eq!(input.key().unwrap(), expected);
        }
    }

    #[test]
    fn several_keys_are_each_named() {
        let found = problems(json!({"username": "alice", "email": "alice@example.com"}));
        let fields: Vec<&str> = found.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["properties.username", "properties.email"]);
    }

    #[test]
    fn no_key_names_all_three() {
        let found = problems(json!({}));
        let fields: Vec<&str> = found.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "properties.userId",
                "properties.username",
                "properties.email"
            ]
        );
    }

    #[test]
    fn a_quote_in_a_username_is_a_value_but_a_control_character_is_not() {
        let schema = Input::schema();
        let quoted = json!({"properties": {"username": "x\" or username sw \"a"}});
        assert!(schema.validate(&quoted).is_ok());
        let Err(Error::Validation(found)) =
            schema.validate(&json!({"properties": {"username": "a\nb", "email": "alice"}}))
        else {
            panic!("refused")
        };
        let fields: Vec<&str> = found.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["properties.username", "properties.email"]);
    }
}
