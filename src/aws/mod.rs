//! The edges that talk to AWS: the shared SDK configuration ([`sdk`]) and HTTPS client
//! ([`https`]), the SNS adapter behind [`crate::handler`]'s publisher port ([`sns`]) and the DynamoDB adapter behind
//! [`crate::state::AlertState`] ([`dynamodb`]); for the watchdog, the CloudTrail reader
//! ([`cloudtrail`]) and the once-a-day marks ([`watchdog_state`]); in organization mode, the
//! account names behind [`crate::account_directory::AccountDirectory`] ([`organizations`]).
//! The pure core never imports from here.

pub mod cloudtrail;
pub mod dynamodb;
pub mod https;
pub mod organizations;
pub mod sdk;
pub mod sns;
pub mod watchdog_state;
