//! The `root-use-declared` notice: a declaration announced, changed or refused, for inboxes and
//! chat (its SMS is rendered but never sent: the notice does not page). Pure.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::declare::decide::Change;
use crate::detect::rules::RULES;
use crate::domain::{Account, Declaration, NotificationKind, Severity, SmsLimit, UNKNOWN_REGION};
use crate::ports::Window;
use crate::render::chat::{ChatContent, ChatMetadata, ChatNotification, chat_code, chat_untrusted};
use crate::render::email::EmailSubject;
use crate::render::event::{Health, health_event};
use crate::render::notification::Notification;
use crate::render::sms::Sms;
use crate::render::time::to_the_second;

/// A declaration quiets the account's texts: everyone should read of it, at once, in email.
pub(crate) const SEVERITY: Severity = Severity::High;

/// The rules whose alerts text whatever is declared: every CRITICAL row of the rule table.
pub fn still_texted() -> Vec<&'static str> {
    RULES
        .iter()
        .filter(|rule| rule.severity == Severity::Critical)
        .map(|rule| rule.id)
        .collect()
}

/// `10:30 UTC`
fn clock(time: DateTime<Utc>) -> String {
    time.format("%H:%M UTC").to_string()
}

fn minutes(declaration: &Declaration) -> i64 {
    (declaration.closes() - declaration.start).num_minutes()
}

/// The declaration's facts, one a line, as the email shows them. The declarer's text comes last
/// on its line, after rootwatch's words, so it cannot pass for them.
pub(crate) fn write_facts(body: &mut String, declaration: &Declaration) {
    let _ = writeln!(body, "By          (as stated) {}", declaration.by);
    let _ = writeln!(
        body,
        "Written by  (as the declaring tool reported) {}",
        declaration.caller_arn.as_deref().unwrap_or("not reported")
    );
    let _ = writeln!(
        body,
        "Window      {} to {} ({} minutes)",
        to_the_second(declaration.start),
        to_the_second(declaration.closes()),
        minutes(declaration)
    );
    match &declaration.source {
        Some(range) => {
            let _ = writeln!(body, "Source      {range}");
        }
        None => body.push_str("Source      any\n"),
    }
    let _ = writeln!(body, "Reason      (declared) {}", declaration.reason);
}

const WHO_WROTE_IT: &str = "Declarations name their writer only as stated. The state table's \
     CloudTrail data events record who wrote every item (docs/declaring.md). If nobody you know \
     declared this, treat it as an incident: whoever wrote it can quiet this account's root \
     alerts below CRITICAL.";

/// Whether a window's report will follow, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reporting {
    /// The index of waiting reports had room.
    Follows,
    /// The index of waiting reports is full.
    Full,
    /// The index of waiting reports could not be read.
    Unread,
}

/// The notice of a declaration announced: new, changed, or already over when it was read.
pub fn render_announcement(
    account: &Account,
    window: &Window,
    change: &Change,
    over: bool,
    reporting: Reporting,
    sms_limit: SmsLimit,
) -> Notification {
    let report = !over && reporting == Reporting::Follows;
    let declaration = &window.declaration;
    let label = account.label().to_string();
    let what = match change {
        Change::New { .. } => "",
        Change::Changed(_) => " (CHANGED)",
    };
    let subject = if over {
        format!("[rootwatch] Root use declared for {label}, already over")
    } else {
        format!(
            "[rootwatch] Root use DECLARED{what} for {label} until {}",
            clock(declaration.closes())
        )
    };
    let mut body = String::with_capacity(2048);
    if over {
        let _ = write!(
            body,
            "A declaration of root use for {label} was read after its window had passed: it has \
             no effect.\n\n"
        );
    } else {
        let _ = write!(
            body,
            "Root use of {label} is DECLARED{what} until {}.\n\n",
            to_the_second(declaration.closes())
        );
    }
    write_facts(&mut body, declaration);
    match change {
        Change::Changed(previous) => {
            let _ = writeln!(
                body,
                "Was         until {}, from {}\nWas by      (as stated) {}\nWas reason  (declared) {}",
                to_the_second(previous.closes()),
                previous
                    .source
                    .map_or_else(|| "any".to_owned(), |s| s.to_string()),
                previous.by,
                previous.reason
            );
        }
        Change::New {
            supersedes: Some(id),
        } => {
            let _ = writeln!(body, "Replaces    declaration {id}");
        }
        Change::New { supersedes: None } => {}
    }
    if !over {
        let _ = write!(
            body,
            "\nUntil then, this account's root alerts below CRITICAL from {} go to email and chat \
             only, marked DECLARED. These still text: {}.\n",
            declaration
                .source
                .map_or_else(|| "anywhere".to_owned(), |s| s.to_string()),
            still_texted().join(", ")
        );
        body.push_str(match reporting {
            Reporting::Follows => {
                "After the window closes, a root-use report lists every root alert matched to it.\n"
            }
            Reporting::Full => "No report will follow: too many reports are waiting to be sent.\n",
            Reporting::Unread => {
                "No report will follow: the list of waiting reports could not be read.\n"
            }
        });
        let _ = writeln!(
            body,
            "End it early: make end-declaration ACCOUNT={}",
            declaration.account
        );
    }
    let _ = write!(
        body,
        "\n{WHO_WROTE_IT}\nDeclaration id: {}\n-- rootwatch",
        declaration.id
    );
    let json = json!({
        "kind": NotificationKind::RootUseDeclared.as_str(),
        "severity": SEVERITY.as_str(),
        "account": declaration.account.as_str(),
        "change": match change { Change::New { .. } => "new", Change::Changed(_) => "changed" },
        "over": over,
        "report": report,
        "declaration": declaration_json(declaration),
    });
    let chat_facts = chat_facts(declaration);
    let next = format!(
        "End it early: make end-declaration ACCOUNT={}",
        declaration.account
    );
    notice(
        account,
        Notice {
            kind: NotificationKind::RootUseDeclared,
            severity: SEVERITY,
            subject: &subject,
            body,
            json,
            chat_facts,
            next_steps: vec![next],
            id: &declaration.id,
            sms: format!(
                "HIGH root use declared for acct {}. See email",
                account.id_or_unknown()
            ),
            sms_limit,
        },
    )
}

/// The notice of a declaration refused: it declares nothing, and ends the window it replaced.
pub fn render_invalid(
    account: &Account,
    problem: &str,
    ends: Option<&Window>,
    sms_limit: SmsLimit,
) -> Notification {
    let label = account.label().to_string();
    let subject = format!("[rootwatch] INVALID root-use declaration for {label}");
    let mut body =
        format!("An INVALID declaration of root use for {label} was written: {problem}.\n");
    match ends {
        // Replacing the item took the standing declaration's place: it ends, never lingers.
        Some(window) => {
            let _ = writeln!(
                body,
                "It declares nothing, and it ends declaration {}, which was in effect: this \
                 account's root alerts text as usual from now. That one was by (as stated) {}",
                window.declaration.id, window.declaration.by
            );
        }
        None => body.push_str("It declares nothing.\n"),
    }
    let _ = write!(
        body,
        "Declare again with: make declare ACCOUNT={} MINUTES=60 REASON=\"...\" BY=<you>\n\n{WHO_WROTE_IT}\n-- rootwatch",
        account.id_or_unknown()
    );
    let json = json!({
        "kind": NotificationKind::RootUseDeclared.as_str(),
        "severity": SEVERITY.as_str(),
        "account": account.id_or_unknown(),
        "change": "invalid",
        "problem": problem,
        "ended": ends.map(|w| w.declaration.id.clone()),
    });
    // The problem is rootwatch's sentence; what it quotes of the item is quoted exactly.
    let facts = format!("*Problem:* {}", chat_code(problem));
    let next = format!(
        "Declare again: make declare ACCOUNT={} MINUTES=60 REASON=\"...\" BY=<you>",
        account.id_or_unknown()
    );
    notice(
        account,
        Notice {
            kind: NotificationKind::RootUseDeclared,
            severity: SEVERITY,
            subject: &subject,
            body,
            json,
            chat_facts: facts,
            next_steps: vec![next],
            id: "invalid",
            sms: format!(
                "HIGH root use declared for acct {}. See email",
                account.id_or_unknown()
            ),
            sms_limit,
        },
    )
}

fn declaration_json(declaration: &Declaration) -> serde_json::Value {
    json!({
        "id": declaration.id,
        "by": declaration.by,
        "callerArn": declaration.caller_arn,
        "reason": declaration.reason,
        "start": declaration.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "until": declaration.closes().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "source": declaration.source.map(|s| s.to_string()),
    })
}

/// The declaration for chat: its self-stated text inert in code spans.
pub(crate) fn chat_facts(declaration: &Declaration) -> String {
    format!(
        "*By:* {} (as stated)\n*Written by:* {}\n*Window:* {} to {}\n*Source:* {}\n*Reason:* {}",
        chat_untrusted(&declaration.by),
        chat_untrusted(declaration.caller_arn.as_deref().unwrap_or("not reported")),
        to_the_second(declaration.start),
        to_the_second(declaration.closes()),
        declaration
            .source
            .map_or_else(|| "any".to_owned(), |s| s.to_string()),
        chat_untrusted(&declaration.reason),
    )
}

/// What one notice of declared root use says, beyond its email: the chat's facts and next
/// steps, the declaration it is about (its chat thread), and its text (never sent: `page` is
/// `false`, but every [`Notification`] carries a valid one).
pub(crate) struct Notice<'a> {
    pub kind: NotificationKind,
    pub severity: Severity,
    pub subject: &'a str,
    pub body: String,
    pub json: serde_json::Value,
    pub chat_facts: String,
    pub next_steps: Vec<String>,
    pub id: &'a str,
    pub sms: String,
    pub sms_limit: SmsLimit,
}

/// One notice of declared root use (the announcement, an invalid declaration, the report):
/// email and chat, threaded per account; its `page` is `false`.
pub(crate) fn notice(account: &Account, notice: Notice<'_>) -> Notification {
    let subject = EmailSubject::fit(notice.subject);
    let account_id = account.id_or_unknown().to_owned();
    let chat = ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title: subject.as_str().to_owned(),
            description: notice.chat_facts,
            next_steps: notice.next_steps,
            keywords: vec![
                notice.severity.as_str().to_owned(),
                notice.kind.as_str().to_owned(),
                "declared".to_owned(),
                account_id.clone(),
            ],
        },
        ChatMetadata {
            thread_id: format!("rootwatch#declaration#{account_id}"),
            summary: subject.as_str().to_owned(),
            event_type: notice.kind.as_str().to_owned(),
            related_resources: Vec::new(),
            additional_context: [("declaration", notice.id.to_owned())]
                .into_iter()
                .collect(),
        },
        None,
    );
    let event = health_event(&Health {
        kind: notice.kind,
        severity: notice.severity,
        account,
        region: UNKNOWN_REGION,
        time: None,
        title: subject.as_str(),
        session: &format!("{account_id}#declaration#{}", notice.id),
        event_id: None,
    });
    Notification {
        event_id: None,
        severity: notice.severity,
        kind: notice.kind,
        sms: Sms::fit(&notice.sms, notice.sms_limit),
        subject,
        email_body: notice.body,
        alert_json: notice.json.to_string(),
        chat_json: chat.to_json(),
        page: false,
        event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AccountId;

    /// A report is said not to follow for the reason it does not.
    #[test]
    fn an_announcement_says_why_no_report_follows() {
        let account = Account {
            id: AccountId::parse("111122223333"),
            name: None,
        };
        let window = Window {
            declaration: Declaration::example(),
            digest: "0123456789abcdef".into(),
        };
        let body = |reporting| {
            render_announcement(
                &account,
                &window,
                &Change::New { supersedes: None },
                false,
                reporting,
                SmsLimit::WHOLE_SEGMENT,
            )
            .email_body
        };
        assert!(
            body(Reporting::Follows)
                .contains("a root-use report lists every root alert matched to it")
        );
        assert!(body(Reporting::Full).contains("too many reports are waiting"));
        let unread = body(Reporting::Unread);
        assert!(unread.contains("could not be read"), "{unread}");
        assert!(!unread.contains("too many"), "{unread}");
    }

    /// An invalid write is not said to have no effect when it ended the window in effect.
    #[test]
    fn an_invalid_notice_says_it_ended_the_window_in_effect() {
        let account = Account {
            id: AccountId::parse("111122223333"),
            name: None,
        };
        let window = Window {
            declaration: Declaration::example(),
            digest: "0123456789abcdef".into(),
        };
        let ended = render_invalid(
            &account,
            "a problem",
            Some(&window),
            SmsLimit::WHOLE_SEGMENT,
        );
        assert!(
            !ended.email_body.contains("no effect"),
            "{}",
            ended.email_body
        );
        assert!(
            ended.email_body.contains("it ends declaration d1"),
            "{}",
            ended.email_body
        );
        let alone = render_invalid(&account, "a problem", None, SmsLimit::WHOLE_SEGMENT);
        assert!(
            alone.email_body.contains("It declares nothing.\n"),
            "{}",
            alone.email_body
        );
    }

    /// The problem is rootwatch's own sentence: not labelled as the caller's, and what it quotes
    /// of the item stays inert.
    #[test]
    fn an_invalid_notice_says_its_problem_in_its_own_words() {
        let account = Account {
            id: AccountId::parse("111122223333"),
            name: None,
        };
        let problem = crate::domain::SourceCidr::parse("<!channel> `x`").unwrap_err();
        let notice = render_invalid(&account, &problem, None, SmsLimit::WHOLE_SEGMENT);
        let chat: serde_json::Value = serde_json::from_str(&notice.chat_json).unwrap();
        let facts = chat["content"]["description"].as_str().unwrap();
        assert!(facts.starts_with("*Problem:* `"), "{facts}");
        assert!(!facts.contains("caller-supplied"), "{facts}");
        assert!(!facts.contains("<!channel>"), "{facts}");
    }
}
