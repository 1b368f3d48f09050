//! [`Declarations`] in the state table (items in `aws/dynamodb.rs`'s table): the request a person
//! wrote (`declaration#<account>`), the window the function announced (`window#<account>`), each
//! window's report (`report#<account>#<id>`) and the reports waiting (`index#reports`). Every
//! request is built by a pure function below, unit-tested, and sent by [`DynamoState`].

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::get_item::builders::GetItemInputBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, Put, TransactWriteItem, Update};
use chrono::{DateTime, TimeZone, Utc};
use tracing::warn;

use crate::aws::dynamodb::{DynamoState, epoch, n, s, secs, unavailable, written};
use crate::domain::limits::{
    MAX_PENDING_REPORTS, MAX_REPORTED_EVENTS, REMEMBER_DECLARATION, REMEMBER_REPORT,
};
use crate::domain::{AccountId, Declaration, NotedUse, Report, SourceCidr};
use crate::ports::{DeclarationRequest, Declarations, Opening, StateError, Window};

type Item = HashMap<String, AttributeValue>;

/// The one item listing the reports waiting.
pub const INDEX: &str = "index#reports";

pub fn request_pk(account: &str) -> String {
    format!("declaration#{account}")
}

pub fn window_pk(account: &str) -> String {
    format!("window#{account}")
}

/// A report's entry in the index: `<account>#<id>`.
pub fn entry(account: &str, id: &str) -> String {
    format!("{account}#{id}")
}

pub fn report_pk(entry: &str) -> String {
    format!("report#{entry}")
}

fn read_request(table: &str, pk: String) -> GetItemInputBuilder {
    GetItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(pk))
        .consistent_read(true)
}

/// The declaration's attributes, as the window and its report keep them.
fn snapshot(declaration: &Declaration) -> Vec<(&'static str, AttributeValue)> {
    let mut attributes = vec![
        ("declaration_id", s(&declaration.id)),
        ("account_id", s(declaration.account.as_str())),
        ("window_start", n(epoch(declaration.start))),
        ("window_end", n(epoch(declaration.end))),
        ("declared_reason", s(&declaration.reason)),
        ("declared_by", s(&declaration.by)),
    ];
    if let Some(arn) = &declaration.caller_arn {
        attributes.push(("caller_arn", s(arn)));
    }
    if let Some(range) = &declaration.source {
        attributes.push(("source_cidr", s(range.to_string())));
    }
    if let Some(ended) = declaration.ended_at {
        attributes.push(("ended_at", n(epoch(ended))));
    }
    attributes
}

/// Puts the window: when the account has none, when it is this declaration's (a re-read, or
/// the retry of an open whose write failed), or when the standing one started earlier.
fn put_window_request(table: &str, opening: &Opening) -> Put {
    let declaration = &opening.window.declaration;
    let mut put = Put::builder()
        .table_name(table)
        .item("pk", s(window_pk(declaration.account.as_str())))
        .item("digest", s(&opening.window.digest))
        .item("announced_at", n(epoch(opening.announced_at)))
        .item("message_id", s(&opening.message_id))
        .item(
            "expires_at",
            n(epoch(declaration.end) + secs(REMEMBER_DECLARATION)),
        )
        .condition_expression(
            "attribute_not_exists(pk) OR declaration_id = :id OR window_start < :start",
        )
        .expression_attribute_values(":id", s(&declaration.id))
        .expression_attribute_values(":start", n(epoch(declaration.start)));
    for (name, value) in snapshot(declaration) {
        put = put.item(name, value);
    }
    put.build().expect("table, item and condition are set")
}

/// Creates (or refreshes) the report's record; the uses noted so far stay.
fn open_report_request(table: &str, declaration: &Declaration) -> Update {
    let mut set = vec!["events = if_not_exists(events, :empty)".to_owned()];
    let mut update = Update::builder()
        .table_name(table)
        .key(
            "pk",
            s(report_pk(&entry(
                declaration.account.as_str(),
                &declaration.id,
            ))),
        )
        .expression_attribute_values(":empty", AttributeValue::M(HashMap::new()))
        .expression_attribute_values(":exp", n(epoch(declaration.end) + secs(REMEMBER_REPORT)));
    set.push("expires_at = :exp".to_owned());
    for (i, (name, value)) in snapshot(declaration).into_iter().enumerate() {
        set.push(format!("#a{i} = :a{i}"));
        update = update
            .expression_attribute_names(format!("#a{i}"), name)
            .expression_attribute_values(format!(":a{i}"), value);
    }
    update
        .update_expression(format!("SET {}", set.join(", ")))
        .build()
        .expect("table, key and expression are set")
}

/// Adds the report to the index while it has room (or already lists it). `size()` of a missing
/// attribute is false, hence the first test.
fn index_report_request(table: &str, entry: &str) -> Update {
    Update::builder()
        .table_name(table)
        .key("pk", s(INDEX))
        .update_expression("ADD due :entry")
        .condition_expression(
            "attribute_not_exists(due) OR size(due) < :max OR contains(due, :one)",
        )
        .expression_attribute_values(":entry", AttributeValue::Ss(vec![entry.to_owned()]))
        .expression_attribute_values(":one", s(entry))
        .expression_attribute_values(":max", n(MAX_PENDING_REPORTS as i64))
        .build()
        .expect("table, key and expression are set")
}

/// The replaced window's report ends where the new one starts (its first replacement wins).
fn supersede_request(table: &str, entry: &str, at: DateTime<Utc>) -> Update {
    Update::builder()
        .table_name(table)
        .key("pk", s(report_pk(entry)))
        .update_expression(
            "SET superseded_at = if_not_exists(superseded_at, :at), \
             expires_at = if_not_exists(expires_at, :exp)",
        )
        .expression_attribute_values(":at", n(epoch(at)))
        .expression_attribute_values(":exp", n(epoch(at) + secs(REMEMBER_REPORT)))
        .build()
        .expect("table, key and expression are set")
}

/// The transaction that opens a window.
fn open_requests(table: &str, opening: &Opening) -> Vec<TransactWriteItem> {
    let declaration = &opening.window.declaration;
    let account = declaration.account.as_str();
    let mut items = vec![
        TransactWriteItem::builder()
            .put(put_window_request(table, opening))
            .build(),
    ];
    if opening.report {
        items.push(
            TransactWriteItem::builder()
                .update(open_report_request(table, declaration))
                .build(),
        );
        items.push(
            TransactWriteItem::builder()
                .update(index_report_request(
                    table,
                    &entry(account, &declaration.id),
                ))
                .build(),
        );
    }
    if let Some(previous) = opening
        .supersedes
        .as_deref()
        .filter(|id| *id != declaration.id)
    {
        items.push(
            TransactWriteItem::builder()
                .update(supersede_request(
                    table,
                    &entry(account, previous),
                    declaration.start,
                ))
                .build(),
        );
    }
    items
}

/// The item of an opening transaction whose condition cancelled it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refused {
    /// A newer window of the account stands.
    Window,
    /// The index of waiting reports is full.
    Index,
}

/// Why DynamoDB cancelled the transaction [`open_requests`] built for `opening`, from its
/// reasons (one per item, in the items' order; API Reference, "TransactWriteItems",
/// `CancellationReasons`): the item whose condition failed, or `None` when anything else took
/// part (a conflicting transaction, throttling, a validation error), which a retry may not
/// repeat.
fn refused_by(reasons: &[CancellationReason], opening: &Opening) -> Option<Refused> {
    let code = |at: usize| reasons.get(at).and_then(CancellationReason::code);
    let other = reasons
        .iter()
        .filter_map(CancellationReason::code)
        .any(|code| !matches!(code, "None" | "ConditionalCheckFailed"));
    if other || reasons.is_empty() {
        return None;
    }
    // The window's put is item 0; with a report, the index's update is item 2.
    if code(0) == Some("ConditionalCheckFailed") {
        Some(Refused::Window)
    } else if opening.report && code(2) == Some("ConditionalCheckFailed") {
        Some(Refused::Index)
    } else {
        None
    }
}

/// Ends window `id` early, once.
fn end_window_request(
    table: &str,
    account: &str,
    id: &str,
    at: DateTime<Utc>,
) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(window_pk(account)))
        .update_expression("SET ended_at = :at")
        .condition_expression("declaration_id = :id AND attribute_not_exists(ended_at)")
        .expression_attribute_values(":id", s(id))
        .expression_attribute_values(":at", n(epoch(at)))
}

/// Ends its report's range, once; a report not kept is not created.
fn end_report_request(
    table: &str,
    account: &str,
    id: &str,
    at: DateTime<Utc>,
) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(report_pk(&entry(account, id))))
        .update_expression("SET ended_at = :at")
        .condition_expression("attribute_exists(pk) AND attribute_not_exists(ended_at)")
        .expression_attribute_values(":at", n(epoch(at)))
}

/// Notes a use under its event key while the report has room; the same event again replaces
/// itself (a redelivery), so noting is idempotent.
fn note_request(table: &str, entry: &str, key: &str, noted: &NotedUse) -> UpdateItemInputBuilder {
    let use_item: Item = [
        ("t", n(epoch(noted.time))),
        ("call", s(&noted.call)),
        ("ip", s(&noted.ip)),
        ("outcome", s(&noted.outcome)),
        ("sev", s(&noted.severity)),
        ("kind", s(&noted.kind)),
        ("declared", AttributeValue::Bool(noted.declared)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(report_pk(entry)))
        .update_expression("SET events.#k = :e")
        .condition_expression(
            "attribute_exists(events) AND (size(events) < :max OR attribute_exists(events.#k))",
        )
        .expression_attribute_names("#k", key)
        .expression_attribute_values(":e", AttributeValue::M(use_item))
        .expression_attribute_values(":max", n(MAX_REPORTED_EVENTS as i64))
}

/// Counts a use the full report could not keep.
fn drop_request(table: &str, entry: &str) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(report_pk(entry)))
        .update_expression("ADD dropped :one")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":one", n(1))
}

/// Takes a report off the index.
fn reported_request(table: &str, entry: &str) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(INDEX))
        .update_expression("DELETE due :entry")
        .expression_attribute_values(":entry", AttributeValue::Ss(vec![entry.to_owned()]))
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn time(item: &Item, name: &str) -> Option<DateTime<Utc>> {
    number(item, name).and_then(|t| Utc.timestamp_opt(t, 0).single())
}

/// A request as written: each known attribute read as its type, or named as malformed.
pub(crate) fn request_of(item: &Item) -> DeclarationRequest {
    let mut malformed = Vec::new();
    let mut text_of = |name: &str| match item.get(name) {
        None => None,
        Some(AttributeValue::S(value)) => Some(value.clone()),
        Some(_) => {
            malformed.push(name.to_owned());
            None
        }
    };
    let declaration_id = text_of("declaration_id");
    let account_id = text_of("account_id");
    let declared_reason = text_of("declared_reason");
    let declared_by = text_of("declared_by");
    let caller_arn = text_of("caller_arn");
    let source_cidr = text_of("source_cidr");
    let mut number_of = |name: &str| match item.get(name) {
        None => None,
        Some(AttributeValue::N(value)) => match value.parse::<i64>() {
            Ok(number) => Some(number),
            Err(_) => {
                malformed.push(name.to_owned());
                None
            }
        },
        Some(_) => {
            malformed.push(name.to_owned());
            None
        }
    };
    let window_start = number_of("window_start");
    let window_end = number_of("window_end");
    let ended_at = number_of("ended_at");
    DeclarationRequest {
        pk: text(item, "pk").unwrap_or_default(),
        declaration_id,
        account_id,
        window_start,
        window_end,
        declared_reason,
        declared_by,
        caller_arn,
        source_cidr,
        ended_at,
        malformed,
    }
}

/// A declaration the function wrote (a window or a report's snapshot); `None` if it is not one.
fn declaration_of(item: &Item) -> Option<Declaration> {
    Some(Declaration {
        id: text(item, "declaration_id")?,
        account: AccountId::parse(&text(item, "account_id")?)?,
        start: time(item, "window_start")?,
        end: time(item, "window_end")?,
        reason: text(item, "declared_reason")?,
        by: text(item, "declared_by")?,
        caller_arn: text(item, "caller_arn"),
        source: text(item, "source_cidr").and_then(|c| SourceCidr::parse(&c).ok()),
        ended_at: time(item, "ended_at"),
        superseded_at: time(item, "superseded_at"),
    })
}

fn noted_of(item: &AttributeValue) -> Option<NotedUse> {
    let item = item.as_m().ok()?;
    Some(NotedUse {
        time: time(item, "t")?,
        call: text(item, "call").unwrap_or_default(),
        ip: text(item, "ip").unwrap_or_default(),
        outcome: text(item, "outcome").unwrap_or_default(),
        severity: text(item, "sev").unwrap_or_default(),
        kind: text(item, "kind").unwrap_or_default(),
        declared: item
            .get("declared")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
    })
}

fn report_of(item: &Item) -> Option<Report> {
    let mut uses: Vec<NotedUse> = item
        .get("events")
        .and_then(|v| v.as_m().ok())
        .into_iter()
        .flat_map(|events| events.values().filter_map(noted_of))
        .collect();
    uses.sort_by(|a, b| (a.time, &a.call).cmp(&(b.time, &b.call)));
    Some(Report {
        declaration: declaration_of(item)?,
        uses,
        dropped: number(item, "dropped")
            .and_then(|d| u32::try_from(d).ok())
            .unwrap_or(0),
    })
}

impl DynamoState {
    async fn get(&self, pk: String) -> Result<Option<Item>, StateError> {
        read_request(&self.table, pk)
            .send_with(&self.client)
            .await
            .map(|out| out.item)
            .map_err(unavailable)
    }

    /// Opens `opening`'s window: `Ok(None)` when written, the item whose condition refused it,
    /// or an error (retryable) for any other failure, a cancellation for another reason included.
    async fn transact(&self, opening: &Opening) -> Result<Option<Refused>, StateError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(open_requests(&self.table, opening)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(err) => {
                let refused = match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                        refused_by(cancelled.cancellation_reasons(), opening)
                    }
                    _ => None,
                };
                refused.map(Some).ok_or_else(|| unavailable(err))
            }
        }
    }
}

impl Declarations for DynamoState {
    async fn request(&self, account: &AccountId) -> Result<Option<DeclarationRequest>, StateError> {
        Ok(self
            .get(request_pk(account.as_str()))
            .await?
            .map(|item| request_of(&item)))
    }

    async fn window(&self, account: &AccountId) -> Result<Option<Window>, StateError> {
        let Some(item) = self.get(window_pk(account.as_str())).await? else {
            return Ok(None);
        };
        let window = declaration_of(&item).map(|declaration| Window {
            declaration,
            digest: text(&item, "digest").unwrap_or_default(),
        });
        if window.is_none() {
            warn!(%account, "the account's window item is not one the function wrote; ignored");
        }
        Ok(window)
    }

    async fn report_room(&self) -> Result<bool, StateError> {
        Ok(self.due().await?.len() < MAX_PENDING_REPORTS)
    }

    /// When the index filled up since [`Declarations::report_room`] said it had room, the
    /// window still opens, without its report.
    async fn open(&self, opening: &Opening) -> Result<bool, StateError> {
        match self.transact(opening).await? {
            None => Ok(true),
            Some(Refused::Window) => Ok(false),
            Some(Refused::Index) => {
                let without_report = Opening {
                    report: false,
                    ..opening.clone()
                };
                Ok(self.transact(&without_report).await?.is_none())
            }
        }
    }

    async fn end(
        &self,
        account: &AccountId,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let account = account.as_str();
        let window = end_window_request(&self.table, account, id, at)
            .send_with(&self.client)
            .await;
        let report = end_report_request(&self.table, account, id, at)
            .send_with(&self.client)
            .await;
        written(window)?;
        written(report)?;
        Ok(())
    }

    async fn note(
        &self,
        account: &AccountId,
        id: &str,
        key: &str,
        noted: &NotedUse,
    ) -> Result<bool, StateError> {
        let entry = entry(account.as_str(), id);
        let kept = written(
            note_request(&self.table, &entry, key, noted)
                .send_with(&self.client)
                .await,
        )?;
        if !kept {
            written(
                drop_request(&self.table, &entry)
                    .send_with(&self.client)
                    .await,
            )?;
        }
        Ok(kept)
    }

    async fn due(&self) -> Result<Vec<String>, StateError> {
        Ok(self
            .get(INDEX.to_owned())
            .await?
            .and_then(|item| item.get("due").and_then(|v| v.as_ss().ok()).cloned())
            .unwrap_or_default())
    }

    async fn report(&self, entry: &str) -> Result<Option<Report>, StateError> {
        Ok(self
            .get(report_pk(entry))
            .await?
            .as_ref()
            .and_then(report_of))
    }

    async fn reported(&self, entry: &str) -> Result<(), StateError> {
        reported_request(&self.table, entry)
            .send_with(&self.client)
            .await
            .map(drop)
            .map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn declaration() -> Declaration {
        Declaration {
            source: Some(SourceCidr::parse("192.0.2.0/24").unwrap()),
            ..Declaration::example()
        }
    }

    fn opening(report: bool, supersedes: Option<&str>) -> Opening {
        Opening {
            window: Window {
                declaration: declaration(),
                digest: "0123456789abcdef".into(),
            },
            message_id: "m-1".into(),
            announced_at: at("2026-11-21T09:00:05Z"),
            report,
            supersedes: supersedes.map(str::to_owned),
        }
    }

    /// Only a failed condition is an answer; a conflict or throttling is retried, not taken for
    /// a standing window or a full index.
    #[test]
    fn only_a_failed_condition_refuses_an_opening() {
        let reasons = |codes: &[&str]| -> Vec<CancellationReason> {
            codes
                .iter()
                .map(|code| CancellationReason::builder().code(*code).build())
                .collect()
        };
        let with_report = opening(true, Some("d0"));
        let without = opening(false, None);
        let failed = "ConditionalCheckFailed";
        assert_eq!(
            refused_by(&reasons(&[failed, "None", "None", "None"]), &with_report),
            Some(Refused::Window)
        );
        assert_eq!(
            refused_by(&reasons(&["None", "None", failed, "None"]), &with_report),
            Some(Refused::Index)
        );
        assert_eq!(
            refused_by(&reasons(&[failed]), &without),
            Some(Refused::Window)
        );
        for codes in [
            &["TransactionConflict", "None", "None", "None"][..],
            &["None", "None", "ThrottlingError", "None"],
            &[failed, "TransactionConflict", "None", "None"],
            &["None", "None", "None", "None"],
            &[],
        ] {
            assert_eq!(refused_by(&reasons(codes), &with_report), None, "{codes:?}");
        }
    }

    #[test]
    fn opening_puts_the_window_and_keeps_its_report_while_the_index_has_room() {
        let items = open_requests("t", &opening(true, Some("d0")));
        assert_eq!(items.len(), 4);
        let put = items[0].put().unwrap();
        assert_eq!(put.item()["pk"].as_s().unwrap(), "window#111122223333");
        assert_eq!(put.item()["source_cidr"].as_s().unwrap(), "192.0.2.0/24");
        assert!(
            put.condition_expression()
                .unwrap()
                .contains("window_start < :start")
        );
        let report = items[1].update().unwrap();
        assert_eq!(report.key()["pk"].as_s().unwrap(), "report#111122223333#d1");
        assert!(
            report
                .update_expression()
                .contains("if_not_exists(events, :empty)")
        );
        let index = items[2].update().unwrap();
        assert_eq!(index.key()["pk"].as_s().unwrap(), INDEX);
        assert!(
            index
                .condition_expression()
                .unwrap()
                .starts_with("attribute_not_exists(due) OR size(due) < :max")
        );
        let old = items[3].update().unwrap();
        assert_eq!(old.key()["pk"].as_s().unwrap(), "report#111122223333#d0");
        assert_eq!(open_requests("t", &opening(false, Some("d1"))).len(), 1);
    }

    #[test]
    fn a_note_is_bounded_and_idempotent_per_event() {
        let noted = NotedUse {
            time: at("2026-11-21T09:03:11Z"),
            call: "signin:ConsoleLogin".into(),
            ip: "192.0.2.10".into(),
            outcome: "succeeded".into(),
            severity: "HIGH".into(),
            kind: "sign-in-with-mfa".into(),
            declared: true,
        };
        let input = note_request("t", "111122223333#d1", "e-1", &noted)
            .build()
            .unwrap();
        assert_eq!(input.expression_attribute_names().unwrap()["#k"], "e-1");
        assert!(
            input
                .condition_expression()
                .unwrap()
                .contains("size(events) < :max")
        );
        assert_eq!(input.expression_attribute_values().unwrap()[":max"], n(200));
    }

    #[test]
    fn a_request_names_attributes_of_the_wrong_type() {
        let item: Item = [
            ("pk", s("declaration#111122223333")),
            ("declaration_id", n(7)),
            ("window_start", s("soon")),
            ("window_end", n(1)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let request = request_of(&item);
        assert_eq!(request.malformed, ["declaration_id", "window_start"]);
        assert_eq!(request.window_end, Some(1));
    }
}
