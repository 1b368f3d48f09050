#!/usr/bin/env python3
"""The local AWS side of `make demo` (moto): set up what the SAM stack would, then show what each
subscriber would receive, read from moto's own record of what was published.

    local_sns.py setup ENDPOINT              -> prints the topic ARN (also creates the state table
                                                and the alert bus with its on-call rules)
    local_sns.py display-name                -> prints the topic's DisplayName from template.yaml
    local_sns.py show ENDPOINT TOPIC_ARN     -> prints the SMS and the email of every alert, then
                                                what PagerDuty and Opsgenie would receive
    local_sns.py count ENDPOINT TOPIC_ARN    -> prints "<published> <delivered to the phone>
                                                <alert events> <of them repeats> <escalating events>
                                                <PagerDuty requests>"
                                                (show and count each drain the queues: use one)
    local_sns.py outcome RESPONSE_JSON       -> one line for what the function returned

moto records SMS and email publishes but delivers to neither, so the phone is stood in for by an
SQS queue subscribed with template.yaml's own SMS filter policy: SNS decides what it gets. In the
same way the function puts every alert on a local alert bus (ALERT_EVENT_BUS), where template.yaml's
own on-call rules (every severity, both tools) send PagerDuty's and Opsgenie's requests, built by
moto's EventBridge from the rules' input transformers, to two queues standing in for the API
destinations. The routing key is the connection's, so it is not in what the queue receives.
"""
import json
import sys
import urllib.request
from pathlib import Path

import boto3
from cfnlint.decode import cfn_yaml

PHONE = "+15555550100"
INBOX = "secops@example.com"
STATE_TABLE = "rootwatch-state"
PHONE_QUEUE = "phone-stand-in"
ALERT_BUS = "rootwatch-alerts"
EVENTS_QUEUE = "alert-events"
TOOL_QUEUES = {"PagerDuty": "pagerduty-stand-in", "Opsgenie": "opsgenie-stand-in"}
TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def sms_filter_policy():
    """template.yaml's SMS filter policy, with the SmsSeverities parameter at its default."""
    template = cfn_yaml.load(str(TEMPLATE))
    sub = next(
        r["Properties"] for r in template["Resources"].values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "sms"
    )
    severities = template["Parameters"]["SmsSeverities"]["Default"].split(",")
    return {**sub["FilterPolicy"], "severity": severities}


def display_name():
    """The alert topic's DisplayName, from template.yaml's Mappings (SNS puts it before every SMS)."""
    return cfn_yaml.load(str(TEMPLATE))["Mappings"]["Sms"]["Topic"]["DisplayName"]


def on_call_rules():
    """{rule name: (event pattern, {tool: input transformer})} of template.yaml's on-call rules."""
    template = cfn_yaml.load(str(TEMPLATE))
    rules = {}
    for name, resource in template["Resources"].items():
        props = resource["Properties"]
        if resource["Type"] != "AWS::Events::Rule" or props.get("EventBusName") != {"Fn::GetAtt": ["AlertBus", "Name"]}:
            continue
        # Each target is `!If [HasPagerDuty|HasOpsgenie, target, !Ref AWS::NoValue]`.
        targets = [t["Fn::If"][1] for t in props["Targets"]]
        rules[name] = (props["EventPattern"], {t["Id"]: t["InputTransformer"] for t in targets})
    return rules


def queue_arn(sqs, name):
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def setup_alert_bus(endpoint):
    """The alert bus as the stack makes it, every alert event into one queue, and the on-call rules
    into the two tools' stand-in queues."""
    events, sqs = client("events", endpoint), client("sqs", endpoint)
    events.create_event_bus(Name=ALERT_BUS)
    events.put_rule(Name="all-alert-events", EventBusName=ALERT_BUS, EventPattern=json.dumps({"source": ["rootwatch"]}))
    events.put_targets(Rule="all-alert-events", EventBusName=ALERT_BUS,
                       Targets=[{"Id": "queue", "Arn": queue_arn(sqs, EVENTS_QUEUE)}])
    tools = {tool: queue_arn(sqs, queue) for tool, queue in TOOL_QUEUES.items()}
    rules = on_call_rules()
    assert set(rules) == {"OnCallCritical", "OnCallHigh", "OnCallMedium", "OnCallLow"}, sorted(rules)
    for name, (pattern, transformers) in rules.items():
        events.put_rule(Name=name, EventBusName=ALERT_BUS, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=ALERT_BUS, Targets=[
            {"Id": tool, "Arn": tools[tool], "InputTransformer": transformer}
            for tool, transformer in transformers.items()
        ])


def drain(endpoint, queue):
    """Every message body in the queue, parsed (drains it)."""
    sqs = client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    bodies = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in messages:
            bodies.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return bodies


def setup(endpoint):
    sns, sqs, dynamodb = client("sns", endpoint), client("sqs", endpoint), client("dynamodb", endpoint)
    topic = sns.create_topic(Name="rootwatch-alerts", Attributes={"DisplayName": display_name()})["TopicArn"]
    policy = json.dumps(sms_filter_policy())
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=INBOX)
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=PHONE, Attributes={"FilterPolicy": policy})
    queue = sqs.create_queue(QueueName=PHONE_QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"FilterPolicy": policy})
    dynamodb.create_table(
        TableName=STATE_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    setup_alert_bus(endpoint)
    print(topic)


def sent(endpoint, topic):
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as response:
        data = json.load(response)
    for t in data["sns"]["Topic"]:
        if t["arn"] == topic:
            return t["sent_notifications"]
    return []


def phoned(endpoint):
    """Message ids SNS delivered to the phone stand-in (drains the queue)."""
    sqs = client("sqs", endpoint)
    url = sqs.get_queue_url(QueueName=PHONE_QUEUE)["QueueUrl"]
    ids = set()
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for m in messages:
            ids.add(json.loads(m["Body"])["MessageId"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return ids


def attribute(attributes, name):
    return attributes.get(name, {}).get("Value", "?")


def show(endpoint, topic):
    notifications = sent(endpoint, topic)
    to_phone = phoned(endpoint)
    print(f"\nSNS recorded {len(notifications)} published alert(s); {len(to_phone)} passed the SMS filter policy\n")
    for message_id, message, subject, attributes, _group in notifications:
        per_protocol = json.loads(message)
        severity, kind, page = (attribute(attributes, a) for a in ("severity", "kind", "page"))
        print("=" * 78)
        print(f"message {message_id}   severity={severity} kind={kind} page={page}")
        if message_id in to_phone:
            # What the phone shows: SNS puts the topic's display name, upper-cased, and "> " first.
            text = f"{display_name().upper()}> {per_protocol['sms']}"
            print(f"\n  PHONE {PHONE} gets ({len(text)} chars, SNS's prefix included):")
            print(f"    {text}")
        else:
            print(f"\n  PHONE {PHONE} gets nothing: the SMS filter policy drops severity={severity} page={page}")
        print(f"\n  INBOX {INBOX} gets:")
        print(f"    Subject: {subject}")
        for line in per_protocol["email"].splitlines():
            print(f"    {line}")
        print()


    show_on_call(endpoint)


def show_on_call(endpoint):
    events = drain(endpoint, EVENTS_QUEUE)
    requests = {tool: drain(endpoint, queue) for tool, queue in TOOL_QUEUES.items()}
    pagerduty, opsgenie = requests["PagerDuty"], requests["Opsgenie"]
    repeats = sum(1 for e in events if e["detail"]["repeat"])
    print("=" * 78)
    print(f"ALERT BUS {ALERT_BUS}: {len(events)} structured alert event(s), one per alert ({repeats} marked"
          " repeat: a redelivery of an alert already sent puts its event again; docs/alert-events.md)")
    # One incident per dedup_key (the root session): PagerDuty adds later triggers to the open
    # alert and keeps the first one's severity (docs/on-call.md).
    incidents = {}
    for r in pagerduty:
        incidents.setdefault(r["dedup_key"], []).append(r)
    print(f"\n  PAGERDUTY gets {len(pagerduty)} trigger(s) for {len(incidents)} incident(s), one per root session"
          " (every severity here; OnCallMinimumSeverity=HIGH, the default, pages for HIGH and CRITICAL only):")
    for key, triggers in incidents.items():
        first = triggers[0]["payload"]
        more = f", +{len(triggers) - 1} more trigger(s)" if len(triggers) > 1 else ""
        print(f"    {first['severity']:<8} {first['summary']}")
        print(f"             dedup_key {key}{more}")
    print(f"\n  OPSGENIE gets {len(opsgenie)} request(s) for {len({r['alias'] for r in opsgenie})} alert(s):"
          " the same alerts as P1-P4, alias = the session")
    if pagerduty:
        print("\n  One PagerDuty request in full (the connection adds routing_key; docs/on-call.md):")
        for line in json.dumps(pagerduty[0], indent=2).splitlines():
            print(f"    {line}")
    print()


def count(endpoint, topic):
    events = drain(endpoint, EVENTS_QUEUE)
    repeats = sum(1 for e in events if e["detail"]["repeat"])
    escalating = sum(1 for e in events if e["detail"]["escalate"])
    pagerduty = drain(endpoint, TOOL_QUEUES["PagerDuty"])
    print(len(sent(endpoint, topic)), len(phoned(endpoint)), len(events), repeats, escalating, len(pagerduty))


def outcome(response):
    """One line for the function's JSON response."""
    r = json.loads(response)
    if r["status"] == "alerted":
        if r["severity"] not in sms_filter_policy()["severity"]:
            how = "email; not a texted severity"
        elif r["page"] and r.get("textsPaused"):
            how = "texted + email; the text: texts paused (its bucket, until the hour or day ends)"
        elif r["page"]:
            how = "texted + email"
        elif r.get("textsPaused"):
            how = "email only: texts paused (its bucket, until the hour or day ends)"
        else:
            how = "email only: its root session was already texted"
        return print(f"alerted {r['severity']} {r['kind']} ({how})")
    if r["status"] == "duplicate":
        return print("duplicate: already alerted, nothing sent")
    print(f"ignored: {r['reason']}")


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    commands = {"setup": setup, "show": show, "count": count, "outcome": outcome}
    if command == "display-name":
        print(display_name())
    else:
        commands[command](*args)
