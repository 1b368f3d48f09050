"""Organization mode: a member account's root events travel from its own default bus, through
forwarder.yaml's rules, to the home stack's bus and its rules (one hop, as EventBridge allows), in
another region; a non-root call does not. The routing runs on moto's EventBridge with the forwarder
created by moto's CloudFormation in the member account, and the home-bus rules made from
template.yaml's patterns with a queue standing in for the function. The policies on the way are
evaluated as IAM would (iam_policy.py), since moto does not enforce bus policies or target roles.

The last test hands what reached the home bus rules to the real function binary (through a local
Lambda Runtime API) and reads the alerts from moto's SNS: they name the member account from moto's
Organizations and the region where root acted."""
import json
import os
import re
import subprocess
import urllib.request

import boto3
import pytest
from cfnlint.decode import cfn_yaml
from parliament import analyze_policy_string, iam_definition

from conftest import ACCOUNT, ROOT, as_deployed, clients_for, load_samples, start_moto
from lambda_runtime_api import RuntimeApi, build_function
from iam_policy import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, Request, decide, service, session, user
from intrinsics import Stack

HOME_ACCOUNT, HOME_REGION = ACCOUNT, "us-east-1"
MEMBER_ACCOUNT, MEMBER_REGION = "210987654321", "eu-west-1"
ORGANIZATION = "o-a1b2c3d4e5"
HOME_BUS_NAME = "rootwatch-root-events"
HOME_BUS = f"arn:aws:events:{HOME_REGION}:{HOME_ACCOUNT}:event-bus/{HOME_BUS_NAME}"


# A moto server of this module's own: its organization and SNS record hold only what these tests
# made (moto's /moto-api/data.json also fails to serialise some other modules' resources).
@pytest.fixture(scope="module")
def moto_endpoint():
    yield from start_moto()


@pytest.fixture(scope="module")
def aws(moto_endpoint):
    return clients_for(moto_endpoint)


@pytest.fixture(scope="module")
def forwarder():
    return cfn_yaml.load(str(ROOT / "forwarder.yaml"))


CLOUDTRAIL = {"AWS Console Sign In via CloudTrail", "AWS API Call via CloudTrail"}
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"


def rules_of(doc, on_home_bus=None, detail_types=CLOUDTRAIL):
    """{detail-type: (pattern, state)} of a template's pattern rules for those detail-types;
    on_home_bus picks the home stack's rules on its own bus (True) or on the default bus (False)."""
    found = {}
    for r in doc["Resources"].values():
        props = r.get("Properties", {})
        if r["Type"] != "AWS::Events::Rule" or "EventPattern" not in props:
            continue
        if on_home_bus is not None and ("EventBusName" in props) != on_home_bus:
            continue
        detail_type = props["EventPattern"]["detail-type"][0]
        if detail_type in detail_types:
            found[detail_type] = (props["EventPattern"], props["State"])
    return found


def test_every_hop_uses_the_same_patterns_and_read_only_opt_in(template, forwarder):
    """A pattern changed in one place only would silently drop events on one path, or let forged
    ones through on one path: every CloudTrail pattern, source included, is the same on the
    default bus, the home bus and the forwarder, and each admits AWS's sources only."""
    default_bus = rules_of(template, on_home_bus=False)
    assert set(default_bus) == CLOUDTRAIL
    assert rules_of(template, on_home_bus=True) == default_bus
    assert rules_of(forwarder) == default_bus
    for pattern, _ in default_bus.values():
        assert pattern["source"] in (["aws.signin"], [{"prefix": "aws."}]), pattern


@pytest.mark.parametrize(
    "account,region,forwards",
    [
        (MEMBER_ACCOUNT, MEMBER_REGION, True),
        (MEMBER_ACCOUNT, HOME_REGION, True),
        (HOME_ACCOUNT, MEMBER_REGION, True),   # the home account's other regions
        (HOME_ACCOUNT, HOME_REGION, False),    # the home stack's default-bus rules see these
    ],
)
def test_the_forwarder_forwards_everywhere_but_the_home_accounts_home_region(forwarder, account, region, forwards):
    stack = Stack(forwarder, {"HomeBusArn": HOME_BUS}, account, region, "rootwatch-forwarder")
    created = stack.created()
    assert ({"ForwardRootSignIn", "ForwardRootApiCall", "ForwarderRole"} <= created) == forwards
    assert "Placeholder" in created, "a stack needs one resource even where it forwards nothing"


# --- the policies on the way, evaluated as IAM would -----------------------------------------------


@pytest.fixture(scope="module")
def member_forwarder(forwarder):
    return Stack(as_deployed(forwarder), {"HomeBusArn": HOME_BUS}, MEMBER_ACCOUNT, MEMBER_REGION, "rootwatch-forwarder")


@pytest.fixture(scope="module")
def home(template):
    parameters = {"OrganizationId": ORGANIZATION, "SourceAccountIds": "444455556666"}
    return Stack(as_deployed(template), parameters, HOME_ACCOUNT, HOME_REGION, "rootwatch")


def bus_policy(home):
    """The home bus's policy, with the statements of the mode the stack was given."""
    return home.resolve(home.resources["HomeBus"]["Properties"]["Policy"])


def forwarder_session(stack, account=MEMBER_ACCOUNT):
    role_arn = stack.get_att("ForwarderRole", "Arn").replace(MEMBER_ACCOUNT, account)
    return session(role_arn, "events"), role_arn


def forwarder_identity(member_forwarder):
    return [member_forwarder.resolve(
        member_forwarder.resources["ForwarderRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    )]


def put_on_home_bus(policy, caller, identity, org_id=None, bus_arn=HOME_BUS):
    """IAM's decision on PutEvents to the home bus. The request context carries the caller's
    aws:PrincipalArn (for a session, its role's ARN with the role's path) and, in an
    organization, aws:PrincipalOrgID. Across accounts both the sender's policy and the bus policy
    must allow."""
    context = {"aws:PrincipalArn": caller.role_arn or caller.arn, "aws:PrincipalAccount": caller.account}
    if org_id:
        context["aws:PrincipalOrgID"] = org_id
    return decide(Request(caller, "events:PutEvents", bus_arn, context), identity, policy)[0]


def test_the_home_bus_admits_forwarders_of_the_organization_and_the_listed_accounts(home, member_forwarder):
    policy = bus_policy(home)
    bus = home.get_att("HomeBus", "Arn")
    assert bus == HOME_BUS
    assert bus.endswith(f"event-bus/{home.name}-root-events")
    caller, role_arn = forwarder_session(member_forwarder)
    assert f":role/rootwatch/{member_forwarder.name}-ForwarderRole-" in role_arn
    identity = forwarder_identity(member_forwarder)

    assert put_on_home_bus(policy, caller, identity, ORGANIZATION) == ALLOWED
    assert put_on_home_bus(policy, caller, identity, "o-0ther0rg00") == IMPLICIT_DENY
    assert put_on_home_bus(policy, caller, identity) == IMPLICIT_DENY, "a sender outside any organization"
    # A listed account is delegated the permission: its forwarder's own policy must allow too.
    listed = session("arn:aws:iam::444455556666:role/rootwatch/fwd", "events")
    assert put_on_home_bus(policy, listed, identity) == ALLOWED
    assert put_on_home_bus(policy, listed, []) == IMPLICIT_DENY
    unlisted = session("arn:aws:iam::777788889999:role/rootwatch/fwd", "events")
    assert put_on_home_bus(policy, unlisted, identity) == IMPLICIT_DENY
    # The forwarder's role may put on the home bus and on nothing else.
    other_bus = HOME_BUS.replace(HOME_BUS_NAME, "default")
    everywhere = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
    context = {"aws:PrincipalOrgID": ORGANIZATION, "aws:PrincipalAccount": MEMBER_ACCOUNT}
    assert decide(Request(caller, "events:PutEvents", other_bus, context), identity, everywhere)[0] == IMPLICIT_DENY
    assert decide(Request(caller, "events:PutRule", HOME_BUS, context), identity, everywhere)[0] == IMPLICIT_DENY


EVERYTHING = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]


@pytest.mark.parametrize(
    "principal",
    [
        session(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/Admin", "alice"),
        session(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/team/rootwatch/Deployer", "ci"),
        session(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/rootwatchx/Deployer", "ci"),
        user(MEMBER_ACCOUNT, "alice"),
    ],
    ids=["role", "role-deeper-path", "role-lookalike-path", "user"],
)
def test_no_member_principal_but_a_forwarder_role_may_put_on_the_home_bus(home, principal):
    """A member account's own principals, even allowed everything by their own policies, cannot
    put events on the home bus directly: the bus admits roles under /rootwatch/ only, which is
    where forwarder.yaml puts its role - and any role there (the limit, pinned below). (What such a
    principal could put would also match no rule: its source could not begin "aws.",
    test_forged_root_events_reach_no_home_bus_rule_by_either_way.)"""
    policy = bus_policy(home)
    assert put_on_home_bus(policy, principal, EVERYTHING, ORGANIZATION) == IMPLICIT_DENY
    listed = session(principal.role_arn.replace(MEMBER_ACCOUNT, "444455556666"), "x") if principal.role_arn \
        else user("444455556666", "alice")
    assert put_on_home_bus(policy, listed, EVERYTHING) == IMPLICIT_DENY
    forwarder = session(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/rootwatch/rootwatch-forwarder-ForwarderRole-X", "events")
    assert put_on_home_bus(policy, forwarder, EVERYTHING, ORGANIZATION) == ALLOWED


def test_an_organization_alone_gives_one_statement(template):
    """The mode's statements only: AWS::NoValue removes the other from the bus policy."""
    stack = Stack(as_deployed(template), {"OrganizationId": ORGANIZATION}, HOME_ACCOUNT, HOME_REGION, "rootwatch")
    policy = bus_policy(stack)
    assert [st["Sid"] for st in policy["Statement"]] == ["OrganizationForwardsRootEvents"]


def test_only_this_accounts_eventbridge_may_assume_the_forwarder_role(member_forwarder):
    trust = member_forwarder.resolve(
        member_forwarder.resources["ForwarderRole"]["Properties"]["AssumeRolePolicyDocument"]
    )
    role_arn = member_forwarder.get_att("ForwarderRole", "Arn")
    events = service("events.amazonaws.com")
    assume = lambda account: decide(
        Request(events, "sts:AssumeRole", role_arn, {"aws:SourceAccount": account}), [], trust
    )[0]
    assert assume(MEMBER_ACCOUNT) == ALLOWED
    assert assume("999988887777") == IMPLICIT_DENY


def test_the_function_may_name_accounts_of_its_organization_only(home):
    (policy,) = [
        home.resolve(r["Properties"]["PolicyDocument"]) for name, r in home.resources.items()
        if name == "RootwatchOrganizationsPolicy"
    ]
    fn = session(home.get_att("RootwatchFunctionRole", "Arn"), "rootwatch")
    account = lambda org: f"arn:aws:organizations::999900001111:account/{org}/{MEMBER_ACCOUNT}"
    assert decide(Request(fn, "organizations:DescribeAccount", account(ORGANIZATION)), [policy])[0] == ALLOWED
    assert decide(Request(fn, "organizations:DescribeAccount", account("o-0ther0rg00")), [policy])[0] == IMPLICIT_DENY
    # Listing the accounts is RootwatchAccountsPolicy's, only where the audit or coverage reads them.
    assert decide(Request(fn, "organizations:ListAccounts", "*"), [policy])[0] == IMPLICIT_DENY


def test_only_the_forwarder_rules_may_send_dead_letters(member_forwarder):
    (policy,) = [
        member_forwarder.resolve(r["Properties"]["PolicyDocument"])
        for r in member_forwarder.resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"
    ]
    queue = member_forwarder.get_att("FailedForwardsQueue", "Arn")
    events = service("events.amazonaws.com")
    send = lambda rule: decide(Request(events, "sqs:SendMessage", queue, {
        "aws:SourceArn": member_forwarder.get_att(rule, "Arn"), "aws:SecureTransport": "true",
    }), [], policy)[0]
    assert send("ForwardRootSignIn") == ALLOWED
    assert send("ForwardRootApiCall") == ALLOWED
    assert send("Heartbeat") == IMPLICIT_DENY, "a heartbeat has no dead-letter queue"
    stranger = decide(Request(events, "sqs:SendMessage", queue, {
        "aws:SourceArn": f"arn:aws:events:{MEMBER_REGION}:{MEMBER_ACCOUNT}:rule/other", "aws:SecureTransport": "true",
    }), [], policy)[0]
    assert stranger == IMPLICIT_DENY
    assert decide(Request(events, "sqs:SendMessage", queue, {
        "aws:SourceArn": member_forwarder.get_att("ForwardRootSignIn", "Arn"), "aws:SecureTransport": "false",
    }), [], policy)[0] == EXPLICIT_DENY


# --- coverage heartbeats -------------------------------------------------------------------------

# The function's test of a heartbeat's rule (src/coverage/heartbeat.rs), anchored.
HEARTBEAT_RULE = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):events:([a-z0-9-]+):(\d{12}):rule/rootwatch-heartbeat-[0-9a-f]{8}$"
)


@pytest.mark.parametrize("stack_id", [
    "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "ffffffff-0000-4000-8000-000000000000", "12345678-aaaa-bbbb-cccc-dddddddddddd",
])
def test_the_heartbeat_rule_is_named_as_the_function_requires(forwarder, stack_id, monkeypatch):
    """Whatever the stack's id, the forwarder's heartbeat rule has a name the function takes, in the
    member's own account and region."""
    stack = Stack(as_deployed(forwarder), {"HomeBusArn": HOME_BUS}, MEMBER_ACCOUNT, MEMBER_REGION, "rootwatch-forwarder")
    real = stack.pseudo
    monkeypatch.setattr(stack, "pseudo", lambda name: (
        f"arn:aws:cloudformation:{MEMBER_REGION}:{MEMBER_ACCOUNT}:stack/rootwatch-forwarder/{stack_id}"
        if name == "AWS::StackId" else real(name)))
    name = stack.resolve(stack.resources["Heartbeat"]["Properties"]["Name"])
    arn = f"arn:aws:events:{MEMBER_REGION}:{MEMBER_ACCOUNT}:rule/{name}"
    match = HEARTBEAT_RULE.match(arn)
    assert match and match.group(2, 3) == (MEMBER_REGION, MEMBER_ACCOUNT), arn
    assert name == f"rootwatch-heartbeat-{stack_id.split('-')[0]}"


def test_the_heartbeat_takes_the_root_events_path_hourly_without_a_dead_letter_queue(forwarder):
    """Same target, same role as the root rules: whatever stops them stops the heartbeat. No DLQ:
    the failed-forwards queue holds root events nobody was alerted to."""
    rule = forwarder["Resources"]["Heartbeat"]
    assert rule["Condition"] == "Forwards"
    props = rule["Properties"]
    assert props["ScheduleExpression"] == "rate(1 hour)"
    (target,) = props["Targets"]
    root = forwarder["Resources"]["ForwardRootApiCall"]["Properties"]["Targets"][0]
    assert (target["Arn"], target["RoleArn"]) == (root["Arn"], root["RoleArn"])
    assert "DeadLetterConfig" not in target
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 24}


def test_the_home_heartbeat_rule_routes_heartbeats_and_no_tick(moto_endpoint, template):
    """HomeBusHeartbeat's pattern, on moto's EventBridge: an event shaped as a heartbeat reaches
    its target; the home stack's own ticks, and a heartbeat from another source, do not."""
    home = as_account(moto_endpoint, HOME_ACCOUNT, HOME_REGION)
    events, sqs = home("events"), home("sqs")
    bus = "heartbeat-test-bus"
    events.create_event_bus(Name=bus)
    url = sqs.create_queue(QueueName="heartbeat-rule")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = template["Resources"]["HomeBusHeartbeat"]
    assert rule["Condition"] == "HasCoverage"
    assert "DeadLetterConfig" not in rule["Properties"]["Targets"][0]
    events.put_rule(Name="heartbeat", EventBusName=bus, EventPattern=json.dumps(rule["Properties"]["EventPattern"]))
    events.put_targets(Rule="heartbeat", EventBusName=bus, Targets=[{"Id": "function", "Arn": queue}])
    beat = f"arn:aws:events:{MEMBER_REGION}:{MEMBER_ACCOUNT}:rule/rootwatch-heartbeat-0a1b2c3d"
    for source, resource in [
        ("aws.events", beat),
        ("aws.events", f"arn:aws:events:{HOME_REGION}:{HOME_ACCOUNT}:rule/rootwatch-RootwatchWatchdogSchedule-AB12"),
        ("aws.events", f"arn:aws:events:{HOME_REGION}:{HOME_ACCOUNT}:rule/rootwatch-checks-0a1b2c3d"),
        ("com.example", beat),
    ]:
        entry = {"Source": source, "DetailType": "Scheduled Event", "Detail": "{}", "Resources": [resource],
                 "EventBusName": bus}
        assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    arrived = [json.loads(m["Body"]) for m in got]
    assert [(e["source"], e["resources"]) for e in arrived] == [("aws.events", [beat])], arrived


def test_limit_moto_sends_every_event_to_a_schedule_rule(moto_endpoint):
    """Where moto differs from AWS: a rule with a ScheduleExpression and no EventPattern receives
    every event put on its bus in moto; on AWS it matches none. The routing test removes the
    forwarder's heartbeat rule's target for this reason; if moto follows AWS one day, this fails
    and the removal can go."""
    member = as_account(moto_endpoint, "333344445555", MEMBER_REGION)
    events, sqs = member("events"), member("sqs")
    url = sqs.create_queue(QueueName="schedule-rule")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
    events.put_targets(Rule="hourly", Targets=[{"Id": "q", "Arn": queue}])
    events.put_events(Entries=[{"Source": "com.example", "DetailType": "Anything", "Detail": "{}"}])
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(got) == 1, "moto now follows AWS: keep the heartbeat's target in routed()"


# --- routing on moto's EventBridge, across accounts and regions ------------------------------------


def as_account(moto_endpoint, account, region):
    """Clients acting as another account: moto maps the credentials of an assumed role to the
    role's account."""
    sts = boto3.client("sts", endpoint_url=moto_endpoint, region_name=region,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/deployer", RoleSessionName="rootwatch-test")["Credentials"]

    def client(name):
        return boto3.client(
            name, endpoint_url=moto_endpoint, region_name=region,
            aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    return client


MEMBER_NAME = "member-payments"


@pytest.fixture(scope="module")
def org_member(aws):
    """A member account created in moto's Organizations, from the management account (moto's
    default account, which is also the home account here)."""
    org = aws("organizations")
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email="payments@example.com", AccountName=MEMBER_NAME)["CreateAccountStatus"]
    return org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]


def member_event(sample, account):
    """A sample as recorded in the member account and region."""
    event = json.loads(json.dumps(sample).replace("111122223333", account))
    event["detail"]["awsRegion"] = MEMBER_REGION
    event["region"] = MEMBER_REGION
    return event


ROUTED_SAMPLES = {
    "root-console-sign-in-without-mfa": True,
    "root-access-key-created": True,
    "root-read-only-call-with-long-term-key": True,
    "assumed-role-api-call": False,
    "iam-user-console-sign-in": False,
    "root-call-invoked-by-aws-service": False,
}


FORGED_SOURCE = "com.example.forged"


def forgeries(samples, account):
    """Root records of both CloudTrail detail-types in envelopes with a source any caller may
    choose, each with an event id of its own."""
    found = []
    for index, name in enumerate(["root-console-sign-in-without-mfa", "root-access-key-created"]):
        event = member_event(samples[name], account)
        event["detail"]["eventID"] = f"f0f0f0f0-0000-4000-8000-00000000000{index}"
        found.append({"Source": FORGED_SOURCE, "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])})
    return found


FORWARDER_STACK = "rootwatch-forwarder"


def alarm_state_change(account, alarm_name, state, source="aws.cloudwatch"):
    """A CloudWatch alarm's state change as CloudWatch puts it on the account's default bus
    (CloudWatch User Guide, "Alarm events and EventBridge"), as PutEvents entry fields."""
    arn = f"arn:aws:cloudwatch:{MEMBER_REGION}:{account}:alarm:{alarm_name}"
    detail = {
        "alarmName": alarm_name,
        "state": {"value": state, "reason": "Threshold Crossed", "timestamp": "2026-11-21T03:20:18.000+0000"},
        "previousState": {"value": "OK" if state == "ALARM" else "ALARM", "reason": "", "timestamp": "2026-11-21T03:10:18.000+0000"},
        "configuration": {"metrics": [{"id": "m1", "metricStat": {"metric": {
            "namespace": "AWS/SQS", "name": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": "rootwatch-forwarder-FailedForwardsQueue-X"}}, "period": 60, "stat": "Maximum"}}]},
    }
    return {"Source": source, "DetailType": ALARM_STATE_CHANGE, "Resources": [arn], "Detail": json.dumps(detail)}


# The forwarder's own alarm, as forwarder.yaml names it, and what else a member account could emit.
FORWARDER_ALARM = f"rootwatch-forwarder-failing-{FORWARDER_STACK}"
ALARM_EVENTS = {
    "forwarder-alarm": (FORWARDER_ALARM, "ALARM", "aws.cloudwatch"),
    "forwarder-ok": (FORWARDER_ALARM, "OK", "aws.cloudwatch"),
    "another-alarm-same-prefix": ("rootwatch-forwarder-failing-someone-else", "ALARM", "aws.cloudwatch"),
    "forged": (FORWARDER_ALARM, "ALARM", FORGED_SOURCE),
}


@pytest.fixture(scope="module")
def routed(moto_endpoint, template, forwarder, org_member):
    """Member events put on the member's default bus, forged root events put both there and
    straight on the home bus, and alarm state changes put on the member's default bus; returns
    (sent {sample: event}, arrived [event bodies on the home-bus rules' queue])."""
    home = as_account(moto_endpoint, HOME_ACCOUNT, HOME_REGION)
    member = as_account(moto_endpoint, org_member, MEMBER_REGION)

    # Home: the bus and its rules, each with a queue standing in for the function.
    events, sqs = home("events"), home("sqs")
    bus = events.create_event_bus(Name=HOME_BUS_NAME)["EventBusArn"]
    assert bus == HOME_BUS
    url = sqs.create_queue(QueueName="home-bus-rules")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for detail_type, (pattern, _) in rules_of(template, True, CLOUDTRAIL | {ALARM_STATE_CHANGE}).items():
        name = detail_type.replace(" ", "-")
        events.put_rule(Name=name, EventBusName=HOME_BUS_NAME, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=name, EventBusName=HOME_BUS_NAME, Targets=[{"Id": "function", "Arn": queue}])

    # Member: forwarder.yaml as CloudFormation creates it there.
    cfn = member("cloudformation")
    cfn.create_stack(
        StackName=FORWARDER_STACK, TemplateBody=json.dumps(as_deployed(forwarder)),
        Parameters=[{"ParameterKey": "HomeBusArn", "ParameterValue": HOME_BUS}], Capabilities=["CAPABILITY_IAM"],
    )
    stack = cfn.describe_stacks(StackName=FORWARDER_STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    member_rules = member("events").list_rules()["Rules"]
    assert len(member_rules) == 4, member_rules
    (heartbeat,) = [r for r in member_rules if r.get("ScheduleExpression")]
    assert HEARTBEAT_RULE.match(heartbeat["Arn"]), heartbeat
    assert heartbeat["ScheduleExpression"] == "rate(1 hour)"
    # moto differs from AWS here: it sends every event put on the bus to a schedule rule, which on
    # AWS matches no event (it only fires on its schedule); pinned in
    # test_limit_moto_sends_every_event_to_a_schedule_rule. Its target is removed, so that what arrives home is
    # what the pattern rules forward (moto sends events to a disabled rule too: it is removed).
    member("events").remove_targets(Rule=heartbeat["Name"], Ids=["RootwatchHomeBus"])

    samples = load_samples("events")
    sent = {name: member_event(samples[name], org_member) for name in ROUTED_SAMPLES}
    for name, event in sent.items():
        result = member("events").put_events(Entries=[{
            "Source": event["source"], "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
        }])
        assert result["FailedEntryCount"] == 0, (name, result)
    for entry in forgeries(samples, org_member):
        assert member("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
        direct = {**entry, "EventBusName": HOME_BUS_NAME}
        assert events.put_events(Entries=[direct])["FailedEntryCount"] == 0
    for alarm_name, state, source in ALARM_EVENTS.values():
        entry = alarm_state_change(org_member, alarm_name, state, source)
        assert member("events").put_events(Entries=[entry])["FailedEntryCount"] == 0

    arrived = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        for m in got:
            arrived.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return sent, arrived


def test_forged_root_events_reach_no_home_bus_rule_by_either_way(routed):
    """Forged root records, put on a member's default bus (the forwarder's way) and straight on the
    home bus, reach no rule: the forwarder does not forward them and the home bus rules do not
    match them. (The test below would also see them, as unexpected event ids.)"""
    _, arrived = routed
    assert arrived, "the routing delivered nothing at all: this test would prove nothing"
    assert [body for body in arrived if body["source"] == FORGED_SOURCE] == []


def cloudtrail(arrived):
    return [body for body in arrived if body["detail-type"] in CLOUDTRAIL]


def test_member_root_events_reach_the_home_bus_rules_once_and_others_do_not(routed):
    sent, arrived = routed
    by_event_id = {}
    for body in cloudtrail(arrived):
        by_event_id.setdefault(body["detail"]["eventID"], []).append(body)
    expected = {sent[name]["detail"]["eventID"] for name, alerts in ROUTED_SAMPLES.items() if alerts}
    assert set(by_event_id) == expected
    assert all(len(bodies) == 1 for bodies in by_event_id.values()), "each event reaches one rule once"


def test_the_forwarded_record_still_names_the_member_account_and_region(routed, org_member):
    """What the function reads: the CloudTrail record is carried unchanged. (moto re-puts a
    forwarded event, so its envelope names the home account and region; AWS keeps the source's.
    The function reads account and region from the record first, so either way the alert names the
    member.)"""
    sent, arrived = routed
    for body in cloudtrail(arrived):
        (original,) = [e for e in sent.values() if e["detail"]["eventID"] == body["detail"]["eventID"]]
        assert body["detail"] == original["detail"]
        assert body["detail"]["recipientAccountId"] == org_member
        assert body["detail"]["awsRegion"] == MEMBER_REGION


def published(moto_endpoint, topic):
    with urllib.request.urlopen(f"{moto_endpoint}/moto-api/data.json") as response:
        data = json.load(response)
    (found,) = [t for t in data["sns"]["Topic"] if t["arn"] == topic]
    return [json.loads(message) for _, message, *_ in found["sent_notifications"]]


def test_the_function_alerts_each_forwarded_event_naming_the_member_account(routed, org_member, moto_endpoint, aws):
    """The root events that reached the home bus rules, handed to the real binary as Lambda would:
    one alert each, naming the member account (from moto's Organizations) and its region."""
    arrived = cloudtrail(routed[1])
    topic = aws("sns").create_topic(Name="rootwatch-org-alerts")["TopicArn"]
    runtime = RuntimeApi()
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": "rootwatch", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/rootwatch",
        "AWS_LAMBDA_LOG_STREAM_NAME": "test",
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_REGION": HOME_REGION,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "ALERT_TOPIC_ARN": topic, "TOPIC_DISPLAY_NAME": "rootwatch",
        "ACCOUNT_NAMES_FROM_ORGANIZATIONS": "true",
    }
    function = subprocess.Popen([str(build_function(ROOT))], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        outcomes = [runtime.invoke(body) for body in arrived]
    finally:
        function.terminate()
        _, log = function.communicate(timeout=30)
        runtime.close()
    assert [kind for kind, _ in outcomes] == ["response"] * len(arrived), (outcomes, log[-3000:])

    alerts = published(moto_endpoint, topic)
    assert len(alerts) == len(arrived) == 3
    for alert in alerts:
        assert f"{MEMBER_NAME} ({org_member})" in alert["email"], alert["email"]
        assert MEMBER_NAME in alert["sms"]
        assert MEMBER_REGION in alert["email"]
        assert HOME_ACCOUNT not in alert["sms"] + alert["email"]


def test_only_the_forwarders_own_alarm_going_into_alarm_reaches_the_home_bus_rule(routed):
    """The forwarder sends its failed-forwards alarm's state changes home (its rule matches that
    alarm's ARN only), and the home bus rule takes ALARM only: one event of the four reaches the
    function, the one that names the forwarder's alarm. (moto re-puts a forwarded event: its
    envelope names the home region and has lost `account` and `resources`, which the forwarder's
    rule matched on. AWS delivers the event as it was, with the member's account and region, which
    the function names. The last line pins moto's difference, so that a moto that keeps them is
    noticed.)"""
    _, arrived = routed
    alarms = [body for body in arrived if body["detail-type"] == ALARM_STATE_CHANGE]
    assert len(alarms) == 1, alarms
    (body,) = alarms
    assert body["source"] == "aws.cloudwatch"
    assert body["detail"]["alarmName"] == FORWARDER_ALARM
    assert body["detail"]["state"]["value"] == "ALARM"
    assert (body.get("account"), body["region"], body["resources"]) == (None, HOME_REGION, [])


def test_the_forwarders_alarm_is_named_for_the_home_rule_and_routed_by_its_arn(forwarder, template):
    """The alarm's name has the prefix the home rule matches, and the forwarder's rule names the
    alarm's ARN built from that same name."""
    stack = Stack(forwarder, {"HomeBusArn": HOME_BUS}, MEMBER_ACCOUNT, MEMBER_REGION, FORWARDER_STACK)
    alarm_name = stack.resolve(stack.resources["FailedForwardsAlarm"]["Properties"]["AlarmName"])
    assert alarm_name == FORWARDER_ALARM
    (home_pattern, _) = rules_of(template, True, {ALARM_STATE_CHANGE})[ALARM_STATE_CHANGE]
    (prefix,) = home_pattern["detail"]["alarmName"]
    assert alarm_name.startswith(prefix["prefix"])
    assert home_pattern["source"] == ["aws.cloudwatch"] and home_pattern["detail"]["state"]["value"] == ["ALARM"]
    forward = stack.resolve(stack.resources["ForwardFailing"]["Properties"])
    assert forward["EventPattern"]["resources"] == [stack.get_att("FailedForwardsAlarm", "Arn")]
    assert forward["EventPattern"]["source"] == ["aws.cloudwatch"]
    (target,) = forward["Targets"]
    assert target["Arn"] == HOME_BUS and target["RoleArn"] == stack.get_att("ForwarderRole", "Arn")
    assert target["DeadLetterConfig"]["Arn"] == stack.get_att("FailedForwardsQueue", "Arn")


def test_the_forwarders_alarm_counts_what_waits_in_its_queue(forwarder):
    """ApproximateNumberOfMessagesVisible, which the SQS Developer Guide recommends for dead-letter
    queue alarms; NumberOfMessagesSent is documented to miss what a queue receives as a
    dead-letter queue."""
    alarm = forwarder["Resources"]["FailedForwardsAlarm"]
    assert alarm["Condition"] == "Forwards"
    props = alarm["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum")
    assert props["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedForwardsQueue", "QueueName"]}}]
    assert (props["Threshold"], props["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert props["TreatMissingData"] == "notBreaching"


def test_the_forwarder_role_may_send_its_alarm_home_and_the_home_bus_admits_it(home, member_forwarder):
    """The alarm's state change travels like a root event: the same role, the same bus policy."""
    caller, _ = forwarder_session(member_forwarder)
    assert put_on_home_bus(bus_policy(home), caller, forwarder_identity(member_forwarder), ORGANIZATION) == ALLOWED
    (policy,) = [
        member_forwarder.resolve(r["Properties"]["PolicyDocument"])
        for r in member_forwarder.resources.values() if r["Type"] == "AWS::SQS::QueuePolicy"
    ]
    queue = member_forwarder.get_att("FailedForwardsQueue", "Arn")
    context = {"aws:SourceArn": member_forwarder.get_att("ForwardFailing", "Arn"), "aws:SecureTransport": "true"}
    assert decide(Request(service("events.amazonaws.com"), "sqs:SendMessage", queue, context), [], policy)[0] == ALLOWED


# --- what the forwarder's alarm cannot report ------------------------------------------------------

FORWARDER_RULES = ["ForwardRootSignIn", "ForwardRootApiCall", "ForwardFailing"]
NO_STATEMENT = {"Version": "2012-10-17", "Statement": []}
# A service control policy's Deny stands like an explicit deny in the sender's own policies.
SCP_DENIES_PUT_EVENTS = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Action": "events:PutEvents", "Resource": "*"}]}


def role_policies(stack, role_arn):
    """The inline policies of the forwarder stack's role with that ARN."""
    (role,) = [r for name, r in stack.resources.items()
               if r["Type"] == "AWS::IAM::Role" and stack.get_att(name, "Arn") == role_arn]
    return [stack.resolve(p["PolicyDocument"]) for p in role["Properties"].get("Policies", [])]


def forward_decisions(member_forwarder, policy, org_id, identity=role_policies):
    """IAM's decision on each forwarder rule's PutEvents to its target, signed with the role that
    rule's target names and judged by that role's policies: {rule: decision}."""
    decisions = {}
    for rule in FORWARDER_RULES:
        (target,) = member_forwarder.resolve(member_forwarder.resources[rule]["Properties"]["Targets"])
        caller = session(target["RoleArn"], "events")
        context = {"aws:PrincipalArn": target["RoleArn"], "aws:PrincipalAccount": MEMBER_ACCOUNT,
                   "aws:PrincipalOrgID": org_id}
        request = Request(caller, "events:PutEvents", target["Arn"], context)
        decisions[rule] = decide(request, identity(member_forwarder, target["RoleArn"]), policy)[0]
    return decisions


@pytest.mark.parametrize(
    "broken",
    ["member-left-the-organization", "bus-policy-without-its-statement", "role-without-put-events", "scp-denies-put-events"],
)
def test_limit_a_refused_path_refuses_the_forwarders_alarm_like_a_root_event(home, member_forwarder, broken):
    """The limit of the forwarder-failing alert, pinned: the alarm's state change goes home by the
    same role, through the same bus policy, as the root events it reports. Where the path refuses
    them (EventBridge sends a refused event to the dead-letter queue without retrying), it refuses
    the alarm's event too, which waits in that same queue. So the alert reports only failures that
    leave the path working (throttling or an outage of the home bus that outlasts the retries and
    then ends); a refused path stays silent until something else notices it."""
    policy, org_id, identity = bus_policy(home), ORGANIZATION, role_policies
    assert set(forward_decisions(member_forwarder, policy, org_id).values()) == {ALLOWED}
    forwarder_role = member_forwarder.get_att("ForwarderRole", "Arn")
    if broken == "member-left-the-organization":
        org_id = "o-0ther0rg00"
    elif broken == "bus-policy-without-its-statement":
        policy = NO_STATEMENT
    elif broken == "role-without-put-events":
        identity = lambda stack, arn: [] if arn == forwarder_role else role_policies(stack, arn)
    else:
        identity = lambda stack, arn: [*role_policies(stack, arn), SCP_DENIES_PUT_EVENTS]
    decisions = forward_decisions(member_forwarder, policy, org_id, identity)
    assert decisions["ForwardFailing"] != ALLOWED
    assert set(decisions.values()) == {decisions["ForwardFailing"]}, decisions


def test_limit_the_alarms_refused_event_waits_in_the_queue_the_alarm_watches(member_forwarder):
    """Every forwarder rule, the alarm's own included, keeps what the home bus refused in the one
    queue the alarm counts: a refused alarm event adds to the count and tells no one."""
    queues = {member_forwarder.resolve(member_forwarder.resources[rule]["Properties"]["Targets"][0]
                                       ["DeadLetterConfig"]["Arn"]) for rule in FORWARDER_RULES}
    assert queues == {member_forwarder.get_att("FailedForwardsQueue", "Arn")}
    alarm = member_forwarder.resolve(member_forwarder.resources["FailedForwardsAlarm"]["Properties"])
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": member_forwarder.get_att("FailedForwardsQueue", "QueueName")}]


# --- who may send to the home bus: the role path ----------------------------------------------------


def test_limit_any_role_a_member_makes_under_the_path_is_admitted(home):
    """The limit of the bus policy, pinned: the path is all it checks, so a role a member account's
    administrator creates under /rootwatch/ may put events on the home bus like a forwarder."""
    made = session(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/rootwatch/anything", "alice")
    assert put_on_home_bus(bus_policy(home), made, EVERYTHING, ORGANIZATION) == ALLOWED


# Every IAM action that creates, changes, deletes, tags or passes a role, from parliament's bundled
# IAM definitions; service-linked roles live under /aws-service-role/, never under /rootwatch/.
ROLE_CHANGES = sorted({
    f"iam:{p['privilege']}" for s in iam_definition if s["prefix"] == "iam" for p in s["privileges"]
    if p["access_level"] in {"Write", "Permissions management", "Tagging"}
    and "role" in {r["resource_type"].rstrip("*") for r in p["resource_types"]}
    and "ServiceLinkedRole" not in p["privilege"]
})

# docs/organizations.md's example SCP reserving the path for StackSets' execution role (keep the two
# the same): stacksets-exec-* in service-managed StackSets, AWSCloudFormationStackSetExecutionRole
# in self-managed ones (CloudFormation User Guide, "Activate trusted access for StackSets with AWS
# Organizations", "Grant self-managed permissions").
EXAMPLE_SCP_ROLE_PATH = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "OnlyStackSetsManageRootwatchRoles",
        "Effect": "Deny",
        "Action": [
            "iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateRoleDescription",
            "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
            "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
            "iam:DeleteRolePermissionsBoundary", "iam:TagRole", "iam:UntagRole", "iam:PassRole",
        ],
        "Resource": "arn:aws:iam::*:role/rootwatch/*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [
            "arn:aws:iam::*:role/stacksets-exec-*",
            "arn:aws:iam::*:role/AWSCloudFormationStackSetExecutionRole",
        ]}},
    }],
}


def test_the_definitions_know_iam_roles():
    """So that missing definitions cannot leave the test below with nothing to check."""
    assert len(ROLE_CHANGES) >= 14 and {"iam:CreateRole", "iam:PassRole", "iam:UpdateAssumeRolePolicy"} <= set(ROLE_CHANGES)


@pytest.mark.parametrize("action", ROLE_CHANGES)
def test_the_example_scp_reserves_the_path_for_stacksets(member_forwarder, action):
    """With the example SCP, a member administrator allowed everything can neither make a role under
    /rootwatch/ nor change, tag or pass the forwarder's role (passing it to a rule of their own
    would send that rule's events home); StackSets' execution roles still can, and roles elsewhere
    are untouched."""
    scp = [*EVERYTHING, EXAMPLE_SCP_ROLE_PATH]
    admin = session(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/Admin", "alice")
    forwarder_role = member_forwarder.get_att("ForwarderRole", "Arn")
    elsewhere = f"arn:aws:iam::{MEMBER_ACCOUNT}:role/team/app"
    context = lambda caller: {"aws:PrincipalArn": caller.role_arn, "aws:PrincipalAccount": MEMBER_ACCOUNT}
    assert decide(Request(admin, action, forwarder_role, context(admin)), scp)[0] == EXPLICIT_DENY
    assert decide(Request(admin, action, elsewhere, context(admin)), scp)[0] == ALLOWED
    for name in ["stacksets-exec-0123456789abcdef0123456789abcdef", "AWSCloudFormationStackSetExecutionRole"]:
        stacksets = session(f"arn:aws:iam::{MEMBER_ACCOUNT}:role/{name}", "cfn")
        assert decide(Request(stacksets, action, forwarder_role, context(stacksets)), scp)[0] == ALLOWED, name


def test_the_example_scp_names_real_actions():
    found = analyze_policy_string(json.dumps(EXAMPLE_SCP_ROLE_PATH)).findings
    assert not found, [(f.issue, f.detail) for f in found]
