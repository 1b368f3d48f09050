//! The AWS Organizations adapter behind [`AccountDirectory`]: one `DescribeAccount` per
//! question, its answer's name passed on as it is (untrusted: [`CachedDirectory`] makes it
//! safe), every failure mapped to a [`DirectoryError`] kind. The client is built in `aws/sdk.rs`,
//! with the tight limits of `domain/limits.rs`.
//!
//! [`CachedDirectory`]: crate::account_directory::CachedDirectory

use aws_sdk_organizations::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_organizations::operation::describe_account::DescribeAccountError;

use crate::domain::AccountId;
use crate::ports::{AccountDirectory, DirectoryError};
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
