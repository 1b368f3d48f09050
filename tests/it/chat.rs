//! Every alert reaches Slack and Teams only if AWS Chatbot accepts its `https` message: checked for
//! every sample (and the watchdog's alert) against `tests/schemas/chatbot-custom-notification.schema.json`,
//! a JSON Schema written from the Chatbot administrator guide's "Custom notifications" page.

use rootwatch::domain::SmsLimit;
use rootwatch::handler::{Decision, decide};
use rootwatch::render::notification::Notification;
use rootwatch::watchdog::judge::Finding;
use rootwatch::watchdog::render::{Checked, render};
use serde_json::Value;

use crate::support::{OFFLINE_TOPIC, config, peer_samples, sample, valid_samples};

fn validator() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/schemas/chatbot-custom-notification.schema.json"
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("JSON");
    jsonschema::validator_for(&schema).expect("a valid JSON Schema")
}

/// The `https` entry of the one published message, parsed.
fn chat_message(notification: &Notification) -> Value {
    let message: Value = serde_json::from_str(&notification.message_json()).expect("JSON");
    let https = message["https"]
        .as_str()
        .expect("the message has an https entry for Chatbot");
    serde_json::from_str(https).expect("the https entry is JSON")
}

fn assert_valid(validator: &jsonschema::Validator, chat: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(chat)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}\n{chat:#}");
}

#[test]
fn every_alert_carries_a_schema_valid_chatbot_notification() {
    let validator = validator();
    let mut alerts = 0;
    for (name, payload) in valid_samples().into_iter().chain(peer_samples()) {
        let Ok(Decision::Alert {
            alert,
            notification,
        }) = decide(&payload, &config(OFFLINE_TOPIC))
        else {
            continue;
        };
        alerts += 1;
        let chat = chat_message(&notification);
        assert_valid(&validator, &chat, &name);
        // What a responder needs is in it: severity, the kind, the account, a thread per session.
        let keywords = chat["content"]["keywords"].to_string();
        assert!(
            keywords.contains(alert.severity.as_str()),
            "{name}: {keywords}"
        );
        assert!(keywords.contains(alert.kind.as_str()), "{name}: {keywords}");
        assert_eq!(
            chat["metadata"]["threadId"],
            format!("rootwatch#{}", alert.root_session()),
            "{name}"
        );
        if let Some(url) = &alert.console_url {
            assert!(
                chat["content"]["nextSteps"]
                    .to_string()
                    .contains(url.as_str())
            );
        }
    }
    assert!(alerts >= 40, "only {alerts} samples alert");
}

/// A schema that accepts anything would pass the test above: it must refuse what Chatbot drops.
#[test]
fn the_schema_refuses_what_chatbot_drops() {
    let validator = validator();
    let good = serde_json::json!({
        "version": "1.0", "source": "custom",
        "content": {"textType": "client-markdown", "description": "d"}
    });
    assert!(validator.is_valid(&good));
    for bad in [
        serde_json::json!({"version": "1.0", "source": "custom"}),
        serde_json::json!({"version": "2.0", "source": "custom", "content": {"description": "d"}}),
        serde_json::json!({"version": "1.0", "source": "aws", "content": {"description": "d"}}),
        serde_json::json!({"version": "1.0", "source": "custom", "content": {"textType": "html", "description": "d"}}),
        serde_json::json!({"version": "1.0", "source": "custom", "content": {"title": "no description"}}),
        serde_json::json!({"version": "1.0", "source": "custom", "content": {"description": "d", "keywords": "CRITICAL"}}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
    }
}

#[test]
fn the_watchdog_alert_is_schema_valid_too() {
    let checked = Checked {
        account: "111122223333",
        region: "eu-west-1",
        at: "2026-11-21T09:00:00Z".parse().unwrap(),
    };
    let notification = render(
        &checked,
        &[Finding::NoTrail],
        None,
        SmsLimit::after_display_name("rootwatch").unwrap(),
        None,
    );
    assert_valid(
        &validator(),
        &chat_message(&notification),
        "the watchdog's alert",
    );
}

/// A member forwarder's failing alarm reaches chat too, threaded per account and region, with
/// the alarm's caller-chosen name and reason inert.
#[test]
fn the_forwarder_failing_alert_is_schema_valid_too() {
    let mut payload = sample("forwarder-failing");
    payload["detail"]["state"]["reason"] = "x` <!channel> <https://evil.example|click>".into();
    let Ok(Decision::ForwarderFailing { notification, .. }) =
        decide(&payload, &config(OFFLINE_TOPIC))
    else {
        panic!("alerts")
    };
    let chat = chat_message(&notification);
    assert_valid(&validator(), &chat, "the forwarder-failing alert");
    assert_eq!(
        chat["metadata"]["threadId"],
        "rootwatch#forwarder#111122223333#eu-west-1"
    );
    let keywords = chat["content"]["keywords"].to_string();
    assert!(keywords.contains("forwarder-failing"), "{keywords}");
    let description = chat["content"]["description"].as_str().unwrap();
    assert!(!description.contains("<!channel>"), "{description}");
    assert!(!description.contains("<https://evil"), "{description}");
}

/// Caller-chosen text reaches chat only inert: no channel mention or link survives.
#[test]
fn caller_chosen_text_cannot_mention_or_link_in_chat() {
    let mut payload = sample("root-console-sign-in-without-mfa");
    payload["detail"]["userAgent"] = "x` <!channel> <https://evil.example|click> *y*".into();
    let Ok(Decision::Alert { notification, .. }) = decide(&payload, &config(OFFLINE_TOPIC)) else {
        panic!("alerts")
    };
    let description = chat_message(&notification)["content"]["description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!description.contains("<!channel>"), "{description}");
    assert!(!description.contains("<https://evil"), "{description}");
    assert!(description.contains("(caller-supplied)"), "{description}");
}
