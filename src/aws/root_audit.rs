//! The organization adapter behind [`MemberRoots`]: whether centralized root access is on (IAM
//! `ListOrganizationsFeatures`), the organization's active accounts (`DescribeOrganization`,
//! `ListAccounts`), and a member's root credentials read through `sts:AssumeRoot` with the
//! `IAMAuditRootUserCredentials` task policy: `GetLoginProfile`, `ListAccessKeys`,
//! `ListMFADevices` and `ListSigningCertificates`, side by side, without `UserName` (allowed only
//! in such a session: IAM API Reference, "GetLoginProfile").
//!
//! `AssumeRoot` is called on the Regional STS endpoint of the function's region: the global
//! endpoint does not serve it (STS API Reference, "AssumeRoot"). The SDK's endpoint rules give
//! the Regional endpoint for every region (a test pins it).

use aws_config::SdkConfig;
use aws_sdk_iam::config::Credentials;
use aws_sdk_iam::error::DisplayErrorContext;
use aws_sdk_iam::operation::get_login_profile::GetLoginProfileError;
use aws_sdk_iam::operation::list_organizations_features::ListOrganizationsFeaturesError;
use aws_sdk_iam::types::FeatureType;
use aws_sdk_sts::types::PolicyDescriptorType;

use crate::aws::organizations::OrganizationAccounts;
use crate::domain::limits::AUDIT_SESSION_SECONDS;
use crate::ports::{CheckError, Member, MemberRoot, MemberRoots, Organization, RootAccess};
use crate::sanitize::{redact_contacts, untrusted_line};

/// The task policy of every audit session, in `partition`.
pub fn audit_task_policy(partition: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/root-task/IAMAuditRootUserCredentials")
}

/// An SDK error as one safe line, named by its call.
fn failed<E: std::error::Error>(call: &str, err: E) -> CheckError {
    let text = format!("{call}: {}", DisplayErrorContext(&err));
    CheckError(untrusted_line(&redact_contacts(&text), 400))
}

/// The organization's members and their root credentials, with clients built once.
#[derive(Debug, Clone)]
pub struct OrganizationRoots {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    organizations: aws_sdk_organizations::Client,
    /// For each session's IAM client: the same config, the session's credentials.
    sdk_config: SdkConfig,
    partition: String,
}

impl OrganizationRoots {
    pub fn new(
        sdk_config: &SdkConfig,
        organizations: aws_sdk_organizations::Client,
        partition: &str,
    ) -> Self {
        Self {
            iam: aws_sdk_iam::Client::new(sdk_config),
            sts: aws_sdk_sts::Client::new(sdk_config),
            organizations,
            sdk_config: sdk_config.clone(),
            partition: partition.to_owned(),
        }
    }
}

/// What `ListOrganizationsFeatures` answered. Pure.
fn root_access(features: &[FeatureType]) -> RootAccess {
    RootAccess::Features {
        credentials_management: features.contains(&FeatureType::RootCredentialsManagement),
        root_sessions: features.contains(&FeatureType::RootSessions),
    }
}

impl MemberRoots for OrganizationRoots {
    async fn root_access(&self) -> Result<RootAccess, CheckError> {
        match self.iam.list_organizations_features().send().await {
            Ok(output) => Ok(root_access(output.enabled_features())),
            Err(err) => match err.as_service_error() {
                Some(
                    ListOrganizationsFeaturesError::AccountNotManagementOrDelegatedAdministratorException(_),
                ) => Ok(RootAccess::NotAllowed),
                Some(
                    e @ (ListOrganizationsFeaturesError::ServiceAccessNotEnabledException(_)
                    | ListOrganizationsFeaturesError::OrganizationNotInAllFeaturesModeException(_)
                    | ListOrganizationsFeaturesError::OrganizationNotFoundException(_)),
                ) => Ok(RootAccess::Unavailable(
                    aws_sdk_iam::error::ProvideErrorMetadata::code(e)
                        .unwrap_or("unknown")
                        .to_owned(),
                )),
                _ => Err(failed("ListOrganizationsFeatures", err)),
            },
        }
    }

    async fn members(&self) -> Result<(String, Vec<Member>), CheckError> {
        let organization = self
            .organizations
            .describe_organization()
            .send()
            .await
            .map_err(|e| failed("DescribeOrganization", e))?;
        let management = organization
            .organization()
            .and_then(|o| o.master_account_id())
            .unwrap_or_default()
            .to_owned();
        // The same listing coverage reads: every page, active accounts only.
        let mut members = OrganizationAccounts::new(self.organizations.clone())
            .accounts()
            .await
            .map_err(|CheckError(e)| CheckError(format!("ListAccounts: {e}")))?;
        members.sort_by(|a, b| a.id.cmp(&b.id));
        Ok((management, members))
    }

    async fn audit(&self, account: &str) -> Result<MemberRoot, CheckError> {
        let policy = PolicyDescriptorType::builder()
            .arn(audit_task_policy(&self.partition))
            .build();
        let session = self
            .sts
            .assume_root()
            .target_principal(account)
            .task_policy_arn(policy)
            .duration_seconds(AUDIT_SESSION_SECONDS)
            .send()
            .await
            .map_err(|e| failed("AssumeRoot", e))?;
        let credentials = session
            .credentials()
            .ok_or_else(|| CheckError("AssumeRoot: no credentials in the answer".into()))?;
        let config = aws_sdk_iam::config::Builder::from(&self.sdk_config)
            .credentials_provider(Credentials::new(
                credentials.access_key_id(),
                credentials.secret_access_key(),
                Some(credentials.session_token().to_owned()),
                None,
                "assume-root",
            ))
            .build();
        let iam = aws_sdk_iam::Client::from_conf(config);
        let (profile, keys, devices, certificates) = tokio::join!(
            iam.get_login_profile().send(),
            iam.list_access_keys().send(),
            iam.list_mfa_devices().send(),
            iam.list_signing_certificates().send(),
        );
        let password = match profile {
            Ok(_) => true,
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(GetLoginProfileError::NoSuchEntityException(_))
                ) =>
            {
                false
            }
            Err(err) => return Err(failed("GetLoginProfile", err)),
        };
        Ok(MemberRoot {
            password,
            access_keys: keys
                .map_err(|e| failed("ListAccessKeys", e))?
                .access_key_metadata()
                .len(),
            mfa_devices: devices
                .map_err(|e| failed("ListMFADevices", e))?
                .mfa_devices()
                .len(),
            certificates: certificates
                .map_err(|e| failed("ListSigningCertificates", e))?
                .certificates()
                .len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, Region};
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};

    #[test]
    fn the_features_say_whether_root_sessions_are_on() {
        assert_eq!(
            root_access(&[FeatureType::RootCredentialsManagement]),
            RootAccess::Features {
                credentials_management: true,
                root_sessions: false
            }
        );
        assert_eq!(
            root_access(&[
                FeatureType::RootSessions,
                FeatureType::RootCredentialsManagement
            ]),
            RootAccess::Features {
                credentials_management: true,
                root_sessions: true
            }
        );
    }

    /// AssumeRoot has no global endpoint: the client built from the function's config resolves
    /// to its region's STS endpoint, in every partition.
    #[tokio::test]
    async fn assume_root_is_called_on_the_regional_sts_endpoint() {
        for (region, expected) in [
            ("us-east-1", "https://sts.us-east-1.amazonaws.com"),
            ("eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
            ("ap-southeast-2", "https://sts.ap-southeast-2.amazonaws.com"),
            ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
            ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
        ] {
            let sdk_config = SdkConfig::builder()
                .region(Region::new(region))
                .behavior_version(BehaviorVersion::latest())
                .build();
            let client = aws_sdk_sts::Client::new(&sdk_config);
            let config = client.config();
            let params = Params::builder()
                .region(config.region().unwrap().to_string())
                .use_global_endpoint(false)
                .build()
                .unwrap();
            let endpoint = DefaultResolver::new()
                .resolve_endpoint(&params)
                .await
                .unwrap();
            assert_eq!(endpoint.url(), expected, "{region}");
        }
        assert_eq!(
            audit_task_policy("aws"),
            "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
        );
    }
}
