//! rootwatch's integration tests: one binary, a module per feature, over the helpers in
//! `tests/support/`. One binary links the AWS SDK once, where a binary per file linked it again
//! for each. Run one feature with `cargo test --test it <module>::`, e.g. `state::coalescing::`.
//!
//! AWS APIs are a real local server (moto, one per test, on a port of its own), reached through
//! the real SDK; what was published is read from moto's own record. The tests run side by side
//! as threads of this process, so none may change what the process shares: no environment
//! variables, no working directory. The log is the process's: a test reads the lines of its own
//! thread (`support/log.rs`).

#[path = "../support/mod.rs"]
mod support;

/// The Chatbot message each alert carries, against the custom-notification schema.
mod chat;
/// Organization coverage: heartbeats recorded, silent accounts × regions alerted.
mod coverage;
/// Declared root use: the stream's doorbell, alerts during a declaration, the root-use report.
mod declared;
/// Publishing to SNS: one publish per alert with every protocol, and publishing that fails.
mod delivery;
/// The README says what the code does: the rule table and the quoted messages.
mod docs;
/// Input an attacker chooses: envelopes, strings, forged sources, contacts in the log.
mod hostile;
/// Organization mode: the members' root credentials, audited through the root-access stand-in.
mod member_audit;
/// Organization mode: account names from AWS Organizations, forwarders, forwarder-failing.
mod organization;
mod outputs;
/// The root user's posture, checked by the schedule's tick.
mod posture;
/// What incident responders' tools receive: the alert bus and Security Hub, end to end.
mod responders;
/// The rule table, checked by replaying every sample against its reviewed snapshot.
mod rules;
/// The SMS fits one segment of the GSM 7-bit alphabet, whatever an alert holds.
mod sms;
/// The start-up check of the topic and the state table.
mod startup;
/// The state table: dedup, SMS coalescing and the hourly SMS ceiling.
mod state;
/// The watchdog: a schedule checks that CloudTrail feeds the function.
mod watchdog;
