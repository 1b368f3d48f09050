//! rootwatch: pages a security team when an AWS account's root user is used.
//!
//! The flow is a pure core with thin edges:
//! [`detect`] (parse the record, apply the rule table, enrich) → [`render`] (SMS, email, the one
//! SNS message) → [`aws`] (deliver through SNS; remember in DynamoDB), tied by [`handler`].
//! [`state`] is the port for what was alerted and which sessions already paged; [`invocation`]
//! holds the request id and the time an invocation has; [`config`] is read once at start-up.

pub mod aws;
pub mod config;
pub mod detect;
pub mod error;
pub mod handler;
pub mod invocation;
pub mod render;
pub mod sanitize;
pub mod state;
