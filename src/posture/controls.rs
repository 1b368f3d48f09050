//! What each posture finding is, as data: its kind, severity, the controls it fails, where AWS
//! documents it, and the fix. docs/posture.md's table is checked against these rows.
//!
//! Control ids per the AWS Security Hub User Guide, "Security Hub controls for IAM" (IAM.4 "IAM
//! root user access key should not exist", IAM.6 "Hardware MFA should be enabled for the root
//! user", IAM.9 "MFA should be enabled for the root user") and the CIS AWS Foundations Benchmark
//! v3.0.0 (1.4-1.6; v5.0.0 renumbers them, so the rows name v3.0.0).

use crate::domain::{PostureKind, Severity};

/// One row: a finding about the root user's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    /// The finding's code in the state table's marks (`posture#<account>#<code>#<day>`).
    pub code: &'static str,
    pub kind: PostureKind,
    pub severity: Severity,
    /// The email's subject and the chat title: `Root user has no MFA`.
    pub title: &'static str,
    /// The SMS: what (`root user has no MFA`) and what it means (`its password alone signs in`).
    pub sms: &'static str,
    pub consequence: &'static str,
    /// Why it matters, for the email.
    pub why: &'static str,
    /// The controls it fails; empty when none names it.
    pub controls: &'static [&'static str],
    /// Where AWS documents it.
    pub references: &'static [&'static str],
    /// What to do, for the email.
    pub fix: &'static str,
}

const IAM_CONTROLS: &str =
    "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html";

/// Every posture finding of the function's own account, most severe first.
pub const CONTROLS: [Control; 5] = [
    Control {
        code: "root-access-keys",
        kind: PostureKind::RootAccessKeys,
        severity: Severity::Critical,
        title: "Root user has access keys",
        sms: "root user has access keys",
        consequence: "a leaked key is the whole account",
        why: "A root access key never expires, no IAM policy can restrict it, and it signs API \
              calls with the whole account's power. A leaked key that is never used is invisible \
              to an alarm on root activity until the day it is used. AWS: \"if they exist, \
              delete them immediately\".",
        controls: &["CIS AWS Foundations v3.0.0 1.4", "Security Hub IAM.4"],
        references: &[
            "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-4",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html",
        ],
        fix: "Find what uses the key first: aws iam get-access-key-last-used --access-key-id \
              <id>, and CloudTrail events whose userIdentity.accessKeyId is the key; move that \
              use to an IAM role. Then sign in as the root user, open Security credentials, and \
              deactivate and delete the key.",
    },
    Control {
        code: "root-mfa-off",
        kind: PostureKind::RootMfaOff,
        severity: Severity::Critical,
        title: "Root user has no MFA",
        sms: "root user has no MFA",
        consequence: "its password alone signs in",
        why: "Without MFA the root user's password alone signs in to the console, with every \
              power over the account, and a password reset needs only the root email inbox.",
        controls: &["CIS AWS Foundations v3.0.0 1.5", "Security Hub IAM.9"],
        references: &[
            "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-9",
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html",
        ],
        fix: "Sign in as the root user, open Security credentials, Multi-factor authentication \
              (MFA), Assign MFA device: prefer a FIDO security key. Only the root user can do \
              this, in the console. In an organization, a member account that needs no root \
              password can have it deleted instead (centralized root access).",
    },
    Control {
        code: "root-signing-certificates",
        kind: PostureKind::RootSigningCertificates,
        severity: Severity::High,
        title: "Root user has signing certificates",
        sms: "root user has signing certificates",
        consequence: "they sign requests as root",
        why: "An X.509 signing certificate of the root user is a long-term credential of the \
              whole account's power, like an access key.",
        controls: &[],
        references: &["https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html"],
        fix: "Sign in as the root user, open Security credentials, X.509 certificates, and \
              delete them.",
    },
    Control {
        code: "root-mfa-virtual",
        kind: PostureKind::RootMfaVirtual,
        severity: Severity::Medium,
        title: "Root user's MFA is a virtual device",
        sms: "root user's MFA is a virtual device",
        consequence: "an app, not hardware",
        why: "A virtual MFA device lives on a phone or computer that can be lost, copied or \
              compromised; the root user's MFA should be hardware that cannot.",
        controls: &[
            "CIS AWS Foundations v3.0.0 1.6",
            "Security Hub IAM.6",
            "AWS Config root-account-hardware-mfa-enabled",
        ],
        references: &[
            "https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html#iam-6",
            "https://docs.aws.amazon.com/config/latest/developerguide/root-account-hardware-mfa-enabled.html",
        ],
        fix: "Sign in as the root user, open Security credentials, and assign a hardware MFA \
              device or FIDO security key (root may hold several); then remove the virtual \
              device.",
    },
    Control {
        code: "check-failed",
        kind: PostureKind::CheckFailed,
        severity: Severity::High,
        title: "Root user's posture could not be checked",
        sms: "root posture check failed",
        consequence: "root credentials are unwatched",
        why: "Until the check can read IAM, a root access key or a root user without MFA goes \
              unnoticed.",
        controls: &[],
        references: &[IAM_CONTROLS],
        fix: "Make sure the function's role may call iam:GetAccountSummary, \
              iam:ListVirtualMFADevices, iam:GetCredentialReport and \
              iam:GenerateCredentialReport (template.yaml's ReadRootPosture statement grants \
              them) and that no service control policy denies them.",
    },
];

/// What a member's root user should not have (organization mode), and the weekly report. A
/// member's root password is CRITICAL without an MFA device and HIGH with one; the row says the
/// worst.
pub const MEMBER_CONTROLS: [Control; 4] = [
    Control {
        code: "member-root-access-keys",
        kind: PostureKind::MemberRootAccessKeys,
        severity: Severity::Critical,
        title: "Member root users have access keys",
        sms: "member root users have access keys",
        consequence: "a leaked key is the whole account",
        why: "A root access key never expires and no IAM policy restricts it; with centralized \
              root access a member account needs no root credential at all.",
        controls: &["CIS AWS Foundations v3.0.0 1.4", "Security Hub IAM.4"],
        references: &[
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html",
        ],
        fix: MEMBER_FIX,
    },
    Control {
        code: "member-root-password",
        kind: PostureKind::MemberRootPassword,
        severity: Severity::Critical,
        title: "Member root users have a password",
        sms: "member root users have a password",
        consequence: "they can sign in as root",
        why: "With centralized root access a member account's root user needs no password: the \
              management account performs its privileged tasks. A password is a way in, and \
              without an MFA device the password alone signs in.",
        controls: &["CIS AWS Foundations v3.0.0 1.5", "Security Hub IAM.9"],
        references: &[
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management",
        ],
        fix: MEMBER_FIX,
    },
    Control {
        code: "member-root-signing-certificates",
        kind: PostureKind::MemberRootSigningCertificates,
        severity: Severity::High,
        title: "Member root users have signing certificates",
        sms: "member root users have signing certificates",
        consequence: "they sign requests as root",
        why: "A root signing certificate is a long-term credential of the whole account's power.",
        controls: &[],
        references: &[
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html",
        ],
        fix: MEMBER_FIX,
    },
    Control {
        code: "report",
        kind: PostureKind::Report,
        severity: Severity::Low,
        title: "Member root credentials: weekly report",
        sms: "weekly posture report",
        consequence: "see email",
        why: "Where centralized root access is off, the members' root credentials cannot be \
              read, so a root password or key there goes unseen.",
        controls: &[],
        references: &[
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management",
        ],
        fix: "Turn on centralized root access from the management account (the commands are in \
              the report).",
    },
];

/// How a member's root credentials are deleted, from the management account or the delegated
/// administrator for IAM (IAM User Guide, "Perform a privileged task on an AWS Organizations
/// member account").
const MEMBER_FIX: &str = "From the management account or the delegated administrator for IAM: \
     aws sts assume-root --target-principal <member id> --task-policy-arn \
     arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials, then with those \
     credentials: aws iam delete-login-profile; aws iam delete-access-key --access-key-id <id>; \
     aws iam delete-signing-certificate --certificate-id <id>; aws iam deactivate-mfa-device \
     --serial-number <arn>.";

/// The row of `kind`.
pub fn control(kind: PostureKind) -> &'static Control {
    CONTROLS
        .iter()
        .chain(MEMBER_CONTROLS.iter())
        .find(|control| control.kind == kind)
        .unwrap_or(&CONTROLS[CONTROLS.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows as the issue of record and the Security Hub User Guide pin them: the kind, its
    /// severity and the controls it fails.
    #[test]
    fn each_row_has_its_kind_severity_and_controls() {
        let rows: Vec<(&str, &str, &[&str])> = CONTROLS
            .iter()
            .map(|c| (c.kind.as_str(), c.severity.as_str(), c.controls))
            .collect();
        assert_eq!(
            rows,
            vec![
                (
                    "posture-root-access-keys",
                    "CRITICAL",
                    &["CIS AWS Foundations v3.0.0 1.4", "Security Hub IAM.4"][..]
                ),
                (
                    "posture-root-mfa-off",
                    "CRITICAL",
                    &["CIS AWS Foundations v3.0.0 1.5", "Security Hub IAM.9"][..]
                ),
                ("posture-root-signing-certificates", "HIGH", &[][..]),
                (
                    "posture-root-mfa-virtual",
                    "MEDIUM",
                    &[
                        "CIS AWS Foundations v3.0.0 1.6",
                        "Security Hub IAM.6",
                        "AWS Config root-account-hardware-mfa-enabled"
                    ][..]
                ),
                ("posture-check-failed", "HIGH", &[][..]),
            ]
        );
        for c in &CONTROLS {
            assert_eq!(control(c.kind), c);
            assert_eq!(c.kind.as_str(), format!("posture-{}", c.code));
            assert!(
                c.references
                    .iter()
                    .all(|r| r.starts_with("https://docs.aws.amazon.com/"))
            );
        }
    }
}
