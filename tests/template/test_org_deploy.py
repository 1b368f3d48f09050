"""scripts/org.py (make org-stackset, make org-management) run against moto's Organizations and
CloudFormation: forwarders reach every account of the OU in every region given, the management
account gets its own stacks, and running again changes nothing. The dry run (make org-dry-run, part
of make test) is checked here to make no call at all."""
import json
import os
import subprocess
import sys

import boto3
import pytest

from conftest import ACCOUNT, ROOT

HOME_BUS = "arn:aws:events:us-east-1:999988887777:event-bus/rootwatch-root-events"
REGIONS = ["us-east-1", "eu-west-1"]


def org_py(endpoint, *args):
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "org.py"), *args, "--home-bus-arn", HOME_BUS,
         "--regions", ",".join(REGIONS), "--wait-s", "60"],
        env=env, capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def organization(aws):
    """An organization in moto (the default account is its management account) with an OU of two
    member accounts."""
    org = aws("organizations")
    try:
        org.create_organization(FeatureSet="ALL")
    except org.exceptions.AlreadyInOrganizationException:
        pass  # another test module of this session made it
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    members = []
    for name in ["prod-payments", "sandbox"]:
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        account = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
        members.append(account)
    return ou, members


def test_the_stack_set_covers_every_account_of_the_ou_in_every_region(moto_endpoint, aws, organization):
    ou, members = organization
    result = org_py(moto_endpoint, "stackset", "--ou-ids", ou)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "make org-management" in result.stdout, "the management account is not covered: say so"
    assert f"set CoverageRegions={','.join(REGIONS)} on the home stack" in result.stdout, \
        "the regions coverage must check: say which"

    cfn = aws("cloudformation")
    stack_set = cfn.describe_stack_set(StackSetName="rootwatch-forwarder")["StackSet"]
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    # (moto does not keep AutoDeployment; the dry-run test checks the request carries it.)
    assert stack_set["Parameters"] == [{"ParameterKey": "HomeBusArn", "ParameterValue": HOME_BUS}]
    assert "ForwardRootApiCall" in stack_set["TemplateBody"]
    instances = cfn.list_stack_instances(StackSetName="rootwatch-forwarder")["Summaries"]
    assert sorted((i["Account"], i["Region"]) for i in instances) == sorted(
        (account, region) for account in members for region in REGIONS
    )
    assert ACCOUNT not in {i["Account"] for i in instances}

    again = org_py(moto_endpoint, "stackset", "--ou-ids", ou)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(cfn.list_stack_instances(StackSetName="rootwatch-forwarder")["Summaries"]) == len(instances)


def test_the_management_account_gets_a_forwarder_in_every_region(moto_endpoint):
    result = org_py(moto_endpoint, "management")
    assert result.returncode == 0, result.stdout + result.stderr
    for region in REGIONS:
        cfn = boto3.client("cloudformation", endpoint_url=moto_endpoint, region_name=region,
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        (stack,) = cfn.describe_stacks(StackName="rootwatch-forwarder")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Forwarding"] == "true"
        events = boto3.client("events", endpoint_url=moto_endpoint, region_name=region,
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        targets = [
            t for rule in events.list_rules()["Rules"] if rule["Name"].startswith("rootwatch-forwarder")
            for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        ]
        # Root sign-ins, root API calls, the forwarder's failing alarm.
        assert [t["Arn"] for t in targets] == [HOME_BUS] * 3
    again = org_py(moto_endpoint, "management")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("up to date") == len(REGIONS)


def test_the_dry_run_makes_no_call_and_shows_each(tmp_path):
    closed = "http://127.0.0.1:9"  # nothing listens: any real call would fail
    result = org_py(closed, "stackset", "--ou-ids", "r-ab12", "--dry-run")
    assert result.returncode == 0, result.stderr
    calls = [line for line in result.stdout.splitlines() if line.startswith("would call")]
    assert [c.split()[3] for c in calls] == ["CreateStackSet", "CreateStackInstances"]
    stack_set = json.loads(calls[0].split(": ", 1)[1])
    assert stack_set["PermissionModel"] == "SERVICE_MANAGED"
    assert stack_set["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    instances = json.loads(calls[1].split(": ", 1)[1])
    assert instances["DeploymentTargets"] == {"OrganizationalUnitIds": ["r-ab12"]}
    assert instances["Regions"] == REGIONS


def test_regions_without_us_east_1_are_refused():
    """Root console sign-ins are recorded in us-east-1 (CloudTrail User Guide): forwarders
    everywhere else would miss every one of them."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "org.py"), "stackset", "--home-bus-arn", HOME_BUS,
         "--ou-ids", "r-ab12", "--regions", "eu-west-1,eu-central-1", "--dry-run"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "must include us-east-1" in result.stderr


def test_a_second_run_updates_the_template_everywhere_then_adds_instances(monkeypatch):
    """UpdateStackSet with template and parameters only (AWS refuses AutoDeployment together with
    targets or regions, which moto does not check); then CreateStackInstances for any new account
    or region. Run with a recording stand-in for the API, as if the stack set existed."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import org

    made = []

    class Recorder(org.Calls):
        def __call__(self, region, operation, **params):
            model = self.client(region).meta.service_model.operation_model(operation)
            org.validate_parameters(params, model.input_shape)
            made.append((operation, params))
            return None

    monkeypatch.setattr(org, "Calls", Recorder)
    monkeypatch.setattr(org, "stack_set_exists", lambda *a: True)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "none")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "none")
    org.main(["stackset", "--home-bus-arn", HOME_BUS, "--ou-ids", "r-ab12", "--regions", "us-east-1,eu-west-1"])
    assert [op for op, _ in made] == ["UpdateStackSet", "CreateStackInstances"]
    update = made[0][1]
    assert not {"AutoDeployment", "DeploymentTargets", "Regions", "PermissionModel"} & set(update)
    assert update["Parameters"] == [{"ParameterKey": "HomeBusArn", "ParameterValue": HOME_BUS}]
    assert update["OperationPreferences"]["ConcurrencyMode"] == "SOFT_FAILURE_TOLERANCE"


def test_a_wrong_bus_arn_is_refused_before_any_call():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "org.py"), "management", "--home-bus-arn",
         "arn:aws:sns:us-east-1:111122223333:rootwatch", "--regions", "us-east-1", "--dry-run"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "is not an event bus ARN" in result.stderr
