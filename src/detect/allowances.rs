//! Allowances, as data: the `sts:AssumeRoot` tasks a team may run without a page, one row each
//! with the AWS page it rests on.
//!
//! A row lowers the severity the rule table gave ([`crate::detect::rules`]) when the call came
//! from an `sts:AssumeRoot` session that a role in `ASSUME_ROOT_ISSUERS` started, and the call is
//! one the row's task policy permits. It never hides an alert: it applies only below CRITICAL, it
//! only lowers, and the alert keeps its kind and rule and says which allowance lowered it from
//! what. The "Allowances" table in docs/rules.md is checked against these rows by
//! `tests/it/docs.rs`.
//!
//! A member account's record does not name the task policy (only the management account's
//! `AssumeRoot` call does, in its `requestParameters`), so a row lists every call its policy
//! permits; AWS lets such a session make no other ("Perform a privileged task on an AWS
//! Organizations member account", IAM User Guide). The issuer is read from
//! `userIdentity.inScopeOf`: a record without it (AWS's own member-account example in "Track
//! privileged tasks in AWS CloudTrail" has none) matches no row, and keeps its rule's severity.

use std::fmt;

use serde::Serialize;

use crate::detect::record::RootEvent;
use crate::domain::{AssumeRootIssuers, CredentialKind, Severity};

/// One row of the allowance table.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Allowance {
    /// Stable name, shown in docs/rules.md, the email, chat and the structured alert.
    pub id: &'static str,
    /// The AWS managed policy that scopes the session (`AssumeRoot`'s `TaskPolicyArn`).
    pub task_policy: &'static str,
    /// Every call the task policy permits, as CloudTrail names it (`eventSource`, `eventName`).
    #[serde(skip)]
    pub calls: &'static [(&'static str, &'static str)],
    /// The severity a matching alert is lowered to, at most.
    pub lowers_to: Severity,
    /// Why, in a few words: what the email and chat say after the id.
    pub reason: &'static str,
    /// The public reference the row rests on.
    pub reference: &'static str,
}

/// `inScopeOf.issuerType` of a session `sts:AssumeRoot` issued.
const ASSUME_ROOT_ISSUER_TYPE: &str = "AWS::STS::AssumeRoot";

/// The allowances. The calls are copied from each task policy's document (AWS Managed Policy
/// Reference; IAM User Guide, "AWS managed policies for AWS Identity and Access Management"): the
/// policy denies every other action (`DenyAllOtherActionsOnAnyResource`). IAM's
/// `s3:ListAllMyBuckets` is CloudTrail's `ListBuckets`.
pub static ALLOWANCES: &[Allowance] = &[
    Allowance {
        id: "assume-root-s3-unlock",
        task_policy: "arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy",
        calls: &[
            ("s3.amazonaws.com", "DeleteBucketPolicy"),
            ("s3.amazonaws.com", "PutBucketPolicy"),
            ("s3.amazonaws.com", "GetBucketPolicy"),
            ("s3.amazonaws.com", "ListBuckets"),
        ],
        lowers_to: Severity::Low,
        reason: "a listed issuer's S3UnlockBucketPolicy session, which AWS limits to bucket policies",
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html",
    },
    Allowance {
        id: "assume-root-sqs-unlock",
        task_policy: "arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy",
        calls: &[
            ("sqs.amazonaws.com", "SetQueueAttributes"),
            ("sqs.amazonaws.com", "GetQueueAttributes"),
            ("sqs.amazonaws.com", "ListQueues"),
            ("sqs.amazonaws.com", "GetQueueUrl"),
        ],
        lowers_to: Severity::Low,
        reason: "a listed issuer's SQSUnlockQueuePolicy session, which AWS limits to queue attributes",
        reference: "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user-privileged-task.html",
    },
];

/// The allowance for a classified root event, if one applies: `credential` and `severity` are
/// what the rule table decided. Pure.
pub fn find(
    event: &RootEvent,
    credential: CredentialKind,
    severity: Severity,
    issuers: &AssumeRootIssuers,
) -> Option<&'static Allowance> {
    find_in(ALLOWANCES, event, credential, severity, issuers)
}

/// [`find`] over `rows`: the first row whose conditions all hold.
fn find_in(
    rows: &'static [Allowance],
    event: &RootEvent,
    credential: CredentialKind,
    severity: Severity,
    issuers: &AssumeRootIssuers,
) -> Option<&'static Allowance> {
    // Nothing lowers a CRITICAL alert, whatever a row lists.
    if severity >= Severity::Critical || credential != CredentialKind::AssumeRoot {
        return None;
    }
    let record = &event.detail;
    let scope = record.user_identity.in_scope_of.get()?;
    let issued = scope.issuer_type.as_deref() == Some(ASSUME_ROOT_ISSUER_TYPE)
        && scope
            .credentials_issued_to
            .as_deref()
            .is_some_and(|session| issuers.issued(session));
    if !issued {
        return None;
    }
    rows.iter().find(|row| {
        row.calls.iter().any(|(source, name)| {
            *source == record.event_source.as_str() && *name == record.event_name.as_str()
        })
    })
}

impl Allowance {
    /// `severity` under this allowance: lowered to [`Allowance::lowers_to`], never raised.
    pub fn lower(&self, severity: Severity) -> Severity {
        severity.min(self.lowers_to)
    }

    /// What the email and chat say of it, given the rule's own severity:
    /// `assume-root-sqs-unlock: a listed issuer's … (rule: HIGH)`.
    pub fn note(&self, rule: Severity) -> impl fmt::Display + '_ {
        Note(self, rule)
    }
}

struct Note<'a>(&'a Allowance, Severity);

impl fmt::Display for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Note(allowance, rule) = self;
        write!(
            f,
            "{}: {} (rule: {})",
            allowance.id,
            allowance.reason,
            rule.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::record::DetailType;
    use crate::detect::rules::{Facts, first_match};
    use crate::domain::MfaState;

    #[test]
    fn ids_are_unique_and_rows_cite_https_references_and_root_task_policies() {
        let mut ids: Vec<_> = ALLOWANCES.iter().map(|a| a.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALLOWANCES.len(), "duplicate allowance ids");
        for row in ALLOWANCES {
            assert!(row.reference.starts_with("https://"), "{}", row.id);
            assert!(
                row.task_policy
                    .starts_with("arn:aws:iam::aws:policy/root-task/"),
                "{}",
                row.id
            );
            assert!(!row.calls.is_empty(), "{}", row.id);
            assert!(row.lowers_to < Severity::Critical, "{}", row.id);
        }
    }

    /// A call belongs to one task: two rows listing it would leave the second unread.
    #[test]
    fn no_call_is_listed_twice() {
        let mut calls: Vec<_> = ALLOWANCES.iter().flat_map(|a| a.calls.iter()).collect();
        let all = calls.len();
        calls.sort_unstable();
        calls.dedup();
        assert_eq!(calls.len(), all, "a call is in two rows");
    }

    /// Every call a row lists, from an AssumeRoot session, under every outcome, read-only flag,
    /// `userName` and MFA state, is decided by a rule below CRITICAL: no row is written for a call
    /// that a CRITICAL rule catches (the run-time check would refuse it anyway).
    #[test]
    fn no_row_lists_a_call_a_critical_rule_decides() {
        for row in ALLOWANCES {
            for (source, name) in row.calls {
                for detail in [DetailType::ApiCall, DetailType::SignIn] {
                    for failed in [false, true] {
                        for read_only in [false, true] {
                            for names_iam_user in [false, true] {
                                for mfa in [MfaState::Used, MfaState::NotUsed, MfaState::Unknown] {
                                    let facts = Facts {
                                        detail,
                                        event_source: source,
                                        event_name: name,
                                        names_iam_user,
                                        failed,
                                        read_only,
                                        credential: CredentialKind::AssumeRoot,
                                        mfa,
                                    };
                                    let rule = first_match(&facts).rule;
                                    assert!(
                                        rule.severity < Severity::Critical,
                                        "{}: {source} {name} is decided by the CRITICAL rule {}",
                                        row.id,
                                        rule.id
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    const ISSUER: &str = "arn:aws:iam::999988887777:role/RootTasks";
    const SESSION: &str = "arn:aws:sts::999988887777:assumed-role/RootTasks/alice";

    fn issuers() -> AssumeRootIssuers {
        AssumeRootIssuers::parse(ISSUER).unwrap()
    }

    /// An AssumeRoot session's call in a member account, as the samples record it.
    fn sample(source: &str, name: &str, issued_to: &str) -> serde_json::Value {
        let mut sample = crate::samples::sample("root-assume-root-sqs-unlock");
        sample["detail"]["eventSource"] = source.into();
        sample["detail"]["eventName"] = name.into();
        sample["detail"]["userIdentity"]["inScopeOf"]["credentialsIssuedTo"] = issued_to.into();
        sample
    }

    fn parsed(sample: &serde_json::Value) -> RootEvent {
        crate::detect::record::parse_event(sample)
            .expect("the sample parses")
            .event
    }

    fn assumed(source: &str, name: &str, issued_to: &str) -> RootEvent {
        parsed(&sample(source, name, issued_to))
    }

    fn found(event: &RootEvent, severity: Severity) -> Option<&'static str> {
        find(event, CredentialKind::AssumeRoot, severity, &issuers()).map(|a| a.id)
    }

    #[test]
    fn a_listed_issuers_task_call_is_allowed_and_nothing_else() {
        let unlock = assumed("sqs.amazonaws.com", "SetQueueAttributes", SESSION);
        assert_eq!(
            found(&unlock, Severity::High),
            Some("assume-root-sqs-unlock")
        );
        let bucket = assumed("s3.amazonaws.com", "DeleteBucketPolicy", SESSION);
        assert_eq!(
            found(&bucket, Severity::Medium),
            Some("assume-root-s3-unlock")
        );
        // Another call, or the right name from another service.
        assert_eq!(
            found(
                &assumed("sqs.amazonaws.com", "DeleteQueue", SESSION),
                Severity::High
            ),
            None
        );
        assert_eq!(
            found(
                &assumed("sns.amazonaws.com", "SetQueueAttributes", SESSION),
                Severity::High
            ),
            None
        );
        // Not an AssumeRoot credential, though the record says it was issued to the role.
        assert_eq!(
            find(
                &unlock,
                CredentialKind::TemporaryKey,
                Severity::High,
                &issuers()
            ),
            None
        );
    }

    /// The issuer decides: an unlisted role, no issuers at all, no `inScopeOf`, or an issuer
    /// type other than AssumeRoot's changes nothing.
    #[test]
    fn an_unlisted_or_unproven_issuer_changes_nothing() {
        let other = assumed(
            "sqs.amazonaws.com",
            "SetQueueAttributes",
            "arn:aws:sts::999988887777:assumed-role/Admin/alice",
        );
        assert_eq!(found(&other, Severity::High), None);
        let unlock = assumed("sqs.amazonaws.com", "SetQueueAttributes", SESSION);
        assert_eq!(
            find(
                &unlock,
                CredentialKind::AssumeRoot,
                Severity::High,
                &AssumeRootIssuers::default()
            ),
            None
        );
        let mut bare = sample("sqs.amazonaws.com", "SetQueueAttributes", SESSION);
        bare["detail"]["userIdentity"]
            .as_object_mut()
            .expect("a userIdentity")
            .remove("inScopeOf");
        assert_eq!(found(&parsed(&bare), Severity::High), None);
        let mut lambda = sample("sqs.amazonaws.com", "SetQueueAttributes", SESSION);
        lambda["detail"]["userIdentity"]["inScopeOf"]["issuerType"] =
            "AWS::Lambda::Function".into();
        assert_eq!(found(&parsed(&lambda), Severity::High), None);
    }

    /// A row written for a call a CRITICAL rule decides is refused when it is read: severity
    /// CRITICAL finds no allowance, whatever the rows say.
    #[test]
    fn nothing_lowers_a_critical_alert() {
        static HOSTILE: &[Allowance] = &[Allowance {
            id: "lowers-a-takeover",
            task_policy: "arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword",
            calls: &[("iam.amazonaws.com", "CreateLoginProfile")],
            lowers_to: Severity::Low,
            reason: "would hide a takeover",
            reference: "https://example.com",
        }];
        let takeover = assumed("iam.amazonaws.com", "CreateLoginProfile", SESSION);
        let verdict = crate::detect::classify::classify(&takeover).expect("a root event");
        assert_eq!(verdict.severity, Severity::Critical);
        assert_eq!(
            find_in(
                HOSTILE,
                &takeover,
                verdict.credential,
                verdict.severity,
                &issuers()
            ),
            None
        );
        // The same row applies below CRITICAL: the refusal is the severity's, not the row's.
        assert!(
            find_in(
                HOSTILE,
                &takeover,
                verdict.credential,
                Severity::High,
                &issuers()
            )
            .is_some()
        );
    }

    #[test]
    fn an_allowance_only_lowers() {
        let row = &ALLOWANCES[0];
        assert_eq!(row.lower(Severity::High), Severity::Low);
        assert_eq!(row.lower(Severity::Low), Severity::Low);
        let medium = Allowance {
            lowers_to: Severity::Medium,
            ..*row
        };
        assert_eq!(medium.lower(Severity::Low), Severity::Low);
    }
}
