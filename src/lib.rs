//! rootwatch: pages a security team when an AWS account's root user is used.
//!
//! An event goes through five stages: **parse** (the envelope and its CloudTrail record, strict
//! only on the deciding fields) → **classify** (the rule table gives a verdict, which an
//! allowance may lower, or the event is ignored) → **enrich** (the verdict, what the record says, the account's name and the runbook
//! make an alert) → **render** (the SMS, the email and the chat message in one notification, and
//! the structured alert event) → **deliver** (claim in the state table → one SNS Publish, cut
//! before the deadline → record, or release on failure → the outputs: the alert event on the
//! alert bus and the root session's Security Hub finding, within their own budget). The first four are the pure core; [`handler`] runs them in order
//! ([`handler::decide`]) and hands the result to [`deliver`].
//!
//! The modules, from the bottom up; each imports only from those above it in this list:
//! - [`domain`]: the vocabulary (accounts, the topic, regions, severities, kinds, the SMS
//!   segment) and every time limit ([`domain::limits`]); [`sanitize`] makes untrusted text
//!   safe to show. [`config`] reads the environment once at start-up; [`invocation`] is one
//!   invocation's request id and deadline, and the [`invocation::Budget`] every step keeps to.
//! - [`detect`]: parse ([`detect::record`]), the rule table ([`detect::rules`]), classify
//!   ([`detect::classify`]), the allowances ([`detect::allowances`]) and enrich
//!   ([`detect::alert`]).
//! - [`render`]: the SMS, the email, the chat message and the one SNS notification; the
//!   structured alert event ([`render::event`]) and the Security Hub finding
//!   ([`render::finding`]).
//! - [`ports`]: the traits the pipeline needs from the world (publisher, state table, account
//!   directory, CloudTrail, the watchdog's marks, declarations, the alert bus, findings).
//! - The function's parts over the ports: [`handler`] (root events and forwarders' alarms),
//!   [`deliver`] (the one delivery path), [`watchdog`] (a schedule checks that CloudTrail feeds
//!   rootwatch), [`posture`] (the same tick checks the root user's own credentials), [`forwarder`] (a member forwarder's failing alarm read and rendered),
//!   [`declare`] (declarations of root use announced from the state table's stream, and each
//!   window's root-use report), [`coverage`] (forwarders' heartbeats recorded, and checked
//!   against the organization's accounts × regions), [`account_directory`] (account names,
//!   cached and time-bounded),
//!   [`error`] (what Lambda should do about each failure), [`dispatch`] (an invocation to the
//!   handler, the watchdog, coverage or the declarations, a tick routed by [`schedule`]) with its [`metrics`], and [`logging`].
//! - [`aws`]: the adapters, each implementing a port with the AWS SDK.
//! - [`startup`] checks the topic and opens the connections during init; `main.rs` wires it all.

pub mod account_directory;
pub mod aws;
pub mod config;
pub mod coverage;
pub mod declare;
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
pub mod posture;
pub mod render;
#[cfg(test)]
mod samples;
pub mod sanitize;
pub mod schedule;
pub mod startup;
pub mod watchdog;
