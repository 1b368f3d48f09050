"""Where the templates deploy: the resource types they use, looked up in the per-region registry
schemas cfn-lint ships (what CloudFormation offers in each region). docs/deploy.md ("Partitions")
says what this finds; a change here (Chatbot arriving in GovCloud, say) must change it too.
(Whether CloudFormation accepts a template that names a missing type under a false condition
cannot be checked here; reports differ, so the docs do not promise it.)"""
import pytest
from cfnlint.decode import cfn_yaml
from cfnlint.schema.manager import PROVIDER_SCHEMA_MANAGER

from conftest import ROOT, as_deployed, repo_templates

CHATBOT = {"AWS::Chatbot::SlackChannelConfiguration", "AWS::Chatbot::MicrosoftTeamsChannelConfiguration"}
# The on-call tools' connection and API destination (docs/on-call.md): not in GovCloud's schemas.
ON_CALL = {"AWS::Events::Connection", "AWS::Events::ApiDestination"}


def resource_types(path):
    doc = as_deployed(cfn_yaml.load(str(path)))
    return {r["Type"] for r in doc["Resources"].values()}


def missing_in(region, types):
    missing = set()
    for kind in types:
        try:
            PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, kind)
        except Exception:  # cfn-lint raises its own ResourceNotFoundError
            missing.add(kind)
    return missing


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_every_type_exists_in_the_commercial_partition(region):
    for path in repo_templates():
        assert missing_in(region, resource_types(path)) == set(), path.name


@pytest.mark.parametrize("region, missing", [
    ("us-gov-west-1", CHATBOT | ON_CALL), ("us-gov-east-1", CHATBOT | ON_CALL),
    ("cn-north-1", CHATBOT), ("cn-northwest-1", CHATBOT),
])
def test_only_chat_and_the_on_call_tools_keep_the_home_template_out_of_govcloud_and_china(region, missing):
    """The Chatbot channel types do not exist there, nor (GovCloud) EventBridge connections and API
    destinations; every other type of template.yaml does, and forwarder.yaml has nothing missing."""
    assert missing_in(region, resource_types(ROOT / "template.yaml")) == missing
    assert missing_in(region, resource_types(ROOT / "forwarder.yaml")) == set()


def test_the_docs_state_the_partitions():
    doc = (ROOT / "docs" / "deploy.md").read_text()
    assert "GovCloud" in doc and "China" in doc
    assert "AWS::Chatbot::SlackChannelConfiguration" in doc
    assert "AWS::Events::ApiDestination" in doc
