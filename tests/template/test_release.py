"""One version everywhere, one licence, and what the Serverless Application Repository (SAR) is
documented to accept: Cargo.toml's version is the template's SemanticVersion and CHANGELOG.md's
latest release; LICENSE is the Apache License 2.0 that Cargo.toml names; the SAR metadata keeps to
the constraints of the AWS SAM Developer Guide ("AWS SAM template Metadata section properties");
resource types the SAR guide does not list are the ones docs/install.md names."""
import hashlib
import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT

CARGO = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]
CHANGELOG = (ROOT / "CHANGELOG.md").read_text()
INSTALL = (ROOT / "docs" / "install.md").read_text()
# Semantic Versioning 2.0.0's own regular expression (semver.org, "Is there a suggested regular
# expression (RegEx) to check a SemVer string?"), without build metadata, which SAR has no use for.
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$"
)
# The SHA-256 of the Apache License 2.0 as apache.org publishes it (LICENSE-2.0.txt, 11358 bytes),
# the same bytes AWS's s3transfer and awscrt, pyOpenSSL and watchdog ship as their licence.
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"

# Resource types this template uses and SAR's "List of Supported AWS Resources": SAR publishes only
# templates whose types are on it (SAR Developer Guide, "Using AWS SAM with the AWS Serverless
# Application Repository"). SAR_LISTED are on the list's archived public source
# (awsdocs/aws-serverlessrepo-developer-guide, doc_source/list-supported-resources.md); NOT_ARCHIVED
# are not. The live page, https://docs.aws.amazon.com/serverlessrepo/latest/devguide/list-supported-resources.html,
# is newer and longer (it begins with AWS::AccessAnalyzer::Analyzer, which the archive lacks), but the
# copy read on 2026-12-03 showed only its beginning, through AWS::AppSync::GraphQLSchema: whether it
# lists NOT_ARCHIVED now is unverified. docs/install.md says so for each of them.
SAR_LISTED = {
    "AWS::CloudWatch::Alarm", "AWS::CloudWatch::Dashboard", "AWS::DynamoDB::Table", "AWS::Events::Rule",
    "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::KMS::Alias", "AWS::KMS::Key",
    "AWS::Lambda::EventSourceMapping", "AWS::Lambda::Permission",
    "AWS::Logs::LogGroup", "AWS::SNS::Subscription", "AWS::SNS::Topic", "AWS::SNS::TopicPolicy",
    "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::Serverless::Function",
}
NOT_ARCHIVED = {
    "AWS::Events::EventBus", "AWS::Chatbot::SlackChannelConfiguration",
    "AWS::Chatbot::MicrosoftTeamsChannelConfiguration", "AWS::Events::Connection", "AWS::Events::ApiDestination",
}
# The same guide: SAR blocks publishing a template that attaches AWSLambda_FullAccess to a function
# or allows iam:AttachRolePolicy, iam:PutRolePolicy or iam:* on all resources in an inline policy
# (and asks for iam:PassRole to be scoped too).
BROAD_IAM_ACTIONS = {"iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:PassRole", "iam:*", "*"}
# SAR's "Acknowledging Application Capabilities": these types need CAPABILITY_IAM (roles) or
# CAPABILITY_RESOURCE_POLICY (resource policies) from whoever deploys from SAR.
NEEDS_IAM = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::Group", "AWS::IAM::InstanceProfile"}
NEEDS_RESOURCE_POLICY = {
    "AWS::Lambda::Permission", "AWS::Lambda::LayerVersionPermission", "AWS::Events::EventBusPolicy",
    "AWS::IAM::Policy", "AWS::ApplicationAutoScaling::ScalingPolicy", "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy",
}


@pytest.fixture(scope="module")
def sar(template):
    return template["Metadata"]["AWS::ServerlessRepo::Application"]


def released_versions():
    """The version headings of CHANGELOG.md in order, Unreleased left out: (version, date)."""
    return re.findall(r"^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})$", CHANGELOG, flags=re.M)


def test_one_version_in_cargo_toml_the_template_and_the_changelog(sar):
    assert SEMVER.match(CARGO["version"]), CARGO["version"]
    assert sar["SemanticVersion"] == CARGO["version"]
    # A stale lock file fails the release's `cargo fetch --locked` (make test).
    lock = tomllib.loads((ROOT / "Cargo.lock").read_text())["package"]
    assert [p["version"] for p in lock if p["name"] == CARGO["name"]] == [CARGO["version"]]
    latest, _ = released_versions()[0]
    assert latest == CARGO["version"], "CHANGELOG.md's latest release is not Cargo.toml's version"


def test_the_changelog_keeps_a_changelog_form():
    headings = re.findall(r"^## .*$", CHANGELOG, flags=re.M)
    assert headings[0] == "## [Unreleased]", "Keep a Changelog: unreleased changes on top"
    versions = released_versions()
    assert len(versions) == len(headings) - 1, "every other heading is '## [x.y.z] - YYYY-MM-DD'"
    numbers = [tuple(int(n) for n in SEMVER.match(v).groups()[:3]) for v, _ in versions]
    assert numbers == sorted(numbers, reverse=True), "newest first"
    dates = [d for _, d in versions]
    assert dates == sorted(dates, reverse=True)
    for version, _ in versions:
        assert re.search(rf"^\[{re.escape(version)}\]: ", CHANGELOG, flags=re.M), f"no link for {version}"
        assert re.search(rf"^## \[{re.escape(version)}\].*?\n### (Added|Changed|Deprecated|Removed|Fixed|Security)$",
                         CHANGELOG, flags=re.M | re.S), f"{version} has no Keep a Changelog subsection"


def test_license_is_the_apache_2_0_text_cargo_toml_names(sar):
    assert CARGO["license"] == "Apache-2.0" == sar["SpdxLicenseId"]
    text = (ROOT / sar["LicenseUrl"]).read_bytes()
    assert hashlib.sha256(text).hexdigest() == APACHE_2_SHA256, "LICENSE is not apache.org's text"
    assert b"Version 2.0, January 2004" in text
    assert (ROOT / sar["ReadmeUrl"]).is_file()


def test_the_sar_readme_stands_alone(sar):
    """SAR shows the ReadmeUrl file alone, so a link relative to this repository would be broken."""
    text = (ROOT / sar["ReadmeUrl"]).read_text()
    targets = re.findall(r"\]\(([^)]*)\)", text) + re.findall(r"^\[[^\]]+\]:\s*(\S+)", text, flags=re.M)
    assert all(target.startswith("https://") for target in targets), targets
    assert len(text.encode()) <= 5 * 1024 * 1024, "SAR's limit for a readme"


def test_sar_metadata_keeps_to_the_documented_constraints(sar):
    """AWS SAM Developer Guide, "AWS SAM template Metadata section properties"."""
    assert {"Name", "Description", "Author"} <= set(sar)
    assert re.fullmatch(r"[a-zA-Z0-9\-]+", sar["Name"]) and 1 <= len(sar["Name"]) <= 140
    assert 1 <= len(sar["Description"]) <= 256
    assert re.fullmatch(r"[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?", sar["Author"]) and len(sar["Author"]) <= 127
    assert len(sar["Labels"]) <= 10
    for label in sar["Labels"]:
        assert re.fullmatch(r"[a-zA-Z0-9+\-_:/@]+", label) and len(label) <= 127, label
    # No intrinsic functions: the metadata key does not support them.
    assert all(isinstance(v, (str, list)) for v in sar.values())
    assert all(isinstance(label, str) for label in sar["Labels"])


def test_source_and_home_page_urls_come_from_cargo_toml_or_not_at_all(sar):
    """Only an address the project itself states is published as its source."""
    repository = CARGO.get("repository")
    assert sar.get("SourceCodeUrl") == repository
    assert sar.get("HomePageUrl") == CARGO.get("homepage", repository)


def test_types_sar_may_not_list_are_named_in_the_install_guide(template):
    types = {r["Type"] for r in template["Resources"].values()}
    assert types <= SAR_LISTED | NOT_ARCHIVED, f"check SAR's list for {sorted(types - SAR_LISTED - NOT_ARCHIVED)}"
    for unlisted in types & NOT_ARCHIVED:
        assert f"`{unlisted}`" in INSTALL, f"docs/install.md does not say SAR's list may lack {unlisted}"
    assert "list-supported-resources.html" in INSTALL and "2026-12-03" in INSTALL, "cite the live page and when it was read"


def test_no_iam_pattern_sar_blocks(deployed_template):
    """What CloudFormation receives after the SAM transform: no inline statement allows a broad IAM
    action on every resource, and no role carries AWSLambda_FullAccess."""
    for logical_id, resource in deployed_template["Resources"].items():
        properties = resource.get("Properties", {})
        assert not any("AWSLambda_FullAccess" in str(arn) for arn in properties.get("ManagedPolicyArns", [])), logical_id
        documents = [properties.get("PolicyDocument")] + [p["PolicyDocument"] for p in properties.get("Policies", [])]
        for statement in [st for doc in documents if doc for st in doc["Statement"]]:
            actions = {statement.get("Action")} if isinstance(statement.get("Action"), str) else set(statement.get("Action", []))
            resources = statement.get("Resource", [])
            broad = "*" in ([resources] if isinstance(resources, str) else resources)
            assert statement["Effect"] != "Allow" or not (broad and actions & BROAD_IAM_ACTIONS), (logical_id, statement)


def test_the_capabilities_sar_users_acknowledge_are_named(template):
    types = {r["Type"] for r in template["Resources"].values()}
    # The function's role: SAM adds none (Role is given), and RootwatchFunctionRole is explicit.
    assert types & NEEDS_IAM and "`CAPABILITY_IAM`" in INSTALL
    assert types & NEEDS_RESOURCE_POLICY and "`CAPABILITY_RESOURCE_POLICY`" in INSTALL
    # No custom IAM names: CAPABILITY_NAMED_IAM is not needed (a policy's PolicyName is not one).
    for resource in template["Resources"].values():
        assert not {"RoleName", "UserName", "GroupName", "ManagedPolicyName"} & set(resource.get("Properties", {}))


def release_py(*args):
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "release.py"), *args],
                          capture_output=True, text=True, timeout=60)


def test_a_tag_must_be_the_cargo_version():
    ok = release_py("check-tag", f"v{CARGO['version']}")
    assert ok.returncode == 0, ok.stderr
    major, minor, patch = (int(n) for n in SEMVER.match(CARGO["version"]).groups()[:3])
    wrong = release_py("check-tag", f"v{major}.{minor}.{patch + 1}")
    assert wrong.returncode != 0 and "does not match Cargo.toml's version" in wrong.stderr


def test_release_notes_are_the_changelog_section():
    notes = release_py("notes")
    assert notes.returncode == 0, notes.stderr
    section = CHANGELOG.split(f"## [{CARGO['version']}]", 1)[1].split("\n## [", 1)[0]
    body = section.split("\n", 1)[1].split("\n[Unreleased]:", 1)[0]
    assert notes.stdout.strip() == body.strip()
    assert release_py("notes", "--version", "9.9.9").returncode != 0
