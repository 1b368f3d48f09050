//! A declaration with a source range covers only uses from inside it; a console call through an
//! AWS proxy (`AWS Internal`) counts as inside when its credential is a console session.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use serde_json::json;

use super::{ACCOUNT, Declared, event};
use crate::state::Subscribers;
use crate::support::stack::TABLE;

#[tokio::test]
async fn only_uses_from_inside_the_declared_range_are_declared() {
    let mut declared = Declared::start().await;
    let people = Subscribers::of(&declared.stack).await;
    let now = Utc::now().timestamp();
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
        .item("declared_reason", s("from the office"))
        .item("declared_by", s("alice"))
        .item("source_cidr", s("192.0.2.0/24"))
        .send()
        .await
        .unwrap();
    declared.pump().await;
    people.texts().await;

    let mut inside = event("root-console-sign-in-with-mfa", ACCOUNT, 11, Utc::now());
    inside["detail"]["sourceIPAddress"] = json!("192.0.2.10");
    declared.at(&inside, Utc::now()).await.unwrap();
    assert_eq!(people.texts().await, 0, "inside the range: declared");

    let mut proxied = event(
        "root-api-call-from-console-session",
        ACCOUNT,
        12,
        Utc::now(),
    );
    proxied["detail"]["sourceIPAddress"] = json!("AWS Internal");
    declared.at(&proxied, Utc::now()).await.unwrap();
    assert_eq!(
        people.texts().await,
        0,
        "a console session's call through AWS's proxy"
    );
    let (_, _, alert) = declared.published().pop().unwrap();
    assert!(
        alert["email"]
            .as_str()
            .unwrap()
            .contains("Declared     yes")
    );

    let mut outside = event("root-console-sign-in-with-mfa", ACCOUNT, 13, Utc::now());
    outside["detail"]["sourceIPAddress"] = json!("203.0.113.9");
    declared.at(&outside, Utc::now()).await.unwrap();
    assert_eq!(people.texts().await, 1, "outside the range: texted");
    let (_, _, alert) = declared.published().pop().unwrap();
    let email = alert["email"].as_str().unwrap();
    assert!(
        email
            .contains("NO \u{2014} source 203.0.113.9 is outside the declared 192.0.2.0/24 (until")
            && email.contains("Declared by  (as stated) alice\n"),
        "{email}"
    );
}
