//! The root user's posture against real local APIs: moto's IAM, CloudTrail (a healthy trail),
//! SNS and DynamoDB in server mode, reached through the SDK. The function is invoked with its
//! schedule's tick; what it published is read from moto's record of the topic, and what a phone
//! got from a queue subscribed with the template's SMS filter policy. moto differs from IAM in
//! what it can say about root; each difference is pinned by a test named for it.

use chrono::{DateTime, Utc};
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::iam::IamPosture;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::dispatch::{Function, Response};
use rootwatch::domain::PostureKind;
use rootwatch::invocation::Invocation;
use rootwatch::ports::{AccountSummary, RootPosture};
use rootwatch::posture::judge::{Password, root_password};
use rootwatch::posture::{Posture, PostureOutcome};
use rootwatch::watchdog::WatchdogOutcome;

use crate::state::Subscribers;
use crate::support::moto::{MotoServer, sdk_config_for};
use crate::support::stack::{LocalStack, TABLE, function};
use crate::watchdog::{logging_trail, published, tick};

/// The account moto answers for; named as an operator would name it.
const ACCOUNT: &str = "123456789012";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

async fn iam(moto: &MotoServer) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config_for(&moto.endpoint).await)
}

/// The function as deployed, with the posture check reading moto's IAM.
type Deployed = Function<
    SnsPublisher,
    DynamoState,
    CloudTrailSource,
    DynamoWatchdogState,
    rootwatch::ports::NoDirectory,
    IamPosture,
>;

/// The function as deployed: the state table, the watchdog and the posture check, its
/// account named `prod-payments`.
async fn deployed(stack: &LocalStack) -> Deployed {
    let names = format!("{ACCOUNT}=prod-payments");
    let app = stack.app_with(&stack.topic, &[("ACCOUNT_NAMES", names.as_str())]);
    let marks = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
    let f = function(app, marks, &stack.moto.endpoint).await;
    Function {
        posture: Some(Posture {
            reader: IamPosture::new(iam(&stack.moto).await),
            members: None,
            partition: "aws".into(),
            account: ACCOUNT.into(),
            name: Some("prod-payments".into()),
            sms_limit: f.handler.config.sms_limit,
            runbook_url: None,
        }),
        handler: f.handler,
        watchdog: f.watchdog,
        coverage: None,
        checks_rule: None,
    }
}

/// One tick at `now`, an invocation of its own (its request id, 30 s before its deadline): the
/// day's marks are an invocation's, so a retry of the same invocation would alert again.
async fn tick_at(f: &Deployed, now: DateTime<Utc>, request: &str) -> Response {
    let invocation = Invocation::new(request, Utc::now() + chrono::Duration::seconds(30));
    let (result, _) = f.handle(&tick(), &invocation, now).await;
    result.expect("a tick publishes or stays quiet; it fails only when SNS does")
}

/// A healthy trail, and a root user without MFA whose password moto's credential report cannot
/// show: alerted once, CRITICAL and texted; not again that day; the next day by email and chat
/// only.
#[tokio::test]
async fn a_root_user_without_mfa_is_texted_once_then_emailed_daily() {
    let stack = LocalStack::start().await;
    logging_trail(&stack.moto, "management-events").await;
    let people = Subscribers::of(&stack).await;
    let f = deployed(&stack).await;

    let first = tick_at(&f, at("2026-11-21T03:00:00Z"), "tick-1").await;
    let Response::Tick {
        watchdog, posture, ..
    } = &first
    else {
        panic!("{first:?}")
    };
    assert!(
        matches!(watchdog, WatchdogOutcome::Healthy { .. }),
        "{watchdog:?}"
    );
    assert_eq!(
        posture,
        &PostureOutcome::Found {
            findings: vec![PostureKind::RootMfaOff],
            published: vec![PostureKind::RootMfaOff],
        }
    );
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (kind, severity, page, message) = &sent[0];
    assert_eq!(
        (kind.as_str(), severity.as_str(), page.as_str()),
        ("posture-root-mfa-off", "CRITICAL", "true")
    );
    assert_eq!(
        message["sms"],
        "CRITICAL root user has no MFA in acct prod-payments 123456789012: its password alone \
         signs in. Fix: see email"
    );
    let email = message["email"].as_str().unwrap();
    for part in [
        "CIS AWS Foundations v3.0.0 1.5",
        "Security Hub IAM.9",
        "could not be read (the credential report has no <root_account> row)",
    ] {
        assert!(email.contains(part), "{part}: {email}");
    }
    assert_eq!(
        people.texts().await,
        1,
        "the phone got the first day's alert"
    );
    assert_eq!(people.emails().await, 1);

    let later = tick_at(&f, at("2026-11-21T23:00:00Z"), "tick-2").await;
    assert!(
        matches!(&later, Response::Tick { posture: PostureOutcome::Found { published, .. }, .. } if published.is_empty()),
        "{later:?}"
    );
    assert_eq!(published(&stack.moto, &stack.topic).len(), 1);

    let next_day = tick_at(&f, at("2026-11-22T03:00:00Z"), "tick-3").await;
    assert!(
        matches!(&next_day, Response::Tick { posture: PostureOutcome::Found { published, .. }, .. } if published.len() == 1),
        "{next_day:?}"
    );
    let sent = published(&stack.moto, &stack.topic);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        (sent[1].0.as_str(), sent[1].2.as_str()),
        ("posture-root-mfa-off", "false"),
        "a standing finding is not texted again"
    );
    assert_eq!(
        people.texts().await,
        0,
        "the phone got nothing the second day"
    );
    assert_eq!(people.emails().await, 1, "the inbox got the second day's");
}

/// moto differs: `GetAccountSummary` always says 0 for the three root keys (it has no root
/// user to give keys, MFA or certificates), where IAM says 1 for a root user with MFA.
#[tokio::test]
async fn moto_says_root_has_no_mfa_no_keys_and_no_certificates_always() {
    let moto = MotoServer::start();
    let client = iam(&moto).await;
    client
        .create_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    client
        .create_access_key()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let summary = IamPosture::new(client).summary().await.unwrap();
    assert_eq!(
        summary,
        AccountSummary {
            access_keys_present: Some(0),
            mfa_enabled: Some(0),
            signing_certificates_present: Some(0),
        }
    );
}

/// moto differs: its credential report has no `<root_account>` row (IAM's always has one). The
/// adapter generates the report when there is none (moto answers `ReportNotPresent` first, as
/// IAM does), and the judge says the password is unreadable.
#[tokio::test]
async fn moto_credential_report_has_no_root_account_row() {
    let moto = MotoServer::start();
    let client = iam(&moto).await;
    client
        .create_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let not_present = client.get_credential_report().send().await.unwrap_err();
    assert!(
        not_present
            .as_service_error()
            .is_some_and(|e| e.is_credential_report_not_present_exception()),
        "{not_present:?}"
    );
    let report = IamPosture::new(client).credential_report().await.unwrap();
    assert!(report.starts_with("user,arn,"), "{report}");
    assert!(report.contains("\nalice,"), "{report}");
    assert_eq!(
        root_password(&report),
        Password::Unreadable("the credential report has no <root_account> row".into())
    );
}

/// moto differs: no virtual device can be assigned to root (enabling one needs a user name,
/// and root has none there). A device assigned to a user is listed with the user's ARN, which
/// is not root's.
#[tokio::test]
async fn moto_cannot_assign_a_virtual_device_to_root() {
    let moto = MotoServer::start();
    let client = iam(&moto).await;
    client
        .create_user()
        .user_name("alice")
        .send()
        .await
        .unwrap();
    let mut serials = Vec::new();
    for name in ["root-account-mfa-device", "alice-phone"] {
        let created = client
            .create_virtual_mfa_device()
            .virtual_mfa_device_name(name)
            .send()
            .await
            .unwrap();
        serials.push(
            created
                .virtual_mfa_device()
                .unwrap()
                .serial_number()
                .to_owned(),
        );
    }
    let to_root = client
        .enable_mfa_device()
        .user_name("root")
        .serial_number(&serials[0])
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await;
    assert!(
        to_root.is_err(),
        "moto assigned a device to a user named root"
    );
    client
        .enable_mfa_device()
        .user_name("alice")
        .serial_number(&serials[1])
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();
    let devices = IamPosture::new(client).virtual_devices().await.unwrap();
    assert_eq!(devices.len(), 1, "{devices:?}");
    assert_eq!(
        devices[0].user_arn.as_deref(),
        Some("arn:aws:iam::123456789012:user/alice")
    );
}

/// docs/posture.md's table of findings is the rows of `src/posture/controls.rs`.
#[test]
fn the_documented_findings_are_the_control_rows() {
    use rootwatch::posture::controls::CONTROLS;
    let mut table = String::from("| `kind` | Severity | Finding | Controls |\n|---|---|---|---|\n");
    for row in &CONTROLS {
        let controls = if row.controls.is_empty() {
            "—".to_owned()
        } else {
            row.controls.join("; ")
        };
        table.push_str(&format!(
            "| `{}` | {} | {} | {controls} |\n",
            row.kind.as_str(),
            row.severity.as_str(),
            row.title
        ));
    }
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/posture.md"),
    )
    .expect("docs/posture.md");
    let begin = "<!-- posture-controls:begin -->\n";
    let start = doc.find(begin).expect("the begin marker") + begin.len();
    let end = doc
        .find("<!-- posture-controls:end -->")
        .expect("the end marker");
    assert_eq!(
        &doc[start..end],
        table,
        "regenerate the table from CONTROLS"
    );
}
