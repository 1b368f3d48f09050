//! rootwatch's own root-credential audit, recognised so it does not alert on itself. In
//! organization mode the function reads each member's root credentials through `sts:AssumeRoot`
//! with the `IAMAuditRootUserCredentials` task policy; CloudTrail records each read in the member
//! as the `Root` identity, with `sessionContext.assumedRoot` and `inScopeOf.credentialsIssuedTo`
//! naming the function's role session (IAM User Guide, "Track privileged tasks in AWS
//! CloudTrail"). Without this, every audit would page as `assume-root-task`, four times per member
//! per day. Only those reads from a session of the function's own role (`FUNCTION_ROLE_ARN`) are
//! ignored; any other call from such a session (the task policy denies it anyway) alerts.
//! Pure.

use crate::detect::record::RootEvent;
use crate::domain::AssumeRootIssuers;

/// `inScopeOf.issuerType` of a session started with `sts:AssumeRoot`.
const ASSUME_ROOT_ISSUER_TYPE: &str = "AWS::STS::AssumeRoot";

/// What the `IAMAuditRootUserCredentials` task policy allows (AWS Managed Policy Reference,
/// "IAMAuditRootUserCredentials"): the reads of the audit, and two it does not make.
pub const AUDIT_READS: [&str; 6] = [
    "GetAccessKeyLastUsed",
    "GetLoginProfile",
    "GetUser",
    "ListAccessKeys",
    "ListMFADevices",
    "ListSigningCertificates",
];

/// Why such an event is ignored, as the log and the response say.
pub const REASON: &str =
    "rootwatch's own root-credential audit (a read of its own sts:AssumeRoot session)";

/// Whether `event` is one of the audit's reads from a session issued to the function's role.
pub fn is_own_audit(event: &RootEvent, function_role: &AssumeRootIssuers) -> bool {
    let record = &event.detail;
    let identity = &record.user_identity;
    let assumed_root = identity
        .session_context
        .get()
        .and_then(|s| s.assumed_root.get().copied())
        == Some(true);
    let issued = identity.in_scope_of.get().is_some_and(|scope| {
        scope.issuer_type.as_deref() == Some(ASSUME_ROOT_ISSUER_TYPE)
            && scope
                .credentials_issued_to
                .as_deref()
                .is_some_and(|session| function_role.issued(session))
    });
    identity.identity_type.as_deref() == Some("Root")
        && assumed_root
        && issued
        && record.event_source == "iam.amazonaws.com"
        && AUDIT_READS.contains(&record.event_name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::record::parse_event;
    use crate::samples::sample;

    const ROLE: &str =
        "arn:aws:iam::111122223333:role/rootwatch-RootwatchFunctionRole-0A1B2C3D4E5F";

    fn own() -> serde_json::Value {
        sample("root-assume-root-own-audit")
    }

    fn recognised(payload: &serde_json::Value, role: &str) -> bool {
        let event = parse_event(payload).unwrap().event;
        is_own_audit(&event, &AssumeRootIssuers::parse(role).unwrap())
    }

    #[test]
    fn each_read_of_the_functions_own_session_is_recognised() {
        for read in AUDIT_READS {
            let mut payload = own();
            payload["detail"]["eventName"] = read.into();
            assert!(recognised(&payload, ROLE), "{read}");
        }
    }

    /// Another role's session, another call, another service, no assumedRoot, no role
    /// configured: each alerts as before.
    #[test]
    fn anything_else_is_not_the_functions_audit() {
        assert!(!recognised(&own(), ""));
        assert!(!recognised(
            &own(),
            "arn:aws:iam::111122223333:role/SecurityAudit"
        ));
        assert!(!recognised(&sample("root-assume-root-audit-read"), ROLE));
        let changed = |pointer: &str, value: serde_json::Value| {
            let mut payload = own();
            *payload.pointer_mut(pointer).unwrap() = value;
            payload
        };
        for payload in [
            changed("/detail/eventName", "DeleteLoginProfile".into()),
            changed("/detail/eventName", "CreateAccessKey".into()),
            changed("/detail/eventSource", "s3.amazonaws.com".into()),
            changed(
                "/detail/userIdentity/sessionContext/assumedRoot",
                "false".into(),
            ),
            changed(
                "/detail/userIdentity/inScopeOf/issuerType",
                "AWS::STS::AssumeRole".into(),
            ),
        ] {
            assert!(!recognised(&payload, ROLE), "{payload}");
        }
    }
}
