//! The AWS SDK configuration shared by every client: timeouts and retries chosen here, region,
//! credentials and endpoints (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SNS`, …) from the SDK's
//! standard chain. No custom endpoint code.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};

/// Per-attempt and whole-operation limits. With the standard retry policy (3 attempts, jittered
/// backoff) a publish that cannot succeed fails within [`OPERATION_TIMEOUT`], well inside the
/// function's 30 s timeout, so Lambda sees a retryable error instead of a timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);
pub const MAX_ATTEMPTS: u32 = 3;

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
