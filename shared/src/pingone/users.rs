//! Finding one PingOne user (pingone-api.md §3.1): by id, or by a SCIM equality filter on the
//! username or the e-mail address, and the output object of `readUser`.
//!
//! The answer is exactly one user or `NOT_FOUND`: no user and several users answer alike, so a
//! caller learns nothing beyond "this key names one user" (no enumeration of who shares an
//! address). A sign-in flow resolves its user here before any MFA step.

use serde::Serialize;
use serde_json::Value;

use super::errors::no_such_resource;
use super::management::text;
use super::{Headers, Host, PingOneCalls, Request, Response};
use crate::error::Error;
use crate::schema::Documented;
use crate::schema::output::{any_object, nullable, object, pingone_output, string};

/// What a user is looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey<'a> {
    /// The user's PingOne id.
    Id(&'a str),
    /// The username (PingOne compares it without regard to case).
    Username(&'a str),
    /// The e-mail address (PingOne compares it without regard to case).
    Email(&'a str),
}

impl UserKey<'_> {
    /// The input field that carries this key, also `readUser`'s `matched`.
    pub fn field(&self) -> &'static str {
        match self {
            UserKey::Id(_) => "userId",
            UserKey::Username(_) => "username",
            UserKey::Email(_) => "email",
        }
    }
}

/// Where two users can share a key, two answers are enough to know it is not one.
const FILTER_LIMIT: &str = "2";

/// PingOne's answer and the one user in it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundUser {
    /// PingOne's body as it came: the user, or the filtered list holding it.
    pub response: Response,
    /// The user resource.
    pub user: Value,
}

impl PingOneCalls<'_> {
    /// The one user `key` names, or `NOT_FOUND` (none, or more than one).
    ///
    /// A filtered answer is checked against the key, so a filter PingOne ignored or read
    /// otherwise can never hand back some other user.
    pub async fn find_user(&self, key: UserKey<'_>) -> Result<FoundUser, Error> {
        let (attribute, value) = match key {
            UserKey::Id(id) => {
                let response = self.read_user(id).await?;
                return match response.body.get("id").and_then(Value::as_str) {
                    Some(found) if found == id => Ok(FoundUser {
                        user: response.body.clone(),
                        response,
                    }),
                    _ => Err(Error::UpstreamInvalid("user without its `id`".into())),
                };
            }
            UserKey::Username(username) => ("username", username),
            UserKey::Email(email) => ("email", email),
        };
        let query = vec![
            ("filter", equality_filter(attribute, value)),
            ("limit", FILTER_LIMIT.to_string()),
        ];
        let response = self
            .send(Request::get_with(Host::Api, "users".into(), query))
            .await?;
        let users = response
            .body
            .pointer("/_embedded/users")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::UpstreamInvalid("user list without _embedded.users".into()))?;
        let [user] = users.as_slice() else {
            return Err(no_such_resource());
        };
        let holds_value = user
            .get(attribute)
            .and_then(Value::as_str)
            .is_some_and(|held| held.to_lowercase() == value.to_lowercase());
        if !holds_value {
            return Err(no_such_resource());
        }
        Ok(FoundUser {
            user: user.clone(),
            response,
        })
    }
}

/// `<attribute> eq "<value>"` with the value as a SCIM string literal, which is a JSON string
/// (RFC 7644 §3.4.2.2): `"` and `\` (and control characters) escaped, so no value can close
/// the string and add a clause of its own (`x" or username sw "a`).
fn equality_filter(attribute: &str, value: &str) -> String {
    format!("{attribute} eq {}", Value::String(value.to_owned()))
}

/// Output of `readUser`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserOutput {
    /// PingOne's body as it came: the user (by id) or the filtered list holding it.
    pub raw_response: Value,
    /// PingOne's HTTP status.
    pub status_code: u16,
    /// PingOne's response headers a flow may use.
    pub headers: Headers,
    /// The user, in the fields a flow uses.
    pub user: UserProfile,
    /// The key that matched: `userId`, `username` or `email`.
    pub matched: &'static str,
}

/// The fields of a PingOne user that flows use (`pingIdUserId`, the backups' phone and
/// address, the name to greet).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    /// The PingOne user id: every other capability's `userId`.
    pub id: String,
    /// The username.
    pub username: String,
    /// The e-mail address, if the profile has one.
    pub email: Option<String>,
    /// The mobile phone, if the profile has one.
    pub mobile_phone: Option<String>,
    /// PingOne's name object (`given`, `family`, `formatted`, …), if any.
    pub name: Option<Value>,
}

impl UserOutput {
    /// The output for `found` by `key`; a user without an id or a username is not taken for
    /// an answer.
    pub fn new(found: FoundUser, key: UserKey<'_>) -> Result<Self, Error> {
        let user = &found.user;
        let optional = |field: &str| user.get(field).and_then(Value::as_str).map(str::to_owned);
        let profile = UserProfile {
            id: text(user, "id", "user")?,
            username: text(user, "username", "user")?,
            email: optional("email"),
            mobile_phone: optional("mobilePhone"),
            name: user.get("name").filter(|name| name.is_object()).cloned(),
        };
        Ok(Self {
            raw_response: found.response.body,
            status_code: found.response.status,
            headers: found.response.headers,
            user: profile,
            matched: key.field(),
        })
    }
}

impl Documented for UserOutput {
    fn json_schema() -> Value {
        let user = object(
            "The user, in the fields a flow uses",
            &[
                (
                    "id",
                    string("The PingOne user id: every other capability's userId"),
                ),
                ("username", string("The username")),
                ("email", nullable(string("The e-mail address, if any"))),
                ("mobilePhone", nullable(string("The mobile phone, if any"))),
                (
                    "name",
                    nullable(any_object("PingOne's name: given, family, formatted, …")),
                ),
            ],
            &[],
        );
        let mut matched = string("The key that matched");
        matched["enum"] = serde_json::json!(["userId", "username", "email"]);
        pingone_output(
            "UserOutput",
            "The one PingOne user the key names",
            &[("user", user), ("matched", matched)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::output::assert_documented;
    use serde_json::json;

    #[test]
    fn a_filter_value_cannot_close_its_string() {
        assert_eq!(
            equality_filter("username", "alice"),
            r#"username eq "alice""#
        );
        assert_eq!(
            equality_filter("username", r#"x" or username sw "a"#),
            r#"username eq "x\" or username sw \"a""#
        );
        assert_eq!(
            equality_filter("email", r"a\b@example.com"),
            r#"email eq "a\\b@example.com""#
        );
        assert_eq!(equality_filter("username", "a\nb"), r#"username eq "a\nb""#);
    }

    #[test]
    fn the_output_names_the_key_and_serializes_as_documented() {
        let user = json!({"id": "u1", "username": "alice", "email": "alice@example.com",
            "mobilePhone": "+15555550101", "name": {"given": "Alice", "family": "Anders"}});
        let found = FoundUser {
            response: Response::new(
                200,
                json!({"_embedded": {"users": [user.clone()]}, "count": 1, "size": 1}),
            ),
            user,
        };
        let output = UserOutput::new(found, UserKey::Email("ALICE@example.com")).unwrap();
        assert_eq!(output.matched, "email");
        assert_eq!(output.user.id, "u1");
        assert_eq!(output.user.mobile_phone.as_deref(), Some("+15555550101"));
        assert_documented(&output);

        let bare = FoundUser {
            response: Response::new(200, json!({"id": "u2", "username": "bob"})),
            user: json!({"id": "u2", "username": "bob"}),
        };
        let output = UserOutput::new(bare, UserKey::Id("u2")).unwrap();
        assert_eq!((output.user.email, output.matched), (None, "userId"));
    }

    /// PingOne answering every request with `body`, keeping what it was sent.
    struct Canned {
        body: Value,
        sent: std::sync::Mutex<Vec<Request>>,
    }

    impl super::super::PingOne for Canned {
        fn send(
            &self,
            request: Request,
            _deadline: crate::budget::Deadline,
        ) -> crate::BoxFuture<'_, Result<Response, Error>> {
            self.sent.lock().unwrap().push(request);
            let body = self.body.clone();
            Box::pin(async move { Ok(Response::new(200, body)) })
        }
    }

    /// `find_user(key)` against a PingOne whose user list is `users`; the request it sent.
    async fn find(users: Value, key: UserKey<'_>) -> (Result<FoundUser, Error>, Request) {
        let pingone = Canned {
            body: json!({"_embedded": {"users": users}}),
            sent: Default::default(),
        };
        let deadline = crate::budget::Deadline::after(std::time::Duration::from_secs(5));
        let found = PingOneCalls::new(&pingone, deadline).find_user(key).await;
        let request = pingone.sent.lock().unwrap().pop().unwrap();
        (found, request)
    }

    #[tokio::test]
    async fn exactly_one_user_is_an_answer_and_none_or_two_are_not_found() {
        let alice = json!({"id": "u1", "username": "alice", "email": "shared@example.com"});
        let erin = json!({"id": "u5", "username": "erin", "email": "shared@example.com"});

        let (found, request) =
            find(json!([alice.clone()]), UserKey::Email("Shared@example.com")).await;
        assert_eq!(found.unwrap().user, alice.clone());
        assert_eq!(request.path, "users");
        assert_eq!(
            request.query,
            [
                ("filter", r#"email eq "Shared@example.com""#.to_string()),
                ("limit", "2".to_string())
            ]
        );

        let (none, _) = find(json!([]), UserKey::Username("nobody")).await;
        let (two, _) = find(
            json!([alice, erin.clone()]),
            UserKey::Email("shared@example.com"),
        )
        .await;
        let (other, _) = find(json!([erin]), UserKey::Username("alice")).await;
        for missing in [none, two, other] {
            assert_eq!(
                missing.unwrap_err().to_string(),
                no_such_resource().to_string()
            );
        }
    }

    #[test]
    fn a_user_without_id_or_username_is_no_answer() {
        for user in [json!({"username": "bob"}), json!({"id": "u2"})] {
            let found = FoundUser {
                response: Response::new(200, user.clone()),
                user,
            };
            let error = UserOutput::new(found, UserKey::Username("bob")).unwrap_err();
            assert_eq!(error.code(), "UPSTREAM_INVALID");
        }
    }
}
