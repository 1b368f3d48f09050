//! The severity rules, as data: one row per rule, each with the public reference it rests on.
//!
//! [`RULES`] is read top to bottom and the first row whose conditions all hold decides; the
//! engine ([`Rule::matches`]) knows nothing about particular events. To add a rule, add a row (and
//! a sample in `events/` with its reviewed snapshot); the README's "Severity rules" table is
//! checked against these rows by `tests/readme.rs`.
//!
//! References point at the rule sets detection engineers run — panther-analysis
//! (`rules/aws_cloudtrail_rules/`), SigmaHQ (`rules/cloud/aws/cloudtrail/`), Elastic
//! detection-rules (`rules/integrations/aws/`) — and at AWS's own documentation.

use crate::detect::classify::{AlertKind, CredentialKind, MfaState, Severity};
use crate::detect::record::DetailType;

/// What the engine knows about an event when it picks a rule: all derived, none raw text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    pub detail: DetailType,
    pub event_source: &'a str,
    pub event_name: &'a str,
    /// The request named an IAM user (`requestParameters.userName`): the call was about that
    /// user, not about the root user itself.
    pub names_iam_user: bool,
    /// An error code or message, or a sign-in answered with something other than `Success`.
    pub failed: bool,
    pub read_only: bool,
    pub credential: CredentialKind,
    pub mfa: MfaState,
}

/// One condition of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The request did not name an IAM user: it acted on the root user's own credentials.
    OnRootItself,
    Failed,
    Succeeded,
    Mfa(MfaState),
    ReadOnly,
    Credential(CredentialKind),
}

impl Condition {
    fn holds(self, facts: &Facts<'_>) -> bool {
        match self {
            Condition::OnRootItself => !facts.names_iam_user,
            Condition::Failed => facts.failed,
            Condition::Succeeded => !facts.failed,
            Condition::Mfa(state) => facts.mfa == state,
            Condition::ReadOnly => facts.read_only,
            Condition::Credential(kind) => facts.credential == kind,
        }
    }

    /// How the README describes the condition.
    pub fn describe(self) -> &'static str {
        match self {
            Condition::OnRootItself => "no `userName` (root's own credentials)",
            Condition::Failed => "failed",
            Condition::Succeeded => "succeeded",
            Condition::Mfa(MfaState::Used) => "MFA used",
            Condition::Mfa(MfaState::NotUsed) => "MFA not used",
            Condition::Mfa(MfaState::Unknown) => "MFA not recorded",
            Condition::ReadOnly => "read-only",
            Condition::Credential(CredentialKind::LongTermKey) => {
                "long-term key `AKIA…`, no session"
            }
            Condition::Credential(CredentialKind::ConsoleSession) => "console session",
            Condition::Credential(CredentialKind::AssumeRoot) => "`sts:AssumeRoot` session",
            Condition::Credential(CredentialKind::TemporaryKey) => "other temporary credentials",
            Condition::Credential(CredentialKind::Password) => "password",
            Condition::Credential(CredentialKind::Unknown) => "unknown credentials",
        }
    }
}

/// One row of the rule table.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable name, shown in the README and the email.
    pub id: &'static str,
    pub kind: AlertKind,
    pub detail: DetailType,
    /// `eventSource`, or any.
    pub source: Option<&'static str>,
    /// `eventName`s, or any when empty.
    pub names: &'static [&'static str],
    /// All must hold.
    pub when: &'static [Condition],
    pub severity: Severity,
    /// A few words for subjects and texts, for an attempt that succeeded.
    pub headline: &'static str,
    /// The same for an attempt that failed (the error code is added after it).
    pub failed_headline: &'static str,
    /// The public reference that justifies the rule and its severity.
    pub reference: &'static str,
}

impl Rule {
    pub fn matches(&self, facts: &Facts<'_>) -> bool {
        self.detail == facts.detail
            && self.source.is_none_or(|s| s == facts.event_source)
            && (self.names.is_empty() || self.names.contains(&facts.event_name))
            && self.when.iter().all(|c| c.holds(facts))
    }
}

/// The first rule that matches. The table ends in catch-all rows, so there always is one.
pub fn first_match(facts: &Facts<'_>) -> &'static Rule {
    RULES
        .iter()
        .find(|rule| rule.matches(facts))
        .unwrap_or(&RULES[RULES.len() - 1])
}

use Condition::*;
use DetailType::{ApiCall, SignIn};

const IAM: Option<&str> = Some("iam.amazonaws.com");
const SIGNIN: Option<&str> = Some("signin.amazonaws.com");
/// The rules, most specific first.
pub static RULES: &[Rule] = &[
    // --- Console sign-ins (signin.amazonaws.com, recorded in us-east-1) ---------------------
    Rule {
        id: "console-sign-in-failed",
        kind: AlertKind::SignInFailed,
        detail: SignIn,
        source: SIGNIN,
        names: &["ConsoleLogin"],
        when: &[Failed],
        severity: Severity::Medium,
        headline: "Failed root console sign-in",
        failed_headline: "Failed root console sign-in",
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_root_login_failed.yml",
    },
    Rule {
        id: "sign-in-without-mfa",
        kind: AlertKind::SignInWithoutMfa,
        detail: SignIn,
        source: SIGNIN,
        names: &["ConsoleLogin"],
        when: &[Mfa(MfaState::NotUsed)],
        severity: Severity::Critical,
        headline: "Root console sign-in WITHOUT MFA",
        failed_headline: "Failed root console sign-in",
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_console_login_success_without_mfa.yml",
    },
    Rule {
        id: "sign-in-mfa-not-recorded",
        kind: AlertKind::SignInMfaNotRecorded,
        detail: SignIn,
        source: SIGNIN,
        names: &["ConsoleLogin"],
        when: &[Mfa(MfaState::Unknown)],
        severity: Severity::Critical,
        headline: "Root console sign-in, MFA not recorded",
        failed_headline: "Failed root console sign-in",
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_root_login.yml",
    },
    Rule {
        id: "sign-in-with-mfa",
        kind: AlertKind::SignInWithMfa,
        detail: SignIn,
        source: SIGNIN,
        names: &["ConsoleLogin"],
        when: &[Mfa(MfaState::Used)],
        severity: Severity::High,
        headline: "Root console sign-in with MFA",
        failed_headline: "Failed root console sign-in",
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_root_login.yml",
    },
    Rule {
        id: "password-changed",
        kind: AlertKind::PasswordChanged,
        detail: SignIn,
        source: SIGNIN,
        names: &["PasswordUpdated"],
        when: &[],
        severity: Severity::Critical,
        headline: "Root password changed",
        failed_headline: "Failed root password change",
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_password_changed.yml",
    },
    Rule {
        id: "password-recovery-requested",
        kind: AlertKind::PasswordRecoveryRequested,
        detail: SignIn,
        source: SIGNIN,
        names: &["PasswordRecoveryRequested"],
        when: &[],
        severity: Severity::High,
        headline: "Root password recovery requested",
        failed_headline: "Failed root password recovery request",
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/initial_access_password_recovery.toml",
    },
    Rule {
        id: "password-recovery-completed",
        kind: AlertKind::PasswordRecoveryCompleted,
        detail: SignIn,
        source: SIGNIN,
        names: &["PasswordRecoveryCompleted"],
        when: &[],
        severity: Severity::Critical,
        headline: "Root password reset by recovery",
        failed_headline: "Failed root password reset",
        reference: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    },
    Rule {
        id: "sign-in-step-failed",
        kind: AlertKind::SignInFailed,
        detail: SignIn,
        source: SIGNIN,
        names: &[],
        when: &[Failed],
        severity: Severity::Medium,
        headline: "Failed root sign-in step",
        failed_headline: "Failed root sign-in step",
        reference: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    },
    Rule {
        id: "other-sign-in-activity",
        kind: AlertKind::OtherSignInActivity,
        detail: SignIn,
        source: None,
        names: &[],
        when: &[],
        severity: Severity::Low,
        headline: "Root sign-in activity",
        failed_headline: "Failed root sign-in activity",
        reference: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    },
    // --- Centralized root access: task sessions that only unlock or read (AssumeRoot) ------
    Rule {
        id: "assume-root-unlock-policy",
        kind: AlertKind::AssumeRootTask,
        detail: ApiCall,
        source: None,
        names: &["DeleteBucketPolicy"],
        when: &[Credential(CredentialKind::AssumeRoot)],
        severity: Severity::Medium,
        headline: "Resource policy unlocked via AssumeRoot",
        failed_headline: "Failed resource policy unlock via AssumeRoot",
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html",
    },
    Rule {
        id: "assume-root-audit-read",
        kind: AlertKind::AssumeRootTask,
        detail: ApiCall,
        source: None,
        names: &[],
        when: &[Credential(CredentialKind::AssumeRoot), ReadOnly],
        severity: Severity::Medium,
        headline: "Root credentials audited via AssumeRoot",
        failed_headline: "Failed root credential audit via AssumeRoot",
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-track-privileged-tasks.html",
    },
    // --- Root's own credentials and the account's recovery path ----------------------------
    Rule {
        id: "access-key-created",
        kind: AlertKind::AccessKeyCreated,
        detail: ApiCall,
        source: IAM,
        names: &["CreateAccessKey"],
        when: &[OnRootItself],
        severity: Severity::Critical,
        headline: "Root access key created",
        failed_headline: "Failed root access key creation",
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_access_key_created.yml",
    },
    Rule {
        id: "root-credentials-changed",
        kind: AlertKind::CredentialsChanged,
        detail: ApiCall,
        source: IAM,
        names: &[
            "CreateLoginProfile",
            "UpdateLoginProfile",
            "DeleteLoginProfile",
            "UpdateAccessKey",
            "DeleteAccessKey",
            "UploadSigningCertificate",
            "UpdateSigningCertificate",
            "DeleteSigningCertificate",
            "EnableMFADevice",
            "ResyncMFADevice",
        ],
        when: &[OnRootItself],
        severity: Severity::Critical,
        headline: "Root credentials changed",
        failed_headline: "Failed root credential change",
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/persistence_iam_create_login_profile_for_root.toml",
    },
    Rule {
        id: "mfa-device-removed",
        kind: AlertKind::MfaDeviceRemoved,
        detail: ApiCall,
        source: IAM,
        names: &["DeactivateMFADevice"],
        when: &[OnRootItself],
        severity: Severity::Critical,
        headline: "Root MFA device deactivated",
        failed_headline: "Failed root MFA deactivation",
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_disable.html",
    },
    Rule {
        id: "account-recovery-changed",
        kind: AlertKind::AccountRecoveryChanged,
        detail: ApiCall,
        source: Some("account.amazonaws.com"),
        names: &[
            "PutAlternateContact",
            "DeleteAlternateContact",
            "PutContactInformation",
            "StartPrimaryEmailUpdate",
            "AcceptPrimaryEmailUpdate",
        ],
        when: &[],
        severity: Severity::Critical,
        headline: "Account contacts changed by root",
        failed_headline: "Failed account contact change by root",
        reference: "https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-update-root-user-email.html",
    },
    // --- Defence evasion: the records and detectors that would show what happened ----------
    Rule {
        id: "cloudtrail-tampered",
        kind: AlertKind::CloudTrailTampered,
        detail: ApiCall,
        source: Some("cloudtrail.amazonaws.com"),
        names: &[
            "StopLogging",
            "DeleteTrail",
            "UpdateTrail",
            "PutEventSelectors",
            "PutInsightSelectors",
            "DeleteEventDataStore",
            "StopEventDataStoreIngestion",
        ],
        when: &[],
        severity: Severity::Critical,
        headline: "CloudTrail changed by root",
        failed_headline: "Failed CloudTrail change by root",
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_disable_logging.yml",
    },
    Rule {
        id: "left-organization",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("organizations.amazonaws.com"),
        names: &["LeaveOrganization"],
        when: &[],
        severity: Severity::Critical,
        headline: "Account leaving its organization",
        failed_headline: "Failed attempt to leave the organization",
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/defense_evasion_organizations_leave_organization.toml",
    },
    Rule {
        id: "guardduty-disabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("guardduty.amazonaws.com"),
        names: &[
            "DeleteDetector",
            "DisassociateFromAdministratorAccount",
            "DisassociateFromMasterAccount",
        ],
        when: &[],
        severity: Severity::Critical,
        headline: "GuardDuty disabled by root",
        failed_headline: "Failed GuardDuty change by root",
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_guardduty_detector_deleted_or_updated.yml",
    },
    Rule {
        id: "config-disabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("config.amazonaws.com"),
        names: &[
            "StopConfigurationRecorder",
            "DeleteConfigurationRecorder",
            "DeleteDeliveryChannel",
        ],
        when: &[],
        severity: Severity::Critical,
        headline: "AWS Config disabled by root",
        failed_headline: "Failed AWS Config change by root",
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_config_disable_recording.yml",
    },
    Rule {
        id: "security-hub-disabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("securityhub.amazonaws.com"),
        names: &["DisableSecurityHub"],
        when: &[],
        severity: Severity::Critical,
        headline: "Security Hub disabled by root",
        failed_headline: "Failed Security Hub change by root",
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/defense_evasion_securityhub_disabled.toml",
    },
    Rule {
        id: "access-analyzer-deleted",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("access-analyzer.amazonaws.com"),
        names: &["DeleteAnalyzer"],
        when: &[],
        severity: Severity::Critical,
        headline: "IAM Access Analyzer deleted by root",
        failed_headline: "Failed Access Analyzer deletion by root",
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-getting-started.html",
    },
    Rule {
        id: "region-enabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("account.amazonaws.com"),
        names: &["EnableRegion"],
        when: &[],
        severity: Severity::Critical,
        headline: "New region enabled by root",
        failed_headline: "Failed region enablement by root",
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_region_enabled.yml",
    },
    Rule {
        id: "kms-key-deletion",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("kms.amazonaws.com"),
        names: &["ScheduleKeyDeletion", "DisableKey"],
        when: &[],
        severity: Severity::Critical,
        headline: "KMS key disabled or set for deletion by root",
        failed_headline: "Failed KMS key disable or deletion by root",
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/impact_kms_cmk_disabled_or_scheduled_for_deletion.toml",
    },
    // --- Any other root call: the credential decides -----------------------------------------
    Rule {
        id: "long-term-access-key-used",
        kind: AlertKind::LongTermAccessKeyUsed,
        detail: ApiCall,
        source: None,
        names: &[],
        when: &[Credential(CredentialKind::LongTermKey)],
        severity: Severity::Critical,
        headline: "Root access key used",
        failed_headline: "Root access key used, call refused",
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_root_account_usage.yml",
    },
    Rule {
        id: "secret-read",
        kind: AlertKind::SecretRead,
        detail: ApiCall,
        source: None,
        names: &["GetSecretValue", "BatchGetSecretValue", "GetPasswordData"],
        when: &[],
        severity: Severity::High,
        headline: "Secret read by root",
        failed_headline: "Failed secret read by root",
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_secretsmanager_batch_get_secret_value.yml",
    },
    Rule {
        id: "read-only-console-call",
        kind: AlertKind::ReadOnlyCall,
        detail: ApiCall,
        source: None,
        names: &[],
        when: &[Credential(CredentialKind::ConsoleSession), ReadOnly],
        severity: Severity::Low,
        headline: "Root read-only call",
        failed_headline: "Root read-only call refused",
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_activity.yml",
    },
    Rule {
        id: "api-call",
        kind: AlertKind::ApiCall,
        detail: ApiCall,
        source: None,
        names: &[],
        when: &[],
        severity: Severity::High,
        headline: "Root API call",
        failed_headline: "Root API call refused",
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_activity.yml",
    },
];

/// The README's "Severity rules" table, generated from [`RULES`] (`tests/readme.rs` keeps the
/// README equal to it).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| # | Rule | `kind` | Event | When | Severity | Reference |\n|---|---|---|---|---|---|---|\n",
    );
    for (i, rule) in RULES.iter().enumerate() {
        let detail = match rule.detail {
            SignIn => "sign-in",
            ApiCall => "API call",
        };
        let source = rule
            .source
            .map(|s| s.trim_end_matches(".amazonaws.com"))
            .unwrap_or("any");
        let names = if rule.names.is_empty() {
            "any".to_owned()
        } else {
            rule.names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let when = if rule.when.is_empty() {
            "—".to_owned()
        } else {
            rule.when
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let reference = rule
            .reference
            .rsplit('/')
            .find(|part| !part.is_empty())
            .unwrap_or(rule.reference);
        out.push_str(&format!(
            "| {} | `{}` | `{}` | {detail} `{source}`: {names} | {when} | {} | [{reference}]({}) |\n",
            i + 1,
            rule.id,
            rule.kind.as_str(),
            rule.severity.as_str(),
            rule.reference,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_rule_and_ids_are_unique() {
        for kind in AlertKind::ALL {
            assert!(
                RULES.iter().any(|r| r.kind == kind),
                "no rule for {}",
                kind.as_str()
            );
        }
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len(), "duplicate rule ids");
    }

    /// The last row of each detail-type catches everything, so no event is left without a rule.
    #[test]
    fn the_table_ends_in_catch_alls() {
        let catch_all = |detail| {
            RULES
                .iter()
                .rfind(|r| r.detail == detail)
                .is_some_and(|r| r.source.is_none() && r.names.is_empty() && r.when.is_empty())
        };
        assert!(catch_all(SignIn));
        assert!(catch_all(ApiCall));
    }

    #[test]
    fn every_rule_cites_a_reference() {
        for rule in RULES {
            assert!(rule.reference.starts_with("https://"), "{}", rule.id);
        }
    }

    /// A rule that an earlier row always shadows can never fire.
    #[test]
    fn no_rule_is_shadowed_by_an_earlier_catch_all() {
        for (i, rule) in RULES.iter().enumerate() {
            let shadow = RULES[..i].iter().find(|earlier| {
                earlier.detail == rule.detail
                    && earlier.source.is_none_or(|s| Some(s) == rule.source)
                    && (earlier.names.is_empty()
                        || (!rule.names.is_empty()
                            && rule.names.iter().all(|n| earlier.names.contains(n))))
                    && earlier.when.iter().all(|c| rule.when.contains(c))
            });
            assert_eq!(shadow.map(|s| s.id), None, "{} is shadowed", rule.id);
        }
    }
}
