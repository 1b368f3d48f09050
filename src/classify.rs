//! The severity rules: what a root event is, and how bad.
//!
//! This file is the single place that decides. The README's severity table mirrors
//! [`AlertKind::base_severity`] and [`Classification::severity`]; a test keeps them in step.

use serde::Serialize;
use serde_json::Value;

use crate::record::{CloudTrailRecord, DetailType, RootEvent};
use crate::sanitize::{plain_token, redact_contacts};

/// How urgently a person must look. Ordered: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// Reads the upper-case name, as [`Severity::as_str`] writes it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The upper-case name used in messages and in the `severity` SNS attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// What the root user did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    SignInWithoutMfa,
    SignInWithMfa,
    SignInFailed,
    PasswordRecoveryRequested,
    PasswordRecoveryCompleted,
    OtherSignInActivity,
    AccessKeyCreated,
    LongTermAccessKeyUsed,
    MfaDeviceRemoved,
    CloudTrailTampered,
    ApiCall,
}

impl AlertKind {
    pub const ALL: [AlertKind; 11] = [
        AlertKind::SignInWithoutMfa,
        AlertKind::SignInWithMfa,
        AlertKind::SignInFailed,
        AlertKind::PasswordRecoveryRequested,
        AlertKind::PasswordRecoveryCompleted,
        AlertKind::OtherSignInActivity,
        AlertKind::AccessKeyCreated,
        AlertKind::LongTermAccessKeyUsed,
        AlertKind::MfaDeviceRemoved,
        AlertKind::CloudTrailTampered,
        AlertKind::ApiCall,
    ];

    /// The kebab-case name used in the `kind` SNS attribute and the structured alert.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::SignInWithoutMfa => "sign-in-without-mfa",
            AlertKind::SignInWithMfa => "sign-in-with-mfa",
            AlertKind::SignInFailed => "sign-in-failed",
            AlertKind::PasswordRecoveryRequested => "password-recovery-requested",
            AlertKind::PasswordRecoveryCompleted => "password-recovery-completed",
            AlertKind::OtherSignInActivity => "other-sign-in-activity",
            AlertKind::AccessKeyCreated => "access-key-created",
            AlertKind::LongTermAccessKeyUsed => "long-term-access-key-used",
            AlertKind::MfaDeviceRemoved => "mfa-device-removed",
            AlertKind::CloudTrailTampered => "cloudtrail-tampered",
            AlertKind::ApiCall => "api-call",
        }
    }

    /// Severity for an interactive root session or a long-term root key.
    pub fn base_severity(self) -> Severity {
        match self {
            AlertKind::SignInWithoutMfa
            | AlertKind::AccessKeyCreated
            | AlertKind::LongTermAccessKeyUsed
            | AlertKind::MfaDeviceRemoved
            | AlertKind::CloudTrailTampered => Severity::Critical,
            AlertKind::SignInWithMfa
            | AlertKind::PasswordRecoveryCompleted
            | AlertKind::ApiCall => Severity::High,
            AlertKind::SignInFailed | AlertKind::PasswordRecoveryRequested => Severity::Medium,
            AlertKind::OtherSignInActivity => Severity::Low,
        }
    }

    /// Whether the kind comes from a console sign-in record rather than an API call.
    pub fn is_sign_in(self) -> bool {
        matches!(
            self,
            AlertKind::SignInWithoutMfa
                | AlertKind::SignInWithMfa
                | AlertKind::SignInFailed
                | AlertKind::PasswordRecoveryRequested
                | AlertKind::PasswordRecoveryCompleted
                | AlertKind::OtherSignInActivity
        )
    }

    /// A few words for subjects and texts, starting with a capital.
    pub fn headline(self) -> &'static str {
        match self {
            AlertKind::SignInWithoutMfa => "Root console sign-in WITHOUT MFA",
            AlertKind::SignInWithMfa => "Root console sign-in with MFA",
            AlertKind::SignInFailed => "Failed root console sign-in",
            AlertKind::PasswordRecoveryRequested => "Root password recovery requested",
            AlertKind::PasswordRecoveryCompleted => "Root password reset by recovery",
            AlertKind::OtherSignInActivity => "Root sign-in activity",
            AlertKind::AccessKeyCreated => "Root access key created",
            AlertKind::LongTermAccessKeyUsed => "Root access key used",
            AlertKind::MfaDeviceRemoved => "Root MFA device removed",
            AlertKind::CloudTrailTampered => "CloudTrail changed by root",
            AlertKind::ApiCall => "Root API call",
        }
    }
}

/// Serialised by [`Severity::as_str`] and [`AlertKind::as_str`], so the structured alert and the
/// SNS attributes subscriptions filter on can never disagree.
macro_rules! serialize_as_str {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    )*};
}
serialize_as_str!(Severity, AlertKind);

/// How the root principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// A console sign-in with the root email and password.
    Password,
    /// Temporary `ASIA…` credentials of a root console session.
    ConsoleSession,
    /// A long-term root access key `AKIA…`.
    LongTermKey,
    /// Other temporary root credentials (e.g. `sts:GetSessionToken` with a root key).
    TemporaryKey,
    /// A task-scoped root session started with `sts:AssumeRoot` from the management account.
    AssumeRoot,
    Unknown,
}

impl CredentialKind {
    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::Password => "root password (console)",
            CredentialKind::ConsoleSession => "root console session",
            CredentialKind::LongTermKey => "long-term root access key",
            CredentialKind::TemporaryKey => "temporary root credentials",
            CredentialKind::AssumeRoot => "sts:AssumeRoot session from the management account",
            CredentialKind::Unknown => "unknown",
        }
    }
}

/// Whether MFA was part of the authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MfaState {
    Used,
    NotUsed,
    Unknown,
}

/// What a root event is, how bad, and how its principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub kind: AlertKind,
    pub severity: Severity,
    pub credential: CredentialKind,
    pub mfa: MfaState,
}

/// What rootwatch does with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classification {
    Alert(Verdict),
    /// Not the root user's own action; logged and dropped.
    Ignore {
        reason: String,
    },
}

/// Severity never exceeds this for an `sts:AssumeRoot` session: it is task-scoped, lasts at most
/// 15 minutes and was already authorised and logged in the management account.
pub const ASSUME_ROOT_CEILING: Severity = Severity::Medium;

const CLOUDTRAIL_CHANGES: [&str; 6] = [
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "PutInsightSelectors",
    "DeleteEventDataStore",
];

const MFA_REMOVALS: [&str; 2] = ["DeactivateMFADevice", "DeleteVirtualMFADevice"];

/// Classifies one parsed event. Pure: the same event always gets the same answer.
pub fn classify(event: &RootEvent) -> Classification {
    let record = &event.detail;
    let identity = &record.user_identity;
    if identity.identity_type != "Root" {
        return Classification::Ignore {
            reason: redact_contacts(&format!(
                "not the root user (userIdentity.type {:?})",
                plain_token(&identity.identity_type, 40)
            )),
        };
    }
    if let Some(service) = &identity.invoked_by {
        return Classification::Ignore {
            reason: redact_contacts(&format!(
                "made by an AWS service on the root user's behalf ({})",
                plain_token(service, 60)
            )),
        };
    }

    let credential = credential_kind(event);
    let mfa = mfa_state(record, credential);
    let kind = match DetailType::of(event) {
        DetailType::SignIn => sign_in_kind(record, mfa),
        DetailType::ApiCall => api_call_kind(record, credential),
    };
    let mut severity = kind.base_severity();
    if credential == CredentialKind::AssumeRoot {
        severity = severity.min(ASSUME_ROOT_CEILING);
    }
    Classification::Alert(Verdict {
        kind,
        severity,
        credential,
        mfa,
    })
}

fn sign_in_kind(record: &CloudTrailRecord, mfa: MfaState) -> AlertKind {
    match record.event_name.as_str() {
        "ConsoleLogin" => match (record.failed(), mfa) {
            (true, _) => AlertKind::SignInFailed,
            (false, MfaState::Used) => AlertKind::SignInWithMfa,
            (false, _) => AlertKind::SignInWithoutMfa,
        },
        "PasswordRecoveryRequested" => AlertKind::PasswordRecoveryRequested,
        "PasswordRecoveryCompleted" => AlertKind::PasswordRecoveryCompleted,
        _ => AlertKind::OtherSignInActivity,
    }
}

fn api_call_kind(record: &CloudTrailRecord, credential: CredentialKind) -> AlertKind {
    let source = record.event_source.as_str();
    let name = record.event_name.as_str();
    let for_iam_user = record
        .request_parameters
        .get()
        .and_then(|p| p.get("userName"))
        .is_some();
    match (source, name) {
        ("iam.amazonaws.com", "CreateAccessKey") if !for_iam_user => AlertKind::AccessKeyCreated,
        ("iam.amazonaws.com", n) if MFA_REMOVALS.contains(&n) && !for_iam_user => {
            AlertKind::MfaDeviceRemoved
        }
        ("cloudtrail.amazonaws.com", n) if CLOUDTRAIL_CHANGES.contains(&n) => {
            AlertKind::CloudTrailTampered
        }
        _ if credential == CredentialKind::LongTermKey => AlertKind::LongTermAccessKeyUsed,
        _ => AlertKind::ApiCall,
    }
}

fn credential_kind(event: &RootEvent) -> CredentialKind {
    let identity = &event.detail.user_identity;
    let assume_root = identity
        .in_scope_of
        .get()
        .and_then(|s| s.issuer_type.as_deref())
        .is_some_and(|t| t.eq_ignore_ascii_case("AWS::STS::AssumeRoot"));
    if assume_root {
        return CredentialKind::AssumeRoot;
    }
    let key = identity.access_key_id.as_deref().unwrap_or("");
    if key.starts_with("AKIA") {
        CredentialKind::LongTermKey
    } else if key.starts_with("ASIA") {
        if event.detail.session_credential_from_console.get() == Some(&true) {
            CredentialKind::ConsoleSession
        } else {
            CredentialKind::TemporaryKey
        }
    } else if DetailType::of(event) == DetailType::SignIn {
        CredentialKind::Password
    } else {
        CredentialKind::Unknown
    }
}

fn mfa_state(record: &CloudTrailRecord, credential: CredentialKind) -> MfaState {
    let from_bool_text = |s: &str| {
        if s.eq_ignore_ascii_case("yes") || s.eq_ignore_ascii_case("true") {
            MfaState::Used
        } else if s.eq_ignore_ascii_case("no") || s.eq_ignore_ascii_case("false") {
            MfaState::NotUsed
        } else {
            MfaState::Unknown
        }
    };
    match record
        .additional_event_data
        .get()
        .and_then(|d| d.get("MFAUsed"))
    {
        Some(Value::String(used)) => return from_bool_text(used),
        Some(Value::Bool(true)) => return MfaState::Used,
        Some(Value::Bool(false)) => return MfaState::NotUsed,
        _ => {}
    }
    if credential == CredentialKind::LongTermKey {
        // Access-key requests carry no MFA context at all.
        return MfaState::NotUsed;
    }
    record
        .user_identity
        .session_context
        .get()
        .and_then(|c| c.attributes.get())
        .and_then(|a| a.mfa_authenticated.as_deref())
        .map_or(MfaState::Unknown, from_bool_text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{API_CALL_DETAIL_TYPE, Lenient, SIGN_IN_DETAIL_TYPE, UserIdentity};
    use serde_json::json;

    fn event(detail_type: &str, record: CloudTrailRecord) -> RootEvent {
        let mut event = RootEvent::default();
        event.detail_type = detail_type.into();
        event.detail = record;
        event
    }

    fn root_sign_in(mfa_used: &str) -> RootEvent {
        event(
            SIGN_IN_DETAIL_TYPE,
            CloudTrailRecord {
                user_identity: UserIdentity {
                    identity_type: "Root".into(),
                    ..Default::default()
                },
                event_source: "signin.amazonaws.com".into(),
                event_name: "ConsoleLogin".into(),
                response_elements: Lenient::from_json(&json!({"ConsoleLogin": "Success"})),
                additional_event_data: Lenient::from_json(&json!({"MFAUsed": mfa_used})),
                ..Default::default()
            },
        )
    }

    fn root_call(source: &str, name: &str, key: &str) -> RootEvent {
        event(
            API_CALL_DETAIL_TYPE,
            CloudTrailRecord {
                user_identity: UserIdentity {
                    identity_type: "Root".into(),
                    access_key_id: key.to_owned().into(),
                    ..Default::default()
                },
                event_source: source.into(),
                event_name: name.into(),
                session_credential_from_console: true.into(),
                ..Default::default()
            },
        )
    }

    fn kind_and_severity(c: Classification) -> (AlertKind, Severity) {
        match c {
            Classification::Alert(v) => (v.kind, v.severity),
            Classification::Ignore { reason } => panic!("ignored: {reason}"),
        }
    }

    #[test]
    fn mfa_used_is_compared_without_case() {
        for yes in ["Yes", "YES", "yes"] {
            assert_eq!(
                kind_and_severity(classify(&root_sign_in(yes))),
                (AlertKind::SignInWithMfa, Severity::High)
            );
        }
        assert_eq!(
            kind_and_severity(classify(&root_sign_in("No"))),
            (AlertKind::SignInWithoutMfa, Severity::Critical)
        );
    }

    #[test]
    fn long_term_key_and_console_session_are_told_apart() {
        let (kind, _) = kind_and_severity(classify(&root_call(
            "ec2.amazonaws.com",
            "RunInstances",
            "AKIAIOSFODNN7EXAMPLE",
        )));
        assert_eq!(kind, AlertKind::LongTermAccessKeyUsed);
        let (kind, severity) = kind_and_severity(classify(&root_call(
            "ec2.amazonaws.com",
            "RunInstances",
            "ASIAIOSFODNN7EXAMPLE",
        )));
        assert_eq!((kind, severity), (AlertKind::ApiCall, Severity::High));
    }

    #[test]
    fn specific_kinds_win_over_the_key_kind() {
        let (kind, _) = kind_and_severity(classify(&root_call(
            "cloudtrail.amazonaws.com",
            "StopLogging",
            "AKIAIOSFODNN7EXAMPLE",
        )));
        assert_eq!(kind, AlertKind::CloudTrailTampered);
    }

    #[test]
    fn assume_root_is_capped_below_interactive_sign_in() {
        let mut e = root_call("iam.amazonaws.com", "DeactivateMFADevice", "ASIAX");
        e.detail.user_identity.in_scope_of =
            Lenient::from_json(&json!({"issuerType": "AWS::STS::AssumeRoot"}));
        let Classification::Alert(Verdict {
            kind,
            severity,
            credential,
            ..
        }) = classify(&e)
        else {
            panic!("should alert")
        };
        assert_eq!(kind, AlertKind::MfaDeviceRemoved);
        assert_eq!(credential, CredentialKind::AssumeRoot);
        assert_eq!(severity, ASSUME_ROOT_CEILING);
        assert!(severity < AlertKind::SignInWithMfa.base_severity());
    }

    #[test]
    fn non_root_and_service_invoked_are_ignored() {
        let mut e = root_sign_in("No");
        e.detail.user_identity.identity_type = "IAMUser".into();
        assert!(matches!(classify(&e), Classification::Ignore { .. }));
        let mut e = root_call("s3.amazonaws.com", "GetObject", "ASIAX");
        e.detail.user_identity.invoked_by = Some("cloudtrail.amazonaws.com".into());
        assert!(matches!(classify(&e), Classification::Ignore { .. }));
    }

    #[test]
    fn root_creating_a_key_for_an_iam_user_is_an_ordinary_root_call() {
        let mut e = root_call("iam.amazonaws.com", "CreateAccessKey", "ASIAX");
        e.detail.request_parameters = Lenient::from_json(&json!({"userName": "alice"}));
        assert_eq!(kind_and_severity(classify(&e)).0, AlertKind::ApiCall);
    }
}
