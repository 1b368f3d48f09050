//! Who may start the `sts:AssumeRoot` sessions an allowance trusts: IAM roles, named by ARN.

/// IAM roles whose `sts:AssumeRoot` sessions an allowance may trust (`ASSUME_ROOT_ISSUERS`).
/// Empty: no allowance ever applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssumeRootIssuers(Vec<Role>);

/// An IAM role as its ARN names it: a session of it is named by the same partition, account and
/// role name (an `assumed-role` ARN drops the role's path).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Role {
    partition: String,
    account: String,
    name: String,
}

impl AssumeRootIssuers {
    /// Comma-separated role ARNs (`arn:aws:iam::111122223333:role/RootTasks`); blank entries are
    /// skipped, so an empty text is no issuer. An entry that is not a role ARN is the error.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                Role::parse(entry).ok_or_else(|| format!("{entry:?} is not an IAM role ARN"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(AssumeRootIssuers)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `session` (CloudTrail's `inScopeOf.credentialsIssuedTo`,
    /// `arn:aws:sts::111122223333:assumed-role/RootTasks/alice`) is a session of one of these
    /// roles. Compared exactly, as IAM writes the names; anything else (an IAM user, a malformed
    /// ARN) is not.
    pub fn issued(&self, session: &str) -> bool {
        let Some(role) = Role::of_session(session) else {
            return false;
        };
        self.0.contains(&role)
    }
}

impl Role {
    /// `arn:<partition>:iam::<account>:role/<path/>name`.
    fn parse(arn: &str) -> Option<Role> {
        let (partition, account, resource) = arn_parts(arn, "iam")?;
        let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
        is_role_name(name).then(|| Role {
            partition: partition.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The role of `arn:<partition>:sts::<account>:assumed-role/<name>/<session>`.
    fn of_session(arn: &str) -> Option<Role> {
        let (partition, account, resource) = arn_parts(arn, "sts")?;
        let (name, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
        (is_role_name(name) && !session.is_empty()).then(|| Role {
            partition: partition.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// The partition, account and resource of a global ARN of `service` (no region).
fn arn_parts<'a>(arn: &'a str, service: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some(svc), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let known_partition = partition == "aws"
        || partition.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        });
    let twelve_digits = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    (known_partition && svc == service && twelve_digits).then_some((partition, account, resource))
}

/// IAM's characters for a role name, 1-64 of them (IAM API Reference, "CreateRole").
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_read_and_blank_entries_skipped() {
        let issuers = AssumeRootIssuers::parse(
            " arn:aws:iam::111122223333:role/RootTasks ,,arn:aws-us-gov:iam::444455556666:role/ops/Unlock",
        )
        .unwrap();
        assert_eq!(issuers.0.len(), 2);
        assert!(AssumeRootIssuers::parse("").unwrap().is_empty());
        assert!(AssumeRootIssuers::parse(" , ").unwrap().is_empty());
        for bad in [
            "RootTasks",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::1111:role/RootTasks",
            "arn:aws:sts::111122223333:assumed-role/RootTasks/alice",
            "arn:aws:iam:us-east-1:111122223333:role/RootTasks",
            "arn:evil:iam::111122223333:role/RootTasks",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:iam::111122223333:role/has space",
        ] {
            let err = AssumeRootIssuers::parse(bad).unwrap_err();
            assert!(err.contains("not an IAM role ARN"), "{bad}: {err}");
        }
    }

    /// A session of the role matches whatever the role's path and the session's name; another
    /// account, partition or role, a user, or a name that only starts the same does not.
    #[test]
    fn only_sessions_of_a_listed_role_are_issued_by_it() {
        let issuers = AssumeRootIssuers::parse(
            "arn:aws:iam::111122223333:role/RootTasks,arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Root_0123",
        )
        .unwrap();
        for yes in [
            "arn:aws:sts::111122223333:assumed-role/RootTasks/alice",
            "arn:aws:sts::111122223333:assumed-role/RootTasks/alice@example.com",
            "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Root_0123/bob",
        ] {
            assert!(issuers.issued(yes), "{yes}");
        }
        for no in [
            "arn:aws:sts::444455556666:assumed-role/RootTasks/alice",
            "arn:aws-cn:sts::111122223333:assumed-role/RootTasks/alice",
            "arn:aws:sts::111122223333:assumed-role/RootTasksAdmin/alice",
            "arn:aws:sts::111122223333:assumed-role/roottasks/alice",
            "arn:aws:sts::111122223333:assumed-role/RootTasks/",
            "arn:aws:sts::111122223333:assumed-role/RootTasks",
            "arn:aws:iam::111122223333:role/RootTasks",
            "arn:aws:iam::111122223333:user/RootTasks",
            "111122223333",
            "",
        ] {
            assert!(!issuers.issued(no), "{no}");
        }
        assert!(
            !AssumeRootIssuers::default()
                .issued("arn:aws:sts::111122223333:assumed-role/RootTasks/alice")
        );
    }
}
