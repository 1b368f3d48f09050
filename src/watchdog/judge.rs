//! Whether CloudTrail feeds rootwatch in a region: a pure judgement of what the CloudTrail API
//! said about the region's trails.
//!
//! EventBridge receives `AWS API Call via CloudTrail` and console sign-in events only while a
//! trail that applies to the region is logging and records management events. So the region is
//! healthy when at least one trail that applies to it (one whose home region it is, or a
//! multi-region trail, organization trails included) is logging and records management events.

use serde::Serialize;

use crate::ports::TrailView;

/// One thing wrong with the pipeline, with a stable [`Finding::code`] for the once-a-day rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "finding", rename_all = "kebab-case")]
pub enum Finding {
    /// No trail applies to the region.
    NoTrail,
    /// A trail applies to the region but is stopped.
    #[serde(rename_all = "camelCase")]
    NotLogging {
        trail: String,
        trail_arn: String,
        home_region: String,
    },
    /// A trail is logging but its selectors record no management events.
    #[serde(rename_all = "camelCase")]
    NoManagementEvents {
        trail: String,
        trail_arn: String,
        home_region: String,
    },
    /// The check could not be made: an error from the CloudTrail API (already sanitised).
    #[serde(rename_all = "camelCase")]
    CheckFailed { error: String },
}

impl Finding {
    /// `no-trail`, `not-logging:<trail arn>`, `no-management-events:<trail arn>` or
    /// `check-failed`: the same condition always has the same code, whatever the error text.
    pub fn code(&self) -> String {
        match self {
            Finding::NoTrail => "no-trail".into(),
            Finding::NotLogging { trail_arn, .. } => format!("not-logging:{trail_arn}"),
            Finding::NoManagementEvents { trail_arn, .. } => {
                format!("no-management-events:{trail_arn}")
            }
            Finding::CheckFailed { .. } => "check-failed".into(),
        }
    }
}

/// The judgement of one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// These trails (names) feed EventBridge in the region.
    Healthy { feeding: Vec<String> },
    /// Nothing feeds it; each finding says why. Never empty.
    Blind { findings: Vec<Finding> },
}

/// Judges the trails `DescribeTrails` (with shadow trails) listed in `region`. Trails that do
/// not apply to the region are skipped. When one trail feeds the region, other broken trails
/// are not findings: rootwatch is not blind.
pub fn judge(region: &str, trails: &[TrailView]) -> Health {
    let applying: Vec<&TrailView> = trails.iter().filter(|t| t.applies_to(region)).collect();
    let feeding: Vec<String> = applying
        .iter()
        .filter(|t| t.logging && t.records_management_events())
        .map(|t| t.name.clone())
        .collect();
    if !feeding.is_empty() {
        return Health::Healthy { feeding };
    }
    if applying.is_empty() {
        return Health::Blind {
            findings: vec![Finding::NoTrail],
        };
    }
    let findings = applying
        .iter()
        .flat_map(|t| {
            let (trail, trail_arn, home_region) =
                (t.name.clone(), t.arn.clone(), t.home_region.clone());
            if !t.logging {
                vec![Finding::NotLogging {
                    trail,
                    trail_arn,
                    home_region,
                }]
            } else {
                vec![Finding::NoManagementEvents {
                    trail,
                    trail_arn,
                    home_region,
                }]
            }
        })
        .collect();
    Health::Blind { findings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Selector;

    fn trail(
        name: &str,
        home: &str,
        multi: bool,
        logging: bool,
        selectors: Vec<Selector>,
    ) -> TrailView {
        TrailView {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:{home}:111122223333:trail/{name}"),
            home_region: home.into(),
            multi_region: multi,
            organization: false,
            logging,
            selectors,
        }
    }

    const MGMT: Selector = Selector::Basic {
        include_management_events: Some(true),
    };
    const NO_MGMT: Selector = Selector::Basic {
        include_management_events: Some(false),
    };

    #[test]
    fn no_trail_at_all_is_blind() {
        assert_eq!(
            judge("eu-west-1", &[]),
            Health::Blind {
                findings: vec![Finding::NoTrail]
            }
        );
    }

    #[test]
    fn a_single_region_trail_elsewhere_does_not_cover_this_region() {
        let other = trail("t", "us-east-1", false, true, vec![MGMT]);
        assert_eq!(
            judge("eu-west-1", &[other]),
            Health::Blind {
                findings: vec![Finding::NoTrail]
            }
        );
    }

    #[test]
    fn a_logging_multi_region_trail_from_another_home_region_feeds_this_one() {
        let shadow = trail("org", "us-east-1", true, true, vec![MGMT]);
        assert_eq!(
            judge("eu-west-1", &[shadow]),
            Health::Healthy {
                feeding: vec!["org".into()]
            }
        );
    }

    /// AWS returns the default selector for a new trail; moto returns none. Both record
    /// management events.
    #[test]
    fn no_selectors_configured_means_the_default_all_management_events() {
        let t = trail("t", "eu-west-1", false, true, vec![]);
        assert!(t.records_management_events());
        let unset = trail(
            "t",
            "eu-west-1",
            false,
            true,
            vec![Selector::Basic {
                include_management_events: None,
            }],
        );
        assert!(matches!(
            judge("eu-west-1", &[unset]),
            Health::Healthy { .. }
        ));
    }

    #[test]
    fn a_stopped_trail_is_named_with_its_arn() {
        let stopped = trail("main", "eu-west-1", true, false, vec![]);
        let Health::Blind { findings } = judge("eu-west-1", &[stopped]) else {
            panic!("blind")
        };
        assert_eq!(
            findings.iter().map(Finding::code).collect::<Vec<_>>(),
            ["not-logging:arn:aws:cloudtrail:eu-west-1:111122223333:trail/main"]
        );
    }

    #[test]
    fn selectors_without_management_events_are_blind() {
        let data_only = trail("d", "eu-west-1", true, true, vec![NO_MGMT]);
        let advanced_data = trail(
            "a",
            "eu-west-1",
            false,
            true,
            vec![Selector::Advanced {
                selects_management: false,
            }],
        );
        let Health::Blind { findings } = judge("eu-west-1", &[data_only, advanced_data]) else {
            panic!("blind")
        };
        assert!(
            findings
                .iter()
                .all(|f| matches!(f, Finding::NoManagementEvents { .. }))
        );
        assert_eq!(findings.len(), 2);
        let advanced_mgmt = trail(
            "m",
            "eu-west-1",
            false,
            true,
            vec![
                NO_MGMT,
                Selector::Advanced {
                    selects_management: true,
                },
            ],
        );
        assert!(matches!(
            judge("eu-west-1", &[advanced_mgmt]),
            Health::Healthy { .. }
        ));
    }

    #[test]
    fn one_feeding_trail_is_enough_whatever_the_others_do() {
        let stopped = trail("old", "eu-west-1", false, false, vec![]);
        let good = trail("main", "us-east-1", true, true, vec![MGMT]);
        assert_eq!(
            judge("eu-west-1", &[stopped, good]),
            Health::Healthy {
                feeding: vec!["main".into()]
            }
        );
    }

    #[test]
    fn codes_do_not_depend_on_the_error_text() {
        let a = Finding::CheckFailed { error: "a".into() };
        let b = Finding::CheckFailed { error: "b".into() };
        assert_eq!(a.code(), b.code());
    }
}
