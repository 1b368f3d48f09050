//! Real failures, not mocks: the SNS endpoint answers 500s, throttles, accepts and never answers,
//! or is a closed port. Each time the function retries within the SDK's standard policy, then
//! fails the invocation with a retryable error within the stated bound, without panicking, and
//! leaves nothing recorded as sent in the state table (moto's DynamoDB): no claim, no session,
//! and the text it counted given back.

mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::config::Config;
use rootwatch::domain::limits::{ATTEMPT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT};
use rootwatch::handler::Handler;
use support::faulty::{Fault, FaultyServer, closed_port_endpoint};
use support::moto::{MotoServer, sdk_config_for};
use support::{invocation, valid_samples};

const TABLE: &str = "rootwatch-state";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";

/// The stated bound: the SDK's operation timeout, plus the state-table calls around it and
/// scheduling slack on a loaded 2-core machine.
const BOUND: Duration = OPERATION_TIMEOUT.saturating_add(Duration::from_secs(3));

/// Publishes one alert to `sns_endpoint`; returns how long the failure took.
async fn fail_against(sns_endpoint: &str) -> Duration {
    let moto = MotoServer::start();
    let dynamodb = moto.state_table(TABLE).await;
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(TOPIC.into()),
        "STATE_TABLE" => Some(TABLE.into()),
        _ => None,
    })
    .unwrap();
    let sns = aws_sdk_sns::Client::new(&sdk_config_for(sns_endpoint).await);
    let app = Handler::new(
        config.clone(),
        SnsPublisher::new(sns, config.topic_arn.clone()),
        DynamoState::new(
            rootwatch::aws::sdk::dynamodb_client(&moto.sdk_config().await),
            TABLE,
        ),
    );
    let (_, event) = valid_samples()
        .into_iter()
        .find(|(n, _)| n == "root-console-sign-in-without-mfa")
        .unwrap();

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
    // No claim or session is left, and the text counted for the alert was given back.
    let left = dynamodb.scan().table_name(TABLE).send().await.unwrap();
    for item in left.items() {
        let pk = item["pk"].as_s().unwrap();
        let texts = item.get("texts").and_then(|t| t.as_n().ok());
        assert!(
            pk.starts_with("texts#") && texts.map(String::as_str) == Some("0"),
            "nothing recorded as sent: {item:?}"
        );
    }
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
async fn a_closed_port_fails_fast_and_retryably() {
    let endpoint = closed_port_endpoint().await;
    fail_against(&endpoint).await;
}
