//! The `pipeline-blind` alert: what is wrong with CloudTrail in the region and how to fix it,
//! for phones (one SMS segment), inboxes and machines. Pure.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::{Account, AccountId, NotificationKind, Severity, SmsLimit};
use crate::render::chat::{ChatContent, ChatMetadata, ChatNotification};
use crate::render::email::EmailSubject;
use crate::render::event::{Health, health_event};
use crate::render::notification::Notification;
use crate::render::sms::Sms;
use crate::sanitize::plain_token;
use crate::watchdog::judge::Finding;

/// A blind pipeline stops every root alert in the region: HIGH, texted by default.
pub(crate) const SEVERITY: Severity = Severity::High;

/// Where and when the check ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub at: DateTime<Utc>,
}

/// `HIGH rootwatch is blind in eu-west-1, acct 111122223333: trail main stopped logging. Root
/// use there is not alerted. Fix: see email`
pub fn render_sms(checked: &Checked, findings: &[Finding], limit: SmsLimit) -> Sms {
    let what = match findings {
        [] => "no problem found".to_owned(),
        [one] => short(one),
        [first, rest @ ..] => format!("{} (+{} more)", short(first), rest.len()),
    };
    Sms::fit(
        &format!(
            "{} rootwatch is blind in {}, acct {}: {what}. Root use there is not alerted. Fix: see email",
            SEVERITY.as_str(),
            plain_token(checked.region, 20),
            plain_token(checked.account, 12),
        ),
        limit,
    )
}

fn short(finding: &Finding) -> String {
    match finding {
        Finding::NoTrail => "no CloudTrail trail".into(),
        Finding::NotLogging { trail, .. } => {
            format!("trail {} stopped logging", plain_token(trail, 40))
        }
        Finding::NoManagementEvents { trail, .. } => {
            format!("trail {} logs no management events", plain_token(trail, 40))
        }
        Finding::CheckFailed { .. } => "the CloudTrail check failed".into(),
    }
}

fn render_subject(checked: &Checked, findings: &[Finding]) -> EmailSubject {
    let what = findings.first().map(short).unwrap_or_default();
    EmailSubject::fit(&format!(
        "[rootwatch] {} CloudTrail does not feed rootwatch in {} ({}): {what}",
        SEVERITY.as_str(),
        checked.region,
        checked.account
    ))
}

/// Each finding with its explanation and the command that fixes it.
fn render_body(checked: &Checked, findings: &[Finding], runbook_url: Option<&str>) -> String {
    let mut body = format!(
        "rootwatch's watchdog found that no CloudTrail trail feeds EventBridge in {region} for \
         account {account} (checked {at}).\n\
         EventBridge receives root API calls and console sign-ins only while a trail that applies \
         to the region is logging and records management events. Until this is fixed, root-user \
         activity in {region} raises no alert.\n",
        region = checked.region,
        account = checked.account,
        at = checked.at.format("%Y-%m-%d %H:%M:%S UTC"),
    );
    for (i, finding) in findings.iter().enumerate() {
        body.push_str(&format!(
            "\n{}. {}\n",
            i + 1,
            explain(finding, checked.region)
        ));
    }
    body.push_str(
        "\nThis alert repeats once a day while the same problem lasts (with the state table); a \
         new problem alerts at once. A healthy check sends nothing.\n",
    );
    if let Some(url) = runbook_url {
        body.push_str(&format!("Runbook: {url}\n"));
    }
    body
}

fn explain(finding: &Finding, region: &str) -> String {
    match finding {
        Finding::NoTrail => format!(
            "No trail applies to {region}: there is neither a trail whose home region it is nor \
             a multi-region trail.\n   Fix: create a multi-region trail and start it:\n   \
             aws cloudtrail create-trail --name management-events --s3-bucket-name <bucket> \
             --is-multi-region-trail --region {region}\n   \
             aws cloudtrail start-logging --name management-events --region {region}\n   \
             (the bucket needs CloudTrail's bucket policy; in an organization, an organization \
             trail in the management account covers every member account)"
        ),
        Finding::NotLogging {
            trail,
            trail_arn,
            home_region,
        } => format!(
            "Trail {trail} ({trail_arn}) is not logging: someone stopped it, or it was never \
             started.\n   Fix: aws cloudtrail start-logging --name {trail_arn} --region \
             {home_region}\n   Then find out who stopped it: look up StopLogging in the \
             CloudTrail event history."
        ),
        Finding::NoManagementEvents {
            trail,
            trail_arn,
            home_region,
        } => format!(
            "Trail {trail} ({trail_arn}) is logging, but its event selectors record no \
             management events.\n   Fix: aws cloudtrail put-event-selectors --trail-name \
             {trail_arn} --region {home_region} --event-selectors \
             '[{{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true}}]'\n   (with \
             advanced event selectors, add one whose eventCategory equals Management)"
        ),
        Finding::CheckFailed { error } => format!(
            "The check itself failed, so rootwatch cannot tell whether CloudTrail is on: \
             {error}\n   Fix: make sure the function's role may call cloudtrail:DescribeTrails, \
             cloudtrail:GetTrailStatus and cloudtrail:GetEventSelectors (template.yaml grants \
             them) and that CloudTrail answers in {region}."
        ),
    }
}

/// The one SNS message for a blind region. `event_id` is the scheduled event's id, for logs.
pub fn render(
    checked: &Checked,
    findings: &[Finding],
    event_id: Option<String>,
    sms_limit: SmsLimit,
    runbook_url: Option<&str>,
) -> Notification {
    let alert_json = json!({
        "kind": NotificationKind::PipelineBlind.as_str(),
        "severity": SEVERITY.as_str(),
        "account": checked.account,
        "region": checked.region,
        "checkedAt": checked.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "findings": findings,
    });
    let subject = render_subject(checked, findings);
    let email_body = render_body(checked, findings, runbook_url);
    let chat = ChatNotification::new(
        ChatContent {
            text_type: "client-markdown",
            title: subject.as_str().to_owned(),
            description: email_body.clone(),
            next_steps: runbook_url
                .map(|url| vec![format!("Follow the runbook: {url}")])
                .unwrap_or_default(),
            keywords: vec![
                SEVERITY.as_str().to_owned(),
                NotificationKind::PipelineBlind.as_str().to_owned(),
                checked.account.to_owned(),
            ],
        },
        ChatMetadata {
            thread_id: format!("rootwatch#watchdog#{}#{}", checked.account, checked.region),
            summary: subject.as_str().to_owned(),
            event_type: NotificationKind::PipelineBlind.as_str().to_owned(),
            related_resources: Vec::new(),
            additional_context: [("region", checked.region.to_owned())]
                .into_iter()
                .collect(),
        },
        None,
    );
    let account = Account {
        id: AccountId::parse(checked.account),
        name: None,
    };
    let event = health_event(&Health {
        kind: NotificationKind::PipelineBlind,
        severity: SEVERITY,
        account: &account,
        region: checked.region,
        time: Some(checked.at),
        title: subject.as_str(),
        session: &format!("{}#pipeline-blind#{}", checked.account, checked.region),
        event_id: event_id.as_deref(),
    });
    Notification {
        event_id,
        severity: SEVERITY,
        kind: NotificationKind::PipelineBlind,
        subject,
        sms: render_sms(checked, findings, sms_limit),
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
    use crate::render::email::is_valid_subject;

    fn checked() -> Checked<'static> {
        Checked {
            account: "111122223333",
            region: "eu-west-1",
            at: DateTime::parse_from_rfc3339("2026-11-22T03:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    fn stopped(name: &str) -> Finding {
        Finding::NotLogging {
            trail: name.into(),
            trail_arn: format!("arn:aws:cloudtrail:us-east-1:111122223333:trail/{name}"),
            home_region: "us-east-1".into(),
        }
    }

    #[test]
    fn the_sms_says_where_and_what_within_the_budget() {
        let limit = SmsLimit::after_display_name("rootwatch").unwrap();
        let sms = render_sms(&checked(), &[Finding::NoTrail], limit);
        assert_eq!(
            sms.as_str(),
            "HIGH rootwatch is blind in eu-west-1, acct 111122223333: no CloudTrail trail. \
             Root use there is not alerted. Fix: see email"
        );
        let long = stopped(&"x".repeat(128));
        let sms = render_sms(&checked(), &[long, Finding::NoTrail], limit);
        assert!(Sms::new(sms.as_str(), limit).is_ok(), "{sms}");
        assert!(
            sms.as_str()
                .starts_with("HIGH rootwatch is blind in eu-west-1, acct 111122223333")
        );
    }

    #[test]
    fn the_email_gives_the_fix_for_each_finding() {
        let findings = [
            stopped("main"),
            Finding::NoManagementEvents {
                trail: "data".into(),
                trail_arn: "arn:aws:cloudtrail:eu-west-1:111122223333:trail/data".into(),
                home_region: "eu-west-1".into(),
            },
        ];
        let body = render_body(&checked(), &findings, Some("https://wiki.example.com/rb"));
        assert!(body.contains(
            "aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:111122223333:trail/main --region us-east-1"
        ));
        assert!(body.contains(
            "put-event-selectors --trail-name arn:aws:cloudtrail:eu-west-1:111122223333:trail/data"
        ));
        assert!(body.contains("Runbook: https://wiki.example.com/rb"));
        let none = render_body(&checked(), &[Finding::NoTrail], None);
        assert!(none.contains("--is-multi-region-trail"));
        let failed = render_body(
            &checked(),
            &[Finding::CheckFailed {
                error: "AccessDenied".into(),
            }],
            None,
        );
        assert!(failed.contains("The check itself failed"));
        assert!(failed.contains("AccessDenied"));
    }

    #[test]
    fn the_notification_is_a_high_pipeline_blind_page() {
        let n = render(
            &checked(),
            &[Finding::NoTrail],
            None,
            SmsLimit::WHOLE_SEGMENT,
            None,
        );
        assert_eq!(n.kind.as_str(), "pipeline-blind");
        assert_eq!(n.severity, Severity::High);
        assert!(n.page);
        assert!(
            is_valid_subject(n.subject.as_str()),
            "{}",
            n.subject.as_str()
        );
        let json: serde_json::Value = serde_json::from_str(&n.alert_json).unwrap();
        assert_eq!(json["kind"], "pipeline-blind");
        assert_eq!(json["findings"][0]["finding"], "no-trail");
        assert_eq!(json["region"], "eu-west-1");
    }
}
