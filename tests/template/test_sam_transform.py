"""What CloudFormation will actually deploy: template.yaml run through the SAM transform
(samtranslator, the library inside SAM CLI), offline. What SAM generates from the function's
shorthand (the async invoke config, and no role of its own) and what must survive it (rules and
their dead-letter queue, the function's role and dependency on its policy) are checked here.
test_deployable.py lints this output and creates it on moto's CloudFormation."""
import json

import pytest

from dependencies import find_cycle


@pytest.fixture(scope="module")
def deployed(deployed_template):
    return deployed_template["Resources"]


def of_type(resources, kind):
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == kind}


def test_rules_target_the_function_with_a_dead_letter_queue(deployed):
    rules = of_type(deployed, "AWS::Events::Rule")
    # Root sign-ins, root API calls, the watchdog's schedule; in organization mode the same two
    # patterns on the home bus, and the forwarders' failing alarms; with coverage, the checks
    # schedule and the heartbeats' rule, which alone has no dead-letter queue (docs/coverage.md).
    # The four on-call rules on the alert bus send to the tools, not the function (their targets:
    # test_incident_transformers.py, test_deployable.py).
    on_call = {name for name in rules if name.startswith("OnCall")}
    assert on_call == {"OnCallCritical", "OnCallHigh", "OnCallMedium", "OnCallLow"}
    assert len(rules) == 8 + len(on_call)
    for name, rule in rules.items():
        if name in on_call:
            assert all("Fn::If" in target for target in rule["Targets"])
            continue
        if name == "HomeBusHeartbeat":
            (target,) = rule["Targets"]
            assert "DeadLetterConfig" not in target
            continue
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["RootwatchFunction", "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400


def test_the_api_rule_also_receives_read_only_root_calls(deployed):
    rules = of_type(deployed, "AWS::Events::Rule")
    states = {
        rule["EventPattern"]["detail-type"][0]: rule.get("State")
        for name, rule in rules.items() if "EventPattern" in rule and not name.startswith("OnCall")
    }
    assert states == {
        "AWS API Call via CloudTrail": "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
        "AWS Console Sign In via CloudTrail": "ENABLED",
        "CloudWatch Alarm State Change": "ENABLED",
        "Scheduled Event": "ENABLED",
    }


def test_async_invocations_retry_then_land_in_the_queue(deployed):
    (config,) = of_type(deployed, "AWS::Lambda::EventInvokeConfig").values()
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedEventsQueue", "Arn"]
    }


def test_the_function_has_one_role_and_waits_for_its_policy(deployed):
    """SAM generates no role (it would carry policies the template does not show), and the
    function is created only after its policy is attached. (The other role is the optional chat
    channel's, which has no permissions: test_chat_channels.py.)"""
    roles = set(of_type(deployed, "AWS::IAM::Role"))
    # (OnCallRole is the on-call rules' role, for EventBridge: test_policies.py.)
    assert roles == {"RootwatchFunctionRole", "ChatChannelRole", "OnCallRole"}
    role = "RootwatchFunctionRole"
    assert set(deployed[role]["Properties"]) == {"AssumeRolePolicyDocument"}
    fn = deployed["RootwatchFunction"]
    assert fn["Properties"]["Role"] == {"Fn::GetAtt": ["RootwatchFunctionRole", "Arn"]}
    assert fn["DependsOn"] == ["RootwatchFunctionPolicy", "RootwatchAlertEventsPolicy"]


# The documented exceptions (template.yaml): DescribeTrails accepts no resource but "*", and the
# watchdog reads trails of any account because an organization trail is the management account's.
WILDCARD_EXCEPTIONS = {
    "ListTrails": ("cloudtrail:DescribeTrails", "*"),
    "CheckTrails": (
        ["cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"],
        {"Fn::Sub": "arn:${AWS::Partition}:cloudtrail:*:*:trail/*"},
    ),
    # Organization mode: the management account's id is not known to the stack; the organization is.
    # The declarations' stream mapping: ListStreams accepts no resource but "*".
    "ListDeclarationStreams": ("dynamodb:ListStreams", "*"),
    # The state table's streams: each stream's label (its creation time) is not known to the stack.
    "ReadDeclarationStream": (
        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        {"Fn::Sub": "${StateTable.Arn}/stream/*"},
    ),
    # The root user's posture, and in organization mode the members and their root access
    # features: none of these actions has a resource type.
    "ReadRootPosture": (
        ["iam:GetAccountSummary", "iam:ListVirtualMFADevices", "iam:GetCredentialReport",
         "iam:GenerateCredentialReport"],
        "*",
    ),
    "ListMemberAccounts": (["organizations:ListAccounts", "organizations:DescribeOrganization"], "*"),
    "ReadRootAccessFeatures": ("iam:ListOrganizationsFeatures", "*"),
    # Any member's root user, but only with the audit task policy (the statement's condition).
    "AuditMemberRootCredentials": ("sts:AssumeRoot", "*"),
    "NameMemberAccounts": (
        "organizations:DescribeAccount",
        {"Fn::Sub": "arn:${AWS::Partition}:organizations::*:account/${OrganizationId}/*"},
    ),
}


def test_the_role_has_no_wildcard_resource_but_the_documented_read_only_ones(deployed):
    policies = of_type(deployed, "AWS::IAM::Policy")
    assert sorted(policies) == [
        "RootwatchAccountsPolicy", "RootwatchAlertEventsPolicy", "RootwatchCoveragePolicy",
        "RootwatchFunctionPolicy", "RootwatchMemberAuditPolicy", "RootwatchOrganizationsPolicy",
        "RootwatchSecurityHubPolicy",
    ]
    statements = [st for p in policies.values() for st in p["PolicyDocument"]["Statement"]]
    excepted = {st["Sid"]: (st["Action"], st["Resource"]) for st in statements if st.get("Sid") in WILDCARD_EXCEPTIONS}
    assert excepted == WILDCARD_EXCEPTIONS
    for st in statements:
        if st.get("Sid") in WILDCARD_EXCEPTIONS:
            continue
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        assert all(r != "*" and "*" not in json.dumps(r) for r in resources), st


def test_no_dependency_cycle(deployed):
    """CloudFormation refuses a template whose resources reference each other in a loop (what
    SAM's generated role, the key policy and the topic made before)."""
    assert find_cycle(deployed) is None


def test_the_function_runs_rust_on_arm64(deployed):
    fn = deployed["RootwatchFunction"]["Properties"]
    assert fn["Runtime"] == "provided.al2023"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "bootstrap"
    assert fn["LoggingConfig"]["LogFormat"] == "JSON"


def test_the_watchdog_ticks_on_its_schedule(deployed):
    schedule = of_type(deployed, "AWS::Events::Rule")["RootwatchWatchdogSchedule"]
    assert schedule["ScheduleExpression"] == {"Fn::Sub": "rate(${WatchdogMinutes} minutes)"}
    checks = of_type(deployed, "AWS::Events::Rule")["RootwatchChecksSchedule"]
    assert checks["ScheduleExpression"] == "rate(1 hour)"
    assert schedule["State"] == "ENABLED"
