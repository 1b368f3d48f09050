//! Coverage against real local APIs: moto's Organizations (the management account, which is
//! the home, and three members), DynamoDB (the state table and the heartbeat table) and SNS, in
//! server mode through the SDK. Heartbeats are `events/heartbeat.json` with the cell and time
//! rewritten, as the home bus delivers them (moto never fires schedule rules and strips
//! `account`/`resources` when forwarding, so the trip's first half is tested on the templates,
//! `tests/template/test_organization.py`). What was published is read from moto's own record.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use chrono::{DateTime, Duration, Utc};
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::heartbeats::DynamoHeartbeats;
use rootwatch::aws::organizations::OrganizationAccounts;
use rootwatch::aws::sdk::organizations_listing_client;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::coverage::judge::State;
use rootwatch::coverage::{ChecksOutcome, Coverage, Recorded};
use rootwatch::dispatch::{Function, Response};
use rootwatch::domain::AccountId;
use rootwatch::error::HandlerError;
use serde_json::Value;

use crate::support::faulty::ClosedPort;
use crate::support::moto::sdk_config_for;
use crate::support::sample;
use crate::support::stack::{LocalStack, TABLE, function};
use crate::watchdog::published;

const HEARTBEATS: &str = "rootwatch-heartbeats";
const HOME: &str = "123456789012";
const HOME_REGION: &str = "us-east-1";
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const CHECKS_RULE: &str = "arn:aws:events:us-east-1:123456789012:rule/rootwatch-checks-0a1b2c3d";

type Org = Function<
    SnsPublisher,
    DynamoState,
    CloudTrailSource,
    DynamoWatchdogState,
    rootwatch::ports::NoDirectory,
    rootwatch::ports::NoPosture,
    rootwatch::ports::NoMemberRoots,
    DynamoHeartbeats,
    OrganizationAccounts,
>;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// The heartbeat table as template.yaml makes it.
async fn heartbeat_table(stack: &LocalStack) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .unwrap()
    };
    stack
        .dynamodb
        .create_table()
        .table_name(HEARTBEATS)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("region"))
        .attribute_definitions(attribute("account"))
        .key_schema(key("region", KeyType::Hash))
        .key_schema(key("account", KeyType::Range))
        .send()
        .await
        .expect("create the heartbeat table");
}

/// The organization, created from moto's default account (the home), with `members` accounts;
/// returns their ids in order.
async fn organization(stack: &LocalStack, members: &[&str]) -> Vec<String> {
    let organizations = aws_sdk_organizations::Client::new(&stack.moto.sdk_config().await);
    organizations
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    let mut ids = Vec::new();
    for name in members {
        let request = organizations
            .create_account()
            .account_name(*name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("create account")
            .create_account_status
            .and_then(|s| s.id)
            .expect("a request id");
        let status = organizations
            .describe_create_account_status()
            .create_account_request_id(request)
            .send()
            .await
            .expect("describe create account status")
            .create_account_status
            .expect("a status");
        ids.push(status.account_id.expect("the member's id"));
    }
    ids
}

/// The home function with coverage on, as main.rs wires it.
async fn org_function(stack: &LocalStack) -> Org {
    let app = stack.app(&stack.topic);
    let marks = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
    let f = function(app, marks, &stack.moto.endpoint).await;
    let organizations =
        organizations_listing_client(&sdk_config_for(&stack.moto.endpoint).await, "aws");
    let coverage = Coverage {
        heartbeats: DynamoHeartbeats::new(stack.state_client.clone(), HEARTBEATS),
        organization: OrganizationAccounts::new(organizations),
        regions: REGIONS.iter().map(|r| (*r).to_owned()).collect(),
        home_account: AccountId::parse(HOME).unwrap(),
        home_region: HOME_REGION.into(),
        sms_limit: f.handler.config.sms_limit,
        runbook_url: None,
    };
    Function {
        handler: f.handler,
        watchdog: f.watchdog,
        posture: None,
        coverage: Some(coverage),
        checks_rule: Some(CHECKS_RULE.into()),
    }
}

/// `events/heartbeat.json` from `account` × `region` at `time`, as the home bus delivers it.
fn heartbeat(account: &str, region: &str, time: DateTime<Utc>) -> Value {
    let mut beat = sample("heartbeat");
    beat["account"] = account.into();
    beat["region"] = region.into();
    beat["time"] = time.to_rfc3339().into();
    beat["resources"] = serde_json::json!([format!(
        "arn:aws:events:{region}:{account}:rule/rootwatch-heartbeat-0f1e2d3c"
    )]);
    beat
}

/// An invocation started at `now` (the scenario's clock), with the function's 30 s.
fn invocation_at(now: DateTime<Utc>) -> rootwatch::invocation::Invocation {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    rootwatch::invocation::Invocation::new(format!("coverage-{n}"), now + Duration::seconds(30))
}

/// The checks schedule's tick.
fn checks_tick(time: DateTime<Utc>) -> Value {
    serde_json::json!({
        "version": "0", "id": "7d2c1b0a-9e8f-4a6b-8c5d-3e2f1a0b9c8d",
        "detail-type": "Scheduled Event", "source": "aws.events", "account": HOME,
        "time": time.to_rfc3339(), "region": HOME_REGION, "resources": [CHECKS_RULE], "detail": {}
    })
}

async fn check(f: &Org, now: DateTime<Utc>) -> ChecksOutcome {
    match f
        .handle(&checks_tick(now), &invocation_at(now), now)
        .await
        .0
    {
        Ok(Response::Checks(outcome)) => outcome,
        other => panic!("a checks run: {other:?}"),
    }
}

async fn beat(f: &Org, account: &str, region: &str, time: DateTime<Utc>) -> Recorded {
    match f
        .handle(
            &heartbeat(account, region, time),
            &invocation_at(time),
            time,
        )
        .await
        .0
    {
        Ok(Response::Heartbeat(recorded)) => recorded,
        other => panic!("a heartbeat: {other:?}"),
    }
}

/// The heartbeat table's cells, as moto holds them: (region, account, last_seen).
async fn cells(stack: &LocalStack) -> Vec<(String, String, i64)> {
    let items = stack
        .dynamodb
        .scan()
        .table_name(HEARTBEATS)
        .send()
        .await
        .expect("scan the heartbeat table (the test's read, not the function's)")
        .items
        .unwrap_or_default();
    let mut cells: Vec<_> = items
        .iter()
        .filter(|item| item["region"].as_s().unwrap() != "#meta")
        .map(|item| {
            (
                item["region"].as_s().unwrap().clone(),
                item["account"].as_s().unwrap().clone(),
                item["last_seen"].as_n().unwrap().parse().unwrap(),
            )
        })
        .collect();
    cells.sort();
    cells
}

fn count(outcome: &ChecksOutcome, state: State) -> usize {
    match outcome {
        ChecksOutcome::Checked { cells, .. } => cells.get(&state).copied().unwrap_or(0),
        ChecksOutcome::Failed { error, .. } => panic!("the check failed: {error}"),
    }
}

/// Heartbeats from every account × region but one, then a checks run: one `coverage-gap` naming
/// that account (name and id) and region; the next run that day is quiet; once its heartbeat
/// arrives the next run is quiet and every cell is watched. Heartbeats publish nothing, and a
/// fresh start pages nothing.
#[tokio::test]
async fn one_silent_cell_is_alerted_once_by_name_and_region_until_its_heartbeat_comes() {
    let stack = LocalStack::start().await;
    heartbeat_table(&stack).await;
    let members = organization(&stack, &["member-1", "member-2", "member-3"]).await;
    let f = org_function(&stack).await;
    // moto stamps each account's JoinedTimestamp with the wall clock, and a cell is pending
    // from when its account joined: the run starts after that.
    let t0 = DateTime::from_timestamp(Utc::now().timestamp() + 60, 0).unwrap();

    let first = check(&f, t0).await;
    assert_eq!(
        (count(&first, State::Pending), count(&first, State::Home)),
        (11, 1)
    );
    assert!(
        published(&stack.moto, &stack.topic).is_empty(),
        "a fresh start pages nothing"
    );

    let silent = (members[1].as_str(), "ap-southeast-2");
    let sent = t0 + Duration::minutes(170);
    let mut expected = Vec::new();
    for account in std::iter::once(HOME).chain(members.iter().map(String::as_str)) {
        for region in REGIONS {
            if (account, region) == silent || (account, region) == (HOME, HOME_REGION) {
                continue;
            }
            let recorded = beat(&f, account, region, sent).await;
            assert!(
                matches!(recorded, Recorded::Recorded { .. }),
                "{recorded:?}"
            );
            expected.push((region.to_owned(), account.to_owned(), sent.timestamp()));
        }
    }
    expected.sort();
    assert_eq!(expected.len(), 10);
    assert_eq!(
        cells(&stack).await,
        expected,
        "one item per heartbeat's cell"
    );
    assert!(
        published(&stack.moto, &stack.topic).is_empty(),
        "a heartbeat publishes nothing"
    );

    let gap = check(&f, t0 + Duration::hours(3)).await;
    assert_eq!(count(&gap, State::Blind), 1);
    assert_eq!(count(&gap, State::Watched), 10);
    let alerts = published(&stack.moto, &stack.topic);
    assert_eq!(alerts.len(), 1);
    let (kind, severity, page, message) = &alerts[0];
    assert_eq!(
        (kind.as_str(), severity.as_str(), page.as_str()),
        ("coverage-gap", "HIGH", "true")
    );
    let label = format!("member-2 ({}) x ap-southeast-2", members[1]);
    let subject = stack.moto.sent_notifications(&stack.topic)[0][2]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(subject.contains(&label), "{subject}");
    assert!(
        message["sms"].as_str().unwrap().contains(&label),
        "{message}"
    );
    let email = message["email"].as_str().unwrap();
    assert!(email.contains(&format!("- {label}, never seen")), "{email}");
    for other in [&members[0], &members[2]] {
        assert!(
            !email.contains(other.as_str()),
            "only the silent cell is named: {email}"
        );
    }

    let again = check(&f, t0 + Duration::minutes(210)).await;
    assert_eq!(count(&again, State::Blind), 1);
    assert_eq!(
        published(&stack.moto, &stack.topic).len(),
        1,
        "once a day per gap"
    );

    beat(&f, silent.0, silent.1, t0 + Duration::minutes(185)).await;
    let later = t0 + Duration::hours(4);
    let (result, metrics) = f
        .handle(&checks_tick(later), &invocation_at(later), later)
        .await;
    let Ok(Response::Checks(healed)) = result else {
        panic!("a checks run: {result:?}");
    };
    let lines: Vec<Value> = metrics
        .coverage_emf("rootwatch", later)
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let by_state: Vec<(&str, u64)> = lines
        .iter()
        .map(|v| {
            (
                v["State"].as_str().unwrap(),
                v["CoverageCells"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_state,
        [("home", 1), ("watched", 11), ("pending", 0), ("blind", 0)],
        "the CoverageCells metric"
    );
    assert_eq!(
        (count(&healed, State::Watched), count(&healed, State::Home)),
        (11, 1)
    );
    assert_eq!(count(&healed, State::Blind), 0);
    assert_eq!(
        published(&stack.moto, &stack.topic).len(),
        1,
        "a healed gap is quiet"
    );
}

/// A late redelivery never moves a cell's last heartbeat back (the write's condition), and is
/// still a success.
#[tokio::test]
async fn an_older_heartbeat_keeps_the_later_one() {
    let stack = LocalStack::start().await;
    heartbeat_table(&stack).await;
    let f = org_function(&stack).await;
    let later = at("2026-11-21T10:00:00Z");
    beat(&f, "444455556666", "eu-west-1", later).await;
    let older = beat(&f, "444455556666", "eu-west-1", later - Duration::hours(1)).await;
    assert!(matches!(older, Recorded::Older { .. }), "{older:?}");
    assert_eq!(
        cells(&stack).await,
        [(
            "eu-west-1".to_owned(),
            "444455556666".to_owned(),
            later.timestamp()
        )]
    );
}

/// A heartbeat rule's tick that is not a heartbeat (another account's envelope) is refused,
/// non-retryable, and recorded nowhere.
#[tokio::test]
async fn a_forged_heartbeat_is_refused_and_not_recorded() {
    let stack = LocalStack::start().await;
    heartbeat_table(&stack).await;
    let f = org_function(&stack).await;
    let now = at("2026-11-21T10:00:00Z");
    let mut forged = heartbeat("444455556666", "eu-west-1", now);
    forged["account"] = "111122223333".into();
    let (result, _) = f.handle(&forged, &invocation_at(now), now).await;
    let err: HandlerError = result.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("invalid heartbeat"), "{err}");
    assert!(cells(&stack).await.is_empty());
}

/// AWS Organizations refusing the listing is itself an alert, once a day.
#[tokio::test]
async fn a_refused_listing_is_a_coverage_check_failed_alert_once_a_day() {
    let stack = LocalStack::start().await;
    heartbeat_table(&stack).await;
    let closed = ClosedPort::reserve();
    let mut f = org_function(&stack).await;
    let unreachable = organizations_listing_client(&sdk_config_for(&closed.endpoint).await, "aws");
    f.coverage.as_mut().unwrap().organization = OrganizationAccounts::new(unreachable);
    let now = at("2026-11-21T10:00:00Z");
    assert!(matches!(check(&f, now).await, ChecksOutcome::Failed { .. }));
    assert!(matches!(
        check(&f, now + Duration::hours(1)).await,
        ChecksOutcome::Failed { .. }
    ));
    let alerts = published(&stack.moto, &stack.topic);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].0, "coverage-check-failed");
    assert!(
        alerts[0].3["email"]
            .as_str()
            .unwrap()
            .contains("organizations:ListAccounts")
    );
}

/// The weekly report: the first check of a Monday from 08:00 UTC sends it (LOW, email and chat,
/// never texted), listing every account; the next check that day and the days after do not.
#[tokio::test]
async fn the_weekly_report_goes_once_on_monday_listing_every_account() {
    use chrono::{Datelike, Timelike};
    let stack = LocalStack::start().await;
    heartbeat_table(&stack).await;
    let members = organization(&stack, &["member-1", "member-2"]).await;
    let f = org_function(&stack).await;
    // The first Monday 07:00 UTC at least a day after the accounts joined (moto's wall clock).
    let mut monday = Utc::now() + Duration::days(1);
    while monday.weekday() != chrono::Weekday::Mon {
        monday += Duration::days(1);
    }
    let monday = monday
        .with_hour(7)
        .and_then(|t| t.with_minute(0))
        .and_then(|t| t.with_second(0))
        .unwrap();
    for region in REGIONS {
        beat(&f, &members[0], region, monday - Duration::minutes(30)).await;
    }
    let report = |outcome: ChecksOutcome| match outcome {
        ChecksOutcome::Checked { report, .. } => report,
        ChecksOutcome::Failed { error, .. } => panic!("{error}"),
    };
    assert_eq!(report(check(&f, monday).await), None, "not before 08:00");
    let kinds = |stack: &LocalStack| -> Vec<String> {
        published(&stack.moto, &stack.topic)
            .into_iter()
            .map(|(kind, ..)| kind)
            .collect()
    };
    assert!(report(check(&f, monday + Duration::hours(1)).await).is_some());
    assert!(
        report(check(&f, monday + Duration::hours(2)).await).is_none(),
        "once a week"
    );
    assert!(
        report(check(&f, monday + Duration::hours(25)).await).is_none(),
        "Mondays only"
    );
    let sent = published(&stack.moto, &stack.topic);
    let reports: Vec<_> = sent
        .iter()
        .filter(|(kind, ..)| kind == "coverage-report")
        .collect();
    assert_eq!(reports.len(), 1, "{:?}", kinds(&stack));
    let (_, severity, page, message) = reports[0];
    assert_eq!((severity.as_str(), page.as_str()), ("LOW", "false"));
    let email = message["email"].as_str().unwrap();
    assert!(
        email.contains(&format!("{}  member-1  watched 3/3", members[0])),
        "{email}"
    );
    assert!(
        email.contains(&format!("{}  member-2  watched 0/3", members[1])),
        "{email}"
    );
}
