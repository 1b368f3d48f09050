//! The pipeline watchdog: rootwatch is only as alive as CloudTrail. On a schedule it checks,
//! read-only, that a trail feeds EventBridge in its region ([`judge`](mod@judge)) and, if none does,
//! delivers one `pipeline-blind` alert that says what is wrong and how to fix it ([`render`]),
//! the way every alert is delivered ([`crate::deliver`]), its claim a mark per finding and day.
//!
//! Its ports, [`TrailSource`] (the CloudTrail adapter in `aws/cloudtrail.rs`) and
//! [`WatchdogState`] (the once-a-day marks; `aws/watchdog_state.rs` for DynamoDB,
//! [`Stateless`](crate::ports::Stateless) without a table), are in [`crate::ports`].

pub mod judge;
pub mod render;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::deliver::{Delivered, Guard, deliver};
use crate::detect::record::is_event_id;
use crate::domain::limits::CHECK_TIMEOUT;
use crate::domain::{Severity, SmsLimit};
use crate::error::HandlerError;
use crate::invocation::{Budget, Invocation};
use crate::ports::{AlertPublisher, Claimed, Page, StateError, TrailSource, WatchdogState};
use crate::render::sms::Sms;
use judge::{Finding, Health, judge};
use render::Checked;

/// Whether an EventBridge envelope is a schedule's tick (`Scheduled Event` from `aws.events`).
/// Anyone who may invoke the function could send one; it only triggers a read-only check.
pub(crate) fn is_scheduled_event(payload: &Value) -> bool {
    payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
        && payload.get("source").and_then(Value::as_str) == Some("aws.events")
}

/// The state table key of a finding's mark for the UTC day of `now`:
/// `watchdog#<account>#<region>#<finding code>#<YYYY-MM-DD>`.
fn mark_key(account: &str, region: &str, finding: &Finding, now: DateTime<Utc>) -> String {
    format!(
        "watchdog#{account}#{region}#{}#{}",
        finding.code(),
        now.format("%Y-%m-%d")
    )
}

/// What a check found, also the invocation's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "watchdog", rename_all = "camelCase")]
pub enum WatchdogOutcome {
    /// These trails feed EventBridge; nothing was published.
    Healthy { feeding: Vec<String> },
    /// Nothing feeds EventBridge. `message_id` is the alert's, or `None` when every finding was
    /// already alerted today.
    #[serde(rename_all = "camelCase")]
    Blind {
        findings: Vec<String>,
        message_id: Option<String>,
    },
}

/// The watchdog: where it checks, its two reads (trails, marks) and the publisher.
#[derive(Debug, Clone)]
pub struct Watchdog<T, P, W> {
    pub trails: T,
    pub publisher: P,
    pub state: W,
    /// The function's account (from its topic's ARN) and region (its SDK's).
    pub account: String,
    pub region: String,
    pub sms_limit: SmsLimit,
    pub runbook_url: Option<String>,
}

impl<T: TrailSource, P: AlertPublisher, W: WatchdogState> Watchdog<T, P, W> {
    /// Checks the region, alerts if it is blind (once a day per finding with a table), and
    /// logs the result. Fails, retryably, only when the alert could not be published in the
    /// invocation's time.
    pub async fn check(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<WatchdogOutcome, HandlerError> {
        let budget = Budget::start(invocation, now);
        let health = match tokio::time::timeout(CHECK_TIMEOUT, self.trails.trails()).await {
            Ok(Ok(trails)) => judge(&self.region, &trails),
            Ok(Err(err)) => blind_by(err.0),
            Err(_) => blind_by(format!(
                "CloudTrail did not answer within {} s",
                CHECK_TIMEOUT.as_secs()
            )),
        };
        let findings = match health {
            Health::Healthy { feeding } => {
                info!(region = %self.region, ?feeding, "watchdog: healthy, CloudTrail feeds rootwatch");
                return Ok(WatchdogOutcome::Healthy { feeding });
            }
            Health::Blind { findings } => findings,
        };
        let codes: Vec<String> = findings.iter().map(Finding::code).collect();
        let event_id = payload
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_event_id(id))
            .map(str::to_owned);
        let checked = Checked {
            account: &self.account,
            region: &self.region,
            at: now,
        };
        let mut notification = render::render(
            &checked,
            &findings,
            event_id,
            self.sms_limit,
            self.runbook_url.as_deref(),
        );
        let mut marks = DailyMarks {
            state: &self.state,
            owner: &invocation.request_id,
            now,
            keys: findings
                .iter()
                .map(|finding| mark_key(&self.account, &self.region, finding, now))
                .collect(),
            marked: Vec::new(),
        };
        match deliver(&self.publisher, &mut marks, &mut notification, &budget).await {
            Ok(Delivered::Duplicate) => {
                warn!(region = %self.region, findings = ?codes, "watchdog: blind, already alerted today");
                Ok(WatchdogOutcome::Blind {
                    findings: codes,
                    message_id: None,
                })
            }
            Ok(Delivered::Published { message_id, .. }) => {
                warn!(region = %self.region, findings = ?codes, %message_id, "watchdog: blind, alert published");
                Ok(WatchdogOutcome::Blind {
                    findings: codes,
                    message_id: Some(message_id),
                })
            }
            Err(err) => {
                error!(
                    region = %self.region,
                    findings = ?codes,
                    error_type = err.error_type(),
                    retryable = true,
                    "watchdog: blind, and the alert could not be published: {err}"
                );
                Err(err)
            }
        }
    }
}

/// The watchdog's claim: a mark per finding for the UTC day, so a lasting problem alerts once a
/// day and a new one at once. The alert goes out when any mark is new (or the table cannot
/// say); it is a duplicate when every finding was already alerted today. Each key ends in the
/// day, `#<YYYY-MM-DD>`. Every day's alert is texted; [`Quiet`] texts only the first day's. The
/// coverage check keeps its gaps' marks with it too.
pub(crate) struct DailyMarks<'a, W> {
    pub(crate) state: &'a W,
    pub(crate) owner: &'a str,
    pub(crate) now: DateTime<Utc>,
    /// One per finding, never empty.
    pub(crate) keys: Vec<String>,
    /// The marks this invocation set, to remove if the alert is not published.
    pub(crate) marked: Vec<String>,
}

/// How a finding that lasts is repeated, once a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeat {
    /// Texted every day it lasts: `pipeline-blind`, while rootwatch itself cannot hear.
    Daily,
    /// Texted on its first day only (no mark the day before); later days go to email and chat.
    /// A daily 3 a.m. text about a known, standing finding teaches people to ignore texts.
    Quiet,
}

/// [`DailyMarks`] repeated as [`Repeat`] says.
pub(crate) struct Repeating<'a, W> {
    pub(crate) marks: DailyMarks<'a, W>,
    pub(crate) repeat: Repeat,
}

/// The key of the same finding's mark the day before `now`, from a key that ends in `now`'s
/// day; `None` for any other key.
fn yesterday(key: &str, now: DateTime<Utc>) -> Option<String> {
    let prefix = key.strip_suffix(&now.format("%Y-%m-%d").to_string())?;
    let before = now - chrono::Duration::days(1);
    Some(format!("{prefix}{}", before.format("%Y-%m-%d")))
}

impl<W: WatchdogState> Guard for Repeating<'_, W> {
    fn key(&self) -> &str {
        self.marks.key()
    }

    async fn claim(&mut self, budget: &Budget) -> Result<Claimed, StateError> {
        let claimed = self.marks.claim(budget).await?;
        if self.repeat == Repeat::Daily || claimed == Claimed::Duplicate {
            return Ok(claimed);
        }
        for key in &self.marks.marked {
            let Some(before) = yesterday(key, self.marks.now) else {
                return Ok(claimed);
            };
            match self.marks.state.marked(&before, self.marks.now).await {
                Ok(true) => {}
                Ok(false) => return Ok(claimed),
                // Fail loud: a text too many is better than a new finding untexted.
                Err(err) => {
                    warn!(key = %before, "texting without yesterday's mark: {err}");
                    return Ok(claimed);
                }
            }
        }
        Ok(Claimed::Proceed {
            page: Page::Coalesced,
            deduplicated: false,
        })
    }

    async fn record(&self, message_id: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.marks.record(message_id, now).await
    }

    async fn release(&self, counted: Option<Page>) -> Result<(), StateError> {
        self.marks.release(counted).await
    }

    fn pause_notice(&self, severity: Severity) -> Option<Sms> {
        self.marks.pause_notice(severity)
    }
}

impl<'a, W> DailyMarks<'a, W> {
    /// The marks `keys` (never empty) for `owner`'s invocation at `now`.
    pub(crate) fn new(state: &'a W, owner: &'a str, now: DateTime<Utc>, keys: Vec<String>) -> Self {
        DailyMarks {
            state,
            owner,
            now,
            keys,
            marked: Vec::new(),
        }
    }
}

impl<W: WatchdogState> Guard for DailyMarks<'_, W> {
    fn key(&self) -> &str {
        self.keys.first().map_or("watchdog", String::as_str)
    }

    async fn claim(&mut self, _: &Budget) -> Result<Claimed, StateError> {
        for key in &self.keys {
            match self.state.mark(key, self.owner, self.now).await {
                Ok(true) => self.marked.push(key.clone()),
                Ok(false) => {}
                // Fail open: a second alert today is better than none.
                Err(err) => {
                    warn!(%key, "watchdog: alerting without the once-a-day rule: {err}");
                    self.marked.push(key.clone());
                }
            }
        }
        Ok(if self.marked.is_empty() {
            Claimed::Duplicate
        } else {
            // Every pipeline alert is texted: it is not rationed like a root session's.
            Claimed::Proceed {
                page: Page::Text,
                deduplicated: false,
            }
        })
    }

    /// The marks stay: they are the record.
    async fn record(&self, _: &str, _: DateTime<Utc>) -> Result<(), StateError> {
        Ok(())
    }

    async fn release(&self, _: Option<Page>) -> Result<(), StateError> {
        for key in &self.marked {
            if let Err(e) = self.state.unmark(key).await {
                warn!(%key, "watchdog: mark not removed; the next day alerts again: {e}");
            }
        }
        Ok(())
    }

    fn pause_notice(&self, _: Severity) -> Option<Sms> {
        None
    }
}

fn blind_by(error: String) -> Health {
    Health::Blind {
        findings: vec![Finding::CheckFailed { error }],
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::fakes::FakePublisher;
    use crate::ports::{CheckError, TrailView};

    struct Trails(Result<Vec<TrailView>, CheckError>);

    impl TrailSource for Trails {
        async fn trails(&self) -> Result<Vec<TrailView>, CheckError> {
            self.0.clone()
        }
    }

    #[derive(Default)]
    struct Marks(Mutex<Vec<String>>);

    impl WatchdogState for Marks {
        async fn mark(&self, key: &str, _: &str, _: DateTime<Utc>) -> Result<bool, StateError> {
            let mut marks = self.0.lock().unwrap();
            if marks.iter().any(|k| k == key) {
                return Ok(false);
            }
            marks.push(key.to_owned());
            Ok(true)
        }
        async fn unmark(&self, key: &str) -> Result<(), StateError> {
            self.0.lock().unwrap().retain(|k| k != key);
            Ok(())
        }
        async fn marked(&self, key: &str, _: DateTime<Utc>) -> Result<bool, StateError> {
            Ok(self.0.lock().unwrap().iter().any(|k| k == key))
        }
    }

    fn watchdog(
        trails: Result<Vec<TrailView>, CheckError>,
        publisher: FakePublisher,
    ) -> Watchdog<Trails, FakePublisher, Marks> {
        Watchdog {
            trails: Trails(trails),
            publisher,
            state: Marks::default(),
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            sms_limit: SmsLimit::WHOLE_SEGMENT,
            runbook_url: None,
        }
    }

    fn inv() -> Invocation {
        Invocation::new("req-1", Utc::now() + chrono::Duration::seconds(30))
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn only_a_schedule_tick_goes_to_the_watchdog() {
        let tick = serde_json::json!({"detail-type": "Scheduled Event", "source": "aws.events"});
        assert!(is_scheduled_event(&tick));
        let mut other = tick.clone();
        other["source"] = "aws.signin".into();
        assert!(!is_scheduled_event(&other));
        assert!(!is_scheduled_event(
            &serde_json::json!({"detail-type": "Scheduled Event"})
        ));
    }

    #[tokio::test]
    async fn a_broken_condition_alerts_once_a_day_and_a_new_one_at_once() {
        let w = watchdog(Ok(vec![]), FakePublisher::default());
        let tick = serde_json::json!({});
        let first = w
            .check(&tick, &inv(), at("2026-11-22T01:00:00Z"))
            .await
            .unwrap();
        assert!(matches!(
            first,
            WatchdogOutcome::Blind {
                message_id: Some(_),
                ..
            }
        ));
        let again = w
            .check(&tick, &inv(), at("2026-11-22T23:00:00Z"))
            .await
            .unwrap();
        assert!(matches!(
            again,
            WatchdogOutcome::Blind {
                message_id: None,
                ..
            }
        ));
        let next_day = w
            .check(&tick, &inv(), at("2026-11-23T00:00:00Z"))
            .await
            .unwrap();
        assert!(matches!(
            next_day,
            WatchdogOutcome::Blind {
                message_id: Some(_),
                ..
            }
        ));
        assert_eq!(w.publisher.sent.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_failed_check_is_itself_an_alert() {
        let w = watchdog(
            Err(CheckError("AccessDeniedException: no".into())),
            FakePublisher::default(),
        );
        let outcome = w
            .check(&serde_json::json!({}), &inv(), Utc::now())
            .await
            .unwrap();
        assert_eq!(
            outcome,
            WatchdogOutcome::Blind {
                findings: vec!["check-failed".into()],
                message_id: Some("msg-1".into())
            }
        );
        let sent = w.publisher.sent.lock().unwrap();
        assert!(sent[0].email_body.contains("AccessDeniedException: no"));
    }

    #[tokio::test]
    async fn a_failed_publish_is_retryable_and_leaves_no_mark() {
        let w = watchdog(Ok(vec![]), FakePublisher::failing());
        let err = w
            .check(&serde_json::json!({}), &inv(), Utc::now())
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert!(w.state.0.lock().unwrap().is_empty());
    }

    /// The watchdog's publish keeps to the deadline like every alert's: a silent SNS is given up
    /// 4 s before it (one state-table operation and a second), and the day's marks are removed
    /// so the retry alerts.
    #[tokio::test(start_paused = true)]
    async fn a_silent_publish_is_cut_before_the_deadline_and_leaves_no_mark() {
        let w = watchdog(Ok(vec![]), FakePublisher::silent());
        let now = Utc::now();
        let invocation = Invocation::new("req-1", now + chrono::Duration::seconds(30));
        let started = tokio::time::Instant::now();
        let err = w
            .check(&serde_json::json!({}), &invocation, now)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Rootwatch.DeliveryFailed.Retryable");
        assert_eq!(started.elapsed(), std::time::Duration::from_secs(26));
        assert!(w.state.0.lock().unwrap().is_empty());
    }

    async fn claim_on(marks: &Marks, repeat: Repeat, now: DateTime<Utc>) -> Claimed {
        let mut guard = Repeating {
            marks: DailyMarks {
                state: marks,
                owner: "req-1",
                now,
                keys: vec![format!(
                    "posture#111122223333#root-mfa-off#{}",
                    now.format("%Y-%m-%d")
                )],
                marked: Vec::new(),
            },
            repeat,
        };
        guard.claim(&Budget::start(&inv(), now)).await.unwrap()
    }

    /// Quiet texts a finding's first day only; Daily texts every day. Both stay silent on the
    /// day's second run.
    #[tokio::test]
    async fn a_quiet_finding_is_texted_on_its_first_day_only() {
        let text = Claimed::Proceed {
            page: Page::Text,
            deduplicated: false,
        };
        let quiet = Claimed::Proceed {
            page: Page::Coalesced,
            deduplicated: false,
        };
        let marks = Marks::default();
        let day1 = at("2026-11-21T03:00:00Z");
        assert_eq!(claim_on(&marks, Repeat::Quiet, day1).await, text);
        let later = at("2026-11-21T23:00:00Z");
        assert_eq!(
            claim_on(&marks, Repeat::Quiet, later).await,
            Claimed::Duplicate
        );
        let day2 = at("2026-11-22T03:00:00Z");
        assert_eq!(claim_on(&marks, Repeat::Quiet, day2).await, quiet);
        // A day without the finding, and it is new again: texted.
        let day4 = at("2026-11-24T03:00:00Z");
        assert_eq!(claim_on(&marks, Repeat::Quiet, day4).await, text);

        let daily = Marks::default();
        assert_eq!(claim_on(&daily, Repeat::Daily, day1).await, text);
        assert_eq!(claim_on(&daily, Repeat::Daily, day2).await, text);
    }

    #[test]
    fn yesterdays_key_is_the_same_finding_a_day_earlier() {
        let now = at("2026-03-01T00:10:00Z");
        assert_eq!(
            yesterday("posture#1#root-mfa-off#2026-03-01", now).as_deref(),
            Some("posture#1#root-mfa-off#2026-02-28")
        );
        assert_eq!(yesterday("posture#1#root-mfa-off#2026-02-27", now), None);
    }

    /// Too little time to publish and record: retryable at once, nothing marked or published.
    #[tokio::test]
    async fn too_little_time_left_fails_retryably_without_marking() {
        let w = watchdog(Ok(vec![]), FakePublisher::default());
        let now = Utc::now();
        let near = Invocation::new("req-1", now + chrono::Duration::seconds(5));
        let err = w
            .check(&serde_json::json!({}), &near, now)
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "Rootwatch.OutOfTime.Retryable");
        assert!(w.state.0.lock().unwrap().is_empty());
        assert_eq!(w.publisher.count(), 0);
    }
}
