//! Enrichment: a classified event becomes an [`Alert`] with everything a responder needs.
//!
//! Every field that came from the event is either validated (ids, IPs, regions) or passed
//! through [`untrusted_line`]; renderers can rely on that.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::detect::allowances::Allowance;
use crate::detect::classify::Verdict;
use crate::detect::record::ParsedEvent;
use crate::domain::{
    Account, AccountId, AlertKind, Coverage, CredentialKind, Declaration, DeclarationStatus,
    MfaState, NotedUse, Severity, UNKNOWN_REGION, is_region_code,
};
use crate::sanitize::{plain_token, untrusted_line};

/// Caps for untrusted text in the email; long enough to be useful, short enough to read.
const MAX_USER_AGENT: usize = 200;
const MAX_ERROR_MESSAGE: usize = 200;
const MAX_REQUEST_PARAMETERS: usize = 400;

/// An alert, ready to render. Also the `email-json` message, so its field names are an interface.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    /// The allowance that lowered the severity from the rule's, when one did
    /// ([`crate::detect::allowances`]); with [`Alert::rule_severity`], the rule's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowance: Option<&'static Allowance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_severity: Option<Severity>,
    /// What happened in a few words: the rule's headline for this event, or its failed-attempt
    /// headline.
    pub headline: &'static str,
    /// The call as `service:Name` (`s3:CreateBucket`), where messages name it: every API call,
    /// and a sign-in event under a rule for any sign-in step. (The structured alert has
    /// `eventSource` and `eventName`.)
    #[serde(skip)]
    pub call: Option<Call>,
    /// The rule that decided, and the public reference it rests on.
    pub rule: &'static str,
    pub reference: &'static str,
    pub account: Account,
    /// The caller's own account, when it is not the account the event was recorded in: the root
    /// user of another account acted here (through a resource policy that admits it).
    pub external_caller: Option<AccountId>,
    /// A validated region code, or [`UNKNOWN_REGION`].
    pub region: String,
    /// `detail.eventTime`, else the envelope's `time`; `None` when neither could be read.
    pub event_time: Option<DateTime<Utc>>,
    pub source_ip: SourceIp,
    /// Untrusted: chosen by the caller.
    pub user_agent: Option<String>,
    pub mfa: MfaState,
    /// Serialised as `outcome`, the structured alert's name for it.
    #[serde(rename = "outcome")]
    pub attempt: Attempt,
    pub event_source: String,
    pub event_name: String,
    pub credential: CredentialKind,
    /// The access key id, when one was used (not a secret; it names the key to disable).
    pub access_key_id: Option<String>,
    /// For `sts:AssumeRoot` sessions: who in the management account the credentials went to.
    pub assume_root_issued_to: Option<String>,
    /// Untrusted: chosen by the caller. Compact JSON, capped.
    pub request_parameters: Option<String>,
    pub event_id: Option<String>,
    /// Only when the event had a well-formed id and region.
    pub console_url: Option<String>,
    pub runbook_url: Option<String>,
    /// Fields of the event that were present but could not be read (JSON paths).
    pub unreadable_fields: Vec<&'static str>,
    /// Whether the root use was declared; left out of the structured alert when declarations
    /// are off.
    #[serde(skip_serializing_if = "DeclarationStatus::is_off")]
    pub declaration: DeclarationStatus,
}

impl Alert {
    /// One root session: the credentials' access key for API calls (a console session's `ASIA…`
    /// key, or the long-term `AKIA…` key), the source IP for sign-ins and calls without a key.
    /// SMS coalescing and chat threads are per root session.
    pub fn root_session(&self) -> String {
        let account = self.account.id_or_unknown();
        let by_key = self.access_key_id.as_deref().filter(|_| {
            matches!(
                self.credential,
                CredentialKind::ConsoleSession
                    | CredentialKind::LongTermKey
                    | CredentialKind::TemporaryKey
                    | CredentialKind::AssumeRoot
            )
        });
        match (by_key, &self.source_ip) {
            (Some(key), _) => format!("{account}#key#{key}"),
            (None, ip) => format!("{account}#ip#{}", ip.display()),
        }
    }

    /// The headline, the call and, when the attempt failed, the error code: what the email and
    /// chat say first (`Root API call: s3:CreateBucket (AccessDenied)`). Written into the message
    /// being built, not allocated, like the other pieces of wording.
    pub fn title(&self) -> impl fmt::Display + '_ {
        Title(self)
    }

    /// Declared and below CRITICAL: email and chat only.
    pub fn quieted(&self) -> bool {
        self.severity < Severity::Critical && self.declaration.declared().is_some()
    }

    pub fn failed(&self) -> bool {
        self.attempt != Attempt::Success
    }

    /// The error code of a failed attempt.
    pub(crate) fn error_code(&self) -> Option<&str> {
        match &self.attempt {
            Attempt::Failure {
                error_code: Some(code),
                ..
            } => Some(code),
            _ => None,
        }
    }

    /// Whether the messages say if MFA was used: not for a failed sign-in, which may have
    /// stopped before MFA was asked for, and not for a password recovery, which has no MFA step
    /// (the request is a form, the reset a link sent to the root address; MFA is asked at the
    /// next sign-in).
    pub(crate) fn states_mfa(&self) -> bool {
        let recovery = matches!(
            self.kind,
            AlertKind::PasswordRecoveryRequested | AlertKind::PasswordRecoveryCompleted
        );
        !(recovery || (self.kind.is_sign_in() && self.failed()))
    }
}

/// What the account's announced window (`Some` when one was found, `None` when the account has
/// none) says of this alert. CloudTrail hides the IP of a console call through an AWS proxy
/// (`AWS Internal`); its console session's sign-in was checked, so it counts as inside a
/// declared source range. A declaration speaks for the account's own root user only: another
/// account's root user acting here is not declared by it.
pub fn declaration_status(alert: &Alert, window: Option<&Declaration>) -> DeclarationStatus {
    let Some(declaration) = window else {
        return DeclarationStatus::None;
    };
    if alert.external_caller.is_some() {
        return DeclarationStatus::None;
    }
    let ip = match alert.source_ip {
        SourceIp::Ip(ip) => Some(ip),
        _ => None,
    };
    let proxied = alert.source_ip.aws_name() == Some(AWS_INTERNAL)
        && alert.credential == CredentialKind::ConsoleSession;
    match declaration.covers(alert.event_time, ip, proxied) {
        Coverage::Declared => DeclarationStatus::Declared(Box::new(declaration.clone())),
        Coverage::OutsideSource => DeclarationStatus::OutsideSource(Box::new(declaration.clone())),
        Coverage::NotDeclared => DeclarationStatus::None,
    }
}

/// The use as a window's report lists it.
pub fn noted_use(alert: &Alert, time: DateTime<Utc>) -> NotedUse {
    let service = alert
        .event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(&alert.event_source);
    NotedUse {
        time,
        call: format!("{service}:{}", alert.event_name),
        // An IP or AWS's own name for one; any other text stays in the alert's email.
        ip: match &alert.source_ip {
            SourceIp::Ip(ip) => ip.to_string(),
            SourceIp::Missing => "unknown".to_owned(),
            other => other.aws_name().unwrap_or("not an IP").to_owned(),
        },
        outcome: match &alert.attempt {
            Attempt::Success => "succeeded".to_owned(),
            Attempt::Failure {
                error_code: Some(code),
                ..
            } => format!("failed ({code})"),
            Attempt::Failure { .. } => "failed".to_owned(),
        },
        severity: alert.severity.as_str().to_owned(),
        kind: alert.kind.as_str().to_owned(),
        declared: alert.declaration.declared().is_some(),
    }
}

struct Title<'a>(&'a Alert);

impl fmt::Display for Title<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.headline)?;
        if let Some(call) = &self.0.call {
            write!(f, ": {}", call.text)?;
        }
        match self.0.error_code() {
            Some(code) => write!(f, " ({code})"),
            None => Ok(()),
        }
    }
}

/// The call an alert names, `iam:CreateUser` (from `iam.amazonaws.com` and `CreateUser`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub text: String,
    /// The rule's headline does not say which call it was (a rule for any call): the call is
    /// the news, so a message that runs short cuts its end rather than dropping it. Otherwise
    /// the headline says what happened and the call gives way first, whole.
    pub is_news: bool,
}

impl Call {
    fn of(event_source: &str, event_name: &str, is_news: bool) -> Self {
        let service = event_source
            .strip_suffix(".amazonaws.com")
            .unwrap_or(event_source);
        Call {
            text: format!("{service}:{event_name}"),
            is_news,
        }
    }
}

/// Where the request came from. CloudTrail puts an IP here for people and a service name
/// (`AWS Internal`, `iam.amazonaws.com`) for AWS itself, shown as CloudTrail writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SourceIp {
    Ip(IpAddr),
    /// Not an IP: kept as a short plain token.
    Other(String),
    Missing,
}

impl SourceIp {
    fn parse(text: Option<&str>) -> Self {
        match text.map(str::trim) {
            None | Some("") => SourceIp::Missing,
            Some(t) => t
                .parse()
                .map(SourceIp::Ip)
                .unwrap_or_else(|_| SourceIp::Other(untrusted_line(t, 60))),
        }
    }

    /// The IP, the token CloudTrail wrote, or `unknown`.
    pub fn display(&self) -> impl fmt::Display + '_ {
        ShownIp(self)
    }

    /// CloudTrail's name for AWS where an IP would be: `AWS Internal` (a console session's call
    /// made through an AWS proxy; CloudTrail User Guide, "CloudTrail record contents",
    /// `sourceIPAddress`) or a service's DNS name (`cloudformation.amazonaws.com`). No longer
    /// than an IPv6 address, so it fits wherever an IP does.
    pub(crate) fn aws_name(&self) -> Option<&str> {
        let SourceIp::Other(text) = self else {
            return None;
        };
        let service = text
            .strip_suffix(".amazonaws.com")
            .or_else(|| text.strip_suffix(".amazonaws.com.cn"))
            .is_some_and(|host| {
                !host.is_empty()
                    && host
                        .split('.')
                        .all(|label| !label.is_empty() && label.bytes().all(is_dns_byte))
            });
        (text.len() <= MAX_IP_TEXT && (text == AWS_INTERNAL || service)).then_some(text.as_str())
    }
}

/// What CloudTrail writes for the source of a console call made through an AWS proxy.
pub(crate) const AWS_INTERNAL: &str = "AWS Internal";

/// The longest IP as text: eight groups of four hex digits.
const MAX_IP_TEXT: usize = 39;

fn is_dns_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'
}

struct ShownIp<'a>(&'a SourceIp);

impl fmt::Display for ShownIp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SourceIp::Ip(IpAddr::V4(ip)) => {
                // As `Ipv4Addr` writes itself, without a formatter call for each octet.
                let mut text = [0u8; 15];
                let mut len = 0;
                for (i, octet) in ip.octets().into_iter().enumerate() {
                    if i > 0 {
                        text[len] = b'.';
                        len += 1;
                    }
                    if octet >= 100 {
                        text[len] = b'0' + octet / 100;
                        len += 1;
                    }
                    if octet >= 10 {
                        text[len] = b'0' + octet / 10 % 10;
                        len += 1;
                    }
                    text[len] = b'0' + octet % 10;
                    len += 1;
                }
                f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
            }
            SourceIp::Ip(ip) => write!(f, "{ip}"),
            SourceIp::Other(text) if !text.is_empty() => f.write_str(text),
            _ => f.write_str("unknown"),
        }
    }
}

/// Whether the root user's attempt succeeded, and if not, how it failed (from `errorCode`
/// and `errorMessage`). The structured alert calls it `outcome`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum Attempt {
    Success,
    Failure {
        error_code: Option<String>,
        /// Untrusted: may echo what the caller sent.
        error_message: Option<String>,
    },
}

impl Attempt {
    /// `succeeded`, `FAILED`, or `FAILED: ` with the error code and message.
    pub fn describe(&self) -> impl fmt::Display + '_ {
        Described(self)
    }
}

struct Described<'a>(&'a Attempt);

impl fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Attempt::Success => f.write_str("succeeded"),
            Attempt::Failure {
                error_code,
                error_message,
            } => {
                f.write_str("FAILED")?;
                for part in [error_code, error_message].into_iter().flatten() {
                    write!(f, ": {part}")?;
                }
                Ok(())
            }
        }
    }
}

/// The account the event happened in (the source account, whichever account's function
/// handles it): the record's `recipientAccountId`, else the envelope's `account`, else the
/// caller's own account; the first that is 12 digits. The record comes first, as for the region:
/// EventBridge keeps the source's envelope across accounts, but a forwarder that re-puts events
/// (a Lambda calling PutEvents, or moto's bus-to-bus targets) stamps its own account on it.
pub fn event_account(parsed: &ParsedEvent) -> Option<AccountId> {
    let event = &parsed.event;
    let record = &event.detail;
    [
        record.recipient_account_id.as_deref(),
        event.account.as_deref(),
        record.user_identity.account_id.as_deref(),
    ]
    .into_iter()
    .flatten()
    .find_map(AccountId::parse)
}

/// Builds the alert for a classified root event. Never fails: a field that could not be read
/// is shown as unknown and listed in [`Alert::unreadable_fields`]. `account` is the event's
/// account ([`event_account`]) with the name already chosen for it, and `runbook_url` the link
/// every message ends with: enrich only puts them in. Whether the use was declared is set
/// after, from the alert's own time and source ([`Alert::declaration`]).
pub fn enrich(
    parsed: &ParsedEvent,
    verdict: Verdict,
    account: Account,
    runbook_url: Option<&str>,
) -> Alert {
    let Verdict {
        kind,
        severity,
        rule,
        headline,
        credential,
        mfa,
        failed,
        allowance,
    } = verdict;
    let event = &parsed.event;
    let record = &event.detail;
    let event_id = record.valid_event_id().map(str::to_owned);
    // The region becomes part of a console URL: only a well-formed region code is used.
    let region = [record.aws_region.as_deref(), event.region.as_deref()]
        .into_iter()
        .flatten()
        .find(|r| is_region_code(r))
        .map(str::to_owned);
    let event_time = record.event_time.get().copied().or(event.time);

    let external_caller = record
        .user_identity
        .account_id
        .as_deref()
        .and_then(AccountId::parse)
        .filter(|caller| account.id.as_ref().is_some_and(|here| here != caller));
    let attempt = if failed {
        Attempt::Failure {
            error_code: record.error_code.as_deref().map(|c| plain_token(c, 60)),
            error_message: record
                .error_message
                .as_deref()
                .map(|m| untrusted_line(m, MAX_ERROR_MESSAGE)),
        }
    } else {
        Attempt::Success
    };

    let console_url = match (&region, &event_id) {
        (Some(region), Some(id)) => Some(format!(
            "https://{region}.console.aws.amazon.com/cloudtrailv2/home?region={region}#/events/{id}"
        )),
        _ => None,
    };
    let request_parameters = record.request_parameters.get().map(|p| {
        untrusted_line(
            &serde_json::to_string(&p.0).unwrap_or_default(),
            MAX_REQUEST_PARAMETERS,
        )
    });

    let event_source = plain_token(&record.event_source, 60);
    let event_name = plain_token(&record.event_name, 60);
    // Sign-in rules that name their event say what it was; the rest leave it to the call.
    let call = (!kind.is_sign_in() || rule.events.is_any())
        .then(|| Call::of(&event_source, &event_name, rule.events.is_any()));

    Alert {
        kind,
        severity,
        allowance,
        rule_severity: allowance.map(|_| rule.severity),
        headline,
        call,
        rule: rule.id,
        reference: rule.reference,
        external_caller,
        account,
        region: region.unwrap_or_else(|| UNKNOWN_REGION.to_owned()),
        event_time,
        source_ip: SourceIp::parse(record.source_ip_address.as_deref()),
        user_agent: record
            .user_agent
            .as_deref()
            .map(|ua| untrusted_line(ua, MAX_USER_AGENT))
            .filter(|ua| !ua.is_empty()),
        mfa,
        attempt,
        event_source,
        event_name,
        credential,
        access_key_id: record
            .user_identity
            .access_key_id
            .as_deref()
            .map(|k| plain_token(k, 32))
            .filter(|k| !k.is_empty()),
        assume_root_issued_to: record
            .user_identity
            .in_scope_of
            .get()
            .and_then(|s| {
                s.credentials_issued_to
                    .as_deref()
                    .or(s.issuer_account_id.as_deref())
            })
            .map(|who| plain_token(who, 120)),
        request_parameters,
        event_id,
        console_url,
        runbook_url: runbook_url.map(str::to_owned),
        unreadable_fields: parsed.unreadable.clone(),
        declaration: DeclarationStatus::Off,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Only CloudTrail's own names for AWS stand in for an IP on a phone; any other text does not.
    #[test]
    fn aws_names_are_told_from_other_text() {
        let name = |text: &str| SourceIp::parse(Some(text)).aws_name().map(str::to_owned);
        for aws in [
            "AWS Internal",
            "cloudformation.amazonaws.com",
            "elasticloadbalancing.amazonaws.com",
            "s3.cn-north-1.amazonaws.com.cn",
        ] {
            assert_eq!(name(aws).as_deref(), Some(aws));
        }
        for other in [
            "aws internal",
            "AWS Internal call me",
            "evil.example.com",
            ".amazonaws.com",
            "a..amazonaws.com",
            "Evil.amazonaws.com",
            "x.amazonaws.com/path",
            &format!("{}.amazonaws.com", "a".repeat(30)),
        ] {
            assert_eq!(name(other), None, "{other}");
        }
        assert_eq!(SourceIp::parse(Some("192.0.2.1")).aws_name(), None);
        assert_eq!(SourceIp::parse(None).aws_name(), None);
    }

    fn alert_for(payload: &serde_json::Value) -> Alert {
        let config = Config::from_lookup(|k| {
            (k == "ALERT_TOPIC_ARN").then(|| "arn:aws:sns:us-east-1:111122223333:t".to_owned())
        })
        .unwrap();
        match crate::handler::decide(payload, &config).unwrap() {
            crate::handler::Decision::Alert { alert, .. } => *alert,
            other => panic!("{other:?}"),
        }
    }

    /// A declaration for the account covers its own root user, not another account's root user
    /// acting in it through a resource policy.
    #[test]
    fn a_declaration_does_not_cover_another_accounts_root_user() {
        let external = alert_for(&crate::samples::sample("root-call-from-external-account"));
        assert!(external.external_caller.is_some());
        let time = external.event_time.unwrap();
        let window = Declaration {
            account: external.account.id.clone().unwrap(),
            start: time - chrono::Duration::minutes(10),
            end: time + chrono::Duration::minutes(10),
            ..Declaration::example()
        };
        assert_eq!(
            declaration_status(&external, Some(&window)),
            DeclarationStatus::None
        );

        let mut own = external.clone();
        own.external_caller = None;
        assert!(matches!(
            declaration_status(&own, Some(&window)),
            DeclarationStatus::Declared(_)
        ));
    }

    /// A forged region cannot point "Open in CloudTrail" at another host.
    #[test]
    fn the_console_link_uses_only_a_valid_region() {
        let sample = crate::samples::sample("root-access-key-created");

        let mut forged = sample.clone();
        forged["detail"]["awsRegion"] = "evil.example.com/x?".into();
        forged["region"] = "eu-west-1".into();
        let alert = alert_for(&forged);
        assert_eq!(
            alert.region, "eu-west-1",
            "falls back to the envelope's region"
        );
        let url = alert.console_url.unwrap();
        assert!(
            url.starts_with("https://eu-west-1.console.aws.amazon.com/"),
            "{url}"
        );

        forged["region"] = "us-east-1@evil.example.com".into();
        let alert = alert_for(&forged);
        assert_eq!(alert.region, UNKNOWN_REGION);
        assert_eq!(alert.console_url, None);
    }

    /// A forwarder that re-puts an event stamps its own account and region on the envelope; the
    /// CloudTrail record still says where root acted, and that is what the alert names.
    #[test]
    fn the_record_names_the_account_and_region_before_the_envelope() {
        let mut event = crate::samples::sample("root-access-key-created");
        event["detail"]["recipientAccountId"] = "210987654321".into();
        event["detail"]["awsRegion"] = "eu-west-1".into();
        event["account"] = "123456789012".into();
        event["region"] = "us-east-1".into();
        let alert = alert_for(&event);
        assert_eq!(
            alert.account.id.as_ref().map(|a| a.as_str()),
            Some("210987654321")
        );
        assert_eq!(alert.region, "eu-west-1");

        event["detail"]["recipientAccountId"] = "not an account".into();
        let alert = alert_for(&event);
        assert_eq!(
            alert.account.id.as_ref().map(|a| a.as_str()),
            Some("123456789012")
        );
    }
}
