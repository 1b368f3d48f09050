//! Delivery, the pipeline's last stage: what an alert claims in the state table before it is
//! published. A root alert coalesces per root session (per act when critical); a
//! `forwarder-failing` alert per alarm; both count against their account's hourly text ceiling
//! when phones get them.

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::detect::alert::Alert;
use crate::domain::Severity;
use crate::forwarder::ForwarderFailure;
use crate::invocation::Invocation;
use crate::ports::{Claim, EventKey, TextCeiling};

/// The claim of a root alert, made at wall-clock time `now` (which places it in an hour of
/// the text ceiling). Phones subscribe to `config.sms_severities`: only those coalesce and
/// count.
pub fn alert_claim(
    alert: &Alert,
    key: EventKey,
    invocation: &Invocation,
    config: &Config,
    now: DateTime<Utc>,
) -> Claim {
    let texted = config.sms_severities.contains(&alert.severity);
    Claim {
        key,
        owner: invocation.request_id.clone(),
        lease_until: invocation.lease_until(),
        // Without a readable time there is no window to place the alert in: it pages.
        session: (texted && alert.event_time.is_some()).then(|| coalescing_key(alert)),
        event_time: alert.event_time.unwrap_or_default(),
        window: config.session_window,
        ceiling: texted.then(|| {
            TextCeiling::new(
                alert.account.id_or_unknown(),
                config.sms_ceiling_per_hour,
                now,
            )
        }),
    }
}

/// The claim of a `forwarder-failing` alert, keyed by its envelope (`key`). It shares one SMS
/// per window with the same alarm's other state changes (a flapping alarm texts once), and
/// counts against its member account's text ceiling.
pub fn forwarder_claim(
    failure: &ForwarderFailure,
    key: EventKey,
    invocation: &Invocation,
    config: &Config,
    now: DateTime<Utc>,
) -> Claim {
    let texted = config
        .sms_severities
        .contains(&crate::forwarder::render::SEVERITY);
    let account = failure.account.id_or_unknown();
    Claim {
        key,
        owner: invocation.request_id.clone(),
        lease_until: invocation.lease_until(),
        session: (texted && failure.since.is_some()).then(|| {
            format!(
                "{account}#forwarder#{}#{}",
                failure.region, failure.alarm_name
            )
        }),
        event_time: failure.since.unwrap_or_default(),
        window: config.session_window,
        ceiling: texted.then(|| TextCeiling::new(account, config.sms_ceiling_per_hour, now)),
    }
}

/// What an alert shares its one SMS per window with. A critical alert pages once per *event* (the
/// service and the call) in its root session: a leaked key making the same call 20 times texts
/// once, and every other critical act in that session (`StopLogging` after
/// `PutEventSelectors`, `LeaveOrganization` after `DeleteDetector`) texts again. Other texted
/// alerts share their session's one SMS. Email always gets every alert.
pub fn coalescing_key(alert: &Alert) -> String {
    let session = alert.root_session();
    if alert.severity == Severity::Critical {
        format!(
            "{session}#critical#{}#{}",
            alert.event_source, alert.event_name
        )
    } else {
        session
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::handler::{Decision, decide};
    use serde_json::Value;

    fn alert(name: &str) -> Alert {
        let payload = crate::samples::sample(name);
        let config = Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        match decide(&payload, &config).unwrap() {
            Decision::Alert { alert, .. } => *alert,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sessions_are_keyed_by_access_key_or_source_ip() {
        assert_eq!(
            alert("root-api-call-from-console-session").root_session(),
            "111122223333#key#ASIAQNZGKIQYEXAMPLE2"
        );
        assert_eq!(
            alert("root-console-sign-in-without-mfa").root_session(),
            "111122223333#ip#192.0.2.110"
        );
    }

    fn invocation() -> Invocation {
        Invocation::new("req-1", "2026-11-21T09:00:30Z".parse().unwrap())
    }

    fn claim(name: &str) -> Claim {
        let alert = alert(name);
        let key = EventKey::of(alert.event_id.as_deref(), &Value::Null);
        let config = Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        let now = "2026-11-21T09:59:59.900Z".parse().unwrap();
        alert_claim(&alert, key, &invocation(), &config, now)
    }

    #[test]
    fn a_claim_is_owned_by_the_invocation_and_leased_until_its_deadline() {
        let claim = claim("root-console-sign-in-without-mfa");
        assert_eq!(claim.key.as_str(), "0f3b2c4d-1a2b-4c3d-8e9f-a1b2c3d4e5f6");
        assert_eq!(claim.owner, "req-1");
        assert_eq!(
            claim.lease_until,
            "2026-11-21T09:00:35Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    /// Critical alerts coalesce per event (service and call) within their session, so two
    /// critical acts of one kind each text; others share the session.
    #[test]
    fn critical_alerts_coalesce_per_event() {
        assert_eq!(
            claim("root-cloudtrail-logging-stopped").session.as_deref(),
            Some(
                "111122223333#key#ASIAQNZGKIQYEXAMPLE1#critical#cloudtrail.amazonaws.com#StopLogging"
            )
        );
        assert_ne!(
            claim("root-cloudtrail-event-selectors-changed").session,
            claim("root-cloudtrail-logging-stopped").session,
            "same kind, same session, another act"
        );
        assert_eq!(
            claim("root-api-call-from-console-session")
                .session
                .as_deref(),
            Some("111122223333#key#ASIAQNZGKIQYEXAMPLE2")
        );
    }

    /// A texted alert counts against its own account's ceiling, in the UTC hour of the claim.
    #[test]
    fn texted_alerts_count_against_their_accounts_hour() {
        let ceiling = claim("root-cloudtrail-logging-stopped").ceiling.unwrap();
        assert_eq!(ceiling.account, "111122223333");
        assert_eq!(ceiling.per_hour, 10);
        assert_eq!(ceiling.key(), "111122223333#2026-11-21T09");
        assert_eq!(
            ceiling.until(),
            "2026-11-21T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(claim("root-console-sign-in-failed").ceiling, None);
    }

    /// A failed sign-in (MEDIUM, not texted) must not use up the session's SMS, or the password
    /// reset that follows from the same IP would reach no phone.
    #[test]
    fn alerts_that_are_never_texted_do_not_join_a_session() {
        let failed = claim("root-console-sign-in-failed");
        assert_eq!(failed.session, None);
        let reset = claim("root-password-recovery-requested");
        assert_eq!(
            reset.session.as_deref(),
            Some("111122223333#ip#185.220.101.7")
        );
    }
}
