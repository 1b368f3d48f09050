//! Parse → classify → enrich → render on arbitrary bytes, as the Lambda runtime would hand them
//! over. Must never panic; any alert must be deliverable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rootwatch::config::Config;
use rootwatch::render::email::is_valid_subject;
use rootwatch::handler::{Decision, decide};
use rootwatch::render::sms::Sms;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let config = Config::from_lookup(|name| match name {
        "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts".into()),
        "ACCOUNT_NAMES" => Some("111122223333=prod-payments".into()),
        "TOPIC_DISPLAY_NAME" => Some("rootwatch".into()),
        _ => None,
    })
    .expect("valid fuzz config");
    // Root alerts and forwarder-failing alerts alike.
    let decision = decide(&payload, &config);
    if let Some(notification) = decision.as_ref().ok().and_then(Decision::notification) {
        assert!(Sms::new(notification.sms.as_str(), config.sms_limit).is_ok());
        assert!(is_valid_subject(notification.subject.as_str()));
    }
});
