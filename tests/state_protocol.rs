//! The claim protocol under the failures it exists for, against moto's DynamoDB and SNS through
//! the real SDK: a claim left by a dead invocation, a claim held by a live one, a lost response
//! to our own claim, a state table that is down or silent, an invocation near its deadline, a
//! silent SNS, and events without a CloudTrail event id. Every check reads the servers' records.

mod support;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::config::Config;
use rootwatch::domain::limits::{
    OPERATION_TIMEOUT, STATE_ATTEMPT_TIMEOUT, STATE_OPERATION_TIMEOUT, STATE_RESERVE,
};
use rootwatch::handler::{Handler, Outcome};
use rootwatch::invocation::Invocation;
use rootwatch::ports::{AlertPublisher, DeliveryError};
use rootwatch::render::notification::Notification;
use serde_json::{Value, json};
use support::faulty::{Fault, FaultyServer, closed_port_endpoint};
use support::moto::sdk_config_for;
use support::proxy::Proxy;
use support::stack::{LocalStack, TABLE, table_keys, text_counts};
use support::{invocation, invocation_with, valid_samples};

/// Scheduling slack on a loaded 2-core machine, added to bounds the SDK enforces. Small enough
/// that the bounds still tell the state table's 3 s limit from SNS's 12 s one (checked where
/// they are used).
const SLACK: Duration = Duration::from_secs(3);

fn sample(name: &str) -> Value {
    valid_samples()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .expect("sample exists")
}

fn event_id(event: &Value) -> &str {
    event["detail"]["eventID"].as_str().unwrap()
}

type Item = HashMap<String, AttributeValue>;

async fn item(dynamodb: &aws_sdk_dynamodb::Client, pk: &str) -> Option<Item> {
    dynamodb
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
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
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(stack.topic.clone()),
        "STATE_TABLE" => Some(TABLE.into()),
        _ => None,
    })
    .unwrap();
    let app = Handler::new(
        config.clone(),
        Timed {
            inner: SnsPublisher::new(stack.sns.clone(), config.topic_arn.clone()),
            started: Mutex::new(None),
        },
        DynamoState::new(
            rootwatch::aws::sdk::dynamodb_client(&sdk_config_for(state_endpoint).await),
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
    fail_open_against(&stack, &closed_port_endpoint().await).await;
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

// --- The deadline --------------------------------------------------------------------------

#[tokio::test]
async fn too_near_the_deadline_it_fails_at_once_and_claims_nothing() {
    let stack = LocalStack::start().await;
    let near = invocation_with(Duration::from_secs(5));
    let err = stack
        .app(&stack.topic)
        .handle(&sample("root-access-key-created"), &near, Utc::now())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.error_type(), "Rootwatch.OutOfTime.Retryable");
    assert!(stack.moto.sent_notifications(&stack.topic).is_empty());
    assert!(
        table_keys(&stack.dynamodb).await.is_empty(),
        "no claim left"
    );
}

/// SNS accepts and never answers; the SDK would give up after 12 s, but the invocation has 8 s.
/// The publish is cut off with the reserve left, the claims are released, and the error is
/// retryable — before Lambda would have stopped the invocation.
#[tokio::test]
async fn a_silent_sns_is_cut_off_before_the_deadline_and_the_claims_released() {
    let stack = LocalStack::start().await;
    let silent = FaultyServer::start(Fault::Silent).await;
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(stack.topic.clone()),
        "STATE_TABLE" => Some(TABLE.into()),
        _ => None,
    })
    .unwrap();
    let sns = aws_sdk_sns::Client::new(&sdk_config_for(&silent.endpoint).await);
    // The function's own table client: releasing the claims must keep to its 3 s bound for the
    // invocation to end before its deadline.
    let state_client =
        rootwatch::aws::sdk::dynamodb_client(&sdk_config_for(&stack.state_proxy.endpoint).await);
    let app = Handler::new(
        config.clone(),
        SnsPublisher::new(sns, config.topic_arn.clone()),
        DynamoState::new(state_client, TABLE),
    );
    let left = Duration::from_secs(8);
    assert!(left < OPERATION_TIMEOUT && left > STATE_RESERVE);
    let short: Invocation = invocation_with(left);

    let start = Instant::now();
    let err = app
        .handle(
            &sample("root-console-sign-in-without-mfa"),
            &short,
            Utc::now(),
        )
        .await
        .unwrap_err();
    eprintln!("cut off after {:?}", start.elapsed());
    assert!(Utc::now() < short.deadline, "returned before the deadline");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.error_type(), "Rootwatch.DeliveryFailed.Retryable");
    assert!(
        err.to_string().contains("before the invocation deadline"),
        "{err}"
    );
    assert!(silent.requests() >= 1, "the publish was tried");
    assert_eq!(
        claims(&stack).await,
        Vec::<String>::new(),
        "the event and session claims were released"
    );
    let counts = text_counts(&stack.dynamodb).await;
    assert!(
        counts.iter().all(|(_, n)| *n == 0),
        "the text was given back: {counts:?}"
    );
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

/// The event and session items in the state table (not the hours' text counts).
async fn claims(stack: &LocalStack) -> Vec<String> {
    let mut keys = table_keys(&stack.dynamodb).await;
    keys.retain(|k| !k.starts_with("texts#"));
    keys
}

fn pages(stack: &LocalStack) -> Vec<String> {
    stack
        .moto
        .sent_notifications(&stack.topic)
        .iter()
        .map(|n| {
            n[3]["page"]["Value"]
                .as_str()
                .unwrap_or("missing")
                .to_owned()
        })
        .collect()
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

    for (event, expected) in [
        (&first, "alerted"),
        (&second, "alerted"),
        (&first, "duplicate"),
    ] {
        let outcome = app.handle(event, &invocation(), Utc::now()).await.unwrap();
        let status = serde_json::to_value(&outcome).unwrap()["status"].clone();
        assert_eq!(status, expected, "{outcome:?}");
    }
    assert_eq!(pages(&stack), ["true", "false"], "one page for the session");
    assert_eq!(
        claims(&stack).await,
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

    for (event, expected) in [
        (&first, "alerted"),
        (&first, "duplicate"),
        (&second, "alerted"),
    ] {
        let outcome = app.handle(event, &invocation(), Utc::now()).await.unwrap();
        let status = serde_json::to_value(&outcome).unwrap()["status"].clone();
        assert_eq!(status, expected, "{outcome:?}");
    }
    assert_eq!(pages(&stack), ["true", "false"]);
    let keys = table_keys(&stack.dynamodb).await;
    let digests = keys
        .iter()
        .filter(|k| k.starts_with("event#sha256#"))
        .count();
    assert_eq!(digests, 2, "{keys:?}");
}
