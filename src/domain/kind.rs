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

    /// Whether someone with no credential of the root user can cause it: anyone who knows the
    /// root user's email address can fail a sign-in or a sign-in step, ask for a password
    /// recovery from the forgot-password form, or make the sign-in page record another step
    /// (some, like a `CredentialChallenge`, are recorded before any credential is checked; the
    /// `other-sign-in-activity` row catches every sign-in record no row above it names). Every
    /// other kind needs a root credential: a password that worked, a key or session that
    /// signed an API call, or the reset link mailed to the root address.
    pub fn anyone_can_cause(self) -> bool {
        matches!(
            self,
            AlertKind::SignInFailed
                | AlertKind::PasswordRecoveryRequested
                | AlertKind::OtherSignInActivity
        )
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

/// Which text ceiling an alert counts against. Each is counted on its own, so that texts someone
/// without root credentials can cause (a stranger's password-recovery requests, a member
/// administrator setting a forwarder's alarm) can use up only their own ceiling, never the texts
/// of what the root user does. Root activity is counted per account and UTC hour; the buckets
/// anyone can fill, per UTC day across every account of the stack, so that what a stranger can
/// spend is bounded per day however many accounts there are ([`TextBucket::scope`],
/// [`TextBucket::period`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextBucket {
    /// What only a root credential can do: every API call, a sign-in that succeeded, a password
    /// change or a reset through the mailed link.
    RootActivity,
    /// What anyone can cause without a credential ([`AlertKind::anyone_can_cause`]): failed
    /// sign-ins and sign-in steps, password-recovery requests, other sign-in records.
    SignInAttempts,
    /// `forwarder-failing` alerts: anyone allowed to set the forwarder's alarm state in a member
    /// account can cause them.
    ForwarderFailures,
}

impl TextBucket {
    /// The bucket of a root alert of `kind`.
    pub fn of(kind: AlertKind) -> Self {
        if kind.anyone_can_cause() {
            TextBucket::SignInAttempts
        } else {
            TextBucket::RootActivity
        }
    }

    /// The kebab-case name, for the state table's keys and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            TextBucket::RootActivity => "root-activity",
            TextBucket::SignInAttempts => "sign-in-attempts",
            TextBucket::ForwarderFailures => "forwarder-failures",
        }
    }

    /// Whose texts the bucket's ceiling counts together.
    pub fn scope(self) -> TextScope {
        match self {
            TextBucket::RootActivity => TextScope::Account,
            TextBucket::SignInAttempts | TextBucket::ForwarderFailures => TextScope::AllAccounts,
        }
    }

    /// How long the bucket's ceiling counts before it starts again.
    pub fn period(self) -> TextPeriod {
        match self.scope() {
            TextScope::Account => TextPeriod::Hour,
            TextScope::AllAccounts => TextPeriod::Day,
        }
    }

    /// What a notice calls its texts: `Sign-in attempt texts PAUSED`.
    pub fn describe(self) -> &'static str {
        match self {
            TextBucket::RootActivity => "Root activity",
            TextBucket::SignInAttempts => "Sign-in attempt",
            TextBucket::ForwarderFailures => "Forwarder failure",
        }
    }
}

/// Whose texts a ceiling counts together ([`TextBucket::scope`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextScope {
    /// One account's: the account the alert is about.
    Account,
    /// Every account's the stack alerts for (one, or a whole organization).
    AllAccounts,
}

/// The UTC clock period a ceiling counts in ([`TextBucket::period`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextPeriod {
    Hour,
    Day,
}

/// The `kind` SNS attribute: what a root user did ([`AlertKind`], one per rule-table kind), or
/// what is wrong with rootwatch's own pipeline: `pipeline-blind` from the watchdog (CloudTrail
/// is not feeding rootwatch), `forwarder-failing` from a member account's forwarder (its root
/// events do not reach the home account); or about declared root use: `root-use-declared` (a
/// declaration announced) and `root-use-report` (what was done in its window); or about an
/// organization's coverage: `coverage-gap`, `coverage-check-failed` and the weekly `coverage-report`. Kept apart from [`AlertKind`] because these alerts
/// come from no rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    Root(AlertKind),
    PipelineBlind,
    ForwarderFailing,
    /// A declaration of planned root use, announced (or refused as invalid).
    RootUseDeclared,
    /// What the root user did during a declared window, sent after it closed.
    RootUseReport,
    /// The root user's own credentials: what an attacker needs, found by a scheduled run.
    Posture(PostureKind),
    /// Organization coverage: an account × region whose forwarder's heartbeat stopped, so its
    /// root activity may not reach rootwatch.
    CoverageGap,
    /// Organization coverage could not be checked (the accounts or the heartbeats unreadable).
    CoverageCheckFailed,
    /// The weekly list of every account × region, watched or blind (email and chat only).
    CoverageReport,
}

/// What is wrong with the root user's credentials ([`NotificationKind::Posture`]), one
/// notification per kind: the rows of `posture::controls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostureKind {
    /// The root user has access keys.
    RootAccessKeys,
    /// The root user signs in with a password and no MFA device.
    RootMfaOff,
    /// The root user has X.509 signing certificates.
    RootSigningCertificates,
    /// The root user's MFA includes a virtual device.
    RootMfaVirtual,
    /// The posture could not be read (own account), or a member could not be audited.
    CheckFailed,
    /// Members whose root user has access keys.
    MemberRootAccessKeys,
    /// Members whose root user has a password.
    MemberRootPassword,
    /// Members whose root user has signing certificates.
    MemberRootSigningCertificates,
    /// The weekly digest: what is not audited and why, with the commands that turn it on.
    Report,
}

impl PostureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostureKind::RootAccessKeys => "posture-root-access-keys",
            PostureKind::RootMfaOff => "posture-root-mfa-off",
            PostureKind::RootSigningCertificates => "posture-root-signing-certificates",
            PostureKind::RootMfaVirtual => "posture-root-mfa-virtual",
            PostureKind::CheckFailed => "posture-check-failed",
            PostureKind::MemberRootAccessKeys => "posture-member-root-access-keys",
            PostureKind::MemberRootPassword => "posture-member-root-password",
            PostureKind::MemberRootSigningCertificates => {
                "posture-member-root-signing-certificates"
            }
            PostureKind::Report => "posture-report",
        }
    }
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Root(kind) => kind.as_str(),
            NotificationKind::PipelineBlind => "pipeline-blind",
            NotificationKind::ForwarderFailing => "forwarder-failing",
            NotificationKind::RootUseDeclared => "root-use-declared",
            NotificationKind::RootUseReport => "root-use-report",
            NotificationKind::Posture(kind) => kind.as_str(),
            NotificationKind::CoverageGap => "coverage-gap",
            NotificationKind::CoverageCheckFailed => "coverage-check-failed",
            NotificationKind::CoverageReport => "coverage-report",
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
serialize_as_str!(AlertKind, NotificationKind, PostureKind);
