//! The AWS Organizations adapter behind [`AccountDirectory`]: one `DescribeAccount` per
//! question, its answer's name passed on as it is (untrusted: [`CachedDirectory`] makes it
//! safe), every failure mapped to a [`DirectoryError`] kind. The client is built in `aws/sdk.rs`,
//! with the tight limits of `domain/limits.rs`. Behind [`Organization`], the coverage check's
//! list of active accounts: `ListAccounts`, every page.
//!
//! [`CachedDirectory`]: crate::account_directory::CachedDirectory

use aws_sdk_organizations::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_organizations::operation::describe_account::DescribeAccountError;

use aws_sdk_organizations::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_organizations::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_organizations::types::{Account, AccountStatus};
use aws_smithy_runtime_api::box_error::BoxError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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

/// Whether an account is active: its `State` when the answer has one, else its `Status`, else
/// yes. AWS retires `Status` on 9 September 2026 in favour of `State` (Organizations API
/// Reference, "Account"), which this SDK release does not model; an account without either is
/// taken as active, so no cell is dropped from coverage for a field AWS stopped sending. Pure.
pub fn is_active(state: Option<&str>, status: Option<&AccountStatus>) -> bool {
    match state {
        Some(state) => state == "ACTIVE",
        None => status.is_none_or(|status| *status == AccountStatus::Active),
    }
}

/// The member an account of `ListAccounts` is, if it is active; `states` are the accounts'
/// `State`s read from the same answer ([`StateReader`]).
fn member(account: &Account, states: &HashMap<String, String>) -> Option<Member> {
    let active = is_active(
        account
            .id()
            .and_then(|id| states.get(id))
            .map(String::as_str),
        account.status(),
    );
    let id = AccountId::parse(account.id()?)?;
    active.then(|| Member {
        id,
        name: account.name().and_then(AccountName::from_untrusted),
        joined: account
            .joined_timestamp()
            .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), 0)),
    })
}

/// Reads each account's `State` from a `ListAccounts` answer's JSON, which this SDK release
/// parses without it: account id → state, for [`member`]. Reads only; an answer it cannot read
/// leaves the map empty, and `Status` decides.
#[derive(Debug)]
struct StateReader(Arc<Mutex<HashMap<String, String>>>);

impl Intercept for StateReader {
    fn name(&self) -> &'static str {
        "StateReader"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(body) = context.response().body().bytes() {
            let states = account_states(body);
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(states);
        }
        Ok(())
    }
}

/// `Accounts[].Id` → `Accounts[].State` of a `ListAccounts` answer. Pure.
pub fn account_states(body: &[u8]) -> HashMap<String, String> {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return HashMap::new();
    };
    answer["Accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|account| {
            Some((
                account["Id"].as_str()?.to_owned(),
                account["State"].as_str()?.to_owned(),
            ))
        })
        .collect()
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
        let page_states: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        loop {
            let output = self
                .client
                .list_accounts()
                .max_results(PAGE)
                .set_next_token(token)
                .customize()
                .config_override(
                    aws_sdk_organizations::config::Builder::default()
                        .interceptor(StateReader(page_states.clone())),
                )
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
            let states =
                std::mem::take(&mut *page_states.lock().unwrap_or_else(|e| e.into_inner()));
            members.extend(
                output
                    .accounts()
                    .iter()
                    .filter_map(|account| member(account, &states)),
            );
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
        let none = HashMap::new();
        let active = member(&account(Some(AccountStatus::Active)), &none).unwrap();
        assert_eq!(active.id.as_str(), "444455556666");
        assert_eq!(active.name.unwrap().as_str(), "prod b payments b");
        assert_eq!(active.joined.unwrap().timestamp(), 1_763_700_000);
        assert!(member(&account(Some(AccountStatus::Suspended)), &none).is_none());
        assert!(member(&account(Some(AccountStatus::PendingClosure)), &none).is_none());
        assert!(member(&account(None), &none).is_some());
        // `State`, where the answer has it, decides over `Status`.
        let state = |s: &str| HashMap::from([("444455556666".to_owned(), s.to_owned())]);
        assert!(member(&account(None), &state("CLOSED")).is_none());
        assert!(member(&account(Some(AccountStatus::Active)), &state("SUSPENDED")).is_none());
        assert!(member(&account(None), &state("ACTIVE")).is_some());
    }

    #[test]
    fn each_accounts_state_is_read_from_the_answer() {
        let body = br#"{"Accounts":[{"Id":"111111111111","State":"ACTIVE","Status":"ACTIVE"},
            {"Id":"222222222222","State":"CLOSED"},{"Id":"333333333333","Status":"ACTIVE"}],"NextToken":"x"}"#;
        let states = account_states(body);
        assert_eq!(states.len(), 2);
        assert_eq!(states["111111111111"], "ACTIVE");
        assert_eq!(states["222222222222"], "CLOSED");
        assert!(account_states(b"not json").is_empty());
        assert!(account_states(br#"{"Accounts":"x"}"#).is_empty());
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
