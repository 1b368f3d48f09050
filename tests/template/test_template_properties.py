"""Security and reliability properties of template.yaml, asserted from the parsed template so
that a later edit cannot silently drop them. (cfn-lint does not look inside
AWS::Serverless::Function properties, so they are checked here.)"""
import re

import pytest

FUNCTION = "RootwatchFunction"


def function_props(resources):
    return resources[FUNCTION]["Properties"]


def statements(policy_doc):
    s = policy_doc["Statement"]
    return s if isinstance(s, list) else [s]


def as_list(x):
    return x if isinstance(x, list) else [x]


def test_function_is_a_rust_arm64_lambda(resources):
    fn = resources[FUNCTION]
    assert fn["Type"] == "AWS::Serverless::Function"
    assert fn["Metadata"]["BuildMethod"] == "rust-cargolambda"
    props = fn["Properties"]
    assert props["Runtime"] == "provided.al2023"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "bootstrap"
    # The SNS client gives up after 12 s (src/sns.rs OPERATION_TIMEOUT); Lambda must not first.
    assert props["Timeout"] > 12
    assert 128 <= props["MemorySize"] <= 512


def test_function_policies_name_their_resources(resources):
    policies = function_props(resources)["Policies"]
    assert policies, "the function needs an explicit policy"
    for policy in policies:
        assert isinstance(policy, dict) and "Statement" in policy, (
            f"only inline statements, so every resource is visible here: {policy}"
        )
        for st in statements(policy):
            for resource in as_list(st["Resource"]):
                assert resource != "*" and "*" not in str(resource), st
            assert "*" not in str(st["Action"]), st


def test_function_may_publish_only_to_the_alert_topic(resources):
    publish = [
        st
        for policy in function_props(resources)["Policies"]
        for st in statements(policy)
        if "sns:Publish" in as_list(st["Action"])
    ]
    assert [st["Resource"] for st in publish] == [{"Ref": "AlertTopic"}]
    assert function_props(resources)["Environment"]["Variables"]["ALERT_TOPIC_ARN"] == {
        "Ref": "AlertTopic"
    }


def test_topic_is_encrypted_with_a_rotated_key(resources):
    assert resources["AlertTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertKey"}
    assert resources["AlertKey"]["Properties"]["EnableKeyRotation"] is True


def test_only_the_function_and_alarms_may_use_the_key(resources):
    use = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:*"}
    users = []
    for st in statements(resources["AlertKey"]["Properties"]["KeyPolicy"]):
        if st["Effect"] == "Allow" and use & set(as_list(st["Action"])):
            users.append(st["Principal"])
    assert sorted(map(str, users)) == sorted(
        map(str, [{"AWS": {"Fn::GetAtt": ["RootwatchFunctionRole", "Arn"]}},
                  {"Service": "cloudwatch.amazonaws.com"}])
    )


def test_only_the_function_and_alarms_may_publish(resources):
    policy = resources["AlertTopicPolicy"]["Properties"]["PolicyDocument"]
    allowed = [st["Principal"] for st in statements(policy) if st["Effect"] == "Allow"]
    assert sorted(map(str, allowed)) == sorted(
        map(str, [{"AWS": {"Fn::GetAtt": ["RootwatchFunctionRole", "Arn"]}},
                  {"Service": "cloudwatch.amazonaws.com"}])
    )
    denies = [st for st in statements(policy) if st["Effect"] == "Deny"]
    assert any("NotPrincipal" in st for st in denies), "everyone else is denied explicitly"
    assert any(
        st.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        for st in denies
    ), "publishing without TLS is denied"


def test_failed_events_are_kept_in_an_encrypted_queue(resources):
    config = function_props(resources)["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    assert 0 < config["MaximumEventAgeInSeconds"] <= 21600
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}}
    queue = resources["FailedEventsQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True or "KmsMasterKeyId" in queue
    assert queue["MessageRetentionPeriod"] == 1209600
    for name, event in function_props(resources)["Events"].items():
        assert event["Properties"]["DeadLetterConfig"]["Arn"] == {
            "Fn::GetAtt": ["FailedEventsQueue", "Arn"]
        }, f"rule {name} must keep events it cannot deliver"


@pytest.mark.parametrize(
    "namespace,metric",
    [
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    ],
)
def test_alarms_notify_the_alert_topic(resources, namespace, metric):
    alarms = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"]["Namespace"] == namespace
        and r["Properties"]["MetricName"] == metric
    ]
    assert len(alarms) == 1, f"one alarm on {namespace} {metric}"
    assert alarms[0]["AlarmActions"] == [{"Ref": "AlertTopic"}]
    assert alarms[0]["Threshold"] == 1


def test_logs_are_kept_for_a_set_time(resources, template):
    props = function_props(resources)
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionLogGroup"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    retention = resources["FunctionLogGroup"]["Properties"]["RetentionInDays"]
    assert retention == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] >= 90


def pattern(template, name):
    return re.compile(template["Parameters"][name]["AllowedPattern"])


@pytest.mark.parametrize(
    "value,ok",
    [
        ("", True),
        ("+15555550100", True),
        ("+15555550100,+447700900123", True),
        (",".join(["+15555550100"] * 5), True),
        (",".join(["+15555550100"] * 6), False),  # only 5 slots exist
        ("5555550100", False),
        ("+1 555 555 0100", False),
        ("+15555550100, +447700900123", False),
        ("+0123456789", False),
        ("+1234567890123456", False),
    ],
)
def test_phone_numbers_must_be_e164(template, value, ok):
    assert bool(pattern(template, "AlertPhoneNumbers").fullmatch(value)) is ok


@pytest.mark.parametrize(
    "value,ok",
    [
        ("", True),
        ("secops@example.com", True),
        ("a@example.com,b@example.org", True),
        (",".join(["a@example.com"] * 6), False),
        ("not-an-address", False),
        ("a@example.com b@example.com", False),
    ],
)
def test_emails_are_addresses(template, value, ok):
    assert bool(pattern(template, "AlertEmails").fullmatch(value)) is ok


def test_every_list_slot_has_a_subscription(resources, template):
    for protocol, param, count in [("email", "AlertEmails", 5), ("sms", "AlertPhoneNumbers", 5)]:
        subs = [
            r for r in resources.values()
            if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == protocol
        ]
        assert len(subs) == count
        for index, sub in enumerate(sorted(subs, key=lambda r: r["Condition"])):
            endpoint = sub["Properties"]["Endpoint"]["Fn::Select"]
            assert endpoint[0] == index and param in str(endpoint[1])
            assert "Condition" in sub


def test_phones_get_only_the_chosen_severities_and_paged_alerts(resources, template):
    sms = [
        r["Properties"] for r in resources.values()
        if r["Type"] == "AWS::SNS::Subscription" and r["Properties"]["Protocol"] == "sms"
    ]
    for props in sms:
        assert props["FilterPolicyScope"] == "MessageAttributes"
        assert props["FilterPolicy"] == {"severity": {"Ref": "SmsSeverities"}, "page": ["true"]}
    param = template["Parameters"]["SmsSeverities"]
    assert param["Default"] == "CRITICAL,HIGH"
    # The function must know which severities are texted, or an untexted alert would use up
    # its session's one SMS (see src/state.rs).
    env = function_props(resources)["Environment"]["Variables"]
    assert env["SMS_SEVERITIES"] == {"Fn::Join": [",", {"Ref": "SmsSeverities"}]}
    assert sorted(param["AllowedValues"]) == ["CRITICAL", "HIGH", "LOW", "MEDIUM"]


def test_state_table_is_on_demand_encrypted_expiring_and_the_functions_alone(resources):
    table = resources["StateTable"]["Properties"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    env = function_props(resources)["Environment"]["Variables"]
    assert env["STATE_TABLE"] == {"Ref": "StateTable"}
    dynamo = [
        st
        for policy in function_props(resources)["Policies"]
        for st in statements(policy)
        if any(a.startswith("dynamodb:") for a in as_list(st["Action"]))
    ]
    assert [st["Resource"] for st in dynamo] == [{"Fn::GetAtt": ["StateTable", "Arn"]}]
    assert set(dynamo[0]["Action"]) == {
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"
    }


def test_outputs(template):
    assert set(template["Outputs"]) >= {
        "AlertTopicArn", "FunctionName", "FailedEventsQueueUrl", "StateTableName"
    }
