//! Rendering, the pure core's second half: one alert as an SMS segment ([`sms`]), an email
//! subject and body ([`email`]), a Slack/Teams message through AWS Chatbot ([`chat`]), and the
//! one SNS message that carries them all ([`notification`]).

pub mod chat;
pub mod email;
pub mod notification;
pub mod sms;
pub mod time;

/// Compact JSON of `value`, written into one buffer of `capacity` bytes (sized for the longest
/// sample's text, so it is not grown and copied along the way). `None` if serialising failed.
pub(crate) fn json_text(value: &impl serde::Serialize, capacity: usize) -> Option<String> {
    let mut bytes = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut bytes, value).ok()?;
    String::from_utf8(bytes).ok()
}
