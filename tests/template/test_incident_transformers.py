"""PagerDuty and Opsgenie get a valid request for every alert that should page: each sample's
alert event (tests/template/fixtures/alert-events/, written and kept current by the Rust test
outputs::event_schema) is matched against the on-call rules by moto's own EventBridge pattern
matcher, put through each matching rule's target InputTransformer by the documented rules
(input_transformer.py), the connection's body parameters added, and validated against JSON
Schemas written from the vendors' pages (tests/schemas/pagerduty-events-v2.json,
tests/schemas/opsgenie-alert.json).

The rules are template.yaml's, resolved for a stack with both tools and OnCallMinimumSeverity LOW
(intrinsics.Stack): the rules, targets and connection CloudFormation would create.
"""
import json
import re
from pathlib import Path

import jsonschema
import pytest
from cfnlint.decode import cfn_yaml
from moto.events.models import EventPattern

import input_transformer as it
from conftest import ACCOUNT, REGION, as_deployed
from intrinsics import Stack

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "alert-events"
TEMPLATE = ROOT / "template.yaml"
ROUTING_KEY = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"  # 32 characters, as PagerDuty's keys are
OPSGENIE_KEY = "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f"
# Both tools, every severity: every rule and target the template can create.
BOTH_TOOLS = {"PagerDutyRoutingKey": ROUTING_KEY, "OpsgenieApiKey": OPSGENIE_KEY, "OnCallMinimumSeverity": "LOW"}
SEVERITY_ORDER = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]
PAGERDUTY = {"CRITICAL": "critical", "HIGH": "error", "MEDIUM": "warning", "LOW": "info"}
OPSGENIE = {"CRITICAL": "P1", "HIGH": "P2", "MEDIUM": "P3", "LOW": "P4"}


def schema(name):
    doc = json.loads((ROOT / "tests" / "schemas" / name).read_text())
    jsonschema.Draft202012Validator.check_schema(doc)
    return jsonschema.Draft202012Validator(doc)


@pytest.fixture(scope="module")
def pagerduty_schema():
    return schema("pagerduty-events-v2.json")


@pytest.fixture(scope="module")
def opsgenie_schema():
    return schema("opsgenie-alert.json")




def targets_of(rule):
    """The rule's targets as created (the stack below resolved every `!If`)."""
    return rule["Properties"]["Targets"]


def on_call_rules(parameters):
    """{logical id: resolved resource} of the alert bus's rules a stack with these parameters creates."""
    stack = Stack(as_deployed(cfn_yaml.load(str(TEMPLATE))), parameters, ACCOUNT, REGION, "rootwatch")
    created = stack.created()
    return {
        name: stack.resolve(resource)
        for name, resource in stack.resources.items()
        if name in created and resource["Type"] == "AWS::Events::Rule" and name.startswith("OnCall")
    }


@pytest.fixture(scope="module")
def rules():
    found = on_call_rules(BOTH_TOOLS)
    assert set(found) == {"OnCallCritical", "OnCallHigh", "OnCallMedium", "OnCallLow"}, TEMPLATE
    for name, rule in found.items():
        assert [t["Id"] for t in targets_of(rule)] == ["PagerDuty", "Opsgenie"], name
    return found


@pytest.fixture(scope="module")
def connection_body():
    """The PagerDuty connection's body parameters as created: the key, a secret value."""
    stack = Stack(as_deployed(cfn_yaml.load(str(TEMPLATE))), BOTH_TOOLS, ACCOUNT, REGION, "rootwatch")
    params = stack.resolve(stack.resources["PagerDutyConnection"]["Properties"])["AuthParameters"][
        "InvocationHttpParameters"
    ]["BodyParameters"]
    assert params == [{"Key": "routing_key", "Value": ROUTING_KEY, "IsValueSecret": True}]
    return params


def envelope(entry):
    """The event as a rule sees it: what PutEvents was given, in EventBridge's envelope."""
    return {
        "version": "0",
        "id": "0d1200b4-6cc4-41e7-b59e-81ebe9930b0d",
        "detail-type": entry["detail-type"],
        "source": entry["source"],
        "account": "123456789012",
        "time": "2026-11-21T03:25:11Z",
        "region": "us-east-1",
        "resources": [],
        "detail": entry["detail"],
    }


def fixtures():
    paths = sorted(FIXTURES.glob("*.json"))
    assert len(paths) >= 45, f"only {len(paths)} alert events in {FIXTURES}"
    return [(p.stem, envelope(json.loads(p.read_text()))) for p in paths]


def deliveries(rules, connection_body, event):
    """(rule name, target id, request body) for every target of every rule that takes `event`."""
    out = []
    for name, rule in rules.items():
        if not EventPattern.load(json.dumps(rule["Properties"]["EventPattern"])).matches_event(event):
            continue
        for target in targets_of(rule):
            body = it.transform(event, target["InputTransformer"], rule_name=name)
            if target["Id"] == "PagerDuty":
                body = it.with_connection_body(body, connection_body)
            out.append((name, target["Id"], body))
    return out


def errors(validator, body):
    return [f"{e.message} at {list(e.path)}" for e in validator.iter_errors(body)]


def test_every_escalating_event_gives_valid_pagerduty_and_opsgenie_requests(
    rules, connection_body, pagerduty_schema, opsgenie_schema
):
    escalating = 0
    for name, event in fixtures():
        detail = event["detail"]
        sent = deliveries(rules, connection_body, event)
        if not detail["escalate"] or event["detail-type"] == "Root Use Notice":
            assert sent == [], f"{name} must page nobody: {sent}"
            continue
        escalating += 1
        # Minimum LOW: exactly one rule, the event's own severity.
        assert {rule for rule, _, _ in sent} == {f"OnCall{detail['severity'].title()}"}, name
        by_tool = {tool: body for _, tool, body in sent}
        assert set(by_tool) == {"PagerDuty", "Opsgenie"}, name
        pd, og = by_tool["PagerDuty"], by_tool["Opsgenie"]
        assert errors(pagerduty_schema, pd) == [], (name, pd)
        assert errors(opsgenie_schema, og) == [], (name, og)
        assert pd["payload"]["severity"] == PAGERDUTY[detail["severity"]], name
        assert og["priority"] == OPSGENIE[detail["severity"]], name
        assert pd["dedup_key"] == og["alias"] == detail["session"], name
        assert pd["payload"]["summary"] == detail["summary"] == og["description"], name
        assert og["message"] == detail["title"], name
        assert pd["payload"]["custom_details"] == detail, "the whole detail, as JSON"
        assert pd["routing_key"] == ROUTING_KEY, "added by the connection"
    assert escalating >= 40, escalating


def test_the_routing_key_comes_only_from_the_connection(rules, connection_body):
    """No template writes a routing_key, no sample's event puts one at the body's top level (the
    evaluator would refuse the clash), and every PagerDuty request carries the connection's key."""
    for rule in rules.values():
        for target in targets_of(rule):
            assert "routing_key" not in target["InputTransformer"]["InputTemplate"]
    pagerduty = [body for _, event in fixtures() for _, tool, body in deliveries(rules, connection_body, event)
                 if tool == "PagerDuty"]
    assert len(pagerduty) >= 40
    assert all(body["routing_key"] == ROUTING_KEY for body in pagerduty)
    with pytest.raises(it.TransformError):
        it.with_connection_body({"routing_key": "from-the-event"}, connection_body)


def test_sessions_share_one_incident_and_differ_between_sessions(rules, connection_body):
    events = dict(fixtures())
    keys = {
        name: deliveries(rules, connection_body, events[name])[0][2]["dedup_key"]
        for name in [
            "root-api-call-from-console-session",
            "root-api-call-same-console-session",
            "root-cloudtrail-logging-stopped",
        ]
    }
    assert keys["root-api-call-from-console-session"] == keys["root-api-call-same-console-session"]
    assert keys["root-cloudtrail-logging-stopped"] != keys["root-api-call-from-console-session"]


def test_a_hostile_event_still_gives_valid_requests(rules, connection_body, pagerduty_schema, opsgenie_schema):
    event = dict(fixtures())["hostile-declared-failure"]
    assert '"' in event["detail"]["outcome"]["errorMessage"]
    assert '"' in event["detail"]["declaration"]["reason"]
    sent = deliveries(rules, connection_body, event)
    assert len(sent) == 2
    for _, tool, body in sent:
        validator = pagerduty_schema if tool == "PagerDuty" else opsgenie_schema
        assert errors(validator, body) == [], body
    pd = next(body for _, tool, body in sent if tool == "PagerDuty")
    assert pd["payload"]["custom_details"]["outcome"]["errorMessage"] == event["detail"]["outcome"]["errorMessage"]


def test_a_quote_in_a_quoted_field_would_break_the_request(rules, connection_body):
    """Why every quoted field is plain: EventBridge does not escape what it inserts."""
    event = json.loads(json.dumps(dict(fixtures())["root-cloudtrail-logging-stopped"]))
    event["detail"]["summary"] = 'stopped "logging"'
    with pytest.raises(json.JSONDecodeError):
        deliveries(rules, connection_body, event)


def test_the_vendor_schemas_refuse_what_the_vendors_refuse(pagerduty_schema, opsgenie_schema):
    good_pd = {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "x", "severity": "critical"},
    }
    assert errors(pagerduty_schema, good_pd) == []
    for bad in [
        {**good_pd, "routing_key": "short"},
        {**good_pd, "event_action": "page"},
        {**good_pd, "dedup_key": "x" * 256},
        {**good_pd, "payload": {**good_pd["payload"], "summary": "x" * 1025}},
        {**good_pd, "payload": {**good_pd["payload"], "severity": "high"}},
        {**good_pd, "payload": {"summary": "s", "severity": "info"}},
        {**good_pd, "payload": {**good_pd["payload"], "custom_details": "text"}},
        {**good_pd, "extra": 1},
    ]:
        assert errors(pagerduty_schema, bad), bad
    good_og = {"message": "m", "alias": "a", "priority": "P1", "details": {"k": "v"}}
    assert errors(opsgenie_schema, good_og) == []
    for bad in [
        {**good_og, "message": "x" * 131},
        {**good_og, "alias": "x" * 513},
        {**good_og, "priority": "P0"},
        {**good_og, "details": {"k": 1}},
        {**good_og, "tags": ["x" * 51]},
        {**good_og, "tags": ["t"] * 21},
        {**good_og, "description": "x" * 15001},
        {"alias": "no message"},
    ]:
        assert errors(opsgenie_schema, bad), bad


def documented_block(marker, doc="alert-events.md"):
    text = (ROOT / "docs" / doc).read_text()
    found = re.search(re.escape(f"<!-- {marker} -->") + r"\s*```json\n(.*?)```", text, re.S)
    assert found, f"docs/{doc} has no block after <!-- {marker} -->"
    return json.loads(found.group(1))


def documented_table(marker, doc):
    """{first cell: second cell} of the Markdown table after the marker, code quotes removed."""
    text = (ROOT / "docs" / doc).read_text()
    found = re.search(re.escape(f"<!-- {marker} -->") + r"\s*\n((?:\|.*\|\n)+)", text)
    assert found, f"docs/{doc} has no table after <!-- {marker} -->"
    rows = [line.strip("|").split("|") for line in found.group(1).splitlines()[2:]]
    return {cells[0].strip(): cells[1].strip().strip("`") for cells in rows}


SAMPLE = "root-cloudtrail-logging-stopped"


def test_the_on_call_guide_shows_what_the_transformer_builds_and_the_incident_it_becomes(rules, connection_body):
    """docs/on-call.md: PagerDuty's request body for the sample (the key hidden), and the incident's
    fields as PagerDuty takes them from that body (PagerDuty "Send an Alert Event": summary is the
    title; source, severity, component, class and custom_details are shown; dedup_key groups
    alerts into the open incident)."""
    event = dict(fixtures())[SAMPLE]
    sent = {tool: body for _, tool, body in deliveries(rules, connection_body, event)}
    pd = sent["PagerDuty"]
    assert documented_block(f"pagerduty-request: {SAMPLE}", "on-call.md") == dict(
        pd, routing_key="<your integration key, added by the connection>"
    )
    assert documented_block(f"opsgenie-request: {SAMPLE}", "on-call.md") == sent["Opsgenie"]
    assert documented_table(f"pagerduty-incident: {SAMPLE}", "on-call.md") == {
        "Title": pd["payload"]["summary"],
        "Severity": pd["payload"]["severity"],
        "Source": pd["payload"]["source"],
        "Component": pd["payload"]["component"],
        "Class": pd["payload"]["class"],
        "Deduplication key": pd["dedup_key"],
        "Custom Details": f"{len(pd['payload']['custom_details'])} fields of the alert event's detail",
    }


def test_the_documented_alert_event_is_the_rendered_one():
    assert documented_block("alert-event: root-cloudtrail-logging-stopped") == json.loads(
        (FIXTURES / "root-cloudtrail-logging-stopped.json").read_text()
    )


def test_the_on_call_rules_targets_and_dead_letter_queue_create_on_moto(aws, rules):
    """The rules' properties as the template writes them are accepted by EventBridge's API
    (moto): the bus, both connections and API destinations, a dead-letter queue, and each rule
    with its two targets, read back as written. (CloudFormation on moto cannot create
    AWS::Events::Connection or ApiDestination, so they are created through the Events API.)"""
    doc = cfn_yaml.load(str(TEMPLATE))
    events, sqs = aws("events"), aws("sqs")
    bus = "oncall-test-alerts"
    events.create_event_bus(Name=bus)
    dlq_url = sqs.create_queue(QueueName="oncall-test-failed")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pd_conn = doc["Resources"]["PagerDutyConnection"]["Properties"]
    connection = events.create_connection(
        Name="oncall-test-pagerduty",
        AuthorizationType=pd_conn["AuthorizationType"],
        AuthParameters={
            "ApiKeyAuthParameters": {"ApiKeyName": "X-Routing-Key", "ApiKeyValue": ROUTING_KEY},
            "InvocationHttpParameters": {
                "BodyParameters": [{"Key": "routing_key", "Value": ROUTING_KEY, "IsValueSecret": True}]
            },
        },
    )
    destinations = {}
    for tool, resource in [("PagerDuty", "PagerDutyDestination"), ("Opsgenie", "OpsgenieDestination")]:
        props = doc["Resources"][resource]["Properties"]
        endpoint = props["InvocationEndpoint"]
        if isinstance(endpoint, dict):  # Fn::FindInMap [OnCall, Opsgenie, region]
            endpoint = doc["Mappings"]["OnCall"]["Opsgenie"]["US"]
        destinations[tool] = events.create_api_destination(
            Name=f"oncall-test-{tool.lower()}",
            ConnectionArn=connection["ConnectionArn"],
            InvocationEndpoint=endpoint,
            HttpMethod=props["HttpMethod"],
            InvocationRateLimitPerSecond=props["InvocationRateLimitPerSecond"],
        )["ApiDestinationArn"]
    role = "arn:aws:iam::123456789012:role/oncall-test"
    for name, rule in rules.items():
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(rule["Properties"]["EventPattern"]))
        targets = []
        for target in targets_of(rule):
            assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 3600}
            assert "DeadLetterConfig" in target and "RoleArn" in target
            targets.append(
                {
                    "Id": target["Id"],
                    "Arn": destinations[target["Id"]],
                    "RoleArn": role,
                    "InputTransformer": target["InputTransformer"],
                    "RetryPolicy": target["RetryPolicy"],
                    "DeadLetterConfig": {"Arn": dlq_arn},
                }
            )
        assert events.put_targets(Rule=name, EventBusName=bus, Targets=targets)["FailedEntryCount"] == 0
        created = {t["Id"]: t for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]}
        assert set(created) == {"PagerDuty", "Opsgenie"}, name
        for target in targets:
            got = created[target["Id"]]
            assert got["InputTransformer"] == target["InputTransformer"], name
            assert got["DeadLetterConfig"] == {"Arn": dlq_arn}
            assert got["RetryPolicy"] == target["RetryPolicy"]


@pytest.mark.parametrize("minimum, expected", [
    ("CRITICAL", ["OnCallCritical"]),
    ("HIGH", ["OnCallCritical", "OnCallHigh"]),
    ("MEDIUM", ["OnCallCritical", "OnCallHigh", "OnCallMedium"]),
    ("LOW", ["OnCallCritical", "OnCallHigh", "OnCallMedium", "OnCallLow"]),
])
def test_the_minimum_severity_decides_which_rules_exist(minimum, expected):
    assert sorted(on_call_rules({"PagerDutyRoutingKey": ROUTING_KEY, "OnCallMinimumSeverity": minimum})) == sorted(expected)


@pytest.mark.parametrize("parameters, tools", [
    ({}, None),
    # What `sam deploy --guided` users type for "no key" (it takes no empty answer for a hidden one).
    ({"PagerDutyRoutingKey": "none", "OpsgenieApiKey": "none"}, None),
    ({"PagerDutyRoutingKey": ROUTING_KEY}, ["PagerDuty"]),
    ({"PagerDutyRoutingKeySecret": "rootwatch/pagerduty-routing-key"}, ["PagerDuty"]),
    ({"OpsgenieApiKey": OPSGENIE_KEY}, ["Opsgenie"]),
    ({"OpsgenieApiKeySecret": "rootwatch/opsgenie-api-key"}, ["Opsgenie"]),
    ({"PagerDutyRoutingKeySecret": "pd", "OpsgenieApiKey": OPSGENIE_KEY}, ["PagerDuty", "Opsgenie"]),
], ids=["default", "none", "pagerduty-key", "pagerduty-secret", "opsgenie-key", "opsgenie-secret", "both"])
def test_each_tool_is_a_target_only_when_its_key_is_given(parameters, tools):
    """By default (no key) no on-call rule exists; the default minimum is HIGH."""
    rules = on_call_rules(parameters)
    if tools is None:
        assert rules == {}
        return
    assert sorted(rules) == ["OnCallCritical", "OnCallHigh"]
    for name, rule in rules.items():
        assert [t["Id"] for t in targets_of(rule)] == tools, name
