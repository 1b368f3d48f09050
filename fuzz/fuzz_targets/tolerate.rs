//! The flipped property, with libFuzzer choosing the damage: a root sample with one field that
//! does not decide replaced by whatever JSON the input is, re-encoded as a string, or removed,
//! must still give exactly one deliverable alert. The first three bytes choose the sample, the
//! field and the kind of damage; the rest is the JSON value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rootwatch::config::Config;
use rootwatch::handler::{Decision, decide};
use rootwatch::render::email::is_valid_subject;
use rootwatch::render::sms::Sms;
use serde_json::Value;

/// The same list as tests/it/hostile.rs `NON_DECIDING`.
const NON_DECIDING: &[&str] = &[
    "/version", "/id", "/account", "/time", "/region", "/resources",
    "/detail/eventVersion", "/detail/userIdentity/principalId", "/detail/userIdentity/arn",
    "/detail/userIdentity/accountId", "/detail/userIdentity/accessKeyId",
    "/detail/userIdentity/userName", "/detail/userIdentity/inScopeOf",
    "/detail/userIdentity/sessionContext", "/detail/userIdentity/sessionContext/attributes",
    "/detail/eventTime", "/detail/awsRegion", "/detail/sourceIPAddress", "/detail/userAgent",
    "/detail/requestParameters", "/detail/responseElements", "/detail/additionalEventData",
    "/detail/errorCode", "/detail/errorMessage", "/detail/requestID", "/detail/eventID",
    "/detail/recipientAccountId", "/detail/readOnly", "/detail/sessionCredentialFromConsole",
];

fn root_samples() -> Vec<Value> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../events");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .expect("events/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("sample")).expect("JSON"))
        .filter(|v| matches!(decide(v, &config()), Ok(Decision::Alert { .. })))
        .collect()
}

fn config() -> Config {
    Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts".into()),
        "TOPIC_DISPLAY_NAME" => Some("rootwatch".into()),
        _ => None,
    })
    .expect("valid fuzz config")
}

fuzz_target!(|data: &[u8]| {
    thread_local!(static ROOTS: Vec<Value> = root_samples());
    let [sample, field, damage, rest @ ..] = data else {
        return;
    };
    let Ok(value) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let pointer = NON_DECIDING[usize::from(*field) % NON_DECIDING.len()];
    let mut event = ROOTS.with(|roots| roots[usize::from(*sample) % roots.len()].clone());
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer with a parent");
    let Some(Value::Object(map)) = event.pointer_mut(if parent.is_empty() { "" } else { parent })
    else {
        return;
    };
    match damage % 3 {
        0 => {
            map.insert(key.to_owned(), value);
        }
        1 => {
            map.insert(key.to_owned(), Value::String(value.to_string()));
        }
        _ => {
            map.remove(key);
        }
    }
    let config = config();
    match decide(&event, &config) {
        Ok(Decision::Alert { notification, .. }) => {
            assert!(Sms::new(notification.sms.as_str(), config.sms_limit).is_ok());
            assert!(is_valid_subject(notification.subject.as_str()));
        }
        other => panic!("a non-deciding field at {pointer} stopped the alert: {other:?}"),
    }
});
