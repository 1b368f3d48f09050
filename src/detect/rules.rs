//! The severity rules, as data: one row per rule, each with the public reference it rests on.
//!
//! [`RULES`] is read top to bottom and the first row whose conditions all hold decides; the
//! engine ([`Rule::matches`]) knows nothing about particular events. To add a rule, add a row (and
//! a sample in `events/` with its reviewed snapshot); the "Severity rules" table in docs/rules.md is
//! checked against these rows by `tests/it/docs.rs`.
//!
//! References point at the rule sets detection engineers run — panther-analysis
//! (`rules/aws_cloudtrail_rules/`), SigmaHQ (`rules/cloud/aws/cloudtrail/`), Elastic
//! detection-rules (`rules/integrations/aws/`) — and at AWS's own documentation.

use crate::detect::record::DetailType;
use crate::domain::{AlertKind, CredentialKind, MfaState, Severity};

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
}

/// What an alert says happened, in a few words: the headline of subjects, texts and chat titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headline {
    /// For an attempt that succeeded.
    pub done: &'static str,
    /// For an attempt that failed (the error code is added after it).
    pub failed: &'static str,
    /// For an attempt refused for want of permission (an `AccessDenied…` or
    /// `…UnauthorizedOperation` code: an SCP, a permissions boundary, a resource policy). The
    /// same as `failed` unless the row says "refused", which a responder reads as an
    /// authorisation block and must not read for a missing entity or a bad parameter.
    pub refused: &'static str,
}

impl Headline {
    /// This headline, saying `refused` of a permission error instead of `failed`.
    const fn or_refused(self, refused: &'static str) -> Headline {
        Headline { refused, ..self }
    }
}

/// The longest headline: the SMS keeps it whole beside the account, the source IP and the time.
#[cfg(test)]
const MAX_HEADLINE: usize = 48;

/// A headline, for a row of the table; a refusal is one of its failures.
const fn says(done: &'static str, failed: &'static str) -> Headline {
    Headline {
        done,
        failed,
        refused: failed,
    }
}

/// The `eventName`s a rule covers, and what the alert calls each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    /// Any `eventName`, under one headline: the call's name is the news, so messages add it.
    Any(Headline),
    /// These `eventName`s, each under its own headline: a rule that groups several events still
    /// says which one happened.
    Named(&'static [(&'static str, Headline)]),
}

impl Events {
    /// The headline for `event_name`, if the rule covers it.
    pub fn headline(self, event_name: &str) -> Option<Headline> {
        match self {
            Events::Any(headline) => Some(headline),
            Events::Named(named) => named
                .iter()
                .find(|(name, _)| *name == event_name)
                .map(|(_, headline)| *headline),
        }
    }

    /// The names, when the rule lists them.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        let named: &'static [(&'static str, Headline)] = match self {
            Events::Any(_) => &[],
            Events::Named(named) => named,
        };
        named.iter().map(|(name, _)| *name)
    }

    pub(crate) fn is_any(self) -> bool {
        matches!(self, Events::Any(_))
    }
}

/// One row of the rule table.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable name, shown in docs/rules.md and the email.
    pub id: &'static str,
    pub kind: AlertKind,
    pub detail: DetailType,
    /// `eventSource`, or any.
    pub source: Option<&'static str>,
    /// The `eventName`s, each with its headline, or any.
    pub events: Events,
    /// All must hold.
    pub when: &'static [Condition],
    pub severity: Severity,
    /// The public reference that justifies the rule and its severity.
    pub reference: &'static str,
}

impl Rule {
    /// The headline the rule gives the event, when the rule matches it.
    pub fn matches(&self, facts: &Facts<'_>) -> Option<Headline> {
        if self.detail != facts.detail
            || self.source.is_some_and(|s| s != facts.event_source)
            || !self.when.iter().all(|c| c.holds(facts))
        {
            return None;
        }
        self.events.headline(facts.event_name)
    }
}

/// The rule that decided, and what it calls the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub rule: &'static Rule,
    pub headline: Headline,
}

/// The first rule that matches. The table ends in catch-all rows, so there always is one.
pub(crate) fn first_match(facts: &Facts<'_>) -> Match {
    RULES
        .iter()
        .find_map(|rule| rule.matches(facts).map(|headline| Match { rule, headline }))
        .unwrap_or(Match {
            rule: &RULES[RULES.len() - 1],
            headline: ROOT_API_CALL,
        })
}

use Condition::*;
use DetailType::{ApiCall, SignIn};
use Events::{Any, Named};

const IAM: Option<&str> = Some("iam.amazonaws.com");
const SIGNIN: Option<&str> = Some("signin.amazonaws.com");
const FAILED_CONSOLE_SIGN_IN: Headline =
    says("Failed root console sign-in", "Failed root console sign-in");
const ROOT_API_CALL: Headline =
    says("Root API call", "Root API call failed").or_refused("Root API call refused");

/// The rules, most specific first. Each headline of a row that names its events says what that
/// call does, in the words of its API reference (linked in docs/rules.md).
pub static RULES: &[Rule] = &[
    // --- Console sign-ins (signin.amazonaws.com, recorded in us-east-1) ---------------------
    Rule {
        id: "console-sign-in-failed",
        kind: AlertKind::SignInFailed,
        detail: SignIn,
        source: SIGNIN,
        events: Named(&[("ConsoleLogin", FAILED_CONSOLE_SIGN_IN)]),
        when: &[Failed],
        severity: Severity::Medium,
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_root_login_failed.yml",
    },
    Rule {
        id: "sign-in-without-mfa",
        kind: AlertKind::SignInWithoutMfa,
        detail: SignIn,
        source: SIGNIN,
        events: Named(&[(
            "ConsoleLogin",
            says(
                "Root console sign-in WITHOUT MFA",
                "Failed root console sign-in",
            ),
        )]),
        when: &[Mfa(MfaState::NotUsed)],
        severity: Severity::Critical,
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_console_login_success_without_mfa.yml",
    },
    Rule {
        id: "sign-in-mfa-not-recorded",
        kind: AlertKind::SignInMfaNotRecorded,
        detail: SignIn,
        source: SIGNIN,
        events: Named(&[(
            "ConsoleLogin",
            says(
                "Root console sign-in, MFA not recorded",
                "Failed root console sign-in",
            ),
        )]),
        when: &[Mfa(MfaState::Unknown)],
        severity: Severity::Critical,
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_root_login.yml",
    },
    Rule {
        id: "sign-in-with-mfa",
        kind: AlertKind::SignInWithMfa,
        detail: SignIn,
        source: SIGNIN,
        events: Named(&[(
            "ConsoleLogin",
            says(
                "Root console sign-in with MFA",
                "Failed root console sign-in",
            ),
        )]),
        when: &[Mfa(MfaState::Used)],
        severity: Severity::High,
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_console_root_login.yml",
    },
    Rule {
        id: "password-changed",
        kind: AlertKind::PasswordChanged,
        detail: SignIn,
        source: SIGNIN,
        events: Named(&[(
            "PasswordUpdated",
            says("Root password changed", "Failed root password change"),
        )]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_password_changed.yml",
    },
    Rule {
        id: "password-recovery-requested",
        kind: AlertKind::PasswordRecoveryRequested,
        detail: SignIn,
        source: SIGNIN,
        events: Named(&[(
            "PasswordRecoveryRequested",
            says(
                "Root password recovery requested",
                "Failed root password recovery request",
            ),
        )]),
        when: &[],
        severity: Severity::High,
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/initial_access_password_recovery.toml",
    },
    Rule {
        id: "password-recovery-completed",
        kind: AlertKind::PasswordRecoveryCompleted,
        detail: SignIn,
        source: SIGNIN,
        events: Named(&[(
            "PasswordRecoveryCompleted",
            says(
                "Root password reset by recovery",
                "Failed root password reset",
            ),
        )]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    },
    Rule {
        id: "sign-in-step-failed",
        kind: AlertKind::SignInFailed,
        detail: SignIn,
        source: SIGNIN,
        events: Any(says("Failed root sign-in step", "Failed root sign-in step")),
        when: &[Failed],
        severity: Severity::Medium,
        reference: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    },
    Rule {
        id: "other-sign-in-activity",
        kind: AlertKind::OtherSignInActivity,
        detail: SignIn,
        source: None,
        events: Any(says(
            "Root sign-in activity",
            "Failed root sign-in activity",
        )),
        when: &[],
        severity: Severity::Low,
        reference: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-aws-console-sign-in-events.html",
    },
    // --- Centralized root access: task sessions that only unlock or read (AssumeRoot) ------
    Rule {
        id: "assume-root-unlock-policy",
        kind: AlertKind::AssumeRootTask,
        detail: ApiCall,
        source: None,
        events: Named(&[(
            "DeleteBucketPolicy",
            says(
                "Resource policy unlocked via AssumeRoot",
                "Failed resource policy unlock via AssumeRoot",
            ),
        )]),
        when: &[Credential(CredentialKind::AssumeRoot)],
        severity: Severity::Medium,
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html",
    },
    Rule {
        id: "assume-root-audit-read",
        kind: AlertKind::AssumeRootTask,
        detail: ApiCall,
        source: None,
        events: Any(says(
            "Root credentials audited via AssumeRoot",
            "Failed root credential audit via AssumeRoot",
        )),
        when: &[Credential(CredentialKind::AssumeRoot), ReadOnly],
        severity: Severity::Medium,
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/cloudtrail-track-privileged-tasks.html",
    },
    // --- Root's own credentials and the account's recovery path ----------------------------
    // Each headline follows the IAM API Reference page of its call.
    Rule {
        id: "access-key-created",
        kind: AlertKind::AccessKeyCreated,
        detail: ApiCall,
        source: IAM,
        events: Named(&[(
            "CreateAccessKey",
            says("Root access key created", "Failed root access key creation"),
        )]),
        when: &[OnRootItself],
        severity: Severity::Critical,
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_access_key_created.yml",
    },
    Rule {
        id: "root-credentials-changed",
        kind: AlertKind::CredentialsChanged,
        detail: ApiCall,
        source: IAM,
        events: Named(&[
            // Through AssumeRoot the call carries no password: it lets root recover one.
            (
                "CreateLoginProfile",
                says(
                    "Root login profile created",
                    "Failed root login profile creation",
                ),
            ),
            (
                "UpdateLoginProfile",
                says(
                    "Root console password changed",
                    "Failed root console password change",
                ),
            ),
            (
                "DeleteLoginProfile",
                says(
                    "Root console password deleted",
                    "Failed root console password deletion",
                ),
            ),
            // Active to inactive, or back.
            (
                "UpdateAccessKey",
                says(
                    "Root access key status changed",
                    "Failed root access key status change",
                ),
            ),
            (
                "DeleteAccessKey",
                says("Root access key deleted", "Failed root access key deletion"),
            ),
            (
                "UploadSigningCertificate",
                says(
                    "Root signing certificate uploaded",
                    "Failed root signing certificate upload",
                ),
            ),
            (
                "UpdateSigningCertificate",
                says(
                    "Root signing certificate status changed",
                    "Failed root signing certificate change",
                ),
            ),
            (
                "DeleteSigningCertificate",
                says(
                    "Root signing certificate deleted",
                    "Failed root signing certificate deletion",
                ),
            ),
            (
                "EnableMFADevice",
                says("Root MFA device enabled", "Failed root MFA device enabling"),
            ),
            (
                "ResyncMFADevice",
                says("Root MFA device resynced", "Failed root MFA device resync"),
            ),
        ]),
        when: &[OnRootItself],
        severity: Severity::Critical,
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/persistence_iam_create_login_profile_for_root.toml",
    },
    Rule {
        id: "mfa-device-removed",
        kind: AlertKind::MfaDeviceRemoved,
        detail: ApiCall,
        source: IAM,
        events: Named(&[(
            "DeactivateMFADevice",
            says(
                "Root MFA device deactivated",
                "Failed root MFA deactivation",
            ),
        )]),
        when: &[OnRootItself],
        severity: Severity::Critical,
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_disable.html",
    },
    // Headlines follow the AWS Account Management API Reference; the primary email is the root
    // user's email address.
    Rule {
        id: "account-recovery-changed",
        kind: AlertKind::AccountRecoveryChanged,
        detail: ApiCall,
        source: Some("account.amazonaws.com"),
        events: Named(&[
            (
                "PutAlternateContact",
                says(
                    "Alternate contact changed by root",
                    "Failed alternate contact change by root",
                ),
            ),
            (
                "DeleteAlternateContact",
                says(
                    "Alternate contact deleted by root",
                    "Failed alternate contact deletion by root",
                ),
            ),
            (
                "PutContactInformation",
                says(
                    "Primary contact changed by root",
                    "Failed primary contact change by root",
                ),
            ),
            // Sends a code to the new address; the change happens when it is accepted.
            (
                "StartPrimaryEmailUpdate",
                says(
                    "Root user email change started",
                    "Failed start of a root user email change",
                ),
            ),
            (
                "AcceptPrimaryEmailUpdate",
                says("Root user email changed", "Failed root user email change"),
            ),
        ]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-update-root-user-email.html",
    },
    // --- Defence evasion: the records and detectors that would show what happened ----------
    // Headlines follow the AWS CloudTrail API Reference.
    Rule {
        id: "cloudtrail-tampered",
        kind: AlertKind::CloudTrailTampered,
        detail: ApiCall,
        source: Some("cloudtrail.amazonaws.com"),
        events: Named(&[
            (
                "StopLogging",
                says(
                    "CloudTrail logging stopped by root",
                    "Failed attempt to stop CloudTrail logging",
                ),
            ),
            (
                "DeleteTrail",
                says(
                    "CloudTrail trail deleted by root",
                    "Failed CloudTrail trail deletion by root",
                ),
            ),
            // What a trail logs, where it delivers, how it encrypts.
            (
                "UpdateTrail",
                says(
                    "CloudTrail trail settings changed by root",
                    "Failed CloudTrail trail change by root",
                ),
            ),
            // Which management and data events a trail logs.
            (
                "PutEventSelectors",
                says(
                    "CloudTrail event selectors changed by root",
                    "Failed CloudTrail selector change by root",
                ),
            ),
            // Turns Insights on or off.
            (
                "PutInsightSelectors",
                says(
                    "CloudTrail Insights selectors changed by root",
                    "Failed CloudTrail Insights change by root",
                ),
            ),
            // Disabled at once, deleted after seven days.
            (
                "DeleteEventDataStore",
                says(
                    "CloudTrail event data store disabled by root",
                    "Failed CloudTrail data store deletion by root",
                ),
            ),
            (
                "StopEventDataStoreIngestion",
                says(
                    "CloudTrail Lake ingestion stopped by root",
                    "Failed CloudTrail Lake ingestion stop by root",
                ),
            ),
        ]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_disable_logging.yml",
    },
    Rule {
        id: "left-organization",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("organizations.amazonaws.com"),
        events: Named(&[(
            "LeaveOrganization",
            says(
                "Account left its organization",
                "Failed attempt to leave the organization",
            ),
        )]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/defense_evasion_organizations_leave_organization.toml",
    },
    Rule {
        id: "guardduty-disabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("guardduty.amazonaws.com"),
        events: Named(&[
            (
                "DeleteDetector",
                says(
                    "GuardDuty detector deleted by root",
                    "Failed GuardDuty detector deletion by root",
                ),
            ),
            // GuardDuty stays on; its administrator no longer sees the findings.
            ("DisassociateFromAdministratorAccount", GUARDDUTY_DETACHED),
            ("DisassociateFromMasterAccount", GUARDDUTY_DETACHED),
        ]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_guardduty_detector_deleted_or_updated.yml",
    },
    Rule {
        id: "config-disabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("config.amazonaws.com"),
        events: Named(&[
            (
                "StopConfigurationRecorder",
                says(
                    "AWS Config recorder stopped by root",
                    "Failed AWS Config recorder stop by root",
                ),
            ),
            (
                "DeleteConfigurationRecorder",
                says(
                    "AWS Config recorder deleted by root",
                    "Failed AWS Config recorder deletion by root",
                ),
            ),
            (
                "DeleteDeliveryChannel",
                says(
                    "AWS Config delivery channel deleted by root",
                    "Failed AWS Config channel deletion by root",
                ),
            ),
        ]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_config_disable_recording.yml",
    },
    Rule {
        id: "security-hub-disabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("securityhub.amazonaws.com"),
        events: Named(&[(
            "DisableSecurityHub",
            says(
                "Security Hub disabled by root",
                "Failed Security Hub change by root",
            ),
        )]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/defense_evasion_securityhub_disabled.toml",
    },
    Rule {
        id: "access-analyzer-deleted",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("access-analyzer.amazonaws.com"),
        events: Named(&[(
            "DeleteAnalyzer",
            says(
                "IAM Access Analyzer deleted by root",
                "Failed Access Analyzer deletion by root",
            ),
        )]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-getting-started.html",
    },
    Rule {
        id: "region-enabled",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("account.amazonaws.com"),
        events: Named(&[(
            "EnableRegion",
            says(
                "New region enabled by root",
                "Failed region enablement by root",
            ),
        )]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_cloudtrail_region_enabled.yml",
    },
    Rule {
        id: "kms-key-deletion",
        kind: AlertKind::DefenceEvasion,
        detail: ApiCall,
        source: Some("kms.amazonaws.com"),
        events: Named(&[
            // Unusable at once, deleted after the waiting period (7 to 30 days).
            (
                "ScheduleKeyDeletion",
                says(
                    "KMS key scheduled for deletion by root",
                    "Failed KMS key deletion scheduling by root",
                ),
            ),
            (
                "DisableKey",
                says(
                    "KMS key disabled by root",
                    "Failed KMS key disabling by root",
                ),
            ),
        ]),
        when: &[],
        severity: Severity::Critical,
        reference: "https://github.com/elastic/detection-rules/blob/main/rules/integrations/aws/impact_kms_cmk_disabled_or_scheduled_for_deletion.toml",
    },
    // --- Any other root call: the credential decides -----------------------------------------
    Rule {
        id: "long-term-access-key-used",
        kind: AlertKind::LongTermAccessKeyUsed,
        detail: ApiCall,
        source: None,
        events: Any(
            says("Root access key used", "Root access key used, call failed")
                .or_refused("Root access key used, call refused"),
        ),
        when: &[Credential(CredentialKind::LongTermKey)],
        severity: Severity::Critical,
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_root_account_usage.yml",
    },
    Rule {
        id: "secret-read",
        kind: AlertKind::SecretRead,
        detail: ApiCall,
        source: None,
        events: Named(&[
            (
                "GetSecretValue",
                says("Secret read by root", "Failed secret read by root"),
            ),
            // Up to 20 secrets at once.
            (
                "BatchGetSecretValue",
                says(
                    "Secrets read in a batch by root",
                    "Failed batch secret read by root",
                ),
            ),
            // A Windows instance's administrator password, encrypted with its key pair.
            (
                "GetPasswordData",
                says(
                    "Windows password data read by root",
                    "Failed Windows password read by root",
                ),
            ),
        ]),
        when: &[],
        severity: Severity::High,
        reference: "https://github.com/SigmaHQ/sigma/blob/master/rules/cloud/aws/cloudtrail/aws_secretsmanager_batch_get_secret_value.yml",
    },
    Rule {
        id: "read-only-console-call",
        kind: AlertKind::ReadOnlyCall,
        detail: ApiCall,
        source: None,
        events: Any(says("Root read-only call", "Root read-only call failed")
            .or_refused("Root read-only call refused")),
        when: &[Credential(CredentialKind::ConsoleSession), ReadOnly],
        severity: Severity::Low,
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_activity.yml",
    },
    Rule {
        id: "api-call",
        kind: AlertKind::ApiCall,
        detail: ApiCall,
        source: None,
        events: Any(ROOT_API_CALL),
        when: &[],
        severity: Severity::High,
        reference: "https://github.com/panther-labs/panther-analysis/blob/main/rules/aws_cloudtrail_rules/aws_root_activity.yml",
    },
];

const GUARDDUTY_DETACHED: Headline = says(
    "GuardDuty detached from administrator by root",
    "Failed GuardDuty administrator detach by root",
);

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
                .is_some_and(|r| r.source.is_none() && r.events.is_any() && r.when.is_empty())
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
                    && (earlier.events.is_any()
                        || (!rule.events.is_any()
                            && rule
                                .events
                                .names()
                                .all(|n| earlier.events.names().any(|e| e == n))))
                    && earlier.when.iter().all(|c| rule.when.contains(c))
            });
            assert_eq!(shadow.map(|s| s.id), None, "{} is shadowed", rule.id);
        }
    }

    /// A row that groups events says which one happened: no two of its events share a headline,
    /// and no event is listed twice (the second would never be read).
    #[test]
    fn grouped_events_each_have_their_own_headline() {
        for rule in RULES {
            let Named(named) = rule.events else { continue };
            for (i, (name, headline)) in named.iter().enumerate() {
                for (other, other_headline) in &named[i + 1..] {
                    assert_ne!(name, other, "{} lists {name} twice", rule.id);
                    // Deprecated aliases of one call may share a headline.
                    if !is_alias(name, other) {
                        assert_ne!(
                            headline.done, other_headline.done,
                            "{}: {name} and {other}",
                            rule.id
                        );
                        assert_ne!(
                            headline.failed, other_headline.failed,
                            "{}: {name} and {other}",
                            rule.id
                        );
                    }
                }
            }
        }
    }

    /// GuardDuty renamed "master" to "administrator"; both calls do the same.
    fn is_alias(a: &str, b: &str) -> bool {
        let mut pair = [a, b];
        pair.sort_unstable();
        pair == [
            "DisassociateFromAdministratorAccount",
            "DisassociateFromMasterAccount",
        ]
    }

    /// A failed attempt never reads as done, and every headline leaves the SMS room for the
    /// account, the source IP and the time.
    #[test]
    fn headlines_are_short_and_failures_say_so() {
        let headlines = RULES.iter().flat_map(|rule| match rule.events {
            Any(headline) => vec![headline],
            Named(named) => named.iter().map(|(_, headline)| *headline).collect(),
        });
        for Headline {
            done,
            failed,
            refused,
        } in headlines
        {
            for text in [done, failed, refused] {
                assert!(text.len() <= MAX_HEADLINE, "{text} is {} long", text.len());
                assert!(text.is_ascii(), "{text}");
            }
            // "refused" is kept for permission errors ([`Headline::refused`]).
            assert!(
                (failed.contains("Failed") || failed.contains("failed"))
                    && !failed.contains("refused"),
                "{failed}"
            );
            assert!(
                refused.contains("Failed") || refused.contains("refused"),
                "{refused}"
            );
        }
    }
}
