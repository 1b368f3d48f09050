#!/usr/bin/env python3
"""Deploys rootwatch's forwarders across an AWS Organization (docs/organizations.md),
or across one account's regions, and removes them again.

  org.py stackset   --home-bus-arn ARN --ou-ids r-ab12,ou-ab12-cdef3456 --regions us-east-1,eu-west-1
      A service-managed StackSet of forwarder.yaml with auto-deployment (accounts that join those
      OUs later get it too), and its instances in every account of the OUs, in every region given.
      Run it in the management account, or a delegated administrator with --call-as DELEGATED_ADMIN.

  org.py management --home-bus-arn ARN --regions us-east-1,eu-west-1
      forwarder.yaml as a plain stack in each region of the account the credentials belong to:
      StackSets never deploy to the management account, whose root user matters most.

  org.py regions   --home-region us-east-1 --regions us-east-1,eu-west-1 [--stack-name rootwatch]
      One account, many regions: the rootwatch stack in --home-region (deployed already, by any
      means) admits this account's forwarders (its SourceAccountIds gains the account, every other
      parameter and the template stay as they are), and forwarder.yaml goes to every other region
      given. One home stack: one set of topics, keys and confirmations (docs/install.md).

  org.py delete     --home-bus-arn ARN --regions us-east-1,eu-west-1
      The reverse of stackset and management: the stack set's instances (every OU and region it
      has), then the stack set, then the management account's stacks in each region; each step
      waits for the one before (and the first for any stack set operation still running). The
      home stack is left to `sam delete`. With --call-as DELEGATED_ADMIN the management account's
      stacks are not these credentials' to delete: run it again there with its own.

A stack whose first create failed (ROLLBACK_COMPLETE) cannot be updated: management and regions
delete it and create it again. A failure ends with one line naming the stack or operation and
its status, not a traceback.

--dry-run prints every API call that would change something, with parameters checked against the
AWS API's own model (botocore), and makes none; the reads a real run starts with (which stacks and
instances exist, whose credentials these are) are not made either, so a dry run shows a first run.
AWS_ENDPOINT_URL is honoured (tests run this against moto)."""
import argparse
import json
import re
import sys
import time
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from botocore.validate import validate_parameters

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "forwarder.yaml"
DONE = {"SUCCEEDED", "FAILED", "STOPPED"}
# A stack set operation not yet DONE: another one on the same stack set is refused meanwhile
# (OperationInProgressException).
UNDERWAY = {"RUNNING", "QUEUED", "STOPPING"}
POLL_S = 5


class Calls:
    """Makes (or, in a dry run, prints) CloudFormation calls, one client per region."""

    def __init__(self, dry_run, wait_s):
        self.dry_run, self.wait_s, self.clients = dry_run, wait_s, {}

    def client(self, region):
        if region not in self.clients:
            self.clients[region] = boto3.client("cloudformation", region_name=region)
        return self.clients[region]

    def __call__(self, region, operation, **params):
        client = self.client(region)
        model = client.meta.service_model.operation_model(operation)
        validate_parameters(params, model.input_shape)  # raises on a wrong name or type
        if self.dry_run:
            shown = {k: ("<forwarder.yaml>" if k == "TemplateBody" else v) for k, v in params.items()}
            print(f"would call cloudformation {operation} in {region}: {json.dumps(shown, sort_keys=True)}")
            return None
        python_name = {api: py for py, api in client.meta.method_to_api_mapping.items()}[operation]
        return getattr(client, python_name)(**params)


def csv(text):
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def preferences():
    """Every account and region at once; one that fails (an SCP, a region not enabled) does not stop
    the others (SOFT_FAILURE_TOLERANCE), and the operation still ends FAILED so this script says so."""
    return {
        "RegionConcurrencyType": "PARALLEL",
        "MaxConcurrentPercentage": 100,
        "FailureTolerancePercentage": 10,
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
    }


def stackset(args, call):
    home_region = args.home_bus_arn.split(":")[3]
    region = args.admin_region or home_region
    common = dict(
        StackSetName=args.name,
        TemplateBody=TEMPLATE.read_text(),
        Parameters=[{"ParameterKey": "HomeBusArn", "ParameterValue": args.home_bus_arn}],
        Capabilities=["CAPABILITY_IAM"],
        CallAs=args.call_as,
    )
    exists = not args.dry_run and stack_set_exists(call.client(region), args.name, args.call_as)
    if exists:
        # Template and parameters only: with neither targets nor regions the update reaches every
        # instance (and UpdateStackSet refuses AutoDeployment together with targets or regions).
        operation = call(region, "UpdateStackSet", **common, OperationPreferences=preferences())
        succeeded(wait(call, region, args, operation), operation)
    else:
        call(region, "CreateStackSet", **common, PermissionModel="SERVICE_MANAGED",
             AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
             ManagedExecution={"Active": True})
    operation = call(region, "CreateStackInstances", StackSetName=args.name, CallAs=args.call_as,
                     DeploymentTargets={"OrganizationalUnitIds": args.ou_ids}, Regions=args.regions,
                     OperationPreferences=preferences())
    succeeded(wait(call, region, args, operation), operation)
    print(f"stack set {args.name}: forwarders in every account of {', '.join(args.ou_ids)} "
          f"in {', '.join(args.regions)}" + (" (dry run)" if args.dry_run else ""))
    print("StackSets never deploy to the management account: run `make org-management` there too.")
    # Coverage (docs/coverage.md): the home stack checks these regions once the forwarders beat.
    print(f"Then, for coverage, set CoverageRegions={','.join(args.regions)} on the home stack.")


def stack_set_exists(client, name, call_as):
    try:
        client.describe_stack_set(StackSetName=name, CallAs=call_as)
        return True
    except client.exceptions.StackSetNotFoundException:
        return False


def wait(call, region, args, operation):
    """The operation's final status (None in a dry run); stops, naming it, if it outlasts --wait-s."""
    if operation is None:
        return None
    client = call.client(region)
    deadline = time.time() + args.wait_s
    while True:
        status = client.describe_stack_set_operation(
            StackSetName=args.name, OperationId=operation["OperationId"], CallAs=args.call_as
        )["StackSetOperation"]["Status"]
        if status in DONE:
            return status
        if time.time() > deadline:
            sys.exit(f"org.py: operation {operation['OperationId']} still {status} after {args.wait_s} s; "
                     "follow it in the CloudFormation console (StackSets) and run again when it is done")
        time.sleep(POLL_S)


def succeeded(status, operation):
    if status not in (None, "SUCCEEDED"):
        sys.exit(f"org.py: stack set operation {operation['OperationId']} {status}; "
                 "see its results in the CloudFormation console (StackSets)")


def settle(call, region, args):
    """Waits for every operation still underway on the stack set (a run that outlasted --wait-s,
    an auto-deployment to an account that just joined): CloudFormation refuses another meanwhile."""
    client = call.client(region)
    pages = client.get_paginator("list_stack_set_operations").paginate(StackSetName=args.name, CallAs=args.call_as)
    for summary in [s for page in pages for s in page["Summaries"] if s["Status"] in UNDERWAY]:
        print(f"stack set {args.name}: waiting for operation {summary['OperationId']} ({summary['Action']}, "
              f"{summary['Status']})")
        wait(call, region, args, summary)


def wait_stack(call, region, name, waiter, args):
    """Waits for a stack with one of CloudFormation's waiters; a stack that ends anywhere else (a
    rollback, a failed deletion) or outlasts --wait-s stops the run, naming it and its status."""
    try:
        call.client(region).get_waiter(waiter).wait(
            StackName=name, WaiterConfig={"Delay": POLL_S, "MaxAttempts": max(1, args.wait_s // max(1, POLL_S))}
        )
    except WaiterError as e:
        stacks = (e.last_response or {}).get("Stacks") or [{}]
        status, reason = stacks[0].get("StackStatus", "unknown"), stacks[0].get("StackStatusReason")
        error = (e.last_response or {}).get("Error", {}).get("Message")
        sys.exit(f"org.py: stack {name} in {region} is {status}" + (f" ({reason or error})" if reason or error else "")
                 + "; see its events in the CloudFormation console")


def management(args, call):
    for region in args.regions:
        params = dict(
            StackName=args.name,
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "HomeBusArn", "ParameterValue": args.home_bus_arn}],
            Capabilities=["CAPABILITY_IAM"],
        )
        status = None if args.dry_run else stack_status(call.client(region), args.name)
        if status == "ROLLBACK_COMPLETE":
            # Its first create failed and rolled back: CloudFormation can only delete such a stack.
            print(f"{region}: {args.name} is ROLLBACK_COMPLETE (its first create failed): deleting it to create it again")
            call(region, "DeleteStack", StackName=args.name)
            wait_stack(call, region, args.name, "stack_delete_complete", args)
            status = None
        exists = status is not None
        if exists:
            try:
                call(region, "UpdateStack", **params)
            except ClientError as e:
                if "No updates are to be performed" not in str(e):
                    raise
                print(f"{region}: {args.name} is up to date")
                continue
        else:
            call(region, "CreateStack", **params)
        if not args.dry_run:
            wait_stack(call, region, args.name, "stack_update_complete" if exists else "stack_create_complete", args)
        print(f"{region}: {args.name} " + ("(dry run)" if args.dry_run else "deployed"))


def stack_status(client, name):
    """The stack's status, or None when there is none (DescribeStacks by name never answers with a
    deleted stack, but says it does not exist)."""
    try:
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise
    live = [s["StackStatus"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def stack_set_instances(client, name, call_as):
    pages = client.get_paginator("list_stack_instances").paginate(StackSetName=name, CallAs=call_as)
    return [summary for page in pages for summary in page["Summaries"]]


def delete(args, call):
    region = args.admin_region or args.home_bus_arn.split(":")[3]
    client = call.client(region)
    if args.dry_run:
        if not args.ou_ids:
            sys.exit("org.py: a dry run cannot list the stack set's instances: give --ou-ids (OU_IDS=...)")
        exists, ous, instance_regions = True, args.ou_ids, args.regions
    else:
        exists = stack_set_exists(client, args.name, args.call_as)
        instances = stack_set_instances(client, args.name, args.call_as) if exists else []
        ous = sorted({i["OrganizationalUnitId"] for i in instances if i.get("OrganizationalUnitId")})
        instance_regions = sorted({i["Region"] for i in instances})
    if not exists:
        print(f"stack set {args.name}: none in {region}")
    if exists and not args.dry_run:
        settle(call, region, args)
    status = None
    if exists and ous:
        # A service-managed stack set names its targets by OU: all of them, in every region they
        # have, and the stacks go with the instances (RetainStacks false).
        operation = call(region, "DeleteStackInstances", StackSetName=args.name, CallAs=args.call_as,
                         DeploymentTargets={"OrganizationalUnitIds": ous}, Regions=instance_regions,
                         RetainStacks=False, OperationPreferences=preferences())
        status = wait(call, region, args, operation)
    if exists and not args.dry_run:
        # AWS refuses to delete a stack set that still has instances: say which and why, keep it.
        left = stack_set_instances(client, args.name, args.call_as)
        if left:
            where = "; ".join(sorted(f"{i['Account']} {i['Region']}" + (f": {i['StatusReason']}" if i.get("StatusReason") else "")
                                     for i in left))
            ended = f"the deletion ended {status}; " if status not in (None, "SUCCEEDED") else ""
            sys.exit(f"org.py: stack set {args.name} still has {len(left)} instance(s) ({where}); {ended}it is kept. "
                     "Run the teardown again, or see the instances in the CloudFormation console (StackSets)")
        if status not in (None, "SUCCEEDED"):
            sys.exit(f"org.py: deleting the stack set's instances ended {status}; see its results in the "
                     "CloudFormation console (StackSets)")
    if exists:
        call(region, "DeleteStackSet", StackSetName=args.name, CallAs=args.call_as)
        print(f"stack set {args.name}: deleted" + (" (dry run)" if args.dry_run else ""))
    if args.call_as == "DELEGATED_ADMIN":
        # These credentials are the delegated administrator's: DeleteStack would act on its own
        # account, not on the management account, whose forwarders StackSets never deployed.
        print(f"The management account's {args.name} stacks are left: run `make org-teardown` again with the "
              "management account's credentials (it finds no stack set of its own there and deletes only those).")
    else:
        for region in args.regions:
            client = call.client(region)
            if not args.dry_run and stack_status(client, args.name) is None:
                print(f"{region}: no {args.name} stack")
                continue
            call(region, "DeleteStack", StackName=args.name)
            if not args.dry_run:
                wait_stack(call, region, args.name, "stack_delete_complete", args)
            print(f"{region}: {args.name} " + ("(dry run)" if args.dry_run else "deleted"))
    print("The home stack stays: delete it with `sam delete` (docs/install.md) once no forwarder is left.")


# The home stack's parameters as this repository's template.yaml names them: a dry run cannot read
# the deployed stack's, so it shows an update of a stack deployed from this version.
def template_parameters():
    text = (ROOT / "template.yaml").read_text()
    block = text.split("\nParameters:\n", 1)[1].split("\nConditions:\n", 1)[0]
    return re.findall(r"^  ([A-Za-z0-9]+):$", block, flags=re.M)


def regions(args, call):
    home = args.home_region
    if args.dry_run:
        if not args.account_id:
            sys.exit("org.py: a dry run cannot ask whose credentials these are: give --account-id (ACCOUNT_ID=...)")
        account, partition = args.account_id, "aws"
        keys, sources = template_parameters(), []
    else:
        identity = boto3.client("sts", region_name=home).get_caller_identity()
        account, partition = identity["Account"], identity["Arn"].split(":")[1]
        if args.account_id and args.account_id != account:
            sys.exit(f"org.py: --account-id {args.account_id} is not the account of these credentials ({account})")
        client = call.client(home)
        try:
            (stack,) = client.describe_stacks(StackName=args.stack_name)["Stacks"]
        except ClientError as e:
            if "does not exist" not in str(e):
                raise
            sys.exit(f"org.py: no stack {args.stack_name} in {home}: deploy rootwatch there first (docs/install.md)")
        values = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
        if "SourceAccountIds" not in values:
            sys.exit(f"org.py: stack {args.stack_name} in {home} has no SourceAccountIds parameter: is it rootwatch?")
        keys = list(values)
        sources = [s for s in values["SourceAccountIds"].split(",") if s]

    if account in sources:
        print(f"{home}: {args.stack_name} already admits forwarders of {account}")
    else:
        # The deployed template and every other parameter as they are (a parameter left out would
        # fall back to its default: the recipients would be lost). AUTO_EXPAND: the template is SAM's.
        parameters = [{"ParameterKey": k, "UsePreviousValue": True} for k in keys if k != "SourceAccountIds"]
        parameters.append({"ParameterKey": "SourceAccountIds", "ParameterValue": ",".join([*sources, account])})
        call(home, "UpdateStack", StackName=args.stack_name, UsePreviousTemplate=True, Parameters=parameters,
             Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        if not args.dry_run:
            wait_stack(call, home, args.stack_name, "stack_update_complete", args)
        print(f"{home}: {args.stack_name} admits forwarders of {account}" + (" (dry run)" if args.dry_run else ""))

    # The bus's name is fixed by the template (HomeBus: <stack name>-root-events); a real run reads
    # the output, so that a stack that is not what this script expects stops it here.
    bus = f"arn:{partition}:events:{home}:{account}:event-bus/{args.stack_name}-root-events"
    if not args.dry_run:
        (stack,) = call.client(home).describe_stacks(StackName=args.stack_name)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        if "HomeBusArn" not in outputs:
            sys.exit(f"org.py: {args.stack_name} in {home} has no HomeBusArn output after the update")
        bus = outputs["HomeBusArn"]
    others = [r for r in args.regions if r != home]
    forwarders = argparse.Namespace(**{**vars(args), "home_bus_arn": bus, "regions": others,
                                       "name": args.forwarder_name})
    management(forwarders, call)
    covered = ", ".join([home, *others])
    print(f"{args.stack_name} in {home} alerts on root activity of {account} in {covered}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ["stackset", "management", "delete", "regions"]:
        p = sub.add_parser(name)
        p.add_argument("--regions", type=csv, required=True, help="comma-separated regions to cover")
        p.add_argument("--dry-run", action="store_true", help="print the calls, make none")
        p.add_argument("--wait-s", type=int, default=1800, help="give up waiting after this many seconds")
        if name == "regions":
            p.add_argument("--home-region", required=True, help="the region of the rootwatch stack that alerts")
            p.add_argument("--stack-name", default="rootwatch", help="that stack's name")
            p.add_argument("--forwarder-name", default="rootwatch-forwarder", help="the forwarder stacks' name")
            p.add_argument("--account-id", help="this account's id (required in a dry run; checked otherwise)")
            continue
        p.add_argument("--home-bus-arn", required=True, help="the home stack's HomeBusArn output")
        p.add_argument("--name", default="rootwatch-forwarder", help="stack set or stack name")
        if name in ("stackset", "delete"):
            p.add_argument("--ou-ids", type=csv, required=name == "stackset",
                           help="organizational units (or the root, r-...) whose accounts get forwarders"
                           + ("" if name == "stackset" else "; only a dry run uses them (a real run lists the instances)"))
            p.add_argument("--call-as", choices=["SELF", "DELEGATED_ADMIN"], default="SELF")
            p.add_argument("--admin-region", help="where the stack set lives (default: the home bus's region)")
    args = parser.parse_args(argv)
    covered = [*args.regions, args.home_region] if args.command == "regions" else args.regions
    if args.command != "delete" and "us-east-1" not in covered:
        # Root console sign-ins (and IAM and other global-service calls) are recorded in us-east-1:
        # without a forwarder there, no sign-in of these accounts would be alerted.
        parser.error("--regions must include us-east-1: CloudTrail records every root console sign-in there")
    if args.command == "regions":
        if args.account_id and not re.fullmatch(r"[0-9]{12}", args.account_id):
            parser.error(f"--account-id {args.account_id!r} is not a 12-digit account id")
    else:
        parts = args.home_bus_arn.split(":")
        if len(parts) != 6 or parts[2] != "events" or not parts[5].startswith("event-bus/"):
            parser.error(f"--home-bus-arn {args.home_bus_arn!r} is not an event bus ARN (the home stack's HomeBusArn output)")
    call = Calls(args.dry_run, args.wait_s)
    try:
        {"stackset": stackset, "management": management, "delete": delete, "regions": regions}[args.command](args, call)
    except ClientError as e:
        hint = ""
        if e.response.get("Error", {}).get("Code") == "OperationInProgressException":
            hint = " (another operation on the stack set is still running: wait for it, then run again)"
        sys.exit(f"org.py: {e}{hint}")
    except BotoCoreError as e:
        sys.exit(f"org.py: {e}")


if __name__ == "__main__":
    main()
