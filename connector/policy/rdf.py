"""ODRL in RDF: policies, requests and states of the world read from an rdflib ``Graph``.

Pure: the caller parses Turtle or JSON-LD into the graph; files and contexts are its business.

* Policies: nodes typed ``odrl:Set``, ``Offer``, ``Agreement``, ... with their rules, duties,
  consequences, remedies, (logical) constraints, refinements, asset and party collections,
  ``inheritFrom`` and ``conflict``. Logical constraints take an ``rdf:List`` or several values.
  A rule without ``odrl:action`` covers any action (the ODRL test suite writes such rules).
* Requests: an ``odrl:Request`` whose ``odrl:permission`` names the assignee, action and target
  (its ``eq`` constraints give left-operand values), as the SolidLab ODRL test suite writes
  them; or a ``sotw:EvaluationRequest`` (``evaluatedParty``, ``evaluatedAction``,
  ``evaluatedTarget``, ``requestParameter``), as the W3C ODRL formal-semantics examples do.
* States of the world: the current time (``<http://example.com/request/currentTime>
  dct:issued``), ``odrl:partOf`` memberships, earlier duty reports (``report:rule``,
  ``report:deonticState``) and ``rdf:value``\\ s of right-operand references.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NoReturn

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS
from rdflib.term import Node

from connector.domain import ODRL_NS
from connector.errors import ValidationFailure
from connector.policy.context import RequestContext, Scope
from connector.policy.model import (
    CONFLICT_TERMS,
    LOGICAL_OPS,
    OPERATORS,
    POLICY_TYPES,
    USE,
    Action,
    AnyConstraint,
    Constraint,
    Entity,
    EntityKind,
    LogicalConstraint,
    Policy,
    RightOperand,
    Rule,
    RuleKind,
    Value,
)
from connector.policy.operators import parse_datetime

SOTW_NS = "https://w3id.org/force/sotw#"
REPORT_NAMESPACES = ("https://w3id.org/force/compliance-report#", "http://example.com/report/temp/")
CURRENT_TIME = URIRef("http://example.com/request/currentTime")
CURRENT_DATETIME_FEATURE = SOTW_NS + "CurrentXSDDateTime"


def _terms(ns: str, names: str) -> dict[str, URIRef]:
    return {name: URIRef(ns + name) for name in names.split()}


_O = _terms(
    ODRL_NS,
    """action assignee assigner target uid permission prohibition obligation duty remedy
    consequence constraint refinement leftOperand operator rightOperand rightOperandReference
    unit dataType source partOf inheritFrom conflict profile and or xone andSequence
    AssetCollection PartyCollection Request""",
)
_S = _terms(
    SOTW_NS,
    """EvaluationRequest evaluatedParty evaluatedAction evaluatedTarget requestParameter value
    describesFeature""",
)
_DEONTIC = {
    "Fulfilled": "fulfilled",
    "Violated": "violated",
    "NonSet": "notSet",
    "Not-set": "notSet",
}


@dataclass(frozen=True)
class EvaluationRequest:
    """Who asks to do what to which asset, with what further values, and maybe when."""

    uid: str | None = None
    rule_uid: str | None = None  # the request's permission node (a report's ruleRequest)
    party: str | None = None
    action: str | None = None
    target: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    now: datetime | None = None


@dataclass(frozen=True)
class World:
    """A state of the world: the time, memberships, duty states and referenced values."""

    now: datetime | None = None
    part_of: Mapping[str, frozenset[str]] = field(default_factory=dict)
    duty_states: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    references: Mapping[str, RightOperand] = field(default_factory=dict)


def read_policies(g: Graph) -> dict[str, Policy]:
    """Every policy in ``g`` by its IRI (requests excluded)."""
    classes = [URIRef(ODRL_NS + t) for t in sorted(POLICY_TYPES - {"Request"})]
    nodes = sorted({n for c in classes for n in g.subjects(RDF.type, c)}, key=str)
    reader = _Reader(g)
    policies = [reader.policy(n) for n in nodes]
    return {p.uid or f"_:{i}": p for i, p in enumerate(policies)}


def read_policy(g: Graph, iri: str | None = None) -> Policy:
    """The policy ``iri``, or the only policy in ``g``."""
    found = read_policies(g)
    if iri is not None:
        if iri not in found:
            _fail("policy", f"no policy {iri} in the graph")
        return found[iri]
    if len(found) != 1:
        names = ", ".join(found) or "none"
        _fail("policy", f"expected exactly one policy in the graph, found {names}")
    return next(iter(found.values()))


def read_request(g: Graph) -> EvaluationRequest:
    """The one ``odrl:Request`` or ``sotw:EvaluationRequest`` in ``g``."""
    for node in sorted(g.subjects(RDF.type, _O["Request"]), key=str):
        return _odrl_request(g, node)
    for node in sorted(g.subjects(RDF.type, _S["EvaluationRequest"]), key=str):
        return _sotw_request(g, node)
    _fail("request", "no odrl:Request or sotw:EvaluationRequest in the graph")


def read_world(g: Graph) -> World:
    """The state of the world in ``g``; what it does not state stays empty."""
    now = g.value(CURRENT_TIME, DCTERMS.issued)
    part_of: dict[str, set[str]] = {}
    for member, collection in g.subject_objects(_O["partOf"]):
        part_of.setdefault(str(member), set()).add(str(collection))
    return World(
        now=_datetime(now, "currentTime") if now is not None else None,
        part_of={k: frozenset(v) for k, v in part_of.items()},
        duty_states=_duty_states(g),
        references=read_references(g),
    )


def read_references(g: Graph) -> dict[str, RightOperand]:
    """``rdf:value``\\ s of IRIs, for ``rightOperandReference`` (several values: a list)."""
    out: dict[str, list[Value]] = {}
    for subject, value in g.subject_objects(RDF.value):
        if isinstance(subject, URIRef) and isinstance(value, Literal | URIRef):
            out.setdefault(str(subject), []).append(_value(value))
    return {k: v[0] if len(v) == 1 else tuple(sorted(v, key=str)) for k, v in out.items()}


def request_context(
    request: EvaluationRequest,
    world: World | None = None,
    *,
    now: datetime,
    scope: Scope = "negotiation",
) -> RequestContext:
    """The engine's context: the request in the world; ``now`` when neither gives a time."""
    world = world or World()
    return RequestContext(
        now=request.now or world.now or now,
        participant_id=request.party,
        action=request.action or USE,
        asset_id=request.target,
        values={**world.values, **request.values},
        part_of=world.part_of,
        duty_states=world.duty_states,  # type: ignore[arg-type]
        scope=scope,
    )


# -- policies ----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, g: Graph) -> None:
        self.g = g

    def policy(self, node: Node) -> Policy:
        g = self.g
        types = {str(t).removeprefix(ODRL_NS) for t in g.objects(node, RDF.type)}
        kinds = sorted(types & POLICY_TYPES - {"Policy"}) or ["Set"]
        conflict = self.one(node, "conflict")
        name = None
        if conflict is not None:
            name = str(conflict).removeprefix(ODRL_NS)
            if name not in CONFLICT_TERMS:
                _fail(_where(node, "conflict"), "must be odrl:perm, odrl:prohibit or odrl:invalid")
        uid = self.one(node, "uid")
        return Policy(
            uid=str(uid) if uid is not None else _iri(node),
            type=kinds[0],
            permissions=self.rules(node, "permission", "permission"),
            prohibitions=self.rules(node, "prohibition", "prohibition"),
            obligations=self.rules(node, "obligation", "obligation"),
            target=self.entity(node, "target", "asset"),
            assigner=self.entity(node, "assigner", "party"),
            assignee=self.entity(node, "assignee", "party"),
            profile=tuple(str(p) for p in self.many(node, "profile")),
            conflict=name,
            inherit_from=tuple(str(p) for p in self.many(node, "inheritFrom")),
        )

    def rules(self, node: Node, prop: str, kind: RuleKind) -> tuple[Rule, ...]:
        return tuple(self.rule(n, kind) for n in self.many(node, prop))

    def rule(self, node: Node, kind: RuleKind) -> Rule:
        nested = "remedy" if kind == "prohibition" else "duty"
        return Rule(
            kind=kind,
            action=self.action(node),
            constraints=self.constraints(node, "constraint"),
            duties=self.rules(node, nested, "duty"),
            consequences=self.rules(node, "consequence", "duty"),
            target=self.entity(node, "target", "asset"),
            assigner=self.entity(node, "assigner", "party"),
            assignee=self.entity(node, "assignee", "party"),
            uid=_iri(node),
        )

    def action(self, node: Node) -> Action | None:
        value = self.one(node, "action")
        if value is None:
            return None
        inner = self.g.value(value, RDF.value)
        if inner is None:
            if not isinstance(value, URIRef):
                _fail(_where(node, "action"), "an action needs an IRI or an rdf:value")
            return Action(str(value), self.constraints(value, "refinement"))
        return Action(str(inner), self.constraints(value, "refinement"), _iri(value))

    def entity(self, node: Node, prop: str, kind: EntityKind) -> Entity | None:
        value = self.one(node, prop)
        if value is None:
            return None
        types = set(self.g.objects(value, RDF.type))
        refinements = self.constraints(value, "refinement")
        source = self.one(value, "source")
        collection = bool(types & {_O["AssetCollection"], _O["PartyCollection"]})
        collection = collection or bool(refinements) or source is not None
        return Entity(
            _iri(value), kind, collection, str(source) if source is not None else None, refinements
        )

    def constraints(self, node: Node, prop: str) -> tuple[AnyConstraint, ...]:
        return tuple(self.constraint(n) for n in self.many(node, prop))

    def constraint(self, node: Node) -> AnyConstraint:
        for op in LOGICAL_OPS:
            members = self.many(node, op)
            if members:
                return LogicalConstraint(op, tuple(self.constraint(m) for m in members), _iri(node))
        left = self.one(node, "leftOperand")
        operator = self.one(node, "operator")
        if left is None:
            _fail(_where(node, "leftOperand"), "missing")
        if operator is None or str(operator).removeprefix(ODRL_NS) not in OPERATORS:
            _fail(_where(node, "operator"), f"missing or not an ODRL operator: {operator}")
        rights = self.many(node, "rightOperand")
        reference = self.one(node, "rightOperandReference")
        if not rights and reference is None:
            _fail(_where(node, "rightOperand"), "missing")
        right: RightOperand | None = None
        if rights:
            values = tuple(_value(r) for r in rights)
            right = (
                values[0] if len(values) == 1 and not self.is_list(node, "rightOperand") else values
            )
        unit, data_type = self.one(node, "unit"), self.one(node, "dataType")
        return Constraint(
            left_operand=str(left),
            operator=str(operator),
            right_operand=right,
            right_operand_reference=str(reference) if reference is not None else None,
            unit=str(unit) if unit is not None else None,
            data_type=str(data_type) if data_type is not None else None,
            uid=_iri(node),
        )

    def one(self, node: Node, prop: str) -> Node | None:
        values = self.many(node, prop)
        if len(values) > 1:
            _fail(_where(node, prop), f"expected one value, found {len(values)}")
        return values[0] if values else None

    def many(self, node: Node, prop: str) -> list[Node]:
        """The values of ``prop``: an ``rdf:List`` in order, or several values sorted."""
        values = list(self.g.objects(node, _O[prop]))
        if len(values) == 1 and self._is_list_head(values[0]):
            return list(Collection(self.g, values[0]))
        return sorted(values, key=str)

    def is_list(self, node: Node, prop: str) -> bool:
        values = list(self.g.objects(node, _O[prop]))
        return len(values) == 1 and self._is_list_head(values[0])

    def _is_list_head(self, value: Node) -> bool:
        return value == RDF.nil or (value, RDF.first, None) in self.g


# -- requests and the world ----------------------------------------------------------------------


def _odrl_request(g: Graph, node: Node) -> EvaluationRequest:
    reader = _Reader(g)
    rules = reader.many(node, "permission")
    if len(rules) != 1:
        _fail(_where(node, "permission"), f"a request names one permission, found {len(rules)}")
    rule = reader.rule(rules[0], "permission")
    values: dict[str, Any] = {}
    for c in rule.constraints:
        if isinstance(c, Constraint) and c.operator == ODRL_NS + "eq" and c.right_operand:
            values[c.left_operand] = c.right_operand
    uid = reader.one(node, "uid")
    return EvaluationRequest(
        uid=str(uid) if uid is not None else _iri(node),
        rule_uid=rule.uid,
        party=rule.assignee.iri if rule.assignee else None,
        action=rule.action_iri,
        target=rule.target.iri if rule.target else None,
        values=values,
    )


def _sotw_request(g: Graph, node: Node) -> EvaluationRequest:
    def one(name: str) -> str | None:
        value = g.value(node, _S[name])
        return str(value) if value is not None else None

    values: dict[str, Any] = {}
    now = None
    for parameter in sorted(g.objects(node, _S["requestParameter"]), key=str):
        feature, value = g.value(parameter, _S["describesFeature"]), g.value(parameter, _S["value"])
        if feature is None or value is None:
            continue
        if str(feature) == CURRENT_DATETIME_FEATURE:
            now = _datetime(value, "requestParameter")
        else:
            values[str(feature)] = _value(value)
    return EvaluationRequest(
        uid=_iri(node),
        party=one("evaluatedParty"),
        action=one("evaluatedAction"),
        target=one("evaluatedTarget"),
        values=values,
        now=now,
    )


def _duty_states(g: Graph) -> dict[str, str]:
    states: dict[str, str] = {}
    for ns in REPORT_NAMESPACES:
        for report, rule in g.subject_objects(URIRef(ns + "rule")):
            deontic = g.value(report, URIRef(ns + "deonticState"))
            performed = g.value(report, URIRef(ns + "performanceState"))
            state = _DEONTIC.get(_local(deontic)) if deontic is not None else None
            if state is None and performed is not None and _local(performed) == "Performed":
                state = "fulfilled"
            if state is not None:
                states[str(rule)] = state
    return states


# -- terms -------------------------------------------------------------------------------------


def _value(term: Node) -> Value:
    if isinstance(term, Literal):
        return Value(str(term), str(term.datatype) if term.datatype else None)
    if isinstance(term, BNode):
        return Value(f"_:{term}", iri=True)
    return Value(str(term), iri=True)


def _datetime(term: Node, where: str) -> datetime:
    try:
        return parse_datetime(str(term))
    except ValueError as exc:
        _fail(where, str(exc))


def _iri(node: Node) -> str | None:
    return str(node) if isinstance(node, URIRef) else None


def _local(term: Node) -> str:
    text = str(term)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _where(node: Node, prop: str) -> str:
    return f"<{node}>.{prop}" if isinstance(node, URIRef) else f"_:{node}.{prop}"


def _fail(path: str, problem: str) -> NoReturn:
    raise ValidationFailure(f"{path}: {problem}", path=path)
