//! Property tests over generated envelopes: wrong types, missing fields, huge strings, control
//! characters, bidi overrides, emoji and invalid UTF-16 escapes, starting from real samples.
//! Whatever arrives: no panic, and either a clear error or an alert whose SMS is one GSM-7
//! segment (after SNS's prefix) without caller-chosen text and whose subject SNS accepts —
//! judged with the tests' own rules (`support/gsm7.rs`). Each run counts its alerts and fails if
//! too few cases reached the alert checks, so a change that rejects everything cannot pass.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use rootwatch::handler::{Decision, decide};
use serde_json::{Value, json};
use std::cell::Cell;
use support::gsm7::{segment_problem, subject_problem};
use support::{OFFLINE_TOPIC, TOPIC_DISPLAY_NAME, config, valid_samples};

/// Places in an envelope worth breaking.
const POINTERS: &[&str] = &[
    "",
    "/detail",
    "/detail-type",
    "/account",
    "/time",
    "/region",
    "/detail/userIdentity",
    "/detail/userIdentity/type",
    "/detail/userIdentity/accessKeyId",
    "/detail/userIdentity/userName",
    "/detail/userIdentity/invokedBy",
    "/detail/userIdentity/inScopeOf",
    "/detail/userIdentity/sessionContext",
    "/detail/userIdentity/sessionContext/attributes/mfaAuthenticated",
    "/detail/eventTime",
    "/detail/eventSource",
    "/detail/eventName",
    "/detail/awsRegion",
    "/detail/sourceIPAddress",
    "/detail/userAgent",
    "/detail/requestParameters",
    "/detail/responseElements",
    "/detail/responseElements/ConsoleLogin",
    "/detail/additionalEventData/MFAUsed",
    "/detail/errorCode",
    "/detail/errorMessage",
    "/detail/eventID",
    "/detail/recipientAccountId",
    "/detail/readOnly",
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
    Replace(usize, Value),
    Remove(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..POINTERS.len(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (0..POINTERS.len()).prop_map(Mutation::Remove),
    ]
}

fn apply(event: &mut Value, m: &Mutation) {
    match m {
        Mutation::Replace(i, value) => match event.pointer_mut(POINTERS[*i]) {
            Some(slot) => *slot = value.clone(),
            None => {
                if let Some((parent, key)) = POINTERS[*i].rsplit_once('/') {
                    if let Some(Value::Object(map)) = event.pointer_mut(parent) {
                        map.insert(key.to_owned(), value.clone());
                    }
                }
            }
        },
        Mutation::Remove(i) => {
            if let Some((parent, key)) = POINTERS[*i].rsplit_once('/') {
                if let Some(Value::Object(map)) = event.pointer_mut(parent) {
                    map.remove(key);
                }
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

#[test]
fn mutated_envelopes_never_panic_and_stay_deliverable() {
    let samples = valid_samples();
    let strategy = (
        any::<prop::sample::Index>(),
        prop::collection::vec(mutation(), 1..6),
    );
    // About a fifth alert today (101 of 512 in one run): a wrong type in any field still
    // rejects the event.
    run_counting(CASES, CASES / 8, strategy, |(index, mutations)| {
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
