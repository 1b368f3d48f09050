//! Where a schedule's tick goes. Every `Scheduled Event` from `aws.events` reaches the one
//! function: a forwarder's heartbeat ([`crate::coverage::heartbeat`]) is recorded; the checks
//! schedule's tick (its rule's ARN, `ORGANIZATION_CHECKS_RULE_ARN`, as the one resource) runs the
//! coverage check; any other tick goes to the watchdog and the reports, as before. Pure.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::coverage::heartbeat;
use crate::detect::record::EventError;
use crate::ports::Heartbeat;
use crate::watchdog::is_scheduled_event;

/// What a payload is, for dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A forwarder's heartbeat.
    Heartbeat(Heartbeat),
    /// The checks schedule's tick.
    Checks,
    /// Any other schedule's tick: the watchdog.
    Tick,
    /// Not a tick: the handler's.
    Event,
}

/// Routes `payload`; a heartbeat rule's tick that is not a heartbeat in every respect (its
/// account, region, single resource, time no later than `now` and the clock skew) is refused.
pub fn route(
    payload: &Value,
    checks_rule: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Route, EventError> {
    if let Some(beat) = heartbeat::parse(payload)? {
        return heartbeat::check_time(beat, payload, now).map(Route::Heartbeat);
    }
    if !is_scheduled_event(payload) {
        return Ok(Route::Event);
    }
    let resources = payload.get("resources").and_then(Value::as_array);
    let is_checks = match (checks_rule, resources.map(Vec::as_slice)) {
        (Some(rule), Some([only])) => only.as_str() == Some(rule),
        _ => false,
    };
    Ok(if is_checks {
        Route::Checks
    } else {
        Route::Tick
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CHECKS: &str = "arn:aws:events:us-east-1:111122223333:rule/rootwatch-checks-0a1b2c3d";

    fn tick(resources: Value) -> Value {
        json!({"detail-type": "Scheduled Event", "source": "aws.events",
            "account": "111122223333", "region": "us-east-1",
            "time": "2026-11-21T09:00:00Z", "resources": resources})
    }

    #[test]
    fn each_tick_goes_its_way() {
        let now: DateTime<Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
        let beat = "arn:aws:events:us-east-1:111122223333:rule/rootwatch-heartbeat-0a1b2c3d";
        assert!(matches!(
            route(&tick(json!([beat])), Some(CHECKS), now),
            Ok(Route::Heartbeat(_))
        ));
        assert_eq!(
            route(&tick(json!([CHECKS])), Some(CHECKS), now),
            Ok(Route::Checks)
        );
        assert_eq!(route(&tick(json!([CHECKS])), None, now), Ok(Route::Tick));
        assert_eq!(
            route(&tick(json!([CHECKS, CHECKS])), Some(CHECKS), now),
            Ok(Route::Tick)
        );
        let watchdog =
            "arn:aws:events:us-east-1:111122223333:rule/rootwatch-RootwatchWatchdogSchedule-Ab1";
        assert_eq!(
            route(&tick(json!([watchdog])), Some(CHECKS), now),
            Ok(Route::Tick)
        );
        assert_eq!(
            route(
                &json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.iam"}),
                Some(CHECKS),
                now
            ),
            Ok(Route::Event)
        );
    }
}
