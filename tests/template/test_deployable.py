"""Every CloudFormation template in the repository, judged as deployed: the SAM transform run offline
(when the template has one), cfn-lint on what the transform produced, and a create_stack of it on
moto's CloudFormation that must reach CREATE_COMPLETE.

cfn-lint and `sam validate --lint` on the source template cannot see what SAM generates (the role
and its references were a dependency cycle only after the transform). moto creates only the resource
types it models and skips the others with a warning; the test lists those, so that what was not
created is known rather than assumed. Two types it does not model are referenced by what it does
(AWS::Events::Connection, AWS::Events::ApiDestination: the on-call rules target the destinations'
ARNs), so moto would refuse the whole stack; those are created through moto's EventBridge API by a
named stand-in for CloudFormation's handlers (cfn_standin.py) and checked there."""
import io
import itertools
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

import cfn_standin
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
# Both on-call tools (PagerDuty's key as a Secrets Manager secret, Opsgenie's as a NoEcho parameter),
# every severity, and Security Hub findings: every responder resource.
PAGERDUTY_KEY = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"
PAGERDUTY_SECRET = "rootwatch/pagerduty-routing-key"
OPSGENIE_KEY = "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f"
RESPONDERS = {"PagerDutyRoutingKeySecret": PAGERDUTY_SECRET, "OpsgenieApiKey": OPSGENIE_KEY,
              "OnCallMinimumSeverity": "LOW", "SecurityHubFindings": "true"}
DEPLOYMENTS = {
    "template-single-account": ("template.yaml", {**LISTS, **CHAT}),
    "template-responders": ("template.yaml", {**LISTS, **RESPONDERS}),
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
# {deployment: {logical id: ARN}} of what cfn_standin.py created on moto's EventBridge.
STOOD_IN = {}


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
    # The secret a deployment names exists before the stack, as the docs ask (docs/on-call.md).
    try:
        aws("secretsmanager").create_secret(Name=PAGERDUTY_SECRET, SecretString=PAGERDUTY_KEY)
    except aws("secretsmanager").exceptions.ResourceExistsException:
        pass
    cfn = boto3.client(
        "cloudformation", endpoint_url=moto_endpoint, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(read_timeout=CREATE_TIMEOUT_S, retries={"max_attempts": 1}),
    )
    name = f"deploy-{deployment}"
    body, STOOD_IN[deployment] = cfn_standin.create(
        doc, parameters, ACCOUNT, REGION, name, aws("events"), aws("secretsmanager"))
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
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
    stood_in = {r for r in would_create if doc["Resources"][r]["Type"] in cfn_standin.TYPES}
    assert set(STOOD_IN[deployment]) == stood_in, "the stand-in creates exactly what CloudFormation would"
    not_modeled = sorted({doc["Resources"][r]["Type"] for r in would_create - modeled - stood_in})
    if not_modeled:  # shown in pytest's warnings summary: what this test did not create
        warnings.warn(f"{deployment}: moto's CloudFormation does not model {', '.join(not_modeled)}")
    if stood_in:
        warnings.warn(f"{deployment}: created through the stand-in (cfn_standin.py): {', '.join(sorted(stood_in))}")

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
    # The alert bus, always: the function is told its name; the output gives its ARN.
    bus = aws("events").describe_event_bus(Name=env["ALERT_EVENT_BUS"])
    assert bus["Arn"] == output(stack, "AlertBusArn")
    assert env["SECURITY_HUB_FINDINGS"] == ("true" if deployment == "template-responders" else "false")


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


def alert_bus_rules(aws, stack, got):
    """{logical id: (rule name, its targets by Id)} of the on-call rules on the deployed alert bus."""
    events, bus = aws("events"), output(stack, "AlertBusArn")
    out = {}
    for logical_id in ["OnCallCritical", "OnCallHigh", "OnCallMedium", "OnCallLow"]:
        # A rule on a custom bus has "bus|rule" as its physical id in CloudFormation.
        name = got[logical_id]["PhysicalResourceId"].rpartition("|")[2]
        targets = events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]
        out[logical_id] = (name, {t["Id"]: t for t in targets})
    return out


@pytest.mark.parametrize("created", ["template-responders"], indirect=True)
def test_each_on_call_target_pages_through_its_destination_with_retries_and_a_dead_letter_queue(created, aws):
    """As created: every severity's rule sends to both tools' API destinations (made by the
    stand-in) as OnCallRole, retries for a day, keeps what it cannot deliver in OnCallFailedQueue,
    and carries the input transformer exactly as the template writes it."""
    deployment, doc, parameters, stack, got = created
    resolved = Stack(doc, parameters, ACCOUNT, REGION, stack["StackName"])
    role = aws("iam").get_role(RoleName=got["OnCallRole"]["PhysicalResourceId"])["Role"]["Arn"]
    queue = aws("sqs").get_queue_url(QueueName=got["OnCallFailedQueue"]["PhysicalResourceId"].rpartition("/")[2])
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue["QueueUrl"], AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    destinations = {"PagerDuty": STOOD_IN[deployment]["PagerDutyDestination"],
                    "Opsgenie": STOOD_IN[deployment]["OpsgenieDestination"]}
    for logical_id, (name, targets) in alert_bus_rules(aws, stack, got).items():
        assert set(targets) == {"PagerDuty", "Opsgenie"}, logical_id
        written = {t["Id"]: t for t in resolved.resolve(doc["Resources"][logical_id]["Properties"]["Targets"])}
        for tool, target in targets.items():
            assert target["Arn"] == destinations[tool]
            assert target["RoleArn"] == role
            # An hour, not the default day: a rejected key (401) is retried too (docs/on-call.md).
            assert target["RetryPolicy"] == {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 3600}
            assert target["DeadLetterConfig"] == {"Arn": queue_arn}
            assert target["InputTransformer"] == written[tool]["InputTransformer"], (logical_id, tool)


@pytest.mark.parametrize("created", ["template-responders"], indirect=True)
def test_the_keys_are_only_in_the_connections_secrets(created, aws, moto_endpoint):
    """PagerDuty's key (a Secrets Manager secret) and Opsgenie's (a NoEcho parameter) end in the
    secrets EventBridge keeps for the connections, and in no output, rule, target, destination,
    connection description or the function's environment."""
    deployment, _, _, stack, got = created
    events = aws("events")
    shown = [json.dumps(stack.get("Outputs", []))]
    shown += [json.dumps(targets, default=str) for _, targets in alert_bus_rules(aws, stack, got).values()]
    fn = aws("lambda").get_function_configuration(FunctionName=got["RootwatchFunction"]["PhysicalResourceId"])
    shown.append(json.dumps(fn["Environment"]))
    secrets = {}
    for logical_id, arn in STOOD_IN[deployment].items():
        name = arn.split("/")[1]
        if logical_id.endswith("Connection"):
            connection = events.describe_connection(Name=name)
            # moto's DescribeConnection echoes a secret body parameter's Value (PagerDuty's
            # routing_key); AWS's response syntax has the field too, and whether it fills it for a
            # secret value cannot be checked offline (EventBridge API Reference, DescribeConnection).
            # So that one field is left out here, and moto's echo pinned. The API key header's value
            # is not in the answer (ApiKeyName only, as AWS's response syntax).
            body = connection["AuthParameters"].pop("InvocationHttpParameters", None)
            if body:
                assert body["BodyParameters"][0]["Value"] == PAGERDUTY_KEY
            shown.append(json.dumps(connection, default=str))
            secrets[logical_id] = aws("secretsmanager").get_secret_value(SecretId=connection["SecretArn"])["SecretString"]
        else:
            shown.append(json.dumps(events.describe_api_destination(Name=name), default=str))
    for key in [PAGERDUTY_KEY, OPSGENIE_KEY]:
        assert not [text for text in shown if key in text], f"a key is shown: {key[:4]}..."
    assert PAGERDUTY_KEY in secrets["PagerDutyConnection"] and OPSGENIE_KEY in secrets["OpsgenieConnection"]


KEY_CONNECTIONS = {"PagerDutyRoutingKey": "PagerDutyConnection", "OpsgenieApiKey": "OpsgenieConnection"}
KEY_PREFIX = {"PagerDutyRoutingKey": "", "OpsgenieApiKey": "GenieKey "}


def test_a_new_secret_version_is_a_change_to_the_connection_and_reads_the_new_key(aws):
    """CloudFormation reads a dynamic reference only when the resource holding it changes (User
    Guide, "Get a secret or secret value from Secrets Manager"). Rotating through
    PagerDutyRoutingKeySecretVersion changes both connections' properties, and each version's
    reference reads that version's key from Secrets Manager (moto's), as CloudFormation would."""
    secrets = aws("secretsmanager")
    name = "rootwatch/rotated-keys"
    old_key, new_key = "0LDKEY0LDKEY0LDKEY0LDKEY0LDKEY12", "N3WKEYN3WKEYN3WKEYN3WKEYN3WKEY12"
    created = secrets.create_secret(Name=name, SecretString=old_key)
    first, arn = created["VersionId"], created["ARN"]
    second = secrets.put_secret_value(SecretId=name, SecretString=new_key)["VersionId"]
    doc = as_deployed(cfn_yaml.load(str(ROOT / "template.yaml")))

    def connection(tool, **parameters):
        stack = Stack(doc, {**LISTS, **parameters}, ACCOUNT, REGION, "rotation")
        return stack.resolve(doc["Resources"][KEY_CONNECTIONS[tool]]["Properties"])

    def body_key(connection):
        (body,) = connection["AuthParameters"]["InvocationHttpParameters"]["BodyParameters"]
        return cfn_standin.resolve_secrets(body["Value"], secrets)

    # The secret by name, and by its ARN (which the parameter's pattern must accept, and whose own
    # colons the reference must not split).
    for tool, secret_id in itertools.product(KEY_CONNECTIONS, (name, arn)):
        before = connection(tool, **{f"{tool}Secret": secret_id, f"{tool}SecretVersion": first})
        after = connection(tool, **{f"{tool}Secret": secret_id, f"{tool}SecretVersion": second})
        unpinned = connection(tool, **{f"{tool}Secret": secret_id})
        assert before != after, f"{tool}: a new version must change its connection, or no update reads it"
        header = [c["AuthParameters"]["ApiKeyAuthParameters"]["ApiKeyValue"] for c in (before, after, unpinned)]
        assert [cfn_standin.resolve_secrets(h, secrets) for h in header] == [
            f"{prefix}{key}" for prefix, key in zip([KEY_PREFIX[tool]] * 3, [old_key, new_key, new_key])]
        if tool == "PagerDutyRoutingKey":
            assert [body_key(c) for c in (before, after, unpinned)] == [old_key, new_key, new_key]


@pytest.mark.parametrize("region, endpoint", [
    ("US", "https://events.pagerduty.com/v2/enqueue"), ("EU", "https://events.eu.pagerduty.com/v2/enqueue")])
def test_pagerduty_is_called_in_its_service_region(region, endpoint):
    """PagerDuty "Service Regions": an EU account's API addresses are its own."""
    doc = as_deployed(cfn_yaml.load(str(ROOT / "template.yaml")))
    stack = Stack(doc, {**LISTS, "PagerDutyRoutingKey": PAGERDUTY_KEY, "PagerDutyRegion": region},
                  ACCOUNT, REGION, "regions")
    assert stack.resolve(doc["Resources"]["PagerDutyDestination"]["Properties"]["InvocationEndpoint"]) == endpoint
