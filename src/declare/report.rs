//! The root-use report: after a window closes (and [`REPORT_GRACE`] for late CloudTrail
//! deliveries), the scheduled tick sends one email and chat message listing every root alert
//! matched to it ([`Reports::sweep`]), exactly once: its claim is `report#<account>#<id>`.

use std::fmt::Write as _;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::json;
use tracing::{info, warn};

use crate::config::Config;
use crate::declare::render::{Notice, chat_facts, notice, write_facts};
use crate::deliver::{AlertGuard, Delivered, deliver, notice_claim};
use crate::domain::limits::{REPORT_GRACE, REPORTS_PER_TICK};
use crate::domain::{Account, NotificationKind, Report, Severity};
use crate::error::HandlerError;
use crate::invocation::{Budget, Invocation};
use crate::ports::{AlertPublisher, AlertState, Declarations, EventKey};
use crate::render::notification::Notification;
use crate::render::time::to_the_second;

/// Lines of uses chat shows; the email has them all.
const CHAT_LINES: usize = 20;

/// What a sweep did, part of the tick's response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportsOutcome {
    /// The reports sent (`<account>#<id>`), and any found already sent.
    pub sent: Vec<String>,
    /// Reports still waiting for their window (and its grace) to pass, or for the next tick.
    pub waiting: usize,
}

/// Sends due reports through the function's publisher and state table.
pub struct Reports<'a, P, S> {
    pub config: &'a Config,
    pub publisher: &'a P,
    pub state: &'a S,
}

impl<P: AlertPublisher, S: AlertState + Declarations> Reports<'_, P, S> {
    /// Sends the reports due at `now`, up to [`REPORTS_PER_TICK`] while time allows. A report
    /// that could not be published stays listed for the next tick, and the tick fails retryably.
    pub async fn sweep(
        &self,
        invocation: &Invocation,
        now: DateTime<Utc>,
    ) -> Result<ReportsOutcome, HandlerError> {
        let budget = Budget::start(invocation, now);
        let due = self.state.due().await?;
        let mut outcome = ReportsOutcome::default();
        let mut failure = None;
        for entry in &due {
            if outcome.sent.len() >= REPORTS_PER_TICK || !budget.can_publish() {
                outcome.waiting += 1;
                continue;
            }
            let Some(report) = self.state.report(entry).await? else {
                warn!(
                    stage = "report",
                    entry, "a listed report has no record; taken off the list"
                );
                self.state.reported(entry).await?;
                continue;
            };
            let grace = TimeDelta::from_std(REPORT_GRACE).unwrap_or_default();
            if report.declaration.closes() + grace > now {
                outcome.waiting += 1;
                continue;
            }
            match self.send(entry, &report, invocation, &budget).await {
                Ok(()) => {
                    self.state.reported(entry).await?;
                    outcome.sent.push(entry.clone());
                }
                Err(err) => {
                    outcome.waiting += 1;
                    failure.get_or_insert(err);
                }
            }
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(outcome),
        }
    }

    async fn send(
        &self,
        entry: &str,
        report: &Report,
        invocation: &Invocation,
        budget: &Budget,
    ) -> Result<(), HandlerError> {
        let id = &report.declaration.account;
        let account = Account {
            name: self.config.account_names.choose(Some(id), None),
            id: Some(id.clone()),
        };
        let mut notification = render(&account, report);
        let key = EventKey::notice(&["report", id.as_str(), &report.declaration.id]);
        let mut guard = AlertGuard {
            state: self.state,
            claim: notice_claim(key, invocation, self.config, budget.now()),
            account: &account,
            sms_limit: self.config.sms_limit,
        };
        match deliver(self.publisher, &mut guard, &mut notification, budget).await? {
            Delivered::Published { message_id, .. } => {
                info!(stage = "report", entry, %message_id, "root-use report sent");
            }
            Delivered::Duplicate => info!(stage = "report", entry, "root-use report already sent"),
        }
        Ok(())
    }
}

/// How the window closed.
fn how_it_closed(report: &Report) -> String {
    let declaration = &report.declaration;
    let closes = declaration.closes();
    if declaration.superseded_at == Some(closes) && closes < declaration.end {
        format!(
            "replaced by a later declaration at {}",
            to_the_second(closes)
        )
    } else if declaration.ended_at == Some(closes) && closes < declaration.end {
        format!("ended early at {}", to_the_second(closes))
    } else {
        format!("ran out at {}", to_the_second(closes))
    }
}

/// `09:03:11  signin:ConsoleLogin  192.0.2.10  succeeded  HIGH  declared`
fn lines(report: &Report) -> Vec<String> {
    report
        .uses
        .iter()
        .map(|u| {
            format!(
                "{}  {}  {}  {}  {}  {}",
                u.time.format("%H:%M:%S"),
                u.call,
                u.ip,
                u.outcome,
                u.severity,
                if u.declared {
                    "declared"
                } else if outside(report, &u.ip) {
                    "NOT declared (outside the source range)"
                } else {
                    // Inside the range and not declared: another account's root user.
                    "NOT declared"
                }
            )
        })
        .collect()
}

/// Whether `ip` (as noted: an IP, or AWS's name for one) is outside the declaration's source
/// range; a name for an IP is not inside it.
fn outside(report: &Report, ip: &str) -> bool {
    report.declaration.source.is_some_and(|source| {
        !ip.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| source.contains(ip))
    })
}

/// The report as one notice: email and chat, never texted. Its severity is the highest noted.
pub fn render(account: &Account, report: &Report) -> Notification {
    let declaration = &report.declaration;
    let severity = report
        .uses
        .iter()
        .filter_map(|u| Severity::parse(&u.severity))
        .max()
        .unwrap_or(Severity::Low);
    let count = report.uses.len() + report.dropped as usize;
    let events = if count == 1 { "event" } else { "events" };
    let subject = format!(
        "[rootwatch] Root-use report: {}, {count}{} {events}, declared {}-{}",
        account.label(),
        if report.dropped > 0 { "+" } else { "" },
        declaration.start.format("%H:%M"),
        declaration.closes().format("%H:%M UTC"),
    );
    let mut body = String::with_capacity(1024 + 96 * report.uses.len());
    let _ = write!(
        body,
        "Root-use report for {}: the declared window {}.\n\n",
        account.label(),
        how_it_closed(report)
    );
    write_facts(&mut body, declaration);
    let _ = writeln!(body, "Declaration id: {}\n", declaration.id);
    let lines = lines(report);
    if lines.is_empty() {
        body.push_str("No root use was seen in the window.\n");
    } else {
        let _ = writeln!(
            body,
            "Root alerts matched to the window (UTC; event, source, outcome, severity):"
        );
        for line in &lines {
            let _ = writeln!(body, "{line}");
        }
    }
    if report.dropped > 0 {
        let _ = writeln!(body, "and at least {} more (not kept)", report.dropped);
    }
    body.push_str(
        "\nEach use was also alerted on its own. Alerts arriving after this report are alerted \
         as usual, not added.\n-- rootwatch",
    );
    let mut chat_text = chat_facts(declaration);
    chat_text.push_str("\n*Root use:*\n");
    for line in lines.iter().take(CHAT_LINES) {
        let _ = writeln!(chat_text, "`{line}`");
    }
    if lines.len() > CHAT_LINES || report.dropped > 0 {
        chat_text.push_str("… see the email for all\n");
    }
    let kind = NotificationKind::RootUseReport;
    let account_id = account.id_or_unknown().to_owned();
    let json = json!({
        "kind": kind.as_str(),
        "severity": severity.as_str(),
        "account": account_id,
        "declaration": {
            "id": declaration.id,
            "by": declaration.by,
            "reason": declaration.reason,
            "start": declaration.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "until": declaration.closes().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
        "uses": report.uses.iter().map(|u| json!({
            "time": u.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "call": u.call, "ip": u.ip, "outcome": u.outcome, "severity": u.severity,
            "kind": u.kind, "declared": u.declared,
        })).collect::<Vec<_>>(),
        "dropped": report.dropped,
    });
    notice(
        account,
        Notice {
            kind,
            severity,
            subject: &subject,
            body,
            json,
            chat_facts: chat_text,
            next_steps: Vec::new(),
            id: &declaration.id,
            sms: format!("root-use report for acct {account_id}. See email"),
            sms_limit: crate::domain::SmsLimit::WHOLE_SEGMENT,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, Declaration, NotedUse};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn report(uses: usize, dropped: u32) -> Report {
        Report {
            declaration: Declaration {
                ended_at: Some(at("2026-11-21T09:42:00Z")),
                ..Declaration::example()
            },
            uses: (0..uses)
                .map(|i| NotedUse {
                    time: at("2026-11-21T09:03:11Z") + TimeDelta::seconds(i as i64),
                    call: "signin:ConsoleLogin".into(),
                    ip: "192.0.2.10".into(),
                    outcome: "succeeded".into(),
                    severity: if i == 1 { "CRITICAL" } else { "HIGH" }.into(),
                    kind: "sign-in-with-mfa".into(),
                    declared: true,
                })
                .collect(),
            dropped,
        }
    }

    /// Another account's root user is not declared even from inside the source range: the
    /// report does not say it was outside.
    #[test]
    fn an_undeclared_use_is_said_outside_the_range_only_when_it_was() {
        let mut report = report(2, 0);
        report.declaration.source = crate::domain::SourceCidr::parse("192.0.2.0/24").ok();
        report.uses[0].declared = false;
        report.uses[1].declared = false;
        report.uses[1].ip = "203.0.113.9".into();
        let lines = lines(&report);
        assert!(
            lines[0].ends_with("192.0.2.10  succeeded  HIGH  NOT declared"),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with("NOT declared (outside the source range)"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn the_report_lists_each_use_and_says_what_was_dropped() {
        let account = Account {
            id: AccountId::parse("111122223333"),
            name: None,
        };
        let n = render(&account, &report(3, 0));
        assert_eq!(
            n.subject.as_str(),
            "[rootwatch] Root-use report: 111122223333, 3 events, declared 09:00-09:42 UTC"
        );
        assert!(
            n.email_body
                .contains("09:03:11  signin:ConsoleLogin  192.0.2.10  succeeded  HIGH  declared"),
            "{}",
            n.email_body
        );
        assert!(
            n.email_body
                .contains("ended early at 2026-11-21 09:42:00 UTC")
        );
        assert_eq!(n.severity, Severity::Critical);
        assert!(!n.page);
        let many = render(&account, &report(200, 1));
        assert_eq!(many.email_body.matches("signin:ConsoleLogin").count(), 200);
        assert!(many.email_body.contains("and at least 1 more (not kept)"));
        assert!(many.chat_json.contains("see the email for all"));
        assert_eq!(render(&account, &report(0, 0)).severity, Severity::Low);
    }

    #[test]
    fn the_report_says_how_its_window_closed() {
        let mut replaced = report(1, 0);
        replaced.declaration.ended_at = None;
        replaced.declaration.superseded_at = Some(at("2026-11-21T09:30:00Z"));
        assert!(how_it_closed(&replaced).starts_with("replaced by a later declaration at"));
        let mut ran_out = replaced;
        ran_out.declaration.superseded_at = None;
        assert_eq!(
            how_it_closed(&ran_out),
            "ran out at 2026-11-21 10:00:00 UTC"
        );
    }
}
