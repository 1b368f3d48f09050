//! SMS coalescing: a root session texts once a window, and each distinct critical act in it
//! once more — the same act again does not; every alert is still emailed. Against moto's SNS and
//! DynamoDB, with SQS queues standing in for a phone (the template's SMS filter policy) and an
//! inbox (no filter), read from the servers' records. A leaked long-term key making the same call
//! twenty times texts once, and so do twelve different calls it makes: they are critical for the
//! key, not the act.

use chrono::{DateTime, Utc};
use rootwatch::handler::Outcome;
use serde_json::{Value, json};

use super::{App, Subscribers, keyed_call};
use crate::support::stack::LocalStack;
use crate::support::{invocation, session_call};

const LEAKED_KEY: &str = "AKIAQNZGKIQYFLOOD001";

/// Handles each event in turn, as Lambda would; every one must be published.
async fn alert_all(app: &App, events: &[Value]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for event in events {
        let outcome = app
            .handle(event, &invocation(), Utc::now())
            .await
            .expect("alerted");
        assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
        outcomes.push(outcome);
    }
    outcomes
}

/// One root session: its first alert pages, its other non-critical ones within the window do
/// not, and each critical act pages once — the same act again does not.
#[tokio::test]
async fn a_root_session_pages_once_per_window_and_each_critical_act_once() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let people = Subscribers::of(&stack).await;
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
        stack.pages(),
        ["true", "false", "true", "true", "false", "false", "true"]
    );
    assert_eq!(people.texts().await, 4, "the phone gets the 4 paged alerts");
    assert_eq!(people.emails().await, 7, "the inbox gets every alert");
}

#[tokio::test]
async fn a_leaked_key_texts_once_per_critical_act_and_emails_every_call() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let people = Subscribers::of(&stack).await;

    let mut events: Vec<Value> = (0..20)
        .map(|i| keyed_call(i * 10, LEAKED_KEY, "s3.amazonaws.com", "ListBuckets"))
        .collect();
    events.push(keyed_call(
        205,
        LEAKED_KEY,
        "cloudtrail.amazonaws.com",
        "StopLogging",
    ));
    alert_all(&app, &events).await;

    let published = stack.moto.sent_notifications(&stack.topic);
    assert_eq!(published.len(), 21, "one publish per event");
    assert_eq!(people.emails().await, 21, "the inbox gets every alert");
    assert_eq!(people.texts().await, 2, "the phone gets 2 texts");
    let kinds: Vec<&str> = published
        .iter()
        .filter(|n| n[3]["page"]["Value"] == "true")
        .map(|n| n[3]["kind"]["Value"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(kinds, ["long-term-access-key-used", "cloudtrail-tampered"]);
}

/// A leaked long-term key looks around before it acts: twelve different read calls are CRITICAL
/// for the key, not for what they do, so they share one text; the `StopLogging` after them is
/// `cloudtrail-tampered` (its own row, above the key's) and texts too. Were each call its own
/// act, the lookaround would use up the hour's ten texts and the notice, and `StopLogging` would
/// reach email only.
#[tokio::test]
async fn a_leaked_keys_lookaround_texts_once_and_leaves_the_act_that_matters_its_text() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let people = Subscribers::of(&stack).await;

    let reads = [
        ("iam.amazonaws.com", "ListUsers"),
        ("iam.amazonaws.com", "ListRoles"),
        ("iam.amazonaws.com", "GetAccountSummary"),
        ("s3.amazonaws.com", "ListBuckets"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("ec2.amazonaws.com", "DescribeRegions"),
        ("cloudtrail.amazonaws.com", "DescribeTrails"),
        ("cloudtrail.amazonaws.com", "GetTrailStatus"),
        ("organizations.amazonaws.com", "DescribeOrganization"),
        ("guardduty.amazonaws.com", "ListDetectors"),
        ("kms.amazonaws.com", "ListKeys"),
        ("sts.amazonaws.com", "GetCallerIdentity"),
    ];
    let mut events: Vec<Value> = reads
        .iter()
        .zip(0..)
        .map(|((source, name), i)| keyed_call(i * 5, LEAKED_KEY, source, name))
        .collect();
    events.push(keyed_call(
        70,
        LEAKED_KEY,
        "cloudtrail.amazonaws.com",
        "StopLogging",
    ));
    alert_all(&app, &events).await;

    let published = stack.moto.sent_notifications(&stack.topic);
    assert_eq!(published.len(), 13, "one publish per event");
    assert_eq!(people.emails().await, 13, "the inbox gets every alert");
    assert_eq!(
        people.texts().await,
        2,
        "the lookaround once, StopLogging once"
    );
    let texted: Vec<(&str, &str)> = published
        .iter()
        .filter(|n| n[3]["page"]["Value"] == "true")
        .map(|n| {
            (
                n[3]["kind"]["Value"].as_str().unwrap_or("?"),
                n[3]["severity"]["Value"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        texted,
        [
            ("long-term-access-key-used", "CRITICAL"),
            ("cloudtrail-tampered", "CRITICAL")
        ]
    );
}

/// Two critical acts of one kind in one session (the selectors changed, then logging stopped)
/// are two texts; one act repeated twenty times by another session is one.
#[tokio::test]
async fn each_critical_act_of_a_session_texts_once() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let people = Subscribers::of(&stack).await;

    let trail = "cloudtrail.amazonaws.com";
    let tampering = [
        keyed_call(0, LEAKED_KEY, trail, "PutEventSelectors"),
        keyed_call(30, LEAKED_KEY, trail, "StopLogging"),
    ];
    alert_all(&app, &tampering).await;
    assert_eq!(people.texts().await, 2);
    assert_eq!(people.emails().await, 2);

    let repeated: Vec<Value> = (0..20)
        .map(|i| keyed_call(100 + i, "AKIAQNZGKIQYFLOOD002", trail, "StopLogging"))
        .collect();
    let outcomes = alert_all(&app, &repeated).await;
    let paged: Vec<bool> = outcomes
        .iter()
        .map(|o| matches!(o, Outcome::Alerted { page: true, .. }))
        .collect();
    assert_eq!(paged.iter().filter(|p| **p).count(), 1, "{paged:?}");
    assert!(paged[0], "the first of the twenty texts");
    assert_eq!(people.texts().await, 1);
    assert_eq!(people.emails().await, 20, "every call is emailed");
}
