//! Input an attacker chooses. Anyone allowed `events:PutEvents` can put an envelope on the bus,
//! and every string in a CloudTrail record that a caller can choose is untrusted.
//!
//! - **Envelopes** (property tests): wrong types, missing fields, huge strings, control
//!   characters, bidi overrides, emoji and invalid UTF-16 escapes, starting from real samples.
//!   Whatever arrives: no panic, and either a clear error or an alert whose SMS is one GSM-7
//!   segment (after SNS's prefix) without caller-chosen text, whose subject SNS accepts and
//!   whose email holds no control or invisible character — judged with the tests' own rules
//!   (`support/gsm7.rs`). When only fields that do not decide
//!   are broken, a root sample must still alert, every time. Each run counts its alerts and
//!   fails if too few cases reached the alert checks, so a change that rejects everything
//!   cannot pass.
//! - **Strings** (property tests): whatever strings an event carries, it still alerts, its
//!   messages stay deliverable, and caller-chosen text never reaches a phone.
//! - **Sources**: an envelope whose source is not AWS's is refused and publishes nothing, against
//!   moto.
//! - **The log**: phone numbers and email addresses never reach it, through a full run against
//!   moto captured with the function's own log setup.

use std::cell::Cell;

use chrono::Utc;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::handler::{Decision, decide};
use rootwatch::render::notification::Notification;
use serde_json::{Value, json};

use crate::support::gsm7::{segment_problem, subject_problem};
use crate::support::log::Capture;
use crate::support::stack::{LocalStack, TABLE, function, table_keys};
use crate::support::{
    OFFLINE_TOPIC, TOPIC_DISPLAY_NAME, config, invalid_samples, invocation, peer_samples, sample,
    valid_samples,
};

/// The samples that alert as they are, with their names.
fn root_samples() -> Vec<(String, Value)> {
    let roots: Vec<_> = valid_samples()
        .into_iter()
        .filter(|(_, p)| {
            matches!(
                decide(p, &config(OFFLINE_TOPIC)),
                Ok(Decision::Alert { .. })
            )
        })
        .collect();
    assert!(roots.len() >= 14, "only {} root samples", roots.len());
    roots
}

/// What SNS, a phone and an inbox accept: one GSM-7 segment after SNS's prefix, a subject SNS
/// takes, and an email body without control or invisible characters.
fn assert_deliverable(n: &Notification) -> Result<(), TestCaseError> {
    let sms = segment_problem(TOPIC_DISPLAY_NAME, n.sms.as_str());
    prop_assert!(sms.is_none(), "SMS {:?}", sms);
    let subject = subject_problem(n.subject.as_str());
    prop_assert!(subject.is_none(), "subject {:?}", subject);
    for c in n.email_body.chars() {
        prop_assert!(
            c == '\n'
                || !(c.is_control()
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)
                    || ('\u{200b}'..='\u{200f}').contains(&c)
                    || ('\u{e0000}'..='\u{e007f}').contains(&c)),
            "email body has {:?}",
            c
        );
    }
    Ok(())
}

// --- Envelopes -----------------------------------------------------------------------------

/// The fields that decide whether an event is alerted (README, "Errors"): breaking one may
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
            assert_deliverable(&notification)?;
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
            assert_deliverable(&notification)?;
            Ok(Seen::Alerted)
        }
        // Publishes nothing: recorded, in its own account and region only.
        Ok(Decision::Heartbeat(_)) => Ok(Seen::Ignored),
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
            let mut event = roots[index.index(roots.len())].1.clone();
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
    let sample = sample("forwarder-failing");
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

// --- Strings -------------------------------------------------------------------------------

/// Strings built to hurt: controls, line breaks, bidi and zero-width characters, emoji,
/// characters outside GSM-7, and lengths far beyond any message.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f\u{85}\u{ad}\u{2028}\u{2029}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{200b}-\u{200f}\u{feff}\u{e0020}-\u{e007f}a-zA-Z0-9 \\[\\]|€🦀😀é]{0,400}",
        "(CRITICAL|\r\nSubject: |\u{202e}|A|🦀){100,1200}",
    ]
}

fn notification(payload: &Value) -> Option<Notification> {
    match decide(payload, &config(OFFLINE_TOPIC)) {
        Ok(Decision::Alert { notification, .. }) => Some(*notification),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Caller-chosen fields change nothing in the SMS: not its text, not its length.
    #[test]
    fn untrusted_fields_never_reach_the_sms(
        index in any::<prop::sample::Index>(),
        user_agent in hostile_string(),
        user_name in hostile_string(),
        parameter in hostile_string(),
    ) {
        let samples = root_samples();
        let (name, payload) = &samples[index.index(samples.len())];
        let baseline = notification(payload).expect("alertable");
        let mut hostile = payload.clone();
        hostile["detail"]["userAgent"] = json!(user_agent);
        hostile["detail"]["userIdentity"]["userName"] = json!(user_name);
        hostile["detail"]["requestParameters"] = json!({"bucketName": parameter, "nested": [parameter]});
        let attacked = notification(&hostile).expect("still alertable");
        prop_assert_eq!(&attacked.sms, &baseline.sms, "{}", name);
        assert_deliverable(&attacked)?;
    }

    /// Even fields AWS normally controls cannot break the limits, nor stop the alert, if an event
    /// is forged.
    #[test]
    fn any_string_field_keeps_messages_deliverable(
        index in any::<prop::sample::Index>(),
        event_name in hostile_string(),
        event_source in hostile_string(),
        region in hostile_string(),
        source_ip in hostile_string(),
        error_message in hostile_string(),
        mfa in hostile_string(),
    ) {
        let samples = root_samples();
        let (_, payload) = &samples[index.index(samples.len())];
        let mut hostile = payload.clone();
        let detail = &mut hostile["detail"];
        detail["eventName"] = json!(event_name);
        detail["eventSource"] = json!(event_source);
        detail["awsRegion"] = json!(region);
        detail["sourceIPAddress"] = json!(source_ip);
        detail["errorMessage"] = json!(error_message);
        detail["additionalEventData"] = json!({"MFAUsed": mfa});
        let n = notification(&hostile);
        prop_assert!(n.is_some(), "a forged string field stopped the alert");
        assert_deliverable(&n.unwrap())?;
    }
}

// --- Sources -------------------------------------------------------------------------------

/// Envelopes anyone allowed `events:PutEvents` could send, handed to the function as Lambda
/// would (the watchdog's dispatch included), with the state table: every alerting sample under
/// a source that is not AWS's (another, none, one that reads like AWS's), the forged samples in
/// `events/invalid/`, and a schedule tick from a custom source, which would find moto's account
/// without a trail and alert if it reached the watchdog. Read from moto's record: nothing
/// published, nothing written to the state table; each refused as `Rootwatch.UntrustedSource`
/// and counted in the invocation's metrics.
#[tokio::test]
async fn forged_envelopes_never_publish_and_leave_no_state() {
    let stack = LocalStack::start().await;
    stack
        .subscribe_people("secops@example.com", "+15555550100")
        .await;
    let app = stack.app(&stack.topic);
    let marks = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
    let deployed = function(app, marks, &stack.moto.endpoint).await;

    let mut forged: Vec<Value> = Vec::new();
    for (_, event) in valid_samples().into_iter().chain(peer_samples()) {
        if !matches!(
            decide(&event, &config(&stack.topic)),
            Ok(Decision::Alert { .. })
        ) {
            continue;
        }
        for source in [
            json!("com.example.forged"),
            json!("cloudtrail"),
            Value::Null,
        ] {
            let mut envelope = event.clone();
            envelope["source"] = source;
            forged.push(envelope);
        }
    }
    forged.extend(
        invalid_samples()
            .into_iter()
            .filter(|(name, _)| name.starts_with("forged-"))
            .map(|(_, event)| event),
    );
    forged.push(json!({
        "version": "0",
        "id": "89d1a02d-5ec7-412e-82f5-13505f849b42",
        "detail-type": "Scheduled Event",
        "source": "com.example.events",
        "account": "123456789012",
        "time": "2026-11-22T03:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {}
    }));
    assert!(forged.len() > 100, "{} forged envelopes", forged.len());

    for envelope in &forged {
        let (result, metrics) = deployed.handle(envelope, &invocation(), Utc::now()).await;
        let err = result.expect_err("a forged envelope is refused");
        assert_eq!(err.error_type(), "Rootwatch.UntrustedSource", "{err}");
        assert!(!err.is_retryable());
        let line: Value = serde_json::from_str(&metrics.emf("rootwatch", Utc::now()).unwrap())
            .expect("an EMF line");
        assert_eq!(line["UntrustedEvents"], 1);
        assert!(line.get("Alerts").is_none(), "{line}");
    }
    assert!(
        stack.moto.sent_notifications(&stack.topic).is_empty(),
        "a forged envelope was published"
    );
    assert!(
        table_keys(&stack.dynamodb).await.is_empty(),
        "a forged envelope claimed state"
    );
}

// --- The log -------------------------------------------------------------------------------

const SUBSCRIBED_EMAIL: &str = "alice.oncall@example.com";
const SUBSCRIBED_PHONE: &str = "+15555550123";
const PLANTED_EMAIL: &str = "mallory@evil.example";
const PLANTED_PHONE: &str = "+447700900999";

/// Contacts planted in every field an attacker can choose, and in fields that end up in errors.
fn hostile_variants(base: &Value) -> Vec<Value> {
    let both = format!("{PLANTED_EMAIL} {PLANTED_PHONE}");
    let mut out = Vec::new();
    let mut put = |pointer: &str, value: Value| {
        let mut e = base.clone();
        if let Some(slot) = e.pointer_mut(pointer) {
            *slot = value;
        } else if let Some((parent, key)) = pointer.rsplit_once('/') {
            if let Some(Value::Object(map)) = e.pointer_mut(parent) {
                map.insert(key.to_owned(), value);
            }
        }
        out.push(e);
    };
    put("/detail/userAgent", json!(both));
    put("/detail/userIdentity/userName", json!(both));
    put(
        "/detail/requestParameters",
        json!({"email": PLANTED_EMAIL, "phone": PLANTED_PHONE}),
    );
    put("/detail/errorMessage", json!(both));
    put("/detail/userIdentity/type", json!(PLANTED_EMAIL));
    put("/detail/userIdentity/type", json!(PLANTED_PHONE));
    put("/detail/userIdentity/invokedBy", json!(PLANTED_EMAIL));
    put("/detail/readOnly", json!(both));
    put("/detail/eventTime", json!(PLANTED_EMAIL));
    put("/detail/eventID", json!(PLANTED_EMAIL));
    put("/detail-type", json!(both));
    put("/account", json!(PLANTED_PHONE));
    out
}

/// Phone numbers and email addresses never reach the logs: a full run — every sample, every
/// malformed input, hostile events carrying contacts in every caller-chosen field, a failed
/// publish — captured through the function's own log setup, then searched. The capture holds
/// what this test's thread logs, and the runtime runs the function on that one thread.
#[tokio::test(flavor = "current_thread")]
async fn no_phone_number_or_email_address_is_ever_logged() {
    let log = Capture::start();

    let stack = LocalStack::start().await;
    stack
        .subscribe_people(SUBSCRIBED_EMAIL, SUBSCRIBED_PHONE)
        .await;
    let app = stack.app(&stack.topic);

    let mut events: Vec<Value> = valid_samples().into_iter().map(|(_, v)| v).collect();
    events.extend(invalid_samples().into_iter().map(|(_, v)| v));
    let base = sample("root-console-sign-in-without-mfa");
    for (_, valid) in valid_samples() {
        events.extend(hostile_variants(&valid));
    }
    let mut outcomes = 0;
    for event in &events {
        outcomes += usize::from(app.handle(event, &invocation(), Utc::now()).await.is_ok());
    }
    // And a publish that fails (the warning path).
    let broken = stack.app(&stack.missing_topic());
    let mut fresh = hostile_variants(&base).remove(0);
    fresh["detail"]["eventID"] = json!("11111111-2222-4333-8444-555555555555");
    assert!(
        broken
            .handle(&fresh, &invocation(), Utc::now())
            .await
            .is_err()
    );

    let logs = log.text();
    // The capture works: every kind of line is there.
    for expected in [
        "alert published",
        "ignored",
        "malformed event",
        "could not publish",
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} line captured:\n{logs}"
        );
    }
    assert!(outcomes > 20);
    for contact in [
        SUBSCRIBED_EMAIL,
        SUBSCRIBED_PHONE,
        PLANTED_EMAIL,
        PLANTED_PHONE,
    ] {
        let line = logs.lines().find(|l| l.contains(contact));
        assert!(
            line.is_none(),
            "{contact} was logged: {}",
            line.unwrap_or_default()
        );
    }
    for fragment in ["mallory@", "@evil", "7700900999", "5555550123"] {
        assert!(!logs.contains(fragment), "{fragment} was logged");
    }
}
