//! How the root principal authenticated, and whether MFA was part of it: derived from the
//! record by classify, shown by every message.

use serde::Serialize;

/// How the root principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    /// A console sign-in with the root email and password.
    Password,
    /// None: a password-recovery request, which anyone who knows the root email address can
    /// make from the sign-in page's forgot-password form.
    NoCredential,
    /// A password reset through the recovery link mailed to the root email address: whoever
    /// completed it could read that mailbox.
    RecoveryLink,
    /// Temporary credentials of a root console session: `sessionCredentialFromConsole` is true,
    /// whatever the key's prefix.
    ConsoleSession,
    /// A long-term root access key `AKIA…`, with no session.
    LongTermKey,
    /// Other temporary root credentials: an `ASIA…` key, or a session CloudTrail does not mark
    /// as the console's (e.g. `sts:GetSessionToken` with a root key, or a record from before the
    /// console flag existed).
    TemporaryKey,
    /// A task-scoped root session started with `sts:AssumeRoot` from the management account
    /// (or a delegated administrator): `sessionContext.assumedRoot` is `"true"`.
    AssumeRoot,
    Unknown,
}

impl CredentialKind {
    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::Password => "root password (console)",
            CredentialKind::NoCredential => "none: anyone who knows the root email address can ask",
            CredentialKind::RecoveryLink => "the reset link mailed to the root email address",
            CredentialKind::ConsoleSession => "root console session",
            CredentialKind::LongTermKey => "long-term root access key",
            CredentialKind::TemporaryKey => "temporary root credentials",
            CredentialKind::AssumeRoot => "sts:AssumeRoot task session from the organization",
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
