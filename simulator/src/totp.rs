//! RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits), the authenticator-app codes.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha1::Sha1;

const STEP_SECS: u64 = 30;
const DIGITS: u32 = 6;

/// The code an authenticator app shows at `at`.
pub(crate) fn code_at(secret: &[u8], at: SystemTime) -> String {
    hotp(secret, step(at))
}

/// Whether `candidate` is the code of the current step or of one step either side, the usual
/// allowance for clock drift and for a code typed just as it changed. (PingOne's own grace
/// period is configurable; ±1 step is the simulator's choice.)
pub(crate) fn verify(secret: &[u8], candidate: &str, at: SystemTime) -> bool {
    verify_window(secret, candidate, at, 1)
}

/// Whether `candidate` is the code of a step within `steps` of the current one.
pub(crate) fn verify_window(secret: &[u8], candidate: &str, at: SystemTime, steps: u64) -> bool {
    let current = step(at);
    (current.saturating_sub(steps)..=current + steps)
        .any(|counter| hotp(secret, counter) == candidate)
}

fn step(at: SystemTime) -> u64 {
    // Times before 1970 do not occur on the simulator's clock; treat them as step 0.
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() / STEP_SECS)
}

/// RFC 4226 HOTP with dynamic truncation.
fn hotp(secret: &[u8], counter: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let window = [
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ];
    let value = u32::from_be_bytes(window) % 10u32.pow(DIGITS);
    format!("{value:0width$}", width = DIGITS as usize)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    fn at(unix_secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix_secs)
    }

    #[test]
    fn matches_the_rfc_6238_sha1_vectors_truncated_to_six_digits() {
        // RFC 6238 Appendix B lists 8-digit codes; 6-digit codes are their last six digits.
        let vectors = [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ];
        for (time, code) in vectors {
            assert_eq!(code_at(RFC_SECRET, at(time)), code, "at {time}");
        }
    }

    #[test]
    fn accepts_one_step_of_drift_either_side_and_no_more() {
        let now = at(1_234_567_890);
        assert!(verify(
            RFC_SECRET,
            &code_at(RFC_SECRET, at(1_234_567_860)),
            now
        ));
        assert!(verify(
            RFC_SECRET,
            &code_at(RFC_SECRET, at(1_234_567_920)),
            now
        ));
        assert!(!verify(
            RFC_SECRET,
            &code_at(RFC_SECRET, at(1_234_567_800)),
            now
        ));
        assert!(!verify(RFC_SECRET, "not-a-code", now));
    }
}
