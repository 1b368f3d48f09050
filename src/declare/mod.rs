//! Declared root use: a person writes `declaration#<account>` into the state table; its stream
//! rings the function ([`Declarer::ring`]), which reads the item itself, decides
//! ([`decide::decide`]), announces through [`crate::deliver`] ([`render`]) and only then opens
//! the window the handler looks up. After a window closes, the scheduled tick sends its
//! root-use report ([`report`]).
//!
//! The batch is a doorbell: anyone allowed `lambda:InvokeFunction` can send the bytes Lambda's
//! poller sends, so only the key is taken from it, and only as `declaration#<12 digits>`; nothing
//! in the record is rendered or trusted. Format: Lambda Developer Guide, "Using AWS Lambda with
//! Amazon DynamoDB" (`Records[].eventSource`, `eventSourceARN`, `dynamodb.Keys`).

pub mod decide;
pub mod render;
pub mod report;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::deliver::{AlertGuard, Delivered, deliver, notice_claim};
use crate::detect::record::EventError;
use crate::domain::{Account, AccountId};
use crate::error::HandlerError;
use crate::invocation::{Budget, Invocation};
use crate::ports::{AlertPublisher, AlertState, Declarations, EventKey, Opening};
use crate::render::notification::Notification;
use crate::sanitize::{quoted_exactly, redact_contacts};
use decide::{Change, Step, decide};

/// The stream records' `eventSource`.
const DYNAMODB_SOURCE: &str = "aws:dynamodb";

/// The key prefix of a declaration.
const PREFIX: &str = "declaration#";

/// Whether a payload is a batch of event-source records (`{"Records": [...]}`): not an
/// EventBridge envelope, so it is refused or rung here, never parsed as one.
pub fn is_record_batch(payload: &Value) -> bool {
    payload.get("Records").is_some()
}

fn refuse(reason: String) -> EventError {
    EventError::UntrustedSource {
        event_id: None,
        reason: redact_contacts(&reason),
    }
}

/// What one record of the state table's stream rings for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Doorbell {
    /// A declaration's key: the account whose declaration to read.
    Account(AccountId),
    /// A key that is not `declaration#` and an account id (shown quoted): a write the table
    /// policy let through, skipped so that it does not hold back the declarations and ends
    /// behind it on the shard.
    Skipped(String),
}

/// What a batch rings for, or why it is refused: its one record must come from the state table's
/// stream (`stream_arn`, `DECLARATION_STREAM_ARN`; unset, every batch is refused). The mapping
/// sends one record a batch (`BatchSize: 1`), so a longer batch is not its.
pub fn doorbells(payload: &Value, stream_arn: Option<&str>) -> Result<Doorbell, EventError> {
    let Some(stream_arn) = stream_arn else {
        return Err(refuse(
            "a batch of records, but declarations are off (DECLARATION_STREAM_ARN is not set)"
                .into(),
        ));
    };
    let records = payload
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| refuse("Records is not a list of records".into()))?;
    let [record] = records.as_slice() else {
        return Err(refuse(format!(
            "a batch of {} records; the state table's stream sends one at a time",
            records.len()
        )));
    };
    let field = |name: &str| record.get(name).and_then(Value::as_str);
    if field("eventSource") != Some(DYNAMODB_SOURCE) {
        return Err(refuse(format!(
            "a record's eventSource is {}, not {DYNAMODB_SOURCE}",
            shown(record.get("eventSource"))
        )));
    }
    if field("eventSourceARN") != Some(stream_arn) {
        return Err(refuse(format!(
            "a record's eventSourceARN is {}, not the state table's stream",
            shown(record.get("eventSourceARN"))
        )));
    }
    let key = record
        .pointer("/dynamodb/Keys/pk/S")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(key
        .strip_prefix(PREFIX)
        .filter(|id| id.len() == 12)
        .and_then(AccountId::parse)
        .map_or_else(
            || Doorbell::Skipped(quoted_exactly(key, 40)),
            Doorbell::Account,
        ))
}

fn shown(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => quoted_exactly(text, 120),
        Some(_) => "not text".to_owned(),
        None => "missing".to_owned(),
    }
}

/// What a doorbell came to, also the invocation's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "declaration", rename_all = "camelCase")]
pub enum Rung {
    /// Nothing to do, and why.
    Nothing { account: String, why: String },
    /// Announced (`message_id` is `None` when an earlier invocation had published it) and, unless
    /// already over, opened (`opened` is `false` when a newer window stood).
    #[serde(rename_all = "camelCase")]
    Announced {
        account: String,
        message_id: Option<String>,
        opened: bool,
    },
    /// Refused as invalid, announced as such.
    #[serde(rename_all = "camelCase")]
    Invalid {
        account: String,
        message_id: Option<String>,
    },
    /// Ended early: the window closed, nothing published.
    Ended { account: String },
    /// A record whose key (`key`, quoted) is not a declaration's: skipped, nothing read.
    Skipped { key: String },
}

impl Rung {
    /// The message published, if one was.
    pub fn published(&self) -> bool {
        matches!(
            self,
            Rung::Announced {
                message_id: Some(_),
                ..
            } | Rung::Invalid {
                message_id: Some(_),
                ..
            }
        )
    }
}

/// Announces declarations: configuration and the function's publisher and state table.
pub struct Declarer<'a, P, S> {
    pub config: &'a Config,
    pub publisher: &'a P,
    pub state: &'a S,
}

impl<P: AlertPublisher, S: AlertState + Declarations> Declarer<'_, P, S> {
    /// Handles one batch from the stream: the account it rings for. A failure the
    /// next attempt may not repeat (a publish, the table) fails the batch retryably; the
    /// mapping retries it, and the window stays closed until it is announced.
    pub async fn ring(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<Vec<Rung>, HandlerError> {
        let doorbell =
            doorbells(payload, self.config.declaration_stream_arn.as_deref()).map_err(|err| {
                let err = HandlerError::from(err);
                error!(
                    stage = "declare",
                    error_type = err.error_type(),
                    retryable = false,
                    "{err}"
                );
                err
            })?;
        let account = match doorbell {
            Doorbell::Account(account) => account,
            Doorbell::Skipped(key) => {
                warn!(
                    stage = "declare",
                    %key,
                    "a state-table record whose key is not declaration# and an account id; skipped"
                );
                return Ok(vec![Rung::Skipped { key }]);
            }
        };
        let budget = Budget::start(invocation, now);
        let rung = self.one(&account, invocation, &budget).await.inspect_err(|err| {
            warn!(stage = "declare", %account, error_type = err.error_type(), retryable = true, "declaration not handled; the stream retries it: {err}");
        })?;
        info!(stage = "declare", %account, rung = ?rung, "declaration handled");
        Ok(vec![rung])
    }

    async fn one(
        &self,
        id: &AccountId,
        invocation: &Invocation,
        budget: &Budget,
    ) -> Result<Rung, HandlerError> {
        let now = budget.now();
        let (request, window, room) = tokio::join!(
            self.state.request(id),
            self.state.window(id),
            self.state.report_room()
        );
        let (request, window) = (request?, window?);
        let account = Account {
            name: self.config.account_names.choose(Some(id), None),
            id: Some(id.clone()),
        };
        let label = id.to_string();
        match decide(id, request.as_ref(), window.as_ref(), now) {
            Step::Nothing { why } => Ok(Rung::Nothing {
                account: label,
                why: why.to_owned(),
            }),
            Step::End { window, at } => {
                self.state.end(id, &window.declaration.id, at).await?;
                Ok(Rung::Ended { account: label })
            }
            Step::AnnounceInvalid {
                problem,
                digest,
                ends,
            } => {
                let mut notification = render::render_invalid(
                    &account,
                    &problem,
                    ends.as_ref(),
                    self.config.sms_limit,
                );
                let key = EventKey::notice(&["declaration", id.as_str(), "invalid", &digest]);
                let message_id = self
                    .announce(key, &mut notification, &account, invocation, budget)
                    .await?;
                if let Some(window) = ends {
                    self.state.end(id, &window.declaration.id, now).await?;
                }
                Ok(Rung::Invalid {
                    account: label,
                    message_id,
                })
            }
            Step::Announce {
                window,
                change,
                over,
            } => {
                let reporting = match room {
                    Ok(true) => render::Reporting::Follows,
                    Ok(false) => render::Reporting::Full,
                    Err(err) => {
                        warn!(stage = "declare", %id, "the waiting reports could not be read; this window gets no report: {err}");
                        render::Reporting::Unread
                    }
                };
                let report = !over && reporting == render::Reporting::Follows;
                let mut notification = render::render_announcement(
                    &account,
                    &window,
                    &change,
                    over,
                    reporting,
                    self.config.sms_limit,
                );
                let key = EventKey::notice(&[
                    "declaration",
                    id.as_str(),
                    &window.declaration.id,
                    &window.digest,
                ]);
                let message_id = self
                    .announce(key, &mut notification, &account, invocation, budget)
                    .await?;
                // Published now or before (a retry): the window opens only after its announcement.
                let opened = !over
                    && self
                        .state
                        .open(&Opening {
                            message_id: message_id.clone().unwrap_or_else(|| "duplicate".into()),
                            announced_at: now,
                            report,
                            supersedes: match change {
                                Change::New { supersedes } => supersedes,
                                Change::Changed(_) => None,
                            },
                            window,
                        })
                        .await?;
                Ok(Rung::Announced {
                    account: label,
                    message_id,
                    opened,
                })
            }
        }
    }

    /// Delivers a notice once per key: the message id, or `None` for a duplicate.
    async fn announce(
        &self,
        key: EventKey,
        notification: &mut Notification,
        account: &Account,
        invocation: &Invocation,
        budget: &Budget,
    ) -> Result<Option<String>, HandlerError> {
        let mut guard = AlertGuard {
            state: self.state,
            claim: notice_claim(key, invocation, self.config, budget.now()),
            account,
            sms_limit: self.config.sms_limit,
        };
        Ok(
            match deliver(self.publisher, &mut guard, notification, budget).await? {
                Delivered::Published { message_id, .. } => Some(message_id),
                Delivered::Duplicate => None,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ARN: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/rootwatch-state/stream/2026-11-21T00:00:00.000";

    fn record(pk: &str) -> Value {
        json!({"eventSource": "aws:dynamodb", "eventSourceARN": ARN, "dynamodb": {"Keys": {"pk": {"S": pk}}}})
    }

    #[test]
    fn a_doorbell_gives_only_the_account_of_a_declaration_key() {
        let batch = json!({"Records": [record("declaration#111122223333")]});
        assert_eq!(
            doorbells(&batch, Some(ARN)).unwrap(),
            Doorbell::Account(AccountId::parse("111122223333").unwrap())
        );
        for bad in [
            json!({"Records": []}),
            json!({"Records": "x"}),
            json!({"Records": [{"eventSource": "aws:sqs", "eventSourceARN": ARN}]}),
            json!({"Records": [{"eventSource": "aws:dynamodb", "eventSourceARN": "arn:aws:dynamodb:us-east-1:444455556666:table/t/stream/x", "dynamodb": {"Keys": {"pk": {"S": "declaration#111122223333"}}}}]}),
            json!({"Records": [record("declaration#111122223333"), record("declaration#444455556666")]}),
        ] {
            let err = doorbells(&bad, Some(ARN)).unwrap_err();
            assert!(matches!(err, EventError::UntrustedSource { .. }), "{bad}");
        }
        assert!(doorbells(&batch, None).is_err(), "declarations off");
    }

    /// A record from the stream whose key a declarer could write but is no declaration's is
    /// skipped, not refused: a refused batch is retried for hours and holds back the records
    /// behind it.
    #[test]
    fn a_record_with_another_key_is_skipped() {
        for key in [
            "window#111122223333",
            "declaration#prod",
            "declaration#1111",
            "declaration#111122223333#x",
        ] {
            let batch = json!({"Records": [record(key)]});
            assert!(
                matches!(doorbells(&batch, Some(ARN)), Ok(Doorbell::Skipped(_))),
                "{key}"
            );
        }
    }
}
