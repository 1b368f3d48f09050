//! Errors, and what Lambda should do about each.
//!
//! Lambda retries every failed asynchronous invocation, so "retryable" here is a promise about
//! the outcome: a delivery failure may succeed on the next attempt, a malformed event never will.
//! Both fail the invocation so that, after Lambda's retries, the on-failure destination keeps the
//! event; the `error_type` reported to Lambda says which it was.

use lambda_runtime::Diagnostic;

/// An event that cannot become an alert, whatever is retried.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("malformed event{}: {reason}", id_suffix(event_id))]
    Malformed {
        event_id: Option<String>,
        reason: String,
    },
    #[error(
        "unsupported event{}: detail-type {detail_type:?} is not a CloudTrail sign-in or API call; \
         check the EventBridge rule that targets this function",
        id_suffix(event_id)
    )]
    Unsupported {
        event_id: Option<String>,
        detail_type: String,
    },
    /// The envelope's `source` is not AWS's: anyone allowed `events:PutEvents` on a bus that
    /// reaches the function could have sent it.
    #[error(
        "untrusted event{}: {reason} (only sources beginning \"aws.\" are reserved for AWS); \
         refused, nothing published: check who may put events on the bus or invoke the function",
        id_suffix(event_id)
    )]
    UntrustedSource {
        event_id: Option<String>,
        /// What the envelope had instead, sanitised: `source "com.example" is not an AWS
        /// source`, or `the envelope has no source`.
        reason: String,
    },
}

impl EventError {
    /// The CloudTrail or EventBridge id of the event, when the payload had a well-formed one.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            EventError::Malformed { event_id, .. }
            | EventError::Unsupported { event_id, .. }
            | EventError::UntrustedSource { event_id, .. } => event_id.as_deref(),
        }
    }
}

fn id_suffix(event_id: &Option<String>) -> String {
    event_id
        .as_deref()
        .map(|id| format!(" {id}"))
        .unwrap_or_default()
}

/// The alert could not be handed to SNS. Retrying may succeed.
#[derive(Debug, thiserror::Error)]
#[error("could not publish the alert for event {event_id} to SNS: {reason}")]
pub struct DeliveryError {
    pub event_id: String,
    pub reason: String,
}

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
    State(#[from] crate::state::StateError),
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
            HandlerError::State(crate::state::StateError::InFlight { event_id }) => Some(event_id),
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
            HandlerError::State(crate::state::StateError::InFlight { .. }) => {
                "Rootwatch.InFlight.Retryable"
            }
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
