//! The email wording: a subject SNS accepts and a plain-text body read top-down.

use std::fmt::{self, Write as _};

use crate::detect::alert::{AWS_INTERNAL, Alert};
use crate::domain::{CredentialKind, DeclarationStatus, MfaState};
use crate::render::time::to_the_second;
use crate::render::{CUT_MARK, Piece, TitleParts};

/// SNS rejects subjects over 100 characters, or with line breaks or non-printable ASCII.
pub(crate) const SUBJECT_MAX: usize = 100;

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
            out.truncate(SUBJECT_MAX - CUT_MARK.len());
            out.push_str(CUT_MARK);
        }
        EmailSubject(out)
    }

    /// As [`EmailSubject::fit`], keeping `text` itself when it is already a valid subject.
    pub(crate) fn fit_owned(text: String) -> Self {
        if text.len() <= SUBJECT_MAX && text.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
            EmailSubject(text)
        } else {
            Self::fit(&text)
        }
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

/// `[rootwatch] HIGH Root API call: s3:CreateBucket - prod-payments (111122223333)`
///
/// The account id always stays (an inbox of many accounts is sorted by it). When the subject would
/// be too long, pieces give way in the order of [`GIVE_WAY`]: the call where the headline already
/// says what it did (it only repeats it), the account's name, the error code, the end of the call
/// where it is the news, and last the end of the headline. Every cut ends in `...`, and a call
/// or code given way whole leaves `...` in its place.
fn render_subject(alert: &Alert) -> EmailSubject {
    let mut title = TitleParts::of(alert);
    let mut named = true;
    let mut text = compose_subject(alert, &title, named);
    for piece in GIVE_WAY {
        // `fit` keeps one character for each: the count is the subject's length.
        let over = text.chars().count().saturating_sub(SUBJECT_MAX);
        if over == 0 {
            break;
        }
        let changed = match piece {
            Piece::AccountName => std::mem::replace(&mut named, false),
            _ => title.give_way(piece, over),
        };
        if changed {
            text = compose_subject(alert, &title, named);
        }
    }
    EmailSubject::fit_owned(text)
}

/// The order in which the subject's pieces give way.
const GIVE_WAY: [Piece; 5] = [
    Piece::NamedCall,
    Piece::AccountName,
    Piece::ErrorCode,
    Piece::NewsCall,
    Piece::Headline,
];

fn compose_subject(alert: &Alert, title: &TitleParts<'_>, named: bool) -> String {
    let mut text = String::with_capacity(128);
    text.push_str("[rootwatch] ");
    text.push_str(alert.severity.as_str());
    text.push(' ');
    if alert.declaration.declared().is_some() {
        text.push_str("DECLARED ");
    }
    title.write_headline_and_call(&mut text);
    title.write_error_code(&mut text);
    text.push_str(" - ");
    match (&alert.account.id, named) {
        (Some(id), false) => text.push_str(id.as_str()),
        _ => {
            let _ = write!(text, "{}", alert.account.label());
        }
    }
    text
}

/// Who acted: the root user of this account, or of another account acting here.
struct Who<'a>(&'a Alert);

impl fmt::Display for Who<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alert = self.0;
        match &alert.external_caller {
            Some(caller) => write!(
                f,
                "the root user of external account {caller}, acting in {},",
                alert.account.label()
            ),
            None => write!(f, "the root user of {}", alert.account.label()),
        }
    }
}

/// The call, `iam.amazonaws.com:CreateUser`.
struct Call<'a>(&'a Alert);

impl fmt::Display for Call<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0.event_source, self.0.event_name)
    }
}

/// What the reader should take in first, in one sentence.
fn write_lead(body: &mut String, alert: &Alert) -> fmt::Result {
    use crate::domain::AlertKind::*;
    let who = Who(alert);
    let call = Call(alert);
    if alert.failed() && alert.kind != SignInFailed {
        let code = match &alert.attempt {
            crate::detect::alert::Attempt::Failure {
                error_code: Some(code),
                ..
            } => code.as_str(),
            _ => "no error code",
        };
        return write!(
            body,
            "Someone using {who} attempted {call} and it FAILED ({code}). It may have changed \
             nothing, but the credentials were accepted: treat it as seriously as if it had worked."
        );
    }
    match alert.kind {
        SignInWithoutMfa => write!(
            body,
            "Someone signed in to the AWS console as {who} WITHOUT multi-factor authentication."
        ),
        SignInMfaNotRecorded => write!(
            body,
            "Someone signed in to the AWS console as {who}; the record does not say whether MFA \
             was used."
        ),
        SignInWithMfa => write!(
            body,
            "Someone signed in to the AWS console as {who}, using MFA."
        ),
        SignInFailed => write!(
            body,
            "Someone tried to sign in to the AWS console as {who} and failed ({}).",
            alert.event_name
        ),
        PasswordChanged => write!(body, "The console password of {who} was changed."),
        PasswordRecoveryRequested => {
            write!(body, "Someone asked to reset the password of {who}.")
        }
        PasswordRecoveryCompleted => {
            write!(
                body,
                "The password of {who} was reset through email recovery."
            )
        }
        OtherSignInActivity => write!(body, "Sign-in activity ({}) for {who}.", alert.event_name),
        AssumeRootTask => write!(
            body,
            "A task-scoped root session (sts:AssumeRoot) in {} called {call}.",
            alert.account.label()
        ),
        AccessKeyCreated => write!(
            body,
            "An access key was created for {who}. Root access keys should not exist."
        ),
        CredentialsChanged => write!(body, "{who} called {call} on its own credentials."),
        MfaDeviceRemoved => write!(body, "An MFA device of {who} was deactivated ({call})."),
        AccountRecoveryChanged => write!(
            body,
            "{who} called {call}, which acts on an account's contacts or root user email. \
             Whoever controls them can recover the root user."
        ),
        CloudTrailTampered => write!(
            body,
            "{who} called {call}, which changes what CloudTrail records or keeps. Audit records \
             may be missing."
        ),
        DefenceEvasion => write!(
            body,
            "{who} called {call} ({}). It weakens what your security monitoring can see.",
            alert.headline
        ),
        LongTermAccessKeyUsed => write!(
            body,
            "A long-term access key of {who} was used to call {call}."
        ),
        SecretRead => write!(body, "{who} read a secret ({call})."),
        ReadOnlyCall => write!(
            body,
            "{who} made a read-only call, {call}, from a console session."
        ),
        ApiCall => write!(body, "{who} called {call}."),
    }
}

/// Upper-cases the first character of `text[start..]`.
fn capitalise_from(text: &mut String, start: usize) {
    let Some(first) = text[start..].chars().next() else {
        return;
    };
    if first.is_ascii() {
        text[start..start + 1].make_ascii_uppercase();
    } else {
        let rest = text.split_off(start + first.len_utf8());
        text.truncate(start);
        text.extend(first.to_uppercase());
        text.push_str(&rest);
    }
}

/// One `Label       value` row of the body's table.
fn row(body: &mut String, label: &str, value: impl fmt::Display) {
    row_label(body, label);
    let _ = writeln!(body, "{value}");
}

/// A row's label in its column, as `{label:<12} ` would write it (the labels are ASCII):
/// padding through the formatter went one `write_char` a space.
fn row_label(body: &mut String, label: &str) {
    const COLUMN: &str = "            ";
    body.push_str(label);
    body.push_str(&COLUMN[label.len().min(COLUMN.len())..]);
    body.push(' ');
}

/// Whether the root use was declared (nothing when declarations are off). The declarer's text
/// is self-stated: labelled, and last on its line, after rootwatch's own words.
fn write_declaration(body: &mut String, alert: &Alert) {
    match &alert.declaration {
        DeclarationStatus::Off => {}
        DeclarationStatus::Declared(d) => {
            row_label(body, "Declared");
            let _ = write!(body, "yes \u{2014} until {}", to_the_second(d.closes()));
            if let Some(range) = &d.source {
                let _ = write!(body, ", from {range}");
            }
            body.push_str(if alert.quieted() {
                "; not texted (below CRITICAL)\n"
            } else {
                "; texted: CRITICAL\n"
            });
            row(body, "Declared by", format_args!("(as stated) {}", d.by));
            row(body, "Reason", format_args!("(declared) {}", d.reason));
        }
        DeclarationStatus::OutsideSource(d) => {
            row(
                body,
                "Declared",
                format_args!(
                    "NO \u{2014} source {} is outside the declared {} (until {})",
                    alert.source_ip.display(),
                    d.source.map(|s| s.to_string()).unwrap_or_default(),
                    to_the_second(d.closes())
                ),
            );
            row(body, "Declared by", format_args!("(as stated) {}", d.by));
        }
        DeclarationStatus::None if alert.kind.is_sign_in() => row(
            body,
            "Declared",
            format_args!(
                "no \u{2014} planned root use can be declared first: make declare ACCOUNT={} \
                 MINUTES=60 REASON=\"...\" BY=<you> (docs/declaring.md)",
                alert.account.id_or_unknown()
            ),
        ),
        DeclarationStatus::None => {}
        DeclarationStatus::Unchecked => row(
            body,
            "Declared",
            "could not be checked; treated as not declared",
        ),
    }
}

/// The plain-text body. Untrusted fields are already sanitised by enrichment and are labelled so
/// a reader does not mistake them for rootwatch's own words. Written into one buffer sized for
/// the longest sample's body.
fn render_body(alert: &Alert) -> String {
    let mut body = String::with_capacity(2048);
    let _ = write!(body, "{} - {}\n\n", alert.severity.as_str(), alert.title());
    let lead = body.len();
    let _ = write_lead(&mut body, alert);
    capitalise_from(&mut body, lead);
    body.push_str("\n\n");

    let mfa = match (alert.credential, alert.mfa) {
        // The session AssumeRoot issued has no MFA of its own; the caller's MFA is recorded on
        // the AssumeRoot call in the management account.
        (CredentialKind::AssumeRoot, _) => "n/a (AssumeRoot task session; see the AssumeRoot call)",
        (_, MfaState::Used) => "used",
        (_, MfaState::NotUsed) => "NOT used",
        (_, MfaState::Unknown) => "unknown",
    };
    // CloudTrail hides the IP of a console call made through an AWS proxy; the session's
    // sign-in still has it (CloudTrail User Guide, "CloudTrail record contents").
    let proxied = alert.source_ip.aws_name() == Some(AWS_INTERNAL)
        && alert.credential == CredentialKind::ConsoleSession;
    row(&mut body, "What", alert.title());
    row(&mut body, "Severity", alert.severity.as_str());
    if let (Some(allowance), Some(rule)) = (alert.allowance, alert.rule_severity) {
        row(&mut body, "Allowance", allowance.note(rule));
    }
    row(&mut body, "Account", alert.account.label());
    row(&mut body, "Region", &alert.region);
    match alert.event_time {
        Some(time) => row(&mut body, "When (UTC)", to_the_second(time)),
        None => row(
            &mut body,
            "When (UTC)",
            "unknown (no readable time in the event)",
        ),
    }
    if proxied {
        row(
            &mut body,
            "Source IP",
            format_args!(
                "{AWS_INTERNAL} (a console call through an AWS proxy; the session's sign-in \
                 shows its IP)"
            ),
        );
    } else {
        row(&mut body, "Source IP", alert.source_ip.display());
    }
    if alert.states_mfa() {
        row(&mut body, "MFA", mfa);
    }
    row(&mut body, "Outcome", alert.attempt.describe());
    write_declaration(&mut body, alert);
    row(&mut body, "Credentials", alert.credential.describe());
    if let Some(key) = &alert.access_key_id {
        row(&mut body, "Access key", key);
    }
    if let Some(caller) = &alert.external_caller {
        row(
            &mut body,
            "Caller",
            format_args!("root user of external account {caller}"),
        );
    }
    if let Some(who) = &alert.assume_root_issued_to {
        row(&mut body, "Issued to", who);
    }
    row(
        &mut body,
        "Event",
        format_args!("{} {}", alert.event_source, alert.event_name),
    );
    match &alert.user_agent {
        Some(ua) => row(
            &mut body,
            "User agent",
            format_args!("(caller-supplied) {ua}"),
        ),
        None => row(&mut body, "User agent", "none"),
    }
    if let Some(params) = &alert.request_parameters {
        row(
            &mut body,
            "Request",
            format_args!("(caller-supplied) {params}"),
        );
    }
    row(
        &mut body,
        "Event ID",
        alert.event_id.as_deref().unwrap_or("none"),
    );
    if let Some((first, rest)) = alert.unreadable_fields.split_first() {
        row_label(&mut body, "Unreadable");
        body.push_str(first);
        for field in rest {
            let _ = write!(body, ", {field}");
        }
        body.push_str(" (not used; check the raw event)\n");
    }
    row(
        &mut body,
        "Rule",
        format_args!("{} ({})", alert.rule, alert.reference),
    );

    body.push('\n');
    match &alert.console_url {
        Some(url) => {
            let _ = writeln!(body, "Open in CloudTrail: {url}");
        }
        None => {
            body.push_str("Open in CloudTrail: the event had no usable event ID or region.\n");
        }
    }
    if let Some(url) = &alert.runbook_url {
        let _ = writeln!(body, "Runbook: {url}");
    }
    body.push_str(
        "\nIf this was not planned, treat it as an incident: the root user can do anything in \
         this account.\n-- rootwatch",
    );
    body
}

pub(crate) fn render_email(alert: &Alert) -> Email {
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
        let mut event = crate::samples::sample("root-left-organization");
        event["detail"]["errorCode"] = "AccessDenied".into();
        let config = crate::config::Config::from_lookup(|k| match k {
            "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:t".to_owned()),
            _ => None,
        })
        .unwrap();
        let name = crate::domain::AccountName::parse(&"n".repeat(32)).unwrap();
        let subject = |headline_extra: &str| {
            let mut event = event.clone();
            event["detail"]["errorCode"] = format!("AccessDenied{headline_extra}").into();
            let classified = crate::handler::parse_and_classify(&event).unwrap();
            match crate::handler::enrich_and_render(
                classified,
                &config,
                Some(&name),
                &crate::handler::WindowLookup::Off,
            ) {
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
        // The named call gave way whole; now the code's end gives way, marked.
        let cut = subject(&"X".repeat(40));
        assert!(cut.ends_with("...) - 111122223333"), "{cut}");
        assert!(is_valid_subject(&cut), "{cut}");
        assert_eq!(cut.len(), SUBJECT_MAX);
    }

    fn subject_of(event: &serde_json::Value) -> String {
        let config = crate::config::Config::from_lookup(|k| match k {
            "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:t".to_owned()),
            "ACCOUNT_NAMES" => Some("111122223333=prod-payments".to_owned()),
            _ => None,
        })
        .unwrap();
        match crate::handler::decide(event, &config).unwrap() {
            crate::handler::Decision::Alert { notification, .. } => {
                notification.subject.as_str().to_owned()
            }
            other => panic!("{other:?}"),
        }
    }

    /// An inbox tells root's calls apart: the subject names the call. A call too long for it
    /// gives way after the account's name and the error code (the headline says it was
    /// refused; the code's mark says there was one), cut at its end and marked, so no cut name
    /// reads as a real one; the account id stays.
    #[test]
    fn an_api_call_subject_names_the_call() {
        let mut event = crate::samples::sample("root-api-call-from-console-session");
        assert_eq!(
            subject_of(&event),
            "[rootwatch] HIGH Root API call: iam:CreateUser - prod-payments (111122223333)"
        );
        event["detail"]["eventSource"] = "support-subscription.amazonaws.com".into();
        event["detail"]["eventName"] = "UpdateProbationAutoCancellationSettingsForAccount".into();
        event["detail"]["errorCode"] = "AccessDenied".into();
        let cut = subject_of(&event);
        assert_eq!(
            cut,
            "[rootwatch] HIGH Root API call refused: support-subscription:UpdateProbation... (...) \
             - 111122223333"
        );
        assert_eq!(cut.len(), SUBJECT_MAX);
    }

    /// A failed sign-in may stop before MFA is asked for, and a password recovery (the request,
    /// or the reset through the emailed link) has no MFA step: no message says whether MFA was
    /// used.
    #[test]
    fn a_failed_sign_in_or_a_password_recovery_states_nothing_of_mfa() {
        let config = crate::config::Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        let messages = |event: &serde_json::Value| match crate::handler::decide(event, &config) {
            Ok(crate::handler::Decision::Alert { notification, .. }) => [
                notification.sms.as_str().to_owned(),
                notification.email_body,
                notification.chat_json,
            ],
            other => panic!("{other:?}"),
        };
        for sample in [
            "root-console-sign-in-failed",
            "root-mfa-check-failed",
            "root-password-recovery-requested",
            "root-password-recovery-completed",
        ] {
            for text in messages(&crate::samples::sample(sample)) {
                assert!(!text.contains("MFA"), "{sample}: {text}");
            }
        }
        // A sign-in that succeeded does say it.
        let [sms, email, chat] = messages(&crate::samples::sample("root-password-changed"));
        assert!(sms.contains("MFA unknown"), "{sms}");
        assert!(email.contains("\nMFA "), "{email}");
        assert!(chat.contains("*MFA:*"), "{chat}");
    }

    #[test]
    fn subject_validity_matches_sns_rules() {
        assert!(is_valid_subject("[rootwatch] HIGH x"));
        assert!(!is_valid_subject(""));
        assert!(!is_valid_subject("a\nb"));
        assert!(!is_valid_subject(&"x".repeat(101)));
    }
}
