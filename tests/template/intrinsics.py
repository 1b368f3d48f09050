"""Resolves a deployed (SAM-transformed) template's intrinsic functions to concrete values for one
imagined stack: fixed account, region, stack name and parameters, and the physical names
CloudFormation would generate (stack-logicalid-SUFFIX) where the template sets none. Enough for
the policies and conditions rootwatch uses; anything else raises, so nothing resolves silently
to a wrong value."""
import re

SUFFIX = "EXAMPLE1234"


class _NoValue:
    """AWS::NoValue: the property or list item it stands in is removed."""

    def __repr__(self):
        return "AWS::NoValue"


NO_VALUE = _NoValue()

# The property that sets a resource's name, where the template may set one.
NAME_PROPERTY = {
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Events::Rule": "Name",
    "AWS::Events::EventBus": "Name",
    "AWS::KMS::Alias": "AliasName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::CloudWatch::Alarm": "AlarmName",
}


def _check_allowed(key, spec, value):
    """CloudFormation refuses a value its parameter does not allow before anything resolves; a
    CommaDelimitedList's AllowedPattern applies to each item (CloudFormation User Guide,
    "Parameters")."""
    for item in value if isinstance(value, list) else [value]:
        item = str(item)
        if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], item):
            raise ValueError(f"parameter {key}: {item!r} does not match its AllowedPattern")
        if "AllowedValues" in spec and item not in map(str, spec["AllowedValues"]):
            raise ValueError(f"parameter {key}: {item!r} is not one of its AllowedValues")


class Stack:
    def __init__(self, template, parameters, account, region, name, partition="aws", check_parameters=True):
        """`check_parameters=False` only where a test asks what a value CloudFormation would refuse
        would do (defence in depth behind a pattern)."""
        self.template = template
        self.resources = template["Resources"]
        self.account, self.region, self.name, self.partition = account, region, name, partition
        self.parameters = {}
        for key, spec in template.get("Parameters", {}).items():
            value = parameters.get(key, spec.get("Default"))
            if value is None:
                continue  # an error only if something refers to it (lookup)
            if spec["Type"] == "CommaDelimitedList":
                value = value.split(",") if isinstance(value, str) else list(value)
            if key in parameters and check_parameters:
                _check_allowed(key, spec, value)
            self.parameters[key] = value

    # --- physical names and attributes ----------------------------------------------------------

    def physical_name(self, logical_id):
        resource = self.resources[logical_id]
        prop = NAME_PROPERTY.get(resource["Type"])
        if prop and prop in resource.get("Properties", {}):
            return self.resolve(resource["Properties"][prop])
        return f"{self.name}-{logical_id}-{SUFFIX}"

    def rule_bus(self, logical_id):
        """The name of the bus a rule is on (EventBusName may be a bus's name, Ref, or ARN)."""
        bus = self.resolve(self.resources[logical_id]["Properties"]["EventBusName"])
        return bus.rpartition("event-bus/")[2] if bus.startswith("arn:") else bus

    def arn(self, service, resource, region=True):
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    def ref(self, logical_id):
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if kind == "AWS::SNS::Topic":
            return self.arn("sns", name)
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
        if kind == "AWS::KMS::Key":
            return f"key-{logical_id.lower()}"
        if kind == "AWS::Events::Rule" and "EventBusName" in self.resources[logical_id].get("Properties", {}):
            # A rule on a custom bus: CloudFormation's Ref is "bus|rule".
            return f"{self.rule_bus(logical_id)}|{name}"
        return name  # role, function, table, log group, rule, alias, policy: the name

    def get_att(self, logical_id, attribute):
        kind = self.resources[logical_id]["Type"]
        props = self.resources[logical_id].get("Properties", {})
        name = self.physical_name(logical_id)
        arns = {
            # A role's ARN carries its path (default "/").
            "AWS::IAM::Role": lambda: self.arn(
                "iam", f"role{self.resolve(props.get('Path', '/'))}{name}", region=False
            ),
            "AWS::KMS::Key": lambda: self.arn("kms", f"key/{self.ref(logical_id)}"),
            "AWS::DynamoDB::Table": lambda: self.arn("dynamodb", f"table/{name}"),
            "AWS::SQS::Queue": lambda: self.arn("sqs", name),
            # The log group's Arn attribute ends in ":*" (CloudFormation's documented form).
            "AWS::Logs::LogGroup": lambda: self.arn("logs", f"log-group:{name}:*"),
            "AWS::Lambda::Function": lambda: self.arn("lambda", f"function:{name}"),
            # A rule on a custom bus has the bus in its ARN (rule/<bus>/<rule>).
            "AWS::Events::Rule": lambda: self.arn(
                "events", f"rule/{self.rule_bus(logical_id) + '/' if 'EventBusName' in props else ''}{name}"
            ),
            # Connections and API destinations end in a generated id.
            "AWS::Events::Connection": lambda: self.arn("events", f"connection/{name}/{SUFFIX.lower()}"),
            "AWS::Events::ApiDestination": lambda: self.arn("events", f"api-destination/{name}/{SUFFIX.lower()}"),
            "AWS::SNS::Topic": lambda: self.arn("sns", name),
            "AWS::Events::EventBus": lambda: self.arn("events", f"event-bus/{name}"),
            "AWS::CloudWatch::Alarm": lambda: self.arn("cloudwatch", f"alarm:{name}"),
        }
        if attribute == "Arn" and kind in arns:
            return arns[kind]()
        if (kind, attribute) == ("AWS::SQS::Queue", "QueueName"):
            return name
        if (kind, attribute) == ("AWS::SNS::Topic", "TopicName"):
            return name
        if (kind, attribute) == ("AWS::Events::EventBus", "Name"):
            return name
        raise NotImplementedError(f"Fn::GetAtt {logical_id}.{attribute} ({kind})")

    # --- intrinsics -----------------------------------------------------------------------------

    def pseudo(self, name):
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::StackName": self.name,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/{self.name}/"
                            "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
        }[name]

    def lookup(self, name):
        """A name as Ref and Fn::Sub see it: pseudo parameter, parameter or resource."""
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.template.get("Parameters", {}):
            raise KeyError(f"parameter {name} has no value and no default")
        if name in self.resources:
            return self.ref(name)
        raise KeyError(f"Ref to unknown {name}")

    def condition(self, name):
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, node):
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) != 1 or not next(iter(node)).startswith(("Fn::", "Ref", "Condition")):
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not NO_VALUE}
        (fn, arg), = node.items()
        if fn == "Ref":
            return self.lookup(arg)
        if fn == "Fn::GetAtt":
            logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return self.get_att(logical_id, attribute)
        if fn == "Fn::Sub":
            text, local = (arg[0], self.resolve(arg[1])) if isinstance(arg, list) else (arg, {})

            def sub(match):
                name = match.group(1)
                if name in local:
                    return str(local[name])
                if "." in name and not name.startswith("AWS::"):
                    return str(self.get_att(*name.split(".", 1)))
                return str(self.lookup(name))

            return re.sub(r"\$\{([^}!]+)\}", sub, text)
        if fn == "Fn::Join":
            separator, items = arg
            return separator.join(str(i) for i in self.resolve(items))
        if fn == "Fn::Split":
            separator, text = arg
            return self.resolve(text).split(separator)
        if fn == "Fn::Select":
            index, items = arg
            return self.resolve(items)[int(self.resolve(index))]
        if fn == "Fn::FindInMap":
            mapping, first, second = (self.resolve(a) for a in arg)
            return self.template["Mappings"][mapping][first][second]
        if fn == "Fn::If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(name) else when_false)
        if fn == "Fn::Equals":
            left, right = self.resolve(arg)
            return left == right
        if fn == "Fn::Not":
            return not self.resolve(arg[0])
        if fn == "Fn::And":
            return all(self.resolve(arg))
        if fn == "Fn::Or":
            return any(self.resolve(arg))
        if fn == "Condition":
            return self.condition(arg)
        raise NotImplementedError(fn)

    def created(self):
        """The logical ids CloudFormation would create with these parameters."""
        return {
            logical_id for logical_id, resource in self.resources.items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }
