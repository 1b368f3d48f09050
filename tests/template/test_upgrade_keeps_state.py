"""What an upgrade keeps (docs/install.md, "Upgrading to a new version"). CloudFormation updates a
resource in place when its logical id stays and replaces it when the id goes: a renamed topic
would be a new topic whose subscribers must confirm again, a renamed table would forget every
dedup mark. These are the ids docs/install.md promises, and the two resources kept even when
removed or replaced."""
import re

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
}
RETAINED = {"FunctionLogGroup", "FailedEventsQueue"}
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


def test_stateful_names_do_not_change_with_the_version(resources):
    """A property that names a resource by something an upgrade changes would replace it; these
    name theirs by the stack only (or not at all)."""
    for logical_id in KEPT:
        properties = resources[logical_id].get("Properties", {})
        for value in (properties.get("Name"), properties.get("TableName"), properties.get("QueueName")):
            assert value is None or "Version" not in str(value), logical_id
