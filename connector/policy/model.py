"""The ODRL 2.2 policy model, parsed from the DSP 2025-1 compact JSON form.

``parse_policy`` accepts the forms policies take on the wire and in the Management API: short
ODRL terms (``"use"``, ``"lteq"``), prefixed ones (``"odrl:use"``), full IRIs, ``{"@id": ...}``
references, single objects or lists, ``{"@value", "@type"}`` literals and ``@list``/``@set``
wrappers. ODRL terms are held as full IRIs; other IRIs are kept as given. A malformed policy
raises ``ValidationFailure`` whose ``path`` names the offending member, e.g.
``permission[0].constraint[1].operator``. ``to_json`` writes the compact form back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, TypeAlias

from connector.domain import EDC_NS, KAREZ_NS, ODRL_NS
from connector.errors import ValidationFailure

XSD_NS = "http://www.w3.org/2001/XMLSchema#"

#: Prefixes expanded in terms and compacted again for display.
PREFIXES: dict[str, str] = {
    "odrl": ODRL_NS,
    "karez": KAREZ_NS,
    "edc": EDC_NS,
    "xsd": XSD_NS,
    "dspace": "https://w3id.org/dspace/2025/1/",
    "dct": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


OPERATORS = _names("eq neq lt lteq gt gteq isA hasPart isPartOf isAllOf isAnyOf isNoneOf")
LEFT_OPERANDS = _names(
    """absolutePosition absoluteSpatialPosition absoluteTemporalPosition absoluteSize count
    dateTime delayPeriod deliveryChannel device elapsedTime event fileFormat industry language
    media meteredTime payAmount percentage product purpose recipient relativePosition
    relativeSpatialPosition relativeTemporalPosition relativeSize resolution spatial
    spatialCoordinates system systemDevice timeInterval unitOfCount version virtualLocation"""
)
ACTIONS = _names(
    """use grantUse compensate acceptTracking aggregate annotate anonymize append appendTo
    archive attribute concurrentUse copy delete derive digitize display distribute
    ensureExclusivity execute export extract give include index inform install lease license
    lend modify move nextPolicy obtainConsent pay play present preview print read reproduce
    reviewPolicy secondaryUse sell stream synchronize textToSpeech transfer transform
    translate uninstall watermark write writeTo adHocShare extractChar extractPage
    extractWord attachPolicy attachSource shareAlike commercialize share"""
)
POLICY_TYPES = _names("Policy Set Offer Agreement Request Ticket Assertion Privacy")
CONFLICT_TERMS = frozenset({"perm", "prohibit", "invalid"})

USE = ODRL_NS + "use"

RuleKind = Literal["permission", "prohibition", "obligation", "duty"]
LogicalOp = Literal["and", "or", "xone", "andSequence"]
LOGICAL_OPS: tuple[LogicalOp, ...] = ("and", "or", "xone", "andSequence")


# -- terms -------------------------------------------------------------------------------------


def expand(term: str, vocabulary: frozenset[str] = frozenset()) -> str:
    """Expand a short ODRL term or a known prefix to a full IRI; keep anything else."""
    prefix, sep, local = term.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    if not sep and term in vocabulary:
        return ODRL_NS + term
    return term


def compact(iri: str) -> str:
    """The display form of an IRI: ``odrl:dateTime``, ``karez:purpose``; others unchanged."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def short(iri: str, vocabulary: frozenset[str]) -> str:
    """The compact JSON form of a term: the bare ODRL name when it is in ``vocabulary``."""
    if iri.startswith(ODRL_NS) and iri[len(ODRL_NS) :] in vocabulary:
        return iri[len(ODRL_NS) :]
    return iri


# -- model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """One right-operand value: a JSON literal, a typed literal or an IRI reference."""

    value: str | int | float | bool
    datatype: str | None = None  # full XSD IRI of a typed literal
    iri: bool = False  # True for {"@id": ...}

    def to_json(self) -> Any:
        if self.iri:
            return {"@id": self.value}
        if self.datatype:
            return {"@value": self.value, "@type": compact(self.datatype)}
        return self.value

    def __str__(self) -> str:
        return str(self.value).lower() if isinstance(self.value, bool) else str(self.value)


RightOperand: TypeAlias = Value | tuple[Value, ...]


@dataclass(frozen=True)
class Constraint:
    """An atomic constraint ``leftOperand operator rightOperand``; terms are full IRIs."""

    left_operand: str
    operator: str
    right_operand: RightOperand | None
    right_operand_reference: str | None = None
    unit: str | None = None
    data_type: str | None = None
    uid: str | None = None

    @property
    def operator_name(self) -> str:
        return self.operator.removeprefix(ODRL_NS)

    def describe(self) -> str:
        """``odrl:dateTime lteq 2027-12-31T00:00:00Z``."""
        return f"{compact(self.left_operand)} {self.operator_name} {self.right_text()}"

    def right_text(self) -> str:
        if self.right_operand is None:
            return f"<{self.right_operand_reference}>"
        if isinstance(self.right_operand, tuple):
            return "[" + ", ".join(str(v) for v in self.right_operand) + "]"
        return str(self.right_operand)

    def right_json(self) -> Any:
        if isinstance(self.right_operand, tuple):
            return [v.to_json() for v in self.right_operand]
        return None if self.right_operand is None else self.right_operand.to_json()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "leftOperand": short(self.left_operand, LEFT_OPERANDS),
            "operator": self.operator_name,
        }
        if self.right_operand is not None:
            out["rightOperand"] = self.right_json()
        for key, val in (
            ("rightOperandReference", self.right_operand_reference),
            ("unit", self.unit),
            ("dataType", self.data_type and compact(self.data_type)),
            ("@id", self.uid),
        ):
            if val is not None:
                out[key] = val
        return out


@dataclass(frozen=True)
class LogicalConstraint:
    """``and`` / ``or`` / ``xone`` / ``andSequence`` over member constraints."""

    op: LogicalOp
    members: tuple[AnyConstraint, ...]
    uid: str | None = None

    def describe(self) -> str:
        return f"{self.op}(" + ", ".join(m.describe() for m in self.members) + ")"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.op: [m.to_json() for m in self.members]}
        if self.uid is not None:
            out["@id"] = self.uid
        return out


AnyConstraint: TypeAlias = Constraint | LogicalConstraint


@dataclass(frozen=True)
class Action:
    """An action IRI with optional refinements (constraints that narrow it)."""

    iri: str
    refinements: tuple[AnyConstraint, ...] = ()

    def to_json(self) -> Any:
        name = short(self.iri, ACTIONS)
        if not self.refinements:
            return name
        return {"rdf:value": {"@id": name}, "refinement": [r.to_json() for r in self.refinements]}


@dataclass(frozen=True)
class Rule:
    """A permission, prohibition, obligation or (nested) duty."""

    kind: RuleKind
    action: Action
    constraints: tuple[AnyConstraint, ...] = ()
    duties: tuple[Rule, ...] = ()  # a permission's duties, a prohibition's remedies
    consequences: tuple[Rule, ...] = ()  # a duty's consequences
    target: str | None = None
    assigner: str | None = None
    assignee: str | None = None
    uid: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action.to_json()}
        if self.constraints:
            out["constraint"] = [c.to_json() for c in self.constraints]
        if self.duties:
            key = "remedy" if self.kind == "prohibition" else "duty"
            out[key] = [d.to_json() for d in self.duties]
        if self.consequences:
            out["consequence"] = [d.to_json() for d in self.consequences]
        for key, val in (
            ("target", self.target),
            ("assigner", self.assigner),
            ("assignee", self.assignee),
            ("@id", self.uid),
        ):
            if val is not None:
                out[key] = val
        return out


@dataclass(frozen=True)
class Policy:
    """An ODRL policy: its rules and the parties and target they share."""

    uid: str | None
    type: str
    permissions: tuple[Rule, ...] = ()
    prohibitions: tuple[Rule, ...] = ()
    obligations: tuple[Rule, ...] = ()
    target: str | None = None
    assigner: str | None = None
    assignee: str | None = None
    profile: tuple[str, ...] = ()
    conflict: str | None = None  # "perm" | "prohibit" | "invalid"; None means prohibit

    def rules(self) -> Iterator[tuple[str, Rule]]:
        """Every top-level rule with its path, e.g. ``("permission[0]", rule)``."""
        for kind, rules in (
            ("permission", self.permissions),
            ("prohibition", self.prohibitions),
            ("obligation", self.obligations),
        ):
            for i, rule in enumerate(rules):
                yield f"{kind}[{i}]", rule

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"@type": self.type}
        if self.uid is not None:
            out["@id"] = self.uid
        for key, val in (
            ("target", self.target),
            ("assigner", self.assigner),
            ("assignee", self.assignee),
            ("conflict", self.conflict),
        ):
            if val is not None:
                out[key] = val
        if self.profile:
            out["profile"] = self.profile[0] if len(self.profile) == 1 else list(self.profile)
        for key, rules in (
            ("permission", self.permissions),
            ("prohibition", self.prohibitions),
            ("obligation", self.obligations),
        ):
            if rules:
                out[key] = [r.to_json() for r in rules]
        return out


# -- parsing -----------------------------------------------------------------------------------


def parse_policy(data: Any) -> Policy:
    """Parse a compact ODRL policy; raise ``ValidationFailure`` naming the bad member."""
    if not isinstance(data, dict):
        _fail("", "a policy must be a JSON object", data)
    ptype = ODRL_NS + "Set"
    if _has(data, "@type", "type"):
        ptype = _term(_get(data, "@type", "type"), "@type", POLICY_TYPES)
    conflict = _get(data, "conflict")
    if conflict is not None:
        conflict = _term(conflict, "conflict", CONFLICT_TERMS).removeprefix(ODRL_NS)
        if conflict not in CONFLICT_TERMS:
            _fail("conflict", "must be perm, prohibit or invalid", conflict)
    return Policy(
        uid=_opt_id(data, "", "@id", "uid"),
        type=ptype.removeprefix(ODRL_NS),
        permissions=_rules(data, "permission", "permission", ""),
        prohibitions=_rules(data, "prohibition", "prohibition", ""),
        obligations=_rules(data, "obligation", "obligation", ""),
        target=_opt_id(data, "", "target"),
        assigner=_opt_id(data, "", "assigner"),
        assignee=_opt_id(data, "", "assignee"),
        profile=tuple(_iri(p, _join("", f"profile[{i}]")) for i, p in _items(data, "profile")),
        conflict=conflict,
    )


def _rules(node: dict[str, Any], key: str, kind: RuleKind, path: str) -> tuple[Rule, ...]:
    return tuple(_rule(item, kind, _join(path, f"{key}[{i}]")) for i, item in _items(node, key))


def _rule(node: Any, kind: RuleKind, path: str) -> Rule:
    if not isinstance(node, dict):
        _fail(path, "a rule must be a JSON object", node)
    if not _has(node, "action"):
        _fail(_join(path, "action"), "missing")
    nested: RuleKind = "duty"
    duty_key = "remedy" if kind == "prohibition" else "duty"
    return Rule(
        kind=kind,
        action=_action(_get(node, "action"), _join(path, "action")),
        constraints=_constraints(node, "constraint", path),
        duties=_rules(node, duty_key, nested, path),
        consequences=_rules(node, "consequence", nested, path),
        target=_opt_id(node, path, "target"),
        assigner=_opt_id(node, path, "assigner"),
        assignee=_opt_id(node, path, "assignee"),
        uid=_opt_id(node, path, "@id", "uid"),
    )


def _action(node: Any, path: str) -> Action:
    node = _single(node, path)
    if isinstance(node, str):
        return Action(_term(node, path, ACTIONS))
    if isinstance(node, dict):
        if _has(node, *_RDF_VALUE):
            inner = _get(node, *_RDF_VALUE)
            base = _action(inner, _join(path, "rdf:value"))
        elif _has(node, "@id", "uid"):
            base = Action(_term(_get(node, "@id", "uid"), path, ACTIONS))
        else:
            _fail(path, "an action needs an IRI (@id or rdf:value)", node)
        refinements = _constraints(node, "refinement", path)
        return Action(base.iri, base.refinements + refinements)
    _fail(path, "an action must be a string or an object", node)


def _constraints(node: dict[str, Any], key: str, path: str) -> tuple[AnyConstraint, ...]:
    return tuple(_constraint(c, _join(path, f"{key}[{i}]")) for i, c in _items(node, key))


def _constraint(node: Any, path: str) -> AnyConstraint:
    if not isinstance(node, dict):
        _fail(path, "a constraint must be a JSON object", node)
    ops = [op for op in LOGICAL_OPS if _has(node, op)]
    if len(ops) > 1:
        _fail(path, f"a logical constraint has one operand, found {', '.join(ops)}", node)
    if ops:
        op = ops[0]
        members = _constraints(node, op, path)
        if not members:
            _fail(_join(path, op), "needs at least one constraint")
        return LogicalConstraint(op, members, _opt_id(node, path, "@id", "uid"))
    if not _has(node, "leftOperand"):
        _fail(_join(path, "leftOperand"), "missing")
    if not _has(node, "operator"):
        _fail(_join(path, "operator"), "missing")
    left = _term(_get(node, "leftOperand"), _join(path, "leftOperand"), LEFT_OPERANDS)
    operator = _term(_get(node, "operator"), _join(path, "operator"), OPERATORS)
    if operator.removeprefix(ODRL_NS) not in OPERATORS or not operator.startswith(ODRL_NS):
        _fail(_join(path, "operator"), f"unknown operator {operator!r}", operator)
    right = None
    if _has(node, "rightOperand"):
        right = _right_operand(_get(node, "rightOperand"), _join(path, "rightOperand"))
    reference = _opt_id(node, path, "rightOperandReference")
    if right is None and reference is None:
        _fail(_join(path, "rightOperand"), "missing")
    data_type = _opt_id(node, path, "dataType")
    return Constraint(
        left_operand=left,
        operator=operator,
        right_operand=right,
        right_operand_reference=reference,
        unit=_opt_id(node, path, "unit"),
        data_type=expand(data_type) if data_type else None,
        uid=_opt_id(node, path, "@id", "uid"),
    )


def _right_operand(node: Any, path: str) -> RightOperand:
    if isinstance(node, dict) and _has(node, "@list", "@set"):
        node = _get(node, "@list", "@set")
    if isinstance(node, list):
        if not node:
            _fail(path, "an empty list", node)
        return tuple(_value(v, f"{path}[{i}]") for i, v in enumerate(node))
    return _value(node, path)


def _value(node: Any, path: str) -> Value:
    if isinstance(node, bool | int | float | str):
        return Value(node)
    if isinstance(node, dict):
        if "@value" in node:
            raw = node["@value"]
            if not isinstance(raw, bool | int | float | str):
                _fail(_join(path, "@value"), "must be a JSON scalar", raw)
            dtype = node.get("@type")
            if dtype is not None and not isinstance(dtype, str):
                _fail(_join(path, "@type"), "must be an IRI string", dtype)
            return Value(raw, expand(dtype) if dtype else None)
        if _has(node, "@id", "uid"):
            return Value(_iri(_get(node, "@id", "uid"), path), iri=True)
    _fail(path, "must be a literal, {@value}, {@id} or a list of them", node)


# -- helpers -----------------------------------------------------------------------------------

_RDF_VALUE = ("rdf:value", PREFIXES["rdf"] + "value", "value")


def _aliases(name: str) -> tuple[str, ...]:
    if name.startswith("@") or ":" in name:
        return (name,)
    return (name, f"odrl:{name}", ODRL_NS + name)


def _has(node: dict[str, Any], *names: str) -> bool:
    return any(alias in node for name in names for alias in _aliases(name))


def _get(node: dict[str, Any], *names: str) -> Any:
    for name in names:
        for alias in _aliases(name):
            if alias in node:
                return node[alias]
    return None


def _items(node: dict[str, Any], key: str) -> list[tuple[int, Any]]:
    """The members of a property that may be absent, one object, a list or a @list/@set."""
    value = _get(node, key)
    if value is None:
        return []
    if isinstance(value, dict) and ("@list" in value or "@set" in value):
        value = value.get("@list", value.get("@set"))
    if not isinstance(value, list):
        value = [value]
    return list(enumerate(value))


def _single(node: Any, path: str) -> Any:
    if isinstance(node, list):
        if len(node) != 1:
            _fail(path, "expected one value", node)
        return node[0]
    return node


def _iri(node: Any, path: str) -> str:
    node = _single(node, path)
    if isinstance(node, dict) and _has(node, "@id", "uid"):
        node = _get(node, "@id", "uid")
    if not isinstance(node, str) or not node:
        _fail(path, "must be an IRI string", node)
    return node


def _term(node: Any, path: str, vocabulary: frozenset[str]) -> str:
    return expand(_iri(node, path), vocabulary)


def _opt_id(node: dict[str, Any], path: str, *names: str) -> str | None:
    if not _has(node, *names):
        return None
    key = next(a for n in names for a in _aliases(n) if a in node)
    return _iri(node[key], _join(path, names[0]))


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _fail(path: str, problem: str, value: Any = None) -> NoReturn:
    where = path or "policy"
    raise ValidationFailure(f"{where}: {problem}", path=path or None, invalid_value=value)
