#!/usr/bin/env python3
"""The local SNS for `make demo`: set up a topic like an operator would, then show what each
subscriber would receive, read from moto's own record of what was published.

    local_sns.py setup ENDPOINT            -> prints the topic ARN
    local_sns.py show ENDPOINT TOPIC_ARN   -> prints the SMS and the email of every alert
    local_sns.py count ENDPOINT TOPIC_ARN  -> prints how many messages were published
    local_sns.py outcome RESPONSE_JSON     -> one line for what the function returned
"""
import json
import sys
import urllib.request

import boto3

PHONE = "+15555550100"
INBOX = "secops@example.com"


def client(endpoint):
    return boto3.client(
        "sns",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def setup(endpoint):
    sns = client(endpoint)
    topic = sns.create_topic(Name="rootwatch-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=INBOX)
    sns.subscribe(TopicArn=topic, Protocol="sms", Endpoint=PHONE)
    print(topic)


def sent(endpoint, topic):
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as response:
        data = json.load(response)
    for t in data["sns"]["Topic"]:
        if t["arn"] == topic:
            return t["sent_notifications"]
    return []


def show(endpoint, topic):
    notifications = sent(endpoint, topic)
    print(f"\nSNS recorded {len(notifications)} published alert(s) on {topic}\n")
    for message_id, message, subject, attributes, _group in notifications:
        per_protocol = json.loads(message)
        severity = attributes.get("severity", {}).get("Value", "?")
        kind = attributes.get("kind", {}).get("Value", "?")
        print("=" * 78)
        print(f"message {message_id}   severity={severity} kind={kind}")
        print(f"\n  PHONE {PHONE} gets ({len(per_protocol['sms'])} chars):")
        print(f"    {per_protocol['sms']}")
        print(f"\n  INBOX {INBOX} gets:")
        print(f"    Subject: {subject}")
        for line in per_protocol["email"].splitlines():
            print(f"    {line}")
        print()


def outcome(response):
    """One line for the function's JSON response."""
    r = json.loads(response)
    if r["status"] == "alerted":
        return print(f"alerted {r['severity']} {r['kind']}")
    print(f"ignored: {r['reason']}")


def count(endpoint, topic):
    print(len(sent(endpoint, topic)))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"setup": setup, "show": show, "count": count, "outcome": outcome}[command](*args)
