"""scripts/org.py where a run meets what moto cannot produce: a stack whose first create rolled back
(moto has no rollback: its stacks never end ROLLBACK_COMPLETE), a stack set operation still
running (moto finishes each one at once), a deletion of instances that ends FAILED, and errors.

The AWS answers come from botocore's Stubber on a real CloudFormation client: each request is
checked against the API's model as it is made, in the order given, and each answer is shaped as
the API reference shapes it (DescribeStacks, the waiters' polls, ListStackSetOperations,
DescribeStackSetOperation, ListStackInstances). A call not expected, or one expected and not
made, fails the test."""
import datetime
import sys

import boto3
import pytest
from botocore.stub import Stubber

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import org  # noqa: E402

NAME = "rootwatch-forwarder"
HOME_BUS = "arn:aws:events:us-east-1:999988887777:event-bus/rootwatch-root-events"
WHEN = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)
FAILED_TO_CREATE = "The following resource(s) failed to create: [ForwardRole]. Rollback requested by user."


@pytest.fixture
def aws(monkeypatch):
    """One stubbed CloudFormation client (us-east-1) that org.py's calls go to."""
    client = boto3.client("cloudformation", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    stubber = Stubber(client)

    class Stubbed(org.Calls):
        def client(self, region):
            assert region == "us-east-1"
            return client

    monkeypatch.setattr(org, "Calls", Stubbed)
    monkeypatch.setattr(org, "POLL_S", 0)
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def stack(status, reason=None):
    found = {"StackName": NAME, "CreationTime": WHEN, "StackStatus": status}
    return {"Stacks": [found | ({"StackStatusReason": reason} if reason else {})]}


def no_stack(aws):
    aws.add_client_error("describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist",
                         expected_params={"StackName": NAME})


def forwarder_params():
    return {"StackName": NAME, "TemplateBody": (ROOT / "forwarder.yaml").read_text(),
            "Parameters": [{"ParameterKey": "HomeBusArn", "ParameterValue": HOME_BUS}],
            "Capabilities": ["CAPABILITY_IAM"]}


def run(*args):
    org.main([*args, "--home-bus-arn", HOME_BUS, "--regions", "us-east-1", "--wait-s", "60"])


def test_a_stack_whose_first_create_failed_is_deleted_and_created_again(aws, capsys):
    """CloudFormation refuses UpdateStack on ROLLBACK_COMPLETE; DeleteStack is all it allows."""
    aws.add_response("describe_stacks", stack("ROLLBACK_COMPLETE", FAILED_TO_CREATE), {"StackName": NAME})
    aws.add_response("delete_stack", {}, {"StackName": NAME})
    no_stack(aws)  # the delete waiter's poll: gone
    aws.add_response("create_stack", {"StackId": f"arn:aws:cloudformation:us-east-1:999988887777:stack/{NAME}/2"},
                     forwarder_params())
    aws.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": NAME})
    run("management")
    out = capsys.readouterr().out
    assert "is ROLLBACK_COMPLETE (its first create failed): deleting it to create it again" in out
    assert f"us-east-1: {NAME} deployed" in out


def test_a_stack_that_rolls_back_is_named_with_its_reason(aws):
    no_stack(aws)
    aws.add_response("create_stack", {"StackId": f"arn:aws:cloudformation:us-east-1:999988887777:stack/{NAME}/1"},
                     forwarder_params())
    aws.add_response("describe_stacks", stack("ROLLBACK_COMPLETE", FAILED_TO_CREATE), {"StackName": NAME})
    with pytest.raises(SystemExit) as stopped:
        run("management")
    assert str(stopped.value) == (f"org.py: stack {NAME} in us-east-1 is ROLLBACK_COMPLETE ({FAILED_TO_CREATE}); "
                                  "see its events in the CloudFormation console")


def test_an_api_error_is_one_line_naming_the_call(aws):
    aws.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": NAME})
    refusal = f"Stack:arn:aws:cloudformation:us-east-1:999988887777:stack/{NAME}/1 is in UPDATE_IN_PROGRESS state and can not be updated."
    aws.add_client_error("update_stack", "ValidationError", refusal, expected_params=forwarder_params())
    with pytest.raises(SystemExit) as stopped:
        run("management")
    assert str(stopped.value) == f"org.py: An error occurred (ValidationError) when calling the UpdateStack operation: {refusal}"


def instance(account, region, ou, reason=None):
    found = {"StackSetId": f"{NAME}:1", "Region": region, "Account": account, "OrganizationalUnitId": ou,
             "Status": "CURRENT"}
    return found | ({"Status": "INOPERABLE", "StatusReason": reason} if reason else {})


def stack_set_with_instances(aws, operations):
    scope = {"StackSetName": NAME, "CallAs": "SELF"}
    aws.add_response("describe_stack_set", {"StackSet": {"StackSetName": NAME, "Status": "ACTIVE"}}, scope)
    aws.add_response("list_stack_instances", {"Summaries": [instance("111111111111", "us-east-1", "ou-ab12-11111111"),
                                                             instance("111111111111", "eu-west-1", "ou-ab12-11111111")]}, scope)
    aws.add_response("list_stack_set_operations", {"Summaries": operations}, scope)


def operation_status(aws, operation_id, status):
    aws.add_response("describe_stack_set_operation", {"StackSetOperation": {"OperationId": operation_id, "Status": status}},
                     {"StackSetName": NAME, "OperationId": operation_id, "CallAs": "SELF"})


def delete_instances(aws):
    aws.add_response("delete_stack_instances", {"OperationId": "delete-1"}, {
        "StackSetName": NAME, "CallAs": "SELF", "DeploymentTargets": {"OrganizationalUnitIds": ["ou-ab12-11111111"]},
        "Regions": ["eu-west-1", "us-east-1"], "RetainStacks": False, "OperationPreferences": org.preferences()})


def test_the_teardown_waits_for_an_operation_still_running(aws, capsys):
    """An auto-deployment (or a run that outlasted --wait-s) still RUNNING: DeleteStackInstances
    would be refused with OperationInProgressException, so the teardown waits for it first."""
    stack_set_with_instances(aws, [{"OperationId": "auto-1", "Action": "CREATE", "Status": "RUNNING"},
                                   {"OperationId": "first", "Action": "CREATE", "Status": "SUCCEEDED"}])
    operation_status(aws, "auto-1", "RUNNING")
    operation_status(aws, "auto-1", "SUCCEEDED")
    delete_instances(aws)
    operation_status(aws, "delete-1", "SUCCEEDED")
    aws.add_response("list_stack_instances", {"Summaries": []}, {"StackSetName": NAME, "CallAs": "SELF"})
    aws.add_response("delete_stack_set", {}, {"StackSetName": NAME, "CallAs": "SELF"})
    no_stack(aws)  # the management account's forwarder in us-east-1: none
    run("delete")
    out = capsys.readouterr().out
    assert f"stack set {NAME}: waiting for operation auto-1 (CREATE, RUNNING)" in out
    assert f"stack set {NAME}: deleted" in out and f"us-east-1: no {NAME} stack" in out


def test_a_failed_deletion_names_each_instance_left_and_why(aws):
    stack_set_with_instances(aws, [])
    delete_instances(aws)
    operation_status(aws, "delete-1", "FAILED")
    reason = "Account 111111111111 should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship"
    aws.add_response("list_stack_instances", {"Summaries": [instance("111111111111", "eu-west-1", "ou-ab12-11111111", reason)]},
                     {"StackSetName": NAME, "CallAs": "SELF"})
    with pytest.raises(SystemExit) as stopped:
        run("delete")
    message = str(stopped.value)
    assert f"stack set {NAME} still has 1 instance(s) (111111111111 eu-west-1: {reason})" in message
    assert "the deletion ended FAILED; it is kept" in message


def test_an_operation_in_progress_is_named(aws):
    scope = {"StackSetName": NAME, "CallAs": "SELF"}
    aws.add_response("describe_stack_set", {"StackSet": {"StackSetName": NAME, "Status": "ACTIVE"}}, scope)
    aws.add_response("list_stack_instances", {"Summaries": []}, scope)
    aws.add_response("list_stack_set_operations", {"Summaries": []}, scope)
    aws.add_response("list_stack_instances", {"Summaries": []}, scope)
    aws.add_client_error("delete_stack_set", "OperationInProgressException", "Another Operation on StackSet is in progress",
                         expected_params=scope)
    with pytest.raises(SystemExit) as stopped:
        run("delete")
    assert "(OperationInProgressException) when calling the DeleteStackSet operation" in str(stopped.value)
    assert "another operation on the stack set is still running: wait for it, then run again" in str(stopped.value)


def test_a_delegated_administrator_leaves_the_management_accounts_stacks(capsys):
    """DeleteStack with the delegated administrator's credentials would act on its own account."""
    org.main(["delete", "--home-bus-arn", HOME_BUS, "--regions", "us-east-1,eu-west-1", "--ou-ids", "r-ab12",
              "--call-as", "DELEGATED_ADMIN", "--dry-run"])
    out = capsys.readouterr().out
    calls = [line.split()[3] for line in out.splitlines() if line.startswith("would call")]
    assert calls == ["DeleteStackInstances", "DeleteStackSet"]
    assert f"The management account's {NAME} stacks are left: run `make org-teardown` again" in out
