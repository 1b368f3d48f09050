//! Memory between invocations: which events were already alerted (dedup) and which root sessions
//! already paged a phone (SMS coalescing). The port is [`AlertState`]; [`Stateless`] is the
//! no-table mode and `dynamodb.rs` the real adapter.
//!
//! The protocol keeps delivery at-least-once:
//! 1. [`AlertState::begin`] claims the event (a short lease, so a concurrent duplicate waits and
//!    retries instead of publishing too) and decides whether this alert pages;
//! 2. the handler publishes;
//! 3. [`AlertState::complete`] records the event as alerted — only after a successful publish;
//!    on a failed publish [`AlertState::abandon`] releases the claims, so Lambda's retry starts over.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::alert::{Alert, SourceIp};
use crate::classify::{CredentialKind, Severity};

/// How long a claim blocks a concurrent duplicate: longer than one invocation can run (30 s).
pub const LEASE: Duration = Duration::from_secs(60);
/// How long an alerted event is remembered: longer than EventBridge (24 h) and Lambda (6 h) retry.
pub const REMEMBER_ALERTED: Duration = Duration::from_secs(7 * 24 * 3600);

/// What one alert asks of the state store. Built by [`Claim::for_alert`], a pure function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// CloudTrail's event id; without one an event cannot be deduplicated.
    pub event_id: Option<String>,
    /// The root session this alert belongs to, for SMS coalescing; `None` when the alert's
    /// severity is never texted, so it must not use up its session's one SMS.
    pub session: Option<String>,
    pub event_time: DateTime<Utc>,
    /// Critical alerts page even when their session already paged.
    pub always_page: bool,
    pub window: Duration,
}

impl Claim {
    /// `texted` lists the severities phones subscribe to (`SMS_SEVERITIES`).
    pub fn for_alert(alert: &Alert, window: Duration, texted: &[Severity]) -> Self {
        Claim {
            event_id: alert.event_id.clone(),
            // Without a readable time there is no window to place the alert in: it pages.
            session: (texted.contains(&alert.severity) && alert.event_time.is_some())
                .then(|| session_key(alert)),
            event_time: alert.event_time.unwrap_or_default(),
            always_page: alert.severity == Severity::Critical,
            window,
        }
    }
}

/// One root session: the credentials' access key for API calls (a console session's `ASIA…` key,
/// or the long-term `AKIA…` key), the source IP for sign-ins and calls without a key.
pub fn session_key(alert: &Alert) -> String {
    let account = alert.account.id_or_unknown();
    let by_key = alert.access_key_id.as_deref().filter(|_| {
        matches!(
            alert.credential,
            CredentialKind::ConsoleSession
                | CredentialKind::LongTermKey
                | CredentialKind::TemporaryKey
                | CredentialKind::AssumeRoot
        )
    });
    match (by_key, &alert.source_ip) {
        (Some(key), _) => format!("{account}#key#{key}"),
        (None, SourceIp::Ip(ip)) => format!("{account}#ip#{ip}"),
        (None, other) => format!("{account}#ip#{}", other.display()),
    }
}

/// What [`AlertState::begin`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// Already alerted: publish nothing.
    Duplicate,
    /// Publish; `page` says whether phones should get it.
    Proceed { page: bool },
}

/// The state store could not answer, or another invocation holds the event. Both are retryable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("event {event_id} is being alerted by another invocation; retry after its lease")]
    InFlight { event_id: String },
    #[error("the state table did not answer: {reason}")]
    Unavailable { reason: String },
}

/// Dedup and coalescing memory.
pub trait AlertState {
    fn begin(
        &self,
        claim: &Claim,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Begin, StateError>> + Send;

    fn complete(
        &self,
        claim: &Claim,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    fn abandon(&self, claim: &Claim) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// No table: every event is alerted and every alert pages.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stateless;

impl AlertState for Stateless {
    async fn begin(&self, _: &Claim, _: DateTime<Utc>) -> Result<Begin, StateError> {
        Ok(Begin::Proceed { page: true })
    }

    async fn complete(&self, _: &Claim, _: &str, _: DateTime<Utc>) -> Result<(), StateError> {
        Ok(())
    }

    async fn abandon(&self, _: &Claim) -> Result<(), StateError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::handler::{Decision, decide};

    fn alert(name: &str) -> Alert {
        let path = format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
        let payload = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let config = Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        match decide(&payload, &config).unwrap() {
            Decision::Alert { alert, .. } => *alert,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sessions_are_keyed_by_access_key_or_source_ip() {
        assert_eq!(
            session_key(&alert("root-api-call-from-console-session")),
            "111122223333#key#ASIAQNZGKIQYEXAMPLE2"
        );
        assert_eq!(
            session_key(&alert("root-console-sign-in-without-mfa")),
            "111122223333#ip#192.0.2.110"
        );
    }

    const TEXTED: [Severity; 2] = [Severity::Critical, Severity::High];
    const WINDOW: Duration = Duration::from_secs(15 * 60);

    #[test]
    fn critical_alerts_always_page() {
        let claim = Claim::for_alert(&alert("root-cloudtrail-logging-stopped"), WINDOW, &TEXTED);
        assert!(claim.always_page);
        let claim = Claim::for_alert(
            &alert("root-api-call-from-console-session"),
            WINDOW,
            &TEXTED,
        );
        assert!(!claim.always_page);
    }

    /// A failed sign-in (MEDIUM, not texted) must not use up the session's SMS, or the password
    /// reset that follows from the same IP would reach no phone.
    #[test]
    fn alerts_that_are_never_texted_do_not_join_a_session() {
        let failed = Claim::for_alert(&alert("root-console-sign-in-failed"), WINDOW, &TEXTED);
        assert_eq!(failed.session, None);
        let reset = Claim::for_alert(&alert("root-password-recovery-completed"), WINDOW, &TEXTED);
        assert_eq!(
            reset.session.as_deref(),
            Some("111122223333#ip#185.220.101.7")
        );
    }
}
