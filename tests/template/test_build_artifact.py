"""What `sam build` (run just before by `make template-test`) produced: an arm64 Linux ELF named
bootstrap, as provided.al2023 on arm64 needs. cargo-lambda builds it in the target directory's
lambda/ too (target/ unless CARGO_TARGET_DIR or a cargo config moves it)."""
import json
import struct
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

EM_AARCH64 = 183


def elf_machine(path):
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF binary"
    assert header[4] == 2, f"{path} is not 64-bit"
    return struct.unpack("<H", header[18:20])[0]


def target_directory():
    """Where cargo builds, as cargo itself reports it."""
    metadata = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return Path(json.loads(metadata.stdout)["target_directory"])


@pytest.mark.parametrize("built_by", ["sam", "cargo-lambda"])
def test_bootstrap_is_an_arm64_elf(built_by):
    if built_by == "sam":
        path = ROOT / ".aws-sam/build/RootwatchFunction/bootstrap"
    else:
        path = target_directory() / "lambda/rootwatch/bootstrap"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make template-test` (it runs sam build first)")
    assert elf_machine(path) == EM_AARCH64


def test_built_template_points_at_the_artifact():
    built = (ROOT / ".aws-sam/build/template.yaml").read_text()
    assert "CodeUri: RootwatchFunction" in built
