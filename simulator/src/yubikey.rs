//! Simulated YubiKey OTPs: 44 modhex characters, the key's 12-character public id followed by
//! 16 bytes. A real YubiKey encrypts those 16 bytes with AES-128 under a per-key secret; the
//! simulator (`[I]`) carries the usage counter in clear in the first 4 bytes and authenticates
//! them with 12 bytes of HMAC-SHA256 under a per-key secret, which keeps the properties the
//! tests need: only the key can mint an OTP, and each OTP has a strictly increasing counter.

use hmac::{Hmac, Mac};
use sha2::Sha256;

const MODHEX: &[u8; 16] = b"cbdefghijklnrtuv";

fn mac(public_id: &str, counter: u32) -> [u8; 12] {
    let mut mac = Hmac::<Sha256>::new_from_slice(b"pingid-sim yubikey secret")
        .expect("HMAC accepts keys of any length");
    mac.update(public_id.as_bytes());
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = [0; 12];
    out.copy_from_slice(&digest[..12]);
    out
}

/// The OTP the key `public_id` emits with usage counter `counter`.
pub(crate) fn otp(public_id: &str, counter: u32) -> String {
    let mut bytes = counter.to_be_bytes().to_vec();
    bytes.extend_from_slice(&mac(public_id, counter));
    let mut out = public_id.to_owned();
    for byte in bytes {
        out.push(char::from(MODHEX[usize::from(byte >> 4)]));
        out.push(char::from(MODHEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// Whether `text` is a 12-character modhex public id.
pub(crate) fn is_public_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| MODHEX.contains(&b))
}

/// `(public id, counter)` of a genuine OTP; `None` for anything else.
pub(crate) fn parse(otp: &str) -> Option<(String, u32)> {
    if otp.len() != 44 || !otp.is_ascii() {
        return None;
    }
    let (public_id, token) = otp.split_at(12);
    if !is_public_id(public_id) {
        return None;
    }
    let nibble = |c: u8| MODHEX.iter().position(|&m| m == c);
    let bytes: Option<Vec<u8>> = token
        .as_bytes()
        .chunks(2)
        .map(|pair| Some(((nibble(pair[0])? as u8) << 4) | nibble(pair[1])? as u8))
        .collect();
    let bytes = bytes?;
    let counter = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    (bytes[4..] == mac(public_id, counter)).then(|| (public_id.to_owned(), counter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otps_round_trip_and_reject_tampering() {
        let otp = otp("cccccbcdefgh", 7);
        assert_eq!(otp.len(), 44);
        assert_eq!(parse(&otp), Some(("cccccbcdefgh".to_owned(), 7)));
        let mut tampered = otp.into_bytes();
        tampered[43] = if tampered[43] == b'c' { b'b' } else { b'c' };
        assert_eq!(parse(&String::from_utf8(tampered).expect("ascii")), None);
        assert_eq!(parse("short"), None);
    }
}
