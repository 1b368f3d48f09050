//! A declaration's text is whatever its writer chose: bounded, one line, inert in chat, and never
//! in a subject or on a phone.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;

use rootwatch::domain::limits::{MAX_DECLARED_BY, MAX_REASON};

use super::{ACCOUNT, Declared, event};
use crate::support::stack::TABLE;

const HOSTILE: &str = "line one\nBcc: x@example.com\r\n<!channel> `code` \u{202e}evil\u{200b} ";

#[tokio::test]
async fn hostile_text_is_bounded_sanitised_and_kept_off_phones_and_subjects() {
    let mut declared = Declared::start().await;
    let now = Utc::now().timestamp();
    let reason = format!("{HOSTILE}{}", "R".repeat(10_000));
    let by = format!("{HOSTILE}{}", "B".repeat(10_000));
    let s = |t: &str| AttributeValue::S(t.to_owned());
    declared
        .stack
        .dynamodb
        .put_item()
        .table_name(TABLE)
        .item("pk", s(&format!("declaration#{ACCOUNT}")))
        .item("declaration_id", s("d1"))
        .item("account_id", s(ACCOUNT))
        .item("window_start", AttributeValue::N(now.to_string()))
        .item("window_end", AttributeValue::N((now + 3600).to_string()))
        .item("declared_reason", s(&reason))
        .item("declared_by", s(&by))
        .item("caller_arn", s("arn:aws:iam::1:user/x\n<b>"))
        .send()
        .await
        .unwrap();
    declared.pump().await;
    declared
        .at(
            &event("root-console-sign-in-with-mfa", ACCOUNT, 21, Utc::now()),
            Utc::now(),
        )
        .await
        .unwrap();
    declared
        .at(
            &event("root-cloudtrail-logging-stopped", ACCOUNT, 22, Utc::now()),
            Utc::now(),
        )
        .await
        .unwrap();
    let sent = declared
        .stack
        .moto
        .sent_notifications(&declared.stack.topic);
    assert_eq!(sent.len(), 3);
    for notification in &sent {
        let subject = notification[2].as_str().unwrap();
        let message: serde_json::Value =
            serde_json::from_str(notification[1].as_str().unwrap()).unwrap();
        for bad in ["line one", "channel", "RRRR", "BBBB", "evil"] {
            assert!(!subject.contains(bad), "{bad} in the subject {subject}");
            assert!(
                !message["sms"].as_str().unwrap().contains(bad),
                "{bad} in the SMS"
            );
        }
        let email = message["email"].as_str().unwrap();
        assert!(
            !email.contains('\u{202e}') && !email.contains('\u{200b}'),
            "{email}"
        );
        assert!(!email.contains("\nBcc:"), "a forged line: {email}");
        // Each row shows the text cut at its bound, wherever the hostile prefix put the cut.
        let shown = |label: &str, marker: &str| -> Vec<usize> {
            email
                .lines()
                .filter(|l| l.starts_with(label))
                .filter_map(|l| l.split_once(marker))
                .map(|(_, text)| text.chars().count())
                .collect()
        };
        let reasons = shown("Reason ", "(declared) ");
        assert!(!reasons.is_empty(), "{email}");
        assert!(
            reasons.iter().all(|n| *n == MAX_REASON),
            "{reasons:?} {email}"
        );
        let bys = shown("By ", "(as stated) ")
            .into_iter()
            .chain(shown("Declared by ", "(as stated) "))
            .collect::<Vec<_>>();
        assert!(!bys.is_empty(), "{email}");
        assert!(bys.iter().all(|n| *n == MAX_DECLARED_BY), "{bys:?} {email}");
        let chat = message["https"].as_str().unwrap();
        assert!(!chat.contains("<!channel>"), "{chat}");
        assert!(!chat.contains('\u{202e}'), "{chat}");
    }
    let email: serde_json::Value = serde_json::from_str(sent[0][1].as_str().unwrap()).unwrap();
    assert!(
        email["email"].as_str().unwrap().contains(
            "Reason      (declared) line one Bcc: x@example.com <!channel> `code` evil RRR"
        ),
        "{}",
        email["email"]
    );
}
