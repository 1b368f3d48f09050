//! The heartbeat table (`HEARTBEAT_TABLE`), behind [`Heartbeats`]: one item per cell, keyed by
//! `region` (HASH) and `account` (RANGE), so a coverage check reads a region's cells with one
//! `Query` (no scan) and a heartbeat is one conditional `UpdateItem` (no read).
//!
//! | item | `region` | `account` | attributes |
//! |---|---|---|---|
//! | a cell | `eu-west-1` | `444455556666` | `last_seen`, `first_seen` (epoch s), `expires_at` |
//! | when coverage was first checked | `#meta` | `started` | `at` (epoch s) |
//!
//! Requests are built by pure functions below, unit-tested, and sent by [`DynamoHeartbeats`].
//! Items are ~80 bytes: a region of 1,000 accounts is one 4 KB-rounded read of ~20 units, half
//! of that eventually consistent (DynamoDB Developer Guide, "DynamoDB read and write
//! operations").

use aws_sdk_dynamodb::operation::query::builders::QueryInputBuilder;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, ReturnValue};
use chrono::{DateTime, Utc};

use crate::aws::dynamodb::{unavailable, written};
use crate::domain::AccountId;
use crate::domain::limits::HEARTBEAT_KEPT;
use crate::ports::{Heartbeat, Heartbeats, StateError};

/// The item that holds when coverage was first checked.
const META_REGION: &str = "#meta";
const META_ACCOUNT: &str = "started";

/// Records a heartbeat: sets `last_seen` unless a later one is already there, so a late
/// redelivery never moves it back (its condition failure is success).
pub fn record_request(table: &str, heartbeat: &Heartbeat) -> UpdateItemInputBuilder {
    let at = heartbeat.at.timestamp();
    let expires = at + i64::try_from(HEARTBEAT_KEPT.as_secs()).unwrap_or(i64::MAX);
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("region", AttributeValue::S(heartbeat.region.clone()))
        .key("account", AttributeValue::S(heartbeat.account.to_string()))
        .update_expression(
            "SET last_seen = :t, first_seen = if_not_exists(first_seen, :t), expires_at = :exp",
        )
        .condition_expression("attribute_not_exists(last_seen) OR last_seen < :t")
        .expression_attribute_values(":t", AttributeValue::N(at.to_string()))
        .expression_attribute_values(":exp", AttributeValue::N(expires.to_string()))
}

/// Sets when coverage was first checked, unless set, and returns it: one write, no read.
pub fn started_request(table: &str, now: DateTime<Utc>) -> UpdateItemInputBuilder {
    UpdateItemInputBuilder::default()
        .table_name(table)
        .key("region", AttributeValue::S(META_REGION.to_owned()))
        .key("account", AttributeValue::S(META_ACCOUNT.to_owned()))
        .update_expression("SET #at = if_not_exists(#at, :now)")
        .expression_attribute_names("#at", "at")
        .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
        .return_values(ReturnValue::AllNew)
}

/// One region's cells, eventually consistent (half the read units), with the capacity consumed.
pub fn seen_request(table: &str, region: &str) -> QueryInputBuilder {
    QueryInputBuilder::default()
        .table_name(table)
        .key_condition_expression("#region = :r")
        .expression_attribute_names("#region", "region")
        .expression_attribute_values(":r", AttributeValue::S(region.to_owned()))
        .projection_expression("account, last_seen")
        .consistent_read(false)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
}

fn epoch(value: Option<&AttributeValue>) -> Option<DateTime<Utc>> {
    let seconds: i64 = value?.as_n().ok()?.parse().ok()?;
    DateTime::from_timestamp(seconds, 0)
}

/// The heartbeat table in DynamoDB, through the state table's client (short timeouts).
#[derive(Debug, Clone)]
pub struct DynamoHeartbeats {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoHeartbeats {
    /// `client` should come from [`crate::aws::sdk::dynamodb_client`].
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

impl Heartbeats for DynamoHeartbeats {
    async fn record(&self, heartbeat: &Heartbeat) -> Result<bool, StateError> {
        written(
            record_request(&self.table, heartbeat)
                .send_with(&self.client)
                .await,
        )
    }

    async fn started(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, StateError> {
        let output = started_request(&self.table, now)
            .send_with(&self.client)
            .await
            .map_err(unavailable)?;
        Ok(epoch(output.attributes.as_ref().and_then(|a| a.get("at"))).unwrap_or(now))
    }

    async fn seen(&self, region: &str) -> Result<Vec<(AccountId, DateTime<Utc>)>, StateError> {
        let mut seen = Vec::new();
        let mut start = None;
        loop {
            let output = seen_request(&self.table, region)
                .set_exclusive_start_key(start)
                .send_with(&self.client)
                .await
                .map_err(unavailable)?;
            for item in output.items() {
                let account = item
                    .get("account")
                    .and_then(|a| a.as_s().ok())
                    .and_then(|a| AccountId::parse(a));
                if let (Some(account), Some(at)) = (account, epoch(item.get("last_seen"))) {
                    seen.push((account, at));
                }
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(seen),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heartbeat() -> Heartbeat {
        Heartbeat {
            account: AccountId::parse("444455556666").unwrap(),
            region: "eu-west-1".into(),
            at: "2026-11-21T09:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_heartbeat_is_one_conditional_update_that_never_moves_back() {
        let request = record_request("beats", &heartbeat()).build().unwrap();
        assert_eq!(request.table_name(), Some("beats"));
        let key = request.key().unwrap();
        assert_eq!(key["region"].as_s().unwrap(), "eu-west-1");
        assert_eq!(key["account"].as_s().unwrap(), "444455556666");
        assert_eq!(
            request.condition_expression(),
            Some("attribute_not_exists(last_seen) OR last_seen < :t")
        );
        let values = request.expression_attribute_values().unwrap();
        assert_eq!(values[":t"].as_n().unwrap(), "1795251600");
        assert_eq!(values[":exp"].as_n().unwrap(), "1798275600");
    }

    #[test]
    fn a_region_is_one_eventually_consistent_query() {
        let request = seen_request("beats", "eu-west-1").build().unwrap();
        assert_eq!(request.key_condition_expression(), Some("#region = :r"));
        assert_eq!(request.consistent_read(), Some(false));
        assert_eq!(
            request.return_consumed_capacity(),
            Some(&ReturnConsumedCapacity::Total)
        );
    }
}
