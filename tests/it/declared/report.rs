//! The root-use report: bounded, waiting out the grace for late CloudTrail deliveries, and sent
//! exactly once even when a publish fails.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{Duration, Utc};
use rootwatch::aws::declarations::INDEX;
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::dispatch::Response;
use rootwatch::domain::{AccountId, NotedUse};
use rootwatch::ports::Declarations;

use super::{ACCOUNT, Declared, event, write};
use crate::support::stack::{TABLE, function, item};
use crate::watchdog::{logging_trail, tick};

/// Ends the declaration as `make end-declaration` does.
async fn end(declared: &Declared) {
    let now = Utc::now().timestamp();
    declared
        .stack
        .dynamodb
        .update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(format!("declaration#{ACCOUNT}")))
        .update_expression("SET ended_at = :now")
        .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
        .send()
        .await
        .expect("end the declaration");
}

fn reports(declared: &Declared) -> Vec<String> {
    declared
        .published()
        .into_iter()
        .filter(|(kind, _, _)| kind == "root-use-report")
        .map(|(_, _, message)| message["email"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_full_report_lists_200_uses_and_counts_the_rest() {
    let mut declared = Declared::start().await;
    let _trail = logging_trail(&declared.stack.moto, "management-events").await;
    write(&declared, "d1", 60, "many calls").await;
    declared.pump().await;
    let account = AccountId::parse(ACCOUNT).unwrap();
    let state: &DynamoState = &declared.function.handler.state;
    let start = Utc::now();
    let mut kept = 0;
    for i in 0..201 {
        let noted = NotedUse {
            time: start + Duration::seconds(i),
            call: "s3:GetObject".into(),
            ip: "192.0.2.10".into(),
            outcome: "succeeded".into(),
            severity: "LOW".into(),
            kind: "read-only-call".into(),
            declared: true,
        };
        kept += usize::from(
            state
                .note(&account, "d1", &format!("e-{i}"), &noted)
                .await
                .unwrap(),
        );
    }
    assert_eq!(kept, 200);
    // The same event again replaces itself: not dropped, not counted twice.
    let again = NotedUse {
        time: start,
        call: "s3:GetObject".into(),
        ip: "192.0.2.10".into(),
        outcome: "succeeded".into(),
        severity: "LOW".into(),
        kind: "read-only-call".into(),
        declared: true,
    };
    assert!(state.note(&account, "d1", "e-0", &again).await.unwrap());
    end(&declared).await;
    declared.pump().await;
    declared
        .at(&tick(), start + Duration::minutes(16))
        .await
        .unwrap();
    let sent = reports(&declared);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].matches("s3:GetObject").count(), 200, "{}", sent[0]);
    assert!(
        sent[0].contains("and at least 1 more (not kept)"),
        "{}",
        sent[0]
    );
}

/// CloudTrail reaches EventBridge best-effort: a use that happened in the window but arrives
/// after its end, within the grace, is in the report; the report waits for it.
#[tokio::test]
async fn a_use_arriving_after_the_end_within_the_grace_is_listed() {
    let mut declared = Declared::start().await;
    let _trail = logging_trail(&declared.stack.moto, "management-events").await;
    write(&declared, "d1", 60, "a late one").await;
    declared.pump().await;
    // Times in the table are whole seconds: the use falls a clear second inside the window.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let happened = Utc::now() - Duration::seconds(1);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    end(&declared).await;
    declared.pump().await;
    let ended = Utc::now();

    let early = declared
        .at(&tick(), ended + Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        matches!(&early, Response::Tick { reports, .. } if reports.sent.is_empty() && reports.waiting == 1),
        "{early:?}"
    );
    let late = event("root-api-call-from-console-session", ACCOUNT, 7, happened);
    declared
        .at(&late, ended + Duration::minutes(5))
        .await
        .unwrap();
    declared
        .at(&tick(), ended + Duration::minutes(16))
        .await
        .unwrap();
    let sent = reports(&declared);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("iam:CreateUser"), "{}", sent[0]);
}

#[tokio::test]
async fn a_report_that_cannot_be_published_is_retried_and_sent_once() {
    let mut declared = Declared::start().await;
    let _trail = logging_trail(&declared.stack.moto, "management-events").await;
    write(&declared, "d1", 60, "retry").await;
    declared.pump().await;
    end(&declared).await;
    declared.pump().await;
    let later = Utc::now() + Duration::minutes(16);

    // The same function, publishing to a topic that is gone.
    let missing = declared.stack.missing_topic();
    let mut config = declared.function.handler.config.clone();
    config.topic_arn = rootwatch::domain::TopicArn::parse(&missing).unwrap();
    let broken_app = rootwatch::handler::Handler::new(
        config.clone(),
        SnsPublisher::new(declared.stack.sns.clone(), config.topic_arn.clone()),
        DynamoState::new(declared.stack.state_client.clone(), TABLE),
    );
    let broken = function(
        broken_app,
        rootwatch::ports::Stateless,
        &declared.stack.moto.endpoint,
    )
    .await;
    let invocation =
        rootwatch::invocation::Invocation::new("broken-1", later + Duration::seconds(30));
    let (failed, _) = Box::pin(broken.handle(&tick(), &invocation, later)).await;
    let err = failed.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert!(reports(&declared).is_empty());
    let index = item(&declared.stack.dynamodb, INDEX).await.unwrap();
    assert_eq!(index["due"].as_ss().unwrap(), &[format!("{ACCOUNT}#d1")]);

    declared
        .at(&tick(), later + Duration::minutes(60))
        .await
        .unwrap();
    declared
        .at(&tick(), later + Duration::minutes(120))
        .await
        .unwrap();
    assert_eq!(reports(&declared).len(), 1, "sent once");
}
