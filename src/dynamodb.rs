//! The DynamoDB adapter for [`AlertState`]: one table, key `pk` (string), TTL on `expires_at`.
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | an event | `event#<eventID>` | `status` (`pending`/`alerted`), `lease_until`, `message_id`, `expires_at` |
//! | a root session | `session#<account>#<key or ip>` | `first_event_id`, `window_until`, `expires_at` |
//!
//! Every request is built by a pure function below, unit-tested, and sent by [`DynamoState`].

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemInputBuilder;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemInputBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemInputBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::state::{AlertState, Begin, Claim, LEASE, REMEMBER_ALERTED, StateError};

const PENDING: &str = "pending";
const ALERTED: &str = "alerted";

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn epoch(time: DateTime<Utc>) -> i64 {
    time.timestamp()
}

fn secs(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

pub fn event_pk(event_id: &str) -> String {
    format!("event#{event_id}")
}

pub fn session_pk(session: &str) -> String {
    format!("session#{session}")
}

/// The claim's owner in the session item; events without an id share one owner.
fn owner(claim: &Claim) -> &str {
    claim.event_id.as_deref().unwrap_or("(no event id)")
}

/// Claims an event: succeeds if it was never seen, or if an earlier claim's lease ran out.
pub fn claim_event_request(table: &str, event_id: &str, now: DateTime<Utc>) -> PutItemInputBuilder {
    PutItemInputBuilder::default()
        .table_name(table)
        .item("pk", s(event_pk(event_id)))
        .item("status", s(PENDING))
        .item("lease_until", n(epoch(now) + secs(LEASE)))
        .item("expires_at", n(epoch(now) + secs(REMEMBER_ALERTED)))
        .condition_expression(
            "attribute_not_exists(pk) OR (#status = :pending AND lease_until < :now)",
        )
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":pending", s(PENDING))
        .expression_attribute_values(":now", n(epoch(now)))
}

/// Reads an event's item after a failed claim, to tell "already alerted" from "in flight".
pub fn read_event_request(table: &str, event_id: &str) -> GetItemInputBuilder {
    GetItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(event_pk(event_id)))
        .consistent_read(true)
}

/// Opens a session's paging window: succeeds for the session's first alert, for any alert after
/// the window closed, and again for the same event (so a retried first alert still pages).
pub fn open_session_request(
    table: &str,
    session: &str,
    claim: &Claim,
    now: DateTime<Utc>,
) -> PutItemInputBuilder {
    let window_until = epoch(claim.event_time) + secs(claim.window);
    PutItemInputBuilder::default()
        .table_name(table)
        .item("pk", s(session_pk(session)))
        .item("first_event_id", s(owner(claim)))
        .item("window_until", n(window_until))
        .item(
            "expires_at",
            n(window_until.max(epoch(now)) + secs(claim.window)),
        )
        .condition_expression(
            "attribute_not_exists(pk) OR window_until <= :event_time OR first_event_id = :me",
        )
        .expression_attribute_values(":event_time", n(epoch(claim.event_time)))
        .expression_attribute_values(":me", s(owner(claim)))
}

/// Records an event as alerted, after its publish succeeded.
pub fn mark_alerted_request(
    table: &str,
    event_id: &str,
    message_id: &str,
    now: DateTime<Utc>,
) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(event_pk(event_id)))
        .update_expression(
            "SET #status = :alerted, message_id = :m, expires_at = :exp REMOVE lease_until",
        )
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":alerted", s(ALERTED))
        .expression_attribute_values(":m", s(message_id))
        .expression_attribute_values(":exp", n(epoch(now) + secs(REMEMBER_ALERTED)))
}

/// Releases an event claim that did not end in a publish.
pub fn release_event_request(table: &str, event_id: &str) -> DeleteItemInputBuilder {
    DeleteItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(event_pk(event_id)))
        .condition_expression("#status = :pending")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":pending", s(PENDING))
}

/// Releases a session window this claim opened, so the session's next alert pages instead.
pub fn release_session_request(
    table: &str,
    session: &str,
    claim: &Claim,
) -> DeleteItemInputBuilder {
    DeleteItemInputBuilder::default()
        .table_name(table)
        .key("pk", s(session_pk(session)))
        .condition_expression("first_event_id = :me")
        .expression_attribute_values(":me", s(owner(claim)))
}

/// [`AlertState`] in a DynamoDB table, with a client built once at start-up.
#[derive(Debug, Clone)]
pub struct DynamoState {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoState {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

fn unavailable<E>(err: E) -> StateError
where
    E: std::error::Error + 'static,
{
    StateError::Unavailable {
        reason: DisplayErrorContext(&err).to_string(),
    }
}

/// The result of a conditional write: `true` if it was written, `false` if its condition failed
/// (another item state won, not an outage), an error for anything else.
fn written<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StateError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err)
            if err.as_service_error().and_then(ProvideErrorMetadata::code)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(err) => Err(unavailable(err)),
    }
}

impl AlertState for DynamoState {
    async fn begin(&self, claim: &Claim, now: DateTime<Utc>) -> Result<Begin, StateError> {
        if let Some(event_id) = &claim.event_id {
            let claimed = claim_event_request(&self.table, event_id, now)
                .send_with(&self.client)
                .await;
            if !written(claimed)? {
                let item = read_event_request(&self.table, event_id)
                    .send_with(&self.client)
                    .await
                    .map_err(unavailable)?
                    .item
                    .unwrap_or_default();
                let alerted = item
                    .get("status")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|status| status == ALERTED);
                return if alerted {
                    Ok(Begin::Duplicate)
                } else {
                    Err(StateError::InFlight {
                        event_id: event_id.clone(),
                    })
                };
            }
        }
        let Some(session) = &claim.session else {
            // Never texted: coalescing does not apply.
            return Ok(Begin::Proceed { page: true });
        };
        let first_in_session = written(
            open_session_request(&self.table, session, claim, now)
                .send_with(&self.client)
                .await,
        )?;
        Ok(Begin::Proceed {
            page: first_in_session || claim.always_page,
        })
    }

    async fn complete(
        &self,
        claim: &Claim,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let Some(event_id) = &claim.event_id else {
            return Ok(());
        };
        mark_alerted_request(&self.table, event_id, message_id, now)
            .send_with(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// A release whose condition failed found the item no longer ours: nothing to do.
    async fn abandon(&self, claim: &Claim) -> Result<(), StateError> {
        if let Some(session) = &claim.session {
            written(
                release_session_request(&self.table, session, claim)
                    .send_with(&self.client)
                    .await,
            )?;
        }
        if let Some(event_id) = &claim.event_id {
            written(
                release_event_request(&self.table, event_id)
                    .send_with(&self.client)
                    .await,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn claim() -> Claim {
        Claim {
            event_id: Some("e-1".into()),
            session: Some("111122223333#key#ASIAX".into()),
            event_time: "2026-11-21T09:00:00Z".parse().unwrap(),
            always_page: false,
            window: Duration::from_secs(900),
        }
    }

    fn number(v: &AttributeValue) -> i64 {
        v.as_n().unwrap().parse().unwrap()
    }

    #[test]
    fn event_claim_is_conditional_and_leased() {
        let now: DateTime<Utc> = "2026-11-21T09:01:00Z".parse().unwrap();
        let input = claim_event_request("t", "e-1", now).build().unwrap();
        let item = input.item().unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), "event#e-1");
        assert_eq!(item["status"].as_s().unwrap(), "pending");
        assert_eq!(number(&item["lease_until"]), now.timestamp() + 60);
        assert_eq!(number(&item["expires_at"]), now.timestamp() + 7 * 24 * 3600);
        assert!(
            input
                .condition_expression()
                .unwrap()
                .starts_with("attribute_not_exists(pk)")
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
        let event = release_event_request("t", "e-1").build().unwrap();
        assert_eq!(event.condition_expression(), Some("#status = :pending"));
    }
}
