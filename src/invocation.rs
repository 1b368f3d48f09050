//! One invocation's identity and time: who holds a claim (the request id) and how long the
//! invocation may run (Lambda's deadline). Every budget is measured against the deadline here
//! ([`Budget`]), with the limits of [`crate::domain::limits`], so the handler, the watchdog and
//! the state adapter cannot disagree about how much time is left.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::domain::limits::{
    ASSUMED_TIMEOUT, LEASE_MARGIN, MIN_PUBLISH, STATE_RESERVE, WAIT_RESERVE,
};

/// Any real deadline is later than this (2001-09-09, in ms since the epoch); a smaller value
/// is not a point in time.
const EARLIEST_DEADLINE_MS: u64 = 1_000_000_000_000;

/// The invocation, as Lambda describes it in its `Context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Lambda's request id. Its asynchronous retries of one event reuse it; another delivery of
    /// the same event (EventBridge's at-least-once) gets a new one.
    pub request_id: String,
    /// When Lambda stops the invocation.
    pub deadline: DateTime<Utc>,
}

impl Invocation {
    pub fn new(request_id: impl Into<String>, deadline: DateTime<Utc>) -> Self {
        Self {
            request_id: request_id.into(),
            deadline,
        }
    }

    /// From the runtime's context, at wall-clock time `now`: `deadline` is in milliseconds since
    /// the epoch. A deadline that cannot be one (cargo-lambda's local emulator always sends
    /// `600000`) is replaced by `now` plus [`ASSUMED_TIMEOUT`], with a warning.
    pub fn from_context(context: &lambda_runtime::Context, now: DateTime<Utc>) -> Self {
        let deadline = Some(context.deadline)
            .filter(|&ms| ms >= EARLIEST_DEADLINE_MS)
            .and_then(|ms| i64::try_from(ms).ok())
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(|| {
                tracing::warn!(
                    deadline_ms = context.deadline,
                    assumed_timeout_secs = ASSUMED_TIMEOUT.as_secs(),
                    "the runtime's deadline is not a time; assuming the function's timeout"
                );
                now + ASSUMED_TIMEOUT
            });
        Self::new(context.request_id.clone(), deadline)
    }

    /// Until when a claim made by this invocation blocks others: it cannot be working after its
    /// deadline, so after that (and the margin) its claim may be taken over.
    pub fn lease_until(&self) -> DateTime<Utc> {
        self.deadline + LEASE_MARGIN
    }
}

/// The time one invocation has: the wall clock read once at its start, a monotonic clock from
/// there, and the deadline on that monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    wall_at_start: DateTime<Utc>,
    started: Instant,
    deadline: Instant,
}

impl Budget {
    /// `now` is the wall clock at the start of the invocation.
    pub fn start(invocation: &Invocation, now: DateTime<Utc>) -> Self {
        Self::start_at(invocation, now, Instant::now())
    }

    /// As [`Budget::start`], with the monotonic start given (for tests).
    fn start_at(invocation: &Invocation, now: DateTime<Utc>, started: Instant) -> Self {
        let left = (invocation.deadline - now)
            .to_std()
            .unwrap_or(Duration::ZERO);
        Self {
            wall_at_start: now,
            started,
            deadline: started + left,
        }
    }

    /// The wall clock now, for leases and expiry in the table.
    pub fn now(&self) -> DateTime<Utc> {
        self.wall_at_start + self.started.elapsed()
    }

    /// Time until the deadline.
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// Whether a publish can still be tried and its outcome recorded before the deadline.
    pub(crate) fn can_publish(&self) -> bool {
        self.can_publish_after(Duration::ZERO)
    }

    /// Whether something that may take `first` can be done before a publish and still leave
    /// it its time.
    pub(crate) fn can_publish_after(&self, first: Duration) -> bool {
        self.left() >= MIN_PUBLISH + STATE_RESERVE + first
    }

    /// When a publish must be given up, so its claims are released before the deadline.
    pub(crate) fn publish_until(&self) -> Instant {
        self.before_deadline(STATE_RESERVE)
    }

    /// When a duplicate stops waiting for another invocation's outcome.
    pub fn wait_until(&self) -> Instant {
        self.before_deadline(WAIT_RESERVE)
    }

    fn before_deadline(&self, reserve: Duration) -> Instant {
        self.deadline
            .checked_sub(reserve)
            .unwrap_or(self.started)
            .max(self.started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(left: Duration) -> (Invocation, DateTime<Utc>) {
        let now: DateTime<Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
        (Invocation::new("req-1", now + left), now)
    }

    #[test]
    fn the_deadline_comes_from_the_context_in_milliseconds() {
        let mut context = lambda_runtime::Context::default();
        context.request_id = "req-1".into();
        context.deadline = 1_795_338_000_250;
        let invocation = Invocation::from_context(&context, Utc::now());
        assert_eq!(invocation.request_id, "req-1");
        assert_eq!(invocation.deadline.timestamp_millis(), 1_795_338_000_250);
        assert_eq!(
            invocation.lease_until() - invocation.deadline,
            chrono::Duration::seconds(5)
        );
    }

    /// cargo-lambda's emulator sends a constant `600000`, which as a time is in 1970.
    #[test]
    fn a_deadline_that_is_not_a_time_is_replaced_by_the_function_timeout() {
        let mut context = lambda_runtime::Context::default();
        context.deadline = 600_000;
        let now: DateTime<Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
        let invocation = Invocation::from_context(&context, now);
        assert_eq!(
            invocation.deadline,
            "2026-11-21T09:00:30Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[tokio::test]
    async fn a_30_s_invocation_publishes_until_4_s_and_waits_until_19_s_before_its_deadline() {
        let (invocation, now) = invocation(Duration::from_secs(30));
        let started = Instant::now();
        let budget = Budget::start_at(&invocation, now, started);
        assert_eq!(budget.publish_until() - started, Duration::from_secs(26));
        assert_eq!(budget.wait_until() - started, Duration::from_secs(11));
        assert!(budget.can_publish());
    }

    #[tokio::test]
    async fn a_near_deadline_leaves_nothing_to_wait_or_publish_for() {
        let (invocation, now) = invocation(Duration::from_secs(3));
        let started = Instant::now();
        let budget = Budget::start_at(&invocation, now, started);
        assert!(!budget.can_publish());
        assert_eq!(budget.wait_until(), started);
        assert_eq!(budget.publish_until(), started);
    }

    #[tokio::test]
    async fn a_deadline_in_the_past_leaves_no_time() {
        let (invocation, now) = invocation(Duration::ZERO);
        let budget = Budget::start(&invocation, now + chrono::Duration::seconds(10));
        assert_eq!(budget.left(), Duration::ZERO);
        assert!(!budget.can_publish());
    }
}
