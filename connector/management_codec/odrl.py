"""ODRL policies between EDC's Management API shapes and Karez's DSP 2025-1 compact form.

Reading (:func:`parse_policy`) takes the expanded policy node of any body EDC or Tractus-X
clients send and yields the compact form of :mod:`connector.domain`: ``action`` ``"use"`` (a
refined action as ``{"rdf:value": {"@id": "use"}, "refinement": [...]}``, the shape
:mod:`connector.policy.model` uses), operators ``"eq"``..., left operands as ODRL short names
when they are ODRL vocabulary terms and full IRIs otherwise, logical constraints
(``and``/``or``/``xone``/``andSequence``) nested, duties, remedies and consequences kept.
Bare literals (``"USE"``, ``"odrl:eq"``, ``"EQ"``) written by clients whose context left them
untyped are read the way EDC reads them.

Rendering (:func:`policy_node`) gives the IRI-keyed form EDC's ``JsonObjectFromPolicyTransformer``
builds (every rule list present, ``action``/``leftOperand``/``operator`` as ``{"@id"}``,
assigner/assignee as plain strings, target as ``{"@id"}``), ready for the response compactor.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from connector.domain import EDC_NS, ODRL_NS, new_urn
from connector.jsonld.expanded import is_list, is_node, is_value
from connector.jsonld.loader import BundledLoader
from connector.management_codec.base import (
    Fields,
    edc_node,
    expand_iri,
    fail,
    plain,
)

ODRL_CONTEXT_URL = "http://www.w3.org/ns/odrl.jsonld"
RDF_VALUE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value"

RULE_KINDS = ("permission", "prohibition", "obligation")
LOGICAL_OPERATORS = ("and", "or", "xone", "andSequence")
OPERATORS = (
    "eq",
    "gt",
    "gteq",
    "lt",
    "lteq",
    "neq",
    "isA",
    "hasPart",
    "isPartOf",
    "isAllOf",
    "isAnyOf",
    "isNoneOf",
)
POLICY_TYPES = ("Set", "Offer", "Agreement", "Privacy", "Request", "Ticket", "Assertion")
#: the rule list nested in each kind of rule
NESTED_RULES = {"permission": "duty", "prohibition": "remedy", "duty": "consequence"}

_OPERATOR_NAMES: dict[str, str] = {
    **{op.lower(): op for op in OPERATORS},
    # EDC's Operator enum names and symbols
    "=": "eq",
    "==": "eq",
    "!=": "neq",
    ">": "gt",
    ">=": "gteq",
    "<": "lt",
    "<=": "lteq",
    "geq": "gteq",
    "leq": "lteq",
    "in": "isAnyOf",
    "is_a": "isA",
    "has_part": "hasPart",
    "is_part_of": "isPartOf",
    "is_all_of": "isAllOf",
    "is_any_of": "isAnyOf",
    "is_none_of": "isNoneOf",
}


@cache
def odrl_terms() -> frozenset[str]:
    """Names the W3C ODRL context defines as ``odrl:<name>`` (actions, operands, classes...)."""
    context = BundledLoader().document(ODRL_CONTEXT_URL)["@context"]
    names = set()
    for name, definition in context.items():
        target = definition if isinstance(definition, str) else definition.get("@id")
        if target == f"odrl:{name}":
            names.add(name)
    return frozenset(names)


@cache
def _folded_terms() -> dict[str, str]:
    return {name.lower(): name for name in odrl_terms()}


def odrl_fields(node: Mapping[str, Any], path: str) -> Fields:
    """Fields of an ODRL node: ODRL names first, the same names in the EDC vocabulary next."""
    return Fields(node, path, ODRL_NS, (EDC_NS,))


# --- reading ----------------------------------------------------------------------------------


def _short(iri: str) -> str:
    """An ODRL vocabulary IRI as its short name; any other IRI unchanged."""
    if iri.startswith(ODRL_NS) and iri[len(ODRL_NS) :] in odrl_terms():
        return iri[len(ODRL_NS) :]
    return iri


def _term_from_iri(iri: str, *, fold_case: bool = False) -> str:
    if ":" not in iri:  # a relative reference such as {"@id": "BusinessPartnerNumber"}
        return _term_from_literal(iri, fold_case=fold_case)
    if iri.startswith(EDC_NS):  # "action": "use" read through an EDC @vocab
        local = iri[len(EDC_NS) :]
        name = _folded_terms().get(local.lower()) if fold_case else None
        if name is not None:
            return name
    return _short(iri)


def _term_from_literal(text: str, *, fold_case: bool = False) -> str:
    if text in odrl_terms():
        return text
    if fold_case and text.lower() in _folded_terms():
        return _folded_terms()[text.lower()]
    if ":" in text:
        return _term_from_iri(expand_iri(text, EDC_NS), fold_case=fold_case)
    return EDC_NS + text


def _term(item: Any, path: str, what: str, *, fold_case: bool = False) -> str:
    if is_value(item) and isinstance(item["@value"], str):
        return _term_from_literal(item["@value"], fold_case=fold_case)
    if isinstance(item, dict) and set(item) == {"@id"}:
        return _term_from_iri(item["@id"], fold_case=fold_case)
    return fail(path, f"{path} must name {what}", plain(item))


def _action(rule: Fields) -> str | dict[str, Any]:
    """The action's name, or ``{"rdf:value": {"@id": name}, "refinement": [...]}``."""
    item = rule.single("action", required=True)
    path = rule.at("action")
    refinements: list[dict[str, Any]] = []
    if is_node(item) and set(item) != {"@id"}:
        inner = odrl_fields(item, path)
        refinements = [_constraint(c) for c in inner.children("refinement")]
        nested = inner.single("action") or next(iter(item.get(RDF_VALUE, [])), None)
        if nested is None:
            nested = Fields(item, path).single("type")  # EDC 0.1: {"type": "USE"}
        if nested is None and "@id" in item:
            nested = {"@id": item["@id"]}
        if nested is None:
            fail(path, f"{path} must name an action", plain(item))
        item = nested
    name = _term(item, path, "an action", fold_case=True)
    return {"rdf:value": {"@id": name}, "refinement": refinements} if refinements else name


def _operator(constraint: Fields) -> str:
    item = constraint.single("operator", required=True)
    path = constraint.at("operator")
    raw = item.get("@id", item.get("@value")) if isinstance(item, dict) else None
    if isinstance(raw, str):
        name = raw
        for prefix in (ODRL_NS, EDC_NS, "odrl:"):
            if name.startswith(prefix):
                name = name[len(prefix) :]
                break
        found = _OPERATOR_NAMES.get(name.lower())
        if found is not None:
            return found
    return fail(path, f"Unknown operator; expected one of {', '.join(OPERATORS)}", plain(item))


_XSD = "http://www.w3.org/2001/XMLSchema#"


def _typed(value: Any) -> Any:
    """Numbers and booleans as typed literals: the DSP schema allows a right operand to be a
    string, an object or an array, never a bare number."""
    if isinstance(value, bool):
        return {"@value": "true" if value else "false", "@type": _XSD + "boolean"}
    if isinstance(value, int):
        return {"@value": str(value), "@type": _XSD + "integer"}
    if isinstance(value, float):
        return {"@value": repr(value), "@type": _XSD + "decimal"}
    return value


def _right_operand(constraint: Fields) -> Any:
    found = constraint.items("rightOperand")
    if not found:
        fail(constraint.at("rightOperand"), f"{constraint.at('rightOperand')} is required")
    if len(found) == 1 and not is_list(found[0]):
        return _typed(plain(found[0]))
    members = [m for item in found for m in (item["@list"] if is_list(item) else [item])]
    return [_typed(plain(m)) for m in members]


def _constraint(node: Fields) -> dict[str, Any]:
    logical = [op for op in LOGICAL_OPERATORS if node.present(op)]
    if len(logical) > 1:
        fail(
            node.path,
            "A logical constraint takes exactly one of and/or/xone/andSequence",
            plain(node.node),
        )
    if logical:
        op = logical[0]
        members = [_constraint(c) for c in node.children(op)]
        if not members:
            fail(node.at(op), f"{node.at(op)} must list at least one constraint")
        return {op: members}
    constraint = {
        "leftOperand": _term(
            node.single("leftOperand", required=True), node.at("leftOperand"), "a left operand"
        ),
        "operator": _operator(node),
        "rightOperand": _right_operand(node),
    }
    for name in ("unit", "dataType"):  # kept as the policy author wrote them
        if node.present(name):
            constraint[name] = node.text(name)
    return constraint


def _entity(node: Fields, name: str) -> Any:
    """A rule's target or party: an IRI, or a collection (``source`` and ``refinement``s)."""
    item = node.single(name)
    if item is None:
        return None
    if not isinstance(item, dict) or set(item) <= {"@id"}:
        return node.text(name)
    sub = odrl_fields(item, node.at(name))
    out: dict[str, Any] = {}
    if sub.id:
        out["@id"] = sub.id
    if sub.types:
        out["@type"] = _term_from_iri(sub.types[0])
    source = sub.text("source")
    if source:
        out["source"] = source
    refinements = [_constraint(c) for c in sub.children("refinement")]
    if refinements:
        out["refinement"] = refinements
    return out


def _rule(node: Fields, kind: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": _action(node)}
    for name in ("target", "assigner", "assignee"):
        value = _entity(node, name)
        if value is not None:
            rule[name] = value
    constraints = [_constraint(c) for c in node.children("constraint")]
    if constraints:
        rule["constraint"] = constraints
    nested = NESTED_RULES[kind]
    duties = [_rule(d, "duty") for d in node.children(nested)]
    if duties:
        rule[nested] = duties
    return rule


def _policy_type(node: Fields, default: str) -> str:
    for iri in node.types:
        name = _term_from_iri(iri) if not iri.startswith(EDC_NS) else iri[len(EDC_NS) :]
        if name == "Policy":
            return "Set"
        if name in POLICY_TYPES:
            return name
    return default


def parse_policy(node: Fields, *, default_type: str = "Set") -> dict[str, Any]:
    """An expanded ODRL policy (read through ``node``) in the DSP 2025-1 compact form."""
    policy = odrl_fields(node.node, node.path)
    out: dict[str, Any] = {}
    if policy.id:
        out["@id"] = policy.id
    out["@type"] = _policy_type(policy, default_type)
    profiles = policy.strings("profile")
    if profiles:
        out["profile"] = profiles
    for name in ("target", "assigner", "assignee"):
        value = policy.text(name)
        if value is not None:
            out[name] = value
    conflict = policy.text("conflict")
    if conflict is not None:  # perm, prohibit or invalid
        out["conflict"] = conflict.removeprefix(ODRL_NS)
    parents = policy.strings("inheritFrom")
    if parents:
        out["inheritFrom"] = parents
    for kind in RULE_KINDS:
        rules = [_rule(r, "duty" if kind == "obligation" else kind) for r in policy.children(kind)]
        if rules:
            out[kind] = rules
    return out


# --- rendering --------------------------------------------------------------------------------


def _iri(term: str) -> str:
    return expand_iri(term, ODRL_NS)


def _id(value: Any) -> Any:
    """A party or target id, also when stored as ``{"@id": ...}``."""
    return value.get("@id") if isinstance(value, Mapping) else value


def _action_node(action: Any) -> dict[str, Any]:
    """EDC's action: ``{"@id"}``, or with refinements the action nested beside them."""
    if not isinstance(action, Mapping):
        return {"@id": _iri(str(action))}
    name = action.get("rdf:value", action.get(RDF_VALUE, action.get("@id", "")))
    if isinstance(name, Mapping):
        name = name.get("@id", "")
    refinements = action.get("refinement") or []
    if not refinements:
        return {"@id": _iri(str(name))}
    return {
        ODRL_NS + "action": {"@id": _iri(str(name))},
        ODRL_NS + "refinement": [_constraint_node(c) for c in refinements],
    }


def _operand_node(value: Any) -> Any:
    if isinstance(value, list):
        return [_operand_node(v) for v in value]
    if isinstance(value, Mapping):
        if "@value" in value or set(value) == {"@id"}:
            return dict(value)
        return edc_node(value)
    return value


def _constraint_node(constraint: Mapping[str, Any]) -> dict[str, Any]:
    for op in LOGICAL_OPERATORS:
        if op in constraint:
            return {ODRL_NS + op: [_constraint_node(c) for c in constraint[op]]}
    node = {
        ODRL_NS + "leftOperand": {"@id": _iri(str(constraint["leftOperand"]))},
        ODRL_NS + "operator": {"@id": _iri(str(constraint["operator"]))},
        ODRL_NS + "rightOperand": _operand_node(constraint.get("rightOperand")),
    }
    for name in ("unit", "dataType"):
        if constraint.get(name):
            node[ODRL_NS + name] = {"@id": _iri(str(constraint[name]))}
    return node


def _entity_node(entity: Mapping[str, Any]) -> dict[str, Any]:
    node: dict[str, Any] = {}
    if entity.get("@id"):
        node["@id"] = entity["@id"]
    if entity.get("@type"):
        node["@type"] = [_iri(str(entity["@type"]))]
    if entity.get("source"):
        node[ODRL_NS + "source"] = {"@id": _id(entity["source"])}
    if entity.get("refinement"):
        node[ODRL_NS + "refinement"] = [_constraint_node(c) for c in entity["refinement"]]
    return node


def _rule_node(rule: Mapping[str, Any], kind: str) -> dict[str, Any]:
    node: dict[str, Any] = {ODRL_NS + "action": _action_node(rule.get("action", "use"))}
    for name in ("target", "assigner", "assignee"):
        value = rule.get(name)
        if not value:
            continue
        if isinstance(value, Mapping) and set(value) - {"@id"}:
            node[ODRL_NS + name] = _entity_node(value)
        else:
            node[ODRL_NS + name] = {"@id": _id(value)} if name == "target" else _id(value)
    if rule.get("constraint"):
        node[ODRL_NS + "constraint"] = [_constraint_node(c) for c in rule["constraint"]]
    nested = NESTED_RULES[kind]
    if rule.get(nested):
        node[ODRL_NS + nested] = [_rule_node(d, "duty") for d in rule[nested]]
    return node


def policy_node(policy: Mapping[str, Any], *, default_type: str = "Set") -> dict[str, Any]:
    """A compact-form policy as the IRI-keyed node EDC renders (``odrl:`` terms)."""
    node: dict[str, Any] = {
        "@id": policy.get("@id") or new_urn(),
        "@type": [_iri(str(policy.get("@type") or default_type))],
    }
    for kind in RULE_KINDS:
        rule_kind = "duty" if kind == "obligation" else kind
        node[ODRL_NS + kind] = [_rule_node(r, rule_kind) for r in policy.get(kind, [])]
    for party in ("assignee", "assigner"):
        if policy.get(party):
            node[ODRL_NS + party] = _id(policy[party])
    if policy.get("target"):
        node[ODRL_NS + "target"] = {"@id": _id(policy["target"])}
    profiles = policy.get("profile")
    if profiles:
        profiles = profiles if isinstance(profiles, list) else [profiles]
        node[ODRL_NS + "profile"] = [{"@id": p} for p in profiles]
    if policy.get("conflict"):
        node[ODRL_NS + "conflict"] = {"@id": _iri(str(policy["conflict"]))}
    if policy.get("inheritFrom"):
        node[ODRL_NS + "inheritFrom"] = [{"@id": p} for p in policy["inheritFrom"]]
    return node
