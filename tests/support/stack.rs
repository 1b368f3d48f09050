//! The function's whole world on one moto server: the alert topic and the state table.

use rootwatch::config::Config;
use rootwatch::dynamodb::DynamoState;
use rootwatch::handler::Rootwatch;
use rootwatch::sns::SnsPublisher;
use rootwatch::state::Stateless;

use super::moto::MotoServer;

pub const TABLE: &str = "rootwatch-state";

pub struct LocalStack {
    pub moto: MotoServer,
    pub sns: aws_sdk_sns::Client,
    /// For the test's own reads and writes of the table.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The function's client: the same table with the function's short timeouts.
    pub state_client: aws_sdk_dynamodb::Client,
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
        let state_client = rootwatch::sdk::dynamodb_client(&moto.sdk_config().await);
        LocalStack {
            moto,
            sns,
            dynamodb,
            state_client,
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
        let config = Config::from_lookup(|name| match name {
            "ALERT_TOPIC_ARN" => Some(topic_arn.to_owned()),
            "STATE_TABLE" => Some(TABLE.to_owned()),
            _ => None,
        })
        .expect("valid test configuration");
        Rootwatch::new(
            config.clone(),
            SnsPublisher::new(self.sns.clone(), config.topic_arn.clone()),
            DynamoState::new(self.state_client.clone(), TABLE),
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
