"""The optional Slack and Microsoft Teams channels (AWS Chatbot, now Amazon Q Developer in chat
applications): created only when asked for, refused when half-filled, subscribed to the alert and
alarm topics, and unable to act on the account. A stack with no recipient at all is refused. What Chatbot shows is the publish's `https` part, checked
against the custom-notification schema in tests/it/chat.rs."""
import re

import pytest

from conftest import ACCOUNT, REGION, ROOT
from iam_policy import EXPLICIT_DENY, IMPLICIT_DENY, Request, decide, service, session
from intrinsics import Stack

SLACK = {"SlackWorkspaceId": "T0123ABCDEF", "SlackChannelId": "C0123ABCDEF"}
TEAMS = {
    "TeamsTenantId": "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f",
    "TeamsTeamId": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "TeamsChannelId": "19%3a0123456789abcdef0123456789abcdef%40thread.tacv2",
}
CHAT_RESOURCES = {"ChatChannelRole", "SlackChannel", "TeamsChannel"}
CHANNELS = {"SlackChannel": "AWS::Chatbot::SlackChannelConfiguration",
            "TeamsChannel": "AWS::Chatbot::MicrosoftTeamsChannelConfiguration"}
DENY_ALL = "arn:aws:iam::aws:policy/AWSDenyAll"


EMAIL = {"AlertEmails": "secops@example.com"}


def stack_with(template, parameters, region=REGION):
    return Stack(template, parameters, ACCOUNT, region, "rootwatch")


def refused_by(template, parameters):
    """The descriptions of the template's Rules assertions these parameters fail, as CloudFormation
    evaluates them before creating anything."""
    stack = stack_with(template, parameters)
    return [
        assertion["AssertDescription"]
        for rule in template.get("Rules", {}).values()
        for assertion in rule["Assertions"]
        if not stack.resolve(assertion["Assert"])
    ]


@pytest.mark.parametrize(
    "parameters,expected",
    [
        (EMAIL, set()),
        (SLACK, {"ChatChannelRole", "SlackChannel"}),
        (TEAMS, {"ChatChannelRole", "TeamsChannel"}),
        ({**SLACK, **TEAMS}, CHAT_RESOURCES),
    ],
    ids=["none", "slack", "teams", "both"],
)
def test_channels_exist_only_when_asked_for(template, parameters, expected):
    assert refused_by(template, parameters) == []
    assert stack_with(template, parameters).created() & CHAT_RESOURCES == expected


@pytest.mark.parametrize(
    "region,chat_region,created",
    [("us-east-1", "us-east-1", True), ("eu-west-1", "us-east-1", False), ("eu-west-1", "eu-west-1", True)],
)
def test_only_the_chat_regions_stack_creates_the_channels(template, region, chat_region, created):
    """Chatbot accepts one configuration per channel per account, whatever the region: a second
    region's stack creating one too would fail to deploy."""
    parameters = {**SLACK, **TEAMS, "ChatRegion": chat_region}
    got = stack_with(template, parameters, region).created() & CHAT_RESOURCES
    assert got == (CHAT_RESOURCES if created else set())


@pytest.mark.parametrize(
    "parameters",
    [
        {"SlackWorkspaceId": SLACK["SlackWorkspaceId"]},
        {"SlackChannelId": SLACK["SlackChannelId"]},
        {"TeamsChannelId": TEAMS["TeamsChannelId"]},
        {"TeamsTenantId": TEAMS["TeamsTenantId"], "TeamsTeamId": TEAMS["TeamsTeamId"]},
        {k: v for k, v in TEAMS.items() if k != "TeamsTeamId"},
    ],
    ids=["slack-workspace-only", "slack-channel-only", "teams-channel-only", "teams-no-channel", "teams-no-team"],
)
def test_a_half_filled_channel_is_refused_not_skipped(template, parameters):
    """Without the Rules, a channel missing one id would silently not be created: the team would
    believe chat is on."""
    assert refused_by(template, {**EMAIL, **parameters})


NOBODY = "Give at least one recipient - AlertEmails, AlertPhoneNumbers, or a Slack or Teams channel - or alerts and alarms reach nobody."


@pytest.mark.parametrize(
    "parameters,refused",
    [
        ({}, True),
        ({"ChatTopicArnsFromOtherRegions": "arn:aws:sns:eu-west-1:123456789012:rootwatch-AlertTopic-A"}, True),
        ({"SlackWorkspaceId": SLACK["SlackWorkspaceId"]}, True),  # half a channel is no channel
        (EMAIL, False),
        ({"AlertPhoneNumbers": "+15555550100"}, False),
        (SLACK, False),
        (TEAMS, False),
    ],
    ids=["nothing", "other-regions-topics-only", "half-a-channel", "email", "phone", "slack", "teams"],
)
def test_a_stack_that_would_tell_nobody_is_refused(template, parameters, refused):
    """Emails, phones and chat channels reach people; topics of other regions do not. (A chat-only
    stack outside ChatRegion passes: its channel is reached through the ChatRegion stack.)"""
    assert (NOBODY in refused_by(template, parameters)) is refused


def test_a_chat_only_stack_outside_the_chat_region_is_accepted(template):
    """Its topics reach the channel when the ChatRegion stack lists them; the rule cannot see that
    stack, so it does not refuse this one (docs/chat.md says to list them)."""
    stack = stack_with(template, {**SLACK, "ChatRegion": "us-east-1"}, region="eu-west-1")
    assert stack.created() & CHAT_RESOURCES == set()
    refused = [
        assertion["AssertDescription"] for rule in template["Rules"].values() for assertion in rule["Assertions"]
        if not stack.resolve(assertion["Assert"])
    ]
    assert refused == []


OTHER_TOPICS = "arn:aws:sns:eu-west-1:123456789012:rootwatch-AlertTopic-A,arn:aws:sns:us-west-2:123456789012:rootwatch-AlertTopic-B"


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_each_channel_gets_every_alert_and_every_alarm(template, resources, channel):
    """The alert and alarm topics, and the other regions' topics when listed."""
    props = resources[channel]["Properties"]
    assert resources[channel]["Type"] == CHANNELS[channel]
    alone = stack_with(template, {**SLACK, **TEAMS})
    assert alone.resolve(props["SnsTopicArns"]) == [alone.ref("AlertTopic"), alone.ref("AlarmTopic")]
    with_others = stack_with(template, {**SLACK, **TEAMS, "ChatTopicArnsFromOtherRegions": OTHER_TOPICS})
    assert with_others.resolve(props["SnsTopicArns"]) == [
        with_others.ref("AlertTopic"), with_others.ref("AlarmTopic"), *OTHER_TOPICS.split(",")
    ]
    assert props["IamRoleArn"] == {"Fn::GetAtt": ["ChatChannelRole", "Arn"]}
    assert props["LoggingLevel"] == "ERROR", "delivery errors must be visible in Chatbot's logs"


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_no_one_can_act_on_the_account_from_the_channel(template, resources, channel):
    """Chatbot applies AdministratorAccess as the guardrail when none is set; ours is AWSDenyAll,
    and neither the channel's role nor (UserRoleRequired false) a user role is used for more."""
    props = resources[channel]["Properties"]
    guardrails = stack_with(template, {**SLACK, **TEAMS}).resolve(props["GuardrailPolicies"])
    assert guardrails == [DENY_ALL]
    assert props["UserRoleRequired"] is False


def test_the_channel_role_has_no_permissions_and_only_chatbot_assumes_it(resources):
    role = resources["ChatChannelRole"]
    assert role["Type"] == "AWS::IAM::Role"
    assert not {"Policies", "ManagedPolicyArns", "PermissionsBoundary"} & set(role["Properties"])
    attached = [
        name for name, r in resources.items()
        if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        and {"Ref": "ChatChannelRole"} in r["Properties"].get("Roles", [])
    ]
    assert attached == []
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement == {
        "Effect": "Allow", "Principal": {"Service": "chatbot.amazonaws.com"}, "Action": "sts:AssumeRole"
    }


@pytest.fixture(scope="module")
def chat_stack(deployed_template):
    return Stack(deployed_template, {**SLACK, **TEAMS}, ACCOUNT, REGION, "rootwatch")


@pytest.mark.parametrize("topic,key", [("AlertTopic", "AlertKey"), ("AlarmTopic", "AlarmKey")])
def test_neither_chatbot_nor_the_channel_role_may_use_a_key_or_publish(chat_stack, topic, key):
    """The key policies give Chatbot and the channel's role no use of either key, and the role
    cannot publish a fake alert or alarm. (That delivery needs no such grant rests on the SNS
    Developer Guide, "Encryption at rest": SNS decrypts a message before it sends it to a
    subscriber; what a key must allow is its publisher: the function for the alert key, CloudWatch
    for the alarm key, test_policies.py. No test here can show delivery; moto does not deliver to
    Chatbot.)"""
    stack = chat_stack
    key_arn = stack.get_att(key, "Arn")
    key_policy = stack.resolve(stack.resources[key]["Properties"]["KeyPolicy"])
    topic_arn = stack.ref(topic)
    (topic_policy,) = [
        stack.resolve(r["Properties"]["PolicyDocument"]) for r in stack.resources.values()
        if r["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic} in r["Properties"]["Topics"]
    ]
    via_sns = {"kms:ViaService": f"sns.{REGION}.amazonaws.com", "aws:SecureTransport": "true"}
    chatbot = service("chatbot.amazonaws.com")
    for action in ["kms:Decrypt", "kms:GenerateDataKey"]:
        assert decide(Request(chatbot, action, key_arn, via_sns), [], key_policy=key_policy)[0] == IMPLICIT_DENY

    role_arn = stack.get_att("ChatChannelRole", "Arn")
    channel = session(role_arn, "chatbot")
    context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": ACCOUNT, "aws:SecureTransport": "true"}
    assert decide(Request(channel, "kms:Decrypt", key_arn, {**context, **via_sns}), [], key_policy=key_policy)[0] \
        == IMPLICIT_DENY
    assert decide(Request(channel, "sns:Publish", topic_arn, context), [], topic_policy)[0] == EXPLICIT_DENY


def test_configuration_names_are_unique_per_stack_and_short_enough(template, resources):
    """Chatbot configuration names are unique per account and at most 128 characters; a stack name
    may itself be 128 characters, so the name carries the stack id's UUID instead."""
    longest = "r" * 128
    for channel in CHANNELS:
        stack = Stack(template, {}, ACCOUNT, REGION, longest)
        name = stack.resolve(resources[channel]["Properties"]["ConfigurationName"])
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,128}", name), name
        assert stack.pseudo("AWS::StackId").rsplit("/", 1)[1] in name


def chatbot_schema(resource_type):
    """The resource's registry schema, as shipped with cfn-lint."""
    from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

    return PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema


@pytest.mark.parametrize(
    "parameter,resource_type,prop,good,bad",
    [
        ("SlackWorkspaceId", CHANNELS["SlackChannel"], "SlackWorkspaceId", SLACK["SlackWorkspaceId"], "my-workspace"),
        ("SlackChannelId", CHANNELS["SlackChannel"], "SlackChannelId", SLACK["SlackChannelId"], "#security"),
        ("TeamsTenantId", CHANNELS["TeamsChannel"], "TeamsTenantId", TEAMS["TeamsTenantId"], "contoso"),
        ("TeamsTeamId", CHANNELS["TeamsChannel"], "TeamId", TEAMS["TeamsTeamId"], "Security Team"),
        ("TeamsChannelId", CHANNELS["TeamsChannel"], "TeamsChannelId", TEAMS["TeamsChannelId"],
         "19:0123456789abcdef@thread.tacv2"),
    ],
)
def test_parameters_refuse_what_chatbot_would_refuse(template, parameter, resource_type, prop, good, bad):
    """A wrong id fails at the parameter, with its hint, not halfway through the stack; the
    parameter's pattern accepts a real id and refuses the usual mistakes (a name, a decoded Teams
    id), as the Chatbot resource's own schema does."""
    spec = chatbot_schema(resource_type)["properties"][prop]
    ours = re.compile(template["Parameters"][parameter]["AllowedPattern"])
    theirs = re.compile(spec["pattern"])
    assert template["Parameters"][parameter].get("MaxLength", 10**6) <= spec["maxLength"]
    assert ours.fullmatch(good) and theirs.fullmatch(good)
    assert not ours.fullmatch(bad) and not theirs.fullmatch(bad)
    assert ours.fullmatch(""), "empty means no channel"


def test_the_docs_show_the_channel_setup():
    doc = (ROOT / "docs" / "chat.md").read_text()
    for parameter in [*SLACK, *TEAMS]:
        assert parameter in doc, f"docs/chat.md does not explain {parameter}"
    assert "AWSDenyAll" in doc
