"""An evaluator of EventBridge's input transformer, as documented: what a rule's target receives
when the rule has an InputTransformer, and what an API destination then sends once the
connection's body parameters are added. Written from:

- EventBridge User Guide, "Amazon EventBridge input transformation"
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html):
  InputPathsMap paths in dot notation with array indices; up to 100 variables; the predefined
  variables aws.events.rule-arn, aws.events.rule-name, aws.events.event.ingestion-time,
  aws.events.event and aws.events.event.json; "Common issues": a path missing from the event
  creates no variable, and values extracted by InputPathsMap are not escaped.
- EventBridge API Reference, "InputTransformer"
  (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_InputTransformer.html): a
  placeholder cannot be an object key; a string variable inside quotes is inserted as it is;
  an unquoted variable is inserted as JSON.
- EventBridge User Guide, "Connections for API destinations", and API Reference,
  "ConnectionBodyParameter": a connection's body parameters are added to the request body. What
  happens when the body already holds the same key is not documented: the evaluator refuses it.

Where the pages say nothing (a null value, an object placed inside quotes, a placeholder inside a
longer string that holds an object), this evaluator refuses rather than guesses: rootwatch's
templates never do those things, and a refusal makes a template that starts to shows up here.
"""
import json
import re

PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
PATH = re.compile(r"^\$(\.[A-Za-z0-9_\-]+(\[[0-9]+\])*)*$")
PREDEFINED = (
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event.ingestion-time",
    "aws.events.event",
    "aws.events.event.json",
)


class TransformError(Exception):
    """The template or the paths are outside what the evaluator (and the docs) define."""


def extract(event, path):
    """The value at a dot-notation path (`$.detail.session`, `$.resources[0]`), or a missing marker."""
    if not PATH.match(path):
        raise TransformError(f"path {path!r} is not dot notation with array indices")
    value = event
    for part in re.findall(r"\.([A-Za-z0-9_\-]+)((?:\[[0-9]+\])*)", path):
        key, indices = part
        if not isinstance(value, dict) or key not in value:
            return MISSING
        value = value[key]
        for index in re.findall(r"\[([0-9]+)\]", indices):
            if not isinstance(value, list) or int(index) >= len(value):
                return MISSING
            value = value[int(index)]
    return value


MISSING = object()


def variables(event, paths_map, rule_name="rule", rule_arn="arn:aws:events:us-east-1:123456789012:rule/rule"):
    if len(paths_map) > 100:
        raise TransformError("more than 100 variables")
    found = {}
    for name, path in paths_map.items():
        if name.startswith("aws."):
            raise TransformError(f"variable {name!r}: names starting with aws. are reserved")
        value = extract(event, path)
        if value is not MISSING:  # a missing path creates no variable
            found[name] = value
    found.update(
        {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": event.get("time", ""),
            "aws.events.event": event,
            "aws.events.event.json": event,
        }
    )
    return found


def render(template, values):
    """The template's text with every placeholder replaced, as EventBridge does: a string value
    inside quotes goes in unescaped; outside quotes, in a JSON template a string gets quotes
    (unescaped too) and any other value its compact JSON; a text template gets the text."""
    is_json = template.lstrip().startswith(("{", "["))
    out = []
    in_string = False
    i = 0
    while i < len(template):
        c = template[i]
        if c == "\\" and in_string:
            out.append(template[i : i + 2])
            i += 2
            continue
        if c == '"':
            in_string = not in_string
            out.append(c)
            i += 1
            continue
        match = PLACEHOLDER.match(template, i)
        if c == "<" and match:
            name = match.group(1)
            if name not in values:
                raise TransformError(f"placeholder <{name}> has no variable (path missing or undefined)")
            value = values[name]
            if value is None:
                raise TransformError(f"<{name}> is null: the docs do not say what is inserted")
            if in_string:
                # A key position: the template's next non-space character after the string is ':'.
                closing = template.find('"', match.end())
                if closing != -1 and template[closing + 1 :].lstrip().startswith(":"):
                    raise TransformError(f"<{name}> is used as an object key")
                if isinstance(value, (dict, list)):
                    raise TransformError(f"<{name}> is an object inside quotes")
                out.append(value if isinstance(value, str) else json.dumps(value))
            else:
                if isinstance(value, str):
                    out.append(f'"{value}"' if is_json else value)
                else:
                    out.append(json.dumps(value, separators=(",", ":")))
            i = match.end()
            continue
        out.append(c)
        i += 1
    return "".join(out)


def transform(event, input_transformer, rule_name="rule"):
    """What the target receives: parsed JSON when the template is JSON (raises json.JSONDecodeError
    when the result is not, as EventBridge would send broken JSON), else the text."""
    values = variables(event, input_transformer.get("InputPathsMap", {}), rule_name=rule_name)
    text = render(input_transformer["InputTemplate"], values)
    if input_transformer["InputTemplate"].lstrip().startswith(("{", "[")):
        return json.loads(text)
    return text


def with_connection_body(body, body_parameters):
    """The API destination's request body: the connection's body parameters added at the top
    level. A key the body already holds is refused: which value EventBridge would send is not
    documented, and rootwatch's bodies must never depend on it."""
    merged = dict(body)
    for parameter in body_parameters:
        if parameter["Key"] in merged:
            raise TransformError(f"the body already holds the connection's parameter {parameter['Key']!r}")
        merged[parameter["Key"]] = parameter["Value"]
    return merged
