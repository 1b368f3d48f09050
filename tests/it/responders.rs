//! What incident responders' tools receive, end to end on moto through the real SDK: the function
//! as deployed with `ALERT_EVENT_BUS` (a custom bus whose rule feeds an SQS queue) and
//! `SECURITY_HUB_FINDINGS=true`, root events in, and what came out read from moto's own records:
//! the SNS messages (`sent_notifications`), the structured events (the queue), the findings
//! (`GetFindings`). Also: an alert bus that cannot be reached costs the page nothing and is
//! counted; rootwatch's own alerts reach the bus with their family's detail-type; a retried
//! delivery puts its event again, marked.

use std::collections::BTreeMap;

use chrono::Utc;
use rootwatch::aws::watchdog_state::DynamoWatchdogState;
use rootwatch::handler::Outcome;
use rootwatch::ports::{AlertPublisher, OutputsFailed};
use rootwatch::render::finding::finding_id;
use serde_json::Value;

use crate::outputs::event_schema::{assert_valid, validator};
use crate::support::faulty::{ClosedPort, Fault, FaultyServer};
use crate::support::log::Capture;
use crate::support::moto::{MotoServer, bus_into_queue, drain_queue};
use crate::support::stack::{LocalStack, TABLE, function};
use crate::support::{invocation, sample};

const BUS: &str = "rootwatch-alerts";

/// Both outputs on, the bus on moto.
const OUTPUTS: [(&str, &str); 2] = [("ALERT_EVENT_BUS", BUS), ("SECURITY_HUB_FINDINGS", "true")];

/// Every event on the queue, parsed, each detail checked against the published schema.
async fn events_on(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<Value> {
    let validator = validator();
    drain_queue(sqs, url)
        .await
        .iter()
        .map(|body| {
            let event: Value = serde_json::from_str(body).expect("the target gets JSON");
            assert_valid(&validator, &event["detail"], "an event on the queue");
            assert_eq!(event["source"], "rootwatch", "{event}");
            event
        })
        .collect()
}

/// Our findings in moto's `GetFindings`, by `Id`. moto ignores `Filters` (pinned in
/// `outputs::on_moto`), so the ids are selected here.
async fn findings(moto: &MotoServer, ids: &[String]) -> BTreeMap<String, Value> {
    let client = aws_sdk_securityhub::Client::new(&moto.sdk_config().await);
    let out = client.get_findings().send().await.expect("GetFindings");
    out.findings()
        .iter()
        .filter(|f| f.id().is_some_and(|id| ids.iter().any(|ours| ours == id)))
        .map(|f| {
            let label = |s: Option<&aws_sdk_securityhub::types::SeverityLabel>| {
                s.map(|l| l.as_str().to_owned())
            };
            (
                f.id().unwrap().to_owned(),
                serde_json::json!({
                    "AwsAccountId": f.aws_account_id(),
                    "Label": label(f.severity().and_then(|s| s.label())),
                    "ProviderLabel": label(f.finding_provider_fields()
                        .and_then(|p| p.severity())
                        .and_then(|s| s.label())),
                    "Resource": f.resources().first().and_then(|r| r.id()),
                    "Alerts": f.product_fields().and_then(|p| p.get("rootwatch/alerts")),
                    "Events": f.product_fields().map(|p| p.keys()
                        .filter(|k| k.starts_with("rootwatch/event/")).count()),
                }),
            )
        })
        .collect()
}

/// The acceptance scenario: three root events in two root sessions (two HIGH calls of one
/// console session, a CRITICAL `StopLogging` of another) give three SNS messages, three events
/// on the queue (two sharing `session`, the third differing) and two findings, the session with
/// the CRITICAL alert labelled CRITICAL and the other HIGH, each listing its events.
#[tokio::test]
async fn root_events_reach_the_alert_bus_and_security_hub_one_finding_per_session() {
    let stack = LocalStack::start().await;
    let (sqs, url) = bus_into_queue(&stack.moto, BUS).await;
    let app = stack.app_with_outputs(&OUTPUTS, &stack.moto.endpoint).await;
    let names = [
        "root-api-call-from-console-session",
        "root-api-call-same-console-session",
        "root-cloudtrail-logging-stopped",
    ];
    for name in names {
        let outcome = app
            .handle(&sample(name), &invocation(), Utc::now())
            .await
            .expect("alerted");
        assert!(matches!(outcome, Outcome::Alerted { .. }), "{outcome:?}");
    }
    assert_eq!(
        app.publisher.take_output_failures(),
        OutputsFailed::default()
    );
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 3);

    let events = events_on(&sqs, &url).await;
    assert_eq!(events.len(), 3, "{events:#?}");
    let mut sessions: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for event in &events {
        assert_eq!(event["detail-type"], "Root Activity Alert");
        assert_eq!(event["detail"]["repeat"], false);
        sessions
            .entry(event["detail"]["session"].as_str().unwrap().to_owned())
            .or_default()
            .push(event);
    }
    assert_eq!(sessions.len(), 2, "two sessions: {sessions:#?}");
    let (console, stopped) = {
        let mut by_size: Vec<_> = sessions.iter().collect();
        by_size.sort_by_key(|(_, events)| events.len());
        (by_size[1].0.clone(), by_size[0].0.clone())
    };
    assert_eq!(sessions[&console].len(), 2);
    assert_eq!(
        sessions[&stopped][0]["detail"]["kind"], "cloudtrail-tampered",
        "the other session is the StopLogging"
    );
    // `alertId` is the claim key: CloudTrail's event id.
    let mut ids: Vec<&str> = events
        .iter()
        .map(|e| e["detail"]["alertId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected: Vec<String> = names
        .iter()
        .map(|n| sample(n)["detail"]["eventID"].as_str().unwrap().to_owned())
        .collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);

    let ids = [finding_id(&console), finding_id(&stopped)];
    let found = findings(&stack.moto, &ids).await;
    assert_eq!(found.len(), 2, "{found:#?}");
    let critical = &found[&finding_id(&stopped)];
    assert_eq!(critical["Label"], "CRITICAL");
    assert_eq!(critical["ProviderLabel"], "CRITICAL");
    assert_eq!(
        (&critical["Alerts"], &critical["Events"]),
        (&"1".into(), &1.into())
    );
    let high = &found[&finding_id(&console)];
    assert_eq!(high["Label"], "HIGH");
    assert_eq!(high["ProviderLabel"], "HIGH");
    assert_eq!((&high["Alerts"], &high["Events"]), (&"2".into(), &2.into()));
    for finding in found.values() {
        // Imported by the home account (the topic's, moto's), naming the event's account.
        assert_eq!(finding["AwsAccountId"], "123456789012", "{finding}");
        assert_eq!(finding["Resource"], "AWS::::Account:111122223333");
    }
}

/// An alert bus that refuses every connection: the SNS alert is published all the same, the
/// invocation succeeds, and the failure is logged (without the subscribers' contacts) and
/// counted as `AlertEventFailures` in the invocation's metrics.
#[tokio::test(flavor = "current_thread")]
async fn an_unreachable_alert_bus_costs_the_page_nothing_and_is_counted() {
    let log = Capture::start();
    let stack = LocalStack::start().await;
    stack
        .subscribe_people("secops@example.com", "+15555550123")
        .await;
    let closed = ClosedPort::reserve();
    let app = stack
        .app_with_outputs(&[("ALERT_EVENT_BUS", BUS)], &closed.endpoint)
        .await;
    let state = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
    let function = function(app, state, &stack.moto.endpoint).await;
    let (result, metrics) = function
        .handle(
            &sample("root-cloudtrail-logging-stopped"),
            &invocation(),
            Utc::now(),
        )
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
    assert_eq!(
        (metrics.alert_event_failures, metrics.finding_failures),
        (1, 0)
    );
    let emf: Value = serde_json::from_str(&metrics.emf("rootwatch", Utc::now()).unwrap()).unwrap();
    assert_eq!(emf["AlertEventFailures"], 1);
    let text = log.text();
    let line = text
        .lines()
        .find(|l| l.contains("could not send the alert event"))
        .unwrap_or_else(|| panic!("no failure logged:\n{text}"));
    assert!(line.contains("the alert was published"), "{line}");
    for contact in ["secops@example.com", "+15555550123"] {
        assert!(!text.contains(contact), "a contact in the log:\n{text}");
    }
}

/// rootwatch's own alerts are events too: the watchdog's `pipeline-blind` (moto's CloudTrail has
/// no trail) puts one event on the bus with its family's detail-type, and imports no finding.
#[tokio::test]
async fn a_pipeline_health_alert_puts_one_event_of_its_family() {
    let stack = LocalStack::start().await;
    let (sqs, url) = bus_into_queue(&stack.moto, BUS).await;
    let app = stack.app_with_outputs(&OUTPUTS, &stack.moto.endpoint).await;
    let state = DynamoWatchdogState::new(stack.state_client.clone(), TABLE);
    let function = function(app, state, &stack.moto.endpoint).await;
    let (result, metrics) = function
        .handle(&crate::watchdog::tick(), &invocation(), Utc::now())
        .await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(
        (metrics.alert_event_failures, metrics.finding_failures),
        (0, 0)
    );
    let published = stack.moto.sent_notifications(&stack.topic);
    assert_eq!(published.len(), 1);
    let events = events_on(&sqs, &url).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["detail-type"], "Rootwatch Health Alert");
    assert_eq!(events[0]["detail"]["kind"], "pipeline-blind");
    assert_eq!(events[0]["detail"]["escalate"], true);
    let client = aws_sdk_securityhub::Client::new(&stack.moto.sdk_config().await);
    let out = client.get_findings().send().await.expect("GetFindings");
    assert!(out.findings().is_empty(), "{:?}", out.findings());
}

/// Lambda retries an invocation that published (its answer was lost, or it ran out of time
/// after the publish): one SNS message, but the event is put again with the same `alertId`,
/// marked `repeat` and not paging, and the finding lists the alert once.
#[tokio::test]
async fn a_retried_delivery_puts_its_event_again_marked_as_a_repeat() {
    let stack = LocalStack::start().await;
    let (sqs, url) = bus_into_queue(&stack.moto, BUS).await;
    let app = stack.app_with_outputs(&OUTPUTS, &stack.moto.endpoint).await;
    let payload = sample("root-cloudtrail-logging-stopped");
    let first = app.handle(&payload, &invocation(), Utc::now()).await;
    let again = app.handle(&payload, &invocation(), Utc::now()).await;
    assert!(matches!(first, Ok(Outcome::Alerted { .. })), "{first:?}");
    assert!(matches!(again, Ok(Outcome::Duplicate { .. })), "{again:?}");
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
    let mut events = events_on(&sqs, &url).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    events.sort_by_key(|e| e["detail"]["repeat"].as_bool());
    assert_eq!(
        events[0]["detail"]["alertId"],
        events[1]["detail"]["alertId"]
    );
    assert_eq!(
        (&events[0]["detail"]["repeat"], &events[0]["detail"]["page"]),
        (&false.into(), &true.into())
    );
    assert_eq!(
        (&events[1]["detail"]["repeat"], &events[1]["detail"]["page"]),
        (&true.into(), &false.into())
    );
    let session = events[0]["detail"]["session"].as_str().unwrap();
    let found = findings(&stack.moto, &[finding_id(session)]).await;
    assert_eq!(found[&finding_id(session)]["Alerts"], "1", "{found:#?}");
}

/// An alert bus that takes the connection and never answers: the outputs are cut off at their
/// budget, the invocation succeeds with its alert published, and the failure says why.
#[tokio::test(flavor = "current_thread")]
async fn a_silent_alert_bus_is_cut_off_at_the_outputs_budget() {
    let log = Capture::start();
    let stack = LocalStack::start().await;
    let silent = FaultyServer::start(Fault::Silent).await;
    let app = stack
        .app_with_outputs(&[("ALERT_EVENT_BUS", BUS)], &silent.endpoint)
        .await;
    let outcome = app
        .handle(
            &sample("root-cloudtrail-logging-stopped"),
            &invocation(),
            Utc::now(),
        )
        .await;
    assert!(
        matches!(outcome, Ok(Outcome::Alerted { .. })),
        "{outcome:?}"
    );
    assert_eq!(stack.moto.sent_notifications(&stack.topic).len(), 1);
    assert!(silent.requests() >= 1, "the put reached the bus");
    assert_eq!(
        app.publisher.take_output_failures(),
        OutputsFailed {
            events: 1,
            findings: 0
        }
    );
    let text = log.text();
    assert!(
        text.lines()
            .any(|l| l.contains("could not send the alert event")),
        "{text}"
    );
}

/// With findings on, start-up asks `DescribeHub`: Security Hub not enabled (moto's answer before
/// `EnableSecurityHub`) or not reachable is one warning naming the region, and start-up goes on.
#[tokio::test(flavor = "current_thread")]
async fn a_hub_that_is_not_enabled_or_not_reachable_is_one_warning_at_start() {
    use rootwatch::aws::sdk::securityhub_client;
    use rootwatch::aws::security_hub::SecurityHubFindings;
    use rootwatch::startup::check_security_hub;
    use std::time::Duration;

    let moto = MotoServer::start();
    let closed = ClosedPort::reserve();
    for endpoint in [moto.endpoint.as_str(), closed.endpoint.as_str()] {
        let log = Capture::start();
        let hub = SecurityHubFindings::new(securityhub_client(
            &crate::support::moto::sdk_config_for(endpoint).await,
        ));
        check_security_hub(&hub, "eu-west-1", Duration::from_secs(5)).await;
        let text = log.text();
        let warnings: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
        assert_eq!(warnings.len(), 1, "{endpoint}: {text}");
        assert!(warnings[0].contains("eu-west-1"), "{}", warnings[0]);
    }
    let client = aws_sdk_securityhub::Client::new(&moto.sdk_config().await);
    client
        .enable_security_hub()
        .send()
        .await
        .expect("EnableSecurityHub");
    let log = Capture::start();
    let hub = SecurityHubFindings::new(securityhub_client(&moto.sdk_config().await));
    check_security_hub(&hub, "us-east-1", Duration::from_secs(5)).await;
    let text = log.text();
    assert!(!text.contains("WARN"), "{text}");
    assert!(text.contains("Security Hub enabled"), "{text}");
}
