//! Property tests over generated envelopes: wrong types, missing fields, huge strings, control
//! characters, bidi overrides, emoji and invalid UTF-16 escapes, starting from real samples.
//! Whatever arrives: no panic, and either a clear error or an alert whose SMS is one GSM-7
//! segment (after SNS's prefix) without caller-chosen text and whose subject SNS accepts —
//! judged with the tests' own rules (`support/gsm7.rs`). When only fields that do not decide
//! are broken, a root sample must still alert, every time. Each run counts its alerts and fails
//! if too few cases reached the alert checks, so a change that rejects everything cannot pass.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use rootwatch::handler::{Decision, decide};
use serde_json::{Value, json};
use std::cell::Cell;
use support::gsm7::{segment_problem, subject_problem};
use support::{OFFLINE_TOPIC, TOPIC_DISPLAY_NAME, config, valid_samples};

/// The fields that decide whether an event is alerted (docs/errors.md): breaking one may
/// give a clear error.
const DECIDING: &[&str] = &[
    "",
    "/source",
    "/detail",
    "/detail-type",
    "/detail/userIdentity",
    "/detail/userIdentity/type",
    "/detail/userIdentity/invokedBy",
    "/detail/eventSource",
    "/detail/eventName",
    "/detail/eventType",
];

/// Every other field rootwatch reads, and some it doesn't: breaking any of them must never stop
/// a root event's alert.
const NON_DECIDING: &[&str] = &[
    "/version",
    "/id",
    "/account",
    "/time",
    "/region",
    "/resources",
    "/detail/eventVersion",
    "/detail/userIdentity/principalId",
    "/detail/userIdentity/arn",
    "/detail/userIdentity/accountId",
    "/detail/userIdentity/accessKeyId",
    "/detail/userIdentity/userName",
    "/detail/userIdentity/inScopeOf",
    "/detail/userIdentity/inScopeOf/issuerType",
    "/detail/userIdentity/sessionContext",
    "/detail/userIdentity/sessionContext/attributes",
    "/detail/userIdentity/sessionContext/attributes/mfaAuthenticated",
    "/detail/eventTime",
    "/detail/awsRegion",
    "/detail/sourceIPAddress",
    "/detail/userAgent",
    "/detail/requestParameters",
    "/detail/responseElements",
    "/detail/responseElements/ConsoleLogin",
    "/detail/additionalEventData",
    "/detail/additionalEventData/MFAUsed",
    "/detail/errorCode",
    "/detail/errorMessage",
    "/detail/requestID",
    "/detail/eventID",
    "/detail/recipientAccountId",
    "/detail/readOnly",
    "/detail/sessionCredentialFromConsole",
    "/detail/tlsDetails",
];

fn nasty_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\u{202a}-\u{202e}\u{2066}-\u{2069}\u{200b}\u{feff}🦀😀€\\[|a-z@+0-9]{0,200}",
        "(\u{202e}|\r\n|A|é|🦀){500,5000}",
    ]
}

/// Any JSON value, biased toward the wrong-type cases parsers trip on.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        nasty_text().prop_map(Value::from),
        Just(Value::from("A".repeat(100_000))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Any JSON value: a wrong type, hostile or huge text, a deep structure.
    Replace(&'static str, Value),
    Remove(&'static str),
    /// The value re-encoded as a JSON string, as some exporters write objects.
    Stringify(&'static str),
}

fn mutation(pointers: &'static [&'static str]) -> impl Strategy<Value = Mutation> {
    let pointer = prop::sample::select(pointers);
    prop_oneof![
        (pointer.clone(), any_json()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        pointer.clone().prop_map(Mutation::Remove),
        pointer.prop_map(Mutation::Stringify),
    ]
}

fn apply(event: &mut Value, m: &Mutation) {
    match m {
        Mutation::Replace(pointer, value) => match event.pointer_mut(pointer) {
            Some(slot) => *slot = value.clone(),
            None => {
                if let Some((parent, key)) = pointer.rsplit_once('/') {
                    if let Some(Value::Object(map)) = event.pointer_mut(parent) {
                        map.insert(key.to_owned(), value.clone());
                    }
                }
            }
        },
        Mutation::Remove(pointer) => {
            if let Some((parent, key)) = pointer.rsplit_once('/') {
                if let Some(Value::Object(map)) = event.pointer_mut(parent) {
                    map.remove(key);
                }
            }
        }
        Mutation::Stringify(pointer) => {
            if let Some(slot) = event.pointer_mut(pointer) {
                *slot = Value::String(slot.to_string());
            }
        }
    }
}

/// What `decide` made of a payload, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Error,
    Ignored,
    Alerted,
}

/// Whatever `decide` returns must be safe to act on.
fn check(payload: &Value) -> Result<Seen, TestCaseError> {
    match decide(payload, &config(OFFLINE_TOPIC)) {
        Err(err) => {
            let text = err.to_string();
            prop_assert!(text.contains("event"), "unclear error: {text}");
            prop_assert!(!text.contains('\n'), "error spans lines: {text:?}");
            Ok(Seen::Error)
        }
        Ok(Decision::Ignore { reason, .. }) => {
            prop_assert!(!reason.is_empty());
            Ok(Seen::Ignored)
        }
        Ok(Decision::Alert { notification, .. }) => {
            let sms = segment_problem(TOPIC_DISPLAY_NAME, notification.sms.as_str());
            prop_assert!(sms.is_none(), "SMS {:?}", sms);
            let subject = subject_problem(notification.subject.as_str());
            prop_assert!(subject.is_none(), "subject {:?}", subject);
            // The same event with harmless caller-chosen text must alert with the same SMS.
            let mut scrubbed = payload.clone();
            for pointer in ["/detail/userAgent", "/detail/userIdentity/userName"] {
                if let Some(slot) = scrubbed.pointer_mut(pointer) {
                    *slot = json!("x");
                }
            }
            match decide(&scrubbed, &config(OFFLINE_TOPIC)) {
                Ok(Decision::Alert {
                    notification: plain,
                    ..
                }) => prop_assert_eq!(
                    &notification.sms,
                    &plain.sms,
                    "caller-chosen text changed the SMS"
                ),
                other => {
                    return Err(TestCaseError::fail(format!(
                        "scrubbing the user agent and user name stopped the alert: {other:?}"
                    )));
                }
            }
            Ok(Seen::Alerted)
        }
        Ok(Decision::ForwarderFailing { notification, .. }) => {
            let sms = segment_problem(TOPIC_DISPLAY_NAME, notification.sms.as_str());
            prop_assert!(sms.is_none(), "SMS {:?}", sms);
            let subject = subject_problem(notification.subject.as_str());
            prop_assert!(subject.is_none(), "subject {:?}", subject);
            Ok(Seen::Alerted)
        }
    }
}

/// Runs `cases` generated cases through `test`, then requires at least `min_alerts` of them to
/// have reached the alert checks.
fn run_counting<S: Strategy>(
    cases: u32,
    min_alerts: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<Option<Seen>, TestCaseError>,
) {
    let alerts = Cell::new(0u32);
    let mut runner = TestRunner::new(RunnerConfig::with_cases(cases));
    let result = runner.run(&strategy, |value| {
        if test(value)? == Some(Seen::Alerted) {
            alerts.set(alerts.get() + 1);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    assert!(
        alerts.get() >= min_alerts,
        "only {} of {cases} cases alerted (expected at least {min_alerts})",
        alerts.get()
    );
}

const CASES: u32 = 512;

/// Cases of the flipped property, per run of `make test` (the fuzz target runs many more).
const NON_DECIDING_CASES: u32 = 1_200;

/// The root samples: events that alert as they are.
fn root_samples() -> Vec<Value> {
    let roots: Vec<Value> = valid_samples()
        .into_iter()
        .filter(|(_, p)| {
            matches!(
                decide(p, &config(OFFLINE_TOPIC)),
                Ok(Decision::Alert { .. })
            )
        })
        .map(|(_, p)| p)
        .collect();
    assert!(roots.len() >= 14, "only {} root samples", roots.len());
    roots
}

/// An alarm must fail towards alerting: for every root sample, any mutation of fields that do
/// not decide (wrong type, removed, stringified, huge, hostile text) still gives exactly one
/// deliverable alert.
#[test]
fn breaking_fields_that_do_not_decide_never_stops_a_root_alert() {
    let roots = root_samples();
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec(mutation(NON_DECIDING), 1..8),
    );
    run_counting(
        NON_DECIDING_CASES,
        NON_DECIDING_CASES,
        strategy,
        |(index, mutations)| {
            let mut event = roots[index.index(roots.len())].clone();
            for m in &mutations {
                apply(&mut event, m);
            }
            let seen = check(&event)?;
            prop_assert_eq!(seen, Seen::Alerted, "{:?}", mutations);
            Ok(Some(seen))
        },
    );
}

/// Anything at all, deciding fields included: never a panic; a clear error, an ignore or a
/// deliverable alert.
#[test]
fn mutated_envelopes_never_panic_and_stay_deliverable() {
    let samples = valid_samples();
    let everywhere: &'static [&'static str] =
        Box::leak([DECIDING, NON_DECIDING].concat().into_boxed_slice());
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec(mutation(everywhere), 1..6),
    );
    // Most mutations land on fields that do not decide, so many cases still alert.
    run_counting(CASES, CASES / 3, strategy, |(index, mutations)| {
        let mut event = samples[index.index(samples.len())].1.clone();
        for m in &mutations {
            apply(&mut event, m);
        }
        check(&event).map(Some)
    });
}

/// The JSON text itself, as the runtime receives it: lone surrogates and other invalid `\u`
/// escapes are refused by the JSON parser with a clear error; anything that parses is checked
/// like any other event.
#[test]
fn invalid_unicode_escapes_are_refused_or_handled() {
    let samples = valid_samples();
    let strategy = (
        any::<prop::sample::Index>(),
        prop_oneof![
            Just("\\ud800".to_owned()),
            Just("\\udfff\\ud800".to_owned()),
            Just("\\ud83d".to_owned()),
            Just("\\u00".to_owned()),
            Just("\\uZZZZ".to_owned()),
            Just("\\ud83d\\ude00".to_owned()),
            Just("\\u202e".to_owned()),
            Just("\\u0000".to_owned()),
        ],
        prop::sample::select(vec!["userAgent", "eventName", "sourceIPAddress", "eventID"]),
    );
    // Three of the eight escapes are valid JSON, and most samples carry every field.
    run_counting(CASES, CASES / 8, strategy, |(index, escape, field)| {
        let event = &samples[index.index(samples.len())].1;
        let text = serde_json::to_string(event).unwrap();
        let needle = format!("\"{field}\":\"");
        let Some(at) = text.find(&needle) else {
            return Ok(None);
        };
        let at = at + needle.len();
        let hostile = format!("{}{escape}{}", &text[..at], &text[at..]);
        match serde_json::from_str::<Value>(&hostile) {
            Err(err) => {
                prop_assert!(!err.to_string().is_empty());
                Ok(Some(Seen::Error))
            }
            Ok(payload) => check(&payload).map(Some),
        }
    });
}

/// A forwarder's failing alarm: everything but its name's prefix and its state is chosen by
/// whoever may create alarms or set their state in the member account, or is read leniently
/// (name suffix, reason, account, region, times, resources). Whatever those hold, the alarm
/// gives one deliverable alert, and no caller-chosen text reaches the phone.
#[test]
fn a_failing_forwarder_alerts_whatever_its_other_fields_hold() {
    let (_, sample) = valid_samples()
        .into_iter()
        .find(|(n, _)| n == "forwarder-failing")
        .expect("the forwarder-failing sample");
    let fields: &'static [&'static str] = &[
        "/account",
        "/region",
        "/time",
        "/resources",
        "/detail/state/reason",
        "/detail/state/timestamp",
        "/detail/state/reasonData",
        "/detail/previousState",
        "/detail/configuration",
    ];
    let strategy = (nasty_text(), prop::collection::vec(mutation(fields), 0..4));
    run_counting(CASES, CASES, strategy, |(suffix, mutations)| {
        let mut event = sample.clone();
        event["detail"]["alarmName"] = json!(format!("rootwatch-forwarder-failing-{suffix}"));
        for m in &mutations {
            apply(&mut event, m);
        }
        let seen = check(&event)?;
        prop_assert_eq!(seen, Seen::Alerted, "{:?}", mutations);
        let Ok(Decision::ForwarderFailing { notification, .. }) =
            decide(&event, &config(OFFLINE_TOPIC))
        else {
            return Err(TestCaseError::fail("not a forwarder-failing alert"));
        };
        let sms = notification.sms.as_str();
        let probe: String = suffix.chars().take(12).collect();
        prop_assert!(
            probe.chars().count() < 12 || !sms.contains(&probe),
            "the alarm's name reached the phone: {}",
            sms
        );
        Ok(Some(seen))
    });
}
