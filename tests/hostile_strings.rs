//! Property tests: whatever strings an event carries, the event still alerts, the SMS stays one
//! GSM-7 segment after SNS's prefix, the subject stays what SNS accepts, and caller-chosen text
//! never reaches a phone. Judged with the tests' own rules (`support/gsm7.rs`), not `src/`'s.

mod support;

use proptest::prelude::*;
use rootwatch::handler::{Decision, decide};
use rootwatch::render::notification::Notification;
use serde_json::{Value, json};
use support::gsm7::{segment_problem, subject_problem};
use support::{OFFLINE_TOPIC, TOPIC_DISPLAY_NAME, config, valid_samples};

/// Strings built to hurt: controls, line breaks, bidi and zero-width characters, emoji,
/// characters outside GSM-7, and lengths far beyond any message.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f\\x7f\u{85}\u{ad}\u{2028}\u{2029}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{200b}-\u{200f}\u{feff}\u{e0020}-\u{e007f}a-zA-Z0-9 \\[\\]|€🦀😀é]{0,400}",
        "(CRITICAL|\r\nSubject: |\u{202e}|A|🦀){100,1200}",
    ]
}

fn alertable_samples() -> Vec<(String, Value)> {
    let alertable: Vec<_> = valid_samples()
        .into_iter()
        .filter(|(_, p)| {
            matches!(
                decide(p, &config(OFFLINE_TOPIC)),
                Ok(Decision::Alert { .. })
            )
        })
        .collect();
    assert!(
        alertable.len() >= 14,
        "only {} samples alert",
        alertable.len()
    );
    alertable
}

fn notification(payload: &Value) -> Option<Notification> {
    match decide(payload, &config(OFFLINE_TOPIC)) {
        Ok(Decision::Alert { notification, .. }) => Some(*notification),
        _ => None,
    }
}

fn assert_deliverable(n: &Notification) -> Result<(), TestCaseError> {
    let sms = segment_problem(TOPIC_DISPLAY_NAME, n.sms.as_str());
    prop_assert!(sms.is_none(), "SMS {:?}", sms);
    let subject = subject_problem(n.subject.as_str());
    prop_assert!(subject.is_none(), "subject {:?}", subject);
    for c in n.email_body.chars() {
        prop_assert!(
            c == '\n'
                || !(c.is_control()
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)
                    || ('\u{200b}'..='\u{200f}').contains(&c)
                    || ('\u{e0000}'..='\u{e007f}').contains(&c)),
            "email body has {:?}",
            c
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Caller-chosen fields change nothing in the SMS: not its text, not its length.
    #[test]
    fn untrusted_fields_never_reach_the_sms(
        index in any::<prop::sample::Index>(),
        user_agent in hostile_string(),
        user_name in hostile_string(),
        parameter in hostile_string(),
    ) {
        let samples = alertable_samples();
        let (name, payload) = &samples[index.index(samples.len())];
        let baseline = notification(payload).expect("alertable");
        let mut hostile = payload.clone();
        hostile["detail"]["userAgent"] = json!(user_agent);
        hostile["detail"]["userIdentity"]["userName"] = json!(user_name);
        hostile["detail"]["requestParameters"] = json!({"bucketName": parameter, "nested": [parameter]});
        let attacked = notification(&hostile).expect("still alertable");
        prop_assert_eq!(&attacked.sms, &baseline.sms, "{}", name);
        assert_deliverable(&attacked)?;
    }

    /// Even fields AWS normally controls cannot break the limits, nor stop the alert, if an event
    /// is forged.
    #[test]
    fn any_string_field_keeps_messages_deliverable(
        index in any::<prop::sample::Index>(),
        event_name in hostile_string(),
        event_source in hostile_string(),
        region in hostile_string(),
        source_ip in hostile_string(),
        error_message in hostile_string(),
        mfa in hostile_string(),
    ) {
        let samples = alertable_samples();
        let (_, payload) = &samples[index.index(samples.len())];
        let mut hostile = payload.clone();
        let detail = &mut hostile["detail"];
        detail["eventName"] = json!(event_name);
        detail["eventSource"] = json!(event_source);
        detail["awsRegion"] = json!(region);
        detail["sourceIPAddress"] = json!(source_ip);
        detail["errorMessage"] = json!(error_message);
        detail["additionalEventData"] = json!({"MFAUsed": mfa});
        let n = notification(&hostile);
        prop_assert!(n.is_some(), "a forged string field stopped the alert");
        assert_deliverable(&n.unwrap())?;
    }
}
