//! Dedup and SMS coalescing against a real DynamoDB API and a real SNS API (moto on loopback),
//! checked from the servers' own records.

mod support;

use chrono::{DateTime, Utc};
use rootwatch::handler::Outcome;
use serde_json::{Value, json};
use support::moto::{MotoServer, drain_queue};
use support::stack::{LocalStack, table_keys, text_counts};
use support::{invocation, valid_samples};

fn sample(name: &str) -> Value {
    valid_samples()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
        .expect("sample exists")
}

/// A root console-session API call: same session (access key) for every `seq`.
fn session_call(seq: u32, event_name: &str, at: DateTime<Utc>) -> Value {
    let mut event = sample("root-api-call-from-console-session");
    event["detail"]["eventID"] = json!(format!("00000000-0000-4000-8000-{seq:012}"));
    event["detail"]["eventName"] = json!(event_name);
    event["detail"]["eventTime"] = json!(at.to_rfc3339());
    event
}

fn page_attributes(moto: &MotoServer, topic: &str) -> Vec<String> {
    moto.sent_notifications(topic)
        .iter()
        .map(|n| {
            n[3]["page"]["Value"]
                .as_str()
                .unwrap_or("missing")
                .to_owned()
        })
        .collect()
}

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

/// One root session: its first alert pages, its other non-critical ones within the window do
/// not, and each critical act pages once — the same act again does not.
#[tokio::test]
async fn a_root_session_pages_once_per_window_and_each_critical_act_once() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let phone_policy = json!({"severity": ["CRITICAL", "HIGH"], "page": ["true"]});
    let (sqs, phone) = stack
        .moto
        .filtered_queue(&stack.topic, "phone", &phone_policy)
        .await;
    let t0: DateTime<Utc> = "2026-11-21T09:05:00Z".parse().unwrap();
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    let trail_call = |seq: u32, name: &str, at: DateTime<Utc>| {
        let mut call = session_call(seq, name, at);
        call["detail"]["eventSource"] = json!("cloudtrail.amazonaws.com");
        call
    };
    let calls = [
        session_call(1, "CreateUser", minutes(0)), // first of the session: pages
        session_call(2, "AttachUserPolicy", minutes(3)), // same session: email only
        trail_call(3, "StopLogging", minutes(5)),  // CRITICAL, new act: pages anyway
        trail_call(4, "DeleteTrail", minutes(6)),  // CRITICAL, another act: pages
        trail_call(5, "StopLogging", minutes(7)),  // CRITICAL, the same act again: email only
        session_call(6, "CreateLoginProfile", minutes(14)), // inside 15 min: email only
        session_call(7, "PutBucketPolicy", minutes(16)), // window over: pages again
    ];
    for call in &calls {
        app.handle(call, &invocation(), Utc::now()).await.unwrap();
    }
    let severities: Vec<String> = stack
        .moto
        .sent_notifications(&stack.topic)
        .iter()
        .map(|n| n[3]["severity"]["Value"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        severities,
        [
            "HIGH", "HIGH", "CRITICAL", "CRITICAL", "CRITICAL", "HIGH", "HIGH"
        ]
    );
    assert_eq!(
        page_attributes(&stack.moto, &stack.topic),
        ["true", "false", "true", "true", "false", "false", "true"]
    );
    let texted = drain_queue(&sqs, &phone).await;
    assert_eq!(
        texted.len(),
        4,
        "the phone gets the 4 paged alerts: {texted:?}"
    );
}

#[tokio::test]
async fn a_failed_publish_records_nothing_and_the_retry_still_pages() {
    let stack = LocalStack::start().await;
    let broken = stack.app(&stack.missing_topic());
    let event = session_call(7, "CreateUser", "2026-11-21T09:05:00Z".parse().unwrap());
    let err = broken
        .handle(&event, &invocation(), Utc::now())
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");
    let keys = table_keys(&stack.dynamodb).await;
    assert!(
        keys.iter().all(|k| k.starts_with("texts#")),
        "no claim or session left behind: {keys:?}"
    );
    let counts = text_counts(&stack.dynamodb).await;
    assert!(
        counts.iter().all(|(_, n)| *n == 0),
        "the text was given back: {counts:?}"
    );

    // The same table and event, once SNS is reachable again (Lambda's retry):
    let outcome = stack
        .app(&stack.topic)
        .handle(&event, &invocation(), Utc::now())
        .await
        .unwrap();
    assert!(
        matches!(outcome, Outcome::Alerted { page: true, .. }),
        "{outcome:?}"
    );
    assert_eq!(page_attributes(&stack.moto, &stack.topic), ["true"]);
    let items = table_keys(&stack.dynamodb).await;
    assert_eq!(
        items.len(),
        3,
        "the event, its session and its account's hour: {items:?}"
    );
    let counts = text_counts(&stack.dynamodb).await;
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 1, "{counts:?}");
}
