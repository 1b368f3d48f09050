"""The template's EventBridge rules, routed by EventBridge itself (moto) over every sample, and
the SMS subscription's filter policy applied by SNS itself (moto) to every severity.

moto's TestEventPattern answers with an empty body in server mode, so each rule is created for
real with an SQS queue as its target, and what arrives in each queue is what the rule matched."""
import json

import pytest

from conftest import reviewed_outcome

CLOUDTRAIL_DETAIL_TYPES = {"AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail"}


def template_rules(resources):
    """The default bus's rules. (The organization mode's home-bus rules have the same patterns:
    test_organization_routing.py pins that and routes member events through them.)"""
    rules = {
        name: r["Properties"]["EventPattern"]
        for name, r in resources.items()
        if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]
        and "EventBusName" not in r["Properties"]
    }
    assert rules, "the template has EventBridge rules"
    return rules


def drain(sqs, url):
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = got.get("Messages", [])
        if not messages:
            return bodies
        for m in messages:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture(scope="module")
def routed(aws, resources, samples, invalid_samples):
    """Puts every sample on a bus with the template's rules; returns {sample name: {rule names}}."""
    events, sqs = aws("events"), aws("sqs")
    bus = "rootwatch-rules-test"
    events.create_event_bus(Name=bus)
    queues = {}
    for name, rule_pattern in template_rules(resources).items():
        url = sqs.create_queue(QueueName=f"rule-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(rule_pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
        queues[name] = url

    everything = {**samples, **{f"invalid/{k}": v for k, v in invalid_samples.items()}}
    routable = {}
    for name, event in everything.items():
        if not isinstance(event, dict) or "detail" not in event or not isinstance(event.get("source"), str):
            continue  # PutEvents cannot carry a non-object, a missing detail or a source that is no string
        routable[name] = event
        result = events.put_events(Entries=[{
            "EventBusName": bus,
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
            "Resources": event.get("resources", []),
        }])
        assert result["FailedEntryCount"] == 0, (name, result)

    arrived = {name: set() for name in routable}
    for rule, url in queues.items():
        for body in drain(sqs, url):
            matches = [n for n, e in routable.items() if e["detail"] == body["detail"]]
            assert len(matches) == 1, f"rule {rule} delivered an event that is not a sample: {body}"
            arrived[matches[0]].add(rule)
    return arrived


def expected_rules(event):
    """The default-bus rules an alertable sample must reach. A forwarder's alarm reaches the home
    bus only (test_organization.py), never a default-bus rule."""
    if event["detail-type"] == "AWS Console Sign In via CloudTrail":
        return {"RootwatchFunctionRootSignIn"}
    if event["detail-type"] == "AWS API Call via CloudTrail":
        return {"RootwatchFunctionRootApiCall"}
    return set()


def test_every_alertable_sample_reaches_exactly_its_rule(routed, samples):
    alertable = [n for n in samples if reviewed_outcome(n) == "alert"]
    assert len(alertable) >= 14
    for name in alertable:
        assert routed[name] == expected_rules(samples[name]), f"events/{name}.json"


# Root events no rule can tell apart, ignored by the function itself: a read of a member's root
# credentials in rootwatch's own audit session is a Root API call like any other; only the
# session's issuer (FUNCTION_ROLE_ARN) says it is rootwatch's.
IGNORED_BY_THE_FUNCTION = {"root-assume-root-own-audit"}


def test_no_negative_sample_reaches_the_function(routed, samples):
    negatives = [n for n in samples if reviewed_outcome(n) == "ignored"]
    assert {"iam-user-console-sign-in", "assumed-role-api-call", "root-call-invoked-by-aws-service"} <= set(negatives)
    assert IGNORED_BY_THE_FUNCTION <= set(negatives)
    for name in negatives:
        if name in IGNORED_BY_THE_FUNCTION:
            assert routed[name] == expected_rules(samples[name]), f"events/{name}.json must reach the function"
            continue
        assert routed[name] == set(), f"events/{name}.json should not match any rule: {routed[name]}"


def test_non_cloudtrail_events_never_match(routed, invalid_samples):
    others = [
        f"invalid/{n}" for n, e in invalid_samples.items()
        if isinstance(e, dict) and "detail" in e and e.get("detail-type") not in CLOUDTRAIL_DETAIL_TYPES
    ]
    assert others, "events/invalid/ has a non-CloudTrail event"
    for name in others:
        assert routed[name] == set(), name


def test_sms_filter_policy_passes_only_paged_alerts_of_the_chosen_severities(aws, resources, template):
    """An SQS queue subscribed with the template's SMS filter policy (default severities) stands
    in for a phone: SNS applies the policy, and only CRITICAL and HIGH alerts marked page arrive."""
    sns, sqs = aws("sns"), aws("sqs")
    sms_sub = next(
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "sms"
    )
    default_severities = template["Parameters"]["SmsSeverities"]["Default"].split(",")
    assert sms_sub["FilterPolicy"]["severity"] == {"Ref": "SmsSeverities"}
    policy = {**sms_sub["FilterPolicy"], "severity": default_severities}

    topic = sns.create_topic(Name="filter-policy-test")["TopicArn"]
    url = sqs.create_queue(QueueName="phone-stand-in")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn,
        Attributes={
            "FilterPolicy": json.dumps(policy),
            "FilterPolicyScope": sms_sub["FilterPolicyScope"],
            "RawMessageDelivery": "true",
        },
    )
    for severity in ["CRITICAL", "HIGH", "MEDIUM", "LOW"]:
        for page in ["true", "false"]:
            text = f"{severity} page={page}"
            sns.publish(
                TopicArn=topic,
                MessageStructure="json",
                Message=json.dumps({"default": text, "sms": text, "email": text}),
                Subject=f"[rootwatch] {severity}",
                MessageAttributes={
                    "severity": {"DataType": "String", "StringValue": severity},
                    "kind": {"DataType": "String", "StringValue": "api-call"},
                    "page": {"DataType": "String", "StringValue": page},
                },
            )
    received = sorted(m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"])
    assert received == ["CRITICAL page=true", "HIGH page=true"]


# --- forged envelopes ---------------------------------------------------------------------------------

FORGED_SOURCE = "com.example.forged"
# Root samples of both CloudTrail detail-types, whose record alone would page.
FORGED_FROM = ["root-console-sign-in-without-mfa", "root-access-key-created", "root-cloudtrail-logging-stopped"]


def forged(samples):
    """Root CloudTrail records in an envelope with a source any caller may choose."""
    return [(samples[name]["detail-type"], samples[name]["detail"]) for name in FORGED_FROM]


def route(aws, bus, patterns, entries):
    """The patterns as rules on a fresh bus, each with a queue; returns what each queue got."""
    events, sqs = aws("events"), aws("sqs")
    events.create_event_bus(Name=bus)
    queues = {}
    for name, rule_pattern in patterns.items():
        url = sqs.create_queue(QueueName=f"{bus}-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(rule_pattern))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
        queues[name] = url
    for source, detail_type, detail in entries:
        result = events.put_events(Entries=[{
            "EventBusName": bus, "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail),
        }])
        assert result["FailedEntryCount"] == 0, result
    return {name: drain(sqs, url) for name, url in queues.items()}


def test_forged_root_events_reach_no_rule(aws, resources, samples):
    """A custom event carrying a root CloudTrail record, as anyone allowed to put events on the bus
    could send it: no rule of the template matches it, because none admits a source outside
    AWS's reserved "aws." prefix. (The home bus and the forwarder: test_organization.py.)"""
    entries = [(FORGED_SOURCE, detail_type, detail) for detail_type, detail in forged(samples)]
    arrived = route(aws, "rootwatch-forged", template_rules(resources), entries)
    assert arrived == {name: [] for name in template_rules(resources)}


def test_forged_root_events_would_page_without_the_source_pin(aws, resources, samples):
    """The same forgeries against the same patterns with `source` removed: each reaches its rule.
    So the test above passes because of the pin, not because the forgery is malformed."""
    unpinned = {
        name: {k: v for k, v in pattern.items() if k != "source"}
        for name, pattern in template_rules(resources).items()
    }
    entries = [(FORGED_SOURCE, detail_type, detail) for detail_type, detail in forged(samples)]
    arrived = route(aws, "rootwatch-unpinned", unpinned, entries)
    assert len(arrived["RootwatchFunctionRootSignIn"]) == 1
    assert len(arrived["RootwatchFunctionRootApiCall"]) == 2
    assert all(body["source"] == FORGED_SOURCE for bodies in arrived.values() for body in bodies)


def test_the_source_pin_admits_every_aws_source_and_prefix_matching_follows_aws(aws, resources, samples):
    """moto's EventBridge matches `prefix` on `source` as AWS documents (EventBridge User Guide,
    "Prefix matching"): "aws.iam" and "aws.cloudtrail" match "aws.", "awsx.iam" and "aws" do not."""
    (api_rule,) = [p for p in template_rules(resources).values() if p["detail-type"] == ["AWS API Call via CloudTrail"]]
    assert api_rule["source"] == [{"prefix": "aws."}]
    detail = samples["root-access-key-created"]["detail"]
    sources = ["aws.iam", "aws.cloudtrail", "awsx.iam", "aws", "AWS.iam"]
    # Routed one bus per source, so each arrival is known to be that source's.
    for source in sources:
        bus = f"rootwatch-prefix-{source.replace('.', '-').lower()}-{sources.index(source)}"
        arrived = route(aws, bus, {"api": api_rule}, [(source, "AWS API Call via CloudTrail", detail)])
        assert len(arrived["api"]) == (1 if source.startswith("aws.") else 0), source


def test_moto_accepts_reserved_sources_from_anyone_which_aws_does_not(aws):
    """AWS reserves sources beginning "aws." for its own services (EventBridge User Guide); moto
    accepts them from any caller. The forgery tests above therefore use a source AWS does let a
    caller choose. Pinned so that a moto that starts refusing is noticed (this test then fails and
    can be replaced by one of the refusal)."""
    events = aws("events")
    events.create_event_bus(Name="rootwatch-reserved")
    result = events.put_events(Entries=[{
        "EventBusName": "rootwatch-reserved", "Source": "aws.signin",
        "DetailType": "AWS Console Sign In via CloudTrail", "Detail": json.dumps({"userIdentity": {"type": "Root"}}),
    }])
    assert result["FailedEntryCount"] == 0


def test_forged_envelopes_never_match(routed, invalid_samples):
    """An event any caller may put (its source does not begin `aws.`) shaped like a root CloudTrail
    record reaches no rule: only AWS's own sources can page."""
    forged = [
        f"invalid/{n}" for n, e in invalid_samples.items()
        if isinstance(e, dict) and isinstance(e.get("source"), str) and not e["source"].startswith("aws.")
        and e.get("detail-type") in CLOUDTRAIL_DETAIL_TYPES
    ]
    assert len(forged) >= 2, "events/invalid/ has forged CloudTrail look-alikes"
    for name in forged:
        assert routed[name] == set(), f"events/{name}.json is forged but matched {routed[name]}"
