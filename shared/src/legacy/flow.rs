//! What the three legacy capabilities share: their common inputs (`customAuth`, the user
//! attributes PingID's policy reads), the two-call shape (a redirect to the PingID
//! authenticator, then the verified `ppmResponse`), and the seed's output object.
//!
//! Each capability works in two calls. Without `ppmResponse` the answer is the redirect: the
//! target URL, the form fields (`idp_account_id`, `ppm_request`) and a ready auto-submit HTML
//! form. The browser comes back to the return URL with `ppm_response`; the flow calls the
//! capability again with it as `ppmResponse` and gets the verified outcome.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::capability::Invocation;
use crate::error::{Error, FieldProblem};
use crate::pingid::ppm::{self, Redirect};
use crate::pingid::properties::Properties;
use crate::schema::Documented;
use crate::schema::output::{nullable, object, string, titled};
use crate::secrets::Secret;

/// A return URL: `https` (or `http://localhost`, for a local run), host, optional port and
/// path; no spaces or quotes. The authenticator posts the signed PPM response to it: over plain
/// HTTP anyone on the way could read the response and replay it first.
pub const RETURN_URL_PATTERN: &str =
    "^(https://[A-Za-z0-9.-]+|http://localhost)(:[0-9]{1,5})?(/[-A-Za-z0-9._~!$&'()*+,;=:@%/?]*)?$";

/// Whether `url` is a return URL by [`RETURN_URL_PATTERN`]: the check of a value that does not
/// come through the input schema (the deployment's default, read once at start).
pub fn is_return_url(url: &str) -> bool {
    regex_lite::Regex::new(RETURN_URL_PATTERN).is_ok_and(|pattern| pattern.is_match(url))
}

/// Refuses a return URL whose host is not in `hosts` (when the deployment gives a list): a
/// flow cannot then have a PPM response posted to a page of someone else's.
pub fn check_return_host(return_url: &str, hosts: &[String]) -> Result<(), Error> {
    if hosts.is_empty() {
        return Ok(());
    }
    let host = url::Url::parse(return_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase));
    match host {
        Some(host)
            if hosts
                .iter()
                .any(|allowed| allowed.eq_ignore_ascii_case(&host)) =>
        {
            Ok(())
        }
        _ => Err(Error::Validation(vec![FieldProblem::new(
            "properties.customAuth.skRedirectUri",
            format!(
                "must be on one of this deployment's return hosts: {}",
                hosts.join(", ")
            ),
        )])),
    }
}

/// How long a verified PPM response is remembered as used (its `exp` is 300 s at most [I];
/// the record outlives it).
const PPM_RESPONSE_MEMORY: Duration = Duration::from_secs(15 * 60);

/// The inputs of the two-call exchange with the authenticator, common to the three legacy
/// capabilities: the connection settings and, on the second call, the authenticator's answer.
#[derive(Default, Deserialize, crate::Input)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    /// connection settings (the deployment's own when absent)
    pub custom_auth: Option<CustomAuth>,
    /// second call: the ppm_response the authenticator posted to the return URL
    #[field(
        max_length = 16_384,
        pattern = "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"
    )]
    pub ppm_response: Option<String>,
}

/// The PPM response is a signed assertion of the user's authentication: `Debug` says only
/// whether there is one.
impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("custom_auth", &self.custom_auth)
            .field(
                "ppm_response",
                &self.ppm_response.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// A flow session id: printable ASCII without spaces (a UUID, DaVinci's interaction id, an
/// opaque session handle). Bounded so that it is an identifier, not a payload.
pub const FLOW_SESSION_PATTERN: &str = "^[!-~]+$";

/// `flowSessionId`: the passwordless sign-in's binding to the caller's own flow session, so
/// that an attacker's PPM response or passwordless context cannot complete a sign-in in a
/// victim's flow (login CSRF: the victim would go on signed in as the attacker).
///
/// The name says what the value is for, not where it comes from: any caller may use it, and a
/// DaVinci flow gives its `{{global.interactionId}}` (the id of the flow execution), which a
/// browser cannot choose for a flow that is not its own. It is not a secret and should not be
/// one (no session cookie): the binding holds because an attacker cannot have a PPM request
/// made for a victim's session, not because the id is hidden. Even so it is kept out of the
/// context (a keyed digest, `pingid::context`) and out of Debug output.
///
/// Strict: a flow that gives it to the first call gives the same value to every later call of
/// the sign-in; one that did not give it must not start giving it. Either mismatch is refused
/// like a foreign PPM response or passwordless context, before anything is spent.
#[derive(Default, Deserialize, crate::Input)]
#[serde(rename_all = "camelCase")]
pub struct FlowSession {
    /// the caller's flow session id (DaVinci: {{global.interactionId}}), binding the passkey sign-in to that flow; the same value to every initialize and finalize call, or to none
    #[field(max_length = 128, pattern = FLOW_SESSION_PATTERN)]
    pub flow_session_id: Option<String>,
}

impl FlowSession {
    /// The session id, when the flow gave one.
    pub fn id(&self) -> Option<&str> {
        self.flow_session_id.as_deref()
    }

    /// What a PPM request's nonce binds the exchange to: `purpose` and, when given, this flow
    /// session. The result only enters the nonce's MAC (`pingid::ppm`), so the id never
    /// travels with the request. A response to a request made for another session, or for
    /// none, fails the nonce check.
    pub fn binding(&self, purpose: &str) -> String {
        match self.id() {
            // A fixed separator and prefix after a purpose that has none: no bound value
            // equals an unbound one, and no two sessions give the same value.
            Some(session) => format!("{purpose}:flowSession:{session}"),
            None => purpose.to_string(),
        }
    }
}

/// Debug says whether a session was given, not which.
impl std::fmt::Debug for FlowSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowSession")
            .field("flow_session_id", &self.id().map(|_| "…"))
            .finish()
    }
}

/// `customAuth`: the connection settings the native connector keeps in the flow.
#[derive(Debug, Default, Deserialize, crate::Input)]
#[serde(rename_all = "camelCase")]
pub struct CustomAuth {
    /// a pingid.properties file; only when the deployment allows it
    #[field(max_length = 1000)]
    pub ping_id_properties: Option<Secret<String>>,
    /// return URL the authenticator posts ppm_response to
    #[field(max_length = 100, pattern = RETURN_URL_PATTERN)]
    pub sk_redirect_uri: Option<String>,
}

/// One extra PPM attribute.
#[derive(Debug, Deserialize, crate::Input)]
pub struct NameValue {
    /// attribute name: a letter, then letters, digits, `_`, `.`, `:` or `-`
    #[field(max_length = 100, pattern = "^[A-Za-z][A-Za-z0-9_.:-]*$")]
    pub name: String,
    /// attribute value
    #[field(max_length = 1000)]
    pub value: String,
}

/// How many extra attributes one request carries: a PPM request travels as a browser form
/// field, so its size is bounded by what a browser and the authenticator take [I].
pub const MAX_CLAIMS: usize = 20;

/// The names an extra attribute may not take, compared without regard to case: the PPM
/// request's own claims (§9.3), which the connector sets, and the attributes that have a
/// named input (`fname`, `pingidIp`, …) or that the connector sets itself
/// (`isUserAuthenticated`: whether the first factor is done is the connector's statement, not
/// the caller's). An attribute must never stand in for any of them at the authenticator.
pub const RESERVED_CLAIM_NAMES: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "nonce",
    "iat",
    "exp",
    "jti",
    "idpAccountId",
    "returnUrl",
    "dst",
    "confVersion",
    "idpEntityId",
    "attributes",
    "status",
    "isUserAuthenticated",
    "passwordlessContext",
    "fname",
    "lname",
    "group",
    "phone",
    "voiceNumber",
    "appName",
    "saasid",
    "appIconUrl",
    "pingidIp",
];

/// The seed's **Attributes** input ("Use this section to add attribute to the request", a
/// name/value list on all three legacy capabilities): extra PPM `attributes`, after the ones
/// the connector sets.
///
/// The key is `claimsNameValuePairs`, the one the public catalogue of the legacy connector
/// lists (`pingone-api.md` §1.6), so a DaVinci flow's node settings map one to one; each item
/// is `{"name", "value"}`, the shape of a PPM attribute and [I] of DaVinci's name/value list.
/// Names are unique (case-insensitively) and none is in [`RESERVED_CLAIM_NAMES`].
#[derive(Debug, Default, Deserialize, crate::Input)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    /// the seed's Attributes: extra PPM attributes [{"name", "value"}], at most 20, names unique and none the connector sets (sub, nonce, aud, exp, isUserAuthenticated, fname, pingidIp, …)
    #[field(max_items = MAX_CLAIMS)]
    pub claims_name_value_pairs: Option<Vec<NameValue>>,
}

impl Claims {
    /// `attributes` followed by these pairs, or every pair that repeats a name or takes a
    /// reserved one, named at once.
    pub fn after<'a>(
        &'a self,
        mut attributes: Vec<(&'a str, String)>,
    ) -> Result<Vec<(&'a str, String)>, Error> {
        let pairs = self.claims_name_value_pairs.as_deref().unwrap_or_default();
        let mut problems = Vec::new();
        for (index, pair) in pairs.iter().enumerate() {
            let field = format!("properties.claimsNameValuePairs[{index}].name");
            let same = |name: &str| name.eq_ignore_ascii_case(&pair.name);
            if RESERVED_CLAIM_NAMES.iter().any(|name| same(name)) {
                problems.push(FieldProblem::new(
                    field,
                    "is set by the connector (a PPM claim, or an attribute with its own input)",
                ));
            } else if let Some(first) = pairs[..index].iter().position(|other| same(&other.name)) {
                problems.push(FieldProblem::new(
                    field,
                    format!("repeats the name of claimsNameValuePairs[{first}]"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(Error::Validation(problems));
        }
        attributes.extend(
            pairs
                .iter()
                .map(|pair| (pair.name.as_str(), pair.value.clone())),
        );
        Ok(attributes)
    }
}

/// The user facts PingID's policy and screens use, sent as PPM attributes.
#[derive(Debug, Default, Deserialize, crate::Input)]
#[serde(rename_all = "camelCase")]
pub struct UserAttributes {
    /// first name
    #[field(max_length = 100)]
    pub fname: Option<String>,
    /// last name
    #[field(max_length = 100)]
    pub lname: Option<String>,
    /// user groups, for PingID policies
    // The seed gives groups no limit; a DN list can be long, but not unbounded.
    #[field(max_length = 10_000)]
    pub group: Option<String>,
    /// mobile number
    #[field(max_length = 100)]
    pub phone: Option<String>,
    /// landline number
    #[field(max_length = 100)]
    pub voice_number: Option<String>,
    /// application name
    #[field(max_length = 100)]
    pub app_name: Option<String>,
    /// application id, for PingID policies
    #[field(max_length = 100)]
    pub saasid: Option<String>,
    /// application icon URL
    #[field(max_length = 1000)]
    pub app_icon_url: Option<String>,
    /// IP of the accessing device, for PingID policies
    #[field(max_length = 100)]
    pub pingid_ip: Option<String>,
}

impl UserAttributes {
    /// The PPM `attributes`, in input order. `isUserAuthenticated` is `true`: the connector
    /// runs after the flow's first factor (the password, or the passkey) [I].
    pub fn ppm_attributes(&self) -> Vec<(&str, String)> {
        let named = [
            ("fname", &self.fname),
            ("lname", &self.lname),
            ("group", &self.group),
            ("phone", &self.phone),
            ("voiceNumber", &self.voice_number),
            ("appName", &self.app_name),
            ("saasid", &self.saasid),
            ("appIconUrl", &self.app_icon_url),
            ("pingidIp", &self.pingid_ip),
        ];
        let mut attributes: Vec<(&str, String)> = named
            .into_iter()
            .filter_map(|(name, value)| value.as_ref().map(|value| (name, value.clone())))
            .collect();
        attributes.push(("isUserAuthenticated", "true".to_string()));
        attributes
    }
}

/// The properties and return URL of one call.
pub struct Connection {
    /// The parsed properties file.
    pub properties: Arc<Properties>,
    /// The return URL.
    pub return_url: String,
}

/// Resolves the properties (the deployment's, or the request's when allowed) and the return
/// URL (the request's, or the deployment's default).
pub async fn connection(
    invocation: &Invocation<'_>,
    custom_auth: Option<&CustomAuth>,
) -> Result<Connection, Error> {
    let legacy = invocation.legacy()?;
    let custom_auth = custom_auth.unwrap_or(&NO_CUSTOM_AUTH);
    let properties = match &custom_auth.ping_id_properties {
        Some(_) if !legacy.allow_inline_properties => {
            return Err(Error::Validation(vec![FieldProblem::new(
                "properties.customAuth.pingIdProperties",
                "is not accepted by this deployment: the properties file comes from its secret",
            )]));
        }
        Some(text) => Arc::new(Properties::parse(text.expose()).map_err(|e| {
            Error::Validation(vec![FieldProblem::new(
                "properties.customAuth.pingIdProperties",
                Error::from(e).to_string(),
            )])
        })?),
        None => legacy.properties.properties().await?,
    };
    let return_url = custom_auth
        .sk_redirect_uri
        .clone()
        .or_else(|| legacy.return_url.clone())
        .ok_or_else(|| {
            Error::Validation(vec![FieldProblem::new(
                "properties.customAuth.skRedirectUri",
                "is required: this deployment has no default return URL",
            )])
        })?;
    check_return_host(&return_url, &legacy.return_hosts)?;
    Ok(Connection {
        properties,
        return_url,
    })
}

static NO_CUSTOM_AUTH: CustomAuth = CustomAuth {
    ping_id_properties: None,
    sk_redirect_uri: None,
};

/// The first call's answer: where to send the browser.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedirectOutput {
    /// Always `REDIRECT`: the flow sends the browser to `redirect` and waits for the return URL.
    pub status: &'static str,
    /// Target URL, form fields and the auto-submit form.
    pub redirect: Redirect,
}

impl From<Redirect> for RedirectOutput {
    fn from(redirect: Redirect) -> Self {
        Self {
            status: "REDIRECT",
            redirect,
        }
    }
}

/// What each legacy capability answers: the first call's redirect, or the second call's
/// verified outcome.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// Send the browser to the authenticator.
    Redirect(RedirectOutput),
    /// The verified outcome.
    Outcome(PpmOutcome),
}

/// `accessingDevice` of the output.
#[derive(Debug, Serialize)]
pub struct AccessingDevice {
    /// The accessing device's IP as PingID saw it.
    pub ip: Option<String>,
}

/// `authenticationDevice` of the output.
#[derive(Debug, Serialize)]
pub struct AuthenticationDevice {
    /// The device the user authenticated with.
    pub id: Option<String>,
}

/// The seed's output object, from a verified PPM response. A `failure` status is an answer,
/// not an error: the flow branches on `status` (and `errorCode`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PpmOutcome {
    /// The verified PPM response, as it came.
    pub ppm_response: String,
    /// `success` or `failure`.
    pub status: String,
    /// The PingID user.
    pub sub: String,
    /// Where the user signed in from.
    pub accessing_device: AccessingDevice,
    /// What the user authenticated with.
    pub authentication_device: AuthenticationDevice,
    /// How (e.g. `SWIPE`, `OTP`, `FIDO2`).
    pub authentication_type: Option<String>,
    /// PingID's error code on failure (e.g. `PINGID_001`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// PingID's message on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Initialize passwordless only: the context the finalize call takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passwordless_context: Option<String>,
}

impl Documented for Answer {
    fn json_schema() -> Value {
        let redirect = object(
            "Where to send the browser",
            &[
                ("targetUrl", string("The PingID authenticator endpoint")),
                (
                    "form",
                    object(
                        "The form fields to POST to targetUrl",
                        &[
                            ("idp_account_id", string("The org alias")),
                            ("ppm_request", string("The signed PPM request (a JWT)")),
                        ],
                        &[],
                    ),
                ),
                (
                    "html",
                    string("A self-submitting HTML form posting form to targetUrl"),
                ),
            ],
            &[],
        );
        let redirect_output = titled(
            "LegacyRedirect",
            object(
                "First call: send the browser to the authenticator, then call again with \
                 ppmResponse",
                &[
                    (
                        "status",
                        json!({ "const": "REDIRECT", "type": "string", "description": "Always REDIRECT" }),
                    ),
                    ("redirect", redirect),
                ],
                &[],
            ),
        );
        let outcome = titled(
            "LegacyOutcome",
            object(
                "Second call: the verified outcome (a failure status is an answer, not an error)",
                &[
                    (
                        "ppmResponse",
                        string("The verified PPM response, as it came"),
                    ),
                    ("status", string("success or failure")),
                    ("sub", string("The PingID user")),
                    (
                        "accessingDevice",
                        object(
                            "Where the user signed in from",
                            &[(
                                "ip",
                                nullable(string("The accessing device's IP as PingID saw it")),
                            )],
                            &[],
                        ),
                    ),
                    (
                        "authenticationDevice",
                        object(
                            "What the user authenticated with",
                            &[("id", nullable(string("The device's id")))],
                            &[],
                        ),
                    ),
                    (
                        "authenticationType",
                        nullable(string("How, e.g. SWIPE, OTP, FIDO2")),
                    ),
                    (
                        "errorCode",
                        string("PingID's error code on failure, e.g. PINGID_001"),
                    ),
                    ("message", string("PingID's message on failure")),
                    (
                        "passwordlessContext",
                        string(
                            "initializePasswordlessAuthentication only: what the finalize call takes",
                        ),
                    ),
                ],
                &["errorCode", "message", "passwordlessContext"],
            ),
        );
        json!({
            "title": "LegacyAnswer",
            "description": "The redirect (first call) or the verified outcome (second call)",
            "oneOf": [redirect_output, outcome],
        })
    }
}

/// Verifies `ppm_response` for this call and spends it: a response is exchanged once.
pub async fn verified_outcome(
    invocation: &Invocation<'_>,
    connection: &Connection,
    ppm_response: &str,
    expected_sub: Option<&str>,
    binding: &str,
    now: SystemTime,
) -> Result<PpmOutcome, Error> {
    let response = ppm::verify_response(
        &connection.properties,
        ppm_response,
        expected_sub,
        &connection.return_url,
        binding,
        now,
    )?;
    let nonce = response
        .claims
        .get("nonce")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let spent = format!("ppm:{nonce}");
    if !invocation
        .legacy()?
        .used
        .claim(&spent, now + PPM_RESPONSE_MEMORY)
        .await?
    {
        return Err(Error::Validation(vec![FieldProblem::new(
            "properties.ppmResponse",
            "has already been used",
        )]));
    }
    let text = |pointer: &str| {
        response
            .claims
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(PpmOutcome {
        accessing_device: AccessingDevice {
            ip: text("/accessingDevice/ip"),
        },
        authentication_device: AuthenticationDevice {
            id: text("/authenticationDevice/id"),
        },
        authentication_type: text("/authenticationType"),
        error_code: text("/errorCode"),
        message: text("/message"),
        passwordless_context: None,
        ppm_response: response.raw,
        status: response.status,
        sub: response.sub,
    })
}

/// A successful outcome's `status`, compared as PingID's consumers do (case-insensitively).
pub fn succeeded(outcome: &PpmOutcome) -> bool {
    outcome.status.eq_ignore_ascii_case("success")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::output::assert_documented;

    #[test]
    fn user_facts_become_ppm_attributes_in_order() {
        let user = UserAttributes {
            fname: Some("Alice".into()),
            pingid_ip: Some("203.0.113.10".into()),
            ..UserAttributes::default()
        };
        let claims = claims(&[("department", "Sales"), ("costCenter", "4711")]);
        assert_eq!(
            claims.after(user.ppm_attributes()).unwrap(),
            [
                ("fname", "Alice".to_string()),
                ("pingidIp", "203.0.113.10".to_string()),
                ("isUserAuthenticated", "true".to_string()),
                ("department", "Sales".to_string()),
                ("costCenter", "4711".to_string()),
            ]
        );
    }

    fn claims(pairs: &[(&str, &str)]) -> Claims {
        Claims {
            claims_name_value_pairs: Some(
                pairs
                    .iter()
                    .map(|(name, value)| NameValue {
                        name: name.to_string(),
                        value: value.to_string(),
                    })
                    .collect(),
            ),
        }
    }

    #[test]
    fn an_attribute_never_takes_a_name_the_connector_sets_nor_one_twice() {
        // Given pairs that name a PPM claim, an attribute the connector sets, a named input
        // (in another case) and a repeated name
        let claims = claims(&[
            ("department", "Sales"),
            ("sub", "mallory"),
            ("IsUserAuthenticated", "true"),
            ("nonce", "x"),
            ("PINGIDIP", "198.51.100.7"),
            ("Department", "Board"),
            ("exp", "99999999999"),
            ("aud", "pingidauthenticator"),
        ]);
        // When they are added to the request's attributes
        let error = claims
            .after(vec![("isUserAuthenticated", "false".into())])
            .unwrap_err();
        // Then every offending pair is named at once, and nothing is sent
        let Error::Validation(problems) = error else {
            panic!("not a validation error: {error:?}");
        };
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            (1..=7)
                .map(|i| format!("properties.claimsNameValuePairs[{i}].name"))
                .collect::<Vec<_>>()
        );
        assert!(
            problems[4]
                .problem
                .contains("repeats the name of claimsNameValuePairs[0]")
        );
        assert!(problems[0].problem.contains("set by the connector"));
    }

    #[test]
    fn no_attributes_leave_the_connectors_own() {
        let own = vec![("isUserAuthenticated", "false".to_string())];
        assert_eq!(Claims::default().after(own.clone()).unwrap(), own);
    }

    #[test]
    fn an_exchange_never_shows_its_ppm_response() {
        let exchange = Exchange {
            ppm_response: Some("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl".into()),
            ..Exchange::default()
        };
        let shown = format!("{exchange:?}");
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn a_flow_session_binds_each_purpose_apart_and_stays_out_of_debug() {
        let session = |id: Option<&str>| FlowSession {
            flow_session_id: id.map(str::to_owned),
        };
        let purpose = "initializePasswordlessAuthentication";
        let bindings = [
            session(None).binding(purpose),
            session(Some("a")).binding(purpose),
            session(Some("b")).binding(purpose),
            session(Some("a")).binding("finalizePasswordlessAuthentication:ctx"),
        ];
        assert_eq!(bindings[0], purpose, "unbound: the binding of before");
        for (i, a) in bindings.iter().enumerate() {
            for b in &bindings[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let given = session(Some("5c7d3e1a-93b4-4f0e-8a61-2d9c0b7e4f15"));
        assert!(!format!("{given:?}").contains("5c7d3e1a"), "{given:?}");
        assert!(
            regex_lite::Regex::new(FLOW_SESSION_PATTERN).is_ok_and(|pattern| {
                pattern.is_match("5c7d3e1a-93b4-4f0e-8a61-2d9c0b7e4f15")
                    && !pattern.is_match("")
                    && !pattern.is_match("a b")
                    && !pattern.is_match("a\nb")
                    && !pattern.is_match("café")
            })
        );
    }

    #[test]
    fn return_urls_are_https_or_localhost() {
        for good in [
            "https://auth.example.com/return",
            "http://localhost:3000/v1/pingid-legacy/return?state=abc123",
            "http://localhost/return",
        ] {
            assert!(is_return_url(good), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "https://a.example.com/\"><script>",
            "ftp://a.example.com/",
            "http://auth.example.com/return",
            "http://localhost.example.com/return",
            "http://localhost@example.com/return",
        ] {
            assert!(!is_return_url(bad), "{bad}");
        }
    }

    #[test]
    fn a_return_url_off_the_deployments_hosts_is_refused() {
        let hosts = vec!["auth.example.com".to_string()];
        assert!(check_return_host("https://auth.example.com/pingid/return", &hosts).is_ok());
        assert!(check_return_host("https://AUTH.example.com/x", &hosts).is_ok());
        for elsewhere in [
            "https://evil.example.net/r",
            "https://auth.example.com.evil.net/r",
        ] {
            let error = check_return_host(elsewhere, &hosts).unwrap_err();
            assert_eq!(error.code(), "VALIDATION_FAILED", "{elsewhere}");
        }
        // No list: any return URL the pattern accepts.
        assert!(check_return_host("https://evil.example.net/r", &[]).is_ok());
    }

    fn outcome() -> PpmOutcome {
        PpmOutcome {
            ppm_response: "eyJ.eyJ.sig".into(),
            status: "success".into(),
            sub: "alice".into(),
            accessing_device: AccessingDevice { ip: None },
            authentication_device: AuthenticationDevice {
                id: Some("device-1".into()),
            },
            authentication_type: Some("SWIPE".into()),
            error_code: None,
            message: None,
            passwordless_context: None,
        }
    }

    #[test]
    fn both_answers_serialize_as_documented() {
        let redirect = Redirect {
            target_url: "http://localhost:3001/pingid/ppm/auth".into(),
            form: [
                ("idp_account_id".to_string(), "org".to_string()),
                ("ppm_request".to_string(), "eyJ.eyJ.sig".to_string()),
            ]
            .into(),
            html: "<!DOCTYPE html><form></form>".into(),
        };
        assert_documented(&Answer::Redirect(redirect.into()));
        assert_documented(&Answer::Outcome(outcome()));
        let failed = PpmOutcome {
            status: "failure".into(),
            error_code: Some("PINGID_001".into()),
            message: Some("denied".into()),
            ..outcome()
        };
        assert_documented(&Answer::Outcome(failed));
        let passwordless = PpmOutcome {
            passwordless_context: Some("sealed".into()),
            ..outcome()
        };
        assert_documented(&Answer::Outcome(passwordless));
    }
}
