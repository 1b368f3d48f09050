"""A deploy that fits a new user: the CloudFormation console groups and labels every parameter
(Metadata AWS::CloudFormation::Interface), each description states its format with an example that
the parameter accepts (and says "no spaces" where a space would be refused), `sam deploy --guided`
asks in the same order (it ignores the Interface: it asks for every parameter, as the real SAM CLI
shows here), and samconfig.toml.example deploys the usual setup without a question (only the
change set's confirmation, which comes after the first AWS call)."""
import re
import shutil
import subprocess

import pytest

from conftest import ROOT

# The groups a user meets, in order (docs/install.md names them).
GROUPS = ["Who is told", "Text messages", "Organization", "Slack and Microsoft Teams", "Incident response tools",
          "Advanced"]
# What `sam deploy --guided` (SAM CLI's guided_context) asks besides the parameters.
GUIDED_BEFORE = ["Stack Name", "AWS Region"]
GUIDED_AFTER = ["Confirm changes before deploy", "Allow SAM CLI IAM role creation", "Disable rollback",
                "Save arguments to configuration file", "SAM configuration file", "SAM configuration environment"]
OFFLINE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "none",
           "AWS_SECRET_ACCESS_KEY": "none", "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}


@pytest.fixture(scope="module")
def interface(template):
    return template["Metadata"]["AWS::CloudFormation::Interface"]


def test_every_parameter_is_in_one_group_in_the_template_order(template, interface):
    grouped = [p for group in interface["ParameterGroups"] for p in group["Parameters"]]
    assert grouped == list(template["Parameters"]), "groups and Parameters disagree (sam --guided asks in Parameters' order)"
    labels = [group["Label"]["default"] for group in interface["ParameterGroups"]]
    assert [next(g for g in GROUPS if label.startswith(g)) for label in labels] == GROUPS


def test_every_parameter_has_a_label(template, interface):
    assert set(interface["ParameterLabels"]) == set(template["Parameters"])
    assert all(label["default"].strip() for label in interface["ParameterLabels"].values())


def example_of(description):
    found = re.search(r"e\.g\. (\S+)", description)
    return found.group(1).rstrip(".") if found else None


@pytest.mark.parametrize("name", [
    "AlertEmails", "AlertPhoneNumbers", "OrganizationId", "SourceAccountIds", "SlackWorkspaceId",
    "SlackChannelId", "TeamsTenantId", "TeamsTeamId", "TeamsChannelId", "ChatRegion",
    "ChatTopicArnsFromOtherRegions", "AccountNames", "RunbookUrl", "AssumeRootIssuers",
    "DeclarerArns", "PagerDutyRoutingKey", "PagerDutyRoutingKeySecret", "OpsgenieApiKey", "OpsgenieApiKeySecret",
])
def test_a_patterned_parameter_shows_an_example_it_accepts_and_says_no_spaces(template, name):
    """CloudFormation refuses a value its AllowedPattern does not match only when the stack is
    created; the description is what a user reads before. (java.util.regex and Python's re agree
    on these patterns: lookaheads, backreferences and classes only.)"""
    parameter = template["Parameters"][name]
    pattern = re.compile(parameter["AllowedPattern"])
    example = example_of(parameter["Description"])
    assert example, f"{name}: no 'e.g. <example>' in its description"
    assert pattern.fullmatch(example), f"{name}: its own example {example!r} is refused"
    # A list is where people put a space after a comma.
    if "," in example and not pattern.fullmatch(example.replace(",", ", ", 1)):
        assert "no spaces" in parameter["Description"], f"{name}: a space after a comma is refused, say 'no spaces'"
    assert parameter.get("ConstraintDescription"), f"{name}: CloudFormation's refusal would show the bare pattern"


def test_every_parameter_states_its_format(template):
    for name, parameter in template["Parameters"].items():
        description = parameter["Description"]
        if parameter["Type"] == "Number" and "MinValue" in parameter:
            bounds = f"{parameter['MinValue']}-{parameter['MaxValue']}" if "MaxValue" in parameter else f"at least {parameter['MinValue']}"
            assert bounds in description, f"{name}: state the range ({bounds})"
        elif "AllowedValues" in parameter:
            assert all(str(v) in description for v in parameter["AllowedValues"]), f"{name}: list the values"
        else:
            assert "AllowedPattern" in parameter, f"{name}: a free-form parameter"


def guided_questions(template):
    """What `sam deploy --guided` asks, in order: the stack and region, each parameter, the rest."""
    return GUIDED_BEFORE + [f"Parameter {p}" for p in template["Parameters"]] + GUIDED_AFTER


def sam_deploy(tmp_path, *args, stdin):
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    env = {"PATH": f"{ROOT / '.venv' / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), **OFFLINE}
    return subprocess.run(["sam", "deploy", *args], cwd=tmp_path, env=env, input=stdin,
                          capture_output=True, text=True, timeout=180)


def test_sam_guided_asks_every_parameter_in_the_template_order(tmp_path, template):
    """Every default accepted; it stops at the first AWS call (a closed port), after the questions.
    A NoEcho parameter (the on-call keys) is asked hidden, with no default, and an empty answer is
    asked again: the answer `none` means no key (the parameter's description says so)."""
    hidden = [name for name, spec in template["Parameters"].items() if spec.get("NoEcho")]
    assert hidden == ["PagerDutyRoutingKey", "OpsgenieApiKey"]
    answers = "\n" * len(GUIDED_BEFORE) + "".join(
        "none\n" if name in hidden else "\n" for name in template["Parameters"]) + "\n" * 20
    result = sam_deploy(tmp_path, "--guided", stdin=answers)
    # A hidden question shows no default: "Parameter X:" rather than "Parameter X [default]:".
    asked = re.findall(r"\t(Stack Name|AWS Region|Parameter [A-Za-z]+|" + "|".join(GUIDED_AFTER) + r")(?: \[|:)",
                       result.stdout)
    expected = guided_questions(template)
    assert asked == expected, result.stdout + result.stderr
    assert "Could not connect to the endpoint URL" in result.stdout + result.stderr


def test_the_install_guide_counts_the_guided_questions(template):
    """The questions SAM asks, as the test above sees them: a parameter added without the guide
    would make its count wrong."""
    guide = " ".join((ROOT / "docs" / "install.md").read_text().split())
    assert (f"asks {len(guided_questions(template))} questions: the stack name, the region, every one of the "
            f"{len(template['Parameters'])} parameters") in guide


def test_a_hidden_key_needs_an_answer_in_sam_guided(tmp_path):
    """Why `none` exists: Enter alone at a hidden prompt asks again, until the input ends."""
    result = sam_deploy(tmp_path, "--guided", stdin="\n" * 200)
    assert result.stdout.count("\tParameter PagerDutyRoutingKey:") > 100, result.stdout[-2000:]
    assert "Could not connect to the endpoint URL" not in result.stdout + result.stderr


def test_the_example_samconfig_deploys_without_a_question_before_aws(tmp_path):
    shutil.copy(ROOT / "samconfig.toml.example", tmp_path / "samconfig.toml")
    result = sam_deploy(tmp_path, stdin="")
    output = result.stdout + result.stderr
    assert "Parameter " not in output and "[y/N]" not in output, output
    assert "Could not connect to the endpoint URL" in output, "it went straight to AWS"


def test_the_example_samconfig_names_real_parameters_in_their_format(template, tmp_path):
    """Read as SAM CLI reads it (its own config reader and parameter parser)."""
    from samcli.cli.types import CfnParameterOverridesType
    from samcli.lib.config.samconfig import SamConfig

    shutil.copy(ROOT / "samconfig.toml.example", tmp_path / "samconfig.toml")
    config = SamConfig(str(tmp_path), "samconfig.toml")
    deploy = config.get_all(["deploy"], "parameters", env="default")
    shared = config.get_all(["global"], "parameters", env="default")
    overrides = CfnParameterOverridesType().convert(deploy["parameter_overrides"], None, None)
    assert set(overrides) == {"AlertEmails", "AlertPhoneNumbers"}
    for name, value in overrides.items():
        assert re.fullmatch(template["Parameters"][name]["AllowedPattern"], value), name
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert config.get_all(["build"], "parameters", env="default")["beta_features"] is True
    assert shared["stack_name"] == "rootwatch"
    assert shared["region"] == "us-east-1", "root console sign-ins are recorded in us-east-1"


def test_git_ignores_samconfig_toml_but_not_the_example():
    ignored = subprocess.run(["git", "check-ignore", "-q", "samconfig.toml"], cwd=ROOT)
    assert ignored.returncode == 0, "samconfig.toml holds phone numbers and addresses: git must ignore it"
    example = subprocess.run(["git", "check-ignore", "-q", "samconfig.toml.example"], cwd=ROOT)
    assert example.returncode == 1
