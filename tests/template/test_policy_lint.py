"""Every policy in every deployed template, resolved to concrete ARNs, through parliament
(duo-labs/parliament, pinned in requirements-dev.txt). It knows every IAM action and the resource
type each one takes, which the evaluator in iam_policy.py does not: a misspelt action
(UNKNOWN_ACTION) or an action on the wrong kind of ARN (RESOURCE_MISMATCH) would otherwise be an
Allow that never applies, and pass as "denied" in test_policies.py.

Any finding fails, with one documented exception: RESOURCE_STAR in a KMS key policy, where
"Resource": "*" means the key itself (KMS Developer Guide). Role trust policies are not linted:
parliament reads every document as an identity policy and calls a trust policy malformed."""
import json

import pytest
from cfnlint.decode import cfn_yaml
from parliament import analyze_policy_string

from conftest import ACCOUNT, REGION, as_deployed, repo_templates
from intrinsics import Stack

# Where each resource type keeps its policy document.
POLICY_PROPERTY = {
    "AWS::IAM::Policy": "PolicyDocument",
    "AWS::IAM::ManagedPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::Events::EventBus": "Policy",
}
ACCEPTED = {"AWS::KMS::Key": {"RESOURCE_STAR"}}
# sts:AssumeRoot on "*": its one resource type is a root user, so "*" grants no more than
# arn:aws:iam::*:root, which moto's policy validator refuses (tests/it/member_audit.rs pins it);
# the sts:TaskPolicyArn condition is what limits it (test_policies.py).
ACCEPTED_FINDINGS = [("RESOURCE_STAR", ["sts:AssumeRoot"])]


# Every mode's policies exist with these (organization mode, and a forwarder in a member account);
# with declarers, the table's policy carries its longer condition (ArnNotLike on their patterns).
PARAMETERS = {
    "template.yaml": {"OrganizationId": "o-a1b2c3d4e5", "SourceAccountIds": "444455556666",
                      "DeclarerArns": f"arn:aws:iam::{ACCOUNT}:role/BreakGlass",
                      # Both on-call tools and Security Hub: their role and policies exist.
                      "PagerDutyRoutingKeySecret": "rootwatch/pagerduty-routing-key",
                      "OpsgenieApiKey": "5f1c7d2e-8a3b-4c6d-9e0f-1a2b3c4d5e6f", "SecurityHubFindings": "true"},
    "forwarder.yaml": {"HomeBusArn": "arn:aws:events:eu-west-1:111122223333:event-bus/rootwatch-root-events"},
}


def policies():
    for path in repo_templates():
        doc = as_deployed(cfn_yaml.load(str(path)))
        stack = Stack(doc, PARAMETERS[path.name], ACCOUNT, REGION, "rootwatch")
        for name, resource in doc["Resources"].items():
            props = resource.get("Properties", {})
            prop = POLICY_PROPERTY.get(resource["Type"])
            if prop and prop in props:
                yield pytest.param(resource["Type"], stack.resolve(props[prop]), id=f"{path.name}:{name}")
            if resource["Type"] == "AWS::DynamoDB::Table" and "ResourcePolicy" in props:
                document = stack.resolve(props["ResourcePolicy"]["PolicyDocument"])
                yield pytest.param(resource["Type"], document, id=f"{path.name}:{name}:ResourcePolicy")
            for inline in props.get("Policies", []) if resource["Type"] == "AWS::IAM::Role" else []:
                yield pytest.param(
                    resource["Type"], stack.resolve(inline["PolicyDocument"]),
                    id=f"{path.name}:{name}:{inline['PolicyName']}",
                )


POLICIES = list(policies())


def findings(document):
    policy = analyze_policy_string(json.dumps(document))
    return [(f.issue, f.detail) for f in policy.findings]


def test_the_linter_sees_policies():
    assert len(POLICIES) >= 6


@pytest.mark.parametrize("kind,document", POLICIES)
def test_parliament_finds_nothing(kind, document):
    found = [f for f in findings(document) if f[0] not in ACCEPTED.get(kind, set()) and f not in ACCEPTED_FINDINGS]
    assert not found, json.dumps(found, indent=1, default=str)


def test_parliament_catches_what_the_evaluator_cannot():
    """So that a silent parliament (no definitions, an API change) cannot pass the test above."""
    typo = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sns:Publsh", "Resource": f"arn:aws:sns:{REGION}:{ACCOUNT}:t"}]}
    wrong_arn = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"}]}
    assert [issue for issue, _ in findings(typo)] == ["UNKNOWN_ACTION"]
    assert [issue for issue, _ in findings(wrong_arn)] == ["RESOURCE_MISMATCH"]
