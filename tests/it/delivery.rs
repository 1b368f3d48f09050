//! Delivering an alert: one SNS Publish per alert, carrying every protocol's message, none for
//! an event that is ignored or malformed (checked from moto's own record of what SNS published);
//! and a publish that fails — SNS refusing, answering 500s or throttling, never answering, a
//! closed port, an invocation near its deadline. A failed publish is a retryable error within its
//! stated bound, and leaves nothing recorded as sent in the state table (moto's DynamoDB): no
//! claim, no session, and the text it counted given back, so that Lambda's retry alerts as the
//! first attempt would have.

use std::time::{Duration, Instant};

use chrono::Utc;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sdk::dynamodb_client;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::domain::limits::{ATTEMPT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT, STATE_RESERVE};
use rootwatch::handler::{Handler, Outcome, decide};
use serde_json::Value;

use crate::support::faulty::{ClosedPort, Fault, FaultyServer};
use crate::support::moto::{MotoServer, sdk_config_for};
use crate::support::stack::{LocalStack, TABLE, state_config, table_keys, text_counts};
use crate::support::{
    OFFLINE_TOPIC, config, invalid_samples, invocation, invocation_with, sample, session_call,
    valid_samples,
};

/// The local stack with an email and an SMS subscriber, as an operator would set it up.
async fn stack_with_subscribers() -> LocalStack {
    let stack = LocalStack::start().await;
    stack
        .subscribe_people("secops@example.com", "+15555550100")
        .await;
    stack
}

fn attribute<'a>(attributes: &'a Value, name: &str) -> &'a str {
    attributes[name]["Value"]
        .as_str()
        .or_else(|| attributes[name]["StringValue"].as_str())
        .unwrap_or_else(|| panic!("attribute {name} missing from {attributes}"))
}

#[tokio::test]
async fn one_publish_per_alertable_event_with_every_protocol_and_none_for_ignored() {
    let stack = stack_with_subscribers().await;
    let (moto, topic) = (&stack.moto, &stack.topic);
    let config = config(topic);
    let app = stack.stateless_app(config.clone());

    let mut expected = Vec::new();
    let mut ignored = 0;
    for (name, payload) in valid_samples() {
        let outcome = app
            .handle(&payload, &invocation(), Utc::now())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match outcome {
            Outcome::Alerted { message_id, .. } => {
                let notification = decide(&payload, &config)
                    .ok()
                    .and_then(|d| d.notification().cloned())
                    .unwrap_or_else(|| {
                        panic!("{name}: alerted but the core did not decide to alert")
                    });
                expected.push((name, message_id, notification));
            }
            Outcome::Ignored { .. } => ignored += 1,
            Outcome::Duplicate { .. } => panic!("{name}: no state table, so no duplicates"),
        }
    }
    assert!(
        ignored >= 3,
        "the negatives (IAM user, role, service) are ignored"
    );

    let sent = moto.sent_notifications(topic);
    assert_eq!(
        sent.len(),
        expected.len(),
        "exactly one publish per alertable event and none for the {ignored} ignored ones"
    );
    for (name, message_id, notification) in expected {
        let record = sent
            .iter()
            .find(|n| n[0] == message_id.as_str())
            .unwrap_or_else(|| panic!("{name}: message {message_id} not recorded by SNS"));
        let message: Value = serde_json::from_str(record[1].as_str().expect("message text"))
            .unwrap_or_else(|e| panic!("{name}: MessageStructure=json message is not JSON: {e}"));
        assert_eq!(message["sms"], notification.sms.as_str(), "{name}");
        assert_eq!(message["email"], notification.email_body.as_str(), "{name}");
        assert_eq!(message["https"], notification.chat_json.as_str(), "{name}");
        let mut protocols: Vec<&str> = message
            .as_object()
            .expect("one entry per protocol")
            .keys()
            .map(String::as_str)
            .collect();
        protocols.sort_unstable();
        assert_eq!(
            protocols,
            ["default", "email", "email-json", "https", "sms"],
            "{name}"
        );
        let structured: Value =
            serde_json::from_str(message["email-json"].as_str().expect("email-json")).unwrap();
        assert_eq!(structured["kind"], notification.kind.as_str(), "{name}");
        assert_eq!(
            structured["severity"],
            notification.severity.as_str(),
            "{name}"
        );
        assert_eq!(message["default"], message["email-json"], "{name}");
        assert_eq!(record[2], notification.subject.as_str(), "{name}: subject");
        let attributes = &record[3];
        assert_eq!(
            attribute(attributes, "severity"),
            notification.severity.as_str()
        );
        assert_eq!(attribute(attributes, "kind"), notification.kind.as_str());
        assert_eq!(
            attribute(attributes, "AWS.SNS.SMS.SMSType"),
            "Transactional"
        );
    }
}

#[tokio::test]
async fn invalid_events_are_rejected_without_publishing() {
    let stack = stack_with_subscribers().await;
    let app = stack.stateless_app(config(&stack.topic));
    for (name, payload) in invalid_samples() {
        let err = app
            .handle(&payload, &invocation(), Utc::now())
            .await
            .expect_err(&format!("invalid/{name} must be rejected"));
        assert!(!err.is_retryable(), "{name}: {err}");
    }
    assert!(stack.moto.sent_notifications(&stack.topic).is_empty());
}

// --- Publishing fails ----------------------------------------------------------------------

/// No claim or session is left in the state table, and every text counted was given back.
async fn assert_nothing_recorded_as_sent(dynamodb: &aws_sdk_dynamodb::Client) {
    let left = dynamodb
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .expect("scan the state table");
    for item in left.items() {
        let pk = item["pk"].as_s().unwrap();
        let texts = item.get("texts").and_then(|t| t.as_n().ok());
        assert!(
            pk.starts_with("texts#") && texts.map(String::as_str) == Some("0"),
            "nothing recorded as sent: {item:?}"
        );
    }
}

#[tokio::test]
async fn a_publish_sns_refuses_is_a_retryable_error() {
    let stack = stack_with_subscribers().await;
    let app = stack.stateless_app(config(&stack.missing_topic()));
    let payload = sample("root-console-sign-in-without-mfa");
    let err = app
        .handle(&payload, &invocation(), Utc::now())
        .await
        .expect_err("publishing to a missing topic fails");
    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.error_type(), "Rootwatch.DeliveryFailed.Retryable");
    assert!(
        err.to_string()
            .contains("0f3b2c4d-1a2b-4c3d-8e9f-a1b2c3d4e5f6"),
        "{err}"
    );
    assert!(stack.moto.sent_notifications(&stack.topic).is_empty());
}

/// The stated bound: the SDK's operation timeout, plus the state-table calls around it and
/// scheduling slack on a loaded 2-core machine.
const BOUND: Duration = OPERATION_TIMEOUT.saturating_add(Duration::from_secs(3));

/// Publishes one alert to `sns_endpoint`, with the state table on moto; returns how long the
/// failure took.
async fn fail_against(sns_endpoint: &str) -> Duration {
    let moto = MotoServer::start();
    let dynamodb = moto.state_table(TABLE).await;
    let config = state_config(OFFLINE_TOPIC, &[]);
    let sns = aws_sdk_sns::Client::new(&sdk_config_for(sns_endpoint).await);
    let app = Handler::new(
        config.clone(),
        SnsPublisher::new(sns, config.topic_arn.clone()),
        DynamoState::new(dynamodb_client(&moto.sdk_config().await), TABLE),
    );
    let event = sample("root-console-sign-in-without-mfa");

    let started = Instant::now();
    let err = app
        .handle(&event, &invocation(), Utc::now())
        .await
        .expect_err("the publish cannot succeed");
    let took = started.elapsed();
    eprintln!("failed retryably after {took:?} (bound {BOUND:?})");

    assert!(err.is_retryable(), "{err}");
    assert_eq!(err.error_type(), "Rootwatch.DeliveryFailed.Retryable");
    assert!(
        took <= BOUND,
        "failed after {took:?}, over the stated {BOUND:?}"
    );
    assert_nothing_recorded_as_sent(&dynamodb).await;
    took
}

#[tokio::test]
async fn server_errors_are_retried_then_fail_retryably() {
    let server = FaultyServer::start(Fault::ServerError).await;
    fail_against(&server.endpoint).await;
    assert_eq!(
        server.requests(),
        MAX_ATTEMPTS as usize,
        "standard policy: every attempt used"
    );
}

#[tokio::test]
async fn throttling_is_retried_then_fails_retryably() {
    let server = FaultyServer::start(Fault::Throttled).await;
    fail_against(&server.endpoint).await;
    assert_eq!(server.requests(), MAX_ATTEMPTS as usize);
}

#[tokio::test]
async fn a_server_that_never_answers_is_cut_off_by_the_timeouts() {
    let server = FaultyServer::start(Fault::Silent).await;
    let took = fail_against(&server.endpoint).await;
    assert!(
        took >= ATTEMPT_TIMEOUT,
        "gave up after {took:?}, before one attempt timed out"
    );
    assert!(server.requests() >= 2, "the timed-out attempt was retried");
}

#[tokio::test]
async fn a_closed_port_fails_retryably_within_the_bound() {
    let closed = ClosedPort::reserve();
    fail_against(&closed.endpoint).await;
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
    assert_nothing_recorded_as_sent(&stack.dynamodb).await;

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
    assert_eq!(stack.pages(), ["true"]);
    let items = table_keys(&stack.dynamodb).await;
    assert_eq!(
        items.len(),
        3,
        "the event, its session and its account's hour: {items:?}"
    );
    let counts = text_counts(&stack.dynamodb).await;
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 1, "{counts:?}");
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
    let config = state_config(&stack.topic, &[]);
    let sns = aws_sdk_sns::Client::new(&sdk_config_for(&silent.endpoint).await);
    // The function's own table client: releasing the claims must keep to its 3 s bound for the
    // invocation to end before its deadline.
    let state_client = dynamodb_client(&sdk_config_for(&stack.state_proxy.endpoint).await);
    let app = Handler::new(
        config.clone(),
        SnsPublisher::new(sns, config.topic_arn.clone()),
        DynamoState::new(state_client, TABLE),
    );
    let left = Duration::from_secs(8);
    assert!(left < OPERATION_TIMEOUT && left > STATE_RESERVE);
    let short = invocation_with(left);

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
    assert_nothing_recorded_as_sent(&stack.dynamodb).await;
}
