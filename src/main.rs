//! Lambda entry point: wiring only. Config and the SNS client are built once per cold start.

use lambda_runtime::{Error, LambdaEvent, service_fn, tracing};
use rootwatch::config::Config;
use rootwatch::handler::handle;
use rootwatch::sns::{SnsPublisher, sdk_config_loader};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON logs when AWS_LAMBDA_LOG_FORMAT=JSON; level from AWS_LAMBDA_LOG_LEVEL / RUST_LOG.
    tracing::init_default_subscriber();

    let config =
        Config::from_env().inspect_err(|e| tracing::error!("invalid configuration: {e}"))?;
    let sdk_config = sdk_config_loader().load().await;
    let publisher = SnsPublisher::new(
        aws_sdk_sns::Client::new(&sdk_config),
        config.topic_arn.clone(),
    );
    tracing::info!(topic = config.topic_arn.as_str(), "rootwatch ready");

    let (config, publisher) = (&config, &publisher);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(&event.payload, config, publisher).await
    }))
    .await
}
