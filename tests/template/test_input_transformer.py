"""input_transformer.py against the examples of EventBridge's own pages (User Guide, "Amazon
EventBridge input transformation"; API Reference, "InputTransformer"), and what it refuses."""
import json

import pytest

import input_transformer as it

EVENT = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
PATHS = {"instance": "$.detail.instance-id", "state": "$.detail.state", "resource": "$.resources[0]"}


def test_a_text_template_inserts_the_values():
    out = it.transform(EVENT, {"InputPathsMap": PATHS, "InputTemplate": "<instance> is in state <state>"})
    assert out == "i-0123456789 is in state RUNNING"


def test_a_json_template_quotes_unquoted_strings_and_keeps_quoted_ones():
    template = '{"instance": <instance>, "state": "<state>", "first": "<resource>"}'
    out = it.transform(EVENT, {"InputPathsMap": PATHS, "InputTemplate": template})
    assert out == {
        "instance": "i-0123456789",
        "state": "RUNNING",
        "first": "arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111",
    }


def test_an_object_variable_is_inserted_as_json_and_predefined_variables_exist():
    template = '{"detail": <detail>, "rule": "<aws.events.rule-name>", "event": <aws.events.event.json>}'
    out = it.transform(EVENT, {"InputPathsMap": {"detail": "$.detail"}, "InputTemplate": template}, rule_name="r1")
    assert out == {"detail": EVENT["detail"], "rule": "r1", "event": EVENT}


def test_a_quoted_string_with_a_quote_yields_invalid_json():
    event = json.loads(json.dumps(EVENT))
    event["detail"]["state"] = 'RUN"NING'
    with pytest.raises(json.JSONDecodeError):
        it.transform(event, {"InputPathsMap": PATHS, "InputTemplate": '{"state": "<state>"}'})


def test_a_missing_path_creates_no_variable_and_its_placeholder_is_refused():
    with pytest.raises(it.TransformError, match="no variable"):
        it.transform(EVENT, {"InputPathsMap": {"x": "$.detail.absent"}, "InputTemplate": '{"x": "<x>"}'})


@pytest.mark.parametrize(
    "paths, template, why",
    [
        ({"x": "$['detail']"}, '"<x>"', "dot notation"),
        ({"aws.x": "$.detail"}, '"<aws.x>"', "reserved"),
        ({"s": "$.detail.state"}, '{"<s>": 1}', "object key"),
        ({"d": "$.detail"}, '{"a": "<d>"}', "object inside quotes"),
    ],
)
def test_what_the_docs_do_not_define_is_refused(paths, template, why):
    with pytest.raises(it.TransformError, match=why):
        it.transform(EVENT, {"InputPathsMap": paths, "InputTemplate": template})


def test_the_connection_body_parameters_are_added_and_a_clash_is_refused():
    body = it.with_connection_body({"a": 1}, [{"Key": "routing_key", "Value": "conn"}])
    assert body == {"routing_key": "conn", "a": 1}
    # Which value EventBridge sends on a clash is not documented: the evaluator will not guess.
    with pytest.raises(it.TransformError):
        it.with_connection_body({"routing_key": "event", "a": 1}, [{"Key": "routing_key", "Value": "conn"}])
