//! Declared root use against moto's own records: the CLI writes a declaration, the stream's
//! doorbell (`support/stream.rs`) rings the function, which announces it and opens the window;
//! alerts during it; the root-use report on the scheduled tick.

mod cidr;
mod hostile;
mod messages;
mod report;
mod scenario;
mod stream;

use std::path::Path;
use std::process::{Command, Output};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::dispatch::{Function, Response};
use rootwatch::error::HandlerError;
use rootwatch::invocation::Invocation;
use serde_json::{Value, json};

use crate::support::stack::{LocalStack, TABLE, function};
use crate::support::stream::{EventSourceMappingStandIn, stream_arn};
use crate::support::{ACCOUNT_NAMES, sample};

pub const ACCOUNT: &str = "111122223333";
pub const OTHER: &str = "444455556666";

/// The function as deployed with declarations on, its stream's poller, and its world.
pub struct Declared {
    pub stack: LocalStack,
    pub function: Function<SnsPublisher, DynamoState, CloudTrailSource, DynamoWatchdogState>,
    pub mapping: EventSourceMappingStandIn,
}

impl Declared {
    pub async fn start() -> Self {
        let stack = LocalStack::start().await;
        let arn = stream_arn(&stack.dynamodb, TABLE).await;
        let app = stack.app_with(
            &stack.topic,
            &[
                ("DECLARATION_STREAM_ARN", arn.as_str()),
                ("ACCOUNT_NAMES", ACCOUNT_NAMES),
            ],
        );
        let marks = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
        let function = function(app, marks, &stack.moto.endpoint).await;
        let mapping = EventSourceMappingStandIn::new(&stack.moto.endpoint, &arn).await;
        Declared {
            stack,
            function,
            mapping,
        }
    }

    /// Runs scripts/declare.py against this moto, with the environment for the child only.
    pub fn cli(&self, args: &[&str]) -> Output {
        CliRunner::new(&self.stack.moto.endpoint).run(args)
    }

    /// The doorbells rung since the last pump, each handled.
    pub async fn pump(&mut self) -> Vec<Result<Response, HandlerError>> {
        self.mapping.pump(&self.function, Utc::now()).await
    }

    /// Handles `payload` as an invocation starting at `now` (with its 30 s from then).
    pub async fn at(&self, payload: &Value, now: DateTime<Utc>) -> Result<Response, HandlerError> {
        let invocation = Invocation::new(request_id(), now + chrono::Duration::seconds(30));
        Box::pin(self.function.handle(payload, &invocation, now))
            .await
            .0
    }

    /// Every publish so far: its `kind`, `page` and the message for each protocol.
    pub fn published(&self) -> Vec<(String, String, Value)> {
        crate::watchdog::published(&self.stack.moto, &self.stack.topic)
            .into_iter()
            .map(|(kind, _, page, message)| (kind, page, message))
            .collect()
    }
}

/// scripts/declare.py against one moto server: the environment is the child's alone.
pub struct CliRunner {
    endpoint: String,
}

impl CliRunner {
    pub fn new(endpoint: &str) -> Self {
        CliRunner {
            endpoint: endpoint.to_owned(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let venv = root.join(".venv/bin/python3");
        let python = if venv.exists() {
            venv
        } else {
            "python3".into()
        };
        Command::new(python)
            .arg(root.join("scripts/declare.py"))
            .args(["--table", TABLE])
            .args(args)
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run scripts/declare.py")
    }
}

/// A request id of its own for each invocation.
fn request_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let next = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!("declared-{next}")
}

/// The sample `name` in `account`, with its own event id and time.
pub fn event(name: &str, account: &str, id: u32, time: DateTime<Utc>) -> Value {
    let text = serde_json::to_string(&sample(name))
        .unwrap()
        .replace(ACCOUNT, account);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["detail"]["eventID"] = json!(format!("d3c1a2e0-0000-4000-8000-{id:012}"));
    event["detail"]["eventTime"] = json!(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    event["time"] = json!(time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    event
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: i64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// A declaration written with the SDK, as anyone allowed could, not through the CLI.
pub async fn write(declared: &Declared, id: &str, minutes: i64, reason: &str) {
    write_at(declared, id, Utc::now().timestamp(), minutes, reason).await;
}

/// [`write`] with its start, in epoch seconds.
pub async fn write_at(declared: &Declared, id: &str, now: i64, minutes: i64, reason: &str) {
    declared
        .stack
        .dynamodb
        .put_item()
        .table_name(TABLE)
        .item("pk", s(&format!("declaration#{ACCOUNT}")))
        .item("declaration_id", s(id))
        .item("account_id", s(ACCOUNT))
        .item("window_start", n(now))
        .item("window_end", n(now + minutes * 60))
        .item("declared_reason", s(reason))
        .item("declared_by", s("bob"))
        .send()
        .await
        .expect("write a declaration");
}
