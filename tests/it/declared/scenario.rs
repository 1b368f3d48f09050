//! The whole of declared root use, from moto's own records: what SNS sent
//! (`sent_notifications`), what a phone got (a queue with the template's own SMS filter policy)
//! and what an inbox got (a queue without one).

use chrono::{DateTime, Duration, Utc};
use rootwatch::aws::declarations::INDEX;
use rootwatch::dispatch::Response;
use rootwatch::handler::Outcome;
use serde_json::Value;

use super::{ACCOUNT, Declared, OTHER, event};
use crate::state::Subscribers;
use crate::support::stack::item;
use crate::watchdog::{logging_trail, tick};

/// Declared for one account: a sign-in there is alerted, not texted, and names the declaration;
/// the same in another account texts; a CRITICAL call in the declared account still texts; a
/// non-critical call there does not. After the declaration ends, the tick sends one report of
/// those uses, once; a sign-in after the end texts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_window_quiets_texts_below_critical_and_ends_in_a_report() {
    let mut declared = Declared::start().await;
    let people = Subscribers::of(&declared.stack).await;
    // A trail feeds EventBridge: the tick's watchdog check publishes nothing of its own.
    let _trail = logging_trail(&declared.stack.moto, "management-events").await;

    let written = declared.cli(&[
        "declare",
        "--account",
        ACCOUNT,
        "--minutes",
        "60",
        "--reason",
        "Close support case 42",
        "--by",
        "alice",
        "--no-wait",
    ]);
    assert!(written.status.success(), "{written:?}");
    let rung = declared.pump().await;
    assert!(
        matches!(rung.as_slice(), [Ok(Response::Declarations(_))]),
        "{rung:?}"
    );
    let published = declared.published();
    assert_eq!(published.len(), 1, "{published:?}");
    let (kind, page, notice) = &published[0];
    assert_eq!(
        (kind.as_str(), page.as_str()),
        ("root-use-declared", "false")
    );
    let email = notice["email"].as_str().unwrap();
    for said in [
        "(as stated) alice",
        "(declared) Close support case 42",
        "is DECLARED until",
        "make end-declaration ACCOUNT=111122223333",
        "CloudTrail data events",
    ] {
        assert!(email.contains(said), "{said:?} in {email}");
    }
    assert_eq!(people.texts().await, 0, "a declaration is not texted");
    people.emails().await;

    // A sign-in with MFA in the declared account: alerted, not texted, and it says so.
    let signed_in = event("root-console-sign-in-with-mfa", ACCOUNT, 1, Utc::now());
    let outcome = declared.at(&signed_in, Utc::now()).await.unwrap();
    assert!(
        matches!(
            outcome,
            Response::Event(Outcome::Alerted { page: false, .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(people.texts().await, 0, "declared, below CRITICAL");
    assert_eq!(people.emails().await, 1);
    let (_, _, alert) = declared.published().pop().unwrap();
    let subject = declared
        .stack
        .moto
        .sent_notifications(&declared.stack.topic)
        .last()
        .unwrap()[2]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        subject.starts_with("[rootwatch] HIGH DECLARED Root console sign-in with MFA"),
        "{subject}"
    );
    let email = alert["email"].as_str().unwrap();
    assert!(
        email.contains("Declared     yes \u{2014} until")
            && email.contains("Declared by  (as stated) alice\n"),
        "{email}"
    );
    assert!(email.contains("not texted (below CRITICAL)"), "{email}");
    assert!(
        email.contains("Reason       (declared) Close support case 42"),
        "{email}"
    );

    // The same sign-in in another account: texted.
    declared
        .at(
            &event("root-console-sign-in-with-mfa", OTHER, 2, Utc::now()),
            Utc::now(),
        )
        .await
        .unwrap();
    assert_eq!(people.texts().await, 1, "not declared there");

    // StopLogging in the declared account: CRITICAL, texted, and the text says DECLARED.
    let stopped = event("root-cloudtrail-logging-stopped", ACCOUNT, 3, Utc::now());
    declared.at(&stopped, Utc::now()).await.unwrap();
    let texted = people.texted().await;
    assert_eq!(texted.len(), 1, "CRITICAL texts whatever is declared");
    let (_, _, alert) = declared.published().pop().unwrap();
    assert!(
        alert["sms"]
            .as_str()
            .unwrap()
            .starts_with("CRITICAL DECLARED "),
        "{alert}"
    );
    assert!(
        alert["email"]
            .as_str()
            .unwrap()
            .contains("texted: CRITICAL")
    );

    // A non-critical call there: not texted.
    let created = event("root-api-call-from-console-session", ACCOUNT, 4, Utc::now());
    declared.at(&created, Utc::now()).await.unwrap();
    assert_eq!(people.texts().await, 0, "iam:CreateUser, declared, HIGH");

    // Ended early: nothing is published, the window closes.
    // The test rings the function itself, after the tool has written the end (`--no-wait`).
    let ended = declared.cli(&["end", "--account", ACCOUNT, "--no-wait"]);
    assert!(ended.status.success(), "{ended:?}");
    let before = declared.published().len();
    let rung = declared.pump().await;
    assert!(rung.iter().all(Result::is_ok), "{rung:?}");
    assert_eq!(
        declared.published().len(),
        before,
        "an end is not announced"
    );

    // The tick after the grace, counted from the end as written: one report of the three uses
    // in the declared account.
    let window = item(&declared.stack.dynamodb, &format!("window#{ACCOUNT}"))
        .await
        .unwrap();
    let ended: i64 = window["ended_at"].as_n().unwrap().parse().unwrap();
    let ended = DateTime::from_timestamp(ended, 0).unwrap();
    people.emails().await;
    let later = ended + Duration::minutes(16);
    let response = declared.at(&tick(), later).await.unwrap();
    assert!(
        matches!(&response, Response::Tick { reports, .. } if reports.sent.len() == 1),
        "{response:?}"
    );
    let (kind, page, report) = declared.published().pop().unwrap();
    assert_eq!((kind.as_str(), page.as_str()), ("root-use-report", "false"));
    let email = report["email"].as_str().unwrap();
    for said in [
        "signin:ConsoleLogin",
        "cloudtrail:StopLogging",
        "iam:CreateUser",
        "succeeded  HIGH  declared",
        "CRITICAL  declared",
        "(as stated) alice",
        "ended early at",
    ] {
        assert!(email.contains(said), "{said:?} in {email}");
    }
    assert_eq!(email.matches("  declared").count(), 3, "{email}");
    // Each use on its own line, with its time and source as CloudTrail recorded them.
    let line = |payload: &Value, call: &str, severity: &str| {
        let time: DateTime<Utc> = payload["detail"]["eventTime"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        format!(
            "{}  {call}  {}  succeeded  {severity}  declared",
            time.format("%H:%M:%S"),
            payload["detail"]["sourceIPAddress"].as_str().unwrap()
        )
    };
    for expected in [
        line(&signed_in, "signin:ConsoleLogin", "HIGH"),
        line(&stopped, "cloudtrail:StopLogging", "CRITICAL"),
        line(&created, "iam:CreateUser", "HIGH"),
    ] {
        assert!(
            email.lines().any(|l| l == expected),
            "{expected:?} in {email}"
        );
    }
    assert!(
        !email.contains(OTHER),
        "another account's use is not this report's"
    );
    assert_eq!(people.texts().await, 0);
    assert_eq!(people.emails().await, 1);

    // Exactly once: the next tick sends nothing, and nothing is left waiting.
    let again = declared
        .at(&tick(), later + Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        matches!(&again, Response::Tick { reports, .. } if reports.sent.is_empty() && reports.waiting == 0),
        "{again:?}"
    );
    assert_eq!(people.emails().await, 0);
    let index = item(&declared.stack.dynamodb, INDEX).await;
    let due = index.as_ref().and_then(|i| i.get("due"));
    assert!(due.is_none(), "{index:?}");

    // After the end a sign-in texts again, and says how to declare.
    let after = ended + Duration::minutes(17);
    declared
        .at(
            &event("root-console-sign-in-with-mfa", ACCOUNT, 5, after),
            after,
        )
        .await
        .unwrap();
    assert_eq!(people.texts().await, 1, "not declared any more");
    let (_, _, alert) = declared.published().pop().unwrap();
    let email = alert["email"].as_str().unwrap();
    assert!(
        email.contains(
            "no \u{2014} planned root use can be declared first: make declare ACCOUNT=111122223333"
        ),
        "{email}"
    );
}
