//! The chat wording: an alert as an AWS Chatbot (Amazon Q Developer in chat applications) custom
//! notification, which Slack and Microsoft Teams channels subscribed to the topic render. It goes
//! in the same publish, under the `https` key (Chatbot subscribes to a topic over HTTPS); a
//! message in any other shape is dropped by Chatbot.
//!
//! Schema: Amazon Q Developer in chat applications administrator guide, "Custom notifications":
//! `version` "1.0", `source` "custom", `content` (`textType` "client-markdown", `title`,
//! `description`, `nextSteps`, `keywords`) and `metadata` (`threadId`, `summary`, `eventType`,
//! `relatedResources`, `additionalContext`). `tests/chat_schema.rs` checks every sample's message
//! against a JSON Schema written from that page.

use serde::Serialize;

use crate::detect::alert::Alert;
use crate::detect::classify::{CredentialKind, MfaState};

/// Longest caller-supplied text shown in chat (the email has more room).
const MAX_UNTRUSTED: usize = 160;

/// A Chatbot custom notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatNotification {
    pub version: &'static str,
    pub source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub content: ChatContent,
    pub metadata: ChatMetadata,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatContent {
    pub text_type: &'static str,
    pub title: String,
    pub description: String,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMetadata {
    /// One thread per root session, so a session's alerts read as one conversation.
    pub thread_id: String,
    pub summary: String,
    pub event_type: String,
    pub related_resources: Vec<String>,
    pub additional_context: std::collections::BTreeMap<&'static str, String>,
}

/// Caller-chosen text for chat: inside a code span (no formatting applies there), with the
/// characters that could close the span, start a link or mention (`<!channel>`), or be read as
/// an HTML entity replaced. Already one line and capped by enrichment; capped again here.
pub fn chat_untrusted(text: &str) -> String {
    let safe: String = text
        .chars()
        .take(MAX_UNTRUSTED)
        .map(|c| match c {
            '`' => '\'',
            '<' => '‹',
            '>' => '›',
            '&' => '+',
            '|' => '¦',
            c => c,
        })
        .collect();
    format!("`{safe}` _(caller-supplied)_")
}

impl ChatNotification {
    /// A notification with the fixed parts the schema requires; the renderers fill the rest.
    pub fn new(content: ChatContent, metadata: ChatMetadata, id: Option<String>) -> Self {
        ChatNotification {
            version: "1.0",
            source: "custom",
            id,
            content,
            metadata,
        }
    }

    /// The JSON text published under the `https` key. Serialising plain data with string keys
    /// cannot fail; fall back to a minimal valid notification rather than panic.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"version":"1.0","source":"custom","content":{"description":"rootwatch alert"}}"#
                .to_owned()
        })
    }
}

/// Renders an alert for chat. Pure.
pub fn render_chat(alert: &Alert) -> ChatNotification {
    let title = format!("{} · {}", alert.severity.as_str(), alert.title());
    let mut facts = vec![
        format!("*Account:* {}", alert.account.label()),
        format!("*Region:* {}", alert.region),
        format!(
            "*When:* {}",
            alert.event_time.map_or_else(
                || "unknown".to_owned(),
                |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            )
        ),
        format!("*Source IP:* {}", alert.source_ip.display()),
        format!("*Credentials:* {}", alert.credential.describe()),
        format!("*Outcome:* {}", alert.outcome.describe()),
    ];
    if alert.credential != CredentialKind::AssumeRoot && alert.kind.is_sign_in() {
        let mfa = match alert.mfa {
            MfaState::Used => "used",
            MfaState::NotUsed => "NOT used",
            MfaState::Unknown => "unknown",
        };
        facts.push(format!("*MFA:* {mfa}"));
    }
    if let Some(caller) = &alert.external_caller {
        facts.push(format!("*Caller:* root user of external account {caller}"));
    }
    if let Some(key) = &alert.access_key_id {
        facts.push(format!("*Access key:* `{key}`"));
    }
    facts.push(format!(
        "*Event:* `{}:{}`",
        alert.event_source, alert.event_name
    ));
    if let Some(ua) = &alert.user_agent {
        facts.push(format!("*User agent:* {}", chat_untrusted(ua)));
    }
    if !alert.unreadable_fields.is_empty() {
        facts.push(format!(
            "*Unreadable:* {}",
            alert.unreadable_fields.join(", ")
        ));
    }

    let mut next_steps = Vec::new();
    if let Some(url) = &alert.console_url {
        next_steps.push(format!("Open the event in CloudTrail: {url}"));
    }
    if let Some(url) = &alert.runbook_url {
        next_steps.push(format!("Follow the root-user runbook: {url}"));
    }
    next_steps.push(
        "If this was not planned, treat it as an incident: the root user can do anything in \
         this account."
            .to_owned(),
    );

    let mut context = std::collections::BTreeMap::new();
    context.insert("severity", alert.severity.as_str().to_owned());
    context.insert("rule", alert.rule.to_owned());
    context.insert("account", alert.account.id_or_unknown().to_owned());
    if let Some(id) = &alert.event_id {
        context.insert("eventId", id.clone());
    }

    ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title,
            description: facts.join("\n"),
            next_steps,
            keywords: vec![
                alert.severity.as_str().to_owned(),
                alert.kind.as_str().to_owned(),
                alert.account.id_or_unknown().to_owned(),
            ],
        },
        ChatMetadata {
            thread_id: format!("rootwatch#{}", alert.root_session()),
            summary: format!(
                "{} {} - {}",
                alert.severity.as_str(),
                alert.title(),
                alert.account.label()
            ),
            event_type: alert.kind.as_str().to_owned(),
            related_resources: alert.event_id.iter().cloned().collect(),
            additional_context: context,
        },
        alert.event_id.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Caller-chosen text cannot close its code span, mention a channel or start a link.
    #[test]
    fn untrusted_text_stays_inert_in_chat() {
        let shown = chat_untrusted("curl` <!channel> *bold* [x](https://evil) & <@U123>|y");
        assert!(shown.starts_with('`'), "{shown}");
        let inner = shown.trim_end_matches(" _(caller-supplied)_");
        assert_eq!(inner.matches('`').count(), 2, "{shown}");
        for bad in ['<', '>', '&', '|'] {
            assert!(!inner.contains(bad), "{bad:?} in {shown}");
        }
        assert!(shown.ends_with("_(caller-supplied)_"));
    }
}
