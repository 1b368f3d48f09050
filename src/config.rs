//! Configuration, read once at start-up from the environment and validated there, so a bad
//! value stops the function before it can drop an alert.

use std::time::Duration;

use crate::domain::{AccountNames, Severity, SmsLimit, TopicArn};

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
    /// Texts per account per UTC clock hour before texts are paused for the account
    /// (`SMS_CEILING_PER_HOUR`); kept in the state table, so without one there is no ceiling.
    pub sms_ceiling_per_hour: u32,
    /// The SMS body's budget after SNS's `DISPLAYNAME> ` prefix (`TOPIC_DISPLAY_NAME`).
    pub sms_limit: SmsLimit,
    /// Name accounts that `ACCOUNT_NAMES` does not with AWS Organizations' `DescribeAccount`
    /// (`ACCOUNT_NAMES_FROM_ORGANIZATIONS`).
    pub account_names_from_organizations: bool,
}

/// Default for `SESSION_WINDOW_MINUTES`.
pub const DEFAULT_SESSION_WINDOW_MINUTES: u64 = 15;

/// Default for `SMS_CEILING_PER_HOUR` (the template's `SmsCeilingPerHour`).
pub const DEFAULT_SMS_CEILING_PER_HOUR: u32 = 10;

/// A configuration variable that is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{variable}: {problem}. Expected {expected}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
    pub expected: &'static str,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let topic_text = lookup("ALERT_TOPIC_ARN").unwrap_or_default();
        let topic_expected = "the ARN of a standard SNS topic, e.g. arn:aws:sns:us-east-1:111122223333:rootwatch-alerts";
        if topic_text.trim().is_empty() {
            return Err(ConfigError {
                variable: "ALERT_TOPIC_ARN",
                problem: "is not set".into(),
                expected: topic_expected,
            });
        }
        let topic_arn = TopicArn::parse(topic_text.trim()).map_err(|problem| ConfigError {
            variable: "ALERT_TOPIC_ARN",
            problem: format!("{topic_text:?} is not valid: {problem}"),
            expected: topic_expected,
        })?;

        let account_names = AccountNames::parse(&lookup("ACCOUNT_NAMES").unwrap_or_default())
            .map_err(|problem| ConfigError {
                variable: "ACCOUNT_NAMES",
                problem,
                expected: "comma-separated id=name pairs, e.g. 111122223333=prod-payments,444455556666=sandbox",
            })?;

        let runbook_url = match lookup("RUNBOOK_URL").map(|u| u.trim().to_owned()) {
            None => None,
            Some(u) if u.is_empty() => None,
            Some(u) if u.starts_with("https://") && !u.contains(char::is_whitespace) => Some(u),
            Some(u) => {
                return Err(ConfigError {
                    variable: "RUNBOOK_URL",
                    problem: format!("{u:?} is not an https:// URL"),
                    expected: "an https:// link to your root-user runbook, or unset",
                });
            }
        };

        let state_table = match lookup("STATE_TABLE").map(|t| t.trim().to_owned()) {
            None => None,
            Some(t) if t.is_empty() => None,
            Some(t)
                if (3..=255).contains(&t.len())
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) =>
            {
                Some(t)
            }
            Some(t) => {
                return Err(ConfigError {
                    variable: "STATE_TABLE",
                    problem: format!("{t:?} is not a DynamoDB table name"),
                    expected: "3-255 letters, digits, '_', '-' or '.', or unset to run without state",
                });
            }
        };

        let window_text = lookup("SESSION_WINDOW_MINUTES").unwrap_or_default();
        let minutes = match window_text.trim() {
            "" => DEFAULT_SESSION_WINDOW_MINUTES,
            text => text
                .parse::<u64>()
                .ok()
                .filter(|m| (1..=1440).contains(m))
                .ok_or_else(|| ConfigError {
                    variable: "SESSION_WINDOW_MINUTES",
                    problem: format!("{text:?} is not a whole number of minutes from 1 to 1440"),
                    expected: "minutes during which a root session pages only once, default 15",
                })?,
        };

        let severities_text = lookup("SMS_SEVERITIES").unwrap_or_default();
        let sms_severities = match severities_text.trim() {
            "" => vec![Severity::Critical, Severity::High],
            text => text
                .split(',')
                .map(|s| Severity::parse(s.trim()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| ConfigError {
                    variable: "SMS_SEVERITIES",
                    problem: format!("{text:?} has an unknown severity"),
                    expected: "comma-separated CRITICAL, HIGH, MEDIUM, LOW (default CRITICAL,HIGH), as in the SMS filter policy",
                })?,
        };

        let ceiling_text = lookup("SMS_CEILING_PER_HOUR").unwrap_or_default();
        let sms_ceiling_per_hour = match ceiling_text.trim() {
            "" => DEFAULT_SMS_CEILING_PER_HOUR,
            text => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| ConfigError {
                    variable: "SMS_CEILING_PER_HOUR",
                    problem: format!("{text:?} is not a whole number from 1 to 1000"),
                    expected: "texts per account per hour before texts are paused for the \
                               account (alerts still go to email and chat), default 10",
                })?,
        };

        let sms_limit = match lookup("TOPIC_DISPLAY_NAME") {
            None => SmsLimit::UNKNOWN_DISPLAY_NAME,
            Some(name) => {
                SmsLimit::after_display_name(name.trim()).map_err(|problem| ConfigError {
                    variable: "TOPIC_DISPLAY_NAME",
                    problem,
                    expected: "the alert topic's DisplayName (SNS puts it, upper-cased, before every SMS): \
                               up to 38 GSM-7 characters, or empty for a topic without one",
                })?
            }
        };

        let from_organizations_text =
            lookup("ACCOUNT_NAMES_FROM_ORGANIZATIONS").unwrap_or_default();
        let account_names_from_organizations = match from_organizations_text.trim() {
            "" | "false" => false,
            "true" => true,
            text => {
                return Err(ConfigError {
                    variable: "ACCOUNT_NAMES_FROM_ORGANIZATIONS",
                    problem: format!("{text:?} is neither true nor false"),
                    expected: "true to name accounts with AWS Organizations' DescribeAccount, \
                               false or unset not to",
                });
            }
        };

        Ok(Config {
            topic_arn,
            account_names,
            runbook_url,
            state_table,
            session_window: Duration::from_secs(minutes * 60),
            sms_severities,
            sms_ceiling_per_hour,
            sms_limit,
            account_names_from_organizations,
        })
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
    fn runbook_must_be_https() {
        let err = Config::from_lookup(lookup(&[
            ("ALERT_TOPIC_ARN", TOPIC),
            ("RUNBOOK_URL", "javascript:alert(1)"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "RUNBOOK_URL");
    }
}
