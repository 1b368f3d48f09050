//! The reviewed wording of declared root use (snapshots in `tests/snapshots/declared__*.snap`):
//! the three notices, and a declared alert as phones, inboxes and chat get it.

use chrono::{DateTime, Utc};
use rootwatch::declare::decide::Change;
use rootwatch::declare::render::{Reporting, render_announcement, render_invalid};
use rootwatch::domain::{
    Account, AccountId, AccountName, Declaration, NotedUse, Report, SourceCidr,
};
use rootwatch::handler::{Decision, WindowLookup, enrich_and_render, parse_and_classify};
use rootwatch::ports::Window;
use rootwatch::render::notification::Notification;
use serde_json::Value;

use super::{ACCOUNT, event};
use crate::support::{OFFLINE_TOPIC, config};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn account() -> Account {
    Account {
        id: AccountId::parse(ACCOUNT),
        name: AccountName::parse("prod-payments").ok(),
    }
}

fn declaration() -> Declaration {
    Declaration {
        id: "0f3b2c4d1a2b4c3d8e9fa1b2c3d4e5f6".into(),
        account: AccountId::parse(ACCOUNT).unwrap(),
        start: at("2026-11-21T09:30:00Z"),
        end: at("2026-11-21T10:30:00Z"),
        reason: "Close support case 42".into(),
        by: "alice".into(),
        caller_arn: Some("arn:aws:sts::111122223333:assumed-role/BreakGlass/alice".into()),
        source: Some(SourceCidr::parse("192.0.2.0/24").unwrap()),
        ended_at: None,
        superseded_at: None,
    }
}

fn text(notification: &Notification) -> String {
    format!(
        "kind: {}\nseverity: {}\npage: {}\n\n--- sms ---\n{}\n\n--- email subject ---\n{}\n\n\
         --- email body ---\n{}\n\n--- chat (https, AWS Chatbot) ---\n{}\n",
        notification.kind.as_str(),
        notification.severity.as_str(),
        notification.page,
        notification.sms,
        notification.subject.as_str(),
        notification.email_body,
        serde_json::from_str::<Value>(&notification.chat_json)
            .and_then(|chat| serde_json::to_string_pretty(&chat))
            .unwrap_or_else(|e| format!("not JSON: {e}")),
    )
}

fn assert_reviewed(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
    }, {
        insta::assert_snapshot!(format!("declared__{name}"), text);
    });
}

#[test]
fn the_notices_read_as_reviewed() {
    let window = Window {
        declaration: declaration(),
        digest: "67a29b23f2df9970".into(),
    };
    let limit = config(OFFLINE_TOPIC).sms_limit;
    let announced = render_announcement(
        &account(),
        &window,
        &Change::New { supersedes: None },
        false,
        Reporting::Follows,
        limit,
    );
    assert_reviewed("announcement", &text(&announced));
    let invalid = render_invalid(
        &account(),
        "the window is 600 minutes long; at most 480 may be declared at once",
        Some(&window),
        limit,
    );
    assert_reviewed("invalid", &text(&invalid));
    let mut ended = declaration();
    ended.ended_at = Some(at("2026-11-21T10:12:00Z"));
    let uses = [
        (
            "2026-11-21T09:33:11Z",
            "signin:ConsoleLogin",
            "192.0.2.10",
            "HIGH",
        ),
        (
            "2026-11-21T09:41:02Z",
            "iam:CreateUser",
            "192.0.2.10",
            "HIGH",
        ),
        (
            "2026-11-21T09:52:40Z",
            "cloudtrail:StopLogging",
            "203.0.113.9",
            "CRITICAL",
        ),
    ];
    let source = ended.source.unwrap();
    let report = Report {
        declaration: ended,
        uses: uses
            .iter()
            .map(|(time, call, ip, severity)| NotedUse {
                time: at(time),
                call: (*call).into(),
                ip: (*ip).into(),
                outcome: "succeeded".into(),
                severity: (*severity).into(),
                kind: "api-call".into(),
                // As the handler notes it: declared when from inside the declared range.
                declared: source.contains(ip.parse().unwrap()),
            })
            .collect(),
        dropped: 0,
    };
    assert_eq!(
        report.uses.iter().filter(|u| u.declared).count(),
        2,
        "the fixture shows uses from inside and outside the range"
    );
    assert_reviewed(
        "report",
        &text(&rootwatch::declare::report::render(&account(), &report)),
    );
}

fn declared_alert(name: &str) -> Notification {
    let time = at("2026-11-21T09:40:00Z");
    let mut payload = event(name, ACCOUNT, 1, time);
    payload["detail"]["sourceIPAddress"] = "192.0.2.10".into();
    let classified = parse_and_classify(&payload).unwrap();
    let window = WindowLookup::Found(Some(declaration()));
    match enrich_and_render(classified, &config(OFFLINE_TOPIC), None, &window) {
        Decision::Alert { notification, .. } => *notification,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_declared_alert_reads_as_reviewed() {
    let quiet = declared_alert("root-console-sign-in-with-mfa");
    assert!(!quiet.page);
    assert_reviewed("sign-in-with-mfa", &text(&quiet));
    let critical = declared_alert("root-cloudtrail-logging-stopped");
    assert!(critical.page);
    assert_reviewed("cloudtrail-logging-stopped", &text(&critical));
}

/// A declarer's text cannot pass for rootwatch's words: wherever the email shows it, it ends its
/// line, after what rootwatch says (its end time, whether it texts).
#[test]
fn a_declarers_text_ends_its_line_in_every_email() {
    let faked = "x (declared) until 2026-11-21 09:45:00 UTC; texted: CRITICAL.";
    let mut forged = declaration();
    forged.by = faked.into();
    forged.reason = faked.into();
    let window = Window {
        declaration: forged.clone(),
        digest: "0123456789abcdef".into(),
    };
    let limit = config(OFFLINE_TOPIC).sms_limit;
    let mut emails = vec![
        render_announcement(
            &account(),
            &window,
            &Change::Changed(Box::new(forged.clone())),
            false,
            Reporting::Follows,
            limit,
        )
        .email_body,
        render_invalid(&account(), "a problem", Some(&window), limit).email_body,
        rootwatch::declare::report::render(
            &account(),
            &Report {
                declaration: forged.clone(),
                uses: Vec::new(),
                dropped: 0,
            },
        )
        .email_body,
    ];
    for ip in ["192.0.2.10", "203.0.113.9"] {
        let mut payload = event(
            "root-console-sign-in-with-mfa",
            ACCOUNT,
            1,
            at("2026-11-21T09:40:00Z"),
        );
        payload["detail"]["sourceIPAddress"] = ip.into();
        let window = WindowLookup::Found(Some(forged.clone()));
        match enrich_and_render(
            parse_and_classify(&payload).unwrap(),
            &config(OFFLINE_TOPIC),
            None,
            &window,
        ) {
            Decision::Alert { notification, .. } => emails.push(notification.email_body),
            other => panic!("{other:?}"),
        }
    }
    for email in &emails {
        let shown: Vec<_> = email.lines().filter(|l| l.contains(faked)).collect();
        assert!(!shown.is_empty(), "{email}");
        for line in shown {
            assert!(line.ends_with(faked), "{line}");
        }
    }
}
