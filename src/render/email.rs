//! The email wording: a subject SNS accepts and a plain-text body read top-down.

use std::fmt::Write as _;

use crate::detect::alert::Alert;
use crate::detect::classify::{CredentialKind, MfaState};

/// SNS rejects subjects over 100 characters, or with line breaks or non-printable ASCII.
pub const SUBJECT_MAX: usize = 100;

/// An email subject SNS will accept. Cannot be built otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSubject(String);

impl EmailSubject {
    /// Forces `text` into a valid subject: other characters become `?`, and a cut ends in `...`.
    pub fn fit(text: &str) -> Self {
        let mut out: String = text
            .chars()
            .map(|c| {
                if c == ' ' || c.is_ascii_graphic() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        if out.len() > SUBJECT_MAX {
            out.truncate(SUBJECT_MAX - 3);
            out.push_str("...");
        }
        EmailSubject(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// True when SNS would accept `text` as a subject.
pub fn is_valid_subject(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= SUBJECT_MAX
        && text.chars().all(|c| c == ' ' || c.is_ascii_graphic())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: EmailSubject,
    pub body: String,
}

/// `[rootwatch] CRITICAL Root console sign-in WITHOUT MFA - prod-payments (111122223333)`
///
/// The account id always stays (an inbox of many accounts is sorted by it): when the subject
/// would be too long, the account's name gives way first, then the end of the title.
pub fn render_subject(alert: &Alert) -> EmailSubject {
    let head = format!("[rootwatch] {} {}", alert.severity.as_str(), alert.title());
    let full = format!("{head} - {}", alert.account.label());
    // `fit` keeps one character for each: the count is the subject's length.
    let fits = |text: &str| text.chars().count() <= SUBJECT_MAX;
    if fits(&full) {
        return EmailSubject::fit(&full);
    }
    let tail = match &alert.account.id {
        Some(id) => format!(" - {id}"),
        None => format!(" - {}", alert.account.label()),
    };
    let unnamed = format!("{head}{tail}");
    if fits(&unnamed) {
        return EmailSubject::fit(&unnamed);
    }
    let keep = SUBJECT_MAX.saturating_sub(tail.chars().count() + 3);
    let cut: String = head.chars().take(keep).collect();
    EmailSubject::fit(&format!("{cut}...{tail}"))
}

/// Who acted: the root user of this account, or of another account acting here.
fn who(alert: &Alert) -> String {
    match &alert.external_caller {
        Some(caller) => format!(
            "the root user of external account {caller}, acting in {},",
            alert.account.label()
        ),
        None => format!("the root user of {}", alert.account.label()),
    }
}

/// What the reader should take in first, in one sentence.
fn lead(alert: &Alert) -> String {
    use crate::detect::classify::AlertKind::*;
    let who = who(alert);
    let call = format!("{}:{}", alert.event_source, alert.event_name);
    if alert.failed() && alert.kind != SignInFailed {
        let code = match &alert.outcome {
            crate::detect::alert::Outcome::Failure {
                error_code: Some(code),
                ..
            } => code.as_str(),
            _ => "no error code",
        };
        return format!(
            "Someone using {who} attempted {call} and it FAILED ({code}). It may have changed \
             nothing, but the credentials were accepted: treat it as seriously as if it had worked."
        );
    }
    match alert.kind {
        SignInWithoutMfa => format!(
            "Someone signed in to the AWS console as {who} WITHOUT multi-factor authentication."
        ),
        SignInMfaNotRecorded => format!(
            "Someone signed in to the AWS console as {who}; the record does not say whether MFA \
             was used."
        ),
        SignInWithMfa => format!("Someone signed in to the AWS console as {who}, using MFA."),
        SignInFailed => format!(
            "Someone tried to sign in to the AWS console as {who} and failed ({}).",
            alert.event_name
        ),
        PasswordChanged => format!("The console password of {who} was changed."),
        PasswordRecoveryRequested => format!("Someone asked to reset the password of {who}."),
        PasswordRecoveryCompleted => {
            format!("The password of {who} was reset through email recovery.")
        }
        OtherSignInActivity => format!("Sign-in activity ({}) for {who}.", alert.event_name),
        AssumeRootTask => format!(
            "A task-scoped root session (sts:AssumeRoot) in {} called {call}.",
            alert.account.label()
        ),
        AccessKeyCreated => {
            format!("An access key was created for {who}. Root access keys should not exist.")
        }
        CredentialsChanged => format!("{who} changed its own credentials ({call})."),
        MfaDeviceRemoved => format!("An MFA device of {who} was deactivated ({call})."),
        AccountRecoveryChanged => format!(
            "{who} changed the account's contacts or root email ({call}). Whoever controls them \
             can recover the root user."
        ),
        CloudTrailTampered => format!(
            "{who} changed CloudTrail logging ({}). Audit records may be missing.",
            alert.event_name
        ),
        DefenceEvasion => format!(
            "{who} called {call} ({}). It weakens what your security monitoring can see.",
            alert.headline
        ),
        LongTermAccessKeyUsed => {
            format!("A long-term access key of {who} was used to call {call}.")
        }
        SecretRead => format!("{who} read a secret ({call})."),
        ReadOnlyCall => format!("{who} made a read-only call, {call}, from a console session."),
        ApiCall => format!("{who} called {call}."),
    }
}

fn capitalise(text: String) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// The plain-text body. Untrusted fields are already sanitised by enrichment and are labelled so
/// a reader does not mistake them for rootwatch's own words.
pub fn render_body(alert: &Alert) -> String {
    let mut body = String::with_capacity(1500);
    let _ = writeln!(body, "{} - {}", alert.severity.as_str(), alert.title());
    let _ = writeln!(body);
    let _ = writeln!(body, "{}", capitalise(lead(alert)));
    let _ = writeln!(body);

    let mfa = match (alert.credential, alert.mfa) {
        // The session AssumeRoot issued has no MFA of its own; the caller's MFA is recorded on
        // the AssumeRoot call in the management account.
        (CredentialKind::AssumeRoot, _) => "n/a (AssumeRoot task session; see the AssumeRoot call)",
        (_, MfaState::Used) => "used",
        (_, MfaState::NotUsed) => "NOT used",
        (_, MfaState::Unknown) => "unknown",
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("What", alert.title()),
        ("Severity", alert.severity.as_str().to_owned()),
        ("Account", alert.account.label()),
        ("Region", alert.region.clone()),
        (
            "When (UTC)",
            alert.event_time.map_or_else(
                || "unknown (no readable time in the event)".to_owned(),
                |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            ),
        ),
        ("Source IP", alert.source_ip.display()),
        ("MFA", mfa.to_owned()),
        ("Outcome", alert.outcome.describe()),
        ("Credentials", alert.credential.describe().to_owned()),
    ];
    if let Some(key) = &alert.access_key_id {
        rows.push(("Access key", key.clone()));
    }
    if let Some(caller) = &alert.external_caller {
        rows.push(("Caller", format!("root user of external account {caller}")));
    }
    if let Some(who) = &alert.assume_root_issued_to {
        rows.push(("Issued to", who.clone()));
    }
    rows.push((
        "Event",
        format!("{} {}", alert.event_source, alert.event_name),
    ));
    rows.push((
        "User agent",
        alert
            .user_agent
            .as_ref()
            .map_or("none".into(), |ua| format!("(caller-supplied) {ua}")),
    ));
    if let Some(params) = &alert.request_parameters {
        rows.push(("Request", format!("(caller-supplied) {params}")));
    }
    rows.push((
        "Event ID",
        alert.event_id.clone().unwrap_or_else(|| "none".into()),
    ));
    if !alert.unreadable_fields.is_empty() {
        rows.push((
            "Unreadable",
            format!(
                "{} (not used; check the raw event)",
                alert.unreadable_fields.join(", ")
            ),
        ));
    }
    rows.push(("Rule", format!("{} ({})", alert.rule, alert.reference)));
    for (label, value) in rows {
        let _ = writeln!(body, "{label:<12} {value}");
    }

    let _ = writeln!(body);
    match &alert.console_url {
        Some(url) => {
            let _ = writeln!(body, "Open in CloudTrail: {url}");
        }
        None => {
            let _ = writeln!(
                body,
                "Open in CloudTrail: the event had no usable event ID or region."
            );
        }
    }
    if let Some(url) = &alert.runbook_url {
        let _ = writeln!(body, "Runbook: {url}");
    }
    let _ = writeln!(body);
    let _ = write!(
        body,
        "If this was not planned, treat it as an incident: the root user can do anything in this account.\n\
         -- rootwatch"
    );
    body
}

pub fn render_email(alert: &Alert) -> Email {
    Email {
        subject: render_subject(alert),
        body: render_body(alert),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_makes_any_text_a_valid_subject() {
        for text in [
            "a\r\nBcc: x",
            &"é".repeat(120),
            &"x".repeat(300),
            "tab\there",
        ] {
            let subject = EmailSubject::fit(text);
            assert!(is_valid_subject(subject.as_str()), "{:?}", subject);
        }
        assert_eq!(EmailSubject::fit("a\nb").as_str(), "a?b");
    }

    /// The longest name and the longest failed-attempt title: the id is still in the subject.
    #[test]
    fn the_account_id_survives_a_long_subject() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/events/root-left-organization.json"
        );
        let mut event: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        event["detail"]["errorCode"] = "AccessDenied".into();
        let config = crate::config::Config::from_lookup(|k| match k {
            "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:t".to_owned()),
            _ => None,
        })
        .unwrap();
        let name = crate::config::AccountName::parse(&"n".repeat(32)).unwrap();
        let subject = |headline_extra: &str| {
            let mut event = event.clone();
            event["detail"]["errorCode"] = format!("AccessDenied{headline_extra}").into();
            match crate::handler::decide_named(&event, &config, Some(&name)).unwrap() {
                crate::handler::Decision::Alert { notification, .. } => {
                    notification.subject.as_str().to_owned()
                }
                other => panic!("{other:?}"),
            }
        };
        let named_out = subject("");
        assert_eq!(
            named_out,
            "[rootwatch] CRITICAL Failed attempt to leave the organization (AccessDenied) - 111122223333"
        );
        let cut = subject(&"X".repeat(40));
        assert!(cut.ends_with("... - 111122223333"), "{cut}");
        assert!(is_valid_subject(&cut), "{cut}");
        assert_eq!(cut.len(), SUBJECT_MAX);
    }

    #[test]
    fn subject_validity_matches_sns_rules() {
        assert!(is_valid_subject("[rootwatch] HIGH x"));
        assert!(!is_valid_subject(""));
        assert!(!is_valid_subject("a\nb"));
        assert!(!is_valid_subject(&"x".repeat(101)));
    }
}
