//! Kinds: what an alert is about, the `kind` SNS attribute subscriptions filter on. A root
//! user's act has an [`AlertKind`] from the rule table; rootwatch's own pipeline alerts
//! (`pipeline-blind`, `forwarder-failing`) come from no rule, and [`NotificationKind`] holds both.

/// What the root user did: the `kind` SNS attribute subscriptions can filter on. Several rules
/// may share a kind (every defence-evasion rule is `defence-evasion`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    SignInWithoutMfa,
    SignInMfaNotRecorded,
    SignInWithMfa,
    SignInFailed,
    PasswordChanged,
    PasswordRecoveryRequested,
    PasswordRecoveryCompleted,
    OtherSignInActivity,
    AssumeRootTask,
    AccessKeyCreated,
    CredentialsChanged,
    MfaDeviceRemoved,
    AccountRecoveryChanged,
    CloudTrailTampered,
    DefenceEvasion,
    LongTermAccessKeyUsed,
    SecretRead,
    ReadOnlyCall,
    ApiCall,
}

impl AlertKind {
    pub const ALL: [AlertKind; 19] = [
        AlertKind::SignInWithoutMfa,
        AlertKind::SignInMfaNotRecorded,
        AlertKind::SignInWithMfa,
        AlertKind::SignInFailed,
        AlertKind::PasswordChanged,
        AlertKind::PasswordRecoveryRequested,
        AlertKind::PasswordRecoveryCompleted,
        AlertKind::OtherSignInActivity,
        AlertKind::AssumeRootTask,
        AlertKind::AccessKeyCreated,
        AlertKind::CredentialsChanged,
        AlertKind::MfaDeviceRemoved,
        AlertKind::AccountRecoveryChanged,
        AlertKind::CloudTrailTampered,
        AlertKind::DefenceEvasion,
        AlertKind::LongTermAccessKeyUsed,
        AlertKind::SecretRead,
        AlertKind::ReadOnlyCall,
        AlertKind::ApiCall,
    ];

    /// The kebab-case name used in the `kind` SNS attribute and the structured alert.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::SignInWithoutMfa => "sign-in-without-mfa",
            AlertKind::SignInMfaNotRecorded => "sign-in-mfa-not-recorded",
            AlertKind::SignInWithMfa => "sign-in-with-mfa",
            AlertKind::SignInFailed => "sign-in-failed",
            AlertKind::PasswordChanged => "password-changed",
            AlertKind::PasswordRecoveryRequested => "password-recovery-requested",
            AlertKind::PasswordRecoveryCompleted => "password-recovery-completed",
            AlertKind::OtherSignInActivity => "other-sign-in-activity",
            AlertKind::AssumeRootTask => "assume-root-task",
            AlertKind::AccessKeyCreated => "access-key-created",
            AlertKind::CredentialsChanged => "root-credentials-changed",
            AlertKind::MfaDeviceRemoved => "mfa-device-removed",
            AlertKind::AccountRecoveryChanged => "account-recovery-changed",
            AlertKind::CloudTrailTampered => "cloudtrail-tampered",
            AlertKind::DefenceEvasion => "defence-evasion",
            AlertKind::LongTermAccessKeyUsed => "long-term-access-key-used",
            AlertKind::SecretRead => "secret-read",
            AlertKind::ReadOnlyCall => "read-only-call",
            AlertKind::ApiCall => "api-call",
        }
    }

    /// Whether the kind comes from a console sign-in record rather than an API call.
    pub(crate) fn is_sign_in(self) -> bool {
        matches!(
            self,
            AlertKind::SignInWithoutMfa
                | AlertKind::SignInMfaNotRecorded
                | AlertKind::SignInWithMfa
                | AlertKind::SignInFailed
                | AlertKind::PasswordChanged
                | AlertKind::PasswordRecoveryRequested
                | AlertKind::PasswordRecoveryCompleted
                | AlertKind::OtherSignInActivity
        )
    }
}

/// The `kind` SNS attribute: what a root user did ([`AlertKind`], one per rule-table kind), or
/// what is wrong with rootwatch's own pipeline: `pipeline-blind` from the watchdog (CloudTrail
/// is not feeding rootwatch), `forwarder-failing` from a member account's forwarder (its root
/// events do not reach the home account). Kept apart from [`AlertKind`] because these alerts
/// come from no rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    Root(AlertKind),
    PipelineBlind,
    ForwarderFailing,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Root(kind) => kind.as_str(),
            NotificationKind::PipelineBlind => "pipeline-blind",
            NotificationKind::ForwarderFailing => "forwarder-failing",
        }
    }
}

impl From<AlertKind> for NotificationKind {
    fn from(kind: AlertKind) -> Self {
        NotificationKind::Root(kind)
    }
}

/// Serialised by [`AlertKind::as_str`] and [`NotificationKind::as_str`], so the structured alert
/// and the `kind` SNS attribute can never disagree.
macro_rules! serialize_as_str {
    ($($t:ty),*) => {$(
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    )*};
}
serialize_as_str!(AlertKind, NotificationKind);
