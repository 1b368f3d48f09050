//! The AWS Organizations adapter behind [`AccountDirectory`]: one `DescribeAccount` per
//! question, its answer's name passed on as it is (untrusted: [`CachedDirectory`] makes it
//! safe), every failure mapped to a [`DirectoryError`] kind. The client is built in `aws/sdk.rs`,
//! with the tight limits of `domain/limits.rs`. Behind [`Organization`], the coverage check's
//! list of active accounts: `ListAccounts`, every page.
//!
//! [`CachedDirectory`]: crate::account_directory::CachedDirectory

use aws_sdk_organizations::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_organizations::operation::describe_account::DescribeAccountError;

use aws_sdk_organizations::types::{Account, AccountStatus};

use crate::domain::{AccountId, AccountName};
use crate::ports::{AccountDirectory, CheckError, DirectoryError, Member, Organization};
use crate::sanitize::{redact_contacts, untrusted_line};

/// Names accounts with `organizations:DescribeAccount`, from the management account or a
/// delegated administrator.
#[derive(Debug, Clone)]
pub struct OrganizationsDirectory {
    client: aws_sdk_organizations::Client,
}

impl OrganizationsDirectory {
    pub fn new(client: aws_sdk_organizations::Client) -> Self {
        Self { client }
    }
}

/// What a failed `DescribeAccount` means for the lookup. Pure.
fn directory_error<R: std::fmt::Debug>(err: SdkError<DescribeAccountError, R>) -> DirectoryError {
    let one_line = |err: &dyn std::error::Error| {
        untrusted_line(&redact_contacts(&DisplayErrorContext(err).to_string()), 300)
    };
    match &err {
        SdkError::ServiceError(failed) => match failed.err() {
            DescribeAccountError::AccessDeniedException(_) => DirectoryError::AccessDenied,
            DescribeAccountError::AwsOrganizationsNotInUseException(_) => DirectoryError::NotInUse,
            DescribeAccountError::AccountNotFoundException(_) => DirectoryError::AccountNotFound,
            DescribeAccountError::TooManyRequestsException(_) => DirectoryError::Throttled,
            other => DirectoryError::Other(
                other
                    .code()
                    .map_or_else(|| one_line(&err), |code| untrusted_line(code, 100)),
            ),
        },
        SdkError::TimeoutError(_) => DirectoryError::Timeout,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => DirectoryError::Timeout,
        SdkError::DispatchFailure(_) => DirectoryError::Unreachable(one_line(&err)),
        _ => DirectoryError::Other(one_line(&err)),
    }
}

impl AccountDirectory for OrganizationsDirectory {
    async fn account_name(&self, id: &AccountId) -> Result<Option<String>, DirectoryError> {
        let output = self
            .client
            .describe_account()
            .account_id(id.as_str())
            .send()
            .await
            .map_err(directory_error)?;
        Ok(output.account.and_then(|account| account.name))
    }
}

/// `ListAccounts`' largest page (the API model's `MaxResults` maximum).
const PAGE: i32 = 20;

/// The member an account of `ListAccounts` is, if it is active. `Status` is read (this SDK
/// predates `State`); an account without one is taken as active, so a cell is never dropped
/// from coverage for a field AWS stopped sending.
fn member(account: &Account) -> Option<Member> {
    let active = account
        .status()
        .is_none_or(|status| *status == AccountStatus::Active);
    let id = AccountId::parse(account.id()?)?;
    active.then(|| Member {
        id,
        name: account.name().and_then(AccountName::from_untrusted),
        joined: account
            .joined_timestamp()
            .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), 0)),
    })
}

/// The organization's active accounts, from the management account or a delegated
/// administrator (`organizations:ListAccounts`).
#[derive(Debug, Clone)]
pub struct OrganizationAccounts {
    client: aws_sdk_organizations::Client,
}

impl OrganizationAccounts {
    /// `client` should come from [`crate::aws::sdk::organizations_listing_client`].
    pub fn new(client: aws_sdk_organizations::Client) -> Self {
        Self { client }
    }
}

impl Organization for OrganizationAccounts {
    /// Pages until `NextToken` is absent, even after an empty page (the API may return one
    /// before the last).
    async fn accounts(&self) -> Result<Vec<Member>, CheckError> {
        let mut members = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .list_accounts()
                .max_results(PAGE)
                .set_next_token(token)
                .send()
                .await
                .map_err(|err| {
                    let code = err.code().map(str::to_owned);
                    CheckError(untrusted_line(
                        &redact_contacts(
                            &code.unwrap_or_else(|| DisplayErrorContext(&err).to_string()),
                        ),
                        300,
                    ))
                })?;
            members.extend(output.accounts().iter().filter_map(member));
            match output.next_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => return Ok(members),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_organizations::error::ConnectorError;
    use aws_sdk_organizations::types::error::{
        AccessDeniedException, AccountNotFoundException, AwsOrganizationsNotInUseException,
        ServiceException, TooManyRequestsException,
    };

    fn service_error(err: DescribeAccountError) -> SdkError<DescribeAccountError, ()> {
        SdkError::service_error(err, ())
    }

    #[test]
    fn every_refusal_has_its_kind() {
        let cases = [
            (
                DescribeAccountError::AccessDeniedException(
                    AccessDeniedException::builder().build(),
                ),
                "AccessDenied",
            ),
            (
                DescribeAccountError::AwsOrganizationsNotInUseException(
                    AwsOrganizationsNotInUseException::builder().build(),
                ),
                "AWSOrganizationsNotInUse",
            ),
            (
                DescribeAccountError::AccountNotFoundException(
                    AccountNotFoundException::builder().build(),
                ),
                "AccountNotFound",
            ),
            (
                DescribeAccountError::TooManyRequestsException(
                    TooManyRequestsException::builder().build(),
                ),
                "Throttled",
            ),
            (
                DescribeAccountError::ServiceException(ServiceException::builder().build()),
                "Other",
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(directory_error(service_error(err)).kind(), kind);
        }
    }

    #[test]
    fn only_active_accounts_are_members_and_their_names_are_made_safe() {
        let account = |status: Option<AccountStatus>| {
            let builder = Account::builder()
                .id("444455556666")
                .name("prod <b>payments</b>")
                .joined_timestamp(aws_sdk_organizations::primitives::DateTime::from_secs(
                    1_763_700_000,
                ));
            match status {
                Some(status) => builder.status(status).build(),
                None => builder.build(),
            }
        };
        let active = member(&account(Some(AccountStatus::Active))).unwrap();
        assert_eq!(active.id.as_str(), "444455556666");
        assert_eq!(active.name.unwrap().as_str(), "prod b payments b");
        assert_eq!(active.joined.unwrap().timestamp(), 1_763_700_000);
        assert!(member(&account(Some(AccountStatus::Suspended))).is_none());
        assert!(member(&account(Some(AccountStatus::PendingClosure))).is_none());
        assert!(member(&account(None)).is_some());
    }

    #[test]
    fn timeouts_and_unreachable_endpoints_have_their_kinds() {
        let err: SdkError<DescribeAccountError, ()> =
            SdkError::timeout_error("operation timeout (all attempts including retries)");
        assert_eq!(directory_error(err), DirectoryError::Timeout);
        let err: SdkError<DescribeAccountError, ()> =
            SdkError::dispatch_failure(ConnectorError::timeout("connect timed out".into()));
        assert_eq!(directory_error(err), DirectoryError::Timeout);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err: SdkError<DescribeAccountError, ()> =
            SdkError::dispatch_failure(ConnectorError::io(refused.into()));
        assert_eq!(directory_error(err).kind(), "Unreachable");
    }
}
