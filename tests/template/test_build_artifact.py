"""What `sam build` (run just before by `make template-test`) produced: an arm64 Linux ELF named
bootstrap, as provided.al2023 on arm64 needs. cargo-lambda builds it in target/lambda too."""
import struct

import pytest

from conftest import ROOT

EM_AARCH64 = 183


def elf_machine(path):
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF binary"
    assert header[4] == 2, f"{path} is not 64-bit"
    return struct.unpack("<H", header[18:20])[0]


@pytest.mark.parametrize(
    "relative",
    [".aws-sam/build/RootwatchFunction/bootstrap", "target/lambda/rootwatch/bootstrap"],
)
def test_bootstrap_is_an_arm64_elf(relative):
    path = ROOT / relative
    if not path.exists():
        pytest.fail(f"{relative} is missing: run `make template-test` (it runs sam build first)")
    assert elf_machine(path) == EM_AARCH64


def test_built_template_points_at_the_artifact():
    built = (ROOT / ".aws-sam/build/template.yaml").read_text()
    assert "CodeUri: RootwatchFunction" in built
