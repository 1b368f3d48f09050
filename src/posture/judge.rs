//! What IAM's answers say about the root user's credentials. Pure.
//!
//! `GetAccountSummary` gives `AccountAccessKeysPresent`, `AccountMFAEnabled` and
//! `AccountSigningCertificatesPresent`, 0 or 1 each (IAM API Reference, "GetAccountSummary").
//! `AccountMFAEnabled` is 0 also when the root user has no password at all (centralized root
//! access deletes member accounts' root credentials: IAM User Guide, "Centralize root access for
//! member accounts"), so at 0 the credential report's `<root_account>` row decides (IAM User
//! Guide, "Getting credential reports for your AWS account"). A virtual MFA device on root is a
//! finding whatever else root holds (AWS Config, "root-account-hardware-mfa-enabled").

use serde::Serialize;

use crate::domain::PostureKind;
use crate::ports::{AccountSummary, CheckError, VirtualDevice};

/// Whether the root user has a password, from the credential report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "password", content = "reason", rename_all = "camelCase")]
pub enum Password {
    Enabled,
    Disabled,
    /// The report could not say; the finding is kept and says so.
    Unreadable(String),
}

/// One finding; one notification per finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "camelCase")]
pub enum Finding {
    AccessKeys,
    /// No MFA and a password (or a report that could not say).
    MfaOff {
        password: Password,
    },
    SigningCertificates,
    /// The serial numbers of root's virtual devices.
    MfaVirtual {
        devices: Vec<String>,
    },
    /// A read failed or answered without what it must hold.
    CheckFailed {
        errors: Vec<String>,
    },
}

impl Finding {
    pub fn kind(&self) -> PostureKind {
        match self {
            Finding::AccessKeys => PostureKind::RootAccessKeys,
            Finding::MfaOff { .. } => PostureKind::RootMfaOff,
            Finding::SigningCertificates => PostureKind::RootSigningCertificates,
            Finding::MfaVirtual { .. } => PostureKind::RootMfaVirtual,
            Finding::CheckFailed { .. } => PostureKind::CheckFailed,
        }
    }
}

/// The credential report's row of the root user.
const ROOT_ROW: &str = "<root_account>";

/// Whether the credential report (CSV, a header line first) says root has a password.
pub fn root_password(report: &str) -> Password {
    let mut lines = report.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(user), Some(enabled)) = (column("user"), column("password_enabled")) else {
        return Password::Unreadable(
            "the credential report has no user or password_enabled column".into(),
        );
    };
    let row = lines
        .map(|line| line.split(',').collect::<Vec<&str>>())
        .find(|row| row.get(user).map(|u| u.trim()) == Some(ROOT_ROW));
    match row
        .as_ref()
        .and_then(|row| row.get(enabled))
        .map(|v| v.trim())
    {
        Some("true") => Password::Enabled,
        Some("false") => Password::Disabled,
        Some(other) => Password::Unreadable(format!(
            "the credential report's {ROOT_ROW} row says password_enabled={}",
            crate::sanitize::plain_token(other, 20)
        )),
        None => Password::Unreadable(format!("the credential report has no {ROOT_ROW} row")),
    }
}

/// Whether `device` is the root user's: assigned to `arn:<partition>:iam::<account>:root`, or
/// named as root's device was before root could hold several.
fn is_roots(device: &VirtualDevice, partition: &str, account: &str) -> bool {
    let root = format!("arn:{partition}:iam::{account}:root");
    device.user_arn.as_deref() == Some(root.as_str())
        || device.serial == format!("arn:{partition}:iam::{account}:mfa/root-account-mfa-device")
}

/// What the reads found, in the order of [`super::controls::CONTROLS`]. `password` is `None`
/// when the report was not read (MFA on, or the summary unread).
pub fn judge(
    partition: &str,
    account: &str,
    summary: &Result<AccountSummary, CheckError>,
    devices: &Result<Vec<VirtualDevice>, CheckError>,
    password: Option<&Password>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut errors = Vec::new();
    match summary {
        Ok(summary) => {
            let mut key = |name: &str, value: Option<i32>| {
                if value.is_none() {
                    errors.push(format!("GetAccountSummary did not return {name}"));
                }
                value.unwrap_or(0) > 0
            };
            let keys = key("AccountAccessKeysPresent", summary.access_keys_present);
            let mfa_unknown = summary.mfa_enabled.is_none();
            let mfa = key("AccountMFAEnabled", summary.mfa_enabled);
            let certificates = key(
                "AccountSigningCertificatesPresent",
                summary.signing_certificates_present,
            );
            if keys {
                findings.push(Finding::AccessKeys);
            }
            if !mfa && !mfa_unknown {
                match password {
                    Some(Password::Disabled) => {}
                    Some(password) => findings.push(Finding::MfaOff {
                        password: password.clone(),
                    }),
                    None => findings.push(Finding::MfaOff {
                        password: Password::Unreadable("the credential report was not read".into()),
                    }),
                }
            }
            if certificates {
                findings.push(Finding::SigningCertificates);
            }
        }
        Err(err) => errors.push(format!("GetAccountSummary: {err}")),
    }
    match devices {
        Ok(devices) => {
            let roots: Vec<String> = devices
                .iter()
                .filter(|d| is_roots(d, partition, account))
                .map(|d| d.serial.clone())
                .collect();
            if !roots.is_empty() {
                findings.push(Finding::MfaVirtual { devices: roots });
            }
        }
        Err(err) => errors.push(format!("ListVirtualMFADevices: {err}")),
    }
    if !errors.is_empty() {
        findings.push(Finding::CheckFailed { errors });
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used";

    fn summary(keys: i32, mfa: i32, certificates: i32) -> Result<AccountSummary, CheckError> {
        Ok(AccountSummary {
            access_keys_present: Some(keys),
            mfa_enabled: Some(mfa),
            signing_certificates_present: Some(certificates),
        })
    }

    fn kinds(findings: &[Finding]) -> Vec<&'static str> {
        findings.iter().map(|f| f.kind().as_str()).collect()
    }

    #[test]
    fn a_clean_root_user_has_no_finding() {
        assert!(judge("aws", "111122223333", &summary(0, 1, 0), &Ok(vec![]), None).is_empty());
    }

    #[test]
    fn each_summary_key_is_its_own_finding() {
        let found = judge(
            "aws",
            "111122223333",
            &summary(1, 0, 1),
            &Ok(vec![]),
            Some(&Password::Enabled),
        );
        assert_eq!(
            kinds(&found),
            [
                "posture-root-access-keys",
                "posture-root-mfa-off",
                "posture-root-signing-certificates"
            ]
        );
    }

    /// Root without a password (centralized root access deleted it) needs no MFA.
    #[test]
    fn no_mfa_is_a_finding_unless_root_has_no_password() {
        let none = judge(
            "aws",
            "1",
            &summary(0, 0, 0),
            &Ok(vec![]),
            Some(&Password::Disabled),
        );
        assert!(none.is_empty());
        let unreadable =
            Password::Unreadable("the credential report has no <root_account> row".into());
        let found = judge(
            "aws",
            "1",
            &summary(0, 0, 0),
            &Ok(vec![]),
            Some(&unreadable),
        );
        assert_eq!(
            found,
            [Finding::MfaOff {
                password: unreadable
            }]
        );
    }

    #[test]
    fn a_missing_key_or_a_failed_read_is_a_failed_check() {
        let partial = Ok(AccountSummary {
            access_keys_present: Some(1),
            mfa_enabled: None,
            signing_certificates_present: Some(0),
        });
        let found = judge(
            "aws",
            "1",
            &partial,
            &Err(CheckError("AccessDenied".into())),
            None,
        );
        assert_eq!(
            found,
            [
                Finding::AccessKeys,
                Finding::CheckFailed {
                    errors: vec![
                        "GetAccountSummary did not return AccountMFAEnabled".into(),
                        "ListVirtualMFADevices: AccessDenied".into()
                    ]
                }
            ]
        );
    }

    /// Root's device is told by its user's ARN (any name), or by the legacy name.
    #[test]
    fn a_virtual_device_on_root_is_a_finding_and_a_users_is_not() {
        let devices = Ok(vec![
            VirtualDevice {
                serial: "arn:aws:iam::111122223333:mfa/phone".into(),
                user_arn: Some("arn:aws:iam::111122223333:root".into()),
            },
            VirtualDevice {
                serial: "arn:aws:iam::111122223333:mfa/root-account-mfa-device".into(),
                user_arn: None,
            },
            VirtualDevice {
                serial: "arn:aws:iam::111122223333:mfa/alice".into(),
                user_arn: Some("arn:aws:iam::111122223333:user/root".into()),
            },
            VirtualDevice {
                serial: "arn:aws:iam::999988887777:mfa/other".into(),
                user_arn: Some("arn:aws:iam::999988887777:root".into()),
            },
        ]);
        let found = judge("aws", "111122223333", &summary(0, 1, 0), &devices, None);
        assert_eq!(
            found,
            [Finding::MfaVirtual {
                devices: vec![
                    "arn:aws:iam::111122223333:mfa/phone".into(),
                    "arn:aws:iam::111122223333:mfa/root-account-mfa-device".into()
                ]
            }]
        );
    }

    #[test]
    fn the_report_root_row_says_whether_root_has_a_password() {
        let report = |root: &str| {
            format!(
                "{HEADER}\nalice,arn:aws:iam::1:user/alice,2026-01-01,true,N/A\n<root_account>,arn:aws:iam::1:root,2026-01-01,{root},N/A\n"
            )
        };
        assert_eq!(root_password(&report("true")), Password::Enabled);
        assert_eq!(root_password(&report("false")), Password::Disabled);
        assert!(
            matches!(root_password(&report("maybe")), Password::Unreadable(r) if r.contains("password_enabled=maybe"))
        );
        assert_eq!(
            root_password(&format!("{HEADER}\nalice,arn,2026,true,N/A\n")),
            Password::Unreadable("the credential report has no <root_account> row".into())
        );
        assert!(matches!(root_password(""), Password::Unreadable(_)));
    }
}
