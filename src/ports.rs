//! The ports: what the pipeline needs from the world, as traits that the adapters in `aws/`
//! implement and the unit tests fake. One module, so what the function asks of AWS can be read
//! in one place:
//!
//! - deliver publishes through an [`AlertPublisher`] (SNS) and claims in [`AlertState`] (the
//!   state table: dedup, SMS coalescing, the hourly SMS ceiling);
//! - enrich names member accounts from an [`AccountDirectory`] (AWS Organizations);
//! - the watchdog reads trails from a [`TrailSource`] (CloudTrail) and keeps its once-a-day marks
//!   in [`WatchdogState`] (the state table);
//! - the posture check reads the root user's credentials state from [`RootPosture`] (IAM);
//! - the member audit learns whether centralized root access is on and reads members' root
//!   credentials through [`MemberRoots`] (IAM, STS);
//! - coverage records heartbeats in, and reads them from, [`Heartbeats`] (the heartbeat table)
//!   and lists the organization's accounts from an [`Organization`] (AWS Organizations), as the
//!   member audit does;
//! - declared root use reads requests, opens windows, notes uses and keeps reports in
//!   [`Declarations`] (the state table).
//!
//! - after the publish, deliver puts the structured alert event on the alert bus through
//!   [`AlertEvents`] (EventBridge) and, for root activity, notes the root session and imports
//!   its finding through [`Findings`] (the state table and Security Hub); both are off when
//!   `None`.
//!
//! [`Stateless`] and [`NoDirectory`] stand in when there is no table or no directory.
//!
//! The state protocol keeps delivery at-least-once:
//! 1. [`AlertState::claim`] claims the event for this invocation (its owner is the request id;
//!    the lease lasts until the invocation's deadline), waits within the invocation's budget
//!    while another invocation holds it, and decides whether this alert pages ([`Page`]);
//! 2. the alert is published;
//! 3. [`AlertState::record`] records the event as alerted — only after a successful publish;
//!    on a failed publish [`AlertState::release`] releases the claims and gives back the text it
//!    counted, so Lambda's retry starts over.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::detect::record::is_event_id;
use crate::domain::limits::LOOKUP_BUDGET;
use crate::domain::{AccountId, Declaration, NotedUse, Report, TextBucket, TextPeriod, TextScope};
use crate::invocation::Budget;
use crate::render::event::AlertEvent;
use crate::render::finding::{Finding, FindingEntry, SessionRecord};
use crate::render::notification::Notification;
use crate::sanitize::untrusted_line;

// Publishing.

/// The alert could not be handed to SNS. Retrying may succeed.
#[derive(Debug, thiserror::Error)]
#[error("could not publish the alert for event {event_id} to SNS: {reason}")]
pub struct DeliveryError {
    pub event_id: String,
    pub reason: String,
}

/// Where alerts go. The handler is generic over it so the core is tested without a network.
pub trait AlertPublisher {
    /// Publishes one notification; returns the message id.
    fn publish(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<String, DeliveryError>> + Send;

    /// The outputs after the publish and its record (the alert event, the finding), sent by
    /// deliver for a notification delivered under claim `key`; `repeat` when an earlier
    /// delivery already published it. A publisher without outputs sends none: every delivery
    /// path gets the outputs by delivering through one that has them
    /// ([`WithOutputs`](crate::deliver::WithOutputs)).
    fn send_outputs(
        &self,
        _notification: &Notification,
        _key: &str,
        _repeat: bool,
        _budget: &Budget,
    ) -> impl Future<Output = OutputsSent> + Send {
        async { OutputsSent::default() }
    }

    /// The outputs that failed since the last call, for the invocation's metrics.
    fn take_output_failures(&self) -> OutputsFailed {
        OutputsFailed::default()
    }
}

/// What became of one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sent {
    /// Not configured, or not for this alert (a finding is for root activity only).
    #[default]
    Off,
    Done,
    /// Failed, or given up for lack of time: logged and counted.
    Failed,
}

/// What became of a delivery's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputsSent {
    pub event: Sent,
    pub finding: Sent,
}

/// Outputs that failed, counted for the `AlertEventFailures` and `FindingFailures` metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputsFailed {
    pub events: u32,
    pub findings: u32,
}

// The outputs after SNS.

/// An output after SNS (the alert event, the finding) failed. The alert was published all the
/// same: the failure is logged and counted, never retried by failing the invocation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not send the {output}: {reason}")]
pub struct OutputError {
    /// `alert event` or `finding`.
    pub output: &'static str,
    /// One line, at most 300 characters (an SDK error may echo the request; never a contact).
    pub reason: String,
}

impl OutputError {
    /// The alert event was not put.
    pub fn event(reason: &str) -> Self {
        OutputError {
            output: "alert event",
            reason: untrusted_line(reason, 300),
        }
    }

    /// The finding was not noted or imported.
    pub fn finding(reason: &str) -> Self {
        OutputError {
            output: "finding",
            reason: untrusted_line(reason, 300),
        }
    }
}

/// Where alert events go: the alert bus.
pub trait AlertEvents {
    /// Whether events are put at all (`false` for `None`).
    fn on(&self) -> bool {
        true
    }

    fn put(&self, event: &AlertEvent) -> impl Future<Output = Result<(), OutputError>> + Send;
}

/// No bus: nothing is put.
impl<E: AlertEvents + Sync> AlertEvents for Option<E> {
    fn on(&self) -> bool {
        self.is_some()
    }

    async fn put(&self, event: &AlertEvent) -> Result<(), OutputError> {
        match self {
            Some(events) => events.put(event).await,
            None => Ok(()),
        }
    }
}

/// Where root sessions are kept (the state table) and their findings go (Security Hub).
pub trait Findings {
    /// Whether findings are imported at all (`false` for `None`).
    fn on(&self) -> bool {
        true
    }

    /// Notes alert `alert_id` on its session at `now`; the session as noted, this alert
    /// included. Noting the same alert again lists it once.
    fn note(
        &self,
        entry: &FindingEntry,
        alert_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<SessionRecord, OutputError>> + Send;

    /// The session as it is now (a consistent read), if it is kept.
    fn current(
        &self,
        session: &str,
    ) -> impl Future<Output = Result<Option<SessionRecord>, OutputError>> + Send;

    /// Imports (creates or replaces) the session's finding.
    fn import(&self, finding: &Finding) -> impl Future<Output = Result<(), OutputError>> + Send;
}

/// No findings: nothing is kept or imported; a note returns the alert alone.
impl<F: Findings + Sync> Findings for Option<F> {
    fn on(&self) -> bool {
        self.is_some()
    }

    async fn note(
        &self,
        entry: &FindingEntry,
        alert_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, OutputError> {
        match self {
            Some(findings) => findings.note(entry, alert_id, now).await,
            None => Ok(SessionRecord::noted(None, entry, alert_id, now)),
        }
    }

    async fn current(&self, session: &str) -> Result<Option<SessionRecord>, OutputError> {
        match self {
            Some(findings) => findings.current(session).await,
            None => Ok(None),
        }
    }

    async fn import(&self, finding: &Finding) -> Result<(), OutputError> {
        match self {
            Some(findings) => findings.import(finding).await,
            None => Ok(()),
        }
    }
}

// The state table.

/// What identifies an event for dedup, and owns its session's paging window.
///
/// CloudTrail's `eventID` when the record has a well-formed one (every real record does); else
/// the EventBridge envelope's `id`, which a redelivery keeps; else a SHA-256 digest of the
/// payload with object keys sorted, so the same payload always gives the same key whatever its
/// key order, and two different payloads never share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventKey(String);

impl EventKey {
    /// `event_id` is the record's well-formed CloudTrail `eventID`, if any.
    pub fn of(event_id: Option<&str>, payload: &Value) -> Self {
        if let Some(id) = event_id {
            return EventKey(id.to_owned());
        }
        let envelope_id = payload
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_event_id(id));
        match envelope_id {
            // `#` cannot occur in an id, so these never collide with CloudTrail ids.
            Some(id) => EventKey(format!("envelope#{id}")),
            None => {
                let mut hasher = Sha256::new();
                canonical_json(payload, &mut hasher);
                let digest: String = hasher
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                EventKey(format!("sha256#{digest}"))
            }
        }
    }

    /// The key of one of rootwatch's own notices, `parts` joined by `#` (`declaration#<account>#
    /// <id>#<digest>`, `report#<account>#<id>`): `#` never occurs in a CloudTrail id, so these
    /// never collide with an event's key.
    pub fn notice(parts: &[&str]) -> Self {
        EventKey(parts.join("#"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EventKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Feeds `value` as JSON with every object's keys sorted: independent of the order the payload
/// arrived in and of serde_json's map features.
fn canonical_json(value: &Value, hasher: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            hasher.update(b"{");
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                hasher.update(Value::from(key.as_str()).to_string().as_bytes());
                hasher.update(b":");
                canonical_json(&map[key], hasher);
            }
            hasher.update(b"}");
        }
        Value::Array(items) => {
            hasher.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    hasher.update(b",");
                }
                canonical_json(item, hasher);
            }
            hasher.update(b"]");
        }
        scalar => hasher.update(scalar.to_string().as_bytes()),
    }
}

/// What one alert asks of the state store. Built by a pure function of delivery
/// ([`alert_claim`](crate::deliver::alert_claim), [`forwarder_claim`](crate::deliver::forwarder_claim)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The event being claimed.
    pub key: EventKey,
    /// The invocation claiming it (its request id): a retried write of our own claim, or
    /// Lambda's retry of this invocation, finds the claim ours.
    pub owner: String,
    /// Until when the claim blocks other invocations: this invocation's deadline plus a margin.
    pub lease_until: DateTime<Utc>,
    /// What this alert coalesces with for SMS (see [`coalescing_key`](crate::deliver::coalescing_key)); `None` when the alert is
    /// never texted (so it must not use up its session's one SMS), or has no readable time.
    pub session: Option<String>,
    pub event_time: DateTime<Utc>,
    pub window: Duration,
    /// The text ceiling this alert counts against when texted; `None` when the alert's
    /// severity is never texted.
    pub ceiling: Option<TextCeiling>,
}

/// At most `limit` texts of one kind ([`TextBucket`]) in one period (`SMS_CEILING_PER_HOUR`),
/// and then one more that says those texts are paused. It bounds what a flood of alerts can
/// spend of SNS's monthly SMS spend limit, after which SNS stops every text silently. Root
/// activity is counted per account and UTC hour; what anyone can cause without a root credential
/// (sign-in attempts, forwarder failures) per UTC day across every account of the stack, so a
/// stranger can cause at most `limit + 1` texts a day per bucket however many accounts the stack
/// watches. Each bucket is counted apart, so those never pause the texts of root activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextCeiling {
    /// The account the alert happened in (an id, or `unknown`); part of the count's key only
    /// when the scope is [`TextScope::Account`].
    pub account: String,
    /// Which of the ceilings the alert counts against.
    pub bucket: TextBucket,
    /// Whose texts are counted together: the bucket's ([`TextBucket::scope`]).
    pub scope: TextScope,
    /// The UTC clock period counted in: the bucket's ([`TextBucket::period`]).
    pub period: TextPeriod,
    /// Texts in the period before the notice (`SMS_CEILING_PER_HOUR`'s value).
    pub limit: u32,
    /// The start of the period the alert is counted in.
    pub start: DateTime<Utc>,
}

/// What a stack-wide count is kept under in place of an account: neither a 12-digit id nor
/// `unknown`.
const ANY_ACCOUNT: &str = "any-account";

fn length(period: TextPeriod) -> TimeDelta {
    match period {
        TextPeriod::Hour => TimeDelta::hours(1),
        TextPeriod::Day => TimeDelta::days(1),
    }
}

impl TextCeiling {
    /// The ceiling of `bucket` for the period that `now` falls in, about `account`.
    pub fn new(account: &str, bucket: TextBucket, limit: u32, now: DateTime<Utc>) -> Self {
        let period = bucket.period();
        TextCeiling {
            account: account.to_owned(),
            bucket,
            scope: bucket.scope(),
            period,
            limit,
            start: now.duration_trunc(length(period)).unwrap_or(now),
        }
    }

    /// When texts resume: the end of the period.
    pub fn until(&self) -> DateTime<Utc> {
        self.start + length(self.period)
    }

    /// What the period's count is kept under: `<account>#<YYYY-MM-DDTHH>` for root activity (the
    /// key the one ceiling had, so an update within the hour keeps its count), and
    /// `any-account#<bucket>#<YYYY-MM-DD>` for the stack-wide daily buckets.
    pub fn key(&self) -> String {
        let period = match self.period {
            TextPeriod::Hour => self.start.format("%Y-%m-%dT%H"),
            TextPeriod::Day => self.start.format("%Y-%m-%d"),
        };
        let scope = match self.scope {
            TextScope::Account => self.account.as_str(),
            TextScope::AllAccounts => ANY_ACCOUNT,
        };
        match self.bucket {
            TextBucket::RootActivity => format!("{scope}#{period}"),
            bucket => format!("{scope}#{}#{period}", bucket.as_str()),
        }
    }
}

/// Whether phones get an alert. The SNS attribute `page` is `true` for the first two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Texted: the first of its session (or critical and new in it), within the ceiling.
    Text,
    /// The first past its [`TextCeiling`]: texted as the notice that those texts are paused
    /// (for the account, or for every account) until the period ends, and that every alert
    /// still goes to email and chat.
    PauseNotice,
    /// Email and chat only: its root session was already texted.
    Coalesced,
    /// Email and chat only: texts of its [`TextBucket`] are paused for the rest of the period.
    Paused,
}

impl Page {
    /// Whether phones get a text for this alert.
    pub fn texted(self) -> bool {
        matches!(self, Page::Text | Page::PauseNotice)
    }

    /// Whether the account's texts were paused when this alert came.
    pub fn texts_paused(self) -> bool {
        matches!(self, Page::PauseNotice | Page::Paused)
    }
}

/// What a claim found ([`AlertState::claim`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    /// Already alerted: publish nothing.
    Duplicate,
    /// Publish; `page` says whether and how phones get it, `deduplicated` whether the event is
    /// claimed in a state table (`false` without one).
    Proceed { page: Page, deduplicated: bool },
}

/// The state store could not answer, or another invocation still held the event when this one
/// stopped waiting. Both are retryable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("event {event_id} is still being alerted by another invocation; retry after its lease")]
    InFlight { event_id: String },
    #[error("the state table did not answer: {reason}")]
    Unavailable { reason: String },
}

/// Dedup and coalescing memory.
pub trait AlertState {
    /// Claims the event; while another invocation holds it, waits until `budget`'s
    /// [`Budget::wait_until`] for that invocation's outcome.
    fn claim(
        &self,
        claim: &Claim,
        budget: &Budget,
    ) -> impl Future<Output = Result<Claimed, StateError>> + Send;

    /// Records the event as alerted, after its publish succeeded.
    fn record(
        &self,
        claim: &Claim,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Releases the claims of an alert that was not published. `counted` is the [`Page`]
    /// the claim gave when the table gave it: a text it counted against the ceiling is given
    /// back.
    fn release(
        &self,
        claim: &Claim,
        counted: Option<Page>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// No table: every event is alerted and every alert pages; there is no ceiling.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stateless;

impl AlertState for Stateless {
    async fn claim(&self, _: &Claim, _: &Budget) -> Result<Claimed, StateError> {
        Ok(Claimed::Proceed {
            page: Page::Text,
            deduplicated: false,
        })
    }

    async fn record(&self, _: &Claim, _: &str, _: DateTime<Utc>) -> Result<(), StateError> {
        Ok(())
    }

    async fn release(&self, _: &Claim, _: Option<Page>) -> Result<(), StateError> {
        Ok(())
    }
}

/// A table that may not be configured: `None` behaves as [`Stateless`], so the function is
/// wired the same way with and without `STATE_TABLE`.
impl<S: AlertState + Sync> AlertState for Option<S> {
    async fn claim(&self, claim: &Claim, budget: &Budget) -> Result<Claimed, StateError> {
        match self {
            Some(state) => state.claim(claim, budget).await,
            None => Stateless.claim(claim, budget).await,
        }
    }

    async fn record(
        &self,
        claim: &Claim,
        message_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        match self {
            Some(state) => state.record(claim, message_id, now).await,
            None => Stateless.record(claim, message_id, now).await,
        }
    }

    async fn release(&self, claim: &Claim, counted: Option<Page>) -> Result<(), StateError> {
        match self {
            Some(state) => state.release(claim, counted).await,
            None => Stateless.release(claim, counted).await,
        }
    }
}

// Declared root use.

/// A declaration as the state table holds it (`declaration#<account>`): written by a person,
/// every attribute unchecked. `declare::decide` validates it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeclarationRequest {
    pub pk: String,
    pub declaration_id: Option<String>,
    pub account_id: Option<String>,
    /// Epoch seconds.
    pub window_start: Option<i64>,
    pub window_end: Option<i64>,
    pub declared_reason: Option<String>,
    pub declared_by: Option<String>,
    pub caller_arn: Option<String>,
    pub source_cidr: Option<String>,
    pub ended_at: Option<i64>,
    /// Attributes of a known name but the wrong type: refused, not ignored.
    pub malformed: Vec<String>,
}

/// An announced window (`window#<account>`): the validated declaration and the digest of what
/// was announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub declaration: Declaration,
    pub digest: String,
}

/// What opening a window writes, in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub window: Window,
    /// The announcement's SNS message id (`duplicate` when an earlier invocation published it).
    pub message_id: String,
    pub announced_at: DateTime<Utc>,
    /// Whether its report is kept (`report#`, an entry of `index#reports`).
    pub report: bool,
    /// The id of the window it replaces, whose report then ends where this one starts.
    pub supersedes: Option<String>,
}

/// Declarations, windows and reports in the state table.
pub trait Declarations {
    /// The declaration written for `account`, read consistently.
    fn request(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Option<DeclarationRequest>, StateError>> + Send;

    /// The window announced for `account`, if any.
    fn window(
        &self,
        account: &AccountId,
    ) -> impl Future<Output = Result<Option<Window>, StateError>> + Send;

    /// Whether another report can wait (`index#reports` is not full).
    fn report_room(&self) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Opens the window; `Ok(false)` when a newer window of the account stands.
    fn open(&self, opening: &Opening) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// Ends window `id` of `account` early, and its report's range with it.
    fn end(
        &self,
        account: &AccountId,
        id: &str,
        ended_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>> + Send;

    /// Notes a use in window `id`'s report under the event's `key`; `Ok(false)` when the report
    /// was full (the use is counted as dropped) or is not kept.
    fn note(
        &self,
        account: &AccountId,
        id: &str,
        key: &str,
        noted: &NotedUse,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// The reports waiting (`<account>#<id>` entries of `index#reports`).
    fn due(&self) -> impl Future<Output = Result<Vec<String>, StateError>> + Send;

    /// A waiting report, by its entry.
    fn report(
        &self,
        entry: &str,
    ) -> impl Future<Output = Result<Option<Report>, StateError>> + Send;

    /// Takes a sent report off the index.
    fn reported(&self, entry: &str) -> impl Future<Output = Result<(), StateError>> + Send;
}

/// No table: nothing is declared, nothing is kept.
impl Declarations for Stateless {
    async fn request(&self, _: &AccountId) -> Result<Option<DeclarationRequest>, StateError> {
        Ok(None)
    }
    async fn window(&self, _: &AccountId) -> Result<Option<Window>, StateError> {
        Ok(None)
    }
    async fn report_room(&self) -> Result<bool, StateError> {
        Ok(false)
    }
    async fn open(&self, _: &Opening) -> Result<bool, StateError> {
        Ok(false)
    }
    async fn end(&self, _: &AccountId, _: &str, _: DateTime<Utc>) -> Result<(), StateError> {
        Ok(())
    }
    async fn note(
        &self,
        _: &AccountId,
        _: &str,
        _: &str,
        _: &NotedUse,
    ) -> Result<bool, StateError> {
        Ok(false)
    }
    async fn due(&self) -> Result<Vec<String>, StateError> {
        Ok(Vec::new())
    }
    async fn report(&self, _: &str) -> Result<Option<Report>, StateError> {
        Ok(None)
    }
    async fn reported(&self, _: &str) -> Result<(), StateError> {
        Ok(())
    }
}

/// As for [`AlertState`], `None` is [`Stateless`].
impl<S: Declarations + Sync> Declarations for Option<S> {
    async fn request(&self, a: &AccountId) -> Result<Option<DeclarationRequest>, StateError> {
        match self {
            Some(s) => s.request(a).await,
            None => Stateless.request(a).await,
        }
    }
    async fn window(&self, a: &AccountId) -> Result<Option<Window>, StateError> {
        match self {
            Some(s) => s.window(a).await,
            None => Stateless.window(a).await,
        }
    }
    async fn report_room(&self) -> Result<bool, StateError> {
        match self {
            Some(s) => s.report_room().await,
            None => Stateless.report_room().await,
        }
    }
    async fn open(&self, o: &Opening) -> Result<bool, StateError> {
        match self {
            Some(s) => s.open(o).await,
            None => Stateless.open(o).await,
        }
    }
    async fn end(&self, a: &AccountId, id: &str, at: DateTime<Utc>) -> Result<(), StateError> {
        match self {
            Some(s) => s.end(a, id, at).await,
            None => Stateless.end(a, id, at).await,
        }
    }
    async fn note(
        &self,
        a: &AccountId,
        id: &str,
        key: &str,
        noted: &NotedUse,
    ) -> Result<bool, StateError> {
        match self {
            Some(s) => s.note(a, id, key, noted).await,
            None => Stateless.note(a, id, key, noted).await,
        }
    }
    async fn due(&self) -> Result<Vec<String>, StateError> {
        match self {
            Some(s) => s.due().await,
            None => Stateless.due().await,
        }
    }
    async fn report(&self, entry: &str) -> Result<Option<Report>, StateError> {
        match self {
            Some(s) => s.report(entry).await,
            None => Stateless.report(entry).await,
        }
    }
    async fn reported(&self, entry: &str) -> Result<(), StateError> {
        match self {
            Some(s) => s.reported(entry).await,
            None => Stateless.reported(entry).await,
        }
    }
}

// Account names.

/// Why a directory gave no name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error(
        "access denied (the function's role needs organizations:DescribeAccount, and must be in the management account or a delegated administrator)"
    )]
    AccessDenied,
    #[error("this account is not in an organization")]
    NotInUse,
    #[error("the organization has no such account")]
    AccountNotFound,
    #[error("throttled")]
    Throttled,
    #[error("no answer within {} ms", LOOKUP_BUDGET.as_millis())]
    Timeout,
    #[error("unreachable: {0}")]
    Unreachable(String),
    #[error("{0}")]
    Other(String),
}

impl DirectoryError {
    /// A short, stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            DirectoryError::AccessDenied => "AccessDenied",
            DirectoryError::NotInUse => "AWSOrganizationsNotInUse",
            DirectoryError::AccountNotFound => "AccountNotFound",
            DirectoryError::Throttled => "Throttled",
            DirectoryError::Timeout => "Timeout",
            DirectoryError::Unreachable(_) => "Unreachable",
            DirectoryError::Other(_) => "Other",
        }
    }

    /// Whether the failure is about this one account rather than the directory.
    pub(crate) fn concerns_only_the_account(&self) -> bool {
        matches!(self, DirectoryError::AccountNotFound)
    }
}

/// Where account names come from. The handler is generic over it, so the cache and the budget
/// are tested with a fake.
pub trait AccountDirectory {
    /// The account's name as the directory holds it (untrusted text), or `None` if it has none.
    fn account_name(
        &self,
        id: &AccountId,
    ) -> impl Future<Output = Result<Option<String>, DirectoryError>> + Send;
}

/// No directory: the function without `ACCOUNT_NAMES_FROM_ORGANIZATIONS`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDirectory;

impl AccountDirectory for NoDirectory {
    async fn account_name(&self, _id: &AccountId) -> Result<Option<String>, DirectoryError> {
        Ok(None)
    }
}

// The watchdog's reads.

/// The CloudTrail API failed; the message is sanitised, safe to log and to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckError(pub String);

/// Reads the trails that apply to the function's region, with their status and selectors.
pub trait TrailSource {
    fn trails(&self) -> impl Future<Output = Result<Vec<TrailView>, CheckError>> + Send;
}

/// The once-a-day rule: a finding alerts when its mark for the UTC day is new.
pub trait WatchdogState {
    /// Sets the mark `key` for invocation `owner`; `Ok(true)` if it is new or already ours (a
    /// retried write, or Lambda's retry of this invocation), `Ok(false)` if another invocation
    /// set it.
    fn mark(
        &self,
        key: &str,
        owner: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;
    /// Removes a mark this invocation set, after a failed publish, so the retry alerts.
    fn unmark(&self, key: &str) -> impl Future<Output = Result<(), StateError>> + Send;
    /// Whether the mark `key` is set and not yet expired at `now` (a finding that repeats
    /// quietly texts only on a day after an unmarked one). Without a table: never, so every
    /// finding is texted.
    fn marked(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StateError>> + Send {
        let _ = (key, now);
        std::future::ready(Ok(false))
    }

    // What the member audit remembers between runs: where the round robin stands
    // (`index#member-audit`) and each member's last findings (`audit#<id>`). Without a table it
    // remembers nothing: each run starts at the first member, and every finding is new.

    /// The last member the audit read.
    fn cursor(&self) -> impl Future<Output = Result<Option<String>, StateError>> + Send {
        std::future::ready(Ok(None))
    }
    fn move_cursor(&self, after: &str) -> impl Future<Output = Result<(), StateError>> + Send {
        let _ = after;
        std::future::ready(Ok(()))
    }
    /// The codes found at `account`'s last audit.
    fn last(&self, account: &str) -> impl Future<Output = Result<Vec<String>, StateError>> + Send {
        let _ = account;
        std::future::ready(Ok(Vec::new()))
    }
    fn remember(
        &self,
        account: &str,
        codes: &[String],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StateError>> + Send {
        let _ = (account, codes, now);
        std::future::ready(Ok(()))
    }
}

/// Without a table every broken check alerts.
impl WatchdogState for Stateless {
    async fn mark(&self, _: &str, _: &str, _: DateTime<Utc>) -> Result<bool, StateError> {
        Ok(true)
    }
    async fn unmark(&self, _: &str) -> Result<(), StateError> {
        Ok(())
    }
}

/// As for [`AlertState`], `None` is [`Stateless`].
impl<W: WatchdogState + Sync> WatchdogState for Option<W> {
    async fn mark(&self, key: &str, owner: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        match self {
            Some(state) => state.mark(key, owner, now).await,
            None => Stateless.mark(key, owner, now).await,
        }
    }

    async fn unmark(&self, key: &str) -> Result<(), StateError> {
        match self {
            Some(state) => state.unmark(key).await,
            None => Stateless.unmark(key).await,
        }
    }

    async fn marked(&self, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        match self {
            Some(state) => state.marked(key, now).await,
            None => Stateless.marked(key, now).await,
        }
    }

    async fn cursor(&self) -> Result<Option<String>, StateError> {
        match self {
            Some(state) => state.cursor().await,
            None => Stateless.cursor().await,
        }
    }

    async fn move_cursor(&self, after: &str) -> Result<(), StateError> {
        match self {
            Some(state) => state.move_cursor(after).await,
            None => Stateless.move_cursor(after).await,
        }
    }

    async fn last(&self, account: &str) -> Result<Vec<String>, StateError> {
        match self {
            Some(state) => state.last(account).await,
            None => Stateless.last(account).await,
        }
    }

    async fn remember(
        &self,
        account: &str,
        codes: &[String],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        match self {
            Some(state) => state.remember(account, codes, now).await,
            None => Stateless.remember(account, codes, now).await,
        }
    }
}

// The root user's posture.

/// What `iam:GetAccountSummary` says of the root user: each key `None` when the answer lacked
/// it (IAM API Reference, "GetAccountSummary": 0 or 1 each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountSummary {
    pub access_keys_present: Option<i32>,
    pub mfa_enabled: Option<i32>,
    pub signing_certificates_present: Option<i32>,
}

/// An assigned virtual MFA device, as `iam:ListVirtualMFADevices` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualDevice {
    pub serial: String,
    /// The ARN of the user it is assigned to (`arn:<partition>:iam::<account>:root` for root).
    pub user_arn: Option<String>,
}

/// Reads the root user's credentials state in the function's account (IAM, read-only but for
/// `GenerateCredentialReport`). Errors are sanitised, safe to log and to send.
pub trait RootPosture {
    fn summary(&self) -> impl Future<Output = Result<AccountSummary, CheckError>> + Send;
    /// Every assigned virtual MFA device of the account, all pages.
    fn virtual_devices(
        &self,
    ) -> impl Future<Output = Result<Vec<VirtualDevice>, CheckError>> + Send;
    /// The credential report's CSV, generating it first when there is none or it expired.
    fn credential_report(&self) -> impl Future<Output = Result<String, CheckError>> + Send;
}

/// Whether centralized root access is on in the organization (`iam:ListOrganizationsFeatures`),
/// as the function's account may learn it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootAccess {
    /// The account may ask: which features are on.
    Features {
        credentials_management: bool,
        root_sessions: bool,
    },
    /// Not the management account nor the delegated administrator for IAM
    /// (`AccountNotManagementOrDelegatedAdministratorException`).
    NotAllowed,
    /// IAM's organization features cannot be on: the error code says why
    /// (`ServiceAccessNotEnabledException`, `OrganizationNotInAllFeaturesModeException`,
    /// `OrganizationNotFoundException`).
    Unavailable(String),
}

/// A member's root credentials, as an `IAMAuditRootUserCredentials` session reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberRoot {
    pub password: bool,
    pub access_keys: usize,
    pub mfa_devices: usize,
    pub certificates: usize,
}

/// The organization's members and their root credentials (organization mode, from the
/// management account or the delegated administrator for IAM).
pub trait MemberRoots {
    fn root_access(&self) -> impl Future<Output = Result<RootAccess, CheckError>> + Send;
    /// The management account's id and the organization's active accounts, every page.
    fn members(&self) -> impl Future<Output = Result<(String, Vec<Member>), CheckError>> + Send;
    /// Reads `account`'s root credentials through an `sts:AssumeRoot` session.
    fn audit(&self, account: &str) -> impl Future<Output = Result<MemberRoot, CheckError>> + Send;
}

/// No member audit wired.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMemberRoots;

impl MemberRoots for NoMemberRoots {
    async fn root_access(&self) -> Result<RootAccess, CheckError> {
        Err(CheckError("no member audit".into()))
    }
    async fn members(&self) -> Result<(String, Vec<Member>), CheckError> {
        Err(CheckError("no member audit".into()))
    }
    async fn audit(&self, _: &str) -> Result<MemberRoot, CheckError> {
        Err(CheckError("no member audit".into()))
    }
}

/// No posture check: every read fails (the wiring never runs one; see `dispatch::Function`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPosture;

impl RootPosture for NoPosture {
    async fn summary(&self) -> Result<AccountSummary, CheckError> {
        Err(CheckError("no posture reader".into()))
    }
    async fn virtual_devices(&self) -> Result<Vec<VirtualDevice>, CheckError> {
        Err(CheckError("no posture reader".into()))
    }
    async fn credential_report(&self) -> Result<String, CheckError> {
        Err(CheckError("no posture reader".into()))
    }
}

// Coverage of an organization.

/// One forwarder's heartbeat: the cell (account × region) it proves and when its rule fired.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Heartbeat {
    pub account: AccountId,
    pub region: String,
    pub at: DateTime<Utc>,
}

/// An active account of the organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: AccountId,
    /// Its name in AWS Organizations, made safe.
    pub name: Option<crate::domain::AccountName>,
    /// When it joined the organization (`JoinedTimestamp`), when known.
    pub joined: Option<DateTime<Utc>>,
}

/// The heartbeat table: one item per cell, its last heartbeat.
pub trait Heartbeats {
    /// Records `heartbeat` in one conditional write, no read; `Ok(false)` when a later one is
    /// already recorded (a late redelivery never moves the time back).
    fn record(
        &self,
        heartbeat: &Heartbeat,
    ) -> impl Future<Output = Result<bool, StateError>> + Send;

    /// When coverage was first checked: `now` on the first call, kept after.
    fn started(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<DateTime<Utc>, StateError>> + Send;

    /// The last heartbeat of every account seen in `region`.
    fn seen(
        &self,
        region: &str,
    ) -> impl Future<Output = Result<Vec<(AccountId, DateTime<Utc>)>, StateError>> + Send;
}

/// The organization's accounts.
pub trait Organization {
    /// Every `ACTIVE` account, all pages.
    fn accounts(&self) -> impl Future<Output = Result<Vec<Member>, CheckError>> + Send;
}

/// Coverage off (`HEARTBEAT_TABLE` or `COVERAGE_REGIONS` unset): the type the function is wired
/// with when it never checks coverage. Nothing seen, no account listed.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCoverage;

impl Heartbeats for NoCoverage {
    async fn record(&self, _: &Heartbeat) -> Result<bool, StateError> {
        Ok(false)
    }
    async fn started(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, StateError> {
        Ok(now)
    }
    async fn seen(&self, _: &str) -> Result<Vec<(AccountId, DateTime<Utc>)>, StateError> {
        Ok(Vec::new())
    }
}

impl Organization for NoCoverage {
    async fn accounts(&self) -> Result<Vec<Member>, CheckError> {
        Ok(Vec::new())
    }
}

/// One event selector of a trail, as `GetEventSelectors` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A basic selector; `include_management_events` is `None` when AWS left it out (its
    /// default is `true`).
    Basic {
        include_management_events: Option<bool>,
    },
    /// An advanced selector: whether one of its field selectors is `eventCategory` equal to
    /// `Management`.
    Advanced { selects_management: bool },
}

/// What the CloudTrail API said about one trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailView {
    pub name: String,
    /// The trail's ARN, which names it from any region (needed for shadow trails).
    pub arn: String,
    pub home_region: String,
    pub multi_region: bool,
    pub organization: bool,
    /// `GetTrailStatus`'s `IsLogging`.
    pub logging: bool,
    /// Basic and advanced selectors together. Empty means none are configured: AWS's default,
    /// which records all management events (moto returns an empty list for a new trail where
    /// AWS returns that default selector; both mean the same).
    pub selectors: Vec<Selector>,
}

impl TrailView {
    pub(crate) fn applies_to(&self, region: &str) -> bool {
        self.multi_region || self.home_region == region
    }

    pub(crate) fn records_management_events(&self) -> bool {
        self.selectors.is_empty()
            || self.selectors.iter().any(|s| match s {
                Selector::Basic {
                    include_management_events,
                } => include_management_events.unwrap_or(true),
                Selector::Advanced { selects_management } => *selects_management,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(id: serde_json::Value, detail: serde_json::Value) -> Value {
        serde_json::json!({"id": id, "detail-type": "AWS API Call via CloudTrail", "detail": detail})
    }

    #[test]
    fn events_without_an_event_id_are_keyed_by_envelope_id_or_digest() {
        let detail = serde_json::json!({"eventName": "CreateUser", "b": 1, "a": [1, "x"]});
        let by_envelope = EventKey::of(
            None,
            &envelope(
                "6a7e8feb-b491-4cf7-a9f1-bf3703467718".into(),
                detail.clone(),
            ),
        );
        assert_eq!(
            by_envelope.as_str(),
            "envelope#6a7e8feb-b491-4cf7-a9f1-bf3703467718"
        );
        assert_eq!(
            EventKey::of(Some("e-1"), &envelope("6a7e8feb".into(), detail.clone())).as_str(),
            "e-1",
            "CloudTrail's id wins"
        );

        let hostile_id = envelope("id with spaces#".into(), detail.clone());
        let digest = EventKey::of(None, &hostile_id);
        assert!(digest.as_str().starts_with("sha256#"), "{digest}");
        assert_eq!(digest.as_str().len(), "sha256#".len() + 64);
        let reordered: Value = serde_json::from_str(
            r#"{"detail": {"a": [1, "x"], "b": 1, "eventName": "CreateUser"}, "detail-type": "AWS API Call via CloudTrail", "id": "id with spaces#"}"#,
        )
        .unwrap();
        assert_eq!(
            EventKey::of(None, &reordered),
            digest,
            "key order does not matter"
        );
        let mut other = hostile_id.clone();
        other["detail"]["b"] = 2.into();
        assert_ne!(EventKey::of(None, &other), digest);
        assert_ne!(EventKey::of(None, &envelope(Value::Null, detail)), digest);
    }

    /// The digest is stored in the table for a week: it must not change between builds.
    #[test]
    fn the_digest_is_stable() {
        let key = EventKey::of(None, &serde_json::json!({"b": [true, null, 1.5], "a": "é"}));
        assert_eq!(
            key.as_str(),
            "sha256#08ede9506b0ce4222d968f6199df588664736d1b976735679b0e612cd7bb5e86"
        );
    }

    /// A store that finds every event already alerted, and every mark taken.
    struct Seen;

    impl AlertState for Seen {
        async fn claim(&self, _: &Claim, _: &Budget) -> Result<Claimed, StateError> {
            Ok(Claimed::Duplicate)
        }
        async fn record(&self, _: &Claim, _: &str, _: DateTime<Utc>) -> Result<(), StateError> {
            Ok(())
        }
        async fn release(&self, _: &Claim, _: Option<Page>) -> Result<(), StateError> {
            Ok(())
        }
    }

    impl WatchdogState for Seen {
        async fn mark(&self, _: &str, _: &str, _: DateTime<Utc>) -> Result<bool, StateError> {
            Ok(false)
        }
        async fn unmark(&self, _: &str) -> Result<(), StateError> {
            Ok(())
        }
    }

    /// Without a table (`None`) the function is stateless; with one, the table answers.
    #[tokio::test]
    async fn no_table_is_stateless_and_a_table_answers() {
        let now: DateTime<Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
        let invocation = crate::invocation::Invocation::new("req-1", now);
        let budget = Budget::start(&invocation, now);
        let claim = Claim {
            key: EventKey::of(Some("e-1"), &Value::Null),
            owner: "req-1".into(),
            lease_until: now,
            session: None,
            event_time: now,
            window: Duration::from_secs(900),
            ceiling: None,
        };
        let proceed = Claimed::Proceed {
            page: Page::Text,
            deduplicated: false,
        };
        assert_eq!(None::<Seen>.claim(&claim, &budget).await, Ok(proceed));
        assert_eq!(
            Some(Seen).claim(&claim, &budget).await,
            Ok(Claimed::Duplicate)
        );
        assert_eq!(None::<Seen>.mark("k", "req-1", now).await, Ok(true));
        assert_eq!(Some(Seen).mark("k", "req-1", now).await, Ok(false));
    }
}
