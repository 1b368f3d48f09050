//! Lambda entry point: wiring only. Config and the AWS clients are built once per cold start.

use chrono::Utc;
use lambda_runtime::{Error, LambdaEvent, service_fn, tracing};
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sdk::{dynamodb_client, sdk_config_loader};
use rootwatch::aws::sns::{AlertPublisher, SnsPublisher};
use rootwatch::config::Config;
use rootwatch::handler::Rootwatch;
use rootwatch::invocation::Invocation;
use rootwatch::state::{AlertState, Stateless};
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

    match config.state_table.clone() {
        Some(table) => {
            tracing::info!(%table, window_secs = config.session_window.as_secs(), "dedup and SMS coalescing on");
            let state = DynamoState::new(dynamodb_client(&sdk_config), table);
            serve(Rootwatch::new(config, publisher, state)).await
        }
        None => {
            tracing::warn!(
                "STATE_TABLE is not set: running stateless; every event is alerted and every alert pages"
            );
            serve(Rootwatch::new(config, publisher, Stateless)).await
        }
    }
}

async fn serve<P: AlertPublisher, S: AlertState>(app: Rootwatch<P, S>) -> Result<(), Error> {
    let app = &app;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = Utc::now();
        let invocation = Invocation::from_context(&event.context, now);
        // Boxed: the SDK's nested futures inside would exceed the compiler's layout depth.
        Box::pin(app.handle(&event.payload, &invocation, now)).await
    }))
    .await
}
