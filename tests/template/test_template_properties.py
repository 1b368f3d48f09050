"""Security and reliability properties of template.yaml, asserted from the parsed template so
that a later edit cannot silently drop them. (cfn-lint does not look inside
AWS::Serverless::Function properties, so they are checked here.) What the policies allow, evaluated
as IAM does, is in test_policies.py."""
import json
import re

import pytest

from conftest import ACCOUNT, REGION
from intrinsics import Stack

FUNCTION = "RootwatchFunction"
ROLE = "RootwatchFunctionRole"
POLICY = "RootwatchFunctionPolicy"
# The alert bus's one grant, a policy of its own; the function waits for both.
ALERT_EVENTS_POLICY = "RootwatchAlertEventsPolicy"
DEFAULT_BUS_RULES = ["RootwatchFunctionRootSignIn", "RootwatchFunctionRootApiCall", "RootwatchWatchdogSchedule"]
# Organization mode only (Condition IsHome): the same patterns on the home bus, and the forwarders'
# failing alarms.
HOME_BUS_RULES = ["HomeBusRootSignIn", "HomeBusRootApiCall", "HomeBusForwarderFailing"]
RULES = DEFAULT_BUS_RULES + HOME_BUS_RULES
# Coverage only (Condition HasCoverage, docs/coverage.md): the checks schedule keeps its dead letters
# like the watchdog's; the heartbeats' rule keeps none (a heartbeat there would page as a lost root
# event, and the next one supersedes it).
CHECKS_RULE = "RootwatchChecksSchedule"
HEARTBEAT_RULE = "HomeBusHeartbeat"
# The on-call rules on the alert bus (docs/on-call.md): one per severity, each with its condition.
ON_CALL_RULES = {"OnCallCritical": "HasOnCall", "OnCallHigh": "OnCallHigh", "OnCallMedium": "OnCallMedium",
                 "OnCallLow": "OnCallLow"}
# The one statement with "*" as its resource: DescribeTrails has no resource-level permissions.
LIST_TRAILS = {"Sid": "ListTrails", "Effect": "Allow", "Action": "cloudtrail:DescribeTrails", "Resource": "*"}
# Trails of any account: an organization trail is the management account's.
TRAILS = {"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:*:*:trail/*"}
# The root user's posture: none of these IAM actions has a resource type, so "*" is the only one.
READ_ROOT_POSTURE = {
    "Sid": "ReadRootPosture",
    "Effect": "Allow",
    "Action": ["iam:GetAccountSummary", "iam:ListVirtualMFADevices", "iam:GetCredentialReport",
               "iam:GenerateCredentialReport"],
    "Resource": "*",
}


def function_props(resources):
    return resources[FUNCTION]["Properties"]


def statements(policy_doc):
    s = policy_doc["Statement"]
    return s if isinstance(s, list) else [s]


def as_list(x):
    return x if isinstance(x, list) else [x]


def role_statements(resources):
    """Every statement that grants the function's role anything, in any mode: its policy, and the
    organization mode's own policy."""
    return [
        st
        for r in resources.values() if r["Type"] == "AWS::IAM::Policy"
        and {"Ref": ROLE} in r["Properties"]["Roles"]
        for st in statements(r["Properties"]["PolicyDocument"])
    ]


def of_type(resources, kind):
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def test_function_is_a_rust_arm64_lambda(resources):
    fn = resources[FUNCTION]
    assert fn["Type"] == "AWS::Serverless::Function"
    assert fn["Metadata"]["BuildMethod"] == "rust-cargolambda"
    props = fn["Properties"]
    assert props["Runtime"] == "provided.al2023"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "bootstrap"
    # The SNS client gives up after 12 s (src/domain/limits.rs OPERATION_TIMEOUT); Lambda must not first.
    assert props["Timeout"] > 12
    assert 128 <= props["MemorySize"] <= 512


def test_the_role_grants_nothing_itself_and_its_policy_names_every_resource(resources):
    """The role references nothing (so the key and topic policies can name it without a cycle);
    one policy attached to it grants what the function needs, each on a named resource."""
    assert "Policies" not in function_props(resources), "SAM would generate a second role"
    assert function_props(resources)["Role"] == {"Fn::GetAtt": [ROLE, "Arn"]}
    role = resources[ROLE]["Properties"]
    assert set(role) == {"AssumeRolePolicyDocument"}, "no inline or managed policies on the role"
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert resources[POLICY]["Properties"]["Roles"] == [{"Ref": ROLE}]
    for st in role_statements(resources):
        assert st["Effect"] == "Allow"
        if st in (LIST_TRAILS, READ_ROOT_POSTURE) or st["Resource"] == TRAILS or st["Sid"] in (
            "NameMemberAccounts", "ListDeclarationStreams", "ReadDeclarationStream",
            "ListMemberAccounts", "ReadRootAccessFeatures", "AuditMemberRootCredentials",
        ):
            continue  # the documented exceptions, checked below
        for resource in as_list(st["Resource"]):
            assert isinstance(resource, dict) and "*" not in json.dumps(resource), st
        assert "*" not in str(st["Action"]), st


def test_the_function_starts_only_once_its_policy_exists(resources):
    assert resources[FUNCTION]["DependsOn"] == [POLICY, ALERT_EVENTS_POLICY]


@pytest.mark.parametrize(
    "actions,resource",
    [
        ({"sns:Publish", "sns:GetTopicAttributes"}, {"Ref": "AlertTopic"}),
        ({"kms:GenerateDataKey", "kms:Decrypt"}, {"Fn::GetAtt": ["AlertKey", "Arn"]}),
        (
            {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
            {"Fn::GetAtt": ["StateTable", "Arn"]},
        ),
        # Without it Lambda cannot keep failed events in the on-failure destination.
        ({"sqs:SendMessage"}, {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}),
        ({"logs:CreateLogStream", "logs:PutLogEvents"}, {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}),
        # The watchdog and the root user's posture: read-only (GenerateCredentialReport writes
        # only the report), and nothing else on "*" or on trails.
        (
            {"cloudtrail:DescribeTrails", "dynamodb:ListStreams"} | set(READ_ROOT_POSTURE["Action"])
            | {"organizations:ListAccounts", "organizations:DescribeOrganization", "iam:ListOrganizationsFeatures"}
            # Organization mode with MemberRootAudit: any member's root user, with the audit task
            # policy only (test_policies.py evaluates the condition).
            | {"sts:AssumeRoot"},
            "*",
        ),
        ({"cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"}, TRAILS),
        # The declarations' doorbell: the state table's stream, read by the event source mapping.
        (
            {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
            {"Fn::Sub": "${StateTable.Arn}/stream/*"},
        ),
        # Coverage: ListAccounts has no resource types; the heartbeat table, never scanned.
        ({"dynamodb:UpdateItem", "dynamodb:Query"}, {"Fn::GetAtt": ["HeartbeatTable", "Arn"]}),
        # The alert bus only (as rootwatch: test_policies.py evaluates the condition).
        ({"events:PutEvents"}, {"Fn::GetAtt": ["AlertBus", "Arn"]}),
        # SecurityHubFindings: the default product's findings, and whether the hub is on.
        (
            {"securityhub:BatchImportFindings"},
            {"Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:product/${AWS::AccountId}/default"},
        ),
        (
            {"securityhub:DescribeHub"},
            {"Fn::Sub": "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default"},
        ),
        # Organization mode: member account names, accounts of this organization only.
        (
            {"organizations:DescribeAccount"},
            {"Fn::Sub": "arn:${AWS::Partition}:organizations::*:account/${OrganizationId}/*"},
        ),
    ],
)
def test_the_role_may_do_exactly_this_on_each_resource(resources, actions, resource):
    granted = [st for st in role_statements(resources) if st["Resource"] == resource]
    assert granted, f"a statement for {resource}"
    assert {a for st in granted for a in as_list(st["Action"])} == actions


def test_the_role_may_do_nothing_else(resources):
    assert len(role_statements(resources)) == 18


def test_the_function_puts_alert_events_on_its_bus_and_imports_findings_only_when_asked(resources):
    env = function_props(resources)["Environment"]["Variables"]
    assert env["ALERT_EVENT_BUS"] == {"Fn::GetAtt": ["AlertBus", "Name"]}
    assert env["SECURITY_HUB_FINDINGS"] == {"Ref": "SecurityHubFindings"}
    assert "Condition" not in resources["AlertBus"] and "Condition" not in resources[ALERT_EVENTS_POLICY]
    (put,) = statements(resources[ALERT_EVENTS_POLICY]["Properties"]["PolicyDocument"])
    assert put["Condition"] == {"StringEquals": {"events:source": "rootwatch"}}
    hub = resources["RootwatchSecurityHubPolicy"]
    assert hub["Condition"] == "HasSecurityHubFindings"
    assert resources["FindingsFailingAlarm"]["Condition"] == "HasSecurityHubFindings"
    assert resources["AlertBus"]["Properties"]["Name"] == {"Fn::Sub": "${AWS::StackName}-alerts"}


def test_account_names_come_from_organizations_only_in_organization_mode(resources):
    env = function_props(resources)["Environment"]["Variables"]
    assert env["ACCOUNT_NAMES_FROM_ORGANIZATIONS"] == {"Fn::If": ["HasOrganization", "true", "false"]}
    policy = resources["RootwatchOrganizationsPolicy"]
    assert policy["Condition"] == "HasOrganization"
    assert policy["Properties"]["Roles"] == [{"Ref": ROLE}]
    assert [st["Sid"] for st in statements(policy["Properties"]["PolicyDocument"])] == ["NameMemberAccounts"]
    # The accounts are listed only where something reads them: the members' audit or coverage.
    accounts = resources["RootwatchAccountsPolicy"]
    assert accounts["Condition"] == "ListsAccounts"
    assert [st["Sid"] for st in statements(accounts["Properties"]["PolicyDocument"])] == ["ListMemberAccounts"]
    audit = resources["RootwatchMemberAuditPolicy"]
    assert audit["Condition"] == "AuditsMembers"
    features, assume_root = statements(audit["Properties"]["PolicyDocument"])
    assert features["Sid"] == "ReadRootAccessFeatures"
    assert assume_root["Condition"] == {"StringEquals": {"sts:TaskPolicyArn": {
        "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/root-task/IAMAuditRootUserCredentials"}}}


def test_function_may_publish_only_to_the_alert_topic(resources):
    publish = [st for st in role_statements(resources) if "sns:Publish" in as_list(st["Action"])]
    assert [st["Resource"] for st in publish] == [{"Ref": "AlertTopic"}]
    assert function_props(resources)["Environment"]["Variables"]["ALERT_TOPIC_ARN"] == {
        "Ref": "AlertTopic"
    }


@pytest.mark.parametrize("topic,key", [("AlertTopic", "AlertKey"), ("AlarmTopic", "AlarmKey")])
def test_topics_are_encrypted_with_their_own_rotated_key(resources, topic, key):
    assert resources[topic]["Properties"]["KmsMasterKeyId"] == {"Ref": key}
    assert resources[key]["Properties"]["EnableKeyRotation"] is True


KEY_USE = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:*"}


@pytest.mark.parametrize(
    "key,user",
    [
        ("AlertKey", {"AWS": {"Fn::GetAtt": [ROLE, "Arn"]}}),
        ("AlarmKey", {"Service": "cloudwatch.amazonaws.com"}),
    ],
)
def test_each_key_has_one_user(resources, key, user):
    users = [
        st["Principal"]
        for st in statements(resources[key]["Properties"]["KeyPolicy"])
        if st["Effect"] == "Allow" and KEY_USE & set(as_list(st["Action"]))
    ]
    assert users == [user]


def test_no_policy_uses_not_principal(template):
    """A Deny with NotPrincipal naming a role can deny that role's own sessions (IAM User
    Guide); denies in this template use aws:PrincipalArn conditions instead."""
    assert "NotPrincipal" not in json.dumps(template)


def test_only_the_function_may_publish_alerts(resources):
    policy = resources["AlertTopicPolicy"]["Properties"]["PolicyDocument"]
    allowed = [st["Principal"] for st in statements(policy) if st["Effect"] == "Allow"]
    assert allowed == [{"AWS": {"Fn::GetAtt": [ROLE, "Arn"]}}]
    denies = [st for st in statements(policy) if st["Effect"] == "Deny"]
    assert any(
        st["Principal"] == "*"
        and st["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [ROLE, "Arn"]}}}
        for st in denies
    ), "everyone else is denied explicitly"
    assert any(
        st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for st in denies
    ), "publishing without TLS is denied"


def test_only_alarms_of_this_stack_may_publish_alarms(resources):
    """The allowed alarms and the deny's scope; which alarms that admits is evaluated in
    test_policies.py."""
    policy = resources["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]
    allowed = [st for st in statements(policy) if st["Effect"] == "Allow"]
    assert [st["Principal"] for st in allowed] == [{"Service": "cloudwatch.amazonaws.com"}]
    assert set(allowed[0]["Condition"]) == {"ArnEquals", "StringEquals"}
    assert "aws:SourceAccount" in allowed[0]["Condition"]["StringEquals"]
    denies = [st for st in statements(policy) if st["Effect"] == "Deny"]
    assert any("ArnNotLike" in st.get("Condition", {}) for st in denies)
    assert any(
        st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for st in denies
    )


def test_sms_display_name_has_one_source(template, resources):
    """SNS puts the topic's display name in front of every SMS; the function budgets for it
    from TOPIC_DISPLAY_NAME, so both must come from the one mapping."""
    source = {"Fn::FindInMap": ["Sms", "Topic", "DisplayName"]}
    assert resources["AlertTopic"]["Properties"]["DisplayName"] == source
    assert function_props(resources)["Environment"]["Variables"]["TOPIC_DISPLAY_NAME"] == source
    name = template["Mappings"]["Sms"]["Topic"]["DisplayName"]
    assert isinstance(name, str) and 0 < len(name) <= 100


def test_failed_events_are_kept_in_an_encrypted_queue(resources):
    config = function_props(resources)["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert 0 < config["MaximumEventAgeInSeconds"] <= 21600
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}
    queue = resources["FailedEventsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True or "KmsMasterKeyId" in queue
    assert queue["MessageRetentionPeriod"] == 1209600
    assert "Events" not in function_props(resources), "the rules are explicit resources"
    assert sorted(of_type(resources, "AWS::Events::Rule")) == sorted(RULES + [CHECKS_RULE, HEARTBEAT_RULE] + list(ON_CALL_RULES))
    assert all(resources[r]["Condition"] == "IsHome" for r in HOME_BUS_RULES)
    assert resources[CHECKS_RULE]["Condition"] == resources[HEARTBEAT_RULE]["Condition"] == "HasCoverage"
    (heartbeats,) = resources[HEARTBEAT_RULE]["Properties"]["Targets"]
    assert "DeadLetterConfig" not in heartbeats
    for name in RULES + [CHECKS_RULE]:
        (target,) = resources[name]["Properties"]["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": [FUNCTION, "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": ["FailedEventsQueue", "Arn"]
        }, f"rule {name} must keep events it cannot deliver"
        assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}
    permissions = of_type(resources, "AWS::Lambda::Permission").values()
    assert sorted(p["Properties"]["SourceArn"]["Fn::GetAtt"][0] for p in permissions) \
        == sorted(RULES + [CHECKS_RULE, HEARTBEAT_RULE])
    for p in permissions:
        assert p["Properties"]["Principal"] == "events.amazonaws.com"
        assert p["Properties"]["FunctionName"] == {"Ref": FUNCTION}


def test_only_the_rules_may_send_dead_letters(resources):
    (allow,) = [
        st for st in statements(resources["FailedEventsQueuePolicy"]["Properties"]["PolicyDocument"])
        if st["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {
        "ArnEquals": {
            "aws:SourceArn": [{"Fn::GetAtt": [rule, "Arn"]} for rule in DEFAULT_BUS_RULES]
            + [{"Fn::If": ["IsHome", {"Fn::GetAtt": [rule, "Arn"]}, {"Ref": "AWS::NoValue"}]}
               for rule in HOME_BUS_RULES]
            + [{"Fn::If": ["HasCoverage", {"Fn::GetAtt": [CHECKS_RULE, "Arn"]}, {"Ref": "AWS::NoValue"}]}]
        }
    }


def alarms_on(resources, namespace, metric):
    """Alarms on one metric, whether named directly or inside a metric math alarm."""
    def metrics(props):
        yield props.get("Namespace"), props.get("MetricName")
        for m in props.get("Metrics", []):
            if "MetricStat" in m:
                yield m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"]

    return [
        r["Properties"]
        for r in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if (namespace, metric) in metrics(r["Properties"])
    ]


@pytest.mark.parametrize(
    "namespace,metric,statistic,dimension",
    [
        ("AWS/Lambda", "Errors", "Sum", {"Name": "FunctionName", "Value": {"Ref": FUNCTION}}),
        ("AWS/Lambda", "Throttles", "Sum", {"Name": "FunctionName", "Value": {"Ref": FUNCTION}}),
        # Lambda could not put a failed event into the queue: the event is lost.
        (
            "AWS/Lambda", "DestinationDeliveryFailures", "Sum",
            {"Name": "FunctionName", "Value": {"Ref": FUNCTION}},
        ),
        # Each arrival in the queue, so a second failure notifies again.
        (
            "AWS/SQS", "NumberOfMessagesSent", "Sum",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedEventsQueue", "QueueName"]}},
        ),
        # The standing state while events wait for a redrive.
        (
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": ["FailedEventsQueue", "QueueName"]}},
        ),
        # The same two for the alert events the on-call tools did not take.
        (
            "AWS/SQS", "NumberOfMessagesSent", "Sum",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": ["OnCallFailedQueue", "QueueName"]}},
        ),
        (
            "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum",
            {"Name": "QueueName", "Value": {"Fn::GetAtt": ["OnCallFailedQueue", "QueueName"]}},
        ),
        # An alert event not put, a finding not imported: the invocation succeeds (SNS has the
        # alert), so only the function's own metrics say it.
        ("rootwatch", "AlertEventFailures", "Sum", {"Name": "FunctionName", "Value": {"Ref": FUNCTION}}),
        ("rootwatch", "FindingFailures", "Sum", {"Name": "FunctionName", "Value": {"Ref": FUNCTION}}),
    ],
)
def test_alarms_notify_the_alarm_topic(resources, namespace, metric, statistic, dimension):
    alarms = [a for a in alarms_on(resources, namespace, metric) if a["Dimensions"] == [dimension]]
    assert len(alarms) == 1, f"one alarm on {namespace} {metric} {dimension}"
    alarm = alarms[0]
    assert alarm["Dimensions"] == [dimension]
    assert alarm["Statistic"] == statistic
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (60, 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def custom_bus_rule_dimensions(rule, bus):
    """An AWS/Events rule metric's dimensions for a rule on a custom bus: RuleName, taken from the
    rule's Ref ("bus|rule"), and EventBusName."""
    return [{"Name": "RuleName", "Value": {"Fn::Select": [1, {"Fn::Split": ["|", {"Ref": rule}]}]}},
            {"Name": "EventBusName", "Value": {"Fn::GetAtt": [bus, "Name"]}}]


def test_each_rule_alarms_when_it_cannot_keep_an_event(resources):
    """EventBridge's metric for a dead letter it could not send (spelled "Dlq" in AWS/Events);
    the RuleName dimension alone is the default bus; a home-bus rule adds EventBusName, and its
    RuleName is the rule's own name, taken from its Ref ("bus|rule")."""
    alarms = alarms_on(resources, "AWS/Events", "InvocationsFailedToBeSentToDlq")
    default_bus = [a for a in alarms if len(a["Dimensions"]) == 1]
    # The coverage checks schedule (Condition HasCoverage) too.
    assert sorted(a["Dimensions"][0]["Value"]["Ref"] for a in default_bus) == sorted(
        DEFAULT_BUS_RULES + ["RootwatchChecksSchedule"]
    )
    assert all(a["Dimensions"][0]["Name"] == "RuleName" for a in default_bus)
    custom_bus = [a["Dimensions"] for a in alarms if len(a["Dimensions"]) == 2]
    expected = [
        custom_bus_rule_dimensions(rule, bus)
        for rules, bus in [(HOME_BUS_RULES, "HomeBus"), (ON_CALL_RULES, "AlertBus")] for rule in rules
    ]
    assert sorted(map(json.dumps, custom_bus)) == sorted(map(json.dumps, expected))
    # Each exists exactly when its rule does.
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        if name.startswith("OnCall") and name.endswith("DeadLetterFailuresAlarm"):
            rule = name.removesuffix("DeadLetterFailuresAlarm")
            assert alarm["Condition"] == ON_CALL_RULES[rule], name
    for alarm in alarms:
        assert (alarm["Statistic"], alarm["Threshold"], alarm["Period"]) == ("Sum", 1, 60)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_each_on_call_rule_alarms_once_when_the_tool_is_retried(resources):
    """RetryInvocationAttempts for the rule on the alert bus: ALARM at the first retry and OK an hour
    after the last (60 one-minute periods, one breaching), not a new ALARM each minute EventBridge
    retries."""
    alarms = {name: alarm for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items()
              if alarm["Properties"].get("MetricName") == "RetryInvocationAttempts"}
    assert sorted(alarms) == sorted(f"{rule}RetryingAlarm" for rule in ON_CALL_RULES)
    for rule, condition in ON_CALL_RULES.items():
        alarm = alarms[f"{rule}RetryingAlarm"]
        assert alarm["Condition"] == condition
        props = alarm["Properties"]
        assert props["Namespace"] == "AWS/Events"
        assert props["Dimensions"] == custom_bus_rule_dimensions(rule, "AlertBus")
        assert (props["Statistic"], props["Threshold"], props["Period"]) == ("Sum", 1, 60)
        assert (props["EvaluationPeriods"], props["DatapointsToAlarm"]) == (60, 1)
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["TreatMissingData"] == "notBreaching"


def test_no_alarm_notifies_through_the_alert_topic(resources):
    """Alarms use their own topic and key: a broken alert topic must not silence the alarm that
    reports it. (One alarm watches the alert topic's delivery failures; it still notifies the alarm
    topic.)"""
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        actions = {k: v for k, v in alarm["Properties"].items() if k.endswith("Actions")}
        assert "AlertTopic" not in json.dumps(actions), name
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name


def test_every_alarm_is_named_after_its_stack(resources):
    """The alarm topic admits this stack's alarms by name (test_policies.py); a name that did not
    begin with the stack name would also fall under the topic's deny."""
    for name, alarm in of_type(resources, "AWS::CloudWatch::Alarm").items():
        alarm_name = alarm["Properties"]["AlarmName"]
        assert isinstance(alarm_name, dict) and alarm_name["Fn::Sub"].startswith("${AWS::StackName}-"), name


def test_failures_after_publish_are_alarmed(resources):
    """SNS accepts a publish and then fails to deliver it (SMS spend limit, sandbox, origination
    identity, opt-out; a chat channel or address): the alert topic's NumberOfNotificationsFailed."""
    (alarm,) = alarms_on(resources, "AWS/SNS", "NumberOfNotificationsFailed")
    assert alarm["Dimensions"] == [{"Name": "TopicName", "Value": {"Fn::GetAtt": ["AlertTopic", "TopicName"]}}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 60, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    assert alarm["TreatMissingData"] == "notBreaching"


def sms_spend_percent(alarm, spent_usd, limit_usd):
    """The SMS spend alarm's metric math, evaluated as CloudWatch would for one data point of
    SMSMonthToDateSpentUSD, with the limit parameter substituted as CloudFormation would."""
    (expression,) = [m["Expression"] for m in alarm["Metrics"] if m.get("ReturnData")]
    text = expression["Fn::Sub"].replace("${SmsMonthlySpendLimitUsd}", str(limit_usd))
    (spent_id,) = [m["Id"] for m in alarm["Metrics"] if "MetricStat" in m]
    text = text.replace(spent_id, repr(spent_usd))
    assert re.fullmatch(r"[0-9.*/ ]+", text), text  # arithmetic only, safe to evaluate
    return eval(text)  # noqa: S307 - checked above


@pytest.mark.parametrize(
    "spent,limit,alarms",
    [(0.79, 1, False), (0.80, 1, True), (1.00, 1, True), (39.99, 50, False), (40.00, 50, True)],
)
def test_sms_spend_alarms_at_80_percent_of_the_limit(resources, template, spent, limit, alarms):
    (alarm,) = alarms_on(resources, "AWS/SNS", "SMSMonthToDateSpentUSD")
    (stat,) = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert stat["Stat"] == "Maximum" and stat["Metric"].get("Dimensions") is None, "the account's spend, no dimension"
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert (sms_spend_percent(alarm, spent, limit) >= alarm["Threshold"]) is alarms
    assert template["Parameters"]["SmsMonthlySpendLimitUsd"]["Default"] == 1, "SNS's default limit"


def alarm_states(alarm, points, limit_usd):
    """The state after each period of a one-period alarm (EvaluationPeriods 1, DatapointsToAlarm 1)
    fed one data point of SMSMonthToDateSpentUSD per period, None for a period without one. A data
    point decides by the threshold; a missing one as TreatMissingData says (CloudWatch User Guide,
    "Configuring how CloudWatch alarms treat missing data")."""
    assert alarm["EvaluationPeriods"] == 1 and alarm.get("DatapointsToAlarm", 1) == 1
    on_missing = {"breaching": lambda _: "ALARM", "notBreaching": lambda _: "OK",
                  "ignore": lambda state: state, "missing": lambda _: "INSUFFICIENT_DATA"}
    state, states = "INSUFFICIENT_DATA", []
    for spent in points:
        if spent is None:
            state = on_missing[alarm.get("TreatMissingData", "missing")](state)
        else:
            state = "ALARM" if sms_spend_percent(alarm, spent, limit_usd) >= alarm["Threshold"] else "OK"
        states.append(state)
    return states


def test_sms_spend_stays_in_alarm_between_sparse_data_points_until_the_month_resets(resources):
    """SNS reports SMSMonthToDateSpentUSD only while there is activity, so most periods of a quiet
    month have no data point. Past 80 % the alarm must stay in ALARM through those gaps and text the
    phones once (each move into ALARM texts them through the alarm topic, spending what is left),
    and return to OK when the new month's spend is reported."""
    (alarm,) = alarms_on(resources, "AWS/SNS", "SMSMonthToDateSpentUSD")
    gap = [None] * 12
    month = [0.10, *gap, 0.50, *gap, 0.85, *gap, 0.90, *gap, 0.95, *gap]
    next_month = [0.02, *gap]
    states = alarm_states(alarm, month + next_month, limit_usd=1)
    over = month.index(0.85)
    assert set(states[over:len(month)]) == {"ALARM"}, states
    assert states[len(month):] == ["OK"] * len(next_month)
    moves_into_alarm = sum(1 for before, now in zip(["OK", *states], states) if now == "ALARM" != before)
    assert moves_into_alarm == 1
    assert alarm["TreatMissingData"] == "ignore"


def test_the_text_ceiling_reaches_the_function(resources, template):
    param = template["Parameters"]["SmsCeilingPerHour"]
    assert (param["Type"], param["Default"], param["MinValue"], param["MaxValue"]) == ("Number", 10, 1, 1000)
    env = function_props(resources)["Environment"]["Variables"]
    assert env["SMS_CEILING_PER_HOUR"] == {"Ref": "SmsCeilingPerHour"}


def test_logs_are_kept_for_a_set_time(resources, template):
    props = function_props(resources)
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    retention = resources["FunctionLogGroup"]["Properties"]["RetentionInDays"]
    assert retention == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] >= 90


@pytest.mark.parametrize("name", ["FunctionLogGroup", "FailedEventsQueue"])
def test_the_record_outlives_the_stack(resources, name):
    """Deleting or replacing the stack's resources keeps the logs and the root events nobody was
    paged for."""
    assert resources[name]["DeletionPolicy"] == "Retain"
    assert resources[name]["UpdateReplacePolicy"] == "Retain"


def test_a_redeployed_stack_does_not_collide_with_what_an_earlier_one_kept(template):
    """Retained resources with fixed names would make a stack of the same name fail to deploy
    again: the queue's name is generated, the log group's carries part of the stack's id."""
    from intrinsics import Stack

    assert "QueueName" not in template["Resources"]["FailedEventsQueue"]["Properties"]
    group = template["Resources"]["FunctionLogGroup"]["Properties"]["LogGroupName"]
    names = set()
    for stack_uuid in ["0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d", "9f8e7d6c-4e5f-6a7b-8c9d-0e1f2a3b4c5d"]:
        stack = Stack(template, {}, "123456789012", "us-east-1", "rootwatch")
        stack.pseudo = lambda name, s=stack, u=stack_uuid: (
            f"arn:aws:cloudformation:us-east-1:123456789012:stack/rootwatch/{u}"
            if name == "AWS::StackId" else Stack.pseudo(s, name)
        )
        names.add(stack.resolve(group))
    assert names == {"/aws/lambda/rootwatch-rootwatch-0a1b2c3d", "/aws/lambda/rootwatch-rootwatch-9f8e7d6c"}


def pattern(template, name):
    return re.compile(template["Parameters"][name]["AllowedPattern"])


def assert_pattern(template, name, value, ok):
    """Python's re and the regex package (cfn-lint's engine) agree on the parameter's pattern, as
    a whole-value match as CloudFormation applies it. (CloudFormation itself uses java.util.regex,
    which has the same lookahead and backreference syntax; no JVM is at hand to run it here.)"""
    import regex

    text = template["Parameters"][name]["AllowedPattern"]
    assert bool(re.fullmatch(text, value)) is ok, ("re", value)
    assert bool(regex.fullmatch(text, value)) is ok, ("regex", value)


@pytest.mark.parametrize(
    "value,ok",
    [
        ("", True),
        ("+15555550100", True),
        ("+15555550100,+447700900123", True),
        (",".join(f"+1555555010{i}" for i in range(5)), True),
        (",".join(f"+1555555010{i}" for i in range(6)), False),  # only 5 slots exist
        ("5555550100", False),
        ("+1 555 555 0100", False),
        ("+15555550100, +447700900123", False),
        ("+0123456789", False),
        ("+1234567890123456", False),
        ("+15555550100,+15555550100", False),  # the same phone twice
        ("+15555550100,+447700900123,+15555550100", False),
        ("+15555550100,+155555501001", True),  # one number the start of the other
        ("+155555501001,+15555550100", True),
    ],
)
def test_phone_numbers_must_be_e164_and_different(template, value, ok):
    assert_pattern(template, "AlertPhoneNumbers", value, ok)


@pytest.mark.parametrize(
    "value,ok",
    [
        ("", True),
        ("secops@example.com", True),
        ("a@example.com,b@example.org", True),
        (",".join(f"{c}@example.com" for c in "abcdef"), False),
        ("not-an-address", False),
        ("a@example.com b@example.com", False),
        ("a@example.com,a@example.com", False),  # the same address twice
        ("a@example.com,b@example.org,c@example.net,a@example.com", False),
        ("a@example.com,aa@example.com,ba@example.com", True),  # one address the end of another
        (",".join(f"{c}@example.com" for c in "abcde"), True),
    ],
)
def test_emails_are_different_addresses(template, value, ok):
    assert_pattern(template, "AlertEmails", value, ok)


@pytest.mark.parametrize(
    "topic,protocol,param",
    [
        ("AlertTopic", "email", "AlertEmails"),
        ("AlertTopic", "sms", "AlertPhoneNumbers"),
        ("AlarmTopic", "email", "AlertEmails"),
        ("AlarmTopic", "sms", "AlertPhoneNumbers"),
    ],
)
def test_every_list_slot_has_a_subscription(resources, topic, protocol, param):
    subs = [
        r for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription"
        and r["Properties"]["TopicArn"] == {"Ref": topic}
        and r["Properties"]["Protocol"] == protocol
    ]
    assert len(subs) == 5
    for index, sub in enumerate(sorted(subs, key=lambda r: r["Condition"])):
        endpoint = sub["Properties"]["Endpoint"]["Fn::Select"]
        assert endpoint[0] == index and param in str(endpoint[1])
        assert "Condition" in sub


def test_phones_get_every_alarm_unfiltered(resources):
    """Alarm messages carry no severity or page attribute: a filter policy would drop them all."""
    sms = [
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "sms"
        and r["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    ]
    assert len(sms) == 5
    assert all("FilterPolicy" not in props for props in sms)


def test_phones_get_only_the_chosen_severities_and_paged_alerts(resources, template):
    sms = [
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "sms"
        and r["Properties"]["TopicArn"] == {"Ref": "AlertTopic"}
    ]
    for props in sms:
        assert props["FilterPolicyScope"] == "MessageAttributes"
        assert props["FilterPolicy"] == {"severity": {"Ref": "SmsSeverities"}, "page": ["true"]}
    param = template["Parameters"]["SmsSeverities"]
    assert param["Default"] == "CRITICAL,HIGH"
    # The function must know which severities are texted, or an untexted alert would use up
    # its session's one SMS (see `Claim::session` in src/ports.rs).
    env = function_props(resources)["Environment"]["Variables"]
    assert env["SMS_SEVERITIES"] == {"Fn::Join": [",", {"Ref": "SmsSeverities"}]}
    assert sorted(param["AllowedValues"]) == ["CRITICAL", "HIGH", "LOW", "MEDIUM"]


def test_assume_root_issuers_reach_the_function_as_one_list(resources, template):
    """Empty by default (no allowance applies); each value a role ARN, joined as the function's
    ASSUME_ROOT_ISSUERS reads them (src/config.rs)."""
    param = template["Parameters"]["AssumeRootIssuers"]
    assert (param["Type"], param["Default"]) == ("CommaDelimitedList", "")
    env = function_props(resources)["Environment"]["Variables"]
    assert env["ASSUME_ROOT_ISSUERS"] == {"Fn::Join": [",", {"Ref": "AssumeRootIssuers"}]}
    # CloudFormation matches a CommaDelimitedList's pattern against each value.
    pattern = re.compile(param["AllowedPattern"])
    for value in ["", "arn:aws:iam::111122223333:role/RootTasks",
                  "arn:aws-us-gov:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Root_0123"]:
        assert pattern.fullmatch(value), value
    for value in ["RootTasks", "arn:aws:iam::111122223333:user/alice",
                  "arn:aws:sts::111122223333:assumed-role/RootTasks/alice", "arn:aws:iam::1111:role/RootTasks"]:
        assert not pattern.fullmatch(value), value


def test_state_table_is_on_demand_encrypted_and_expiring_and_the_function_may_use_it(resources):
    """The table's settings and the role's grant on it. That no one else may write it is the
    table's resource policy, evaluated in test_policies.py."""
    table = resources["StateTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    env = function_props(resources)["Environment"]["Variables"]
    assert env["STATE_TABLE"] == {"Ref": "StateTable"}
    dynamo = [
        st for st in role_statements(resources)
        if any(a.startswith("dynamodb:") for a in as_list(st["Action"]))
    ]
    assert [st["Resource"] for st in dynamo] == [
        {"Fn::GetAtt": ["StateTable", "Arn"]},
        {"Fn::Sub": "${StateTable.Arn}/stream/*"},
        "*",
        {"Fn::GetAtt": ["HeartbeatTable", "Arn"]},
    ]
    assert as_list(dynamo[2]["Action"]) == ["dynamodb:ListStreams"]
    assert table["StreamSpecification"] == {"StreamViewType": "KEYS_ONLY"}
    assert env["DECLARATION_STREAM_ARN"] == {"Fn::GetAtt": ["StateTable", "StreamArn"]}
    assert set(dynamo[0]["Action"]) == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
    }


def test_declarations_ring_the_function_one_at_a_time_and_a_stuck_one_is_kept(resources):
    """The declarations' doorbell (docs/declaring.md): only records written from now on (an old
    stream's records are not replayed on a new mapping), one a batch (the function refuses a
    larger one), retried while younger than the async config's age so a failing announcement
    keeps paging, then the record's metadata kept in the failed-events queue, whose alarm fires
    (Lambda Developer Guide, "Retaining discarded records for a DynamoDB event source"). It
    starts only once the role may read the stream."""
    mapping = resources["DeclarationsMapping"]
    assert mapping["Type"] == "AWS::Lambda::EventSourceMapping"
    assert as_list(mapping["DependsOn"]) == [POLICY]
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Ref": FUNCTION}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["StateTable", "StreamArn"]}
    assert props["StartingPosition"] == "LATEST"
    assert props["BatchSize"] == 1
    assert props["MaximumRetryAttempts"] == -1
    age = function_props(resources)["EventInvokeConfig"]["MaximumEventAgeInSeconds"]
    assert props["MaximumRecordAgeInSeconds"] == age == 21600
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}}
    assert props["FilterCriteria"] == {
        "Filters": [{"Pattern": '{"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"declaration#"}]}}}}'}]
    }
    # Nothing else: a setting added later (a batching window, bisecting, parallel batches) is a
    # decision to make here.
    assert set(props) == {
        "FunctionName", "EventSourceArn", "StartingPosition", "BatchSize", "FilterCriteria",
        "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "DestinationConfig",
    }
    assert [name for name, r in resources.items() if r["Type"] == "AWS::Lambda::EventSourceMapping"] \
        == ["DeclarationsMapping"]


def test_outputs(template):
    assert set(template["Outputs"]) >= {
        "AlertTopicArn", "AlarmTopicArn", "FunctionName", "FailedEventsQueueUrl", "StateTableName"
    }


def test_an_alarm_fires_when_the_watchdog_is_blind_or_has_not_run_for_3_hours(resources, template):
    (alarm,) = alarms_on(resources, "rootwatch", "WatchdogHealthy")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": FUNCTION}}]
    assert (alarm["Statistic"], alarm["Threshold"], alarm["ComparisonOperator"]) == ("Minimum", 1, "LessThanThreshold")
    assert (alarm["Period"], alarm["EvaluationPeriods"]) == (10800, 1)
    assert alarm["TreatMissingData"] == "breaching", "a watchdog that stopped running must alarm"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # Every 3-hour period holds at least one run.
    assert template["Parameters"]["WatchdogMinutes"]["MaxValue"] <= 120


def test_the_dashboard_shows_every_metric_the_function_emits(resources):
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body, _ = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    for metric in ["Alerts", "Ignored", "Duplicates", "DeliveryFailures", "WatchdogHealthy"]:
        assert f'"rootwatch", "{metric}", "FunctionName"' in body, metric


def test_the_coverage_check_alarms_when_it_has_not_run_for_three_hours(resources):
    """CoverageChecked counts each check that read its inputs; none in 3 hours (a disabled
    schedule, a failing function, refused reads) is an alarm, and missing data breaches."""
    alarm = resources["CoverageAlarm"]
    assert alarm["Condition"] == "HasCoverage"
    props = alarm["Properties"]
    assert (props["Namespace"], props["MetricName"], props["Statistic"]) == ("rootwatch", "CoverageChecked", "Sum")
    assert props["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": FUNCTION}}]
    assert (props["Threshold"], props["ComparisonOperator"]) == (1, "LessThanThreshold")
    assert (props["Period"], props["EvaluationPeriods"]) == (10800, 1)
    assert props["TreatMissingData"] == "breaching"
    assert props["AlarmActions"] == props["OKActions"] == [{"Ref": "AlarmTopic"}]
    body = json.dumps(resources["Dashboard"]["Properties"]["DashboardBody"])
    for state in ("blind", "pending", "watched", "home"):
        assert f'\\"CoverageCells\\", \\"FunctionName\\", \\"${{Fn}}\\", \\"State\\", \\"{state}\\"' in body, state
KEYS = {"PagerDutyRoutingKey": "PagerDutyConnection", "OpsgenieApiKey": "OpsgenieConnection"}


def test_the_on_call_keys_are_hidden_and_read_by_their_connection_alone(template, resources):
    """A key is NoEcho, only its connection reads it (or its secret's name), PagerDuty's as a secret
    body parameter (EventBridge keeps it in the connection's secret), and no output names either."""
    for parameter, connection in KEYS.items():
        assert template["Parameters"][parameter]["NoEcho"] is True
        readers = {name for name, r in resources.items() if parameter in json.dumps(r)}
        assert readers == {connection}, parameter
        assert parameter not in json.dumps(template["Outputs"])
    (body,) = resources["PagerDutyConnection"]["Properties"]["AuthParameters"]["InvocationHttpParameters"][
        "BodyParameters"]
    assert body["Key"] == "routing_key" and body["IsValueSecret"] is True


@pytest.mark.parametrize("parameters, refused", [
    ({}, []),
    ({"PagerDutyRoutingKey": "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"}, []),
    ({"PagerDutyRoutingKeySecret": "pd"}, []),
    ({"PagerDutyRoutingKey": "none", "PagerDutyRoutingKeySecret": "pd"}, []),
    ({"PagerDutyRoutingKey": "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12", "PagerDutyRoutingKeySecret": "pd"}, ["OnePagerDutyKey"]),
    ({"OpsgenieApiKey": "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f", "OpsgenieApiKeySecret": "og"}, ["OneOpsgenieKey"]),
    # "none" is no secret, as it is no key.
    ({"PagerDutyRoutingKey": "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12", "PagerDutyRoutingKeySecret": "none"}, []),
    ({"OpsgenieApiKey": "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f", "OpsgenieApiKeySecret": "none"}, []),
    # A version is of a secret: without one it would be silently ignored.
    ({"PagerDutyRoutingKeySecret": "pd", "PagerDutyRoutingKeySecretVersion": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"}, []),
    ({"PagerDutyRoutingKey": "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12",
      "PagerDutyRoutingKeySecretVersion": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"}, ["OnePagerDutyKey"]),
    ({"OpsgenieApiKeySecret": "none", "OpsgenieApiKeySecretVersion": "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"},
     ["OneOpsgenieKey"]),
])
def test_the_rules_refuse_a_key_given_both_ways(template, parameters, refused):
    """With both, which one pages would depend on the template's order: CloudFormation refuses the
    parameters before creating anything (the Rules section, evaluated here as CloudFormation does)."""
    from intrinsics import Stack

    stack = Stack(template, {"AlertEmails": "secops@example.com", **parameters}, "123456789012", "us-east-1", "rootwatch")
    failing = [name for name, rule in template["Rules"].items()
               if not all(stack.resolve(a["Assert"]) for a in rule["Assertions"])]
    assert failing == refused


def test_the_imagined_stack_refuses_what_cloudformation_refuses(deployed_template):
    """Every test that builds a Stack gets CloudFormation's parameter check: a value outside its
    AllowedPattern or AllowedValues, or one item of a list, is refused before anything resolves."""
    good = {"AlertEmails": "secops@example.com"}
    Stack(deployed_template, good, ACCOUNT, REGION, "ok")
    for bad in [{"AlertEmails": "secops@example.com, oncall@example.com"},
                {"PagerDutyRegion": "APAC"},
                {"DeclarerArns": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass,arn:aws:iam::{ACCOUNT}:root"}]:
        with pytest.raises(ValueError, match=next(iter(bad))):
            Stack(deployed_template, {**good, **bad}, ACCOUNT, REGION, "refused")
    # The one opt-out, for a test of what a refused value would do.
    Stack(deployed_template, {**good, "PagerDutyRegion": "APAC"}, ACCOUNT, REGION, "unchecked", check_parameters=False)
