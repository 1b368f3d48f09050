//! Dedup: each event alerts once, however often and however concurrently it is delivered, through
//! the claim protocol in the state table — against moto's DynamoDB and SNS through the real SDK,
//! under the failures the protocol exists for: a claim left by a dead invocation, a claim held by
//! a live one, a lost response to our own claim, events without a CloudTrail event id, a burst of
//! a thousand events delivered twice at once and again later. A state table that is down or
//! silent costs dedup, never the alert (fail open). Every check reads the servers' records.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sdk::dynamodb_client;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::domain::limits::{
    OPERATION_TIMEOUT, STATE_ATTEMPT_TIMEOUT, STATE_OPERATION_TIMEOUT,
};
use rootwatch::error::HandlerError;
use rootwatch::handler::{Handler, Outcome};
use rootwatch::ports::{AlertPublisher, DeliveryError};
use rootwatch::render::notification::Notification;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::App;
use crate::support::faulty::{ClosedPort, Fault, FaultyServer};
use crate::support::moto::{MotoServer, sdk_config_for};
use crate::support::proxy::Proxy;
use crate::support::stack::{Item, LocalStack, TABLE, claims, item, state_config, table_keys};
use crate::support::{invocation, invocation_with, sample};

/// Scheduling slack on a loaded 2-core machine, added to bounds the SDK enforces. Small enough
/// that the bounds still tell the state table's 3 s limit from SNS's 12 s one (checked where
/// they are used).
const SLACK: Duration = Duration::from_secs(3);

fn event_id(event: &Value) -> &str {
    event["detail"]["eventID"].as_str().unwrap()
}

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

/// Another invocation's claim on `event_id`, leased until `lease_secs` from now (negative: in
/// the past), written the way the function writes it.
async fn foreign_claim(stack: &LocalStack, event_id: &str, owner: &str, lease_secs: i64) {
    let now = Utc::now().timestamp();
    stack
        .dynamodb
        .put_item()
        .table_name(TABLE)
        .item("pk", AttributeValue::S(format!("event#{event_id}")))
        .item("status", AttributeValue::S("pending".into()))
        .item("owner", AttributeValue::S(owner.into()))
        .item(
            "lease_until",
            AttributeValue::N((now + lease_secs).to_string()),
        )
        .item("expires_at", AttributeValue::N((now + 3600).to_string()))
        .send()
        .await
        .unwrap();
}

// --- Duplicates ----------------------------------------------------------------------------

#[tokio::test]
async fn an_event_delivered_twice_is_alerted_once() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let event = sample("root-console-sign-in-without-mfa");
    let first = app.handle(&event, &invocation(), Utc::now()).await.unwrap();
    assert!(
        matches!(first, Outcome::Alerted { page: true, .. }),
        "{first:?}"
    );
    let second = app.handle(&event, &invocation(), Utc::now()).await.unwrap();
    assert!(matches!(second, Outcome::Duplicate { .. }), "{second:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
}

/// The second invocation waits for the first one's outcome and sees it alerted: no error, so
/// no retry and no Errors alarm for a benign duplicate.
#[tokio::test]
async fn concurrent_duplicates_publish_once_and_the_other_is_a_duplicate() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let event = sample("root-access-key-created");
    let (first, second) = (invocation(), invocation());
    let (a, b) = tokio::join!(
        app.handle(&event, &first, Utc::now()),
        app.handle(&event, &second, Utc::now())
    );
    let mut outcomes = [a.unwrap(), b.unwrap()];
    outcomes.sort_by_key(|o| matches!(o, Outcome::Duplicate { .. }));
    assert!(
        matches!(
            outcomes,
            [
                Outcome::Alerted {
                    deduplicated: true,
                    ..
                },
                Outcome::Duplicate { .. }
            ]
        ),
        "{outcomes:?}"
    );
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
}

// --- Leases --------------------------------------------------------------------------------

#[tokio::test]
async fn a_claim_left_by_a_dead_invocation_is_taken_over_once_its_lease_ran_out() {
    let stack = LocalStack::start().await;
    let event = sample("root-access-key-created");
    foreign_claim(&stack, event_id(&event), "crashed-request", -10).await;

    let ours = invocation();
    let outcome = stack
        .app(&stack.topic)
        .handle(&event, &ours, Utc::now())
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
    let item = item(&stack.dynamodb, &format!("event#{}", event_id(&event)))
        .await
        .unwrap();
    assert_eq!(text(&item, "status"), "alerted");
    assert_eq!(text(&item, "owner"), ours.request_id);
}

/// Lambda retries a failed asynchronous invocation with the same request id: a claim left by
/// the crashed first attempt is ours and does not block its own retry.
#[tokio::test]
async fn a_retry_of_the_same_request_finds_its_own_claim() {
    let stack = LocalStack::start().await;
    let event = sample("root-access-key-created");
    let ours = invocation();
    foreign_claim(&stack, event_id(&event), &ours.request_id, 60).await;

    let outcome = stack
        .app(&stack.topic)
        .handle(&event, &ours, Utc::now())
        .await
        .unwrap();
    assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
}

/// Held by a live invocation that never finishes within our wait: we give up retryably before
/// our own deadline, publish nothing and leave its claim alone.
#[tokio::test]
async fn a_claim_held_past_the_wait_fails_retryably_and_is_left_alone() {
    let stack = LocalStack::start().await;
    let event = sample("root-access-key-created");
    foreign_claim(&stack, event_id(&event), "live-request", 600).await;

    // 21 s: the 19 s kept for a publish of our own leave 2 s of waiting.
    let ours = invocation_with(Duration::from_secs(21));
    let err = stack
        .app(&stack.topic)
        .handle(&event, &ours, Utc::now())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.error_type(), "Rootwatch.InFlight.Retryable");
    assert!(Utc::now() < ours.deadline, "gave up before the deadline");
    assert!(stack.moto.sent_notifications(&stack.topic).is_empty());
    let item = item(&stack.dynamodb, &format!("event#{}", event_id(&event)))
        .await
        .unwrap();
    assert_eq!(text(&item, "owner"), "live-request");
    assert_eq!(text(&item, "status"), "pending");
}

/// The holder's publish failed and it released its claim while we waited: we take over and
/// alert, in the same invocation.
#[tokio::test]
async fn a_claim_released_while_waiting_is_taken_over_and_alerted() {
    let stack = LocalStack::start().await;
    let event = sample("root-access-key-created");
    let pk = format!("event#{}", event_id(&event));
    foreign_claim(&stack, event_id(&event), "failing-request", 600).await;
    let releaser = {
        let (dynamodb, pk) = (stack.dynamodb.clone(), pk.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            dynamodb
                .delete_item()
                .table_name(TABLE)
                .key("pk", AttributeValue::S(pk))
                .send()
                .await
                .unwrap();
        })
    };
    let ours = invocation();
    let outcome = stack
        .app(&stack.topic)
        .handle(&event, &ours, Utc::now())
        .await
        .unwrap();
    releaser.await.unwrap();
    assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
    let item = item(&stack.dynamodb, &pk).await.unwrap();
    assert_eq!(text(&item, "owner"), ours.request_id);
}

// --- A lost response -----------------------------------------------------------------------

#[tokio::test]
async fn a_claim_whose_response_was_lost_is_retried_and_recognised_as_ours() {
    let stack = LocalStack::start().await;
    let proxy = Proxy::dropping_first(&stack.moto.endpoint, "DynamoDB_20120810.PutItem").await;
    let app = stack.app_with_state_at(&proxy.endpoint).await;
    let event = sample("root-console-sign-in-without-mfa");

    let ours = invocation();
    let outcome = app.handle(&event, &ours, Utc::now()).await.unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::Alerted {
                deduplicated: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(proxy.dropped(), 1, "the claim's response was dropped");
    assert_eq!(
        proxy.targets()[..2],
        ["DynamoDB_20120810.PutItem", "DynamoDB_20120810.PutItem"],
        "the SDK sent the claim again"
    );
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
    let item = item(&stack.dynamodb, &format!("event#{}", event_id(&event)))
        .await
        .unwrap();
    assert_eq!(text(&item, "status"), "alerted");
    assert_eq!(text(&item, "owner"), ours.request_id);

    let again = app.handle(&event, &invocation(), Utc::now()).await.unwrap();
    assert!(matches!(again, Outcome::Duplicate { .. }), "{again:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
}

// --- DynamoDB down or silent: fail open ----------------------------------------------------

/// Publishes through SNS and notes when the publish started.
struct Timed<P> {
    inner: P,
    started: Mutex<Option<Instant>>,
}

impl<P: AlertPublisher + Sync> AlertPublisher for Timed<P> {
    async fn publish(&self, notification: &Notification) -> Result<String, DeliveryError> {
        self.started
            .lock()
            .unwrap()
            .get_or_insert_with(Instant::now);
        self.inner.publish(notification).await
    }
}

/// Runs one alert with the state table at `state_endpoint`; returns when the publish started
/// and when the invocation ended, both from its start.
async fn fail_open_against(stack: &LocalStack, state_endpoint: &str) -> (Duration, Duration) {
    let config = state_config(&stack.topic, &[]);
    let app = Handler::new(
        config.clone(),
        Timed {
            inner: SnsPublisher::new(stack.sns.clone(), config.topic_arn.clone()),
            started: Mutex::new(None),
        },
        DynamoState::new(
            dynamodb_client(&sdk_config_for(state_endpoint).await),
            TABLE,
        ),
    );
    let event = sample("root-console-sign-in-without-mfa");
    let start = Instant::now();
    let outcome = app.handle(&event, &invocation(), Utc::now()).await.unwrap();
    let took = start.elapsed();
    let published = app.publisher.started.lock().unwrap().expect("published") - start;
    eprintln!("publish started after {published:?}, invocation ended after {took:?}");

    assert!(
        matches!(
            outcome,
            Outcome::Alerted {
                page: true,
                deduplicated: false,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
    // A table client with SNS's limits would wait 12 s for the claim, 24 s in all.
    assert!(STATE_OPERATION_TIMEOUT + SLACK < OPERATION_TIMEOUT);
    assert!(
        published <= STATE_OPERATION_TIMEOUT + SLACK,
        "the publish waited {published:?} for the state table"
    );
    assert!(
        took <= 2 * STATE_OPERATION_TIMEOUT + SLACK,
        "the claim and the record took {took:?}"
    );
    (published, took)
}

#[tokio::test]
async fn with_the_state_table_down_the_alert_still_goes_out() {
    let stack = LocalStack::start().await;
    let closed = ClosedPort::reserve();
    fail_open_against(&stack, &closed.endpoint).await;
}

#[tokio::test]
async fn with_a_silent_state_table_the_alert_goes_out_after_its_bound() {
    let stack = LocalStack::start().await;
    let silent = FaultyServer::start(Fault::Silent).await;
    let (published, _) = fail_open_against(&stack, &silent.endpoint).await;
    assert!(
        published >= STATE_ATTEMPT_TIMEOUT,
        "the claim was given up after {published:?}, before one attempt timed out"
    );
    assert!(silent.requests() >= 2, "the timed-out claim was retried");
}

// --- Events without a CloudTrail event id --------------------------------------------------

/// A root console-session call without `detail.eventID`; the envelope `id` is set or removed.
fn without_event_id(envelope_id: Option<&str>, event_name: &str, minute: u32) -> Value {
    let mut event = sample("root-api-call-from-console-session");
    event["detail"]
        .as_object_mut()
        .unwrap()
        .remove("eventID")
        .expect("the sample has an eventID");
    event["detail"]["eventName"] = json!(event_name);
    event["detail"]["eventTime"] = json!(format!("2026-11-21T09:{minute:02}:00Z"));
    match envelope_id {
        Some(id) => event["id"] = json!(id),
        None => {
            event.as_object_mut().unwrap().remove("id");
        }
    }
    event
}

/// Handles each event in turn; each outcome's `status` is the one expected.
async fn assert_statuses<const N: usize>(app: &App, handled: [(&Value, &str); N]) {
    for (event, expected) in handled {
        let outcome = app.handle(event, &invocation(), Utc::now()).await.unwrap();
        let status = serde_json::to_value(&outcome).unwrap()["status"].clone();
        assert_eq!(status, expected, "{outcome:?}");
    }
}

/// Two different calls of one root session, neither with an event id: each is its own event
/// (both alerted, the second coalesced into the session's page), and a redelivery is a duplicate.
#[tokio::test]
async fn events_without_an_event_id_are_keyed_by_their_envelope_id() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let first = without_event_id(
        Some("11111111-0000-4000-8000-000000000001"),
        "CreateUser",
        1,
    );
    let second = without_event_id(
        Some("11111111-0000-4000-8000-000000000002"),
        "DeleteUser",
        2,
    );

    assert_statuses(
        &app,
        [
            (&first, "alerted"),
            (&second, "alerted"),
            (&first, "duplicate"),
        ],
    )
    .await;
    assert_eq!(stack.pages(), ["true", "false"], "one page for the session");
    assert_eq!(
        claims(&stack.dynamodb).await,
        [
            "event#envelope#11111111-0000-4000-8000-000000000001",
            "event#envelope#11111111-0000-4000-8000-000000000002",
            "session#111122223333#key#ASIAQNZGKIQYEXAMPLE2",
        ]
    );
}

#[tokio::test]
async fn events_without_any_id_are_keyed_by_a_digest_of_the_payload() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let first = without_event_id(None, "CreateUser", 1);
    let second = without_event_id(None, "DeleteUser", 2);

    assert_statuses(
        &app,
        [
            (&first, "alerted"),
            (&first, "duplicate"),
            (&second, "alerted"),
        ],
    )
    .await;
    assert_eq!(stack.pages(), ["true", "false"]);
    let keys = table_keys(&stack.dynamodb).await;
    let digests = keys
        .iter()
        .filter(|k| k.starts_with("event#sha256#"))
        .count();
    assert_eq!(digests, 2, "{keys:?}");
}

// --- A burst -------------------------------------------------------------------------------

/// Invocations in flight at once (Lambda would run this many instances).
const CONCURRENCY: usize = 16;
/// Per pass: 90 console sessions × 10 HIGH calls, plus 100 CRITICAL calls with sessions of their own.
const SESSIONS: u32 = 90;
const CALLS_PER_SESSION: u32 = 10;
const CRITICALS: u32 = 100;
const PER_PASS: u32 = SESSIONS * CALLS_PER_SESSION + CRITICALS;

/// A root API call in console session `session`, unique by `seq` within pass `pass`.
fn burst_call(template: &Value, pass: u32, seq: u32, session: u32, critical: bool) -> Value {
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
    let template = sample("root-api-call-from-console-session");
    let high = (0..SESSIONS * CALLS_PER_SESSION)
        .map(|seq| burst_call(&template, pass, seq, seq % SESSIONS, false));
    let critical = (0..CRITICALS).map(|i| {
        let seq = SESSIONS * CALLS_PER_SESSION + i;
        burst_call(&template, pass, seq, SESSIONS + i, true)
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

/// 1,000 distinct root events through the handler, concurrently; then 1,000 more, each delivered
/// twice at once; then the first 1,000 redelivered. Counted from the servers' own records: every
/// event alerted exactly once, none lost, and the number of paging alerts is what the coalescing
/// rule says.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_event_alerts_exactly_once_under_a_burst_with_duplicates() {
    let stack = LocalStack::start().await;
    // The burst measures dedup and coalescing; the hourly text ceiling (`state::ceiling`) is set
    // past what it pages.
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
