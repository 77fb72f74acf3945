"""The ODRL 2.2 policy model, parsed from JSON: compact (DSP, ODRL or EDC context) or expanded.

``parse_policy`` accepts the forms policies take on the wire and in the Management API: short
ODRL terms (``"use"``, ``"lteq"``), prefixed ones (``"odrl:use"``), full IRIs (the expanded
JSON-LD form), ``{"@id": ...}`` references, single objects or lists, ``{"@value", "@type"}``
literals and ``@list``/``@set`` wrappers. ODRL terms are held as full IRIs; other IRIs are kept
as given. A malformed policy raises ``ValidationFailure`` whose ``path`` names the offending
member, e.g. ``permission[0].constraint[1].operator``. ``to_json`` writes the compact form back.

Targets and parties are :class:`Entity` values: an IRI, or an asset or party collection with
an optional ``source`` and refinements. A rule parsed from RDF may lack an action (``None``:
any action); the JSON form requires one, as DSP does.
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
COLLECTION_TYPES = _names("AssetCollection PartyCollection")

USE = ODRL_NS + "use"

RuleKind = Literal["permission", "prohibition", "obligation", "duty"]
EntityKind = Literal["asset", "party"]
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
        unit = f" {compact(self.unit)}" if self.unit else ""
        return f"{compact(self.left_operand)} {self.operator_name} {self.right_text()}{unit}"

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
    uid: str | None = None  # the action node's own @id, when it has one

    def to_json(self) -> Any:
        name = short(self.iri, ACTIONS)
        if not self.refinements and self.uid is None:
            return name
        out: dict[str, Any] = {"rdf:value": {"@id": name}}
        if self.refinements:
            out["refinement"] = [r.to_json() for r in self.refinements]
        if self.uid is not None:
            out["@id"] = self.uid
        return out


@dataclass(frozen=True)
class Entity:
    """An asset or party: an IRI, or a collection (``source``, refinements) of them."""

    iri: str | None
    kind: EntityKind = "asset"
    collection: bool = False
    source: str | None = None
    refinements: tuple[AnyConstraint, ...] = ()

    def describe(self) -> str:
        name = self.iri or self.source or "(anonymous)"
        if not self.collection:
            return name
        text = f"{self.kind} collection {name}"
        if self.refinements:
            text += " where " + " and ".join(r.describe() for r in self.refinements)
        return text

    def to_json(self) -> Any:
        if not self.collection and self.iri is not None:
            return self.iri
        out: dict[str, Any] = {}
        if self.iri is not None:
            out["@id"] = self.iri
        if self.collection:
            out["@type"] = "AssetCollection" if self.kind == "asset" else "PartyCollection"
        if self.source is not None:
            out["source"] = self.source
        if self.refinements:
            out["refinement"] = [r.to_json() for r in self.refinements]
        return out


@dataclass(frozen=True)
class Rule:
    """A permission, prohibition, obligation or (nested) duty."""

    kind: RuleKind
    action: Action | None
    constraints: tuple[AnyConstraint, ...] = ()
    duties: tuple[Rule, ...] = ()  # a permission's duties, a prohibition's remedies
    consequences: tuple[Rule, ...] = ()  # a duty's consequences
    target: Entity | None = None
    assigner: Entity | None = None
    assignee: Entity | None = None
    uid: str | None = None

    @property
    def action_iri(self) -> str | None:
        return self.action.iri if self.action is not None else None

    def describe_action(self) -> str:
        return compact(self.action.iri) if self.action is not None else "any action"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.action is not None:
            out["action"] = self.action.to_json()
        if self.constraints:
            out["constraint"] = [c.to_json() for c in self.constraints]
        if self.duties:
            key = "remedy" if self.kind == "prohibition" else "duty"
            out[key] = [d.to_json() for d in self.duties]
        if self.consequences:
            out["consequence"] = [d.to_json() for d in self.consequences]
        for key, entity in (
            ("target", self.target),
            ("assigner", self.assigner),
            ("assignee", self.assignee),
        ):
            if entity is not None:
                out[key] = entity.to_json()
        if self.uid is not None:
            out["@id"] = self.uid
        return out


@dataclass(frozen=True)
class Policy:
    """An ODRL policy: its rules and the parties and target they share."""

    uid: str | None
    type: str
    permissions: tuple[Rule, ...] = ()
    prohibitions: tuple[Rule, ...] = ()
    obligations: tuple[Rule, ...] = ()
    target: Entity | None = None
    assigner: Entity | None = None
    assignee: Entity | None = None
    profile: tuple[str, ...] = ()
    conflict: str | None = None  # "perm" | "prohibit" | "invalid"; None: ODRL's default
    inherit_from: tuple[str, ...] = ()

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
        for key, entity in (
            ("target", self.target),
            ("assigner", self.assigner),
            ("assignee", self.assignee),
        ):
            if entity is not None:
                out[key] = entity.to_json()
        if self.conflict is not None:
            out["conflict"] = self.conflict
        if self.profile:
            out["profile"] = self.profile[0] if len(self.profile) == 1 else list(self.profile)
        if self.inherit_from:
            out["inheritFrom"] = list(self.inherit_from)
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
    """Parse a compact or expanded ODRL policy; ``ValidationFailure`` names a bad member."""
    if isinstance(data, list) and len(data) == 1:  # an expanded document holds one node
        data = data[0]
    if not isinstance(data, dict):
        _fail("", "a policy must be a JSON object", data)
    data = _norm(data)
    ptype = "Set"
    if _has(data, "@type", "type"):
        ptype = _policy_type(_get(data, "@type", "type"))
    conflict = _get(data, "conflict")
    if conflict is not None:
        conflict = _term(conflict, "conflict", CONFLICT_TERMS).removeprefix(ODRL_NS)
        if conflict not in CONFLICT_TERMS:
            _fail("conflict", "must be perm, prohibit or invalid", conflict)
    return Policy(
        uid=_opt_id(data, "", "@id", "uid"),
        type=ptype,
        permissions=_rules(data, "permission", "permission", ""),
        prohibitions=_rules(data, "prohibition", "prohibition", ""),
        obligations=_rules(data, "obligation", "obligation", ""),
        target=_opt_entity(data, "", "target", "asset"),
        assigner=_opt_entity(data, "", "assigner", "party"),
        assignee=_opt_entity(data, "", "assignee", "party"),
        profile=_iris(data, "profile", ""),
        conflict=conflict,
        inherit_from=_iris(data, "inheritFrom", ""),
    )


def _policy_type(node: Any) -> str:
    """The ODRL policy class among the ``@type`` values; other single types are kept."""
    values = node if isinstance(node, list) else [node]
    names = [
        _term(v, f"@type[{i}]" if isinstance(node, list) else "@type", POLICY_TYPES)
        for i, v in enumerate(values)
    ]
    for name in names:
        if name.startswith(ODRL_NS) and name[len(ODRL_NS) :] in POLICY_TYPES:
            return name[len(ODRL_NS) :]
    return names[0].removeprefix(ODRL_NS) if names else "Set"


def _rules(node: dict[str, Any], key: str, kind: RuleKind, path: str) -> tuple[Rule, ...]:
    return tuple(_rule(item, kind, _join(path, f"{key}[{i}]")) for i, item in _items(node, key))


def _rule(node: Any, kind: RuleKind, path: str) -> Rule:
    if not isinstance(node, dict):
        _fail(path, "a rule must be a JSON object", node)
    node = _norm(node)
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
        target=_opt_entity(node, path, "target", "asset"),
        assigner=_opt_entity(node, path, "assigner", "party"),
        assignee=_opt_entity(node, path, "assignee", "party"),
        uid=_opt_id(node, path, "@id", "uid"),
    )


def _action(node: Any, path: str) -> Action:
    node = _single(node, path)
    if isinstance(node, str):
        return Action(_term(node, path, ACTIONS))
    if isinstance(node, dict):
        node = _norm(node)
        uid = None
        if _has(node, *_RDF_VALUE):
            inner = _get(node, *_RDF_VALUE)
            base = _action(inner, _join(path, "rdf:value"))
            uid = _opt_id(node, path, "@id", "uid")
        elif _has(node, "@id", "uid"):
            base = Action(_term(_get(node, "@id", "uid"), path, ACTIONS))
        else:
            _fail(path, "an action needs an IRI (@id or rdf:value)", node)
        refinements = _constraints(node, "refinement", path)
        return Action(base.iri, base.refinements + refinements, uid)
    _fail(path, "an action must be a string or an object", node)


def _opt_entity(node: dict[str, Any], path: str, key: str, kind: EntityKind) -> Entity | None:
    if not _has(node, key):
        return None
    where = _join(path, key)
    value = _single(_get(node, key), where)
    if not isinstance(value, dict):
        return Entity(_iri(value, where), kind)
    value = _norm(value)
    types = value.get("@type", value.get("type", []))
    names = {
        _term(t, _join(where, "@type"), COLLECTION_TYPES).removeprefix(ODRL_NS)
        for t in (types if isinstance(types, list) else [types])
    }
    refinements = _constraints(value, "refinement", where)
    source = _opt_id(value, where, "source")
    uid = _opt_id(value, where, "@id", "uid")
    collection = bool(names & COLLECTION_TYPES) or bool(refinements) or source is not None
    if uid is None and not collection:
        _fail(where, "must be an IRI or an asset or party collection", value)
    return Entity(uid, kind, collection, source, refinements)


def _constraints(node: dict[str, Any], key: str, path: str) -> tuple[AnyConstraint, ...]:
    return tuple(_constraint(c, _join(path, f"{key}[{i}]")) for i, c in _items(node, key))


def _constraint(node: Any, path: str) -> AnyConstraint:
    if not isinstance(node, dict):
        _fail(path, "a constraint must be a JSON object", node)
    node = _norm(node)
    ops = [op for op in LOGICAL_OPS if op in node]
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
    left = _term(node["leftOperand"], _join(path, "leftOperand"), LEFT_OPERANDS)
    operator = _term(node["operator"], _join(path, "operator"), OPERATORS)
    if operator.removeprefix(ODRL_NS) not in OPERATORS or not operator.startswith(ODRL_NS):
        _fail(_join(path, "operator"), f"unknown operator {operator!r}", operator)
    right = None
    if "rightOperand" in node:
        right = _right_operand(node["rightOperand"], _join(path, "rightOperand"))
    reference = _opt_id(node, path, "rightOperandReference")
    if right is None and reference is None:
        _fail(_join(path, "rightOperand"), "missing")
    data_type = _opt_id(node, path, "dataType")
    return Constraint(
        left,
        operator,
        right,
        reference,
        _opt_literal_or_id(node, path, "unit") if "unit" in node else None,
        expand(data_type) if data_type else None,
        _opt_id(node, path, "@id", "uid"),
    )


def _right_operand(node: Any, path: str) -> RightOperand:
    if isinstance(node, dict) and _has(node, "@list", "@set"):
        node = _get(node, "@list", "@set")
    if isinstance(node, list):
        flat = _flatten(node)
        if not flat:
            _fail(path, "an empty list", node)
        return tuple(_value(v, f"{path}[{i}]") for i, v in enumerate(flat))
    return _value(node, path)


def _value(node: Any, path: str) -> Value:
    if isinstance(node, bool | int | float | str):
        return Value(node)
    if isinstance(node, dict):
        if "@value" in node:
            raw = node["@value"]
            if not isinstance(raw, bool | int | float | str):
                _fail(_join(path, "@value"), "must be a JSON scalar", raw)
            dtype = node.get("@type", node.get("type"))  # the ODRL context aliases "type"
            if dtype is not None and not isinstance(dtype, str):
                _fail(_join(path, "@type"), "must be an IRI string", dtype)
            return Value(raw, expand(dtype) if dtype else None)
        node = _norm(node)
        if _has(node, "@id", "uid"):
            return Value(_iri(_get(node, "@id", "uid"), path), iri=True)
    _fail(path, "must be a literal, {@value}, {@id} or a list of them", node)


# -- helpers -----------------------------------------------------------------------------------

_RDF_VALUE = ("rdf:value", "value")
_RDF_VALUE_IRI = PREFIXES["rdf"] + "value"


def _norm(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with ``odrl:name`` and full ODRL IRI keys read as ``name`` (a plain key wins)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("odrl:"):
            out.setdefault(key[5:], value)
        elif key.startswith(ODRL_NS):
            out.setdefault(key[len(ODRL_NS) :], value)
        elif key == _RDF_VALUE_IRI:
            out.setdefault("rdf:value", value)
        else:
            out[key] = value
    return out


def _has(node: dict[str, Any], *names: str) -> bool:
    return any(name in node for name in names)


def _get(node: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in node:
            return node[name]
    return None


def _flatten(values: list[Any]) -> list[Any]:
    """Members of a list whose items may be ``@list``/``@set`` wrappers (expanded JSON-LD)."""
    out: list[Any] = []
    for value in values:
        if isinstance(value, dict) and ("@list" in value or "@set" in value):
            inner = value.get("@list", value.get("@set"))
            out.extend(inner if isinstance(inner, list) else [inner])
        else:
            out.append(value)
    return out


def _items(node: dict[str, Any], key: str) -> list[tuple[int, Any]]:
    """The members of a property that may be absent, one object, a list or a @list/@set."""
    value = _get(node, key)
    if value is None:
        return []
    return list(enumerate(_flatten(value if isinstance(value, list) else [value])))


def _single(node: Any, path: str) -> Any:
    if isinstance(node, list):
        if len(node) != 1:
            _fail(path, "expected one value", node)
        return node[0]
    return node


def _iri(node: Any, path: str) -> str:
    node = _single(node, path)
    if isinstance(node, dict):
        node = _norm(node)
        node = _get(node, "@id", "uid") if _has(node, "@id", "uid") else node
    if not isinstance(node, str) or not node:
        _fail(path, "must be an IRI string", node)
    return node


def _iris(node: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    return tuple(_iri(v, _join(path, f"{key}[{i}]")) for i, v in _items(node, key))


def _term(node: Any, path: str, vocabulary: frozenset[str]) -> str:
    if type(node) is str and node in vocabulary:  # the common short form, fast
        return ODRL_NS + node
    return expand(_iri(node, path), vocabulary)


def _opt_id(node: dict[str, Any], path: str, *names: str) -> str | None:
    for name in names:
        if name in node:
            return _iri(node[name], _join(path, names[0]))
    return None


def _opt_literal_or_id(node: dict[str, Any], path: str, name: str) -> str | None:
    """An IRI given as a reference or, as the ODRL context has it for ``unit``, a string."""
    value = _get(node, name)
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    return None if value is None else _iri(value, _join(path, name))


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _fail(path: str, problem: str, value: Any = None) -> NoReturn:
    where = path or "policy"
    raise ValidationFailure(f"{where}: {problem}", path=path or None, invalid_value=value)
