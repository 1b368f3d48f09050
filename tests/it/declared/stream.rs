//! The doorbell: only the state table's stream rings, only the item itself is read, and every
//! content is announced once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::declare::Rung;
use rootwatch::dispatch::Response;
use rootwatch::domain::{AccountId, Declaration};
use rootwatch::ports::{Declarations, Opening, Window};
use serde_json::{Value, json};

use super::{ACCOUNT, Declared, write, write_at};
use crate::support::stack::{TABLE, item};

fn record(source: &str, arn: &str, pk: &str) -> Value {
    json!({"Records": [{"eventSource": source, "eventSourceARN": arn, "awsRegion": "us-east-1",
        "dynamodb": {"Keys": {"pk": {"S": pk}}}}]})
}

#[tokio::test]
async fn forged_batches_are_refused_and_publish_nothing() {
    let declared = Declared::start().await;
    write(&declared, "d1", 60, "a reason").await;
    let arn = declared.mapping.stream_arn.clone();
    let pk = format!("declaration#{ACCOUNT}");
    for forged in [
        record(
            "aws:dynamodb",
            "arn:aws:dynamodb:us-east-1:123456789012:table/other/stream/x",
            &pk,
        ),
        record("aws:sqs", &arn, &pk),
        json!({"Records": []}),
        json!({"Records": {"0": 1}}),
        json!({"Records": [record("aws:dynamodb", &arn, &pk)["Records"][0], record("aws:dynamodb", &arn, &pk)["Records"][0]]}),
    ] {
        let err = declared.at(&forged, Utc::now()).await.unwrap_err();
        assert_eq!(err.error_type(), "Rootwatch.UntrustedSource", "{forged}");
        assert!(!err.is_retryable(), "{forged}");
    }
    assert!(declared.published().is_empty());
    assert_eq!(
        item(&declared.stack.dynamodb, &format!("window#{ACCOUNT}")).await,
        None
    );
}

/// A stream record whose key is not a declaration's (a writer the table policy lets through can
/// write `declaration#prod`) is skipped, not refused: a refused record is retried for hours and
/// holds back every record behind it on the shard, an end included.
#[tokio::test]
async fn a_record_with_a_key_that_is_no_declarations_is_skipped_and_the_next_is_announced() {
    let mut declared = Declared::start().await;
    let arn = declared.mapping.stream_arn.clone();
    for key in [
        "event#e-1",
        "declaration#prod",
        "declaration#111122223333\n",
        "declaration#111122223333#x",
    ] {
        let skipped = declared
            .at(&record("aws:dynamodb", &arn, key), Utc::now())
            .await
            .unwrap();
        assert!(
            matches!(&skipped, Response::Declarations(rungs) if matches!(rungs.as_slice(), [Rung::Skipped { .. }])),
            "{key}: {skipped:?}"
        );
    }
    assert!(declared.published().is_empty());

    // Genuine records of both: the bad key's is skipped and the declaration behind it announced.
    let s = |t: &str| aws_sdk_dynamodb::types::AttributeValue::S(t.to_owned());
    declared
        .stack
        .dynamodb
        .put_item()
        .table_name(crate::support::stack::TABLE)
        .item("pk", s("declaration#prod"))
        .send()
        .await
        .unwrap();
    write(&declared, "d1", 60, "a reason").await;
    let rungs = declared.pump().await;
    assert_eq!(rungs.len(), 2, "{rungs:?}");
    assert!(
        matches!(&rungs[0], Ok(Response::Declarations(r)) if matches!(r.as_slice(), [Rung::Skipped { .. }])),
        "{rungs:?}"
    );
    assert!(
        matches!(&rungs[1], Ok(Response::Declarations(r)) if matches!(r.as_slice(), [Rung::Announced { opened: true, .. }])),
        "{rungs:?}"
    );
    assert_eq!(declared.published().len(), 1);
}

/// A declaration written to start no later than the standing one (a clock behind, a
/// hand-written item) starts a second after it and opens, rather than being announced and then
/// refused by the window's condition.
#[tokio::test]
async fn a_new_declaration_written_to_start_no_later_still_opens() {
    let mut declared = Declared::start().await;
    let start = Utc::now().timestamp();
    write_at(&declared, "d1", start, 60, "a reason").await;
    declared.pump().await;
    write_at(&declared, "d2", start, 30, "another reason").await;
    let rungs = declared.pump().await;
    assert!(
        matches!(rungs.as_slice(), [Ok(Response::Declarations(r))] if matches!(r.as_slice(), [Rung::Announced { opened: true, .. }])),
        "{rungs:?}"
    );
    let window = item(&declared.stack.dynamodb, &format!("window#{ACCOUNT}"))
        .await
        .unwrap();
    assert_eq!(
        window["declaration_id"].as_s().map(String::as_str),
        Ok("d2"),
        "{window:?}"
    );
    assert_eq!(
        window["window_start"].as_n().map(String::as_str),
        Ok((start + 1).to_string().as_str()),
        "{window:?}"
    );
}

/// The window's condition refuses an older window: DynamoDB cancels the transaction with
/// `ConditionalCheckFailed` on that item, which is an answer (`false`), not an outage to retry.
#[tokio::test]
async fn a_window_refused_by_its_condition_is_an_answer_not_a_failure() {
    let mut declared = Declared::start().await;
    let start = Utc::now().timestamp();
    write_at(&declared, "d1", start, 60, "a reason").await;
    declared.pump().await;
    let state = DynamoState::new(declared.stack.state_client.clone(), TABLE);
    let at = |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap();
    let older = Opening {
        window: Window {
            declaration: Declaration {
                id: "d0".into(),
                account: AccountId::parse(ACCOUNT).unwrap(),
                start: at(start - 60),
                end: at(start + 600),
                reason: "r".into(),
                by: "bob".into(),
                caller_arn: None,
                source: None,
                ended_at: None,
                superseded_at: None,
            },
            digest: "0123456789abcdef".into(),
        },
        message_id: "m-0".into(),
        announced_at: at(start),
        report: true,
        supersedes: Some("d1".into()),
    };
    assert!(
        !state.open(&older).await.unwrap(),
        "an older window is refused"
    );
    let window = item(&declared.stack.dynamodb, &format!("window#{ACCOUNT}"))
        .await
        .unwrap();
    assert_eq!(
        window["declaration_id"].as_s().map(String::as_str),
        Ok("d1"),
        "{window:?}"
    );
}

#[tokio::test]
async fn a_doorbell_for_no_item_does_nothing_and_a_batch_twice_announces_once() {
    let declared = Declared::start().await;
    let arn = declared.mapping.stream_arn.clone();
    let ring = record("aws:dynamodb", &arn, &format!("declaration#{ACCOUNT}"));
    let nothing = declared.at(&ring, Utc::now()).await.unwrap();
    assert!(
        matches!(&nothing, Response::Declarations(rungs) if matches!(rungs.as_slice(), [Rung::Nothing { .. }])),
        "{nothing:?}"
    );
    assert!(declared.published().is_empty());

    write(&declared, "d1", 60, "a reason").await;
    declared.at(&ring, Utc::now()).await.unwrap();
    let again = declared.at(&ring, Utc::now()).await.unwrap();
    assert!(
        matches!(&again, Response::Declarations(rungs) if matches!(rungs.as_slice(), [Rung::Nothing { .. }])),
        "{again:?}"
    );
    assert_eq!(declared.published().len(), 1, "announced once");
    let window = item(&declared.stack.dynamodb, &format!("window#{ACCOUNT}"))
        .await
        .unwrap();
    assert_eq!(window["declaration_id"].as_s().unwrap(), "d1");
}

#[tokio::test]
async fn an_invalid_declaration_is_announced_as_such_and_ends_the_open_window() {
    let mut declared = Declared::start().await;
    write(&declared, "d1", 60, "a reason").await;
    declared.pump().await;
    write(&declared, "d2", 600, "longer").await;
    let rung = declared.pump().await;
    assert!(rung.iter().all(Result::is_ok), "{rung:?}");
    let published = declared.published();
    assert_eq!(published.len(), 2, "{published:?}");
    let email = published[1].2["email"].as_str().unwrap();
    assert!(email.contains("INVALID declaration"), "{email}");
    assert!(email.contains("at most 480 may be declared"), "{email}");
    let window = item(&declared.stack.dynamodb, &format!("window#{ACCOUNT}"))
        .await
        .unwrap();
    assert_eq!(window["declaration_id"].as_s().unwrap(), "d1");
    assert!(
        window.contains_key("ended_at"),
        "the open window ended: {window:?}"
    );
}

/// The digest keys the announcement: an edit of the reason is announced as a change.
#[tokio::test]
async fn an_edited_reason_is_announced_as_changed() {
    let mut declared = Declared::start().await;
    write(&declared, "d1", 60, "Close support case 42").await;
    declared.pump().await;
    write(&declared, "d1", 60, "Close support case 43").await;
    declared.pump().await;
    let published = declared.published();
    assert_eq!(published.len(), 2, "{published:?}");
    let email = published[1].2["email"].as_str().unwrap();
    assert!(email.contains("DECLARED (CHANGED)"), "{email}");
    assert!(
        email.contains("(declared) Close support case 43"),
        "{email}"
    );
    assert!(
        email.contains("(declared) Close support case 42"),
        "what it was: {email}"
    );
}

/// The CLI waits for the announcement and says it took effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_waits_for_the_announcement() {
    let mut declared = Declared::start().await;
    let endpoint = declared.stack.moto.endpoint.clone();
    let cli = std::thread::spawn({
        let args = [
            "declare",
            "--account",
            ACCOUNT,
            "--minutes",
            "30",
            "--reason",
            "r",
            "--by",
            "alice",
        ];
        let declared_cli = super::CliRunner::new(&endpoint);
        move || declared_cli.run(&args)
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(50);
    while !cli.is_finished() && std::time::Instant::now() < deadline {
        declared.pump().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let output = cli.join().unwrap();
    assert!(output.status.success(), "{output:?}");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("announced, in effect until"), "{said}");
}

/// Where moto 5.2.5 differs from AWS, pinned: an `UpdateItem` that creates an item records two
/// `INSERT`s (AWS: one), and every record says `us-east-1`. Neither matters to a doorbell (the
/// function reads the item and announces each content once), but a moto that changes either
/// should be noticed here.
#[tokio::test]
async fn moto_records_two_inserts_for_an_update_that_creates_an_item() {
    let mut declared = Declared::start().await;
    declared
        .stack
        .dynamodb
        .update_item()
        .table_name(crate::support::stack::TABLE)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("declaration#{ACCOUNT}")),
        )
        .update_expression("SET declared_by = :b")
        .expression_attribute_values(":b", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
        .send()
        .await
        .unwrap();
    let batches = declared.mapping.batches().await;
    assert_eq!(batches.len(), 2, "{batches:?}");
    for batch in &batches {
        assert_eq!(batch["Records"][0]["eventName"], "INSERT");
        assert_eq!(batch["Records"][0]["awsRegion"], "us-east-1");
    }
}
