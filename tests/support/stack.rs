//! The function's whole world on one moto server: the alert topic, the state table and, for the
//! watchdog, CloudTrail.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use rootwatch::aws::alert_bus::EventBridgeBus;
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::finding_state::SessionTable;
use rootwatch::aws::sdk::{eventbridge_client, securityhub_client};
use rootwatch::aws::security_hub::{SecurityHubFindings, SessionFindings};
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::config::Config;
use rootwatch::deliver::WithOutputs;
use rootwatch::dispatch::Function;
use rootwatch::handler::Handler;
use rootwatch::ports::Stateless;
use rootwatch::ports::WatchdogState;
use rootwatch::render::finding::Home;
use rootwatch::watchdog::Watchdog;

use super::moto::{MotoServer, sdk_config_for};
use super::proxy::Proxy;

pub const TABLE: &str = "rootwatch-state";

/// The publisher as `main.rs` builds it: SNS, then the alert bus and the findings when
/// configured.
pub type Outputs = WithOutputs<SnsPublisher, Option<EventBridgeBus>, Option<SessionFindings>>;

/// An item of the state table.
pub type Item = HashMap<String, AttributeValue>;

pub struct LocalStack {
    pub moto: MotoServer,
    pub sns: aws_sdk_sns::Client,
    /// For the test's own reads and writes of the table.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The function's client in these tests: the same table reached through `state_proxy`,
    /// waiting its turn there (see [`patient_client`]).
    pub state_client: aws_sdk_dynamodb::Client,
    /// Forwards the function's DynamoDB requests one at a time, so moto applies each
    /// conditional write atomically as DynamoDB does (see `proxy.rs`).
    pub state_proxy: Proxy,
    /// ARN of the existing `rootwatch-alerts` topic.
    pub topic: String,
}

impl LocalStack {
    pub async fn start() -> Self {
        let moto = MotoServer::start();
        let sns = aws_sdk_sns::Client::new(&moto.sdk_config().await);
        let topic = sns
            .create_topic()
            .name("rootwatch-alerts")
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic arn");
        let dynamodb = moto.state_table(TABLE).await;
        let state_proxy = Proxy::serializing(&moto.endpoint).await;
        let state_client = patient_client(&state_proxy.endpoint).await;
        LocalStack {
            moto,
            sns,
            dynamodb,
            state_client,
            state_proxy,
            topic,
        }
    }

    /// Subscribes an inbox and a phone, as an operator would.
    pub async fn subscribe_people(&self, email: &str, phone: &str) {
        for (protocol, endpoint) in [("email", email), ("sms", phone)] {
            self.sns
                .subscribe()
                .topic_arn(&self.topic)
                .protocol(protocol)
                .endpoint(endpoint)
                .send()
                .await
                .expect("subscribe");
        }
    }

    /// An ARN in this account for a topic that does not exist: publishing to it fails.
    pub fn missing_topic(&self) -> String {
        self.topic.replace("rootwatch-alerts", "deleted-topic")
    }

    /// The function as deployed: publishing to `topic_arn`, with the state table.
    pub fn app(&self, topic_arn: &str) -> Handler<SnsPublisher, DynamoState> {
        self.app_with(topic_arn, &[])
    }

    /// As [`LocalStack::app`], with more configuration (`SMS_CEILING_PER_HOUR`, …).
    pub fn app_with(
        &self,
        topic_arn: &str,
        vars: &[(&str, &str)],
    ) -> Handler<SnsPublisher, DynamoState> {
        self.app_with_state(topic_arn, self.state_client.clone(), vars)
    }

    /// The function publishing to this stack's topic, reaching its state table at
    /// `state_endpoint` (a proxy of its own) with the patient client.
    pub async fn app_with_state_at(
        &self,
        state_endpoint: &str,
    ) -> Handler<SnsPublisher, DynamoState> {
        let client = patient_client(state_endpoint).await;
        self.app_with_state(&self.topic, client, &[])
    }

    fn app_with_state(
        &self,
        topic_arn: &str,
        state_client: aws_sdk_dynamodb::Client,
        vars: &[(&str, &str)],
    ) -> Handler<SnsPublisher, DynamoState> {
        let config = state_config(topic_arn, vars);
        Handler::new(
            config.clone(),
            SnsPublisher::new(self.sns.clone(), config.topic_arn.clone()),
            DynamoState::new(state_client, TABLE),
        )
    }

    /// The `page` attribute of every publish, in order (`missing` where there is none).
    pub fn pages(&self) -> Vec<String> {
        self.moto
            .sent_notifications(&self.topic)
            .iter()
            .map(|n| {
                n[3]["page"]["Value"]
                    .as_str()
                    .unwrap_or("missing")
                    .to_owned()
            })
            .collect()
    }

    /// The function as deployed with the outputs after SNS: `vars` as for [`LocalStack::app_with`]
    /// (`ALERT_EVENT_BUS`, `SECURITY_HUB_FINDINGS`), the alert bus reached at `bus_endpoint`
    /// (moto's, or a port where nothing answers), Security Hub and the sessions on moto; the
    /// clients as `main.rs` makes them. The home account is the topic's.
    pub async fn app_with_outputs(
        &self,
        vars: &[(&str, &str)],
        bus_endpoint: &str,
    ) -> rootwatch::handler::Handler<Outputs, DynamoState> {
        let config = state_config(&self.topic, vars);
        let moto = self.moto.sdk_config().await;
        let events = match &config.alert_event_bus {
            Some(bus) => Some(EventBridgeBus::new(
                eventbridge_client(&sdk_config_for(bus_endpoint).await),
                bus,
            )),
            None => None,
        };
        let findings = config.security_hub_findings.then(|| SessionFindings {
            sessions: SessionTable::new(self.dynamodb.clone(), TABLE),
            hub: SecurityHubFindings::new(securityhub_client(&moto)),
        });
        let home = Home {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: config.topic_arn.account().to_owned(),
        };
        Handler::new(
            config.clone(),
            WithOutputs::new(
                SnsPublisher::new(self.sns.clone(), config.topic_arn.clone()),
                events,
                findings,
                home,
            ),
            DynamoState::new(self.state_client.clone(), TABLE),
        )
    }

    /// The function without a state table, with `config`.
    pub fn stateless_app(&self, config: Config) -> Handler<SnsPublisher, Stateless> {
        Handler::new(
            config.clone(),
            SnsPublisher::new(self.sns.clone(), config.topic_arn.clone()),
            Stateless,
        )
    }
}

/// The function's configuration with the state table, publishing to `topic_arn`, with more
/// variables (`SMS_CEILING_PER_HOUR`, …).
pub fn state_config(topic_arn: &str, vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(topic_arn.to_owned()),
        "STATE_TABLE" => Some(TABLE.to_owned()),
        _ => vars
            .iter()
            .find(|(var, _)| *var == name)
            .map(|(_, value)| (*value).to_owned()),
    })
    .expect("valid test configuration")
}

/// The function as deployed: `app` for events and, for its schedule, the watchdog reading
/// CloudTrail at `cloudtrail_endpoint` and publishing through `app`'s publisher.
pub async fn function<P: Clone, S, W: WatchdogState>(
    app: Handler<P, S>,
    state: W,
    cloudtrail_endpoint: &str,
) -> Function<P, S, CloudTrailSource, W> {
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk_config_for(cloudtrail_endpoint).await);
    let watchdog = Watchdog {
        trails: CloudTrailSource::new(cloudtrail),
        publisher: app.publisher.clone(),
        state,
        account: app.config.topic_arn.account().to_owned(),
        region: "us-east-1".into(),
        sms_limit: app.config.sms_limit,
        runbook_url: None,
    };
    Function {
        handler: app,
        watchdog,
        posture: None,
        coverage: None,
        checks_rule: None,
    }
}

/// A state-table client that waits its turn. The serialising proxy queues the function's
/// requests, and on a loaded 2-core machine a request can wait in that queue longer than the
/// function's 1 s attempt limit; the function then fails open by design and publishes without
/// dedup, coalescing or the SMS ceiling — and a test expecting a duplicate or an alert held back
/// from the phone would fail for the machine's load, not the protocol. So the tests' function
/// uses this; the tests of those short limits themselves (a state table down or silent, claims
/// released before the deadline) use the function's own client (`dynamodb_client`).
pub async fn patient_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_config::timeout::TimeoutConfig;
    use std::time::Duration;
    let sdk_config = sdk_config_for(endpoint).await;
    let patient = aws_sdk_dynamodb::config::Builder::from(&sdk_config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(10))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(patient)
}

/// Every key in the state table, sorted: what a test left behind.
pub async fn table_keys(dynamodb: &aws_sdk_dynamodb::Client) -> Vec<String> {
    let mut keys: Vec<String> = dynamodb
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .expect("scan the state table")
        .items
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.get("pk")?.as_s().ok().cloned())
        .collect();
    keys.sort();
    keys
}

/// An item of the state table, read consistently.
pub async fn item(dynamodb: &aws_sdk_dynamodb::Client, pk: &str) -> Option<Item> {
    dynamodb
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("read the state table")
        .item
}

/// The event and session items in the state table (not the text counts).
pub async fn claims(dynamodb: &aws_sdk_dynamodb::Client) -> Vec<String> {
    let mut keys = table_keys(dynamodb).await;
    keys.retain(|k| !k.starts_with("texts#"));
    keys
}

/// Each text count in the state table (`texts#<account>#<hour>`,
/// `texts#any-account#<bucket>#<day>` → `texts`), by key.
pub async fn text_counts(dynamodb: &aws_sdk_dynamodb::Client) -> Vec<(String, i64)> {
    let mut counts: Vec<(String, i64)> = dynamodb
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .expect("scan the state table")
        .items
        .unwrap_or_default()
        .iter()
        .filter_map(|item| {
            let pk = item
                .get("pk")?
                .as_s()
                .ok()?
                .strip_prefix("texts#")?
                .to_owned();
            let texts = item.get("texts")?.as_n().ok()?.parse().ok()?;
            Some((pk, texts))
        })
        .collect();
    counts.sort();
    counts
}
