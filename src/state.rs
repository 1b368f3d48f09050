//! Memory between invocations: which events were already alerted (dedup), which root sessions
//! already paged a phone (SMS coalescing) and how many texts each account had this hour (the
//! SMS ceiling). The port is [`AlertState`]; [`Stateless`] is the no-table mode and
//! `aws/dynamodb.rs` the real adapter.
//!
//! The protocol keeps delivery at-least-once:
//! 1. [`AlertState::begin`] claims the event for this invocation (its owner is the request id;
//!    the lease lasts until the invocation's deadline), waits within the invocation's budget
//!    while another invocation holds it, and decides whether this alert pages ([`Page`]);
//! 2. the handler publishes;
//! 3. [`AlertState::complete`] records the event as alerted — only after a successful publish;
//!    on a failed publish [`AlertState::abandon`] releases the claims and gives back the text it
//!    counted, so Lambda's retry starts over.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::detect::alert::Alert;
use crate::detect::record::is_event_id;
use crate::forwarder::ForwarderFailure;
use crate::invocation::{Budget, Invocation};

/// What identifies an event for dedup, and owns its session's paging window.
///
/// CloudTrail's `eventID` when the record has a well-formed one (every real record does); else
/// the EventBridge envelope's `id`, which a redelivery keeps; else a SHA-256 digest of the
/// payload with object keys sorted, so the same payload always gives the same key whatever its
/// key order, and two different payloads never share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey(String);

impl EventKey {
    /// `event_id` is the record's well-formed CloudTrail `eventID`, if any.
    pub fn of(event_id: Option<&str>, payload: &Value) -> Self {
        if let Some(id) = event_id {
            return EventKey(id.to_owned());
        }
        let envelope_id = payload
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_event_id(id));
        match envelope_id {
            // `#` cannot occur in an id, so these never collide with CloudTrail ids.
            Some(id) => EventKey(format!("envelope#{id}")),
            None => {
                let mut hasher = Sha256::new();
                canonical_json(payload, &mut hasher);
                let digest: String = hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                EventKey(format!("sha256#{digest}"))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EventKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Feeds `value` as JSON with every object's keys sorted: independent of the order the payload
/// arrived in and of serde_json's map features.
fn canonical_json(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                hasher.update(Value::from(key.as_str()).to_string().as_bytes());
                hasher.update(b":");
                canonical_json(&map[key], hasher);
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                canonical_json(item, hasher);
            }
            hasher.update(b"]");
        }
        scalar => hasher.update(scalar.to_string().as_bytes()),
    }
}

/// What one alert asks of the state store. Built by [`Claim::for_alert`], a pure function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The event being claimed.
    pub key: EventKey,
    /// The invocation claiming it (its request id): a retried write of our own claim, or
    /// Lambda's retry of this invocation, finds the claim ours.
    pub owner: String,
    /// Until when the claim blocks other invocations: this invocation's deadline plus a margin.
    pub lease_until: DateTime<Utc>,
    /// What this alert coalesces with for SMS (see [`coalescing_key`]); `None` when the alert is
    /// never texted (so it must not use up its session's one SMS), or has no readable time.
    pub session: Option<String>,
    pub event_time: DateTime<Utc>,
    pub window: Duration,
    /// The account's hourly text ceiling this alert counts against when texted; `None` when
    /// the alert's severity is never texted.
    pub ceiling: Option<TextCeiling>,
}

impl Claim {
    /// The claim of a root alert, made at wall-clock time `now` (which places it in an hour of
    /// the text ceiling). Phones subscribe to `config.sms_severities`: only those coalesce and
    /// count.
    pub fn for_alert(
        alert: &Alert,
        key: EventKey,
        invocation: &Invocation,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Self {
        let texted = config.sms_severities.contains(&alert.severity);
        Claim {
            key,
            owner: invocation.request_id.clone(),
            lease_until: invocation.lease_until(),
            // Without a readable time there is no window to place the alert in: it pages.
            session: (texted && alert.event_time.is_some()).then(|| coalescing_key(alert)),
            event_time: alert.event_time.unwrap_or_default(),
            window: config.session_window,
            ceiling: texted.then(|| {
                TextCeiling::new(
                    alert.account.id_or_unknown(),
                    config.sms_ceiling_per_hour,
                    now,
                )
            }),
        }
    }
}

impl Claim {
    /// The claim of a `forwarder-failing` alert, keyed by its envelope (`key`). It shares one
    /// SMS per window with the same alarm's other state changes (a flapping alarm texts once),
    /// and counts against its member account's text ceiling.
    pub fn for_forwarder_failure(
        failure: &ForwarderFailure,
        key: EventKey,
        invocation: &Invocation,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Self {
        let texted = config
            .sms_severities
            .contains(&crate::forwarder::render::SEVERITY);
        let account = failure.account.id_or_unknown();
        Claim {
            key,
            owner: invocation.request_id.clone(),
            lease_until: invocation.lease_until(),
            session: (texted && failure.since.is_some()).then(|| {
                format!(
                    "{account}#forwarder#{}#{}",
                    failure.region, failure.alarm_name
                )
            }),
            event_time: failure.since.unwrap_or_default(),
            window: config.session_window,
            ceiling: texted.then(|| TextCeiling::new(account, config.sms_ceiling_per_hour, now)),
        }
    }
}

/// What an alert shares its one SMS per window with. A critical alert pages once per *event* (the
/// service and the call) in its root session: a leaked key making the same call 20 times texts
/// once, and every other critical act in that session (`StopLogging` after
/// `PutEventSelectors`, `LeaveOrganization` after `DeleteDetector`) texts again. Other texted
/// alerts share their session's one SMS. Email always gets every alert.
pub fn coalescing_key(alert: &Alert) -> String {
    let session = alert.root_session();
    if alert.severity == crate::domain::Severity::Critical {
        format!(
            "{session}#critical#{}#{}",
            alert.event_source, alert.event_name
        )
    } else {
        session
    }
}

/// At most `per_hour` texts for one account in one UTC clock hour (`SMS_CEILING_PER_HOUR`), and
/// then one more that says texts are paused. It bounds what a flood of alerts can spend of SNS's
/// monthly SMS spend limit, after which SNS stops every text silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextCeiling {
    /// The account the alert happened in (an id, or `unknown`).
    pub account: String,
    pub per_hour: u32,
    /// The start of the UTC hour the alert is counted in.
    pub hour: DateTime<Utc>,
}

impl TextCeiling {
    /// The ceiling of `account` for the UTC hour that `now` falls in.
    pub fn new(account: &str, per_hour: u32, now: DateTime<Utc>) -> Self {
        TextCeiling {
            account: account.to_owned(),
            per_hour,
            hour: now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now),
        }
    }

    /// When texts resume: the end of the hour.
    pub fn until(&self) -> DateTime<Utc> {
        self.hour + TimeDelta::hours(1)
    }

    /// `<account>#<YYYY-MM-DDTHH>`: what the hour's count is kept under.
    pub fn key(&self) -> String {
        format!("{}#{}", self.account, self.hour.format("%Y-%m-%dT%H"))
    }
}

/// Whether phones get an alert. The SNS attribute `page` is `true` for the first two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Texted: the first of its session (or critical and new in it), within the ceiling.
    Text,
    /// The first past the account's hourly ceiling: texted as the notice that texts are paused
    /// for the account until the hour ends, and that every alert still goes to email and chat.
    PauseNotice,
    /// Email and chat only: its root session was already texted.
    Coalesced,
    /// Email and chat only: the account's texts are paused for the rest of the hour.
    Paused,
}

impl Page {
    /// Whether phones get a text for this alert.
    pub fn texted(self) -> bool {
        matches!(self, Page::Text | Page::PauseNotice)
    }

    /// Whether the account's texts were paused when this alert came.
    pub fn texts_paused(self) -> bool {
        matches!(self, Page::PauseNotice | Page::Paused)
    }
}

/// What [`AlertState::begin`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// Already alerted: publish nothing.
    Duplicate,
    /// Publish; `page` says whether and how phones get it, `deduplicated` whether the event is
    /// claimed in a state table (`false` without one).
    Proceed { page: Page, deduplicated: bool },
}

/// The state store could not answer, or another invocation still held the event when this one
/// stopped waiting. Both are retryable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("event {event_id} is still being alerted by another invocation; retry after its lease")]
    InFlight { event_id: String },
    #[error("the state table did not answer: {reason}")]
    Unavailable { reason: String },
}

/// Dedup and coalescing memory.
pub trait AlertState {
    /// Claims the event; while another invocation holds it, waits until `budget`'s
    /// [`Budget::wait_until`] for that invocation's outcome.
    fn begin(
        &self,
        claim: &Claim,
        budget: &Budget,
    ) -> impl Future<Output = Result<Begin, StateError>> + Send;

    fn complete(
        &self,
        claim: &Claim,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Releases the claims of an alert that was not published. `counted` is the [`Page`]
    /// `begin` gave when the table gave it: a text it counted against the ceiling is given back.
    fn abandon(
        &self,
        claim: &Claim,
        counted: Option<Page>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// No table: every event is alerted and every alert pages; there is no ceiling.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stateless;

impl AlertState for Stateless {
    async fn begin(&self, _: &Claim, _: &Budget) -> Result<Begin, StateError> {
        Ok(Begin::Proceed {
            page: Page::Text,
            deduplicated: false,
        })
    }

    async fn complete(&self, _: &Claim, _: &str, _: DateTime<Utc>) -> Result<(), StateError> {
        Ok(())
    }

    async fn abandon(&self, _: &Claim, _: Option<Page>) -> Result<(), StateError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::handler::{Decision, decide};

    fn alert(name: &str) -> Alert {
        let payload = crate::samples::sample(name);
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
            alert("root-api-call-from-console-session").root_session(),
            "111122223333#key#ASIAQNZGKIQYEXAMPLE2"
        );
        assert_eq!(
            alert("root-console-sign-in-without-mfa").root_session(),
            "111122223333#ip#192.0.2.110"
        );
    }

    fn invocation() -> Invocation {
        Invocation::new("req-1", "2026-11-21T09:00:30Z".parse().unwrap())
    }

    fn claim(name: &str) -> Claim {
        let alert = alert(name);
        let key = EventKey::of(alert.event_id.as_deref(), &Value::Null);
        let config = Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        let now = "2026-11-21T09:59:59.900Z".parse().unwrap();
        Claim::for_alert(&alert, key, &invocation(), &config, now)
    }

    #[test]
    fn a_claim_is_owned_by_the_invocation_and_leased_until_its_deadline() {
        let claim = claim("root-console-sign-in-without-mfa");
        assert_eq!(claim.key.as_str(), "0f3b2c4d-1a2b-4c3d-8e9f-a1b2c3d4e5f6");
        assert_eq!(claim.owner, "req-1");
        assert_eq!(
            claim.lease_until,
            "2026-11-21T09:00:35Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    fn envelope(id: serde_json::Value, detail: serde_json::Value) -> Value {
        serde_json::json!({"id": id, "detail-type": "AWS API Call via CloudTrail", "detail": detail})
    }

    #[test]
    fn events_without_an_event_id_are_keyed_by_envelope_id_or_digest() {
        let detail = serde_json::json!({"eventName": "CreateUser", "b": 1, "a": [1, "x"]});
        let by_envelope = EventKey::of(
            None,
            &envelope(
                "6a7e8feb-b491-4cf7-a9f1-bf3703467718".into(),
                detail.clone(),
            ),
        );
        assert_eq!(
            by_envelope.as_str(),
            "envelope#6a7e8feb-b491-4cf7-a9f1-bf3703467718"
        );
        assert_eq!(
            EventKey::of(Some("e-1"), &envelope("6a7e8feb".into(), detail.clone())).as_str(),
            "e-1",
            "CloudTrail's id wins"
        );

        let hostile_id = envelope("id with spaces#".into(), detail.clone());
        let digest = EventKey::of(None, &hostile_id);
        assert!(digest.as_str().starts_with("sha256#"), "{digest}");
        assert_eq!(digest.as_str().len(), "sha256#".len() + 64);
        let reordered: Value = serde_json::from_str(
            r#"{"detail": {"a": [1, "x"], "b": 1, "eventName": "CreateUser"}, "detail-type": "AWS API Call via CloudTrail", "id": "id with spaces#"}"#,
        )
        .unwrap();
        assert_eq!(
            EventKey::of(None, &reordered),
            digest,
            "key order does not matter"
        );
        let mut other = hostile_id.clone();
        other["detail"]["b"] = 2.into();
        assert_ne!(EventKey::of(None, &other), digest);
        assert_ne!(EventKey::of(None, &envelope(Value::Null, detail)), digest);
    }

    /// The digest is stored in the table for a week: it must not change between builds.
    #[test]
    fn the_digest_is_stable() {
        let key = EventKey::of(None, &serde_json::json!({"b": [true, null, 1.5], "a": "é"}));
        assert_eq!(
            key.as_str(),
            "sha256#08ede9506b0ce4222d968f6199df588664736d1b976735679b0e612cd7bb5e86"
        );
    }

    /// Critical alerts coalesce per event (service and call) within their session, so two
    /// critical acts of one kind each text; others share the session.
    #[test]
    fn critical_alerts_coalesce_per_event() {
        assert_eq!(
            claim("root-cloudtrail-logging-stopped").session.as_deref(),
            Some(
                "111122223333#key#ASIAQNZGKIQYEXAMPLE1#critical#cloudtrail.amazonaws.com#StopLogging"
            )
        );
        assert_ne!(
            claim("root-cloudtrail-event-selectors-changed").session,
            claim("root-cloudtrail-logging-stopped").session,
            "same kind, same session, another act"
        );
        assert_eq!(
            claim("root-api-call-from-console-session")
                .session
                .as_deref(),
            Some("111122223333#key#ASIAQNZGKIQYEXAMPLE2")
        );
    }

    /// A texted alert counts against its own account's ceiling, in the UTC hour of the claim.
    #[test]
    fn texted_alerts_count_against_their_accounts_hour() {
        let ceiling = claim("root-cloudtrail-logging-stopped").ceiling.unwrap();
        assert_eq!(ceiling.account, "111122223333");
        assert_eq!(ceiling.per_hour, 10);
        assert_eq!(ceiling.key(), "111122223333#2026-11-21T09");
        assert_eq!(
            ceiling.until(),
            "2026-11-21T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(claim("root-console-sign-in-failed").ceiling, None);
    }

    /// A failed sign-in (MEDIUM, not texted) must not use up the session's SMS, or the password
    /// reset that follows from the same IP would reach no phone.
    #[test]
    fn alerts_that_are_never_texted_do_not_join_a_session() {
        let failed = claim("root-console-sign-in-failed");
        assert_eq!(failed.session, None);
        let reset = claim("root-password-recovery-requested");
        assert_eq!(
            reset.session.as_deref(),
            Some("111122223333#ip#185.220.101.7")
        );
    }
}
