//! The root user's posture: the state an attacker needs, watched as the watchdog watches
//! CloudTrail. On each scheduled tick, after the trail check, it reads the function's own
//! account through [`RootPosture`] (IAM: `GetAccountSummary`, `ListVirtualMFADevices`, and the
//! credential report when MFA reads 0), judges it ([`judge`](mod@judge)) against the rows of
//! [`controls`] and delivers one notification per finding ([`render`]), once a UTC day per
//! finding, texted on its first day only ([`Repeat::Quiet`]).

pub mod controls;
pub mod judge;
pub mod members;
pub mod render;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::deliver::{Delivered, deliver};
use crate::detect::record::is_event_id;
use crate::domain::limits::{POSTURE_BUDGET, POSTURE_MIN_LEFT};
use crate::domain::{PostureKind, Severity, SmsLimit};
use crate::error::HandlerError;
use crate::invocation::{Budget, Invocation};
use crate::ports::{
    AlertPublisher, CheckError, MemberRoots, NoMemberRoots, RootPosture, WatchdogState,
};
use crate::watchdog::{DailyMarks, Repeat, Repeating};
use controls::control;
use judge::{Finding, judge, root_password};
use render::Checked;

/// What a posture check came to, part of a tick's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "posture", rename_all = "camelCase")]
pub enum PostureOutcome {
    /// No posture check is wired.
    Off,
    /// Too little of the invocation was left after the trail check; the next tick checks.
    Skipped,
    /// The root user's credentials are as they should be.
    Clean,
    /// `findings` are the kinds found; `published` those alerted now (the rest were already
    /// alerted today).
    Found {
        findings: Vec<PostureKind>,
        published: Vec<PostureKind>,
    },
}

impl PostureOutcome {
    /// The most severe finding alerted now, if any.
    pub fn alerted(&self) -> Option<Severity> {
        match self {
            PostureOutcome::Found { published, .. } => {
                published.iter().map(|kind| control(*kind).severity).max()
            }
            _ => None,
        }
    }
}

/// The posture check of the function's own account, and in organization mode its members'.
#[derive(Debug, Clone)]
pub struct Posture<R, M = NoMemberRoots> {
    pub reader: R,
    /// The member audit, in organization mode with `MEMBER_ROOT_AUDIT`.
    pub members: Option<members::MemberAudit<M>>,
    /// The function's partition and account (its topic's).
    pub partition: String,
    pub account: String,
    /// The account's name from `ACCOUNT_NAMES`, if it names it.
    pub name: Option<String>,
    pub sms_limit: SmsLimit,
    pub runbook_url: Option<String>,
}

impl<R: RootPosture, M: MemberRoots> Posture<R, M> {
    /// The member audit's run, after the own check, in what time it left.
    pub async fn audit<P: AlertPublisher, W: WatchdogState>(
        &self,
        publisher: &P,
        state: &W,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<members::AuditOutcome, HandlerError> {
        match &self.members {
            Some(audit) => audit.run(publisher, state, invocation, now).await,
            None => Ok(members::AuditOutcome::Off),
        }
    }

    /// Reads, judges and alerts each finding (once a day with a table). Fails, retryably, only
    /// when an alert could not be published; the other findings are still tried.
    pub async fn check<P: AlertPublisher, W: WatchdogState>(
        &self,
        publisher: &P,
        state: &W,
        payload: &Value,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<PostureOutcome, HandlerError> {
        let budget = Budget::start(invocation, now);
        if budget.left() < POSTURE_MIN_LEFT {
            warn!(
                left_ms = budget.left().as_millis(),
                "posture: skipped, too little time left after the trail check; the next tick checks"
            );
            return Ok(PostureOutcome::Skipped);
        }
        let findings = match tokio::time::timeout(POSTURE_BUDGET, self.read()).await {
            Ok(findings) => findings,
            Err(_) => vec![Finding::CheckFailed {
                errors: vec![format!(
                    "IAM did not answer within {} s",
                    POSTURE_BUDGET.as_secs()
                )],
            }],
        };
        if findings.is_empty() {
            info!(account = %self.account, "posture: the root user's credentials are clean");
            return Ok(PostureOutcome::Clean);
        }
        let event_id = payload
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| is_event_id(id))
            .map(str::to_owned);
        let checked = Checked {
            account: &self.account,
            name: self.name.as_deref(),
            at: now,
        };
        let mut kinds = Vec::new();
        let mut published = Vec::new();
        let mut failed = None;
        for finding in &findings {
            let row = control(finding.kind());
            let kind = row.kind.as_str();
            kinds.push(row.kind);
            let mut notification = render::render(
                &checked,
                finding,
                event_id.clone(),
                self.sms_limit,
                self.runbook_url.as_deref(),
            );
            let mut marks = Repeating {
                marks: DailyMarks {
                    state,
                    owner: &invocation.request_id,
                    now,
                    keys: vec![format!(
                        "posture#{}#{}#{}",
                        self.account,
                        row.code,
                        now.format("%Y-%m-%d")
                    )],
                    marked: Vec::new(),
                },
                repeat: Repeat::Quiet,
            };
            match deliver(publisher, &mut marks, &mut notification, &budget).await {
                Ok(Delivered::Duplicate) => {
                    info!(kind, "posture: finding stands, already alerted today");
                }
                Ok(Delivered::Published {
                    message_id, page, ..
                }) => {
                    warn!(kind, %message_id, texted = page.texted(), "posture: finding alerted");
                    published.push(row.kind);
                }
                Err(err) => {
                    error!(
                        kind,
                        error_type = err.error_type(),
                        retryable = true,
                        "posture: finding not alerted: {err}"
                    );
                    failed.get_or_insert(err);
                }
            }
        }
        match failed {
            Some(err) => Err(err),
            None => Ok(PostureOutcome::Found {
                findings: kinds,
                published,
            }),
        }
    }

    /// The reads, side by side; the credential report only when MFA reads 0.
    async fn read(&self) -> Vec<Finding> {
        let (summary, devices) = tokio::join!(self.reader.summary(), self.reader.virtual_devices());
        let password = match &summary {
            Ok(s) if s.mfa_enabled == Some(0) => {
                Some(self.reader.credential_report().await.map_or_else(
                    |CheckError(e)| judge::Password::Unreadable(e),
                    |r| root_password(&r),
                ))
            }
            _ => None,
        };
        judge(
            &self.partition,
            &self.account,
            &summary,
            &devices,
            password.as_ref(),
        )
    }
}
