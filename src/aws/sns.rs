//! The SNS adapter behind [`AlertPublisher`]: it owns the client, builds the one `Publish`
//! request of a notification with a pure function, and checks the topic at start-up.

use std::collections::HashMap;

use aws_sdk_sns::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sns::operation::publish::builders::PublishInputBuilder;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::domain::{SmsLimit, TopicArn};
use crate::ports::{AlertPublisher, DeliveryError};
use crate::render::notification::Notification;

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
fn publish_request(
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

/// What the start-up check read from the alert topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicCheck {
    /// `DisplayName`, empty when the topic has none: SNS puts it before every SMS.
    pub display_name: String,
    /// `KmsMasterKeyId`, when the topic is encrypted.
    pub kms_key: Option<String>,
}

/// Why the start-up check did not pass. Only [`TopicCheckError::Unusable`] stops start-up: an
/// alarm must fail towards alerting, so the function starts whenever a publish might still work.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TopicCheckError {
    /// SNS answered that no publish to the topic can work as configured: no such topic, an ARN
    /// it refuses (another region), or refused credentials. Start-up stops: no alert could be
    /// published anyway, and a failed init names the cause before every event fails on its own.
    #[error("the alert topic {topic} cannot be used: {code}: {message}. Likely cause: {cause}")]
    Unusable {
        topic: String,
        code: String,
        message: String,
        cause: &'static str,
    },
    /// The role or the topic's policy refuses `sns:GetTopicAttributes`. `sns:Publish` may still
    /// be allowed (a role written for a release without the check), so start-up goes on and the
    /// refusal is logged as an error: stopping would turn a missing read into lost alerts.
    #[error(
        "the function may not read the alert topic {topic}: {code}: {message}. Grant the function's \
         role sns:GetTopicAttributes on the topic (the template does); if the role may not \
         sns:Publish either, every alert will fail"
    )]
    NotPermitted {
        topic: String,
        code: String,
        message: String,
    },
    /// SNS could not be asked (network, throttling, a server error). Start-up goes on: each
    /// publish retries on its own.
    #[error("could not check the alert topic {topic}: {reason}")]
    Unavailable { topic: String, reason: String },
}

impl TopicCheckError {
    /// Whether start-up must stop: only when no alert could be published anyway.
    pub(crate) fn stops_start_up(&self) -> bool {
        matches!(self, TopicCheckError::Unusable { .. })
    }
}

/// The likely cause behind an error code of `GetTopicAttributes` that means no publish can work;
/// `None` for the others.
fn unusable_cause(code: &str) -> Option<&'static str> {
    Some(match code {
        "NotFound" => {
            "wrong ARN: there is no such topic in that account and region; check ALERT_TOPIC_ARN"
        }
        "InvalidParameter" => {
            "SNS refused the ARN; check ALERT_TOPIC_ARN, and that the topic is in the function's region (AWS_REGION)"
        }
        "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "InvalidSecurity" => "the function's AWS credentials were refused",
        _ => return None,
    })
}

/// Whether an error code is a refusal of the request by IAM or the topic's policy.
fn is_not_permitted(code: &str) -> bool {
    matches!(
        code,
        "AuthorizationError" | "AccessDenied" | "AccessDeniedException"
    )
}

/// What a failed check means, from SNS's error code (none for a timeout or a lost connection).
fn check_failure(
    topic: &TopicArn,
    code: Option<&str>,
    message: Option<&str>,
    detail: String,
) -> TopicCheckError {
    let topic = topic.as_str().to_owned();
    let message = || message.unwrap_or("(no message)").to_owned();
    match code {
        Some(code) if is_not_permitted(code) => TopicCheckError::NotPermitted {
            topic,
            code: code.to_owned(),
            message: message(),
        },
        Some(code) => match unusable_cause(code) {
            Some(cause) => TopicCheckError::Unusable {
                topic,
                code: code.to_owned(),
                message: message(),
                cause,
            },
            None => TopicCheckError::Unavailable {
                topic,
                reason: detail,
            },
        },
        None => TopicCheckError::Unavailable {
            topic,
            reason: detail,
        },
    }
}

impl TopicCheck {
    /// Reads the check from `GetTopicAttributes`'s attributes.
    fn from_attributes(attributes: Option<&HashMap<String, String>>) -> Self {
        let get = |name: &str| attributes.and_then(|a| a.get(name)).cloned();
        TopicCheck {
            display_name: get("DisplayName").unwrap_or_default(),
            kms_key: get("KmsMasterKeyId").filter(|k| !k.is_empty()),
        }
    }

    /// The SMS budget to use. The topic's own `DisplayName` is what SNS puts before every SMS,
    /// so it wins over `TOPIC_DISPLAY_NAME` (`configured`), which is only the fallback for a
    /// start-up that could not read it. The message, when there is one, is worth a warning:
    /// the two disagree, or the topic's name cannot prefix a GSM-7 SMS at all.
    pub fn sms_limit(&self, configured: SmsLimit) -> (SmsLimit, Option<String>) {
        match SmsLimit::after_display_name(&self.display_name) {
            Ok(limit) if limit == configured => (limit, None),
            Ok(limit) => (
                limit,
                Some(format!(
                    "the topic's DisplayName {:?} leaves {} characters for the SMS body, not the {} \
                     configured (TOPIC_DISPLAY_NAME): using {}; set TOPIC_DISPLAY_NAME to the topic's",
                    self.display_name,
                    limit.body_max(),
                    configured.body_max(),
                    limit.body_max()
                )),
            ),
            Err(problem) => (
                configured,
                Some(format!(
                    "the topic's DisplayName {:?} does not suit SMS ({problem}): every SMS may be \
                     split or sent as UCS-2; change the topic's DisplayName",
                    self.display_name
                )),
            ),
        }
    }
}

impl SnsPublisher {
    /// Proves at start-up that the topic exists and this function may use it, with the cheap
    /// `GetTopicAttributes` its role is granted. On the way it opens the TLS connection, loads
    /// the root certificates and warms the crypto that the first publish would otherwise pay
    /// for; the publish reuses the connection. It does not prove the KMS permissions: only a
    /// publish uses the topic's key.
    pub async fn check_topic(&self) -> Result<TopicCheck, TopicCheckError> {
        match self
            .client
            .get_topic_attributes()
            .topic_arn(self.topic.as_str())
            .send()
            .await
        {
            Ok(output) => Ok(TopicCheck::from_attributes(output.attributes())),
            Err(err) => Err(check_failure(
                &self.topic,
                err.code(),
                err.message(),
                DisplayErrorContext(&err).to_string(),
            )),
        }
    }
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
    use crate::domain::{AlertKind, Severity};
    use crate::render::email::EmailSubject;
    use crate::render::sms::Sms;

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
            event: crate::render::event::health_event(&crate::render::event::Health {
                kind: AlertKind::SignInWithoutMfa.into(),
                severity: Severity::Critical,
                account: &crate::render::event::NO_ACCOUNT,
                region: "us-east-1",
                time: None,
                title: "x",
                session: "s",
                event_id: None,
            }),
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

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";

    #[test]
    fn an_unusable_topic_stops_start_up_naming_the_topic_the_code_and_the_likely_cause() {
        let topic = TopicArn::parse(TOPIC).unwrap();
        for (code, cause) in [
            ("NotFound", "wrong ARN"),
            ("InvalidParameter", "region"),
            ("InvalidClientTokenId", "credentials"),
            ("SignatureDoesNotMatch", "credentials"),
        ] {
            let err = check_failure(&topic, Some(code), Some("nope"), "detail".into());
            assert!(matches!(err, TopicCheckError::Unusable { .. }), "{code}");
            assert!(err.stops_start_up());
            let text = err.to_string();
            assert!(
                text.contains(TOPIC) && text.contains(code) && text.contains(cause),
                "{text}"
            );
        }
    }

    #[test]
    fn a_refused_read_is_an_error_that_does_not_stop_start_up() {
        let topic = TopicArn::parse(TOPIC).unwrap();
        for code in ["AuthorizationError", "AccessDenied"] {
            let err = check_failure(&topic, Some(code), Some("no"), "detail".into());
            assert!(
                matches!(err, TopicCheckError::NotPermitted { .. }),
                "{code}"
            );
            assert!(!err.stops_start_up());
            let text = err.to_string();
            assert!(
                text.contains(TOPIC) && text.contains("sns:GetTopicAttributes"),
                "{text}"
            );
        }
    }

    #[test]
    fn throttling_server_errors_and_timeouts_do_not_stop_start_up() {
        let topic = TopicArn::parse(TOPIC).unwrap();
        for code in [Some("Throttled"), Some("InternalError"), None] {
            let err = check_failure(&topic, code, None, "dispatch failure".into());
            assert!(!err.stops_start_up());
            assert_eq!(
                err,
                TopicCheckError::Unavailable {
                    topic: TOPIC.into(),
                    reason: "dispatch failure".into()
                }
            );
        }
    }

    #[test]
    fn the_topics_own_display_name_sets_the_sms_budget() {
        let attributes = |name: &str| {
            HashMap::from([
                ("DisplayName".to_owned(), name.to_owned()),
                ("KmsMasterKeyId".to_owned(), "alias/rootwatch".to_owned()),
            ])
        };
        let rootwatch = SmsLimit::after_display_name("rootwatch").unwrap();
        let check = TopicCheck::from_attributes(Some(&attributes("rootwatch")));
        assert_eq!(check.kms_key.as_deref(), Some("alias/rootwatch"));
        assert_eq!(check.sms_limit(rootwatch), (rootwatch, None));

        let (limit, warning) = check.sms_limit(SmsLimit::WHOLE_SEGMENT);
        assert_eq!(limit, rootwatch);
        assert!(warning.unwrap().contains("TOPIC_DISPLAY_NAME"));

        let none = TopicCheck::from_attributes(None);
        assert_eq!(
            (none.display_name.as_str(), none.kms_key.as_deref()),
            ("", None)
        );
        assert_eq!(none.sms_limit(rootwatch).0, SmsLimit::WHOLE_SEGMENT);

        let (limit, warning) =
            TopicCheck::from_attributes(Some(&attributes("où"))).sms_limit(rootwatch);
        assert_eq!(limit, rootwatch);
        assert!(warning.unwrap().contains("UCS-2"));
    }
}
