"""Every CloudFormation template in the repository, judged as deployed: the SAM transform run offline
(when the template has one), cfn-lint on what the transform produced, and a create_stack of it on
moto's CloudFormation that must reach CREATE_COMPLETE.

cfn-lint and `sam validate --lint` on the source template cannot see what SAM generates (the role
and its references were a dependency cycle only after the transform). moto creates only the resource
types it models and skips the others with a warning; the test lists those, so that what was not
created is known rather than assumed."""
import io
import json
import subprocess
import sys
import time
import warnings
import zipfile

import boto3
import pytest
from botocore.config import Config
from cfnlint.decode import cfn_yaml
from moto.cloudformation.parsing import resource_class_from_type

from conftest import ACCOUNT, CODE_BUCKET, CODE_KEY, REGION, ROOT, as_deployed, repo_templates
from dependencies import find_cycle
from intrinsics import Stack

TEMPLATES = repo_templates()

# Each template is created in each of its modes; between them, every kind of conditional resource is
# created once: one of each list, both chat channels, organization mode, a forwarder in a member
# account, and one in the home account's home region (which must forward nothing).
CHAT = {
    "SlackWorkspaceId": "T0123ABCDEF",
    "SlackChannelId": "C0123ABCDEF",
    "TeamsTenantId": "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f",
    "TeamsTeamId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "TeamsChannelId": "19%3a0123456789abcdef0123456789abcdef%40thread.tacv2",
}
LISTS = {"AlertEmails": "secops@example.com", "AlertPhoneNumbers": "+15555550100"}
ORGANIZATION = {"OrganizationId": "o-a1b2c3d4e5", "SourceAccountIds": "444455556666"}
# Declarers in one mode, the default (no one) in the other: the table's policy takes either branch.
DECLARERS = {"DeclarerArns": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass,"
             f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_RootDeclarer_*"}
MEMBER_HOME_BUS = "arn:aws:events:eu-west-1:111122223333:event-bus/rootwatch-root-events"
DEPLOYMENTS = {
    "template-single-account": ("template.yaml", {**LISTS, **CHAT}),
    "template-organization": ("template.yaml", {**LISTS, **ORGANIZATION, **DECLARERS}),
    "forwarder-member": ("forwarder.yaml", {"HomeBusArn": MEMBER_HOME_BUS}),
    "forwarder-home": (
        "forwarder.yaml", {"HomeBusArn": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/rootwatch-root-events"}
    ),
}
HOME = [k for k, (file_name, _) in DEPLOYMENTS.items() if file_name == "template.yaml"]

# moto answers create_stack in one request; a template it cannot finish must fail the test, not hang
# it (the cycle check below runs first; this is the second guard).
CREATE_TIMEOUT_S = 120


def test_every_template_is_found_and_created():
    assert {ROOT / "template.yaml", ROOT / "forwarder.yaml"} <= set(TEMPLATES)
    assert {ROOT / file_name for file_name, _ in DEPLOYMENTS.values()} == set(TEMPLATES)


@pytest.fixture(scope="module", params=TEMPLATES, ids=[p.name for p in TEMPLATES])
def deployed(request, tmp_path_factory):
    """(path, transformed template, the JSON file it was written to)."""
    path = request.param
    doc = as_deployed(cfn_yaml.load(str(path)))
    out = tmp_path_factory.mktemp("deployed") / f"{path.stem}.json"
    out.write_text(json.dumps(doc, indent=1))
    return path, doc, out


def cfn_lint_command():
    venv = ROOT / ".venv" / "bin" / "cfn-lint"
    return [str(venv)] if venv.exists() else [sys.executable, "-m", "cfnlint"]


def test_cfn_lint_finds_no_error_in_what_cloudformation_receives(deployed):
    path, _, out = deployed
    result = subprocess.run(
        [*cfn_lint_command(), "--format", "parseable", str(out)],
        capture_output=True, text=True, timeout=180,
    )
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert result.returncode & 2 == 0 and not errors, (
        f"cfn-lint on the transformed {path.name}:\n{result.stdout}{result.stderr}"
    )


def test_no_resource_depends_on_itself(deployed):
    path, doc, _ = deployed
    cycle = find_cycle(doc["Resources"])
    assert cycle is None, f"{path.name}: dependency cycle {' -> '.join(cycle)}"


def upload_code(s3):
    """The S3 object the transformed template's code URI points at: a tiny zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n")
    try:
        s3.create_bucket(Bucket=CODE_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    s3.put_object(Bucket=CODE_BUCKET, Key=CODE_KEY, Body=buf.getvalue())


# Tests parametrize `created` indirectly, so pytest may set it up more than once per deployment.
_CREATED = {}


@pytest.fixture(scope="module", params=list(DEPLOYMENTS))
def created(request, aws, moto_endpoint):
    """The stack moto's CloudFormation created from the transformed template in one mode:
    (deployment, transformed template, parameters, stack, {logical id: resource summary})."""
    if request.param not in _CREATED:
        _CREATED[request.param] = create(request.param, aws, moto_endpoint)
    return _CREATED[request.param]


def create(deployment, aws, moto_endpoint):
    file_name, parameters = DEPLOYMENTS[deployment]
    doc = as_deployed(cfn_yaml.load(str(ROOT / file_name)))
    assert set(parameters) <= set(doc.get("Parameters", {})), "a deployment names an unknown parameter"
    cycle = find_cycle(doc["Resources"])
    if cycle:
        pytest.fail(f"{file_name}: not created, dependency cycle {' -> '.join(cycle)}")
    upload_code(aws("s3"))
    cfn = boto3.client(
        "cloudformation", endpoint_url=moto_endpoint, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(read_timeout=CREATE_TIMEOUT_S, retries={"max_attempts": 1}),
    )
    name = f"deploy-{deployment}"
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(doc),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.time() + CREATE_TIMEOUT_S
    while True:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.time() > deadline:
            break
        time.sleep(0.5)
    if stack["StackStatus"] != "CREATE_COMPLETE":
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        lines = "\n".join(
            f"{e['LogicalResourceId']} {e['ResourceStatus']} {e.get('ResourceStatusReason', '')}"
            for e in events
        )
        pytest.fail(f"{deployment}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}\n{lines}")
    summaries = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    got = {s["LogicalResourceId"]: s for s in summaries if s["ResourceType"]}
    return deployment, doc, parameters, stack, got


def test_the_stack_is_created_with_every_resource_moto_models(created):
    deployment, doc, parameters, stack, got = created
    would_create = Stack(doc, parameters, ACCOUNT, REGION, stack["StackName"]).created()
    modeled = {r for r in would_create if resource_class_from_type(doc["Resources"][r]["Type"])}
    not_modeled = sorted({doc["Resources"][r]["Type"] for r in would_create - modeled})
    if not_modeled:  # shown in pytest's warnings summary: what this test did not create
        warnings.warn(f"{deployment}: moto's CloudFormation does not model {', '.join(not_modeled)}")

    # The home account's forwarder creates only its no-op placeholder, which moto skips.
    assert modeled or would_create == {"Placeholder"}, "moto created nothing: the test would prove nothing"
    missing = modeled - set(got)
    assert not missing, f"{deployment}: moto models but did not create {sorted(missing)}"
    assert all(got[r]["ResourceStatus"] == "CREATE_COMPLETE" for r in modeled)
    assert set(got) <= would_create, f"created resources whose condition is false: {set(got) - would_create}"


def output(stack, key):
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == key)


def function_arn(aws, got):
    return aws("lambda").get_function(
        FunctionName=got["RootwatchFunction"]["PhysicalResourceId"]
    )["Configuration"]["FunctionArn"]


def failed_events_queue_arn(aws, stack, key="FailedEventsQueueUrl"):
    return aws("sqs").get_queue_attributes(
        QueueUrl=output(stack, key), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]


@pytest.mark.parametrize("created", HOME, indirect=True)
def test_the_deployed_function_knows_its_topic_and_its_display_name(created, aws):
    """As created: the function's environment names the alert topic, and the display name it
    budgets the SMS for is the one SNS will prefix."""
    deployment, _, _, stack, got = created
    fn = aws("lambda").get_function_configuration(FunctionName=got["RootwatchFunction"]["PhysicalResourceId"])
    env = fn["Environment"]["Variables"]
    topic = output(stack, "AlertTopicArn")
    assert env["ALERT_TOPIC_ARN"] == topic
    attrs = aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert env["TOPIC_DISPLAY_NAME"] == attrs["DisplayName"] == "rootwatch"
    assert attrs["KmsMasterKeyId"]
    role = aws("iam").get_role(RoleName=got["RootwatchFunctionRole"]["PhysicalResourceId"])["Role"]
    assert fn["Role"] == role["Arn"]
    organization = deployment == "template-organization"
    assert env["ACCOUNT_NAMES_FROM_ORGANIZATIONS"] == ("true" if organization else "false")


@pytest.mark.parametrize("created", HOME, indirect=True)
def test_the_deployed_rules_keep_undeliverable_events(created, aws):
    deployment, _, _, stack, got = created
    events = aws("events")
    queue_arn = failed_events_queue_arn(aws, stack)
    rules = ["RootwatchFunctionRootSignIn", "RootwatchFunctionRootApiCall", "RootwatchWatchdogSchedule"]
    if deployment == "template-organization":
        rules += ["HomeBusRootSignIn", "HomeBusRootApiCall", "HomeBusForwarderFailing"]
    else:
        assert "HomeBus" not in got and "HomeBusRootSignIn" not in got
    for rule in rules:
        # A home-bus rule's physical id is "bus|rule" in CloudFormation (the rule's name in moto).
        name = got[rule]["PhysicalResourceId"].rpartition("|")[2]
        bus = output(stack, "HomeBusArn") if rule.startswith("HomeBus") else "default"
        (target,) = events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
        assert target["Arn"] == function_arn(aws, got)
        assert target["DeadLetterConfig"]["Arn"] == queue_arn


@pytest.mark.parametrize("created", ["forwarder-member"], indirect=True)
def test_a_member_forwarder_sends_root_events_to_the_home_bus_with_its_role(created, aws):
    _, _, _, stack, got = created
    events, iam = aws("events"), aws("iam")
    role_arn = iam.get_role(RoleName=got["ForwarderRole"]["PhysicalResourceId"])["Role"]["Arn"]
    queue_arn = failed_events_queue_arn(aws, stack, "FailedForwardsQueueUrl")
    assert role_arn.split(":")[5].startswith("role/rootwatch/"), "the home bus admits roles under /rootwatch/ only"
    for rule in ["ForwardRootSignIn", "ForwardRootApiCall", "ForwardFailing"]:
        (target,) = events.list_targets_by_rule(Rule=got[rule]["PhysicalResourceId"])["Targets"]
        assert target["Arn"] == MEMBER_HOME_BUS
        assert target["RoleArn"] == role_arn
        assert target["DeadLetterConfig"]["Arn"] == queue_arn
    assert output(stack, "Forwarding") == "true"


@pytest.mark.parametrize("created", ["forwarder-home"], indirect=True)
def test_the_home_accounts_forwarder_in_the_home_region_forwards_nothing(created):
    """There the home stack's default-bus rules see the events already: forwarding them too would
    alert twice."""
    _, _, _, stack, got = created
    assert not {"ForwarderRole", "ForwardRootSignIn", "ForwardRootApiCall", "ForwardFailing", "FailedForwardsQueue"} & set(got)
    assert output(stack, "Forwarding") == "false"


@pytest.mark.parametrize("created", HOME, indirect=True)
def test_the_deployed_role_may_keep_failed_events(created, aws):
    """With an explicit role SAM adds no on-failure permission; the policy must carry it, resolved
    to the real queue."""
    _, _, _, stack, got = created
    iam = aws("iam")
    role = got["RootwatchFunctionRole"]["PhysicalResourceId"]
    documents = [
        iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    ]
    statements = [
        st for d in documents for st in (json.loads(d) if isinstance(d, str) else d)["Statement"]
    ]
    queue_arn = failed_events_queue_arn(aws, stack)
    assert any(st["Action"] == "sqs:SendMessage" and st["Resource"] == queue_arn for st in statements), statements
