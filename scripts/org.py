#!/usr/bin/env python3
"""Deploys rootwatch's forwarders across an AWS Organization (docs/organizations.md).

  org.py stackset   --home-bus-arn ARN --ou-ids r-ab12,ou-ab12-cdef3456 --regions us-east-1,eu-west-1
      A service-managed StackSet of forwarder.yaml with auto-deployment (accounts that join those
      OUs later get it too), and its instances in every account of the OUs, in every region given.
      Run it in the management account, or a delegated administrator with --call-as DELEGATED_ADMIN.

  org.py management --home-bus-arn ARN --regions us-east-1,eu-west-1
      forwarder.yaml as a plain stack in each region of the account the credentials belong to:
      StackSets never deploy to the management account, whose root user matters most.

--dry-run prints every API call it would make, with parameters checked against the AWS API's own
model (botocore), and makes none. AWS_ENDPOINT_URL is honoured (tests run this against moto)."""
import argparse
import json
import sys
import time
from pathlib import Path

import boto3
from botocore.validate import validate_parameters

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "forwarder.yaml"
DONE = {"SUCCEEDED", "FAILED", "STOPPED"}


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
    # Every account and region at once; one that fails (an SCP, a region not enabled) does not stop
    # the others (SOFT_FAILURE_TOLERANCE), and the operation still ends FAILED so this script says so.
    preferences = {
        "RegionConcurrencyType": "PARALLEL",
        "MaxConcurrentPercentage": 100,
        "FailureTolerancePercentage": 10,
        "ConcurrencyMode": "SOFT_FAILURE_TOLERANCE",
    }
    exists = not args.dry_run and stack_set_exists(call.client(region), args.name, args.call_as)
    if exists:
        # Template and parameters only: with neither targets nor regions the update reaches every
        # instance (and UpdateStackSet refuses AutoDeployment together with targets or regions).
        operation = call(region, "UpdateStackSet", **common, OperationPreferences=preferences)
        wait(call, region, args, operation)
    else:
        call(region, "CreateStackSet", **common, PermissionModel="SERVICE_MANAGED",
             AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
             ManagedExecution={"Active": True})
    operation = call(region, "CreateStackInstances", StackSetName=args.name, CallAs=args.call_as,
                     DeploymentTargets={"OrganizationalUnitIds": args.ou_ids}, Regions=args.regions,
                     OperationPreferences=preferences)
    wait(call, region, args, operation)
    print(f"stack set {args.name}: forwarders in every account of {', '.join(args.ou_ids)} "
          f"in {', '.join(args.regions)}" + (" (dry run)" if args.dry_run else ""))
    print("StackSets never deploy to the management account: run `make org-management` there too.")


def stack_set_exists(client, name, call_as):
    try:
        client.describe_stack_set(StackSetName=name, CallAs=call_as)
        return True
    except client.exceptions.StackSetNotFoundException:
        return False


def wait(call, region, args, operation):
    if operation is None:
        return
    client = call.client(region)
    deadline = time.time() + args.wait_s
    while True:
        status = client.describe_stack_set_operation(
            StackSetName=args.name, OperationId=operation["OperationId"], CallAs=args.call_as
        )["StackSetOperation"]["Status"]
        if status in DONE:
            break
        if time.time() > deadline:
            sys.exit(f"org.py: operation {operation['OperationId']} still {status} after {args.wait_s} s; "
                     "follow it in the CloudFormation console (StackSets)")
        time.sleep(5)
    if status != "SUCCEEDED":
        sys.exit(f"org.py: stack set operation {operation['OperationId']} {status}; "
                 "see its results in the CloudFormation console (StackSets)")


def management(args, call):
    for region in args.regions:
        params = dict(
            StackName=args.name,
            TemplateBody=TEMPLATE.read_text(),
            Parameters=[{"ParameterKey": "HomeBusArn", "ParameterValue": args.home_bus_arn}],
            Capabilities=["CAPABILITY_IAM"],
        )
        exists = not args.dry_run and stack_exists(call.client(region), args.name)
        if exists:
            try:
                call(region, "UpdateStack", **params)
            except call.client(region).exceptions.ClientError as e:
                if "No updates are to be performed" not in str(e):
                    raise
                print(f"{region}: {args.name} is up to date")
                continue
        else:
            call(region, "CreateStack", **params)
        if not args.dry_run:
            waiter = "stack_update_complete" if exists else "stack_create_complete"
            call.client(region).get_waiter(waiter).wait(
                StackName=args.name, WaiterConfig={"Delay": 5, "MaxAttempts": max(1, args.wait_s // 5)}
            )
        print(f"{region}: {args.name} " + ("(dry run)" if args.dry_run else "deployed"))


def stack_exists(client, name):
    try:
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except client.exceptions.ClientError as e:
        if "does not exist" in str(e):
            return False
        raise
    return any(s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, default_name in [("stackset", "rootwatch-forwarder"), ("management", "rootwatch-forwarder")]:
        p = sub.add_parser(name)
        p.add_argument("--home-bus-arn", required=True, help="the home stack's HomeBusArn output")
        p.add_argument("--regions", type=csv, required=True, help="comma-separated regions to cover")
        p.add_argument("--name", default=default_name, help="stack set or stack name")
        p.add_argument("--dry-run", action="store_true", help="print the calls, make none")
        p.add_argument("--wait-s", type=int, default=1800, help="give up waiting after this many seconds")
        if name == "stackset":
            p.add_argument("--ou-ids", type=csv, required=True,
                           help="organizational units (or the root, r-...) whose accounts get forwarders")
            p.add_argument("--call-as", choices=["SELF", "DELEGATED_ADMIN"], default="SELF")
            p.add_argument("--admin-region", help="where the stack set lives (default: the home bus's region)")
    args = parser.parse_args(argv)
    if "us-east-1" not in args.regions:
        # Root console sign-ins (and IAM and other global-service calls) are recorded in us-east-1:
        # without a forwarder there, no sign-in of these accounts would be alerted.
        parser.error("--regions must include us-east-1: CloudTrail records every root console sign-in there")
    parts = args.home_bus_arn.split(":")
    if len(parts) != 6 or parts[2] != "events" or not parts[5].startswith("event-bus/"):
        parser.error(f"--home-bus-arn {args.home_bus_arn!r} is not an event bus ARN (the home stack's HomeBusArn output)")
    call = Calls(args.dry_run, args.wait_s)
    (stackset if args.command == "stackset" else management)(args, call)


if __name__ == "__main__":
    main()
