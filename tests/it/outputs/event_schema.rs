//! Every sample's alert event validates against `docs/schemas/alert-event.v1.json`, and so do
//! the watchdog's, the forwarder's, a posture alert and report, a coverage alert (each as its
//! renderer gives it) and a declared alert whose caller-chosen text is hostile.
//! The events are also written to `tests/template/fixtures/alert-events/`, where the on-call
//! transformer tests (Python) read them: this test fails when they drift
//! (`ALERT_EVENTS_UPDATE=1` rewrites them; read the diff).

use std::collections::BTreeMap;
use std::path::Path;

use rootwatch::detect::alert::{Alert, Attempt, SourceIp};
use rootwatch::domain::{AccountId, Declaration, DeclarationStatus, Severity, SourceCidr};
use rootwatch::handler::{Decision, decide};
use rootwatch::render::event::{AlertEvent, DetailType, render_event};
use serde_json::{Value, json};

use crate::support::{OFFLINE_TOPIC, config, peer_samples, sample, valid_samples};

pub(crate) fn validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/schemas/alert-event.v1.json"
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

pub(crate) fn assert_valid(validator: &jsonschema::Validator, detail: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(detail)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{detail:#}");
}

/// The entry as `PutEvents` would carry it, with the detail parsed: what a rule's target gets
/// as `detail-type` and `detail`.
fn entry(event: &AlertEvent) -> Value {
    json!({
        "source": rootwatch::render::event::SOURCE,
        "detail-type": event.detail_type.as_str(),
        "detail": serde_json::from_str::<Value>(&event.detail_json()).expect("detail is JSON"),
    })
}

/// A declared window whose self-stated words are hostile: quotes, a backslash, a template
/// placeholder.
fn hostile_declaration() -> Declaration {
    Declaration {
        id: "0f3b2c4d-1a2b".into(),
        account: AccountId::parse("111122223333").unwrap(),
        start: "2026-11-21T09:00:00Z".parse().unwrap(),
        end: "2026-11-21T10:00:00Z".parse().unwrap(),
        reason: r#"close "case" 42 \ <session> {"x":1}"#.into(),
        by: r#"alice "the admin""#.into(),
        caller_arn: None,
        source: Some(SourceCidr::parse("203.0.113.0/24").unwrap()),
        ended_at: None,
        superseded_at: None,
    }
}

/// Every event the fixtures hold, by name: each alerting sample's (delivered as the first
/// delivery, `alertId` its CloudTrail id), a hostile declared one, the watchdog's and the
/// forwarder's.
fn events() -> BTreeMap<String, AlertEvent> {
    let mut events = BTreeMap::new();
    for (name, payload) in valid_samples().into_iter().chain(peer_samples()) {
        if let Ok(Decision::Alert {
            alert,
            notification,
        }) = decide(&payload, &config(OFFLINE_TOPIC))
        {
            let id = alert
                .event_id
                .clone()
                .unwrap_or_else(|| format!("sample#{name}"));
            let event = render_event(&alert).delivered(&id, notification.page, false);
            events.insert(name, event);
        }
    }
    events.insert("hostile-declared-failure".into(), hostile_declared());
    events.insert("declared-high".into(), declared_high());
    let at = "2026-11-21T09:00:00Z".parse().unwrap();
    let limit = rootwatch::domain::SmsLimit::WHOLE_SEGMENT;
    // rootwatch's own alerts as their renderers give them, delivered under their claim keys.
    let blind = rootwatch::watchdog::render::render(
        &rootwatch::watchdog::render::Checked {
            account: "111122223333",
            region: "eu-west-1",
            at,
        },
        &[rootwatch::watchdog::judge::Finding::NoTrail],
        None,
        limit,
        None,
    );
    events.insert(
        "watchdog-pipeline-blind".into(),
        blind
            .event
            .delivered("watchdog#111122223333#eu-west-1#2026-11-21", true, false),
    );
    let Ok(Decision::ForwarderFailing { notification, .. }) =
        decide(&sample("forwarder-failing"), &config(OFFLINE_TOPIC))
    else {
        panic!("forwarder-failing alerts")
    };
    let key = notification
        .event_id
        .clone()
        .unwrap_or_else(|| "forwarder".into());
    events.insert(
        "forwarder-failing".into(),
        notification
            .event
            .clone()
            .delivered(&key, notification.page, false),
    );
    let posture = rootwatch::posture::render::render(
        &rootwatch::posture::render::Checked {
            account: "111122223333",
            name: Some("prod-payments"),
            at,
        },
        &rootwatch::posture::judge::Finding::AccessKeys,
        None,
        limit,
        None,
    );
    events.insert(
        "posture-root-access-keys".into(),
        posture
            .event
            .delivered("posture#111122223333#2026-11-21", true, false),
    );
    let report = rootwatch::posture::render::render_report(
        "111122223333",
        "centralized root access is off",
        at,
        limit,
        None,
    );
    events.insert(
        "posture-report".into(),
        report
            .event
            .delivered("posture-report#2026-W47", false, false),
    );
    let coverage = rootwatch::coverage::render::render_failed(
        "ListAccounts: AccessDenied",
        at,
        None,
        limit,
        None,
    );
    events.insert(
        "coverage-check-failed".into(),
        coverage
            .event
            .delivered("coverage#check-failed#2026-11-21", true, false),
    );
    events
}

/// A failed call whose error message is hostile, in a declared window with hostile words.
fn hostile_declared() -> AlertEvent {
    let Ok(Decision::Alert { alert, .. }) = decide(
        &sample("root-api-call-access-denied"),
        &config(OFFLINE_TOPIC),
    ) else {
        panic!("alerts")
    };
    let mut alert: Alert = *alert;
    alert.attempt = Attempt::Failure {
        error_code: Some("AccessDenied\"".into()),
        error_message: Some(r#"User: "root" \ not authorized <session> "},{"x":"#.into()),
    };
    alert.declaration = DeclarationStatus::Declared(Box::new(hostile_declaration()));
    // Not an IP: the caller's text, with a quote; the event says `null`, the email keeps it.
    alert.source_ip = SourceIp::Other(r#"evil" host"#.into());
    let id = alert.event_id.clone().unwrap_or_default();
    render_event(&alert).delivered(&id, false, false)
}

/// A HIGH alert inside a declared window: texts no phone, and no on-call tool should page.
fn declared_high() -> AlertEvent {
    let Ok(Decision::Alert { alert, .. }) = decide(
        &sample("root-api-call-from-console-session"),
        &config(OFFLINE_TOPIC),
    ) else {
        panic!("alerts")
    };
    let mut alert: Alert = *alert;
    assert_eq!(alert.severity, Severity::High);
    let mut declaration = hostile_declaration();
    declaration.source = None;
    alert.declaration = DeclarationStatus::Declared(Box::new(declaration));
    let id = alert.event_id.clone().unwrap_or_default();
    render_event(&alert).delivered(&id, false, false)
}

#[test]
fn every_alert_event_is_valid_against_the_schema() {
    let validator = validator();
    let events = events();
    assert!(events.len() >= 45, "only {} events", events.len());
    let mut families = std::collections::HashSet::new();
    for (name, event) in &events {
        let entry = entry(event);
        assert_valid(&validator, &entry["detail"], name);
        families.insert(event.detail_type);
    }
    for family in [
        DetailType::RootActivity,
        DetailType::Health,
        DetailType::Posture,
        DetailType::Coverage,
    ] {
        assert!(families.contains(&family), "{family:?}");
    }
    assert!(
        !events["posture-report"].detail.escalate,
        "a weekly report is read, not paged"
    );
    assert!(events["posture-root-access-keys"].detail.escalate);
    let quiet = &events["declared-high"].detail;
    assert!(
        !quiet.escalate && !quiet.page,
        "declared below CRITICAL: nobody is paged"
    );
    let hostile = &entry(&events["hostile-declared-failure"])["detail"];
    assert_eq!(hostile["declaration"]["status"], "declared");
    assert_eq!(hostile["outcome"]["errorCode"], "AccessDenied");
    assert_eq!(hostile["sourceIp"], Value::Null);
    assert!(
        hostile["outcome"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains('"'),
        "the message is kept, in a field no transformer quotes"
    );
}

/// A schema that accepts anything would pass the test above: it must refuse what would break a
/// transformer or a consumer.
#[test]
fn the_schema_refuses_what_a_consumer_cannot_use() {
    let validator = validator();
    let events = events();
    let good = entry(&events["root-cloudtrail-logging-stopped"])["detail"].clone();
    assert!(validator.is_valid(&good));
    let with = |key: &str, value: Value| {
        let mut bad = good.clone();
        bad[key] = value;
        bad
    };
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("declaration");
    for (what, bad) in [
        ("a quote in a plain field", with("summary", "a\"b".into())),
        ("a backslash in the session", with("session", "a\\b".into())),
        ("a newline in the title", with("title", "a\nb".into())),
        ("a title over 130", with("title", "x".repeat(131).into())),
        ("another version", with("schemaVersion", "2".into())),
        ("an unknown severity", with("severity", "SEVERE".into())),
        ("an empty alert id", with("alertId", "".into())),
        ("an unknown key", with("extra", 1.into())),
        ("a key left out", missing),
        ("a root alert without outcome", with("outcome", Value::Null)),
        (
            "an account that is not 12 digits",
            with("account", "1234".into()),
        ),
    ] {
        assert!(!validator.is_valid(&bad), "{what}");
    }
    let undelivered = render_event(&match decide(
        &sample("root-cloudtrail-logging-stopped"),
        &config(OFFLINE_TOPIC),
    ) {
        Ok(Decision::Alert { alert, .. }) => *alert,
        _ => panic!("alerts"),
    });
    assert!(
        !validator.is_valid(&serde_json::from_str(&undelivered.detail_json()).unwrap()),
        "an event not yet delivered has no alertId"
    );
}

/// The fixtures the Python transformer tests read are exactly what the code renders.
#[test]
fn the_committed_alert_event_fixtures_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/template/fixtures/alert-events");
    let update = std::env::var_os("ALERT_EVENTS_UPDATE").is_some_and(|v| v == "1");
    let events = events();
    let mut drifted = Vec::new();
    for (name, event) in &events {
        let text = format!("{:#}\n", entry(event));
        let path = dir.join(format!("{name}.json"));
        if update {
            std::fs::write(&path, &text).expect("write fixture");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            drifted.push(name.clone());
        }
    }
    let on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .filter(|n| !events.contains_key(n.trim_end_matches(".json")))
        .collect();
    assert!(
        drifted.is_empty() && on_disk.is_empty(),
        "fixtures differ from the rendered events: {drifted:?}; not rendered any more: \
         {on_disk:?} (ALERT_EVENTS_UPDATE=1 rewrites them; read the diff)"
    );
}
