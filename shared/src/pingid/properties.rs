//! The `pingid.properties` file an admin downloads from the PingOne admin console
//! (`pingid-api.md` §1): a Java properties file, parsed here exactly as `Properties.load` would.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use crate::error::Error;
use crate::secrets::Secret;

/// Padding optional: files carry `=`, `\=` (unescaped to `=`) or, after hand edits, none.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// The parsed `pingid.properties`.
#[derive(Clone)]
pub struct Properties {
    /// The decoded `use_base64_key` (32, 48 or 64 bytes); every signature uses HS256 with it.
    pub key: Secret<Vec<u8>>,
    /// `token`: the id of the PingID client (JWS header `token`, `reqHeader.secretKey`).
    pub token: String,
    /// `org_alias`: the org's UUID (JWS header, `reqHeader.orgAlias`, PPM `idpAccountId`).
    pub org_alias: String,
    /// `idp_url` without a trailing `/`: the REST API base. HTTPS, or HTTP on a loopback host.
    pub idp_url: String,
    /// `authenticator_url` without a trailing `/`: the PPM base. HTTPS, or HTTP on loopback.
    pub authenticator_url: String,
    /// `admin_url`, when present (no client uses it).
    pub admin_url: Option<String>,
    /// `use_signature` (default `true`). Reported only: requests are always signed and responses
    /// always verified.
    pub use_signature: bool,
}

/// Debug shows where the file points, never the key or the client token.
impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Properties")
            .field("key", &self.key)
            .field("token", &"[redacted]")
            .field("org_alias", &self.org_alias)
            .field("idp_url", &self.idp_url)
            .field("authenticator_url", &self.authenticator_url)
            .field("admin_url", &self.admin_url)
            .field("use_signature", &self.use_signature)
            .finish()
    }
}

/// Why a properties file is unusable. Messages name keys and lines, never values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesError {
    /// A required key is absent or empty.
    #[error("pingid.properties has no value for `{0}`")]
    Missing(&'static str),
    /// A URL is not HTTPS (HTTP is allowed only for 127.0.0.1, localhost and [::1]).
    #[error("pingid.properties `{key}` must be an https:// URL")]
    NotHttps {
        /// The key of the URL.
        key: &'static str,
    },
    /// A URL cannot be parsed or carries a query, fragment or credentials.
    #[error("pingid.properties `{key}` is not a usable base URL: {reason}")]
    BadUrl {
        /// The key of the URL.
        key: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `use_base64_key` is not base64 or has the wrong length.
    #[error("pingid.properties `use_base64_key` is unusable: {0}")]
    BadKey(String),
    /// `use_signature` is neither `true` nor `false`.
    #[error("pingid.properties `use_signature` must be true or false")]
    BadFlag,
    /// The file breaks the properties syntax (a malformed `\uXXXX` escape).
    #[error("pingid.properties line {line}: {reason}")]
    Malformed {
        /// 1-based line where the entry starts.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl From<PropertiesError> for Error {
    fn from(error: PropertiesError) -> Self {
        Error::ConfigUnavailable(error.to_string())
    }
}

impl Properties {
    /// Parses and checks the text of a `pingid.properties` file.
    pub fn parse(text: &str) -> Result<Properties, PropertiesError> {
        let entries: HashMap<String, String> = parse_entries(text)?.into_iter().collect();
        // [I] Values are trimmed at the end too: Java keeps trailing blanks, but none of these
        // values can end in one and a file pasted into a secret often gains some.
        let get = |key: &str| {
            entries
                .get(key)
                .map(|value| value.trim())
                .filter(|value| !value.is_empty())
        };
        let required = |key: &'static str| get(key).ok_or(PropertiesError::Missing(key));

        let key = decode_key(required("use_base64_key")?)?;
        let use_signature = match get("use_signature") {
            None => true,
            Some(flag) if flag.eq_ignore_ascii_case("true") => true,
            Some(flag) if flag.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(PropertiesError::BadFlag),
        };
        Ok(Properties {
            key: Secret::new(key),
            token: required("token")?.to_string(),
            org_alias: required("org_alias")?.to_string(),
            idp_url: base_url("idp_url", required("idp_url")?)?,
            // [I] Required although old REST-only downloads lack it: every legacy capability
            // starts with a PPM redirect, and guessing the (regional) authenticator host
            // would send users of non-US orgs to the wrong one.
            authenticator_url: base_url("authenticator_url", required("authenticator_url")?)?,
            admin_url: get("admin_url").map(str::to_string),
            use_signature,
        })
    }
}

/// Decodes `use_base64_key`: standard or URL-safe alphabet, padded or not, 32/48/64 bytes.
fn decode_key(text: &str) -> Result<Vec<u8>, PropertiesError> {
    // The decoder's own errors name the offending byte; ours name nothing of the key.
    let bytes = STANDARD_LENIENT
        .decode(text)
        .or_else(|_| URL_SAFE_LENIENT.decode(text))
        .map_err(|_| PropertiesError::BadKey("it is not valid base64".into()))?;
    match bytes.len() {
        32 | 48 | 64 => Ok(bytes),
        n => Err(PropertiesError::BadKey(format!(
            "it decodes to {n} bytes; expected 32, 48 or 64"
        ))),
    }
}

/// Checks a base URL and drops its trailing `/` (paths are appended to it).
fn base_url(key: &'static str, value: &str) -> Result<String, PropertiesError> {
    let bad = |reason| PropertiesError::BadUrl { key, reason };
    let url = url::Url::parse(value).map_err(|_| bad("it is not a URL"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(bad("it has no host")),
    };
    match url.scheme() {
        "https" => {}
        // The local simulator serves plain HTTP on loopback; nothing else may.
        "http" if loopback => {}
        _ => return Err(PropertiesError::NotHttps { key }),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it has a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("it carries credentials"));
    }
    Ok(value.trim_end_matches('/').to_string())
}

/// The `key`/`value` pairs of a Java properties file, in file order (later keys win on lookup),
/// following `java.util.Properties.load`: comments, separators, escapes, continuations.
fn parse_entries(text: &str) -> Result<Vec<(String, String)>, PropertiesError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    for (line, logical) in logical_lines(text) {
        let (key, value) = split_entry(&logical);
        let malformed = |reason| PropertiesError::Malformed { line, reason };
        entries.push((
            unescape(key).map_err(malformed)?,
            unescape(value).map_err(malformed)?,
        ));
    }
    Ok(entries)
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Natural lines end at `\n`, `\r` or `\r\n`.
fn natural_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\n', '\r']) {
            Some(end) => {
                lines.push(&rest[..end]);
                let skip = if rest[end..].starts_with("\r\n") {
                    2
                } else {
                    1
                };
                rest = &rest[end + skip..];
            }
            None => {
                lines.push(rest);
                rest = "";
            }
        }
    }
    lines
}

/// Logical lines with the 1-based number of their first natural line: blank and comment lines
/// dropped, leading blanks trimmed, continuations (an odd run of trailing backslashes) joined
/// with the next line's leading blanks dropped. The continuing backslash is removed; other
/// escapes stay for [`unescape`].
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let lines = natural_lines(text);
    let mut logical = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let start = index;
        let first = lines[index].trim_start_matches(is_blank);
        index += 1;
        // Only the first natural line of an entry can be a comment or blank.
        if first.is_empty() || first.starts_with(['#', '!']) {
            continue;
        }
        let mut joined = String::new();
        let mut current = first;
        loop {
            let trailing = current.len() - current.trim_end_matches('\\').len();
            if trailing % 2 == 1 {
                joined.push_str(&current[..current.len() - 1]);
                match lines.get(index) {
                    Some(next) => {
                        current = next.trim_start_matches(is_blank);
                        index += 1;
                    }
                    None => break,
                }
            } else {
                joined.push_str(current);
                break;
            }
        }
        logical.push((start + 1, joined));
    }
    logical
}

/// Splits at the first unescaped `=`, `:` or blank; blanks around the separator are dropped
/// (a blank then `=`/`:` count as one separator).
fn split_entry(line: &str) -> (&str, &str) {
    let mut escaped = false;
    let mut key_end = line.len();
    let mut value_start = line.len();
    let mut has_separator = false;
    for (at, c) in line.char_indices() {
        if !escaped && (c == '=' || c == ':') {
            (key_end, value_start, has_separator) = (at, at + 1, true);
            break;
        }
        if !escaped && is_blank(c) {
            (key_end, value_start) = (at, at + c.len_utf8());
            break;
        }
        escaped = c == '\\' && !escaped;
    }
    let mut value = &line[value_start..];
    value = value.trim_start_matches(is_blank);
    if !has_separator && let Some(rest) = value.strip_prefix(['=', ':']) {
        value = rest.trim_start_matches(is_blank);
    }
    (&line[..key_end], value)
}

/// Resolves escapes: `\t`, `\n`, `\r`, `\f`, `\uXXXX`, and `\x` → `x` for any other `x`.
fn unescape(text: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = (hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                    .then(|| u32::from_str_radix(&hex, 16).ok())
                    .flatten()
                    .ok_or("malformed \\uXXXX escape")?;
                // A lone surrogate half cannot be a Rust char; Java would keep it as garbage.
                out.push(char::from_u32(code).ok_or("\\u escape is not a character")?);
            }
            Some(other) => out.push(other),
            // A backslash at the very end of the file (a continuation with nothing after it).
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "JWC41crr322aUfdckVfJKHvGKNIPyAPGL7rMsTbzHlA=";

    fn entries(text: &str) -> Vec<(String, String)> {
        parse_entries(text).unwrap()
    }

    fn one(text: &str) -> (String, String) {
        let mut all = entries(text);
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.to_string(), value.to_string())
    }

    /// A complete valid file with `replace` lines substituted (by key) or appended.
    fn file(lines: &[(&str, Option<&str>)]) -> String {
        let mut base: Vec<(String, Option<String>)> = [
            ("use_base64_key", KEY),
            ("use_signature", "true"),
            ("token", "1a2b3c4d5e6f"),
            ("idp_url", "https://idpxnyl3m.pingidentity.com/pingid"),
            ("org_alias", "aaaaaaaa-a1b2-123a-b456-1234abcd5678"),
            ("admin_url", "https://idpxnyl3m.pingidentity.com/pingid"),
            (
                "authenticator_url",
                "https://authenticator.pingone.com/pingid/ppm",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect();
        for (key, value) in lines {
            match base.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value.map(str::to_string),
                None => base.push((key.to_string(), value.map(str::to_string))),
            }
        }
        base.into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}\n")))
            .collect()
    }

    #[test]
    fn the_realistic_ping_download_parses_with_its_escaped_padding_and_colons() {
        // As the admin console writes it: generated-by comments, `\=` padding, `https\://`.
        let text = "#Auto-Generated from PingOne, downloaded by id=[612087] email=[admin@example.com]\r\n\
                    #Thu Sep 03 11:57:25 MDT 2015\r\n\
                    use_base64_key=JWC41crr322aUfdckVfJKHvGKNIPyAPGL7rMsTbzHlA\\=\r\n\
                    use_signature=true\r\n\
                    token=1a2b3c4d5e6f\r\n\
                    idp_url=https\\://idpxnyl3m.pingidentity.com/pingid\r\n\
                    org_alias=aaaaaaaa-a1b2-123a-b456-1234abcd5678\r\n\
                    admin_url=https\\://idpxnyl3m.pingidentity.com/pingid\r\n\
                    authenticator_url=https\\://authenticator.pingone.com/pingid/ppm\r\n";
        let properties = Properties::parse(text).unwrap();
        assert_eq!(properties.key.expose().len(), 32);
        assert_eq!(
            properties.key.expose(),
            &STANDARD_LENIENT.decode(KEY).unwrap()
        );
        assert_eq!(properties.token, "1a2b3c4d5e6f");
        assert_eq!(properties.org_alias, "aaaaaaaa-a1b2-123a-b456-1234abcd5678");
        assert_eq!(
            properties.idp_url,
            "https://idpxnyl3m.pingidentity.com/pingid"
        );
        assert_eq!(
            properties.authenticator_url,
            "https://authenticator.pingone.com/pingid/ppm"
        );
        assert_eq!(
            properties.admin_url.as_deref(),
            Some("https://idpxnyl3m.pingidentity.com/pingid")
        );
        assert!(properties.use_signature);
    }

    #[test]
    fn debug_output_shows_neither_the_key_nor_the_token() {
        let properties = Properties::parse(&file(&[])).unwrap();
        let debug = format!("{properties:?}");
        assert!(!debug.contains("1a2b3c4d5e6f") && !debug.contains("JWC41"));
        assert!(debug.contains("aaaaaaaa-a1b2"));
    }

    #[test]
    fn each_separator_form_is_understood() {
        assert_eq!(one("a=b"), pair("a", "b"));
        assert_eq!(one("a:b"), pair("a", "b"));
        assert_eq!(one("a b"), pair("a", "b"));
        assert_eq!(one("a = b"), pair("a", "b"));
        assert_eq!(one("a\t:\tb"), pair("a", "b"));
        assert_eq!(one("   a=b"), pair("a", "b"));
        assert_eq!(one("a=b=c:d"), pair("a", "b=c:d"));
        assert_eq!(one("a"), pair("a", ""));
        assert_eq!(one("a="), pair("a", ""));
        // Java keeps the value's trailing blanks; only the leading ones go.
        assert_eq!(one("a=  b  "), pair("a", "b  "));
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        assert_eq!(
            entries("# one\n! two\n\n   \n  # indented\na=b\n"),
            vec![pair("a", "b")]
        );
        // A comment never continues, even with a trailing backslash.
        assert_eq!(entries("# note \\\na=b"), vec![pair("a", "b")]);
        // `#` inside a value is data.
        assert_eq!(one("a=b#c"), pair("a", "b#c"));
    }

    #[test]
    fn each_escape_is_resolved() {
        assert_eq!(one(r"a=x\=y"), pair("a", "x=y"));
        assert_eq!(one(r"a=x\:y"), pair("a", "x:y"));
        assert_eq!(one(r"a=x\\y"), pair("a", r"x\y"));
        assert_eq!(one(r"a=\ x"), pair("a", " x"));
        assert_eq!(one(r"a=x\ty"), pair("a", "x\ty"));
        assert_eq!(one(r"a=x\ny"), pair("a", "x\ny"));
        assert_eq!(one(r"a=x\ry"), pair("a", "x\ry"));
        assert_eq!(one(r"a=x\fy"), pair("a", "x\u{c}y"));
        assert_eq!(one(r"a=\u00e9\u20AC"), pair("a", "é€"));
        assert_eq!(one(r"a=\q"), pair("a", "q"));
    }

    #[test]
    fn escaped_separators_stay_in_the_key() {
        assert_eq!(one(r"a\=b=c"), pair("a=b", "c"));
        assert_eq!(one(r"a\:b:c"), pair("a:b", "c"));
        assert_eq!(one(r"a\ b c"), pair("a b", "c"));
        // An escaped backslash does not escape the separator after it.
        assert_eq!(one(r"a\\=c"), pair(r"a\", "c"));
    }

    #[test]
    fn continuations_join_lines_and_drop_the_next_leading_blanks() {
        assert_eq!(one("a=one\\\n    two\\\n\tthree"), pair("a", "onetwothree"));
        assert_eq!(one("a=one\\\r\n  two"), pair("a", "onetwo"));
        // An even run of backslashes is an escaped backslash, not a continuation.
        assert_eq!(
            entries("a=x\\\\\nb=y"),
            vec![pair("a", "x\\"), pair("b", "y")]
        );
        // A continued line that looks like a comment is data.
        assert_eq!(one("a=x\\\n#y"), pair("a", "x#y"));
        // A continuation at the end of the file ends the entry.
        assert_eq!(one("a=x\\"), pair("a", "x"));
    }

    #[test]
    fn bom_and_every_line_end_are_accepted() {
        assert_eq!(
            entries("\u{feff}a=1\r\nb=2\rc=3\nd=4"),
            vec![
                pair("a", "1"),
                pair("b", "2"),
                pair("c", "3"),
                pair("d", "4")
            ]
        );
    }

    #[test]
    fn malformed_unicode_escapes_are_reported_with_their_line() {
        for bad in [r"a=\u12", r"a=\u12zz", r"a=\ud800"] {
            assert!(
                matches!(
                    parse_entries(&format!("# c\n{bad}")),
                    Err(PropertiesError::Malformed { line: 2, .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_key_may_use_either_alphabet_with_or_without_padding() {
        let standard = "+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/+/8=";
        let url_safe = standard.replace('+', "-").replace('/', "_");
        for key in [
            standard.to_string(),
            standard.trim_end_matches('=').to_string(),
            url_safe.clone(),
            url_safe.trim_end_matches('=').to_string(),
        ] {
            let properties = Properties::parse(&file(&[("use_base64_key", Some(key.as_str()))]))
                .unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(properties.key.expose().len(), 32);
            assert_eq!(properties.key.expose()[0], 0xfb);
        }
        let key48 = STANDARD_LENIENT.encode([7u8; 48]);
        let key64 = STANDARD_LENIENT.encode([7u8; 64]);
        for (key, len) in [(key48, 48), (key64, 64)] {
            let properties =
                Properties::parse(&file(&[("use_base64_key", Some(key.as_str()))])).unwrap();
            assert_eq!(properties.key.expose().len(), len);
        }
    }

    #[test]
    fn a_bad_key_is_refused_without_echoing_it() {
        let short = STANDARD_LENIENT.encode([9u8; 16]);
        for key in [
            short.as_str(),
            "not*base64!",
            "JWC41crr322aUfdckVfJKHvGKNIPyAP+L7rMsTbz_lA=",
        ] {
            let error = Properties::parse(&file(&[("use_base64_key", Some(key))])).unwrap_err();
            assert!(
                matches!(error, PropertiesError::BadKey(_)),
                "{key}: {error:?}"
            );
            let message = Error::from(error.clone()).to_string();
            assert!(!message.contains(key) && !format!("{error:?}").contains(key));
        }
    }

    #[test]
    fn every_required_key_is_required() {
        for key in [
            "use_base64_key",
            "token",
            "org_alias",
            "idp_url",
            "authenticator_url",
        ] {
            assert_eq!(
                Properties::parse(&file(&[(key, None)])).unwrap_err(),
                PropertiesError::Missing(key)
            );
            assert_eq!(
                Properties::parse(&file(&[(key, Some("  "))])).unwrap_err(),
                PropertiesError::Missing(key)
            );
        }
        let without_optionals = file(&[("admin_url", None), ("use_signature", None)]);
        let properties = Properties::parse(&without_optionals).unwrap();
        assert!(properties.admin_url.is_none() && properties.use_signature);
    }

    #[test]
    fn urls_must_be_https_except_on_loopback() {
        for key in ["idp_url", "authenticator_url"] {
            let error = Properties::parse(&file(&[(key, Some("http://idp.example.com/pingid"))]));
            assert!(matches!(error, Err(PropertiesError::NotHttps { key: k }) if k == key));
            for bad in [
                "ftp://example.com",
                "not a url",
                "https://x.example/p?q=1",
                "https://u:p@x.example/",
            ] {
                assert!(
                    Properties::parse(&file(&[(key, Some(bad))])).is_err(),
                    "{bad}"
                );
            }
        }
        for local in [
            "http://127.0.0.1:3001/pingid",
            "http://localhost:3001/pingid/",
            "http://[::1]:3001/pingid",
        ] {
            let properties = Properties::parse(&file(&[("idp_url", Some(local))])).unwrap();
            assert!(!properties.idp_url.ends_with('/'));
        }
    }

    #[test]
    fn use_signature_is_a_boolean() {
        let parse = |flag| Properties::parse(&file(&[("use_signature", Some(flag))]));
        assert!(!parse("FALSE").unwrap().use_signature);
        assert!(parse("True").unwrap().use_signature);
        assert_eq!(parse("yes").unwrap_err(), PropertiesError::BadFlag);
    }

    #[test]
    fn config_errors_map_to_config_unavailable() {
        let error = Error::from(PropertiesError::Missing("token"));
        assert_eq!(error.code(), "CONFIG_UNAVAILABLE");
    }
}
