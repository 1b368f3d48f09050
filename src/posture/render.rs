//! A posture finding for phones (one SMS segment), inboxes and chat: what is wrong with the root
//! user's credentials, why it matters, the fix and the controls it fails. Pure.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::{
    Account, AccountId, AccountName, NotificationKind, PostureKind, Severity, SmsLimit,
    UNKNOWN_REGION,
};
use crate::ports::Member;
use crate::posture::controls::control;
use crate::posture::judge::{Finding, Password};
use crate::render::chat::{ChatContent, ChatMetadata, ChatNotification};
use crate::render::email::EmailSubject;
use crate::render::event::{Health, NO_ACCOUNT, health_event};
use crate::render::notification::Notification;
use crate::render::sms::Sms;
use crate::sanitize::plain_token;

/// Whose root user, and when it was checked. `name` is the operator's (`ACCOUNT_NAMES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<'a> {
    pub account: &'a str,
    pub name: Option<&'a str>,
    pub at: DateTime<Utc>,
}

impl Checked<'_> {
    /// `prod-payments (111122223333)`, or the id.
    fn label(&self) -> String {
        match self.name {
            Some(name) => format!("{name} ({})", self.account),
            None => self.account.to_owned(),
        }
    }
}

/// `CRITICAL root user has no MFA in acct prod-payments 111122223333: its password alone signs
/// in. Fix: see email`
pub fn render_sms(checked: &Checked, finding: &Finding, limit: SmsLimit) -> Sms {
    let row = control(finding.kind());
    let account = match checked.name {
        Some(name) => format!("{} {}", plain_token(name, 32), checked.account),
        None => checked.account.to_owned(),
    };
    Sms::fit(
        &format!(
            "{} {} in acct {account}: {}. Fix: see email",
            row.severity.as_str(),
            row.sms,
            row.consequence
        ),
        limit,
    )
}

/// What IAM said, in a sentence or two.
fn found(finding: &Finding) -> String {
    match finding {
        Finding::AccessKeys => "IAM's account summary says the root user has access keys \
             (AccountAccessKeysPresent = 1)."
            .into(),
        Finding::MfaOff { password } => {
            let said = "IAM's account summary says the root user has no MFA device \
                        (AccountMFAEnabled = 0)";
            match password {
                Password::Enabled => {
                    format!("{said}, and the credential report says it has a password.")
                }
                Password::Unreadable(reason) => format!(
                    "{said}. Whether it has a password could not be read ({reason}), so it is \
                     reported as if it had one: a root user without a password (deleted \
                     through centralized root access) needs no MFA, and would not be reported."
                ),
                Password::NotReported => format!(
                    "{said}. IAM does not report whether the root user has a password (the \
                     credential report's root row says not_supported), so it is reported as if \
                     it had one. If centralized root access deleted this account's root \
                     credentials, confirm it from the management account: aws sts assume-root \
                     --target-principal <this account's id> --task-policy-arn \
                     arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials, then, \
                     with those credentials, aws iam get-login-profile: NoSuchEntity means no \
                     password."
                ),
                Password::Disabled => format!("{said}."),
            }
        }
        Finding::SigningCertificates => {
            "IAM's account summary says the root user has signing certificates \
             (AccountSigningCertificatesPresent = 1)."
                .into()
        }
        Finding::MfaVirtual { devices } => format!(
            "The root user's MFA includes virtual devices: {}.",
            devices.join(", ")
        ),
        Finding::CheckFailed { errors } => format!(
            "The check could not read the root user's posture: {}.",
            errors.join("; ")
        ),
    }
}

fn render_body(checked: &Checked, finding: &Finding, runbook_url: Option<&str>) -> String {
    let row = control(finding.kind());
    let mut body = format!(
        "{title} in account {label} (checked {at}).\n\n\
         What: {found}\n\n\
         Why: {why}\n\n\
         Fix: {fix}\n",
        title = row.title,
        label = checked.label(),
        at = checked.at.format("%Y-%m-%d %H:%M:%S UTC"),
        found = found(finding),
        why = row.why,
        fix = row.fix,
    );
    if !row.controls.is_empty() {
        body.push_str(&format!("\nControls: {}\n", row.controls.join("; ")));
    }
    for reference in row.references {
        body.push_str(&format!("See: {reference}\n"));
    }
    body.push_str(
        "\nThis alert repeats once a day while the finding lasts (with the state table); it is \
         texted on its first day only, later days go to email and chat. A new finding alerts \
         at once.\n",
    );
    if let Some(url) = runbook_url {
        body.push_str(&format!("Runbook: {url}\n"));
    }
    body
}

/// The one SNS message for `finding`. `event_id` is the scheduled event's id, for logs.
pub fn render(
    checked: &Checked,
    finding: &Finding,
    event_id: Option<String>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let row = control(finding.kind());
    let kind = NotificationKind::Posture(row.kind);
    let alert_json = json!({
        "kind": kind.as_str(),
        "severity": row.severity.as_str(),
        "account": checked.account,
        "accountName": checked.name,
        "checkedAt": checked.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "finding": finding,
        "controls": row.controls,
    });
    let subject = EmailSubject::fit(&format!(
        "[rootwatch] {} {} - {}",
        row.severity.as_str(),
        row.title,
        checked.label()
    ));
    let email_body = render_body(checked, finding, runbook_url);
    let chat = ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title: subject.as_str().to_owned(),
            description: email_body.clone(),
            next_steps: runbook_url
                .map(|url| vec![format!("Follow the runbook: {url}")])
                .unwrap_or_default(),
            keywords: vec![
                row.severity.as_str().to_owned(),
                kind.as_str().to_owned(),
                checked.account.to_owned(),
            ],
        },
        ChatMetadata {
            thread_id: format!("rootwatch#posture#{}#{}", checked.account, row.code),
            summary: subject.as_str().to_owned(),
            event_type: kind.as_str().to_owned(),
            related_resources: Vec::new(),
            additional_context: Default::default(),
        },
        None,
    );
    let account = Account {
        id: AccountId::parse(checked.account),
        name: checked.name.and_then(AccountName::from_untrusted),
    };
    let event = health_event(&Health {
        kind,
        severity: row.severity,
        account: &account,
        region: UNKNOWN_REGION,
        time: Some(checked.at),
        title: subject.as_str(),
        session: &format!("{}#{}", checked.account, kind.as_str()),
        event_id: event_id.as_deref(),
    });
    Notification {
        event_id,
        severity: row.severity,
        kind,
        subject,
        sms: render_sms(checked, finding, sms_limit),
        email_body,
        alert_json: alert_json.to_string(),
        chat_json: chat.to_json(),
        page: true,
        event,
    }
}

/// One notification for `members` newly found with `kind` (a member's root credential, or an
/// audit that failed), each with its severity: the notification's is the worst.
pub fn render_members(
    kind: PostureKind,
    members: &[(Severity, &Member)],
    at: DateTime<Utc>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let row = control(kind);
    let severity = members
        .iter()
        .map(|(s, _)| *s)
        .max()
        .unwrap_or(row.severity);
    // Organizations' names arrive made safe (`AccountName::from_untrusted`).
    let label = |m: &Member| match &m.name {
        Some(name) => format!("{name} ({})", m.id),
        None => m.id.to_string(),
    };
    let (title, sms, consequence, why, fix) = if kind == PostureKind::CheckFailed {
        (
            "Member root credentials could not be audited",
            "member root audit failed",
            "their root credentials are unwatched",
            "The AssumeRoot session or its reads failed; the members' root credentials are not \
             known until an audit succeeds.",
            "Check that centralized root access (RootSessions) covers these accounts, that the \
             function's role may call sts:AssumeRoot with the IAMAuditRootUserCredentials task \
             policy (template.yaml's AuditMemberRootCredentials), and that no SCP denies it.",
        )
    } else {
        (row.title, row.sms, row.consequence, row.why, row.fix)
    };
    let first = members.first().map(|(_, m)| label(m)).unwrap_or_default();
    let more = members.len().saturating_sub(1);
    let who = if more > 0 {
        format!("{first} +{more}")
    } else {
        first.clone()
    };
    let lines: Vec<String> = members
        .iter()
        .map(|(s, m)| format!("- {} {}", s.as_str(), label(m)))
        .collect();
    let mut body = format!(
        "{title} (audited {at}):\n{list}\n\nWhy: {why}\n\nFix: {fix}\n",
        at = at.format("%Y-%m-%d %H:%M:%S UTC"),
        list = lines.join("\n"),
    );
    if !row.controls.is_empty() && kind != PostureKind::CheckFailed {
        body.push_str(&format!("\nControls: {}\n", row.controls.join("; ")));
    }
    body.push_str(
        "\nEach member is alerted when its audit first finds this, and again if it comes back \
         after it was fixed. rootwatch reads root credentials through sts:AssumeRoot with \
         the IAMAuditRootUserCredentials task policy only.\n",
    );
    if let Some(url) = runbook_url {
        body.push_str(&format!("Runbook: {url}\n"));
    }
    let kind_name = NotificationKind::Posture(kind);
    let subject = EmailSubject::fit(&format!(
        "[rootwatch] {} {title} - {who}",
        severity.as_str()
    ));
    let alert_json = json!({
        "kind": kind_name.as_str(),
        "severity": severity.as_str(),
        "checkedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "members": members.iter().map(|(s, m)| json!({"account": m.id, "name": m.name, "severity": s.as_str()})).collect::<Vec<_>>(),
    });
    let sms = Sms::fit(
        &format!(
            "{} {sms} in acct {}: {consequence}. Fix: see email",
            severity.as_str(),
            plain_token(&who, 60)
        ),
        sms_limit,
    );
    notification(
        kind_name,
        severity,
        subject,
        sms,
        body,
        alert_json,
        runbook_url,
        "members",
    )
}

/// The members' audit could not list the organization's accounts (`posture-check-failed`,
/// HIGH): `why` is the sanitised error. No member is audited until it can.
pub fn render_unlisted(
    home: &str,
    why: &str,
    at: DateTime<Utc>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let kind = NotificationKind::Posture(PostureKind::CheckFailed);
    let severity = Severity::High;
    let title = "Member root credentials could not be audited";
    let mut body = format!(
        "{title} ({at}): the organization's accounts could not be listed from account {home}: \
         {why}.\n\nWhy: no member's root credentials are audited until they can be; a root \
         password or access key in a member account goes unseen until it is used.\n\nFix: \
         the function's role needs organizations:ListAccounts and DescribeOrganization \
         (template.yaml's ListMemberAccounts), and, in a delegated administrator account, the \
         management account's Organizations delegation policy must allow \
         organizations:ListAccounts to it (docs/organizations.md, \"Permission\").\n",
        at = at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    if let Some(url) = runbook_url {
        body.push_str(&format!("Runbook: {url}\n"));
    }
    let subject = EmailSubject::fit(&format!(
        "[rootwatch] {} {title} - accounts not listed",
        severity.as_str()
    ));
    let alert_json = json!({
        "kind": kind.as_str(),
        "severity": severity.as_str(),
        "checkedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "account": home,
        "error": why,
    });
    let sms = Sms::fit(
        &format!(
            "{} member root audit failed in acct {}: accounts not listed. Fix: see email",
            severity.as_str(),
            plain_token(home, 12)
        ),
        sms_limit,
    );
    notification(
        kind,
        severity,
        subject,
        sms,
        body,
        alert_json,
        runbook_url,
        "members",
    )
}

/// The weekly `posture-report` when members' root credentials cannot be audited: why, and the
/// commands that turn centralized root access on (IAM User Guide, "Centralize root access for
/// member accounts").
pub fn render_report(
    home: &str,
    why: &str,
    at: DateTime<Utc>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let kind = NotificationKind::Posture(PostureKind::Report);
    let mut body = format!(
        "Weekly root posture report ({at}).\n\nThe organization's member accounts' root \
         credentials are not audited: {why}. A root password or access key in a member account \
         goes unseen until it is used.\n\nTo turn centralized root access on, from the \
         management account:\n  \
         aws organizations enable-aws-service-access --service-principal iam.amazonaws.com\n  \
         aws iam enable-organizations-root-credentials-management\n  \
         aws iam enable-organizations-root-sessions\n\
         and, when this account ({home}) is not the management account, make it the delegated \
         administrator for IAM:\n  \
         aws organizations register-delegated-administrator --account-id {home} \
         --service-principal iam.amazonaws.com\n",
        at = at.format("%Y-%m-%d %H:%M UTC"),
    );
    if let Some(url) = runbook_url {
        body.push_str(&format!("Runbook: {url}\n"));
    }
    let subject = EmailSubject::fit(
        "[rootwatch] LOW Weekly root posture report: member root credentials not audited",
    );
    let alert_json = json!({
        "kind": kind.as_str(),
        "severity": Severity::Low.as_str(),
        "account": home,
        "reportedAt": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "notAudited": why,
    });
    let sms = Sms::fit(
        "LOW weekly posture report: member root credentials not audited. See email",
        sms_limit,
    );
    let mut n = notification(
        kind,
        Severity::Low,
        subject,
        sms,
        body,
        alert_json,
        runbook_url,
        "report",
    );
    // A digest: email and chat only.
    n.page = false;
    n
}

#[allow(clippy::too_many_arguments)]
fn notification(
    kind: NotificationKind,
    severity: Severity,
    subject: EmailSubject,
    sms: Sms,
    email_body: String,
    alert_json: serde_json::Value,
    runbook_url: Option<&str>,
    thread: &str,
) -> Notification {
    let chat = ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title: subject.as_str().to_owned(),
            description: email_body.clone(),
            next_steps: runbook_url
                .map(|url| vec![format!("Follow the runbook: {url}")])
                .unwrap_or_default(),
            keywords: vec![severity.as_str().to_owned(), kind.as_str().to_owned()],
        },
        ChatMetadata {
            thread_id: format!("rootwatch#posture#{thread}#{}", kind.as_str()),
            summary: subject.as_str().to_owned(),
            event_type: kind.as_str().to_owned(),
            related_resources: Vec::new(),
            additional_context: Default::default(),
        },
        None,
    );
    let event = health_event(&Health {
        kind,
        severity,
        account: &NO_ACCOUNT,
        region: UNKNOWN_REGION,
        time: None,
        title: subject.as_str(),
        session: &format!("organization#{thread}#{}", kind.as_str()),
        event_id: None,
    });
    Notification {
        event_id: None,
        severity,
        kind,
        subject,
        sms,
        email_body,
        alert_json: alert_json.to_string(),
        chat_json: chat.to_json(),
        page: true,
        event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Severity;
    use crate::render::email::is_valid_subject;

    fn checked() -> Checked<'static> {
        Checked {
            account: "111122223333",
            name: Some("prod-payments"),
            at: DateTime::parse_from_rfc3339("2026-11-21T03:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    fn mfa_off() -> Finding {
        Finding::MfaOff {
            password: Password::Enabled,
        }
    }

    #[test]
    fn the_sms_names_the_account_and_what_the_finding_means() {
        let limit = SmsLimit::after_display_name("rootwatch").unwrap();
        assert_eq!(
            render_sms(&checked(), &mfa_off(), limit).as_str(),
            "CRITICAL root user has no MFA in acct prod-payments 111122223333: its password \
             alone signs in. Fix: see email"
        );
        for finding in [
            Finding::AccessKeys,
            Finding::SigningCertificates,
            Finding::MfaVirtual {
                devices: vec!["x".repeat(300)],
            },
            Finding::CheckFailed {
                errors: vec!["e".into()],
            },
        ] {
            let sms = render_sms(&checked(), &finding, limit);
            assert!(Sms::new(sms.as_str(), limit).is_ok(), "{sms}");
        }
    }

    #[test]
    fn the_email_says_what_why_the_fix_and_the_controls() {
        let n = render(
            &checked(),
            &mfa_off(),
            None,
            SmsLimit::WHOLE_SEGMENT,
            Some("https://wiki.example.com/rb"),
        );
        assert_eq!(n.kind.as_str(), "posture-root-mfa-off");
        assert_eq!(n.severity, Severity::Critical);
        assert_eq!(
            n.subject.as_str(),
            "[rootwatch] CRITICAL Root user has no MFA - prod-payments (111122223333)"
        );
        assert!(is_valid_subject(n.subject.as_str()));
        for part in [
            "AccountMFAEnabled = 0",
            "Assign MFA device",
            "CIS AWS Foundations v3.0.0 1.5; Security Hub IAM.9",
            "iam-controls.html#iam-9",
            "texted on its first day only",
            "Runbook: https://wiki.example.com/rb",
        ] {
            assert!(n.email_body.contains(part), "{part}: {}", n.email_body);
        }
        let json: serde_json::Value = serde_json::from_str(&n.alert_json).unwrap();
        assert_eq!(json["finding"]["finding"], "mfaOff");
        assert_eq!(json["finding"]["password"]["password"], "enabled");
        assert_eq!(json["accountName"], "prod-payments");
    }

    #[test]
    fn an_unreadable_password_is_said_in_the_email() {
        let finding = Finding::MfaOff {
            password: Password::Unreadable(
                "the credential report has no <root_account> row".into(),
            ),
        };
        let body = render_body(&checked(), &finding, None);
        assert!(
            body.contains("could not be read (the credential report has no <root_account> row)")
        );
    }

    #[test]
    fn a_password_iam_does_not_report_says_how_to_confirm() {
        let finding = Finding::MfaOff {
            password: Password::NotReported,
        };
        let body = render_body(&checked(), &finding, None);
        for part in [
            "IAM does not report whether the root user has a password",
            "IAMAuditRootUserCredentials",
            "get-login-profile",
        ] {
            assert!(body.contains(part), "{part}: {body}");
        }
    }
}
