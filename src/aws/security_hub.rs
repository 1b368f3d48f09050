//! Security Hub and the state table behind [`Findings`]: a root session kept in the state
//! table ([`SessionTable`]), its finding imported with `BatchImportFindings` under the home
//! account's default product ARN ([`SecurityHubFindings`]).
//!
//! `BatchImportFindings` answers 200 even when a finding was refused: `FailedCount` and
//! `FailedFindings` say so (Security Hub API Reference, `BatchImportFindings`), so a refused
//! finding is a failure here.

use aws_sdk_securityhub::error::DisplayErrorContext;
use aws_sdk_securityhub::operation::batch_import_findings::BatchImportFindingsOutput;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, FindingProviderFields, FindingProviderSeverity, Partition, RecordState,
    Resource, SeverityLabel, Workflow, WorkflowStatus,
};

use chrono::{DateTime, Utc};

use crate::aws::finding_state::SessionTable;
use crate::domain::Severity;
use crate::ports::{Findings, OutputError};
use crate::render::finding::{Finding, FindingEntry, SessionRecord};

fn failed(reason: &str) -> OutputError {
    OutputError::finding(reason)
}

/// Security Hub in the home account and region.
#[derive(Debug, Clone)]
pub struct SecurityHubFindings {
    client: aws_sdk_securityhub::Client,
}

impl SecurityHubFindings {
    pub fn new(client: aws_sdk_securityhub::Client) -> Self {
        SecurityHubFindings { client }
    }
}

fn label(severity: Severity) -> SeverityLabel {
    match severity {
        Severity::Low => SeverityLabel::Low,
        Severity::Medium => SeverityLabel::Medium,
        Severity::High => SeverityLabel::High,
        Severity::Critical => SeverityLabel::Critical,
    }
}

/// The SDK's finding for ours, field for field.
pub fn import_request(finding: &Finding) -> AwsSecurityFinding {
    let resources = finding
        .resources
        .iter()
        .map(|r| {
            Resource::builder()
                .r#type(r.kind)
                .id(&r.id)
                .partition(Partition::from(r.partition.as_str()))
                .region(&r.region)
                .build()
        })
        .collect();
    AwsSecurityFinding::builder()
        .schema_version(finding.schema_version)
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .product_name(finding.product_name)
        .company_name(finding.company_name)
        .generator_id(finding.generator_id)
        .aws_account_id(&finding.aws_account_id)
        .region(&finding.region)
        .set_types(Some(finding.types.clone()))
        .created_at(&finding.created_at)
        .updated_at(&finding.updated_at)
        .set_first_observed_at(finding.first_observed_at.clone())
        .set_last_observed_at(finding.last_observed_at.clone())
        .severity(
            aws_sdk_securityhub::types::Severity::builder()
                .label(label(finding.severity.label))
                .build(),
        )
        .title(&finding.title)
        .description(&finding.description)
        .set_product_fields(Some(finding.product_fields.clone().into_iter().collect()))
        .set_resources(Some(resources))
        .set_workflow(finding.workflow.as_ref().map(|w| {
            Workflow::builder()
                .status(WorkflowStatus::from(w.status))
                .build()
        }))
        .record_state(RecordState::from(finding.record_state))
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(
                    FindingProviderSeverity::builder()
                        .label(label(finding.finding_provider_fields.severity.label))
                        .build(),
                )
                .set_types(Some(finding.finding_provider_fields.types.clone()))
                .build(),
        )
        .build()
}

/// A `BatchImportFindings` answer: a failure when it counts a failed finding, naming Security
/// Hub's code and message for it.
pub fn check_import(output: &BatchImportFindingsOutput) -> Result<(), OutputError> {
    if output.failed_count().unwrap_or(0) == 0 && output.failed_findings().is_empty() {
        return Ok(());
    }
    let first = output.failed_findings().first();
    Err(failed(&format!(
        "Security Hub refused the finding: {} {}",
        first.and_then(|f| f.error_code()).unwrap_or("(no code)"),
        first.and_then(|f| f.error_message()).unwrap_or_default()
    )))
}

impl SecurityHubFindings {
    /// `DescribeHub`: whether Security Hub is enabled here, so that a hub that is not is said
    /// at start-up rather than at the first root alert.
    pub async fn describe_hub(&self) -> Result<(), OutputError> {
        self.client
            .describe_hub()
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(&DisplayErrorContext(&e).to_string()))
    }

    /// Imports one finding (creating it, or replacing the one with its `Id`).
    pub async fn import(&self, finding: &Finding) -> Result<(), OutputError> {
        let output = self
            .client
            .batch_import_findings()
            .findings(import_request(finding))
            .send()
            .await
            .map_err(|e| failed(&DisplayErrorContext(&e).to_string()))?;
        check_import(&output)
    }
}

/// The findings port: the sessions in the state table, their findings in Security Hub.
#[derive(Debug, Clone)]
pub struct SessionFindings {
    pub sessions: SessionTable,
    pub hub: SecurityHubFindings,
}

impl Findings for SessionFindings {
    async fn note(
        &self,
        entry: &FindingEntry,
        alert_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionRecord, OutputError> {
        self.sessions.note(entry, alert_id, now).await
    }

    async fn current(&self, session: &str) -> Result<Option<SessionRecord>, OutputError> {
        self.sessions.current(session).await
    }

    async fn import(&self, finding: &Finding) -> Result<(), OutputError> {
        self.hub.import(finding).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::finding::{
        Home, Label, ProviderFields, Resource as OurResource, Workflow as OurWorkflow,
    };
    use aws_sdk_securityhub::types::ImportFindingsError;
    use std::collections::BTreeMap;

    fn finding() -> Finding {
        let home = Home {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "999988887777".into(),
        };
        Finding {
            schema_version: "2018-10-08",
            id: "rootwatch/root-session/444455556666#key#ASIAEXAMPLE2".into(),
            product_arn: home.product_arn(),
            product_name: "rootwatch",
            company_name: "rootwatch",
            generator_id: "rootwatch/root-session",
            aws_account_id: home.account.clone(),
            region: home.region.clone(),
            types: vec!["Unusual Behaviors/User".into()],
            created_at: "2026-11-21T09:00:00Z".into(),
            updated_at: "2026-11-21T09:01:00Z".into(),
            first_observed_at: Some("2026-11-21T08:59:00Z".into()),
            last_observed_at: None,
            severity: Label {
                label: Severity::Critical,
            },
            title: "t".into(),
            description: "d".into(),
            product_fields: BTreeMap::from([("rootwatch/alerts".into(), "1".into())]),
            resources: vec![OurResource {
                kind: "AwsAccount",
                id: "AWS::::Account:444455556666".into(),
                partition: "aws".into(),
                region: "eu-west-1".into(),
            }],
            workflow: Some(OurWorkflow { status: "NEW" }),
            record_state: "ACTIVE",
            finding_provider_fields: ProviderFields {
                severity: Label {
                    label: Severity::Critical,
                },
                types: vec!["Unusual Behaviors/User".into()],
            },
        }
    }

    /// moto imports a finding for any `AwsAccountId`; AWS takes only the caller's own under the
    /// default product ARN. So the request is pinned here: the home account, the member as the
    /// resource.
    #[test]
    fn the_request_carries_every_field_with_the_home_account_as_owner() {
        let f = import_request(&finding());
        assert_eq!(f.aws_account_id(), Some("999988887777"));
        assert_eq!(
            f.product_arn(),
            Some("arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default")
        );
        assert_eq!(
            f.id(),
            Some("rootwatch/root-session/444455556666#key#ASIAEXAMPLE2")
        );
        assert_eq!(
            f.severity().and_then(|s| s.label()),
            Some(&SeverityLabel::Critical)
        );
        assert_eq!(
            f.finding_provider_fields()
                .and_then(|p| p.severity())
                .and_then(|s| s.label()),
            Some(&SeverityLabel::Critical)
        );
        let resource = &f.resources()[0];
        assert_eq!(resource.r#type(), Some("AwsAccount"));
        assert_eq!(resource.id(), Some("AWS::::Account:444455556666"));
        assert_eq!(resource.partition(), Some(&Partition::Aws));
        assert_eq!(resource.region(), Some("eu-west-1"));
        assert_eq!(
            f.workflow().and_then(|w| w.status()),
            Some(&WorkflowStatus::New)
        );
        assert_eq!(f.record_state(), Some(&RecordState::Active));
        assert_eq!(f.types(), ["Unusual Behaviors/User"]);
        assert_eq!(f.last_observed_at(), None);
        assert_eq!(
            f.product_fields()
                .and_then(|p| p.get("rootwatch/alerts"))
                .map(String::as_str),
            Some("1")
        );
        let mut later = finding();
        later.workflow = None;
        assert!(import_request(&later).workflow().is_none());
    }

    #[test]
    fn a_failed_finding_in_a_200_answer_is_a_failure() {
        let ok = BatchImportFindingsOutput::builder()
            .failed_count(0)
            .success_count(1)
            .build();
        assert_eq!(check_import(&ok), Ok(()));
        let refused = BatchImportFindingsOutput::builder()
            .failed_count(1)
            .success_count(0)
            .failed_findings(
                ImportFindingsError::builder()
                    .id("x")
                    .error_code("InvalidInput")
                    .error_message("AwsAccountId must be the caller's")
                    .build(),
            )
            .build();
        let err = check_import(&refused).unwrap_err();
        assert_eq!(err.output, "finding");
        assert_eq!(
            err.reason,
            "Security Hub refused the finding: InvalidInput AwsAccountId must be the caller's"
        );
    }
}
