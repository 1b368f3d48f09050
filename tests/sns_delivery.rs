//! The real SNS adapter against a real SNS API (moto in server mode on loopback), checked from
//! the server's own record of what was published.

mod support;

use chrono::Utc;
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::dispatch::Function;
use rootwatch::handler::{Decision, Outcome, decide};
use rootwatch::watchdog::Watchdog;
use serde_json::{Value, json};
use support::stack::{LocalStack, TABLE, table_keys};
use support::{config, invalid_samples, invocation, peer_samples, valid_samples};

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

#[tokio::test]
async fn a_publish_sns_refuses_is_a_retryable_error() {
    let stack = stack_with_subscribers().await;
    let app = stack.stateless_app(config(&stack.missing_topic()));
    let (_, payload) = valid_samples()
        .into_iter()
        .find(|(name, _)| name == "root-console-sign-in-without-mfa")
        .expect("sample");
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

/// Envelopes anyone allowed `events:PutEvents` could send, handed to the function as Lambda
/// would (the watchdog's dispatch included), with the state table: every alerting sample under
/// a source that is not AWS's (another, none, one that reads like AWS's), the forged samples in
/// `events/invalid/`, and a schedule tick from a custom source, which would find moto's account
/// without a trail and alert if it reached the watchdog. Read from moto's record: nothing
/// published, nothing written to the state table; each refused as `Rootwatch.UntrustedSource`
/// and counted in the invocation's metrics.
#[tokio::test]
async fn forged_envelopes_never_publish_and_leave_no_state() {
    let stack = stack_with_subscribers().await;
    let app = stack.app(&stack.topic);
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&stack.moto.sdk_config().await);
    let function = Function {
        watchdog: Watchdog {
            trails: CloudTrailSource::new(cloudtrail),
            publisher: app.publisher.clone(),
            state: DynamoWatchdogState::new(stack.state_client.clone(), TABLE),
            account: app.config.topic_arn.account().to_owned(),
            region: "us-east-1".into(),
            sms_limit: app.config.sms_limit,
            runbook_url: None,
        },
        handler: app,
    };

    let mut forged: Vec<Value> = Vec::new();
    for (_, event) in valid_samples().into_iter().chain(peer_samples()) {
        if !matches!(
            decide(&event, &config(&stack.topic)),
            Ok(Decision::Alert { .. })
        ) {
            continue;
        }
        for source in [
            json!("com.example.forged"),
            json!("cloudtrail"),
            Value::Null,
        ] {
            let mut envelope = event.clone();
            envelope["source"] = source;
            forged.push(envelope);
        }
    }
    forged.extend(
        invalid_samples()
            .into_iter()
            .filter(|(name, _)| name.starts_with("forged-"))
            .map(|(_, event)| event),
    );
    forged.push(json!({
        "version": "0",
        "id": "89d1a02d-5ec7-412e-82f5-13505f849b42",
        "detail-type": "Scheduled Event",
        "source": "com.example.events",
        "account": "123456789012",
        "time": "2026-11-22T03:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {}
    }));
    assert!(forged.len() > 100, "{} forged envelopes", forged.len());

    for envelope in &forged {
        let (result, metrics) = function.handle(envelope, &invocation(), Utc::now()).await;
        let err = result.expect_err("a forged envelope is refused");
        assert_eq!(err.error_type(), "Rootwatch.UntrustedSource", "{err}");
        assert!(!err.is_retryable());
        let line: Value = serde_json::from_str(&metrics.emf("rootwatch", Utc::now()).unwrap())
            .expect("an EMF line");
        assert_eq!(line["UntrustedEvents"], 1);
        assert!(line.get("Alerts").is_none(), "{line}");
    }
    assert!(
        stack.moto.sent_notifications(&stack.topic).is_empty(),
        "a forged envelope was published"
    );
    assert!(
        table_keys(&stack.dynamodb).await.is_empty(),
        "a forged envelope claimed state"
    );
}
