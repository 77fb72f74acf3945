"""Do a consumer's requested terms carry exactly the provider's offered terms?

Two policies have the same terms when their permissions, prohibitions and obligations match
as sets: same actions (with refinements), same constraints and same duties. Identifiers,
types, targets, parties, profiles, the order of rules and constraints (except inside
``andSequence``) and the JSON form (short or full IRIs, single value or list, ``@value``
wrappers) do not matter. Right-operand values compare as RDF values: ``5`` equals
``{"@value": "5", "@type": "xsd:integer"}``, but not the string ``"5"``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from connector.errors import ValidationFailure
from connector.policy.model import (
    AnyConstraint,
    Constraint,
    LogicalConstraint,
    Rule,
    parse_policy,
)
from connector.policy.operators import canonical

T = TypeVar("T")


def same_terms(offered: dict[str, Any], requested: dict[str, Any]) -> tuple[bool, str | None]:
    """``(True, None)``, or ``(False, reason)`` naming the first difference.

    A malformed offer raises ``ValidationFailure``; a malformed request is a difference.
    """
    offer = parse_policy(offered)
    try:
        request = parse_policy(requested)
    except ValidationFailure as exc:
        return False, f"the request is not a valid policy: {exc.message}"
    for kind, mine, theirs in (
        ("permission", offer.permissions, request.permissions),
        ("prohibition", offer.prohibitions, request.prohibitions),
        ("obligation", offer.obligations, request.obligations),
    ):
        if reason := _rules_diff(kind, mine, theirs):
            return False, reason
    return True, None


def constraint_key(c: AnyConstraint) -> str:
    """A text equal for two constraints exactly when they state the same condition."""
    if isinstance(c, LogicalConstraint):
        members = [constraint_key(m) for m in c.members]
        return _dump(["logical", c.op, members if c.op == "andSequence" else sorted(set(members))])
    return _dump(["atomic", c.left_operand, c.operator, *_right_key(c), c.unit])


def rule_key(rule: Rule) -> str:
    """A text equal for two rules exactly when they carry the same terms."""
    return _dump(
        [
            rule.action_iri,
            _keys(rule.action.refinements, constraint_key),
            _keys(rule.constraints, constraint_key),
            _keys(rule.duties, rule_key),
            _keys(rule.consequences, rule_key),
        ]
    )


def _right_key(c: Constraint) -> list[Any]:
    if c.right_operand is None:
        return [None, c.right_operand_reference]
    values = c.right_operand if isinstance(c.right_operand, tuple) else (c.right_operand,)
    return [sorted({canonical(v, c.data_type) for v in values}), c.right_operand_reference]


def _rules_diff(kind: str, offered: Sequence[Rule], requested: Sequence[Rule]) -> str | None:
    mine = {rule_key(r): r for r in offered}
    theirs = {rule_key(r): r for r in requested}
    missing = [r for k, r in mine.items() if k not in theirs]
    extra = [r for k, r in theirs.items() if k not in mine]
    for rule in missing:
        twin = next((r for r in extra if r.action_iri == rule.action_iri), None)
        if twin is None:
            return f"{kind} {_describe(rule)} missing in the request"
        label = f"{kind} {rule.describe_action()}:"
        for what, a, b, key, describe in (
            ("constraint", rule.constraints, twin.constraints, constraint_key, _text),
            ("refinement", _refinements(rule), _refinements(twin), constraint_key, _text),
            ("duty", rule.duties, twin.duties, rule_key, _describe),
            ("consequence", rule.consequences, twin.consequences, rule_key, _describe),
        ):
            if reason := _items_diff(f"{label} {what}", a, b, key, describe):
                return reason
    if missing:
        return f"{kind} {_describe(missing[0])} missing in the request"
    if extra:
        return f"{kind} {_describe(extra[0])} in the request is not in the offer"
    return None


def _items_diff(
    label: str,
    offered: Sequence[T],
    requested: Sequence[T],
    key: Callable[[T], str],
    describe: Callable[[T], str],
) -> str | None:
    theirs = {key(x) for x in requested}
    mine = {key(x) for x in offered}
    for item in offered:
        if key(item) not in theirs:
            return f"{label} {describe(item)} missing in the request"
    for item in requested:
        if key(item) not in mine:
            return f"{label} {describe(item)} in the request is not in the offer"
    return None


def _refinements(rule: Rule) -> tuple[AnyConstraint, ...]:
    return rule.action.refinements if rule.action is not None else ()


def _describe(rule: Rule) -> str:
    text = rule.describe_action()
    if rule.constraints:
        text += " with " + "; ".join(c.describe() for c in rule.constraints)
    return text


def _text(c: AnyConstraint) -> str:
    return c.describe()


def _keys(items: Sequence[T], key: Callable[[T], str]) -> list[str]:
    return sorted({key(x) for x in items})


def _dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
