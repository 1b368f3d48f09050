//! The rule table, row by row, through the samples: replays every file in `events/` through the
//! pure core and compares what phones and inboxes would get with the reviewed snapshots in
//! `tests/snapshots/`. A new sample without a reviewed snapshot fails here (review it with
//! `cargo insta review`, or read the `.snap.new` file).

use rootwatch::domain::NotificationKind;
use rootwatch::error::HandlerError;
use rootwatch::handler::{Decision, decide};
use rootwatch::ports::EventKey;
use rootwatch::render::notification::Notification;
use serde_json::Value;

use crate::support::gsm7::subject_problem;
use crate::support::{OFFLINE_TOPIC, config, invalid_samples, peer_samples, valid_samples};

/// Compares `text` with the reviewed snapshot `tests/snapshots/replay_events__<name>.snap`: the
/// snapshots keep the names they were reviewed under, whichever module replays them.
fn assert_reviewed(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(format!("replay_events__{name}"), text);
    });
}

fn review_text(payload: &Value) -> String {
    match decide(payload, &config(OFFLINE_TOPIC)) {
        Ok(
            Decision::Alert { notification, .. } | Decision::ForwarderFailing { notification, .. },
        ) => format!(
            "outcome: alert\nkind: {}\nseverity: {}\nattributes: severity={} kind={}\n\n\
             --- sms ({} chars) ---\n{}\n\n--- email subject ---\n{}\n\n--- email body ---\n{}\n\n\
             --- chat (https, AWS Chatbot) ---\n{}\n\n\
             --- structured event (rootwatch) ---\n{}\n",
            notification.kind.as_str(),
            notification.severity.as_str(),
            notification.severity.as_str(),
            notification.kind.as_str(),
            notification.sms.as_str().chars().count(),
            notification.sms,
            notification.subject.as_str(),
            notification.email_body,
            serde_json::from_str::<Value>(&notification.chat_json)
                .and_then(|chat| serde_json::to_string_pretty(&chat))
                .unwrap_or_else(|e| format!("not JSON: {e}")),
            event_entry(payload, &notification),
        ),
        Ok(Decision::Ignore { event_id, reason }) => {
            format!("outcome: ignored\nevent id: {event_id:?}\nreason: {reason}\n")
        }
        Ok(Decision::Heartbeat(heartbeat)) => format!(
            "outcome: recorded\nheartbeat: {} {} at {}\npublished: nothing\n",
            heartbeat.account,
            heartbeat.region,
            heartbeat.at.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        Err(err) => {
            let err = HandlerError::from(err);
            format!(
                "outcome: error\nerror type: {}\nretryable: {}\nmessage: {err}\n",
                err.error_type(),
                err.is_retryable()
            )
        }
    }
}

/// The `PutEvents` entry for the alert bus, as the first delivery puts it: `alertId` the claim
/// key (CloudTrail's event id; an alarm's envelope id), `page` as rendered.
fn event_entry(payload: &Value, notification: &Notification) -> String {
    let event_id = match notification.kind {
        NotificationKind::Root(_) => notification.event_id.as_deref(),
        _ => None,
    };
    let key = EventKey::of(event_id, payload);
    let event = notification
        .event
        .clone()
        .delivered(key.as_str(), notification.page, false);
    let entry = serde_json::json!({
        "Source": rootwatch::render::event::SOURCE,
        "DetailType": event.detail_type.as_str(),
        "Detail": serde_json::from_str::<Value>(&event.detail_json()).expect("JSON"),
    });
    serde_json::to_string_pretty(&entry).expect("JSON")
}

/// A file the walkers below would skip (no `.json`) is a sample nobody checks: refuse it.
#[test]
fn events_holds_only_json_samples() {
    let events = crate::support::events_dir();
    for dir in [
        events.clone(),
        events.join("invalid"),
        events.join("peer-shapes"),
    ] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let ok = path.extension().is_some_and(|e| e == "json")
                || (path.is_dir()
                    && dir == events
                    && path
                        .file_name()
                        .is_some_and(|n| n == "invalid" || n == "peer-shapes"));
            assert!(ok, "{} is not a .json sample", path.display());
        }
    }
}

#[test]
fn every_sample_matches_its_reviewed_outcome() {
    let samples = valid_samples();
    assert!(
        samples.len() >= 14,
        "events/ should hold at least 14 samples"
    );
    for (name, payload) in samples {
        let text = review_text(&payload);
        assert!(
            !text.starts_with("outcome: error"),
            "events/{name}.json is in events/ but does not parse:\n{text}"
        );
        assert_reviewed(&name, &text);
    }
}

/// Records shaped like the detection projects' public test corpora (panther-analysis test logs,
/// AWS documentation examples, exporter re-encodings), written in our own values: a root record
/// alerts, anything else is ignored — whatever the shape of the fields that do not decide.
#[test]
fn peer_shaped_records_alert_when_root_and_are_ignored_otherwise() {
    let samples = peer_samples();
    assert!(
        samples.len() >= 10,
        "events/peer-shapes/ holds {}",
        samples.len()
    );
    for (name, payload) in samples {
        let text = review_text(&payload);
        let expected = match name.split('-').next() {
            Some("root") => "outcome: alert",
            Some("other") => "outcome: ignored",
            _ => panic!("events/peer-shapes/{name}.json must start with root- or other-"),
        };
        assert!(
            text.starts_with(expected),
            "events/peer-shapes/{name}.json:\n{text}"
        );
        assert_reviewed(&format!("peer-{name}"), &text);
    }
}

/// Every row of the rule table fires for at least one sample, so each has a reviewed snapshot.
#[test]
fn every_rule_has_a_sample() {
    let fired: std::collections::BTreeSet<&str> = valid_samples()
        .into_iter()
        .chain(peer_samples())
        .filter_map(
            |(_, payload)| match decide(&payload, &config(OFFLINE_TOPIC)) {
                Ok(Decision::Alert { alert, .. }) => Some(alert.rule),
                _ => None,
            },
        )
        .collect();
    let missing: Vec<&str> = rootwatch::detect::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !fired.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "rules without a sample in events/: {missing:?}"
    );
}

/// Every sample is what an AWS service sends: its envelope's `source` is the service's own
/// (`aws.` and the service of the record's `eventSource`, as EventBridge writes it), so that the
/// replays show real envelopes and none passes only because the source is not checked.
#[test]
fn every_sample_has_its_services_aws_source() {
    for (name, payload) in valid_samples().into_iter().chain(peer_samples()) {
        let source = payload["source"].as_str().unwrap_or_default();
        let expected = match payload
            .pointer("/detail/eventSource")
            .and_then(Value::as_str)
        {
            Some(event_source) => format!(
                "aws.{}",
                event_source
                    .strip_suffix(".amazonaws.com")
                    .unwrap_or(event_source)
            ),
            None => {
                assert!(source.starts_with("aws."), "{name}: source {source:?}");
                continue;
            }
        };
        assert_eq!(source, expected, "{name}: the envelope's source");
    }
}

/// `events/invalid/forged-*`: envelopes anyone allowed `events:PutEvents` could send, shaped like
/// a root CloudTrail record, under a source that is not AWS's. Each is refused for its source.
#[test]
fn forged_samples_are_refused_for_their_source() {
    let forged: Vec<_> = invalid_samples()
        .into_iter()
        .filter(|(name, _)| name.starts_with("forged-"))
        .collect();
    assert!(forged.len() >= 4, "{} forged samples", forged.len());
    for (name, payload) in forged {
        let mut aws = payload.clone();
        aws["source"] = "aws.signin".into();
        assert!(
            matches!(
                decide(&aws, &config(OFFLINE_TOPIC)),
                Ok(Decision::Alert { .. })
            ),
            "{name}: with AWS's source it would alert, so only the source refuses it"
        );
        let text = review_text(&payload);
        assert!(
            text.contains("error type: Rootwatch.UntrustedSource"),
            "events/invalid/{name}.json:\n{text}"
        );
    }
}

#[test]
fn every_invalid_sample_is_a_clear_non_retryable_error() {
    let samples = invalid_samples();
    assert!(!samples.is_empty());
    for (name, payload) in samples {
        let text = review_text(&payload);
        assert!(
            text.starts_with("outcome: error") && text.contains("retryable: false"),
            "events/invalid/{name}.json should be rejected:\n{text}"
        );
        assert_reviewed(&format!("invalid-{name}"), &text);
    }
}

/// Fields a caller chooses must never reach a phone. (The SMS length, prefix included, is checked
/// independently by the `sms` tests.)
fn untrusted_fragments(payload: &Value) -> Vec<String> {
    let detail = &payload["detail"];
    let mut fragments = Vec::new();
    for pointer in ["/userAgent", "/userIdentity/userName", "/errorMessage"] {
        if let Some(text) = detail.pointer(pointer).and_then(Value::as_str) {
            fragments.push(text.to_owned());
        }
    }
    if let Some(Value::Object(params)) = detail.get("requestParameters") {
        for value in params.values() {
            if let Some(text) = value.as_str() {
                fragments.push(text.to_owned());
            }
        }
    }
    // Short fragments ("AWS Internal", "") may legitimately coincide with other words.
    fragments.retain(|f| f.len() >= 14);
    fragments
}

#[test]
fn subjects_are_valid_and_no_untrusted_text_reaches_a_phone() {
    let mut alerts = 0;
    for (name, payload) in valid_samples() {
        let Ok(Decision::Alert { notification, .. }) = decide(&payload, &config(OFFLINE_TOPIC))
        else {
            continue;
        };
        alerts += 1;
        let sms = notification.sms.as_str();
        if let Some(problem) = subject_problem(notification.subject.as_str()) {
            panic!("{name}: subject {problem}");
        }
        for fragment in untrusted_fragments(&payload) {
            let probe: String = fragment.chars().take(14).collect();
            assert!(
                !sms.contains(&probe),
                "{name}: SMS {sms:?} contains {probe:?}"
            );
        }
    }
    assert!(alerts >= 14, "only {alerts} samples alert");
}

/// Every sample is its own event: a shared `eventID` would be deduplicated by the state table
/// (the demo replays them all against one).
#[test]
fn sample_event_ids_are_unique() {
    let mut seen = std::collections::BTreeMap::new();
    for (name, payload) in valid_samples().into_iter().chain(peer_samples()) {
        if let Some(id) = payload.pointer("/detail/eventID").and_then(Value::as_str) {
            if let Some(first) = seen.insert(id.to_owned(), name.clone()) {
                panic!("events/{name}.json has the eventID of events/{first}.json");
            }
        }
    }
}

/// Allowances lower, never hide, and only for a listed issuer: replayed without any
/// `ASSUME_ROOT_ISSUERS`, every sample decides exactly as with the reviewed configuration except
/// the one sample issued to the listed role — whose alert keeps its kind and rule, is lowered
/// from the rule's severity, and says by which allowance.
#[test]
fn an_allowance_changes_only_the_listed_issuers_sample_and_only_lowers() {
    let listed = config(OFFLINE_TOPIC);
    let unlisted = rootwatch::config::Config {
        assume_root_issuers: Default::default(),
        ..listed.clone()
    };
    let mut lowered = Vec::new();
    for (name, payload) in valid_samples().into_iter().chain(peer_samples()) {
        let with = decide(&payload, &listed);
        let without = decide(&payload, &unlisted);
        if with == without {
            continue;
        }
        let (
            Ok(Decision::Alert {
                alert,
                notification,
            }),
            Ok(Decision::Alert { alert: plain, .. }),
        ) = (with, without)
        else {
            panic!("{name}: an allowance changed more than an alert's severity");
        };
        let allowance = alert
            .allowance
            .expect("a changed alert names its allowance");
        assert_eq!((alert.kind, alert.rule), (plain.kind, plain.rule), "{name}");
        assert_eq!(alert.rule_severity, Some(plain.severity), "{name}");
        assert!(alert.severity < plain.severity, "{name}: lowered");
        assert_eq!(plain.allowance, None);
        let json: Value = serde_json::from_str(&notification.alert_json).unwrap();
        assert_eq!(json["allowance"]["id"], allowance.id, "{name}");
        assert_eq!(json["ruleSeverity"], plain.severity.as_str(), "{name}");
        assert!(
            notification
                .email_body
                .contains(&format!("Allowance    {}: ", allowance.id)),
            "{name}"
        );
        lowered.push(name);
    }
    assert_eq!(lowered, ["root-assume-root-sqs-unlock"]);
}
