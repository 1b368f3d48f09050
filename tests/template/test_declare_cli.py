"""scripts/declare.py (make declare, declarations, end-declaration) against moto: what it refuses
and how it says so, the table found from a stack on moto's CloudFormation, the wait for the
announcement, and one declaration carried end to end by the real function binary (through a
local Lambda Runtime API), rung by a Python twin of tests/support/stream.rs's stand-in for
Lambda's event source mapping."""
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from conftest import ROOT
from lambda_runtime_api import RuntimeApi, build_function

CLI = ROOT / "scripts" / "declare.py"
ACCOUNT = "111122223333"
GOOD = ["declare", "--account", ACCOUNT, "--minutes", "60", "--reason", "Close support case 42", "--by", "alice"]


def cli_env(endpoint, **values):
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    for name in ["AWS_PROFILE", "STATE_TABLE", "STACK", "MAKEFLAGS", "MAKELEVEL", "MFLAGS",
                 "ACCOUNT", "MINUTES", "REASON", "BY", "SOURCE_CIDR", "REPLACE", "NO_WAIT"]:
        env.pop(name, None)
    return {**env, **values}


def run(endpoint, *args, timeout=120):
    return subprocess.run([sys.executable, str(CLI), *args], env=cli_env(endpoint), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def table(aws):
    """A fresh state table shaped like the template's, with its stream."""
    name = f"rootwatch-state-{uuid.uuid4().hex[:8]}"
    aws("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    return name


def get(aws, table, pk):
    return aws("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


@pytest.mark.parametrize("command", [[], ["declare"], ["list"], ["end"]])
def test_each_command_has_help(command):
    done = subprocess.run([sys.executable, str(CLI), *command, "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


@pytest.mark.parametrize("change,field", [
    (("--account", "1234"), "ACCOUNT"),
    (("--minutes", "0"), "MINUTES"),
    (("--minutes", "481"), "MINUTES"),
    (("--minutes", "ten"), "MINUTES"),
    (("--reason", ""), "REASON"),
    (("--reason", "x" * 201), "REASON"),
    (("--reason", "two\nlines"), "REASON"),
    (("--reason", "right-to-left \u202e override"), "REASON"),
    (("--by", "b" * 65), "BY"),
    (("--by", "zero\u200bwidth"), "BY"),
    (("--source-cidr", "0.0.0.0/0"), "SOURCE_CIDR"),
    (("--source-cidr", "10.0.0.0/7"), "SOURCE_CIDR"),
    (("--source-cidr", "192.0.2.7/24"), "SOURCE_CIDR"),
    (("--source-cidr", "2001:db8::/15"), "SOURCE_CIDR"),
])
def test_a_refused_value_exits_2_naming_it_and_writes_nothing(moto_endpoint, aws, table, change, field):
    args = list(GOOD)
    flag, value = change
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    done = run(moto_endpoint, "--table", table, *args, "--no-wait")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith(f"refused: {field}:"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert get(aws, table, f"declaration#{ACCOUNT}") is None


def test_the_table_is_found_from_the_stack_and_the_item_is_what_the_function_reads(moto_endpoint, aws, table):
    stack = f"rootwatch-{uuid.uuid4().hex[:6]}"
    aws("cloudformation").create_stack(StackName=stack, TemplateBody=json.dumps({
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"StateTableName": {"Value": table}},
    }))
    done = run(moto_endpoint, "--stack", stack, *GOOD, "--source-cidr", "192.0.2.0/24", "--no-wait")
    assert done.returncode == 0, done.stderr
    item = get(aws, table, f"declaration#{ACCOUNT}")
    assert item["account_id"] == {"S": ACCOUNT}
    assert item["declared_by"] == {"S": "alice"} and item["declared_reason"] == {"S": "Close support case 42"}
    assert item["source_cidr"] == {"S": "192.0.2.0/24"}
    assert int(item["window_end"]["N"]) - int(item["window_start"]["N"]) == 3600
    assert item["caller_arn"]["S"].startswith("arn:aws:")
    missing = run(moto_endpoint, "--stack", "no-such-stack", *GOOD)
    assert missing.returncode == 1 and missing.stderr.startswith("error: ValidationError"), missing.stderr


def test_nothing_announced_exits_3_and_a_second_declaration_is_refused(moto_endpoint, aws, table):
    done = run(moto_endpoint, "--table", table, *GOOD, "--wait-seconds", "1")
    assert done.returncode == 3, (done.stdout, done.stderr)
    assert "not announced yet: no effect until it is" in done.stderr
    again = run(moto_endpoint, "--table", table, *GOOD, "--no-wait")
    assert again.returncode == 2 and "REPLACE=1" in again.stderr, again.stderr
    replaced = run(moto_endpoint, "--table", table, *GOOD, "--replace", "--no-wait")
    assert replaced.returncode == 0, replaced.stderr


def test_end_sets_the_end_once(moto_endpoint, aws, table):
    assert run(moto_endpoint, "--table", table, *GOOD, "--no-wait").returncode == 0
    ended = run(moto_endpoint, "--table", table, "end", "--account", ACCOUNT, "--no-wait")
    assert ended.returncode == 0, ended.stderr
    assert "not waiting: the window stays in effect until rootwatch reads the end" in ended.stdout
    assert "ended_at" in get(aws, table, f"declaration#{ACCOUNT}")
    twice = run(moto_endpoint, "--table", table, "end", "--account", ACCOUNT)
    assert twice.returncode == 2 and "already ended" in twice.stderr
    nothing = run(moto_endpoint, "--table", table, "end", "--account", "444455556666")
    assert nothing.returncode == 2 and "has no declaration" in nothing.stderr


def open_window(aws, table):
    """window#<account> as the function keeps it once it announced the declaration now written."""
    declaration = get(aws, table, f"declaration#{ACCOUNT}")
    window = {k: v for k, v in declaration.items() if k != "pk"}
    aws("dynamodb").put_item(TableName=table, Item={**window, "pk": {"S": f"window#{ACCOUNT}"}})


def test_an_end_the_function_has_not_read_exits_3_the_window_staying_in_effect(moto_endpoint, aws, table):
    assert run(moto_endpoint, "--table", table, *GOOD, "--no-wait").returncode == 0
    open_window(aws, table)
    ended = run(moto_endpoint, "--table", table, "end", "--account", ACCOUNT, "--wait-seconds", "1")
    assert ended.returncode == 3, (ended.stdout, ended.stderr)
    assert ended.stderr.startswith("written, not confirmed: the window stays in effect until it is"), ended.stderr
    assert "ended_at" in get(aws, table, f"declaration#{ACCOUNT}")
    assert "ended_at" not in get(aws, table, f"window#{ACCOUNT}")


def template_filter_prefix():
    """The DeclarationsMapping filter's key prefix, read from template.yaml."""
    text = (ROOT / "template.yaml").read_text()
    mapping = text.split("\n  DeclarationsMapping:\n")[1]
    pattern = next(line.strip().removeprefix("- Pattern: ") for line in mapping.splitlines()
                   if line.strip().startswith("- Pattern: "))
    (only,) = json.loads(pattern.strip("'"))["dynamodb"]["Keys"]["pk"]["S"]
    return only["prefix"]


def stream_batches(aws, stream_arn, seen=None):
    """A Python twin of tests/support/stream.rs: the stream read from its start, filtered as the
    template filters it, each record wrapped as Lambda's DynamoDB event. Records whose eventID is
    in `seen` are skipped, and each one yielded is added to it."""
    seen = set() if seen is None else seen
    streams = aws("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    prefix = template_filter_prefix()
    for record in streams.get_records(ShardIterator=iterator)["Records"]:
        pk = record["dynamodb"]["Keys"]["pk"]["S"]
        if pk.startswith(prefix) and record["eventID"] not in seen:
            seen.add(record["eventID"])
            yield {"Records": [{
                "eventID": record["eventID"], "eventName": record["eventName"], "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
                "dynamodb": {"ApproximateCreationDateTime": int(time.time()), "Keys": {"pk": {"S": pk}},
                             "SequenceNumber": record["dynamodb"]["SequenceNumber"], "StreamViewType": "KEYS_ONLY"},
                "eventSourceARN": stream_arn,
            }]}


def test_the_real_function_announces_what_the_cli_wrote_and_closes_it_on_end(moto_endpoint, aws, table):
    """CLI and function agree: an item the CLI writes is announced (not refused as invalid) by the
    real binary, wired by main.rs with DECLARATION_STREAM_ARN, and only then opens its window; a
    forged batch is refused. `end` waits while the function reads the end and closes the window,
    and says so (exit 0)."""
    assert run(moto_endpoint, "--table", table, *GOOD, "--no-wait").returncode == 0
    stream_arn = aws("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    topic = aws("sns").create_topic(Name=f"rootwatch-declare-{uuid.uuid4().hex[:6]}")["TopicArn"]
    runtime = RuntimeApi()
    env = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": "rootwatch", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/rootwatch",
        "AWS_LAMBDA_LOG_STREAM_NAME": "test",
        "AWS_ENDPOINT_URL": moto_endpoint, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "ALERT_TOPIC_ARN": topic, "TOPIC_DISPLAY_NAME": "rootwatch",
        "STATE_TABLE": table, "DECLARATION_STREAM_ARN": stream_arn,
    }
    function = subprocess.Popen([str(build_function(ROOT))], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = set()
    try:
        outcomes = [runtime.invoke(batch) for batch in stream_batches(aws, stream_arn, seen)]
        forged = {"Records": [{"eventSource": "aws:dynamodb", "eventSourceARN": stream_arn + "x",
                               "dynamodb": {"Keys": {"pk": {"S": f"declaration#{ACCOUNT}"}}}}]}
        refused = runtime.invoke(forged)
        assert get(aws, table, f"window#{ACCOUNT}") is not None, "announced, so open"
        ending = subprocess.Popen([sys.executable, str(CLI), "--table", table, "end", "--account", ACCOUNT],
                                  env=cli_env(moto_endpoint), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        # Ring the function with the end once the tool has written it; the tool is waiting.
        ended = []
        deadline = time.monotonic() + 30
        while not ended and time.monotonic() < deadline and ending.poll() is None:
            ended = [runtime.invoke(batch) for batch in stream_batches(aws, stream_arn, seen)]
            time.sleep(0.2)
        end_out, end_err = ending.communicate(timeout=90)
    finally:
        function.terminate()
        _, log = function.communicate(timeout=30)
        runtime.close()
    assert [kind for kind, _ in outcomes] == ["response"], (outcomes, log[-3000:])
    assert json.loads(outcomes[0][1])[0]["declaration"] == "announced", outcomes
    assert refused[0] == "error" and "Rootwatch.UntrustedSource" in refused[1], refused
    window = get(aws, table, f"window#{ACCOUNT}")
    assert window["declared_by"] == {"S": "alice"}, window
    sent = [n for t in aws_sns_topics(moto_endpoint) if t["arn"] == topic for n in t["sent_notifications"]]
    assert len(sent) == 1
    assert sent[0][3]["kind"]["Value"] == "root-use-declared" and sent[0][3]["page"]["Value"] == "false"
    assert [kind for kind, _ in ended] == ["response"], (ended, log[-3000:])
    assert ending.returncode == 0, (end_out, end_err)
    assert end_out.splitlines()[-1].startswith(f"ended, confirmed: {ACCOUNT}'s root alerts text as usual"), end_out
    assert "ended_at" in get(aws, table, f"window#{ACCOUNT}")


def aws_sns_topics(endpoint):
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json") as answer:
        return json.load(answer)["sns"]["Topic"]


def test_list_shows_open_declarations_then_ended_ones_awaiting_their_report(moto_endpoint, aws, table):
    """`make declarations` reads what the function keeps: the reports waiting (index#reports)."""
    now = int(time.time())
    ddb = aws("dynamodb")
    for account, end, ended in [("111122223333", now + 1800, None), ("444455556666", now + 1800, now - 60)]:
        report = {"pk": {"S": f"report#{account}#d-{account}"}, "declaration_id": {"S": f"d-{account}"},
                  "account_id": {"S": account}, "window_start": {"N": str(now - 600)},
                  "window_end": {"N": str(end)}, "declared_reason": {"S": "r" * 80},
                  "declared_by": {"S": "alice"}, "events": {"M": {}}}
        if ended:
            report["ended_at"] = {"N": str(ended)}
        ddb.put_item(TableName=table, Item=report)
    ddb.put_item(TableName=table, Item={"pk": {"S": "index#reports"}, "due": {"SS": [
        "111122223333#d-111122223333", "444455556666#d-444455556666"]}})
    listed = run(moto_endpoint, "--table", table, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0] == "Open declarations:"
    assert lines[1].strip().startswith("111122223333  by alice  until ") and "min left" in lines[1]
    assert lines[1].endswith("r" * 60 + "..."), lines[1]
    assert lines[2] == "Ended, root-use report to come:"
    assert lines[3].strip().startswith("444455556666  by alice  closed ")


# --- the Make targets: values through the environment, never through the recipe's text ----------


def make(endpoint, *args, **environment):
    """`make` in the repository, its tools taken as installed (-o: the venv is the test's own)."""
    return subprocess.run(["make", "-s", "--no-print-directory", "-o", ".venv/.installed", *args], cwd=ROOT,
                          env=cli_env(endpoint, **environment), capture_output=True, text=True, timeout=120)


# What a shell or Make would take for code, if either got to read it.
HOSTILE = """Close case 42: $(shell echo INJECTED) $$HOME $(HOME) `id` "double" 'single' ${PATH} \\ ;"""


@pytest.mark.parametrize("missing", ["ACCOUNT", "MINUTES", "REASON", "BY"])
def test_make_declare_without_a_value_prints_its_usage_and_writes_nothing(moto_endpoint, aws, table, missing):
    values = {"ACCOUNT": ACCOUNT, "MINUTES": "60", "REASON": "r", "BY": "alice"}
    del values[missing]
    done = make(moto_endpoint, "declare", f"STATE_TABLE={table}", *[f"{k}={v}" for k, v in values.items()])
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout.startswith("usage: make declare ACCOUNT=111122223333 MINUTES=60 REASON="), done.stdout
    assert get(aws, table, f"declaration#{ACCOUNT}") is None


def test_make_end_declaration_without_an_account_prints_its_usage(moto_endpoint, table):
    done = make(moto_endpoint, "end-declaration", f"STATE_TABLE={table}")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout.startswith("usage: make end-declaration ACCOUNT=111122223333"), done.stdout


def test_make_declare_passes_a_command_line_value_as_written(moto_endpoint, aws, table):
    """Make would expand `$(...)` and `$$` in a value given on its command line; the reason the
    tool receives is the text typed, quotes and all."""
    done = make(moto_endpoint, "declare", f"ACCOUNT={ACCOUNT}", "MINUTES=60", f"REASON={HOSTILE}",
                "BY=al$$ice", f"STATE_TABLE={table}", "NO_WAIT=1")
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "INJECTED" not in done.stdout + done.stderr
    item = get(aws, table, f"declaration#{ACCOUNT}")
    assert item["declared_reason"] == {"S": HOSTILE}
    assert item["declared_by"] == {"S": "al$$ice"}


def test_make_declare_passes_an_environment_value_as_written(moto_endpoint, aws, table):
    done = make(moto_endpoint, "declare", NO_WAIT="1", ACCOUNT=ACCOUNT, MINUTES="60", REASON=HOSTILE,
                BY="alice", STATE_TABLE=table, SOURCE_CIDR="192.0.2.0/24")
    assert done.returncode == 0, (done.stdout, done.stderr)
    item = get(aws, table, f"declaration#{ACCOUNT}")
    assert item["declared_reason"] == {"S": HOSTILE}
    assert item["source_cidr"] == {"S": "192.0.2.0/24"}


def test_make_switches_are_on_only_at_1(moto_endpoint, aws, table):
    """REPLACE=0 and NO_WAIT=0 are off, as unset; a value other than 0 or 1 is refused."""
    values = [f"ACCOUNT={ACCOUNT}", "MINUTES=60", "REASON=r", "BY=alice", f"STATE_TABLE={table}"]
    assert make(moto_endpoint, "declare", *values, "NO_WAIT=1").returncode == 0
    again = make(moto_endpoint, "declare", *values, "NO_WAIT=1", "REPLACE=0")
    assert again.returncode == 2 and "refused: ACCOUNT:" in again.stderr and "REPLACE=1" in again.stderr, again.stderr
    replaced = make(moto_endpoint, "declare", *values, "NO_WAIT=1", "REPLACE=1")
    assert replaced.returncode == 0, replaced.stderr
    for switch in ["REPLACE=yes", "NO_WAIT=true"]:
        odd = make(moto_endpoint, "declare", *values, "NO_WAIT=1", switch)
        name, value = switch.split("=")
        assert odd.returncode == 2 and f"{name} is 1 (on) or 0 (off), not: {value}" in odd.stdout, (odd.stdout, odd.stderr)
    # NO_WAIT=0 waits: with no window open, the end is confirmed at once.
    waited = make(moto_endpoint, "end-declaration", f"ACCOUNT={ACCOUNT}", f"STATE_TABLE={table}", "NO_WAIT=0")
    assert waited.returncode == 0, (waited.stdout, waited.stderr)
    assert "ended, confirmed" in waited.stdout and "not waiting" not in waited.stdout
