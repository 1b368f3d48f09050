//! Dedup and SMS coalescing against a real DynamoDB API and a real SNS API (moto on loopback),
//! checked from the servers' own records.

mod support;

use chrono::{DateTime, Utc};
use rootwatch::config::Config;
use rootwatch::dynamodb::DynamoState;
use rootwatch::handler::{Outcome, Rootwatch};
use rootwatch::sns::SnsPublisher;
use serde_json::{Value, json};
use support::moto::{MotoServer, drain_queue};
use support::valid_samples;

const TABLE: &str = "rootwatch-state";

struct Stack {
    moto: MotoServer,
    topic: String,
    app: Rootwatch<SnsPublisher, DynamoState>,
    dynamodb: aws_sdk_dynamodb::Client,
}

async fn stack_with_topic(topic_name: &str) -> Stack {
    let moto = MotoServer::start();
    let sdk = moto.sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name("rootwatch-alerts")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let dynamodb = moto.state_table(TABLE).await;
    let publish_to = topic.replace("rootwatch-alerts", topic_name);
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(publish_to.clone()),
        "STATE_TABLE" => Some(TABLE.into()),
        _ => None,
    })
    .unwrap();
    let app = Rootwatch::new(
        config.clone(),
        SnsPublisher::new(sns, config.topic_arn.clone()),
        DynamoState::new(dynamodb.clone(), TABLE),
    );
    Stack {
        moto,
        topic,
        app,
        dynamodb,
    }
}

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

async fn state_items(dynamodb: &aws_sdk_dynamodb::Client) -> Vec<String> {
    let mut keys: Vec<String> = dynamodb
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.get("pk")?.as_s().ok().cloned())
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn an_event_delivered_twice_is_alerted_once() {
    let stack = stack_with_topic("rootwatch-alerts").await;
    let event = sample("root-console-sign-in-without-mfa");
    let first = stack.app.handle(&event, Utc::now()).await.unwrap();
    assert!(
        matches!(first, Outcome::Alerted { page: true, .. }),
        "{first:?}"
    );
    let second = stack.app.handle(&event, Utc::now()).await.unwrap();
    assert!(matches!(second, Outcome::Duplicate { .. }), "{second:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
}

#[tokio::test]
async fn concurrent_duplicates_publish_once_and_the_loser_retries() {
    let stack = stack_with_topic("rootwatch-alerts").await;
    let event = sample("root-access-key-created");
    let (a, b) = tokio::join!(
        stack.app.handle(&event, Utc::now()),
        stack.app.handle(&event, Utc::now())
    );
    let results = [a, b];
    let alerted = results
        .iter()
        .filter(|r| matches!(r, Ok(Outcome::Alerted { .. })))
        .count();
    assert_eq!(alerted, 1, "{results:?}");
    for other in results
        .iter()
        .filter(|r| !matches!(r, Ok(Outcome::Alerted { .. })))
    {
        match other {
            Ok(Outcome::Duplicate { .. }) => {}
            Err(err) => {
                assert!(err.is_retryable(), "{err}");
                assert_eq!(err.error_type(), "Rootwatch.InFlight.Retryable");
                // Lambda's retry, once the winner has recorded the alert:
                let retried = stack.app.handle(&event, Utc::now()).await.unwrap();
                assert!(matches!(retried, Outcome::Duplicate { .. }), "{retried:?}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
}

#[tokio::test]
async fn a_root_session_pages_once_per_window_but_critical_always_pages() {
    let stack = stack_with_topic("rootwatch-alerts").await;
    let phone_policy = json!({"severity": ["CRITICAL", "HIGH"], "page": ["true"]});
    let (sqs, phone) = stack
        .moto
        .filtered_queue(&stack.topic, "phone", &phone_policy)
        .await;
    let t0: DateTime<Utc> = "2026-11-21T09:05:00Z".parse().unwrap();
    let minutes = |m: i64| t0 + chrono::Duration::minutes(m);
    let mut stop_logging = session_call(3, "StopLogging", minutes(5));
    stop_logging["detail"]["eventSource"] = json!("cloudtrail.amazonaws.com");
    let calls = [
        session_call(1, "CreateUser", minutes(0)), // first of the session: pages
        session_call(2, "AttachUserPolicy", minutes(3)), // same session: email only
        stop_logging,                              // CRITICAL: pages anyway
        session_call(4, "CreateLoginProfile", minutes(14)), // inside 15 min: email only
        session_call(5, "PutBucketPolicy", minutes(16)), // window over: pages again
    ];
    for call in &calls {
        stack.app.handle(call, Utc::now()).await.unwrap();
    }
    assert_eq!(
        page_attributes(&stack.moto, &stack.topic),
        ["true", "false", "true", "false", "true"]
    );
    let texted = drain_queue(&sqs, &phone).await;
    assert_eq!(
        texted.len(),
        3,
        "the phone gets the 3 paged alerts: {texted:?}"
    );
}

#[tokio::test]
async fn a_failed_publish_records_nothing_and_the_retry_still_pages() {
    let broken = stack_with_topic("deleted-topic").await;
    let event = session_call(7, "CreateUser", "2026-11-21T09:05:00Z".parse().unwrap());
    let err = broken.app.handle(&event, Utc::now()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(
        state_items(&broken.dynamodb).await.is_empty(),
        "no claim or session left behind"
    );

    // The same table and event, once SNS is reachable again (Lambda's retry):
    let fixed = Rootwatch::new(
        Config {
            topic_arn: rootwatch::config::TopicArn::parse(&broken.topic).unwrap(),
            ..broken.app.config.clone()
        },
        SnsPublisher::new(
            aws_sdk_sns::Client::new(&broken.moto.sdk_config().await),
            rootwatch::config::TopicArn::parse(&broken.topic).unwrap(),
        ),
        DynamoState::new(broken.dynamodb.clone(), TABLE),
    );
    let outcome = fixed.handle(&event, Utc::now()).await.unwrap();
    assert!(
        matches!(outcome, Outcome::Alerted { page: true, .. }),
        "{outcome:?}"
    );
    assert_eq!(page_attributes(&broken.moto, &broken.topic), ["true"]);
    let items = state_items(&broken.dynamodb).await;
    assert_eq!(items.len(), 2, "the event and its session: {items:?}");
}
