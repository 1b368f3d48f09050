//! Organization mode against moto: member accounts named from moto's AWS Organizations, the
//! lookup's failures (no organization, a refused connection, a lost or withheld answer) falling
//! back to the id without stopping the alert, one lookup per account, the operator's
//! `ACCOUNT_NAMES` winning, one alert for one CloudTrail event forwarded in two envelopes, the
//! alert naming the event's account and region, not the function's, and a member forwarder's
//! failing alarm becoming one alert. Everything is checked from moto's own record of what SNS
//! published.
//!
//! moto keeps one backend per account: the function's calls (and this test's setup) come from
//! its default account 123456789012, which creates the organization and so is the management
//! account; the events are recorded in the member account it creates.

use std::time::{Duration, Instant};

use chrono::Utc;
use rootwatch::account_directory::CachedDirectory;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::organizations::OrganizationsDirectory;
use rootwatch::aws::sdk::organizations_client;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::config::Config;
use rootwatch::domain::limits::LOOKUP_BUDGET;
use rootwatch::domain::{NotificationKind, Severity};
use rootwatch::handler::{Handler, Outcome};
use serde_json::Value;

use crate::support::faulty::{ClosedPort, Fault, FaultyServer};
use crate::support::gsm7::{segment_problem, subject_problem};
use crate::support::moto::sdk_config_for;
use crate::support::proxy::Proxy;
use crate::support::stack::{LocalStack, TABLE, table_keys};
use crate::support::{TOPIC_DISPLAY_NAME, invocation, sample};

const DESCRIBE_ACCOUNT: &str = "AWSOrganizationsV20161128.DescribeAccount";

/// The account the samples are recorded in; replaced by the member's id.
const SAMPLE_ACCOUNT: &str = "111122223333";

/// moto's default account: the function's own (its topic's) and the management account.
const FUNCTION_ACCOUNT: &str = "123456789012";

/// A member account id no organization knows, for the tests whose lookup fails anyway.
const UNKNOWN_MEMBER: &str = "444455556666";

/// Generous: the budget, plus a publish and the state table on a loaded 2-core machine. The
/// tests do not time the budget itself (the unit tests do, on paused time).
const SLACK: Duration = Duration::from_secs(8);

type App = Handler<SnsPublisher, DynamoState, OrganizationsDirectory>;

/// Sample `name`, recorded in `account` (every mention of the sample's account replaced) with
/// event id `event_id`.
fn member_event(name: &str, account: &str, event_id: &str) -> Value {
    let text = serde_json::to_string(&sample(name))
        .unwrap()
        .replace(SAMPLE_ACCOUNT, account);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["detail"]["eventID"] = event_id.into();
    event
}

/// Creates the organization (from moto's default account) and a member account; returns its id.
async fn member_account(stack: &LocalStack, name: &str) -> String {
    let organizations = aws_sdk_organizations::Client::new(&stack.moto.sdk_config().await);
    organizations
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    let request = organizations
        .create_account()
        .account_name(name)
        .email("member@example.com")
        .send()
        .await
        .expect("create account")
        .create_account_status
        .and_then(|s| s.id)
        .expect("a create-account request id");
    let status = organizations
        .describe_create_account_status()
        .create_account_request_id(request)
        .send()
        .await
        .expect("describe create account status")
        .create_account_status
        .expect("a status");
    let id = status.account_id.expect("the member's account id");
    assert_ne!(id, FUNCTION_ACCOUNT);
    id
}

/// The function in organization mode with the state table, reaching Organizations at
/// `organizations_endpoint`, with `ACCOUNT_NAMES` set to `account_names`.
async fn org_app(stack: &LocalStack, organizations_endpoint: &str, account_names: &str) -> App {
    // moto's topics are in the `aws` partition.
    let client = organizations_client(&sdk_config_for(organizations_endpoint).await, "aws");
    org_app_with(stack, client, account_names)
}

/// As [`org_app`], asking Organizations through `client`.
fn org_app_with(
    stack: &LocalStack,
    client: aws_sdk_organizations::Client,
    account_names: &str,
) -> App {
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some(stack.topic.clone()),
        "STATE_TABLE" => Some(TABLE.to_owned()),
        "ACCOUNT_NAMES" => Some(account_names.to_owned()),
        "ACCOUNT_NAMES_FROM_ORGANIZATIONS" => Some("true".to_owned()),
        "TOPIC_DISPLAY_NAME" => Some(TOPIC_DISPLAY_NAME.to_owned()),
        _ => None,
    })
    .expect("valid test configuration");
    Handler::new(
        config.clone(),
        SnsPublisher::new(stack.sns.clone(), config.topic_arn.clone()),
        DynamoState::new(stack.state_client.clone(), TABLE),
    )
    .with_directory(Some(CachedDirectory::new(OrganizationsDirectory::new(
        client,
    ))))
}

/// What one publish carried, as moto recorded it.
struct Published {
    sms: String,
    email: String,
    subject: String,
    chat: Value,
    alert: Value,
}

fn published(stack: &LocalStack) -> Vec<Published> {
    stack
        .moto
        .sent_notifications(&stack.topic)
        .iter()
        .map(|n| {
            let message: Value =
                serde_json::from_str(n[1].as_str().expect("message")).expect("json message");
            let text = |key: &str| message[key].as_str().expect(key).to_owned();
            Published {
                sms: text("sms"),
                email: text("email"),
                subject: n[2].as_str().expect("subject").to_owned(),
                chat: serde_json::from_str(&text("https")).expect("chat json"),
                alert: serde_json::from_str(&text("email-json")).expect("alert json"),
            }
        })
        .collect()
}

/// Sends `event` and expects it published; returns how long the invocation took.
async fn alert(app: &App, event: &Value) -> Duration {
    let started = Instant::now();
    let outcome = app
        .handle(event, &invocation(), Utc::now())
        .await
        .expect("the alert goes out");
    assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
    started.elapsed()
}

fn describe_account_calls(proxy: &Proxy) -> usize {
    proxy
        .targets()
        .iter()
        .filter(|t| t.as_str() == DESCRIBE_ACCOUNT)
        .count()
}

/// Every text a person reads names the member by name and id.
fn assert_named(p: &Published, name: &str, member: &str) {
    assert!(
        p.sms.contains(&format!("Acct {name} {member}.")),
        "{}",
        p.sms
    );
    assert!(
        p.subject.ends_with(&format!(" - {name} ({member})")),
        "{}",
        p.subject
    );
    assert!(
        p.email
            .contains(&format!("Account      {name} ({member})\n")),
        "{}",
        p.email
    );
    let chat = p.chat["content"]["description"].as_str().unwrap();
    assert!(
        chat.contains(&format!("*Account:* {name} ({member})")),
        "{chat}"
    );
    assert_eq!(p.alert["account"]["name"], name);
    assert_eq!(p.alert["account"]["id"], member);
}

/// The lookup gave nothing: the id alone, everywhere.
fn assert_unnamed(p: &Published, member: &str) {
    assert!(p.sms.contains(&format!("Acct {member}.")), "{}", p.sms);
    assert!(
        p.subject.ends_with(&format!(" - {member}")),
        "{}",
        p.subject
    );
    assert!(
        p.email.contains(&format!("Account      {member}\n")),
        "{}",
        p.email
    );
    assert_eq!(p.alert["account"]["name"], Value::Null);
}

#[tokio::test]
async fn a_member_account_is_named_from_the_organization_once() {
    let stack = LocalStack::start().await;
    let member = member_account(&stack, "prod-payments").await;
    let proxy = Proxy::serializing(&stack.moto.endpoint).await;
    let app = org_app(&stack, &proxy.endpoint, "").await;

    alert(
        &app,
        &member_event(
            "root-console-sign-in-without-mfa",
            &member,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000001",
        ),
    )
    .await;
    alert(
        &app,
        &member_event(
            "root-access-key-created",
            &member,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000002",
        ),
    )
    .await;

    let sent = published(&stack);
    assert_eq!(sent.len(), 2);
    for p in &sent {
        assert_named(p, "prod-payments", &member);
    }
    assert_eq!(
        describe_account_calls(&proxy),
        1,
        "the second event's account name came from the cache: {:?}",
        proxy.targets()
    );
}

/// The operator's name for an account wins, and the organization is not asked.
#[tokio::test]
async fn an_account_names_entry_wins_over_the_organization() {
    let stack = LocalStack::start().await;
    let member = member_account(&stack, "prod-payments").await;
    let proxy = Proxy::serializing(&stack.moto.endpoint).await;
    let app = org_app(&stack, &proxy.endpoint, &format!("{member}=payments-eu")).await;
    alert(
        &app,
        &member_event(
            "root-access-key-created",
            &member,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000003",
        ),
    )
    .await;
    assert_named(&published(&stack)[0], "payments-eu", &member);
    assert_eq!(describe_account_calls(&proxy), 0, "{:?}", proxy.targets());
}

/// Any administrator of the management account can name an account: whatever they write, the
/// SMS stays one GSM-7 segment, the subject valid, and nothing can mention or link.
#[tokio::test]
async fn a_hostile_organization_name_is_shown_plain_and_short() {
    let stack = LocalStack::start().await;
    let hostile = "<!channel> *URGENT*\u{202e} evil.example.com [x](https://e.vil) ü";
    let member = member_account(&stack, hostile).await;
    let app = org_app(&stack, &stack.moto.endpoint, "").await;
    // A sign-in: its SMS has room for the longest name (longer API-call texts drop the name).
    alert(
        &app,
        &member_event(
            "root-console-sign-in-without-mfa",
            &member,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000004",
        ),
    )
    .await;
    let p = &published(&stack)[0];
    let shown = p.alert["account"]["name"]
        .as_str()
        .expect("a name is shown");
    assert_eq!(shown, "channel URGENT evil example co..");
    assert!(
        p.sms.contains(&format!("Acct {shown} {member}.")),
        "{}",
        p.sms
    );
    assert!(
        p.email
            .contains(&format!("Account      {shown} ({member})\n"))
    );
    // The subject has no room for a name this long: the id stays, the name gives way.
    assert!(
        p.subject.ends_with(&format!(" - {member}")),
        "{}",
        p.subject
    );
    assert_eq!(
        segment_problem(TOPIC_DISPLAY_NAME, &p.sms),
        None,
        "{}",
        p.sms
    );
    assert_eq!(subject_problem(&p.subject), None, "{}", p.subject);
    let chat = p.chat.to_string();
    for bad in ["<!", "](", "evil.example", "*URGENT*"] {
        assert!(!chat.contains(bad), "{bad:?} in {chat}");
        assert!(!p.email.contains(bad), "{bad:?} in the email");
    }
}

/// The function's account is in no organization: AWSOrganizationsNotInUse, the id alone.
#[tokio::test]
async fn without_an_organization_the_alert_shows_the_id() {
    let stack = LocalStack::start().await;
    let proxy = Proxy::serializing(&stack.moto.endpoint).await;
    let app = org_app(&stack, &proxy.endpoint, "").await;
    for n in 1..=2 {
        alert(
            &app,
            &member_event(
                "root-access-key-created",
                UNKNOWN_MEMBER,
                &format!("0f3b2c4d-1a2b-4c3d-8e9f-00000000001{n}"),
            ),
        )
        .await;
    }
    let sent = published(&stack);
    assert_eq!(sent.len(), 2);
    for p in &sent {
        assert_unnamed(p, UNKNOWN_MEMBER);
    }
    assert_eq!(
        describe_account_calls(&proxy),
        1,
        "the failure pauses lookups: {:?}",
        proxy.targets()
    );
}

/// Nothing listens where Organizations should be: the alert goes out at once with the id.
#[tokio::test]
async fn a_refused_connection_falls_back_to_the_id() {
    let stack = LocalStack::start().await;
    let closed = ClosedPort::reserve();
    let app = org_app(&stack, &closed.endpoint, "").await;
    let took = alert(
        &app,
        &member_event(
            "root-access-key-created",
            UNKNOWN_MEMBER,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000021",
        ),
    )
    .await;
    eprintln!("published after {took:?} with Organizations on a closed port");
    assert!(took < SLACK, "{took:?}");
    assert_unnamed(&published(&stack)[0], UNKNOWN_MEMBER);
}

/// Organizations accepts the request and never answers: the alert waits for the budget, no
/// longer, and the next event does not wait at all (the silence is remembered). The client here
/// would wait a minute on its own (the deployed one gives up after the budget too: `sdk.rs`
/// checks its limits), so only the function's own cut-off can end the wait in time.
#[tokio::test]
async fn a_withheld_answer_costs_the_budget_once() {
    use aws_config::timeout::TimeoutConfig;
    let stack = LocalStack::start().await;
    let silent = FaultyServer::start(Fault::Silent).await;
    let patient = Duration::from_secs(60);
    let client = aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(&sdk_config_for(&silent.endpoint).await)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(patient)
                    .operation_attempt_timeout(patient)
                    .operation_timeout(patient)
                    .build(),
            )
            .build(),
    );
    assert!(LOOKUP_BUDGET + SLACK < patient);
    let app = org_app_with(&stack, client, "");
    let first = alert(
        &app,
        &member_event(
            "root-access-key-created",
            UNKNOWN_MEMBER,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000031",
        ),
    )
    .await;
    let second = alert(
        &app,
        &member_event(
            "root-console-sign-in-without-mfa",
            UNKNOWN_MEMBER,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000032",
        ),
    )
    .await;
    eprintln!(
        "published after {first:?}, then {second:?}, with a silent Organizations (budget {LOOKUP_BUDGET:?})"
    );
    assert!(
        first >= LOOKUP_BUDGET,
        "it did wait for the answer: {first:?}"
    );
    assert!(first < LOOKUP_BUDGET + SLACK, "{first:?}");
    assert_eq!(silent.requests(), 1, "asked once, then paused");
    for p in published(&stack) {
        assert_unnamed(&p, UNKNOWN_MEMBER);
    }
}

/// moto answers but the answer never reaches the function (the connection is closed on it).
#[tokio::test]
async fn a_lost_answer_falls_back_to_the_id() {
    let stack = LocalStack::start().await;
    let member = member_account(&stack, "prod-payments").await;
    let proxy = Proxy::dropping_first(&stack.moto.endpoint, DESCRIBE_ACCOUNT).await;
    let app = org_app(&stack, &proxy.endpoint, "").await;
    alert(
        &app,
        &member_event(
            "root-access-key-created",
            &member,
            "0f3b2c4d-1a2b-4c3d-8e9f-000000000041",
        ),
    )
    .await;
    assert_eq!(proxy.dropped(), 1);
    assert_unnamed(&published(&stack)[0], &member);
}

/// A member region's forwarder puts the same CloudTrail event on the home bus in an envelope
/// of its own: a different envelope `id`, the same `detail.eventID`. One alert, not two.
#[tokio::test]
async fn one_event_in_two_envelopes_is_alerted_once() {
    let stack = LocalStack::start().await;
    let member = member_account(&stack, "prod-payments").await;
    let app = org_app(&stack, &stack.moto.endpoint, "").await;
    let first = member_event(
        "root-cloudtrail-logging-stopped",
        &member,
        "a5d6e7f8-b4c5-46d7-a293-000000000051",
    );
    let mut forwarded = first.clone();
    forwarded["id"] = "7f3c2a10-9e8d-4b6c-a5f4-3e2d1c0b9a87".into();
    assert_ne!(first["id"], forwarded["id"]);
    assert_eq!(first["detail"], forwarded["detail"]);

    alert(&app, &first).await;
    let again = app
        .handle(&forwarded, &invocation(), Utc::now())
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Duplicate { .. }), "{again:?}");
    assert_eq!(published(&stack).len(), 1);
    let keys = table_keys(&stack.dynamodb).await;
    let events: Vec<&String> = keys.iter().filter(|k| k.starts_with("event#")).collect();
    assert_eq!(
        events,
        ["event#a5d6e7f8-b4c5-46d7-a293-000000000051"],
        "claimed by detail.eventID, never by the envelope id"
    );
}

/// The function runs in us-east-1 in account 123456789012; the event happened in the member
/// account in eu-west-2. Every text, the chat thread and the console link say where the event
/// happened; none names the function's own account or region.
#[tokio::test]
async fn the_alert_names_the_source_account_and_region() {
    let stack = LocalStack::start().await;
    assert!(
        stack.topic.contains(":us-east-1:123456789012:"),
        "{}",
        stack.topic
    );
    let member = member_account(&stack, "prod-payments").await;
    let app = org_app(&stack, &stack.moto.endpoint, "").await;
    let event_id = "a5d6e7f8-b4c5-46d7-a293-000000000061";
    let text = serde_json::to_string(&member_event(
        "root-cloudtrail-logging-stopped",
        &member,
        event_id,
    ))
    .unwrap()
    .replace("us-east-1", "eu-west-2");
    let event: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(event["region"], "eu-west-2");
    alert(&app, &event).await;

    let p = &published(&stack)[0];
    assert_named(p, "prod-payments", &member);
    assert!(p.sms.ends_with(" eu-west-2"), "{}", p.sms);
    assert!(p.email.contains("Region       eu-west-2\n"), "{}", p.email);
    let link = format!(
        "https://eu-west-2.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-2#/events/{event_id}"
    );
    assert!(
        p.email.contains(&format!("Open in CloudTrail: {link}\n")),
        "{}",
        p.email
    );
    assert_eq!(p.alert["consoleUrl"], link.as_str());
    assert_eq!(p.alert["region"], "eu-west-2");
    let chat = &p.chat;
    let description = chat["content"]["description"].as_str().unwrap();
    assert!(
        description.contains("*Region:* eu-west-2\n"),
        "{description}"
    );
    assert!(
        chat["content"]["nextSteps"][0]
            .as_str()
            .unwrap()
            .contains(&link)
    );
    assert_eq!(
        chat["metadata"]["additionalContext"]["account"],
        member.as_str()
    );
    assert!(
        chat["metadata"]["threadId"]
            .as_str()
            .unwrap()
            .contains(&member),
        "{chat}"
    );
    for (what, text) in [
        ("sms", p.sms.clone()),
        ("subject", p.subject.clone()),
        ("email", p.email.clone()),
        ("chat", chat.to_string()),
        ("alert", p.alert.to_string()),
    ] {
        assert!(
            !text.contains(FUNCTION_ACCOUNT),
            "{what} names the function's account: {text}"
        );
        assert!(
            !text.contains("us-east-1"),
            "{what} names the function's region: {text}"
        );
    }
}

/// The forwarder-failing sample, as a member's forwarder in `region` would send it.
fn forwarder_alarm(member: &str, region: &str, id: &str, state: &str) -> Value {
    let text = serde_json::to_string(&sample("forwarder-failing"))
        .unwrap()
        .replace(SAMPLE_ACCOUNT, member)
        .replace("eu-west-1", region);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["id"] = id.into();
    event["detail"]["state"]["value"] = state.into();
    event
}

/// A member's forwarder could not forward some events (its failed-forwards alarm went into ALARM): one
/// `forwarder-failing` alert, HIGH and texted, naming the member by its Organizations name and
/// the region, with what to check there; the same envelope delivered again is a duplicate;
/// the alarm going back to OK, and an alarm of another name, are ignored. From moto's record.
#[tokio::test]
async fn a_failing_forwarder_is_one_alert_naming_the_member_and_region() {
    let stack = LocalStack::start().await;
    let member = member_account(&stack, "prod-payments").await;
    let app = org_app(&stack, &stack.moto.endpoint, "").await;
    let failing = forwarder_alarm(
        &member,
        "ap-southeast-2",
        "5f2a7c1e-3b9d-4e8f-a6c4-000000000001",
        "ALARM",
    );
    let outcome = app
        .handle(&failing, &invocation(), Utc::now())
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::Alerted {
                kind: NotificationKind::ForwarderFailing,
                severity: Severity::High,
                page: true,
                deduplicated: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    let again = app
        .handle(&failing, &invocation(), Utc::now())
        .await
        .unwrap();
    assert!(matches!(again, Outcome::Duplicate { .. }), "{again:?}");
    let recovered = forwarder_alarm(
        &member,
        "ap-southeast-2",
        "5f2a7c1e-3b9d-4e8f-a6c4-000000000002",
        "OK",
    );
    let mut unrelated = forwarder_alarm(
        &member,
        "ap-southeast-2",
        "5f2a7c1e-3b9d-4e8f-a6c4-000000000003",
        "ALARM",
    );
    unrelated["detail"]["alarmName"] = "ServerCpuTooHigh".into();
    for ignored in [&recovered, &unrelated] {
        let outcome = app
            .handle(ignored, &invocation(), Utc::now())
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Ignored { .. }), "{outcome:?}");
    }

    let sent = stack.moto.sent_notifications(&stack.topic);
    assert_eq!(sent.len(), 1, "one alert for the failing forwarder");
    assert_eq!(sent[0][3]["kind"]["Value"], "forwarder-failing");
    assert_eq!(sent[0][3]["page"]["Value"], "true");
    let p = &published(&stack)[0];
    assert_eq!(
        p.sms,
        format!(
            "HIGH rootwatch forwarder failing: acct prod-payments {member} ap-southeast-2 \
             could not forward some root events home. See email"
        )
    );
    assert!(
        segment_problem(TOPIC_DISPLAY_NAME, &p.sms).is_none(),
        "{}",
        p.sms
    );
    assert_eq!(
        p.subject,
        format!("[rootwatch] HIGH Forwarder failing in ap-southeast-2 - prod-payments ({member})")
    );
    assert!(
        p.email
            .contains("aws sqs receive-message --region ap-southeast-2 --queue-url"),
        "{}",
        p.email
    );
    assert_eq!(p.alert["kind"], "forwarder-failing");
    assert_eq!(p.alert["account"]["id"], member.as_str());
    assert_eq!(p.alert["account"]["name"], "prod-payments");
    assert_eq!(p.alert["region"], "ap-southeast-2");
}
