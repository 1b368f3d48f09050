//! Coverage of an organization: proof that every active account × covered region still
//! forwards to the home bus. Each forwarder's hourly heartbeat travels the root events' path
//! ([`heartbeat`]); the home function records it in one conditional write ([`Coverage::record`]);
//! the checks schedule compares the heartbeats with the organization's accounts × the
//! `COVERAGE_REGIONS` ([`judge`](mod@judge)) and alerts `coverage-gap` for each silent cell, once a day
//! per gap and a new gap at once ([`Coverage::check`], [`render`]).
//!
//! Its ports are [`Heartbeats`] (the heartbeat table, `aws/heartbeats.rs`) and [`Organization`]
//! (`organizations:ListAccounts`, `aws/organizations.rs`); the once-a-day marks are the
//! watchdog's ([`WatchdogState`]).

pub mod heartbeat;
pub mod judge;
pub mod render;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinSet;
use tracing::{debug, error, info, warn};

use crate::deliver::{Delivered, deliver};
use crate::detect::record::is_event_id;
use crate::domain::limits::{LIST_BUDGET, QUERY_CONCURRENCY};
use crate::domain::{AccountId, SmsLimit};
use crate::error::HandlerError;
use crate::invocation::{Budget, Invocation};
use crate::ports::{
    AlertPublisher, Heartbeat, Heartbeats, Organization, StateError, WatchdogState,
};
use crate::watchdog::DailyMarks;
use chrono::{Datelike, Timelike, Weekday};
use judge::{Expected, Gap, Seen, State};

/// What became of a heartbeat; the invocation's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "heartbeat", rename_all = "camelCase")]
pub enum Recorded {
    /// The cell's last heartbeat is now this one.
    Recorded {
        account: AccountId,
        region: String,
        at: DateTime<Utc>,
    },
    /// A later heartbeat of the cell was already recorded (a late redelivery).
    Older {
        account: AccountId,
        region: String,
        at: DateTime<Utc>,
    },
    /// The table did not take it. Not an error: a retry would end in the failed-events queue
    /// and page as a lost root event; a lost heartbeat at worst shows as a gap.
    NotRecorded {
        account: AccountId,
        region: String,
        reason: String,
    },
}

/// What a coverage check found; the invocation's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "coverage", rename_all = "camelCase")]
pub enum ChecksOutcome {
    /// The cells by state; `message_id` is the gap alert's, `None` when there was no gap or every
    /// gap was already alerted today.
    #[serde(rename_all = "camelCase")]
    Checked {
        cells: BTreeMap<State, usize>,
        gaps: Vec<String>,
        unexpected: usize,
        message_id: Option<String>,
        /// The weekly report's message id, when this run sent it.
        report: Option<String>,
    },
    /// The accounts or the heartbeats could not be read.
    #[serde(rename_all = "camelCase")]
    Failed {
        error: String,
        message_id: Option<String>,
    },
}

/// The coverage check: what to cover, its two reads and where the home stack runs.
#[derive(Debug, Clone)]
pub struct Coverage<H, O> {
    pub heartbeats: H,
    pub organization: O,
    /// `COVERAGE_REGIONS`.
    pub regions: Vec<String>,
    /// The home account (the topic's) and region (the function's): the home stack's own rules
    /// watch that cell.
    pub home_account: AccountId,
    pub home_region: String,
    pub sms_limit: SmsLimit,
    pub runbook_url: Option<String>,
}

/// Time kept for the gap alert after the weekly report: the report goes only with this left.
const REPORT_RESERVE: std::time::Duration = std::time::Duration::from_secs(6);

/// The state-table key of a gap's mark for the UTC day of `now`:
/// `coverage#<account>#<region>#gap#<YYYY-MM-DD>`, or, for a region with too many silent
/// accounts to name, `coverage#<home>#<region>#region-silent#<YYYY-MM-DD>`.
fn mark_keys(gaps: &[Gap], home: &AccountId, now: DateTime<Utc>) -> Vec<String> {
    let day = now.format("%Y-%m-%d");
    gaps.iter()
        .flat_map(|gap| {
            if gap.whole_region() {
                vec![format!(
                    "coverage#{home}#{}#region-silent#{day}",
                    gap.region
                )]
            } else {
                gap.cells
                    .iter()
                    .map(|c| format!("coverage#{}#{}#gap#{day}", c.account, c.region))
                    .collect()
            }
        })
        .collect()
}

impl<H, O> Coverage<H, O>
where
    H: Heartbeats + Clone + Send + Sync + 'static,
    O: Organization,
{
    /// Records one heartbeat. Never fails: see [`Recorded::NotRecorded`].
    pub async fn record(&self, heartbeat: &Heartbeat) -> Recorded {
        let (account, region, at) = (
            heartbeat.account.clone(),
            heartbeat.region.clone(),
            heartbeat.at,
        );
        match self.heartbeats.record(heartbeat).await {
            Ok(true) => {
                debug!(%account, %region, %at, "heartbeat recorded");
                Recorded::Recorded {
                    account,
                    region,
                    at,
                }
            }
            Ok(false) => {
                debug!(%account, %region, %at, "heartbeat older than the one recorded");
                Recorded::Older {
                    account,
                    region,
                    at,
                }
            }
            Err(err) => {
                warn!(%account, %region, %at, "heartbeat not recorded; the cell may show as a gap: {err}");
                Recorded::NotRecorded {
                    account,
                    region,
                    reason: err.to_string(),
                }
            }
        }
    }

    /// Every region's heartbeats, [`QUERY_CONCURRENCY`] queries at a time.
    async fn seen(&self) -> Result<Seen, StateError> {
        let mut seen = Seen::new();
        for chunk in self.regions.chunks(QUERY_CONCURRENCY) {
            let mut queries = JoinSet::new();
            for region in chunk {
                let (heartbeats, region) = (self.heartbeats.clone(), region.clone());
                queries.spawn(async move {
                    let found = heartbeats.seen(&region).await;
                    (region, found)
                });
            }
            while let Some(joined) = queries.join_next().await {
                let (region, found) = joined.map_err(|e| StateError::Unavailable {
                    reason: format!("a heartbeat query stopped: {e}"),
                })?;
                for (account, at) in found? {
                    seen.insert((region.clone(), account), at);
                }
            }
        }
        Ok(seen)
    }

    /// Compares the heartbeats with the organization's active accounts × `COVERAGE_REGIONS` and
    /// alerts the gaps, once a day per gap (with the state table) and a new gap at once. A check
    /// that cannot read its inputs alerts that, once a day. Fails, retryably, only when an alert
    /// could not be published in the invocation's time.
    pub async fn check<P: AlertPublisher, W: WatchdogState>(
        &self,
        publisher: &P,
        marks: &W,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<ChecksOutcome, HandlerError> {
        let budget = Budget::start(invocation, now);
        let listing = async {
            match tokio::time::timeout(LIST_BUDGET, self.organization.accounts()).await {
                Ok(Ok(members)) => Ok(members),
                Ok(Err(err)) => Err(format!("listing the organization's accounts failed: {err}")),
                Err(_) => Err(format!(
                    "listing the organization's accounts took more than {} s",
                    LIST_BUDGET.as_secs()
                )),
            }
        };
        let (members, seen, started) =
            tokio::join!(listing, self.seen(), self.heartbeats.started(now));
        let event_id = payload
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_event_id(id))
            .map(str::to_owned);
        let inputs = members.and_then(|members| {
            let seen = seen.map_err(|e| format!("reading the heartbeats failed: {e}"))?;
            let started = started.map_err(|e| format!("reading the heartbeats failed: {e}"))?;
            Ok((members, seen, started))
        });
        let (members, seen, started) = match inputs {
            Ok(inputs) => inputs,
            Err(error) => {
                let mut notification = render::render_failed(
                    &error,
                    now,
                    event_id,
                    self.sms_limit,
                    self.runbook_url.as_deref(),
                );
                let keys = vec![format!(
                    "coverage#{}#check-failed#{}",
                    self.home_account,
                    now.format("%Y-%m-%d")
                )];
                let message_id = self
                    .alert(
                        publisher,
                        marks,
                        keys,
                        &mut notification,
                        invocation,
                        now,
                        &budget,
                    )
                    .await?;
                error!(%error, ?message_id, "coverage: the check failed");
                return Ok(ChecksOutcome::Failed { error, message_id });
            }
        };
        let expected = Expected {
            members: &members,
            regions: &self.regions,
            home_account: &self.home_account,
            home_region: &self.home_region,
        };
        let cells = judge::judge(expected, &seen, started, now);
        let unexpected = judge::unexpected(expected, &seen, now);
        let counts: BTreeMap<State, usize> = judge::counts(&cells).into_iter().collect();
        let gaps = judge::gaps(&cells, &self.regions);
        let labels: Vec<String> = gaps
            .iter()
            .flat_map(|gap| {
                gap.cells
                    .iter()
                    .map(|c| format!("{} {}", c.account, c.region))
            })
            .collect();
        let message_id = if gaps.is_empty() {
            info!(
                ?counts,
                unexpected, "coverage: every cell watched or pending"
            );
            None
        } else {
            let all_silent = cells
                .iter()
                .all(|c| matches!(c.state, State::Blind | State::Home));
            let mut notification = render::render_gaps(
                &gaps,
                all_silent,
                now,
                event_id,
                self.sms_limit,
                self.runbook_url.as_deref(),
            );
            let keys = mark_keys(&gaps, &self.home_account, now);
            let message_id = self
                .alert(
                    publisher,
                    marks,
                    keys,
                    &mut notification,
                    invocation,
                    now,
                    &budget,
                )
                .await?;
            warn!(?counts, gaps = ?labels, ?message_id, "coverage: silent accounts and regions");
            message_id
        };
        // After the gaps, in what time they left.
        let report = self
            .report(
                publisher, marks, &cells, unexpected, invocation, now, &budget,
            )
            .await?;
        Ok(ChecksOutcome::Checked {
            cells: counts,
            gaps: labels,
            unexpected,
            message_id,
            report,
        })
    }

    /// The weekly report, by the first check of a Monday from 08:00 UTC (a mark per ISO week; kept
    /// two days, so only Monday's checks send it). `Ok(None)` when not due, already sent, or
    /// there was no time left for it; an error when it could not be published (a retry sends it).
    #[allow(clippy::too_many_arguments)]
    async fn report<P: AlertPublisher, W: WatchdogState>(
        &self,
        publisher: &P,
        marks: &W,
        cells: &[judge::Cell],
        unexpected: usize,
        invocation: &Invocation,
        now: DateTime<Utc>,
        budget: &Budget,
    ) -> Result<Option<String>, HandlerError> {
        if now.weekday() != Weekday::Mon || now.hour() < 8 {
            return Ok(None);
        }
        if !budget.can_publish_after(REPORT_RESERVE) {
            warn!("coverage: too little time left for the weekly report; the next check sends it");
            return Ok(None);
        }
        let week = now.iso_week();
        let key = format!("weekly#coverage-report#{}-W{:02}", week.year(), week.week());
        let mut notification = render::render_report(
            cells,
            self.regions.len(),
            unexpected,
            now,
            self.sms_limit,
            self.runbook_url.as_deref(),
        );
        let sent = self
            .alert(
                publisher,
                marks,
                vec![key],
                &mut notification,
                invocation,
                now,
                budget,
            )
            .await;
        if let Ok(Some(message_id)) = &sent {
            info!(%message_id, "coverage: weekly report sent");
        }
        sent
    }

    /// Publishes `notification` unless every mark of `keys` is already set today.
    #[allow(clippy::too_many_arguments)]
    async fn alert<P: AlertPublisher, W: WatchdogState>(
        &self,
        publisher: &P,
        marks: &W,
        keys: Vec<String>,
        notification: &mut crate::render::notification::Notification,
        invocation: &Invocation,
        now: DateTime<Utc>,
        budget: &Budget,
    ) -> Result<Option<String>, HandlerError> {
        let mut guard = DailyMarks::new(marks, &invocation.request_id, now, keys);
        match deliver(publisher, &mut guard, notification, budget).await {
            Ok(Delivered::Duplicate) => Ok(None),
            Ok(Delivered::Published { message_id, .. }) => Ok(Some(message_id)),
            Err(err) => {
                error!(
                    error_type = err.error_type(),
                    retryable = true,
                    "coverage: the alert could not be published: {err}"
                );
                Err(err)
            }
        }
    }
}
