"""A small IAM policy evaluator for requests within one account, as the IAM User Guide documents it
("Policy evaluation logic", "IAM JSON policy elements: Principal / NotPrincipal / Condition
operators") and the KMS Developer Guide for key policies:

1. An explicit Deny in any applicable statement wins.
2. Otherwise the request is allowed if an identity policy of the caller allows it, or a resource
   policy allows it for that caller (a role ARN in Principal covers the role's assumed-role
   sessions). A resource policy that names only the account (arn:aws:iam::ACCOUNT:root) delegates
   to the account: it allows nothing by itself, the identity policy must allow.
3. KMS: the key policy must allow, either naming the caller (or its role) directly, or
   delegating to the account root, in which case an identity policy must also allow. An identity
   policy alone does not open a key.
4. Otherwise denied (implicitly).

Conditions: every operator in a statement must hold, every key under an operator must hold, and
several values for one key are alternatives. A key missing from the request makes the positive
operators false and the negated ones (StringNotEquals, ArnNotEquals, ArnNotLike, ...) true;
...IfExists makes a missing key true. Operators not listed here raise, so nothing is decided by
an operator the evaluator does not know.

NotPrincipal with Deny follows the User Guide's warning: a request from an assumed-role session
may be evaluated as the account, the role and the session, so the statement applies unless all
three are listed.
"""
import fnmatch
import re
from dataclasses import dataclass, field

ALLOWED = "allowed"
EXPLICIT_DENY = "explicit deny"
IMPLICIT_DENY = "implicit deny"


class UnsupportedPolicy(Exception):
    """The policy uses an element or operator this evaluator does not implement."""


@dataclass(frozen=True)
class Caller:
    """Who makes the request: an IAM user, an assumed-role session, or an AWS service."""

    arn: str = ""
    service: str = ""
    # The session's role, path included: the assumed-role ARN drops the path, IAM does not.
    role: str = ""

    @property
    def account(self):
        return self.arn.split(":")[4] if self.arn else ""

    @property
    def role_arn(self):
        """arn:aws:sts::A:assumed-role/NAME/SESSION -> arn:aws:iam::A:role/NAME (or the role given)."""
        if self.role:
            return self.role
        m = re.fullmatch(r"arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+", self.arn)
        return f"arn:{m[1]}:iam::{m[2]}:role/{m[3]}" if m else ""

    @property
    def account_root(self):
        partition = self.arn.split(":")[1] if self.arn else "aws"
        return f"arn:{partition}:iam::{self.account}:root" if self.account else ""

    def identities(self):
        """Every identity the request may be evaluated as (NotPrincipal)."""
        if self.service:
            return [self.service]
        return [i for i in (self.arn, self.role_arn, self.account_root) if i]


def user(account, name):
    return Caller(arn=f"arn:aws:iam::{account}:user/{name}")


def session(role_arn, session_name):
    _, partition, _, _, account, resource = role_arn.split(":", 5)
    role_name = resource.split("/")[-1]
    return Caller(arn=f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session_name}", role=role_arn)


def service(name):
    return Caller(service=name)


@dataclass
class Request:
    caller: Caller
    action: str
    resource: str
    context: dict = field(default_factory=dict)


def as_list(value):
    return value if isinstance(value, list) else [value]


def statements(policy):
    return as_list(policy["Statement"]) if policy else []


# --- matching --------------------------------------------------------------------------------------


def action_matches(pattern, action):
    """Service prefix and action name are case-insensitive; * and ? are wildcards."""
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def resource_matches(pattern, resource):
    return pattern == "*" or fnmatch.fnmatchcase(resource, pattern)


def arn_like(pattern, arn):
    """ArnLike/ArnEquals: each of the six colon-separated parts matched on its own, with wildcards."""
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(fnmatch.fnmatchcase(a, p) for p, a in zip(pattern_parts, arn_parts))


POSITIVE = {
    "StringEquals": lambda policy, value: value == policy,
    "StringLike": lambda policy, value: fnmatch.fnmatchcase(value, policy),
    "ArnEquals": lambda policy, value: arn_like(policy, value),
    "ArnLike": lambda policy, value: arn_like(policy, value),
    "Bool": lambda policy, value: str(value).lower() == str(policy).lower(),
}
NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def value_holds(base, value, policy_values):
    """One context value against the operator: positive operators match any policy value,
    negated ones none."""
    positive = POSITIVE[NEGATED.get(base, base)]
    matched = any(positive(str(p), str(value)) for p in as_list(policy_values))
    return not matched if base in NEGATED else matched


def condition_holds(operator, key, policy_values, context):
    # Null: "true" holds when the key is absent, "false" when it is present (IAM User Guide,
    # "Condition operator to check existence of condition keys").
    if operator == "Null":
        wanted = {str(v).lower() for v in as_list(policy_values)}
        return ("true" if key not in context else "false") in wanted
    # Set operators over a multivalued key (IAM User Guide, "Single-valued vs. multivalued
    # context keys"): ForAllValues holds when every value holds, also when the key is missing or
    # empty; ForAnyValue when some value holds, never when the key is missing.
    qualifier, _, rest = operator.partition(":")
    if qualifier in ("ForAllValues", "ForAnyValue") and rest:
        if rest not in POSITIVE and rest not in NEGATED:
            raise UnsupportedPolicy(f"condition operator {operator}")
        values = as_list(context.get(key, []))
        holds = [value_holds(rest, v, policy_values) for v in values]
        return all(holds) if qualifier == "ForAllValues" else any(holds)
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base not in POSITIVE and base not in NEGATED:
        raise UnsupportedPolicy(f"condition operator {operator}")
    if key not in context:
        return if_exists or base in NEGATED
    if isinstance(context[key], list):
        raise UnsupportedPolicy(f"{operator} on the multivalued key {key}")
    return value_holds(base, context[key], policy_values)


def conditions_hold(statement, context):
    return all(
        condition_holds(operator, key, values, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, values in keys.items()
    )


def principal_match(principal, caller):
    """How a resource policy's Principal covers the caller: "direct", "account" (delegated to the
    account: the identity policy must also allow) or None."""
    # "Principal": "*" and "Principal": {"AWS": "*"} are equivalent (User Guide).
    if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS", []))):
        return "direct"
    if not isinstance(principal, dict):
        raise UnsupportedPolicy(f"Principal {principal!r}")
    unknown = set(principal) - {"AWS", "Service"}
    if unknown:
        raise UnsupportedPolicy(f"Principal types {sorted(unknown)}")
    if caller.service:
        return "direct" if caller.service in as_list(principal.get("Service", [])) else None
    best = None
    for entry in as_list(principal.get("AWS", [])):
        if entry in (caller.arn, caller.role_arn):
            return "direct"
        if entry in (caller.account_root, caller.account):
            best = "account"
    return best


def not_principal_excludes(not_principal, caller):
    """True when every identity the request may be evaluated as is listed in NotPrincipal."""
    listed = set(as_list(not_principal.get("AWS", []))) | set(as_list(not_principal.get("Service", [])))
    return all(identity in listed for identity in caller.identities())


def applies(statement, request, resource_policy):
    """Whether a statement covers this request; for resource policies, how the principal matched."""
    for element in ("NotAction", "NotResource"):
        if element in statement:
            raise UnsupportedPolicy(element)
    if not any(action_matches(a, request.action) for a in as_list(statement["Action"])):
        return None
    if not any(resource_matches(r, request.resource) for r in as_list(statement.get("Resource", "*"))):
        return None
    if not conditions_hold(statement, request.context):
        return None
    if not resource_policy:
        return "direct"
    if "NotPrincipal" in statement:
        if statement["Effect"] != "Deny":
            raise UnsupportedPolicy("NotPrincipal with Allow")
        return None if not_principal_excludes(statement["NotPrincipal"], request.caller) else "direct"
    return principal_match(statement["Principal"], request.caller)


# --- the decision ------------------------------------------------------------------------------------


def decide(request, identity_policies=(), resource_policy=None, key_policy=None):
    """ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY, with the Sid (or index) of the deciding statement.

    Pass `key_policy` instead of `resource_policy` for a KMS key."""
    if resource_policy is not None and key_policy is not None:
        raise ValueError("a resource has one resource policy")
    identity = [st for policy in identity_policies for st in statements(policy)]
    resource = statements(key_policy if key_policy is not None else resource_policy)

    def matching(stmts, effect, is_resource):
        for index, st in enumerate(stmts):
            if st["Effect"] != effect:
                continue
            how = applies(st, request, is_resource)
            if how:
                yield how, st.get("Sid", f"#{index}")

    for _, sid in [*matching(identity, "Deny", False), *matching(resource, "Deny", True)]:
        return EXPLICIT_DENY, sid

    identity_allows = [sid for _, sid in matching(identity, "Allow", False)]
    resource_allows = list(matching(resource, "Allow", True))
    direct = [sid for how, sid in resource_allows if how == "direct"]
    delegated = [sid for how, sid in resource_allows if how == "account"]

    if key_policy is not None:
        if direct:
            return ALLOWED, direct[0]
        if delegated and identity_allows:
            return ALLOWED, identity_allows[0]
        return IMPLICIT_DENY, None
    if resource_policy is not None and is_cross_account(request):
        # Across accounts both sides must allow: the caller's identity policy and the resource
        # policy ("Cross-account policy evaluation logic", IAM User Guide).
        if identity_allows and (direct or delegated):
            return ALLOWED, (direct or delegated)[0]
        return IMPLICIT_DENY, None
    if identity_allows:
        return ALLOWED, identity_allows[0]
    if direct:
        return ALLOWED, direct[0]
    return IMPLICIT_DENY, None


def is_cross_account(request):
    """An IAM principal calling a resource whose ARN names another account. Judged only where a
    resource policy is given: services without one (an organization trail seen from a member
    account, Organizations from a delegated administrator) decide access by their own rules.
    Service principals and ARNs without an account (S3 buckets) are not judged this way."""
    parts = request.resource.split(":")
    resource_account = parts[4] if len(parts) > 5 else ""
    caller = request.caller.account
    return bool(caller and resource_account and caller != resource_account)
