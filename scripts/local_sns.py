#!/usr/bin/env python3
"""The local AWS side of `make demo` (moto): set up what the SAM stack would, then show what each
subscriber would receive, read from moto's own record of what was published.

    local_sns.py setup ENDPOINT              -> prints the topic ARN (also creates the state table)
    local_sns.py display-name                -> prints the topic's DisplayName from template.yaml
    local_sns.py show ENDPOINT TOPIC_ARN     -> prints the SMS and the email of every alert
    local_sns.py count ENDPOINT TOPIC_ARN    -> prints "<published> <delivered to the phone>"
                                                (show and count each drain the phone queue: use one)
    local_sns.py outcome RESPONSE_JSON       -> one line for what the function returned

moto records SMS and email publishes but delivers to neither, so the phone is stood in for by an
SQS queue subscribed with template.yaml's own SMS filter policy: SNS decides what it gets.
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


def count(endpoint, topic):
    print(len(sent(endpoint, topic)), len(phoned(endpoint)))


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
