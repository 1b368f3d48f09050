//! The handler: parse → classify → enrich → render (pure, [`decide`]), then claim, publish and
//! record ([`Rootwatch::handle`]).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::aws::sns::AlertPublisher;
use crate::config::Config;
use crate::detect::alert::{Alert, enrich};
use crate::detect::classify::{Classification, Severity, classify};
use crate::detect::record::parse_event;
use crate::error::{DeliveryError, EventError, HandlerError, OutOfTime};
use crate::invocation::{Budget, Invocation};
use crate::render::notification::{Notification, NotificationKind, render};
use crate::state::{AlertState, Begin, Claim, EventKey, StateError};

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
    let parsed = parse_event(payload)?;
    match classify(&parsed.event) {
        Classification::Ignore { reason } => Ok(Decision::Ignore {
            event_id: parsed.event.detail.valid_event_id().map(str::to_owned),
            reason,
        }),
        Classification::Alert(verdict) => {
            let alert = enrich(&parsed, verdict, config);
            let notification = render(&alert, config.sms_limit);
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
        kind: NotificationKind,
        severity: Severity,
        /// Whether phones get it (the session's first alert, or a critical one).
        page: bool,
        message_id: String,
        /// Whether the state table guarded this publish against duplicates; `false` without a
        /// table, or when it did not answer and the alert went out anyway.
        deduplicated: bool,
    },
    #[serde(rename_all = "camelCase")]
    Ignored {
        event_id: Option<String>,
        reason: String,
    },
    /// Already alerted by an earlier delivery of the same event.
    #[serde(rename_all = "camelCase")]
    Duplicate { event_id: Option<String> },
}

/// The function: configuration plus its two edges, the publisher and the state store.
#[derive(Debug, Clone)]
pub struct Rootwatch<P, S> {
    pub config: Config,
    pub publisher: P,
    pub state: S,
}

impl<P: AlertPublisher, S: AlertState> Rootwatch<P, S> {
    pub fn new(config: Config, publisher: P, state: S) -> Self {
        Self {
            config,
            publisher,
            state,
        }
    }

    /// Handles one invocation: decides, publishes when there is an alert, and logs the outcome.
    /// `invocation` names the claim's owner and sets the deadline every step keeps to; `now` is
    /// the wall clock at the start, read once (later times add a monotonic clock to it) and used
    /// to compare leases and set expiry in the state table.
    pub async fn handle(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<Outcome, HandlerError> {
        let budget = Budget::start(invocation, now);
        match decide(payload, &self.config) {
            Err(err) => {
                let err = HandlerError::from(err);
                error!(
                    event_id = err.event_id(),
                    error_type = err.error_type(),
                    retryable = false,
                    "{err}"
                );
                Err(err)
            }
            Ok(Decision::Ignore { event_id, reason }) => {
                info!(event_id = event_id.as_deref(), %reason, "ignored");
                Ok(Outcome::Ignored { event_id, reason })
            }
            Ok(Decision::Alert {
                alert,
                notification,
            }) => {
                let key = EventKey::of(alert.event_id.as_deref(), payload);
                let claim = Claim::for_alert(
                    &alert,
                    key,
                    invocation,
                    self.config.session_window,
                    &self.config.sms_severities,
                );
                self.deliver(&claim, *notification, &budget).await
            }
        }
    }

    async fn deliver(
        &self,
        claim: &Claim,
        mut notification: Notification,
        budget: &Budget,
    ) -> Result<Outcome, HandlerError> {
        let event_id = notification.event_id.clone();
        let key = claim.key.as_str();
        if !budget.can_publish() {
            // Nothing claimed yet: the retry starts from a clean table.
            return Err(self.out_of_time(claim, budget, false).await);
        }
        let deduplicated;
        (notification.page, deduplicated) = match self.state.begin(claim, budget).await {
            Ok(Begin::Duplicate) => {
                info!(
                    event_id = event_id.as_deref(),
                    key, "duplicate: already alerted"
                );
                return Ok(Outcome::Duplicate { event_id });
            }
            Ok(Begin::Proceed { page, deduplicated }) => (page, deduplicated),
            Err(err @ StateError::InFlight { .. }) => {
                let err = HandlerError::from(err);
                warn!(
                    event_id = event_id.as_deref(),
                    key,
                    error_type = err.error_type(),
                    retryable = true,
                    "{err}"
                );
                return Err(err);
            }
            // Fail open: a duplicate alert is better than a late one.
            Err(err @ StateError::Unavailable { .. }) => {
                warn!(
                    event_id = event_id.as_deref(),
                    key, "alerting without dedup or coalescing: {err}"
                );
                (true, false)
            }
        };
        if !budget.can_publish() {
            return Err(self.out_of_time(claim, budget, true).await);
        }
        let published = tokio::time::timeout_at(
            budget.publish_until(),
            self.publisher.publish(&notification),
        )
        .await
        .unwrap_or_else(|_| {
            Err(DeliveryError {
                event_id: key.to_owned(),
                reason: format!(
                    "no answer in time: cut off {:.1} s before the invocation deadline, \
                     to release the claim and fail retryably",
                    budget.left().as_secs_f64()
                ),
            })
        });
        match published {
            Ok(message_id) => {
                if let Err(err) = self.state.complete(claim, &message_id, budget.now()).await {
                    warn!(
                        event_id = event_id.as_deref(),
                        key,
                        "alert published but not recorded; a redelivery may alert again: {err}"
                    );
                }
                info!(
                    event_id = event_id.as_deref(),
                    key,
                    kind = notification.kind.as_str(),
                    severity = notification.severity.as_str(),
                    page = notification.page,
                    deduplicated,
                    %message_id,
                    "alert published"
                );
                Ok(Outcome::Alerted {
                    event_id,
                    kind: notification.kind,
                    severity: notification.severity,
                    page: notification.page,
                    message_id,
                    deduplicated,
                })
            }
            Err(err) => {
                self.release(claim).await;
                let err = HandlerError::from(err);
                warn!(
                    event_id = event_id.as_deref(),
                    key,
                    error_type = err.error_type(),
                    retryable = true,
                    "{err}"
                );
                Err(err)
            }
        }
    }

    /// Gives up before the deadline: releases what was claimed and says so.
    async fn out_of_time(&self, claim: &Claim, budget: &Budget, claimed: bool) -> HandlerError {
        let err = HandlerError::from(OutOfTime {
            event_id: claim.key.to_string(),
            left: budget.left(),
        });
        if claimed {
            self.release(claim).await;
        }
        warn!(
            key = claim.key.as_str(),
            error_type = err.error_type(),
            retryable = true,
            "{err}"
        );
        err
    }

    async fn release(&self, claim: &Claim) {
        if let Err(err) = self.state.abandon(claim).await {
            warn!(
                key = claim.key.as_str(),
                "claims not released; they expire with their lease: {err}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::detect::classify::AlertKind;
    use crate::error::DeliveryError;
    use crate::state::Stateless;

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

    fn app(publisher: FakePublisher) -> Rootwatch<FakePublisher, Stateless> {
        let config =
            Config::from_lookup(|k| (k == "ALERT_TOPIC_ARN").then(|| TOPIC.to_owned())).unwrap();
        Rootwatch::new(config, publisher, Stateless)
    }

    /// An invocation with Lambda's whole 30 s ahead of it.
    fn invocation() -> Invocation {
        Invocation::new("req-1", Utc::now() + chrono::Duration::seconds(30))
    }

    fn sample(name: &str) -> Value {
        let path = format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// The kind and the outcome row read the same fact from the record; they must agree, also
    /// for a sign-in record that carries no answer at all.
    #[test]
    fn a_failed_sign_in_kind_always_comes_with_a_failed_outcome() {
        let mut unanswered = sample("root-console-sign-in-without-mfa");
        unanswered["detail"]["responseElements"] = Value::Null;
        let dir = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
        let mut events = vec![unanswered];
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                events.push(serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap());
            }
        }
        let config = app(FakePublisher::default()).config;
        let mut sign_ins = 0;
        for event in events {
            if let Ok(Decision::Alert { alert, .. }) = decide(&event, &config) {
                if alert.event_name == "ConsoleLogin" {
                    sign_ins += 1;
                    let failed = alert.outcome != crate::detect::alert::Outcome::Success;
                    assert_eq!(alert.kind == AlertKind::SignInFailed, failed, "{alert:?}");
                }
            }
        }
        assert!(sign_ins >= 5);
    }

    #[tokio::test]
    async fn alerts_are_published_once_and_ignored_events_not_at_all() {
        let app = app(FakePublisher::default());
        let alerted = app
            .handle(
                &sample("root-access-key-created"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(matches!(
            alerted,
            Outcome::Alerted { kind: NotificationKind::Root(AlertKind::AccessKeyCreated), severity: Severity::Critical, ref message_id, .. }
                if message_id == "msg-1"
        ));
        let ignored = app
            .handle(
                &sample("iam-user-console-sign-in"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(matches!(ignored, Outcome::Ignored { .. }));
        assert_eq!(app.publisher.sent.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn without_a_table_alerts_say_they_were_not_deduplicated() {
        let app = app(FakePublisher::default());
        let alerted = app
            .handle(
                &sample("root-access-key-created"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap();
        assert!(
            matches!(
                alerted,
                Outcome::Alerted {
                    deduplicated: false,
                    ..
                }
            ),
            "{alerted:?}"
        );
    }

    #[tokio::test]
    async fn too_little_time_left_fails_retryably_at_once_without_publishing() {
        let app = app(FakePublisher::default());
        let now = Utc::now();
        let near = Invocation::new("req-1", now + chrono::Duration::seconds(5));
        let err = app
            .handle(&sample("root-access-key-created"), &near, now)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(err.error_type(), "Rootwatch.OutOfTime.Retryable");
        assert!(app.publisher.sent.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_publish_fails_the_invocation_as_retryable() {
        let app = app(FakePublisher {
            fail: true,
            ..Default::default()
        });
        let err = app
            .handle(
                &sample("root-access-key-created"),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        let diagnostic = lambda_runtime::Diagnostic::from(err);
        assert_eq!(diagnostic.error_type, "Rootwatch.DeliveryFailed.Retryable");
    }

    #[tokio::test]
    async fn a_malformed_event_is_not_retryable_and_publishes_nothing() {
        let app = app(FakePublisher::default());
        let err = app
            .handle(
                &serde_json::json!({"detail-type": 1}),
                &invocation(),
                Utc::now(),
            )
            .await
            .unwrap_err();
        assert!(!err.is_retryable());
        assert!(app.publisher.sent.lock().unwrap().is_empty());
    }
}
