//! The coverage check of an organization of 1,000 accounts × 17 regions, against moto's
//! Organizations, DynamoDB and SNS through the real SDK: 1,000 heartbeats recorded through the
//! real `DynamoHeartbeats::record` (timed), the other cells seeded by `BatchWriteItem`, one cell
//! left out; then one real `Coverage::check`, an SDK interceptor on its DynamoDB and
//! Organizations clients counting operations and attempts. Prints the check's wall time, its requests, the read
//! capacity as moto reports it and as DynamoDB bills it (from the items' sizes by the Developer
//! Guide's rules), the gap it found and the monthly cost; writes `<target>/bench-coverage.json`.
//!
//! Run with `make bench-coverage`. Times are moto's (a local Python server), not DynamoDB's: the
//! request counts and capacity are what carry over to AWS.

#[allow(dead_code, unused_imports)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ReturnConsumedCapacity, ScalarAttributeType, WriteRequest,
};
use chrono::{DateTime, Duration, Utc};
use rootwatch::aws::heartbeats::{DynamoHeartbeats, record_request, seen_request};
use rootwatch::aws::organizations::OrganizationAccounts;
use rootwatch::aws::sdk::organizations_listing_client;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::coverage::{ChecksOutcome, Coverage};
use rootwatch::domain::{AccountId, SmsLimit, TopicArn};
use rootwatch::invocation::Invocation;
use rootwatch::ports::{Heartbeat, Heartbeats, Organization};
use serde_json::json;

use support::moto::MotoServer;

const ACCOUNTS: usize = 1_000;
const RECORDED: usize = 1_000;
const TABLE: &str = "rootwatch-heartbeats";
const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "sa-east-1",
];

// us-east-1 prices (aws.amazon.com/eventbridge/pricing, /lambda/pricing, /cloudwatch/pricing,
// /dynamodb/pricing/on-demand), kept here to re-check.
/// EventBridge: events sent to a bus in another account are charged as custom events, to the
/// sender (EventBridge User Guide, "Sending and receiving events between AWS accounts").
const EVENTBRIDGE_PER_EVENT: f64 = 1.00e-6;
const LAMBDA_PER_REQUEST: f64 = 0.20e-6;
const LAMBDA_ARM_PER_GB_SECOND: f64 = 0.000_013_333_4;
const LAMBDA_GB: f64 = 0.125;
/// An invocation's billed duration on Lambda: one DynamoDB round trip and the runtime's own
/// work. Assumed: the bench measures moto, not DynamoDB.
const ASSUMED_DURATION_S: f64 = 0.010;
const DYNAMODB_PER_WRU: f64 = 0.625e-6;
const DYNAMODB_PER_RRU: f64 = 0.125e-6;
const LOGS_PER_GB: f64 = 0.50;
/// Lambda's START/END/REPORT lines per invocation (the function logs a heartbeat at DEBUG only).
const LOG_BYTES_PER_INVOCATION: f64 = 400.0;
const HOURS_PER_MONTH: f64 = 730.0;

/// An attribute's size as DynamoDB counts it: its name's UTF-8 bytes plus its value's (a number:
/// one byte per two significant digits, plus one). DynamoDB Developer Guide, "Item sizes and
/// formats".
fn attribute_size(name: &str, value: &AttributeValue) -> usize {
    name.len()
        + match value {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => {
                let digits = n.trim_start_matches('-').trim_start_matches('0').len();
                digits.div_ceil(2) + 1
            }
            _ => 0,
        }
}

fn item(region: &str, account: &str, at: i64) -> BTreeMap<String, AttributeValue> {
    let expires = at + 35 * 24 * 3600;
    [
        ("region", AttributeValue::S(region.to_owned())),
        ("account", AttributeValue::S(account.to_owned())),
        ("last_seen", AttributeValue::N(at.to_string())),
        ("first_seen", AttributeValue::N(at.to_string())),
        ("expires_at", AttributeValue::N(expires.to_string())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

async fn organization(moto: &MotoServer) -> Vec<String> {
    let organizations = aws_sdk_organizations::Client::new(&moto.sdk_config().await);
    organizations
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    for i in 1..ACCOUNTS {
        organizations
            .create_account()
            .account_name(format!("member-{i}"))
            .email(format!("member-{i}@example.com"))
            .send()
            .await
            .expect("create account");
    }
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = organizations
            .list_accounts()
            .set_next_token(token)
            .send()
            .await
            .expect("list accounts");
        ids.extend(
            page.accounts()
                .iter()
                .filter_map(|a| a.id().map(str::to_owned)),
        );
        match page.next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(ids.len(), ACCOUNTS);
    ids
}

async fn heartbeat_table(client: &aws_sdk_dynamodb::Client) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    client
        .create_table()
        .table_name(TABLE)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("region"))
        .attribute_definitions(attribute("account"))
        .key_schema(key("region", KeyType::Hash))
        .key_schema(key("account", KeyType::Range))
        .send()
        .await
        .expect("create the heartbeat table");
}

/// Counts the requests sent (attempts), by operation, and the operations: more attempts than
/// operations would be retries. (The operation's name is in the config bag from the first
/// attempt on, not yet when the operation starts.)
#[derive(Debug, Clone, Default)]
struct Counter(Arc<Mutex<(usize, BTreeMap<String, usize>)>>);

impl Counter {
    fn bump(&self, cfg: &ConfigBag, attempt: bool) {
        let mut counts = self.0.lock().unwrap();
        if attempt {
            let name = cfg
                .load::<Metadata>()
                .map_or_else(|| "unknown".to_owned(), |m| m.name().to_owned());
            *counts.1.entry(name).or_default() += 1;
        } else {
            counts.0 += 1;
        }
    }

    fn reset(&self) {
        *self.0.lock().unwrap() = Default::default();
    }

    fn counts(&self) -> (usize, BTreeMap<String, usize>) {
        self.0.lock().unwrap().clone()
    }
}

impl Intercept for Counter {
    fn name(&self) -> &'static str {
        "bench-coverage-counter"
    }

    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump(cfg, false);
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.bump(cfg, true);
        Ok(())
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let moto = MotoServer::start();
    let config = moto.sdk_config().await;
    // Organizations on a server of its own, as on AWS: moto serves one request at a time per
    // process in effect (a Query reads every item of the table, ~0.6 s here), and the listing
    // would otherwise wait behind the eight concurrent Queries.
    let org_moto = MotoServer::start();
    let org_config = org_moto.sdk_config().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    // moto stamps JoinedTimestamp with the wall clock, and a never-seen cell is pending for two
    // hours after its account joined: the check runs three hours later.
    let now: DateTime<Utc> =
        DateTime::from_timestamp(Utc::now().timestamp() + 3 * 3600, 0).unwrap();
    let fresh = (now - Duration::minutes(20)).timestamp();

    let started = Instant::now();
    let accounts = organization(&org_moto).await;
    let home = accounts[0].clone();
    println!(
        "setup: {} accounts created in moto in {:.1} s",
        accounts.len(),
        started.elapsed().as_secs_f64()
    );
    heartbeat_table(&dynamodb).await;
    let cells: Vec<(&str, &str)> = REGIONS
        .iter()
        .flat_map(|r| accounts.iter().map(move |a| (*r, a.as_str())))
        .collect();
    let gap = ("ap-southeast-2", accounts[ACCOUNTS / 2].as_str());

    // 1,000 heartbeats through the real recording.
    let heartbeats = DynamoHeartbeats::new(dynamodb.clone(), TABLE);
    let mut record_ms = Vec::with_capacity(RECORDED);
    for (region, account) in cells.iter().filter(|c| **c != gap).take(RECORDED) {
        let beat = Heartbeat {
            account: AccountId::parse(account).unwrap(),
            region: (*region).to_owned(),
            at: DateTime::from_timestamp(fresh, 0).unwrap(),
        };
        let t = Instant::now();
        assert!(heartbeats.record(&beat).await.expect("recorded"));
        record_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    record_ms.sort_by(f64::total_cmp);
    let record_mean = record_ms.iter().sum::<f64>() / record_ms.len() as f64;
    let write_capacity = record_request(
        TABLE,
        &Heartbeat {
            account: AccountId::parse(cells[0].1).unwrap(),
            region: cells[0].0.to_owned(),
            at: DateTime::from_timestamp(fresh + 1, 0).unwrap(),
        },
    )
    .return_consumed_capacity(ReturnConsumedCapacity::Total)
    .send_with(&dynamodb)
    .await
    .expect("one more heartbeat")
    .consumed_capacity
    .and_then(|c| c.capacity_units)
    .unwrap_or_default();

    // The other cells, seeded 25 at a time.
    let seeded: Vec<_> = cells.iter().filter(|c| **c != gap).skip(RECORDED).collect();
    for chunk in seeded.chunks(25) {
        let writes: Vec<WriteRequest> = chunk
            .iter()
            .map(|(region, account)| {
                let put = PutRequest::builder()
                    .set_item(Some(item(region, account, fresh).into_iter().collect()))
                    .build()
                    .unwrap();
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        dynamodb
            .batch_write_item()
            .request_items(TABLE, writes)
            .send()
            .await
            .expect("seed");
    }
    println!(
        "setup: {} heartbeats recorded, {} seeded, {} left out ({} x {})",
        RECORDED,
        seeded.len(),
        1,
        gap.1,
        gap.0
    );

    // The check as the function runs it, with an interceptor on its DynamoDB and Organizations
    // clients counting operations, and attempts (an attempt past the first is a retry).
    let counter = Counter::default();
    // DynamoDB through the tests' patient client (10 s an attempt): the function's own gives up
    // after 3 s, which moto's Queries (~0.6 s each, eight at once) exceed; DynamoDB answers a
    // 1,000-item Query in milliseconds.
    let counted = aws_sdk_dynamodb::Client::from_conf(
        support::stack::patient_client(&moto.endpoint)
            .await
            .config()
            .to_builder()
            .interceptor(counter.clone())
            .build(),
    );
    let listing = aws_sdk_organizations::Client::from_conf(
        organizations_listing_client(&org_config, "aws")
            .config()
            .to_builder()
            .interceptor(counter.clone())
            .build(),
    );
    let heartbeats = DynamoHeartbeats::new(counted, TABLE);
    heartbeats
        .started(now - Duration::days(3))
        .await
        .expect("coverage started three days ago");
    let state = moto.state_table("rootwatch-state").await;
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns
        .create_topic()
        .name("rootwatch-alerts")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let publisher = SnsPublisher::new(sns, TopicArn::parse(&topic).unwrap());
    let marks = DynamoWatchdogState::new(state, "rootwatch-state");
    let coverage = Coverage {
        heartbeats,
        organization: OrganizationAccounts::new(listing),
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        home_account: AccountId::parse(&home).unwrap(),
        home_region: "us-east-1".into(),
        sms_limit: SmsLimit::WHOLE_SEGMENT,
        runbook_url: None,
    };
    counter.reset();
    let invocation = Invocation::new("bench-coverage", now + Duration::seconds(30));
    let t = Instant::now();
    let outcome = coverage
        .check(&publisher, &marks, &json!({}), &invocation, now)
        .await
        .expect("the check");
    let check_s = t.elapsed().as_secs_f64();
    let (operations, requests) = counter.counts();
    let attempts: usize = requests.values().sum();
    let ChecksOutcome::Checked {
        cells: states,
        gaps,
        message_id,
        ..
    } = &outcome
    else {
        panic!("the check failed: {outcome:?}");
    };
    assert_eq!(gaps, &[format!("{} {}", gap.1, gap.0)]);
    assert!(message_id.is_some(), "the gap was published");

    // The check's two reads alone.
    let t = Instant::now();
    let listed = coverage.organization.accounts().await.expect("listed");
    let listing_s = t.elapsed().as_secs_f64();
    assert_eq!(listed.len(), ACCOUNTS);
    let t = Instant::now();
    for region in REGIONS {
        coverage.heartbeats.seen(region).await.expect("seen");
    }
    let queries_s = t.elapsed().as_secs_f64();

    // Read capacity: moto's figure, and DynamoDB's by the rules.
    let (mut moto_rru, mut billed_rru, mut items, mut bytes) = (0.0, 0.0, 0, 0);
    for region in REGIONS {
        let output = seen_request(TABLE, region)
            .projection_expression("account, last_seen, first_seen, expires_at, #region")
            .send_with(&dynamodb)
            .await
            .expect("query");
        assert!(output.last_evaluated_key.is_none(), "one page per region");
        moto_rru += output
            .consumed_capacity
            .as_ref()
            .and_then(|c| c.capacity_units)
            .unwrap_or_default();
        let size: usize = output
            .items()
            .iter()
            .map(|item| {
                item.iter()
                    .map(|(k, v)| attribute_size(k, v))
                    .sum::<usize>()
            })
            .sum();
        items += output.items().len();
        bytes += size;
        // A Query sums the sizes of the items it reads, rounds up to 4 KB, and an eventually
        // consistent read costs half (DynamoDB Developer Guide, "DynamoDB read and write
        // operations"). The projection does not reduce it: the whole item is read.
        billed_rru += (size.div_ceil(4096) as f64) * 0.5;
    }

    let heartbeats_a_month = (ACCOUNTS * REGIONS.len()) as f64 * HOURS_PER_MONTH;
    let measured_duration_s = record_mean / 1e3;
    let rows = [
        (
            "EventBridge cross-account events, $1.00/M, billed to the senders",
            heartbeats_a_month * EVENTBRIDGE_PER_EVENT,
        ),
        (
            "Lambda requests, $0.20/M",
            heartbeats_a_month * LAMBDA_PER_REQUEST,
        ),
        (
            "Lambda arm64 duration, 128 MB, 10 ms assumed",
            heartbeats_a_month * ASSUMED_DURATION_S * LAMBDA_GB * LAMBDA_ARM_PER_GB_SECOND,
        ),
        (
            "DynamoDB on-demand writes, 1 WRU a heartbeat, $0.625/M",
            heartbeats_a_month * DYNAMODB_PER_WRU,
        ),
        (
            "DynamoDB reads, the checks' Queries, $0.125/M RRU",
            HOURS_PER_MONTH * billed_rru * DYNAMODB_PER_RRU,
        ),
        (
            "CloudWatch Logs, ~0.4 KB of platform lines an invocation, $0.50/GB",
            heartbeats_a_month * LOG_BYTES_PER_INVOCATION / 1e9 * LOGS_PER_GB,
        ),
    ];
    let total: f64 = rows.iter().map(|(_, usd)| usd).sum();

    println!(
        "\ncoverage check, {ACCOUNTS} accounts x {} regions = {} cells",
        REGIONS.len(),
        cells.len()
    );
    println!(
        "  wall time against moto: {check_s:.2} s; alone, the listing {listing_s:.2} s, the 17 \
         Queries one after another {queries_s:.2} s"
    );
    println!(
        "  requests by operation: {requests:?}; {attempts} requests for {operations} operations"
    );
    println!("  cells: {states:?}; gap: {gaps:?}");
    println!(
        "  read capacity per check: moto reports {moto_rru} RRU; DynamoDB bills {billed_rru} RRU \
         ({items} items, {bytes} B, {:.0} B an item)",
        bytes as f64 / items as f64
    );
    println!(
        "  write capacity per heartbeat: moto reports {write_capacity} WCU; DynamoDB bills 1 WRU (item < 1 KB)"
    );
    println!(
        "  recording a heartbeat (UpdateItem against moto): mean {record_mean:.2} ms, p50 {:.2} ms, p99 {:.2} ms",
        percentile(&record_ms, 0.5),
        percentile(&record_ms, 0.99)
    );
    println!("\nmonthly, {heartbeats_a_month:.0} heartbeats (us-east-1 prices):");
    for (row, usd) in &rows {
        println!("  {row:<72} ${usd:>7.2}");
    }
    println!("  {:<72} ${total:>7.2}", "total");
    println!(
        "  (with the duration measured here, {:.1} ms, instead: ${:.2})",
        record_mean,
        heartbeats_a_month * measured_duration_s * LAMBDA_GB * LAMBDA_ARM_PER_GB_SECOND
    );

    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let report = json!({
        "accounts": ACCOUNTS, "regions": REGIONS.len(), "cells": cells.len(),
        "check_seconds_against_moto": check_s,
        "listing_seconds": listing_s, "queries_seconds_one_after_another": queries_s,
        "requests": requests, "operations": operations,
        "cells_by_state": states, "gaps": gaps,
        "read_capacity": {"moto": moto_rru, "dynamodb_billed": billed_rru, "items": items, "bytes": bytes},
        "write_capacity_per_heartbeat": {"moto": write_capacity, "dynamodb_billed": 1.0},
        "record_ms": {"mean": record_mean, "p50": percentile(&record_ms, 0.5), "p99": percentile(&record_ms, 0.99)},
        "monthly_usd": rows.iter().map(|(row, usd)| json!({"item": row, "usd": usd})).collect::<Vec<_>>(),
        "monthly_total_usd": total,
    });
    let path = target.join("bench-coverage.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    println!("\nwritten: {}", path.display());
}
