//! The AWS SDK configuration shared by every client: timeouts and retries as
//! [`crate::domain::limits`] sets them, region,
//! credentials and endpoints (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SNS`, …) from the SDK's
//! standard chain. No custom endpoint code.

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};

use crate::domain::limits::{
    ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, LOOKUP_BUDGET, MAX_ATTEMPTS, OPERATION_TIMEOUT,
    OUTPUT_ATTEMPT_TIMEOUT, OUTPUT_BUDGET, OUTPUT_CONNECT_TIMEOUT, OUTPUT_MAX_ATTEMPTS,
    STATE_ATTEMPT_TIMEOUT, STATE_CONNECT_TIMEOUT, STATE_INITIAL_BACKOFF, STATE_MAX_ATTEMPTS,
    STATE_OPERATION_TIMEOUT,
};

/// The SDK config loader with rootwatch's timeouts and retries, and its HTTPS client
/// ([`crate::aws::https`]), which every client built from it shares.
pub fn sdk_config_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(crate::aws::https::https_client())
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

/// The region AWS Organizations is called in, for the function's partition: the service has one
/// endpoint per partition (`aws`: us-east-1), whatever region the function runs in. `None` for
/// a partition not listed here: the function's own region, which the SDK's endpoint rules map
/// to that partition's endpoint.
fn organizations_region(partition: &str) -> Option<&'static str> {
    match partition {
        "aws" => Some("us-east-1"),
        "aws-cn" => Some("cn-northwest-1"),
        "aws-us-gov" => Some("us-gov-west-1"),
        _ => None,
    }
}

/// The AWS Organizations client: the shared config (credentials, `AWS_ENDPOINT_URL` and
/// `AWS_ENDPOINT_URL_ORGANIZATIONS`) in the partition's Organizations region, so requests are
/// signed for it even through an endpoint override, with one attempt and the lookup's whole
/// budget as every limit. (The lookup is also cut off at that budget around the call.)
pub fn organizations_client(
    sdk_config: &SdkConfig,
    partition: &str,
) -> aws_sdk_organizations::Client {
    let mut config = aws_sdk_organizations::config::Builder::from(sdk_config)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(LOOKUP_BUDGET)
                .operation_attempt_timeout(LOOKUP_BUDGET)
                .operation_timeout(LOOKUP_BUDGET)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(1));
    if let Some(region) = organizations_region(partition) {
        config = config.region(Region::new(region));
    }
    aws_sdk_organizations::Client::from_conf(config.build())
}

/// The AWS Organizations client of the coverage check's listing: as
/// [`organizations_client`] (the partition's region), with the shared timeouts and retries of
/// every other call: a page is one small read, and the listing as a whole is cut at
/// [`LIST_BUDGET`](crate::domain::limits::LIST_BUDGET).
pub fn organizations_listing_client(
    sdk_config: &SdkConfig,
    partition: &str,
) -> aws_sdk_organizations::Client {
    let mut config = aws_sdk_organizations::config::Builder::from(sdk_config);
    if let Some(region) = organizations_region(partition) {
        config = config.region(Region::new(region));
    }
    aws_sdk_organizations::Client::from_conf(config.build())
}

/// The outputs' timeouts and retries: short, as the outputs run after the page within
/// [`OUTPUT_BUDGET`].
fn output_timeouts() -> (TimeoutConfig, RetryConfig) {
    (
        TimeoutConfig::builder()
            .connect_timeout(OUTPUT_CONNECT_TIMEOUT)
            .operation_attempt_timeout(OUTPUT_ATTEMPT_TIMEOUT)
            .operation_timeout(OUTPUT_BUDGET)
            .build(),
        RetryConfig::standard().with_max_attempts(OUTPUT_MAX_ATTEMPTS),
    )
}

/// The alert bus's client: the shared config with the outputs' limits.
pub fn eventbridge_client(sdk_config: &SdkConfig) -> aws_sdk_eventbridge::Client {
    let (timeouts, retries) = output_timeouts();
    let config = aws_sdk_eventbridge::config::Builder::from(sdk_config)
        .timeout_config(timeouts)
        .retry_config(retries)
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

/// Security Hub's client: the shared config with the outputs' limits.
pub fn securityhub_client(sdk_config: &SdkConfig) -> aws_sdk_securityhub::Client {
    let (timeouts, retries) = output_timeouts();
    let config = aws_sdk_securityhub::config::Builder::from(sdk_config)
        .timeout_config(timeouts)
        .retry_config(retries)
        .build();
    aws_sdk_securityhub::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_organizations::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};

    fn sdk_config_in(region: &'static str) -> SdkConfig {
        SdkConfig::builder()
            .region(Region::new(region))
            .behavior_version(BehaviorVersion::latest())
            .build()
    }

    /// Wherever the function runs, Organizations is called at its partition's one endpoint.
    #[tokio::test]
    async fn organizations_is_called_in_its_partitions_region() {
        for (function_region, partition, expected_region, expected_url) in [
            (
                "us-east-1",
                "aws",
                "us-east-1",
                "https://organizations.us-east-1.amazonaws.com",
            ),
            (
                "eu-west-1",
                "aws",
                "us-east-1",
                "https://organizations.us-east-1.amazonaws.com",
            ),
            (
                "ap-southeast-2",
                "aws",
                "us-east-1",
                "https://organizations.us-east-1.amazonaws.com",
            ),
            (
                "cn-north-1",
                "aws-cn",
                "cn-northwest-1",
                "https://organizations.cn-northwest-1.amazonaws.com.cn",
            ),
            (
                "us-gov-east-1",
                "aws-us-gov",
                "us-gov-west-1",
                "https://organizations.us-gov-west-1.amazonaws.com",
            ),
        ] {
            let client = organizations_client(&sdk_config_in(function_region), partition);
            let region = client.config().region().map(|r| r.to_string());
            assert_eq!(
                region.as_deref(),
                Some(expected_region),
                "{function_region}"
            );
            let endpoint = DefaultResolver::new()
                .resolve_endpoint(&Params::builder().region(expected_region).build().unwrap())
                .await
                .unwrap();
            assert_eq!(endpoint.url(), expected_url, "{function_region}");
        }
        let client = organizations_client(&sdk_config_in("eu-west-1"), "aws-new");
        assert_eq!(
            client.config().region().map(|r| r.to_string()).as_deref(),
            Some("eu-west-1")
        );
    }

    #[test]
    fn the_lookup_has_one_attempt_within_its_budget() {
        let client = organizations_client(&sdk_config_in("eu-west-1"), "aws");
        let config = client.config();
        let timeouts = config.timeout_config().unwrap();
        assert_eq!(timeouts.connect_timeout(), Some(LOOKUP_BUDGET));
        assert_eq!(timeouts.operation_timeout(), Some(LOOKUP_BUDGET));
        assert_eq!(config.retry_config().unwrap().max_attempts(), 1);
    }
}
