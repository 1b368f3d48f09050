"""The Python 3 + boto3 peer that `make bench-cold` measures rootwatch against.

It does what the Rust function does on its cold path, the way a Python Lambda would: at init,
import boto3, build the SNS client once and check the topic with GetTopicAttributes (which also
opens the TLS connection); per event, render the alert and make one Publish with
MessageStructure=json, a subject and the same four message attributes.

It is not a second implementation of rootwatch's rules: it alerts on any `Root` identity and
renders a short SMS and email. The rules cost microseconds in Rust (`make bench`), so they cannot
explain the gap being measured.

The loop at the bottom speaks the Lambda Runtime API with urllib, as AWS's own Python runtime
does (`awslambdaric`, which is a C extension around the same three requests). Run as
`python3 python_peer.py` with `AWS_LAMBDA_RUNTIME_API` set, like a custom-runtime `bootstrap`.
"""

import json
import os
import urllib.request

import boto3

TOPIC = os.environ["ALERT_TOPIC_ARN"]
sns = boto3.client("sns")
sns.get_topic_attributes(TopicArn=TOPIC)


def handler(event, _context):
    detail = event["detail"]
    identity = detail["userIdentity"]
    if identity.get("type") != "Root":
        return {"status": "ignored", "eventId": detail.get("eventID")}
    mfa = (detail.get("additionalEventData") or {}).get("MFAUsed")
    what = f"Root {detail['eventName']}" + (" WITHOUT MFA" if mfa == "No" else "")
    account = detail.get("recipientAccountId") or identity.get("accountId") or "unknown"
    sms = f"CRITICAL {what}. Acct {account}. IP {detail.get('sourceIPAddress')}. {detail.get('eventTime')}"
    alert = {"kind": "root-activity", "severity": "CRITICAL", "account": account,
             "eventId": detail.get("eventID"), "event": detail["eventName"]}
    email = "\n".join(f"{k:<12} {v}" for k, v in alert.items())
    message = json.dumps({"sms": sms[:149], "email": email,
                          "email-json": json.dumps(alert), "default": json.dumps(alert)})
    attribute = lambda value: {"DataType": "String", "StringValue": value}  # noqa: E731
    response = sns.publish(
        TopicArn=TOPIC, MessageStructure="json", Message=message,
        Subject=f"[rootwatch] CRITICAL {what} - {account}"[:100],
        MessageAttributes={"severity": attribute("CRITICAL"), "kind": attribute("root-activity"),
                           "page": attribute("true"), "AWS.SNS.SMS.SMSType": attribute("Transactional")},
    )
    return {"status": "alerted", "eventId": detail.get("eventID"), "messageId": response["MessageId"]}


def main():
    api = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"
    while True:
        with urllib.request.urlopen(f"{api}/next") as request:
            request_id = request.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.load(request)
        try:
            body, outcome = json.dumps(handler(event, None)).encode(), "response"
        except Exception as error:  # reported to the Runtime API, as the real runtime does
            body = json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)}).encode()
            outcome = "error"
        post = urllib.request.Request(f"{api}/{request_id}/{outcome}", data=body, method="POST")
        urllib.request.urlopen(post).close()


if __name__ == "__main__":
    main()
