//! The event model: the EventBridge envelope and the CloudTrail record it carries.
//!
//! The envelope is `aws_lambda_events`' [`EventBridgeEvent`]. The record is the project's own
//! [`CloudTrailRecord`], because the crate's CloudTrail types reject or drop shapes that real
//! root events have (see the tests at the bottom of this file):
//! - `cloudtrail::AWSAPICall` requires `requestID`, which console sign-in records never carry;
//! - `signin::SignIn` requires `responseElements.ConsoleLogin` and `additionalEventData.LoginTo`,
//!   which password-recovery records do not have;
//! - neither `UserIdentity` keeps `accessKeyId` (the only way to tell a long-term root key `AKIA…`
//!   from a console session `ASIA…`) or `inScopeOf` (how an `sts:AssumeRoot` session is marked).

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::EventError;
use crate::sanitize::{redact_contacts, untrusted_line};

/// `detail-type` of console sign-in records (source `aws.signin`).
pub const SIGN_IN_DETAIL_TYPE: &str = "AWS Console Sign In via CloudTrail";
/// `detail-type` of management API-call records (source `aws.<service>`).
pub const API_CALL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// An EventBridge envelope carrying a CloudTrail record, as the rules deliver it.
pub type RootEvent = EventBridgeEvent<CloudTrailRecord>;

/// Which of the two CloudTrail detail-types an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailType {
    SignIn,
    ApiCall,
}

/// One CloudTrail record, tolerant of the fields real events leave out.
///
/// Only `userIdentity.type`, `eventSource` and `eventName` are required: without them nothing can
/// be said about the event. Every other field is optional, but a field that is present with the
/// wrong JSON type is still an error.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    pub event_version: Option<String>,
    pub user_identity: UserIdentity,
    pub event_time: Option<DateTime<Utc>>,
    pub event_source: String,
    pub event_name: String,
    pub aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub request_parameters: Option<Value>,
    pub response_elements: Option<Value>,
    pub additional_event_data: Option<Value>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    #[serde(rename = "requestID")]
    pub request_id: Option<String>,
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub recipient_account_id: Option<String>,
    pub read_only: Option<bool>,
    /// `"true"` when temporary credentials came from a console session.
    pub session_credential_from_console: Option<String>,
}

/// The `userIdentity` element, with the fields rootwatch reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    #[serde(rename = "type")]
    pub identity_type: String,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    /// Set when an AWS service made the call on the principal's behalf.
    pub invoked_by: Option<String>,
    pub session_context: Option<SessionContext>,
    /// Set on root sessions started with `sts:AssumeRoot` from the management account.
    pub in_scope_of: Option<InScopeOf>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    pub attributes: Option<SessionAttributes>,
    pub source_identity: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// `"true"` or `"false"`.
    pub mfa_authenticated: Option<String>,
    pub creation_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InScopeOf {
    pub issuer_type: Option<String>,
    pub issuer_account_id: Option<String>,
    pub credentials_issued_to: Option<String>,
}

impl CloudTrailRecord {
    /// The event id, when it is well formed; ids end up in logs, links and table keys.
    pub fn valid_event_id(&self) -> Option<&str> {
        self.event_id.as_deref().filter(|id| is_event_id(id))
    }

    /// Whether the request failed: an error code or message, or a console sign-in answered with
    /// something other than `Success`. A sign-in without any answer counts as succeeded, so an
    /// unclear record alerts at the higher severity rather than the lower.
    pub fn failed(&self) -> bool {
        let sign_in_refused = self
            .response_elements
            .as_ref()
            .and_then(|r| r.get("ConsoleLogin"))
            .and_then(Value::as_str)
            .is_some_and(|answer| !answer.eq_ignore_ascii_case("Success"));
        self.error_code.is_some() || self.error_message.is_some() || sign_in_refused
    }
}

impl DetailType {
    /// The detail-type of an event that [`parse_event`] accepted.
    pub fn of(event: &RootEvent) -> Self {
        if event.detail_type == SIGN_IN_DETAIL_TYPE {
            DetailType::SignIn
        } else {
            DetailType::ApiCall
        }
    }
}

/// Parses a Lambda payload into a [`RootEvent`].
///
/// Errors name the JSON path that was wrong and carry the event id when the envelope had one, so
/// the log line and the on-failure record can be traced back to CloudTrail.
pub fn parse_event(payload: &Value) -> Result<RootEvent, EventError> {
    let event_id = event_id_hint(payload);
    let envelope = payload.as_object().ok_or_else(|| EventError::Malformed {
        event_id: None,
        reason: format!(
            "expected an EventBridge envelope (a JSON object), got {}",
            json_kind(payload)
        ),
    })?;
    match envelope.get("detail-type").and_then(Value::as_str) {
        Some(SIGN_IN_DETAIL_TYPE | API_CALL_DETAIL_TYPE) => {}
        Some(other) => {
            return Err(EventError::Unsupported {
                event_id,
                detail_type: redact_contacts(&untrusted_line(other, 80)),
            });
        }
        None => {
            return Err(EventError::Malformed {
                event_id,
                reason: "missing string field `detail-type`".into(),
            });
        }
    }
    serde_path_to_error::deserialize::<_, RootEvent>(payload).map_err(|e| {
        let path = e.path().to_string();
        let place = if path == "." {
            "the envelope".to_owned()
        } else {
            format!("`{path}`")
        };
        EventError::Malformed {
            event_id,
            reason: format!(
                "{place}: {}",
                redact_contacts(&untrusted_line(&e.inner().to_string(), 200))
            ),
        }
    })
}

/// The best event id a payload offers before it is known to parse: CloudTrail's `eventID`, else
/// the envelope `id`. Only well-formed ids are returned, since they end up in logs.
fn event_id_hint(payload: &Value) -> Option<String> {
    let candidates = [payload.pointer("/detail/eventID"), payload.pointer("/id")];
    candidates
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|id| is_event_id(id))
        .map(str::to_owned)
}

/// CloudTrail and EventBridge ids are UUID-like: ASCII letters, digits and dashes.
pub fn is_event_id(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::cloudwatch_events::{cloudtrail::AWSAPICall, signin::SignIn};

    fn sample(name: &str) -> Value {
        let path = format!("{}/events/{name}", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Why the project has its own record type: the crate's API-call type needs `requestID`.
    #[test]
    fn crate_api_call_type_rejects_real_sign_in_records() {
        let event = sample("root-console-sign-in-without-mfa.json");
        let err = serde_json::from_value::<AWSAPICall>(event["detail"].clone()).unwrap_err();
        assert!(err.to_string().contains("requestID"), "{err}");
        assert!(parse_event(&event).is_ok());
    }

    /// Why the project has its own record type: the crate's sign-in type needs `ConsoleLogin`
    /// and a full `additionalEventData`, which password-recovery records lack.
    #[test]
    fn crate_sign_in_type_rejects_real_password_recovery_records() {
        let mut event = sample("root-password-recovery-requested.json");
        let err = serde_json::from_value::<SignIn>(event["detail"].clone()).unwrap_err();
        assert!(err.to_string().contains("AdditionalEventData"), "{err}");
        event["detail"]["additionalEventData"] =
            serde_json::json!({"LoginTo": "", "MobileVersion": "No", "MFAUsed": "No"});
        let err = serde_json::from_value::<SignIn>(event["detail"].clone()).unwrap_err();
        assert!(err.to_string().contains("ConsoleLogin"), "{err}");
        assert!(parse_event(&event).is_ok());
    }

    /// Why the project has its own record type: the crate drops `accessKeyId`.
    #[test]
    fn crate_api_call_type_loses_the_access_key_id() {
        let event = sample("root-api-call-with-long-term-access-key.json");
        let theirs = serde_json::to_value(
            serde_json::from_value::<AWSAPICall>(event["detail"].clone()).unwrap(),
        )
        .unwrap();
        assert!(theirs["userIdentity"].get("accessKeyId").is_none());
        let ours = parse_event(&event).unwrap();
        assert_eq!(
            ours.detail.user_identity.access_key_id.as_deref(),
            Some("AKIAIOSFODNN7EXAMPLE")
        );
    }

    #[test]
    fn wrong_type_names_the_path_and_keeps_the_event_id() {
        let mut event = sample("root-console-sign-in-with-mfa.json");
        event["detail"]["userIdentity"]["type"] = Value::from(7);
        let err = parse_event(&event).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("detail.userIdentity.type"), "{text}");
        assert_eq!(err.event_id(), event["detail"]["eventID"].as_str());
    }

    #[test]
    fn hostile_event_ids_are_not_echoed() {
        let payload = serde_json::json!({"id": "x\n\u{202e}evil", "detail-type": 5});
        let err = parse_event(&payload).unwrap_err();
        assert_eq!(err.event_id(), None);
    }

    #[test]
    fn failure_is_an_error_or_a_refused_sign_in() {
        let ok = sample("root-console-sign-in-without-mfa.json");
        let mut record = parse_event(&ok).unwrap().detail;
        assert!(!record.failed());
        record.response_elements = None;
        assert!(!record.failed(), "no answer is not a failure");
        record.response_elements = Some(serde_json::json!({"ConsoleLogin": "Failure"}));
        assert!(record.failed());
        record.response_elements = None;
        record.error_code = Some("AccessDenied".into());
        assert!(record.failed());
    }

    #[test]
    fn non_object_payload_is_malformed() {
        let err = parse_event(&Value::from("hello")).unwrap_err();
        assert!(err.to_string().contains("got a string"), "{err}");
    }
}
