//! One alert rendered for every SNS protocol, plus the attributes subscriptions filter on.

use serde_json::json;

use crate::detect::alert::Alert;
use crate::domain::{NotificationKind, Severity, SmsLimit};
use crate::render::chat::render_chat;
use crate::render::email::{EmailSubject, render_email};
use crate::render::event::{AlertEvent, render_event};
use crate::render::sms::{Sms, render_sms};

/// Everything that goes into the single SNS `Publish` for an alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub event_id: Option<String>,
    pub severity: Severity,
    pub kind: NotificationKind,
    pub subject: EmailSubject,
    pub sms: Sms,
    pub email_body: String,
    /// The structured alert, for `email-json` (and SQS/Lambda subscribers, through `default`).
    pub alert_json: String,
    /// The AWS Chatbot custom notification, for Slack and Teams channels (`https`).
    pub chat_json: String,
    /// Whether phones get this alert: the `page` attribute the SMS filter policy requires.
    /// Rendering says whether it may (not a declared alert below CRITICAL, nor a notice of
    /// declared root use); SMS coalescing and the ceiling in delivery may then say no.
    pub page: bool,
    /// The structured alert event for the alert bus, before delivery sets what only it knows
    /// ([`AlertEvent::delivered`]).
    pub event: AlertEvent,
}

/// Renders an alert for phones, inboxes and machines; `sms_limit` is what SNS leaves of the
/// segment after the topic's display name. Pure.
pub fn render(alert: &Alert, sms_limit: SmsLimit) -> Notification {
    let email = render_email(alert);
    Notification {
        event_id: alert.event_id.clone(),
        severity: alert.severity,
        kind: alert.kind.into(),
        subject: email.subject,
        sms: render_sms(alert, sms_limit),
        email_body: email.body,
        // Serialising plain data with string keys cannot fail; fall back to null rather than panic.
        alert_json: crate::render::json_text(alert, 2048).unwrap_or_else(|| "null".into()),
        chat_json: render_chat(alert).to_json(),
        // A declared alert below CRITICAL may not page; the claim decides whether others do.
        page: !alert.quieted(),
        event: render_event(alert),
    }
}

impl Notification {
    /// The `MessageStructure=json` message: one text per protocol. `https` is the Chatbot custom
    /// notification (AWS Chatbot subscribes to a topic over HTTPS and drops anything else);
    /// `default` goes to protocols without their own entry (SQS, Lambda) and is the structured
    /// alert, so machines get the same data as `email-json`.
    pub fn message_json(&self) -> String {
        json!({
            "default": self.alert_json,
            "sms": self.sms.as_str(),
            "email": self.email_body,
            "email-json": self.alert_json,
            "https": self.chat_json,
        })
        .to_string()
    }
}
