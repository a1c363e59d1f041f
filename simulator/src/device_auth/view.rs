//! The device-authentication resource as PingOne returns it, with contact details masked.

use serde_json::{Map, Value, json};

use super::{DeviceAuthentication, SelectedDevice, State, Status};
use crate::clock::rfc3339;
use crate::outbox::Channel;
use crate::tenant::{Device, DeviceKind, UserDevices};

/// The resource body: ids, `status`, timestamps, `selectedDevice`, masked `_embedded.devices`,
/// `error` when failed, and `_links` to the actions valid in the current state (all of them
/// point at the resource itself, as every action is a POST to it).
pub(crate) fn render(
    auth: &DeviceAuthentication,
    user: Option<&UserDevices<'_>>,
    base_url: &str,
) -> Value {
    let href = format!(
        "{base_url}/{}/deviceAuthentications/{}",
        auth.env_id, auth.id
    );
    let mut body = json!({
        "_links": links(auth, &href),
        "id": auth.id,
        "environment": { "id": auth.env_id },
        "policy": { "id": auth.policy_id },
        "status": auth.status().as_str(),
        "createdAt": rfc3339(auth.created_at),
        "updatedAt": rfc3339(auth.updated_at),
        "expiresAt": rfc3339(auth.expires_at),
    });
    // A usernameless sign-in has no user until the assertion names one.
    if let Some(user_id) = auth.user_id() {
        body["user"] = json!({ "id": user_id });
    }
    if let Some(otp) = auth.test_otp() {
        body["test"] = json!({ "otp": otp });
    }
    if let Some(SelectedDevice::Paired { id }) = &auth.selected {
        body["selectedDevice"] = json!({ "id": id });
    }
    let devices = user
        .map(|user| embedded_devices(auth, user))
        .unwrap_or_default();
    if !devices.is_empty() {
        body["_embedded"] = json!({ "devices": devices });
    }
    if let Some((field, options)) = auth.assertion_options() {
        body[field] = json!(options);
    }
    if let State::Failed(error) = &auth.state {
        body["error"] = json!(error);
    }
    body
}

/// The actions valid now; a pending or timed-out push also takes the app's code (`otp.check`).
fn links(auth: &DeviceAuthentication, href: &str) -> Value {
    let app_code = auth.takes_app_code();
    let actions: &[&str] = match auth.status() {
        Status::PushConfirmationTimedOut if app_code => &["device.select", "otp.check", "cancel"],
        Status::DeviceSelectionRequired | Status::PushConfirmationTimedOut => {
            &["device.select", "cancel"]
        }
        Status::OtpRequired => &["otp.check", "cancel"],
        Status::PushConfirmationRequired if app_code => &["otp.check", "cancel"],
        Status::PushConfirmationRequired => &["cancel"],
        Status::AssertionRequired => &["assertion.check", "cancel"],
        Status::Completed | Status::Failed | Status::Canceled => &[],
    };
    let links: Map<String, Value> = std::iter::once("self")
        .chain(actions.iter().copied())
        .map(|name| (name.to_owned(), json!({ "href": href })))
        .collect();
    Value::Object(links)
}

/// The devices to show: all of the user's while selecting, otherwise the one in use.
fn embedded_devices(auth: &DeviceAuthentication, user: &UserDevices<'_>) -> Vec<Value> {
    if matches!(auth.state, State::DeviceSelectionRequired) {
        return user.devices.iter().map(device_summary).collect();
    }
    match &auth.selected {
        Some(SelectedDevice::Paired { id }) => {
            user.device(id).map(device_summary).into_iter().collect()
        }
        Some(SelectedDevice::OneTime(device)) => {
            let (kind, contact) = match device.channel {
                Channel::Sms => ("SMS", ("phone", mask_phone(&device.address))),
                Channel::Voice => ("VOICE", ("phone", mask_phone(&device.address))),
                Channel::Email => ("EMAIL", ("email", mask_email(&device.address))),
            };
            let mut summary = json!({ "type": kind });
            summary[contact.0] = json!(contact.1);
            vec![summary]
        }
        None => Vec::new(),
    }
}

fn device_summary(device: &Device) -> Value {
    let mut summary = json!({
        "id": device.id,
        "type": device.kind.type_name(),
        "nickname": device.nickname,
    });
    match &device.kind {
        DeviceKind::Sms { phone } | DeviceKind::Voice { phone } => {
            summary["phone"] = json!(mask_phone(phone));
        }
        DeviceKind::Email { email } => summary["email"] = json!(mask_email(email)),
        _ => {}
    }
    summary
}

/// `+15555550101` → `+1555*****01`: the country and area prefix and the last two digits stay.
fn mask_phone(phone: &str) -> String {
    const KEEP_START: usize = 5;
    const KEEP_END: usize = 2;
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= KEEP_START + KEEP_END {
        return "*".repeat(chars.len());
    }
    let start: String = chars[..KEEP_START].iter().collect();
    let end: String = chars[chars.len() - KEEP_END..].iter().collect();
    format!(
        "{start}{}{end}",
        "*".repeat(chars.len() - KEEP_START - KEEP_END)
    )
}

/// `alice@example.com` → `a****@example.com`: the first letter and the domain stay.
fn mask_email(email: &str) -> String {
    let Some((local, domain)) = email.split_once('@') else {
        return "*".repeat(email.chars().count());
    };
    let mut chars = local.chars();
    let first: String = chars.next().into_iter().collect();
    format!("{first}{}@{domain}", "*".repeat(chars.count()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_keep_prefix_and_last_two_digits() {
        assert_eq!(mask_phone("+15555550101"), "+1555*****01");
        assert_eq!(mask_phone("+4915112345678"), "+4915*******78");
        assert_eq!(mask_phone("+123456"), "*******");
    }

    #[test]
    fn emails_keep_first_letter_and_domain() {
        assert_eq!(mask_email("alice@example.com"), "a****@example.com");
        assert_eq!(mask_email("o@x.io"), "o@x.io");
        assert_eq!(mask_email("no-at-sign"), "**********");
    }
}
