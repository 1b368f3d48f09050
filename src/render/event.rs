//! The structured alert event: every alert as one EventBridge entry on the alert bus, for the
//! tools responders already run (PagerDuty, Opsgenie, a SIEM, another account's bus).
//! docs/alert-events.md documents it and `docs/schemas/alert-event.v1.json` is its contract.
//!
//! Pure. What only the delivery knows (the claim key, whether phones were texted, whether this is
//! a repeat of an earlier delivery) is set by [`AlertEvent::delivered`].
//!
//! Every field an on-call tool's input transformer may copy into a request body is *plain*: no
//! `"`, `\` or control character. EventBridge "doesn't escape values extracted by Input Path"
//! (EventBridge User Guide, "Amazon EventBridge input transformation", Common issues), so one
//! quote in such a field would break the tool's JSON. Untrusted text (an error message, a
//! declaration's reason) stays only in fields the transformers never quote.

use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::detect::alert::{Alert, Attempt, SourceIp};
use crate::domain::CredentialKind;
use crate::domain::{
    Account, AccountName, DeclarationStatus, NotificationKind, PostureKind, Severity,
};
use crate::sanitize::plain_token;

/// The event's `source`. Sources beginning `aws.` are reserved for AWS (EventBridge User Guide,
/// "Events in Amazon EventBridge"); that one can still be put by anyone allowed on the bus,
/// which is why the template's bus policy admits the function alone.
pub const SOURCE: &str = "rootwatch";

/// The detail's `schemaVersion`: additions keep it, a breaking change bumps it.
pub const SCHEMA_VERSION: &str = "1";

/// Opsgenie's `message` limit (Alert API, "Create alert"): the title is copied there.
pub const MAX_TITLE: usize = 130;

/// PagerDuty's `payload.summary` limit (Events API v2, "Send an Alert Event").
pub const MAX_SUMMARY: usize = 1024;

/// Longest session key kept as it is; longer (or not plain) keys are digested.
const MAX_SESSION: usize = 200;

/// What marks a cut in a plain field.
const CUT: &str = "...";

/// The event's `detail-type`: which family of alert it is, so a rule can take one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DetailType {
    /// What a root user did.
    #[serde(rename = "Root Activity Alert")]
    RootActivity,
    /// rootwatch's own pipeline cannot see root activity somewhere.
    #[serde(rename = "Rootwatch Health Alert")]
    Health,
    /// Declared root use: an announcement or a window's report. Never escalates.
    #[serde(rename = "Root Use Notice")]
    Notice,
    /// The root user's credentials, own or a member's: what an attacker would need.
    #[serde(rename = "Root Posture Alert")]
    Posture,
    /// An account × region of the organization whose forwarder went silent, or the weekly list.
    #[serde(rename = "Rootwatch Coverage Alert")]
    Coverage,
}

impl DetailType {
    /// Every family, for the schema and the tests.
    pub const ALL: [DetailType; 5] = [
        DetailType::RootActivity,
        DetailType::Health,
        DetailType::Notice,
        DetailType::Posture,
        DetailType::Coverage,
    ];

    /// The family of a kind. Exhaustive on purpose: a new kind must pick one.
    pub fn of(kind: NotificationKind) -> Self {
        match kind {
            NotificationKind::Root(_) => DetailType::RootActivity,
            NotificationKind::PipelineBlind | NotificationKind::ForwarderFailing => {
                DetailType::Health
            }
            NotificationKind::RootUseDeclared | NotificationKind::RootUseReport => {
                DetailType::Notice
            }
            NotificationKind::Posture(_) => DetailType::Posture,
            NotificationKind::CoverageGap
            | NotificationKind::CoverageCheckFailed
            | NotificationKind::CoverageReport => DetailType::Coverage,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DetailType::RootActivity => "Root Activity Alert",
            DetailType::Health => "Rootwatch Health Alert",
            DetailType::Notice => "Root Use Notice",
            DetailType::Posture => "Root Posture Alert",
            DetailType::Coverage => "Rootwatch Coverage Alert",
        }
    }
}

/// One alert as the entry put on the alert bus: its `detail-type` and its `detail`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEvent {
    pub detail_type: DetailType,
    pub detail: EventDetail,
}

/// The `detail`, schema version 1. Every key is always present (`null` when there is nothing),
/// so a consumer's path never silently misses.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDetail {
    pub schema_version: &'static str,
    /// The delivery's claim key: the same on every retry of one alert, so consumers dedupe on it.
    /// Empty until [`AlertEvent::delivered`] sets it (the schema refuses an empty one).
    pub alert_id: String,
    pub kind: &'static str,
    pub severity: Severity,
    /// Phones were texted by this delivery (the SNS `page` attribute).
    pub page: bool,
    /// An on-call tool should page someone for it.
    pub escalate: bool,
    /// Put again for a duplicate delivery of an alert already published.
    pub repeat: bool,
    /// 12 digits, or `unknown`.
    pub account: String,
    pub account_name: Option<String>,
    /// A validated region code, or `unknown`.
    pub region: String,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    /// An IP, or CloudTrail's name for AWS (`AWS Internal`); any other text is `null` (the
    /// email keeps it, quoted).
    pub source_ip: Option<String>,
    pub outcome: Option<Outcome>,
    /// RFC 3339, UTC, to the second.
    pub time: Option<String>,
    /// The same for every alert of one root session ([`session_key`]).
    pub session: String,
    pub rule: Option<&'static str>,
    pub title: String,
    pub summary: String,
    pub console_url: Option<String>,
    pub event_id: Option<String>,
    pub declaration: Option<EventDeclaration>,
}

/// Whether the root user's attempt succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// `success` or `failure`.
    pub status: &'static str,
    pub error_code: Option<String>,
    /// Untrusted, one line: may echo what the caller sent. Never copied into a tool's body.
    pub error_message: Option<String>,
}

/// The declared window an alert fell in (or outside the source range of).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDeclaration {
    /// `declared`, `outside-source` or `unchecked`.
    pub status: &'static str,
    pub id: Option<String>,
    /// Untrusted (self-stated), one line.
    pub by: Option<String>,
    pub until: Option<String>,
    pub source_cidr: Option<String>,
    /// Untrusted (self-stated), one line.
    pub reason: Option<String>,
}

impl AlertEvent {
    /// The event as delivered: `alert_id` the delivery's claim key, `page` whether phones were
    /// texted, `repeat` whether the alert had already been published by an earlier delivery.
    pub fn delivered(mut self, alert_id: &str, page: bool, repeat: bool) -> Self {
        self.detail.alert_id = plain_key(alert_id, "sha256#");
        self.detail.page = page;
        self.detail.repeat = repeat;
        self
    }

    /// The `Detail` string of the `PutEvents` entry.
    pub fn detail_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail; fall back rather than panic.
        crate::render::json_text(&self.detail, 2048).unwrap_or_else(|| "{}".into())
    }
}

/// An account that is not known: an alert about the whole organization.
pub const NO_ACCOUNT: Account = Account {
    id: None,
    name: None,
};

/// The event of a root alert.
pub fn render_event(alert: &Alert) -> AlertEvent {
    let kind = NotificationKind::from(alert.kind);
    let account = alert.account.id_or_unknown();
    let source_ip = match &alert.source_ip {
        SourceIp::Ip(ip) => Some(ip.to_string()),
        other => other.aws_name().map(str::to_owned),
    };
    let time = alert.event_time.map(rfc3339);
    let title = title(alert);
    let summary = summary(
        &title,
        &alert.account,
        &alert.region,
        Some(source_ip.as_deref().unwrap_or("an unknown source")),
        time.as_deref(),
        Some(if alert.failed() {
            "failed"
        } else {
            "succeeded"
        }),
    );
    AlertEvent {
        detail_type: DetailType::of(kind),
        detail: EventDetail {
            schema_version: SCHEMA_VERSION,
            alert_id: String::new(),
            kind: kind.as_str(),
            severity: alert.severity,
            page: false,
            escalate: escalates(kind, alert.quieted()),
            repeat: false,
            account: account.to_owned(),
            account_name: alert.account.name.as_ref().map(AccountName::to_string),
            region: plain_region(&alert.region),
            event_source: Some(plain_token(&alert.event_source, 128)),
            event_name: Some(plain_token(&alert.event_name, 128)),
            source_ip,
            outcome: Some(outcome(&alert.attempt)),
            time,
            session: session_key(&bounded_session(alert), account),
            rule: Some(alert.rule),
            title,
            summary,
            console_url: alert.console_url.as_deref().map(plain_url),
            event_id: alert.event_id.as_deref().map(|id| plain_token(id, 128)),
            declaration: declaration(&alert.declaration),
        },
    }
}

/// What a health alert or a notice says, for [`health_event`]: rootwatch's own alerts have no
/// root call, source or outcome.
#[derive(Debug, Clone)]
pub struct Health<'a> {
    pub kind: NotificationKind,
    pub severity: Severity,
    pub account: &'a Account,
    pub region: &'a str,
    pub time: Option<DateTime<Utc>>,
    /// The alert's own words (a subject line); made plain and cut to [`MAX_TITLE`].
    pub title: &'a str,
    /// What groups repeats of one condition, as the state table's keys do
    /// (`<account>#pipeline-blind#<region>`); digested when not plain.
    pub session: &'a str,
    pub event_id: Option<&'a str>,
}

/// The event of one of rootwatch's own alerts (`pipeline-blind`, `forwarder-failing`), a
/// posture or coverage alert, or a declared-use notice.
pub fn health_event(health: &Health) -> AlertEvent {
    let account = health.account.id_or_unknown();
    let region = plain_region(health.region);
    let time = health.time.map(rfc3339);
    // The subject line starts "[rootwatch] " and mostly "<SEVERITY> " for an inbox; a pager
    // shows source and severity on their own, so the title is the words after them, as a root
    // activity alert's title is.
    let words = health
        .title
        .strip_prefix("[rootwatch] ")
        .unwrap_or(health.title);
    let words = words
        .strip_prefix(health.severity.as_str())
        .and_then(|rest| rest.strip_prefix(' '))
        .unwrap_or(words);
    let title = cut(&plain_text(words), MAX_TITLE);
    // Most subjects already name the account and region: the summary adds only what the title
    // lacks (a posture finding has no region, an organization's check no account), and a time
    // only when the alert has one rather than "an unknown time" for a check that just ran.
    let mut text = title.clone();
    if health.account.id.is_some() && !title.contains(account) {
        let _ = write!(text, " in {}", health.account.label());
    }
    if region != NO_REGION && !title.contains(region.as_str()) {
        let _ = write!(text, " ({region})");
    }
    if let Some(at) = &time {
        let _ = write!(text, " at {at}");
    }
    let summary = cut(&plain_text(&text), MAX_SUMMARY);
    AlertEvent {
        detail_type: DetailType::of(health.kind),
        detail: EventDetail {
            schema_version: SCHEMA_VERSION,
            alert_id: String::new(),
            kind: health.kind.as_str(),
            severity: health.severity,
            page: false,
            escalate: escalates(health.kind, false),
            repeat: false,
            account: account.to_owned(),
            account_name: health.account.name.as_ref().map(AccountName::to_string),
            region,
            event_source: None,
            event_name: None,
            source_ip: None,
            outcome: None,
            time,
            session: session_key(health.session, account),
            rule: None,
            title,
            summary,
            console_url: None,
            event_id: health.event_id.map(|id| plain_token(id, 128)),
            declaration: None,
        },
    }
}

/// Whether an on-call tool should page: never for a notice, nor for a declared use below
/// CRITICAL (the same alert that texts no phone); always for everything else.
fn escalates(kind: NotificationKind, quieted: bool) -> bool {
    match DetailType::of(kind) {
        DetailType::Notice => false,
        DetailType::RootActivity => !quieted,
        DetailType::Health => true,
        // The weekly reports are read, not paged.
        DetailType::Posture => kind != NotificationKind::Posture(PostureKind::Report),
        DetailType::Coverage => kind != NotificationKind::CoverageReport,
    }
}

/// The root session an on-call tool and Security Hub group a root alert by. A temporary key (a
/// console session, `GetSessionToken`, `AssumeRoot`) expires within hours, so it is the session.
/// A long-term key, or a source IP, never ends: the UTC day of the event bounds it, so activity
/// weeks later is never folded into an incident that was acknowledged, or a finding that was
/// resolved or suppressed (Security Hub stops updating a SUPPRESSED finding and does not reopen a
/// RESOLVED one on import: API Reference, "WorkflowUpdate").
pub fn bounded_session(alert: &Alert) -> String {
    let raw = alert.root_session();
    let temporary = alert.access_key_id.is_some()
        && matches!(
            alert.credential,
            CredentialKind::ConsoleSession
                | CredentialKind::TemporaryKey
                | CredentialKind::AssumeRoot
        );
    match alert.event_time {
        Some(time) if !temporary => format!("{raw}#{}", time.format("%Y-%m-%d")),
        _ => raw,
    }
}

/// The session key: `raw` (a root session, [`Alert::root_session`], or a health alert's
/// grouping key) when it is at most 200 printable ASCII characters without `"` or `\`; else
/// `<account>#sha256#<first 16 hex digits of its SHA-256>`. The root session embeds a source
/// that is not an IP as CloudTrail wrote it, which a caller can fill with quotes.
pub fn session_key(raw: &str, account: &str) -> String {
    plain_key(raw, &format!("{}#sha256#", plain_token(account, 12)))
}

/// `raw` when it is at most [`MAX_SESSION`] printable ASCII characters without `"` or `\`;
/// else `prefix` and the first 16 hex digits of its SHA-256.
fn plain_key(raw: &str, prefix: &str) -> String {
    let kept = raw.len() <= MAX_SESSION
        && !raw.is_empty()
        && raw
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if kept {
        return raw.to_owned();
    }
    let digest = Sha256::digest(raw.as_bytes());
    let mut key = prefix.to_owned();
    for byte in &digest[..8] {
        let _ = write!(key, "{byte:02x}");
    }
    key
}

/// `Root API call: iam:CreateUser (AccessDenied)`: the headline (the rule's, static), the call
/// and the error code, each made plain; at most [`MAX_TITLE`] characters.
fn title(alert: &Alert) -> String {
    let mut text = plain_text(alert.headline);
    if let Some(call) = &alert.call {
        text.push_str(": ");
        text.push_str(&plain_token(&call.text, 128));
    }
    if let Some(code) = alert.error_code() {
        let code = plain_token(code, 64);
        if !code.is_empty() {
            let _ = write!(text, " ({code})");
        }
    }
    cut(&text, MAX_TITLE)
}

/// `<title> in prod-payments (111122223333) (eu-west-1) from 203.0.113.45 at
/// 2026-11-21T09:05:12Z, succeeded`: one line a pager can show alone.
fn summary(
    title: &str,
    account: &Account,
    region: &str,
    from: Option<&str>,
    time: Option<&str>,
    outcome: Option<&str>,
) -> String {
    let mut text = format!("{title} in {} ({region})", account.label());
    if let Some(from) = from {
        let _ = write!(text, " from {from}");
    }
    let _ = write!(text, " at {}", time.unwrap_or("an unknown time"));
    if let Some(outcome) = outcome {
        let _ = write!(text, ", {outcome}");
    }
    cut(&plain_text(&text), MAX_SUMMARY)
}

fn outcome(attempt: &Attempt) -> Outcome {
    match attempt {
        Attempt::Success => Outcome {
            status: "success",
            error_code: None,
            error_message: None,
        },
        Attempt::Failure {
            error_code,
            error_message,
        } => Outcome {
            status: "failure",
            error_code: error_code
                .as_deref()
                .map(|code| plain_token(code, 64))
                .filter(|code| !code.is_empty()),
            // Already one sanitised line (enrich); JSON escapes its quotes.
            error_message: error_message.clone(),
        },
    }
}

fn declaration(status: &DeclarationStatus) -> Option<EventDeclaration> {
    let (name, window) = match status {
        DeclarationStatus::Off | DeclarationStatus::None => return None,
        DeclarationStatus::Unchecked => ("unchecked", None),
        DeclarationStatus::Declared(d) => ("declared", Some(d)),
        DeclarationStatus::OutsideSource(d) => ("outside-source", Some(d)),
    };
    Some(EventDeclaration {
        status: name,
        id: window.map(|d| plain_token(&d.id, 64)),
        by: window.map(|d| d.by.clone()),
        until: window.map(|d| rfc3339(d.end)),
        source_cidr: window
            .and_then(|d| d.source.as_ref())
            .map(|c| c.to_string()),
        reason: window.map(|d| d.reason.clone()),
    })
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What the event says for a region that is not known (the schema's `unknown`; the domain's
/// [`UNKNOWN_REGION`](crate::domain::UNKNOWN_REGION) reads as a region in a sentence, this as a value).
const NO_REGION: &str = "unknown";

/// A region code as validated elsewhere, else `unknown`.
fn plain_region(region: &str) -> String {
    if crate::domain::is_region_code(region) {
        region.to_owned()
    } else {
        NO_REGION.to_owned()
    }
}

/// Text with every `"`, `\` and control character dropped.
fn plain_text(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .collect()
}

/// A console URL is built from validated ids; made plain all the same.
fn plain_url(url: &str) -> String {
    plain_text(url)
}

/// At most `max` characters, ending in `...` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - CUT.len()).collect();
    out.push_str(CUT);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AlertKind, UNKNOWN_REGION};

    /// The alert of every sample under `events/` that alerts.
    fn root_alerts() -> Vec<Alert> {
        let config = crate::config::Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        let alerts: Vec<Alert> = crate::samples::every_sample()
            .iter()
            .filter_map(
                |(_, payload)| match crate::handler::decide(payload, &config) {
                    Ok(crate::handler::Decision::Alert { alert, .. }) => Some(*alert),
                    _ => None,
                },
            )
            .collect();
        assert!(alerts.len() > 40, "{} alerts", alerts.len());
        alerts
    }

    /// A temporary key's session is the key; a long-term key's or an IP's is bounded by the
    /// event's UTC day, so activity on another day opens a new incident and a new finding.
    #[test]
    fn only_a_temporary_keys_session_spans_days() {
        let alerts = root_alerts();
        let mut bounded = 0;
        for alert in &alerts {
            let session = bounded_session(alert);
            let temporary = alert.access_key_id.is_some()
                && matches!(
                    alert.credential,
                    CredentialKind::ConsoleSession
                        | CredentialKind::TemporaryKey
                        | CredentialKind::AssumeRoot
                );
            match (temporary, alert.event_time) {
                (false, Some(time)) => {
                    bounded += 1;
                    assert_eq!(
                        session,
                        format!("{}#{}", alert.root_session(), time.format("%Y-%m-%d"))
                    );
                    let mut later = alert.clone();
                    later.event_time = Some(time + chrono::Duration::days(20));
                    assert_ne!(bounded_session(&later), session);
                }
                _ => assert_eq!(session, alert.root_session()),
            }
        }
        assert!(
            bounded > 5,
            "{bounded} samples keyed by a long-term key or an IP"
        );
        assert!(
            bounded < alerts.len(),
            "some samples keyed by a temporary key"
        );
    }

    fn is_plain(text: &str) -> bool {
        !text
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
    }

    #[test]
    fn every_kind_has_a_family() {
        for kind in AlertKind::ALL {
            assert_eq!(DetailType::of(kind.into()), DetailType::RootActivity);
        }
        assert_eq!(
            DetailType::of(NotificationKind::PipelineBlind),
            DetailType::Health
        );
        assert_eq!(
            DetailType::of(NotificationKind::ForwarderFailing),
            DetailType::Health
        );
        assert_eq!(
            DetailType::of(NotificationKind::RootUseReport),
            DetailType::Notice
        );
        assert_eq!(
            serde_json::to_value(DetailType::Health).unwrap(),
            "Rootwatch Health Alert"
        );
        for family in DetailType::ALL {
            assert_eq!(
                serde_json::to_value(family).unwrap(),
                family.as_str(),
                "serde and as_str agree"
            );
        }
    }

    #[test]
    fn notices_never_escalate_and_quieted_root_alerts_do_not() {
        let root = NotificationKind::Root(AlertKind::ApiCall);
        assert!(escalates(root, false));
        assert!(!escalates(root, true));
        assert!(escalates(NotificationKind::PipelineBlind, false));
        assert!(!escalates(NotificationKind::RootUseDeclared, false));
    }

    #[test]
    fn a_plain_session_is_kept_and_any_other_is_digested() {
        assert_eq!(
            session_key("111122223333#key#ASIAEXAMPLE2", "111122223333"),
            "111122223333#key#ASIAEXAMPLE2"
        );
        let hostile = "111122223333#ip#a\"b";
        let key = session_key(hostile, "111122223333");
        // SHA-256 of the raw key, first 8 bytes; pinned so a change of digest shows.
        assert_eq!(key, "111122223333#sha256#635fbf105530ad14");
        assert_eq!(session_key(hostile, "111122223333"), key, "stable");
        assert_ne!(session_key("111122223333#ip#a\\b", "111122223333"), key);
        let long = "x".repeat(MAX_SESSION + 1);
        assert!(session_key(&long, "unknown").starts_with("unknown#sha256#"));
        assert_eq!(session_key(&"x".repeat(MAX_SESSION), "unknown").len(), 200);
        assert!(session_key("a\u{7f}b", "1").contains("#sha256#"));
    }

    #[test]
    fn cut_marks_the_end_and_keeps_the_limit() {
        assert_eq!(cut("abc", 3), "abc");
        let cut_text = cut(&"é".repeat(200), MAX_TITLE);
        assert_eq!(cut_text.chars().count(), MAX_TITLE);
        assert!(cut_text.ends_with(CUT));
    }

    #[test]
    fn root_events_are_plain_where_a_transformer_quotes_them() {
        for sample in root_alerts() {
            let event = render_event(&sample).delivered("id-1", true, false);
            let d = &event.detail;
            for field in [
                &d.alert_id,
                &d.account,
                &d.region,
                &d.session,
                &d.title,
                &d.summary,
            ] {
                assert!(is_plain(field), "{field:?}");
            }
            for field in [&d.event_source, &d.event_name, &d.source_ip, &d.time]
                .into_iter()
                .flatten()
            {
                assert!(is_plain(field), "{field:?}");
            }
            assert!(d.title.chars().count() <= MAX_TITLE);
            assert!(d.summary.chars().count() <= MAX_SUMMARY);
            assert!(d.summary.starts_with(&d.title));
            assert_eq!(event.detail_type, DetailType::RootActivity);
        }
    }

    #[test]
    fn a_source_that_is_not_an_ip_stays_out_of_the_plain_fields() {
        let mut alert = root_alerts()
            .into_iter()
            .find(|a| a.root_session().contains("#ip#"))
            .unwrap();
        alert.source_ip = SourceIp::Other("evil\"},{\"x".into());
        let event = render_event(&alert);
        assert_eq!(event.detail.source_ip, None);
        assert!(event.detail.summary.contains("from an unknown source"));
        assert!(is_plain(&event.detail.session), "{}", event.detail.session);
        assert!(event.detail.session.contains("#sha256#"));
    }

    #[test]
    fn delivered_sets_what_only_the_delivery_knows() {
        let alert = root_alerts().remove(0);
        let event = render_event(&alert);
        assert_eq!(event.detail.alert_id, "");
        let event = event.delivered("envelope#7a0e", true, true);
        assert_eq!(
            event.detail.alert_id, "envelope#7a0e",
            "a claim key is kept"
        );
        assert!(event.detail.page);
        assert!(event.detail.repeat);
        let json: serde_json::Value = serde_json::from_str(&event.detail_json()).unwrap();
        assert_eq!(json["schemaVersion"], "1");
        assert_eq!(json["alertId"], "envelope#7a0e");
        let odd = render_event(&alert).delivered("a\"b", false, false);
        assert!(
            odd.detail.alert_id.starts_with("sha256#"),
            "{}",
            odd.detail.alert_id
        );
        assert!(json.as_object().unwrap().contains_key("declaration"));
    }

    #[test]
    fn health_events_have_no_call_and_always_escalate() {
        let account = Account {
            id: crate::domain::AccountId::parse("111122223333"),
            name: None,
        };
        let event = health_event(&Health {
            kind: NotificationKind::PipelineBlind,
            severity: Severity::High,
            account: &account,
            region: "eu-west-1",
            time: None,
            title: "[rootwatch] HIGH CloudTrail does not feed \"rootwatch\"",
            session: "111122223333#pipeline-blind#eu-west-1",
            event_id: Some("mark-1"),
        });
        assert_eq!(event.detail_type, DetailType::Health);
        assert!(event.detail.escalate);
        assert_eq!(event.detail.outcome, None);
        assert_eq!(
            event.detail.session,
            "111122223333#pipeline-blind#eu-west-1"
        );
        assert!(is_plain(&event.detail.title));
        // The subject's "[rootwatch] HIGH " is for an inbox; the account and region the title
        // lacks are added; no time, no "at".
        assert_eq!(event.detail.title, "CloudTrail does not feed rootwatch");
        assert_eq!(
            event.detail.summary,
            "CloudTrail does not feed rootwatch in 111122223333 (eu-west-1)"
        );
        let named = health_event(&Health {
            time: Some(
                DateTime::parse_from_rfc3339("2026-11-21T05:12:40Z")
                    .unwrap()
                    .with_timezone(&Utc),
            ),
            title: "[rootwatch] HIGH Forwarder failing in eu-west-1 - 111122223333",
            ..Health {
                kind: NotificationKind::ForwarderFailing,
                severity: Severity::High,
                account: &account,
                region: "eu-west-1",
                time: None,
                title: "",
                session: "s",
                event_id: None,
            }
        });
        assert_eq!(
            named.detail.summary,
            "Forwarder failing in eu-west-1 - 111122223333 at 2026-11-21T05:12:40Z",
            "what the title names is not said twice"
        );
        let bad_region = health_event(&Health {
            region: "eu\"west",
            ..Health {
                kind: NotificationKind::ForwarderFailing,
                severity: Severity::High,
                account: &account,
                region: "",
                time: None,
                title: "t",
                session: "s",
                event_id: None,
            }
        });
        assert_eq!(bad_region.detail.region, "unknown");
        let unknown = health_event(&Health {
            region: UNKNOWN_REGION,
            ..Health {
                kind: NotificationKind::CoverageGap,
                severity: Severity::High,
                account: &NO_ACCOUNT,
                region: "",
                time: None,
                title: "t",
                session: "s",
                event_id: None,
            }
        });
        assert_eq!(
            (
                unknown.detail.region.as_str(),
                unknown.detail.account.as_str()
            ),
            ("unknown", "unknown"),
            "the schema's words for what is not known"
        );
    }
}
