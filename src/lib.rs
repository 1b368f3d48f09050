//! rootwatch: pages a security team when an AWS account's root user is used.
//!
//! The flow is a pure core with thin edges:
//! [`record`] (parse) → [`classify`] (kind, severity) → [`alert`] (enrich) →
//! [`sms`] / [`email`] / [`notification`] (render) → [`sns`] (deliver), tied by [`handler`];
//! [`state`] / [`dynamodb`] remember what was alerted and which sessions already paged;
//! [`invocation`] holds the request id and the time an invocation has.

pub mod alert;
pub mod classify;
pub mod config;
pub mod dynamodb;
pub mod email;
pub mod error;
pub mod handler;
pub mod invocation;
pub mod notification;
pub mod record;
pub mod rules;
pub mod sanitize;
pub mod sdk;
pub mod sms;
pub mod sns;
pub mod state;
