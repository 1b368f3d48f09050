//! The IAM adapter behind [`RootPosture`]: the root user's credentials state in the function's
//! own account, fetched and mapped, no judgement. `GetAccountSummary`, `ListVirtualMFADevices`
//! (assigned devices, every page) and the credential report (`GetCredentialReport`; when there
//! is none or it expired, `GenerateCredentialReport` and a few more reads while it is made).
//! IAM has one endpoint per partition; the SDK's endpoint rules sign for it from any region.

use std::time::Duration;

use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::operation::get_account_summary::GetAccountSummaryOutput;
use aws_sdk_iam::operation::get_credential_report::GetCredentialReportError;
use aws_sdk_iam::types::{AssignmentStatusType, SummaryKeyType, VirtualMfaDevice};

use crate::ports::{AccountSummary, CheckError, RootPosture, VirtualDevice};
use crate::sanitize::{redact_contacts, untrusted_line};

/// The most pages of virtual devices read: 1,000 devices at IAM's default page of 100.
const DEVICE_PAGES: usize = 10;

/// Reads made while a credential report is generated, a second apart.
const REPORT_READS: usize = 3;

/// Reads the root user's posture with a client built once at start-up.
#[derive(Debug, Clone)]
pub struct IamPosture {
    client: aws_sdk_iam::Client,
}

impl IamPosture {
    pub fn new(client: aws_sdk_iam::Client) -> Self {
        Self { client }
    }
}

/// An SDK error as one safe line, contacts redacted, length capped.
fn failed<E: std::error::Error>(err: E) -> CheckError {
    let text = DisplayErrorContext(&err).to_string();
    CheckError(untrusted_line(&redact_contacts(&text), 400))
}

/// The three root keys of the summary. Pure.
pub fn summary(output: &GetAccountSummaryOutput) -> AccountSummary {
    let map = output.summary_map();
    let key = |k: SummaryKeyType| map.and_then(|m| m.get(&k).copied());
    AccountSummary {
        access_keys_present: key(SummaryKeyType::AccountAccessKeysPresent),
        mfa_enabled: key(SummaryKeyType::AccountMfaEnabled),
        signing_certificates_present: key(SummaryKeyType::AccountSigningCertificatesPresent),
    }
}

/// One device as the judge sees it. Pure.
fn device(device: &VirtualMfaDevice) -> VirtualDevice {
    VirtualDevice {
        serial: device.serial_number().to_owned(),
        user_arn: device.user().map(|u| u.arn().to_owned()),
    }
}

impl RootPosture for IamPosture {
    async fn summary(&self) -> Result<AccountSummary, CheckError> {
        let output = self
            .client
            .get_account_summary()
            .send()
            .await
            .map_err(failed)?;
        Ok(summary(&output))
    }

    async fn virtual_devices(&self) -> Result<Vec<VirtualDevice>, CheckError> {
        let mut devices = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..DEVICE_PAGES {
            let page = self
                .client
                .list_virtual_mfa_devices()
                .assignment_status(AssignmentStatusType::Assigned)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(failed)?;
            devices.extend(page.virtual_mfa_devices().iter().map(device));
            match page.marker() {
                Some(next) if page.is_truncated() => marker = Some(next.to_owned()),
                _ => return Ok(devices),
            }
        }
        Ok(devices)
    }

    async fn credential_report(&self) -> Result<String, CheckError> {
        let mut generated = false;
        for read in 0..REPORT_READS {
            if read > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let error = match self.client.get_credential_report().send().await {
                Ok(output) => {
                    let bytes = output.content().map(|c| c.as_ref()).unwrap_or_default();
                    return String::from_utf8(bytes.to_vec()).map_err(|_| {
                        CheckError("GetCredentialReport: the report is not UTF-8".into())
                    });
                }
                Err(err) => err,
            };
            match error.as_service_error() {
                Some(
                    GetCredentialReportError::CredentialReportNotPresentException(_)
                    | GetCredentialReportError::CredentialReportExpiredException(_),
                ) if !generated => {
                    self.client
                        .generate_credential_report()
                        .send()
                        .await
                        .map_err(|e| {
                            let CheckError(e) = failed(e);
                            CheckError(format!("GenerateCredentialReport: {e}"))
                        })?;
                    generated = true;
                }
                Some(GetCredentialReportError::CredentialReportNotReadyException(_)) => {}
                _ => {
                    let CheckError(e) = failed(error);
                    return Err(CheckError(format!("GetCredentialReport: {e}")));
                }
            }
        }
        Err(CheckError(format!(
            "GetCredentialReport: the report was not ready after {REPORT_READS} reads"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_iam::types::User;

    #[test]
    fn the_summary_keeps_the_three_root_keys_and_says_which_are_missing() {
        let output = GetAccountSummaryOutput::builder()
            .summary_map(SummaryKeyType::AccountAccessKeysPresent, 1)
            .summary_map(SummaryKeyType::AccountMfaEnabled, 0)
            .summary_map(SummaryKeyType::Users, 12)
            .build();
        assert_eq!(
            summary(&output),
            AccountSummary {
                access_keys_present: Some(1),
                mfa_enabled: Some(0),
                signing_certificates_present: None,
            }
        );
        assert_eq!(
            summary(&GetAccountSummaryOutput::builder().build()),
            AccountSummary::default()
        );
    }

    #[test]
    fn a_device_keeps_its_serial_and_its_users_arn() {
        let d = VirtualMfaDevice::builder()
            .serial_number("arn:aws:iam::111122223333:mfa/phone")
            .user(
                User::builder()
                    .path("/")
                    .user_name("root")
                    .user_id("111122223333")
                    .arn("arn:aws:iam::111122223333:root")
                    .create_date(aws_sdk_iam::primitives::DateTime::from_secs(0))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert_eq!(
            device(&d),
            VirtualDevice {
                serial: "arn:aws:iam::111122223333:mfa/phone".into(),
                user_arn: Some("arn:aws:iam::111122223333:root".into()),
            }
        );
    }
}
