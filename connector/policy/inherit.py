"""ODRL 2.2 policy inheritance: a child policy takes on every rule of the policies it
``inheritFrom``, found through a lookup the caller passes in (no I/O here).

A parent's own target and parties are pushed down into its rules before they join the child,
so they keep meaning what they meant. The child keeps its conflict strategy when its parents
agree with it (or state none); parents that disagree make the merged policy ``invalid``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from connector.errors import ValidationFailure
from connector.policy.model import Policy, Rule, parse_policy

#: Finds a policy by IRI: a ``Policy``, its JSON, or ``None`` when there is none.
PolicyLookup = Callable[[str], Policy | Mapping[str, Any] | None]


def resolve_inheritance(policy: Policy, lookup: PolicyLookup | None) -> Policy:
    """``policy`` with its ancestors' rules merged in; ``ValidationFailure`` if one is missing
    or the chain is cyclic."""
    return _resolve(policy, lookup, ())


def _resolve(policy: Policy, lookup: PolicyLookup | None, chain: tuple[str, ...]) -> Policy:
    if not policy.inherit_from:
        return policy
    here = chain + (policy.uid or "(this policy)",)
    merged = replace(policy, inherit_from=())
    for iri in policy.inherit_from:
        if iri in here:
            raise ValidationFailure(
                f"inheritFrom: {' -> '.join(here)} -> {iri} is a cycle", path="inheritFrom"
            )
        if lookup is None:
            raise ValidationFailure(
                f"inheritFrom: the policy inherits from {iri}, but no policy lookup was given",
                path="inheritFrom",
            )
        found = lookup(iri)
        if found is None:
            raise ValidationFailure(
                f"inheritFrom: the parent policy {iri} cannot be found", path="inheritFrom"
            )
        parent = found if isinstance(found, Policy) else parse_policy(dict(found))
        merged = _merge(merged, _localise(_resolve(parent, lookup, here)))
    return merged


def _localise(parent: Policy) -> Policy:
    """The parent with its policy-level target and parties written into each rule."""

    def down(rule: Rule) -> Rule:
        return replace(
            rule,
            target=rule.target or parent.target,
            assigner=rule.assigner or parent.assigner,
            assignee=rule.assignee or parent.assignee,
        )

    return replace(
        parent,
        permissions=tuple(down(r) for r in parent.permissions),
        prohibitions=tuple(down(r) for r in parent.prohibitions),
        obligations=tuple(down(r) for r in parent.obligations),
    )


def _merge(child: Policy, parent: Policy) -> Policy:
    conflict = child.conflict
    if parent.conflict is not None and conflict != parent.conflict:
        conflict = parent.conflict if conflict is None else "invalid"
    return replace(
        child,
        permissions=child.permissions + parent.permissions,
        prohibitions=child.prohibitions + parent.prohibitions,
        obligations=child.obligations + parent.obligations,
        profile=child.profile + tuple(p for p in parent.profile if p not in child.profile),
        conflict=conflict,
    )
