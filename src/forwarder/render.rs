//! The `forwarder-failing` alert: which member account and region could not forward some events
//! to the home account (the root events among them were never alerted), and what to do, for
//! phones (one SMS segment), inboxes, chat and machines. Pure.
//!
//! The alarm's own state change comes home by the path it watches, so when this alert arrives the
//! path works: it reports failures that leave the path working (throttling, an outage of the home
//! bus that ended), never a path that refuses the forwarder — that one is silent, this alarm
//! included. The words say so (docs/organizations.md, "A forwarder that cannot forward").

use std::fmt::Write as _;

use serde_json::json;

use crate::domain::{AccountName, NotificationKind, Severity, SmsLimit, UNKNOWN_REGION};
use crate::forwarder::ForwarderFailure;
use crate::render::chat::{ChatContent, ChatMetadata, ChatNotification, chat_untrusted};
use crate::render::email::{EmailSubject, SUBJECT_MAX};
use crate::render::event::{Health, health_event};
use crate::render::notification::Notification;
use crate::render::sms::Sms;
use crate::render::time::to_the_second;

/// Root events a forwarder could not forward were never alerted: HIGH, texted by default, like the
/// watchdog's blind pipeline.
pub(crate) const SEVERITY: Severity = Severity::High;

const KIND: NotificationKind = NotificationKind::ForwarderFailing;

/// `HIGH rootwatch forwarder failing: acct prod-payments 111122223333 eu-west-1 could not forward
/// some root events home. See email`. The account's name gives way first.
pub fn render_sms(failure: &ForwarderFailure, limit: SmsLimit) -> Sms {
    let compose = |name: Option<&AccountName>| {
        let mut text = format!("{} rootwatch forwarder failing: acct ", SEVERITY.as_str());
        if let Some(name) = name {
            let _ = write!(text, "{name} ");
        }
        let _ = write!(
            text,
            "{} {} could not forward some root events home. See email",
            failure.account.id_or_unknown(),
            failure.region
        );
        text
    };
    let named = compose(failure.account.name.as_ref());
    if named.chars().count() <= limit.body_max() {
        return Sms::fit_owned(named, limit);
    }
    Sms::fit_owned(compose(None), limit)
}

/// `[rootwatch] HIGH Forwarder failing in eu-west-1 - prod-payments (111122223333)`; the
/// account's name gives way first.
fn render_subject(failure: &ForwarderFailure) -> EmailSubject {
    let start = format!(
        "[rootwatch] {} Forwarder failing in {} - ",
        SEVERITY.as_str(),
        failure.region
    );
    let named = format!("{start}{}", failure.account.label());
    if named.len() <= SUBJECT_MAX {
        return EmailSubject::fit_owned(named);
    }
    EmailSubject::fit_owned(format!("{start}{}", failure.account.id_or_unknown()))
}

/// What happened, the facts, and what to check, in the order a responder checks it.
fn render_body(failure: &ForwarderFailure, runbook_url: Option<&str>) -> String {
    let account = failure.account.label().to_string();
    let id = failure.account.id_or_unknown();
    let region = &failure.region;
    let mut body = format!(
        "{severity} - rootwatch forwarder failing in {region}\n\n\
         The rootwatch forwarder in {account}, region {region}, could not put some events on the \
         home bus. They wait in its failed-forwards queue, and the root events among them never \
         reached rootwatch: nobody was alerted to them. This alert came home by the same path, so \
         the path was working when it was sent: what it reports is a failure that left the path \
         working, such as throttling or an outage of the home bus that outlasted EventBridge's \
         retries. A path that refuses the forwarder (the home bus policy, a service control \
         policy, the forwarder role) reports nothing, this alarm included.\n\n",
        severity = SEVERITY.as_str(),
    );
    let since = failure
        .since
        .map_or_else(|| "unknown".to_owned(), |t| to_the_second(t).to_string());
    for (label, value) in [
        ("What", "rootwatch forwarder failing"),
        ("Severity", SEVERITY.as_str()),
        ("Account", account.as_str()),
        ("Region", region.as_str()),
        ("Since (UTC)", since.as_str()),
        ("Alarm", failure.alarm_name.as_str()),
    ] {
        let _ = writeln!(body, "{label:<12} {value}");
    }
    if let Some(reason) = &failure.reason {
        let _ = writeln!(
            body,
            "{:<12} (CloudWatch, or whoever set the alarm) {reason}",
            "Reason"
        );
    }
    if let Some(event_id) = &failure.event_id {
        let _ = writeln!(body, "{:<12} {event_id}", "Event ID");
    }
    let _ = write!(
        body,
        "\nWhat to do, in account {id}, region {region}:\n\
         1. Read the forwarder stack's failed-forwards queue (its output FailedForwardsQueueUrl). \
         A message is either a root event nobody was alerted to - read each one as you would an \
         alert - or a state change of this alarm whose own forward failed. Its message \
         attributes ERROR_CODE and ERROR_MESSAGE say why EventBridge could not deliver it.\n   \
         aws sqs receive-message --region {region} --queue-url <FailedForwardsQueueUrl> \
         --message-attribute-names All --max-number-of-messages 10\n\
         2. If the codes are THROTTLING, TIMEOUT or INTERNAL_ERROR, the failure has passed. A \
         refusal (NO_PERMISSIONS, \
         FAILED_TO_ASSUME_ROLE, CROSS_ACCOUNT_INGESTION_FAILED) means the path refused the \
         forwarder for a while and has let this alert through since: find what changed in the \
         home bus policy, the service control policies on events:PutEvents or the forwarder role \
         (the stack's ForwarderRole), as it can refuse again without any alert.\n\
         3. Once every message is read, empty the queue: while messages wait the alarm stays in \
         ALARM and cannot report the next failure.\n   \
         aws sqs purge-queue --region {region} --queue-url <FailedForwardsQueueUrl>\n\
         4. A path that refuses is silent: after any change to the home stack, the service \
         control policies or the forwarder stacks, prove each member account and region end to \
         end (a root call there must alert here).\n"
    );
    if let Some(url) = console_url(failure) {
        let _ = writeln!(body, "\nOpen the alarm: {url}");
    }
    if let Some(url) = runbook_url {
        let _ = writeln!(body, "Runbook: {url}");
    }
    body.push_str("-- rootwatch\n");
    body
}

/// The alarm in the CloudWatch console of its region, when the region is known; the name is
/// percent-encoded (it is the URL's last part).
fn console_url(failure: &ForwarderFailure) -> Option<String> {
    if failure.region == UNKNOWN_REGION {
        return None;
    }
    let mut name = String::with_capacity(failure.alarm_name.len());
    for byte in failure.alarm_name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.".contains(&byte) {
            name.push(char::from(byte));
        } else {
            let _ = write!(name, "%{byte:02X}");
        }
    }
    Some(format!(
        "https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}",
        region = failure.region
    ))
}

/// The chat message: the facts and the checks, caller-chosen text inert.
fn render_chat(
    failure: &ForwarderFailure,
    subject: &EmailSubject,
    runbook_url: Option<&str>,
) -> ChatNotification {
    let mut description = format!(
        "*Account:* {}\n*Region:* {}\n*Alarm:* {}\n",
        failure.account.label(),
        failure.region,
        chat_untrusted(&failure.alarm_name),
    );
    if let Some(since) = failure.since {
        let _ = writeln!(description, "*Since:* {}", to_the_second(since));
    }
    if let Some(reason) = &failure.reason {
        let _ = writeln!(description, "*Reason:* {}", chat_untrusted(reason));
    }
    description.push_str(
        "This forwarder could not put some events on the home bus: the root events among them \
         never reached rootwatch, and wait in its failed-forwards queue beside any of this \
         alarm's own forwards that failed. This alert came by the same path, so it was working \
         then; a path that refuses the forwarder reports nothing.",
    );
    let mut next_steps = vec![
        "read the forwarder stack's failed-forwards queue: each root event in it was never \
         alerted (ERROR_CODE, ERROR_MESSAGE say why)"
            .to_owned(),
        "a refusal there (NO_PERMISSIONS, FAILED_TO_ASSUME_ROLE): find what changed in the home \
         bus policy, SCPs on events:PutEvents or the forwarder role"
            .to_owned(),
        "empty the queue once read, so the alarm can report the next failure".to_owned(),
    ];
    next_steps.extend(console_url(failure).map(|url| format!("open the alarm: {url}")));
    next_steps.extend(runbook_url.map(|url| format!("follow the runbook: {url}")));
    ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title: subject.as_str().to_owned(),
            description,
            next_steps,
            keywords: vec![
                SEVERITY.as_str().to_owned(),
                KIND.as_str().to_owned(),
                failure.account.id_or_unknown().to_owned(),
            ],
        },
        ChatMetadata {
            thread_id: format!(
                "rootwatch#forwarder#{}#{}",
                failure.account.id_or_unknown(),
                failure.region
            ),
            summary: subject.as_str().to_owned(),
            event_type: KIND.as_str().to_owned(),
            related_resources: Vec::new(),
            additional_context: [("region", failure.region.clone())].into_iter().collect(),
        },
        None,
    )
}

/// The one SNS message for a failing forwarder.
pub fn render(
    failure: &ForwarderFailure,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let alert_json = json!({
        "kind": KIND.as_str(),
        "severity": SEVERITY.as_str(),
        "account": failure.account,
        "region": failure.region,
        "alarmName": failure.alarm_name,
        "since": failure.since.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "reason": failure.reason,
        "eventId": failure.event_id,
    });
    let subject = render_subject(failure);
    let chat = render_chat(failure, &subject, runbook_url);
    let session = format!(
        "{}#forwarder#{}",
        failure.account.id_or_unknown(),
        failure.region
    );
    let event = health_event(&Health {
        kind: KIND,
        severity: SEVERITY,
        account: &failure.account,
        region: &failure.region,
        time: failure.since,
        title: subject.as_str(),
        session: &session,
        event_id: failure.event_id.as_deref(),
    });
    Notification {
        event_id: failure.event_id.clone(),
        severity: SEVERITY,
        kind: KIND,
        sms: render_sms(failure, sms_limit),
        email_body: render_body(failure, runbook_url),
        subject,
        alert_json: alert_json.to_string(),
        chat_json: chat.to_json(),
        page: true,
        event,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Account, AccountId};
    use crate::render::email::is_valid_subject;

    fn failure(name: Option<&str>) -> ForwarderFailure {
        ForwarderFailure {
            account: Account {
                id: AccountId::parse("444455556666"),
                name: name.and_then(AccountName::from_untrusted),
            },
            region: "ap-southeast-7".into(),
            alarm_name: format!("{}{}", crate::forwarder::ALARM_NAME_PREFIX, "x".repeat(200)),
            reason: Some("Threshold Crossed".into()),
            since: Some("2026-11-21T05:12:40Z".parse().unwrap()),
            event_id: Some("5f2a7c1e-3b9d-4e8f-a6c4-2d1e0f9b8a7c".into()),
        }
    }

    /// The longest name gives way, in the SMS and the subject; the id and region stay.
    #[test]
    fn the_account_name_gives_way_first() {
        let long = failure(Some(&"n".repeat(50)));
        let limit = SmsLimit::after_display_name("rootwatch").unwrap();
        let sms = render_sms(&long, limit);
        assert!(Sms::new(sms.as_str(), limit).is_ok(), "{sms}");
        assert!(
            sms.as_str().contains("444455556666 ap-southeast-7"),
            "{sms}"
        );
        let subject = render_subject(&long);
        assert!(is_valid_subject(subject.as_str()), "{}", subject.as_str());
        assert!(
            subject.as_str().ends_with("- 444455556666"),
            "{}",
            subject.as_str()
        );
        let short = render_sms(&failure(Some("payments")), limit);
        assert!(
            short.as_str().contains("acct payments 444455556666"),
            "{short}"
        );
    }

    #[test]
    fn the_alarm_link_encodes_the_name() {
        let mut f = failure(None);
        f.alarm_name = "rootwatch-forwarder-failing-a b/c#d".into();
        assert_eq!(
            console_url(&f).unwrap(),
            "https://ap-southeast-7.console.aws.amazon.com/cloudwatch/home?region=ap-southeast-7\
             #alarmsV2:alarm/rootwatch-forwarder-failing-a%20b%2Fc%23d"
        );
        f.region = UNKNOWN_REGION.into();
        assert_eq!(console_url(&f), None);
    }

    /// The alert came home by the path it watches, so nothing it says may claim that path is
    /// broken: it reports a failure that left the path working, a path that refuses reports
    /// nothing, the queue also holds the alarm's own failed forwards, and it must be emptied
    /// once read for the alarm to report again.
    #[test]
    fn the_words_claim_no_more_than_the_alarm_can_report() {
        let n = render(&failure(None), SmsLimit::WHOLE_SEGMENT, None);
        let chat: serde_json::Value = serde_json::from_str(&n.chat_json).unwrap();
        let chat = chat["content"].to_string();
        for text in [n.sms.as_str(), &n.email_body, &chat] {
            for claim in [
                "cannot forward",
                "raises no alert",
                "not reaching rootwatch",
            ] {
                assert!(!text.contains(claim), "{claim:?} in {text}");
            }
        }
        for said in [
            "the path was working when it was sent",
            "reports nothing, this alarm included",
            "or a state change of this alarm whose own forward failed",
            "aws sqs purge-queue --region ap-southeast-7",
            "cannot report the next failure",
        ] {
            assert!(
                n.email_body.contains(said),
                "{said:?} not in {}",
                n.email_body
            );
        }
        for said in [
            "a path that refuses the forwarder reports nothing",
            "this alarm's own forwards",
            "empty the queue once read",
        ] {
            assert!(chat.contains(said), "{said:?} not in {chat}");
        }
    }

    #[test]
    fn the_notification_is_a_high_forwarder_failing_page() {
        let n = render(&failure(None), SmsLimit::WHOLE_SEGMENT, None);
        assert_eq!(n.kind.as_str(), "forwarder-failing");
        assert_eq!(n.severity, Severity::High);
        assert!(n.page);
        let json: serde_json::Value = serde_json::from_str(&n.alert_json).unwrap();
        assert_eq!(json["account"]["id"], "444455556666");
        assert_eq!(json["region"], "ap-southeast-7");
        assert!(
            n.email_body
                .contains("aws sqs receive-message --region ap-southeast-7")
        );
    }
}
