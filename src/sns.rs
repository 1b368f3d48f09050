//! Delivery through SNS: the port the handler publishes to, and the adapter that owns the client.

use std::future::Future;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_sns::error::{BuildError, DisplayErrorContext};
use aws_sdk_sns::operation::publish::builders::PublishInputBuilder;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::config::TopicArn;
use crate::error::DeliveryError;
use crate::notification::Notification;

/// Where alerts go. The handler is generic over it so the core is tested without a network.
pub trait AlertPublisher {
    /// Publishes one notification; returns the message id.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, DeliveryError>> + Send;
}

/// Per-attempt and whole-operation limits. With the standard retry policy (3 attempts, jittered
/// backoff) a publish that cannot succeed fails within [`OPERATION_TIMEOUT`], well inside the
/// function's 30 s timeout, so Lambda sees a retryable error instead of a timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);
pub const MAX_ATTEMPTS: u32 = 3;

/// The SDK config loader with rootwatch's timeouts and retries. Region, credentials and endpoint
/// (`AWS_ENDPOINT_URL_SNS` / `AWS_ENDPOINT_URL`) come from the SDK's standard chain.
pub fn sdk_config_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
}

/// Publishes to one SNS topic with a client built once at start-up.
#[derive(Debug, Clone)]
pub struct SnsPublisher {
    client: aws_sdk_sns::Client,
    topic: TopicArn,
}

impl SnsPublisher {
    pub fn new(client: aws_sdk_sns::Client, topic: TopicArn) -> Self {
        Self { client, topic }
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, BuildError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
}

/// The `Publish` request for a notification. Pure, so the exact wire request is unit-tested.
pub fn publish_request(
    topic: &TopicArn,
    notification: &Notification,
) -> Result<PublishInputBuilder, BuildError> {
    Ok(PublishInputBuilder::default()
        .topic_arn(topic.as_str())
        .message_structure("json")
        .message(notification.message_json())
        .subject(notification.subject.as_str())
        .message_attributes(
            "severity",
            string_attribute(notification.severity.as_str())?,
        )
        .message_attributes("kind", string_attribute(notification.kind.as_str())?)
        .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional")?))
}

impl AlertPublisher for SnsPublisher {
    async fn publish(&self, notification: &Notification) -> Result<String, DeliveryError> {
        let failed = |reason: String| DeliveryError {
            event_id: notification
                .event_id
                .clone()
                .unwrap_or_else(|| "(none)".into()),
            reason,
        };
        let request =
            publish_request(&self.topic, notification).map_err(|e| failed(e.to_string()))?;
        let output = request
            .send_with(&self.client)
            .await
            .map_err(|e| failed(DisplayErrorContext(&e).to_string()))?;
        Ok(output.message_id.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::{AlertKind, Severity};
    use crate::email::EmailSubject;
    use crate::sms::Sms;

    #[test]
    fn publish_request_carries_every_protocol_subject_and_filterable_attributes() {
        let topic = TopicArn::parse("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts").unwrap();
        let notification = Notification {
            event_id: Some("e-1".into()),
            severity: Severity::Critical,
            kind: AlertKind::SignInWithoutMfa,
            subject: EmailSubject::fit("[rootwatch] CRITICAL x"),
            sms: Sms::fit("CRITICAL x"),
            email_body: "body".into(),
            alert_json: r#"{"kind":"sign-in-without-mfa"}"#.into(),
        };
        let input = publish_request(&topic, &notification)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(input.topic_arn(), Some(topic.as_str()));
        assert_eq!(input.message_structure(), Some("json"));
        assert_eq!(input.subject(), Some("[rootwatch] CRITICAL x"));
        let message: serde_json::Value = serde_json::from_str(input.message().unwrap()).unwrap();
        assert_eq!(message["sms"], "CRITICAL x");
        assert_eq!(message["email"], "body");
        assert_eq!(message["email-json"], notification.alert_json);
        assert_eq!(message["default"], notification.alert_json);
        let attributes = input.message_attributes().unwrap();
        let value = |name: &str| attributes[name].string_value().unwrap().to_owned();
        assert_eq!(value("severity"), "CRITICAL");
        assert_eq!(value("kind"), "sign-in-without-mfa");
        assert_eq!(value("AWS.SNS.SMS.SMSType"), "Transactional");
        assert!(attributes.values().all(|a| a.data_type() == "String"));
    }
}
