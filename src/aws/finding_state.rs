//! The root sessions behind the Security Hub findings, kept in the state table: each alert is
//! noted on its session's item (`finding#<session>`), and the finding is rendered from what the
//! write returns, so its label is the session's highest severity whatever order alerts arrive in
//! and however many invocations note at once. No read-modify-write: every change is an atomic
//! `UpdateItem` (string and number sets are added to, counters incremented).
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | a root session's finding | `finding#<session>` | `severities` (SS), `types` (SS), `seen_at` (NS, epoch seconds), `events` (M: alert id → line, at most [`MAX_FINDING_EVENTS`]), `dropped` (N), `version` (N), `created_at` (N), `account`, `account_name`, `region`, `expires_at` |
//!
//! (A row of `aws/dynamodb.rs`'s table too.) Two writes per alert, because
//! DynamoDB refuses to create a map and set a key in it in one expression: the first adds the
//! session's sets and creates `events` if absent; the second lists the event while there is room
//! (or it is already listed), else counts it in `dropped`, and returns the whole item.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemInputBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, TimeZone, Utc};

use crate::aws::dynamodb::{condition_failed, epoch, n, s};
use crate::domain::Severity;
use crate::ports::OutputError;
use crate::render::finding::{FindingEntry, MAX_FINDING_EVENTS, SessionRecord};

/// How long a session is kept: Security Hub deletes a finding 90 days after its last update
/// (Security Hub User Guide, "Creating and updating findings"), so a session older than that
/// starts a new finding anyway.
pub const REMEMBER_FINDING: Duration = Duration::from_secs(90 * 24 * 3600);

type Item = std::collections::HashMap<String, AttributeValue>;

fn failed(reason: &str) -> OutputError {
    OutputError::finding(reason)
}

fn pk(session: &str) -> AttributeValue {
    s(format!("finding#{session}"))
}

/// The first write: the alert's severity, types and time added to the session's sets, the
/// version incremented, `events` created when absent.
pub fn note_request(
    table: &str,
    entry: &FindingEntry,
    now: DateTime<Utc>,
) -> UpdateItemInputBuilder {
    let mut set = vec![
        "created_at = if_not_exists(created_at, :now)",
        "account = :account",
        "#region = :region",
        "expires_at = :exp",
        "events = if_not_exists(events, :empty)",
    ];
    let mut add = vec!["severities :sev", "types :types", "version :one"];
    let mut request = UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", pk(&entry.session))
        .expression_attribute_names("#region", "region")
        .expression_attribute_values(":now", n(epoch(now)))
        .expression_attribute_values(":account", s(&entry.account))
        .expression_attribute_values(":region", s(&entry.region))
        .expression_attribute_values(
            ":exp",
            n(epoch(now) + i64::try_from(REMEMBER_FINDING.as_secs()).unwrap_or(i64::MAX)),
        )
        .expression_attribute_values(":empty", AttributeValue::M(Item::new()))
        .expression_attribute_values(
            ":sev",
            AttributeValue::Ss(vec![entry.severity.as_str().to_owned()]),
        )
        .expression_attribute_values(
            ":types",
            AttributeValue::Ss(entry.types.iter().map(|t| (*t).to_owned()).collect()),
        )
        .expression_attribute_values(":one", n(1));
    if let Some(name) = &entry.account_name {
        set.push("account_name = :name");
        request = request.expression_attribute_values(":name", s(name));
    }
    if let Some(time) = entry.time {
        add.push("seen_at :at");
        request = request
            .expression_attribute_values(":at", AttributeValue::Ns(vec![epoch(time).to_string()]));
    }
    request.update_expression(format!("SET {} ADD {}", set.join(", "), add.join(", ")))
}

/// The second write: the event listed under its alert id while the session has room for it (or
/// already lists it: a redelivery replaces itself). Returns the whole item.
pub fn list_request(
    table: &str,
    session: &str,
    alert_id: &str,
    line: &str,
) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", pk(session))
        .update_expression("SET events.#k = :line")
        .condition_expression("size(events) < :max OR attribute_exists(events.#k)")
        .expression_attribute_names("#k", alert_id)
        .expression_attribute_values(":line", s(line))
        .expression_attribute_values(":max", n(MAX_FINDING_EVENTS as i64))
        .return_values(ReturnValue::AllNew)
}

/// Instead of the second write when the session is full: the alert counted. Returns the item.
pub fn drop_request(table: &str, session: &str) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", pk(session))
        .update_expression("ADD dropped :one")
        .expression_attribute_values(":one", n(1))
        .return_values(ReturnValue::AllNew)
}

/// The session as it is now (a consistent read), for the re-check after an import.
pub fn current_request(table: &str, session: &str) -> GetItemInputBuilder {
    GetItemInputBuilder::default()
        .table_name(table)
        .key("pk", pk(session))
        .consistent_read(true)
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn at(seconds: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds, 0).single()
}

/// The session an item holds; `None` when it is not a session's item (no `pk` of that form, or
/// no severity noted).
pub fn record_of(item: &Item) -> Option<SessionRecord> {
    let session = text(item, "pk")?.strip_prefix("finding#")?.to_owned();
    let strings = |name: &str| -> Vec<String> {
        item.get(name)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default()
    };
    let severities: BTreeSet<Severity> = strings("severities")
        .iter()
        .filter_map(|s| Severity::parse(s))
        .collect();
    if severities.is_empty() {
        return None;
    }
    let events: BTreeMap<String, String> = item
        .get("events")
        .and_then(|v| v.as_m().ok())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_s().ok().map(|line| (k.clone(), line.clone())))
                .collect()
        })
        .unwrap_or_default();
    Some(SessionRecord {
        session,
        account: text(item, "account").unwrap_or_else(|| "unknown".into()),
        account_name: text(item, "account_name"),
        region: text(item, "region").unwrap_or_else(|| "unknown".into()),
        severities,
        types: strings("types").into_iter().collect(),
        seen_at: item
            .get("seen_at")
            .and_then(|v| v.as_ns().ok())
            .map(|ns| {
                ns.iter()
                    .filter_map(|t| t.parse().ok().and_then(at))
                    .collect()
            })
            .unwrap_or_default(),
        events,
        dropped: number(item, "dropped").unwrap_or(0).max(0) as u64,
        version: number(item, "version").unwrap_or(0).max(0) as u64,
        created_at: number(item, "created_at")
            .and_then(at)
            .unwrap_or(DateTime::UNIX_EPOCH),
    })
}

/// The state table's sessions.
#[derive(Debug, Clone)]
pub struct SessionTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl SessionTable {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        SessionTable {
            client,
            table: table.into(),
        }
    }

    /// Notes alert `alert_id` on its session; the session as noted, this alert included.
    pub async fn note(
        &self,
        entry: &FindingEntry,
        alert_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, OutputError> {
        let unavailable = |e: String| failed(&format!("the state table: {e}"));
        note_request(&self.table, entry, now)
            .send_with(&self.client)
            .await
            .map_err(|e| unavailable(DisplayErrorContext(&e).to_string()))?;
        let listed = list_request(&self.table, &entry.session, alert_id, &entry.line)
            .send_with(&self.client)
            .await;
        let item = match listed {
            Ok(out) => out.attributes,
            Err(err) if condition_failed(&err) => {
                drop_request(&self.table, &entry.session)
                    .send_with(&self.client)
                    .await
                    .map_err(|e| unavailable(DisplayErrorContext(&e).to_string()))?
                    .attributes
            }
            Err(err) => return Err(unavailable(DisplayErrorContext(&err).to_string())),
        };
        item.as_ref()
            .and_then(record_of)
            .ok_or_else(|| failed("the state table returned no session"))
    }

    /// The session as it is now, if it is kept.
    pub async fn current(&self, session: &str) -> Result<Option<SessionRecord>, OutputError> {
        let out = current_request(&self.table, session)
            .send_with(&self.client)
            .await
            .map_err(|e| failed(&format!("the state table: {}", DisplayErrorContext(&e))))?;
        Ok(out.item.as_ref().and_then(record_of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AlertKind;

    fn entry() -> FindingEntry {
        FindingEntry {
            session: "111122223333#key#ASIAEXAMPLE2".into(),
            account: "111122223333".into(),
            account_name: Some("prod-payments".into()),
            region: "eu-west-1".into(),
            severity: Severity::High,
            types: crate::render::finding::types_of(AlertKind::ApiCall),
            time: Some("2026-11-21T09:05:12Z".parse().unwrap()),
            line: "2026-11-21T09:05:12Z iam:CreateUser 203.0.113.45 succeeded HIGH api-call e1"
                .into(),
        }
    }

    #[test]
    fn the_note_adds_to_the_sets_and_creates_the_event_map() {
        let now = "2026-11-21T09:06:00Z".parse().unwrap();
        let request = note_request("t", &entry(), now).build().unwrap();
        let expression = request.update_expression().unwrap();
        assert!(expression.starts_with("SET created_at = if_not_exists(created_at, :now)"));
        assert!(expression.contains("events = if_not_exists(events, :empty)"));
        assert!(
            expression.contains("ADD severities :sev, types :types, version :one, seen_at :at")
        );
        assert!(expression.contains("account_name = :name"));
        let values = request.expression_attribute_values().unwrap();
        assert_eq!(values[":sev"], AttributeValue::Ss(vec!["HIGH".into()]));
        assert_eq!(
            values[":exp"],
            n(epoch(now) + 90 * 24 * 3600),
            "kept as long as Security Hub keeps the finding"
        );
        assert_eq!(
            request.key().unwrap()["pk"],
            s("finding#111122223333#key#ASIAEXAMPLE2")
        );
        let mut timeless = entry();
        timeless.time = None;
        timeless.account_name = None;
        let bare = note_request("t", &timeless, now).build().unwrap();
        assert!(!bare.update_expression().unwrap().contains("seen_at"));
        assert!(!bare.update_expression().unwrap().contains("account_name"));
    }

    #[test]
    fn an_event_is_listed_while_there_is_room_or_it_is_already_listed() {
        let request = list_request("t", "s", "e1", "line").build().unwrap();
        assert_eq!(request.update_expression(), Some("SET events.#k = :line"));
        assert_eq!(
            request.condition_expression(),
            Some("size(events) < :max OR attribute_exists(events.#k)")
        );
        assert_eq!(request.expression_attribute_names().unwrap()["#k"], "e1");
        assert_eq!(
            request.expression_attribute_values().unwrap()[":max"],
            n(30)
        );
        assert_eq!(request.return_values(), Some(&ReturnValue::AllNew));
        assert!(
            current_request("t", "s")
                .build()
                .unwrap()
                .consistent_read()
                .unwrap()
        );
    }

    #[test]
    fn an_item_reads_back_as_the_session() {
        let item: Item = [
            ("pk", s("finding#111122223333#key#ASIAEXAMPLE2")),
            (
                "severities",
                AttributeValue::Ss(vec!["LOW".into(), "CRITICAL".into()]),
            ),
            (
                "types",
                AttributeValue::Ss(vec!["Unusual Behaviors/User".into()]),
            ),
            ("seen_at", AttributeValue::Ns(vec!["1763715912".into()])),
            (
                "events",
                AttributeValue::M([("e1".to_owned(), s("line"))].into_iter().collect()),
            ),
            ("dropped", n(2)),
            ("version", n(5)),
            ("created_at", n(1763715900)),
            ("account", s("111122223333")),
            ("region", s("eu-west-1")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let record = record_of(&item).unwrap();
        assert_eq!(record.session, "111122223333#key#ASIAEXAMPLE2");
        assert_eq!(record.highest(), Severity::Critical);
        assert_eq!(record.events["e1"], "line");
        assert_eq!((record.dropped, record.version), (2, 5));
        assert_eq!(record.account_name, None);
        assert_eq!(record.seen_at.len(), 1);
        let mut other = item.clone();
        other.insert("pk".into(), s("event#x"));
        assert_eq!(record_of(&other), None, "not a session's item");
    }
}
