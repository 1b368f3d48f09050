"""The policies the docs tell readers to apply are the ones the tests evaluate: each JSON block in
docs/ that names one of the tested example SCPs (by its Sid) must equal the test's copy."""
import json
import re

import pytest

from conftest import ROOT
from test_organization import EXAMPLE_SCP_ROLE_PATH
from test_policies import EXAMPLE_SCP_STATE_TABLE

JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def documented_policies():
    """{Sid of the first statement: policy} for every JSON policy block in docs/."""
    found = {}
    for path in sorted((ROOT / "docs").glob("*.md")):
        for block in JSON_BLOCK.findall(path.read_text()):
            try:
                policy = json.loads(block)
            except json.JSONDecodeError:
                continue  # not one JSON document (an example of several, say); an SCP block must parse
            if not isinstance(policy, dict):
                continue
            statements = policy.get("Statement", [])
            if statements and "Sid" in statements[0]:
                found[statements[0]["Sid"]] = (path.name, policy)
    return found


@pytest.mark.parametrize("tested", [EXAMPLE_SCP_STATE_TABLE, EXAMPLE_SCP_ROLE_PATH], ids=lambda p: p["Statement"][0]["Sid"])
def test_the_documented_scp_is_the_tested_one(tested):
    sid = tested["Statement"][0]["Sid"]
    documented = documented_policies()
    assert sid in documented, f"no JSON block in docs/ carries the SCP {sid}"
    name, policy = documented[sid]
    assert policy == tested, f"docs/{name}'s {sid} differs from the policy the tests evaluate"
