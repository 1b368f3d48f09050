//! Phone numbers and email addresses never reach the logs: a full run — every sample, every
//! malformed input, hostile events carrying contacts in every caller-chosen field, a failed
//! publish — captured through the function's own tracing setup, then searched.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use rootwatch::logging::init_with_writer;
use serde_json::{Value, json};
use support::stack::LocalStack;
use support::{invalid_samples, invocation, valid_samples};

const SUBSCRIBED_EMAIL: &str = "alice.oncall@example.com";
const SUBSCRIBED_PHONE: &str = "+15555550123";
const PLANTED_EMAIL: &str = "mallory@evil.example";
const PLANTED_PHONE: &str = "+447700900999";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

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

#[tokio::test]
async fn no_phone_number_or_email_address_is_ever_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    init_with_writer(move || writer.clone());

    let stack = LocalStack::start().await;
    stack
        .subscribe_people(SUBSCRIBED_EMAIL, SUBSCRIBED_PHONE)
        .await;
    let app = stack.app(&stack.topic);

    let mut events: Vec<Value> = valid_samples().into_iter().map(|(_, v)| v).collect();
    events.extend(invalid_samples().into_iter().map(|(_, v)| v));
    let (_, base) = valid_samples()
        .into_iter()
        .find(|(n, _)| n == "root-console-sign-in-without-mfa")
        .unwrap();
    for (_, sample) in valid_samples() {
        events.extend(hostile_variants(&sample));
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

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
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
