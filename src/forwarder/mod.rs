//! Forwarder failures (organization mode). Each forwarder stack (`forwarder.yaml`) has a
//! CloudWatch alarm named `rootwatch-forwarder-failing-…` on its failed-forwards queue, which
//! holds the root events the home bus refused. The alarm's state change (`CloudWatch Alarm State
//! Change` from `aws.cloudwatch`) is forwarded to the home bus, and a home rule hands it to the
//! function: such an alarm entering `ALARM` becomes one `forwarder-failing` alert naming the
//! member account and region ([`render`]); every other alarm state change is ignored.
//!
//! EventBridge keeps the source's envelope across accounts, so its `account` and `region` are
//! where the alarm is. Event shape: CloudWatch User Guide, "Alarm events and EventBridge".
//! Pure: no clock, no network.

pub mod render;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::detect::record::EventError;
use crate::detect::record::{is_event_id, parse_time};
use crate::domain::{Account, AccountId, UNKNOWN_REGION, is_region_code};
use crate::sanitize::{redact_contacts, untrusted_line};

/// `detail-type` of a CloudWatch alarm's state change.
const ALARM_DETAIL_TYPE: &str = "CloudWatch Alarm State Change";
/// `source` of CloudWatch's events.
const ALARM_SOURCE: &str = "aws.cloudwatch";
/// What every forwarder's failed-forwards alarm is named with (`forwarder.yaml`).
const ALARM_NAME_PREFIX: &str = "rootwatch-forwarder-failing-";

/// Longest alarm name CloudWatch allows, and what is kept of it.
const MAX_ALARM_NAME: usize = 255;
/// What is kept of the alarm's state reason (CloudWatch's, or whoever called `SetAlarmState`).
const MAX_REASON: usize = 300;

/// Whether an envelope is a CloudWatch alarm's state change, for [`read_alarm`].
pub(crate) fn is_alarm_state_change(payload: &Value) -> bool {
    payload.get("detail-type").and_then(Value::as_str) == Some(ALARM_DETAIL_TYPE)
}

/// A forwarder's failed-forwards alarm went into `ALARM`: root events of that account and region
/// are not reaching the home account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwarderFailure {
    /// The member account the forwarder runs in; its name is set when the alert is concluded.
    pub account: Account,
    /// A validated region code, or [`UNKNOWN_REGION`].
    pub region: String,
    /// The alarm's name, as one plain line (whoever creates alarms in that account chooses it).
    pub alarm_name: String,
    /// Why the alarm changed state, as one line: CloudWatch's words, or those of whoever called
    /// `SetAlarmState`.
    pub reason: Option<String>,
    /// When it went into `ALARM`: the state's timestamp, else the envelope's time.
    pub since: Option<DateTime<Utc>>,
    /// The envelope's id, which a redelivery keeps.
    pub event_id: Option<String>,
}

/// What an alarm state change is to rootwatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alarm {
    Failing(Box<ForwarderFailure>),
    /// Another alarm, or a forwarder's alarm leaving `ALARM`: logged and counted, not alerted.
    Other {
        event_id: Option<String>,
        reason: String,
    },
}

/// Reads an alarm state change. The alarm's name and state decide: an envelope without them in
/// readable form is malformed; everything else is read when it can be.
pub(crate) fn read_alarm(payload: &Value) -> Result<Alarm, EventError> {
    let event_id = payload
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| is_event_id(id))
        .map(str::to_owned);
    let malformed = |reason: &str| EventError::Malformed {
        event_id: event_id.clone(),
        reason: reason.to_owned(),
    };
    let other = |reason: String| {
        Ok(Alarm::Other {
            event_id: event_id.clone(),
            reason: redact_contacts(&reason),
        })
    };
    if payload.get("source").and_then(Value::as_str) != Some(ALARM_SOURCE) {
        return other("an alarm state change not sent by CloudWatch".into());
    }
    let detail = payload
        .get("detail")
        .and_then(Value::as_object)
        .ok_or_else(|| malformed("`detail` is missing or not an object"))?;
    let name = detail
        .get("alarmName")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("`detail.alarmName` is missing or not a string"))?;
    let shown_name = untrusted_line(name, MAX_ALARM_NAME);
    if !name.starts_with(ALARM_NAME_PREFIX) {
        return other(format!(
            "alarm {:?} is not a rootwatch forwarder's",
            untrusted_line(name, 80)
        ));
    }
    let state = detail.get("state").and_then(Value::as_object);
    let value = state
        .and_then(|s| s.get("value"))
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("`detail.state.value` is missing or not a string"))?;
    if value != "ALARM" {
        return other(format!(
            "forwarder alarm {shown_name:?} is now {:?}, not ALARM",
            untrusted_line(value, 20)
        ));
    }
    let arn = alarm_arn(payload);
    let account = payload
        .get("account")
        .and_then(Value::as_str)
        .and_then(AccountId::parse)
        .or_else(|| arn.and_then(|(_, account)| AccountId::parse(account)));
    let region = [
        payload.get("region").and_then(Value::as_str),
        arn.map(|(region, _)| region),
    ]
    .into_iter()
    .flatten()
    .find(|r| is_region_code(r))
    .unwrap_or(UNKNOWN_REGION)
    .to_owned();
    let since = state
        .and_then(|s| s.get("timestamp"))
        .and_then(Value::as_str)
        .and_then(parse_time)
        .or_else(|| {
            payload
                .get("time")
                .and_then(Value::as_str)
                .and_then(parse_time)
        });
    let reason = state
        .and_then(|s| s.get("reason"))
        .and_then(Value::as_str)
        .map(|r| untrusted_line(r, MAX_REASON))
        .filter(|r| !r.is_empty());
    Ok(Alarm::Failing(Box::new(ForwarderFailure {
        account: Account {
            id: account,
            name: None,
        },
        region,
        alarm_name: shown_name,
        reason,
        since,
        event_id,
    })))
}

/// The region and account of the alarm's ARN (`resources[0]`:
/// `arn:<partition>:cloudwatch:<region>:<account>:alarm:<name>`), when it has that form.
fn alarm_arn(payload: &Value) -> Option<(&str, &str)> {
    let arn = payload.get("resources")?.get(0)?.as_str()?;
    let mut parts = arn.splitn(7, ':');
    let (Some("arn"), Some(_), Some("cloudwatch"), Some(region), Some(account), Some("alarm")) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((region, account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::sample;
    use serde_json::json;

    fn failing() -> Value {
        sample("forwarder-failing")
    }

    fn read(payload: &Value) -> Alarm {
        read_alarm(payload).unwrap()
    }

    #[test]
    fn a_forwarder_alarm_entering_alarm_names_its_account_region_and_time() {
        let Alarm::Failing(failure) = read(&failing()) else {
            panic!("{:?}", read(&failing()))
        };
        assert_eq!(
            failure.account.id.as_ref().map(AccountId::as_str),
            Some("111122223333")
        );
        assert_eq!(failure.region, "eu-west-1");
        assert!(failure.alarm_name.starts_with(ALARM_NAME_PREFIX));
        assert_eq!(
            failure.since,
            Some("2026-11-21T05:12:40.511Z".parse().unwrap())
        );
        assert!(
            failure
                .reason
                .as_deref()
                .unwrap()
                .starts_with("Threshold Crossed")
        );
        assert_eq!(
            failure.event_id.as_deref(),
            Some("5f2a7c1e-3b9d-4e8f-a6c4-2d1e0f9b8a7c")
        );
    }

    #[test]
    fn other_alarms_and_other_states_are_ignored() {
        for (pointer, value) in [
            ("/detail/alarmName", json!("ServerCpuTooHigh")),
            (
                "/detail/alarmName",
                json!("my-rootwatch-forwarder-failing-x"),
            ),
            ("/detail/state/value", json!("OK")),
            ("/detail/state/value", json!("INSUFFICIENT_DATA")),
            ("/source", json!("aws.events")),
        ] {
            let mut payload = failing();
            *payload.pointer_mut(pointer).unwrap() = value.clone();
            assert!(
                matches!(read(&payload), Alarm::Other { .. }),
                "{pointer} = {value}"
            );
        }
    }

    #[test]
    fn the_name_and_state_must_be_readable() {
        for (pointer, value) in [
            ("/detail/alarmName", json!(7)),
            ("/detail/state/value", json!(["ALARM"])),
            ("/detail", json!("not an object")),
        ] {
            let mut payload = failing();
            *payload.pointer_mut(pointer).unwrap() = value.clone();
            let err = read_alarm(&payload).unwrap_err();
            assert!(matches!(err, EventError::Malformed { .. }), "{err}");
        }
    }

    /// The envelope says where; the alarm's ARN stands in when it cannot, and a region that is
    /// not a region code is never shown.
    #[test]
    fn the_account_and_region_fall_back_to_the_alarm_arn() {
        let mut payload = failing();
        payload["account"] = json!(null);
        payload["region"] = json!("eu-west-1.evil.example");
        let Alarm::Failing(failure) = read(&payload) else {
            panic!()
        };
        assert_eq!(
            failure.account.id.as_ref().map(AccountId::as_str),
            Some("111122223333")
        );
        assert_eq!(failure.region, "eu-west-1");
        payload["resources"] = json!([]);
        let Alarm::Failing(failure) = read(&payload) else {
            panic!()
        };
        assert_eq!(failure.account.id, None);
        assert_eq!(failure.region, UNKNOWN_REGION);
    }

    /// The name past the prefix and the reason are chosen by whoever may create alarms or set
    /// their state in the member account: one line each, capped.
    #[test]
    fn the_alarm_name_and_reason_are_untrusted() {
        let mut payload = failing();
        payload["detail"]["alarmName"] =
            json!(format!("{ALARM_NAME_PREFIX}x\n\u{202e}{}", "y".repeat(400)));
        payload["detail"]["state"]["reason"] = json!(format!("a\r\nb{}", "z".repeat(400)));
        let Alarm::Failing(failure) = read(&payload) else {
            panic!()
        };
        assert!(!failure.alarm_name.contains(['\n', '\u{202e}']));
        assert!(failure.alarm_name.chars().count() <= MAX_ALARM_NAME);
        let reason = failure.reason.unwrap();
        assert!(reason.starts_with("a b") && reason.chars().count() <= MAX_REASON);
    }
}
