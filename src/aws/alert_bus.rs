//! EventBridge behind [`AlertEvents`]: each alert's structured event, put on the alert bus with
//! one `PutEvents` entry.
//!
//! `PutEvents` answers 200 even when an entry was refused: the answer's `FailedEntryCount` and
//! each entry's `ErrorCode` say so (EventBridge API Reference, `PutEvents`), so a refused entry is
//! a failure here, not a success.

use aws_sdk_eventbridge::error::DisplayErrorContext;
use aws_sdk_eventbridge::operation::put_events::PutEventsOutput;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use crate::ports::{AlertEvents, OutputError};
use crate::render::event::{AlertEvent, SOURCE};

/// EventBridge's limit for one entry, `Detail` and the other fields together (API Reference,
/// `PutEvents`; User Guide, "Calculating PutEvents event entry size").
pub const MAX_ENTRY_BYTES: usize = 256 * 1024;

/// The alert bus: its name or ARN (`ALERT_EVENT_BUS`).
#[derive(Debug, Clone)]
pub struct EventBridgeBus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: impl Into<String>) -> Self {
        EventBridgeBus {
            client,
            bus: bus.into(),
        }
    }
}

/// The one entry for `event` on `bus`. Refused when it is over EventBridge's size limit (ours
/// are a few KB; a refusal here says why, where EventBridge would only say the entry failed).
pub fn put_events_entry(
    bus: &str,
    event: &AlertEvent,
) -> Result<PutEventsRequestEntry, OutputError> {
    let detail = event.detail_json();
    let size = SOURCE.len() + event.detail_type.as_str().len() + detail.len();
    if size > MAX_ENTRY_BYTES {
        return Err(OutputError::event(&format!(
            "the entry is {size} bytes, over PutEvents' {MAX_ENTRY_BYTES}"
        )));
    }
    Ok(PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(SOURCE)
        .detail_type(event.detail_type.as_str())
        .detail(detail)
        .build())
}

/// A `PutEvents` answer: a failure when it counts a failed entry, naming EventBridge's code and
/// message for it.
pub fn check_put_events(output: &PutEventsOutput) -> Result<(), OutputError> {
    if output.failed_entry_count() == 0 {
        return Ok(());
    }
    let entry = output.entries().iter().find(|e| e.error_code().is_some());
    Err(OutputError::event(&format!(
        "EventBridge refused the entry: {} {}",
        entry.and_then(|e| e.error_code()).unwrap_or("(no code)"),
        entry.and_then(|e| e.error_message()).unwrap_or_default()
    )))
}

impl AlertEvents for EventBridgeBus {
    async fn put(&self, event: &AlertEvent) -> Result<(), OutputError> {
        let entry = put_events_entry(&self.bus, event)?;
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| OutputError::event(&DisplayErrorContext(&e).to_string()))?;
        check_put_events(&output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Account, AccountId, NotificationKind, Severity};
    use crate::render::event::{Health, health_event};
    use aws_sdk_eventbridge::types::PutEventsResultEntry;

    fn event() -> AlertEvent {
        let account = Account {
            id: AccountId::parse("111122223333"),
            name: None,
        };
        health_event(&Health {
            kind: NotificationKind::PipelineBlind,
            severity: Severity::High,
            account: &account,
            region: "eu-west-1",
            time: None,
            title: "blind",
            session: "111122223333#pipeline-blind#eu-west-1",
            event_id: None,
        })
        .delivered("mark-1", true, false)
    }

    #[test]
    fn the_entry_is_on_the_bus_from_rootwatch_with_the_family_and_the_detail() {
        let event = event();
        let entry = put_events_entry("rootwatch-alerts", &event).unwrap();
        assert_eq!(entry.event_bus_name(), Some("rootwatch-alerts"));
        assert_eq!(entry.source(), Some("rootwatch"));
        assert_eq!(entry.detail_type(), Some("Rootwatch Health Alert"));
        assert_eq!(entry.detail(), Some(event.detail_json().as_str()));
        assert!(entry.resources().is_empty() && entry.time().is_none());
    }

    #[test]
    fn an_entry_over_the_limit_is_refused_saying_why() {
        let mut event = event();
        event.detail.summary = "x".repeat(MAX_ENTRY_BYTES);
        let err = put_events_entry("b", &event).unwrap_err();
        assert!(err.reason.contains("over PutEvents"), "{err}");
    }

    #[test]
    fn a_failed_entry_in_a_200_answer_is_a_failure() {
        let ok = PutEventsOutput::builder()
            .failed_entry_count(0)
            .entries(PutEventsResultEntry::builder().event_id("e1").build())
            .build();
        assert_eq!(check_put_events(&ok), Ok(()));
        let refused = PutEventsOutput::builder()
            .failed_entry_count(1)
            .entries(
                PutEventsResultEntry::builder()
                    .error_code("AccessDeniedException")
                    .error_message("not authorized\non the bus")
                    .build(),
            )
            .build();
        let err = check_put_events(&refused).unwrap_err();
        assert_eq!(err.output, "alert event");
        assert_eq!(
            err.reason,
            "EventBridge refused the entry: AccessDeniedException not authorized on the bus"
        );
    }
}
