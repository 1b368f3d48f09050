//! The DynamoDB adapter for [`AlertState`]: one table, key `pk` (string), TTL on `expires_at`.
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | an event | `event#<key>` | `status` (`pending`/`alerted`), `owner` (request id), `lease_until`, `message_id`, `expires_at` |
//! | a root session | `session#<account>#<key or ip>` | `first_event_id` (the event key), `window_until`, `expires_at` |
//! | an account's texts of root activity in a UTC hour | `texts#<account>#<YYYY-MM-DDTHH>` | `texts` (a count), `expires_at` |
//! | every account's texts of another [`TextBucket`](crate::domain::TextBucket) in a UTC day | `texts#any-account#<bucket>#<YYYY-MM-DD>` (`sign-in-attempts`, `forwarder-failures`) | `texts`, `expires_at` |
//! | a declaration of root use (written by a person) | `declaration#<account>` | `declaration_id`, `account_id`, `window_start`, `window_end`, `declared_reason`, `declared_by`, `caller_arn`, `source_cidr`, `ended_at`, `expires_at` |
//! | its window, as announced | `window#<account>` | the validated copy, `digest`, `announced_at`, `message_id`, `expires_at` |
//! | a window's report | `report#<account>#<id>` | the copy, `events` (event key → use), `dropped`, `ended_at`, `superseded_at`, `expires_at` |
//! | the reports waiting | `index#reports` | `due` (a string set of `<account>#<id>`) |
//! | a root session's Security Hub finding ([`finding_state`](crate::aws::finding_state)) | `finding#<session>` | `severities` (SS), `types` (SS), `seen_at` (NS), `events` (alert id → line), `dropped`, `version`, `created_at`, `account`, `account_name`, `region`, `expires_at` |
//!
//! A notice's claim is an event item too: `event#declaration#<account>#<id>#<digest>`,
//! `event#report#<account>#<id>`. The declarations' requests are built and sent in
//! `aws/declarations.rs`.
//!
//! `<key>` is the [`EventKey`](crate::ports::EventKey): the CloudTrail `eventID`, else
//! `envelope#<id>` or `sha256#<digest>`. Every request is built by a pure function below,
//! unit-tested, and sent by [`DynamoState`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemInputBuilder;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemInputBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemInputBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use tokio::time::Instant;
use tracing::{info, warn};

use crate::domain::limits::REMEMBER_ALERTED;
use crate::invocation::Budget;
use crate::ports::{AlertState, Claim, Claimed, Page, StateError, TextCeiling};

const PENDING: &str = "pending";
const ALERTED: &str = "alerted";

/// The first pause of a duplicate waiting for another invocation, doubled up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(50);
const MAX_POLL: Duration = Duration::from_millis(500);

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(crate) fn epoch(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

pub(crate) fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

fn event_pk(key: &str) -> String {
    format!("event#{key}")
}

fn session_pk(session: &str) -> String {
    format!("session#{session}")
}

fn texts_pk(ceiling: &TextCeiling) -> String {
    format!("texts#{}", ceiling.key())
}

/// Counts one text against its ceiling's period, in one conditional write (no read): it succeeds
/// while the count is at most the ceiling, so the texts numbered 1 to the ceiling and the one
/// after it (the notice that texts are paused) are counted, and returns the new count. Every
/// later one fails its condition: email and chat only.
fn count_text_request(
    table: &str,
    ceiling: &TextCeiling,
    now: DateTime<Utc>,
) -> UpdateItemInputBuilder {
    // Kept past the period, with a margin for clock skew between invocations; then TTL removes it.
    let expires_at = epoch(ceiling.until()).max(epoch(now)) + 3600;
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(texts_pk(ceiling)))
        .update_expression("SET expires_at = :exp ADD texts :one")
        .condition_expression("attribute_not_exists(texts) OR texts <= :ceiling")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":ceiling", n(i64::from(ceiling.limit)))
        .expression_attribute_values(":exp", n(expires_at))
        .return_values(ReturnValue::UpdatedNew)
}

/// Gives back a text counted for an alert that was not published, so Lambda's retry (or the
/// next alert) has it. The notice that texts are paused is always given back (nothing counts
/// past it, so it is still the last); another text only while the notice has not been counted,
/// since after it texts are paused anyway and the count must not reopen them.
fn give_back_text_request(
    table: &str,
    ceiling: &TextCeiling,
    page: Page,
) -> UpdateItemInputBuilder {
    let notice = i64::from(ceiling.limit) + 1;
    let condition = if page == Page::PauseNotice {
        "texts = :notice"
    } else {
        "texts BETWEEN :one AND :ceiling"
    };
    let request = UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(texts_pk(ceiling)))
        .update_expression("ADD texts :minus_one")
        .condition_expression(condition)
        .expression_attribute_values(":minus_one", n(-1));
    if page == Page::PauseNotice {
        request.expression_attribute_values(":notice", n(notice))
    } else {
        request
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ceiling", n(i64::from(ceiling.limit)))
    }
}

/// Claims an event for this invocation. Succeeds if it was never seen, if an earlier claim's
/// lease ran out (its invocation is past its deadline), or if the claim is already ours: the
/// SDK's retry of this very write after a lost response, or Lambda's retry of this invocation.
/// On failure DynamoDB returns the item that stood in the way, so no separate read can race.
fn claim_event_request(table: &str, claim: &Claim, now: DateTime<Utc>) -> PutItemInputBuilder {
    PutItemInputBuilder::default()
        .table_name(table)
        .item("pk", s(event_pk(claim.key.as_str())))
        .item("status", s(PENDING))
        .item("owner", s(&claim.owner))
        .item("lease_until", n(epoch(claim.lease_until)))
        .item("expires_at", n(epoch(now) + secs(REMEMBER_ALERTED)))
        .condition_expression(
            "attribute_not_exists(pk) OR \
             (#status = :pending AND (lease_until < :now OR #owner = :me))",
        )
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#owner", "owner")
        .expression_attribute_values(":pending", s(PENDING))
        .expression_attribute_values(":now", n(epoch(now)))
        .expression_attribute_values(":me", s(&claim.owner))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
}

/// Opens a session's paging window: succeeds for the session's first alert, for any alert after
/// the window closed, and again for the same event (so a retried first alert still pages).
fn open_session_request(
    table: &str,
    session: &str,
    claim: &Claim,
    now: DateTime<Utc>,
) -> PutItemInputBuilder {
    let window_until = epoch(claim.event_time) + secs(claim.window);
    PutItemInputBuilder::default()
        .table_name(table)
        .item("pk", s(session_pk(session)))
        .item("first_event_id", s(claim.key.as_str()))
        .item("window_until", n(window_until))
        .item(
            "expires_at",
            n(window_until.max(epoch(now)) + secs(claim.window)),
        )
        .condition_expression(
            "attribute_not_exists(pk) OR window_until <= :event_time OR first_event_id = :me",
        )
        .expression_attribute_values(":event_time", n(epoch(claim.event_time)))
        .expression_attribute_values(":me", s(claim.key.as_str()))
}

/// Records an event as alerted, after its publish succeeded. Unconditional: also when the claim
/// could not be made (the table failed open), a redelivery then finds the event alerted.
fn mark_alerted_request(
    table: &str,
    claim: &Claim,
    message_id: &str,
    now: DateTime<Utc>,
) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(event_pk(claim.key.as_str())))
        .update_expression(
            "SET #status = :alerted, #owner = :me, message_id = :m, expires_at = :exp \
             REMOVE lease_until",
        )
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#owner", "owner")
        .expression_attribute_values(":alerted", s(ALERTED))
        .expression_attribute_values(":me", s(&claim.owner))
        .expression_attribute_values(":m", s(message_id))
        .expression_attribute_values(":exp", n(epoch(now) + secs(REMEMBER_ALERTED)))
}

/// A read of a key the function never writes (its keys start `event#`, `session#`, `texts#`,
/// `watchdog#`, `window#`, `report#` or `index#`, and a person's `declaration#`): the cheapest request its role already may make, to open the connection at
/// start-up and prove the table.
fn warm_up_request(table: &str) -> GetItemInputBuilder {
    GetItemInputBuilder::default()
        .table_name(table)
        .key("pk", s("warm-up#never-written"))
        .projection_expression("pk")
}

/// Releases this invocation's event claim that did not end in a publish; a claim another
/// invocation has taken over is left alone.
fn release_event_request(table: &str, claim: &Claim) -> DeleteItemInputBuilder {
    DeleteItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(event_pk(claim.key.as_str())))
        .condition_expression("#status = :pending AND #owner = :me")
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#owner", "owner")
        .expression_attribute_values(":pending", s(PENDING))
        .expression_attribute_values(":me", s(&claim.owner))
}

/// Releases a session window this claim opened, so the session's next alert pages instead: when
/// the alert was not published, or was held back by the ceiling (or replaced by its notice).
fn release_session_request(table: &str, session: &str, claim: &Claim) -> DeleteItemInputBuilder {
    DeleteItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(session_pk(session)))
        .condition_expression("first_event_id = :me")
        .expression_attribute_values(":me", s(claim.key.as_str()))
}

/// An event item that stood in the way of a claim, as DynamoDB returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Holder {
    /// The event was alerted: the claimer has a duplicate.
    Alerted,
    /// Another invocation's claim, leased until `lease_until` (epoch seconds) when known.
    Pending {
        owner: Option<String>,
        lease_until: Option<i64>,
    },
}

impl Holder {
    /// Reads the old item of a failed claim. `None` (a store that does not return it) is read
    /// as someone else's claim: waited for, never taken.
    fn from_item(item: Option<&HashMap<String, AttributeValue>>) -> Self {
        let text = |name: &str| {
            item.and_then(|i| i.get(name))
                .and_then(|v| v.as_s().ok())
                .cloned()
        };
        if text("status").as_deref() == Some(ALERTED) {
            return Holder::Alerted;
        }
        Holder::Pending {
            owner: text("owner"),
            lease_until: item
                .and_then(|i| i.get("lease_until"))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok()),
        }
    }
}

/// [`AlertState`] in a DynamoDB table, with a client built once at start-up.
#[derive(Debug, Clone)]
pub struct DynamoState {
    pub(crate) client: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
}

impl DynamoState {
    /// `client` should come from [`crate::aws::sdk::dynamodb_client`], for its short timeouts.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// One claim attempt: `Ok(None)` if the event is now ours, else who holds it.
    async fn try_claim(
        &self,
        claim: &Claim,
        now: DateTime<Utc>,
    ) -> Result<Option<Holder>, StateError> {
        match claim_event_request(&self.table, claim, now)
            .send_with(&self.client)
            .await
        {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(failed)) => match failed.err() {
                PutItemError::ConditionalCheckFailedException(e) => {
                    Ok(Some(Holder::from_item(e.item())))
                }
                _ => Err(unavailable(SdkError::ServiceError(failed))),
            },
            Err(err) => Err(unavailable(err)),
        }
    }
}

impl DynamoState {
    /// Counts a text against its ceiling's period: [`Page::Text`] within the ceiling, the notice
    /// just past it, and [`Page::Paused`] after that.
    async fn count_text(
        &self,
        ceiling: &TextCeiling,
        now: DateTime<Utc>,
    ) -> Result<Page, StateError> {
        let result = count_text_request(&self.table, ceiling, now)
            .send_with(&self.client)
            .await;
        let count = match result {
            Ok(output) => output
                .attributes()
                .and_then(|a| a.get("texts"))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok()),
            Err(err) if condition_failed(&err) => return Ok(Page::Paused),
            Err(err) => return Err(unavailable(err)),
        };
        Ok(match count {
            Some(n) if n <= i64::from(ceiling.limit) => Page::Text,
            Some(_) => Page::PauseNotice,
            // DynamoDB always returns an attribute it updated; read an answer without it as
            // within the ceiling, towards texting.
            None => Page::Text,
        })
    }

    /// Opens the TLS connection at start-up (with `warm_up_request`) so the first event does
    /// not pay for it; an error also shows a missing table or permission before any event does.
    pub async fn warm_up(&self) -> Result<(), StateError> {
        warm_up_request(&self.table)
            .send_with(&self.client)
            .await
            .map(drop)
            .map_err(unavailable)
    }
}

pub(crate) fn unavailable<E>(err: E) -> StateError
where
    E: std::error::Error + 'static,
{
    StateError::Unavailable {
        reason: DisplayErrorContext(&err).to_string(),
    }
}

/// The result of a conditional write: `true` if it was written, `false` if its condition failed
/// (another item state won, not an outage), an error for anything else.
pub(crate) fn written<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StateError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if condition_failed(&err) => Ok(false),
        Err(err) => Err(unavailable(err)),
    }
}

/// Whether a conditional write failed its condition (another item state won; not an outage).
pub(crate) fn condition_failed<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    err.as_service_error().and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

impl AlertState for DynamoState {
    /// Waiting re-sends the conditional claim rather than reading: each attempt is a consistent
    /// look at the item and, once the holder released it or its lease ran out, the takeover
    /// itself — there is no window between a read and a write for a third invocation to use.
    async fn claim(&self, claim: &Claim, budget: &Budget) -> Result<Claimed, StateError> {
        let mut pause = FIRST_POLL;
        let mut waited = false;
        loop {
            match self.try_claim(claim, budget.now()).await? {
                None => break,
                Some(Holder::Alerted) => return Ok(Claimed::Duplicate),
                Some(Holder::Pending { owner, lease_until }) => {
                    if Instant::now() + pause > budget.wait_until() {
                        return Err(StateError::InFlight {
                            event_id: claim.key.to_string(),
                        });
                    }
                    if !waited {
                        info!(
                            event_id = claim.key.as_str(),
                            holder = owner.as_deref(),
                            lease_until,
                            "another invocation holds the event; waiting for its outcome"
                        );
                        waited = true;
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_POLL);
                }
            }
        }
        if let Some(session) = &claim.session {
            let first_in_session = written(
                open_session_request(&self.table, session, claim, budget.now())
                    .send_with(&self.client)
                    .await,
            )?;
            if !first_in_session {
                return Ok(Claimed::Proceed {
                    page: Page::Coalesced,
                    deduplicated: true,
                });
            }
        }
        let page = match &claim.ceiling {
            // Never texted: neither coalescing nor the ceiling applies.
            None => Page::Text,
            Some(ceiling) => self.count_text(ceiling, budget.now()).await?,
        };
        if let (Some(session), Page::PauseNotice | Page::Paused) = (&claim.session, page) {
            // Phones did not get this alert as itself: the session's one text is still to come
            // (when the hour turns, as the notice says), so the window it opened is given up.
            let released = written(
                release_session_request(&self.table, session, claim)
                    .send_with(&self.client)
                    .await,
            );
            if let Err(err) = released {
                warn!(
                    event_id = claim.key.as_str(),
                    "session window not given up; the session's alerts stay email-only until \
                     it closes: {err}"
                );
            }
        }
        Ok(Claimed::Proceed {
            page,
            deduplicated: true,
        })
    }

    async fn record(
        &self,
        claim: &Claim,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        mark_alerted_request(&self.table, claim, message_id, now)
            .send_with(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// The releases at once, so releasing takes one operation's time. A release whose
    /// condition failed found the item no longer ours (or the text not to be given back):
    /// nothing to do.
    async fn release(&self, claim: &Claim, counted: Option<Page>) -> Result<(), StateError> {
        let text = async {
            match (&claim.ceiling, counted.filter(|page| page.texted())) {
                (Some(ceiling), Some(page)) => written(
                    give_back_text_request(&self.table, ceiling, page)
                        .send_with(&self.client)
                        .await,
                )
                .map(drop),
                _ => Ok(()),
            }
        };
        let session = async {
            match &claim.session {
                Some(session) => written(
                    release_session_request(&self.table, session, claim)
                        .send_with(&self.client)
                        .await,
                )
                .map(drop),
                None => Ok(()),
            }
        };
        let event = async {
            written(
                release_event_request(&self.table, claim)
                    .send_with(&self.client)
                    .await,
            )
            .map(drop)
        };
        let (session, event, text) = tokio::join!(session, event, text);
        session.and(event).and(text)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::invocation::Invocation;
    use crate::ports::EventKey;

    fn claim() -> Claim {
        let invocation = Invocation::new("req-1", "2026-11-21T09:01:30.250Z".parse().unwrap());
        Claim {
            key: EventKey::of(Some("e-1"), &serde_json::Value::Null),
            owner: invocation.request_id.clone(),
            lease_until: invocation.lease_until(),
            session: Some("111122223333#key#ASIAX".into()),
            event_time: "2026-11-21T09:00:00Z".parse().unwrap(),
            window: Duration::from_secs(900),
            ceiling: Some(TextCeiling::new(
                "111122223333",
                crate::domain::TextBucket::RootActivity,
                10,
                "2026-11-21T09:01:00Z".parse().unwrap(),
            )),
        }
    }

    #[test]
    fn a_text_is_counted_in_one_conditional_write_up_to_the_notice() {
        let now: DateTime<Utc> = "2026-11-21T09:01:00Z".parse().unwrap();
        let ceiling = claim().ceiling.unwrap();
        let input = count_text_request("t", &ceiling, now).build().unwrap();
        assert_eq!(
            input.key().unwrap()["pk"].as_s().unwrap(),
            "texts#111122223333#2026-11-21T09"
        );
        assert_eq!(
            input.update_expression(),
            Some("SET expires_at = :exp ADD texts :one")
        );
        assert_eq!(
            input.condition_expression(),
            Some("attribute_not_exists(texts) OR texts <= :ceiling")
        );
        let values = input.expression_attribute_values().unwrap();
        assert_eq!(number(&values[":ceiling"]), 10);
        let hour_end: DateTime<Utc> = "2026-11-21T10:00:00Z".parse().unwrap();
        assert_eq!(number(&values[":exp"]), hour_end.timestamp() + 3600);
        assert_eq!(input.return_values(), Some(&ReturnValue::UpdatedNew));
    }

    /// What anyone can cause is counted per UTC day across every account, under a key no
    /// account's hourly count can have, and kept until the day ends (plus the margin).
    #[test]
    fn texts_anyone_can_cause_are_counted_per_day_for_every_account() {
        let now: DateTime<Utc> = "2026-11-21T09:01:00Z".parse().unwrap();
        let midnight: DateTime<Utc> = "2026-11-22T00:00:00Z".parse().unwrap();
        for (account, bucket, key) in [
            (
                "111122223333",
                crate::domain::TextBucket::SignInAttempts,
                "texts#any-account#sign-in-attempts#2026-11-21",
            ),
            (
                "444455556666",
                crate::domain::TextBucket::SignInAttempts,
                "texts#any-account#sign-in-attempts#2026-11-21",
            ),
            (
                "unknown",
                crate::domain::TextBucket::ForwarderFailures,
                "texts#any-account#forwarder-failures#2026-11-21",
            ),
        ] {
            let ceiling = TextCeiling::new(account, bucket, 10, now);
            let input = count_text_request("t", &ceiling, now).build().unwrap();
            assert_eq!(input.key().unwrap()["pk"].as_s().unwrap(), key, "{account}");
            let values = input.expression_attribute_values().unwrap();
            assert_eq!(number(&values[":ceiling"]), 10);
            assert_eq!(number(&values[":exp"]), midnight.timestamp() + 3600);
        }
    }

    #[test]
    fn a_text_is_given_back_only_while_the_pause_is_unannounced_or_when_it_is_the_notice() {
        let ceiling = claim().ceiling.unwrap();
        let text = give_back_text_request("t", &ceiling, Page::Text)
            .build()
            .unwrap();
        assert_eq!(text.update_expression(), Some("ADD texts :minus_one"));
        assert_eq!(
            text.condition_expression(),
            Some("texts BETWEEN :one AND :ceiling")
        );
        assert_eq!(
            number(&text.expression_attribute_values().unwrap()[":ceiling"]),
            10
        );
        let notice = give_back_text_request("t", &ceiling, Page::PauseNotice)
            .build()
            .unwrap();
        assert_eq!(notice.condition_expression(), Some("texts = :notice"));
        assert_eq!(
            number(&notice.expression_attribute_values().unwrap()[":notice"]),
            11
        );
    }

    fn number(v: &AttributeValue) -> i64 {
        v.as_n().unwrap().parse().unwrap()
    }

    #[test]
    fn event_claim_is_owned_and_leased_until_the_deadline() {
        let now: DateTime<Utc> = "2026-11-21T09:01:00Z".parse().unwrap();
        let input = claim_event_request("t", &claim(), now).build().unwrap();
        let item = input.item().unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), "event#e-1");
        assert_eq!(item["status"].as_s().unwrap(), "pending");
        assert_eq!(item["owner"].as_s().unwrap(), "req-1");
        let deadline: DateTime<Utc> = "2026-11-21T09:01:30Z".parse().unwrap();
        assert_eq!(
            number(&item["lease_until"]),
            deadline.timestamp() + 5,
            "the deadline plus the margin, not a fixed lease from now"
        );
        assert_eq!(number(&item["expires_at"]), now.timestamp() + 7 * 24 * 3600);
    }

    #[test]
    fn event_claim_succeeds_when_new_expired_or_ours_and_returns_the_old_item() {
        let now: DateTime<Utc> = "2026-11-21T09:01:00Z".parse().unwrap();
        let input = claim_event_request("t", &claim(), now).build().unwrap();
        assert_eq!(
            input.condition_expression(),
            Some(
                "attribute_not_exists(pk) OR \
                 (#status = :pending AND (lease_until < :now OR #owner = :me))"
            )
        );
        let names = input.expression_attribute_names().unwrap();
        assert_eq!(names["#owner"], "owner");
        let values = input.expression_attribute_values().unwrap();
        assert_eq!(values[":me"].as_s().unwrap(), "req-1");
        assert_eq!(number(&values[":now"]), now.timestamp());
        assert_eq!(
            input.return_values_on_condition_check_failure(),
            Some(&ReturnValuesOnConditionCheckFailure::AllOld)
        );
    }

    #[test]
    fn session_window_follows_the_event_time_not_the_clock() {
        let now: DateTime<Utc> = "2026-11-22T00:00:00Z".parse().unwrap();
        let input = open_session_request("t", "111122223333#key#ASIAX", &claim(), now)
            .build()
            .unwrap();
        let item = input.item().unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), "session#111122223333#key#ASIAX");
        assert_eq!(item["first_event_id"].as_s().unwrap(), "e-1");
        let event_time = claim().event_time.timestamp();
        assert_eq!(number(&item["window_until"]), event_time + 900);
        assert!(
            number(&item["expires_at"]) > now.timestamp(),
            "TTL is never in the past"
        );
        let values = input.expression_attribute_values().unwrap();
        assert_eq!(number(&values[":event_time"]), event_time);
        assert_eq!(values[":me"].as_s().unwrap(), "e-1");
    }

    #[test]
    fn releases_only_what_this_claim_owns() {
        let session = release_session_request("t", "111122223333#key#ASIAX", &claim())
            .build()
            .unwrap();
        assert_eq!(session.condition_expression(), Some("first_event_id = :me"));
        let event = release_event_request("t", &claim()).build().unwrap();
        assert_eq!(
            event.condition_expression(),
            Some("#status = :pending AND #owner = :me")
        );
        assert_eq!(
            event.expression_attribute_values().unwrap()[":me"]
                .as_s()
                .unwrap(),
            "req-1"
        );
    }

    #[test]
    fn the_old_item_tells_alerted_from_held() {
        let item = |pairs: &[(&str, AttributeValue)]| -> HashMap<String, AttributeValue> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect()
        };
        assert_eq!(
            Holder::from_item(Some(&item(&[("status", s("alerted"))]))),
            Holder::Alerted
        );
        assert_eq!(
            Holder::from_item(Some(&item(&[
                ("status", s("pending")),
                ("owner", s("req-0")),
                ("lease_until", n(42)),
            ]))),
            Holder::Pending {
                owner: Some("req-0".into()),
                lease_until: Some(42)
            }
        );
        assert_eq!(
            Holder::from_item(None),
            Holder::Pending {
                owner: None,
                lease_until: None
            }
        );
    }

    #[test]
    fn the_warm_up_reads_a_key_no_alert_session_or_watchdog_mark_can_have() {
        let input = warm_up_request("t").build().unwrap();
        assert_eq!(input.table_name(), Some("t"));
        let pk = input.key().unwrap()["pk"].as_s().unwrap();
        for prefix in [
            event_pk(""),
            session_pk(""),
            "texts#".to_owned(),
            "watchdog#".to_owned(),
            "declaration#".to_owned(),
            "window#".to_owned(),
            "report#".to_owned(),
            "index#".to_owned(),
        ] {
            assert!(!pk.starts_with(&prefix), "{pk} vs {prefix}");
        }
        assert_eq!(input.consistent_read(), None);
    }
}
