//! A minimal local stand-in for Lambda's event source mapping poller, which moto lacks (its
//! mappings invoke only Docker functions, and it applies no `FilterCriteria`): it reads the state
//! table's stream through the real DynamoDB Streams API (`DescribeStream` → the shard →
//! `GetShardIterator` from `TRIM_HORIZON`, then each `NextShardIterator` → `GetRecords`), keeps
//! the records the **template's** filter keeps, wraps each as Lambda does (Lambda Developer
//! Guide, "Using AWS Lambda with Amazon DynamoDB": `Records[0]` with `eventSourceARN` and
//! `awsRegion`, `ApproximateCreationDateTime` in epoch seconds) and hands it to the function,
//! one record a batch (`BatchSize: 1`).
//!
//! moto 5.2.5, pinned here where it differs from AWS: an `UpdateItem` that creates an item
//! records two `INSERT`s (AWS: one), and `awsRegion` is always `us-east-1`. Neither matters to a
//! doorbell: the function reads the item itself and deduplicates per content.

use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use chrono::{DateTime, Utc};
use rootwatch::dispatch::{Function, Response};
use rootwatch::error::HandlerError;
use rootwatch::ports::{
    AccountDirectory, AlertPublisher, AlertState, Declarations, TrailSource, WatchdogState,
};
use serde_json::{Value, json};

use super::moto::sdk_config_for;
use super::{invocation, template};

/// The key prefix of the template's `DeclarationsMapping` filter, read from template.yaml.
pub fn template_filter_prefix() -> String {
    let template = template();
    let mapping = template
        .split("\n  DeclarationsMapping:\n")
        .nth(1)
        .expect("the DeclarationsMapping resource");
    let pattern = mapping
        .lines()
        .find_map(|l| l.trim().strip_prefix("- Pattern: "))
        .expect("the mapping's filter pattern")
        .trim_matches('\'');
    let pattern: Value = serde_json::from_str(pattern).expect("the pattern is JSON");
    let prefixes = pattern["dynamodb"]["Keys"]["pk"]["S"]
        .as_array()
        .expect("the filter's shape changed; update this stand-in");
    assert_eq!(prefixes.len(), 1, "{pattern}");
    prefixes[0]["prefix"]
        .as_str()
        .expect("a prefix filter")
        .to_owned()
}

pub struct EventSourceMappingStandIn {
    streams: aws_sdk_dynamodbstreams::Client,
    pub stream_arn: String,
    prefix: String,
    iterator: Option<String>,
}

impl EventSourceMappingStandIn {
    /// Polls the stream `stream_arn` on the moto server at `endpoint`, from its start.
    pub async fn new(endpoint: &str, stream_arn: &str) -> Self {
        let streams = aws_sdk_dynamodbstreams::Client::new(&sdk_config_for(endpoint).await);
        let described = streams
            .describe_stream()
            .stream_arn(stream_arn)
            .send()
            .await
            .expect("describe the stream");
        let shard = described
            .stream_description()
            .and_then(|d| d.shards().first())
            .and_then(|s| s.shard_id())
            .expect("the stream's shard")
            .to_owned();
        let iterator = streams
            .get_shard_iterator()
            .stream_arn(stream_arn)
            .shard_id(shard)
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("a shard iterator")
            .shard_iterator;
        EventSourceMappingStandIn {
            streams,
            stream_arn: stream_arn.to_owned(),
            prefix: template_filter_prefix(),
            iterator,
        }
    }

    /// The batches the mapping would send for the records written since the last call.
    pub async fn batches(&mut self) -> Vec<Value> {
        let Some(iterator) = self.iterator.take() else {
            return Vec::new();
        };
        let got = self
            .streams
            .get_records()
            .shard_iterator(iterator)
            .send()
            .await
            .expect("get records");
        self.iterator = got.next_shard_iterator.clone();
        got.records()
            .iter()
            .filter_map(|record| {
                let data = record.dynamodb()?;
                let pk = data.keys()?.get("pk")?.as_s().ok()?.clone();
                if !pk.starts_with(&self.prefix) {
                    return None;
                }
                let created = data
                    .approximate_creation_date_time()
                    .map(|t| t.secs())
                    .unwrap_or_default();
                Some(json!({"Records": [{
                    "eventID": record.event_id(),
                    "eventName": record.event_name().map(|n| n.as_str().to_owned()),
                    "eventVersion": "1.1",
                    "eventSource": "aws:dynamodb",
                    "awsRegion": record.aws_region(),
                    "dynamodb": {
                        "ApproximateCreationDateTime": created,
                        "Keys": {"pk": {"S": pk}},
                        "SequenceNumber": data.sequence_number(),
                        "StreamViewType": "KEYS_ONLY",
                    },
                    "eventSourceARN": self.stream_arn,
                }]}))
            })
            .collect()
    }

    /// Hands every new batch to `function` at `now`, in order; each batch's result.
    pub async fn pump<P, S, T, W, D>(
        &mut self,
        function: &Function<P, S, T, W, D>,
        now: DateTime<Utc>,
    ) -> Vec<Result<Response, HandlerError>>
    where
        P: AlertPublisher,
        S: AlertState + Declarations,
        T: TrailSource,
        W: WatchdogState,
        D: AccountDirectory,
    {
        let mut results = Vec::new();
        for batch in self.batches().await {
            let (result, _) = Box::pin(function.handle(&batch, &invocation(), now)).await;
            results.push(result);
        }
        results
    }
}

/// The latest stream of the state table `table`.
pub async fn stream_arn(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> String {
    dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .expect("describe the state table")
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("the state table has a stream")
}
