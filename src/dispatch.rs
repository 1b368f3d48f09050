//! One function, two jobs: a schedule's tick (`Scheduled Event` from `aws.events`) goes to the
//! [`Watchdog`]; every other payload to the handler, unchanged. Before either, an envelope whose
//! `source` is not AWS's is refused ([`check_source`]). Each invocation's [`Metrics`] are derived
//! here from its result.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::detect::record::check_source;
use crate::error::HandlerError;
use crate::handler::{Handler, Outcome};
use crate::invocation::Invocation;
use crate::metrics::Metrics;
use crate::ports::{
    AccountDirectory, AlertPublisher, AlertState, NoDirectory, TrailSource, WatchdogState,
};
use crate::watchdog::{Watchdog, WatchdogOutcome, is_scheduled_event};

/// The function's response: the handler's outcome or the watchdog's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Response {
    Event(Outcome),
    Watchdog(WatchdogOutcome),
}

/// The handler and the watchdog, sharing the publisher.
#[derive(Debug)]
pub struct Function<P, S, T, W, D = NoDirectory> {
    pub handler: Handler<P, S, D>,
    pub watchdog: Watchdog<T, P, W>,
}

impl<P, S, T, W, D> Function<P, S, T, W, D>
where
    P: AlertPublisher,
    S: AlertState,
    T: TrailSource,
    W: WatchdogState,
    D: AccountDirectory,
{
    /// Handles one invocation and says what it counts.
    pub async fn handle(
        &self,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> (Result<Response, HandlerError>, Metrics) {
        if let Err(err) = check_source(payload) {
            let result = Err(self.handler.reject(err));
            let metrics = Metrics::of_event(&result);
            (result.map(Response::Event), metrics)
        } else if is_scheduled_event(payload) {
            let result = self.watchdog.check(payload, invocation, now).await;
            let metrics = Metrics::of_watchdog(&result);
            (result.map(Response::Watchdog), metrics)
        } else {
            let result = self.handler.handle(payload, invocation, now).await;
            let metrics = Metrics::of_event(&result);
            (result.map(Response::Event), metrics)
        }
    }
}
