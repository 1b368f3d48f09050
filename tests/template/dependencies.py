"""The dependency graph CloudFormation builds from a template: resource A depends on B when A's
properties reference B (Ref, Fn::GetAtt, a ${B} or ${B.Attr} in Fn::Sub) or A names B in
DependsOn. CloudFormation refuses a cycle; moto's CloudFormation recurses forever on one, so the
tests look for cycles before they create a stack."""
import re

SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(node, names):
    """The resource names in `names` that `node` (any part of a template) references."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value[0] if isinstance(value, list) else value.split(".")[0]
                found.add(target)
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                local = set(value[1]) if isinstance(value, list) and len(value) > 1 else set()
                found |= {n for n in SUB_NAME.findall(text) if n not in local}
            found |= references(value, names)
    elif isinstance(node, list):
        for item in node:
            found |= references(item, names)
    return found & names


def graph(resources):
    """{resource: the resources it depends on}."""
    names = set(resources)
    edges = {}
    for name, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        depends_on = [depends_on] if isinstance(depends_on, str) else depends_on
        edges[name] = references(resource.get("Properties", {}), names) | (set(depends_on) & names)
    return edges


def find_cycle(resources):
    """A list of resources that depend on each other in a loop (first repeated at the end), or
    None."""
    edges = graph(resources)
    state = {}  # name -> "visiting" | "done"
    path = []

    def visit(name):
        state[name] = "visiting"
        path.append(name)
        for dep in sorted(edges[name]):
            if state.get(dep) == "visiting":
                return path[path.index(dep):] + [dep]
            if dep not in state:
                cycle = visit(dep)
                if cycle:
                    return cycle
        path.pop()
        state[name] = "done"
        return None

    for name in sorted(edges):
        if name not in state:
            cycle = visit(name)
            if cycle:
                return cycle
    return None
