"""`make package` and `make publish`, the install path without Rust, run for real against local AWS:
moto's S3 and CloudFormation, and a local stand-in for the Serverless Application Repository
(local_sar.py; moto has none). `make package` uploads the arm64 zip (and LICENSE and README.md for
SAR) with the real `sam package`, honouring AWS_ENDPOINT_URL as any AWS setting, and prints the
packaged template's path last; that template creates on moto's CloudFormation (after the SAM
transform, run offline as CloudFormation would run it) with the uploaded code. `make publish` sends
SAR what `sam publish` sends. It packages what `sam build` left in .aws-sam/build: `make
template-test` runs sam build just before, so no second release build is made."""
import hashlib
import io
import json
import os
import re
import struct
import subprocess
import time
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import boto3
import pytest
from botocore.validate import validate_parameters
from cfnlint.decode import cfn_yaml

from conftest import ROOT, as_deployed, cli_options, clients_for, run_with_aws_recorded, start_moto
from local_sar import LocalSar

VERSION = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
BUCKET = "rootwatch-releases"
PREFIX = f"rootwatch/v{VERSION}"
BUILT = ROOT / ".aws-sam" / "build"
EM_AARCH64 = 183


@pytest.fixture(scope="module")
def endpoint():
    yield from start_moto()


def aws_env(endpoint, **extra):
    return {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
            "SAM_CLI_TELEMETRY": "0", **extra}


def make(*args, env):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def packaged(endpoint, tmp_path_factory):
    """(stdout of make package, the dist folder, the packaged template as parsed)."""
    if not (BUILT / "template.yaml").exists():
        pytest.fail(f"{BUILT} is missing: run `make template-test` (it runs sam build first)")
    clients_for(endpoint)("s3").create_bucket(Bucket=BUCKET)
    dist = tmp_path_factory.mktemp("dist")
    result = make("package", f"BUCKET={BUCKET}", f"PREFIX={PREFIX}", f"DIST={dist}", env=aws_env(endpoint))
    assert result.returncode == 0, result.stdout + result.stderr
    template = Path(result.stdout.strip().splitlines()[-1])
    return result.stdout, dist, template, cfn_yaml.load(str(template))


def s3_get(endpoint, uri):
    parsed = urlparse(uri)
    assert parsed.scheme == "s3" and parsed.netloc == BUCKET and parsed.path.startswith(f"/{PREFIX}/"), uri
    return clients_for(endpoint)("s3").get_object(Bucket=BUCKET, Key=parsed.path[1:])["Body"].read()


def function_of(template):
    (function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Function"]
    return function


def test_the_last_line_is_the_packaged_template(packaged):
    _, dist, path, template = packaged
    assert path == dist / f"rootwatch-{VERSION}.yaml" and path.is_file()
    assert template["Metadata"]["AWS::ServerlessRepo::Application"]["SemanticVersion"] == VERSION


def test_the_bucket_holds_the_built_arm64_bootstrap(endpoint, packaged):
    _, _, _, template = packaged
    archive = zipfile.ZipFile(io.BytesIO(s3_get(endpoint, function_of(template)["Properties"]["CodeUri"])))
    assert archive.namelist() == ["bootstrap"]
    info = archive.getinfo("bootstrap")
    assert (info.external_attr >> 16) & 0o111, "bootstrap must be executable for provided.al2023"
    bootstrap = archive.read("bootstrap")
    assert bootstrap == (BUILT / "RootwatchFunction" / "bootstrap").read_bytes()
    assert bootstrap[:4] == b"\x7fELF" and struct.unpack("<H", bootstrap[18:20])[0] == EM_AARCH64


def test_license_and_readme_are_uploaded_for_sar(endpoint, packaged):
    _, _, _, template = packaged
    sar = template["Metadata"]["AWS::ServerlessRepo::Application"]
    assert s3_get(endpoint, sar["LicenseUrl"]) == (ROOT / "LICENSE").read_bytes()
    assert s3_get(endpoint, sar["ReadmeUrl"]) == (ROOT / "docs" / "sar-readme.md").read_bytes()


def test_the_zip_and_checksums_in_dist_are_what_was_uploaded(endpoint, packaged):
    stdout, dist, path, template = packaged
    code = dist / f"rootwatch-{VERSION}-arm64.zip"
    assert code.read_bytes() == s3_get(endpoint, function_of(template)["Properties"]["CodeUri"])
    # The forwarder goes with a release too: organization mode and other regions need no clone.
    forwarder = dist / "forwarder.yaml"
    assert forwarder.read_bytes() == (ROOT / "forwarder.yaml").read_bytes()
    sums = dict(reversed(line.split("  ")) for line in (dist / "SHA256SUMS").read_text().splitlines())
    assert sums == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (code, path, forwarder)}
    # `sha256sum -c` is what a user runs on the release page's files.
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_packaged_template_creates_on_cloudformation_with_the_uploaded_code(endpoint, packaged):
    _, _, _, template = packaged
    doc = as_deployed(template, replace_code=False)
    (function,) = [r for r in doc["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    code = function["Properties"]["Code"]
    assert f"s3://{code['S3Bucket']}/{code['S3Key']}" == function_of(template)["Properties"]["CodeUri"]
    assert function["Properties"]["Architectures"] == ["arm64"]
    cfn = clients_for(endpoint)("cloudformation")
    cfn.create_stack(StackName="packaged", TemplateBody=json.dumps(doc),
                     Parameters=[{"ParameterKey": "AlertEmails", "ParameterValue": "secops@example.com"}],
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    deadline = time.time() + 120
    while (stack := cfn.describe_stacks(StackName="packaged")["Stacks"][0])["StackStatus"].endswith("_IN_PROGRESS"):
        assert time.time() < deadline, "the stack did not finish"
        time.sleep(0.5)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    name = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["FunctionName"]
    deployed = clients_for(endpoint)("lambda").get_function(FunctionName=name)["Configuration"]
    # (moto's CloudFormation does not pass Architectures on to its Lambda: checked in the template above.)
    assert deployed["Runtime"] == "provided.al2023"
    assert deployed["CodeSize"] == len(s3_get(endpoint, function_of(template)["Properties"]["CodeUri"]))


# docs/install.md's path for a release's files: the zip into the user's own bucket, the template's
# CodeUri pointed at it with this sed expression, the stack created from the result.
DOCUMENTED_SED = 's#^( *CodeUri: )s3://.*#\\1s3://$bucket/rootwatch/$version/rootwatch-$version-arm64.zip#'


def test_the_documented_release_path_deploys_from_the_users_own_bucket(endpoint, packaged, tmp_path):
    install = (ROOT / "docs" / "install.md").read_text()
    assert f'sed -E "{DOCUMENTED_SED}"' in install
    _, dist, path, _ = packaged
    s3 = clients_for(endpoint)("s3")
    s3.create_bucket(Bucket="my-bucket")
    key = f"rootwatch/{VERSION}/rootwatch-{VERSION}-arm64.zip"
    s3.put_object(Bucket="my-bucket", Key=key, Body=(dist / f"rootwatch-{VERSION}-arm64.zip").read_bytes())
    expression = DOCUMENTED_SED.replace("$bucket", "my-bucket").replace("$version", VERSION)
    rewritten = subprocess.run(["sed", "-E", expression, str(path)], capture_output=True, text=True, check=True).stdout
    before, after = path.read_text().splitlines(), rewritten.splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 1
    assert changed[0][1].strip() == f"CodeUri: s3://my-bucket/{key}"
    (tmp_path / "rootwatch.yaml").write_text(rewritten)
    doc = as_deployed(cfn_yaml.load(str(tmp_path / "rootwatch.yaml")), replace_code=False)
    cfn = clients_for(endpoint)("cloudformation")
    cfn.create_stack(StackName="from-release", TemplateBody=json.dumps(doc),
                     Parameters=[{"ParameterKey": "AlertPhoneNumbers", "ParameterValue": "+15555550100"}],
                     Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    deadline = time.time() + 120
    while (stack := cfn.describe_stacks(StackName="from-release")["Stacks"][0])["StackStatus"].endswith("_IN_PROGRESS"):
        assert time.time() < deadline, "the stack did not finish"
        time.sleep(0.5)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    # Larger than CloudFormation's 51,200-byte TemplateBody: hence --s3-bucket in docs/install.md.
    assert len(rewritten.encode()) > 51200 and "--s3-bucket $bucket" in install


def sar_params(operation, path, body):
    """A call the stand-in received, as the API's own model names its members (the camelCase wire
    names and the path's parameters back to the model's), validated against that model."""
    model = boto3.client("serverlessrepo", region_name="us-east-1").meta.service_model
    shape = model.operation_model(operation).input_shape
    wire = {member.serialization.get("name", name): name for name, member in shape.members.items()}
    params = {wire[k]: v for k, v in {**(body or {}), **path}.items() if v is not None}
    validate_parameters(params, shape)
    return params


def publish(endpoint, sar, dist, *args):
    env = aws_env(endpoint, AWS_ENDPOINT_URL_SERVERLESSAPPLICATIONREPOSITORY=sar.endpoint)
    return make("publish", f"DIST={dist}", *args, env=env)


def readme_no_rust_block():
    """The first sh block after README's "Without Rust" paragraph: what a user without Rust copies."""
    readme = (ROOT / "README.md").read_text()
    after = readme.split("**Without Rust**", 1)[1]
    return re.search(r"^```sh\n(.*?)^```$", after, flags=re.M | re.S).group(1)


def test_readmes_commands_deploy_a_template_pointed_at_the_users_own_bucket(endpoint, packaged, tmp_path):
    """README's no-Rust commands, run by bash as written, with `aws` a shell function that records
    its arguments; each recorded call is then made against moto. A release's template names the
    project's bucket, which no user can read from their region: what is deployed must be a copy
    whose CodeUri is the object the user uploaded to their own bucket, in the stack's region."""
    block = readme_no_rust_block()
    named = re.search(r"^version=(\S+)", block, flags=re.M)
    version = named.group(1) if named else VERSION
    _, dist, path, _ = packaged
    (tmp_path / f"rootwatch-{version}-arm64.zip").write_bytes((dist / f"rootwatch-{VERSION}-arm64.zip").read_bytes())
    (tmp_path / f"rootwatch-{version}.yaml").write_text(path.read_text())
    calls = run_with_aws_recorded(block, tmp_path)
    assert [call[:2] for call in calls] == [["s3", "cp"], ["cloudformation", "deploy"]], (
        "README: copy the zip to your bucket, point the template at it, deploy that")

    (_, _, local, uploaded), deploy = calls[0], calls[1]
    options = cli_options(deploy[2:])
    (region,), (bucket,), (template_file,) = options["--region"], options["--s3-bucket"], options["--template-file"]
    assert uploaded.startswith(f"s3://{bucket}/"), "the zip goes to the bucket the deploy uses"
    deployed = (tmp_path / template_file).read_text()
    code_uris = re.findall(r"^ +CodeUri: (\S+)$", deployed, flags=re.M)
    assert code_uris == [uploaded], "the deployed template must name the zip the user uploaded"
    assert code_uris != re.findall(r"^ +CodeUri: (\S+)$", path.read_text(), flags=re.M)

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                      aws_secret_access_key="testing")
    s3.create_bucket(Bucket=bucket)
    key = uploaded.removeprefix(f"s3://{bucket}/")
    s3.put_object(Bucket=bucket, Key=key, Body=(tmp_path / local).read_bytes())
    cfn = boto3.client("cloudformation", endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                       aws_secret_access_key="testing")
    doc = as_deployed(cfn_yaml.load(str(tmp_path / template_file)), replace_code=False)
    (stack_name,) = options["--stack-name"]
    cfn.create_stack(StackName=f"readme-{stack_name}", TemplateBody=json.dumps(doc), Capabilities=options["--capabilities"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                 for k, v in (o.split("=", 1) for o in options["--parameter-overrides"])])
    deadline = time.time() + 120
    while (stack := cfn.describe_stacks(StackName=f"readme-{stack_name}")["Stacks"][0])["StackStatus"].endswith("_IN_PROGRESS"):
        assert time.time() < deadline, "the stack did not finish"
        time.sleep(0.5)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    name = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["FunctionName"]
    function = boto3.client("lambda", endpoint_url=endpoint, region_name=region, aws_access_key_id="testing",
                            aws_secret_access_key="testing").get_function(FunctionName=name)
    assert function["Configuration"]["CodeSize"] == len((tmp_path / local).read_bytes())


def test_make_publish_sends_sar_the_packaged_application(endpoint, packaged):
    """The real `sam publish`, against the stand-in: what CreateApplication receives."""
    _, dist, _, template = packaged
    sar_meta = template["Metadata"]["AWS::ServerlessRepo::Application"]
    with LocalSar() as sar:
        result = publish(endpoint, sar, dist)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Publish Succeeded" in result.stdout
    ((operation, path, request),) = sar.requests
    assert operation == "CreateApplication"
    params = sar_params(operation, path, request)
    assert {k: params[k] for k in sar_meta} == sar_meta
    assert params["SemanticVersion"] == VERSION
    assert params["LicenseUrl"].startswith(f"s3://{BUCKET}/") and params["ReadmeUrl"].startswith(f"s3://{BUCKET}/")
    body = params["TemplateBody"]
    assert "AWS::ServerlessRepo::Application" not in body, "sam publish strips the SAR metadata"
    assert function_of(template)["Properties"]["CodeUri"] in body, "SAR gets the template with the uploaded code"


def test_a_missing_bucket_is_named_not_a_traceback(endpoint, packaged, tmp_path):
    result = make("package", "BUCKET=no-such-bucket", f"DIST={tmp_path}", env=aws_env(endpoint))
    assert result.returncode != 0
    assert "release.py: sam package to s3://no-such-bucket failed" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_version_already_published_is_refused(endpoint, packaged):
    """CreateApplication answers 409 for a name already taken; sam publish then asks for the
    version (GetApplication) and, finding it, stops before changing anything."""
    _, dist, _, _ = packaged
    with LocalSar() as sar:
        first = publish(endpoint, sar, dist)
        assert first.returncode == 0, first.stdout + first.stderr
        again = publish(endpoint, sar, dist)
    assert again.returncode != 0
    assert f"Cannot publish version {VERSION}" in again.stdout + again.stderr
    assert sar.operations() == ["CreateApplication", "CreateApplication", "GetApplication"]
    (application,) = sar.applications.values()
    assert list(application["versions"]) == [VERSION]


def test_a_new_version_updates_the_application_and_adds_the_version(endpoint, packaged, tmp_path):
    """A later release: CreateApplication's 409 names the application, which is updated (PATCH)
    and gets the new version (PUT .../versions/{semanticVersion}) with the new template."""
    _, dist, path, template = packaged
    major, minor, patch = (int(n) for n in VERSION.split("."))
    newer = f"{major}.{minor}.{patch + 1}"
    text, count = re.subn(rf"^( +SemanticVersion: )'?{re.escape(VERSION)}'?$", rf"\g<1>'{newer}'", path.read_text(), flags=re.M)
    assert count == 1
    (tmp_path / f"rootwatch-{newer}.yaml").write_text(text)
    with LocalSar() as sar:
        first = publish(endpoint, sar, dist)
        assert first.returncode == 0, first.stdout + first.stderr
        later = publish(endpoint, sar, tmp_path, f"VERSION={newer}")
    assert later.returncode == 0, later.stdout + later.stderr
    assert sar.operations() == ["CreateApplication", "CreateApplication", "GetApplication",
                                "UpdateApplication", "CreateApplicationVersion"]
    application_id = "arn:aws:serverlessrepo:us-east-1:123456789012:applications/rootwatch"
    _, get, _ = sar.requests[2]
    assert get == {"applicationId": application_id, "semanticVersion": newer}
    update = sar_params(*sar.requests[3])
    sar_meta = template["Metadata"]["AWS::ServerlessRepo::Application"]
    assert update["ApplicationId"] == application_id and update["Description"] == sar_meta["Description"]
    version = sar_params(*sar.requests[4])
    assert version["ApplicationId"] == application_id and version["SemanticVersion"] == newer
    assert function_of(template)["Properties"]["CodeUri"] in version["TemplateBody"]
    (application,) = sar.applications.values()
    assert list(application["versions"]) == [VERSION, newer]


def test_package_and_publish_say_what_they_need():
    env = {**os.environ}
    env.pop("BUCKET", None)
    usage = make("package", env=env)
    assert usage.returncode != 0 and "usage: make package BUCKET=" in usage.stdout
    missing = make("publish", "DIST=/nonexistent", env=env)
    assert missing.returncode != 0 and "run make package BUCKET=... first" in missing.stdout
