//! The state table: what the function remembers between invocations, in DynamoDB (moto's here).
//! Dedup (each event alerts once), SMS coalescing (a root session texts once a window, and each
//! distinct critical act once) and the hourly SMS ceiling (texts pause past it, every alert is
//! still emailed).

mod ceiling;
mod coalescing;
mod dedup;

use chrono::{DateTime, Duration, Utc};
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::handler::Handler;
use serde_json::{Value, json};

use crate::support::moto::drain_queue;
use crate::support::stack::LocalStack;
use crate::support::{sample, template};

/// The function as deployed with its state table.
type App = Handler<SnsPublisher, DynamoState>;

/// The SMS subscriptions' filter policy as template.yaml writes it, with `SmsSeverities` at its
/// default. Read from the template's text so that a change there changes this test.
fn template_sms_filter_policy() -> Value {
    let template = template();
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

/// A call signed with the long-term root key `key`, `seq` seconds into the flood.
pub fn keyed_call(seq: i64, key: &str, source: &str, name: &str) -> Value {
    let mut event = sample("root-read-only-call-with-long-term-key");
    let start: DateTime<Utc> = "2026-11-21T04:00:00Z".parse().unwrap();
    let d = &mut event["detail"];
    d["eventID"] = json!(format!("f100d000-0000-4000-8000-{seq:012}"));
    d["eventTime"] = json!((start + Duration::seconds(seq)).to_rfc3339());
    d["eventSource"] = json!(source);
    d["eventName"] = json!(name);
    d["userIdentity"]["accessKeyId"] = json!(key);
    event
}

/// The function's alert topic with a phone and an inbox stood in for by queues.
pub struct Subscribers {
    sqs: aws_sdk_sqs::Client,
    phone: String,
    inbox: String,
}

impl Subscribers {
    pub async fn of(stack: &LocalStack) -> Self {
        let (sqs, phone) = stack
            .moto
            .filtered_queue(&stack.topic, "phone", &template_sms_filter_policy())
            .await;
        let (_, inbox) = stack
            .moto
            .filtered_queue(&stack.topic, "inbox", &json!({}))
            .await;
        Subscribers { sqs, phone, inbox }
    }

    /// How many texts the phone got since the last call.
    pub async fn texts(&self) -> usize {
        drain_queue(&self.sqs, &self.phone).await.len()
    }

    /// How many emails the inbox got since the last call.
    pub async fn emails(&self) -> usize {
        drain_queue(&self.sqs, &self.inbox).await.len()
    }

    /// What the phone got since the last call (each message's structured alert).
    pub async fn texted(&self) -> Vec<String> {
        drain_queue(&self.sqs, &self.phone).await
    }
}
