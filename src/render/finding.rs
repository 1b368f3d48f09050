//! One AWS Security Finding Format (ASFF) finding per root session, for Security Hub: the
//! session's highest severity, every kind of thing done, and the latest events, under an `Id`
//! that stays the same for the whole session so each import updates the one finding.
//! docs/security-hub.md documents it.
//!
//! Pure: [`asff`] renders a [`SessionRecord`] (everything noted of one session so far, kept by the
//! state table) as a [`Finding`], the subset of ASFF rootwatch sets; the adapter
//! (`aws/security_hub.rs`) maps it to the SDK's type. Here rather than in `aws/` because it is
//! wording and mapping like the other renderers, with no SDK type in it; a session rather than an
//! alert is its input because a finding must carry the whole session on every import (Security
//! Hub does not merge imports, it replaces the finding's fields).
//!
//! Every text in it comes from the alert event's plain fields ([`crate::render::event`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::domain::{AlertKind, Severity};
use crate::render::event::EventDetail;

/// ASFF's version (Security Hub User Guide, "AWS Security Finding Format (ASFF)").
pub const ASFF_VERSION: &str = "2018-10-08";

/// Events listed in a finding; the rest are counted (`rootwatch/notListed`). 4 + 30 of the 50
/// `ProductFields` pairs Security Hub allows, leaving room for its own `aws/securityhub/*` keys.
pub const MAX_FINDING_EVENTS: usize = 30;

/// ASFF limits: `Title` 256 characters, `Description` 1024, `Id` 512 (API Reference,
/// `AwsSecurityFinding`).
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;

/// Where findings are imported: the home account (the alert topic's) in its region, under
/// Security Hub's default product ARN for that account. With the default product ARN only the
/// account itself may import, and `AwsAccountId` must be that account (API Reference,
/// `BatchImportFindings`), so findings about member accounts are imported here too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Home {
    /// `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
    pub fn product_arn(&self) -> String {
        format!(
            "arn:{p}:securityhub:{r}:{a}:product/{a}/default",
            p = self.partition,
            r = self.region,
            a = self.account
        )
    }
}

/// What one alert adds to its session's finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingEntry {
    pub session: String,
    pub account: String,
    pub account_name: Option<String>,
    pub region: String,
    pub severity: Severity,
    pub types: BTreeSet<&'static str>,
    pub time: Option<DateTime<Utc>>,
    /// `2026-11-21T09:05:12Z iam:CreateUser 203.0.113.45 succeeded HIGH api-call <eventId>`.
    pub line: String,
}

impl FindingEntry {
    /// The entry of a root alert of `kind` whose event detail is `detail`.
    pub fn of(kind: AlertKind, detail: &EventDetail) -> Self {
        let mut line = detail.time.clone().unwrap_or_else(|| "unknown-time".into());
        let service = detail
            .event_source
            .as_deref()
            .map(|s| s.strip_suffix(".amazonaws.com").unwrap_or(s));
        if let (Some(service), Some(name)) = (service, detail.event_name.as_deref()) {
            let _ = write!(line, " {service}:{name}");
        }
        let _ = write!(
            line,
            " {} {} {} {}",
            detail.source_ip.as_deref().unwrap_or("unknown-source"),
            match &detail.outcome {
                Some(o) if o.status == "failure" => "failed",
                _ => "succeeded",
            },
            detail.severity.as_str(),
            detail.kind,
        );
        if let Some(id) = &detail.event_id {
            let _ = write!(line, " {id}");
        }
        FindingEntry {
            session: detail.session.clone(),
            account: detail.account.clone(),
            account_name: detail.account_name.clone(),
            region: detail.region.clone(),
            severity: detail.severity,
            types: types_of(kind),
            time: detail
                .time
                .as_deref()
                .and_then(|t| t.parse::<DateTime<Utc>>().ok()),
            line,
        }
    }
}

/// Everything noted of one root session: what the state table's `finding#<session>` item holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub session: String,
    pub account: String,
    pub account_name: Option<String>,
    pub region: String,
    /// Every severity seen; the finding is labelled with the highest.
    pub severities: BTreeSet<Severity>,
    pub types: BTreeSet<String>,
    /// Event times seen (for first/last observed).
    pub seen_at: BTreeSet<DateTime<Utc>>,
    /// Alert id → event line, at most [`MAX_FINDING_EVENTS`].
    pub events: BTreeMap<String, String>,
    /// Alerts noted but not listed (over [`MAX_FINDING_EVENTS`]).
    pub dropped: u64,
    /// How many notes made it: 1 for the first alert.
    pub version: u64,
    pub created_at: DateTime<Utc>,
}

impl SessionRecord {
    /// The record after noting `entry` (alert `alert_id`) at `now`: what the state table's one
    /// atomic `UpdateItem` does (sets union, the event listed while there is room or already
    /// listed, else counted). `None` starts a session.
    pub fn noted(
        record: Option<SessionRecord>,
        entry: &FindingEntry,
        alert_id: &str,
        now: DateTime<Utc>,
    ) -> SessionRecord {
        let mut record = record.unwrap_or_else(|| SessionRecord {
            session: entry.session.clone(),
            account: entry.account.clone(),
            account_name: entry.account_name.clone(),
            region: entry.region.clone(),
            severities: BTreeSet::new(),
            types: BTreeSet::new(),
            seen_at: BTreeSet::new(),
            events: BTreeMap::new(),
            dropped: 0,
            version: 0,
            created_at: now,
        });
        record.severities.insert(entry.severity);
        record
            .types
            .extend(entry.types.iter().map(|t| (*t).to_owned()));
        record.seen_at.extend(entry.time);
        if record.events.len() < MAX_FINDING_EVENTS || record.events.contains_key(alert_id) {
            record
                .events
                .insert(alert_id.to_owned(), entry.line.clone());
        } else {
            record.dropped += 1;
        }
        record.version += 1;
        record
    }

    /// The session's highest severity (LOW for a record with none, which the state never holds).
    pub fn highest(&self) -> Severity {
        self.severities.last().copied().unwrap_or(Severity::Low)
    }

    fn alerts(&self) -> u64 {
        self.events.len() as u64 + self.dropped
    }
}

/// The ASFF types of a kind (Security Hub User Guide, "Types taxonomy for ASFF"). Exhaustive:
/// a new kind must say what it is.
pub fn types_of(kind: AlertKind) -> BTreeSet<&'static str> {
    let specific = match kind {
        AlertKind::SignInWithoutMfa
        | AlertKind::SignInMfaNotRecorded
        | AlertKind::SignInWithMfa
        | AlertKind::SignInFailed
        | AlertKind::PasswordChanged
        | AlertKind::PasswordRecoveryRequested
        | AlertKind::PasswordRecoveryCompleted
        | AlertKind::OtherSignInActivity => "TTPs/Initial Access",
        AlertKind::AccessKeyCreated
        | AlertKind::CredentialsChanged
        | AlertKind::MfaDeviceRemoved
        | AlertKind::AccountRecoveryChanged => "TTPs/Persistence",
        AlertKind::CloudTrailTampered | AlertKind::DefenceEvasion => "TTPs/Defense Evasion",
        AlertKind::SecretRead => "TTPs/Credential Access",
        AlertKind::ReadOnlyCall => "TTPs/Discovery",
        AlertKind::ApiCall | AlertKind::AssumeRootTask | AlertKind::LongTermAccessKeyUsed => {
            "TTPs/Privilege Escalation"
        }
    };
    BTreeSet::from(["Unusual Behaviors/User", specific])
}

/// The finding's `Id`: the same for every import of one session.
pub fn finding_id(session: &str) -> String {
    format!("rootwatch/root-session/{session}")
}

/// The subset of ASFF rootwatch sets, serialised with ASFF's names (as `BatchImportFindings`
/// takes them in JSON and `GetFindings` returns them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub schema_version: &'static str,
    pub id: String,
    pub product_arn: String,
    pub product_name: &'static str,
    pub company_name: &'static str,
    pub generator_id: &'static str,
    pub aws_account_id: String,
    pub region: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub first_observed_at: Option<String>,
    pub last_observed_at: Option<String>,
    pub severity: Label,
    pub title: String,
    pub description: String,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    /// Only on the first import: later imports leave a responder's workflow status alone.
    pub workflow: Option<Workflow>,
    pub record_state: &'static str,
    pub finding_provider_fields: ProviderFields,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Label {
    pub label: Severity,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub id: String,
    pub partition: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Workflow {
    pub status: &'static str,
}

/// Severity and types as the provider sets them: Security Hub keeps these apart from the
/// top-level fields a customer may change (User Guide, "Using FindingProviderFields").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderFields {
    pub severity: Label,
    pub types: Vec<String>,
}

/// The finding for a session as noted so far, imported by `home` at `now`.
pub fn asff(record: &SessionRecord, home: &Home, now: DateTime<Utc>) -> Finding {
    let highest = record.highest();
    let types: Vec<String> = record.types.iter().cloned().collect();
    let label = record.account_name.as_ref().map_or_else(
        || record.account.clone(),
        |name| format!("{name} ({})", record.account),
    );
    let alerts = record.alerts();
    let title = cut(
        &format!(
            "Root user session in {label}: {alerts} alert{}, highest {}",
            if alerts == 1 { "" } else { "s" },
            highest.as_str()
        ),
        MAX_TITLE,
    );
    // Newest first: lines start with their event time.
    let mut lines: Vec<&String> = record.events.values().collect();
    lines.sort_by(|a, b| b.cmp(a));
    let mut product_fields = BTreeMap::from([
        ("rootwatch/session".to_owned(), record.session.clone()),
        ("rootwatch/account".to_owned(), record.account.clone()),
        ("rootwatch/alerts".to_owned(), alerts.to_string()),
        ("rootwatch/notListed".to_owned(), record.dropped.to_string()),
    ]);
    for (i, line) in lines.iter().rev().enumerate() {
        product_fields.insert(format!("rootwatch/event/{:02}", i + 1), (*line).clone());
    }
    let at = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    // Security Hub ignores an update whose UpdatedAt is not later than the finding's (User Guide,
    // "BatchImportFindings for finding providers"): to the millisecond, so two alerts of a session
    // in one second both land.
    let updated_at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    Finding {
        schema_version: ASFF_VERSION,
        id: finding_id(&record.session),
        product_arn: home.product_arn(),
        product_name: "rootwatch",
        company_name: "rootwatch",
        generator_id: "rootwatch/root-session",
        aws_account_id: home.account.clone(),
        region: home.region.clone(),
        types: types.clone(),
        created_at: at(&record.created_at),
        updated_at,
        first_observed_at: record.seen_at.first().map(at),
        last_observed_at: record.seen_at.last().map(at),
        severity: Label { label: highest },
        title,
        description: description(&lines, alerts),
        product_fields,
        resources: vec![Resource {
            kind: "AwsAccount",
            id: format!("AWS::::Account:{}", record.account),
            partition: home.partition.clone(),
            region: record.region.clone(),
        }],
        workflow: (record.version == 1).then_some(Workflow { status: "NEW" }),
        record_state: "ACTIVE",
        finding_provider_fields: ProviderFields {
            severity: Label { label: highest },
            types,
        },
    }
}

/// The latest events, one line each, then `and N more`, within ASFF's 1024 characters.
fn description(newest_first: &[&String], alerts: u64) -> String {
    let mut text = String::new();
    let mut shown = 0u64;
    for line in newest_first {
        // Room for this line, its newline and a closing "and N more".
        if text.len() + line.len() + 1 + 24 > MAX_DESCRIPTION {
            break;
        }
        text.push_str(line);
        text.push('\n');
        shown += 1;
    }
    if shown < alerts {
        let _ = write!(text, "and {} more", alerts - shown);
    }
    cut(text.trim_end(), MAX_DESCRIPTION)
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max - 3).collect();
    out.push_str("...");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Account, AccountId};
    use crate::render::event::{EventDetail, health_event};

    fn home() -> Home {
        Home {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "999988887777".into(),
        }
    }

    /// A root alert's entry: a detail as render gives it (the fields the entry reads).
    fn entry(severity: Severity, kind: AlertKind, time: &str, id: &str) -> FindingEntry {
        let account = Account {
            id: AccountId::parse("444455556666"),
            name: None,
        };
        let mut detail: EventDetail = health_event(&crate::render::event::Health {
            kind: kind.into(),
            severity,
            account: &account,
            region: "eu-west-1",
            time: Some(time.parse().unwrap()),
            title: "t",
            session: "444455556666#key#ASIAEXAMPLE2",
            event_id: Some(id),
        })
        .detail;
        detail.event_source = Some("iam.amazonaws.com".into());
        detail.event_name = Some("CreateUser".into());
        detail.source_ip = Some("203.0.113.45".into());
        FindingEntry::of(kind, &detail)
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn an_entry_line_says_when_what_where_how_and_which_event() {
        let e = entry(
            Severity::High,
            AlertKind::ApiCall,
            "2026-11-21T09:05:12Z",
            "ev-1",
        );
        assert_eq!(
            e.line,
            "2026-11-21T09:05:12Z iam:CreateUser 203.0.113.45 succeeded HIGH api-call ev-1"
        );
        assert_eq!(
            e.types,
            BTreeSet::from(["Unusual Behaviors/User", "TTPs/Privilege Escalation"])
        );
    }

    #[test]
    fn every_kind_has_an_asff_type_besides_unusual_behaviour() {
        for kind in AlertKind::ALL {
            let types = types_of(kind);
            assert_eq!(types.len(), 2, "{kind:?}");
            assert!(
                types
                    .iter()
                    .all(|t| t.starts_with("TTPs/") || t.starts_with("Unusual"))
            );
        }
        assert!(types_of(AlertKind::CloudTrailTampered).contains("TTPs/Defense Evasion"));
        assert!(types_of(AlertKind::SignInWithoutMfa).contains("TTPs/Initial Access"));
    }

    #[test]
    fn the_label_is_the_sessions_highest_whatever_the_order() {
        let low = entry(
            Severity::Low,
            AlertKind::ReadOnlyCall,
            "2026-11-21T09:00:00Z",
            "a",
        );
        let high = entry(
            Severity::High,
            AlertKind::ApiCall,
            "2026-11-21T09:01:00Z",
            "b",
        );
        for order in [[&low, &high], [&high, &low]] {
            let mut record = None;
            for (i, e) in order.iter().enumerate() {
                record = Some(SessionRecord::noted(
                    record,
                    e,
                    &format!("id{i}"),
                    t("2026-11-21T09:02:00Z"),
                ));
            }
            let finding = asff(&record.unwrap(), &home(), t("2026-11-21T09:03:00Z"));
            assert_eq!(finding.severity.label, Severity::High);
            assert_eq!(
                finding.finding_provider_fields.severity.label,
                Severity::High
            );
            assert_eq!(
                finding.types,
                [
                    "TTPs/Discovery",
                    "TTPs/Privilege Escalation",
                    "Unusual Behaviors/User"
                ]
            );
        }
    }

    #[test]
    fn every_asff_row_is_set_as_documented() {
        let a = entry(
            Severity::High,
            AlertKind::ApiCall,
            "2026-11-21T09:05:12Z",
            "ev-1",
        );
        let b = entry(
            Severity::Critical,
            AlertKind::CloudTrailTampered,
            "2026-11-21T09:07:00Z",
            "ev-2",
        );
        let first = SessionRecord::noted(None, &a, "ev-1", t("2026-11-21T09:06:00Z"));
        let f1 = asff(&first, &home(), t("2026-11-21T09:06:01Z"));
        assert_eq!(
            f1.workflow,
            Some(Workflow { status: "NEW" }),
            "only the first"
        );
        let second = SessionRecord::noted(Some(first), &b, "ev-2", t("2026-11-21T09:08:00Z"));
        let f = asff(&second, &home(), t("2026-11-21T09:08:01Z"));
        assert_eq!(f.schema_version, "2018-10-08");
        assert_eq!(f.id, "rootwatch/root-session/444455556666#key#ASIAEXAMPLE2");
        assert_eq!(f.id, f1.id, "stable for the session");
        assert_eq!(
            f.product_arn,
            "arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default"
        );
        assert_eq!(
            f.aws_account_id, "999988887777",
            "the importing (home) account"
        );
        assert_eq!(f.region, "us-east-1");
        assert_eq!(f.generator_id, "rootwatch/root-session");
        assert_eq!(f.created_at, "2026-11-21T09:06:00Z");
        assert_eq!(
            f.updated_at, "2026-11-21T09:08:01.000Z",
            "to the millisecond"
        );
        assert_eq!(f.first_observed_at.as_deref(), Some("2026-11-21T09:05:12Z"));
        assert_eq!(f.last_observed_at.as_deref(), Some("2026-11-21T09:07:00Z"));
        assert_eq!(f.severity.label, Severity::Critical);
        assert_eq!(
            f.title,
            "Root user session in 444455556666: 2 alerts, highest CRITICAL"
        );
        assert!(
            f.description.starts_with("2026-11-21T09:07:00Z"),
            "newest first"
        );
        assert_eq!(f.product_fields["rootwatch/alerts"], "2");
        assert_eq!(f.product_fields["rootwatch/notListed"], "0");
        assert!(
            f.product_fields["rootwatch/event/01"].contains("ev-1"),
            "oldest first"
        );
        assert_eq!(
            f.resources,
            [Resource {
                kind: "AwsAccount",
                id: "AWS::::Account:444455556666".into(),
                partition: "aws".into(),
                region: "eu-west-1".into(),
            }]
        );
        assert_eq!(f.workflow, None, "a later import leaves the workflow alone");
        assert_eq!(f.record_state, "ACTIVE");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["Severity"]["Label"], "CRITICAL");
        assert_eq!(json["Resources"][0]["Type"], "AwsAccount");
        assert_eq!(json["FindingProviderFields"]["Types"], json["Types"]);
    }

    #[test]
    fn thirty_events_are_listed_and_the_rest_counted() {
        let mut record = None;
        for i in 0..31 {
            let e = entry(
                Severity::Medium,
                AlertKind::ApiCall,
                &format!("2026-11-21T09:{i:02}:00Z"),
                &format!("ev-{i}"),
            );
            record = Some(SessionRecord::noted(
                record,
                &e,
                &format!("ev-{i}"),
                t("2026-11-21T10:00:00Z"),
            ));
        }
        let mut record = record.unwrap();
        let again = entry(
            Severity::Medium,
            AlertKind::ApiCall,
            "2026-11-21T09:00:00Z",
            "ev-0",
        );
        record = SessionRecord::noted(Some(record), &again, "ev-0", t("2026-11-21T10:00:00Z"));
        assert_eq!(record.events.len(), 30);
        assert_eq!(
            record.dropped, 1,
            "a repeat of a listed alert is not counted again"
        );
        let f = asff(&record, &home(), t("2026-11-21T10:00:00Z"));
        assert_eq!(f.product_fields["rootwatch/notListed"], "1");
        assert_eq!(f.product_fields["rootwatch/alerts"], "31");
        assert!(f.product_fields.contains_key("rootwatch/event/30"));
        assert!(!f.product_fields.contains_key("rootwatch/event/31"));
        assert!(f.product_fields.len() <= 34);
        assert!(f.description.chars().count() <= MAX_DESCRIPTION);
        assert!(f.description.ends_with("more"), "{}", f.description);
    }
}
