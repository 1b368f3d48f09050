//! Errors, and what Lambda should do about each. An event that cannot become an alert is the
//! parser's [`EventError`]; the ports' failures are theirs ([`DeliveryError`], [`StateError`]).
//!
//! Lambda retries every failed asynchronous invocation, so "retryable" here is a promise about
//! the outcome: a delivery failure may succeed on the next attempt, a malformed event never will.
//! Both fail the invocation so that, after Lambda's retries, the on-failure destination keeps the
//! event; the `error_type` reported to Lambda says which it was.

use lambda_runtime::Diagnostic;

use crate::detect::record::EventError;
use crate::ports::{DeliveryError, StateError};

/// Too little of the invocation was left to publish and record the alert: failing now, with
/// the claims released, beats being stopped by Lambda half-way. Retrying will succeed.
#[derive(Debug, thiserror::Error)]
#[error(
    "event {event_id}: only {:.1} s left before the invocation deadline, too little to publish; \
     failing so Lambda retries",
    left.as_secs_f64()
)]
pub struct OutOfTime {
    pub event_id: String,
    pub left: std::time::Duration,
}

/// Everything an invocation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error(transparent)]
    Delivery(#[from] DeliveryError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    OutOfTime(#[from] OutOfTime),
}

impl HandlerError {
    /// Whether a later attempt with the same event can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            HandlerError::Delivery(_) | HandlerError::State(_) | HandlerError::OutOfTime(_)
        )
    }

    /// The event the error is about, when known.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            HandlerError::Event(e) => e.event_id(),
            HandlerError::Delivery(d) => Some(&d.event_id),
            HandlerError::State(StateError::InFlight { event_id }) => Some(event_id),
            HandlerError::State(_) => None,
            HandlerError::OutOfTime(o) => Some(&o.event_id),
        }
    }

    /// The `errorType` Lambda records; shown in the on-failure destination's record.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Event(EventError::Malformed { .. }) => "Rootwatch.MalformedEvent",
            HandlerError::Event(EventError::Unsupported { .. }) => "Rootwatch.UnsupportedEvent",
            HandlerError::Event(EventError::UntrustedSource { .. }) => "Rootwatch.UntrustedSource",
            HandlerError::Delivery(_) => "Rootwatch.DeliveryFailed.Retryable",
            HandlerError::State(StateError::InFlight { .. }) => "Rootwatch.InFlight.Retryable",
            HandlerError::State(_) => "Rootwatch.StateUnavailable.Retryable",
            HandlerError::OutOfTime(_) => "Rootwatch.OutOfTime.Retryable",
        }
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Self {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}
