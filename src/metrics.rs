//! CloudWatch metrics through the Embedded Metric Format: one JSON line on stdout per
//! invocation, which CloudWatch Logs turns into metrics in the `rootwatch` namespace. No client,
//! no extra permission, nothing to fail at the edge.
//!
//! The line follows the documented specification (CloudWatch User Guide, "Embedded metric format
//! specification"): `_aws.Timestamp` (epoch ms) and `_aws.CloudWatchMetrics`, a list of
//! directives `{Namespace, Dimensions, Metrics}`, with each dimension and metric value a
//! top-level member. Written with serde_json rather than a crate: the format is one small object,
//! and the maintained crate (`metrics_cloudwatch_embedded`) is a global recorder for the
//! `metrics` facade, which would hide what an invocation emitted from its tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use crate::coverage::ChecksOutcome;
use crate::coverage::judge::State;
use crate::declare::Rung;
use crate::declare::report::ReportsOutcome;
use crate::detect::record::EventError;
use crate::domain::Severity;
use crate::error::HandlerError;
use crate::handler::Outcome;
use crate::posture::PostureOutcome;
use crate::posture::controls::control;
use crate::posture::members::AuditOutcome;
use crate::watchdog::WatchdogOutcome;

const NAMESPACE: &str = "rootwatch";

/// What one invocation counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    /// The severity of the alert published, if one was.
    pub alert: Option<Severity>,
    pub ignored: u32,
    pub duplicates: u32,
    pub delivery_failures: u32,
    /// Envelopes refused because their `source` is not AWS's: someone is putting events that
    /// look like CloudTrail, or a rule is mis-wired.
    pub untrusted: u32,
    /// Set by a watchdog run: whether CloudTrail feeds rootwatch.
    pub watchdog_healthy: Option<bool>,
    /// Set by a posture check: how many findings the root user's credentials have (standing
    /// ones included), so a dashboard shows them every tick, alerted or not.
    pub posture_findings: Option<u32>,
    /// Set by a member audit that ran: how many members' root credentials it read.
    pub members_audited: Option<u32>,
    /// Set by a coverage check that could read its inputs: how many cells are in each state.
    pub coverage: Option<BTreeMap<State, usize>>,
    /// Alert events not put on the alert bus (the alerts were published all the same).
    pub alert_event_failures: u32,
    /// Security Hub findings not noted or imported (the alerts were published all the same).
    pub finding_failures: u32,
}

impl Metrics {
    /// An event's result. Errors other than a failed publish are counted by Lambda's `Errors`.
    pub(crate) fn of_event(result: &Result<Outcome, HandlerError>) -> Self {
        match result {
            Ok(Outcome::Alerted { severity, .. }) => Metrics {
                alert: Some(*severity),
                ..Default::default()
            },
            Ok(Outcome::Ignored { .. }) => Metrics {
                ignored: 1,
                ..Default::default()
            },
            Ok(Outcome::Duplicate { .. }) => Metrics {
                duplicates: 1,
                ..Default::default()
            },
            Err(err) => Metrics {
                delivery_failures: u32::from(matches!(err, HandlerError::Delivery(_))),
                untrusted: u32::from(matches!(
                    err,
                    HandlerError::Event(EventError::UntrustedSource { .. })
                )),
                ..Default::default()
            },
        }
    }

    /// A watchdog run's result. The watchdog fails only when its alert could not be published.
    pub(crate) fn of_watchdog(result: &Result<WatchdogOutcome, HandlerError>) -> Self {
        match result {
            Ok(WatchdogOutcome::Healthy { .. }) => Metrics {
                watchdog_healthy: Some(true),
                ..Default::default()
            },
            Ok(WatchdogOutcome::Blind { message_id, .. }) => Metrics {
                alert: message_id
                    .as_ref()
                    .map(|_| crate::watchdog::render::SEVERITY),
                watchdog_healthy: Some(false),
                ..Default::default()
            },
            Err(err) => Metrics {
                delivery_failures: u32::from(matches!(err, HandlerError::Delivery(_))),
                watchdog_healthy: Some(false),
                ..Default::default()
            },
        }
    }

    /// A coverage check's result: a gap or failure alert published counts as an alert (HIGH).
    pub(crate) fn of_checks(result: &Result<ChecksOutcome, HandlerError>) -> Self {
        match result {
            Ok(
                ChecksOutcome::Checked { message_id, .. }
                | ChecksOutcome::Failed { message_id, .. },
            ) => Metrics {
                alert: message_id
                    .as_ref()
                    .map(|_| crate::coverage::render::SEVERITY),
                coverage: match result {
                    Ok(ChecksOutcome::Checked { cells, .. }) => Some(cells.clone()),
                    _ => None,
                },
                ..Default::default()
            },
            Err(err) => Metrics {
                delivery_failures: u32::from(matches!(err, HandlerError::Delivery(_))),
                ..Default::default()
            },
        }
    }

    /// A batch of doorbells: each notice published counts as an alert (HIGH); a record skipped
    /// for its key as ignored; a refused batch as untrusted.
    pub(crate) fn of_declarations(result: &Result<Vec<Rung>, HandlerError>) -> Self {
        match result {
            Ok(rungs) => Metrics {
                alert: rungs
                    .iter()
                    .any(Rung::published)
                    .then_some(crate::declare::render::SEVERITY),
                ignored: rungs
                    .iter()
                    .filter(|rung| matches!(rung, Rung::Skipped { .. }))
                    .count()
                    .try_into()
                    .unwrap_or(u32::MAX),
                ..Default::default()
            },
            Err(err) => Metrics {
                delivery_failures: u32::from(matches!(err, HandlerError::Delivery(_))),
                untrusted: u32::from(matches!(
                    err,
                    HandlerError::Event(EventError::UntrustedSource { .. })
                )),
                ..Default::default()
            },
        }
    }

    /// Adds a tick's posture check: its findings, and the most severe alert it published
    /// (an invocation counts one alert, its most severe).
    pub(crate) fn add_posture(&mut self, result: &Result<PostureOutcome, HandlerError>) {
        match result {
            Ok(PostureOutcome::Clean) => self.posture_findings = Some(0),
            Ok(found @ PostureOutcome::Found { findings, .. }) => {
                self.posture_findings = Some(findings.len().try_into().unwrap_or(u32::MAX));
                self.alert = self.alert.max(found.alerted());
            }
            Ok(PostureOutcome::Off | PostureOutcome::Skipped) => {}
            Err(err) => {
                self.delivery_failures += u32::from(matches!(err, HandlerError::Delivery(_)));
            }
        }
    }

    /// Adds a tick's member audit: the members read, and its alerts (an invocation counts one
    /// alert, its most severe; a kind counts as its row's severity).
    pub(crate) fn add_audit(&mut self, result: &Result<AuditOutcome, HandlerError>) {
        match result {
            Ok(AuditOutcome::Audited { audited, published }) => {
                self.members_audited = Some(audited.len().try_into().unwrap_or(u32::MAX));
                let severity = published.iter().map(|k| control(*k).severity).max();
                self.alert = self.alert.max(severity);
            }
            Ok(_) => {}
            Err(err) => {
                self.delivery_failures += u32::from(matches!(err, HandlerError::Delivery(_)));
            }
        }
    }

    /// Adds a tick's report sweep: a report that could not be published is a delivery failure
    /// (a report sent is one email, not an alert).
    pub(crate) fn add_reports(&mut self, result: &Result<ReportsOutcome, HandlerError>) {
        if let Err(err) = result {
            self.delivery_failures += u32::from(matches!(err, HandlerError::Delivery(_)));
        }
    }

    /// The EMF line, or `None` when there is nothing to count. `function` is the function's
    /// name (the `FunctionName` dimension of every metric).
    pub fn emf(&self, function: &str, at: DateTime<Utc>) -> Option<String> {
        let mut root = Map::new();
        let mut directives = Vec::new();
        root.insert("FunctionName".into(), json!(function));
        if let Some(severity) = self.alert {
            root.insert("Severity".into(), json!(severity.as_str()));
            root.insert("Alerts".into(), json!(1));
            directives.push(directive(&["FunctionName", "Severity"], &["Alerts"]));
        }
        let mut plain = Vec::new();
        for (name, value) in [
            ("Ignored", self.ignored),
            ("Duplicates", self.duplicates),
            ("DeliveryFailures", self.delivery_failures),
            ("UntrustedEvents", self.untrusted),
            ("AlertEventFailures", self.alert_event_failures),
            ("FindingFailures", self.finding_failures),
        ] {
            if value > 0 {
                root.insert(name.into(), json!(value));
                plain.push(name);
            }
        }
        if let Some(healthy) = self.watchdog_healthy {
            root.insert("WatchdogHealthy".into(), json!(u8::from(healthy)));
            plain.push("WatchdogHealthy");
        }
        if let Some(findings) = self.posture_findings {
            root.insert("PostureFindings".into(), json!(findings));
            plain.push("PostureFindings");
        }
        if let Some(audited) = self.members_audited {
            root.insert("MembersAudited".into(), json!(audited));
            plain.push("MembersAudited");
        }
        if !plain.is_empty() {
            directives.push(directive(&["FunctionName"], &plain));
        }
        if directives.is_empty() {
            return None;
        }
        root.insert(
            "_aws".into(),
            json!({
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": directives,
            }),
        );
        Some(Value::Object(root).to_string())
    }
}

impl Metrics {
    /// A coverage check's cells by state: one EMF line per state (`CoverageCells` with the
    /// dimensions `FunctionName` and `State`; an EMF line holds one value per dimension), the
    /// first also counting `CoverageChecked` 1, so an alarm can tell a check that ran from none.
    /// Empty unless a check read its inputs.
    pub fn coverage_emf(&self, function: &str, at: DateTime<Utc>) -> Vec<String> {
        let Some(cells) = &self.coverage else {
            return Vec::new();
        };
        State::ALL
            .iter()
            .enumerate()
            .map(|(i, state)| {
                let mut root = Map::new();
                root.insert("FunctionName".into(), json!(function));
                root.insert("State".into(), json!(state.as_str()));
                root.insert(
                    "CoverageCells".into(),
                    json!(cells.get(state).copied().unwrap_or(0)),
                );
                let mut directives =
                    vec![directive(&["FunctionName", "State"], &["CoverageCells"])];
                if i == 0 {
                    root.insert("CoverageChecked".into(), json!(1));
                    directives.push(directive(&["FunctionName"], &["CoverageChecked"]));
                }
                root.insert(
                    "_aws".into(),
                    json!({"Timestamp": at.timestamp_millis(), "CloudWatchMetrics": directives}),
                );
                Value::Object(root).to_string()
            })
            .collect()
    }
}

fn directive(dimensions: &[&str], metrics: &[&str]) -> Value {
    json!({
        "Namespace": NAMESPACE,
        "Dimensions": [dimensions],
        "Metrics": metrics
            .iter()
            .map(|m| json!({"Name": m, "Unit": "Count"}))
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    /// Every metric named in a directive is a top-level number, every dimension a top-level
    /// string: what CloudWatch requires to extract them.
    fn assert_valid_emf(line: &str) -> Value {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], at().timestamp_millis());
        for d in v["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(d["Namespace"], NAMESPACE);
            for set in d["Dimensions"].as_array().unwrap() {
                for dim in set.as_array().unwrap() {
                    assert!(v[dim.as_str().unwrap()].is_string(), "{dim}");
                }
            }
            for m in d["Metrics"].as_array().unwrap() {
                assert!(v[m["Name"].as_str().unwrap()].is_number(), "{m}");
                assert_eq!(m["Unit"], "Count");
            }
        }
        v
    }

    #[test]
    fn an_alert_is_counted_by_severity() {
        let m = Metrics {
            alert: Some(Severity::Critical),
            ..Default::default()
        };
        let v = assert_valid_emf(&m.emf("rootwatch-fn", at()).unwrap());
        assert_eq!(v["Alerts"], 1);
        assert_eq!(v["Severity"], "CRITICAL");
        assert_eq!(v["FunctionName"], "rootwatch-fn");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["FunctionName", "Severity"]])
        );
        assert_eq!(v["_aws"]["CloudWatchMetrics"].as_array().unwrap().len(), 1);
    }

    /// A notice of declared root use counts as an alert; a forged batch as untrusted.
    #[test]
    fn declarations_count_their_notices_and_refused_batches() {
        let announced = Ok(vec![Rung::Announced {
            account: "111122223333".into(),
            message_id: Some("m-1".into()),
            opened: true,
        }]);
        assert_eq!(
            Metrics::of_declarations(&announced).alert,
            Some(Severity::High)
        );
        let nothing = Ok(vec![Rung::Ended {
            account: "111122223333".into(),
        }]);
        assert_eq!(Metrics::of_declarations(&nothing), Metrics::default());
        let skipped = Ok(vec![Rung::Skipped {
            key: "\"declaration#prod\"".into(),
        }]);
        assert_eq!(Metrics::of_declarations(&skipped).ignored, 1);
        let forged = Err(HandlerError::Event(EventError::UntrustedSource {
            event_id: None,
            reason: "x".into(),
        }));
        assert_eq!(Metrics::of_declarations(&forged).untrusted, 1);
    }

    /// An output that failed beside a published alert: both counted, in the plain directive,
    /// and nothing when none failed.
    #[test]
    fn failed_outputs_are_counted_beside_the_alert() {
        let m = Metrics {
            alert: Some(Severity::High),
            alert_event_failures: 1,
            finding_failures: 1,
            ..Default::default()
        };
        let v = assert_valid_emf(&m.emf("f", at()).unwrap());
        assert_eq!(
            (&v["AlertEventFailures"], &v["FindingFailures"]),
            (&json!(1), &json!(1))
        );
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][1]["Metrics"],
            json!([
                {"Name": "AlertEventFailures", "Unit": "Count"},
                {"Name": "FindingFailures", "Unit": "Count"}
            ])
        );
        let quiet = Metrics {
            alert: Some(Severity::High),
            ..Default::default()
        };
        let v = assert_valid_emf(&quiet.emf("f", at()).unwrap());
        assert!(v.get("AlertEventFailures").is_none() && v.get("FindingFailures").is_none());
    }

    #[test]
    fn a_watchdog_run_reports_healthy_as_0_or_1() {
        let blind = Metrics {
            alert: Some(Severity::High),
            watchdog_healthy: Some(false),
            ..Default::default()
        };
        let v = assert_valid_emf(&blind.emf("f", at()).unwrap());
        assert_eq!(v["WatchdogHealthy"], 0);
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][1]["Metrics"][0]["Name"],
            "WatchdogHealthy"
        );
        let healthy = Metrics {
            watchdog_healthy: Some(true),
            ..Default::default()
        };
        let v = assert_valid_emf(&healthy.emf("f", at()).unwrap());
        assert_eq!(v["WatchdogHealthy"], 1);
        assert!(v.get("Alerts").is_none());
    }

    #[test]
    fn a_coverage_check_counts_its_cells_by_state_one_line_each() {
        let cells: BTreeMap<State, usize> =
            [(State::Home, 1), (State::Watched, 10), (State::Blind, 1)]
                .into_iter()
                .collect();
        let m = Metrics {
            coverage: Some(cells),
            ..Default::default()
        };
        let lines: Vec<Value> = m
            .coverage_emf("f", at())
            .iter()
            .map(|line| assert_valid_emf(line))
            .collect();
        let counts: Vec<(&str, u64)> = lines
            .iter()
            .map(|v| {
                (
                    v["State"].as_str().unwrap(),
                    v["CoverageCells"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            counts,
            [("home", 1), ("watched", 10), ("pending", 0), ("blind", 1)]
        );
        assert_eq!(lines[0]["CoverageChecked"], 1);
        assert!(lines[1].get("CoverageChecked").is_none());
        assert!(Metrics::default().coverage_emf("f", at()).is_empty());
    }

    #[test]
    fn ignored_duplicates_and_failures_are_counted_and_nothing_gives_no_line() {
        let m = Metrics {
            ignored: 1,
            duplicates: 1,
            delivery_failures: 1,
            untrusted: 1,
            ..Default::default()
        };
        let v = assert_valid_emf(&m.emf("f", at()).unwrap());
        assert_eq!(
            (
                v["Ignored"].as_u64(),
                v["Duplicates"].as_u64(),
                v["DeliveryFailures"].as_u64(),
                v["UntrustedEvents"].as_u64()
            ),
            (Some(1), Some(1), Some(1), Some(1))
        );
        assert_eq!(Metrics::default().emf("f", at()), None);
    }

    /// A tick counts the posture's findings (standing ones too), the members audited, and its
    /// most severe alert.
    #[test]
    fn a_tick_counts_posture_findings_and_members_audited() {
        use crate::domain::PostureKind;
        let mut m = Metrics::default();
        m.add_posture(&Ok(PostureOutcome::Found {
            findings: vec![PostureKind::RootMfaOff, PostureKind::RootMfaVirtual],
            published: vec![PostureKind::RootMfaVirtual],
        }));
        m.add_audit(&Ok(AuditOutcome::Audited {
            audited: vec!["111122223333".into(), "444455556666".into()],
            published: Vec::new(),
        }));
        let v = assert_valid_emf(&m.emf("rootwatch", at()).unwrap());
        assert_eq!(v["PostureFindings"], 2);
        assert_eq!(v["MembersAudited"], 2);
        assert_eq!(v["Severity"], "MEDIUM");
        let mut clean = Metrics::default();
        clean.add_posture(&Ok(PostureOutcome::Clean));
        let v = assert_valid_emf(&clean.emf("rootwatch", at()).unwrap());
        assert_eq!(v["PostureFindings"], 0);
        assert!(v.get("Alerts").is_none());
    }
}
