//! Shared by the integration tests (`tests/it/`): sample events, the test configuration, the
//! local AWS APIs (moto, servers that fail on purpose, a proxy), the GSM-7 alphabet and the
//! function's log, captured per test.

pub mod faulty;
pub mod gsm7;
pub mod log;
pub mod moto;
pub mod proxy;
pub mod root_access;
pub mod stack;
pub mod stream;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rootwatch::config::Config;
use rootwatch::invocation::Invocation;
use serde_json::{Value, json};

/// The configuration the samples are reviewed with (also what `make demo` uses).
pub const ACCOUNT_NAMES: &str = "111122223333=prod-payments";
pub const RUNBOOK_URL: &str = "https://wiki.example.com/security/runbooks/root-user";
/// The alert topic's DisplayName in template.yaml (the `sms` tests read it from there).
pub const TOPIC_DISPLAY_NAME: &str = "rootwatch";
/// The one role whose `sts:AssumeRoot` sessions the reviewed samples trust: only
/// `events/root-assume-root-sqs-unlock.json` was issued to it.
pub const ASSUME_ROOT_ISSUERS: &str = "arn:aws:iam::999988887777:role/RootTasks";
/// The function's own role in the reviewed configuration: only
/// `events/root-assume-root-own-audit.json` was issued to it.
pub const FUNCTION_ROLE_ARN: &str =
    "arn:aws:iam::111122223333:role/rootwatch-RootwatchFunctionRole-0A1B2C3D4E5F";

pub fn config(topic_arn: &str) -> Config {
    Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(topic_arn.to_owned()),
        "ACCOUNT_NAMES" => Some(ACCOUNT_NAMES.to_owned()),
        "RUNBOOK_URL" => Some(RUNBOOK_URL.to_owned()),
        "TOPIC_DISPLAY_NAME" => Some(TOPIC_DISPLAY_NAME.to_owned()),
        "ASSUME_ROOT_ISSUERS" => Some(ASSUME_ROOT_ISSUERS.to_owned()),
        "FUNCTION_ROLE_ARN" => Some(FUNCTION_ROLE_ARN.to_owned()),
        _ => None,
    })
    .expect("test configuration is valid")
}

pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

/// Every `*.json` directly in `dir`, sorted, with its file stem.
pub fn samples_in(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable sample");
            let value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, value)
        })
        .collect()
}

/// The replayable sample `events/<name>.json`.
pub fn sample(name: &str) -> Value {
    let path = events_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// A root API call of one console session (the same access key, whatever `seq`), with event id
/// number `seq`, made at `at`.
pub fn session_call(seq: u32, event_name: &str, at: DateTime<Utc>) -> Value {
    let mut event = sample("root-api-call-from-console-session");
    event["detail"]["eventID"] = json!(format!("00000000-0000-4000-8000-{seq:012}"));
    event["detail"]["eventName"] = json!(event_name);
    event["detail"]["eventTime"] = json!(at.to_rfc3339());
    event
}

/// The replayable events (`events/*.json`).
pub fn valid_samples() -> Vec<(String, Value)> {
    samples_in(&events_dir())
}

/// Records shaped like those in other projects' public corpora, in our own values
/// (`events/peer-shapes/*.json`): `root-*` must alert, `other-*` must be ignored.
pub fn peer_samples() -> Vec<(String, Value)> {
    samples_in(&events_dir().join("peer-shapes"))
}

/// The malformed inputs (`events/invalid/*.json`).
pub fn invalid_samples() -> Vec<(String, Value)> {
    samples_in(&events_dir().join("invalid"))
}

/// template.yaml's text: what the deployment sets (the topic's display name, the SMS filter
/// policy) is read from there, so that a change there changes the tests.
pub fn template() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"))
        .expect("template.yaml")
}

/// A topic ARN that passes validation, for tests that never reach SNS.
pub const OFFLINE_TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";

/// An invocation as Lambda starts one: a request id of its own and the function's 30 s.
pub fn invocation() -> Invocation {
    invocation_with(Duration::from_secs(30))
}

/// An invocation with `left` until its deadline.
pub fn invocation_with(left: Duration) -> Invocation {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let request_id = format!(
        "test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    Invocation::new(
        request_id,
        Utc::now() + chrono::Duration::from_std(left).expect("a short duration"),
    )
}
