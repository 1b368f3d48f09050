//! The adapters: the edges that talk to AWS, each implementing a port of [`crate::ports`]. The
//! shared SDK configuration ([`sdk`]) and HTTPS client ([`https`]); SNS behind
//! [`AlertPublisher`](crate::ports::AlertPublisher) ([`sns`]); DynamoDB behind
//! [`AlertState`](crate::ports::AlertState) ([`dynamodb`]) and
//! [`Declarations`](crate::ports::Declarations) ([`declarations`]); for the watchdog, CloudTrail behind
//! [`TrailSource`](crate::ports::TrailSource) ([`cloudtrail`]) and the once-a-day marks behind
//! [`WatchdogState`](crate::ports::WatchdogState) ([`watchdog_state`]); IAM behind
//! [`RootPosture`](crate::ports::RootPosture) ([`iam`]); the organization's members and their
//! root credentials behind [`MemberRoots`](crate::ports::MemberRoots) ([`root_audit`]), and
//! what the audit remembers in the same marks table ([`watchdog_state`]); in organization mode,
//! AWS Organizations behind [`AccountDirectory`](crate::ports::AccountDirectory)
//! ([`organizations`]); for coverage, the heartbeat table behind
//! [`Heartbeats`](crate::ports::Heartbeats) ([`heartbeats`]) and the organization's accounts
//! behind [`Organization`](crate::ports::Organization) ([`organizations`]). Only the wiring imports from here: `main.rs`, and [`crate::startup`],
//! which checks the topic and the table during init.

pub mod alert_bus;
pub mod cloudtrail;
pub mod declarations;
pub mod dynamodb;
pub mod finding_state;
pub mod heartbeats;
pub mod https;
pub mod iam;
pub mod organizations;
pub mod root_audit;
pub mod sdk;
pub mod security_hub;
pub mod sns;
pub mod watchdog_state;
