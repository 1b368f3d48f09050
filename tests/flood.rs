//! Floods must neither drain the phones nor swallow a distinct critical act. Against moto's SNS
//! and DynamoDB, with the SMS filter policy read from template.yaml and two SQS queues standing
//! in for an inbox (no filter) and a phone (the template's filter), read from the servers'
//! records:
//! - a leaked long-term key making the same call 20 times texts once, and each other critical
//!   act in its session texts again;
//! - past the account's hourly ceiling (`SMS_CEILING_PER_HOUR`, 10) texts pause: N+k alerts in
//!   an hour give N texts, one text saying texts are paused, and N+k emails; another account and
//!   the next hour text again; a failed publish gives its text back.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use rootwatch::aws::dynamodb::DynamoState;
use rootwatch::aws::sns::SnsPublisher;
use rootwatch::handler::{Handler, Outcome};
use rootwatch::invocation::Invocation;
use serde_json::{Value, json};
use support::gsm7::segment_problem;
use support::moto::drain_queue;
use support::stack::{LocalStack, TABLE};
use support::{TOPIC_DISPLAY_NAME, invocation, valid_samples};

type App = Handler<SnsPublisher, DynamoState>;

/// The SMS subscriptions' filter policy as template.yaml writes it, with `SmsSeverities` at its
/// default. Read from the template's text so that a change there changes this test.
fn template_sms_filter_policy() -> Value {
    let template = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml"))
        .expect("template.yaml");
    let parameter = template
        .split("\n  SmsSeverities:\n")
        .nth(1)
        .expect("the SmsSeverities parameter");
    let default = parameter
        .lines()
        .find_map(|l| l.trim().strip_prefix("Default:"))
        .expect("SmsSeverities has a default")
        .trim();
    let severities: Vec<&str> = default.split(',').map(str::trim).collect();
    let subscription = template
        .split("\n  SmsSubscription1:\n")
        .nth(1)
        .expect("an SMS subscription");
    let policy: Vec<&str> = subscription
        .split("FilterPolicy:\n")
        .nth(1)
        .expect("the SMS subscription has a filter policy")
        .lines()
        .take_while(|l| l.starts_with("        "))
        .map(str::trim)
        .collect();
    assert_eq!(
        policy,
        ["severity: !Ref SmsSeverities", r#"page: ["true"]"#],
        "the template's SMS filter policy changed shape; update this test"
    );
    json!({"severity": severities, "page": ["true"]})
}

/// A call signed with the long-term root key `key`, `seq` seconds into the flood.
fn keyed_call(seq: i64, key: &str, source: &str, name: &str) -> Value {
    let (_, mut event) = valid_samples()
        .into_iter()
        .find(|(n, _)| n == "root-read-only-call-with-long-term-key")
        .expect("sample");
    let start: DateTime<Utc> = "2026-11-21T04:00:00Z".parse().unwrap();
    let d = &mut event["detail"];
    d["eventID"] = json!(format!("f100d000-0000-4000-8000-{seq:012}"));
    d["eventTime"] = json!((start + Duration::seconds(seq)).to_rfc3339());
    d["eventSource"] = json!(source);
    d["eventName"] = json!(name);
    d["userIdentity"]["accessKeyId"] = json!(key);
    event
}

const LEAKED_KEY: &str = "AKIAQNZGKIQYFLOOD001";

/// The function's alert topic with a phone and an inbox stood in for by queues.
struct Subscribers {
    sqs: aws_sdk_sqs::Client,
    phone: String,
    inbox: String,
}

impl Subscribers {
    async fn of(stack: &LocalStack) -> Self {
        let (sqs, phone) = stack
            .moto
            .filtered_queue(&stack.topic, "phone", &template_sms_filter_policy())
            .await;
        let (_, inbox) = stack
            .moto
            .filtered_queue(&stack.topic, "inbox", &json!({}))
            .await;
        Subscribers { sqs, phone, inbox }
    }

    /// How many texts the phone got since the last call.
    async fn texts(&self) -> usize {
        drain_queue(&self.sqs, &self.phone).await.len()
    }

    async fn emails(&self) -> usize {
        drain_queue(&self.sqs, &self.inbox).await.len()
    }
}

/// The SMS body of every publish SNS would text (`page=true`), in order, from moto's record.
fn texted_sms(stack: &LocalStack) -> Vec<String> {
    stack
        .moto
        .sent_notifications(&stack.topic)
        .iter()
        .filter(|n| n[3]["page"]["Value"] == "true")
        .map(|n| {
            let message: Value = serde_json::from_str(n[1].as_str().unwrap()).unwrap();
            message["sms"].as_str().expect("an sms text").to_owned()
        })
        .collect()
}

/// Handles each event in turn, as Lambda would; every one must be published.
async fn alert_all(app: &App, events: &[Value]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for event in events {
        let outcome = app
            .handle(event, &invocation(), Utc::now())
            .await
            .expect("alerted");
        assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
        outcomes.push(outcome);
    }
    outcomes
}

#[tokio::test]
async fn a_leaked_key_texts_once_per_critical_act_and_emails_every_call() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let people = Subscribers::of(&stack).await;

    let mut events: Vec<Value> = (0..20)
        .map(|i| keyed_call(i * 10, LEAKED_KEY, "s3.amazonaws.com", "ListBuckets"))
        .collect();
    events.push(keyed_call(
        205,
        LEAKED_KEY,
        "cloudtrail.amazonaws.com",
        "StopLogging",
    ));
    alert_all(&app, &events).await;

    let published = stack.moto.sent_notifications(&stack.topic);
    assert_eq!(published.len(), 21, "one publish per event");
    assert_eq!(people.emails().await, 21, "the inbox gets every alert");
    assert_eq!(people.texts().await, 2, "the phone gets 2 texts");
    let kinds: Vec<&str> = published
        .iter()
        .filter(|n| n[3]["page"]["Value"] == "true")
        .map(|n| n[3]["kind"]["Value"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(kinds, ["long-term-access-key-used", "cloudtrail-tampered"]);
}

/// Two critical acts of one kind in one session (the selectors changed, then logging stopped)
/// are two texts; one act repeated twenty times by another session is one.
#[tokio::test]
async fn each_critical_act_of_a_session_texts_once() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let people = Subscribers::of(&stack).await;

    let trail = "cloudtrail.amazonaws.com";
    let tampering = [
        keyed_call(0, LEAKED_KEY, trail, "PutEventSelectors"),
        keyed_call(30, LEAKED_KEY, trail, "StopLogging"),
    ];
    alert_all(&app, &tampering).await;
    assert_eq!(people.texts().await, 2);
    assert_eq!(people.emails().await, 2);

    let repeated: Vec<Value> = (0..20)
        .map(|i| keyed_call(100 + i, "AKIAQNZGKIQYFLOOD002", trail, "StopLogging"))
        .collect();
    let outcomes = alert_all(&app, &repeated).await;
    let paged: Vec<bool> = outcomes
        .iter()
        .map(|o| matches!(o, Outcome::Alerted { page: true, .. }))
        .collect();
    assert_eq!(paged.iter().filter(|p| **p).count(), 1, "{paged:?}");
    assert!(paged[0], "the first of the twenty texts");
    assert_eq!(people.texts().await, 1);
    assert_eq!(people.emails().await, 20, "every call is emailed");
}

/// The function's invocation at wall-clock time `now`, with Lambda's 30 s ahead of it.
fn invocation_at(now: DateTime<Utc>) -> Invocation {
    Invocation::new(invocation().request_id, now + Duration::seconds(30))
}

/// `n` texted alerts in `account`, each from a session of its own, so nothing coalesces.
fn sessions(account: &str, first: i64, n: i64) -> Vec<Value> {
    (first..first + n)
        .map(|i| {
            let event = keyed_call(
                i,
                &format!("AKIAQNZGKIQYCEIL{i:04}"),
                "iam.amazonaws.com",
                "ListUsers",
            );
            let text = serde_json::to_string(&event)
                .unwrap()
                .replace("111122223333", account);
            serde_json::from_str(&text).unwrap()
        })
        .collect()
}

/// 15 alerts of one account in one hour, 8 at a time: the first 10 counted are texted, the 11th
/// texts that texts are paused, the other 4 reach email and chat only; all 15 are emailed.
/// Another account, and the same account in the next hour, are texted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn past_the_hourly_ceiling_one_text_says_texts_are_paused_and_every_alert_is_emailed() {
    let stack = LocalStack::start().await;
    let app: &'static App = Box::leak(Box::new(stack.app(&stack.topic)));
    let people = Subscribers::of(&stack).await;
    let hour: DateTime<Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
    let (ceiling, over) = (10, 5);

    let mut running = tokio::task::JoinSet::new();
    let mut outcomes = Vec::new();
    for (i, event) in sessions("111122223333", 0, ceiling + over)
        .into_iter()
        .enumerate()
    {
        let now = hour + Duration::minutes(20) + Duration::seconds(i as i64);
        running.spawn(async move { app.handle(&event, &invocation_at(now), now).await });
        if running.len() == 8 {
            outcomes.push(
                running
                    .join_next()
                    .await
                    .unwrap()
                    .unwrap()
                    .expect("alerted"),
            );
        }
    }
    while let Some(done) = running.join_next().await {
        outcomes.push(done.unwrap().expect("alerted"));
    }
    let count = |texted: bool, paused: bool| {
        outcomes
            .iter()
            .filter(|o| {
                matches!(o, Outcome::Alerted { page, texts_paused, .. }
                    if *page == texted && *texts_paused == paused)
            })
            .count()
    };
    assert_eq!(count(true, false), 10, "{outcomes:#?}");
    assert_eq!(count(true, true), 1, "one notice");
    assert_eq!(count(false, true), 4, "email and chat only");

    assert_eq!(
        stack.moto.sent_notifications(&stack.topic).len(),
        15,
        "every alert is published"
    );
    assert_eq!(people.emails().await, 15, "the inbox gets every alert");
    assert_eq!(
        people.texts().await,
        11,
        "the phone gets 10 texts and the notice"
    );
    let texts = texted_sms(&stack);
    assert_eq!(texts.len(), 11, "{texts:#?}");
    let notices: Vec<&String> = texts.iter().filter(|t| t.contains("PAUSED")).collect();
    assert_eq!(notices.len(), 1, "{texts:#?}");
    let notice = notices[0];
    assert_eq!(
        notice,
        "Texts PAUSED for acct 111122223333 until 10:00 UTC: 10 sent this hour. \
         Every alert still goes to email and chat; read them there."
    );
    if let Some(problem) = segment_problem(TOPIC_DISPLAY_NAME, notice) {
        panic!("the notice is not one segment: {problem}");
    }

    // The ceiling is the account's: another account still texts, and so does the next hour.
    let other = hour + Duration::minutes(40);
    let member = &sessions("444455556666", 100, 1)[0];
    let outcome = app.handle(member, &invocation_at(other), other).await;
    assert!(
        matches!(
            outcome,
            Ok(Outcome::Alerted {
                page: true,
                texts_paused: false,
                ..
            })
        ),
        "{outcome:?}"
    );
    let next_hour = hour + Duration::minutes(65);
    let later = &sessions("111122223333", 200, 1)[0];
    let outcome = app
        .handle(later, &invocation_at(next_hour), next_hour)
        .await;
    assert!(
        matches!(
            outcome,
            Ok(Outcome::Alerted {
                page: true,
                texts_paused: false,
                ..
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(people.texts().await, 2);
}

/// The hour's count in the state table.
async fn texts_counted(stack: &LocalStack, key: &str) -> Option<i64> {
    stack
        .dynamodb
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(format!("texts#{key}")))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item?
        .get("texts")?
        .as_n()
        .ok()?
        .parse()
        .ok()
}

/// An alert that could not be published gives back the text it counted — also the notice — so
/// Lambda's retry texts as the alert would have; failures never use up the ceiling.
#[tokio::test]
async fn a_failed_publish_gives_its_text_back() {
    let stack = LocalStack::start().await;
    let ceiling = [("SMS_CEILING_PER_HOUR", "2")];
    let app = stack.app_with(&stack.topic, &ceiling);
    let broken = stack.app_with(&stack.missing_topic(), &ceiling);
    let people = Subscribers::of(&stack).await;
    let now: DateTime<Utc> = "2026-11-21T09:30:00Z".parse().unwrap();
    let key = "111122223333#2026-11-21T09";
    let events = sessions("111122223333", 0, 4);

    for (i, event) in events.iter().enumerate() {
        let failed = broken.handle(event, &invocation_at(now), now).await;
        assert!(failed.unwrap_err().is_retryable());
        assert_eq!(
            texts_counted(&stack, key).await,
            Some(i as i64),
            "the failed publish gave its text back"
        );
        let outcome = app
            .handle(event, &invocation_at(now), now)
            .await
            .expect("the retry alerts");
        let expected = [(true, false), (true, false), (true, true), (false, true)][i];
        assert!(
            matches!(outcome, Outcome::Alerted { page, texts_paused, .. }
                if (page, texts_paused) == expected),
            "alert {i}: {outcome:?}"
        );
    }
    assert_eq!(
        texts_counted(&stack, key).await,
        Some(3),
        "2 texts and the notice"
    );
    assert_eq!(people.texts().await, 3);
    let texts = texted_sms(&stack);
    assert_eq!(texts.len(), 3, "{texts:#?}");
    assert!(texts[2].starts_with("Texts PAUSED"), "{texts:#?}");
    assert_eq!(people.emails().await, 4);
}
