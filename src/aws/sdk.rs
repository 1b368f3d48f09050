//! The AWS SDK configuration shared by every client: timeouts and retries chosen here, region,
//! credentials and endpoints (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SNS`, …) from the SDK's
//! standard chain. No custom endpoint code.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

/// Per-attempt and whole-operation limits for SNS (the loader's defaults). With the standard
/// retry policy (3 attempts, jittered backoff) a publish that cannot succeed fails within
/// [`OPERATION_TIMEOUT`], well inside the function's 30 s timeout, so Lambda sees a retryable
/// error instead of a timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);
pub const MAX_ATTEMPTS: u32 = 3;

/// The state table's limits, much shorter than SNS's: a DynamoDB call that cannot answer is
/// given up and the alert is published without dedup (fail open), so waiting on it only delays
/// the page. DynamoDB answers in milliseconds; 1 s to connect covers one lost SYN (Linux
/// retransmits after 1 s, then the retry reconnects), 1 s per attempt is far above its tail
/// latency, and 3 attempts with a 100 ms base backoff end within the 3 s operation bound.
pub const STATE_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const STATE_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
pub const STATE_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
pub const STATE_MAX_ATTEMPTS: u32 = 3;
pub const STATE_INITIAL_BACKOFF: Duration = Duration::from_millis(100);

/// The SDK config loader with rootwatch's timeouts and retries.
pub fn sdk_config_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
}

/// The state table's client: the shared config (region, credentials, endpoint) with the state
/// table's own short timeouts and retries.
pub fn dynamodb_client(sdk_config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk_config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(STATE_CONNECT_TIMEOUT)
                .operation_attempt_timeout(STATE_ATTEMPT_TIMEOUT)
                .operation_timeout(STATE_OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(STATE_MAX_ATTEMPTS)
                .with_initial_backoff(STATE_INITIAL_BACKOFF),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
