//! The handler: parse → classify → enrich → render (pure, [`decide`]) then publish ([`handle`]).

use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::alert::{Alert, enrich};
use crate::classify::{AlertKind, Classification, Severity, classify};
use crate::config::Config;
use crate::error::{EventError, HandlerError};
use crate::notification::{Notification, render};
use crate::record::parse_event;
use crate::sns::AlertPublisher;

/// What rootwatch decided to do with an event, before any I/O.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Alert {
        alert: Box<Alert>,
        notification: Box<Notification>,
    },
    Ignore {
        event_id: Option<String>,
        reason: String,
    },
}

/// The pure core: the same payload and config always give the same decision.
pub fn decide(payload: &Value, config: &Config) -> Result<Decision, EventError> {
    let event = parse_event(payload)?;
    match classify(&event) {
        Classification::Ignore { reason } => Ok(Decision::Ignore {
            event_id: event
                .detail
                .event_id
                .filter(|id| crate::record::is_event_id(id)),
            reason,
        }),
        Classification::Alert {
            kind,
            severity,
            credential,
            mfa,
        } => {
            let alert = enrich(&event, kind, severity, credential, mfa, config)?;
            let notification = render(&alert);
            Ok(Decision::Alert {
                alert: Box::new(alert),
                notification: Box::new(notification),
            })
        }
    }
}

/// The function's response, also logged: what happened to the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Outcome {
    #[serde(rename_all = "camelCase")]
    Alerted {
        event_id: Option<String>,
        kind: AlertKind,
        severity: Severity,
        message_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Ignored {
        event_id: Option<String>,
        reason: String,
    },
}

/// Handles one invocation: decides, publishes when there is an alert, and logs the outcome.
pub async fn handle<P: AlertPublisher>(
    payload: &Value,
    config: &Config,
    publisher: &P,
) -> Result<Outcome, HandlerError> {
    let decision = match decide(payload, config) {
        Ok(decision) => decision,
        Err(err) => {
            let err = HandlerError::from(err);
            error!(
                event_id = err_event_id(&err),
                error_type = err.error_type(),
                retryable = false,
                "{err}"
            );
            return Err(err);
        }
    };
    match decision {
        Decision::Ignore { event_id, reason } => {
            info!(event_id = event_id.as_deref(), %reason, "ignored");
            Ok(Outcome::Ignored { event_id, reason })
        }
        Decision::Alert { notification, .. } => match publisher.publish(&notification).await {
            Ok(message_id) => {
                info!(
                    event_id = notification.event_id.as_deref(),
                    kind = notification.kind.as_str(),
                    severity = notification.severity.as_str(),
                    %message_id,
                    "alert published"
                );
                Ok(Outcome::Alerted {
                    event_id: notification.event_id.clone(),
                    kind: notification.kind,
                    severity: notification.severity,
                    message_id,
                })
            }
            Err(err) => {
                let err = HandlerError::from(err);
                warn!(
                    event_id = notification.event_id.as_deref(),
                    error_type = err.error_type(),
                    retryable = true,
                    "{err}"
                );
                Err(err)
            }
        },
    }
}

fn err_event_id(err: &HandlerError) -> Option<&str> {
    match err {
        HandlerError::Event(e) => e.event_id(),
        HandlerError::Delivery(d) => Some(&d.event_id),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::error::DeliveryError;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";

    /// A publisher that records what it was given, or fails every time.
    #[derive(Default)]
    struct FakePublisher {
        sent: Mutex<Vec<Notification>>,
        fail: bool,
    }

    impl AlertPublisher for FakePublisher {
        async fn publish(&self, notification: &Notification) -> Result<String, DeliveryError> {
            if self.fail {
                return Err(DeliveryError {
                    event_id: "e".into(),
                    reason: "throttled".into(),
                });
            }
            let mut sent = self.sent.lock().unwrap();
            sent.push(notification.clone());
            Ok(format!("msg-{}", sent.len()))
        }
    }

    fn config() -> Config {
        Config::from_lookup(|k| (k == "ALERT_TOPIC_ARN").then(|| TOPIC.to_owned())).unwrap()
    }

    fn sample(name: &str) -> Value {
        let path = format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn alerts_are_published_once_and_ignored_events_not_at_all() {
        let publisher = FakePublisher::default();
        let alerted = handle(&sample("root-access-key-created"), &config(), &publisher)
            .await
            .unwrap();
        assert!(matches!(
            alerted,
            Outcome::Alerted { kind: AlertKind::AccessKeyCreated, severity: Severity::Critical, ref message_id, .. }
                if message_id == "msg-1"
        ));
        let ignored = handle(&sample("iam-user-console-sign-in"), &config(), &publisher)
            .await
            .unwrap();
        assert!(matches!(ignored, Outcome::Ignored { .. }));
        assert_eq!(publisher.sent.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_failed_publish_fails_the_invocation_as_retryable() {
        let publisher = FakePublisher {
            fail: true,
            ..Default::default()
        };
        let err = handle(&sample("root-access-key-created"), &config(), &publisher)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        let diagnostic = lambda_runtime::Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "Rootwatch.DeliveryFailed.Retryable");
    }

    #[tokio::test]
    async fn a_malformed_event_is_not_retryable_and_publishes_nothing() {
        let publisher = FakePublisher::default();
        let err = handle(
            &serde_json::json!({"detail-type": 1}),
            &config(),
            &publisher,
        )
        .await
        .unwrap_err();
        assert!(!err.is_retryable());
        assert!(publisher.sent.lock().unwrap().is_empty());
    }
}
