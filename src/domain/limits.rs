//! Every time limit the function keeps, in one place: the AWS SDK's per-client timeouts and
//! retries, the budgets carved out of an invocation's deadline, the start-up and watchdog checks,
//! the account-name lookup, and how long the state table remembers. The limits depend on each
//! other (a publish must fit before the deadline with a state-table operation after it; the
//! start-up check must end inside Lambda's 10 s of init), so they are read together.

use std::time::Duration;

/// Per-attempt and whole-operation limits for SNS (the SDK config loader's defaults). With the
/// standard retry policy (3 attempts, jittered backoff) a publish that cannot succeed fails
/// within [`OPERATION_TIMEOUT`], well inside the function's 30 s timeout, so Lambda sees a
/// retryable error instead of a timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);
pub const MAX_ATTEMPTS: u32 = 3;

/// The state table's limits, much shorter than SNS's: a DynamoDB call that cannot answer is
/// given up and the alert is published without dedup (fail open), so waiting on it only delays
/// the page. DynamoDB answers in milliseconds; 1 s to connect covers one lost SYN (Linux
/// retransmits after 1 s, then the retry reconnects), 1 s per attempt is far above its tail
/// latency, and 3 attempts with a 100 ms base backoff end within the 3 s operation bound.
pub const STATE_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const STATE_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
pub const STATE_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
pub const STATE_MAX_ATTEMPTS: u32 = 3;
pub const STATE_INITIAL_BACKOFF: Duration = Duration::from_millis(100);

/// The longest an account-name lookup may take, connecting included. AWS Organizations has one
/// endpoint per partition (us-east-1 for `aws`), so a home stack elsewhere pays a cross-region
/// round trip: a new connection takes about three (TCP, TLS 1.3, the request), 0.2-0.25 s each
/// from the regions farthest from us-east-1 (Sydney, Mumbai, Singapore). One second lets the
/// first lookup of a warm function succeed from any region while adding at most a second to a
/// page whose delivery already takes longer (CloudTrail to EventBridge, then SMS).
pub const LOOKUP_BUDGET: Duration = Duration::from_secs(1);

/// How long a failed lookup is remembered before the directory is asked again. Long enough that
/// a burst of one incident (dozens of alerts in minutes) pays the budget once; short enough that
/// names come back soon after a throttle or an outage.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// Added to the deadline to make a claim's lease: covers clock skew between the claimer's host
/// and a later taker's, and the deadline's truncation to whole seconds in the table.
pub const LEASE_MARGIN: Duration = Duration::from_secs(5);

/// Kept back at the end of every invocation: one state-table operation (recording the alert, or
/// releasing the claims, which run concurrently) plus a second for the runtime to report.
pub const STATE_RESERVE: Duration = STATE_OPERATION_TIMEOUT.saturating_add(Duration::from_secs(1));

/// The outputs after SNS (the alert event put and the finding import, side by side) get this
/// long in all, after the publish and its record: a slow output costs the invocation a little
/// time, never the page. EventBridge and Security Hub answer in tens of milliseconds.
pub const OUTPUT_BUDGET: Duration = Duration::from_millis(1500);

/// Kept back at the end of an invocation from the outputs, for the runtime to report.
pub const OUTPUT_RESERVE: Duration = Duration::from_secs(1);

/// Less than this for the outputs (after [`OUTPUT_RESERVE`]) is not worth starting: they are
/// skipped, logged and counted as failed.
pub const MIN_OUTPUT: Duration = Duration::from_millis(200);

/// The output clients' limits: one lost SYN is covered, two attempts, the whole operation
/// within [`OUTPUT_BUDGET`] (which also cuts the outputs off around the calls).
pub const OUTPUT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const OUTPUT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
pub const OUTPUT_MAX_ATTEMPTS: u32 = 2;

/// How many times the finding is re-imported when its session moved on while it was being
/// imported (another alert of the session noted by a concurrent invocation), so the import that
/// lands last carries the whole session.
pub const FINDING_RECHECKS: u32 = 2;

/// Less time than this for a publish is not worth starting: fail at once, retryably.
pub const MIN_PUBLISH: Duration = Duration::from_secs(2);

/// What a duplicate that waits for another invocation keeps for itself, in case it must publish
/// after all: opening the session, a whole SNS operation, and the final reserve.
pub const WAIT_RESERVE: Duration = STATE_OPERATION_TIMEOUT
    .saturating_add(OPERATION_TIMEOUT)
    .saturating_add(STATE_RESERVE);

/// The function's timeout in `template.yaml`: the deadline assumed when the runtime's is not a
/// time at all (see `Invocation::from_context`).
pub const ASSUMED_TIMEOUT: Duration = Duration::from_secs(30);

/// How long start-up waits for its checks of the topic and the table, which run side by side.
/// Lambda allows init 10 s; a check without an answer by then is let go, and the first event
/// connects on its own. The SDK's own limits are not enough here: a silent SNS would hold a
/// check for up to [`OPERATION_TIMEOUT`], beyond Lambda's 10 s for init.
pub const STARTUP_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// The watchdog's whole CloudTrail check gives up after this long and reports itself failed,
/// leaving the publish its own 12 s inside the function's 30 s.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an alerted event is remembered: longer than EventBridge (24 h) and Lambda (6 h) retry.
pub const REMEMBER_ALERTED: Duration = Duration::from_secs(7 * 24 * 3600);

/// How long a watchdog's once-a-day mark is kept (TTL): past its day, with a margin for clock
/// skew.
pub const REMEMBER_MARK: Duration = Duration::from_secs(2 * 24 * 3600);

/// A declaration's longest window: a working day. Longer root use is declared again.
pub const MAX_DECLARED_MINUTES: i64 = 480;

/// The longest declared reason and declarer, in characters after sanitising.
pub const MAX_REASON: usize = 200;
pub const MAX_DECLARED_BY: usize = 64;

/// How far in the future a declaration's start may be: the declarer's clock against ours.
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// How far back an announced window reaches before its announcement: the root use that
/// prompted a late announcement (a stuck stream record) is still covered, no more.
pub const BACKDATE: Duration = Duration::from_secs(15 * 60);

/// How long after a window closes its report waits: CloudTrail delivers to EventBridge on a
/// best-effort basis, usually within minutes (EventBridge User Guide, "AWS service events
/// delivered via AWS CloudTrail"), so late uses still make the report.
pub const REPORT_GRACE: Duration = Duration::from_secs(15 * 60);

/// The most uses one report lists; more are counted as dropped.
pub const MAX_REPORTED_EVENTS: usize = 200;

/// The most reports waiting at once (entries of `index#reports`); a declaration past it is
/// announced saying no report will follow.
pub const MAX_PENDING_REPORTS: usize = 500;

/// How long a declaration's report record is kept (TTL), after its window's end.
pub const REMEMBER_REPORT: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long the request and the announced window are kept (TTL), after the window's end.
pub const REMEMBER_DECLARATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The most reports one scheduled tick sends; the rest wait for the next tick.
pub const REPORTS_PER_TICK: usize = 10;

/// The longest the root user's posture reads may take together (GetAccountSummary,
/// ListVirtualMFADevices, the credential report); past it the check reports itself failed.
pub const POSTURE_BUDGET: Duration = Duration::from_secs(5);

/// Less time than this left after the trail check, and the posture check waits for the next
/// tick: its reads ([`POSTURE_BUDGET`]) and a publish must fit before the deadline.
pub const POSTURE_MIN_LEFT: Duration = Duration::from_secs(8);

/// Members whose root credentials are audited at once, each an `AssumeRoot` and four reads.
pub const AUDIT_CONCURRENCY: usize = 4;

/// The `AssumeRoot` session of a member audit: the shortest that covers its four reads with
/// retries (AssumeRoot allows at most 900 s).
pub const AUDIT_SESSION_SECONDS: i32 = 300;

/// No member's audit starts with less than this left of the invocation: an `AssumeRoot`, four
/// reads and the alert's publish.
pub const AUDIT_MIN_LEFT: Duration = Duration::from_secs(6);

/// How long a member's last audit is remembered (TTL): a member audited again within it alerts
/// only the findings its last audit did not have.
pub const REMEMBER_AUDIT: Duration = Duration::from_secs(30 * 24 * 3600);
/// How often each forwarder sends its heartbeat (`rate(1 hour)` in forwarder.yaml).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3600);

/// How long a cell (account × region) may be silent before it is blind: two heartbeats, so one
/// lost or late heartbeat never pages. [`CLOCK_SKEW`] is added on top.
pub const SILENT_AFTER: Duration = Duration::from_secs(2 * HEARTBEAT_INTERVAL.as_secs());

/// How long a heartbeat's record is kept (TTL) after it was last seen: long enough for a weekly
/// report to name an account silent for weeks.
pub const HEARTBEAT_KEPT: Duration = Duration::from_secs(35 * 24 * 3600);

/// The most silent accounts one region's gap names; past it the region is one finding.
pub const GAPS_PER_REGION: usize = 20;

/// How long a coverage check may spend listing the organization's accounts (`ListAccounts`,
/// 20 a page): about 4,000 accounts at 75 ms a page.
pub const LIST_BUDGET: Duration = Duration::from_secs(15);

/// The weekly coverage report's email, at most: SNS takes 256 KB for every protocol together.
pub const REPORT_EMAIL_MAX: usize = 150_000;

/// The blind cells the weekly report's chat message names; the rest are counted.
pub const REPORT_CHAT_CELLS: usize = 30;

/// How many regions' heartbeats a coverage check reads at once (one `Query` each).
pub const QUERY_CONCURRENCY: usize = 8;
