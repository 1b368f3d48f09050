"""Fixtures for the template tests: the parsed template, what CloudFormation receives after the SAM
transform, the samples, and a moto server."""
import copy
import json
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import boto3
import pytest
from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]

# The account, region and code location the offline transform and the policy tests assume.
ACCOUNT = "123456789012"
REGION = "us-east-1"
CODE_BUCKET = "rootwatch-artifacts"
CODE_KEY = "rootwatch.zip"


def repo_templates():
    """Every CloudFormation template at the repository root: a YAML file with Resources."""
    found = []
    for path in sorted(ROOT.glob("*.yaml")):
        doc = cfn_yaml.load(str(path))
        if isinstance(doc, dict) and "Resources" in doc:
            found.append(path)
    return found


class NoManagedPolicies:
    """The transform asks IAM for managed policy ARNs only when a template names one by name."""

    def load(self, *args, **kwargs):
        return {}


def as_deployed(doc, replace_code=True):
    """What CloudFormation receives: the SAM transform run offline (samtranslator, the library
    inside SAM CLI), with local code replaced by the S3 object sam deploy would upload (unless
    replace_code is false: a packaged template names its object already). A template without a
    Transform is deployed as it is."""
    doc = json.loads(json.dumps(copy.deepcopy(doc)))
    if "Transform" not in doc:
        return doc
    for resource in doc["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function" and replace_code:
            resource["Properties"]["CodeUri"] = f"s3://{CODE_BUCKET}/{CODE_KEY}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_DEFAULT_REGION", REGION)  # the transform also asks boto for a region
        return transform(doc, {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT}, NoManagedPolicies())


@pytest.fixture(scope="session")
def template():
    return cfn_yaml.load(str(ROOT / "template.yaml"))


@pytest.fixture(scope="session")
def resources(template):
    return template["Resources"]


@pytest.fixture(scope="session")
def deployed_template(template):
    return as_deployed(template)


def load_samples(folder):
    return {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / folder).glob("*.json"))}


@pytest.fixture(scope="session")
def samples():
    return load_samples("events")


@pytest.fixture(scope="session")
def invalid_samples():
    return load_samples("events/invalid")


def reviewed_outcome(name):
    """The outcome the Rust replay test pinned for a sample (tests/snapshots/)."""
    snap = ROOT / "tests" / "snapshots" / f"replay_events__{name}.snap"
    for line in snap.read_text().splitlines():
        if line.startswith("outcome: "):
            return line.removeprefix("outcome: ")
    raise AssertionError(f"no reviewed outcome for events/{name}.json in {snap}")


def run_with_aws_recorded(script, cwd):
    """Runs a documented shell block with bash as written, `aws` replaced by a shell function that
    records its arguments: the calls the block would make, as argument lists, for a test to make
    against moto."""
    record = "aws() { printf '%q ' \"$@\" >> aws-calls; echo >> aws-calls; }\n"
    ran = subprocess.run(["bash", "-euo", "pipefail", "-c", record + script], cwd=cwd, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    calls = Path(cwd) / "aws-calls"
    return [shlex.split(line) for line in calls.read_text().splitlines()] if calls.exists() else []


def cli_options(words):
    """`--flag value...` words as {flag: [values]}."""
    options, flag = {}, None
    for word in words:
        if word.startswith("--"):
            flag = word
            options[flag] = []
        else:
            options[flag].append(word)
    return options


def start_moto():
    """A moto server on a free loopback port; yields its endpoint and stops it afterwards."""
    venv_moto = ROOT / ".venv" / "bin" / "moto_server"
    if not venv_moto.exists():
        pytest.fail("moto_server is not installed: run `make test`, which installs it into .venv")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(venv_moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/data.json")
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"moto_server did not start on {endpoint}")
            time.sleep(0.1)
    yield endpoint
    proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def moto_endpoint():
    yield from start_moto()


def clients_for(endpoint):
    def client(service):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture(scope="session")
def aws(moto_endpoint):
    return clients_for(moto_endpoint)
