//! rootwatch: pages a security team when an AWS account's root user is used.
//!
//! The flow is a pure core with thin edges:
//! [`detect`] (parse the record, apply the rule table, enrich) → [`render`] (SMS, email, the one
//! SNS message) → [`aws`] (deliver through SNS; remember in DynamoDB), tied by [`handler`].
//! [`ports`] are the traits the [`aws`] adapters implement, [`deliver`] the claims; [`invocation`]
//! holds the request id and the time an invocation has; [`config`] is read once at start-up,
//! and [`startup`] checks the topic and opens the connections before the first event.
//! [`watchdog`] checks on a schedule that CloudTrail feeds rootwatch at all; [`dispatch`] sends
//! each invocation to the handler or the watchdog and derives its [`metrics`]. In organization
//! mode, [`account_directory`] names member accounts (AWS Organizations, cached, time-bounded),
//! and [`forwarder`] turns a member forwarder's failing alarm into an alert.

pub mod account_directory;
pub mod aws;
pub mod config;
pub mod deliver;
pub mod detect;
pub mod dispatch;
pub mod domain;
pub mod error;
#[cfg(test)]
mod fakes;
pub mod forwarder;
pub mod handler;
pub mod invocation;
pub mod logging;
pub mod metrics;
pub mod ports;
pub mod render;
#[cfg(test)]
mod samples;
pub mod sanitize;
pub mod startup;
pub mod watchdog;
