//! Configuration, read once at start-up from the environment and validated there, so a bad
//! value stops the function before it can drop an alert.
//!
//! Each variable is declared once, as a row of the table of variables: its name, what unset means, what
//! it accepts (also what an error about it says is expected), what it does, and its parser.
//! `docs/configuration.md` shows the same table; a test keeps the two equal.

use std::ops::RangeInclusive;
use std::str::FromStr;
use std::time::Duration;

use crate::domain::{AccountNames, AssumeRootIssuers, Severity, SmsLimit, TopicArn};

/// Everything the handler needs besides the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub topic_arn: TopicArn,
    pub account_names: AccountNames,
    /// Shown in every email so the reader knows what to do next.
    pub runbook_url: Option<String>,
    /// DynamoDB table for dedup and SMS coalescing; `None` runs stateless.
    pub state_table: Option<String>,
    /// After a root session's first page, its other non-critical alerts go by email only for
    /// this long.
    pub session_window: Duration,
    /// The severities phones subscribe to (the SMS filter policy). Only these take part in SMS
    /// coalescing, so an alert no phone gets never uses up its session's SMS.
    pub sms_severities: Vec<Severity>,
    /// Texts before a bucket's texts are paused (`SMS_CEILING_PER_HOUR`), for each text bucket
    /// ([`TextBucket`](crate::domain::TextBucket)): per account and UTC hour for root activity,
    /// per UTC day across all accounts for the others; kept in the state table, so without one
    /// there is no ceiling.
    pub sms_ceiling_per_hour: u32,
    /// The SMS body's budget after SNS's `DISPLAYNAME> ` prefix (`TOPIC_DISPLAY_NAME`).
    pub sms_limit: SmsLimit,
    /// Name accounts that `ACCOUNT_NAMES` does not with AWS Organizations' `DescribeAccount`
    /// (`ACCOUNT_NAMES_FROM_ORGANIZATIONS`).
    pub account_names_from_organizations: bool,
    /// The state table's stream, whose records ring for declarations of root use
    /// (`DECLARATION_STREAM_ARN`); `None`: declarations are off and every batch is refused.
    pub declaration_stream_arn: Option<String>,
    /// The roles whose `sts:AssumeRoot` sessions the allowances trust (`ASSUME_ROOT_ISSUERS`).
    pub assume_root_issuers: AssumeRootIssuers,
    /// The function's own role (`FUNCTION_ROLE_ARN`): the reads of its own root-credential
    /// audit sessions are not alerted. Empty: every such read alerts.
    pub function_role: AssumeRootIssuers,
    /// Audit the organization's members' root credentials on each tick (`MEMBER_ROOT_AUDIT`).
    pub member_root_audit: bool,
    /// The heartbeat table (`HEARTBEAT_TABLE`); `None`: heartbeats are ignored.
    pub heartbeat_table: Option<String>,
    /// The regions every active account must send heartbeats from (`COVERAGE_REGIONS`); empty:
    /// coverage is not checked.
    pub coverage_regions: Vec<String>,
    /// The checks schedule's rule (`ORGANIZATION_CHECKS_RULE_ARN`): its tick runs the coverage
    /// check.
    pub checks_rule_arn: Option<String>,
    /// The alert bus every alert is also put on as a structured event (`ALERT_EVENT_BUS`);
    /// `None`: no alert events.
    pub alert_event_bus: Option<String>,
    /// One Security Hub finding per root session (`SECURITY_HUB_FINDINGS`); needs the state
    /// table, which keeps the session.
    pub security_hub_findings: bool,
}

/// A configuration variable that is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}. Expected {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
    pub expected: &'static str,
}

/// One environment variable, as the documentation shows it and its errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Variable {
    pub name: &'static str,
    pub unset: Unset,
    /// What it accepts: an error about it ends `Expected <this>`.
    pub expected: &'static str,
    /// What it does (Markdown, for the documentation).
    pub meaning: &'static str,
}

/// What a variable that is unset (or blank) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unset {
    /// It must be set: start-up stops without it.
    Required,
    /// It is read as this text.
    Reads(&'static str),
    /// It has a meaning of its own, said here.
    Means(&'static str),
}

/// A variable and its parser, which is given the value (`None` when unset) and says what is
/// wrong with it.
struct Reader<T> {
    variable: Variable,
    parse: fn(Option<&str>) -> Result<T, String>,
}

impl<T> Reader<T> {
    fn read(&self, lookup: &impl Fn(&str) -> Option<String>) -> Result<T, ConfigError> {
        let Variable { name, unset, .. } = self.variable;
        let value = lookup(name);
        let blank = value.as_deref().is_none_or(|v| v.trim().is_empty());
        match (unset, blank) {
            (Unset::Required, true) => Err("is not set".to_owned()),
            (Unset::Reads(default), true) => (self.parse)(Some(default)),
            _ => (self.parse)(value.as_deref()),
        }
        .map_err(|problem| ConfigError {
            variable: name,
            problem,
            expected: self.variable.expected,
        })
    }
}

const ALERT_TOPIC_ARN: Reader<TopicArn> = Reader {
    variable: Variable {
        name: "ALERT_TOPIC_ARN",
        unset: Unset::Required,
        expected: "the ARN of a standard SNS topic, e.g. arn:aws:sns:us-east-1:111122223333:rootwatch-alerts",
        meaning: "The topic every alert is published to. FIFO topics cannot deliver SMS or email \
                  and are refused",
    },
    parse: |value| {
        let text = value.unwrap_or_default();
        TopicArn::parse(text.trim()).map_err(|problem| format!("{text:?} is not valid: {problem}"))
    },
};

const ACCOUNT_NAMES: Reader<AccountNames> = Reader {
    variable: Variable {
        name: "ACCOUNT_NAMES",
        unset: Unset::Means("accounts show their id alone, or the name AWS Organizations gives"),
        expected: "comma-separated id=name pairs, e.g. 111122223333=prod-payments,444455556666=sandbox",
        meaning: "Human names shown beside account ids: up to 32 letters, digits, `-`, `_`, `.` \
                  and spaces each. An entry wins over AWS Organizations' name",
    },
    parse: |value| AccountNames::parse(value.unwrap_or_default()),
};

const RUNBOOK_URL: Reader<Option<String>> = Reader {
    variable: Variable {
        name: "RUNBOOK_URL",
        unset: Unset::Means("no runbook link"),
        expected: "an https:// link to your root-user runbook, or unset",
        meaning: "Shown in every email and chat message, so the reader knows what to do next",
    },
    parse: |value| match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(url) if url.starts_with("https://") && !url.contains(char::is_whitespace) => {
            Ok(Some(url.to_owned()))
        }
        Some(url) => Err(format!("{url:?} is not an https:// URL")),
    },
};

const STATE_TABLE: Reader<Option<String>> = Reader {
    variable: Variable {
        name: "STATE_TABLE",
        unset: Unset::Means(
            "stateless: every event is alerted, every alert pages and there is no SMS ceiling \
             (said at start)",
        ),
        expected: "3-255 letters, digits, '_', '-' or '.', or unset to run without state",
        meaning: "DynamoDB table (key `pk`, TTL `expires_at`) for dedup, SMS coalescing and the \
                  hourly SMS ceiling",
    },
    parse: |value| match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(table)
            if (3..=255).contains(&table.len())
                && table
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) =>
        {
            Ok(Some(table.to_owned()))
        }
        Some(table) => Err(format!("{table:?} is not a DynamoDB table name")),
    },
};

const SESSION_WINDOW_MINUTES: Reader<Duration> = Reader {
    variable: Variable {
        name: "SESSION_WINDOW_MINUTES",
        unset: Unset::Reads("15"),
        expected: "minutes during which a root session pages only once, default 15",
        meaning: "1-1440: after a root session's first SMS, its other non-critical alerts go by \
                  email and chat only for this long",
    },
    parse: |value| {
        whole_number(value, 1..=1440)
            .map(|minutes: u64| Duration::from_secs(minutes * 60))
            .map_err(|text| format!("{text:?} is not a whole number of minutes from 1 to 1440"))
    },
};

const SMS_SEVERITIES: Reader<Vec<Severity>> = Reader {
    variable: Variable {
        name: "SMS_SEVERITIES",
        unset: Unset::Reads("CRITICAL,HIGH"),
        expected: "comma-separated CRITICAL, HIGH, MEDIUM, LOW (default CRITICAL,HIGH), as in \
                   the SMS filter policy",
        meaning: "The severities your SMS filter policy texts (the template passes its \
                  `SmsSeverities`). Only these take part in coalescing and count against the \
                  ceiling",
    },
    parse: |value| {
        let text = value.unwrap_or_default().trim();
        text.split(',')
            .map(|s| Severity::parse(s.trim()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("{text:?} has an unknown severity"))
    },
};

const SMS_CEILING_PER_HOUR: Reader<u32> = Reader {
    variable: Variable {
        name: "SMS_CEILING_PER_HOUR",
        unset: Unset::Reads("10"),
        expected: "texts per bucket before that bucket's texts are paused (alerts still go to \
                   email and chat), default 10",
        meaning: "1-1000 (the template passes its `SmsCeilingPerHour`): texts in each of three \
                  buckets counted apart — root activity, per account and UTC clock hour; sign-in \
                  attempts (what anyone can cause without a credential) and forwarder failures, \
                  each per UTC day across all accounts of the stack (despite the name); past it \
                  one text says that bucket's texts are paused and until when, and its alerts go \
                  to email and chat only until the hour or day ends ([Duplicates and \
                  floods](dedup-and-floods.md#a-ceiling-on-texts)). Kept in the state table: \
                  without `STATE_TABLE` there is no ceiling",
    },
    parse: |value| {
        whole_number(value, 1..=1000)
            .map_err(|text| format!("{text:?} is not a whole number from 1 to 1000"))
    },
};

const TOPIC_DISPLAY_NAME: Reader<SmsLimit> = Reader {
    variable: Variable {
        name: "TOPIC_DISPLAY_NAME",
        unset: Unset::Means(
            "room for a 10-character name is kept; empty: the topic has no display name",
        ),
        expected: "the alert topic's DisplayName (SNS puts it, upper-cased, before every SMS): \
                   up to 38 GSM-7 characters, or empty for a topic without one",
        meaning: "The alert topic's `DisplayName` (the template passes it from its one \
                  `Mappings` entry). SNS puts it, upper-cased, and `> ` before every SMS, so it \
                  comes out of the 160-character budget; refused if upper-casing it leaves GSM-7 \
                  (SNS would send UCS-2, 70 characters a segment). The start-up check reads the \
                  topic's own `DisplayName` and uses that instead (it is what SNS sends), \
                  warning when the two disagree; this value is the fallback for a start-up that \
                  could not read it",
    },
    parse: |value| match value {
        None => Ok(SmsLimit::UNKNOWN_DISPLAY_NAME),
        Some(name) => SmsLimit::after_display_name(name.trim()),
    },
};

const ACCOUNT_NAMES_FROM_ORGANIZATIONS: Reader<bool> = Reader {
    variable: Variable {
        name: "ACCOUNT_NAMES_FROM_ORGANIZATIONS",
        unset: Unset::Reads("false"),
        expected: "true to name accounts with AWS Organizations' DescribeAccount, false or \
                   unset not to",
        meaning: "`true`: name the accounts `ACCOUNT_NAMES` does not with AWS Organizations' \
                  `DescribeAccount` ([how](organizations.md#account-names)). `false`: never ask",
    },
    parse: |value| match value.unwrap_or_default().trim() {
        "false" => Ok(false),
        "true" => Ok(true),
        text => Err(format!("{text:?} is neither true nor false")),
    },
};

const DECLARATION_STREAM_ARN: Reader<Option<String>> = Reader {
    variable: Variable {
        name: "DECLARATION_STREAM_ARN",
        unset: Unset::Means(
            "declarations are off: alerts say nothing of them and record batches are refused \
             (said at start)",
        ),
        expected: "the ARN of the state table's DynamoDB stream \
                   (arn:aws:dynamodb:<region>:<account>:table/<STATE_TABLE>/stream/<label>), or unset",
        meaning: "The template passes `StateTable.StreamArn`. Only batches from this stream ring \
                  for a [declaration of root use](declaring.md); needs `STATE_TABLE`",
    },
    parse: |value| match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(arn)
            if arn.starts_with("arn:aws")
                && arn.split(':').nth(2) == Some("dynamodb")
                && arn.contains(":table/")
                && arn.contains("/stream/")
                && !arn.contains(char::is_whitespace) =>
        {
            Ok(Some(arn.to_owned()))
        }
        Some(arn) => Err(format!("{arn:?} is not a DynamoDB stream ARN")),
    },
};

const ASSUME_ROOT_ISSUERS: Reader<AssumeRootIssuers> = Reader {
    variable: Variable {
        name: "ASSUME_ROOT_ISSUERS",
        unset: Unset::Means(
            "no allowance applies: every `sts:AssumeRoot` task keeps its rule's severity",
        ),
        expected: "comma-separated IAM role ARNs, e.g. arn:aws:iam::111122223333:role/RootTasks, or unset",
        meaning: "The roles (in the management account or the IAM delegated administrator) whose \
                  `sts:AssumeRoot` sessions you trust to unlock a bucket or queue policy (the \
                  template passes its `AssumeRootIssuers`). A member account's call from such a \
                  session, named by the record's `inScopeOf.credentialsIssuedTo`, is lowered by \
                  its [allowance](rules.md#allowances); nothing else changes",
    },
    parse: |value| AssumeRootIssuers::parse(value.unwrap_or_default()),
};

const FUNCTION_ROLE_ARN: Reader<AssumeRootIssuers> = Reader {
    variable: Variable {
        name: "FUNCTION_ROLE_ARN",
        unset: Unset::Means(
            "the function's own root-credential audit is not recognised: its reads alert as any `sts:AssumeRoot` task",
        ),
        expected: "the function's IAM role ARN, e.g. arn:aws:iam::111122223333:role/rootwatch-RootwatchFunctionRole-0A1B2C3D, or unset",
        meaning: "The template passes `RootwatchFunctionRole.Arn`. A member account's read of \
                  its root credentials (the six of `IAMAuditRootUserCredentials`) from an \
                  `sts:AssumeRoot` session issued to this role is rootwatch's own \
                  [audit](posture.md#member-accounts), and is ignored (logged and counted as \
                  `Ignored`); any other call from such a session alerts",
    },
    parse: |value| AssumeRootIssuers::parse(value.unwrap_or_default()),
};

const MEMBER_ROOT_AUDIT: Reader<bool> = Reader {
    variable: Variable {
        name: "MEMBER_ROOT_AUDIT",
        unset: Unset::Reads("false"),
        expected: "true to audit the organization's members' root credentials, false or unset not to",
        meaning: "`true` (the template passes it in organization mode with `MemberRootAudit`): each \
                  tick reads whether centralized root access is on and audits a slice of the \
                  members' root credentials through `sts:AssumeRoot`, or sends the weekly \
                  report that says why it cannot ([member accounts](posture.md#member-accounts)). \
                  `false`: never",
    },
    parse: |value| match value.unwrap_or_default().trim() {
        "false" => Ok(false),
        "true" => Ok(true),
        text => Err(format!("{text:?} is neither true nor false")),
    },
};

const HEARTBEAT_TABLE: Reader<Option<String>> = Reader {
    variable: Variable {
        name: "HEARTBEAT_TABLE",
        unset: Unset::Means("heartbeats are ignored and coverage is not checked"),
        expected: "3-255 letters, digits, '_', '-' or '.', or unset",
        meaning: "DynamoDB table (key `region`, `account`; TTL `expires_at`) where each \
                  forwarder's hourly heartbeat is recorded ([coverage](coverage.md)); the \
                  template makes it when `CoverageRegions` is set",
    },
    parse: STATE_TABLE.parse,
};

const COVERAGE_REGIONS: Reader<Vec<String>> = Reader {
    variable: Variable {
        name: "COVERAGE_REGIONS",
        unset: Unset::Means("coverage is not checked"),
        expected: "comma-separated region codes, e.g. us-east-1,eu-west-1, or unset",
        meaning: "The regions every active account of the organization must send heartbeats \
                  from (the template passes its `CoverageRegions`: the regions the forwarder \
                  StackSet deploys to). Each checks run alerts `coverage-gap` for an account × \
                  region silent for more than two hours ([coverage](coverage.md)); needs \
                  `HEARTBEAT_TABLE`",
    },
    parse: |value| {
        let text = value.unwrap_or_default().trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let mut regions = Vec::new();
        for region in text.split(',').map(str::trim) {
            if !crate::domain::is_region_code(region) {
                return Err(format!("{region:?} is not a region code"));
            }
            if !regions.iter().any(|r| r == region) {
                regions.push(region.to_owned());
            }
        }
        Ok(regions)
    },
};

const ORGANIZATION_CHECKS_RULE_ARN: Reader<Option<String>> = Reader {
    variable: Variable {
        name: "ORGANIZATION_CHECKS_RULE_ARN",
        unset: Unset::Means("every schedule's tick runs the watchdog; coverage is not checked"),
        expected: "the ARN of the checks schedule's EventBridge rule \
                  (arn:aws:events:<region>:<account>:rule/rootwatch-checks-<id>), or unset",
        meaning: "The template passes its `RootwatchChecksSchedule` rule's ARN. A tick whose one \
                  resource is this rule runs the [coverage check](coverage.md); any other tick \
                  runs the watchdog",
    },
    parse: |value| match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(arn)
            if arn.starts_with("arn:aws")
                && arn.split(':').nth(2) == Some("events")
                && arn.contains(":rule/")
                && !arn.contains(char::is_whitespace) =>
        {
            Ok(Some(arn.to_owned()))
        }
        Some(arn) => Err(format!("{arn:?} is not an EventBridge rule ARN")),
    },
};

const ALERT_EVENT_BUS: Reader<Option<String>> = Reader {
    variable: Variable {
        name: "ALERT_EVENT_BUS",
        unset: Unset::Means("no alert events (said at start)"),
        expected: "an EventBridge event bus name or ARN: 1-256 of letters, digits, '.', '_', '/', ':' or '-', or unset",
        meaning: "Every alert is also put on this bus as a structured event, source `rootwatch` \
                  ([alert events](alert-events.md)), after the SNS publish and within its own \
                  short budget: a failure is logged and counted (`AlertEventFailures`), never \
                  delays or fails the alert. The template passes its `AlertBus`",
    },
    parse: |value| match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(bus)
            if bus.len() <= 256
                && bus
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._/:-".contains(c)) =>
        {
            Ok(Some(bus.to_owned()))
        }
        Some(bus) => Err(format!("{bus:?} is not an event bus name or ARN")),
    },
};

const SECURITY_HUB_FINDINGS: Reader<bool> = Reader {
    variable: Variable {
        name: "SECURITY_HUB_FINDINGS",
        unset: Unset::Reads("false"),
        expected: "true or false; true needs STATE_TABLE",
        meaning: "`true`: one Security Hub finding per root session, imported in the home \
                  account and region, labelled with the session's highest severity \
                  ([Security Hub](security-hub.md)); failures are logged and counted \
                  (`FindingFailures`), never delay or fail the alert. Needs `STATE_TABLE` (the \
                  session is kept there): refused at start without it",
    },
    parse: MEMBER_ROOT_AUDIT.parse,
};

/// Every variable of the configuration, in the order they are read: the documentation's table.
#[cfg(test)]
const VARIABLES: [&Variable; 18] = [
    &ALERT_TOPIC_ARN.variable,
    &ACCOUNT_NAMES.variable,
    &RUNBOOK_URL.variable,
    &STATE_TABLE.variable,
    &SESSION_WINDOW_MINUTES.variable,
    &SMS_SEVERITIES.variable,
    &SMS_CEILING_PER_HOUR.variable,
    &TOPIC_DISPLAY_NAME.variable,
    &ACCOUNT_NAMES_FROM_ORGANIZATIONS.variable,
    &DECLARATION_STREAM_ARN.variable,
    &ASSUME_ROOT_ISSUERS.variable,
    &FUNCTION_ROLE_ARN.variable,
    &MEMBER_ROOT_AUDIT.variable,
    &HEARTBEAT_TABLE.variable,
    &COVERAGE_REGIONS.variable,
    &ORGANIZATION_CHECKS_RULE_ARN.variable,
    &ALERT_EVENT_BUS.variable,
    &SECURITY_HUB_FINDINGS.variable,
];

/// A whole number in `range`; the trimmed text when it is not one.
fn whole_number<N: FromStr + PartialOrd>(
    value: Option<&str>,
    range: RangeInclusive<N>,
) -> Result<N, &str> {
    let text = value.unwrap_or_default().trim();
    text.parse().ok().filter(|n| range.contains(n)).ok_or(text)
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    /// The first variable that is missing or malformed is the error.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Ok(Config {
            topic_arn: ALERT_TOPIC_ARN.read(&lookup)?,
            account_names: ACCOUNT_NAMES.read(&lookup)?,
            runbook_url: RUNBOOK_URL.read(&lookup)?,
            state_table: STATE_TABLE.read(&lookup)?,
            session_window: SESSION_WINDOW_MINUTES.read(&lookup)?,
            sms_severities: SMS_SEVERITIES.read(&lookup)?,
            sms_ceiling_per_hour: SMS_CEILING_PER_HOUR.read(&lookup)?,
            sms_limit: TOPIC_DISPLAY_NAME.read(&lookup)?,
            account_names_from_organizations: ACCOUNT_NAMES_FROM_ORGANIZATIONS.read(&lookup)?,
            declaration_stream_arn: Self::stream_of_the_table(&lookup)?,
            assume_root_issuers: ASSUME_ROOT_ISSUERS.read(&lookup)?,
            function_role: FUNCTION_ROLE_ARN.read(&lookup)?,
            member_root_audit: MEMBER_ROOT_AUDIT.read(&lookup)?,
            heartbeat_table: HEARTBEAT_TABLE.read(&lookup)?,
            coverage_regions: COVERAGE_REGIONS.read(&lookup)?,
            checks_rule_arn: ORGANIZATION_CHECKS_RULE_ARN.read(&lookup)?,
            alert_event_bus: ALERT_EVENT_BUS.read(&lookup)?,
            security_hub_findings: Self::findings_with_a_table(&lookup)?,
        })
    }

    /// Findings need the state table: a finding is labelled from its session as the table keeps
    /// it, and importing each alert's own severity instead would mislabel sessions.
    fn findings_with_a_table(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<bool, ConfigError> {
        let on = SECURITY_HUB_FINDINGS.read(lookup)?;
        if on && STATE_TABLE.read(lookup)?.is_none() {
            return Err(ConfigError {
                variable: SECURITY_HUB_FINDINGS.variable.name,
                problem: "is true but STATE_TABLE is not set (the root session is kept there)"
                    .to_owned(),
                expected: SECURITY_HUB_FINDINGS.variable.expected,
            });
        }
        Ok(on)
    }

    /// The stream ARN, which must be of `STATE_TABLE`'s table: a stream of another table would
    /// ring for items the function never reads.
    fn stream_of_the_table(
        lookup: &impl Fn(&str) -> Option<String>,
    ) -> Result<Option<String>, ConfigError> {
        let arn = DECLARATION_STREAM_ARN.read(lookup)?;
        let table = STATE_TABLE.read(lookup)?;
        match (&arn, &table) {
            (None, _) => Ok(arn),
            (Some(stream), Some(table)) if stream.contains(&format!(":table/{table}/stream/")) => {
                Ok(arn)
            }
            (Some(stream), _) => Err(ConfigError {
                variable: DECLARATION_STREAM_ARN.variable.name,
                problem: format!("{stream:?} is not a stream of STATE_TABLE's table"),
                expected: DECLARATION_STREAM_ARN.variable.expected,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn minimal_config_needs_only_the_topic() {
        let config = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        assert_eq!(config.topic_arn.as_str(), TOPIC);
        assert_eq!(config.topic_arn.account(), "111122223333");
        assert_eq!(config.runbook_url, None);
    }

    #[test]
    fn missing_topic_says_which_variable_and_what_form() {
        let err = Config::from_lookup(lookup(&[])).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("ALERT_TOPIC_ARN: is not set"), "{text}");
        assert!(text.contains("arn:aws:sns:"), "{text}");
    }

    #[test]
    fn malformed_topics_are_rejected_with_the_reason() {
        for (bad, why) in [
            ("arn:aws:sqs:us-east-1:111122223333:q", "arn:aws…:sns:"),
            ("arn:aws:sns:us-east-1:1111:t", "12 digits"),
            ("arn:aws:sns:us-east-1:111122223333:t.fifo", "FIFO"),
            ("arn:aws:sns:us-east-1:111122223333", "6 colon"),
            ("arn:aws:sns:us-east-1:111122223333:bad name", "topic name"),
        ] {
            let err = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", bad)])).unwrap_err();
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn state_table_and_window_are_optional_and_validated() {
        let config = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        assert_eq!(config.state_table, None);
        assert_eq!(config.session_window, Duration::from_secs(15 * 60));
        let config = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("STATE_TABLE", "rootwatch-state"),
            ("SESSION_WINDOW_MINUTES", "60"),
        ]))
        .unwrap();
        assert_eq!(config.state_table.as_deref(), Some("rootwatch-state"));
        assert_eq!(config.session_window, Duration::from_secs(3600));
        assert_eq!(config.sms_severities, [Severity::Critical, Severity::High]);
        for (var, bad) in [
            ("SMS_SEVERITIES", "CRITICAL,URGENT"),
            ("SMS_CEILING_PER_HOUR", "0"),
            ("SMS_CEILING_PER_HOUR", "1001"),
            ("SMS_CEILING_PER_HOUR", "-1"),
            ("SMS_CEILING_PER_HOUR", "ten"),
            ("STATE_TABLE", "no spaces allowed"),
            ("SESSION_WINDOW_MINUTES", "0"),
            ("SESSION_WINDOW_MINUTES", "15m"),
        ] {
            let err =
                Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC), (var, bad)])).unwrap_err();
            assert_eq!(err.variable, var);
        }
    }

    /// Declarations ring only from a stream of the state table itself.
    #[test]
    fn the_declaration_stream_must_be_the_state_tables() {
        let stream = "arn:aws:dynamodb:us-east-1:111122223333:table/rootwatch-state/stream/2026-11-21T00:00:00.000";
        let config = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("STATE_TABLE", "rootwatch-state"),
            ("DECLARATION_STREAM_ARN", stream),
        ]))
        .unwrap();
        assert_eq!(config.declaration_stream_arn.as_deref(), Some(stream));
        let off = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        assert_eq!(off.declaration_stream_arn, None);
        for (table, arn) in [
            (Some("other-table"), stream),
            (None, stream),
            (
                Some("rootwatch-state"),
                "arn:aws:sqs:us-east-1:111122223333:table/rootwatch-state/stream/x",
            ),
            (
                Some("rootwatch-state"),
                "arn:aws:dynamodb:us-east-1:111122223333:table/rootwatch-state",
            ),
        ] {
            let mut vars = vec![("ALERT_TOPIC_ARN", TOPIC), ("DECLARATION_STREAM_ARN", arn)];
            vars.extend(table.map(|t| ("STATE_TABLE", t)));
            let err = Config::from_lookup(lookup(&vars)).unwrap_err();
            assert_eq!(err.variable, "DECLARATION_STREAM_ARN", "{table:?} {arn}");
        }
    }

    #[test]
    fn the_sms_ceiling_defaults_to_10_an_hour() {
        let config = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        assert_eq!(config.sms_ceiling_per_hour, 10);
        for (text, ceiling) in [("1", 1), (" 25 ", 25), ("1000", 1000), ("", 10)] {
            let config = Config::from_lookup(lookup(&[
                ("ALERT_TOPIC_ARN", TOPIC),
                ("SMS_CEILING_PER_HOUR", text),
            ]))
            .unwrap();
            assert_eq!(config.sms_ceiling_per_hour, ceiling, "{text:?}");
        }
        let err = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("SMS_CEILING_PER_HOUR", "0"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("from 1 to 1000"), "{err}");
    }

    #[test]
    fn the_sms_budget_follows_the_topic_display_name() {
        let config = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        assert_eq!(config.sms_limit, SmsLimit::UNKNOWN_DISPLAY_NAME);
        let config = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("TOPIC_DISPLAY_NAME", "rootwatch"),
        ]))
        .unwrap();
        assert_eq!(config.sms_limit.body_max(), 160 - "ROOTWATCH> ".len());
        let err = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("TOPIC_DISPLAY_NAME", "alerts|prod"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "TOPIC_DISPLAY_NAME");
    }

    #[test]
    fn names_from_organizations_are_off_unless_exactly_true() {
        let config = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        assert!(!config.account_names_from_organizations);
        for (text, on) in [
            ("true", true),
            ("false", false),
            ("", false),
            (" true ", true),
        ] {
            let config = Config::from_lookup(lookup(&[
                ("ALERT_TOPIC_ARN", TOPIC),
                ("ACCOUNT_NAMES_FROM_ORGANIZATIONS", text),
            ]))
            .unwrap();
            assert_eq!(config.account_names_from_organizations, on, "{text:?}");
        }
        for bad in ["TRUE", "yes", "1", "on", "true,false"] {
            let err = Config::from_lookup(lookup(&[
                ("ALERT_TOPIC_ARN", TOPIC),
                ("ACCOUNT_NAMES_FROM_ORGANIZATIONS", bad),
            ]))
            .unwrap_err();
            assert_eq!(err.variable, "ACCOUNT_NAMES_FROM_ORGANIZATIONS");
            assert!(err.to_string().contains("neither true nor false"), "{err}");
        }
    }

    #[test]
    fn assume_root_issuers_are_role_arns_and_none_by_default() {
        let config = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        assert!(config.assume_root_issuers.is_empty());
        let config = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            (
                "ASSUME_ROOT_ISSUERS",
                "arn:aws:iam::111122223333:role/RootTasks",
            ),
        ]))
        .unwrap();
        assert!(
            config
                .assume_root_issuers
                .issued("arn:aws:sts::111122223333:assumed-role/RootTasks/alice")
        );
        let err = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            (
                "ASSUME_ROOT_ISSUERS",
                "arn:aws:iam::111122223333:user/alice",
            ),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "ASSUME_ROOT_ISSUERS");
        assert!(err.to_string().contains("not an IAM role ARN"), "{err}");
    }

    #[test]
    fn coverage_regions_are_region_codes_once_each() {
        let read = |value| {
            Config::from_lookup(lookup(&[
                ("ALERT_TOPIC_ARN", TOPIC),
                ("COVERAGE_REGIONS", value),
            ]))
        };
        assert_eq!(
            read("us-east-1, eu-west-1,us-east-1")
                .unwrap()
                .coverage_regions,
            ["us-east-1", "eu-west-1"]
        );
        assert!(read("").unwrap().coverage_regions.is_empty());
        let err = read("us-east-1,Europe").unwrap_err();
        assert_eq!(err.variable, "COVERAGE_REGIONS");
    }

    #[test]
    fn the_alert_bus_is_a_name_or_an_arn() {
        let read = |value| {
            Config::from_lookup(lookup(&[
                ("ALERT_TOPIC_ARN", TOPIC),
                ("ALERT_EVENT_BUS", value),
            ]))
        };
        assert_eq!(read("").unwrap().alert_event_bus, None);
        assert_eq!(
            read("rootwatch-alerts").unwrap().alert_event_bus.as_deref(),
            Some("rootwatch-alerts")
        );
        let arn = "arn:aws:events:us-east-1:111122223333:event-bus/rootwatch-alerts";
        assert_eq!(read(arn).unwrap().alert_event_bus.as_deref(), Some(arn));
        for bad in ["a bus", "bus\"x", &"b".repeat(257)] {
            assert_eq!(read(bad).unwrap_err().variable, "ALERT_EVENT_BUS", "{bad}");
        }
    }

    /// A finding is labelled from its session in the state table: without one, refused at start
    /// rather than mislabelled.
    #[test]
    fn findings_need_the_state_table() {
        let read = |vars: &[(&str, &str)]| {
            let mut all = vec![("ALERT_TOPIC_ARN", TOPIC)];
            all.extend_from_slice(vars);
            Config::from_lookup(lookup(&all))
        };
        assert!(!read(&[]).unwrap().security_hub_findings);
        let err = read(&[("SECURITY_HUB_FINDINGS", "true")]).unwrap_err();
        assert_eq!(err.variable, "SECURITY_HUB_FINDINGS");
        assert!(err.to_string().contains("STATE_TABLE is not set"), "{err}");
        assert!(
            read(&[
                ("SECURITY_HUB_FINDINGS", "true"),
                ("STATE_TABLE", "rootwatch-state")
            ])
            .unwrap()
            .security_hub_findings
        );
        assert_eq!(
            read(&[("SECURITY_HUB_FINDINGS", "yes")])
                .unwrap_err()
                .variable,
            "SECURITY_HUB_FINDINGS"
        );
    }

    #[test]
    fn runbook_must_be_https() {
        let err = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("RUNBOOK_URL", "javascript:alert(1)"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "RUNBOOK_URL");
    }

    /// The documentation's table of variables, generated from [`VARIABLES`].
    fn markdown_table() -> String {
        let mut out =
            String::from("| Variable | When unset | Accepts | What it does |\n|---|---|---|---|\n");
        for variable in VARIABLES {
            let unset = match variable.unset {
                Unset::Required => "**required**".to_owned(),
                Unset::Reads(text) => format!("`{text}`"),
                Unset::Means(text) => text.to_owned(),
            };
            out.push_str(&format!(
                "| `{}` | {unset} | {} | {} |\n",
                variable.name, variable.expected, variable.meaning
            ));
        }
        out
    }

    const BEGIN: &str =
        "<!-- config:begin (generated from src/config.rs; its tests check it) -->\n";
    const END: &str = "<!-- config:end -->";

    /// `docs/configuration.md`'s table is [`VARIABLES`], row for row. Run with
    /// `ROOTWATCH_WRITE_DOCS=1` to rewrite it from this file, then review the diff.
    #[test]
    fn the_documented_variables_are_the_ones_read() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md");
        let doc = std::fs::read_to_string(path).expect("docs/configuration.md");
        let start = doc.find(BEGIN).expect("the config:begin marker") + BEGIN.len();
        let end = start + doc[start..].find(END).expect("the config:end marker");
        let expected = markdown_table();
        if doc[start..end] != expected && std::env::var_os("ROOTWATCH_WRITE_DOCS").is_some() {
            let written = format!("{}{expected}{}", &doc[..start], &doc[end..]);
            std::fs::write(path, written).expect("write docs/configuration.md");
            return;
        }
        assert_eq!(
            doc[start..end],
            expected,
            "docs/configuration.md's table differs from src/config.rs; run \
             ROOTWATCH_WRITE_DOCS=1 cargo test --lib config and review the diff"
        );
    }

    /// A default is the text an unset variable is read as: setting that text changes nothing,
    /// and it passes its own parser (a default that failed would stop every start-up).
    #[test]
    fn a_default_is_what_setting_it_would_give() {
        let unset = Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC)])).unwrap();
        let mut defaults = 0;
        for variable in VARIABLES {
            let Unset::Reads(text) = variable.unset else {
                continue;
            };
            let set =
                Config::from_lookup(lookup(&[("ALERT_TOPIC_ARN", TOPIC), (variable.name, text)]));
            assert_eq!(set.as_ref(), Ok(&unset), "{}={text}", variable.name);
            defaults += 1;
        }
        assert_eq!(defaults, 6);
        let mut names: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), VARIABLES.len(), "a variable is declared twice");
    }
}
