//! The user's phone and inbox: every OTP "sent" by SMS, voice call or email lands here, where
//! `GET /_sim/messages` reads it.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::clock::rfc3339;
use crate::state::lock;

/// How an OTP reaches the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Channel {
    Sms,
    Voice,
    Email,
}

/// An OTP to send: produced by the device-authentication state machine, stored by the handler.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    pub(crate) channel: Channel,
    /// Phone number or email address, unmasked.
    pub(crate) to: String,
    pub(crate) otp: String,
    /// How long the OTP is valid, quoted in the message text.
    pub(crate) valid_for: Duration,
}

/// One delivered message, as the control API shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Message {
    channel: Channel,
    to: String,
    text: String,
    otp: String,
    at: String,
}

/// Delivered messages, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    messages: Mutex<Vec<Message>>,
}

impl Outbox {
    /// Records `delivery` as sent at `at`.
    pub(crate) fn deliver(&self, delivery: Delivery, at: SystemTime) {
        let minutes = delivery.valid_for.as_secs().div_ceil(60);
        let text = match delivery.channel {
            // Voice reads the digits one by one.
            Channel::Voice => format!(
                "Your PingID passcode is {}. I repeat: {}.",
                spaced(&delivery.otp),
                spaced(&delivery.otp)
            ),
            Channel::Sms | Channel::Email => format!(
                "Your PingID passcode is {}. It expires in {minutes} minutes.",
                delivery.otp
            ),
        };
        let message = Message {
            channel: delivery.channel,
            to: delivery.to,
            text,
            otp: delivery.otp,
            at: rfc3339(at),
        };
        lock(&self.messages).push(message);
    }

    /// Messages sent to `to` (all messages when `None`), oldest first.
    pub(crate) fn messages(&self, to: Option<&str>) -> Vec<Message> {
        lock(&self.messages)
            .iter()
            .filter(|message| to.is_none_or(|to| message.to == to))
            .cloned()
            .collect()
    }
}

fn spaced(digits: &str) -> String {
    let chars: Vec<String> = digits.chars().map(String::from).collect();
    chars.join(" ")
}
