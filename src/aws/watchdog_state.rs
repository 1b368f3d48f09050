//! The watchdog's once-a-day marks in the state table (the same table as the alert state):
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | a finding alerted on a UTC day | `watchdog#<account>#<region>#<finding>#<YYYY-MM-DD>`, `posture#<account>#<code>#<YYYY-MM-DD>` | `owner` (request id), `expires_at` |
//! | where the member audit's round robin stands | `index#member-audit` | `after` (the last member audited) |
//! | a member's last audit | `audit#<account>` | `at`, `findings` (codes), `expires_at` |
//!
//! Requests are built by pure functions below, unit-tested, and sent by [`DynamoWatchdogState`].

use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemInputBuilder;
use aws_sdk_dynamodb::operation::get_item::builders::GetItemInputBuilder;
use aws_sdk_dynamodb::operation::put_item::builders::PutItemInputBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use crate::aws::dynamodb::{unavailable, written};
use crate::domain::limits::{REMEMBER_AUDIT, REMEMBER_MARK};
use crate::ports::{StateError, WatchdogState};

/// Sets a day's mark for a finding: succeeds if the mark is new, or already this invocation's
/// (the SDK's retry of this write, or Lambda's retry of this invocation).
fn mark_request(table: &str, key: &str, owner: &str, now: DateTime<Utc>) -> PutItemInputBuilder {
    let expires = now.timestamp() + i64::try_from(REMEMBER_MARK.as_secs()).unwrap_or(i64::MAX);
    PutItemInputBuilder::default()
        .table_name(table)
        .item("pk", AttributeValue::S(key.to_owned()))
        .item("owner", AttributeValue::S(owner.to_owned()))
        .item("expires_at", AttributeValue::N(expires.to_string()))
        .condition_expression("attribute_not_exists(pk) OR #owner = :me")
        .expression_attribute_names("#owner", "owner")
        .expression_attribute_values(":me", AttributeValue::S(owner.to_owned()))
}

/// Removes a mark after the alert could not be published, so the retry alerts.
fn unmark_request(table: &str, key: &str) -> DeleteItemInputBuilder {
    DeleteItemInputBuilder::default()
        .table_name(table)
        .key("pk", AttributeValue::S(key.to_owned()))
}

/// Reads a mark, consistently: whether yesterday's is there decides a quiet repeat's text.
fn marked_request(table: &str, key: &str) -> GetItemInputBuilder {
    GetItemInputBuilder::default()
        .table_name(table)
        .key("pk", AttributeValue::S(key.to_owned()))
        .consistent_read(true)
        .projection_expression("expires_at")
}

/// Whether a mark read is one that counts at `now`: DynamoDB deletes expired items only
/// eventually, so an item past its `expires_at` is as good as gone.
fn live(
    item: Option<&std::collections::HashMap<String, AttributeValue>>,
    now: DateTime<Utc>,
) -> bool {
    item.and_then(|item| item.get("expires_at")?.as_n().ok()?.parse::<i64>().ok())
        .is_some_and(|expires| expires > now.timestamp())
}

/// The marks in DynamoDB, through the state table's client (short timeouts).
#[derive(Debug, Clone)]
pub struct DynamoWatchdogState {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoWatchdogState {
    /// `client` should come from [`crate::aws::sdk::dynamodb_client`].
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl WatchdogState for DynamoWatchdogState {
    async fn mark(&self, key: &str, owner: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        written(
            mark_request(&self.table, key, owner, now)
                .send_with(&self.client)
                .await,
        )
    }

    async fn unmark(&self, key: &str) -> Result<(), StateError> {
        unmark_request(&self.table, key)
            .send_with(&self.client)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn marked(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        let read = marked_request(&self.table, key)
            .send_with(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(live(read.item(), now))
    }

    async fn cursor(&self) -> Result<Option<String>, StateError> {
        let read = GetItemInputBuilder::default()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(CURSOR.to_owned()))
            .consistent_read(true)
            .send_with(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(read
            .item()
            .and_then(|i| i.get("after")?.as_s().ok().cloned()))
    }

    async fn move_cursor(&self, after: &str) -> Result<(), StateError> {
        PutItemInputBuilder::default()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(CURSOR.to_owned()))
            .item("after", AttributeValue::S(after.to_owned()))
            .send_with(&self.client)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn last(&self, account: &str) -> Result<Vec<String>, StateError> {
        let read = GetItemInputBuilder::default()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(format!("audit#{account}")))
            .consistent_read(true)
            .send_with(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(read
            .item()
            .and_then(|i| i.get("findings")?.as_l().ok().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c.as_s().ok().cloned())
            .collect())
    }

    async fn remember(
        &self,
        account: &str,
        codes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        remember_request(&self.table, account, codes, now)
            .send_with(&self.client)
            .await
            .map(|_| ())
            .map_err(unavailable)
    }
}

const CURSOR: &str = "index#member-audit";

/// A member's last audit: when, and its findings' codes (a list, so none is an empty set).
fn remember_request(
    table: &str,
    account: &str,
    codes: &[String],
    now: DateTime<Utc>,
) -> PutItemInputBuilder {
    let expires = now.timestamp() + i64::try_from(REMEMBER_AUDIT.as_secs()).unwrap_or(i64::MAX);
    PutItemInputBuilder::default()
        .table_name(table)
        .item("pk", AttributeValue::S(format!("audit#{account}")))
        .item("at", AttributeValue::S(now.to_rfc3339()))
        .item(
            "findings",
            AttributeValue::L(codes.iter().map(|c| AttributeValue::S(c.clone())).collect()),
        )
        .item("expires_at", AttributeValue::N(expires.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_is_conditional_on_being_new_or_ours_and_expires() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let key = "watchdog#111122223333#eu-west-1#no-trail#2026-11-22";
        let input = mark_request("t", key, "req-1", now).build().unwrap();
        assert_eq!(input.table_name(), Some("t"));
        let item = input.item().unwrap();
        assert_eq!(item["pk"].as_s().unwrap(), key);
        assert_eq!(item["owner"].as_s().unwrap(), "req-1");
        assert_eq!(
            item["expires_at"].as_n().unwrap(),
            &(now.timestamp() + 2 * 24 * 3600).to_string()
        );
        assert_eq!(
            input.condition_expression(),
            Some("attribute_not_exists(pk) OR #owner = :me")
        );
        assert_eq!(
            input.expression_attribute_values().unwrap()[":me"]
                .as_s()
                .unwrap(),
            "req-1"
        );
        let delete = unmark_request("t", key).build().unwrap();
        assert_eq!(delete.key().unwrap()["pk"].as_s().unwrap(), key);
        let read = marked_request("t", key).build().unwrap();
        assert_eq!(read.key().unwrap()["pk"].as_s().unwrap(), key);
        assert_eq!(read.consistent_read(), Some(true));
    }

    /// An expired mark DynamoDB has not deleted yet does not count.
    #[test]
    fn a_mark_counts_until_it_expires() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let item = |expires: i64| {
            std::collections::HashMap::from([(
                "expires_at".to_owned(),
                AttributeValue::N(expires.to_string()),
            )])
        };
        assert!(live(Some(&item(now.timestamp() + 1)), now));
        assert!(!live(Some(&item(now.timestamp())), now));
        assert!(!live(None, now));
    }
}
