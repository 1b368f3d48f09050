"""The policies the docs tell readers to apply are the ones the tests evaluate: each JSON block in
docs/ that names one of the tested example SCPs (by its Sid) must equal the test's copy."""
import json
import re
import textwrap

import pytest

from conftest import ROOT
from test_organization import EXAMPLE_SCP_ROLE_PATH
from test_policies import EXAMPLE_SCP_PIPELINE, EXAMPLE_SCP_STATE_TABLE

# A fenced json block, at the margin or indented (inside a list item); the closing fence is
# indented like the opening one, so one block never runs on into the next.
JSON_BLOCK = re.compile(r"^([ \t]*)```json\n(.*?)\n\1```[ \t]*$", re.MULTILINE | re.DOTALL)


def json_blocks(text):
    return [textwrap.dedent(body) for _, body in JSON_BLOCK.findall(text)]


def documented_policies():
    """{Sid of the first statement: policy} for every JSON policy block in docs/. Every json block
    must parse: one that does not is a broken example a reader would copy."""
    found = {}
    for path in sorted((ROOT / "docs").glob("*.md")):
        for block in json_blocks(path.read_text()):
            try:
                policy = json.loads(block)
            except json.JSONDecodeError as e:
                raise AssertionError(f"docs/{path.name}: a json block does not parse ({e}):\n{block}") from e
            if not isinstance(policy, dict):
                continue
            statements = policy.get("Statement", [])
            if statements and "Sid" in statements[0]:
                found[statements[0]["Sid"]] = (path.name, policy)
    return found


@pytest.mark.parametrize("tested", [EXAMPLE_SCP_STATE_TABLE, EXAMPLE_SCP_PIPELINE, EXAMPLE_SCP_ROLE_PATH], ids=lambda p: p["Statement"][0]["Sid"])
def test_the_documented_scp_is_the_tested_one(tested):
    sid = tested["Statement"][0]["Sid"]
    documented = documented_policies()
    assert sid in documented, f"no JSON block in docs/ carries the SCP {sid}"
    name, policy = documented[sid]
    assert policy == tested, f"docs/{name}'s {sid} differs from the policy the tests evaluate"


def test_indented_blocks_are_found_and_end_at_their_own_fence():
    text = "- a list item:\n\n  ```json\n  {\"a\": 1}\n  ```\n\n```json\n{\"b\": 2}\n```\n"
    assert [json.loads(block) for block in json_blocks(text)] == [{"a": 1}, {"b": 2}]


def test_the_documented_declarer_policy_is_the_templates_narrowed_to_one_account(template):
    """docs/declaring.md shows DeclarerPolicy narrowed to one account: with the account put back
    to `*` it is the template's, statement for statement (resources aside: the docs show them
    resolved)."""
    name, documented = documented_policies()["WriteDeclarations"]
    assert name == "declaring.md"
    documented = json.loads(json.dumps(documented).replace('"declaration#111122223333"', '"declaration#*"'))
    policy = template["Resources"]["DeclarerPolicy"]["Properties"]["PolicyDocument"]

    def without_resources(p):
        return [{k: v for k, v in st.items() if k != "Resource"} for st in p["Statement"]]

    assert without_resources(documented) == without_resources(policy)
    table, read, stack = [st["Resource"] for st in documented["Statement"]]
    assert table == read and ":table/" in table
    assert stack.startswith("arn:aws:cloudformation:") and ":stack/rootwatch/" in stack
