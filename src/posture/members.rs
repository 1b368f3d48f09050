//! The organization's root credentials (organization mode, from the management account or the
//! delegated administrator for IAM), on the same tick as the function's own posture. Where
//! centralized root access has root sessions on, a bounded slice of members is audited each
//! run ([`slice`]: the next `max(5, ceil(members / 20))` after the cursor, wrapping, four at a
//! time, none started with less than 6 s left) through [`MemberRoots`]; a finding a member's
//! last audit did not have alerts, one notification per kind listing the members. Where it is
//! off, or the account may not ask, a weekly `posture-report` (Mondays from 08:00 UTC, email and
//! chat) says so with the commands that turn it on.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use tracing::{error, info, warn};

use crate::deliver::{Delivered, deliver};
use crate::domain::limits::{AUDIT_CONCURRENCY, AUDIT_MIN_LEFT};
use crate::domain::{PostureKind, Severity, SmsLimit};
use crate::error::HandlerError;
use crate::invocation::{Budget, Invocation};
use crate::ports::{
    AlertPublisher, CheckError, Member, MemberRoot, MemberRoots, RootAccess, WatchdogState,
};
use crate::posture::render::{render_members, render_report};
use crate::watchdog::{DailyMarks, Repeat, Repeating};

/// What a member's root credentials show, as codes (the marks' and `audit#` items').
pub fn judge(root: &Result<MemberRoot, CheckError>) -> Vec<(PostureKind, Severity)> {
    match root {
        Ok(root) => {
            let mut found = Vec::new();
            if root.access_keys > 0 {
                found.push((PostureKind::MemberRootAccessKeys, Severity::Critical));
            }
            if root.password {
                let severity = if root.mfa_devices == 0 {
                    Severity::Critical
                } else {
                    Severity::High
                };
                found.push((PostureKind::MemberRootPassword, severity));
            }
            if root.certificates > 0 {
                found.push((PostureKind::MemberRootSigningCertificates, Severity::High));
            }
            found
        }
        Err(_) => vec![(PostureKind::CheckFailed, Severity::High)],
    }
}

/// The members this run audits: the next `max(5, ceil(n / 20))` by id after `after`, wrapping
/// to the first, each at most once. Every member is audited at least once in 20 runs. Pure.
pub fn slice<'a>(members: &'a [Member], after: Option<&str>) -> Vec<&'a Member> {
    let take = members.len().div_ceil(20).max(5).min(members.len());
    let start = after.map_or(0, |after| {
        members.partition_point(|m| m.id.as_str() <= after)
    });
    members.iter().cycle().skip(start).take(take).collect()
}

/// What the member audit came to, part of the tick's posture outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "audit", rename_all = "camelCase")]
pub enum AuditOutcome {
    /// Not in organization mode, or `MEMBER_ROOT_AUDIT=false`.
    Off,
    /// Root sessions are off or the account may not ask: nothing audited; `reported` when this
    /// run sent the weekly report.
    NotAudited { why: String, reported: bool },
    /// `audited` members read; `published` the kinds alerted now.
    Audited {
        audited: Vec<String>,
        published: Vec<PostureKind>,
    },
}

/// The member audit: the organization, the function's own account and how alerts look.
#[derive(Debug, Clone)]
pub struct MemberAudit<M> {
    pub roots: M,
    pub home: String,
    pub sms_limit: SmsLimit,
    pub runbook_url: Option<String>,
}

/// The ISO week of `now`, `2026-W48`, for the weekly report's mark.
pub fn iso_week(now: DateTime<Utc>) -> String {
    let week = now.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

impl<M: MemberRoots> MemberAudit<M> {
    /// Runs the audit's slice, or the weekly report when nothing can be audited.
    pub async fn run<P: AlertPublisher, W: WatchdogState>(
        &self,
        publisher: &P,
        state: &W,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<AuditOutcome, HandlerError> {
        let budget = Budget::start(invocation, now);
        let why = match self.roots.root_access().await {
            Ok(RootAccess::Features {
                root_sessions: true,
                ..
            }) => None,
            Ok(RootAccess::Features {
                credentials_management,
                ..
            }) => Some(if credentials_management {
                "root sessions are off (RootSessions is not enabled)".to_owned()
            } else {
                "centralized root access is off".to_owned()
            }),
            Ok(RootAccess::NotAllowed) => Some(
                "this account is neither the management account nor the delegated administrator for IAM"
                    .to_owned(),
            ),
            Ok(RootAccess::Unavailable(code)) => Some(format!("IAM says {code}")),
            Err(CheckError(e)) => Some(format!("the features could not be read: {e}")),
        };
        if let Some(why) = why {
            let reported = self
                .report(publisher, state, invocation, &budget, now, &why)
                .await?;
            return Ok(AuditOutcome::NotAudited { why, reported });
        }
        // The listing may take what the audit of one batch would not need.
        let listing = budget.left().saturating_sub(AUDIT_MIN_LEFT);
        let listed = tokio::time::timeout(listing, self.roots.members())
            .await
            .unwrap_or_else(|_| {
                Err(CheckError(format!(
                    "the organization's accounts were not listed within {} s",
                    listing.as_secs()
                )))
            });
        let (management, members) = match listed {
            Ok(found) => found,
            Err(CheckError(e)) => {
                warn!("member audit: the organization's accounts could not be listed: {e}");
                return Ok(AuditOutcome::NotAudited {
                    why: e,
                    reported: false,
                });
            }
        };
        // AssumeRoot targets members only; the home account is the own posture check's.
        let members: Vec<Member> = members
            .into_iter()
            .filter(|m| m.id.as_str() != management && m.id.as_str() != self.home)
            .collect();
        let after = state.cursor().await.unwrap_or_default();
        let chosen = slice(&members, after.as_deref());
        let mut audited = Vec::new();
        let mut new: Vec<(PostureKind, Severity, &Member)> = Vec::new();
        for batch in chosen.chunks(AUDIT_CONCURRENCY) {
            if budget.left() < AUDIT_MIN_LEFT {
                warn!(
                    left = batch.len(),
                    "member audit: out of time; the next tick goes on"
                );
                break;
            }
            let results = futures_util::future::join_all(
                batch.iter().map(|m| self.roots.audit(m.id.as_str())),
            )
            .await;
            for (member, result) in batch.iter().zip(results) {
                if let Err(CheckError(e)) = &result {
                    warn!(account = %member.id, "member audit failed: {e}");
                }
                let found = judge(&result);
                let codes: Vec<String> = found.iter().map(|(k, _)| k.as_str().to_owned()).collect();
                let before = state.last(member.id.as_str()).await.unwrap_or_default();
                new.extend(
                    found
                        .iter()
                        .filter(|(k, _)| !before.iter().any(|b| b == k.as_str()))
                        .map(|(k, s)| (*k, *s, *member)),
                );
                if let Err(e) = state.remember(member.id.as_str(), &codes, now).await {
                    warn!(account = %member.id, "member audit not remembered: {e}");
                }
                audited.push(member.id.to_string());
            }
        }
        if let Some(last) = audited.last() {
            if let Err(e) = state.move_cursor(last).await {
                warn!("member audit cursor not moved: {e}");
            }
        }
        let mut published = Vec::new();
        let mut failed = None;
        for kind in [
            PostureKind::MemberRootAccessKeys,
            PostureKind::MemberRootPassword,
            PostureKind::MemberRootSigningCertificates,
            PostureKind::CheckFailed,
        ] {
            let of_kind: Vec<(Severity, &Member)> = new
                .iter()
                .filter(|(k, ..)| *k == kind)
                .map(|(_, s, m)| (*s, *m))
                .collect();
            if of_kind.is_empty() {
                continue;
            }
            let mut notification = render_members(
                kind,
                &of_kind,
                now,
                self.sms_limit,
                self.runbook_url.as_deref(),
            );
            let mut marks = Repeating {
                marks: DailyMarks {
                    state,
                    owner: &invocation.request_id,
                    now,
                    keys: of_kind
                        .iter()
                        .map(|(_, m)| {
                            format!(
                                "posture#{}#{}#{}",
                                m.id,
                                kind.as_str().trim_start_matches("posture-"),
                                now.format("%Y-%m-%d")
                            )
                        })
                        .collect(),
                    marked: Vec::new(),
                },
                repeat: Repeat::Quiet,
            };
            match deliver(publisher, &mut marks, &mut notification, &budget).await {
                Ok(Delivered::Published { message_id, .. }) => {
                    warn!(kind = kind.as_str(), %message_id, "member audit: finding alerted");
                    published.push(kind);
                }
                Ok(Delivered::Duplicate) => {}
                Err(err) => {
                    error!(
                        kind = kind.as_str(),
                        "member audit: finding not alerted: {err}"
                    );
                    failed.get_or_insert(err);
                }
            }
        }
        info!(
            audited = audited.len(),
            members = members.len(),
            "member audit: done"
        );
        match failed {
            Some(err) => Err(err),
            None => Ok(AuditOutcome::Audited { audited, published }),
        }
    }

    /// The weekly report, the first tick from Monday 08:00 UTC (claimed by a mark for the
    /// week): `Ok(true)` when this run sent it.
    async fn report<P: AlertPublisher, W: WatchdogState>(
        &self,
        publisher: &P,
        state: &W,
        invocation: &Invocation,
        budget: &Budget,
        now: DateTime<Utc>,
        why: &str,
    ) -> Result<bool, HandlerError> {
        if now.weekday() != chrono::Weekday::Mon || now.hour() < 8 {
            return Ok(false);
        }
        let mut notification = render_report(
            &self.home,
            why,
            now,
            self.sms_limit,
            self.runbook_url.as_deref(),
        );
        let mut marks = Repeating {
            marks: DailyMarks {
                state,
                owner: &invocation.request_id,
                now,
                keys: vec![format!("weekly#posture-report#{}", iso_week(now))],
                marked: Vec::new(),
            },
            repeat: Repeat::Daily,
        };
        Ok(matches!(
            deliver(publisher, &mut marks, &mut notification, budget).await?,
            Delivered::Published { .. }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, AccountName};

    fn members(n: usize) -> Vec<Member> {
        (0..n)
            .map(|i| Member {
                id: AccountId::parse(&format!("{:012}", 100_000 + i)).unwrap(),
                name: AccountName::parse(&format!("m{i}")).ok(),
                joined: None,
            })
            .collect()
    }

    fn ids(chosen: &[&Member]) -> Vec<String> {
        chosen.iter().map(|m| m.id.to_string()).collect()
    }

    /// Five a run at least, a twentieth of the organization at most every 20 runs, wrapping,
    /// each member at most once a run; 30 members in 6 runs.
    #[test]
    fn the_slice_goes_round_the_members() {
        let all = members(30);
        let first = slice(&all, None);
        assert_eq!(ids(&first), ids(&all.iter().take(5).collect::<Vec<_>>()));
        let mut seen = std::collections::BTreeSet::new();
        let mut after: Option<String> = None;
        for _ in 0..6 {
            let chosen = slice(&all, after.as_deref());
            assert_eq!(chosen.len(), 5);
            seen.extend(ids(&chosen));
            after = chosen.last().map(|m| m.id.to_string());
        }
        assert_eq!(seen.len(), 30);
        let wrapped = slice(&all, Some(all[27].id.as_str()));
        assert_eq!(
            ids(&wrapped),
            [28, 29, 0, 1, 2].map(|i| all[i].id.to_string())
        );
        assert_eq!(slice(&members(1000), None).len(), 50);
        assert_eq!(slice(&members(3), None).len(), 3);
        assert!(slice(&[], None).is_empty());
    }

    #[test]
    fn a_password_without_mfa_is_critical_and_with_mfa_high() {
        let root = |password, mfa_devices| MemberRoot {
            password,
            mfa_devices,
            ..Default::default()
        };
        assert_eq!(
            judge(&Ok(root(true, 0))),
            [(PostureKind::MemberRootPassword, Severity::Critical)]
        );
        assert_eq!(
            judge(&Ok(root(true, 1))),
            [(PostureKind::MemberRootPassword, Severity::High)]
        );
        assert!(judge(&Ok(root(false, 1))).is_empty());
        assert_eq!(
            judge(&Ok(MemberRoot {
                access_keys: 1,
                certificates: 2,
                ..Default::default()
            })),
            [
                (PostureKind::MemberRootAccessKeys, Severity::Critical),
                (PostureKind::MemberRootSigningCertificates, Severity::High)
            ]
        );
        assert_eq!(
            judge(&Err(CheckError("AccessDenied".into()))),
            [(PostureKind::CheckFailed, Severity::High)]
        );
    }

    #[test]
    fn the_iso_week_turns_at_new_year() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        assert_eq!(iso_week(at("2026-11-23T08:00:00Z")), "2026-W48");
        // 2027-01-01 is a Friday: still ISO week 53 of 2026.
        assert_eq!(iso_week(at("2027-01-01T08:00:00Z")), "2026-W53");
        assert_eq!(iso_week(at("2027-01-04T08:00:00Z")), "2027-W01");
    }
}
