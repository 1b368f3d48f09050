//! The `forwarder-failing` alert: which member account and region no longer forwards root events
//! to the home account, and what to check, for phones (one SMS segment), inboxes, chat and
//! machines. Pure.

use std::fmt::Write as _;

use serde_json::json;

use crate::domain::{AccountName, NotificationKind, Severity, SmsLimit, UNKNOWN_REGION};
use crate::forwarder::ForwarderFailure;
use crate::render::chat::{ChatContent, ChatMetadata, ChatNotification, chat_untrusted};
use crate::render::email::{EmailSubject, SUBJECT_MAX};
use crate::render::notification::Notification;
use crate::render::sms::Sms;
use crate::render::time::to_the_second;

/// A forwarder that cannot forward hides every root alert of its account and region: HIGH,
/// texted by default, like the watchdog's blind pipeline.
pub(crate) const SEVERITY: Severity = Severity::High;

const KIND: NotificationKind = NotificationKind::ForwarderFailing;

/// `HIGH rootwatch forwarder failing: acct prod-payments 111122223333 eu-west-1 cannot forward
/// root events home. Fix: see email`. The account's name gives way first.
pub fn render_sms(failure: &ForwarderFailure, limit: SmsLimit) -> Sms {
    let compose = |name: Option<&AccountName>| {
        let mut text = format!("{} rootwatch forwarder failing: acct ", SEVERITY.as_str());
        if let Some(name) = name {
            let _ = write!(text, "{name} ");
        }
        let _ = write!(
            text,
            "{} {} cannot forward root events home. Fix: see email",
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
         The rootwatch forwarder in {account}, region {region}, could not put events on the home \
         bus: its failed-forwards queue holds root events that never reached rootwatch. Until it \
         forwards again, root-user activity in that account and region raises no alert here.\n\n",
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
         1. Read the forwarder stack's failed-forwards queue (its output FailedForwardsQueueUrl): \
         every message is a root event that was not alerted, and its message attributes \
         ERROR_CODE and ERROR_MESSAGE say why EventBridge could not deliver it.\n   \
         aws sqs receive-message --region {region} --queue-url <FailedForwardsQueueUrl> \
         --message-attribute-names All --max-number-of-messages 10\n\
         2. Check the home bus policy (home stack) still admits this account and its forwarder \
         role: organization mode admits the organization's forwarder roles.\n\
         3. Check that no service control policy denies events:PutEvents to this account's \
         forwarder role.\n\
         4. Check the forwarder role (the stack's ForwarderRole) still exists and may \
         events:PutEvents on the home bus; redeploy the forwarder stack if it was changed.\n\
         The queued events are root activity nobody was alerted to: read each one.\n"
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
        "Root events of this account and region are not reaching rootwatch: its failed-forwards \
         queue holds them.",
    );
    let mut next_steps = vec![
        "read the forwarder stack's failed-forwards queue (ERROR_CODE, ERROR_MESSAGE)".to_owned(),
        "check the home bus policy, SCPs on events:PutEvents and the forwarder role".to_owned(),
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
