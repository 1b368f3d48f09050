//! A real local AWS API: moto in server mode on a loopback port of its own, started per test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct MotoServer {
    child: Child,
    pub endpoint: String,
}

const INSTALL_HINT: &str = "moto_server was not found. Run the tests with `make test` (it installs \
moto into .venv), or install it yourself: python3 -m venv .venv && \
.venv/bin/pip install 'moto[server]==5.2.5' (or set MOTO_SERVER=/path/to/moto_server)";

fn moto_binary() -> PathBuf {
    if let Some(explicit) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(explicit);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("moto_server"))
                .find(|candidate| candidate.exists())
        })
        .unwrap_or_else(|| panic!("{INSTALL_HINT}"))
}

impl MotoServer {
    /// Starts moto and waits until it answers. Fails the test (never skips) if it cannot.
    ///
    /// moto binds a port of the kernel's choosing (`-p 0`) and says which. A port picked here and
    /// handed to moto would be free only until moto binds it, and with the tests running side by
    /// side in one process another test's server or connection could take it first; this test
    /// would then talk to a server that is not its own.
    pub fn start() -> Self {
        let binary = moto_binary();
        let mut child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}. {INSTALL_HINT}", binary.display()));
        let port = reported_port(child.stderr.take().expect("moto's stderr"));
        let Ok(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not start: {}", binary.display(), port.unwrap_err());
        };
        let server = MotoServer {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if ureq::get(&format!("{}/moto-api/data.json", server.endpoint))
                .call()
                .is_ok()
            {
                return server;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "moto_server did not answer on {} within 30 s",
            server.endpoint
        );
    }

    /// moto's own record of everything it holds.
    pub fn data(&self) -> Value {
        ureq::get(&format!("{}/moto-api/data.json", self.endpoint))
            .call()
            .expect("moto data.json")
            .body_mut()
            // After a burst it holds thousands of messages (each with its email and chat text):
            // far past ureq's 10 MB default.
            .with_config()
            .limit(1 << 30)
            .read_json()
            .expect("moto data.json is JSON")
    }

    /// `sns.Topic[].sent_notifications` for one topic: `[id, message, subject, attributes, group]`.
    pub fn sent_notifications(&self, topic_arn: &str) -> Vec<Value> {
        let data = self.data();
        data["sns"]["Topic"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["arn"] == topic_arn)
            .flat_map(|t| {
                t["sent_notifications"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    }

    /// An SDK config for this server, built with the same loader the function uses.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        sdk_config_for(&self.endpoint).await
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MotoServer {
    /// A DynamoDB table shaped like template.yaml's state table, with its stream.
    pub async fn state_table(&self, name: &str) -> aws_sdk_dynamodb::Client {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let client = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            // The template's stream: the doorbell of declarations (support/stream.rs).
            .stream_specification(
                aws_sdk_dynamodb::types::StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(aws_sdk_dynamodb::types::StreamViewType::KeysOnly)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("create state table");
        client
    }

    /// An SQS queue subscribed to `topic` with a filter policy: what a filtered subscriber gets.
    pub async fn filtered_queue(
        &self,
        topic: &str,
        name: &str,
        filter_policy: &Value,
    ) -> (aws_sdk_sqs::Client, String) {
        let config = self.sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&config);
        let (url, arn) = create_queue(&sqs, name).await;
        aws_sdk_sns::Client::new(&config)
            .subscribe()
            .topic_arn(topic)
            .protocol("sqs")
            .endpoint(arn)
            .attributes("FilterPolicy", filter_policy.to_string())
            .attributes("FilterPolicyScope", "MessageAttributes")
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .expect("subscribe queue");
        (sqs, url)
    }
}

/// The port moto says it listens on (werkzeug's ` * Running on http://127.0.0.1:PORT`), or what
/// it said instead. A thread keeps reading moto's stderr to its end: moto logs every request
/// there, and a pipe nobody reads would fill and stop it.
fn reported_port(stderr: ChildStderr) -> Result<u16, String> {
    let (found, port) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut found = Some(found);
        let mut said = String::new();
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(1..)) {
            if let Some(sender) = found.take() {
                let text = String::from_utf8_lossy(&line);
                let port = text
                    .split_once("Running on http://127.0.0.1:")
                    .and_then(|(_, rest)| {
                        let digits: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        digits.parse::<u16>().ok()
                    });
                match port {
                    Some(port) => {
                        let _ = sender.send(Ok(port));
                    }
                    None => {
                        said.push_str(&text);
                        found = Some(sender);
                    }
                }
            }
            line.clear();
        }
        if let Some(sender) = found {
            let _ = sender.send(Err(format!("it exited saying {said:?}")));
        }
    });
    port.recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| Err("it named no port within 30 s".to_owned()))
}

/// Every message body waiting in a queue (drains it).
pub async fn drain_queue(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        let messages = got.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        for m in messages {
            bodies.extend(m.body.clone());
            sqs.delete_message()
                .queue_url(url)
                .set_receipt_handle(m.receipt_handle)
                .send()
                .await
                .expect("delete");
        }
    }
}

/// The function's SDK configuration (timeouts, retries), pointed at a local endpoint.
pub async fn sdk_config_for(endpoint: &str) -> aws_config::SdkConfig {
    rootwatch::aws::sdk::sdk_config_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .test_credentials()
        .load()
        .await
}

/// A custom bus with a rule `{source: [rootwatch]}` into a new SQS queue.
pub async fn bus_into_queue(moto: &MotoServer, bus: &str) -> (aws_sdk_sqs::Client, String) {
    let config = moto.sdk_config().await;
    let events = aws_sdk_eventbridge::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    events
        .create_event_bus()
        .name(bus)
        .send()
        .await
        .expect("create bus");
    let (url, arn) = create_queue(&sqs, "alert-events").await;
    events
        .put_rule()
        .name("all-alert-events")
        .event_bus_name(bus)
        .event_pattern(r#"{"source": ["rootwatch"]}"#)
        .send()
        .await
        .expect("rule");
    events
        .put_targets()
        .rule("all-alert-events")
        .event_bus_name(bus)
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn(arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("target");
    (sqs, url)
}

/// A new SQS queue: its URL and its ARN.
async fn create_queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url");
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("queue arn");
    (url, arn)
}
