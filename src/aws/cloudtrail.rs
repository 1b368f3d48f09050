//! The CloudTrail adapter behind [`TrailSource`]: read-only calls, fetched and mapped, no
//! judgement. `DescribeTrails` (with shadow trails, so multi-region and organization trails
//! from other home regions are listed), then `GetTrailStatus` and `GetEventSelectors` for each
//! trail by ARN (a shadow trail can only be named by its ARN outside its home region).

use aws_sdk_cloudtrail::error::DisplayErrorContext;
use aws_sdk_cloudtrail::operation::get_event_selectors::GetEventSelectorsOutput;
use aws_sdk_cloudtrail::types::{AdvancedEventSelector, Trail};

use crate::ports::{CheckError, Selector, TrailSource, TrailView};
use crate::sanitize::{redact_contacts, untrusted_line};

/// Reads trails with a client built once at start-up, in the function's region.
#[derive(Debug, Clone)]
pub struct CloudTrailSource {
    client: aws_sdk_cloudtrail::Client,
}

impl CloudTrailSource {
    pub fn new(client: aws_sdk_cloudtrail::Client) -> Self {
        Self { client }
    }
}

/// An SDK error as one safe line: what failed and why, contacts redacted, length capped.
fn failed<E: std::error::Error>(call: &str, trail: Option<&str>, err: E) -> CheckError {
    let on = trail.map(|t| format!(" for {t}")).unwrap_or_default();
    let text = format!("{call}{on}: {}", DisplayErrorContext(&err));
    CheckError(untrusted_line(&redact_contacts(&text), 400))
}

/// Whether an advanced selector picks management events (`eventCategory` = `Management`).
pub(crate) fn selects_management(selector: &AdvancedEventSelector) -> bool {
    selector
        .field_selectors()
        .iter()
        .any(|f| f.field() == "eventCategory" && f.equals().iter().any(|v| v == "Management"))
}

/// The selectors of a trail, basic and advanced. Pure.
pub fn selectors(output: &GetEventSelectorsOutput) -> Vec<Selector> {
    let basic = output.event_selectors().iter().map(|s| Selector::Basic {
        include_management_events: s.include_management_events(),
    });
    let advanced = output
        .advanced_event_selectors()
        .iter()
        .map(|s| Selector::Advanced {
            selects_management: selects_management(s),
        });
    basic.chain(advanced).collect()
}

/// One trail as the judge sees it. Pure.
fn trail_view(trail: &Trail, logging: bool, selectors: Vec<Selector>) -> TrailView {
    TrailView {
        name: trail.name().unwrap_or_default().to_owned(),
        arn: trail
            .trail_arn()
            .or(trail.name())
            .unwrap_or_default()
            .to_owned(),
        home_region: trail.home_region().unwrap_or_default().to_owned(),
        multi_region: trail.is_multi_region_trail().unwrap_or(false),
        organization: trail.is_organization_trail().unwrap_or(false),
        logging,
        selectors,
    }
}

impl TrailSource for CloudTrailSource {
    async fn trails(&self) -> Result<Vec<TrailView>, CheckError> {
        let listed = self
            .client
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| failed("DescribeTrails", None, e))?;
        let mut views = Vec::new();
        for trail in listed.trail_list() {
            let id = trail.trail_arn().or(trail.name()).unwrap_or_default();
            let status = self
                .client
                .get_trail_status()
                .name(id)
                .send()
                .await
                .map_err(|e| failed("GetTrailStatus", Some(id), e))?;
            let chosen = self
                .client
                .get_event_selectors()
                .trail_name(id)
                .send()
                .await
                .map_err(|e| failed("GetEventSelectors", Some(id), e))?;
            views.push(trail_view(
                trail,
                status.is_logging().unwrap_or(false),
                selectors(&chosen),
            ));
        }
        Ok(views)
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudtrail::types::{AdvancedFieldSelector, EventSelector};

    use super::*;

    fn field(name: &str, equals: &str) -> AdvancedFieldSelector {
        AdvancedFieldSelector::builder()
            .field(name)
            .equals(equals)
            .build()
            .unwrap()
    }

    #[test]
    fn basic_and_advanced_selectors_are_mapped() {
        let output = GetEventSelectorsOutput::builder()
            .event_selectors(
                EventSelector::builder()
                    .include_management_events(false)
                    .build(),
            )
            .event_selectors(EventSelector::builder().build())
            .advanced_event_selectors(
                AdvancedEventSelector::builder()
                    .field_selectors(field("eventCategory", "Data"))
                    .build()
                    .unwrap(),
            )
            .advanced_event_selectors(
                AdvancedEventSelector::builder()
                    .field_selectors(field("eventCategory", "Management"))
                    .build()
                    .unwrap(),
            )
            .build();
        assert_eq!(
            selectors(&output),
            [
                Selector::Basic {
                    include_management_events: Some(false)
                },
                Selector::Basic {
                    include_management_events: None
                },
                Selector::Advanced {
                    selects_management: false
                },
                Selector::Advanced {
                    selects_management: true
                },
            ]
        );
        assert!(selectors(&GetEventSelectorsOutput::builder().build()).is_empty());
    }

    #[test]
    fn a_shadow_trail_is_named_by_its_arn() {
        let trail = Trail::builder()
            .name("org")
            .trail_arn("arn:aws:cloudtrail:us-east-1:111122223333:trail/org")
            .home_region("us-east-1")
            .is_multi_region_trail(true)
            .is_organization_trail(true)
            .build();
        let view = trail_view(&trail, true, vec![]);
        assert_eq!(
            view.arn,
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/org"
        );
        assert!(view.multi_region && view.organization && view.applies_to("eu-west-1"));
    }
}
