//! Deliver, the pipeline's last stage, the same for every alert: claim in the state table
//! (dedup, SMS coalescing, the SMS ceilings) → one SNS Publish, cut before the deadline →
//! record, or release on failure ([`deliver`]) → the outputs: the structured alert event put on
//! the alert bus and, for root activity, the root session's Security Hub finding
//! ([`WithOutputs`], [`send_outputs`]), side by side within their own short budget. The
//! outputs never delay or fail the SNS alert: one that fails is logged and counted. Root alerts and `forwarder-failing` alerts claim
//! their event ([`AlertGuard`], with [`alert_claim`] and [`forwarder_claim`]); the watchdog
//! claims its once-a-day marks (`watchdog::DailyMarks`). Whatever publishes next brings its own
//! [`Guard`] and goes the same way.
//!
//! Every step keeps to the invocation's [`Budget`]: a publish is not started without the time
//! to record or release after it, and one that has not answered by then is given up, so the
//! invocation fails retryably with its claims released instead of being stopped half-way.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::config::Config;
use crate::detect::alert::Alert;
use crate::detect::rules::{Events, RULES};
use crate::domain::limits::{FINDING_RECHECKS, MIN_OUTPUT, OUTPUT_BUDGET, OUTPUT_RESERVE};
use crate::domain::{Account, NotificationKind, Severity, SmsLimit, TextBucket};
use crate::error::{HandlerError, OutOfTime};
use crate::forwarder::ForwarderFailure;
use crate::invocation::{Budget, Invocation};
use crate::ports::{
    AlertEvents, AlertPublisher, AlertState, Claim, Claimed, DeliveryError, EventKey, Findings,
    OutputError, OutputsFailed, OutputsSent, Page, Sent, StateError, TextCeiling,
};
use crate::render::finding::{FindingEntry, Home, asff};
use crate::render::notification::Notification;
use crate::render::sms::{Sms, render_pause_notice};

/// The stage's name in the log.
const STAGE: &str = "deliver";

/// What guards one publish in the state table: claimed before it, recorded after it, released
/// when it did not happen.
pub trait Guard {
    /// What is claimed, for logs and errors: the event key, or the watchdog's mark.
    fn key(&self) -> &str;

    /// Claims, waiting within `budget` while another invocation holds the claim.
    fn claim(&mut self, budget: &Budget) -> impl Future<Output = Result<Claimed, StateError>>;

    /// Records the publish as done, so a redelivery is a duplicate.
    fn record(
        &self,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>>;

    /// Releases what [`Guard::claim`] took, giving back the text it `counted`, so a retry
    /// starts over.
    fn release(&self, counted: Option<Page>) -> impl Future<Output = Result<(), StateError>>;

    /// The text sent instead of the alert's own, of `severity`, when it is the one past its
    /// ceiling ([`Page::PauseNotice`]).
    fn pause_notice(&self, severity: Severity) -> Option<Sms>;

    /// Whether a duplicate delivery (Lambda's retry of an invocation that published) sends the
    /// outputs again. An earlier delivery may have published and then run out of time, or
    /// failed, before its outputs: sending them again (marked `repeat`, same `alertId`) keeps
    /// them at least once. The watchdog's daily marks say no: a blind region is checked every
    /// tick, and each tick after the first is a duplicate, not a retry.
    fn repeat_on_duplicate(&self) -> bool {
        false
    }
}

/// What a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Published: SNS's message id, how phones got it (the notification's `page` says whether
    /// they did), and whether the state table guarded the publish (`false` without a table,
    /// or when it did not answer and the alert went out anyway).
    Published {
        message_id: String,
        page: Page,
        deduplicated: bool,
    },
    /// Already delivered by an earlier invocation: nothing published.
    Duplicate,
}

/// Claims, publishes `notification` and records it, or releases the claim when the publish
/// fails or there is no time for it. Sets the notification's `page` (and, for the notice that
/// texts are paused, its SMS) from what the claim found. The state table fails open: when it
/// cannot answer, the alert is published without dedup, coalescing or the SMS ceiling.
pub async fn deliver<P: AlertPublisher, G: Guard>(
    publisher: &P,
    guard: &mut G,
    notification: &mut Notification,
    budget: &Budget,
) -> Result<Delivered, HandlerError> {
    let event_id = notification.event_id.clone();
    let event_id = event_id.as_deref();
    let key = guard.key().to_owned();
    let key = key.as_str();
    if !budget.can_publish() {
        // Nothing claimed yet: the retry starts from a clean table.
        return Err(out_of_time(key, budget));
    }
    let (page, deduplicated) = match guard.claim(budget).await {
        Ok(Claimed::Duplicate) => {
            info!(stage = STAGE, event_id, key, "duplicate: already alerted");
            if guard.repeat_on_duplicate() {
                notification.page = false;
                publisher
                    .send_outputs(notification, key, true, budget)
                    .await;
            }
            return Ok(Delivered::Duplicate);
        }
        Ok(Claimed::Proceed { page, deduplicated }) => (page, deduplicated),
        Err(err @ StateError::InFlight { .. }) => {
            let err = HandlerError::from(err);
            warn!(
                stage = STAGE,
                event_id,
                key,
                error_type = err.error_type(),
                retryable = true,
                "{err}"
            );
            return Err(err);
        }
        // Fail open: a duplicate alert, or a text past the ceiling, is better than a late one.
        Err(err @ StateError::Unavailable { .. }) => {
            warn!(
                stage = STAGE,
                event_id, key, "alerting without dedup, coalescing or the SMS ceiling: {err}"
            );
            (Page::Text, false)
        }
    };
    // What the table counted, to give back if this alert is not published.
    let counted = deduplicated.then_some(page);
    // Rendering decides whether an alert may page (a declared one below CRITICAL may not, nor
    // may a notice of declared root use); the claim, whether it does.
    notification.page = notification.page && page.texted();
    if page == Page::PauseNotice {
        if let Some(sms) = guard.pause_notice(notification.severity) {
            notification.sms = sms;
        }
    }
    if !budget.can_publish() {
        release(guard, key, counted).await;
        return Err(out_of_time(key, budget));
    }
    let published =
        tokio::time::timeout_at(budget.publish_until(), publisher.publish(notification))
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
            if let Err(err) = guard.record(&message_id, budget.now()).await {
                warn!(
                    stage = STAGE,
                    event_id,
                    key,
                    "alert published but not recorded; a redelivery may alert again: {err}"
                );
            }
            info!(
                stage = STAGE,
                event_id,
                key,
                kind = notification.kind.as_str(),
                severity = notification.severity.as_str(),
                page = notification.page,
                texts_paused = page.texts_paused(),
                deduplicated,
                %message_id,
                "alert published"
            );
            publisher
                .send_outputs(notification, key, false, budget)
                .await;
            Ok(Delivered::Published {
                message_id,
                page,
                deduplicated,
            })
        }
        Err(err) => {
            release(guard, key, counted).await;
            let err = HandlerError::from(err);
            warn!(
                stage = STAGE,
                event_id,
                key,
                error_type = err.error_type(),
                retryable = true,
                "{err}"
            );
            Err(err)
        }
    }
}

/// Gives up before the deadline, and says so (what was claimed is released first).
fn out_of_time(key: &str, budget: &Budget) -> HandlerError {
    let err = HandlerError::from(OutOfTime {
        event_id: key.to_owned(),
        left: budget.left(),
    });
    warn!(
        stage = STAGE,
        key,
        error_type = err.error_type(),
        retryable = true,
        "{err}"
    );
    err
}

async fn release<G: Guard>(guard: &G, key: &str, counted: Option<Page>) {
    if let Err(err) = guard.release(counted).await {
        warn!(
            stage = STAGE,
            key, "claims not released; they expire with their lease: {err}"
        );
    }
}

/// An alert's claim on its event in [`AlertState`]: root alerts and `forwarder-failing` ones.
pub struct AlertGuard<'a, S> {
    pub state: &'a S,
    pub claim: Claim,
    /// The account whose texts the alert counts against, which a pause notice names.
    pub account: &'a Account,
    pub sms_limit: SmsLimit,
}

impl<S: AlertState> Guard for AlertGuard<'_, S> {
    fn key(&self) -> &str {
        self.claim.key.as_str()
    }

    async fn claim(&mut self, budget: &Budget) -> Result<Claimed, StateError> {
        self.state.claim(&self.claim, budget).await
    }

    async fn record(&self, message_id: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.state.record(&self.claim, message_id, now).await
    }

    async fn release(&self, counted: Option<Page>) -> Result<(), StateError> {
        self.state.release(&self.claim, counted).await
    }

    fn repeat_on_duplicate(&self) -> bool {
        true
    }

    fn pause_notice(&self, severity: Severity) -> Option<Sms> {
        let ceiling = self.claim.ceiling.as_ref()?;
        Some(render_pause_notice(
            self.account,
            ceiling.bucket,
            severity,
            ceiling.limit,
            ceiling.until(),
            self.sms_limit,
        ))
    }
}

/// A publisher followed by the outputs: what every delivery path publishes through when an
/// alert bus or findings are configured (`main.rs`). `events` and `findings` are `None` when
/// off. Clones share one count of failures, read once per invocation for its metrics.
#[derive(Debug, Clone)]
pub struct WithOutputs<P, E, F> {
    pub sns: P,
    pub events: E,
    pub findings: F,
    /// Where findings are imported: the home account and region.
    pub home: Home,
    failed: Arc<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    events: AtomicU32,
    findings: AtomicU32,
}

impl<P, E, F> WithOutputs<P, E, F> {
    pub fn new(sns: P, events: E, findings: F, home: Home) -> Self {
        WithOutputs {
            sns,
            events,
            findings,
            home,
            failed: Arc::default(),
        }
    }
}

impl<P, E, F> AlertPublisher for WithOutputs<P, E, F>
where
    P: AlertPublisher + Sync,
    E: AlertEvents + Sync,
    F: Findings + Sync,
{
    async fn publish(&self, notification: &Notification) -> Result<String, DeliveryError> {
        self.sns.publish(notification).await
    }

    async fn send_outputs(
        &self,
        notification: &Notification,
        key: &str,
        repeat: bool,
        budget: &Budget,
    ) -> OutputsSent {
        let sent = send_outputs(
            &self.events,
            &self.findings,
            &self.home,
            notification,
            key,
            repeat,
            budget,
        )
        .await;
        if sent.event == Sent::Failed {
            self.failed.events.fetch_add(1, Ordering::Relaxed);
        }
        if sent.finding == Sent::Failed {
            self.failed.findings.fetch_add(1, Ordering::Relaxed);
        }
        sent
    }

    fn take_output_failures(&self) -> OutputsFailed {
        OutputsFailed {
            events: self.failed.events.swap(0, Ordering::Relaxed),
            findings: self.failed.findings.swap(0, Ordering::Relaxed),
        }
    }
}

/// Puts `notification`'s alert event (`alertId` the claim `key`; `page` whether phones were
/// texted by this delivery, never for a `repeat`) and, for root activity with findings on,
/// notes the alert on its root session and imports the session's finding, re-importing while
/// the session moved on meanwhile (a concurrent alert of the session) up to
/// [`FINDING_RECHECKS`] times, so the import that lands last carries the whole session. Both
/// side by side, within [`OUTPUT_BUDGET`] and never past the deadline less [`OUTPUT_RESERVE`];
/// each failure (or the lack of time to start) is logged.
pub async fn send_outputs<E: AlertEvents, F: Findings>(
    events: &E,
    findings: &F,
    home: &Home,
    notification: &Notification,
    key: &str,
    repeat: bool,
    budget: &Budget,
) -> OutputsSent {
    let event = notification
        .event
        .clone()
        .delivered(key, notification.page && !repeat, repeat);
    let root = match notification.kind {
        NotificationKind::Root(kind) => Some(kind),
        _ => None,
    };
    let event_on = events.on();
    let finding_on = findings.on() && root.is_some();
    if !event_on && !finding_on {
        return OutputsSent::default();
    }
    let event_id = notification.event_id.as_deref();
    let report = |output: &'static str, on: bool, result: Result<(), OutputError>| {
        if !on {
            return Sent::Off;
        }
        match result {
            Ok(()) => Sent::Done,
            Err(err) => {
                warn!(
                    stage = STAGE,
                    output, event_id, key, repeat, "the alert was published; {err}"
                );
                Sent::Failed
            }
        }
    };
    let left = budget.left().saturating_sub(OUTPUT_RESERVE);
    if left < MIN_OUTPUT {
        let no_time = |output| {
            Err(OutputError {
                output,
                reason: format!("no time left ({:.1} s)", budget.left().as_secs_f64()),
            })
        };
        return OutputsSent {
            event: report("event", event_on, no_time("alert event")),
            finding: report("finding", finding_on, no_time("finding")),
        };
    }
    let until = tokio::time::Instant::now() + left.min(OUTPUT_BUDGET);
    let late = |output: &'static str| OutputError {
        output,
        reason: format!(
            "no answer within the outputs' {:.1} s",
            left.min(OUTPUT_BUDGET).as_secs_f64()
        ),
    };
    let put = async {
        if !event_on {
            return Ok(());
        }
        tokio::time::timeout_at(until, events.put(&event))
            .await
            .unwrap_or_else(|_| Err(late("alert event")))
    };
    let import = async {
        let Some(kind) = root.filter(|_| finding_on) else {
            return Ok(());
        };
        let entry = FindingEntry::of(kind, &event.detail);
        let work = async {
            let mut record = findings
                .note(&entry, &event.detail.alert_id, budget.now())
                .await?;
            for round in 0..=FINDING_RECHECKS {
                findings.import(&asff(&record, home, budget.now())).await?;
                if round == FINDING_RECHECKS {
                    break;
                }
                match findings.current(&record.session).await? {
                    Some(current) if current.version > record.version => record = current,
                    _ => break,
                }
            }
            Ok(())
        };
        tokio::time::timeout_at(until, work)
            .await
            .unwrap_or_else(|_| Err(late("finding")))
    };
    let (put, import) = tokio::join!(put, import);
    OutputsSent {
        event: report("event", event_on, put),
        finding: report("finding", finding_on, import),
    }
}

/// The claim of a root alert, made at wall-clock time `now` (which places it in an hour of
/// the text ceiling). Phones subscribe to `config.sms_severities`: only those coalesce and
/// count, against the ceiling of the alert's [`TextBucket`].
pub fn alert_claim(
    alert: &Alert,
    key: EventKey,
    invocation: &Invocation,
    config: &Config,
    now: DateTime<Utc>,
) -> Claim {
    // A declared alert below CRITICAL reaches no phone: it opens no session and uses no text.
    let texted = config.sms_severities.contains(&alert.severity) && !alert.quieted();
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
                TextBucket::of(alert.kind),
                config.sms_ceiling_per_hour,
                now,
            )
        }),
    }
}

/// The claim of one of rootwatch's own notices (`root-use-declared`, `root-use-report`), keyed
/// `key` ([`EventKey::notice`]): exactly once, never texted, so no session and no ceiling.
pub fn notice_claim(
    key: EventKey,
    invocation: &Invocation,
    config: &Config,
    now: DateTime<Utc>,
) -> Claim {
    Claim {
        key,
        owner: invocation.request_id.clone(),
        lease_until: invocation.lease_until(),
        session: None,
        event_time: now,
        window: config.session_window,
        ceiling: None,
    }
}

/// The claim of a `forwarder-failing` alert, keyed by its envelope (`key`). It shares one SMS
/// per window with the same alarm's other state changes (a flapping alarm texts once), and
/// counts against the stack-wide daily ceiling of forwarder-failure texts (anyone allowed to
/// set the alarm's state in a member account can cause it, so it must not use up the root
/// activity texts).
pub fn forwarder_claim(
    failure: &ForwarderFailure,
    key: EventKey,
    invocation: &Invocation,
    config: &Config,
    now: DateTime<Utc>,
) -> Claim {
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
        ceiling: texted.then(|| {
            TextCeiling::new(
                account,
                TextBucket::ForwarderFailures,
                config.sms_ceiling_per_hour,
                now,
            )
        }),
    }
}

/// What an alert shares its one SMS per window with. A critical alert pages once per *act* in
/// its root session: a row that names its calls (`StopLogging`, `DeleteDetector`) is critical
/// because of the act, so each of its events (the service and the call) texts once — a leaked
/// key making the same call 20 times texts once, and every other critical act in that session
/// (`StopLogging` after `PutEventSelectors`) texts again. A row that takes any call and is
/// critical because of the credential (`long-term-access-key-used`) shares one SMS per session
/// and kind: a leaked key's lookaround (`ListUsers`, `DescribeInstances`, …) texts once and
/// cannot use up the hour's texts before the act that matters. Other texted alerts share their
/// session's one SMS. Email always gets every alert.
pub fn coalescing_key(alert: &Alert) -> String {
    let session = alert.root_session();
    if alert.severity != Severity::Critical {
        return session;
    }
    if critical_by_credential(alert) {
        format!("{session}#critical-kind#{}", alert.kind.as_str())
    } else {
        format!(
            "{session}#critical#{}#{}",
            alert.event_source, alert.event_name
        )
    }
}

/// Whether the rule that decided takes any call ([`Events::Any`]): its severity then comes from
/// its conditions (the credential), not from the act.
fn critical_by_credential(alert: &Alert) -> bool {
    RULES
        .iter()
        .find(|rule| rule.id == alert.rule)
        .is_some_and(|rule| matches!(rule.events, Events::Any(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::handler::{Decision, decide};
    use serde_json::Value;

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
        alert_claim(&alert, key, &invocation(), &config, now)
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

    /// Every critical row that takes any call is critical because of its conditions, not the
    /// act: today only the long-term key's. A leaked key's calls share one text per session and
    /// kind; a named critical act keeps its own, also when signed with that key.
    #[test]
    fn a_long_term_keys_calls_coalesce_per_kind_and_its_critical_acts_per_call() {
        let by_credential: Vec<&str> = RULES
            .iter()
            .filter(|r| r.severity == Severity::Critical && matches!(r.events, Events::Any(_)))
            .map(|r| r.id)
            .collect();
        assert_eq!(by_credential, ["long-term-access-key-used"]);
        assert_eq!(
            claim("root-api-call-with-long-term-access-key")
                .session
                .as_deref(),
            Some("111122223333#key#AKIAIOSFODNN7EXAMPLE#critical-kind#long-term-access-key-used")
        );
    }

    /// A texted alert counts against its own account's ceiling, in the UTC hour of the claim.
    #[test]
    fn texted_alerts_count_against_their_accounts_hour() {
        let ceiling = claim("root-cloudtrail-logging-stopped").ceiling.unwrap();
        assert_eq!(ceiling.account, "111122223333");
        assert_eq!(ceiling.bucket, TextBucket::RootActivity);
        assert_eq!(ceiling.limit, 10);
        assert_eq!(ceiling.key(), "111122223333#2026-11-21T09");
        assert_eq!(
            ceiling.until(),
            "2026-11-21T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(claim("root-console-sign-in-failed").ceiling, None);
    }

    /// What anyone can cause without a credential counts apart from what the root user does, and
    /// a forwarder's failing alarm apart from both: a stranger's password-recovery requests
    /// cannot use up the texts of a root sign-in. Those two are counted per UTC day for every
    /// account, root activity per account and hour.
    #[test]
    fn texts_count_against_the_ceiling_of_what_could_cause_them() {
        let bucket = |name: &str| claim(name).ceiling.map(|c| (c.bucket, c.key()));
        assert_eq!(
            bucket("root-password-recovery-requested"),
            Some((
                TextBucket::SignInAttempts,
                "any-account#sign-in-attempts#2026-11-21".to_owned()
            ))
        );
        for root in [
            "root-console-sign-in-without-mfa",
            "root-password-recovery-completed",
            "root-password-changed",
            "root-api-call-from-console-session",
        ] {
            assert_eq!(
                bucket(root).map(|(b, _)| b),
                Some(TextBucket::RootActivity),
                "{root}"
            );
        }
        let failure = crate::forwarder::ForwarderFailure {
            account: Account {
                id: crate::domain::AccountId::parse("444455556666"),
                name: None,
            },
            region: "eu-west-1".into(),
            alarm_name: "rootwatch-forwarder-failing-x".into(),
            reason: None,
            since: None,
            event_id: None,
        };
        let config = Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        let key = EventKey::of(None, &serde_json::json!({"id": "e-1"}));
        let now = "2026-11-21T09:59:59.900Z".parse().unwrap();
        let ceiling = forwarder_claim(&failure, key, &invocation(), &config, now)
            .ceiling
            .unwrap();
        assert_eq!(ceiling.key(), "any-account#forwarder-failures#2026-11-21");
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

    /// A guard that finds the event new, or already delivered; repeats outputs on a duplicate
    /// when `repeat`.
    struct TestGuard {
        duplicate: bool,
        repeat: bool,
    }

    impl Guard for TestGuard {
        fn key(&self) -> &str {
            "claim-key-1"
        }
        async fn claim(&mut self, _: &Budget) -> Result<Claimed, StateError> {
            Ok(if self.duplicate {
                Claimed::Duplicate
            } else {
                Claimed::Proceed {
                    page: Page::Text,
                    deduplicated: true,
                }
            })
        }
        async fn record(&self, _: &str, _: DateTime<Utc>) -> Result<(), StateError> {
            Ok(())
        }
        async fn release(&self, _: Option<Page>) -> Result<(), StateError> {
            Ok(())
        }
        fn pause_notice(&self, _: Severity) -> Option<Sms> {
            None
        }
        fn repeat_on_duplicate(&self) -> bool {
            self.repeat
        }
    }

    use crate::fakes::{FakeEvents, FakeFindings, FakePublisher};
    use crate::render::finding::Home;

    fn home() -> Home {
        Home {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
        }
    }

    fn outputs() -> WithOutputs<FakePublisher, FakeEvents, FakeFindings> {
        WithOutputs::new(
            FakePublisher::default(),
            FakeEvents::default(),
            FakeFindings::default(),
            home(),
        )
    }

    fn notification(name: &str) -> Notification {
        crate::render::notification::render(&alert(name), SmsLimit::WHOLE_SEGMENT)
    }

    fn budget(seconds: i64) -> Budget {
        let now = Utc::now();
        Budget::start(
            &Invocation::new("req-1", now + chrono::Duration::seconds(seconds)),
            now,
        )
    }

    /// After the publish: the event put with the claim key as `alertId` and whether phones were
    /// texted, and the root session's finding imported; the SNS message first.
    #[tokio::test]
    async fn a_published_alert_puts_its_event_and_imports_its_finding() {
        let publisher = outputs();
        let mut n = notification("root-cloudtrail-logging-stopped");
        let mut guard = TestGuard {
            duplicate: false,
            repeat: true,
        };
        let delivered = deliver(&publisher, &mut guard, &mut n, &budget(30))
            .await
            .unwrap();
        assert!(matches!(delivered, Delivered::Published { .. }));
        assert_eq!(publisher.sns.count(), 1);
        let put = publisher.events.put.lock().unwrap().clone();
        assert_eq!(put.len(), 1);
        assert_eq!(put[0].detail.alert_id, "claim-key-1");
        assert!(put[0].detail.page && !put[0].detail.repeat);
        let imported = publisher.findings.imported.lock().unwrap().clone();
        assert_eq!(imported.len(), 1);
        assert_eq!(imported[0].severity.label, Severity::Critical);
        assert_eq!(imported[0].aws_account_id, "111122223333");
        assert_eq!(publisher.take_output_failures(), OutputsFailed::default());
    }

    /// A retry of an invocation that published puts the event again, marked `repeat` and not
    /// paging, with the same `alertId` (consumers dedupe on it); the watchdog's marks do not.
    #[tokio::test]
    async fn a_duplicate_delivery_repeats_the_outputs_only_when_its_guard_says_so() {
        for repeat in [true, false] {
            let publisher = outputs();
            let mut n = notification("root-cloudtrail-logging-stopped");
            let mut guard = TestGuard {
                duplicate: true,
                repeat,
            };
            let delivered = deliver(&publisher, &mut guard, &mut n, &budget(30))
                .await
                .unwrap();
            assert_eq!(delivered, Delivered::Duplicate);
            assert_eq!(publisher.sns.count(), 0, "nothing published again");
            let put = publisher.events.put.lock().unwrap().clone();
            if repeat {
                assert_eq!(put.len(), 1);
                assert_eq!(put[0].detail.alert_id, "claim-key-1");
                assert!(put[0].detail.repeat && !put[0].detail.page);
                assert_eq!(publisher.findings.imported.lock().unwrap().len(), 1);
            } else {
                assert!(put.is_empty());
                assert!(publisher.findings.imported.lock().unwrap().is_empty());
            }
        }
    }

    /// Findings are for root activity: a forwarder's alert puts its event and imports nothing.
    #[tokio::test]
    async fn only_root_activity_has_a_finding() {
        let publisher = outputs();
        let config = Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        let Ok(crate::handler::Decision::ForwarderFailing { notification, .. }) =
            decide(&crate::samples::sample("forwarder-failing"), &config)
        else {
            panic!("forwarder-failing alerts")
        };
        let sent = publisher
            .send_outputs(&notification, "k", false, &budget(30))
            .await;
        assert_eq!(
            sent,
            OutputsSent {
                event: Sent::Done,
                finding: Sent::Off
            }
        );
        assert_eq!(
            publisher.events.put.lock().unwrap()[0].detail_type,
            crate::render::event::DetailType::Health
        );
    }

    /// A refused put and too little time are failures, counted once and then reset.
    #[tokio::test]
    async fn failed_outputs_are_counted_and_too_little_time_starts_none() {
        let mut publisher = outputs();
        publisher.events.fail = true;
        let n = notification("root-api-call-from-console-session");
        let sent = publisher.send_outputs(&n, "k", false, &budget(30)).await;
        assert_eq!((sent.event, sent.finding), (Sent::Failed, Sent::Done));
        let late = publisher.send_outputs(&n, "k2", false, &budget(1)).await;
        assert_eq!((late.event, late.finding), (Sent::Failed, Sent::Failed));
        assert_eq!(publisher.findings.imported.lock().unwrap().len(), 1);
        assert_eq!(
            publisher.take_output_failures(),
            OutputsFailed {
                events: 2,
                findings: 1
            }
        );
        assert_eq!(publisher.take_output_failures(), OutputsFailed::default());
        let off = WithOutputs::new(
            FakePublisher::default(),
            None::<FakeEvents>,
            None::<FakeFindings>,
            home(),
        );
        assert_eq!(
            off.send_outputs(&n, "k", false, &budget(30)).await,
            OutputsSent::default()
        );
    }

    /// A CRITICAL alert of the session noted by another invocation while this one imported its
    /// LOW: the session moved on, so the finding is imported again and ends CRITICAL.
    #[tokio::test]
    async fn a_session_that_moved_on_during_the_import_is_imported_again() {
        let publisher = outputs();
        let mut low = notification("root-api-call-from-console-session");
        low.severity = Severity::Low;
        low.event.detail.severity = Severity::Low;
        let critical = notification("root-api-call-same-console-session");
        assert_eq!(critical.event.detail.session, low.event.detail.session);
        let mut detail = critical.event.detail.clone();
        detail.severity = Severity::Critical;
        let NotificationKind::Root(kind) = critical.kind else {
            panic!("root")
        };
        *publisher.findings.meanwhile.lock().unwrap() =
            Some((FindingEntry::of(kind, &detail), "other-alert".into()));
        let sent = publisher.send_outputs(&low, "k", false, &budget(30)).await;
        assert_eq!(sent.finding, Sent::Done);
        let imported = publisher.findings.imported.lock().unwrap().clone();
        assert_eq!(
            imported.len(),
            2,
            "imported again after the session moved on"
        );
        assert_eq!(imported[0].severity.label, Severity::Low);
        assert_eq!(imported[1].severity.label, Severity::Critical);
        assert_eq!(imported[1].product_fields["rootwatch/alerts"], "2");
    }
}
