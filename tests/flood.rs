//! A leaked long-term root key enumerating an account must not text the phone once per call.
//! Against moto's SNS and DynamoDB, with the SMS filter policy read from template.yaml and two
//! SQS queues standing in for an inbox (no filter) and a phone (the template's filter): 20
//! `ListBuckets` and one `StopLogging` with the same key give 21 emails and 2 texts — one for
//! the key's use, one for the new critical kind.

mod support;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use support::moto::drain_queue;
use support::stack::LocalStack;
use support::{invocation, valid_samples};

/// The SMS subscriptions' filter policy as template.yaml writes it, with `SmsSeverities` at its
/// default. Read from the template's text so that a change there changes this test.
fn template_sms_filter_policy() -> Value {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"))
        .expect("template.yaml");
    let parameter = template
        .split("\n  SmsSeverities:\n")
        .nth(1)
        .expect("the SmsSeverities parameter");
    let default = parameter
        .lines()
        .find_map(|l| l.trim().strip_prefix("Default:"))
        .expect("SmsSeverities has a default")
        .trim();
    let severities: Vec<&str> = default.split(',').map(str::trim).collect();
    let subscription = template
        .split("\n  SmsSubscription1:\n")
        .nth(1)
        .expect("an SMS subscription");
    let policy: Vec<&str> = subscription
        .split("FilterPolicy:\n")
        .nth(1)
        .expect("the SMS subscription has a filter policy")
        .lines()
        .take_while(|l| l.starts_with("        "))
        .map(str::trim)
        .collect();
    assert_eq!(
        policy,
        ["severity: !Ref SmsSeverities", r#"page: ["true"]"#],
        "the template's SMS filter policy changed shape; update this test"
    );
    json!({"severity": severities, "page": ["true"]})
}

/// A call signed with one long-term root key, `seq` seconds into the flood.
fn keyed_call(seq: i64, source: &str, name: &str) -> Value {
    let (_, mut event) = valid_samples()
        .into_iter()
        .find(|(n, _)| n == "root-read-only-call-with-long-term-key")
        .expect("sample");
    let start: DateTime<Utc> = "2026-11-21T04:00:00Z".parse().unwrap();
    let d = &mut event["detail"];
    d["eventID"] = json!(format!("f100d000-0000-4000-8000-{seq:012}"));
    d["eventTime"] = json!((start + Duration::seconds(seq)).to_rfc3339());
    d["eventSource"] = json!(source);
    d["eventName"] = json!(name);
    d["userIdentity"]["accessKeyId"] = json!("AKIAQNZGKIQYFLOOD001");
    event
}

#[tokio::test]
async fn a_leaked_key_texts_once_per_critical_kind_and_emails_every_call() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let (sqs, phone) = stack
        .moto
        .filtered_queue(&stack.topic, "phone", &template_sms_filter_policy())
        .await;
    let (_, inbox) = stack
        .moto
        .filtered_queue(&stack.topic, "inbox", &json!({}))
        .await;

    let mut events: Vec<Value> = (0..20)
        .map(|i| keyed_call(i * 10, "s3.amazonaws.com", "ListBuckets"))
        .collect();
    events.push(keyed_call(205, "cloudtrail.amazonaws.com", "StopLogging"));
    for event in &events {
        app.handle(event, &invocation(), Utc::now())
            .await
            .expect("alerted");
    }

    let published = stack.moto.sent_notifications(&stack.topic);
    assert_eq!(published.len(), 21, "one publish per event");
    let emails = drain_queue(&sqs, &inbox).await;
    assert_eq!(emails.len(), 21, "the inbox gets every alert");
    let texts = drain_queue(&sqs, &phone).await;
    assert_eq!(texts.len(), 2, "the phone gets 2 texts: {texts:#?}");
    let kinds: Vec<&str> = published
        .iter()
        .filter(|n| n[3]["page"]["Value"] == "true")
        .map(|n| n[3]["kind"]["Value"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(kinds, ["long-term-access-key-used", "cloudtrail-tampered"]);
}
