//! The SMS ceilings: past `SMS_CEILING_PER_HOUR` texts (10 here), texts pause. N+k root alerts of
//! an account in an hour give N texts, one text saying texts are paused, and N+k emails; another
//! account and the next hour text again; what anyone can cause is counted per UTC day across
//! every account; a failed publish gives its text back. Against moto's SNS
//! and DynamoDB, with SQS queues standing in for a phone (the template's SMS filter policy) and an
//! inbox (no filter), read from the servers' records.

use chrono::{DateTime, Duration, Utc};
use rootwatch::handler::Outcome;
use rootwatch::invocation::Invocation;
use serde_json::{Value, json};

use super::{App, Subscribers, keyed_call};
use crate::support::gsm7::segment_problem;
use crate::support::stack::{LocalStack, item};
use crate::support::{TOPIC_DISPLAY_NAME, invocation, sample, session_call};

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
    // The notice replaced a CRITICAL alert's own text (every alert here is a long-term key's
    // call): it says so, and where that alert is.
    assert_eq!(
        notice,
        "CRITICAL in email. Root activity texts PAUSED for acct 111122223333 until 10:00 UTC \
         (10 sent). Email and chat still get every alert."
    );
    if let Some(problem) = segment_problem(TOPIC_DISPLAY_NAME, notice) {
        panic!("the notice is not one segment: {problem}");
    }

    // The ceiling is the account's: another account still texts, and so does the next hour.
    let texted = |outcome: &Result<Outcome, _>| {
        matches!(
            outcome,
            Ok(Outcome::Alerted {
                page: true,
                texts_paused: false,
                ..
            })
        )
    };
    let other = hour + Duration::minutes(40);
    let member = &sessions("444455556666", 100, 1)[0];
    let outcome = app.handle(member, &invocation_at(other), other).await;
    assert!(texted(&outcome), "{outcome:?}");
    let next_hour = hour + Duration::minutes(65);
    let later = &sessions("111122223333", 200, 1)[0];
    let outcome = app
        .handle(later, &invocation_at(next_hour), next_hour)
        .await;
    assert!(texted(&outcome), "{outcome:?}");
    assert_eq!(people.texts().await, 2);
}

/// The hour's count in the state table.
async fn texts_counted(stack: &LocalStack, key: &str) -> Option<i64> {
    item(&stack.dynamodb, &format!("texts#{key}"))
        .await?
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
    assert!(
        texts[2].starts_with("CRITICAL in email. Root activity texts PAUSED"),
        "{texts:#?}"
    );
    assert_eq!(people.emails().await, 4);
}

/// A HIGH call of the console session signed with `key`, CloudTrail's `eventTime` `at`.
fn console_call(seq: u32, key: &str, at: DateTime<Utc>) -> Value {
    let mut event = session_call(seq, "CreateUser", at);
    event["detail"]["userIdentity"]["accessKeyId"] = json!(key);
    event
}

/// Whether phones got the alert as itself: texted, and not as the notice.
fn texted_itself(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Alerted {
            page: true,
            texts_paused: false,
            ..
        }
    )
}

/// An alert held back by the ceiling, or replaced by the notice, did not reach the phones as
/// itself, so it must not use up its session's one text: when the hour turns, the session's
/// next alert inside the window texts, as the notice promised ("until 10:00").
#[tokio::test]
async fn an_alert_held_back_by_the_ceiling_leaves_its_session_untexted() {
    let stack = LocalStack::start().await;
    let app = stack.app_with(&stack.topic, &[("SMS_CEILING_PER_HOUR", "2")]);
    let people = Subscribers::of(&stack).await;
    let before: DateTime<Utc> = "2026-11-21T09:59:00Z".parse().unwrap();
    let after: DateTime<Utc> = "2026-11-21T10:01:00Z".parse().unwrap();
    let handle = |event: Value, now: DateTime<Utc>| {
        let app = &app;
        async move {
            app.handle(&event, &invocation_at(now), now)
                .await
                .expect("alerted")
        }
    };
    let t = |seconds: i64| before + Duration::seconds(seconds);
    // 09:59: two sessions use the hour's texts; X gets the notice, Y is held back.
    for (seq, key) in [(1, "ASIAQNZGKIQYSESSIONA"), (2, "ASIAQNZGKIQYSESSIONB")] {
        let outcome = handle(console_call(seq, key, t(seq.into())), before).await;
        assert!(texted_itself(&outcome), "{outcome:?}");
    }
    let notice = handle(console_call(3, "ASIAQNZGKIQYSESSIONX", t(3)), before).await;
    assert!(
        matches!(
            notice,
            Outcome::Alerted {
                page: true,
                texts_paused: true,
                ..
            }
        ),
        "{notice:?}"
    );
    let held = handle(console_call(4, "ASIAQNZGKIQYSESSIONY", t(4)), before).await;
    assert!(
        matches!(
            held,
            Outcome::Alerted {
                page: false,
                texts_paused: true,
                ..
            }
        ),
        "{held:?}"
    );
    assert_eq!(people.texts().await, 3, "2 texts and the notice");

    // 10:01, a minute of CloudTrail time later, well inside both sessions' windows.
    for (seq, key) in [(5, "ASIAQNZGKIQYSESSIONX"), (6, "ASIAQNZGKIQYSESSIONY")] {
        let outcome = handle(console_call(seq, key, t(60 + i64::from(seq))), after).await;
        assert!(
            texted_itself(&outcome),
            "{key}'s first text of the new hour: {outcome:?}"
        );
    }
    // A session that did text keeps its window.
    let again = handle(console_call(7, "ASIAQNZGKIQYSESSIONA", t(67)), after).await;
    assert!(
        matches!(
            again,
            Outcome::Alerted {
                page: false,
                texts_paused: false,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(people.texts().await, 2);
    assert_eq!(people.emails().await, 7);
}

/// A password-recovery request for the root user of `account`, as the forgot-password form
/// makes it: no credential needed, from any IP.
fn recovery_request(seq: u32, ip: &str, account: &str) -> Value {
    let mut event = sample("root-password-recovery-requested");
    event["detail"]["eventID"] = json!(format!("0000ecec-0000-4000-8000-{seq:012}"));
    event["detail"]["sourceIPAddress"] = json!(ip);
    let text = serde_json::to_string(&event)
        .unwrap()
        .replace("111122223333", account);
    serde_json::from_str(&text).unwrap()
}

/// Anyone who knows a root user's email address can ask for a password reset (HIGH, texted)
/// from as many IPs as they like, in every account whose address they know, without any
/// credential. Those texts have a ceiling of their own, counted per UTC day across every
/// account: 12 requests from 12 IPs, spread over two accounts and two hours, give 10 texts, the
/// one notice that sign-in attempt texts are paused for all accounts until midnight, and one
/// email-only alert — and the root sign-in with MFA that follows still texts, and so does a
/// forwarder's failing alarm, each counted in its own bucket. The next UTC day texts again.
#[tokio::test]
async fn texts_a_stranger_can_cause_cannot_pause_the_texts_of_root_activity() {
    let stack = LocalStack::start().await;
    let app = stack.app(&stack.topic);
    let people = Subscribers::of(&stack).await;
    let nine: DateTime<Utc> = "2026-11-21T09:20:00Z".parse().unwrap();
    let ten = nine + Duration::hours(1);
    let mut outcomes = Vec::new();
    for i in 1..=12 {
        // Six requests in each account, the second account's an hour later.
        let (account, now) = if i <= 6 {
            ("111122223333", nine)
        } else {
            ("444455556666", ten)
        };
        let event = recovery_request(i, &format!("198.51.100.{i}"), account);
        let outcome = app.handle(&event, &invocation_at(now), now).await;
        outcomes.push(outcome.expect("alerted"));
    }
    let sign_in = sample("root-console-sign-in-with-mfa");
    let root = app.handle(&sign_in, &invocation_at(ten), ten).await;
    assert!(
        texted_itself(root.as_ref().expect("alerted")),
        "the root sign-in texts: {root:?}"
    );
    let alarm = sample("forwarder-failing");
    let health = app.handle(&alarm, &invocation_at(ten), ten).await;
    assert!(
        texted_itself(health.as_ref().expect("alerted")),
        "the forwarder's alarm texts: {health:?}"
    );

    assert!(outcomes[..10].iter().all(texted_itself), "{outcomes:#?}");
    assert!(
        matches!(
            outcomes[10],
            Outcome::Alerted {
                page: true,
                texts_paused: true,
                ..
            }
        ),
        "{:?}",
        outcomes[10]
    );
    assert!(
        matches!(
            outcomes[11],
            Outcome::Alerted {
                page: false,
                texts_paused: true,
                ..
            }
        ),
        "{:?}",
        outcomes[11]
    );
    assert_eq!(
        people.texts().await,
        13,
        "10 requests, the notice, the sign-in, the alarm"
    );
    assert_eq!(people.emails().await, 14, "every alert is emailed");
    let texts = texted_sms(&stack);
    assert_eq!(
        texts[10],
        "HIGH in email. Sign-in attempt texts PAUSED for all accounts until 00:00 UTC \
         (10 sent today). Root activity still texts; email and chat get all."
    );
    if let Some(problem) = segment_problem(TOPIC_DISPLAY_NAME, &texts[10]) {
        panic!("the notice is not one segment: {problem}");
    }
    assert!(
        texts[11].starts_with("HIGH Root console sign-in with MFA."),
        "{texts:#?}"
    );
    assert!(
        texts[12].starts_with("HIGH rootwatch forwarder failing"),
        "{texts:#?}"
    );
    assert_eq!(
        texts_counted(&stack, "any-account#sign-in-attempts#2026-11-21").await,
        Some(11),
        "one count for both accounts and both hours"
    );
    assert_eq!(
        texts_counted(&stack, "111122223333#2026-11-21T10").await,
        Some(1)
    );
    assert_eq!(
        texts_counted(&stack, "any-account#forwarder-failures#2026-11-21").await,
        Some(1)
    );

    // The UTC day turns: sign-in attempts text again.
    let tomorrow: DateTime<Utc> = "2026-11-22T00:05:00Z".parse().unwrap();
    let event = recovery_request(13, "198.51.100.13", "444455556666");
    let outcome = app
        .handle(&event, &invocation_at(tomorrow), tomorrow)
        .await
        .expect("alerted");
    assert!(texted_itself(&outcome), "{outcome:?}");
    assert_eq!(people.texts().await, 1);
}
