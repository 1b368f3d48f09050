//! What a phone receives must fit one SMS segment: SNS's prefix (the topic's display name,
//! upper-cased, then `> `) plus rootwatch's body, at most 160 septets of the GSM 7-bit default
//! alphabet. Checked here with the tests' own alphabet (`support/gsm7.rs`, written out from
//! 3GPP TS 23.038) and with the display name read from template.yaml — nothing is taken from
//! `src/`, so a mistake there cannot hide itself. Cases the property tests once failed on are
//! kept in `tests/proptest-regressions/sms.txt` (where proptest looks for this file's) and run
//! first.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use rootwatch::config::Config;
use rootwatch::domain::{Account, AccountId, AccountName, Severity, TextBucket};
use rootwatch::handler::{Decision, WindowLookup, decide, enrich_and_render, parse_and_classify};
use rootwatch::render::sms::render_pause_notice;
use rootwatch::watchdog::judge::Finding;
use rootwatch::watchdog::render::{Checked, render_sms as watchdog_sms};
use serde_json::{Value, json};

use crate::support::gsm7::{on_the_phone, segment_problem, septets, subject_problem};
use crate::support::{ACCOUNT_NAMES, OFFLINE_TOPIC, RUNBOOK_URL, sample, template, valid_samples};

/// The topic's DisplayName as template.yaml defines it (its `Mappings` entry, the single
/// source both the topic and the function's `TOPIC_DISPLAY_NAME` read).
fn template_display_name() -> String {
    let template = template();
    let mappings = template
        .split("\nMappings:")
        .nth(1)
        .expect("template.yaml has a Mappings section");
    let line = mappings
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with(' ') || l.starts_with('#'))
        .find_map(|l| l.trim().strip_prefix("DisplayName:"))
        .expect("Mappings define the topic's DisplayName");
    line.trim().trim_matches('"').to_owned()
}

/// The function configured as the template configures it.
fn deployed_config() -> Config {
    let display_name = template_display_name();
    Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(OFFLINE_TOPIC.to_owned()),
        "ACCOUNT_NAMES" => Some(ACCOUNT_NAMES.to_owned()),
        "RUNBOOK_URL" => Some(RUNBOOK_URL.to_owned()),
        "TOPIC_DISPLAY_NAME" => Some(display_name.clone()),
        _ => None,
    })
    .expect("the template's configuration is valid")
}

/// The function naming `account` `account_name` (no name for an `unknown` account), under the
/// topic's `display_name`.
fn naming_config(account: &str, account_name: &str, display_name: &str) -> Config {
    Config::from_lookup(|var| match var {
        "ALERT_TOPIC_ARN" => Some(OFFLINE_TOPIC.to_owned()),
        "ACCOUNT_NAMES" => (account != "unknown").then(|| format!("{account}={account_name}")),
        "TOPIC_DISPLAY_NAME" => Some(display_name.to_owned()),
        _ => None,
    })
    .expect("a valid account name")
}

fn sms_of(payload: &Value, config: &Config) -> Option<String> {
    match decide(payload, config) {
        Ok(Decision::Alert { notification, .. }) => Some(notification.sms.as_str().to_owned()),
        _ => None,
    }
}

fn assert_one_segment(display_name: &str, body: &str, what: &str) {
    if let Some(problem) = segment_problem(display_name, body) {
        panic!("{what}: {problem}");
    }
}

#[test]
fn the_alphabet_is_the_standards() {
    assert_eq!(septets("ROOTWATCH> a"), Some(12));
    assert_eq!(septets("[x]"), Some(5));
    assert_eq!(septets("Ù"), None, "upper-case Ù is not in the alphabet");
    assert_eq!(on_the_phone("rootwatch", "x"), "ROOTWATCH> x");
}

#[test]
fn every_sample_fits_one_segment_with_the_display_name_prefix() {
    let display_name = template_display_name();
    assert!(!display_name.is_empty(), "the topic has a display name");
    let config = deployed_config();
    let mut alerts = 0;
    for (name, payload) in valid_samples() {
        let decision = decide(&payload, &config);
        if let Some(notification) = decision.as_ref().ok().and_then(|d| d.notification()) {
            alerts += 1;
            let body = notification.sms.as_str();
            assert_one_segment(&display_name, body, &format!("events/{name}.json"));
        }
    }
    assert!(alerts >= 14, "only {alerts} samples alert");
}

/// The longest thing each field can be once rootwatch has validated it, and some it can't.
fn worst_case_fields() -> impl Strategy<Value = (usize, String, String, String, String, String)> {
    (
        0..64usize,
        prop_oneof![
            Just("a".repeat(32)),
            "[A-Za-z0-9][A-Za-z0-9._ -]{0,30}[A-Za-z0-9]",
            Just("prod payments eu-west primary".to_owned())
        ],
        prop_oneof![
            Just("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".to_owned()),
            Just("255.255.255.255".to_owned()),
            Just("AWS Internal".to_owned()),
            any::<String>(),
        ],
        prop_oneof![
            Just("us-isob-east-1".to_owned()),
            Just("ap-southeast-7".to_owned()),
            any::<String>()
        ],
        prop_oneof!["[A-Za-z]{1,128}", any::<String>()],
        prop_oneof![
            Just("organizations.amazonaws.com".to_owned()),
            "[a-z-]{1,64}\\.amazonaws\\.com",
            any::<String>()
        ],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every sample made as long as its fields allow: the longest account name, IPv6 addresses,
    /// long event names and services, failed calls, AssumeRoot sessions, MFA unknown.
    #[test]
    fn the_longest_alerts_still_fit_one_segment(
        (index, account_name, ip, region, event_name, event_source) in worst_case_fields(),
        failed in any::<bool>(),
        assume_root in any::<bool>(),
    ) {
        let display_name = template_display_name();
        let samples: Vec<_> = valid_samples()
            .into_iter()
            .filter(|(_, p)| sms_of(p, &deployed_config()).is_some())
            .collect();
        let (name, sample) = &samples[index % samples.len()];
        let mut event = sample.clone();
        // One sample names no account at all: its SMS must say so instead.
        let account = event["account"].as_str().unwrap_or("unknown").to_owned();
        let is_api_call = event["detail-type"] == "AWS API Call via CloudTrail";
        let detail = &mut event["detail"];
        detail["sourceIPAddress"] = json!(ip);
        detail["awsRegion"] = json!(region);
        if is_api_call {
            detail["eventName"] = json!(event_name);
            detail["eventSource"] = json!(event_source);
        }
        if failed {
            detail["errorCode"] = json!("AccessDenied");
        }
        if assume_root {
            detail["userIdentity"]["inScopeOf"] = json!({"issuerType": "AWS::STS::AssumeRoot"});
            detail["userIdentity"]["sessionContext"] = json!({"assumedRoot": "true"});
        }
        detail["additionalEventData"] = json!({"MFAUsed": "maybe"});
        let config = naming_config(&account, &account_name, &display_name);
        let body = sms_of(&event, &config);
        prop_assert!(body.is_some(), "{name}: a longer field must not stop the alert");
        let body = body.unwrap();
        let problem = segment_problem(&display_name, &body);
        prop_assert!(problem.is_none(), "{}: {:?}", name, problem);
        prop_assert!(body.starts_with("CRITICAL ") || body.starts_with("HIGH ")
            || body.starts_with("MEDIUM ") || body.starts_with("LOW "), "{body}");
        prop_assert!(body.contains(&account), "{}: the account id gave way: {}", name, body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// In organization mode the account's name is whatever an administrator of the management
    /// account typed (Organizations allows 50 printable ASCII characters; the test tries any
    /// text): the SMS stays one segment, the subject valid, and both keep the account id.
    #[test]
    fn no_organizations_name_breaks_the_sms_or_hides_the_account(
        index in 0..64usize,
        typed in prop_oneof![
            "[ -~]{1,50}",
            any::<String>(),
            Just("x".repeat(50)),
            Just("<!channel> Ω€[]|^{}~\\ ".repeat(5)),
        ],
    ) {
        let display_name = template_display_name();
        let config = Config::from_lookup(|var| match var {
            "ALERT_TOPIC_ARN" => Some(OFFLINE_TOPIC.to_owned()),
            "TOPIC_DISPLAY_NAME" => Some(display_name.clone()),
            _ => None,
        })
        .expect("valid configuration");
        let samples: Vec<_> = valid_samples()
            .into_iter()
            .filter(|(_, p)| sms_of(p, &config).is_some())
            .collect();
        let (name, sample) = &samples[index % samples.len()];
        let shown = AccountName::from_untrusted(&typed);
        let Ok(Decision::Alert { notification, alert }) = parse_and_classify(sample)
            .map(|classified| {
                enrich_and_render(classified, &config, shown.as_ref(), &WindowLookup::Off)
            })
        else {
            panic!("{name}: a name must not stop the alert");
        };
        let body = notification.sms.as_str();
        let problem = segment_problem(&display_name, body);
        prop_assert!(problem.is_none(), "{}: {:?}", name, problem);
        let problem = subject_problem(notification.subject.as_str());
        prop_assert!(problem.is_none(), "{}: {:?}", name, problem);
        if let Some(id) = &alert.account.id {
            prop_assert!(body.contains(id.as_str()), "{}: {}", name, body);
            prop_assert!(notification.subject.as_str().contains(id.as_str()), "{}", notification.subject.as_str());
        }
    }
}

/// What a responder must always read on the phone, however long the rest: the account id, the
/// source IP (or CloudTrail's name for AWS) whole, and the time. A call or error code that gave
/// way is visibly cut (`...`) or, given way whole, leaves the mark in its place (`: ...`,
/// ` (...)`; a call that gave way whole takes its code with it under its one mark): a cut never
/// reads as a real API name, and nothing is left out unseen.
fn assert_the_facts_survive(
    body: &str,
    account: &str,
    ip: &str,
    call: Option<&str>,
    code: Option<&str>,
) -> Result<(), TestCaseError> {
    prop_assert!(body.contains(account), "the account id gave way: {}", body);
    prop_assert!(
        body.contains(&format!(". IP {ip}. ")),
        "the IP gave way: {}",
        body
    );
    prop_assert!(body.contains(EVENT_MINUTE), "the time gave way: {}", body);
    let marked = [(call, &[": ..."][..]), (code, &[" (...)", ": ..."][..])];
    for (whole, marks) in marked.into_iter().filter_map(|(w, m)| Some((w?, m))) {
        prop_assert!(
            shown_whole_cut_or_marked(body, whole, marks),
            "{:?} gave way without a mark in {}",
            whole,
            body
        );
    }
    Ok(())
}

/// `whole` is in `body` whole, or as a prefix followed by `...`, or gave way whole and one of
/// `marks` stands where it stood.
fn shown_whole_cut_or_marked(body: &str, whole: &str, marks: &[&str]) -> bool {
    let chars: Vec<char> = whole.chars().collect();
    let prefix = |k: usize| chars[..k].iter().collect::<String>();
    body.contains(whole)
        || (1..chars.len()).any(|k| body.contains(&format!("{}...", prefix(k))))
        || marks.iter().any(|mark| body.contains(mark))
}

const EVENT_TIME: &str = "2026-11-21T23:59:58Z";
const EVENT_MINUTE: &str = "2026-11-21 23:59 UTC";

/// One sample made as long as real AWS values make it: the longest account name, an IPv6
/// address of eight full groups (or CloudTrail's `AWS Internal`, or a service's DNS name), a
/// long call refused with a long error code, the longest region names.
fn longest_real_sms(
    sample: &Value,
    account_name: &str,
    ip: &str,
    region: &str,
    call: Option<(&str, &str)>,
    code: Option<&str>,
    assume_root: bool,
) -> (String, String) {
    let display_name = template_display_name();
    let mut event = sample.clone();
    let account = event["account"].as_str().unwrap_or("unknown").to_owned();
    let detail = &mut event["detail"];
    detail["sourceIPAddress"] = json!(ip);
    detail["awsRegion"] = json!(region);
    detail["eventTime"] = json!(EVENT_TIME);
    if let Some((source, name)) = call {
        detail["eventSource"] = json!(source);
        detail["eventName"] = json!(name);
    }
    if let Some(code) = code {
        detail["errorCode"] = json!(code);
    }
    if assume_root {
        detail["userIdentity"]["sessionContext"] = json!({"assumedRoot": "true"});
    }
    let config = naming_config(&account, account_name, &display_name);
    let body = sms_of(&event, &config).expect("a longer field must not stop the alert");
    if let Some(problem) = segment_problem(&display_name, &body) {
        panic!("{problem}");
    }
    (body, account)
}

/// A long call failed with a long error code, from a full IPv6 address: the code gives way and
/// leaves its mark, the call is cut and marked, the IP, the account and the time stay whole.
#[test]
fn a_long_call_and_code_give_way_to_the_ip_account_and_time() {
    let sample = sample("root-api-call-from-console-session");
    let ip = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let name = "UpdateProbationAutoCancellationSettingsForSupportSubscription";
    let (body, account) = longest_real_sms(
        &sample,
        &"n".repeat(32),
        ip,
        "us-east-1",
        Some(("support-subscription.amazonaws.com", name)),
        Some("UnauthorizedOperationForThisAccountException"),
        false,
    );
    assert_the_facts_survive(&body, &account, ip, None, None).unwrap();
    assert!(body.ends_with(" us-east-1"), "{body}");
    assert!(!body.contains(name), "{body}");
    let call_shown = body
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(" Acct").next())
        .unwrap_or_default();
    assert!(
        call_shown.starts_with("support-sub") && call_shown.ends_with("... (...)."),
        "the cut is marked: {body}"
    );
    assert!(
        !body.contains("Unauthorized") && body.contains(" (...)."),
        "the code gave way first, and left its mark: {body}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever real values make an SMS long, the account id, the whole source IP and the time
    /// survive, and anything cut is marked.
    #[test]
    fn the_ip_account_and_time_survive_the_longest_real_alerts(
        index in 0..64usize,
        account_name in prop_oneof![
            Just("a".repeat(32)),
            "[A-Za-z0-9][A-Za-z0-9._ -]{0,30}[A-Za-z0-9]",
        ],
        ip in prop_oneof![
            Just("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".to_owned()),
            Just("2001:db8:4f3a:9c21:7d5e:a1b2:c3d4:e5f6".to_owned()),
            Just("255.255.255.255".to_owned()),
            Just("AWS Internal".to_owned()),
            Just("elasticloadbalancing.amazonaws.com".to_owned()),
        ],
        region in prop_oneof![
            Just("us-isof-south-1"),
            Just("ap-southeast-7"),
            Just("us-gov-west-1"),
        ],
        service in "[a-z][a-z-]{0,40}",
        event_name in "[A-Z][A-Za-z]{0,59}",
        code in proptest::option::of("[A-Z][A-Za-z]{0,20}(\\.[A-Z][A-Za-z]{0,37})?"),
        assume_root in any::<bool>(),
    ) {
        let samples: Vec<_> = valid_samples()
            .into_iter()
            .filter(|(_, p)| sms_of(p, &deployed_config()).is_some())
            .collect();
        let (name, sample) = &samples[index % samples.len()];
        let is_api_call = sample["detail-type"] == "AWS API Call via CloudTrail";
        // AssumeRoot sessions act in their own account: never beside an external caller.
        let external = sample["detail"]["userIdentity"]["accountId"] != sample["account"];
        let source = format!("{service}.amazonaws.com");
        let call = is_api_call.then_some((source.as_str(), event_name.as_str()));
        let (body, account) = longest_real_sms(
            sample,
            &account_name,
            &ip,
            region,
            call,
            code.as_deref(),
            assume_root && is_api_call && !external,
        );
        let whole_call = format!("{service}:{event_name}");
        assert_the_facts_survive(
            &body,
            &account,
            &ip,
            is_api_call.then_some(whole_call.as_str()),
            code.as_deref(),
        )
        .map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The one text past a ceiling says texts are paused: one segment after the template's
    /// prefix for any account name, any ceiling the configuration allows, any hour, any bucket
    /// and the severity of any alert it replaces, and it keeps that severity, which texts are
    /// paused and for whom (the account id, or all accounts), when they resume and where the
    /// alerts are.
    #[test]
    fn the_notice_that_texts_are_paused_fits_one_segment(
        typed in prop_oneof!["[ -~]{1,50}", any::<String>(), Just("x".repeat(50))],
        id in prop_oneof![Just(Some("111122223333")), Just(None)],
        ceiling in prop_oneof![Just(1u32), Just(10), Just(1000), 1..=1000u32],
        hour in 0..24u32,
        severity in prop_oneof![
            Just(Severity::Critical),
            Just(Severity::High),
            Just(Severity::Medium),
            Just(Severity::Low),
        ],
        bucket in prop_oneof![
            Just(TextBucket::RootActivity),
            Just(TextBucket::SignInAttempts),
            Just(TextBucket::ForwarderFailures),
        ],
    ) {
        let display_name = template_display_name();
        let limit = deployed_config().sms_limit;
        let account = Account {
            id: id.and_then(AccountId::parse),
            name: AccountName::from_untrusted(&typed),
        };
        let until: DateTime<Utc> = format!("2026-11-21T{hour:02}:00:00Z").parse().unwrap();
        let body = render_pause_notice(&account, bucket, severity, ceiling, until, limit);
        let body = body.as_str();
        let problem = segment_problem(&display_name, body);
        prop_assert!(problem.is_none(), "{:?}", problem);
        let paused = format!(
            "{} in email. {} texts PAUSED for ",
            severity.as_str(),
            bucket.describe()
        );
        prop_assert!(body.starts_with(&paused), "{}", body);
        // Root activity pauses for one account (its name may give way); what anyone can cause,
        // for every account.
        let (whose, until) = match bucket {
            TextBucket::RootActivity => (
                "acct ",
                format!("{} until {hour:02}:00 UTC", id.unwrap_or("unknown")),
            ),
            _ => ("all accounts", format!("all accounts until {hour:02}:00 UTC")),
        };
        prop_assert!(body[paused.len()..].starts_with(whose), "{}", body);
        prop_assert!(body.contains(&until), "{}", body);
        let close = match bucket {
            TextBucket::RootActivity => "Email and chat still get every alert.",
            _ => "Root activity still texts; email and chat get all.",
        };
        prop_assert!(body.ends_with(close), "{}", body);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The watchdog's `pipeline-blind` text, for any trail names (CloudTrail allows 128
    /// characters), any number of findings and the longest region codes: one segment after the
    /// template's prefix, judged with the tests' own alphabet, with the region and account kept.
    #[test]
    fn the_watchdogs_text_fits_one_segment(
        trails in prop::collection::vec(
            prop_oneof!["[A-Za-z0-9._-]{3,128}", any::<String>(), Just("x".repeat(128))],
            0..4,
        ),
        no_trail in any::<bool>(),
        failed in any::<bool>(),
        region in prop_oneof![Just("us-isob-east-1"), Just("ap-southeast-7"), Just("eu-west-1")],
    ) {
        let display_name = template_display_name();
        let limit = deployed_config().sms_limit;
        let mut findings: Vec<Finding> = trails
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let arn = format!("arn:aws:cloudtrail:{region}:111122223333:trail/{name}");
                if i % 2 == 0 {
                    Finding::NotLogging { trail: name.clone(), trail_arn: arn, home_region: region.to_owned() }
                } else {
                    Finding::NoManagementEvents { trail: name.clone(), trail_arn: arn, home_region: region.to_owned() }
                }
            })
            .collect();
        if no_trail {
            findings.insert(0, Finding::NoTrail);
        }
        if failed {
            findings.push(Finding::CheckFailed { error: "AccessDenied".into() });
        }
        let checked = Checked {
            account: "111122223333",
            region,
            at: "2026-11-21T03:00:00Z".parse().unwrap(),
        };
        let sms = watchdog_sms(&checked, &findings, limit);
        let body = sms.as_str();
        let problem = segment_problem(&display_name, body);
        prop_assert!(problem.is_none(), "{:?}", problem);
        let place = format!("blind in {region}, acct 111122223333");
        prop_assert!(body.contains(&place), "{}", body);
    }
}
