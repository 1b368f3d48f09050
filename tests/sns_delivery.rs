//! The real SNS adapter against a real SNS API (moto in server mode on loopback), checked from
//! the server's own record of what was published.

mod support;

use chrono::Utc;
use rootwatch::handler::{Decision, Outcome, decide};
use serde_json::Value;
use support::stack::LocalStack;
use support::{config, invalid_samples, invocation, valid_samples};

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
                let Ok(Decision::Alert { notification, .. }) = decide(&payload, &config) else {
                    panic!("{name}: alerted but the core did not decide to alert");
                };
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
