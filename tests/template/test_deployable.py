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

# One of each list and both chat channels, so that each kind of conditional resource is created once.
PARAMETERS = {
    "AlertEmails": "secops@example.com",
    "AlertPhoneNumbers": "+15555550100",
    "SlackWorkspaceId": "T0123ABCDEF",
    "SlackChannelId": "C0123ABCDEF",
    "TeamsTenantId": "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f",
    "TeamsTeamId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "TeamsChannelId": "19%3a0123456789abcdef0123456789abcdef%40thread.tacv2",
}

# moto answers create_stack in one request; a template it cannot finish must fail the test, not hang
# it (the cycle check below runs first; this is the second guard).
CREATE_TIMEOUT_S = 120


def test_every_template_is_found():
    assert ROOT / "template.yaml" in TEMPLATES


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


def parameters_for(doc):
    return [
        {"ParameterKey": key, "ParameterValue": value}
        for key, value in PARAMETERS.items() if key in doc.get("Parameters", {})
    ]


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


@pytest.fixture(scope="module")
def created(deployed, aws, moto_endpoint):
    """The stack moto's CloudFormation created from the transformed template."""
    path, doc, _ = deployed
    cycle = find_cycle(doc["Resources"])
    if cycle:
        pytest.fail(f"{path.name}: not created, dependency cycle {' -> '.join(cycle)}")
    upload_code(aws("s3"))
    cfn = boto3.client(
        "cloudformation", endpoint_url=moto_endpoint, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(read_timeout=CREATE_TIMEOUT_S, retries={"max_attempts": 1}),
    )
    name = f"deploy-{path.stem}"
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(doc),
        Parameters=parameters_for(doc),
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
        pytest.fail(f"{path.name}: {stack['StackStatus']} {stack.get('StackStatusReason', '')}\n{lines}")
    summaries = cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
    return path, doc, stack, {s["LogicalResourceId"]: s for s in summaries if s["ResourceType"]}


def test_the_stack_is_created_with_every_resource_moto_models(created):
    path, doc, stack, got = created
    would_create = Stack(doc, PARAMETERS, ACCOUNT, REGION, stack["StackName"]).created()
    modeled = {r for r in would_create if resource_class_from_type(doc["Resources"][r]["Type"])}
    not_modeled = sorted({doc["Resources"][r]["Type"] for r in would_create - modeled})
    if not_modeled:  # shown in pytest's warnings summary: what this test did not create
        warnings.warn(f"{path.name}: moto's CloudFormation does not model {', '.join(not_modeled)}")

    assert modeled, "moto created nothing: the test would prove nothing"
    missing = modeled - set(got)
    assert not missing, f"{path.name}: moto models but did not create {sorted(missing)}"
    assert all(got[r]["ResourceStatus"] == "CREATE_COMPLETE" for r in modeled)
    assert set(got) <= would_create, f"created resources whose condition is false: {set(got) - would_create}"


def only_rootwatch(created):
    if created[0].name != "template.yaml":
        pytest.skip("rootwatch's own wiring")
    return created


def output(stack, key):
    return next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == key)


def test_the_deployed_function_knows_its_topic_and_its_display_name(created, aws):
    """As created: the function's environment names the alert topic, and the display name it
    budgets the SMS for is the one SNS will prefix."""
    _, _, stack, got = only_rootwatch(created)
    fn = aws("lambda").get_function_configuration(FunctionName=got["RootwatchFunction"]["PhysicalResourceId"])
    env = fn["Environment"]["Variables"]
    topic = output(stack, "AlertTopicArn")
    assert env["ALERT_TOPIC_ARN"] == topic
    attrs = aws("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert env["TOPIC_DISPLAY_NAME"] == attrs["DisplayName"] == "rootwatch"
    assert attrs["KmsMasterKeyId"]
    role = aws("iam").get_role(RoleName=got["RootwatchFunctionRole"]["PhysicalResourceId"])["Role"]
    assert fn["Role"] == role["Arn"]


def test_the_deployed_rules_keep_undeliverable_events(created, aws):
    _, _, stack, got = only_rootwatch(created)
    sqs, events = aws("sqs"), aws("events")
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=output(stack, "FailedEventsQueueUrl"), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    function_arn = aws("lambda").get_function(
        FunctionName=got["RootwatchFunction"]["PhysicalResourceId"]
    )["Configuration"]["FunctionArn"]
    for rule in ["RootwatchFunctionRootSignIn", "RootwatchFunctionRootApiCall", "RootwatchWatchdogSchedule"]:
        (target,) = events.list_targets_by_rule(Rule=got[rule]["PhysicalResourceId"])["Targets"]
        assert target["Arn"] == function_arn
        assert target["DeadLetterConfig"]["Arn"] == queue_arn


def test_the_deployed_role_may_keep_failed_events(created, aws):
    """With an explicit role SAM adds no on-failure permission; the policy must carry it, resolved
    to the real queue."""
    _, _, stack, got = only_rootwatch(created)
    iam = aws("iam")
    role = got["RootwatchFunctionRole"]["PhysicalResourceId"]
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    queue_arn = aws("sqs").get_queue_attributes(
        QueueUrl=output(stack, "FailedEventsQueueUrl"), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    assert any(
        st["Action"] == "sqs:SendMessage" and st["Resource"] == queue_arn
        for st in document["Statement"]
    ), document
