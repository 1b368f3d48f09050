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
        if not isinstance(event, dict) or "detail" not in event:
            continue  # PutEvents cannot carry a non-object or a missing detail
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


def expected_rule(event):
    if event["detail-type"] == "AWS Console Sign In via CloudTrail":
        return "RootwatchFunctionRootSignIn"
    return "RootwatchFunctionRootApiCall"


def test_every_alertable_sample_reaches_exactly_its_rule(routed, samples):
    alertable = [n for n in samples if reviewed_outcome(n) == "alert"]
    assert len(alertable) >= 14
    for name in alertable:
        assert routed[name] == {expected_rule(samples[name])}, f"events/{name}.json"


def test_no_negative_sample_reaches_the_function(routed, samples):
    negatives = [n for n in samples if reviewed_outcome(n) == "ignored"]
    assert {"iam-user-console-sign-in", "assumed-role-api-call", "root-call-invoked-by-aws-service"} <= set(negatives)
    for name in negatives:
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
