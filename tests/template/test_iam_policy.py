"""The policy evaluator (iam_policy.py) on small documented cases, so that test_policies.py cannot
pass because the evaluator allows or denies everything."""
import pytest

from iam_policy import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Request,
    UnsupportedPolicy,
    decide,
    service,
    session,
    user,
)

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALICE = user(ACCOUNT, "alice")
APP = session(ROLE, "app-session")


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="sns:Publish", resource=TOPIC, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="sns:Publish", resource=TOPIC, **extra):
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def publish(caller, **context):
    return Request(caller, "sns:Publish", TOPIC, context)


def test_nothing_allows_means_implicit_deny():
    assert decide(publish(ALICE))[0] == IMPLICIT_DENY


def test_identity_allow_suffices_within_the_account():
    assert decide(publish(ALICE), [policy(allow())])[0] == ALLOWED


def test_explicit_deny_wins_over_allow():
    identity = [policy(allow(action="*", resource="*"))]
    topic = policy(deny(Principal="*", Sid="No"))
    assert decide(publish(ALICE), identity, topic) == (EXPLICIT_DENY, "No")


def test_deny_with_a_condition_denies_only_when_it_holds():
    tls_only = policy(deny(Principal="*", Condition={"Bool": {"aws:SecureTransport": "false"}}))
    identity = [policy(allow())]
    assert decide(publish(ALICE, **{"aws:SecureTransport": "false"}), identity, tls_only)[0] == EXPLICIT_DENY
    assert decide(publish(ALICE, **{"aws:SecureTransport": "true"}), identity, tls_only)[0] == ALLOWED


def test_a_missing_key_makes_positive_operators_false():
    """An Allow conditioned on a key the request does not carry does not apply."""
    topic = policy(allow(Principal={"Service": "cloudwatch.amazonaws.com"},
                         Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}}))
    cloudwatch = service("cloudwatch.amazonaws.com")
    assert decide(publish(cloudwatch), resource_policy=topic)[0] == IMPLICIT_DENY
    assert decide(publish(cloudwatch, **{"aws:SourceAccount": ACCOUNT}), resource_policy=topic)[0] == ALLOWED


def test_a_missing_key_makes_negated_operators_true():
    """A Deny with ArnNotEquals on a key the request lacks applies (the User Guide's rule)."""
    topic = policy(deny(Principal="*", Condition={"ArnNotEquals": {"aws:PrincipalArn": ROLE}}))
    identity = [policy(allow())]
    assert decide(publish(APP), identity, topic)[0] == EXPLICIT_DENY
    assert decide(publish(APP, **{"aws:PrincipalArn": ROLE}), identity, topic)[0] == ALLOWED


def test_if_exists_makes_a_missing_key_true():
    topic = policy(allow(Principal="*", Condition={"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}))
    assert decide(publish(ALICE), resource_policy=topic)[0] == ALLOWED
    assert decide(publish(ALICE, **{"aws:SourceAccount": "444455556666"}), resource_policy=topic)[0] == IMPLICIT_DENY


def test_several_values_for_a_key_are_alternatives_and_negation_needs_none_to_match():
    other = f"arn:aws:iam::{ACCOUNT}:role/other"
    allow_either = policy(allow(Principal="*", Condition={"ArnEquals": {"aws:PrincipalArn": [other, ROLE]}}))
    assert decide(publish(APP, **{"aws:PrincipalArn": ROLE}), resource_policy=allow_either)[0] == ALLOWED
    deny_unless_either = policy(deny(Principal="*", Condition={"ArnNotEquals": {"aws:PrincipalArn": [other, ROLE]}}))
    identity = [policy(allow())]
    assert decide(publish(APP, **{"aws:PrincipalArn": ROLE}), identity, deny_unless_either)[0] == ALLOWED
    alice = {"aws:PrincipalArn": ALICE.arn}
    assert decide(publish(ALICE, **alice), identity, deny_unless_either)[0] == EXPLICIT_DENY


TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/state"


def put(caller, keys=None):
    """A PutItem on TABLE naming `keys` (dynamodb:LeadingKeys), or no key."""
    context = {} if keys is None else {"dynamodb:LeadingKeys": keys}
    return Request(caller, "dynamodb:PutItem", TABLE, context)


def test_for_all_values_holds_when_every_value_matches_and_when_there_is_none():
    """IAM User Guide, "Multivalued context key examples": ForAllValues is true for a missing or
    empty key, so an Allow on it needs a Null check beside it."""
    only = [policy(allow("dynamodb:PutItem", TABLE, Condition={
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": "declaration#*"}}))]
    assert decide(put(ALICE, ["declaration#1"]), only)[0] == ALLOWED
    assert decide(put(ALICE, ["declaration#1", "event#2"]), only)[0] == IMPLICIT_DENY
    assert decide(put(ALICE), only)[0] == ALLOWED, "vacuously true"
    assert decide(put(ALICE, []), only)[0] == ALLOWED
    named = [policy(allow("dynamodb:PutItem", TABLE, Condition={
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": "declaration#*"},
        "Null": {"dynamodb:LeadingKeys": "false"}}))]
    assert decide(put(ALICE), named)[0] == IMPLICIT_DENY


def test_for_any_value_holds_when_some_value_matches_and_never_without_the_key():
    table = policy(deny("dynamodb:PutItem", TABLE, Principal="*", Condition={
        "ForAnyValue:StringNotLike": {"dynamodb:LeadingKeys": "declaration#*"}}))
    identity = [policy(allow("dynamodb:PutItem", TABLE))]
    assert decide(put(ALICE, ["event#1"]), identity, table)[0] == EXPLICIT_DENY
    assert decide(put(ALICE, ["declaration#1", "event#1"]), identity, table)[0] == EXPLICIT_DENY
    assert decide(put(ALICE, ["declaration#1"]), identity, table)[0] == ALLOWED
    assert decide(put(ALICE), identity, table)[0] == ALLOWED, "false without the key"


def test_null_checks_whether_the_key_is_present():
    table = policy(deny("dynamodb:PutItem", TABLE, Principal="*", Condition={
        "Null": {"dynamodb:LeadingKeys": "true"}}))
    identity = [policy(allow("dynamodb:PutItem", TABLE))]
    assert decide(put(ALICE), identity, table)[0] == EXPLICIT_DENY
    assert decide(put(ALICE, ["event#1"]), identity, table)[0] == ALLOWED


def test_a_single_valued_operator_on_a_multivalued_key_is_refused():
    with pytest.raises(UnsupportedPolicy):
        decide(put(ALICE, ["a"]), [policy(allow("dynamodb:PutItem", TABLE, Condition={
            "StringLike": {"dynamodb:LeadingKeys": "a"}}))])


def test_arn_like_matches_part_by_part():
    alarms = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"
    topic = policy(allow(Principal={"Service": "cloudwatch.amazonaws.com"},
                         Condition={"ArnLike": {"aws:SourceArn": alarms}}))
    cloudwatch = service("cloudwatch.amazonaws.com")
    ours = {"aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:errors"}
    theirs = {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:444455556666:alarm:errors"}
    assert decide(publish(cloudwatch, **ours), resource_policy=topic)[0] == ALLOWED
    assert decide(publish(cloudwatch, **theirs), resource_policy=topic)[0] == IMPLICIT_DENY


def test_a_role_arn_principal_covers_its_sessions_only():
    topic = policy(allow(Principal={"AWS": ROLE}))
    assert decide(publish(APP), resource_policy=topic)[0] == ALLOWED
    assert decide(publish(session(f"arn:aws:iam::{ACCOUNT}:role/other", "s")), resource_policy=topic)[0] == IMPLICIT_DENY
    assert decide(publish(ALICE), resource_policy=topic)[0] == IMPLICIT_DENY


def test_a_service_principal_is_not_an_iam_principal():
    topic = policy(allow(Principal={"Service": "cloudwatch.amazonaws.com"}))
    assert decide(publish(service("events.amazonaws.com")), resource_policy=topic)[0] == IMPLICIT_DENY
    assert decide(publish(APP), resource_policy=topic)[0] == IMPLICIT_DENY


def test_naming_the_account_delegates_to_identity_policies():
    topic = policy(allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    assert decide(publish(ALICE), resource_policy=topic)[0] == IMPLICIT_DENY
    assert decide(publish(ALICE), [policy(allow())], topic)[0] == ALLOWED


def test_across_accounts_both_the_identity_and_the_resource_policy_must_allow():
    """IAM User Guide, "Cross-account policy evaluation logic"."""
    stranger = user("444455556666", "bob")
    open_topic = policy(allow(Principal="*"))
    assert decide(publish(stranger), [policy(allow())], policy())[0] == IMPLICIT_DENY, "identity alone"
    assert decide(publish(stranger), [], open_topic)[0] == IMPLICIT_DENY, "resource alone"
    assert decide(publish(stranger), [policy(allow())], open_topic)[0] == ALLOWED
    names_them = policy(allow(Principal={"AWS": "444455556666"}))
    assert decide(publish(stranger), [policy(allow())], names_them)[0] == ALLOWED
    names_others = policy(allow(Principal={"AWS": "777788889999"}))
    assert decide(publish(stranger), [policy(allow())], names_others)[0] == IMPLICIT_DENY


def test_a_key_opens_only_through_its_key_policy():
    """KMS: an identity policy alone does not open a key; a key policy naming the account
    delegates to identity policies; one naming the caller's role suffices by itself."""
    use = Request(ALICE, "kms:GenerateDataKey", KEY)
    everything = [policy(allow(action="*", resource="*"))]
    admin_only = policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                         "Action": ["kms:Describe*", "kms:Put*"], "Resource": "*"})
    assert decide(use, everything, key_policy=policy())[0] == IMPLICIT_DENY
    assert decide(use, everything, key_policy=admin_only)[0] == IMPLICIT_DENY
    assert decide(Request(ALICE, "kms:DescribeKey", KEY), everything, key_policy=admin_only)[0] == ALLOWED
    assert decide(Request(ALICE, "kms:DescribeKey", KEY), key_policy=admin_only)[0] == IMPLICIT_DENY
    for_app = policy({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "kms:GenerateDataKey*", "Resource": "*"})
    assert decide(Request(APP, "kms:GenerateDataKey", KEY), key_policy=for_app)[0] == ALLOWED


def test_actions_match_without_case_and_with_wildcards():
    assert decide(Request(ALICE, "SNS:publish", TOPIC), [policy(allow(action="sns:Pub*"))])[0] == ALLOWED
    assert decide(Request(ALICE, "sns:Subscribe", TOPIC), [policy(allow(action="sns:Pub*"))])[0] == IMPLICIT_DENY


def test_resources_match_with_wildcards_and_case():
    streams = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/app:*"
    mine = Request(APP, "logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/app:log-stream:x")
    other = Request(APP, "logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/other:log-stream:x")
    identity = [policy(allow(action="logs:PutLogEvents", resource=streams))]
    assert decide(mine, identity)[0] == ALLOWED
    assert decide(other, identity)[0] == IMPLICIT_DENY


def test_not_principal_with_deny_denies_a_session_unless_account_role_and_session_are_listed():
    """The User Guide's warning: a Deny whose NotPrincipal names only the role still applies to
    the role's sessions, which AWS may evaluate as the account, the role and the session."""
    identity = [policy(allow())]
    only_role = policy(deny(NotPrincipal={"AWS": ROLE}))
    assert decide(publish(APP), identity, only_role)[0] == EXPLICIT_DENY
    all_three = policy(deny(NotPrincipal={"AWS": [ROLE, APP.arn, f"arn:aws:iam::{ACCOUNT}:root"]}))
    assert decide(publish(APP), identity, all_three)[0] == ALLOWED
    assert decide(publish(ALICE), identity, all_three)[0] == EXPLICIT_DENY


def test_unknown_operators_and_elements_are_refused():
    with pytest.raises(UnsupportedPolicy):
        decide(publish(ALICE), [policy(allow(Condition={"NumericLessThan": {"x": "1"}}))])
    with pytest.raises(UnsupportedPolicy):
        decide(publish(ALICE), [policy({"Effect": "Allow", "NotAction": "sns:Publish", "Resource": "*"})])
    with pytest.raises(UnsupportedPolicy):
        decide(publish(ALICE), resource_policy=policy(allow(Principal={"Federated": "cognito-identity.amazonaws.com"})))
