"""A minimal local stand-in for CloudFormation's handlers of AWS::Events::Connection and
AWS::Events::ApiDestination.

moto implements both in its EventBridge API (CreateConnection, CreateApiDestination; a connection's
credentials go into a secret of moto's Secrets Manager, as EventBridge's go into one it owns) but
not in its CloudFormation, and a template whose rule targets `!GetAtt <ApiDestination>.Arn` is
refused by moto's CreateStack ("Fn::GetAtt references undefined resource"), so the stack could not
be created at all. This does what CloudFormation would for the two types, through moto's
EventBridge API and from the properties resolved as CloudFormation resolves them (intrinsics.Stack;
a `{{resolve:secretsmanager:<name or ARN>}}` dynamic reference read from moto's Secrets Manager, as
CloudFormation User Guide, "Get a secret or secret value from Secrets Manager" describes), then
hands moto the rest of the template: the two types removed and their `Fn::GetAtt ... Arn` replaced
by the ARNs EventBridge returned. It refuses what it does not implement (another attribute, an
Fn::Sub naming them, a JSON key in the reference) rather than guessing.
"""
import copy
import re

from intrinsics import Stack

TYPES = ("AWS::Events::Connection", "AWS::Events::ApiDestination")
DYNAMIC_SECRET = re.compile(r"\{\{resolve:secretsmanager:([^}]*)\}\}")


class StandInError(Exception):
    """The template asks for something this stand-in does not implement."""


def resolve_secrets(value, secrets):
    """Every `{{resolve:secretsmanager:...}}` in the strings of `value`, replaced by the secret's
    SecretString: `<name or ARN>[:SecretString:<json-key>:<version-stage>:<version-id>]`, the ARN
    holding colons itself. A version id or stage is read as that version; a JSON key is refused."""
    if isinstance(value, dict):
        return {k: resolve_secrets(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_secrets(v, secrets) for v in value]
    if not isinstance(value, str):
        return value

    def secret(match):
        reference = match.group(1)
        parts = reference.split(":")
        # An ARN is arn:partition:secretsmanager:region:account:secret:name (7 parts).
        head = 7 if reference.startswith("arn:") else 1
        secret_id, rest = ":".join(parts[:head]), parts[head:]
        if not rest:
            return secrets.get_secret_value(SecretId=secret_id)["SecretString"]
        if len(rest) != 4 or rest[0] != "SecretString" or rest[1]:
            raise StandInError(f"dynamic reference {reference!r}: only SecretString without a JSON key is implemented")
        stage, version = rest[2], rest[3]
        by_version = {"VersionId": version} if version else {"VersionStage": stage} if stage else {}
        return secrets.get_secret_value(SecretId=secret_id, **by_version)["SecretString"]

    return DYNAMIC_SECRET.sub(secret, value)


def _replace_get_atts(node, arns):
    """`node` with every Fn::GetAtt of a stood-in resource's Arn replaced by that ARN."""
    if isinstance(node, list):
        return [_replace_get_atts(item, arns) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::GetAtt"}:
        arg = node["Fn::GetAtt"]
        logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
        if logical_id in arns:
            if attribute != "Arn":
                raise StandInError(f"Fn::GetAtt {logical_id}.{attribute} is not implemented")
            return arns[logical_id]
    # Ref of a connection or an API destination is its name (CloudFormation User Guide,
    # AWS::Events::ApiDestination, "Return values"): the last part of a connection's ARN, the
    # part after "api-destination/" and before the id of a destination's.
    names = {logical_id: _name_of(arn) for logical_id, arn in arns.items()}
    if set(node) == {"Ref"} and node["Ref"] in arns:
        return names[node["Ref"]]
    if set(node) == {"Fn::Sub"}:
        sub = node["Fn::Sub"]
        text = sub if isinstance(sub, str) else sub[0]
        for logical_id, name in names.items():
            text = text.replace(f"${{{logical_id}}}", name)
        if re.search(r"\$\{(" + "|".join(map(re.escape, arns)) + r")\.", text) if arns else False:
            raise StandInError("Fn::Sub of a stood-in resource's attribute is not implemented")
        return {"Fn::Sub": text if isinstance(sub, str) else [text, _replace_get_atts(sub[1], arns)]}
    return {key: _replace_get_atts(value, arns) for key, value in node.items()}


def _name_of(arn):
    """The name in a connection's or an API destination's ARN (`…:connection/<name>/<id>`,
    `…:api-destination/<name>/<id>`)."""
    return arn.split(":", 5)[5].split("/")[1]


def create(doc, parameters, account, region, stack_name, events, secrets):
    """Creates the template's connections and API destinations that these parameters create (their
    Condition holds) on moto's EventBridge. Returns (the template for moto's CloudFormation, without
    them; {logical id: ARN} of what was created)."""
    stack = Stack(doc, parameters, account, region, stack_name)
    wanted = {
        logical_id: resource for logical_id, resource in doc["Resources"].items()
        if resource["Type"] in TYPES and logical_id in stack.created()
    }
    arns = {}
    # Connections first: a destination names its connection's ARN.
    for logical_id, resource in sorted(wanted.items(), key=lambda item: item[1]["Type"] != TYPES[0]):
        raw = _replace_get_atts(resource.get("Properties", {}), arns)
        props = resolve_secrets(stack.resolve(raw), secrets)
        name = stack.physical_name(logical_id)
        if resource["Type"] == TYPES[0]:
            answer = events.create_connection(
                Name=name, AuthorizationType=props["AuthorizationType"], AuthParameters=props["AuthParameters"],
                **({"Description": props["Description"]} if "Description" in props else {}),
            )
            arns[logical_id] = answer["ConnectionArn"]
        else:
            answer = events.create_api_destination(
                Name=name, ConnectionArn=props["ConnectionArn"], InvocationEndpoint=props["InvocationEndpoint"],
                HttpMethod=props["HttpMethod"],
                **{k: props[k] for k in ("Description", "InvocationRateLimitPerSecond") if k in props},
            )
            arns[logical_id] = answer["ApiDestinationArn"]
    rest = copy.deepcopy(doc)
    for logical_id in wanted:
        del rest["Resources"][logical_id]
    rest["Resources"] = _replace_get_atts(rest["Resources"], arns)
    rest["Outputs"] = _replace_get_atts(rest.get("Outputs", {}), arns)
    return rest, arns
