"""One account, many regions (make regions, scripts/org.py regions) against moto's CloudFormation,
EventBridge and STS: the stack in the home region gains this account in SourceAccountIds (every
other parameter kept), and with it a home bus; forwarder.yaml goes to every other region, aimed at
that bus; running again changes nothing. The dry run (make org-dry-run, part of make test) makes no
call at all."""
import json
import os
import re
import subprocess
import sys
import time

import boto3
import pytest
from botocore.config import Config
from botocore.parsers import ResponseParserError
from cfnlint.decode import cfn_yaml

from conftest import ACCOUNT, ROOT, as_deployed, cli_options, run_with_aws_recorded, start_moto
from test_deployable import upload_code

HOME = "us-east-1"
OTHERS = ["us-east-2", "eu-west-1"]
EMAILS = "secops@example.com,oncall@example.com"


@pytest.fixture(scope="module")
def endpoint():
    yield from start_moto()


def client(endpoint, service, region=HOME):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def org_py(endpoint, *args):
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": HOME}
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "org.py"), "regions", *args],
                          env=env, capture_output=True, text=True, timeout=300)


def settle(cfn, name):
    deadline = time.time() + 120
    while (stack := cfn.describe_stacks(StackName=name)["Stacks"][0])["StackStatus"].endswith("_IN_PROGRESS"):
        assert time.time() < deadline
        time.sleep(0.5)
    return stack


def every_parameter(doc, **values):
    """Each parameter given, its default unless named: moto keeps only the parameters given at
    creation for a later UsePreviousValue (AWS keeps every one; pinned below)."""
    return [{"ParameterKey": k, "ParameterValue": str(values.get(k, p.get("Default", "")))}
            for k, p in doc["Parameters"].items()]


@pytest.fixture(scope="module")
def home_stack(endpoint):
    """rootwatch in single-account mode in us-east-1, as any install leaves it."""
    upload_code(client(endpoint, "s3"))
    cfn = client(endpoint, "cloudformation")
    doc = as_deployed(cfn_yaml.load(str(ROOT / "template.yaml")))
    cfn.create_stack(StackName="rootwatch", TemplateBody=json.dumps(doc),
                     Parameters=every_parameter(doc, AlertEmails=EMAILS), Capabilities=["CAPABILITY_IAM"])
    stack = settle(cfn, "rootwatch")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert "HomeBusArn" not in {o["OutputKey"] for o in stack["Outputs"]}
    return stack


@pytest.fixture(scope="module")
def run(endpoint, home_stack):
    result = org_py(endpoint, "--home-region", HOME, "--regions", ",".join([HOME, *OTHERS]), "--wait-s", "60")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_home_stack_admits_this_account_and_keeps_its_recipients(endpoint, run):
    stack = settle(client(endpoint, "cloudformation"), "rootwatch")
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    values = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert values["SourceAccountIds"] == ACCOUNT
    assert values["AlertEmails"] == EMAILS, "a parameter left out of the update would have lost its value"
    bus = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["HomeBusArn"]
    assert bus == f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/rootwatch-root-events"
    # The bus exists; moto keeps no bus policy, so what it admits (forwarder roles of the listed
    # accounts) is evaluated by the IAM policy tests (test_policies.py, test_organization.py).
    assert client(endpoint, "events").describe_event_bus(Name="rootwatch-root-events")["Arn"] == bus


def test_every_other_region_forwards_to_the_home_bus(endpoint, run):
    bus = f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/rootwatch-root-events"
    for region in OTHERS:
        (stack,) = client(endpoint, "cloudformation", region).describe_stacks(StackName="rootwatch-forwarder")["Stacks"]
        assert stack["StackStatus"] == "CREATE_COMPLETE"
        assert stack["Parameters"] == [{"ParameterKey": "HomeBusArn", "ParameterValue": bus}]
        assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Forwarding"] == "true"
        events = client(endpoint, "events", region)
        targets = [t["Arn"] for rule in events.list_rules()["Rules"]
                   for t in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
        assert targets == [bus] * 4, "root sign-ins, root API calls, the forwarder's alarm and its heartbeat"
    # The home region is the home stack's own: no forwarder there.
    assert not [s for s in client(endpoint, "cloudformation").describe_stacks()["Stacks"]
                if s["StackName"] == "rootwatch-forwarder"]
    assert run.stdout.strip().splitlines()[-1] == f"rootwatch in {HOME} alerts on root activity of {ACCOUNT} in {', '.join([HOME, *OTHERS])}"


def test_the_documented_forwarder_without_a_clone_deploys(endpoint, run, tmp_path):
    """docs/install.md's command for a release's forwarder.yaml, run by bash as written (aws
    recorded) and then made on moto, in a region of its own, aimed at the home bus."""
    install = (ROOT / "docs" / "install.md").read_text()
    block = install.split("Without a clone, the same by hand", 1)[1]
    block = re.search(r"^```sh\n(.*?)^```$", block, flags=re.M | re.S).group(1)
    bus = f"arn:aws:events:{HOME}:{ACCOUNT}:event-bus/rootwatch-root-events"
    (tmp_path / "forwarder.yaml").write_bytes((ROOT / "forwarder.yaml").read_bytes())
    (call,) = run_with_aws_recorded(block.replace("<HomeBusArn>", bus), tmp_path)
    assert call[:2] == ["cloudformation", "deploy"]
    options = cli_options(call[2:])
    (template,) = options["--template-file"]
    assert (tmp_path / template).read_bytes() == (ROOT / "forwarder.yaml").read_bytes()
    cfn = client(endpoint, "cloudformation", "ap-southeast-2")
    cfn.create_stack(StackName=options["--stack-name"][0], TemplateBody=(tmp_path / template).read_text(),
                     Capabilities=options["--capabilities"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                 for k, v in (o.split("=", 1) for o in options["--parameter-overrides"])])
    stack = settle(cfn, options["--stack-name"][0])
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Forwarding"] == "true"


def test_a_second_run_changes_nothing(endpoint, run):
    again = org_py(endpoint, "--home-region", HOME, "--regions", ",".join([HOME, *OTHERS]), "--wait-s", "60")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"already admits forwarders of {ACCOUNT}" in again.stdout
    assert again.stdout.count("is up to date") == len(OTHERS)


def test_credentials_of_another_account_are_refused_before_any_change(endpoint, run):
    before = settle(client(endpoint, "cloudformation"), "rootwatch")["Parameters"]
    wrong = org_py(endpoint, "--home-region", HOME, "--regions", HOME, "--account-id", "111122223333")
    assert wrong.returncode != 0 and "is not the account of these credentials" in wrong.stderr
    assert settle(client(endpoint, "cloudformation"), "rootwatch")["Parameters"] == before


def test_a_missing_home_stack_is_named(endpoint):
    missing = org_py(endpoint, "--home-region", HOME, "--regions", HOME, "--stack-name", "nothing-here")
    assert missing.returncode != 0 and "no stack nothing-here in us-east-1" in missing.stderr


def test_moto_differs_from_aws_on_previous_values_of_defaults(endpoint):
    """AWS's UpdateStack takes UsePreviousValue for any parameter of the stack; moto fails with an
    internal error (an HTML 500 page) on one that was left to its default at creation, hence
    every_parameter() above. The update changes another parameter, so that AWS would make it (an
    update that changes nothing is refused by AWS too). When this test fails, moto follows AWS:
    create the home stack with AlertEmails alone."""
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name=HOME, aws_access_key_id="testing",
                       aws_secret_access_key="testing", config=Config(retries={"mode": "standard", "max_attempts": 1}))
    template = {"Parameters": {"A": {"Type": "String", "Default": "a"}, "B": {"Type": "String", "Default": "b"}},
                "Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}}
    cfn.create_stack(StackName="moto-defaults", TemplateBody=json.dumps(template))
    with pytest.raises(ResponseParserError, match="500 Internal Server Error"):
        cfn.update_stack(StackName="moto-defaults", UsePreviousTemplate=True,
                         Parameters=[{"ParameterKey": "A", "UsePreviousValue": True},
                                     {"ParameterKey": "B", "ParameterValue": "changed"}])


def test_the_dry_run_makes_no_call_and_keeps_every_parameter():
    closed = "http://127.0.0.1:9"  # nothing listens: any real call would fail
    result = org_py(closed, "--home-region", HOME, "--regions", ",".join(OTHERS), "--account-id", "111122223333",
                    "--dry-run")
    assert result.returncode == 0, result.stderr
    calls = [line for line in result.stdout.splitlines() if line.startswith("would call")]
    assert [(c.split()[3], c.split()[5].rstrip(":")) for c in calls] == [
        ("UpdateStack", HOME), ("CreateStack", "us-east-2"), ("CreateStack", "eu-west-1")]
    update = json.loads(calls[0].split(": ", 1)[1])
    assert update["UsePreviousTemplate"] is True
    assert set(update["Capabilities"]) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    template = cfn_yaml.load(str(ROOT / "template.yaml"))
    assert [p["ParameterKey"] for p in update["Parameters"]] == [
        *[k for k in template["Parameters"] if k != "SourceAccountIds"], "SourceAccountIds"]
    assert all(p.get("UsePreviousValue") for p in update["Parameters"][:-1])
    assert update["Parameters"][-1] == {"ParameterKey": "SourceAccountIds", "ParameterValue": "111122223333"}
    forwarder = json.loads(calls[1].split(": ", 1)[1])
    assert forwarder["Parameters"] == [{"ParameterKey": "HomeBusArn",
                                        "ParameterValue": "arn:aws:events:us-east-1:111122223333:event-bus/rootwatch-root-events"}]


def test_regions_that_miss_us_east_1_are_refused():
    """A home elsewhere must have a forwarder in us-east-1, where root console sign-ins are recorded."""
    result = org_py("http://127.0.0.1:9", "--home-region", "eu-west-1", "--regions", "eu-west-1,eu-central-1",
                    "--account-id", "111122223333", "--dry-run")
    assert result.returncode == 2 and "must include us-east-1" in result.stderr
    ok = org_py("http://127.0.0.1:9", "--home-region", "eu-west-1", "--regions", "us-east-1",
                "--account-id", "111122223333", "--dry-run")
    assert ok.returncode == 0, ok.stderr
