//! The `coverage-gap` and `coverage-check-failed` alerts: which accounts × regions have gone
//! silent, what that means and what to check, for phones (one SMS segment), inboxes and chat.
//! Pure. Account names come from AWS Organizations and are already made safe ([`AccountName`]).
//!
//! [`AccountName`]: crate::domain::AccountName

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::coverage::judge::{Cell, Gap, State};
use crate::domain::limits::{REPORT_CHAT_CELLS, REPORT_EMAIL_MAX, SILENT_AFTER};
use crate::domain::{NotificationKind, Severity, SmsLimit, UNKNOWN_REGION};
use crate::render::chat::{ChatContent, ChatMetadata, ChatNotification};
use crate::render::email::EmailSubject;
use crate::render::event::{Health, NO_ACCOUNT, health_event};
use crate::render::notification::Notification;
use crate::render::sms::Sms;

/// A silent cell may hide root activity: HIGH, texted by default.
pub(crate) const SEVERITY: Severity = Severity::High;

/// `member-2 (444455556666) x ap-southeast-2`
fn cell_label(cell: &Cell) -> String {
    match &cell.name {
        Some(name) => format!("{name} ({}) x {}", cell.account, cell.region),
        None => format!("{} x {}", cell.account, cell.region),
    }
}

fn last_seen(cell: &Cell) -> String {
    cell.last_seen.map_or_else(
        || "never seen".to_owned(),
        |at| format!("last seen {}", at.format("%Y-%m-%d %H:%M UTC")),
    )
}

fn short(gaps: &[Gap]) -> String {
    let cells: usize = gaps.iter().map(|g| g.blind).sum();
    match gaps {
        [gap] if gap.whole_region() => {
            format!(
                "{} of {} accounts silent in {}",
                gap.blind, gap.of, gap.region
            )
        }
        [gap] if gap.cells.len() == 1 => cell_label(&gap.cells[0]),
        _ => format!("{cells} account-regions silent"),
    }
}

/// The one SNS message for the gaps of a run. `all_silent` when every covered cell but the home
/// stack's own is blind: the home side is then the likely cause.
pub fn render_gaps(
    gaps: &[Gap],
    all_silent: bool,
    at: DateTime<Utc>,
    event_id: Option<String>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let kind = NotificationKind::CoverageGap;
    let what = short(gaps);
    let sms = Sms::fit(
        &format!(
            "{} rootwatch cannot see {what}: no heartbeat for {} h. Root use there may not be alerted. See email",
            SEVERITY.as_str(),
            SILENT_AFTER.as_secs() / 3600
        ),
        sms_limit,
    );
    let subject = EmailSubject::fit(&format!(
        "[rootwatch] {} Coverage gap: {what}",
        SEVERITY.as_str()
    ));
    let mut body = format!(
        "{sev} - rootwatch coverage gap (checked {at})\n\n\
         Each forwarder sends a heartbeat every hour along the path root events take (the \
         member's default bus, the forwarder's rule and role, the home bus). These accounts and \
         regions sent none for more than {hours} hours, so their root activity may not reach \
         rootwatch:\n",
        sev = SEVERITY.as_str(),
        at = at.format("%Y-%m-%d %H:%M:%S UTC"),
        hours = SILENT_AFTER.as_secs() / 3600,
    );
    for gap in gaps {
        if gap.whole_region() {
            body.push_str(&format!(
                "\n{}: {} of {} accounts silent; the first {}:\n",
                gap.region,
                gap.blind,
                gap.of,
                gap.cells.len()
            ));
        }
        for cell in &gap.cells {
            body.push_str(&format!("- {}, {}\n", cell_label(cell), last_seen(cell)));
        }
    }
    if all_silent {
        body.push_str(
            "\nEvery account and region is silent: the home side is the likely cause. Check the \
             home stack's HomeBusHeartbeat rule, the heartbeat table and the function's errors.\n",
        );
    }
    body.push_str(
        "\nWhat to check for each:\n\
         - a stack instance of the forwarder StackSet in that account and region (make \
         org-stackset; the management account needs make org-management: StackSets never deploy \
         there);\n\
         - a service control policy denying events:PutEvents, or the home bus policy no longer \
         admitting the account;\n\
         - the forwarder's role and its rules (rootwatch-heartbeat-*, StackSet-rootwatch-*) still \
         in place.\n\
         \nThis alert repeats once a day while a gap lasts; a new gap alerts at once. A \
         heartbeat that arrives again ends it.\n",
    );
    if let Some(url) = runbook_url {
        body.push_str(&format!("Runbook: {url}\n"));
    }
    let cells: Vec<_> = gaps
        .iter()
        .flat_map(|g| &g.cells)
        .map(|c| {
            json!({"account": c.account, "name": c.name, "region": c.region,
                "lastSeen": c.last_seen.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))})
        })
        .collect();
    let regions: Vec<_> = gaps
        .iter()
        .map(|g| json!({"region": g.region, "blind": g.blind, "of": g.of}))
        .collect();
    let alert_json = json!({
        "kind": kind.as_str(),
        "severity": SEVERITY.as_str(),
        "checkedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "regions": regions,
        "cells": cells,
    });
    notification(kind, subject, sms, body, alert_json, event_id, runbook_url)
}

/// The check could not run: the accounts or the heartbeats could not be read.
pub fn render_failed(
    error: &str,
    at: DateTime<Utc>,
    event_id: Option<String>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let kind = NotificationKind::CoverageCheckFailed;
    let sms = Sms::fit(
        &format!(
            "{} rootwatch could not check which accounts it watches. See email",
            SEVERITY.as_str()
        ),
        sms_limit,
    );
    let subject = EmailSubject::fit(&format!(
        "[rootwatch] {} Coverage check failed",
        SEVERITY.as_str()
    ));
    let mut body = format!(
        "{sev} - rootwatch could not check its coverage (checked {at})\n\n{error}\n\n\
         Until it can, an account or region whose forwarder went silent is not reported.\n\
         Fix: the function's role needs organizations:ListAccounts (from the management account, \
         or a delegated administrator whose delegation policy allows it), and dynamodb:Query and \
         UpdateItem on the heartbeat table (template.yaml grants them). See docs/coverage.md.\n\
         This alert repeats once a day while the check fails.\n",
        sev = SEVERITY.as_str(),
        at = at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if let Some(url) = runbook_url {
        body.push_str(&format!("Runbook: {url}\n"));
    }
    let alert_json = json!({
        "kind": kind.as_str(),
        "severity": SEVERITY.as_str(),
        "checkedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "error": error,
    });
    notification(kind, subject, sms, body, alert_json, event_id, runbook_url)
}

/// The weekly report: LOW, email and chat only. The email lists the blind and pending cells, then
/// one line per account (`111122223333  prod-payments  watched 17/17`), then the heartbeats from
/// cells not covered, cut at [`REPORT_EMAIL_MAX`]; the chat message gives the counts and the
/// first [`REPORT_CHAT_CELLS`] blind cells.
pub fn render_report(
    cells: &[Cell],
    regions: usize,
    unexpected: usize,
    at: DateTime<Utc>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let kind = NotificationKind::CoverageReport;
    let count = |state| cells.iter().filter(|c| c.state == state).count();
    let (blind, pending) = (count(State::Blind), count(State::Pending));
    let watched = count(State::Watched) + count(State::Home);
    let accounts = cells.len() / regions.max(1);
    let summary = format!(
        "{watched} of {} account-regions watched, {blind} blind, {pending} pending ({accounts} \
         accounts x {regions} regions)",
        cells.len()
    );
    let subject = EmailSubject::fit(&format!("[rootwatch] LOW Weekly coverage: {summary}"));
    let sms = Sms::fit(
        &format!("LOW rootwatch weekly coverage: {summary}"),
        sms_limit,
    );
    let mut body = format!(
        "LOW - rootwatch weekly coverage report ({at})\n\n{summary}.\n",
        at = at.format("%Y-%m-%d %H:%M UTC"),
    );
    for (title, state) in [
        ("Blind", State::Blind),
        ("Pending (new, within two hours)", State::Pending),
    ] {
        let listed: Vec<&Cell> = cells.iter().filter(|c| c.state == state).collect();
        if !listed.is_empty() {
            body.push_str(&format!("\n{title}:\n"));
            for cell in listed {
                body.push_str(&format!("- {}, {}\n", cell_label(cell), last_seen(cell)));
            }
        }
    }
    body.push_str("\nEvery account:\n");
    for account in cells.chunk_by(|a, b| a.account == b.account) {
        let first = &account[0];
        let watched = account
            .iter()
            .filter(|c| matches!(c.state, State::Watched | State::Home))
            .count();
        body.push_str(&format!(
            "{}  {}  watched {watched}/{}\n",
            first.account,
            first.name.as_ref().map_or("-", |n| n.as_str()),
            account.len()
        ));
    }
    if unexpected > 0 {
        body.push_str(&format!(
            "\n{unexpected} recent heartbeat(s) came from account-regions not covered: a region \
             missing from CoverageRegions, or an account that left.\n"
        ));
    }
    if body.len() > REPORT_EMAIL_MAX {
        let mut end = REPORT_EMAIL_MAX;
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        body.truncate(end);
        body.push_str("\n... (cut: the report is longer than an SNS message holds)\n");
    }
    body.push_str(
        "\nSent every Monday from 08:00 UTC; coverage-gap alerts report gaps as they happen.\n",
    );
    let blind_cells: Vec<String> = cells
        .iter()
        .filter(|c| c.state == State::Blind)
        .map(cell_label)
        .collect();
    let mut chat_text = format!("{summary}.");
    if !blind_cells.is_empty() {
        chat_text.push_str("\nBlind:\n");
        for label in blind_cells.iter().take(REPORT_CHAT_CELLS) {
            chat_text.push_str(&format!("- {label}\n"));
        }
        if blind_cells.len() > REPORT_CHAT_CELLS {
            chat_text.push_str(&format!(
                "... and {} more (see the email)\n",
                blind_cells.len() - REPORT_CHAT_CELLS
            ));
        }
    }
    let alert_json = json!({
        "kind": kind.as_str(),
        "severity": Severity::Low.as_str(),
        "checkedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "cells": cells.len(), "watched": watched, "blind": blind, "pending": pending,
        "unexpected": unexpected,
    });
    let mut report = notification(kind, subject, sms, body, alert_json, None, runbook_url);
    report.severity = Severity::Low;
    report.chat_json = chat(kind, Severity::Low, &report.subject, chat_text, runbook_url);
    report.page = false;
    report
}

fn chat(
    kind: NotificationKind,
    severity: Severity,
    subject: &EmailSubject,
    description: String,
    runbook_url: Option<&str>,
) -> String {
    ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title: subject.as_str().to_owned(),
            description,
            next_steps: runbook_url
                .map(|url| vec![format!("Follow the runbook: {url}")])
                .unwrap_or_default(),
            keywords: vec![severity.as_str().to_owned(), kind.as_str().to_owned()],
        },
        ChatMetadata {
            thread_id: format!("rootwatch#{}", kind.as_str()),
            summary: subject.as_str().to_owned(),
            event_type: kind.as_str().to_owned(),
            related_resources: Vec::new(),
            additional_context: Default::default(),
        },
        None,
    )
    .to_json()
}

fn notification(
    kind: NotificationKind,
    subject: EmailSubject,
    sms: Sms,
    email_body: String,
    alert_json: serde_json::Value,
    event_id: Option<String>,
    runbook_url: Option<&str>,
) -> Notification {
    let chat_json = chat(kind, SEVERITY, &subject, email_body.clone(), runbook_url);
    let event = health_event(&Health {
        kind,
        severity: SEVERITY,
        account: &NO_ACCOUNT,
        region: UNKNOWN_REGION,
        time: None,
        title: subject.as_str(),
        session: &format!("organization#{}", kind.as_str()),
        event_id: event_id.as_deref(),
    });
    Notification {
        event_id,
        severity: SEVERITY,
        kind,
        subject,
        sms,
        email_body,
        alert_json: alert_json.to_string(),
        chat_json,
        page: true,
        event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::judge::State;
    use crate::domain::{AccountId, AccountName};
    use crate::render::email::is_valid_subject;

    fn gap() -> Gap {
        Gap {
            region: "ap-southeast-2".into(),
            cells: vec![Cell {
                account: AccountId::parse("444455556666").unwrap(),
                name: AccountName::from_untrusted("member-2"),
                region: "ap-southeast-2".into(),
                state: State::Blind,
                last_seen: None,
            }],
            blind: 1,
            of: 4,
        }
    }

    fn cells(accounts: u64, blind: impl Fn(u64) -> bool) -> Vec<Cell> {
        (0..accounts)
            .flat_map(|i| {
                let blind = &blind;
                (0..17).map(move |r| Cell {
                    account: AccountId::parse(&format!("{:012}", 100_000_000_000 + i)).unwrap(),
                    name: AccountName::from_untrusted(&format!("member-{i}")),
                    region: format!("xx-region-{r}"),
                    state: if blind(r) {
                        State::Blind
                    } else {
                        State::Watched
                    },
                    last_seen: None,
                })
            })
            .collect()
    }

    /// 1,000 accounts × 17 regions, one region blind, fit in one message whole; a report past
    /// [`REPORT_EMAIL_MAX`] is cut and says so, and SNS's 256 KB still hold every protocol.
    #[test]
    fn the_weekly_report_fits_in_one_message() {
        let at: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().unwrap();
        let n = render_report(
            &cells(1_000, |r| r == 3),
            17,
            0,
            at,
            SmsLimit::WHOLE_SEGMENT,
            None,
        );
        assert!(
            n.email_body.len() <= REPORT_EMAIL_MAX,
            "{}",
            n.email_body.len()
        );
        assert!(!n.email_body.contains("(cut: "));
        assert!(n.chat_json.contains("and 970 more"));
        assert!(!n.page);
        assert_eq!(n.severity, Severity::Low);
        assert!(
            n.subject
                .as_str()
                .contains("16000 of 17000 account-regions watched")
        );
        let huge = render_report(
            &cells(4_000, |_| true),
            17,
            0,
            at,
            SmsLimit::WHOLE_SEGMENT,
            None,
        );
        assert!(huge.email_body.contains("(cut: "));
        assert!(huge.email_body.len() < REPORT_EMAIL_MAX + 200);
        let total = huge.email_body.len() + huge.chat_json.len() + huge.alert_json.len() + 200;
        assert!(total < 256 * 1024, "{total}");
    }

    #[test]
    fn one_gap_names_the_account_and_region_everywhere() {
        let at: DateTime<Utc> = "2026-11-21T03:00:00Z".parse().unwrap();
        let n = render_gaps(&[gap()], false, at, None, SmsLimit::WHOLE_SEGMENT, None);
        let label = "member-2 (444455556666) x ap-southeast-2";
        assert!(n.sms.as_str().contains(label), "{}", n.sms);
        assert!(n.subject.as_str().contains(label));
        assert!(is_valid_subject(n.subject.as_str()));
        assert!(n.email_body.contains(&format!("- {label}, never seen")));
        assert_eq!(n.kind.as_str(), "coverage-gap");
        assert_eq!(n.severity, Severity::High);
    }
}
