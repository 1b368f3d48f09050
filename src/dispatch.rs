//! One function, four jobs: a batch of stream records rings for declarations of root use
//! ([`Declarer`]); a schedule's tick (`Scheduled Event` from `aws.events`) is routed
//! ([`crate::schedule::route`]): a forwarder's heartbeat is recorded and the checks schedule's
//! tick checks coverage ([`Coverage`]), any other goes to the [`Watchdog`] and then sends the
//! root-use reports due ([`Reports`]); every other payload goes to the handler, unchanged. A batch is told apart first (it is no EventBridge envelope); then
//! an envelope whose `source` is not AWS's is refused ([`check_source`]). Each invocation's
//! [`Metrics`] are derived here from its result.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::error;

use crate::coverage::{ChecksOutcome, Coverage, Recorded};
use crate::declare::report::{Reports, ReportsOutcome};
use crate::declare::{Declarer, Rung, is_record_batch};
use crate::detect::record::check_source;
use crate::error::HandlerError;
use crate::handler::{Handler, Outcome};
use crate::invocation::Invocation;
use crate::metrics::Metrics;
use crate::ports::{
    AccountDirectory, AlertPublisher, AlertState, Declarations, Heartbeats, MemberRoots,
    NoCoverage, NoDirectory, NoMemberRoots, NoPosture, Organization, RootPosture, TrailSource,
    WatchdogState,
};
use crate::posture::members::AuditOutcome;
use crate::posture::{Posture, PostureOutcome};
use crate::schedule::{Route, route};
use crate::watchdog::{Watchdog, WatchdogOutcome};

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
    /// A coverage check's result.
    Checks(ChecksOutcome),
    /// A heartbeat's.
    Heartbeat(Recorded),
}

/// The handler, the watchdog, the posture check and, in organization mode with coverage on, the
/// coverage check, sharing the publisher (and the watchdog's marks). `posture` is `None` where
/// no IAM reader is wired (tests of other parts).
#[derive(Debug)]
pub struct Function<
    P,
    S,
    T,
    W,
    D = NoDirectory,
    R = NoPosture,
    M = NoMemberRoots,
    H = NoCoverage,
    O = NoCoverage,
> {
    pub handler: Handler<P, S, D>,
    pub watchdog: Watchdog<T, P, W>,
    pub posture: Option<Posture<R, M>>,
    /// `None`: coverage off; a heartbeat is then ignored.
    pub coverage: Option<Coverage<H, O>>,
    /// The checks schedule's rule (`ORGANIZATION_CHECKS_RULE_ARN`).
    pub checks_rule: Option<String>,
}

impl<P, S, T, W, D, R, M, H, O> Function<P, S, T, W, D, R, M, H, O>
where
    P: AlertPublisher,
    S: AlertState + Declarations,
    T: TrailSource,
    W: WatchdogState,
    D: AccountDirectory,
    R: RootPosture,
    M: MemberRoots,
    H: Heartbeats + Clone + Send + Sync + 'static,
    O: Organization,
{
    /// Handles one invocation and says what it counts, the outputs that failed included (the
    /// watchdog's publisher is a clone of the handler's, sharing its count).
    pub async fn handle(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> (Result<Response, HandlerError>, Metrics) {
        let (result, mut metrics) = self.dispatch(payload, invocation, now).await;
        let failed = self.handler.publisher.take_output_failures();
        metrics.alert_event_failures += failed.events;
        metrics.finding_failures += failed.findings;
        (result, metrics)
    }

    async fn dispatch(
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
        } else {
            self.route(payload, invocation, now).await
        }
    }

    /// A payload with an AWS source: a heartbeat, the checks tick, another tick or an event.
    async fn route(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> (Result<Response, HandlerError>, Metrics) {
        let handler = &self.handler;
        let routed = match route(payload, self.checks_rule.as_deref(), now) {
            Ok(routed) => routed,
            Err(err) => {
                let result = Err(handler.reject(err));
                let metrics = Metrics::of_event(&result);
                return (result.map(Response::Event), metrics);
            }
        };
        match (routed, &self.coverage) {
            (Route::Heartbeat(heartbeat), Some(coverage)) => {
                let recorded = coverage.record(&heartbeat).await;
                (Ok(Response::Heartbeat(recorded)), Metrics::default())
            }
            (Route::Heartbeat(heartbeat), None) => {
                let reason = format!(
                    "heartbeat from {} {}: coverage is off (HEARTBEAT_TABLE or COVERAGE_REGIONS unset)",
                    heartbeat.account, heartbeat.region
                );
                tracing::info!(stage = "classify", %reason, "ignored");
                let result = Ok(Outcome::Ignored {
                    event_id: None,
                    reason,
                });
                let metrics = Metrics::of_event(&result);
                (result.map(Response::Event), metrics)
            }
            (Route::Checks, Some(coverage)) => {
                let result = coverage
                    .check(
                        &handler.publisher,
                        &self.watchdog.state,
                        payload,
                        invocation,
                        now,
                    )
                    .await;
                let metrics = Metrics::of_checks(&result);
                (result.map(Response::Checks), metrics)
            }
            (Route::Checks | Route::Tick, _) => self.tick(payload, invocation, now).await,
            (Route::Event, _) => {
                let result = handler.handle(payload, invocation, now).await;
                let metrics = Metrics::of_event(&result);
                (result.map(Response::Event), metrics)
            }
        }
    }

    /// A schedule's tick: the watchdog, then the root-use reports due.
    async fn tick(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> (Result<Response, HandlerError>, Metrics) {
        let handler = &self.handler;
        {
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
        }
    }
}
