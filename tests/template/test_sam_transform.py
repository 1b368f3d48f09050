"""What CloudFormation will actually deploy: template.yaml run through the SAM transform
(samtranslator, the library inside SAM CLI), offline. The properties SAM generates from the
function's shorthand (rules, their state and dead-letter queue, the async invoke config, the role's
policies) are checked here, where cfn-lint cannot see them."""
import copy
import json

import pytest
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    def load(self):
        return {}


@pytest.fixture(scope="module")
def deployed(template):
    doc = json.loads(json.dumps(copy.deepcopy(template)))
    # The transform wants an uploaded artifact; the local path is what sam build replaces.
    doc["Resources"]["RootwatchFunction"]["Properties"]["CodeUri"] = "s3://bucket/rootwatch.zip"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the transform resolves AWS::Region
        return transform(doc, {}, NoManagedPolicies())["Resources"]


def of_type(resources, kind):
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == kind}


def test_rules_target_the_function_with_a_dead_letter_queue(deployed):
    rules = of_type(deployed, "AWS::Events::Rule")
    assert len(rules) == 2
    for rule in rules.values():
        (target,) = rule["Targets"]
        assert target["Arn"] == {"Fn::GetAtt": ["RootwatchFunction", "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
        assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400


def test_the_api_rule_also_receives_read_only_root_calls(deployed):
    rules = of_type(deployed, "AWS::Events::Rule")
    states = {rule["EventPattern"]["detail-type"][0]: rule.get("State") for rule in rules.values()}
    assert states["AWS API Call via CloudTrail"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"


def test_async_invocations_retry_then_land_in_the_queue(deployed):
    (config,) = of_type(deployed, "AWS::Lambda::EventInvokeConfig").values()
    assert config["MaximumRetryAttempts"] == 2
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FailedEventsQueue", "Arn"]
    }


def test_the_role_has_no_wildcard_resource(deployed):
    role = deployed["RootwatchFunctionRole"]["Properties"]
    managed = role.get("ManagedPolicyArns", [])
    assert all("AWSLambdaBasicExecutionRole" in str(arn) for arn in managed), managed
    for policy in role.get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            assert all(r != "*" and "*" not in json.dumps(r) for r in resources), (policy["PolicyName"], st)


def test_the_function_runs_rust_on_arm64(deployed):
    fn = deployed["RootwatchFunction"]["Properties"]
    assert fn["Runtime"] == "provided.al2023"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == "bootstrap"
    assert fn["LoggingConfig"]["LogFormat"] == "JSON"
