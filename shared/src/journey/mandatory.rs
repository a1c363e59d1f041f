//! `mandatoryAuthenticationMethods`, as the seed defines it for the authentication subflow:
//! method names in upper case, separated by single spaces, from `PINGID_DESKTOP PINGID_MOBILE
//! SMS VOICE EMAIL TOTP SECURITY_KEY PLATFORM YUBIKEY OATH_TOKEN`. Empty means no requirement.
//! Anything else is refused, naming the token at fault: a requirement misread would let a user
//! through without a method the deployment demands.

/// The methods the seed allows, in its order.
pub const METHODS: [&str; 10] = [
    "PINGID_DESKTOP",
    "PINGID_MOBILE",
    "SMS",
    "VOICE",
    "EMAIL",
    "TOTP",
    "SECURITY_KEY",
    "PLATFORM",
    "YUBIKEY",
    "OATH_TOKEN",
];

/// The listed methods, in the order given; or what is wrong, in words naming the token.
pub fn parse(text: &str) -> Result<Vec<&'static str>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut methods: Vec<&'static str> = Vec::new();
    for token in text.split(' ') {
        if token.is_empty() {
            return Err(format!(
                "{text:?} has a space too many: methods are separated by single spaces"
            ));
        }
        let Some(method) = METHODS.iter().copied().find(|method| *method == token) else {
            let hint = if METHODS.contains(&token.to_ascii_uppercase().as_str()) {
                " (methods are written in upper case)"
            } else {
                ""
            };
            return Err(format!(
                "{:?} is not a method{hint}: one of {}",
                token.chars().take(40).collect::<String>(),
                METHODS.join(" ")
            ));
        };
        if methods.contains(&method) {
            return Err(format!("{method} is listed twice"));
        }
        methods.push(method);
    }
    Ok(methods)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_upper_case_names_separated_by_single_spaces() {
        assert_eq!(parse(""), Ok(vec![]));
        assert_eq!(parse("SMS"), Ok(vec!["SMS"]));
        assert_eq!(parse("SMS VOICE EMAIL"), Ok(vec!["SMS", "VOICE", "EMAIL"]));
        assert_eq!(parse(&METHODS.join(" ")), Ok(METHODS.to_vec()));
    }

    #[test]
    fn anything_else_is_refused_naming_the_token() {
        let refused = |text: &str, words: &str| {
            let problem = parse(text).expect_err(text);
            assert!(problem.contains(words), "{text:?}: {problem}");
        };
        refused(
            "sms",
            "\"sms\" is not a method (methods are written in upper case)",
        );
        refused("SMS FAX", "\"FAX\" is not a method");
        refused("SMS  VOICE", "single spaces");
        refused(" SMS", "single spaces");
        refused("SMS ", "single spaces");
        refused("SMS,VOICE", "\"SMS,VOICE\" is not a method");
        refused("SMS\tVOICE", "is not a method");
        refused("SMS SMS", "SMS is listed twice");
        refused("FIDO2", "one of PINGID_DESKTOP PINGID_MOBILE SMS");
    }
}
