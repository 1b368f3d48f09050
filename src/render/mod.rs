//! Rendering, the pure core's second half: one alert as an SMS segment ([`sms`]), an email
//! subject and body ([`email`]), a Slack/Teams message through AWS Chatbot ([`chat`]), and the
//! one SNS message that carries them all ([`notification`]).

pub mod chat;
pub mod email;
pub mod notification;
pub mod sms;
