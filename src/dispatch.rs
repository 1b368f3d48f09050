//! One function, three jobs: a batch of stream records rings for declarations of root use
//! ([`Declarer`]); a schedule's tick (`Scheduled Event` from `aws.events`) goes to the
//! [`Watchdog`] and then sends the root-use reports due ([`Reports`]); every other payload goes
//! to the handler, unchanged. A batch is told apart first (it is no EventBridge envelope); then
//! an envelope whose `source` is not AWS's is refused ([`check_source`]). Each invocation's
//! [`Metrics`] are derived here from its result.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::error;

use crate::declare::report::{Reports, ReportsOutcome};
use crate::declare::{Declarer, Rung, is_record_batch};
use crate::detect::record::check_source;
use crate::error::HandlerError;
use crate::handler::{Handler, Outcome};
use crate::invocation::Invocation;
use crate::metrics::Metrics;
use crate::ports::{
    AccountDirectory, AlertPublisher, AlertState, Declarations, MemberRoots, NoDirectory,
    NoMemberRoots, NoPosture, RootPosture, TrailSource, WatchdogState,
};
use crate::posture::members::AuditOutcome;
use crate::posture::{Posture, PostureOutcome};
use crate::watchdog::{Watchdog, WatchdogOutcome, is_scheduled_event};

/// The function's response: the handler's outcome, a tick's, or what each doorbell came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Event(Outcome),
    Tick {
        watchdog: WatchdogOutcome,
        posture: PostureOutcome,
        audit: AuditOutcome,
        reports: ReportsOutcome,
    },
    Declarations(Vec<Rung>),
}

/// The handler, the watchdog and the posture check, sharing the publisher (and the
/// watchdog's marks). `posture` is `None` where no IAM reader is wired (tests of other parts).
#[derive(Debug)]
pub struct Function<P, S, T, W, D = NoDirectory, R = NoPosture, M = NoMemberRoots> {
    pub handler: Handler<P, S, D>,
    pub watchdog: Watchdog<T, P, W>,
    pub posture: Option<Posture<R, M>>,
}

impl<P, S, T, W, D, R, M> Function<P, S, T, W, D, R, M>
where
    P: AlertPublisher,
    S: AlertState + Declarations,
    T: TrailSource,
    W: WatchdogState,
    D: AccountDirectory,
    R: RootPosture,
    M: MemberRoots,
{
    /// Handles one invocation and says what it counts.
    pub async fn handle(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> (Result<Response, HandlerError>, Metrics) {
        let handler = &self.handler;
        if is_record_batch(payload) {
            let declarer = Declarer {
                config: &handler.config,
                publisher: &handler.publisher,
                state: &handler.state,
            };
            let result = declarer.ring(payload, invocation, now).await;
            let metrics = Metrics::of_declarations(&result);
            (result.map(Response::Declarations), metrics)
        } else if let Err(err) = check_source(payload) {
            let result = Err(handler.reject(err));
            let metrics = Metrics::of_event(&result);
            (result.map(Response::Event), metrics)
        } else if is_scheduled_event(payload) {
            let started = tokio::time::Instant::now();
            let checked = self.watchdog.check(payload, invocation, now).await;
            let mut metrics = Metrics::of_watchdog(&checked);
            // The posture and the reports go after the check, each in what time the one
            // before left: their clocks start where it ended.
            let after = |started: tokio::time::Instant| {
                now + chrono::Duration::from_std(started.elapsed()).unwrap_or_default()
            };
            let posture = match &self.posture {
                Some(posture) => {
                    posture
                        .check(
                            &self.watchdog.publisher,
                            &self.watchdog.state,
                            payload,
                            invocation,
                            after(started),
                        )
                        .await
                }
                None => Ok(PostureOutcome::Off),
            };
            metrics.add_posture(&posture);
            let audit = match &self.posture {
                Some(posture) => {
                    posture
                        .audit(
                            &self.watchdog.publisher,
                            &self.watchdog.state,
                            invocation,
                            after(started),
                        )
                        .await
                }
                None => Ok(AuditOutcome::Off),
            };
            metrics.add_audit(&audit);
            let reports = Reports {
                config: &handler.config,
                publisher: &handler.publisher,
                state: &handler.state,
            };
            let swept = reports.sweep(invocation, after(started)).await;
            if let Err(err) = &swept {
                error!(
                    stage = "report",
                    error_type = err.error_type(),
                    retryable = true,
                    "root-use reports not all sent; the next tick retries: {err}"
                );
            }
            metrics.add_reports(&swept);
            let result = match (checked, posture, audit, swept) {
                (Ok(watchdog), Ok(posture), Ok(audit), Ok(reports)) => Ok(Response::Tick {
                    watchdog,
                    posture,
                    audit,
                    reports,
                }),
                (Err(err), ..) | (_, Err(err), ..) | (_, _, Err(err), _) | (.., Err(err)) => {
                    Err(err)
                }
            };
            (result, metrics)
        } else {
            let result = handler.handle(payload, invocation, now).await;
            let metrics = Metrics::of_event(&result);
            (result.map(Response::Event), metrics)
        }
    }
}
