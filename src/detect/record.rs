//! The event model: the EventBridge envelope and the CloudTrail record it carries, and how a
//! payload is read into them.
//!
//! An alarm must fail towards alerting, so the reading is strict only where it must be. The few
//! fields that decide whether an event is a root event to alert on — the envelope's
//! `detail-type`, and `userIdentity.type`, `userIdentity.invokedBy`, `eventSource`, `eventName`
//! and `eventType` — must be readable, or the event is rejected with an error naming the field.
//! (`userIdentity.type`, `invokedBy` and `eventType` may be missing: AWS documents records of its
//! own internal calls without a `type`, and every root record has one.) The envelope's `source`
//! is checked before anything else ([`check_source`]).
//! Every other field is [`Lenient`]: a wrong JSON type, an object re-encoded as a JSON string, a
//! boolean written as `"True"` or a time in another common form is read when it can be and
//! otherwise becomes "unreadable", which the alert reports instead of failing. CloudTrail's
//! schema has grown from `eventVersion` 1.0 to 1.11, and exporters re-encode records; neither,
//! nor an attacker who can shape a field, may silence the alarm.
//!
//! **One reading.** Each record type is declared once, with `record!`: a field's Rust name,
//! type and JSON key, in one line. From that line serde derives the reading (a strict type such
//! as `String` rejects a wrong shape; a [`Lenient`] one never does) and the macro derives the
//! field's place in the unreadable-field report. The payload is read in place, borrowing its
//! text; only an event that fails is read a second time, through `serde_path_to_error`, to name
//! the field its error is about.
//!
//! The envelope handed on is `aws_lambda_events`' [`EventBridgeEvent`], built from the tolerant
//! `Envelope` read here. The record is the project's own [`CloudTrailRecord`], because the
//! crate's CloudTrail types reject or drop shapes that real root events have (see the tests at
//! the bottom of this file):
//! - `cloudtrail::AWSAPICall` requires `requestID`, which console sign-in records never carry;
//! - `signin::SignIn` requires `responseElements.ConsoleLogin` and `additionalEventData.LoginTo`,
//!   which password-recovery records do not have;
//! - neither `UserIdentity` keeps `accessKeyId` (the only way to tell a long-term root key `AKIA…`
//!   from a console session `ASIA…`) or `inScopeOf` (how an `sts:AssumeRoot` session is marked).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{DeserializeOwned, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::sanitize::{quoted_exactly, redact_contacts, untrusted_line};

/// An event that cannot become an alert, whatever is retried.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("malformed event{}: {reason}", id_suffix(event_id))]
    Malformed {
        event_id: Option<String>,
        reason: String,
    },
    #[error(
        "unsupported event{}: detail-type {detail_type:?} is not a CloudTrail sign-in or API call; \
         check the EventBridge rule that targets this function",
        id_suffix(event_id)
    )]
    Unsupported {
        event_id: Option<String>,
        detail_type: String,
    },
    /// The envelope's `source` is not AWS's: anyone allowed `events:PutEvents` on a bus that
    /// reaches the function could have sent it.
    #[error(
        "untrusted event{}: {reason} (only sources beginning \"aws.\" are reserved for AWS); \
         refused, nothing published: check who may put events on the bus or invoke the function",
        id_suffix(event_id)
    )]
    UntrustedSource {
        event_id: Option<String>,
        /// What the envelope had instead, sanitised: `source "com.example" is not an AWS
        /// source`, or `the envelope has no source`.
        reason: String,
    },
}

impl EventError {
    /// The CloudTrail or EventBridge id of the event, when the payload had a well-formed one.
    pub fn event_id(&self) -> Option<&str> {
        match self {
            EventError::Malformed { event_id, .. }
            | EventError::Unsupported { event_id, .. }
            | EventError::UntrustedSource { event_id, .. } => event_id.as_deref(),
        }
    }
}

fn id_suffix(event_id: &Option<String>) -> String {
    event_id
        .as_deref()
        .map(|id| format!(" {id}"))
        .unwrap_or_default()
}

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
    /// JSON paths such as `detail.eventTime`, in a stable order: each record's own fields in the
    /// order it declares them, then the fields of the records nested in it.
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

    fn into_read(self) -> Option<T> {
        match self {
            Lenient::Read(value) => Some(value),
            _ => None,
        }
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

impl<T: Tolerant> Lenient<T> {
    /// Reads a JSON value as the field would be read from an event.
    pub fn from_json(value: &Value) -> Self {
        // Reading a lenient field cannot fail; only its shape decides Read or Unreadable.
        Self::deserialize(value).unwrap_or(Lenient::Unreadable)
    }
}

/// How a [`Lenient`] field reads each JSON shape: `None`, the default for every shape, makes the
/// field unreadable. Nothing here can reject an event.
pub trait Tolerant: Sized {
    /// What `null` reads as: absent, for every field but one that must hold a value.
    fn from_null() -> Lenient<Self> {
        Lenient::Absent
    }

    fn from_text(_text: &str) -> Option<Self> {
        None
    }

    fn from_number(_number: Number) -> Option<Self> {
        None
    }

    fn from_bool(_value: bool) -> Option<Self> {
        None
    }

    /// Reads a JSON object's entries; whatever is not read is skipped.
    fn from_object<'de, A: MapAccess<'de>>(mut object: A) -> Result<Option<Self>, A::Error> {
        while object.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    /// Reads a JSON array's items; whatever is not read is skipped.
    fn from_list<'de, A: SeqAccess<'de>>(mut list: A) -> Result<Option<Self>, A::Error> {
        while list.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de, T: Tolerant> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

/// Hands each JSON shape to [`Tolerant`], without copying it first.
struct LenientVisitor<T>(PhantomData<T>);

impl<'de, T: Tolerant> Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(T::from_null())
    }

    fn visit_bool<E>(self, value: bool) -> Result<Self::Value, E> {
        Ok(read(T::from_bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Self::Value, E> {
        Ok(read(T::from_number(value.into())))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Self::Value, E> {
        Ok(read(T::from_number(value.into())))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Self::Value, E> {
        Ok(read(Number::from_f64(value).and_then(T::from_number)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(read(T::from_text(text)))
    }

    fn visit_map<A: MapAccess<'de>>(self, object: A) -> Result<Self::Value, A::Error> {
        T::from_object(object).map(read)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, list: A) -> Result<Self::Value, A::Error> {
        T::from_list(list).map(read)
    }
}

fn read<T>(value: Option<T>) -> Lenient<T> {
    value.map_or(Lenient::Unreadable, Lenient::Read)
}

/// Text: a string, or a number or boolean written as text.
impl Tolerant for String {
    fn from_text(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }

    fn from_number(number: Number) -> Option<Self> {
        Some(number.to_string())
    }

    fn from_bool(value: bool) -> Option<Self> {
        Some(value.to_string())
    }
}

/// A JSON string and nothing else: the envelope's own fields, which EventBridge writes.
struct JsonString(String);

impl Tolerant for JsonString {
    fn from_text(text: &str) -> Option<Self> {
        Some(JsonString(text.to_owned()))
    }
}

/// The envelope's `source`, a string its type requires: `null` cannot stand for it, so it is
/// unreadable like any other value that is not a string (and the event refused before it is
/// read, by [`check_source`]).
struct Source(String);

impl Tolerant for Source {
    fn from_null() -> Lenient<Self> {
        Lenient::Unreadable
    }

    fn from_text(text: &str) -> Option<Self> {
        Some(Source(text.to_owned()))
    }
}

/// A list of strings, every item a string.
impl Tolerant for Vec<String> {
    fn from_list<'de, A: SeqAccess<'de>>(mut list: A) -> Result<Option<Self>, A::Error> {
        let (mut items, mut all_text) = (Vec::new(), true);
        while let Some(item) = list.next_element::<Lenient<JsonString>>()? {
            match item {
                Lenient::Read(JsonString(text)) if all_text => items.push(text),
                _ => all_text = false,
            }
        }
        Ok(all_text.then_some(items))
    }
}

/// `true`/`false`, also as `"true"`, `"True"`, `"TRUE"` and the like.
impl Tolerant for bool {
    fn from_bool(value: bool) -> Option<Self> {
        Some(value)
    }

    fn from_text(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("true") {
            Some(true)
        } else if text.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }
}

/// A time in any of the forms CloudTrail and its exporters write (see [`parse_time`]), or
/// seconds or milliseconds since the epoch.
impl Tolerant for DateTime<Utc> {
    fn from_text(text: &str) -> Option<Self> {
        parse_time(text)
    }

    fn from_number(number: Number) -> Option<Self> {
        let n = number.as_i64()?;
        if n > 100_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else {
            DateTime::from_timestamp(n, 0)
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

impl Tolerant for JsonObject {
    fn from_object<'de, A: MapAccess<'de>>(object: A) -> Result<Option<Self>, A::Error> {
        Map::deserialize(MapAccessDeserializer::new(object)).map(|map| Some(JsonObject(map)))
    }

    fn from_text(text: &str) -> Option<Self> {
        object_in_text(text).map(JsonObject)
    }
}

/// The object a string holds, when it holds one.
fn object_in_text(text: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// A record whose every field is [`Lenient`]: read field by field from any JSON object, also one
/// re-encoded as a JSON string, so it is never an error (nor is anything in it).
trait Nested: DeserializeOwned {}

impl<T: Nested> Tolerant for T {
    fn from_object<'de, A: MapAccess<'de>>(object: A) -> Result<Option<Self>, A::Error> {
        T::deserialize(MapAccessDeserializer::new(object)).map(Some)
    }

    fn from_text(text: &str) -> Option<Self> {
        T::deserialize(Value::Object(object_in_text(text)?)).ok()
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

/// What a field adds to the unreadable-field report: a [`Lenient`] field itself, when it was
/// unreadable; a record, the fields inside it (`record!` writes that part).
trait Report {
    fn is_unreadable(&self) -> bool {
        false
    }

    /// Appends the JSON paths of the unreadable fields inside.
    fn unreadable_inside(&self, _paths: &mut Vec<&'static str>) {}
}

impl<T: Report> Report for Lenient<T> {
    fn is_unreadable(&self) -> bool {
        Lenient::is_unreadable(self)
    }

    fn unreadable_inside(&self, paths: &mut Vec<&'static str>) {
        if let Lenient::Read(inner) = self {
            inner.unreadable_inside(paths);
        }
    }
}

impl Report for String {}
impl Report for Option<String> {}
impl Report for bool {}
impl Report for DateTime<Utc> {}
impl Report for JsonObject {}
impl Report for JsonString {}
impl Report for Source {}
impl Report for Vec<String> {}

/// Declares a record type: each field once, as `name: Type = "jsonKey"` under its doc and serde
/// attributes. serde's derived `Deserialize` reads it (under that key); the report lists, for a
/// record at `at`, its own unreadable fields in the order they are declared, then those inside
/// the records it holds.
macro_rules! record {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident at $at:literal {
            $(
                $(#[$field_meta:meta])*
                $field_vis:vis $field:ident: $type:ty = $key:literal
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $(
                $(#[$field_meta])*
                #[serde(rename = $key)]
                $field_vis $field: $type,
            )*
        }

        impl Report for $name {
            fn unreadable_inside(&self, paths: &mut Vec<&'static str>) {
                $(
                    if Report::is_unreadable(&self.$field) {
                        paths.push(concat!($at, $key));
                    }
                )*
                $(Report::unreadable_inside(&self.$field, paths);)*
            }
        }
    };
}

record! {
    /// The envelope as it arrives. Its own fields do not decide, so a wrong shape is set aside
    /// and reported rather than rejecting the event (EventBridge always sets them); `source` was
    /// checked before ([`check_source`]) and `detail-type` is read by [`parse_event`].
    #[derive(Deserialize)]
    struct Envelope at "" {
        #[serde(default)]
        version: Lenient<JsonString> = "version",
        #[serde(default)]
        id: Lenient<JsonString> = "id",
        #[serde(default)]
        source: Lenient<Source> = "source",
        #[serde(default)]
        account: Lenient<JsonString> = "account",
        #[serde(default)]
        region: Lenient<JsonString> = "region",
        #[serde(default)]
        time: Lenient<DateTime<Utc>> = "time",
        #[serde(default)]
        resources: Lenient<Vec<String>> = "resources",
        detail: CloudTrailRecord = "detail",
    }
}

// The order of the strict records' fields is part of their reading: serde also reads a record
// from a JSON array, item by item, and its errors count the items.
record! {
    /// One CloudTrail record. Strict in the fields that decide ([`UserIdentity::identity_type`],
    /// [`UserIdentity::invoked_by`], `eventSource`, `eventName`, `eventType`), [`Lenient`] in the
    /// rest.
    #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
    pub struct CloudTrailRecord at "detail." {
        #[serde(default)]
        pub event_version: Lenient<String> = "eventVersion",
        pub user_identity: UserIdentity = "userIdentity",
        #[serde(default)]
        pub event_time: Lenient<DateTime<Utc>> = "eventTime",
        pub event_source: String = "eventSource",
        pub event_name: String = "eventName",
        #[serde(default)]
        pub aws_region: Lenient<String> = "awsRegion",
        #[serde(default)]
        pub source_ip_address: Lenient<String> = "sourceIPAddress",
        #[serde(default)]
        pub user_agent: Lenient<String> = "userAgent",
        #[serde(default)]
        pub request_parameters: Lenient<JsonObject> = "requestParameters",
        #[serde(default)]
        pub response_elements: Lenient<JsonObject> = "responseElements",
        #[serde(default)]
        pub additional_event_data: Lenient<JsonObject> = "additionalEventData",
        #[serde(default)]
        pub error_code: Lenient<String> = "errorCode",
        #[serde(default)]
        pub error_message: Lenient<String> = "errorMessage",
        #[serde(default)]
        pub request_id: Lenient<String> = "requestID",
        #[serde(default)]
        pub event_id: Lenient<String> = "eventID",
        /// Deciding: an `AwsServiceEvent` is AWS's own doing. Optional, but a string when present.
        pub event_type: Option<String> = "eventType",
        #[serde(default)]
        pub recipient_account_id: Lenient<String> = "recipientAccountId",
        #[serde(default)]
        pub read_only: Lenient<bool> = "readOnly",
        /// Whether temporary credentials came from a console session.
        #[serde(default)]
        pub session_credential_from_console: Lenient<bool> = "sessionCredentialFromConsole",
    }
}

record! {
    /// The `userIdentity` element, with the fields rootwatch reads.
    #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
    pub struct UserIdentity at "detail.userIdentity." {
        /// Deciding: only `Root` is alerted on. Missing on AWS-internal calls, which AWS documents
        /// without one (KMS Developer Guide, "SynchronizeMultiRegionKey"); a string when present.
        #[serde(default)]
        pub identity_type: Option<String> = "type",
        /// Deciding: set when an AWS service made the call on the principal's behalf.
        pub invoked_by: Option<String> = "invokedBy",
        #[serde(default)]
        pub principal_id: Lenient<String> = "principalId",
        #[serde(default)]
        pub arn: Lenient<String> = "arn",
        #[serde(default)]
        pub account_id: Lenient<String> = "accountId",
        #[serde(default)]
        pub access_key_id: Lenient<String> = "accessKeyId",
        #[serde(default)]
        pub user_name: Lenient<String> = "userName",
        #[serde(default)]
        pub session_context: Lenient<SessionContext> = "sessionContext",
        /// Set on root sessions started with `sts:AssumeRoot` from the management account.
        #[serde(default)]
        pub in_scope_of: Lenient<InScopeOf> = "inScopeOf",
    }
}

record! {
    /// `userIdentity.sessionContext`: the session temporary credentials belong to.
    #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
    #[serde(default)]
    pub struct SessionContext at "detail.userIdentity.sessionContext." {
        pub attributes: Lenient<SessionAttributes> = "attributes",
        pub source_identity: Lenient<String> = "sourceIdentity",
        /// `"true"` on a root session started with `sts:AssumeRoot` (IAM User Guide, "Track
        /// privileged tasks in AWS CloudTrail").
        pub assumed_root: Lenient<bool> = "assumedRoot",
    }
}

record! {
    /// `sessionContext.attributes`.
    #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
    #[serde(default)]
    pub struct SessionAttributes at "detail.userIdentity.sessionContext.attributes." {
        /// `"true"` or `"false"`, as text.
        pub mfa_authenticated: Lenient<String> = "mfaAuthenticated",
        pub creation_date: Lenient<String> = "creationDate",
    }
}

record! {
    /// `userIdentity.inScopeOf`: for an `sts:AssumeRoot` session, whom it was issued to.
    #[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
    #[serde(default)]
    pub struct InScopeOf at "detail.userIdentity.inScopeOf." {
        pub issuer_type: Lenient<String> = "issuerType",
        pub issuer_account_id: Lenient<String> = "issuerAccountId",
        pub credentials_issued_to: Lenient<String> = "credentialsIssuedTo",
    }
}

impl Nested for SessionContext {}
impl Nested for SessionAttributes {}
impl Nested for InScopeOf {}

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
        // Chosen by whoever sent it: shown exactly (a look-alike differs from `aws.` only by what
        // a plain line would hide, such as a leading space), short, and without contacts.
        Some(Value::String(source)) => format!(
            "source {} is not an AWS source",
            redact_contacts(&quoted_exactly(source, 80))
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
    let envelope = Envelope::deserialize(payload).map_err(|e| locate_error(payload, e))?;
    let mut unreadable = Vec::new();
    envelope.unreadable_inside(&mut unreadable);
    let text = |field: Lenient<JsonString>| field.into_read().map(|JsonString(text)| text);
    let mut event = RootEvent::default();
    event.version = text(envelope.version);
    event.id = text(envelope.id);
    event.detail_type = detail_type.to_owned();
    event.source = envelope
        .source
        .into_read()
        .map_or_else(String::new, |Source(text)| text);
    event.account = text(envelope.account);
    event.time = envelope.time.into_read();
    event.region = text(envelope.region);
    event.resources = envelope.resources.into_read();
    event.detail = envelope.detail;
    Ok(ParsedEvent { event, unreadable })
}

/// The error of an event that could not be read, naming its field: the same reading again,
/// through `serde_path_to_error`, which notes the path as it goes (so only a failing event pays
/// for it).
fn locate_error(payload: &Value, error: serde_json::Error) -> EventError {
    let (path, error) = match serde_path_to_error::deserialize::<_, Envelope>(payload) {
        Err(located) => (located.path().to_string(), located.into_inner()),
        Ok(_) => (".".to_owned(), error),
    };
    let place = if path == "." {
        "the envelope".to_owned()
    } else {
        format!("`{path}`")
    };
    EventError::Malformed {
        event_id: event_id_hint(payload),
        reason: format!(
            "{place}: {}",
            redact_contacts(&untrusted_line(&error.to_string(), 200))
        ),
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
            Ok(Decision::Heartbeat(heartbeat)) => {
                let _ = writeln!(out, "heartbeat {heartbeat:?}");
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
    /// `events/` and each of its [`mutations`] — some 57,000 payloads — is pinned by a SHA-256
    /// digest per sample in `src/detect/pipeline-outputs.sha256`, and all of them by the last line.
    /// A change to how events are read or rendered that changes no output passes; one that
    /// changes any output fails, naming the samples whose outputs changed.
    ///
    /// To see which payload changed: run this test with `PIPELINE_OUTPUTS=<dir>` before and
    /// after the change (one text file per sample: each payload, then its outputs) and `diff -r`
    /// the two directories. When the change is intended and reviewed (new wording, a new rule or
    /// sample), `PIPELINE_OUTPUTS_UPDATE=1` rewrites the digests; commit them with the change and
    /// say why they moved.
    #[test]
    fn outputs_are_pinned() {
        use sha2::{Digest, Sha256};
        use std::fmt::Write as _;
        let config = crate::config::Config::from_lookup(|name| match name {
            "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:rootwatch-alerts".into()),
            "ACCOUNT_NAMES" => Some("111122223333=prod-payments".into()),
            "RUNBOOK_URL" => Some("https://wiki.example.com/runbooks/root".into()),
            // Only events/root-assume-root-sqs-unlock.json was issued to it.
            "ASSUME_ROOT_ISSUERS" => Some("arn:aws:iam::999988887777:role/RootTasks".into()),
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
            (json!(" aws.cloudtrail"), "source \" aws.cloudtrail\" is"),
            (
                json!("\u{200b}aws.cloudtrail"),
                "source \"\\u{200b}aws.cloudtrail\" is",
            ),
            (
                json!("x\n\u{202e}mail ops@example.com"),
                "source \"x\\n\\u{202e}mail [redacted]\"",
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
        for epoch in [expected.timestamp(), expected.timestamp_millis()] {
            assert_eq!(Lenient::from_json(&json!(epoch)), Lenient::Read(expected));
        }
        for bad in ["yesterday at 3", "redacted", "", "2026-13-01T00:00:00Z"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    /// The report names the field that was broken, by its JSON path: every field a sample has,
    /// set to a value no field reads, is either reported under its own path, rejected (a field
    /// that decides), or not read at all (a field rootwatch has no use for, or one inside an
    /// object read whole).
    #[test]
    fn the_report_names_the_field_that_was_broken() {
        fn pointers(value: &Value, prefix: &str, out: &mut Vec<String>) {
            for (key, child) in value.as_object().into_iter().flatten() {
                let pointer = format!("{prefix}/{key}");
                pointers(child, &pointer, out);
                out.push(pointer);
            }
        }
        let mut named = std::collections::BTreeSet::new();
        for (path, sample) in every_sample() {
            if !parse_event(&sample).is_ok_and(|parsed| parsed.unreadable.is_empty()) {
                continue;
            }
            let mut all = Vec::new();
            pointers(&sample, "", &mut all);
            for pointer in all {
                let mut broken = sample.clone();
                *broken.pointer_mut(&pointer).unwrap() = json!([[]]);
                let Ok(parsed) = parse_event(&broken) else {
                    continue;
                };
                let field = pointer[1..].replace('/', ".");
                match parsed.unreadable[..] {
                    [] => {}
                    [reported] => assert_eq!(reported, field, "{}", path.display()),
                    ref more => panic!("{pointer} in {}: {more:?}", path.display()),
                }
                named.extend(parsed.unreadable);
            }
        }
        // Every lenient field but `sessionContext.sourceIdentity`, which no sample has.
        assert!(named.len() >= 36, "{named:?}");
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
