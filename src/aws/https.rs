//! The HTTPS client every AWS SDK client shares (SNS, DynamoDB, the watchdog's CloudTrail,
//! Organizations for account names, and the STS client aws-config may build for credentials):
//! the SDK's own default (hyper, rustls, the platform's root certificates, proxies from the
//! environment) with rustls on *ring* instead of AWS-LC.
//!
//! Why not AWS-LC, the SDK's default: its random generator seeds from CPU jitter entropy the
//! first time a process needs randomness, which is the first TLS handshake — about 50 ms of CPU
//! at a full core and most of a second at a 128 MB function's share, on the path of the first
//! alert (aws/aws-lc-rs#899; BENCHMARKS.md). *ring* takes its randomness from the kernel
//! (`getrandom`), and it is much smaller. What is given up is AWS-LC's hybrid post-quantum key
//! exchange (X25519MLKEM768); the alert it protects is not a secret worth harvesting for years.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// What `aws-config`'s `default-https-client` builds (aws-smithy-runtime's
/// `default_https_client` for the latest behavior version), with the *ring* crypto provider.
pub(crate) fn https_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}
