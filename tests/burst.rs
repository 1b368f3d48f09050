//! A burst: 1,000 distinct root events through the handler, concurrently, against moto's SNS and
//! DynamoDB; then 1,000 more, each delivered twice at once; then the first 1,000 redelivered.
//! Counted from the servers' own records: every event alerted exactly once, none lost, and the
//! number of paging alerts is what the coalescing rule says.

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::error::HandlerError;
use rootwatch::handler::{Handler, Outcome};
use serde_json::{Value, json};
use support::moto::MotoServer;
use support::stack::{LocalStack, TABLE};
use support::{invocation, valid_samples};
use tokio::task::JoinSet;

/// Invocations in flight at once (Lambda would run this many instances).
const CONCURRENCY: usize = 16;
/// Per pass: 90 console sessions × 10 HIGH calls, plus 100 CRITICAL calls with sessions of their own.
const SESSIONS: u32 = 90;
const CALLS_PER_SESSION: u32 = 10;
const CRITICALS: u32 = 100;
const PER_PASS: u32 = SESSIONS * CALLS_PER_SESSION + CRITICALS;

type App = Handler<SnsPublisher, DynamoState>;

/// A root API call in console session `session`, unique by `seq` within pass `pass`.
fn event(template: &Value, pass: u32, seq: u32, session: u32, critical: bool) -> Value {
    let start: DateTime<Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
    let mut e = template.clone();
    let d = &mut e["detail"];
    d["eventID"] = json!(format!("{pass:08}-0000-4000-8000-{seq:012}"));
    d["eventTime"] =
        json!((start + chrono::Duration::milliseconds(i64::from(seq) * 300)).to_rfc3339());
    d["userIdentity"]["accessKeyId"] = json!(format!("ASIABURST{pass:02}{session:08}"));
    if critical {
        d["eventSource"] = json!("cloudtrail.amazonaws.com");
        d["eventName"] = json!("StopLogging");
    } else {
        d["eventName"] = json!("CreateUser");
    }
    e
}

fn pass_events(pass: u32) -> Vec<Value> {
    let (_, template) = valid_samples()
        .into_iter()
        .find(|(n, _)| n == "root-api-call-from-console-session")
        .unwrap();
    let high = (0..SESSIONS * CALLS_PER_SESSION)
        .map(|seq| event(&template, pass, seq, seq % SESSIONS, false));
    let critical = (0..CRITICALS).map(|i| {
        let seq = SESSIONS * CALLS_PER_SESSION + i;
        event(&template, pass, seq, SESSIONS + i, true)
    });
    high.chain(critical).collect()
}

/// Delivers each event like Lambda would: an `InFlight` error is retried after a pause, with the
/// same request id.
async fn deliver_all(app: &'static App, events: Vec<Value>) -> Vec<Outcome> {
    let mut pending = events.into_iter();
    let mut running = JoinSet::new();
    let mut outcomes = Vec::new();
    let mut spawn_next = |running: &mut JoinSet<Outcome>| {
        if let Some(event) = pending.next() {
            running.spawn(async move {
                let request_id = invocation().request_id;
                for _ in 0..50 {
                    let mut attempt = invocation();
                    attempt.request_id.clone_from(&request_id);
                    match app.handle(&event, &attempt, Utc::now()).await {
                        Ok(outcome) => return outcome,
                        Err(HandlerError::State(e)) => {
                            assert!(e.to_string().contains("another invocation"), "{e}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(other) => panic!("unexpected failure: {other}"),
                    }
                }
                panic!("event still in flight after 50 retries")
            });
        }
    };
    for _ in 0..CONCURRENCY {
        spawn_next(&mut running);
    }
    while let Some(done) = running.join_next().await {
        outcomes.push(done.expect("no panic"));
        spawn_next(&mut running);
    }
    outcomes
}

fn count(outcomes: &[Outcome], pred: impl Fn(&Outcome) -> bool) -> usize {
    outcomes.iter().filter(|o| pred(o)).count()
}

struct Published {
    total: usize,
    paged: usize,
}

fn published(moto: &MotoServer, topic: &str) -> Published {
    let sent = moto.sent_notifications(topic);
    Published {
        total: sent.len(),
        paged: sent
            .iter()
            .filter(|n| n[3]["page"]["Value"] == "true")
            .count(),
    }
}

async fn alerted_items(dynamodb: &aws_sdk_dynamodb::Client) -> usize {
    // Small pages: each request stays well inside the client's timeout even when moto is slow
    // on a loaded machine (one 2,000-item page once took over 12 s).
    let pages: Vec<_> = dynamodb
        .scan()
        .table_name(TABLE)
        .limit(250)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("scan");
    pages
        .iter()
        .flat_map(|p| p.items().iter())
        .filter(|item| {
            item.get("status")
                .and_then(|s| s.as_s().ok())
                .is_some_and(|s| s == "alerted")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_event_alerts_exactly_once_under_a_burst_with_duplicates() {
    let stack = LocalStack::start().await;
    // The burst measures dedup and coalescing; the hourly text ceiling (tested in flood.rs) is
    // set past what it pages.
    let app: &'static App = Box::leak(Box::new(
        stack.app_with(&stack.topic, &[("SMS_CEILING_PER_HOUR", "1000")]),
    ));
    let (moto, topic, dynamodb) = (&stack.moto, &stack.topic, &stack.dynamodb);
    let pages_per_pass = (SESSIONS + CRITICALS) as usize;
    let n = PER_PASS as usize;

    // Pass 1: 1,000 distinct events.
    let first = pass_events(1);
    let outcomes = deliver_all(app, first.clone()).await;
    assert_eq!(
        count(&outcomes, |o| matches!(o, Outcome::Alerted { .. })),
        n
    );
    let after_first = published(moto, topic);
    assert_eq!(after_first.total, n, "N events in, N alerts out, 0 lost");
    assert_eq!(
        after_first.paged, pages_per_pass,
        "one page per session, plus every CRITICAL"
    );

    // Pass 2: 1,000 new events, each delivered twice at once.
    let second = pass_events(2);
    let doubled: Vec<Value> = second.iter().flat_map(|e| [e.clone(), e.clone()]).collect();
    let outcomes = deliver_all(app, doubled).await;
    assert_eq!(
        count(&outcomes, |o| matches!(o, Outcome::Alerted { .. })),
        n
    );
    assert_eq!(
        count(&outcomes, |o| matches!(o, Outcome::Duplicate { .. })),
        n
    );
    let after_second = published(moto, topic);
    assert_eq!(
        after_second.total,
        2 * n,
        "each doubled event alerted exactly once"
    );
    assert_eq!(after_second.paged, 2 * pages_per_pass);

    // Pass 3: the first 1,000 redelivered later.
    let outcomes = deliver_all(app, first).await;
    assert_eq!(
        count(&outcomes, |o| matches!(o, Outcome::Duplicate { .. })),
        n
    );
    assert_eq!(
        published(moto, topic).total,
        2 * n,
        "redeliveries publish nothing"
    );

    assert_eq!(
        alerted_items(dynamodb).await,
        2 * n,
        "every alert recorded once"
    );
}
