//! Property tests over generated envelopes: wrong types, missing fields, huge strings, control
//! characters, bidi overrides, emoji and invalid UTF-16 escapes, starting from real samples.
//! Whatever arrives: no panic, and either a clear error or an alert whose SMS is one GSM-7
//! segment without caller-chosen text and whose subject SNS accepts.

mod support;

use proptest::prelude::*;
use rootwatch::email::is_valid_subject;
use rootwatch::handler::{Decision, decide};
use rootwatch::sms::Sms;
use serde_json::{Value, json};
use support::{OFFLINE_TOPIC, config, valid_samples};

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

/// Whatever `decide` returns must be safe to act on.
fn check(payload: &Value) -> Result<(), TestCaseError> {
    match decide(payload, &config(OFFLINE_TOPIC)) {
        Err(err) => {
            let text = err.to_string();
            prop_assert!(text.contains("event"), "unclear error: {text}");
            prop_assert!(!text.contains('\n'), "error spans lines: {text:?}");
        }
        Ok(Decision::Ignore { reason, .. }) => prop_assert!(!reason.is_empty()),
        Ok(Decision::Alert { notification, .. }) => {
            prop_assert!(
                Sms::new(notification.sms.as_str()).is_ok(),
                "{:?}",
                notification.sms
            );
            prop_assert!(
                is_valid_subject(notification.subject.as_str()),
                "{:?}",
                notification.subject
            );
            let mut scrubbed = payload.clone();
            for pointer in ["/detail/userAgent", "/detail/userIdentity/userName"] {
                if let Some(slot) = scrubbed.pointer_mut(pointer) {
                    *slot = json!("x");
                }
            }
            if let Ok(Decision::Alert {
                notification: plain,
                ..
            }) = decide(&scrubbed, &config(OFFLINE_TOPIC))
            {
                prop_assert_eq!(
                    &notification.sms,
                    &plain.sms,
                    "caller-chosen text changed the SMS"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_envelopes_never_panic_and_stay_deliverable(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let samples = valid_samples();
        let mut event = samples[index.index(samples.len())].1.clone();
        for m in &mutations {
            apply(&mut event, m);
        }
        check(&event)?;
    }

    /// The JSON text itself, as the runtime receives it: lone surrogates and other invalid
    /// `\u` escapes are refused by the JSON parser with a clear error; anything that parses is
    /// checked like any other event.
    #[test]
    fn invalid_unicode_escapes_are_refused_or_handled(
        index in any::<prop::sample::Index>(),
        escape in prop_oneof![
            Just("\\ud800".to_owned()),
            Just("\\udfff\\ud800".to_owned()),
            Just("\\ud83d".to_owned()),
            Just("\\u00".to_owned()),
            Just("\\uZZZZ".to_owned()),
            Just("\\ud83d\\ude00".to_owned()),
            Just("\\u202e".to_owned()),
            Just("\\u0000".to_owned()),
        ],
        field in prop::sample::select(vec!["userAgent", "eventName", "sourceIPAddress", "eventID"]),
    ) {
        let samples = valid_samples();
        let event = &samples[index.index(samples.len())].1;
        let text = serde_json::to_string(event).unwrap();
        let needle = format!("\"{field}\":\"");
        let Some(at) = text.find(&needle) else { return Ok(()) };
        let at = at + needle.len();
        let hostile = format!("{}{escape}{}", &text[..at], &text[at..]);
        match serde_json::from_str::<Value>(&hostile) {
            Err(err) => prop_assert!(!err.to_string().is_empty()),
            Ok(payload) => check(&payload)?,
        }
    }
}
