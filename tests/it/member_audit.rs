//! The organization's root credentials against real local APIs: moto's Organizations (the home
//! account is the management account, with two members), IAM, SNS and DynamoDB, and in front
//! of it the root-access stand-in (`tests/standins/root_access.py`) for what moto lacks:
//! `ListOrganizationsFeatures`, `AssumeRoot` and the root session's reads. What was published
//! is read from moto's record; what was assumed, from the stand-in's.

use chrono::{DateTime, Utc};
use rootwatch::aws::cloudtrail::CloudTrailSource;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::iam::IamPosture;
use rootwatch::aws::root_audit::OrganizationRoots;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::dispatch::{Function, Response};
use rootwatch::domain::PostureKind;
use rootwatch::invocation::Invocation;
use rootwatch::ports::{MemberRoots, NoDirectory, RootAccess};
use rootwatch::posture::Posture;
use rootwatch::posture::members::{AuditOutcome, MemberAudit};
use serde_json::{Value, json};

use crate::support::moto::sdk_config_for;
use crate::support::root_access::RootAccessStandIn;
use crate::support::stack::{LocalStack, TABLE, function};
use crate::watchdog::{logging_trail, published, tick};

/// moto's account: the organization's management account, and the home stack's.
const HOME: &str = "123456789012";

type Deployed = Function<
    SnsPublisher,
    DynamoState,
    CloudTrailSource,
    DynamoWatchdogState,
    NoDirectory,
    IamPosture,
    OrganizationRoots,
>;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// An organization with two members, `member-a` and `member-b`; their ids.
async fn organization(stack: &LocalStack) -> (aws_sdk_organizations::Client, Vec<String>) {
    let client = aws_sdk_organizations::Client::new(&stack.moto.sdk_config().await);
    client
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    let mut ids = Vec::new();
    for name in ["member-a", "member-b"] {
        let created = client
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("create account");
        ids.push(
            created
                .create_account_status()
                .and_then(|s| s.account_id())
                .expect("account id")
                .to_owned(),
        );
    }
    (client, ids)
}

async fn deployed(stack: &LocalStack, stand_in: &RootAccessStandIn) -> Deployed {
    let app = stack.app(&stack.topic);
    let marks = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
    let f = function(app, marks, &stack.moto.endpoint).await;
    let organizations = aws_sdk_organizations::Client::new(&stack.moto.sdk_config().await);
    let through_stand_in = sdk_config_for(&stand_in.endpoint).await;
    Function {
        posture: Some(Posture {
            reader: IamPosture::new(aws_sdk_iam::Client::new(&through_stand_in)),
            members: Some(MemberAudit {
                roots: OrganizationRoots::new(&through_stand_in, organizations, "aws"),
                home: HOME.into(),
                sms_limit: f.handler.config.sms_limit,
                runbook_url: None,
            }),
            partition: "aws".into(),
            account: HOME.into(),
            name: None,
            sms_limit: f.handler.config.sms_limit,
            runbook_url: None,
        }),
        handler: f.handler,
        watchdog: f.watchdog,
        coverage: None,
        checks_rule: None,
    }
}

async fn tick_at(f: &Deployed, now: DateTime<Utc>, request: &str) -> AuditOutcome {
    let invocation = Invocation::new(request, Utc::now() + chrono::Duration::seconds(30));
    let (result, _) = f.handle(&tick(), &invocation, now).await;
    match result.expect("a tick publishes or stays quiet") {
        Response::Tick { audit, .. } => audit,
        other => panic!("{other:?}"),
    }
}

/// The publishes of one kind: `(severity, page, message)`.
fn of_kind(stack: &LocalStack, kind: &str) -> Vec<(String, String, Value)> {
    published(&stack.moto, &stack.topic)
        .into_iter()
        .filter(|(k, ..)| k == kind)
        .map(|(_, severity, page, message)| (severity, page, message))
        .collect()
}

fn audit_calls(stand_in: &RootAccessStandIn) -> Vec<Value> {
    stand_in
        .calls()
        .into_iter()
        .filter(|c| c["action"] == "AssumeRoot")
        .collect()
}

/// Member A's root has a password and no MFA: CRITICAL, naming A, once; not again the next run;
/// A's new access key alerts at once. Every session asked for the audit task policy only.
#[tokio::test]
async fn a_members_root_password_alerts_once_and_a_new_key_at_once() {
    let stack = LocalStack::start().await;
    logging_trail(&stack.moto, "management-events").await;
    let (_, members) = organization(&stack).await;
    let stand_in = RootAccessStandIn::start(&stack.moto.endpoint);
    let (a, b) = (&members[0], &members[1]);
    stand_in.set(&json!({
        "features": ["RootCredentialsManagement", "RootSessions"],
        "members": {a: {"password": true}, b: {"password": false, "mfa_devices": ["arn:aws:iam::x:mfa/k"]}},
    }));
    let f = deployed(&stack, &stand_in).await;

    let first = tick_at(&f, at("2026-11-24T03:00:00Z"), "tick-1").await;
    let AuditOutcome::Audited { audited, published } = &first else {
        panic!("{first:?}")
    };
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(audited, &expected);
    assert_eq!(published, &[PostureKind::MemberRootPassword]);
    let sent = of_kind(&stack, "posture-member-root-password");
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (severity, page, message) = &sent[0];
    assert_eq!((severity.as_str(), page.as_str()), ("CRITICAL", "true"));
    let email = message["email"].as_str().unwrap();
    assert!(
        email.contains(&format!("CRITICAL member-a ({a})")),
        "{email}"
    );
    assert!(!email.contains(b.as_str()), "{email}");
    assert!(email.contains("IAMDeleteRootUserCredentials"), "{email}");
    let calls = audit_calls(&stand_in);
    assert_eq!(calls.len(), 2, "{calls:?}");
    for call in &calls {
        assert_eq!(
            call["task_policy"],
            "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
        );
    }

    let second = tick_at(&f, at("2026-11-24T04:00:00Z"), "tick-2").await;
    assert!(
        matches!(&second, AuditOutcome::Audited { published, .. } if published.is_empty()),
        "{second:?}"
    );
    assert_eq!(of_kind(&stack, "posture-member-root-password").len(), 1);

    stand_in.set(&json!({
        "members": {a: {"password": true, "access_keys": ["AKIAEXAMPLEKEY000001"]}, b: {}},
    }));
    let third = tick_at(&f, at("2026-11-24T05:00:00Z"), "tick-3").await;
    assert!(
        matches!(&third, AuditOutcome::Audited { published, .. } if published == &[PostureKind::MemberRootAccessKeys]),
        "{third:?}"
    );
    let keys = of_kind(&stack, "posture-member-root-access-keys");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].2["email"].as_str().unwrap().contains(a.as_str()));
    assert_eq!(of_kind(&stack, "posture-member-root-password").len(), 1);
}

/// Root sessions off: no AssumeRoot at all; on a Monday from 08:00 one weekly report, LOW,
/// not texted, with the commands that turn it on; not twice that week.
#[tokio::test]
async fn features_off_send_the_weekly_report_once_and_assume_no_root() {
    let stack = LocalStack::start().await;
    logging_trail(&stack.moto, "management-events").await;
    organization(&stack).await;
    let stand_in = RootAccessStandIn::start(&stack.moto.endpoint);
    stand_in.set(&json!({"features": []}));
    let f = deployed(&stack, &stand_in).await;

    let sunday = tick_at(&f, at("2026-11-22T09:00:00Z"), "tick-1").await;
    assert!(
        matches!(
            &sunday,
            AuditOutcome::NotAudited {
                reported: false,
                ..
            }
        ),
        "{sunday:?}"
    );
    let monday = tick_at(&f, at("2026-11-23T09:00:00Z"), "tick-2").await;
    assert!(
        matches!(&monday, AuditOutcome::NotAudited { reported: true, why } if why == "centralized root access is off"),
        "{monday:?}"
    );
    let later = tick_at(&f, at("2026-11-23T10:00:00Z"), "tick-3").await;
    assert!(
        matches!(
            &later,
            AuditOutcome::NotAudited {
                reported: false,
                ..
            }
        ),
        "{later:?}"
    );
    let reports = of_kind(&stack, "posture-report");
    assert_eq!(reports.len(), 1, "{reports:?}");
    let (severity, page, message) = &reports[0];
    assert_eq!((severity.as_str(), page.as_str()), ("LOW", "false"));
    let email = message["email"].as_str().unwrap();
    for command in [
        "aws organizations enable-aws-service-access --service-principal iam.amazonaws.com",
        "aws iam enable-organizations-root-credentials-management",
        "aws iam enable-organizations-root-sessions",
    ] {
        assert!(email.contains(command), "{command}: {email}");
    }
    assert!(audit_calls(&stand_in).is_empty());
}

/// moto differs: its policy validator refuses a root user's ARN as an identity policy's resource
/// (IAM accepts `arn:aws:iam::<id>:root`, AssumeRoot's resource type), so the template grants
/// `sts:AssumeRoot` on `*`, which grants no more.
#[tokio::test]
async fn moto_refuses_a_root_user_arn_as_a_policys_resource() {
    let stack = LocalStack::start().await;
    let iam = aws_sdk_iam::Client::new(&stack.moto.sdk_config().await);
    let document = |resource: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoot",
            "Resource": resource}]})
        .to_string()
    };
    let refused = iam
        .create_policy()
        .policy_name("root-arn")
        .policy_document(document("arn:aws:iam::*:root"))
        .send()
        .await
        .unwrap_err();
    assert!(
        refused
            .as_service_error()
            .is_some_and(|e| e.is_malformed_policy_document_exception()),
        "{refused:?}"
    );
    iam.create_policy()
        .policy_name("star")
        .policy_document(document("*"))
        .send()
        .await
        .expect("moto accepts \"*\"");
}

/// moto differs: a read without `UserName` is its caller's (moto has no root session), so
/// `GetLoginProfile` without one fails there; in an AssumeRoot session IAM reads the member's
/// root user. Hence the stand-in serves the session's reads.
#[tokio::test]
async fn moto_fails_a_root_sessions_read_without_a_user_name() {
    let stack = LocalStack::start().await;
    let iam = aws_sdk_iam::Client::new(&stack.moto.sdk_config().await);
    let answer = iam.get_login_profile().send().await;
    assert!(answer.is_err(), "{answer:?}");
}

/// The stand-in's error codes are the botocore model's: the SDK maps each to its variant, and
/// the adapter to what the audit does with it.
#[tokio::test]
async fn the_sdk_reads_each_features_error_of_the_stand_in() {
    let stack = LocalStack::start().await;
    let stand_in = RootAccessStandIn::start(&stack.moto.endpoint);
    let config = sdk_config_for(&stand_in.endpoint).await;
    let organizations = aws_sdk_organizations::Client::new(&config);
    let roots = OrganizationRoots::new(&config, organizations, "aws");
    stand_in.set(&json!({"error": "AccountNotManagementOrDelegatedAdministratorException"}));
    assert_eq!(roots.root_access().await.unwrap(), RootAccess::NotAllowed);
    for code in [
        "ServiceAccessNotEnabledException",
        "OrganizationNotInAllFeaturesModeException",
        "OrganizationNotFoundException",
    ] {
        stand_in.set(&json!({"error": code}));
        assert_eq!(
            roots.root_access().await.unwrap(),
            RootAccess::Unavailable(code.into()),
            "{code}"
        );
    }
    stand_in.set(&json!({"error": null, "features": ["RootSessions"]}));
    assert_eq!(
        roots.root_access().await.unwrap(),
        RootAccess::Features {
            credentials_management: false,
            root_sessions: true
        }
    );
    // AssumeRoot with a member the organization does not have is refused, as STS would.
    assert!(roots.audit("999999999999").await.is_err());
}
