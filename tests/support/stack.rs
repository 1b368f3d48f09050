//! The function's whole world on one moto server: the alert topic and the state table.

use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::config::Config;
use rootwatch::handler::Rootwatch;
use rootwatch::state::Stateless;

use super::moto::{MotoServer, sdk_config_for};
use super::proxy::Proxy;

pub const TABLE: &str = "rootwatch-state";

pub struct LocalStack {
    pub moto: MotoServer,
    pub sns: aws_sdk_sns::Client,
    /// For the test's own reads and writes of the table.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The function's client: the same table with the function's short timeouts, reached
    /// through `state_proxy`.
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
        let state_client =
            rootwatch::aws::sdk::dynamodb_client(&sdk_config_for(&state_proxy.endpoint).await);
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
    pub fn app(&self, topic_arn: &str) -> Rootwatch<SnsPublisher, DynamoState> {
        self.app_with_state(topic_arn, self.state_client.clone())
    }

    /// The function with a state-table client that waits its turn: for many invocations at once.
    /// The serialising proxy queues their requests, and on a loaded 2-core machine a request
    /// can wait in that queue longer than the function's 1 s attempt limit; the function then
    /// fails open by design and publishes without dedup. Tests of the protocol under
    /// concurrency (`burst.rs`) use this so they measure the protocol, not the queue;
    /// `state_protocol.rs` tests the short limits themselves.
    pub async fn app_under_load(&self, topic_arn: &str) -> Rootwatch<SnsPublisher, DynamoState> {
        use aws_config::timeout::TimeoutConfig;
        use std::time::Duration;
        let sdk_config = sdk_config_for(&self.state_proxy.endpoint).await;
        let patient = aws_sdk_dynamodb::config::Builder::from(&sdk_config)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(20))
                    .build(),
            )
            .build();
        self.app_with_state(topic_arn, aws_sdk_dynamodb::Client::from_conf(patient))
    }

    /// The function publishing to this stack's topic, reaching its state table at
    /// `state_endpoint` (a proxy of its own, a silent server, a closed port).
    pub async fn app_with_state_at(
        &self,
        state_endpoint: &str,
    ) -> Rootwatch<SnsPublisher, DynamoState> {
        let client = rootwatch::aws::sdk::dynamodb_client(&sdk_config_for(state_endpoint).await);
        self.app_with_state(&self.topic, client)
    }

    fn app_with_state(
        &self,
        topic_arn: &str,
        state_client: aws_sdk_dynamodb::Client,
    ) -> Rootwatch<SnsPublisher, DynamoState> {
        let config = Config::from_lookup(|name| match name {
            "ALERT_TOPIC_ARN" => Some(topic_arn.to_owned()),
            "STATE_TABLE" => Some(TABLE.to_owned()),
            _ => None,
        })
        .expect("valid test configuration");
        Rootwatch::new(
            config.clone(),
            SnsPublisher::new(self.sns.clone(), config.topic_arn.clone()),
            DynamoState::new(state_client, TABLE),
        )
    }

    /// The function without a state table, with `config`.
    pub fn stateless_app(&self, config: Config) -> Rootwatch<SnsPublisher, Stateless> {
        Rootwatch::new(
            config.clone(),
            SnsPublisher::new(self.sns.clone(), config.topic_arn.clone()),
            Stateless,
        )
    }
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
