//! The edges that talk to AWS: the shared SDK configuration ([`sdk`]), the SNS adapter behind
//! [`crate::handler`]'s publisher port ([`sns`]) and the DynamoDB adapter behind
//! [`crate::state::AlertState`] ([`dynamodb`]). The pure core never imports from here.

pub mod dynamodb;
pub mod sdk;
pub mod sns;
