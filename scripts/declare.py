#!/usr/bin/env python3
"""Declares planned root use to rootwatch (docs/declaring.md), lists declarations, ends one.

  declare.py declare --account 111122223333 --minutes 60 --reason "Close support case 42" --by alice
                     [--source-cidr 192.0.2.0/24] [--replace] [--no-wait]
      Writes declaration#<account> into rootwatch's state table, then waits up to a minute for
      the function to announce it (root-use-declared, by email and chat): only then is it in
      effect. Exit 0: announced. Exit 3: written, not announced yet (no effect until it is).

  declare.py list
      Open declarations, then ended ones whose root-use report is still to come.

  declare.py end --account 111122223333 [--no-wait]
      Ends the account's declaration now, then waits up to a minute for the function to close
      its window: only then do the account's root alerts text again. Exit 0: ended, confirmed.
      Exit 3: written, not confirmed (the window stays in effect until it is). The root-use
      report follows after the grace period.

The table: --table (or STATE_TABLE), else the StateTableName output of --stack (or STACK). Region,
profile, credentials and AWS_ENDPOINT_URL come from boto3's own chain. The function validates
every declaration again and is the authority; this tool refuses early what it would refuse.
Exit 2: a value was refused (one line names it and what is accepted); exit 1: AWS said no (one
line with its error code)."""
import argparse
import ipaddress
import os
import re
import sys
import time
import unicodedata
import uuid
from datetime import datetime, timezone

import boto3
from botocore.exceptions import BotoCoreError, ClientError

MAX_MINUTES = 480
MAX_REASON = 200
MAX_BY = 64
REMEMBER_S = 7 * 24 * 3600
WAIT_S = 60
PREFIX_BOUNDS = {4: (8, 32), 6: (16, 128)}


class Refused(Exception):
    """A value this tool (and the function) would not accept."""


def account(text):
    if not re.fullmatch(r"[0-9]{12}", text or ""):
        raise Refused(f"ACCOUNT: {text!r} is not a 12-digit AWS account id")
    return text


def minutes(text):
    if not re.fullmatch(r"[0-9]{1,4}", text or "") or not 1 <= int(text) <= MAX_MINUTES:
        raise Refused(f"MINUTES: {text!r} is not a whole number of minutes from 1 to {MAX_MINUTES}")
    return int(text)


def line(name, text, most):
    """1 to `most` characters, none of them a control or format (Cf) character: refused, not
    stripped, so what is announced is what was typed."""
    text = text or ""
    if not 1 <= len(text) <= most or not text.strip():
        raise Refused(f"{name}: must be 1 to {most} characters (got {len(text)})")
    bad = [c for c in text if unicodedata.category(c) in ("Cc", "Cf")]
    if bad:
        raise Refused(f"{name}: control or invisible formatting characters are not accepted "
                      f"(found {ascii(bad[0])}); one plain line")
    return text


def source_cidr(text):
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as err:
        raise Refused(f"SOURCE_CIDR: {text!r} is not a network address with its prefix ({err})") from None
    low, high = PREFIX_BOUNDS[network.version]
    if not low <= network.prefixlen <= high:
        raise Refused(f"SOURCE_CIDR: {text!r}: the prefix must be /{low} to /{high} for IPv{network.version}")
    return str(network)


def now_s():
    return int(time.time())


def utc(seconds):
    return datetime.fromtimestamp(int(seconds), timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def table_name(args):
    table = args.table or os.environ.get("STATE_TABLE")
    if table:
        return table
    stack = args.stack or os.environ.get("STACK")
    if not stack:
        raise Refused("STACK: name the rootwatch stack (STACK=...) or its state table (STATE_TABLE=...)")
    (described,) = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    for output in described.get("Outputs", []):
        if output["OutputKey"] == "StateTableName":
            return output["OutputValue"]
    raise Refused(f"STACK: stack {stack} has no StateTableName output; is it rootwatch?")


def item(ddb, table, pk):
    return ddb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def text(found, name, default=""):
    return (found or {}).get(name, {}).get("S", default)


def number(found, name):
    value = (found or {}).get(name, {}).get("N")
    return int(value) if value is not None else None


def caller_arn():
    """Who the credentials belong to, as STS says (no permission needed); "unknown" if it won't."""
    try:
        return boto3.client("sts").get_caller_identity()["Arn"]
    except (BotoCoreError, ClientError):
        return "unknown"


def is_open(window, at):
    return window is not None and number(window, "window_end") > at and number(window, "ended_at") is None


def declare(args, ddb, table):
    target = account(args.account)
    length = minutes(str(args.minutes))
    reason = line("REASON", args.reason, MAX_REASON)
    by = line("BY", args.by, MAX_BY)
    cidr = source_cidr(args.source_cidr) if args.source_cidr else None
    at = now_s()
    window = item(ddb, table, f"window#{target}")
    if is_open(window, at) and not args.replace:
        raise Refused(f"ACCOUNT: {target} already has a declaration in effect until "
                      f"{utc(number(window, 'window_end'))} (by {text(window, 'declared_by')}); "
                      "end it first, or replace it (REPLACE=1, --replace)")
    declaration_id = uuid.uuid4().hex
    end = at + length * 60
    new = {
        "pk": {"S": f"declaration#{target}"},
        "declaration_id": {"S": declaration_id},
        "account_id": {"S": target},
        "window_start": {"N": str(at)},
        "window_end": {"N": str(end)},
        "declared_reason": {"S": reason},
        "declared_by": {"S": by},
        "caller_arn": {"S": caller_arn()},
        "expires_at": {"N": str(end + REMEMBER_S)},
    }
    if cidr:
        new["source_cidr"] = {"S": cidr}
    put = {"TableName": table, "Item": new}
    if not args.replace:
        put["ConditionExpression"] = "attribute_not_exists(pk) OR window_end <= :now OR attribute_exists(ended_at)"
        put["ExpressionAttributeValues"] = {":now": {"N": str(at)}}
    try:
        ddb.put_item(**put)
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise Refused(f"ACCOUNT: {target} has a declaration written and not over; end it first, or "
                      "replace it (REPLACE=1, --replace)") from None
    print(f"written: declaration {declaration_id} for {target}, {length} minutes, until {utc(end)}")
    if args.no_wait:
        print("not waiting: it is in effect once rootwatch announces it (root-use-declared email)")
        return 0
    deadline = time.monotonic() + args.wait_seconds
    while True:
        if text(item(ddb, table, f"window#{target}"), "declaration_id") == declaration_id:
            print(f"announced, in effect until {utc(end)}: root alerts below CRITICAL for {target} "
                  "go to email and chat only")
            return 0
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    print(f"written, not announced yet: no effect until it is (see the failed-events alarms; "
          f"docs/declaring.md). Declaration {declaration_id}", file=sys.stderr)
    return 3


def end(args, ddb, table):
    target = account(args.account)
    written = item(ddb, table, f"declaration#{target}")
    if written is None:
        raise Refused(f"ACCOUNT: {target} has no declaration")
    at = now_s()
    if number(written, "window_end") is not None and number(written, "window_end") <= at:
        raise Refused(f"ACCOUNT: {target}'s declaration ran out at {utc(number(written, 'window_end'))}")
    try:
        ddb.update_item(
            TableName=table, Key={"pk": {"S": f"declaration#{target}"}},
            UpdateExpression="SET ended_at = :now",
            ConditionExpression="declaration_id = :id AND attribute_not_exists(ended_at)",
            ExpressionAttributeValues={":now": {"N": str(at)}, ":id": {"S": text(written, "declaration_id")}})
    except ClientError as err:
        if err.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raise Refused(f"ACCOUNT: {target}'s declaration was already ended or replaced") from None
    print(f"written: declaration {text(written, 'declaration_id')} for {target} ended at {utc(at)}")
    if args.no_wait:
        print("not waiting: the window stays in effect until rootwatch reads the end")
        return 0
    # The function copies the end onto window#<account> when it reads it from the stream; until
    # then alerts still find the window open (src/declare/decide.rs, Step::End).
    deadline = time.monotonic() + args.wait_seconds
    while True:
        if not is_open(item(ddb, table, f"window#{target}"), now_s()):
            print(f"ended, confirmed: {target}'s root alerts text as usual; the root-use report "
                  "follows after the grace period, on the watchdog's schedule")
            return 0
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    print("written, not confirmed: the window stays in effect until it is (see the failed-events "
          f"alarms; docs/declaring.md). Declaration {text(written, 'declaration_id')}", file=sys.stderr)
    return 3


def list_declarations(args, ddb, table):
    index = item(ddb, table, "index#reports")
    entries = sorted((index or {}).get("due", {}).get("SS", []))
    reports = []
    for start in range(0, len(entries), 100):
        keys = [{"pk": {"S": f"report#{entry}"}} for entry in entries[start:start + 100]]
        request = {table: {"Keys": keys, "ConsistentRead": True}}
        while request:
            answer = ddb.batch_get_item(RequestItems=request)
            reports.extend(answer.get("Responses", {}).get(table, []))
            request = answer.get("UnprocessedKeys") or None
    at = now_s()

    def closes(report):
        return min(n for n in (number(report, "window_end"), number(report, "ended_at"),
                               number(report, "superseded_at")) if n is not None)

    open_ones = [r for r in reports if closes(r) > at]
    ended = [r for r in reports if closes(r) <= at]
    print("Open declarations:" if open_ones else "No open declaration.")
    for r in sorted(open_ones, key=closes):
        reason = text(r, "declared_reason")
        print(f"  {text(r, 'account_id')}  by {text(r, 'declared_by')}  until {utc(closes(r))} "
              f"({(closes(r) - at + 59) // 60} min left)  from {text(r, 'source_cidr', 'anywhere')}  "
              f"{reason[:60]}{'...' if len(reason) > 60 else ''}")
    if ended:
        print("Ended, root-use report to come:")
        for r in sorted(ended, key=closes):
            print(f"  {text(r, 'account_id')}  by {text(r, 'declared_by')}  closed {utc(closes(r))}")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", help="the state table's name (default: STATE_TABLE)")
    parser.add_argument("--stack", help="the rootwatch stack, whose StateTableName output names the table (default: STACK)")
    commands = parser.add_subparsers(dest="command", required=True)
    d = commands.add_parser("declare", help="declare planned root use of one account")
    d.add_argument("--account", required=True, help="the 12-digit account id")
    d.add_argument("--minutes", required=True, help=f"how long, 1 to {MAX_MINUTES}")
    d.add_argument("--reason", required=True, help=f"what for, 1 to {MAX_REASON} characters")
    d.add_argument("--by", required=True, help=f"who, 1 to {MAX_BY} characters")
    d.add_argument("--source-cidr", help="where from: IPv4 /8 to /32 or IPv6 /16 to /128 (default: anywhere)")
    d.add_argument("--replace", action="store_true", help="replace the account's declaration in effect")
    d.add_argument("--no-wait", action="store_true", help="do not wait for the announcement")
    d.add_argument("--wait-seconds", type=int, default=WAIT_S, help=argparse.SUPPRESS)
    commands.add_parser("list", help="open declarations, and ended ones whose report is to come")
    e = commands.add_parser("end", help="end the account's declaration now")
    e.add_argument("--account", required=True, help="the 12-digit account id")
    e.add_argument("--no-wait", action="store_true", help="do not wait for the window to close")
    e.add_argument("--wait-seconds", type=int, default=WAIT_S, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.command == "declare":
            # Refuse a bad value before any AWS call.
            account(args.account), minutes(args.minutes), line("REASON", args.reason, MAX_REASON)
            line("BY", args.by, MAX_BY)
            if args.source_cidr:
                source_cidr(args.source_cidr)
        elif args.command == "end":
            account(args.account)
        ddb = boto3.client("dynamodb")
        table = table_name(args)
        run = {"declare": declare, "end": end, "list": list_declarations}[args.command]
        return run(args, ddb, table)
    except Refused as err:
        print(f"refused: {err}", file=sys.stderr)
        return 2
    except ClientError as err:
        error = err.response.get("Error", {})
        print(f"error: {error.get('Code', 'unknown')}: {error.get('Message', '')}", file=sys.stderr)
        return 1
    except BotoCoreError as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
