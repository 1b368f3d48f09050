//! What a root event is, and how bad: facts are derived from the record here, and the first
//! matching row of the rule table ([`crate::detect::rules::RULES`]) decides. This file holds the
//! engine and its inputs; the vocabulary (severities, kinds, credentials) is the domain's, and
//! the rules are data.

use serde_json::Value;

use crate::detect::allowances::{self, Allowance};
use crate::detect::record::{CloudTrailRecord, DetailType, RootEvent};
use crate::detect::rules::{Facts, Match, Rule, first_match};
use crate::domain::{AlertKind, AssumeRootIssuers, CredentialKind, MfaState, Severity};
use crate::sanitize::{plain_token, redact_contacts};

/// What a root event is, how bad, which rule said so, and how its principal authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub kind: AlertKind,
    pub severity: Severity,
    pub rule: &'static Rule,
    /// What the rule calls this event: its headline for a success or for a failure.
    pub headline: &'static str,
    pub credential: CredentialKind,
    pub mfa: MfaState,
    pub failed: bool,
    /// The allowance that lowered `severity` from the rule's, when one did ([`Verdict::allow`]).
    pub allowance: Option<&'static Allowance>,
}

impl Verdict {
    /// This verdict under the allowances ([`crate::detect::allowances`]): the severity lowered by
    /// the row that applies, if one does; kind and rule stay. Pure: `issuers` is all the
    /// configuration it needs.
    pub fn allow(self, event: &RootEvent, issuers: &AssumeRootIssuers) -> Verdict {
        match allowances::find(event, self.credential, self.severity, issuers) {
            Some(allowance) => Verdict {
                severity: allowance.lower(self.severity),
                allowance: Some(allowance),
                ..self
            },
            None => self,
        }
    }
}

/// An event that is not the root user's own act: logged and dropped, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// The event's well-formed id, when it has one.
    pub event_id: Option<String>,
    pub reason: String,
}

/// Classifies one parsed event: the verdict of the rule table on a root event, or why it is
/// ignored. Pure: the same event always gets the same answer.
pub fn classify(event: &RootEvent) -> Result<Verdict, Ignored> {
    let record = &event.detail;
    let identity = &record.user_identity;
    let ignore = |reason: String| {
        Err(Ignored {
            event_id: record.valid_event_id().map(str::to_owned),
            reason,
        })
    };
    match identity.identity_type.as_deref() {
        Some("Root") => {}
        Some(other) => {
            return ignore(redact_contacts(&format!(
                "not the root user (userIdentity.type {:?})",
                plain_token(other, 40)
            )));
        }
        // Every root record names its identity type; AWS's own internal calls may not.
        None => {
            return ignore("no userIdentity.type: an AWS-internal call, not the root user".into());
        }
    }
    if let Some(service) = &identity.invoked_by {
        return ignore(redact_contacts(&format!(
            "made by an AWS service on the root user's behalf ({})",
            plain_token(service, 60)
        )));
    }

    let credential = credential_kind(event);
    let mfa = mfa_state(record, credential);
    let facts = Facts {
        detail: DetailType::of(event),
        event_source: &record.event_source,
        event_name: &record.event_name,
        names_iam_user: record
            .request_parameters
            .get()
            .and_then(|p| p.get("userName"))
            .is_some_and(|name| !name.is_null()),
        failed: record.failed(),
        read_only: is_read_only(record),
        credential,
        mfa,
    };
    let Match { rule, headline } = first_match(&facts);
    Ok(Verdict {
        kind: rule.kind,
        severity: rule.severity,
        rule,
        headline: match (facts.failed, record.error_code.get()) {
            (false, _) => headline.done,
            (true, Some(code)) if is_refusal(code) => headline.refused,
            (true, _) => headline.failed,
        },
        credential,
        mfa,
        failed: facts.failed,
        allowance: None,
    })
}

/// Whether an error code says the call was refused for want of permission: the family the CIS
/// AWS Foundations Benchmark's unauthorized-API-calls metric filter matches (`AccessDenied*`,
/// `*UnauthorizedOperation`; Security Hub User Guide, "Security Hub controls for CloudWatch",
/// CloudWatch.2): `AccessDenied`, `AccessDeniedException`, EC2's `UnauthorizedOperation` and
/// `Client.UnauthorizedOperation`. Any other code (`NoSuchEntity`, `ValidationException`,
/// `ThrottlingException`) is a call that failed for another reason.
fn is_refusal(code: &str) -> bool {
    let code = code.trim();
    code.starts_with("AccessDenied") || code.ends_with("UnauthorizedOperation")
}

/// CloudTrail's `readOnly`; when a record lacks it (older schema versions), the call's name.
fn is_read_only(record: &CloudTrailRecord) -> bool {
    match record.read_only.get() {
        Some(read_only) => *read_only,
        None => ["Get", "List", "Describe", "Head", "Lookup"]
            .iter()
            .any(|verb| record.event_name.starts_with(verb)),
    }
}

/// How the root principal authenticated. The session comes before the key's prefix: a long-term
/// key has no session, and a session's calls can be signed with an `AKIA…` id (AWS's own example in
/// the CloudTrail User Guide, "CloudTrail log event reference": a `StartLogging` from the console
/// with `AKIAIOSFODNN7EXAMPLE` and a `sessionContext`). The `userIdentity` element's page: a
/// `sessionContext` is there when the request was made with temporary credentials, and
/// `creationDate` is when they were issued.
fn credential_kind(event: &RootEvent) -> CredentialKind {
    let identity = &event.detail.user_identity;
    let context = identity.session_context.get();
    if context
        .and_then(|c| c.assumed_root.get())
        .is_some_and(|assumed| *assumed)
    {
        return CredentialKind::AssumeRoot;
    }
    if event.detail.session_credential_from_console.get() == Some(&true) {
        return CredentialKind::ConsoleSession;
    }
    let issued = context
        .and_then(|c| c.attributes.get())
        .and_then(|a| a.creation_date.as_deref())
        .is_some_and(|date| !date.trim().is_empty());
    let key = identity.access_key_id.as_deref().unwrap_or("");
    if issued || key.starts_with("ASIA") {
        CredentialKind::TemporaryKey
    } else if key.starts_with("AKIA") {
        CredentialKind::LongTermKey
    } else if DetailType::of(event) == DetailType::SignIn {
        // A password recovery uses no password: the request needs none, and the reset is made
        // through the link mailed to the root address (CloudTrail User Guide, "AWS console
        // sign-in events").
        match event.detail.event_name.as_str() {
            "PasswordRecoveryRequested" => CredentialKind::NoCredential,
            "PasswordRecoveryCompleted" => CredentialKind::RecoveryLink,
            _ => CredentialKind::Password,
        }
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
    use crate::detect::record::{API_CALL_DETAIL_TYPE, Lenient, SIGN_IN_DETAIL_TYPE, UserIdentity};
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
                    identity_type: Some("Root".into()),
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

    /// A root call as CloudTrail records it: an `ASIA…` key from a console session (flagged as
    /// such), an `AKIA…` key on its own.
    fn root_call(source: &str, name: &str, key: &str) -> RootEvent {
        let console = key.starts_with("ASIA");
        event(
            API_CALL_DETAIL_TYPE,
            CloudTrailRecord {
                user_identity: UserIdentity {
                    identity_type: Some("Root".into()),
                    access_key_id: key.to_owned().into(),
                    ..Default::default()
                },
                event_source: source.into(),
                event_name: name.into(),
                session_credential_from_console: if console {
                    true.into()
                } else {
                    Lenient::Absent
                },
                ..Default::default()
            },
        )
    }

    fn credential_of(e: &RootEvent) -> CredentialKind {
        match classify(e) {
            Ok(v) => v.credential,
            Err(ignored) => panic!("ignored: {}", ignored.reason),
        }
    }

    /// The session decides before the key's prefix: a console session recorded with an `AKIA…`
    /// id is a console session, a session without the console flag is temporary, and only a
    /// key with no session is a long-term key.
    #[test]
    fn the_session_decides_the_credential_before_the_key_prefix() {
        let long_term = root_call("s3.amazonaws.com", "ListBuckets", "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(credential_of(&long_term), CredentialKind::LongTermKey);

        let mut console = long_term.clone();
        console.detail.session_credential_from_console = true.into();
        console.detail.user_identity.session_context = Lenient::from_json(&json!({
            "attributes": {"creationDate": "2026-11-21T10:02:37Z", "mfaAuthenticated": "true"}
        }));
        assert_eq!(credential_of(&console), CredentialKind::ConsoleSession);
        console.detail.read_only = true.into();
        assert_eq!(
            kind_and_severity(classify(&console)),
            (AlertKind::ReadOnlyCall, Severity::Low)
        );

        // AWS's documented console call of 2014, before the console flag: a session all the same.
        let mut session = console.clone();
        session.detail.session_credential_from_console = Lenient::Absent;
        assert_eq!(credential_of(&session), CredentialKind::TemporaryKey);

        // A session context without a creation date is no session.
        let mut empty = long_term.clone();
        empty.detail.user_identity.session_context =
            Lenient::from_json(&json!({"sessionIssuer": {}, "attributes": {}}));
        assert_eq!(credential_of(&empty), CredentialKind::LongTermKey);
    }

    /// A console sign-in uses the root password; a password recovery uses none: the request
    /// needs no credential at all, the reset the link mailed to the root address.
    #[test]
    fn a_password_recovery_uses_no_password() {
        let mut sign_in = root_sign_in("No");
        assert_eq!(credential_of(&sign_in), CredentialKind::Password);
        for (name, credential) in [
            ("PasswordRecoveryRequested", CredentialKind::NoCredential),
            ("PasswordRecoveryCompleted", CredentialKind::RecoveryLink),
        ] {
            sign_in.detail.event_name = name.into();
            sign_in.detail.response_elements = Lenient::from_json(&json!({name: "Success"}));
            assert_eq!(credential_of(&sign_in), credential, "{name}");
        }
    }

    fn kind_and_severity(c: Result<Verdict, Ignored>) -> (AlertKind, Severity) {
        match c {
            Ok(v) => (v.kind, v.severity),
            Err(ignored) => panic!("ignored: {}", ignored.reason),
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

    /// AssumeRoot is recognised by `sessionContext.assumedRoot`; only the tasks that unlock a
    /// resource policy or read are capped, a credential-creating task keeps its full severity.
    #[test]
    fn assume_root_caps_only_unlock_and_audit_tasks() {
        let assumed = |source: &str, name: &str, read_only: bool| {
            let mut e = root_call(source, name, "ASIAX");
            e.detail.session_credential_from_console = Lenient::Absent;
            e.detail.read_only = read_only.into();
            e.detail.user_identity.session_context =
                Lenient::from_json(&json!({"assumedRoot": "true"}));
            e
        };
        let verdict = |e: &RootEvent| match classify(e) {
            Ok(v) => v,
            other => panic!("{other:?}"),
        };
        let unlock = verdict(&assumed("s3.amazonaws.com", "DeleteBucketPolicy", false));
        assert_eq!(unlock.credential, CredentialKind::AssumeRoot);
        assert_eq!(
            (unlock.kind, unlock.severity),
            (AlertKind::AssumeRootTask, Severity::Medium)
        );
        let audit = verdict(&assumed("iam.amazonaws.com", "ListAccessKeys", true));
        assert_eq!(audit.severity, Severity::Medium);
        let takeover = verdict(&assumed("iam.amazonaws.com", "CreateLoginProfile", false));
        assert_eq!(
            (takeover.kind, takeover.severity),
            (AlertKind::CredentialsChanged, Severity::Critical)
        );
        // inScopeOf alone is not how AWS marks an AssumeRoot session.
        let mut scoped = root_call("s3.amazonaws.com", "DeleteBucketPolicy", "ASIAX");
        scoped.detail.user_identity.in_scope_of =
            Lenient::from_json(&json!({"issuerType": "AWS::STS::AssumeRoot"}));
        assert_ne!(verdict(&scoped).credential, CredentialKind::AssumeRoot);
    }

    #[test]
    fn read_only_calls_are_low_from_a_console_and_critical_with_a_long_term_key() {
        let mut console = root_call("s3.amazonaws.com", "ListBuckets", "ASIAX");
        console.detail.read_only = true.into();
        assert_eq!(
            kind_and_severity(classify(&console)),
            (AlertKind::ReadOnlyCall, Severity::Low)
        );
        let mut key = root_call("s3.amazonaws.com", "ListBuckets", "AKIAX");
        key.detail.read_only = true.into();
        assert_eq!(
            kind_and_severity(classify(&key)),
            (AlertKind::LongTermAccessKeyUsed, Severity::Critical)
        );
        // Without readOnly (older records) the name decides.
        console.detail.read_only = Lenient::Absent;
        assert_eq!(
            kind_and_severity(classify(&console)).0,
            AlertKind::ReadOnlyCall
        );
    }

    /// Every sign-in event answers under its own name; a failed `CheckMfa` is a failure.
    #[test]
    fn sign_in_outcome_is_read_under_the_event_name() {
        let mut e = root_sign_in("Yes");
        e.detail.event_name = "CheckMfa".into();
        e.detail.response_elements = Lenient::from_json(&json!({"CheckMfa": "Failure"}));
        assert_eq!(kind_and_severity(classify(&e)).0, AlertKind::SignInFailed);
        e.detail.event_name = "PasswordUpdated".into();
        e.detail.response_elements = Lenient::from_json(&json!({"PasswordUpdated": "Success"}));
        assert_eq!(
            kind_and_severity(classify(&e)),
            (AlertKind::PasswordChanged, Severity::Critical)
        );
    }

    /// "refused" is said only of a call refused for want of permission (the `AccessDenied…` and
    /// `…UnauthorizedOperation` codes); a call that failed otherwise (a missing entity, a bad
    /// parameter, throttling) is said to have failed.
    #[test]
    fn only_a_permission_error_is_called_refused() {
        let headline = |code: &str| {
            let mut e = root_call("iam.amazonaws.com", "CreateUser", "ASIAX");
            e.detail.error_code = code.to_owned().into();
            match classify(&e) {
                Ok(v) => v.headline,
                other => panic!("{other:?}"),
            }
        };
        for code in [
            "AccessDenied",
            "AccessDeniedException",
            "UnauthorizedOperation",
            "Client.UnauthorizedOperation",
        ] {
            assert_eq!(headline(code), "Root API call refused", "{code}");
        }
        for code in [
            "NoSuchEntity",
            "EntityAlreadyExists",
            "ValidationException",
            "ThrottlingException",
            "Client.InvalidParameterValue",
            "NotAccessDenied",
        ] {
            assert_eq!(headline(code), "Root API call failed", "{code}");
        }
        // With a long-term key, and for a console session's read-only call, the same.
        let mut key = root_call("ec2.amazonaws.com", "RunInstances", "AKIAIOSFODNN7EXAMPLE");
        key.detail.error_code = String::from("InsufficientInstanceCapacity").into();
        assert_eq!(
            classify(&key).map(|v| v.headline),
            Ok("Root access key used, call failed")
        );
        key.detail.error_code = String::from("Client.UnauthorizedOperation").into();
        assert_eq!(
            classify(&key).map(|v| v.headline),
            Ok("Root access key used, call refused")
        );
        let mut read = root_call("s3.amazonaws.com", "GetBucketPolicy", "ASIAX");
        read.detail.read_only = true.into();
        read.detail.error_code = String::from("NoSuchBucketPolicy").into();
        assert_eq!(
            classify(&read).map(|v| v.headline),
            Ok("Root read-only call failed")
        );
    }

    /// "MFA unknown" must never be headlined as "without MFA".
    #[test]
    fn a_sign_in_without_an_mfa_record_is_not_called_without_mfa() {
        let mut e = root_sign_in("Yes");
        e.detail.additional_event_data = Lenient::Absent;
        let Ok(v) = classify(&e) else { panic!() };
        assert_eq!(v.kind, AlertKind::SignInMfaNotRecorded);
        assert!(!v.headline.contains("WITHOUT"), "{}", v.headline);
    }

    #[test]
    fn non_root_and_service_invoked_are_ignored() {
        let mut e = root_sign_in("No");
        e.detail.user_identity.identity_type = Some("IAMUser".into());
        assert!(classify(&e).is_err());
        let mut e = root_call("s3.amazonaws.com", "GetObject", "ASIAX");
        e.detail.user_identity.invoked_by = Some("cloudtrail.amazonaws.com".into());
        assert!(classify(&e).is_err());
    }

    /// A record without an identity type (an AWS-internal call) cannot be the root user's.
    #[test]
    fn a_record_without_an_identity_type_is_ignored() {
        let mut e = root_call("kms.amazonaws.com", "SynchronizeMultiRegionKey", "");
        e.detail.user_identity.identity_type = None;
        let Err(Ignored { reason, .. }) = classify(&e) else {
            panic!("{:?}", classify(&e))
        };
        assert!(reason.contains("no userIdentity.type"), "{reason}");
    }

    #[test]
    fn root_creating_a_key_for_an_iam_user_is_an_ordinary_root_call() {
        let mut e = root_call("iam.amazonaws.com", "CreateAccessKey", "ASIAX");
        e.detail.request_parameters = Lenient::from_json(&json!({"userName": "alice"}));
        assert_eq!(kind_and_severity(classify(&e)).0, AlertKind::ApiCall);
    }
}
