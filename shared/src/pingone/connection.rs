//! The PingOne connection: which environment, which worker app, which region's hosts.

use serde::Deserialize;

use crate::secrets::Secret;

/// A PingOne region and its hosts (pingone-api.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// North America (`com`).
    NorthAmerica,
    /// Europe (`eu`).
    Europe,
    /// Canada (`ca`).
    Canada,
    /// Australia (`com.au`).
    Australia,
    /// Singapore (`sg`).
    Singapore,
    /// Asia-Pacific, legacy `.asia` customers only (`asia`).
    AsiaPacific,
}

impl Region {
    /// Parses the DaVinci region code (`NA`, `EU`, `CA`, `AU`, `SG`, `AP`) or the host suffix
    /// (`com`, `eu`, `ca`, `com.au`, `sg`, `asia`). DaVinci's own encoding is unpublished, so
    /// both are accepted (pingone-api.md §1.1 [I]); codes are case-insensitive.
    pub fn parse(text: &str) -> Option<Self> {
        let region = match text.trim().to_ascii_lowercase().as_str() {
            "na" | "com" => Region::NorthAmerica,
            "eu" => Region::Europe,
            "ca" => Region::Canada,
            "au" | "com.au" => Region::Australia,
            "sg" => Region::Singapore,
            "ap" | "asia" => Region::AsiaPacific,
            _ => return None,
        };
        Some(region)
    }

    /// The top-level domain of the region's hosts.
    pub fn tld(self) -> &'static str {
        match self {
            Region::NorthAmerica => "com",
            Region::Europe => "eu",
            Region::Canada => "ca",
            Region::Australia => "com.au",
            Region::Singapore => "sg",
            Region::AsiaPacific => "asia",
        }
    }

    /// `https://auth.pingone.<tld>`: token endpoint and device authentications.
    pub fn auth_base(self) -> String {
        format!("https://auth.pingone.{}", self.tld())
    }

    /// `https://api.pingone.<tld>/v1`: the management API (users, devices, policies).
    pub fn api_base(self) -> String {
        format!("https://api.pingone.{}/v1", self.tld())
    }
}

/// Where requests go: the region's hosts, or one base URL for both (the simulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hosts {
    /// Base of auth-host paths (`{auth}/{envId}/…`).
    pub auth: String,
    /// Base of API-host paths (`{api}/environments/{envId}/…`).
    pub api: String,
}

impl Hosts {
    /// The real hosts of `region`.
    pub fn for_region(region: Region) -> Self {
        Self {
            auth: region.auth_base(),
            api: region.api_base(),
        }
    }

    /// One server playing both hosts, as the simulator does: auth paths at `base`, API paths at
    /// `base/v1`.
    pub fn single(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self {
            auth: base.to_string(),
            api: format!("{base}/v1"),
        }
    }
}

/// The PingOne connection secret (handbook §4.2): `{"envId","clientId","clientSecret","region"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The PingOne environment id.
    pub env_id: String,
    /// The worker app's client id.
    pub client_id: String,
    /// The worker app's client secret.
    pub client_secret: Secret<String>,
    /// The environment's region.
    pub region: Region,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionSecret {
    env_id: String,
    client_id: String,
    client_secret: String,
    region: String,
}

impl Connection {
    /// Parses the secret's JSON text. Errors name the problem, never the secret's content.
    pub fn from_secret(text: &str) -> Result<Self, String> {
        let secret: ConnectionSecret = serde_json::from_str(text).map_err(|e| {
            // serde names the missing field or the position; it does not quote values.
            format!("the PingOne connection secret is not valid: {e}")
        })?;
        let region = Region::parse(&secret.region).ok_or_else(|| {
            "the PingOne connection secret has an unknown region \
             (use NA, EU, CA, AU, SG or AP)"
                .to_string()
        })?;
        let safe_id = |value: &str| {
            !value.is_empty()
                && value.len() <= 100
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !safe_id(&secret.env_id) || !safe_id(&secret.client_id) {
            return Err(
                "the PingOne connection secret's envId and clientId must be plain ids".to_string(),
            );
        }
        Ok(Self {
            env_id: secret.env_id,
            client_id: secret.client_id,
            client_secret: Secret::new(secret.client_secret),
            region,
        })
    }

    /// The connection, if its region is the one the deployment is pinned to (`PINGONE_REGION`):
    /// a secret pointing elsewhere is refused rather than followed, so user data goes only to
    /// the region the deployer chose.
    pub fn in_region(self, pinned: Option<Region>) -> Result<Self, String> {
        match pinned {
            Some(pinned) if pinned != self.region => Err(format!(
                "the PingOne connection secret names region {:?} but this deployment is pinned \
                 to {pinned:?} (PINGONE_REGION)",
                self.region
            )),
            _ => Ok(self),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_and_host_suffixes_map_to_the_documented_hosts() {
        let table = [
            (
                "NA",
                "com",
                "https://auth.pingone.com",
                "https://api.pingone.com/v1",
            ),
            (
                "EU",
                "eu",
                "https://auth.pingone.eu",
                "https://api.pingone.eu/v1",
            ),
            (
                "CA",
                "ca",
                "https://auth.pingone.ca",
                "https://api.pingone.ca/v1",
            ),
            (
                "AU",
                "com.au",
                "https://auth.pingone.com.au",
                "https://api.pingone.com.au/v1",
            ),
            (
                "SG",
                "sg",
                "https://auth.pingone.sg",
                "https://api.pingone.sg/v1",
            ),
            (
                "AP",
                "asia",
                "https://auth.pingone.asia",
                "https://api.pingone.asia/v1",
            ),
        ];
        for (code, tld, auth, api) in table {
            let by_code = Region::parse(code).unwrap();
            assert_eq!(Region::parse(tld), Some(by_code), "{tld}");
            assert_eq!(Region::parse(&code.to_lowercase()), Some(by_code), "{code}");
            assert_eq!(by_code.tld(), tld);
            assert_eq!(
                Hosts::for_region(by_code),
                Hosts {
                    auth: auth.into(),
                    api: api.into()
                }
            );
        }
    }

    #[test]
    fn unknown_regions_are_refused() {
        for text in ["", "US", "europe", "com.eu", "auth.pingone.com"] {
            assert_eq!(Region::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_single_base_plays_both_hosts() {
        let hosts = Hosts::single("http://127.0.0.1:3001/");
        assert_eq!(hosts.auth, "http://127.0.0.1:3001");
        assert_eq!(hosts.api, "http://127.0.0.1:3001/v1");
    }

    #[test]
    fn the_connection_secret_parses_and_hides_the_client_secret() {
        let connection = Connection::from_secret(
            r#"{"envId":"7c3a1f52-0d4e-4b8a-9c61-5e2f3a4b6c7d","clientId":"local-worker",
                "clientSecret":"s3cr3t","region":"NA"}"#,
        )
        .unwrap();
        assert_eq!(connection.region, Region::NorthAmerica);
        assert!(!format!("{connection:?}").contains("s3cr3t"));
    }

    #[test]
    fn a_bad_connection_secret_is_explained_without_its_content() {
        let missing = Connection::from_secret(r#"{"envId":"e","clientId":"c","region":"NA"}"#);
        assert!(missing.unwrap_err().contains("clientSecret"));
        let region = Connection::from_secret(
            r#"{"envId":"e","clientId":"c","clientSecret":"s3cr3t","region":"XX"}"#,
        );
        assert!(!region.unwrap_err().contains("s3cr3t"));
        let path = Connection::from_secret(
            r#"{"envId":"../x","clientId":"c","clientSecret":"s","region":"NA"}"#,
        );
        assert!(path.is_err());
    }

    #[test]
    fn a_pinned_region_refuses_a_connection_elsewhere() {
        let connection = Connection::from_secret(
            r#"{"envId":"env","clientId":"client","clientSecret":"s3cret","region":"NA"}"#,
        )
        .unwrap();
        assert!(connection.clone().in_region(None).is_ok());
        assert!(
            connection
                .clone()
                .in_region(Some(Region::NorthAmerica))
                .is_ok()
        );
        let refused = connection.in_region(Some(Region::Europe)).unwrap_err();
        assert!(refused.contains("PINGONE_REGION") && !refused.contains("s3cret"));
    }
}
