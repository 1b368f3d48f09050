//! The event model: the EventBridge envelope and the CloudTrail record it carries.
//!
//! An alarm must fail towards alerting, so the model is strict only where it must be. The few
//! fields that decide whether an event is a root event to alert on — the envelope's
//! `detail-type`, and `userIdentity.type`, `userIdentity.invokedBy`, `eventSource`, `eventName`
//! and `eventType` — must be readable, or the event is rejected with an error naming the field.
//! (`userIdentity.type`, `invokedBy` and `eventType` may be missing: AWS documents records of its
//! own internal calls without a `type`, and every root record has one.)
//! Every other field is [`Lenient`]: a wrong JSON type, an object re-encoded as a JSON string, a
//! boolean written as `"True"` or a time in another common form is read when it can be and
//! otherwise becomes "unreadable", which the alert reports instead of failing. CloudTrail's
//! schema has grown from `eventVersion` 1.0 to 1.11, and exporters re-encode records; neither,
//! nor an attacker who can shape a field, may silence the alarm.
//!
//! The envelope is `aws_lambda_events`' [`EventBridgeEvent`]; its own fields are checked before
//! it is built (see [`parse_event`]). The record is the project's own [`CloudTrailRecord`],
//! because the crate's CloudTrail types reject or drop shapes that real root events have (see the
//! tests at the bottom of this file):
//! - `cloudtrail::AWSAPICall` requires `requestID`, which console sign-in records never carry;
//! - `signin::SignIn` requires `responseElements.ConsoleLogin` and `additionalEventData.LoginTo`,
//!   which password-recovery records do not have;
//! - neither `UserIdentity` keeps `accessKeyId` (the only way to tell a long-term root key `AKIA…`
//!   from a console session `ASIA…`) or `inScopeOf` (how an `sts:AssumeRoot` session is marked).

use std::borrow::Cow;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::EventError;
use crate::sanitize::{redact_contacts, untrusted_line};

/// `detail-type` of console sign-in records (source `aws.signin`).
pub const SIGN_IN_DETAIL_TYPE: &str = "AWS Console Sign In via CloudTrail";
/// `detail-type` of management API-call records (source `aws.<service>`).
pub const API_CALL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// An EventBridge envelope carrying a CloudTrail record, as the rules deliver it.
pub type RootEvent = EventBridgeEvent<CloudTrailRecord>;

/// A parsed event and the fields that were present but could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedEvent {
    pub event: RootEvent,
    /// JSON paths such as `detail.eventTime`, in a stable order.
    pub unreadable: Vec<&'static str>,
}

/// Which of the two CloudTrail detail-types an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailType {
    SignIn,
    ApiCall,
}

/// A field that does not decide whether to alert: read when it can be, never an error.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Lenient<T> {
    /// Missing, or `null`.
    #[default]
    Absent,
    Read(T),
    /// Present, but in no shape rootwatch can read.
    Unreadable,
}

impl<T> Lenient<T> {
    pub fn get(&self) -> Option<&T> {
        match self {
            Lenient::Read(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_unreadable(&self) -> bool {
        matches!(self, Lenient::Unreadable)
    }
}

/// Written back as what was read (`null` when absent or unreadable). The envelope type requires
/// its detail to be serialisable; rootwatch itself never writes records.
impl<T: Serialize> Serialize for Lenient<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.get().serialize(serializer)
    }
}

impl Lenient<String> {
    pub fn as_deref(&self) -> Option<&str> {
        self.get().map(String::as_str)
    }
}

impl<T> From<T> for Lenient<T> {
    fn from(value: T) -> Self {
        Lenient::Read(value)
    }
}

/// How a [`Lenient`] field reads a JSON value; `None` makes the field unreadable.
pub trait Tolerant: Sized {
    fn read(value: &Value) -> Option<Self>;
}

impl<T: Tolerant> Lenient<T> {
    /// Reads a JSON value as the field would be read from an event.
    pub fn from_json(value: &Value) -> Self {
        match value {
            Value::Null => Lenient::Absent,
            value => T::read(value).map_or(Lenient::Unreadable, Lenient::Read),
        }
    }
}

impl<'de, T: Tolerant> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Any JSON value is accepted here; only its shape decides Read or Unreadable.
        Ok(Self::from_json(&Value::deserialize(deserializer)?))
    }
}

/// Text: a string, or a number or boolean written as text.
impl Tolerant for String {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// `true`/`false`, also as `"true"`, `"True"`, `"TRUE"` and the like.
impl Tolerant for bool {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

/// A time in any of the forms CloudTrail and its exporters write (see [`parse_time`]), or
/// seconds or milliseconds since the epoch.
impl Tolerant for DateTime<Utc> {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::String(s) => parse_time(s),
            Value::Number(n) => {
                let n = n.as_i64()?;
                if n > 100_000_000_000 {
                    DateTime::from_timestamp_millis(n)
                } else {
                    DateTime::from_timestamp(n, 0)
                }
            }
            _ => None,
        }
    }
}

/// A JSON object, also when it arrives re-encoded as a JSON string.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct JsonObject(pub Map<String, Value>);

impl JsonObject {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

/// An object, or a string holding one; anything else is unreadable.
fn as_object(value: &Value) -> Option<Cow<'_, Map<String, Value>>> {
    match value {
        Value::Object(map) => Some(Cow::Borrowed(map)),
        Value::String(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Some(Cow::Owned(map)),
            _ => None,
        },
        _ => None,
    }
}

impl Tolerant for JsonObject {
    fn read(value: &Value) -> Option<Self> {
        as_object(value).map(|map| JsonObject(map.into_owned()))
    }
}

/// A [`Lenient`] field of a JSON object: absent when the key is missing.
fn lenient<T: Tolerant>(map: &Map<String, Value>, key: &str) -> Lenient<T> {
    map.get(key).map_or(Lenient::Absent, Lenient::from_json)
}

/// Nested records whose every field is [`Lenient`]: readable whenever they are an object, field
/// by field, as their derived `Deserialize` would read them (and without copying the object).
macro_rules! tolerant_object {
    ($($t:ident { $($field:ident: $key:literal),* })*) => {$(
        impl Tolerant for $t {
            fn read(value: &Value) -> Option<Self> {
                let map = as_object(value)?;
                Some($t { $($field: lenient(&map, $key)),* })
            }
        }
    )*};
}
tolerant_object! {
    SessionContext {
        attributes: "attributes",
        assumed_root: "assumedRoot",
        source_identity: "sourceIdentity"
    }
    SessionAttributes {
        mfa_authenticated: "mfaAuthenticated",
        creation_date: "creationDate"
    }
    InScopeOf {
        issuer_type: "issuerType",
        issuer_account_id: "issuerAccountId",
        credentials_issued_to: "credentialsIssuedTo"
    }
}

/// Parses a time as CloudTrail (`2026-11-21T03:14:07Z`) and exporters write it: with or without
/// fractional seconds, `T` or a space between date and time, `Z`, an offset (`+02:00`, `+0200`)
/// or no zone at all (CloudTrail's times are UTC).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let text: Cow<'_, str> = match text.as_bytes().get(10) {
        Some(b' ' | b't') => format!("{}T{}", &text[..10], &text[11..]).into(),
        _ => text.into(),
    };
    DateTime::parse_from_rfc3339(&text)
        .or_else(|_| DateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// One CloudTrail record. Strict in the fields that decide ([`UserIdentity::identity_type`],
/// [`UserIdentity::invoked_by`], `eventSource`, `eventName`, `eventType`), [`Lenient`] in the rest.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudTrailRecord {
    #[serde(default)]
    pub event_version: Lenient<String>,
    pub user_identity: UserIdentity,
    #[serde(default)]
    pub event_time: Lenient<DateTime<Utc>>,
    pub event_source: String,
    pub event_name: String,
    #[serde(default)]
    pub aws_region: Lenient<String>,
    #[serde(default, rename = "sourceIPAddress")]
    pub source_ip_address: Lenient<String>,
    #[serde(default)]
    pub user_agent: Lenient<String>,
    #[serde(default)]
    pub request_parameters: Lenient<JsonObject>,
    #[serde(default)]
    pub response_elements: Lenient<JsonObject>,
    #[serde(default)]
    pub additional_event_data: Lenient<JsonObject>,
    #[serde(default)]
    pub error_code: Lenient<String>,
    #[serde(default)]
    pub error_message: Lenient<String>,
    #[serde(default, rename = "requestID")]
    pub request_id: Lenient<String>,
    #[serde(default, rename = "eventID")]
    pub event_id: Lenient<String>,
    /// Deciding: an `AwsServiceEvent` is AWS's own doing. Optional, but a string when present.
    pub event_type: Option<String>,
    #[serde(default)]
    pub recipient_account_id: Lenient<String>,
    #[serde(default)]
    pub read_only: Lenient<bool>,
    /// Whether temporary credentials came from a console session.
    #[serde(default)]
    pub session_credential_from_console: Lenient<bool>,
}

/// The `userIdentity` element, with the fields rootwatch reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity {
    /// Deciding: only `Root` is alerted on. Missing on AWS-internal calls, which AWS documents
    /// without one (KMS Developer Guide, "SynchronizeMultiRegionKey"); a string when present.
    #[serde(rename = "type", default)]
    pub identity_type: Option<String>,
    /// Deciding: set when an AWS service made the call on the principal's behalf.
    pub invoked_by: Option<String>,
    #[serde(default)]
    pub principal_id: Lenient<String>,
    #[serde(default)]
    pub arn: Lenient<String>,
    #[serde(default)]
    pub account_id: Lenient<String>,
    #[serde(default)]
    pub access_key_id: Lenient<String>,
    #[serde(default)]
    pub user_name: Lenient<String>,
    #[serde(default)]
    pub session_context: Lenient<SessionContext>,
    /// Set on root sessions started with `sts:AssumeRoot` from the management account.
    #[serde(default)]
    pub in_scope_of: Lenient<InScopeOf>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext {
    #[serde(default)]
    pub attributes: Lenient<SessionAttributes>,
    /// `"true"` on a root session started with `sts:AssumeRoot` (IAM User Guide, "Track
    /// privileged tasks in AWS CloudTrail").
    #[serde(default)]
    pub assumed_root: Lenient<bool>,
    #[serde(default)]
    pub source_identity: Lenient<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes {
    /// `"true"` or `"false"`, as text.
    #[serde(default)]
    pub mfa_authenticated: Lenient<String>,
    #[serde(default)]
    pub creation_date: Lenient<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InScopeOf {
    #[serde(default)]
    pub issuer_type: Lenient<String>,
    #[serde(default)]
    pub issuer_account_id: Lenient<String>,
    #[serde(default)]
    pub credentials_issued_to: Lenient<String>,
}

impl CloudTrailRecord {
    /// The event id, when it is well formed; ids end up in logs, links and table keys.
    pub fn valid_event_id(&self) -> Option<&str> {
        self.event_id.as_deref().filter(|id| is_event_id(id))
    }

    /// Whether the request failed: an error code or message, or a sign-in event answered with
    /// something other than `Success` under its own name (`responseElements.ConsoleLogin`,
    /// `responseElements.CheckMfa`, `responseElements.PasswordUpdated`, …). A record without any
    /// answer counts as succeeded, so an unclear record alerts at the higher severity.
    pub fn failed(&self) -> bool {
        let sign_in_refused = self
            .response_elements
            .get()
            .and_then(|r| r.get(&self.event_name))
            .and_then(Value::as_str)
            .is_some_and(|answer| !answer.eq_ignore_ascii_case("Success"));
        self.error_code.get().is_some() || self.error_message.get().is_some() || sign_in_refused
    }

    /// The record's fields that were present but unreadable, as JSON paths.
    pub fn unreadable_fields(&self) -> Vec<&'static str> {
        let identity = &self.user_identity;
        let context = identity.session_context.get();
        let attributes = context.and_then(|c| c.attributes.get());
        let scope = identity.in_scope_of.get();
        [
            ("detail.eventVersion", self.event_version.is_unreadable()),
            ("detail.eventTime", self.event_time.is_unreadable()),
            ("detail.awsRegion", self.aws_region.is_unreadable()),
            (
                "detail.sourceIPAddress",
                self.source_ip_address.is_unreadable(),
            ),
            ("detail.userAgent", self.user_agent.is_unreadable()),
            (
                "detail.requestParameters",
                self.request_parameters.is_unreadable(),
            ),
            (
                "detail.responseElements",
                self.response_elements.is_unreadable(),
            ),
            (
                "detail.additionalEventData",
                self.additional_event_data.is_unreadable(),
            ),
            ("detail.errorCode", self.error_code.is_unreadable()),
            ("detail.errorMessage", self.error_message.is_unreadable()),
            ("detail.requestID", self.request_id.is_unreadable()),
            ("detail.eventID", self.event_id.is_unreadable()),
            (
                "detail.recipientAccountId",
                self.recipient_account_id.is_unreadable(),
            ),
            ("detail.readOnly", self.read_only.is_unreadable()),
            (
                "detail.sessionCredentialFromConsole",
                self.session_credential_from_console.is_unreadable(),
            ),
            (
                "detail.userIdentity.principalId",
                identity.principal_id.is_unreadable(),
            ),
            ("detail.userIdentity.arn", identity.arn.is_unreadable()),
            (
                "detail.userIdentity.accountId",
                identity.account_id.is_unreadable(),
            ),
            (
                "detail.userIdentity.accessKeyId",
                identity.access_key_id.is_unreadable(),
            ),
            (
                "detail.userIdentity.userName",
                identity.user_name.is_unreadable(),
            ),
            (
                "detail.userIdentity.sessionContext",
                identity.session_context.is_unreadable(),
            ),
            (
                "detail.userIdentity.sessionContext.attributes",
                context.is_some_and(|c| c.attributes.is_unreadable()),
            ),
            (
                "detail.userIdentity.sessionContext.sourceIdentity",
                context.is_some_and(|c| c.source_identity.is_unreadable()),
            ),
            (
                "detail.userIdentity.sessionContext.assumedRoot",
                context.is_some_and(|c| c.assumed_root.is_unreadable()),
            ),
            (
                "detail.userIdentity.sessionContext.attributes.mfaAuthenticated",
                attributes.is_some_and(|a| a.mfa_authenticated.is_unreadable()),
            ),
            (
                "detail.userIdentity.sessionContext.attributes.creationDate",
                attributes.is_some_and(|a| a.creation_date.is_unreadable()),
            ),
            (
                "detail.userIdentity.inScopeOf",
                identity.in_scope_of.is_unreadable(),
            ),
            (
                "detail.userIdentity.inScopeOf.issuerType",
                scope.is_some_and(|s| s.issuer_type.is_unreadable()),
            ),
            (
                "detail.userIdentity.inScopeOf.issuerAccountId",
                scope.is_some_and(|s| s.issuer_account_id.is_unreadable()),
            ),
            (
                "detail.userIdentity.inScopeOf.credentialsIssuedTo",
                scope.is_some_and(|s| s.credentials_issued_to.is_unreadable()),
            ),
        ]
        .into_iter()
        .filter_map(|(path, unreadable)| unreadable.then_some(path))
        .collect()
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

/// The envelope's own fields besides `detail-type` and `detail`: none decides, so a wrong shape
/// is set aside (and reported) rather than rejecting the event. EventBridge always sets them.
const ENVELOPE_TEXT_FIELDS: [(&str, &str); 5] = [
    ("version", "version"),
    ("id", "id"),
    ("source", "source"),
    ("account", "account"),
    ("region", "region"),
];

/// The envelope, with fields the crate's type would refuse replaced: text fields of the wrong
/// type removed (`source`, which the type requires, emptied), `time` normalised or removed,
/// `resources` removed unless it is a list of strings. Clones the payload only when needed.
fn tolerable_envelope<'a>(
    payload: &'a Value,
    unreadable: &mut Vec<&'static str>,
) -> Cow<'a, Value> {
    let Value::Object(envelope) = payload else {
        return Cow::Borrowed(payload);
    };
    let mut fixed: Option<Map<String, Value>> = None;
    let mut edit = |f: &mut dyn FnMut(&mut Map<String, Value>)| {
        f(fixed.get_or_insert_with(|| envelope.clone()))
    };
    for (key, path) in ENVELOPE_TEXT_FIELDS {
        match envelope.get(key) {
            None | Some(Value::String(_)) => {}
            Some(Value::Null) if key != "source" => {}
            Some(_) => {
                unreadable.push(path);
                edit(&mut |map| {
                    map.remove(key);
                });
            }
        }
    }
    if !matches!(envelope.get("source"), Some(Value::String(_))) {
        edit(&mut |map| {
            map.insert("source".into(), Value::from(""));
        });
    }
    let strict_time = |v: &Value| {
        v.as_str()
            .is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok())
    };
    match envelope.get("time") {
        None | Some(Value::Null) => {}
        Some(value) if strict_time(value) => {}
        Some(value) => match DateTime::<Utc>::read(value) {
            Some(time) => edit(&mut |map| {
                map.insert("time".into(), Value::from(time.to_rfc3339()));
            }),
            None => {
                unreadable.push("time");
                edit(&mut |map| {
                    map.remove("time");
                });
            }
        },
    }
    match envelope.get("resources") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => {
            unreadable.push("resources");
            edit(&mut |map| {
                map.remove("resources");
            });
        }
    }
    match fixed {
        Some(map) => Cow::Owned(Value::Object(map)),
        None => Cow::Borrowed(payload),
    }
}

/// What every envelope an AWS service sends has in its `source`. Only sources beginning `aws.`
/// are reserved for AWS (EventBridge User Guide, "Amazon EventBridge events"); any principal
/// allowed `events:PutEvents` may send an envelope that looks like CloudTrail under any other.
pub const AWS_SOURCE_PREFIX: &str = "aws.";

/// Refuses an envelope that no AWS service sent: its `source` is missing, not a string, or does
/// not begin `aws.`. Checked before anything else of the envelope is read. A payload that is not
/// an object is not an envelope at all, which [`parse_event`] says.
pub fn check_source(payload: &Value) -> Result<(), EventError> {
    let Value::Object(envelope) = payload else {
        return Ok(());
    };
    let reason = match envelope.get("source") {
        Some(Value::String(source)) if source.starts_with(AWS_SOURCE_PREFIX) => return Ok(()),
        // Chosen by whoever sent it: shown plain, short and without contacts.
        Some(Value::String(source)) => format!(
            "source {:?} is not an AWS source",
            redact_contacts(&untrusted_line(source, 80))
        ),
        None | Some(Value::Null) => "the envelope has no source".to_owned(),
        Some(other) => format!("source is {}, not an AWS source", json_kind(other)),
    };
    Err(EventError::UntrustedSource {
        event_id: event_id_hint(payload),
        reason,
    })
}

/// Parses a Lambda payload into a [`ParsedEvent`].
///
/// Fails only when a deciding field is missing or unreadable: the error names its JSON path and
/// carries the event id when the envelope had one, so the log line and the on-failure record
/// can be traced back to CloudTrail.
pub fn parse_event(payload: &Value) -> Result<ParsedEvent, EventError> {
    let envelope = payload.as_object().ok_or_else(|| EventError::Malformed {
        event_id: None,
        reason: format!(
            "expected an EventBridge envelope (a JSON object), got {}",
            json_kind(payload)
        ),
    })?;
    let detail_type = match envelope.get("detail-type").and_then(Value::as_str) {
        Some(known @ (SIGN_IN_DETAIL_TYPE | API_CALL_DETAIL_TYPE)) => known,
        Some(other) => {
            return Err(EventError::Unsupported {
                event_id: event_id_hint(payload),
                detail_type: redact_contacts(&untrusted_line(other, 80)),
            });
        }
        None => {
            return Err(EventError::Malformed {
                event_id: event_id_hint(payload),
                reason: "missing string field `detail-type`".into(),
            });
        }
    };
    match read_clean_event(envelope, detail_type) {
        Some(parsed) => Ok(parsed),
        None => read_carefully(payload),
    }
}

/// The careful reading: repairs what an envelope allows (`tolerable_envelope`), then the derived
/// `Deserialize` through `serde_path_to_error`, whose path names the field an error is about.
fn read_carefully(payload: &Value) -> Result<ParsedEvent, EventError> {
    let event_id = event_id_hint(payload);
    let mut unreadable = Vec::new();
    let envelope = tolerable_envelope(payload, &mut unreadable);
    let event = serde_path_to_error::deserialize::<_, RootEvent>(&*envelope).map_err(|e| {
        let path = e.path().to_string();
        let place = if path == "." {
            "the envelope".to_owned()
        } else {
            format!("`{path}`")
        };
        EventError::Malformed {
            event_id: event_id.clone(),
            reason: format!(
                "{place}: {}",
                redact_contacts(&untrusted_line(&e.inner().to_string(), 200))
            ),
        }
    })?;
    unreadable.extend(event.detail.unreadable_fields());
    Ok(ParsedEvent { event, unreadable })
}

/// Reads an event whose envelope needs no repair and whose deciding fields are all readable —
/// every real event — straight from the JSON, without copying it into serde's data model:
/// the same [`ParsedEvent`] the careful reading in [`parse_event`] builds (`tolerable_envelope`,
/// then the derived `Deserialize` through `serde_path_to_error`), in a fraction of the time.
/// `None` for anything else, which is left to the careful reading and its errors.
fn read_clean_event(envelope: &Map<String, Value>, detail_type: &str) -> Option<ParsedEvent> {
    let mut event = RootEvent::default();
    event.version = optional_text(envelope, "version")?;
    event.id = optional_text(envelope, "id")?;
    event.detail_type = detail_type.to_owned();
    event.source = envelope.get("source")?.as_str()?.to_owned();
    event.account = optional_text(envelope, "account")?;
    event.time = match envelope.get("time") {
        None | Some(Value::Null) => None,
        Some(time) => Some(DateTime::parse_from_rfc3339(time.as_str()?).ok()?.to_utc()),
    };
    event.region = optional_text(envelope, "region")?;
    event.resources = match envelope.get("resources") {
        None | Some(Value::Null) => None,
        Some(items) => Some(
            items
                .as_array()?
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        ),
    };
    event.detail = CloudTrailRecord::read_clean(envelope.get("detail")?.as_object()?)?;
    let unreadable = event.detail.unreadable_fields();
    Some(ParsedEvent { event, unreadable })
}

/// `Some(None)` when missing or null, `Some(text)` for a string, `None` for any other value.
fn optional_text(map: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(text)) => Some(Some(text.clone())),
        Some(_) => None,
    }
}

impl CloudTrailRecord {
    /// The record as its derived `Deserialize` reads it, when every deciding field is readable.
    fn read_clean(record: &Map<String, Value>) -> Option<Self> {
        let identity = record.get("userIdentity")?.as_object()?;
        let text = |map: &Map<String, Value>, key: &str| map.get(key)?.as_str().map(str::to_owned);
        Some(CloudTrailRecord {
            event_version: lenient(record, "eventVersion"),
            user_identity: UserIdentity {
                identity_type: optional_text(identity, "type")?,
                invoked_by: optional_text(identity, "invokedBy")?,
                principal_id: lenient(identity, "principalId"),
                arn: lenient(identity, "arn"),
                account_id: lenient(identity, "accountId"),
                access_key_id: lenient(identity, "accessKeyId"),
                user_name: lenient(identity, "userName"),
                session_context: lenient(identity, "sessionContext"),
                in_scope_of: lenient(identity, "inScopeOf"),
            },
            event_time: lenient(record, "eventTime"),
            event_source: text(record, "eventSource")?,
            event_name: text(record, "eventName")?,
            aws_region: lenient(record, "awsRegion"),
            source_ip_address: lenient(record, "sourceIPAddress"),
            user_agent: lenient(record, "userAgent"),
            request_parameters: lenient(record, "requestParameters"),
            response_elements: lenient(record, "responseElements"),
            additional_event_data: lenient(record, "additionalEventData"),
            error_code: lenient(record, "errorCode"),
            error_message: lenient(record, "errorMessage"),
            request_id: lenient(record, "requestID"),
            event_id: lenient(record, "eventID"),
            event_type: optional_text(record, "eventType")?,
            recipient_account_id: lenient(record, "recipientAccountId"),
            read_only: lenient(record, "readOnly"),
            session_credential_from_console: lenient(record, "sessionCredentialFromConsole"),
        })
    }
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
    use crate::samples::{every_sample, sample};
    use aws_lambda_events::cloudwatch_events::{cloudtrail::AWSAPICall, signin::SignIn};
    use serde_json::json;

    /// Each sample, and each with one field (at any depth up to four) removed or replaced by a
    /// value of another JSON kind or an odd but readable form.
    fn mutations(sample: &Value) -> Vec<Value> {
        fn paths(
            value: &Value,
            prefix: &mut Vec<String>,
            depth: usize,
            out: &mut Vec<Vec<String>>,
        ) {
            if let (Some(map), true) = (value.as_object(), depth < 4) {
                for (key, child) in map {
                    prefix.push(key.clone());
                    out.push(prefix.clone());
                    paths(child, prefix, depth + 1, out);
                    prefix.pop();
                }
            }
        }
        let replacements = [
            None,
            Some(Value::Null),
            Some(json!(7)),
            Some(json!(1_779_000_000_000_i64)),
            Some(json!(true)),
            Some(json!("")),
            Some(json!("Yes")),
            Some(json!("2026-11-21 03:14:07+02:00")),
            Some(json!("2026-11-21T03:14:07.5Z")),
            Some(json!([])),
            Some(json!(["x"])),
            Some(json!({})),
            Some(json!({"type": "Root"})),
            Some(json!(-3)),
            Some(json!(1.5)),
            Some(json!(u64::MAX)),
            // Milliseconds from the year 33658: a time no RFC 3339 text can hold.
            Some(json!(1_000_000_000_000_000_i64)),
            Some(json!("True")),
            Some(json!(" FALSE ")),
            Some(json!("2026-11-21t03:14:07z")),
            Some(json!("{\"type\": \"Root\"}")),
            Some(json!("[1]")),
            // Read field by field, in order, wherever a record is expected.
            Some(json!([
                "1.08",
                ["Root", null],
                "2026-11-21T03:14:07Z",
                "signin.amazonaws.com",
                "ConsoleLogin"
            ])),
        ];
        let mut all = Vec::new();
        paths(sample, &mut Vec::new(), 0, &mut all);
        let mut out = vec![sample.clone()];
        for path in &all {
            // The field's own value, re-encoded as a JSON string, as exporters do.
            let pointer: String = path
                .iter()
                .map(|key| format!("/{}", key.replace('~', "~0").replace('/', "~1")))
                .collect();
            let encoded = sample
                .pointer(&pointer)
                .map(|value| Some(Value::String(value.to_string())));
            for replacement in replacements.iter().chain(&encoded) {
                let mut variant = sample.clone();
                let (last, parents) = path.split_last().unwrap();
                let parent = parents
                    .iter()
                    .fold(&mut variant, |v, key| &mut v[key.as_str()])
                    .as_object_mut()
                    .unwrap();
                match replacement {
                    None => {
                        parent.remove(last);
                    }
                    Some(value) => {
                        parent.insert(last.clone(), value.clone());
                    }
                }
                out.push(variant);
            }
        }
        out
    }

    /// What the pure pipeline makes of one payload, as text: the parsed event (serialised, with
    /// its unreadable fields) or the parse error, then the core's decision — every text of a
    /// notification, the structured alert, the root session, or the reason to ignore, or the
    /// error. Built from outputs only, so renaming a type changes nothing here.
    fn pipeline_outputs(payload: &Value, config: &crate::config::Config) -> String {
        use crate::handler::{Decision, decide};
        use crate::render::notification::Notification;
        use std::fmt::Write as _;
        let mut out = String::new();
        match parse_event(payload) {
            Ok(parsed) => {
                // Through `Value`, so keys are sorted: the order a type declares them in is no output.
                let event = serde_json::to_value(&parsed.event).expect("serialisable");
                let _ = writeln!(out, "parsed {event}\nunreadable {:?}", parsed.unreadable);
            }
            Err(e) => {
                let _ = writeln!(out, "parse error {e} (event id {:?})", e.event_id());
            }
        }
        let shown = |out: &mut String, n: &Notification| {
            let _ = write!(
                out,
                "event id {:?}\nseverity {}\nkind {}\npage {}\nsubject {}\nsms {}\n\
                 email\n{}\nalert {}\nchat {}\n",
                n.event_id,
                n.severity.as_str(),
                n.kind.as_str(),
                n.page,
                n.subject.as_str(),
                n.sms.as_str(),
                n.email_body,
                n.alert_json,
                n.chat_json,
            );
        };
        match decide(payload, config) {
            Ok(Decision::Alert {
                alert,
                notification,
            }) => {
                let _ = writeln!(out, "alert, session {}", alert.root_session());
                shown(&mut out, &notification);
            }
            Ok(Decision::ForwarderFailing { notification, .. }) => {
                out.push_str("forwarder failing\n");
                shown(&mut out, &notification);
            }
            Ok(Decision::Ignore { event_id, reason }) => {
                let _ = writeln!(out, "ignored {event_id:?}: {reason}");
            }
            Err(e) => {
                let _ = writeln!(out, "error {e} (event id {:?})", e.event_id());
            }
        }
        out
    }

    /// The digests [`outputs_are_pinned`] holds the pipeline to, one line per sample.
    const PINNED_OUTPUTS: &str = "src/detect/pipeline-outputs.sha256";

    /// Every output of the pure pipeline (see [`pipeline_outputs`]) for every sample under
    /// `events/` and each of its [`mutations`] — some 48,000 payloads — is pinned by a SHA-256
    /// digest per sample in `src/detect/pipeline-outputs.sha256`, and all of them by the last line.
    /// A change to how events are read or rendered that changes no output passes; one that
    /// changes any output fails, naming the samples whose outputs changed.
    ///
    /// To see which payload changed: run this test with `PIPELINE_OUTPUTS=<dir>` before and
    /// after the change (one text file per sample: each payload, then its outputs) and `diff -r`
    /// the two directories. When the change is intended and reviewed, `PIPELINE_OUTPUTS_UPDATE=1`
    /// rewrites the digests; commit them with the change and say why they moved.
    #[test]
    fn outputs_are_pinned() {
        use sha2::{Digest, Sha256};
        use std::fmt::Write as _;
        let config = crate::config::Config::from_lookup(|name| match name {
            "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts".into()),
            "ACCOUNT_NAMES" => Some("111122223333=prod-payments".into()),
            "RUNBOOK_URL" => Some("https://wiki.example.com/runbooks/root".into()),
            _ => None,
        })
        .expect("valid configuration");
        let dump = std::env::var_os("PIPELINE_OUTPUTS").map(std::path::PathBuf::from);
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (mut lines, mut all, mut payloads) = (String::new(), Sha256::new(), 0);
        for (path, sample) in every_sample() {
            let name = path
                .strip_prefix(root.join("events"))
                .expect("under events/")
                .to_string_lossy()
                .into_owned();
            let mut digest = Sha256::new();
            let mut text = String::new();
            let variants = mutations(&sample);
            for payload in &variants {
                let outputs = pipeline_outputs(payload, &config);
                digest.update(outputs.as_bytes());
                digest.update(b"\0");
                if dump.is_some() {
                    let _ = write!(text, "=== {payload}\n{outputs}");
                }
            }
            payloads += variants.len();
            let digest = digest.finalize();
            all.update(digest);
            let _ = writeln!(lines, "{digest:x}  {name} ({} payloads)", variants.len());
            if let Some(dir) = &dump {
                let file = dir.join(name.replace('/', "--") + ".txt");
                std::fs::create_dir_all(dir).expect("output directory");
                std::fs::write(file, text).expect("writable output directory");
            }
        }
        let _ = writeln!(lines, "{:x}  all ({payloads} payloads)", all.finalize());
        let pinned_path = root.join(PINNED_OUTPUTS);
        if std::env::var_os("PIPELINE_OUTPUTS_UPDATE").is_some() {
            std::fs::write(&pinned_path, &lines).expect("writable digests");
        }
        let pinned = std::fs::read_to_string(&pinned_path).unwrap_or_default();
        let changed: Vec<&str> = lines
            .lines()
            .filter(|line| !pinned.lines().any(|p| p == *line))
            .collect();
        assert!(
            changed.is_empty() && pinned.lines().count() == lines.lines().count(),
            "the pipeline's outputs changed for:\n{}\nsee this test's doc to find the payloads \
             (PIPELINE_OUTPUTS) or, if intended, to update {PINNED_OUTPUTS}",
            changed.join("\n")
        );
        assert!(payloads > 40_000, "{payloads} payloads");
    }

    /// The quick reading of clean events is an optimisation only: whenever it reads an event,
    /// the careful reading (repairs, then the derived `Deserialize`) reads exactly the same.
    #[test]
    fn the_quick_reading_agrees_with_the_careful_one() {
        let (mut quick, mut careful_only) = (0, 0);
        for (_, original) in every_sample() {
            for variant in mutations(&original) {
                let Some(envelope) = variant.as_object() else {
                    continue;
                };
                let Some(detail_type) = envelope
                    .get("detail-type")
                    .and_then(Value::as_str)
                    .filter(|t| [SIGN_IN_DETAIL_TYPE, API_CALL_DETAIL_TYPE].contains(t))
                else {
                    continue;
                };
                match read_clean_event(envelope, detail_type) {
                    Some(fast) => {
                        quick += 1;
                        assert_eq!(Ok(fast), read_carefully(&variant), "{variant}");
                    }
                    None => careful_only += 1,
                }
                assert_eq!(parse_event(&variant), read_carefully(&variant), "{variant}");
            }
        }
        // Both readings were exercised, many times over.
        assert!(
            quick > 5_000 && careful_only > 500,
            "{quick} quick, {careful_only} careful"
        );
    }

    /// Why the project has its own record type: the crate's API-call type needs `requestID`.
    #[test]
    fn crate_api_call_type_rejects_real_sign_in_records() {
        let event = sample("root-console-sign-in-without-mfa");
        let err = serde_json::from_value::<AWSAPICall>(event["detail"].clone()).unwrap_err();
        assert!(err.to_string().contains("requestID"), "{err}");
        assert!(parse_event(&event).is_ok());
    }

    /// Why the project has its own record type: the crate's sign-in type needs `ConsoleLogin`
    /// and a full `additionalEventData`, which password-recovery records lack.
    #[test]
    fn crate_sign_in_type_rejects_real_password_recovery_records() {
        let mut event = sample("root-password-recovery-requested");
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
        let event = sample("root-api-call-with-long-term-access-key");
        let theirs = serde_json::to_value(
            serde_json::from_value::<AWSAPICall>(event["detail"].clone()).unwrap(),
        )
        .unwrap();
        assert!(theirs["userIdentity"].get("accessKeyId").is_none());
        let ours = parse_event(&event).unwrap();
        assert_eq!(
            ours.event.detail.user_identity.access_key_id.as_deref(),
            Some("AKIAIOSFODNN7EXAMPLE")
        );
    }

    #[test]
    fn wrong_type_names_the_path_and_keeps_the_event_id() {
        let mut event = sample("root-console-sign-in-with-mfa");
        event["detail"]["userIdentity"]["type"] = Value::from(7);
        let err = parse_event(&event).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("detail.userIdentity.type"), "{text}");
        assert_eq!(err.event_id(), event["detail"]["eventID"].as_str());
    }

    /// Only `aws.` sources pass; what a forger chose is shown plain, on one line, without contacts.
    #[test]
    fn only_aws_sources_pass_and_forged_ones_are_named_safely() {
        let event = sample("root-cloudtrail-logging-stopped");
        assert_eq!(check_source(&event), Ok(()));
        assert_eq!(check_source(&Value::from("not an envelope")), Ok(()));
        for (source, shown) in [
            (json!("com.example.forged"), "source \"com.example.forged\""),
            (json!("aws"), "source \"aws\""),
            (json!("AWS.cloudtrail"), "source \"AWS.cloudtrail\""),
            (json!(" aws.cloudtrail"), "source \"aws.cloudtrail\""),
            (
                json!("x\n\u{202e}mail ops@example.com"),
                "source \"x mail [redacted]\"",
            ),
            (json!(7), "source is a number"),
            (json!(["aws.cloudtrail"]), "source is an array"),
            (Value::Null, "the envelope has no source"),
        ] {
            let mut forged = event.clone();
            forged["source"] = source.clone();
            let err = check_source(&forged).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(shown), "{source}: {text}");
            assert!(!text.contains('\n') && !text.contains('\u{202e}'), "{text}");
            assert_eq!(err.event_id(), Some("a5d6e7f8-b4c5-46d7-a293-e1f2a3b4c5d6"));
        }
        let mut removed = event.clone();
        removed.as_object_mut().unwrap().remove("source");
        assert!(check_source(&removed).is_err());
    }

    #[test]
    fn hostile_event_ids_are_not_echoed() {
        let payload = serde_json::json!({"id": "x\n\u{202e}evil", "detail-type": 5});
        let err = parse_event(&payload).unwrap_err();
        assert_eq!(err.event_id(), None);
    }

    #[test]
    fn failure_is_an_error_or_a_refused_sign_in() {
        let ok = sample("root-console-sign-in-without-mfa");
        let mut record = parse_event(&ok).unwrap().event.detail;
        assert!(!record.failed());
        record.response_elements = Lenient::Absent;
        assert!(!record.failed(), "no answer is not a failure");
        record.response_elements = Lenient::from_json(&json!({"ConsoleLogin": "Failure"}));
        assert!(record.failed());
        record.response_elements = Lenient::Absent;
        record.error_code = Lenient::Read("AccessDenied".into());
        assert!(record.failed());
    }

    #[test]
    fn non_object_payload_is_malformed() {
        let err = parse_event(&Value::from("hello")).unwrap_err();
        assert!(err.to_string().contains("got a string"), "{err}");
    }

    /// The shapes exporters and older schema versions write, seen in public detection-rule test
    /// corpora: all read, none an error.
    #[test]
    fn known_variants_are_data_not_errors() {
        let mut event = sample("root-api-call-from-console-session");
        let detail = &mut event["detail"];
        detail["sessionCredentialFromConsole"] = json!(true);
        detail["readOnly"] = json!("True");
        detail["eventTime"] = json!("2026-11-21 03:20:18.000");
        detail["requestParameters"] = json!("{\"userName\": \"alice\"}");
        detail["additionalEventData"] = json!("{\"MFAUsed\": \"Yes\"}");
        detail["recipientAccountId"] = json!(111122223333u64);
        let parsed = parse_event(&event).unwrap();
        let record = &parsed.event.detail;
        assert_eq!(parsed.unreadable, Vec::<&str>::new());
        assert_eq!(record.session_credential_from_console.get(), Some(&true));
        assert_eq!(record.read_only.get(), Some(&true));
        assert_eq!(
            record.event_time.get().map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-11-21T03:20:18+00:00")
        );
        let params = record.request_parameters.get().unwrap();
        assert_eq!(params.get("userName"), Some(&json!("alice")));
        assert_eq!(record.recipient_account_id.as_deref(), Some("111122223333"));
    }

    #[test]
    fn times_in_every_common_form() {
        let expected: DateTime<Utc> = "2026-11-21T03:14:07Z".parse().unwrap();
        for text in [
            "2026-11-21T03:14:07Z",
            "2026-11-21T03:14:07.000Z",
            "2026-11-21 03:14:07",
            "2026-11-21 03:14:07Z",
            "2026-11-21T03:14:07",
            "2026-11-21T05:14:07+02:00",
            "2026-11-21T05:14:07+0200",
            "2026-11-21 03:14:07.000000",
        ] {
            let got = parse_time(text);
            assert_eq!(got, Some(expected), "{text}");
        }
        assert_eq!(
            DateTime::<Utc>::read(&json!(expected.timestamp())),
            Some(expected)
        );
        assert_eq!(
            DateTime::<Utc>::read(&json!(expected.timestamp_millis())),
            Some(expected)
        );
        for bad in ["yesterday at 3", "redacted", "", "2026-13-01T00:00:00Z"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    /// A secondary field in a shape nobody can read is reported, not fatal.
    #[test]
    fn unreadable_secondary_fields_are_listed_not_fatal() {
        let mut event = sample("root-console-sign-in-without-mfa");
        event["time"] = json!({"not": "a time"});
        event["account"] = json!(42);
        event["detail"]["eventTime"] = json!("yesterday at 3");
        event["detail"]["readOnly"] = json!([1]);
        event["detail"]["userIdentity"]["sessionContext"] = json!(7);
        event["detail"]["responseElements"] = json!("not json");
        let parsed = parse_event(&event).unwrap();
        assert_eq!(
            parsed.unreadable,
            [
                "account",
                "time",
                "detail.eventTime",
                "detail.responseElements",
                "detail.readOnly",
                "detail.userIdentity.sessionContext"
            ]
        );
        assert_eq!(parsed.event.time, None);
        assert_eq!(parsed.event.account, None);
    }

    /// AWS documents records of its own internal calls without `userIdentity.type`: such a
    /// record is read (and then ignored), not rejected; a type that is present must be a string.
    #[test]
    fn a_missing_identity_type_is_read_and_a_present_one_must_be_a_string() {
        let mut event = sample("root-api-call-from-console-session");
        let identity = event["detail"]["userIdentity"].as_object_mut().unwrap();
        identity.remove("type");
        let parsed = parse_event(&event).unwrap();
        assert_eq!(parsed.event.detail.user_identity.identity_type, None);
        assert_eq!(parsed.unreadable, Vec::<&str>::new());
        event["detail"]["userIdentity"]["type"] = Value::Null;
        assert!(parse_event(&event).is_ok());
        event["detail"]["userIdentity"]["type"] = json!(["Root"]);
        assert!(parse_event(&event).is_err());
    }

    /// Only the fields that decide can reject an event.
    #[test]
    fn deciding_fields_must_be_readable() {
        let event = sample("root-api-call-from-console-session");
        for (pointer, path) in [
            ("/detail/userIdentity/type", "detail.userIdentity.type"),
            (
                "/detail/userIdentity/invokedBy",
                "detail.userIdentity.invokedBy",
            ),
            ("/detail/eventSource", "detail.eventSource"),
            ("/detail/eventName", "detail.eventName"),
            ("/detail/eventType", "detail.eventType"),
        ] {
            let mut broken = event.clone();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            broken
                .pointer_mut(parent)
                .and_then(Value::as_object_mut)
                .unwrap()
                .insert(key.into(), json!({"wrong": "type"}));
            let err = parse_event(&broken).unwrap_err();
            assert!(err.to_string().contains(path), "{pointer}: {err}");
        }
    }
}
