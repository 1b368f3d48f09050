//! Delivery through SNS: the port the handler publishes to, and the adapter that owns the client.

use std::future::Future;

use aws_sdk_sns::error::{BuildError, DisplayErrorContext};
use aws_sdk_sns::operation::publish::builders::PublishInputBuilder;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::config::TopicArn;
use crate::error::DeliveryError;
use crate::render::notification::Notification;

/// Where alerts go. The handler is generic over it so the core is tested without a network.
pub trait AlertPublisher {
    /// Publishes one notification; returns the message id.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, DeliveryError>> + Send;
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
        .message_attributes(
            "page",
            string_attribute(if notification.page { "true" } else { "false" })?,
        )
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
    use crate::detect::classify::{AlertKind, Severity};
    use crate::render::email::EmailSubject;
    use crate::render::sms::{Sms, SmsLimit};

    #[test]
    fn publish_request_carries_every_protocol_subject_and_filterable_attributes() {
        let topic = TopicArn::parse("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts").unwrap();
        let notification = Notification {
            event_id: Some("e-1".into()),
            severity: Severity::Critical,
            kind: AlertKind::SignInWithoutMfa.into(),
            subject: EmailSubject::fit("[rootwatch] CRITICAL x"),
            sms: Sms::fit("CRITICAL x", SmsLimit::WHOLE_SEGMENT),
            email_body: "body".into(),
            alert_json: r#"{"kind":"sign-in-without-mfa"}"#.into(),
            chat_json: r#"{"version":"1.0"}"#.into(),
            page: false,
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
        assert_eq!(message["https"], notification.chat_json);
        let attributes = input.message_attributes().unwrap();
        let value = |name: &str| attributes[name].string_value().unwrap().to_owned();
        assert_eq!(value("severity"), "CRITICAL");
        assert_eq!(value("kind"), "sign-in-without-mfa");
        assert_eq!(value("page"), "false");
        assert_eq!(value("AWS.SNS.SMS.SMSType"), "Transactional");
        assert!(attributes.values().all(|a| a.data_type() == "String"));
    }
}
