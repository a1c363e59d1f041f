//! The legacy PingID org of the demo tenant: what an admin would download as
//! `pingid.properties`, and the PingID users behind it.
//!
//! | PingID user | status        | devices (first = primary)                                                   |
//! |-------------|---------------|-----------------------------------------------------------------------------|
//! | `alice`     | `ACTIVE`      | PingID app on an iPhone (push) [`ALICE_MOBILE_DEVICE_ID`], SMS [`ALICE_SMS_DEVICE_ID`] on +15555550101 |
//! | `bob`       | `NOT_ACTIVE`  | none                                                                        |
//! | `carol`     | `ACTIVE`      | authenticator app [`CAROL_TOTP_DEVICE_ID`] (secret `GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ`) |
//!
//! They are the same people as the PingOne demo users (same names, emails and phones), kept in
//! PingID's own user store. A second org ([`OTHER_ORG_ALIAS`]) has the same three users, its
//! own token and key, and prompts users with several devices to choose one (errorId 30008); a
//! request signed for one org is refused by the other.

use std::fmt::Write as _;

/// The demo org's `org_alias` (and PPM `idpAccountId`).
pub const ORG_ALIAS: &str = "6fe2390d-84b6-5ec9-92db-c6e2186a8d03";
/// The demo org's API client `token` (JWS header `token`, `reqHeader.secretKey`).
pub const TOKEN: &str = "df9f1e964177e3f560580c703013e688";
/// The demo org's `use_base64_key`: standard base64 of the 32-byte HMAC key.
pub const USE_BASE64_KEY: &str = "k2nJ/GKbojTMvWIFqrjbqhtshNqoTEgRCvMGEcMr8zI=";

/// A second org, for cross-org refusals and the device-selection prompt.
pub const OTHER_ORG_ALIAS: &str = "0a9ff19c-0c80-5a66-b90c-42468bdb6179";
/// The second org's token.
pub const OTHER_TOKEN: &str = "65ccfd2e1ea82e012959f75f70386a95";
/// The second org's key.
pub const OTHER_USE_BASE64_KEY: &str = "iLEB+b01ua8JMtbhdt07pF2hrEa3/d7kY6JYnK7oC9w=";

/// alice's PingID mobile app (iPhone, push enabled): her primary device. Device ids are above
/// 2^53 on purpose: a client that parses them as doubles loses digits.
pub const ALICE_MOBILE_DEVICE_ID: i64 = 1_084_997_072_428_840_961;
/// alice's SMS device on +15555550101.
pub const ALICE_SMS_DEVICE_ID: i64 = 1_084_997_072_428_840_962;
/// carol's authenticator app (TOTP, SHA-1, 30 s, 6 digits).
pub const CAROL_TOTP_DEVICE_ID: i64 = 1_084_997_072_428_840_963;
/// In the second org the same devices have these ids plus this offset.
pub const OTHER_ORG_DEVICE_ID_OFFSET: i64 = 1000;

/// The legacy numeric `userId`s of alice, bob and carol.
pub const USER_IDS: [(&str, i64); 3] = [("alice", 17139), ("bob", 17140), ("carol", 17141)];

/// A `pingid.properties` for the demo org as the admin console would produce it, pointing at
/// the simulator at `base_url` (`http://127.0.0.1:PORT`, no trailing slash).
pub fn properties_file(base_url: &str) -> String {
    properties_for(base_url, ORG_ALIAS, TOKEN, USE_BASE64_KEY)
}

/// The same file for the second org.
pub fn other_properties_file(base_url: &str) -> String {
    properties_for(base_url, OTHER_ORG_ALIAS, OTHER_TOKEN, OTHER_USE_BASE64_KEY)
}

fn properties_for(base_url: &str, alias: &str, token: &str, key: &str) -> String {
    let base_url = base_url.trim_end_matches('/');
    let mut file = String::new();
    // Java's Properties.store escapes `=` in values; Ping's downloads do the same for the key.
    let _ = writeln!(
        file,
        "#Auto-Generated from PingOne, downloaded by id=[612087] email=[admin@example.com]"
    );
    let _ = writeln!(file, "#Mon Jan 01 00:00:00 UTC 2024");
    let _ = writeln!(file, "use_base64_key={}", key.replace('=', "\\="));
    let _ = writeln!(file, "use_signature=true");
    let _ = writeln!(file, "token={token}");
    let _ = writeln!(file, "idp_url={base_url}/pingid");
    let _ = writeln!(file, "org_alias={alias}");
    let _ = writeln!(file, "admin_url={base_url}/pingid");
    let _ = writeln!(file, "authenticator_url={base_url}/pingid/ppm");
    file
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;

    #[test]
    fn keys_are_32_bytes_and_tokens_32_hex() {
        for key in [USE_BASE64_KEY, OTHER_USE_BASE64_KEY] {
            assert_eq!(STANDARD.decode(key).expect("base64").len(), 32);
            assert!(key.ends_with('='));
        }
        for token in [TOKEN, OTHER_TOKEN] {
            assert_eq!(token.len(), 32);
            assert!(token.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        }
    }

    #[test]
    fn the_properties_file_escapes_the_key_padding() {
        let file = properties_file("http://127.0.0.1:3001");
        assert!(file.starts_with("#Auto-Generated"));
        assert!(file.contains("use_base64_key=k2nJ/GKbojTMvWIFqrjbqhtshNqoTEgRCvMGEcMr8zI\\=\n"));
        assert!(file.contains("idp_url=http://127.0.0.1:3001/pingid\n"));
        assert!(file.contains("authenticator_url=http://127.0.0.1:3001/pingid/ppm\n"));
        assert!(file.contains(&format!("org_alias={ORG_ALIAS}\n")));
    }
}
