"""The release workflow keeps credentials away from third-party code (.github/workflows/release.yml):
the job that builds and tests has a read-only token and no OIDC token; the jobs that hold the AWS
role and the write token run no build, no pip and no make, in the protected environment; every
action is pinned to a commit; the release step survives a re-run; and publishing to SAR is opt-in.
actionlint (make workflow-lint) checks the syntax; this checks the shape."""
import re

import pytest
import yaml

from conftest import ROOT

WORKFLOW = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
JOBS = WORKFLOW["jobs"]
CREDENTIALED = {"release", "publish-sar"}
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}$")


def steps(job):
    return JOBS[job]["steps"]


def scripts(job):
    return "\n".join(step.get("run", "") for step in steps(job))


def test_no_job_gets_a_permission_it_does_not_name():
    assert WORKFLOW["permissions"] == {}
    assert set(JOBS) == {"test-build", *CREDENTIALED}


def test_the_build_and_its_tests_run_without_credentials():
    job = JOBS["test-build"]
    assert job["permissions"] == {"contents": "read"}
    assert "environment" not in job
    assert "make test" in scripts("test-build")
    assert not any("aws-actions/" in step.get("uses", "") for step in steps("test-build"))


@pytest.mark.parametrize("name", sorted(CREDENTIALED))
def test_jobs_with_credentials_run_only_the_clis(name):
    job = JOBS[name]
    assert job["permissions"].get("id-token") == "write"
    assert job["environment"] == "release", "the role trusts the release environment's token only"
    # No build scripts, proc-macros, pip packages or make targets with the role and the token in reach.
    for word in ("make ", "pip", "cargo", "python", "npm", "rustup", "curl"):
        assert word not in scripts(name), f"{name} runs {word.strip()}"


def test_every_action_is_pinned_to_a_commit_with_its_tag_named():
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    uses = [(job, step["uses"]) for job in JOBS for step in steps(job) if "uses" in step]
    assert uses
    for job, ref in uses:
        assert PINNED.match(ref), f"{job}: {ref} is not pinned to a commit SHA"
        assert re.search(rf"uses: {re.escape(ref)} # v\d+\.\d+\.\d+\n", text), f"{ref}: name its tag"


def test_no_checkout_leaves_the_token_in_git_config():
    checkouts = [step for job in JOBS for step in steps(job) if step.get("uses", "").startswith("actions/checkout@")]
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False


def test_the_rust_it_installs_is_the_pinned_one():
    assert 'channel = "' in (ROOT / "rust-toolchain.toml").read_text()
    install = scripts("test-build")
    assert "rust-toolchain.toml" in install and "stable" not in install


def test_the_release_step_survives_a_re_run_and_attaches_every_file():
    job = JOBS["release"]
    assert job["needs"] == "test-build"
    release = scripts("release")
    view, create = release.index("gh release view"), release.index("gh release create")
    assert view < create, "an existing release is kept"
    upload = release[release.index("gh release upload"):]
    assert "--clobber" in upload.split("\n", 1)[0]
    for asset in ("rootwatch-*-arm64.zip", "rootwatch-*.yaml", "forwarder.yaml", "SHA256SUMS"):
        assert f"dist/{asset}" in upload, asset
    sums = next(line for line in release.splitlines() if "> SHA256SUMS" in line)
    for asset in ("rootwatch-$version-arm64.zip", "rootwatch-$version.yaml", "forwarder.yaml"):
        assert asset in sums, f"SHA256SUMS leaves out {asset}"


def test_the_release_has_build_provenance():
    (attest,) = [s for s in steps("release") if s.get("uses", "").startswith("actions/attest-build-provenance@")]
    assert JOBS["release"]["permissions"].get("attestations") == "write"
    for asset in ("rootwatch-*-arm64.zip", "rootwatch-*.yaml", "forwarder.yaml"):
        assert f"dist/{asset}" in attest["with"]["subject-path"]


def test_publishing_to_sar_is_opt_in_and_after_the_release():
    job = JOBS["publish-sar"]
    assert job["needs"] == "release"
    assert job["if"] == "vars.PUBLISH_SAR == 'true'"
    assert "--fail-on-same-version" in scripts("publish-sar")
    (share,) = [s for s in steps("publish-sar") if "put-application-policy" in s.get("run", "")]
    assert share["if"] == "vars.SAR_SHARE_PUBLICLY == 'true'"
