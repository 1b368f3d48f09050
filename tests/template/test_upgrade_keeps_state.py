"""What an upgrade keeps (docs/install.md, "Upgrading to a new version"). CloudFormation updates a
resource in place when its logical id stays and replaces it when the id goes: a renamed topic
would be a new topic whose subscribers must confirm again, a renamed table would forget every
dedup mark. These are the ids docs/install.md promises, the two resources kept even when removed
or replaced, and the values of the properties whose change would replace a kept resource."""
import re

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from conftest import ROOT

INSTALL = (ROOT / "docs" / "install.md").read_text()
UPGRADE = INSTALL.split("## Upgrading to a new version", 1)[1].split("\n## ", 1)[0]

KEPT = {
    "AlertTopic": "AWS::SNS::Topic",
    "AlarmTopic": "AWS::SNS::Topic",
    "AlertKey": "AWS::KMS::Key",
    "AlarmKey": "AWS::KMS::Key",
    "StateTable": "AWS::DynamoDB::Table",
    "FailedEventsQueue": "AWS::SQS::Queue",
    "FunctionLogGroup": "AWS::Logs::LogGroup",
    "HomeBus": "AWS::Events::EventBus",
    # Consumers' own rules live on it, and name its ARN.
    "AlertBus": "AWS::Events::EventBus",
    "OnCallFailedQueue": "AWS::SQS::Queue",
}
RETAINED = {"FunctionLogGroup", "FailedEventsQueue", "OnCallFailedQueue"}
# Each list position is one subscription: confirmed addresses stay confirmed only while these ids do.
SUBSCRIPTIONS = [f"{kind}{n}" for kind in ("EmailSubscription", "SmsSubscription", "AlarmEmailSubscription",
                                           "AlarmSmsSubscription") for n in range(1, 6)]


def test_the_stateful_resources_keep_their_ids(resources):
    for logical_id, kind in KEPT.items():
        assert resources.get(logical_id, {}).get("Type") == kind, f"{logical_id} renamed: an upgrade would replace it"
        assert f"`{logical_id}`" in UPGRADE, f"docs/install.md does not say {logical_id} is kept"
    for logical_id in SUBSCRIPTIONS:
        assert resources[logical_id]["Type"] == "AWS::SNS::Subscription"


def test_the_record_outlives_replacement_and_deletion(resources):
    retained = {k for k, r in resources.items()
                if r.get("DeletionPolicy") == "Retain" and r.get("UpdateReplacePolicy") == "Retain"}
    assert retained == RETAINED
    for logical_id in RETAINED:
        assert re.search(rf"`{logical_id}`[^.]*(and|have)[^.]*`Retain`", UPGRADE), logical_id


# What CloudFormation replaces a resource for, besides its logical id: a change to a property whose
# update "requires: Replacement". The registry schemas name them (createOnlyProperties; cfn-lint
# bundles the schemas); DynamoDB's KeySchema and LocalSecondaryIndexes are marked so in the
# CloudFormation User Guide ("AWS::DynamoDB::Table") though its schema leaves them out.
ALSO_REPLACING = {"AWS::DynamoDB::Table": {"KeySchema", "LocalSecondaryIndexes"}}
STACK_ID_PART = {"Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]}]}
# Their values today, for every kept resource (absent: not set). A change here is a deliberate
# edit: it replaces the resource on upgrade, and docs/install.md must then say what is lost.
PINNED = {
    "AlertTopic": {},
    "AlarmTopic": {},
    "AlertKey": {},
    "AlarmKey": {},
    "StateTable": {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]},
    "FailedEventsQueue": {},
    # The Lambda service's own name for the function's log group: it must stay the function's.
    "FunctionLogGroup": {"LogGroupName": {"Fn::Sub": ["/aws/lambda/${AWS::StackName}-rootwatch-${StackIdPart}",
                                                      {"StackIdPart": STACK_ID_PART}]}},
    # The forwarders target this name (their HomeBusArn).
    "HomeBus": {"Name": {"Fn::Sub": "${AWS::StackName}-root-events"}},
    # Consumers' rules are on this bus: a new name would be a new bus without them.
    "AlertBus": {"Name": {"Fn::Sub": "${AWS::StackName}-alerts"}},
    "OnCallFailedQueue": {},
}
for kind, topic, recipients in [("EmailSubscription", "AlertTopic", ("email", "AlertEmails")),
                                ("SmsSubscription", "AlertTopic", ("sms", "AlertPhoneNumbers")),
                                ("AlarmEmailSubscription", "AlarmTopic", ("email", "AlertEmails")),
                                ("AlarmSmsSubscription", "AlarmTopic", ("sms", "AlertPhoneNumbers"))]:
    protocol, parameter = recipients
    for n in range(1, 6):
        # Position n of the list is subscription n: its address confirmed stays confirmed.
        PINNED[f"{kind}{n}"] = {"TopicArn": {"Ref": topic}, "Protocol": protocol, "Endpoint": {
            "Fn::Select": [n - 1, {"Fn::Split": [",", {"Fn::Sub": f"${{{parameter}}},,,,"}]}]}}


def replacing_properties(kind):
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema
    return {pointer.split("/")[2] for pointer in schema.get("createOnlyProperties", [])} | ALSO_REPLACING.get(kind, set())


def test_nothing_that_would_replace_a_kept_resource_changes(resources):
    assert set(PINNED) == set(KEPT) | set(SUBSCRIPTIONS)
    for logical_id, pinned in PINNED.items():
        resource = resources[logical_id]
        replacing = replacing_properties(resource["Type"])
        assert set(pinned) <= replacing, f"{logical_id}: pin only what replaces it"
        actual = {name: value for name, value in resource.get("Properties", {}).items() if name in replacing}
        assert actual == pinned, (f"{logical_id}: a change to {sorted(replacing)} replaces it on upgrade; "
                                  "if that is meant, say in docs/install.md what is lost, then pin the new value")


def test_the_declarations_stream_is_added_to_the_table_in_place(resources):
    """A stack from before declarations gains the stream with an in-place update of the table:
    its items (dedup marks, sessions, texts counted) stay."""
    assert resources["StateTable"]["Properties"]["StreamSpecification"] == {"StreamViewType": "KEYS_ONLY"}
    assert "StreamSpecification" not in replacing_properties("AWS::DynamoDB::Table")
