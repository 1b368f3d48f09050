"""Organization teardown (make org-teardown, scripts/org.py delete): the stack set's instances in
every OU and region it has, then the stack set, then the management account's stacks, each step
after the one before has finished.

moto differs from AWS twice here: its ListStackInstances leaves out OrganizationalUnitId, and its
DeleteStackInstances ignores DeploymentTargets, the only way AWS lets a service-managed stack set
name what to delete. So the management account's stacks are deleted on moto for real, the stack
set's steps are checked against AWS-shaped answers (the API reference's) with every call validated
against botocore's model, and on moto the script is shown to keep a stack set that still has
instances, naming them, rather than fail half-way."""
import json
import os
import subprocess
import sys

import boto3
import pytest

from conftest import ROOT, start_moto

HOME_BUS = "arn:aws:events:us-east-1:999988887777:event-bus/rootwatch-root-events"
REGIONS = ["us-east-1", "eu-west-1"]


@pytest.fixture(scope="module")
def endpoint():
    yield from start_moto()


def client(endpoint, service, region="us-east-1"):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def org_py(endpoint, *args, regions=REGIONS):
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "org.py"), *args, "--home-bus-arn", HOME_BUS,
         "--regions", ",".join(regions), "--wait-s", "60"],
        env=env, capture_output=True, text=True, timeout=300,
    )


def test_the_management_accounts_stacks_are_deleted_and_waited_for(endpoint):
    made = org_py(endpoint, "management")
    assert made.returncode == 0, made.stdout + made.stderr
    result = org_py(endpoint, "delete")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stack set rootwatch-forwarder: none in us-east-1" in result.stdout
    for region in REGIONS:
        assert f"{region}: rootwatch-forwarder deleted" in result.stdout
        cfn = client(endpoint, "cloudformation", region)
        (stack,) = [s for s in cfn.list_stacks()["StackSummaries"] if s["StackName"] == "rootwatch-forwarder"]
        assert stack["StackStatus"] == "DELETE_COMPLETE"
    again = org_py(endpoint, "delete")
    assert again.returncode == 0 and again.stdout.count("no rootwatch-forwarder stack") == len(REGIONS)


def test_on_moto_a_stack_set_with_instances_left_is_kept_and_named(endpoint):
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    status = org.create_account(Email="member@example.com", AccountName="member")["CreateAccountStatus"]
    member = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    made = org_py(endpoint, "stackset", "--ou-ids", ou)
    assert made.returncode == 0, made.stdout + made.stderr

    cfn = client(endpoint, "cloudformation")
    summaries = cfn.list_stack_instances(StackSetName="rootwatch-forwarder")["Summaries"]
    assert summaries and not any("OrganizationalUnitId" in s for s in summaries), (
        "moto now names each instance's OU as AWS does: make this test delete the stack set for real"
    )
    result = org_py(endpoint, "delete")
    assert result.returncode != 0
    assert f"still has {len(REGIONS)} instance(s)" in result.stderr and member in result.stderr
    assert cfn.describe_stack_set(StackSetName="rootwatch-forwarder")["StackSet"]["Status"] == "ACTIVE"


def test_with_aws_answers_the_steps_go_in_order(monkeypatch):
    """ListStackInstances as the CloudFormation API reference shapes it for a service-managed stack
    set (each summary names its OU); the second listing, after the deletion, is empty."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import org

    made, listings = [], [
        [{"StackSetId": "rootwatch-forwarder:1", "Region": region, "Account": account, "OrganizationalUnitId": ou,
          "Status": "CURRENT"}
         for region in ["us-east-1", "eu-west-1", "ap-southeast-2"]
         for account, ou in [("111111111111", "ou-ab12-11111111"), ("222222222222", "ou-ab12-22222222")]],
        [],
    ]

    class Waiter:
        def wait(self, **kwargs):
            made.append(("wait", kwargs["StackName"]))

    class Recorder(org.Calls):
        def __call__(self, region, operation, **params):
            model = boto3.client("cloudformation", region_name=region).meta.service_model
            org.validate_parameters(params, model.operation_model(operation).input_shape)
            made.append((operation, region, params))
            return {"OperationId": f"op-{len(made)}"} if operation == "DeleteStackInstances" else {}

        def client(self, region):
            return type("Client", (), {"get_waiter": lambda self, name: Waiter()})()

    monkeypatch.setattr(org, "Calls", Recorder)
    monkeypatch.setattr(org, "stack_set_exists", lambda *a: True)
    monkeypatch.setattr(org, "stack_set_instances", lambda *a: listings.pop(0))
    monkeypatch.setattr(org, "stack_status", lambda *a: "CREATE_COMPLETE")
    monkeypatch.setattr(org, "settle", lambda call, region, args: made.append(("settle",)))
    monkeypatch.setattr(org, "wait", lambda call, region, args, operation: made.append(("wait", operation["OperationId"])) or "SUCCEEDED")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    org.main(["delete", "--home-bus-arn", HOME_BUS, "--regions", ",".join(REGIONS)])

    steps = [step[0] for step in made]
    assert steps == ["settle", "DeleteStackInstances", "wait", "DeleteStackSet", "DeleteStack", "wait", "DeleteStack", "wait"]
    delete_instances = made[1][2]
    assert delete_instances["DeploymentTargets"] == {"OrganizationalUnitIds": ["ou-ab12-11111111", "ou-ab12-22222222"]}
    assert delete_instances["Regions"] == ["ap-southeast-2", "eu-west-1", "us-east-1"], "every region it has"
    assert delete_instances["RetainStacks"] is False
    assert [m[1] for m in made if m[0] == "DeleteStack"] == REGIONS
    assert listings == [], "the instances are listed again before the stack set goes"


def test_the_dry_run_makes_no_call_and_shows_each():
    closed = "http://127.0.0.1:9"  # nothing listens: any real call would fail
    result = org_py(closed, "delete", "--ou-ids", "r-ab12", "--dry-run")
    assert result.returncode == 0, result.stderr
    calls = [line for line in result.stdout.splitlines() if line.startswith("would call")]
    assert [(c.split()[3], c.split()[5].rstrip(":")) for c in calls] == [
        ("DeleteStackInstances", "us-east-1"), ("DeleteStackSet", "us-east-1"),
        ("DeleteStack", "us-east-1"), ("DeleteStack", "eu-west-1")]
    instances = json.loads(calls[0].split(": ", 1)[1])
    assert instances["DeploymentTargets"] == {"OrganizationalUnitIds": ["r-ab12"]} and instances["RetainStacks"] is False
    without = org_py(closed, "delete", "--dry-run")
    assert without.returncode != 0 and "give --ou-ids" in without.stderr
