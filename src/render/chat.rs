//! The chat wording: an alert as an AWS Chatbot (Amazon Q Developer in chat applications) custom
//! notification, which Slack and Microsoft Teams channels subscribed to the topic render. It goes
//! in the same publish, under the `https` key (Chatbot subscribes to a topic over HTTPS); a
//! message in any other shape is dropped by Chatbot.
//!
//! Schema: Amazon Q Developer in chat applications administrator guide, "Custom notifications":
//! `version` "1.0", `source` "custom", `content` (`textType` "client-markdown", `title`,
//! `description`, `nextSteps`, `keywords`) and `metadata` (`threadId`, `summary`, `eventType`,
//! `relatedResources`, `additionalContext`). `tests/it/chat.rs` checks every sample's message
//! against a JSON Schema written from that page.

use std::fmt::Write as _;

use serde::Serialize;

use crate::detect::alert::Alert;
use crate::domain::{CredentialKind, DeclarationStatus, MfaState};
use crate::render::time::to_the_second;

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
pub(crate) fn chat_untrusted(text: &str) -> String {
    let mut shown = String::with_capacity(text.len() + 24);
    write_chat_untrusted(&mut shown, text);
    shown
}

/// Rootwatch's own words that may quote caller-chosen text (already quoted exactly): inert in a
/// code span as [`chat_untrusted`] makes it, but not labelled as the caller's.
pub(crate) fn chat_code(text: &str) -> String {
    let mut shown = String::with_capacity(text.len() + 2);
    write_chat_code(&mut shown, text);
    shown
}

/// [`chat_untrusted`], written at the end of `out`.
fn write_chat_untrusted(out: &mut String, text: &str) {
    write_chat_code(out, text);
    out.push_str(" _(caller-supplied)_");
}

/// `text` in a code span, without the characters that could close it, start a link or mention,
/// or be read as an HTML entity.
fn write_chat_code(out: &mut String, text: &str) {
    out.push('`');
    out.extend(text.chars().take(MAX_UNTRUSTED).map(|c| match c {
        '`' => '\'',
        '<' => '‹',
        '>' => '›',
        '&' => '+',
        '|' => '¦',
        c => c,
    }));
    out.push('`');
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

    /// The JSON text published under the `https` key.
    pub(crate) fn to_json(&self) -> String {
        // Plain data with string keys cannot fail to serialise; null rather than a panic.
        crate::render::json_text(self, 2048).unwrap_or_else(|| "null".into())
    }
}

/// Renders an alert for chat. Pure.
pub(crate) fn render_chat(alert: &Alert) -> ChatNotification {
    let severity = alert.severity.as_str();
    let mut title = String::with_capacity(96);
    let declared = alert.declaration.declared();
    if declared.is_some() {
        let _ = write!(title, "{severity} · DECLARED · {}", alert.title());
    } else {
        let _ = write!(title, "{severity} · {}", alert.title());
    }

    // The facts, one a line.
    let mut facts = String::with_capacity(768);
    let _ = write!(
        facts,
        "*Account:* {}\n*Region:* {}\n*When:* ",
        alert.account.label(),
        alert.region
    );
    match alert.event_time {
        Some(time) => {
            let _ = write!(facts, "{}", to_the_second(time));
        }
        None => facts.push_str("unknown"),
    }
    let _ = write!(
        facts,
        "\n*Source IP:* {}\n*Credentials:* {}\n*Outcome:* {}",
        alert.source_ip.display(),
        alert.credential.describe(),
        alert.attempt.describe()
    );
    if let (Some(allowance), Some(rule)) = (alert.allowance, alert.rule_severity) {
        let _ = write!(facts, "\n*Allowance:* {}", allowance.note(rule));
    }
    if alert.credential != CredentialKind::AssumeRoot
        && alert.kind.is_sign_in()
        && alert.states_mfa()
    {
        let mfa = match alert.mfa {
            MfaState::Used => "used",
            MfaState::NotUsed => "NOT used",
            MfaState::Unknown => "unknown",
        };
        let _ = write!(facts, "\n*MFA:* {mfa}");
    }
    match &alert.declaration {
        DeclarationStatus::Declared(d) => {
            let _ = write!(
                facts,
                "\n*Declared:* yes, until {}{}; by ",
                to_the_second(d.closes()),
                if alert.quieted() {
                    ", not texted (below CRITICAL)"
                } else {
                    ", texted (CRITICAL)"
                }
            );
            write_chat_untrusted(&mut facts, &d.by);
            facts.push_str(", reason ");
            write_chat_untrusted(&mut facts, &d.reason);
        }
        DeclarationStatus::OutsideSource(d) => {
            let _ = write!(
                facts,
                "\n*Declared:* NO, source outside the declared {}",
                d.source.map(|s| s.to_string()).unwrap_or_default()
            );
        }
        DeclarationStatus::None if alert.kind.is_sign_in() => {
            facts.push_str("\n*Declared:* no");
        }
        DeclarationStatus::Unchecked => {
            facts.push_str("\n*Declared:* could not be checked; treated as not declared");
        }
        DeclarationStatus::None | DeclarationStatus::Off => {}
    }
    if let Some(caller) = &alert.external_caller {
        let _ = write!(facts, "\n*Caller:* root user of external account {caller}");
    }
    if let Some(key) = &alert.access_key_id {
        let _ = write!(facts, "\n*Access key:* `{key}`");
    }
    let _ = write!(
        facts,
        "\n*Event:* `{}:{}`",
        alert.event_source, alert.event_name
    );
    if let Some(ua) = &alert.user_agent {
        facts.push_str("\n*User agent:* ");
        write_chat_untrusted(&mut facts, ua);
    }
    if let Some((first, rest)) = alert.unreadable_fields.split_first() {
        let _ = write!(facts, "\n*Unreadable:* {first}");
        for field in rest {
            let _ = write!(facts, ", {field}");
        }
    }

    let mut next_steps = Vec::with_capacity(3);
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

    let account = alert.account.id_or_unknown();
    let mut context = std::collections::BTreeMap::new();
    context.insert("severity", severity.to_owned());
    context.insert("rule", alert.rule.to_owned());
    context.insert("account", account.to_owned());
    if let Some(id) = &alert.event_id {
        context.insert("eventId", id.clone());
    }
    let mut summary = String::with_capacity(128);
    let _ = write!(
        summary,
        "{severity} {} - {}",
        alert.title(),
        alert.account.label()
    );

    ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title,
            description: facts,
            next_steps,
            keywords: {
                let mut keywords = vec![
                    severity.to_owned(),
                    alert.kind.as_str().to_owned(),
                    account.to_owned(),
                ];
                if declared.is_some() {
                    keywords.push("declared".to_owned());
                }
                keywords
            },
        },
        ChatMetadata {
            thread_id: format!("rootwatch#{}", alert.root_session()),
            summary,
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
