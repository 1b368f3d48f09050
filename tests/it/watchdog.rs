//! The watchdog against real local APIs: moto's CloudTrail, SNS and DynamoDB in server mode,
//! reached through the SDK. The function is invoked with a scheduled event; what it published
//! is read from moto's own record of the topic.

use aws_sdk_cloudtrail::types::EventSelector;
use chrono::{DateTime, Utc};
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::dispatch::{Function, Response};
use rootwatch::ports::Stateless;
use rootwatch::ports::WatchdogState;
use rootwatch::watchdog::WatchdogOutcome;
use serde_json::{Value, json};

use crate::support::faulty::ClosedPort;
use crate::support::gsm7::segment_problem;
use crate::support::moto::MotoServer;
use crate::support::stack::{LocalStack, TABLE, function};
use crate::support::{TOPIC_DISPLAY_NAME, config, invocation, sample};

const BUCKET: &str = "rootwatch-test-trail-logs";

/// What EventBridge sends when the watchdog's schedule fires.
pub(crate) fn tick() -> Value {
    json!({
        "version": "0",
        "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-22T03:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/rootwatch-watchdog"],
        "detail": {}
    })
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

async fn stateless(
    stack: &LocalStack,
) -> Function<SnsPublisher, Stateless, CloudTrailSource, Stateless> {
    let app = stack.stateless_app(config(&stack.topic));
    function(app, Stateless, &stack.moto.endpoint).await
}

async fn with_table(
    stack: &LocalStack,
) -> Function<SnsPublisher, DynamoState, CloudTrailSource, DynamoWatchdogState> {
    let app = stack.app(&stack.topic);
    let state = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
    function(app, state, &stack.moto.endpoint).await
}

/// `(kind attribute, severity attribute, page attribute, parsed message)` of each publish.
pub(crate) fn published(moto: &MotoServer, topic: &str) -> Vec<(String, String, String, Value)> {
    moto.sent_notifications(topic)
        .iter()
        .map(|n| {
            let attr = |name: &str| n[3][name]["Value"].as_str().unwrap_or("missing").to_owned();
            let message = serde_json::from_str(n[1].as_str().unwrap()).unwrap();
            (attr("kind"), attr("severity"), attr("page"), message)
        })
        .collect()
}

async fn cloudtrail(moto: &MotoServer) -> aws_sdk_cloudtrail::Client {
    aws_sdk_cloudtrail::Client::new(&moto.sdk_config().await)
}

/// A bucket for trails to log to. moto's CloudTrail requires it to exist; the project has no
/// S3 client, so this is moto's REST API, signed with a credential scope naming S3.
fn create_bucket(moto: &MotoServer) {
    ureq::put(&format!("{}/{BUCKET}", moto.endpoint))
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .send_empty()
        .expect("create bucket");
}

/// A multi-region trail, logging.
pub(crate) async fn logging_trail(moto: &MotoServer, name: &str) -> aws_sdk_cloudtrail::Client {
    create_bucket(moto);
    let ct = cloudtrail(moto).await;
    ct.create_trail()
        .name(name)
        .s3_bucket_name(BUCKET)
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("create trail");
    ct.start_logging()
        .name(name)
        .send()
        .await
        .expect("start logging");
    ct
}

async fn run<P, S, T, W>(f: &Function<P, S, T, W>, now: DateTime<Utc>) -> Response
where
    P: rootwatch::ports::AlertPublisher,
    S: rootwatch::ports::AlertState + rootwatch::ports::Declarations,
    T: rootwatch::ports::TrailSource,
    W: WatchdogState,
{
    let (result, _) = f.handle(&tick(), &invocation(), now).await;
    result.expect("the watchdog publishes or stays quiet; it fails only when SNS does")
}

#[tokio::test]
async fn no_trail_gives_one_pipeline_blind_alert() {
    let stack = LocalStack::start().await;
    let f = stateless(&stack).await;
    let response = run(&f, Utc::now()).await;
    assert!(
        matches!(&response, Response::Tick { watchdog: WatchdogOutcome::Blind { findings, message_id: Some(_) }, .. } if findings == &["no-trail"]),
        "{response:?}"
    );
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (kind, severity, page, message) = &sent[0];
    assert_eq!(
        (kind.as_str(), severity.as_str(), page.as_str()),
        ("pipeline-blind", "HIGH", "true")
    );
    let sms = message["sms"].as_str().unwrap();
    assert!(
        sms.starts_with(
            "HIGH rootwatch is blind in us-east-1, acct 123456789012: no CloudTrail trail"
        ),
        "{sms}"
    );
    // Judged with the tests' own GSM-7 table and SNS's prefix, not the code's validator.
    if let Some(problem) = segment_problem(TOPIC_DISPLAY_NAME, sms) {
        panic!("the watchdog's SMS is not one segment: {problem}");
    }
    assert!(
        message["email"]
            .as_str()
            .unwrap()
            .contains("--is-multi-region-trail")
    );
    let structured: Value = serde_json::from_str(message["default"].as_str().unwrap()).unwrap();
    assert_eq!(structured["findings"], json!([{"finding": "no-trail"}]));
}

/// moto returns no selectors for a new trail where AWS returns the default (all management
/// events); the watchdog treats both as recording management events.
#[tokio::test]
async fn a_logging_multi_region_trail_gives_none_and_stopping_it_gives_one() {
    let stack = LocalStack::start().await;
    let ct = logging_trail(&stack.moto, "management-events").await;
    let selectors = ct
        .get_event_selectors()
        .trail_name("management-events")
        .send()
        .await
        .unwrap();
    assert!(
        selectors.event_selectors().is_empty() && selectors.advanced_event_selectors().is_empty()
    );
    let f = stateless(&stack).await;

    let response = run(&f, Utc::now()).await;
    assert_eq!(
        response,
        Response::Tick {
            watchdog: WatchdogOutcome::Healthy {
                feeding: vec!["management-events".into()]
            },
            posture: rootwatch::posture::PostureOutcome::Off,
            audit: rootwatch::posture::members::AuditOutcome::Off,
            reports: Default::default(),
        }
    );
    assert!(published(&stack.moto, &stack.topic).is_empty());

    ct.stop_logging()
        .name("management-events")
        .send()
        .await
        .unwrap();
    let response = run(&f, Utc::now()).await;
    assert!(
        matches!(&response, Response::Tick { watchdog: WatchdogOutcome::Blind { findings, .. }, .. }
            if findings.len() == 1 && findings[0].starts_with("not-logging:arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events")),
        "{response:?}"
    );
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "pipeline-blind");
    assert!(sent[0].3["email"].as_str().unwrap().contains("aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events"));
}

#[tokio::test]
async fn selectors_without_management_events_give_one_alert() {
    let stack = LocalStack::start().await;
    let ct = logging_trail(&stack.moto, "data-only").await;
    ct.put_event_selectors()
        .trail_name("data-only")
        .event_selectors(
            EventSelector::builder()
                .include_management_events(false)
                .build(),
        )
        .send()
        .await
        .expect("put selectors");
    let f = stateless(&stack).await;
    let response = run(&f, Utc::now()).await;
    assert!(
        matches!(&response, Response::Tick { watchdog: WatchdogOutcome::Blind { findings, message_id: Some(_) }, .. }
            if findings.len() == 1 && findings[0].starts_with("no-management-events:")),
        "{response:?}"
    );
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].3["email"]
            .as_str()
            .unwrap()
            .contains("put-event-selectors")
    );
}

#[tokio::test]
async fn with_the_table_a_condition_alerts_once_a_day_and_a_new_one_at_once() {
    let stack = LocalStack::start().await;
    let f = with_table(&stack).await;
    run(&f, at("2026-11-22T01:00:00Z")).await;
    run(&f, at("2026-11-22T02:00:00Z")).await;
    assert_eq!(
        published(&stack.moto, &stack.topic).len(),
        1,
        "same condition, same day"
    );

    // A new condition: the trail exists now, but was never started.
    create_bucket(&stack.moto);
    cloudtrail(&stack.moto)
        .await
        .create_trail()
        .name("never-started")
        .s3_bucket_name(BUCKET)
        .is_multi_region_trail(true)
        .send()
        .await
        .unwrap();
    run(&f, at("2026-11-22T03:00:00Z")).await;
    run(&f, at("2026-11-22T04:00:00Z")).await;
    assert_eq!(
        published(&stack.moto, &stack.topic).len(),
        2,
        "a new condition alerts at once"
    );

    run(&f, at("2026-11-23T00:30:00Z")).await;
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 3, "the same condition again the next day");
    assert!(sent.iter().all(|s| s.0 == "pipeline-blind"));

    let marks: Vec<String> = stack
        .dynamodb
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .items()
        .iter()
        .filter_map(|i| i.get("pk")?.as_s().ok().cloned())
        .filter(|pk| pk.starts_with("watchdog#"))
        .collect();
    assert_eq!(marks.len(), 3, "{marks:?}");
}

/// CloudTrail cannot be reached: the failure is itself the alert, never swallowed.
#[tokio::test]
async fn a_failed_check_is_published_as_such() {
    let stack = LocalStack::start().await;
    let app = stack.stateless_app(config(&stack.topic));
    let closed = ClosedPort::reserve();
    let f = function(app, Stateless, &closed.endpoint).await;
    let response = run(&f, Utc::now()).await;
    assert!(
        matches!(&response, Response::Tick { watchdog: WatchdogOutcome::Blind { findings, message_id: Some(_) }, .. } if findings == &["check-failed"]),
        "{response:?}"
    );
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 1);
    let email = sent[0].3["email"].as_str().unwrap();
    assert!(email.contains("The check itself failed"), "{email}");
    assert!(email.contains("DescribeTrails"), "{email}");
}

/// The metrics line each run emits, parsed as CloudWatch would: healthy 1, blind 0.
#[tokio::test]
async fn each_run_emits_watchdog_healthy_as_embedded_metrics() {
    let stack = LocalStack::start().await;
    let f = stateless(&stack).await;
    let healthy_of = |line: String| {
        let v: Value = serde_json::from_str(&line).unwrap();
        let names: Vec<&str> = v["_aws"]["CloudWatchMetrics"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| d["Metrics"].as_array().unwrap().iter())
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"WatchdogHealthy"), "{v}");
        (v["WatchdogHealthy"].as_u64(), v["Alerts"].as_u64())
    };
    let (_, blind) = f.handle(&tick(), &invocation(), Utc::now()).await;
    assert_eq!(
        healthy_of(blind.emf("rootwatch", Utc::now()).unwrap()),
        (Some(0), Some(1))
    );

    logging_trail(&stack.moto, "main").await;
    let (_, healthy) = f.handle(&tick(), &invocation(), Utc::now()).await;
    assert_eq!(
        healthy_of(healthy.emf("rootwatch", Utc::now()).unwrap()),
        (Some(1), None)
    );
}

/// Other events still go to the handler.
#[tokio::test]
async fn root_events_are_not_the_watchdogs() {
    let stack = LocalStack::start().await;
    let f = stateless(&stack).await;
    let event = sample("root-access-key-created");
    let (result, metrics) = f.handle(&event, &invocation(), Utc::now()).await;
    assert!(matches!(result, Ok(Response::Event(_))));
    assert_eq!(metrics.watchdog_healthy, None);
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "access-key-created");
}
