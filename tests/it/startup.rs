//! The start-up check against a real local SNS and DynamoDB (moto): a topic that cannot be used
//! stops start-up with a message naming it and the likely cause; everything else (a refused read,
//! an unreachable or silent SNS, a missing or silent table) lets the function start, within the
//! start-up limit rather than the SDK's longer ones, and the topic's own DisplayName sets the SMS
//! budget.

use std::time::{Duration, Instant};

use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::{SnsPublisher, TopicCheckError};
use rootwatch::config::Config;
use rootwatch::domain::SmsLimit;
use rootwatch::domain::limits::{ATTEMPT_TIMEOUT, STARTUP_CHECK_TIMEOUT};
use rootwatch::startup;

use crate::support::faulty::{ClosedPort, Fault, FaultyServer};
use crate::support::moto::sdk_config_for;
use crate::support::stack::{LocalStack, TABLE, patient_client};

fn config(topic: &str, display_name: &str) -> Config {
    Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(topic.to_owned()),
        "TOPIC_DISPLAY_NAME" => Some(display_name.to_owned()),
        _ => None,
    })
    .expect("valid test configuration")
}

fn publisher(stack: &LocalStack, topic: &str) -> SnsPublisher {
    SnsPublisher::new(stack.sns.clone(), config(topic, "").topic_arn.clone())
}

#[tokio::test]
async fn a_topic_that_does_not_exist_stops_start_up_naming_it_and_the_cause() {
    let stack = LocalStack::start().await;
    let missing = stack.missing_topic();
    let err = publisher(&stack, &missing).check_topic().await.unwrap_err();
    assert!(
        matches!(&err, TopicCheckError::Unusable { code, .. } if code == "NotFound"),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&missing) && text.contains("ALERT_TOPIC_ARN"),
        "{text}"
    );

    let state = DynamoState::new(stack.dynamodb.clone(), TABLE);
    let stopped = startup::connect(
        config(&missing, ""),
        &publisher(&stack, &missing),
        Some(&state),
    )
    .await
    .unwrap_err();
    assert_eq!(stopped, err);
}

#[tokio::test]
async fn the_topics_own_display_name_sets_the_sms_budget() {
    let stack = LocalStack::start().await;
    stack
        .sns
        .set_topic_attributes()
        .topic_arn(&stack.topic)
        .attribute_name("DisplayName")
        .attribute_value("rootwatch")
        .send()
        .await
        .expect("set DisplayName");
    let check = publisher(&stack, &stack.topic).check_topic().await.unwrap();
    assert_eq!(check.display_name, "rootwatch");

    // Configured for another name: the topic's wins, as SNS will use it.
    let state = DynamoState::new(stack.dynamodb.clone(), TABLE);
    let config = startup::connect(
        config(&stack.topic, "a much longer name"),
        &publisher(&stack, &stack.topic),
        Some(&state),
    )
    .await
    .unwrap();
    assert_eq!(
        config.sms_limit,
        SmsLimit::after_display_name("rootwatch").unwrap()
    );
}

#[tokio::test]
async fn a_missing_table_or_an_unreachable_sns_does_not_stop_start_up() {
    let stack = LocalStack::start().await;
    let missing_table = DynamoState::new(stack.dynamodb.clone(), "no-such-table");
    assert!(missing_table.warm_up().await.is_err());
    let started = startup::connect(
        config(&stack.topic, "rootwatch"),
        &publisher(&stack, &stack.topic),
        Some(&missing_table),
    )
    .await;
    assert!(started.is_ok(), "{started:?}");

    let closed = ClosedPort::reserve();
    let unreachable = aws_sdk_sns::Client::new(&sdk_config_for(&closed.endpoint).await);
    let configured = config(&stack.topic, "rootwatch");
    let publisher = SnsPublisher::new(unreachable, configured.topic_arn.clone());
    let err = publisher.check_topic().await.unwrap_err();
    assert!(
        matches!(err, TopicCheckError::Unavailable { .. }),
        "{err:?}"
    );
    let started = startup::connect(configured.clone(), &publisher, None)
        .await
        .unwrap();
    assert_eq!(started.sms_limit, configured.sms_limit);
}

#[tokio::test]
async fn a_refused_read_of_the_topic_does_not_stop_start_up() {
    let refusing = FaultyServer::start(Fault::Forbidden).await;
    let client = aws_sdk_sns::Client::new(&sdk_config_for(&refusing.endpoint).await);
    let configured = config(
        "arn:aws:sns:us-east-1:123456789012:rootwatch-alerts",
        "rootwatch",
    );
    let publisher = SnsPublisher::new(client, configured.topic_arn.clone());
    let err = publisher.check_topic().await.unwrap_err();
    assert!(
        matches!(&err, TopicCheckError::NotPermitted { code, .. } if code == "AuthorizationError"),
        "{err:?}"
    );
    assert!(err.to_string().contains("sns:GetTopicAttributes"), "{err}");
    let started = startup::connect(configured.clone(), &publisher, None)
        .await
        .unwrap();
    assert_eq!(started.sms_limit, configured.sms_limit);
}

/// Servers that accept a request and never answer: the SDK alone would hold the SNS check for a
/// 5 s attempt (12 s in all, beyond Lambda's 10 s for init) and the table's for as long as its
/// client allows — here 10 s an attempt, so that only the start-up limit can end its check early
/// (the deployed table client's own 1 s attempt is checked in `sdk.rs`). The start-up limit lets both
/// go, side by side, and the function starts with its configured SMS budget.
#[tokio::test]
async fn silent_servers_are_let_go_at_the_start_up_limit() {
    let silent_sns = FaultyServer::start(Fault::Silent).await;
    let silent_table = FaultyServer::start(Fault::Silent).await;
    let configured = config(
        "arn:aws:sns:us-east-1:123456789012:rootwatch-alerts",
        "rootwatch",
    );
    let publisher = SnsPublisher::new(
        aws_sdk_sns::Client::new(&sdk_config_for(&silent_sns.endpoint).await),
        configured.topic_arn.clone(),
    );
    let state = DynamoState::new(patient_client(&silent_table.endpoint).await, TABLE);

    // Every SDK limit that could end the checks is longer than the bound (SNS's 5 s attempt is
    // the shortest), and the bound leaves the start-up limit seconds of slack on a loaded
    // machine: an early return is the start-up limit's doing.
    let limit = Duration::from_millis(200);
    let bound = ATTEMPT_TIMEOUT;
    assert!(limit + Duration::from_secs(4) <= bound);
    let started = Instant::now();
    let checked = startup::connect_within(configured.clone(), &publisher, Some(&state), limit)
        .await
        .expect("silence does not stop start-up");
    let took = started.elapsed();

    assert_eq!(checked.sms_limit, configured.sms_limit);
    assert!(silent_sns.requests() >= 1 && silent_table.requests() >= 1);
    assert!(
        took < bound,
        "start-up waited {took:?} with a {limit:?} limit"
    );
    assert!(STARTUP_CHECK_TIMEOUT < Duration::from_secs(10));
}
