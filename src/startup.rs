//! Start-up connections: check the alert topic and warm the state table during init, so that the
//! first alert of a cold start (nearly every alert: root activity is rare) does not wait for TLS
//! handshakes, the root certificates and first-use crypto. `make bench-cold` measures it.

use std::time::Duration;

use tracing::{error, info, warn};

use crate::aws::dynamodb::DynamoState;
use crate::aws::security_hub::SecurityHubFindings;
use crate::aws::sns::{SnsPublisher, TopicCheckError};
use crate::config::Config;
use crate::domain::limits::STARTUP_CHECK_TIMEOUT;

/// Checks the topic and warms the table. Stops start-up only when SNS says no publish to the
/// topic can work (no such topic, an ARN it refuses, refused credentials): then no alert could go
/// out, and a failed init says why. Everything else lets the function start, since an alarm must
/// fail towards alerting: a refused `GetTopicAttributes` is logged as an error (the role may
/// still publish), a slow or failing SNS as a warning (each publish retries), and any
/// state-table failure as a warning (the handler alerts without dedup while the table fails).
///
/// Returns the configuration with the SMS budget the topic's own `DisplayName` leaves.
pub async fn connect(
    config: Config,
    publisher: &SnsPublisher,
    state: Option<&DynamoState>,
) -> Result<Config, TopicCheckError> {
    connect_within(config, publisher, state, STARTUP_CHECK_TIMEOUT).await
}

/// [`connect`] with another limit on the checks than [`STARTUP_CHECK_TIMEOUT`] (the tests use a
/// short one).
pub async fn connect_within(
    mut config: Config,
    publisher: &SnsPublisher,
    state: Option<&DynamoState>,
    limit: Duration,
) -> Result<Config, TopicCheckError> {
    let topic = config.topic_arn.as_str().to_owned();
    let table = async {
        match state {
            Some(state) => Some(tokio::time::timeout(limit, state.warm_up()).await),
            None => None,
        }
    };
    let (checked, warmed) =
        tokio::join!(tokio::time::timeout(limit, publisher.check_topic()), table);
    match checked {
        Ok(Ok(check)) => {
            let (sms_limit, warning) = check.sms_limit(config.sms_limit);
            if let Some(warning) = warning {
                warn!(%topic, "{warning}");
            }
            config.sms_limit = sms_limit;
            // The key is not checked: only a publish uses it (kms:GenerateDataKey, kms:Decrypt).
            info!(%topic, display_name = %check.display_name, kms_key = check.kms_key.as_deref(),
                sms_body_max = sms_limit.body_max(), "alert topic checked");
        }
        Ok(Err(err)) if err.stops_start_up() => {
            error!("{err}; stopping start-up");
            return Err(err);
        }
        Ok(Err(err @ TopicCheckError::NotPermitted { .. })) => {
            error!("{err}; starting anyway: the role may still publish");
        }
        Ok(Err(err)) => warn!("{err}; starting anyway: each publish retries on its own"),
        Err(_) => {
            warn!(%topic, "the alert topic did not answer within {limit:?}; starting anyway")
        }
    }
    match warmed {
        None | Some(Ok(Ok(()))) => {}
        Some(Ok(Err(err))) => {
            warn!(
                "state table check failed, alerts go out without dedup or coalescing while it fails: {err}"
            )
        }
        Some(Err(_)) => warn!(
            "the state table did not answer within {limit:?}; alerts go out without dedup while it is silent"
        ),
    }
    Ok(config)
}

/// With findings on: `DescribeHub` in the home region within `limit`. Security Hub not enabled,
/// the call refused or silent: one warning naming the region, and start-up goes on (the SNS
/// alerts do not need Security Hub; each finding that fails is logged and counted).
pub async fn check_security_hub(hub: &SecurityHubFindings, region: &str, limit: Duration) {
    match tokio::time::timeout(limit, hub.describe_hub()).await {
        Ok(Ok(())) => info!(region, "Security Hub enabled: findings on"),
        Ok(Err(err)) => warn!(
            region,
            "SECURITY_HUB_FINDINGS is true but DescribeHub failed (is Security Hub enabled in \
             {region}?); findings will fail, alerts go out all the same: {err}"
        ),
        Err(_) => warn!(
            region,
            "Security Hub did not answer DescribeHub within {limit:?}; starting anyway"
        ),
    }
}
