"""Who may do what with the deployed stack's topics, keys, table, queue and logs: the transformed
template's role policy, topic policies, key policies and queue policy, resolved to concrete ARNs for
one imagined stack and evaluated as IAM documents it (iam_policy.py). moto does not evaluate
resource policies, so this is where a policy that locks out the function, or lets anyone else in,
is caught."""
import json
import re

import pytest
from parliament import analyze_policy_string, iam_definition

from cfnlint.decode import cfn_yaml

from conftest import ACCOUNT, REGION, repo_templates
from iam_policy import (
    ALLOWED,
    EXPLICIT_DENY,
    Caller,
    IMPLICIT_DENY,
    Request,
    decide,
    service,
    session,
    user,
)
from intrinsics import Stack

STACK_NAME = "rootwatch"
OTHER_ACCOUNT = "444455556666"


# Both modes: organization mode adds a home bus and the Organizations read, and must leave every
# grant below as it is in a single account. It is given a phone too, so that every conditional
# alarm exists in one mode and none in the other.
MODES = {
    "single-account": {},
    "organization": {"OrganizationId": "o-a1b2c3d4e5", "AlertPhoneNumbers": "+15555550100"},
}


@pytest.fixture(scope="module", params=list(MODES), ids=list(MODES))
def stack(request, deployed_template):
    return Stack(deployed_template, MODES[request.param], ACCOUNT, REGION, STACK_NAME)


@pytest.fixture(scope="module")
def mode(stack):
    return "organization" if stack.parameters.get("OrganizationId") else "single-account"


def resolved(stack, logical_id, prop):
    return stack.resolve(stack.resources[logical_id]["Properties"][prop])


@pytest.fixture(scope="module")
def role_arn(stack):
    return stack.get_att("RootwatchFunctionRole", "Arn")


@pytest.fixture(scope="module")
def function(stack, role_arn):
    """The function's assumed-role session: arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION."""
    return session(role_arn, stack.ref("RootwatchFunction"))


def created_properties(stack, resource_type):
    """The properties of every resource of a type that this mode creates (its Condition holds)."""
    created = stack.created()
    return [r["Properties"] for logical_id, r in stack.resources.items()
            if logical_id in created and r["Type"] == resource_type]


@pytest.fixture(scope="module")
def role_policies(stack):
    """Every identity policy attached to the function's role."""
    role = {"Ref": "RootwatchFunctionRole"}
    attached = [p["PolicyDocument"] for p in created_properties(stack, "AWS::IAM::Policy")
                if role in p["Roles"]]
    assert attached, "the role has a policy"
    return [stack.resolve(doc) for doc in attached]


def resource_policy_of(stack, policy_type, list_property, target):
    """The resource policy (topic or queue policy) attached to a resource."""
    found = [stack.resolve(p["PolicyDocument"]) for p in created_properties(stack, policy_type)
             if {"Ref": target} in p[list_property]]
    assert len(found) == 1, f"one policy for {target}"
    return found[0]


@pytest.fixture(scope="module")
def topics(stack):
    return {
        name: (stack.ref(name), resource_policy_of(stack, "AWS::SNS::TopicPolicy", "Topics", name))
        for name in ["AlertTopic", "AlarmTopic"]
    }


@pytest.fixture(scope="module")
def keys(stack):
    return {
        name: (stack.get_att(name, "Arn"), resolved(stack, name, "KeyPolicy"))
        for name in ["AlertKey", "AlarmKey"]
    }


def context_of(caller, role_arn=None, tls=True, **extra):
    """The request context IAM builds: aws:PrincipalArn is the role's ARN for an assumed-role
    session and the user's ARN for a user; service principals carry none."""
    context = {"aws:SecureTransport": "true" if tls else "false", **extra}
    if caller.arn:
        context["aws:PrincipalArn"] = role_arn or caller.arn
        context["aws:PrincipalAccount"] = caller.account
        context["aws:PrincipalType"] = principal_type(caller.arn)
    return context


def principal_type(arn):
    """aws:PrincipalType as IAM sets it (IAM User Guide, "IAM policy elements: Variables and
    tags", "Principal key values"): Account for the root user."""
    resource = arn.split(":", 5)[5]
    if resource == "root":
        return "Account"
    if resource.startswith("assumed-role/"):
        return "AssumedRole"
    if resource.startswith("federated-user/"):
        return "FederatedUser"
    return "User"


# Another principal of the account whose identity policy allows everything.
ADMIN = user(ACCOUNT, "admin")
EVERYTHING = [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]

CLOUDWATCH = service("cloudwatch.amazonaws.com")


def alarm_context(account=ACCOUNT, name=f"{STACK_NAME}-function-errors"):
    """What CloudWatch's request to publish an alarm carries: the alarm's ARN and account."""
    return {
        "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{account}:alarm:{name}",
        "aws:SourceAccount": account,
        "aws:SecureTransport": "true",
    }


def sns_publish(caller, topics, topic, identity, context):
    arn, topic_policy = topics[topic]
    return decide(Request(caller, "sns:Publish", arn, context), identity, topic_policy)


def kms_via_sns(caller, keys, key, identity, context, action="kms:GenerateDataKey"):
    arn, key_policy = keys[key]
    context = {**context, "kms:ViaService": f"sns.{REGION}.amazonaws.com"}
    return decide(Request(caller, action, arn, context), identity, key_policy=key_policy)


# --- the alert topic ---------------------------------------------------------------------------------


def test_the_function_may_publish_alerts(function, role_arn, role_policies, topics, keys):
    context = context_of(function, role_arn)
    assert sns_publish(function, topics, "AlertTopic", role_policies, context)[0] == ALLOWED
    # SNS encrypts with the topic's key as the publisher: both calls must be allowed.
    for action in ["kms:GenerateDataKey", "kms:Decrypt"]:
        assert kms_via_sns(function, keys, "AlertKey", role_policies, context, action)[0] == ALLOWED


def test_the_function_may_check_its_topic(function, role_arn, role_policies, topics):
    arn, topic_policy = topics["AlertTopic"]
    request = Request(function, "sns:GetTopicAttributes", arn, context_of(function, role_arn))
    assert decide(request, role_policies, topic_policy)[0] == ALLOWED


def test_the_posture_check_may_read_the_root_users_credentials_and_change_none(function, role_arn, role_policies):
    """The four reads of the root user's posture; no IAM write but GenerateCredentialReport, so
    the role can neither create nor delete a credential, nor attach a policy to itself."""
    context = context_of(function, role_arn)
    for action in ["iam:GetAccountSummary", "iam:ListVirtualMFADevices", "iam:GetCredentialReport",
                   "iam:GenerateCredentialReport"]:
        assert decide(Request(function, action, "*", context), role_policies)[0] == ALLOWED, action
    root = f"arn:aws:iam::{ACCOUNT}:root"
    user = f"arn:aws:iam::{ACCOUNT}:user/alice"
    for action in ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:UpdateAccessKey", "iam:CreateLoginProfile",
                   "iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice", "iam:EnableMFADevice",
                   "iam:UploadSigningCertificate", "iam:AttachRolePolicy", "iam:PutRolePolicy",
                   "iam:ListAccessKeys", "iam:GetLoginProfile"]:
        for resource in [root, user, "*"]:
            assert decide(Request(function, action, resource, context), role_policies)[0] == IMPLICIT_DENY, action


def test_the_function_may_name_member_accounts_only_in_organization_mode(function, role_arn, role_policies, mode):
    """DescribeAccount on the organization's accounts, from the management account (or a
    delegated administrator); nothing else of Organizations, and nothing in a single account."""
    def describe(organization, action="organizations:DescribeAccount"):
        arn = f"arn:aws:organizations::999988887777:account/{organization}/444455556666"
        return decide(Request(function, action, arn, context_of(function, role_arn)), role_policies)[0]

    expected = ALLOWED if mode == "organization" else IMPLICIT_DENY
    assert describe("o-a1b2c3d4e5") == expected
    assert describe("o-zzzzzzzzzz") == IMPLICIT_DENY
    for action in ["organizations:CreateAccount", "organizations:RemoveAccountFromOrganization",
                   "organizations:MoveAccount", "organizations:LeaveOrganization"]:
        assert describe("o-a1b2c3d4e5", action) == IMPLICIT_DENY, action


def test_the_function_may_list_members_and_read_root_access_features_only_in_organization_mode(
        function, role_arn, role_policies, mode):
    """ListAccounts, DescribeOrganization and ListOrganizationsFeatures (no resource types); no
    IAM organization write (enabling or disabling centralized root access stays the deployer's)."""
    context = context_of(function, role_arn)
    expected = ALLOWED if mode == "organization" else IMPLICIT_DENY
    for action in ["organizations:ListAccounts", "organizations:DescribeOrganization",
                   "iam:ListOrganizationsFeatures"]:
        assert decide(Request(function, action, "*", context), role_policies)[0] == expected, action
    for action in ["iam:EnableOrganizationsRootSessions", "iam:DisableOrganizationsRootSessions",
                   "iam:DisableOrganizationsRootCredentialsManagement"]:
        assert decide(Request(function, action, "*", context), role_policies)[0] == IMPLICIT_DENY, action


AUDIT_TASK = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


@pytest.mark.parametrize("task,expected_in_organization", [
    (AUDIT_TASK, ALLOWED),
    ("arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials", IMPLICIT_DENY),
    ("arn:aws:iam::aws:policy/root-task/IAMCreateRootUserPassword", IMPLICIT_DENY),
    ("arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy", IMPLICIT_DENY),
    (None, IMPLICIT_DENY),
], ids=["audit", "delete", "create-password", "s3-unlock", "no-task-policy"])
def test_the_function_may_assume_root_only_to_audit_root_credentials(function, role_arn, role_policies, mode,
                                                                      task, expected_in_organization):
    """sts:AssumeRoot on a member's root user with the audit task policy only, and only in
    organization mode: a session that could delete or create credentials, or unlock a resource
    policy, is never granted, nor one that names no task policy."""
    extra = {"sts:TaskPolicyArn": task} if task else {}
    context = context_of(function, role_arn, **extra)
    member_root = "arn:aws:iam::210987654321:root"
    expected = expected_in_organization if mode == "organization" else IMPLICIT_DENY
    assert decide(Request(function, "sts:AssumeRoot", member_root, context), role_policies)[0] == expected


def test_member_root_audit_false_grants_no_assume_root(deployed_template, function, role_arn):
    """MemberRootAudit=false in organization mode: the role has no sts:AssumeRoot, and reads
    neither the root access features nor (coverage off) the organization's accounts."""
    stack = Stack(deployed_template, {**MODES["organization"], "MemberRootAudit": "false"}, ACCOUNT, REGION,
                  STACK_NAME)
    role = {"Ref": "RootwatchFunctionRole"}
    policies = [stack.resolve(p["PolicyDocument"]) for p in created_properties(stack, "AWS::IAM::Policy")
                if role in p["Roles"]]
    context = context_of(function, role_arn, **{"sts:TaskPolicyArn": AUDIT_TASK})
    assert decide(Request(function, "sts:AssumeRoot", "arn:aws:iam::210987654321:root", context), policies)[0] \
        == IMPLICIT_DENY
    assert decide(Request(function, "iam:ListOrganizationsFeatures", "*", context_of(function, role_arn)),
                  policies)[0] == IMPLICIT_DENY
    assert decide(Request(function, "organizations:ListAccounts", "*", context_of(function, role_arn)),
                  policies)[0] == IMPLICIT_DENY


def test_no_other_principal_may_publish_alerts(topics, keys):
    """An administrator of the account, allowed everything by their identity policy, is still
    refused by the topic policy, and the key does not open for them."""
    context = context_of(ADMIN)
    assert sns_publish(ADMIN, topics, "AlertTopic", EVERYTHING, context)[0] == EXPLICIT_DENY
    assert kms_via_sns(ADMIN, keys, "AlertKey", EVERYTHING, context)[0] == IMPLICIT_DENY


def test_another_session_of_another_role_may_not_publish_alerts(topics):
    other = session(f"arn:aws:iam::{ACCOUNT}:role/{STACK_NAME}-SomethingElse", "x")
    assert sns_publish(other, topics, "AlertTopic", EVERYTHING, context_of(other, other.role_arn))[0] == EXPLICIT_DENY


def test_alarms_may_not_publish_to_the_alert_topic(topics):
    assert sns_publish(CLOUDWATCH, topics, "AlertTopic", [], alarm_context())[0] == EXPLICIT_DENY


def test_publishing_without_tls_is_denied_even_to_the_function(function, role_arn, role_policies, topics):
    context = context_of(function, role_arn, tls=False)
    assert sns_publish(function, topics, "AlertTopic", role_policies, context) == (EXPLICIT_DENY, "TlsOnly")


def test_the_function_may_not_publish_as_another_principal_arn(function, role_policies, topics):
    """The deny keys on aws:PrincipalArn: a request whose principal is not the role is denied,
    even with the role's permissions (what keeps the deny from being vacuous)."""
    context = context_of(function, f"arn:aws:iam::{ACCOUNT}:role/impostor")
    assert sns_publish(function, topics, "AlertTopic", role_policies, context)[0] == EXPLICIT_DENY


def test_the_old_not_principal_deny_would_have_locked_out_the_function(function, role_arn, role_policies, topics):
    """The statement this template had before (Deny with NotPrincipal naming the role and
    CloudWatch): IAM may evaluate the function's session as the account, the role and the
    session, and the account and the session were not listed."""
    arn, topic_policy = topics["AlertTopic"]
    old = {
        "Version": "2012-10-17",
        "Statement": [
            *(st for st in topic_policy["Statement"] if st["Effect"] == "Allow"),
            {
                "Sid": "NoOneElsePublishes",
                "Effect": "Deny",
                "NotPrincipal": {"AWS": role_arn, "Service": "cloudwatch.amazonaws.com"},
                "Action": "sns:Publish",
                "Resource": arn,
            },
        ],
    }
    request = Request(function, "sns:Publish", arn, context_of(function, role_arn))
    assert decide(request, role_policies, old) == (EXPLICIT_DENY, "NoOneElsePublishes")


# --- the alarm topic ---------------------------------------------------------------------------------


def test_alarms_of_this_account_may_publish_to_the_alarm_topic(topics, keys):
    assert sns_publish(CLOUDWATCH, topics, "AlarmTopic", [], alarm_context())[0] == ALLOWED
    for action in ["kms:GenerateDataKey", "kms:Decrypt"]:
        assert kms_via_sns(CLOUDWATCH, keys, "AlarmKey", [], alarm_context(), action)[0] == ALLOWED


@pytest.fixture(scope="module")
def alarm_names(stack):
    """The names of the alarms this mode creates."""
    return [stack.resolve(props["AlarmName"]) for props in created_properties(stack, "AWS::CloudWatch::Alarm")]


def test_every_alarm_of_this_stack_may_publish_to_the_alarm_topic(topics, alarm_names, mode):
    """Each alarm the stack creates, in this mode, is admitted by name: an alarm left out of the
    topic policy would go into ALARM and tell no one."""
    assert len(alarm_names) == (15 if mode == "organization" else 11)
    for name in alarm_names:
        assert name.startswith(f"{STACK_NAME}-")
        assert sns_publish(CLOUDWATCH, topics, "AlarmTopic", [], alarm_context(name=name))[0] == ALLOWED, name


@pytest.mark.parametrize(
    "name,decision",
    [
        # Anyone allowed cloudwatch:PutMetricAlarm may name an alarm as they like and make this
        # topic its action: only this stack's alarms, by name, are admitted.
        (f"{STACK_NAME}-my-own-alarm", IMPLICIT_DENY),
        (f"{STACK_NAME}-function-errors-copy", IMPLICIT_DENY),
        (f"{STACK_NAME}x-function-errors", EXPLICIT_DENY),
        (f"{STACK_NAME}-dev-function-errors", IMPLICIT_DENY),  # another stack whose name extends ours
        ("billing-alarm", EXPLICIT_DENY),
    ],
)
def test_other_alarms_of_the_account_may_not_publish_to_the_alarm_topic(topics, name, decision):
    assert sns_publish(CLOUDWATCH, topics, "AlarmTopic", [], alarm_context(name=name))[0] == decision


def test_alarms_of_another_account_may_not_publish_or_use_the_key(topics, keys):
    theirs = alarm_context(OTHER_ACCOUNT)
    assert sns_publish(CLOUDWATCH, topics, "AlarmTopic", [], theirs)[0] != ALLOWED
    assert kms_via_sns(CLOUDWATCH, keys, "AlarmKey", [], theirs)[0] != ALLOWED


def test_neither_the_function_nor_an_administrator_may_publish_alarms(function, role_arn, role_policies, topics, keys):
    fn_context = context_of(function, role_arn)
    assert sns_publish(function, topics, "AlarmTopic", role_policies, fn_context)[0] == EXPLICIT_DENY
    assert kms_via_sns(function, keys, "AlarmKey", role_policies, fn_context)[0] == IMPLICIT_DENY
    assert sns_publish(ADMIN, topics, "AlarmTopic", EVERYTHING, context_of(ADMIN))[0] == EXPLICIT_DENY
    assert kms_via_sns(ADMIN, keys, "AlarmKey", EVERYTHING, context_of(ADMIN))[0] == IMPLICIT_DENY


def test_cloudwatch_may_not_use_the_alert_key(keys):
    assert kms_via_sns(CLOUDWATCH, keys, "AlertKey", [], alarm_context())[0] == IMPLICIT_DENY


KEY_USE_AND_GRANTS = [
    "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant",
]
# What CloudFormation and an operator need to manage the key and its alias.
KEY_ADMINISTRATION = [
    "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:EnableKeyRotation",
    "kms:GetKeyRotationStatus", "kms:UpdateKeyDescription", "kms:TagResource", "kms:UntagResource",
    "kms:CreateAlias", "kms:DeleteAlias", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:ListGrants", "kms:RevokeGrant",
]


@pytest.mark.parametrize("key", ["AlertKey", "AlarmKey"])
def test_the_account_administers_each_key_but_cannot_use_it_or_grant_itself_its_use(keys, key):
    """An administrator allowed everything by their own policy may manage the key and may not use
    it, nor create a grant that would let them (kms:CreateGrant is not given). What remains is
    rewriting the key policy itself (kms:PutKeyPolicy, needed for stack updates), a visible change
    of the policy rather than a grant beside it."""
    arn, key_policy = keys[key]
    for action in KEY_ADMINISTRATION:
        assert decide(Request(ADMIN, action, arn), EVERYTHING, key_policy=key_policy)[0] == ALLOWED, action
    for action in KEY_USE_AND_GRANTS:
        assert decide(Request(ADMIN, action, arn), EVERYTHING, key_policy=key_policy)[0] == IMPLICIT_DENY, action
    # Through SNS as well: the key opens for no administrator whatever the service.
    assert kms_via_sns(ADMIN, keys, key, EVERYTHING, context_of(ADMIN), "kms:Decrypt")[0] == IMPLICIT_DENY


@pytest.mark.parametrize("key", ["AlertKey", "AlarmKey"])
def test_each_key_names_its_administrative_actions(keys, key):
    """No wildcard in the administrators' statement: a pattern such as kms:Create* would also
    match kms:CreateGrant."""
    _, key_policy = keys[key]
    (admin,) = [st for st in key_policy["Statement"] if st["Sid"] == "AccountAdministersTheKey"]
    assert all("*" not in action for action in admin["Action"]), admin["Action"]
    assert "kms:CreateGrant" not in admin["Action"]


@pytest.mark.parametrize("action", ["kms:Decrypt", "kms:GenerateDataKey"])
def test_the_function_may_use_the_alert_key_only_through_sns(function, role_arn, role_policies, keys, action):
    """The role's own policy allows the key's use, the key policy only via SNS in this region
    (kms:ViaService). A direct call, or one through another service or another region's SNS, is
    refused: a leaked session of the function could not decrypt what it did not publish."""
    arn, key_policy = keys["AlertKey"]
    context = context_of(function, role_arn)
    direct = Request(function, action, arn, context)
    assert decide(direct, role_policies, key_policy=key_policy)[0] == IMPLICIT_DENY
    for via in [f"s3.{REGION}.amazonaws.com", f"sqs.{REGION}.amazonaws.com", "sns.eu-west-1.amazonaws.com"]:
        request = Request(function, action, arn, {**context, "kms:ViaService": via})
        assert decide(request, role_policies, key_policy=key_policy)[0] == IMPLICIT_DENY, via
    assert kms_via_sns(function, keys, "AlertKey", role_policies, context, action)[0] == ALLOWED


def test_the_alert_key_names_snss_endpoint_in_the_china_partition(deployed_template):
    """kms:ViaService is the service's endpoint name, whose domain is the partition's
    (`amazonaws.com.cn` in the China regions: AWS General Reference, "Service endpoints"; the
    `AWS::URLSuffix` pseudo parameter). A hard-coded `amazonaws.com` would refuse SNS the key
    there, and with it every alert."""
    china = Stack(deployed_template, {}, ACCOUNT, "cn-north-1", STACK_NAME, partition="aws-cn")
    key_policy = china.resolve(china.resources["AlertKey"]["Properties"]["KeyPolicy"])
    (through_sns,) = [st for st in key_policy["Statement"] if st["Sid"] == "FunctionPublishesThroughSns"]
    assert through_sns["Condition"]["StringEquals"]["kms:ViaService"] == "sns.cn-north-1.amazonaws.com.cn"


def test_no_template_hard_codes_the_aws_domain_in_a_sub():
    """Every endpoint a template builds (Fn::Sub) takes its domain from `AWS::URLSuffix`, so
    the templates deploy in every partition; service principals are plain names, not endpoints."""

    def subs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::Sub":
                    yield value[0] if isinstance(value, list) else value
                yield from subs(value)
        elif isinstance(node, list):
            for item in node:
                yield from subs(item)

    for path in repo_templates():
        doc = json.loads(json.dumps(cfn_yaml.load(str(path))))
        hard_coded = [text for text in subs(doc) if "amazonaws.com" in str(text)]
        assert not hard_coded, f"{path.name}: {hard_coded}"


# --- the rest of the function's permissions ----------------------------------------------------------


@pytest.fixture(scope="module")
def queue(stack):
    return stack.get_att("FailedEventsQueue", "Arn"), resource_policy_of(
        stack, "AWS::SQS::QueuePolicy", "Queues", "FailedEventsQueue"
    )


def test_lambda_may_keep_failed_events_as_the_function(function, role_arn, role_policies, queue):
    """Lambda sends the on-failure record with the function's role."""
    arn, queue_policy = queue
    request = Request(function, "sqs:SendMessage", arn, context_of(function, role_arn))
    assert decide(request, role_policies, queue_policy)[0] == ALLOWED


def test_only_the_three_rules_may_send_dead_letters(stack, queue):
    arn, queue_policy = queue
    events = service("events.amazonaws.com")
    for rule in ["RootwatchFunctionRootSignIn", "RootwatchFunctionRootApiCall", "RootwatchWatchdogSchedule"]:
        context = {"aws:SourceArn": stack.get_att(rule, "Arn"), "aws:SecureTransport": "true"}
        assert decide(Request(events, "sqs:SendMessage", arn, context), [], queue_policy)[0] == ALLOWED
    other = {"aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{STACK_NAME}-other", "aws:SecureTransport": "true"}
    assert decide(Request(events, "sqs:SendMessage", arn, other), [], queue_policy)[0] == IMPLICIT_DENY


@pytest.mark.parametrize("action", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"])
def test_the_function_may_use_its_state_table(stack, function, role_arn, role_policies, action):
    table = stack.get_att("StateTable", "Arn")
    assert decide(Request(function, action, table, context_of(function, role_arn)), role_policies)[0] == ALLOWED


# What changes a table, taken from parliament's bundled IAM definitions (its copy of the Service
# Authorization Reference), not from the template: every DynamoDB action of access level Write,
# Permissions management or Tagging whose resource types include "table". Item writes are the
# ones that take the dynamodb:LeadingKeys condition key (fine-grained access to items).
CHANGES = {"Write", "Permissions management", "Tagging"}


def dynamodb_table_changes():
    """{action: whether it writes items} for every action that changes a DynamoDB table."""
    (dynamodb,) = [s for s in iam_definition if s["prefix"] == "dynamodb"]
    found = {}
    for privilege in dynamodb["privileges"]:
        types = {r["resource_type"].rstrip("*") for r in privilege["resource_types"]}
        if privilege["access_level"] in CHANGES and "table" in types:
            keys = {k for r in privilege["resource_types"] for k in r["condition_keys"]}
            found[f"dynamodb:{privilege['privilege']}"] = "dynamodb:LeadingKeys" in keys
    return found


TABLE_CHANGES = dynamodb_table_changes()
ITEM_WRITES = sorted(action for action, items in TABLE_CHANGES.items() if items)

# The changes the table's policy leaves to whoever deploys the stack (and to anyone else their own
# policy allows), each for a reason. None writes an item of this table; the last group can remove
# the protection itself, which only an SCP or the deployer's own policies can guard
# (docs/permissions.md).
LEFT_TO_THE_DEPLOYER = {
    "dynamodb:UpdateTable": "CloudFormation updates the table; a replica it adds is written by DynamoDB's replication role, which the deny refuses",
    "dynamodb:UpdateTimeToLive": "CloudFormation sets TTL; an expiry removes a mark, which can repeat a text, never withhold one",
    "dynamodb:UpdateContinuousBackups": "CloudFormation turns point-in-time recovery on",
    "dynamodb:UpdateContributorInsights": "metrics about keys; no item",
    "dynamodb:CreateBackup": "copies the items out; writes none",
    "dynamodb:StartAwsBackupJob": "AWS Backup copies the items out; writes none",
    "dynamodb:ExportTableToPointInTime": "copies the items to S3; writes none",
    "dynamodb:EnableKinesisStreamingDestination": "streams item changes out; writes none",
    "dynamodb:DisableKinesisStreamingDestination": "streams item changes out; writes none",
    "dynamodb:UpdateKinesisStreamingDestination": "streams item changes out; writes none",
    "dynamodb:CreateGlobalTable": "replicas are written by DynamoDB's replication role, which the deny refuses",
    "dynamodb:UpdateGlobalTable": "replicas are written by DynamoDB's replication role, which the deny refuses",
    "dynamodb:UpdateGlobalTableSettings": "replica settings; no item",
    "dynamodb:UpdateGlobalTableVersion": "replicas are written by DynamoDB's replication role, which the deny refuses",
    "dynamodb:CreateTableReplica": "replicas are written by DynamoDB's replication role, which the deny refuses",
    "dynamodb:DeleteTableReplica": "removes a replica elsewhere; no item of this table",
    "dynamodb:UpdateTableReplicaAutoScaling": "capacity; no item",
    "dynamodb:TagResource": "CloudFormation tags the table",
    "dynamodb:UntagResource": "CloudFormation tags the table",
    # These act on the table as a whole: the limit of a resource policy (an SCP can guard them).
    "dynamodb:CreateTable": "a table of this name exists while the stack does",
    "dynamodb:ImportTable": "creates a new table; cannot import into this one",
    "dynamodb:RestoreTableToPointInTime": "restores into a new table, which has no policy: with DeleteTable, the limit",
    "dynamodb:RestoreTableFromBackup": "restores into a new table, which has no policy: with DeleteTable, the limit",
    "dynamodb:RestoreTableFromAwsBackup": "restores into a new table, which has no policy: with DeleteTable, the limit",
    "dynamodb:DeleteTable": "CloudFormation deletes the table with the stack; a deny would need the deployer's ARN",
    "dynamodb:PutResourcePolicy": "CloudFormation writes this policy on every update",
    "dynamodb:DeleteResourcePolicy": "CloudFormation removes the policy if the template drops it",
}


@pytest.fixture(scope="module")
def table(stack):
    """The state table's ARN and its resource policy."""
    return stack.get_att("StateTable", "Arn"), resolved(stack, "StateTable", "ResourcePolicy")["PolicyDocument"]


def test_the_definitions_know_dynamodb():
    """So that missing or renamed definitions cannot leave the tests below with nothing to check."""
    assert len(TABLE_CHANGES) >= 30
    assert {"dynamodb:PutItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert"} <= set(ITEM_WRITES)
    assert "dynamodb:DeleteTable" not in ITEM_WRITES and "dynamodb:GetItem" not in TABLE_CHANGES


def test_what_is_left_to_the_deployer_writes_no_item_and_exists():
    assert not set(LEFT_TO_THE_DEPLOYER) & set(ITEM_WRITES)
    assert set(LEFT_TO_THE_DEPLOYER) <= set(TABLE_CHANGES), set(LEFT_TO_THE_DEPLOYER) - set(TABLE_CHANGES)


@pytest.mark.parametrize("action", sorted(TABLE_CHANGES))
def test_every_change_to_the_state_table_is_denied_or_left_to_the_deployer_on_purpose(table, action):
    """An administrator allowed everything, and another role of the account: each change is either
    denied by the table's policy or listed above with its reason. An action missing from the
    policy's deny and from the list fails here, whatever the template says."""
    arn, table_policy = table
    other = session(f"arn:aws:iam::{ACCOUNT}:role/{STACK_NAME}-SomethingElse", "x")
    decisions = {
        decide(Request(ADMIN, action, arn, context_of(ADMIN)), EVERYTHING, table_policy)[0],
        decide(Request(other, action, arn, context_of(other, other.role_arn)), EVERYTHING, table_policy)[0],
    }
    expected = ALLOWED if action in LEFT_TO_THE_DEPLOYER else EXPLICIT_DENY
    assert decisions == {expected}, f"{action}: {decisions}, neither denied nor left on purpose"


def test_the_state_is_the_functions_alone(table, function, role_arn, role_policies):
    """An administrator of the account allowed everything, or any other role's session, may not
    write or delete an item of the state table (so cannot mark a root session as already texted);
    the function's session may, with the grants its role has."""
    arn, table_policy = table
    other = session(f"arn:aws:iam::{ACCOUNT}:role/{STACK_NAME}-SomethingElse", "x")
    for action in ITEM_WRITES:
        decision, sid = decide(Request(ADMIN, action, arn, context_of(ADMIN)), EVERYTHING, table_policy)
        assert decision == EXPLICIT_DENY, action
        # PutItem and UpdateItem without a key are refused by the deny for requests naming none.
        assert sid in ("OnlyTheFunctionWrites", "OthersNameTheirKey"), (action, sid)
        other_context = context_of(other, other.role_arn)
        assert decide(Request(other, action, arn, other_context), EVERYTHING, table_policy)[0] == EXPLICIT_DENY, action
    for action in ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]:
        request = Request(function, action, arn, context_of(function, role_arn))
        assert decide(request, role_policies, table_policy)[0] == ALLOWED, action


def keyed(caller, keys, role_arn=None):
    """The context of an item request on `keys` (DynamoDB's dynamodb:LeadingKeys)."""
    return context_of(caller, role_arn, **{"dynamodb:LeadingKeys": keys})


DECLARATION = "declaration#111122223333"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/BreakGlass"
# The shape of the role IAM Identity Center creates for a permission set: the path carries a
# region, the name a random suffix.
SSO_PATTERN = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*/AWSReservedSSO_RootDeclarer_*"
ROOT_USER = user(ACCOUNT, "x").account_root
ITEM_PUTS = ["dynamodb:PutItem", "dynamodb:UpdateItem"]


@pytest.fixture(scope="module")
def declaring(deployed_template, mode):
    """The state table's ARN and policy for this mode, with DeclarerArns set to `declarers`
    (unchecked: the root user's test gives values the parameter's pattern refuses)."""
    def with_declarers(*declarers):
        parameters = {**MODES[mode], "DeclarerArns": ",".join(declarers)}
        stack = Stack(deployed_template, parameters, ACCOUNT, REGION, STACK_NAME, check_parameters=False)
        return stack.get_att("StateTable", "Arn"), resolved(stack, "StateTable", "ResourcePolicy")["PolicyDocument"]
    return with_declarers


def put(caller, keys, table_policy, arn, identity=EVERYTHING, action="dynamodb:PutItem"):
    context = keyed(caller, keys, caller.role_arn or None) if keys is not None else context_of(caller, caller.role_arn or None)
    return decide(Request(caller, action, arn, context), identity, table_policy)


def test_by_default_no_one_declares_not_even_an_administrator(table, function, role_arn, role_policies):
    """DeclarerArns empty (the default): an administrator allowed everything, or any role of the
    account, may not write a declaration; the function still writes every prefix. `!Ref` of the
    empty list is [""]: the policy carries no empty pattern (the condition leaves ArnNotLike out)."""
    arn, table_policy = table
    other = session(BREAK_GLASS, "alice")
    for action in ITEM_PUTS:
        assert put(ADMIN, [DECLARATION], table_policy, arn, action=action) == (EXPLICIT_DENY, "OnlyDeclarersDeclare"), action
        assert put(other, [DECLARATION], table_policy, arn, action=action) == (EXPLICIT_DENY, "OnlyDeclarersDeclare"), action
    assert '""' not in json.dumps(table_policy)
    for keys in [["event#e-1"], ["window#111122223333"], ["report#111122223333#d1"], ["index#reports"], [DECLARATION]]:
        for action in [*ITEM_PUTS, "dynamodb:DeleteItem"]:
            request = Request(function, action, arn, keyed(function, keys, role_arn))
            assert decide(request, role_policies, table_policy)[0] == ALLOWED, (action, keys)


def test_the_empty_pattern_would_deny_everyone_but_the_function_too(table, function, role_arn, role_policies):
    """Had the condition kept ArnNotLike with `!Ref` of the empty list, [""], no ARN matches the
    empty pattern: the deny would still cover everyone but the function."""
    arn, table_policy = table
    policy = json.loads(json.dumps(table_policy))
    (deny,) = [st for st in policy["Statement"] if st["Sid"] == "OnlyDeclarersDeclare"]
    deny["Condition"]["ArnNotLike"] = {"aws:PrincipalArn": [""]}
    assert put(ADMIN, [DECLARATION], policy, arn) == (EXPLICIT_DENY, "OnlyDeclarersDeclare")
    assert put(session(BREAK_GLASS, "alice"), [DECLARATION], policy, arn) == (EXPLICIT_DENY, "OnlyDeclarersDeclare")
    request = Request(function, "dynamodb:PutItem", arn, keyed(function, [DECLARATION], role_arn))
    assert decide(request, role_policies, policy)[0] == ALLOWED


def test_a_listed_declarer_writes_declarations_and_nothing_else(declaring, function, role_arn, role_policies):
    """DeclarerArns names a role and an IAM Identity Center pattern: their sessions may put or
    update a `declaration#` item (the function announces it before it takes effect); every other
    key, a request naming no key, one mixing keys, and every delete or batch or PartiQL write stay
    denied. A role not listed, and an administrator, may not declare. The function still writes
    every prefix."""
    arn, table_policy = declaring(BREAK_GLASS, SSO_PATTERN)
    sso = session(f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_RootDeclarer_0123abcd", "alice")
    for declarer in [session(BREAK_GLASS, "alice"), sso]:
        for action in ITEM_PUTS:
            assert put(declarer, [DECLARATION], table_policy, arn, action=action)[0] == ALLOWED, (declarer, action)
            for keys in [["event#e-1"], ["window#111122223333"], ["report#111122223333#d1"], ["index#reports"],
                         ["session#111122223333#ip#192.0.2.1"], [DECLARATION, "window#111122223333"]]:
                assert put(declarer, keys, table_policy, arn, action=action) \
                    == (EXPLICIT_DENY, "OthersWriteOnlyDeclarations"), (action, keys)
            assert put(declarer, None, table_policy, arn, action=action) == (EXPLICIT_DENY, "OthersNameTheirKey"), action
        for action in ["dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert",
                       "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"]:
            assert put(declarer, [DECLARATION], table_policy, arn, action=action) \
                == (EXPLICIT_DENY, "OnlyTheFunctionWrites"), action
    unlisted = [ADMIN, session(f"arn:aws:iam::{ACCOUNT}:role/BreakGlass2", "mallory"),
                session(f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123abcd", "bob")]
    for caller in unlisted:
        for action in ITEM_PUTS:
            assert put(caller, [DECLARATION], table_policy, arn, action=action) \
                == (EXPLICIT_DENY, "OnlyDeclarersDeclare"), (caller, action)
    for keys in [["event#e-1"], ["window#111122223333"], ["report#111122223333#d1"], ["index#reports"], [DECLARATION]]:
        for action in [*ITEM_PUTS, "dynamodb:DeleteItem"]:
            request = Request(function, action, arn, keyed(function, keys, role_arn))
            assert decide(request, role_policies, table_policy)[0] == ALLOWED, (action, keys)


def test_the_root_user_never_declares(declaring):
    """The watched account's root user may not declare away its own alarm (its PutItem is a data
    event: no root alert), even where a pattern matches its ARN, as `arn:aws:iam::A:*` does.
    (The parameter's pattern refuses such a value; the deny does not rely on it.)"""
    root = Caller(arn=ROOT_USER)
    assert context_of(root)["aws:PrincipalType"] == "Account"
    for declarers in [(), (f"arn:aws:iam::{ACCOUNT}:*",), (BREAK_GLASS, ROOT_USER)]:
        arn, table_policy = declaring(*declarers)
        for action in ITEM_PUTS:
            assert put(root, [DECLARATION], table_policy, arn, action=action)[0] == EXPLICIT_DENY, (declarers, action)
    arn, table_policy = declaring(f"arn:aws:iam::{ACCOUNT}:*")
    assert put(root, [DECLARATION], table_policy, arn) == (EXPLICIT_DENY, "TheRootUserNeverDeclares")
    # The same pattern lets a role of the account declare: only the root user is refused.
    assert put(session(BREAK_GLASS, "alice"), [DECLARATION], table_policy, arn)[0] == ALLOWED


def test_the_parameter_refuses_patterns_that_name_no_role_or_user(deployed_template):
    """CloudFormation matches each value of a CommaDelimitedList against AllowedPattern
    (CloudFormation User Guide, "Parameters"): role and user ARNs of one account, not the root
    user, not an account wildcard."""
    pattern = re.compile(deployed_template["Parameters"]["DeclarerArns"]["AllowedPattern"])
    for good in ["", BREAK_GLASS, SSO_PATTERN, f"arn:aws:iam::{ACCOUNT}:user/alice", "arn:aws-cn:iam::111122223333:role/x"]:
        assert pattern.fullmatch(good), good
    for bad in [ROOT_USER, f"arn:aws:iam::{ACCOUNT}:*", "arn:aws:iam::*:role/BreakGlass", "BreakGlass",
                f"arn:aws:sts::{ACCOUNT}:assumed-role/BreakGlass/alice", f"{BREAK_GLASS} "]:
        assert not pattern.fullmatch(bad), bad


def declarer_policy(stack, narrowed_to=None):
    policy = resolved(stack, "DeclarerPolicy", "PolicyDocument")
    if narrowed_to:
        policy = json.loads(json.dumps(policy).replace('"declaration#*"', f'"declaration#{narrowed_to}"'))
    return policy


def test_the_declarer_policy_declares_and_lists_and_nothing_else(stack, declaring):
    """DeclarerPolicy alone, on a role DeclarerArns names: write declarations, read what `make
    declarations` lists, find the table; no other key, no Scan, no delete. The copy narrowed to
    one account (docs/declaring.md) refuses another account's declaration."""
    arn, table_policy = declaring(BREAK_GLASS)
    declarer = session(BREAK_GLASS, "alice")
    role = declarer.role_arn
    policies = [declarer_policy(stack)]
    for action in ["dynamodb:PutItem", "dynamodb:UpdateItem"]:
        assert decide(Request(declarer, action, arn, keyed(declarer, [DECLARATION], role)), policies, table_policy)[0] \
            == ALLOWED, action
        assert decide(Request(declarer, action, arn, keyed(declarer, ["event#e-1"], role)), policies, table_policy)[0] \
            != ALLOWED, action
    for keys in [[DECLARATION], ["window#111122223333"], ["report#111122223333#d1"], ["index#reports"]]:
        assert decide(Request(declarer, "dynamodb:GetItem", arn, keyed(declarer, keys, role)), policies, table_policy)[0] \
            == ALLOWED, keys
    for action, keys in [("dynamodb:GetItem", ["event#e-1"]), ("dynamodb:Scan", None), ("dynamodb:Query", None),
                         ("dynamodb:DeleteItem", [DECLARATION]), ("dynamodb:GetItem", None)]:
        context = keyed(declarer, keys, role) if keys else context_of(declarer, role)
        assert decide(Request(declarer, action, arn, context), policies, table_policy)[0] != ALLOWED, (action, keys)
    stack_id = stack.pseudo("AWS::StackId")
    assert decide(Request(declarer, "cloudformation:DescribeStacks", stack_id, context_of(declarer, role)),
                  policies)[0] == ALLOWED
    narrowed = [declarer_policy(stack, narrowed_to="111122223333")]
    assert decide(Request(declarer, "dynamodb:PutItem", arn, keyed(declarer, [DECLARATION], role)), narrowed, table_policy)[0] \
        == ALLOWED
    assert decide(Request(declarer, "dynamodb:PutItem", arn, keyed(declarer, ["declaration#444455556666"], role)),
                  narrowed, table_policy)[0] != ALLOWED


def test_the_state_tables_policy_leaves_reads_to_identity_policies(table):
    arn, table_policy = table
    for action in ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:DescribeTable",
                   "dynamodb:GetResourcePolicy", "dynamodb:DescribeTimeToLive"]:
        assert decide(Request(ADMIN, action, arn, context_of(ADMIN)), EVERYTHING, table_policy)[0] == ALLOWED, action


# Deleting the table's policy, replacing it, or deleting the table (a table restored or created
# under the same name has no policy).
REMOVE_THE_PROTECTION = ["dynamodb:DeleteResourcePolicy", "dynamodb:PutResourcePolicy", "dynamodb:DeleteTable"]


def test_limit_whoever_may_change_the_table_may_remove_its_protection(table):
    """The limit of a resource policy, pinned: an administrator allowed dynamodb:* may delete the
    table's policy, or delete the table (a restore under the same name has no policy), and then
    write any item. The template does not deny these: a deny naming no deployer would lock
    CloudFormation out of its own stack. An SCP guards them (docs/permissions.md)."""
    arn, table_policy = table
    for action in [*REMOVE_THE_PROTECTION, "dynamodb:RestoreTableToPointInTime"]:
        assert decide(Request(ADMIN, action, arn, context_of(ADMIN)), EVERYTHING, table_policy)[0] == ALLOWED, action
    # With the policy gone, nothing but the administrator's own policy decides item writes.
    assert decide(Request(ADMIN, "dynamodb:PutItem", arn, context_of(ADMIN)), EVERYTHING, None)[0] == ALLOWED


# docs/permissions.md's example SCP for what the table's policy cannot guard (keep the two the
# same): only the role that deploys the stack may remove the policy or the table. "rootwatch" is the
# stack name (CloudFormation names the table STACK-StateTable-SUFFIX); rootwatch-deployer stands for
# the role you deploy with, or CloudFormation's service role if you deploy with one.
EXAMPLE_SCP_STATE_TABLE = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "OnlyTheDeployerRemovesRootwatchState",
        "Effect": "Deny",
        "Action": ["dynamodb:DeleteResourcePolicy", "dynamodb:PutResourcePolicy", "dynamodb:DeleteTable",
                   "dynamodb:UpdateTable"],
        "Resource": "arn:aws:dynamodb:*:*:table/rootwatch-StateTable-*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/rootwatch-deployer"}},
    }, {
        "Sid": "OnlyTheDeployerStopsDeclarations",
        "Effect": "Deny",
        "Action": ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"],
        "Resource": "*",
        "Condition": {
            "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/rootwatch-deployer"},
            "ArnLike": {"lambda:FunctionArn": "arn:aws:lambda:*:*:function:rootwatch-RootwatchFunction-*"},
        },
    }],
}


def test_the_example_scp_keeps_the_state_tables_protection_for_the_deployer_alone(table, function, role_arn, role_policies):
    """With the example SCP, an administrator allowed everything can no longer remove the table's
    policy or the table; the deployer still can (stack updates and deletion), and nothing else
    changes: the function's item writes, another table of the account."""
    arn, table_policy = table
    scp = [*EVERYTHING, EXAMPLE_SCP_STATE_TABLE]
    deployer = session(f"arn:aws:iam::{ACCOUNT}:role/rootwatch-deployer", "cfn")
    other_table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other"
    for action in [*REMOVE_THE_PROTECTION, "dynamodb:UpdateTable"]:
        assert decide(Request(ADMIN, action, arn, context_of(ADMIN)), scp, table_policy) \
            == (EXPLICIT_DENY, "OnlyTheDeployerRemovesRootwatchState"), action
    # The declarations' doorbell: its mapping stays, and stays on, for the deployer alone.
    mapping = f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
    ours = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:rootwatch-RootwatchFunction-AbC123"
    for action in ["lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"]:
        context = context_of(ADMIN, **{"lambda:FunctionArn": ours})
        assert decide(Request(ADMIN, action, mapping, context), scp) \
            == (EXPLICIT_DENY, "OnlyTheDeployerStopsDeclarations"), action
        other = context_of(ADMIN, **{"lambda:FunctionArn": ours.replace("rootwatch-Rootwatch", "other-")})
        assert decide(Request(ADMIN, action, mapping, other), scp)[0] == ALLOWED, action
        deployer_context = context_of(deployer, deployer.role_arn, **{"lambda:FunctionArn": ours})
        assert decide(Request(deployer, action, mapping, deployer_context), scp)[0] == ALLOWED, action
        assert decide(Request(ADMIN, action, other_table, context_of(ADMIN)), scp)[0] == ALLOWED, action
    for action in LEFT_TO_THE_DEPLOYER:
        request = Request(deployer, action, arn, context_of(deployer, deployer.role_arn))
        assert decide(request, scp, table_policy)[0] == ALLOWED, action
    for action in ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]:
        request = Request(function, action, arn, context_of(function, role_arn))
        assert decide(request, [*role_policies, EXAMPLE_SCP_STATE_TABLE], table_policy)[0] == ALLOWED, action


# What no policy of the stack can refuse an administrator of the account (docs/permissions.md,
# "What the policies do not cover"): switching off or re-pointing the rules that feed the function
# (a DisableRule takes effect before its own CloudTrail event could match), replacing or throttling
# the function's code, and passing the function's role to code of one's own, which the alert topic
# would then admit; and setting an alarm's state, which texts the alarm phones with no ceiling
# (docs/alarms.md). The stack's generated names, and its alarms' names, begin with the stack name.
ONLY_THE_DEPLOYER = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/rootwatch-deployer"}}
EXAMPLE_SCP_PIPELINE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "OnlyTheDeployerChangesRootwatchRules",
            "Effect": "Deny",
            "Action": ["events:DisableRule", "events:DeleteRule", "events:PutRule", "events:PutTargets",
                       "events:RemoveTargets"],
            "Resource": "arn:aws:events:*:*:rule/rootwatch-*",
            "Condition": ONLY_THE_DEPLOYER,
        },
        {
            "Sid": "OnlyTheDeployerChangesRootwatchFunction",
            "Effect": "Deny",
            "Action": ["lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "lambda:DeleteFunction",
                       "lambda:PutFunctionConcurrency", "lambda:RemovePermission"],
            "Resource": "arn:aws:lambda:*:*:function:rootwatch-*",
            "Condition": ONLY_THE_DEPLOYER,
        },
        {
            "Sid": "OnlyTheDeployerPassesRootwatchRoles",
            "Effect": "Deny",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::*:role/rootwatch-*",
            "Condition": ONLY_THE_DEPLOYER,
        },
        {
            "Sid": "OnlyTheDeployerSetsRootwatchAlarmStates",
            "Effect": "Deny",
            "Action": "cloudwatch:SetAlarmState",
            "Resource": "arn:aws:cloudwatch:*:*:alarm:rootwatch-*",
            "Condition": ONLY_THE_DEPLOYER,
        },
    ],
}


def rule_arns(stack):
    """Every EventBridge rule of the template, as IAM sees it: on a custom bus the ARN names the
    bus (rule/<bus>/<rule>; Service Authorization Reference, EventBridge resource types)."""
    arns = []
    for logical_id, resource in stack.resources.items():
        if resource["Type"] != "AWS::Events::Rule":
            continue
        name = stack.physical_name(logical_id)
        if "EventBusName" in resource["Properties"]:
            arns.append(stack.arn("events", f"rule/{stack.rule_bus(logical_id)}/{name}"))
        else:
            arns.append(stack.arn("events", f"rule/{name}"))
    return arns


def test_the_example_scp_keeps_rootwatchs_rules_function_and_role_for_the_deployer(stack):
    """With the example SCP, an administrator allowed everything can no longer disable, delete or
    re-point any of the stack's rules (the home bus's too), change, throttle or delete the
    function, pass its role, or set an alarm's state (which would text the alarm phones); the
    deployer still can, and other rules, functions, roles and alarms of the account are left
    alone."""
    scp = [*EVERYTHING, EXAMPLE_SCP_PIPELINE]
    deployer = session(f"arn:aws:iam::{ACCOUNT}:role/rootwatch-deployer", "cfn")
    rules, function, roles, alarms = EXAMPLE_SCP_PIPELINE["Statement"]
    guarded = [(action, arn, rules["Sid"]) for arn in rule_arns(stack) for action in rules["Action"]]
    guarded += [(action, stack.get_att("RootwatchFunction", "Arn"), function["Sid"]) for action in function["Action"]]
    guarded += [("iam:PassRole", stack.get_att("RootwatchFunctionRole", "Arn"), roles["Sid"])]
    alarm_ids = [i for i, r in stack.resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarm_ids) >= 10, alarm_ids
    guarded += [("cloudwatch:SetAlarmState", stack.get_att(i, "Arn"), alarms["Sid"]) for i in alarm_ids]
    assert len(rule_arns(stack)) >= 3, "the function's two rules and the watchdog's schedule"
    for action, arn, sid in guarded:
        assert decide(Request(ADMIN, action, arn, context_of(ADMIN)), scp) == (EXPLICIT_DENY, sid), (action, arn)
        request = Request(deployer, action, arn, context_of(deployer, deployer.role_arn))
        assert decide(request, scp)[0] == ALLOWED, (action, arn)
    for action, arn in [
        ("events:DisableRule", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other"),
        ("events:DeleteRule", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/other-bus/other"),
        ("lambda:UpdateFunctionCode", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:other"),
        ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/other"),
        ("cloudwatch:SetAlarmState", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:other"),
    ]:
        assert decide(Request(ADMIN, action, arn, context_of(ADMIN)), scp)[0] == ALLOWED, (action, arn)


@pytest.mark.parametrize("scp", [EXAMPLE_SCP_STATE_TABLE, EXAMPLE_SCP_PIPELINE], ids=lambda p: p["Statement"][0]["Sid"])
def test_the_example_scp_names_real_actions(scp):
    found = analyze_policy_string(json.dumps(scp)).findings
    assert not found, [(f.issue, f.detail) for f in found]


def test_the_function_may_not_scan_or_touch_another_table(stack, function, role_arn, role_policies):
    table = stack.get_att("StateTable", "Arn")
    context = context_of(function, role_arn)
    assert decide(Request(function, "dynamodb:Scan", table, context), role_policies)[0] == IMPLICIT_DENY
    other = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/other"
    assert decide(Request(function, "dynamodb:GetItem", other, context), role_policies)[0] == IMPLICIT_DENY


def test_the_function_writes_only_its_own_log_group(stack, function, role_arn, role_policies):
    group = stack.resolve(stack.resources["FunctionLogGroup"]["Properties"]["LogGroupName"])
    context = context_of(function, role_arn)
    mine = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:2026/01/01/[$LATEST]abc"
    other = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/other:log-stream:x"
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"]:
        assert decide(Request(function, action, mine, context), role_policies)[0] == ALLOWED
        assert decide(Request(function, action, other, context), role_policies)[0] == IMPLICIT_DENY


def test_the_watchdog_may_read_trails_and_change_none(function, role_arn, role_policies):
    """Read-only: list trails, read a trail's status and selectors (its own account's or an
    organization trail of another), and never stop, delete or reconfigure one."""
    context = context_of(function, role_arn)
    own = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/management-events"
    org = f"arn:aws:cloudtrail:us-east-1:{OTHER_ACCOUNT}:trail/org-trail"
    assert decide(Request(function, "cloudtrail:DescribeTrails", "*", context), role_policies)[0] == ALLOWED
    for trail in [own, org]:
        for action in ["cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors"]:
            assert decide(Request(function, action, trail, context), role_policies)[0] == ALLOWED
        for action in ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors",
                       "cloudtrail:UpdateTrail", "cloudtrail:StartLogging"]:
            assert decide(Request(function, action, trail, context), role_policies)[0] == IMPLICIT_DENY
    other_resource = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:eventdatastore/x"
    assert decide(Request(function, "cloudtrail:GetTrailStatus", other_resource, context), role_policies)[0] == IMPLICIT_DENY


# --- coverage (docs/coverage.md) ------------------------------------------------------------------

COVERAGE = {"OrganizationId": "o-a1b2c3d4e5", "CoverageRegions": "us-east-1,eu-west-1"}


@pytest.fixture(scope="module")
def coverage_stack(deployed_template):
    return Stack(deployed_template, COVERAGE, ACCOUNT, REGION, STACK_NAME)


def function_of(stack):
    role = stack.get_att("RootwatchFunctionRole", "Arn")
    attached = [p["PolicyDocument"] for p in created_properties(stack, "AWS::IAM::Policy")
                if {"Ref": "RootwatchFunctionRole"} in p["Roles"]]
    return session(role, stack.ref("RootwatchFunction")), role, [stack.resolve(doc) for doc in attached]


def test_the_function_records_and_queries_heartbeats_and_never_scans(coverage_stack):
    """One conditional UpdateItem per heartbeat, one Query per region: nothing else on the heartbeat
    table, and no Query of the state table."""
    function, role, policies = function_of(coverage_stack)
    heartbeats = coverage_stack.get_att("HeartbeatTable", "Arn")
    table_policy = resolved(coverage_stack, "HeartbeatTable", "ResourcePolicy")["PolicyDocument"]
    ask = lambda action, arn, policy=None: decide(
        Request(function, action, arn, context_of(function, role)), policies, policy)[0]
    assert ask("dynamodb:UpdateItem", heartbeats, table_policy) == ALLOWED
    assert ask("dynamodb:Query", heartbeats, table_policy) == ALLOWED
    for action in ["dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem"]:
        assert ask(action, heartbeats, table_policy) == IMPLICIT_DENY, action
    assert ask("dynamodb:Query", coverage_stack.get_att("StateTable", "Arn")) == IMPLICIT_DENY
    assert ask("dynamodb:Scan", coverage_stack.get_att("StateTable", "Arn")) == IMPLICIT_DENY
    assert ask("organizations:ListAccounts", "*") == ALLOWED


@pytest.mark.parametrize("action", ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate"])
def test_no_other_principal_writes_the_heartbeat_table(coverage_stack, action):
    """A forged last_seen would hide a gap: an administrator allowed everything is denied."""
    heartbeats = coverage_stack.get_att("HeartbeatTable", "Arn")
    table_policy = resolved(coverage_stack, "HeartbeatTable", "ResourcePolicy")["PolicyDocument"]
    assert decide(Request(ADMIN, action, heartbeats, context_of(ADMIN)), EVERYTHING, table_policy) \
        == (EXPLICIT_DENY, "OnlyTheFunctionWrites")


def test_coverage_exists_only_when_its_regions_are_set(deployed_template):
    """Off by default, and only in organization mode (it lists the organization's accounts)."""
    names = ["HeartbeatTable", "HomeBusHeartbeat", "RootwatchChecksSchedule", "RootwatchCoveragePolicy"]
    for parameters, on in [
        (MODES["organization"], False),
        ({"CoverageRegions": "us-east-1"}, False),
        ({"SourceAccountIds": OTHER_ACCOUNT, "CoverageRegions": "us-east-1"}, False),
        (COVERAGE, True),
    ]:
        created = Stack(deployed_template, parameters, ACCOUNT, REGION, STACK_NAME).created()
        assert all((name in created) == on for name in names), (parameters, on)


def test_the_checks_schedule_may_send_dead_letters_and_is_named_as_the_function_is_told(coverage_stack):
    arn, queue_policy = coverage_stack.get_att("FailedEventsQueue", "Arn"), resource_policy_of(
        coverage_stack, "AWS::SQS::QueuePolicy", "Queues", "FailedEventsQueue")
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/" + coverage_stack.resolve(
        coverage_stack.resources["RootwatchChecksSchedule"]["Properties"]["Name"])
    context = {"aws:SourceArn": rule, "aws:SecureTransport": "true"}
    events = service("events.amazonaws.com")
    assert decide(Request(events, "sqs:SendMessage", arn, context), [], queue_policy)[0] == ALLOWED
    variables = coverage_stack.resources["RootwatchFunction"]["Properties"]["Environment"]["Variables"]
    assert coverage_stack.resolve(variables["ORGANIZATION_CHECKS_RULE_ARN"]) == rule
    assert coverage_stack.resolve(variables["COVERAGE_REGIONS"]) == "us-east-1,eu-west-1"


def test_coverage_alone_lists_the_accounts_and_nothing_of_the_root_audit(deployed_template, function, role_arn):
    """CoverageRegions set, MemberRootAudit=false: the accounts are listed for coverage, and the
    role still has neither sts:AssumeRoot nor the root access features."""
    stack = Stack(deployed_template, {**MODES["organization"], "MemberRootAudit": "false",
                                      "CoverageRegions": "us-east-1,eu-west-1"}, ACCOUNT, REGION, STACK_NAME)
    role = {"Ref": "RootwatchFunctionRole"}
    policies = [stack.resolve(p["PolicyDocument"]) for p in created_properties(stack, "AWS::IAM::Policy")
                if role in p["Roles"]]
    context = context_of(function, role_arn)
    assert decide(Request(function, "organizations:ListAccounts", "*", context), policies)[0] == ALLOWED
    assert decide(Request(function, "iam:ListOrganizationsFeatures", "*", context), policies)[0] == IMPLICIT_DENY
    assert decide(Request(function, "sts:AssumeRoot", "arn:aws:iam::210987654321:root",
                          context_of(function, role_arn, **{"sts:TaskPolicyArn": AUDIT_TASK})), policies)[0] \
        == IMPLICIT_DENY


# --- the alert bus and the incident response tools (docs/alert-events.md, docs/on-call.md) ---------

PAGERDUTY_KEY = "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"
OPSGENIE_KEY = "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f"
# Both tools, the default minimum (HIGH: no MEDIUM or LOW rule), Security Hub findings.
RESPONDERS = {"PagerDutyRoutingKey": PAGERDUTY_KEY, "OpsgenieApiKey": OPSGENIE_KEY, "SecurityHubFindings": "true"}
EVENTS = service("events.amazonaws.com")


@pytest.fixture(scope="module")
def responders(deployed_template):
    return Stack(deployed_template, RESPONDERS, ACCOUNT, REGION, STACK_NAME)


def role_policies_of(stack):
    return [stack.resolve(p["PolicyDocument"]) for p in created_properties(stack, "AWS::IAM::Policy")
            if {"Ref": "RootwatchFunctionRole"} in p["Roles"]]


def put_on(bus, caller, identity, bus_policy, source="rootwatch", role_arn=None):
    context = context_of(caller, role_arn, **{"events:source": source})
    return decide(Request(caller, "events:PutEvents", bus, context), identity, bus_policy)


def test_only_the_function_may_put_on_the_alert_bus_and_only_as_rootwatch(stack, function, role_arn, role_policies):
    """Sources outside aws.* are not reserved, so the bus's own policy is what makes a `rootwatch`
    event on it rootwatch's: an administrator allowed events:* everywhere, another role of the
    account, and a service are refused; the function may put there, as rootwatch, and nowhere else."""
    bus = stack.get_att("AlertBus", "Arn")
    bus_policy = resolved(stack, "AlertBus", "Policy")
    assert put_on(bus, function, role_policies, bus_policy, role_arn=role_arn)[0] == ALLOWED
    assert put_on(bus, function, role_policies, bus_policy, source="aws.signin", role_arn=role_arn)[0] == IMPLICIT_DENY
    for elsewhere in [stack.arn("events", "event-bus/default"), stack.arn("events", f"event-bus/{STACK_NAME}-root-events"),
                      stack.arn("events", "event-bus/other")]:
        assert put_on(elsewhere, function, role_policies, None, role_arn=role_arn)[0] == IMPLICIT_DENY, elsewhere
    events_everywhere = [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "events:*", "Resource": "*"}]}]
    other_role = session(f"arn:aws:iam::{ACCOUNT}:role/other", "s")
    for caller, identity in [(ADMIN, EVERYTHING), (ADMIN, events_everywhere), (other_role, EVERYTHING)]:
        assert put_on(bus, caller, identity, bus_policy, role_arn=caller.role_arn or None) \
            == (EXPLICIT_DENY, "OnlyTheFunctionPuts"), caller
    assert put_on(bus, EVENTS, [], bus_policy)[0] == EXPLICIT_DENY


def test_only_rootwatch_events_reach_the_on_call_rules(responders):
    """Each on-call rule takes source rootwatch only (and only the function may put that on the
    bus, above): an event with the same detail under any other source matches none, as moto's
    pattern matcher decides."""
    from moto.events.models import EventPattern

    rules = [responders.resolve(responders.resources[r]["Properties"]) for r in responders.created()
             if r.startswith("OnCall") and responders.resources[r]["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 2, "CRITICAL and HIGH at the default minimum"
    detail = {"schemaVersion": "1", "escalate": True, "severity": "CRITICAL"}
    for source, matches in [("rootwatch", 1), ("rootwatch.forged", 0), ("aws.events", 0), ("aws.signin", 0), ("Rootwatch", 0)]:
        event = {"source": source, "detail-type": "Root Activity Alert", "detail": detail, "account": ACCOUNT,
                 "region": REGION, "id": "1", "time": "2026-11-21T03:25:11Z", "version": "0", "resources": []}
        matched = [r for r in rules if EventPattern.load(json.dumps(r["EventPattern"])).matches_event(event)]
        assert len(matched) == matches, source
        assert all(r["EventBusName"] == f"{STACK_NAME}-alerts" for r in rules)


def test_only_eventbridge_of_this_account_assumes_the_on_call_role_and_it_invokes_only_the_tools(responders):
    role = responders.get_att("OnCallRole", "Arn")
    props = responders.resolve(responders.resources["OnCallRole"]["Properties"])
    trust = props["AssumeRolePolicyDocument"]
    assume = lambda caller, account: decide(
        Request(caller, "sts:AssumeRole", role, {"aws:SourceAccount": account, "aws:SecureTransport": "true"}),
        [], trust)[0]
    assert assume(EVENTS, ACCOUNT) == ALLOWED
    assert assume(EVENTS, OTHER_ACCOUNT) == IMPLICIT_DENY, "another account's rule (confused deputy)"
    assert assume(service("lambda.amazonaws.com"), ACCOUNT) == IMPLICIT_DENY
    assert decide(Request(ADMIN, "sts:AssumeRole", role, context_of(ADMIN)), [], trust)[0] == IMPLICIT_DENY
    (policy,) = [p["PolicyDocument"] for p in props["Policies"]]
    on_call = session(role, "events")
    may = lambda action, arn: decide(Request(on_call, action, arn, context_of(on_call, role)), [policy])[0]
    for destination in ["PagerDutyDestination", "OpsgenieDestination"]:
        assert may("events:InvokeApiDestination", responders.get_att(destination, "Arn")) == ALLOWED
    assert may("events:InvokeApiDestination", responders.arn("events", "api-destination/other/x")) == IMPLICIT_DENY
    assert may("events:PutEvents", responders.get_att("AlertBus", "Arn")) == IMPLICIT_DENY


def test_with_one_tool_the_role_invokes_only_its_destination(deployed_template):
    stack = Stack(deployed_template, {"OpsgenieApiKey": OPSGENIE_KEY}, ACCOUNT, REGION, STACK_NAME)
    (policy,) = stack.resolve(stack.resources["OnCallRole"]["Properties"]["Policies"])
    (statement,) = policy["PolicyDocument"]["Statement"]
    # Its ARN, and the name form the Service Authorization Reference gives (ArnForPolicy).
    arn = stack.get_att("OpsgenieDestination", "Arn")
    assert statement["Resource"] == [arn, arn.rsplit("/", 1)[0]]


@pytest.mark.parametrize("parameters, on", [({}, False), ({"SecurityHubFindings": "false"}, False),
                                            ({"SecurityHubFindings": "true"}, True)])
def test_findings_are_imported_only_when_asked_and_only_under_the_default_product(deployed_template, parameters, on):
    """BatchImportFindings authorizes on the product (Service Authorization Reference, Security Hub:
    resource type product, arn:...:product/<company>/<product>); the default product of this
    account is the one rootwatch imports under. DescribeHub: the start-up check."""
    stack = Stack(deployed_template, parameters, ACCOUNT, REGION, STACK_NAME)
    function, role = session(stack.get_att("RootwatchFunctionRole", "Arn"), "fn"), stack.get_att("RootwatchFunctionRole", "Arn")
    policies = role_policies_of(stack)
    ask = lambda action, arn: decide(Request(function, action, arn, context_of(function, role)), policies)[0]
    default = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:product/{ACCOUNT}/default"
    assert ask("securityhub:BatchImportFindings", default) == (ALLOWED if on else IMPLICIT_DENY)
    assert ask("securityhub:DescribeHub", f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default") == (
        ALLOWED if on else IMPLICIT_DENY)
    for other in [f"arn:aws:securityhub:{REGION}::product/aws/guardduty",
                  f"arn:aws:securityhub:{REGION}:{OTHER_ACCOUNT}:product/{OTHER_ACCOUNT}/default",
                  f"arn:aws:securityhub:eu-west-1:{ACCOUNT}:product/{ACCOUNT}/default"]:
        assert ask("securityhub:BatchImportFindings", other) == IMPLICIT_DENY, other
    for action in ["securityhub:BatchUpdateFindings", "securityhub:DisableSecurityHub", "securityhub:GetFindings"]:
        assert ask(action, f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default") == IMPLICIT_DENY, action


def test_only_the_on_call_rules_created_may_send_to_their_dead_letter_queue(responders):
    arn = responders.get_att("OnCallFailedQueue", "Arn")
    queue_policy = resource_policy_of(responders, "AWS::SQS::QueuePolicy", "Queues", "OnCallFailedQueue")
    send = lambda source, tls=True: decide(Request(EVENTS, "sqs:SendMessage", arn, {
        "aws:SourceArn": source, "aws:SecureTransport": "true" if tls else "false"}), [], queue_policy)[0]
    for rule in ["OnCallCritical", "OnCallHigh"]:
        assert send(responders.get_att(rule, "Arn")) == ALLOWED, rule
        assert send(responders.get_att(rule, "Arn"), tls=False) == EXPLICIT_DENY
    # Not created at the default minimum, another rule on the alert bus, and the function's rules.
    for other in [responders.get_att("OnCallMedium", "Arn"), responders.arn("events", f"rule/{STACK_NAME}-alerts/mine"),
                  responders.get_att("RootwatchFunctionRootSignIn", "Arn")]:
        assert send(other) == IMPLICIT_DENY, other


def test_every_responder_alarm_may_publish_to_the_alarm_topic(deployed_template):
    stack = Stack(deployed_template, {**RESPONDERS, "OnCallMinimumSeverity": "LOW"}, ACCOUNT, REGION, STACK_NAME)
    topic_policy = resource_policy_of(stack, "AWS::SNS::TopicPolicy", "Topics", "AlarmTopic")
    topics = {"AlarmTopic": (stack.ref("AlarmTopic"), topic_policy)}
    names = [stack.resolve(props["AlarmName"]) for props in created_properties(stack, "AWS::CloudWatch::Alarm")]
    # The ten of a single account, the alert events', the findings', the on-call queue's two, and
    # two per rule (events lost, retrying).
    assert len(names) == 10 + 1 + 1 + 2 + 4 * 2
    for name in names:
        assert sns_publish(CLOUDWATCH, topics, "AlarmTopic", [], alarm_context(name=name))[0] == ALLOWED, name
