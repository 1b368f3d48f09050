//! A forwarder's heartbeat, as the home bus delivers it: a `Scheduled Event` from `aws.events`
//! (a source `PutEvents` refuses to callers: EventBridge User Guide, "Amazon EventBridge events")
//! whose one resource is the forwarder's rule, `rootwatch-heartbeat-<8 hex>`, in the envelope's
//! own account and region (the envelope keeps the sender's `account`, `region` and `resources`
//! across buses). Pure.
//!
//! The rule name is matched whole, as the anchored
//! `^arn:(aws|aws-cn|aws-us-gov):events:([a-z0-9-]+):(\d{12}):rule/rootwatch-heartbeat-[0-9a-f]{8}$`,
//! so the home stack's own schedules (`<stack>-RootwatchWatchdogSchedule-<suffix>`, even for a
//! stack named `rootwatch-heartbeat-0a1b2c3d`, and `rootwatch-checks-<8 hex>`) are never taken for
//! one. A payload naming a heartbeat rule that fails any other test is refused as malformed: AWS
//! never sends one.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::detect::record::EventError;
use crate::domain::AccountId;
use crate::domain::limits::CLOCK_SKEW;
use crate::ports::Heartbeat;

/// The rule-name prefix every forwarder's heartbeat rule has (forwarder.yaml, `Heartbeat`).
pub const RULE_PREFIX: &str = "rootwatch-heartbeat-";

/// The account and region of a heartbeat rule's ARN, when `arn` is exactly one.
fn heartbeat_rule(arn: &str) -> Option<(&str, &str)> {
    let rest = ["aws", "aws-cn", "aws-us-gov"].iter().find_map(|p| {
        arn.strip_prefix("arn:")?
            .strip_prefix(p)?
            .strip_prefix(":events:")
    })?;
    let mut parts = rest.splitn(3, ':');
    let region = parts.next()?;
    let account = parts.next()?;
    let resource = parts.next()?;
    let suffix = resource.strip_prefix("rule/")?.strip_prefix(RULE_PREFIX)?;
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let suffix_ok = suffix.len() == 8
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (region_ok && AccountId::parse(account).is_some() && suffix_ok).then_some((account, region))
}

fn invalid(payload: &Value, reason: String) -> EventError {
    EventError::Malformed {
        event_id: payload
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| crate::detect::record::is_event_id(id))
            .map(str::to_owned),
        reason: format!("invalid heartbeat: {reason}"),
    }
}

/// Whether `payload` is a heartbeat: `Ok(None)` when it is not a tick or no resource is a
/// heartbeat rule, the heartbeat when it is one in every respect, and an error naming what is
/// wrong when it names a heartbeat rule but is not one. The time is not checked against a clock
/// here ([`Heartbeat::check_time`]).
pub fn parse(payload: &Value) -> Result<Option<Heartbeat>, EventError> {
    let is_tick = payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
        && payload.get("source").and_then(Value::as_str) == Some("aws.events");
    let resources: Vec<&str> = payload
        .get("resources")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // Only a tick can be one: any other envelope goes its own way, whatever its resources.
    if !is_tick {
        return Ok(None);
    }
    let Some((account, region)) = resources.iter().find_map(|arn| heartbeat_rule(arn)) else {
        return Ok(None);
    };
    let listed = payload
        .get("resources")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if listed != 1 {
        return Err(invalid(
            payload,
            format!("{listed} resources where a heartbeat has its rule alone"),
        ));
    }
    let field = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    if field("account") != account || field("region") != region {
        // The envelope's own values are not repeated: they are the sender's to choose.
        return Err(invalid(
            payload,
            format!(
                "the rule is in {account} {region}; the envelope names another account or region"
            ),
        ));
    }
    let at = DateTime::parse_from_rfc3339(field("time"))
        .map_err(|_| invalid(payload, "no readable time".into()))?
        .with_timezone(&Utc);
    Ok(Some(Heartbeat {
        account: AccountId::parse(account).ok_or_else(|| invalid(payload, "account".into()))?,
        region: region.to_owned(),
        at,
    }))
}

/// Refuses a heartbeat from the future (beyond [`CLOCK_SKEW`]): recorded, it would hold its
/// cell watched after its forwarder stopped.
pub fn check_time(
    heartbeat: Heartbeat,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<Heartbeat, EventError> {
    let skew = chrono::Duration::from_std(CLOCK_SKEW).unwrap_or_default();
    {
        if heartbeat.at > now + skew {
            return Err(invalid(
                payload,
                format!(
                    "its time {} is after now ({})",
                    heartbeat.at.to_rfc3339(),
                    now.to_rfc3339()
                ),
            ));
        }
        Ok(heartbeat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn heartbeat(resources: Value) -> Value {
        json!({"version": "0", "id": "3c1f6e2a-7b4d-4e8f-9a0b-1c2d3e4f5a6b",
            "detail-type": "Scheduled Event", "source": "aws.events", "account": "444455556666",
            "time": "2026-11-21T09:00:00Z", "region": "eu-west-1", "resources": resources,
            "detail": {}})
    }

    const RULE: &str = "arn:aws:events:eu-west-1:444455556666:rule/rootwatch-heartbeat-0f1e2d3c";

    #[test]
    fn a_heartbeat_is_its_account_region_and_time() {
        let parsed = parse(&heartbeat(json!([RULE]))).unwrap().unwrap();
        assert_eq!(parsed.account.as_str(), "444455556666");
        assert_eq!(parsed.region, "eu-west-1");
        assert_eq!(parsed.at.to_rfc3339(), "2026-11-21T09:00:00+00:00");
    }

    /// The home stack's own schedules are ticks, whatever the stack is called.
    #[test]
    fn the_home_stacks_schedules_are_not_heartbeats() {
        for arn in [
            "arn:aws:events:eu-west-1:444455556666:rule/rootwatch-heartbeat-0a1b2c3d-RootwatchWatchdogSchedule-AbC",
            "arn:aws:events:eu-west-1:444455556666:rule/rootwatch-heartbeat-0a1b2c3d-x",
            "arn:aws:events:eu-west-1:444455556666:rule/rootwatch-checks-0a1b2c3d",
            "arn:aws:events:eu-west-1:444455556666:rule/my-rootwatch-heartbeat-0a1b2c3d",
            "xarn:aws:events:eu-west-1:444455556666:rule/rootwatch-heartbeat-0a1b2c3d",
            "arn:aws:events:eu-west-1:444455556666:rule/rootwatch-heartbeat-0A1B2C3D",
            "arn:aws:events:eu-west-1:44445555666:rule/rootwatch-heartbeat-0a1b2c3d",
            "arn:aws:events:eu-west-1:444455556666:rule/bus/rootwatch-heartbeat-0a1b2c3d",
        ] {
            assert_eq!(parse(&heartbeat(json!([arn]))).unwrap(), None, "{arn}");
        }
        assert_eq!(parse(&heartbeat(json!([]))).unwrap(), None);
        let mut no_resources = heartbeat(json!([]));
        no_resources.as_object_mut().unwrap().remove("resources");
        assert_eq!(parse(&no_resources).unwrap(), None);
    }

    #[test]
    fn a_heartbeat_rule_in_a_wrong_envelope_is_refused() {
        let refused = |payload: Value, says: &str| {
            let err = parse(&payload).unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
        };
        refused(heartbeat(json!([RULE, RULE])), "2 resources");
        let mut other_account = heartbeat(json!([RULE]));
        other_account["account"] = "111122223333".into();
        refused(
            other_account,
            "the envelope names another account or region",
        );
        let mut other_region = heartbeat(json!([RULE]));
        other_region["region"] = "us-east-1".into();
        refused(other_region, "the envelope names another account or region");
        let mut no_time = heartbeat(json!([RULE]));
        no_time["time"] = "yesterday".into();
        refused(no_time, "no readable time");
        let mut not_a_tick = heartbeat(json!([RULE]));
        not_a_tick["detail-type"] = "Something".into();
        assert_eq!(
            parse(&not_a_tick).unwrap(),
            None,
            "not a tick: not ours to judge"
        );
    }

    #[test]
    fn a_heartbeat_from_the_future_is_refused() {
        let payload = heartbeat(json!([RULE]));
        let parsed = parse(&payload).unwrap().unwrap();
        let now: DateTime<Utc> = "2026-11-21T08:56:00Z".parse().unwrap();
        assert!(check_time(parsed.clone(), &payload, now).is_ok());
        let early: DateTime<Utc> = "2026-11-21T08:54:00Z".parse().unwrap();
        let err = check_time(parsed, &payload, early).unwrap_err();
        assert!(err.to_string().contains("is after now"), "{err}");
    }

    #[test]
    fn every_partition_has_heartbeats() {
        for arn in [
            "arn:aws-cn:events:cn-north-1:444455556666:rule/rootwatch-heartbeat-0f1e2d3c",
            "arn:aws-us-gov:events:us-gov-west-1:444455556666:rule/rootwatch-heartbeat-0f1e2d3c",
        ] {
            let region = arn.split(':').nth(3).unwrap();
            let mut payload = heartbeat(json!([arn]));
            payload["region"] = region.into();
            assert_eq!(parse(&payload).unwrap().unwrap().region, region);
        }
    }
}
