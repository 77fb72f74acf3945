"""EDC QuerySpec: filter, sort and page JSON objects as the Management API renders them.

Pure functions over plain JSON. ``operandLeft`` is a field name (``state``, ``edc:state``,
``https://w3id.org/edc/v0.0.1/ns/state``, ``id``/``@id``) or a dotted path into nested maps
(``properties.name``, ``'http://purl.org/dc/terms/type'.'@id'``); IRIs may be written full,
prefixed or as EDC local names whichever way the object spells them. A top-level name that is
missing is also looked up in ``properties`` (EDC's asset convention) and through
:data:`DEFAULT_ALIASES` (clients look for an agreement id under three names).
Values wrapped as ``{"@value": ...}`` or references ``{"@id": ...}`` compare as their content;
a list matches when one of its members does.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connector.domain import DSPACE_NS, EDC_NS, KAREZ_NS, ODRL_NS, Criterion
from connector.errors import ValidationFailure

OPERATORS = frozenset({"=", "!=", "in", "like", "ilike", "contains", "<", "<=", ">", ">="})
SORT_ORDERS = ("ASC", "DESC")

#: Prefixes under which rendered objects may spell an IRI (the Management API response context).
PREFIXES = {
    "edc": EDC_NS,
    "odrl": ODRL_NS,
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dspace": DSPACE_NS,
    "karez": KAREZ_NS,
    "tx-auth": "https://w3id.org/tractusx/auth/",
}

#: Alternative names tried for a top-level field that an object does not have.
DEFAULT_ALIASES: Mapping[str, tuple[str, ...]] = {
    "id": ("@id",),
    "@id": ("id",),
    "contractAgreementId": ("contractId", "agreementId"),
    "contractId": ("contractAgreementId", "agreementId"),
    "agreementId": ("contractAgreementId", "contractId"),
}

_MISSING = object()


@dataclass
class QuerySpec:
    """Paging, sorting and an AND-ed list of criteria; validated on creation."""

    offset: int = 0
    limit: int = 50
    sort_order: str = "ASC"
    sort_field: str | None = None
    filter_expression: list[Criterion] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_int(self.offset, "offset", minimum=0)
        _check_int(self.limit, "limit", minimum=1)
        if not isinstance(self.sort_order, str) or self.sort_order.upper() not in SORT_ORDERS:
            raise ValidationFailure(
                "sortOrder must be ASC or DESC", path="sortOrder", invalid_value=self.sort_order
            )
        self.sort_order = self.sort_order.upper()
        if self.sort_field is not None and (
            not isinstance(self.sort_field, str) or not self.sort_field.strip()
        ):
            raise ValidationFailure(
                "sortField must be a non-blank string",
                path="sortField",
                invalid_value=self.sort_field,
            )
        validate_criteria(self.filter_expression, "filterExpression")


def _check_int(value: Any, path: str, *, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationFailure(
            f"{path} must be an integer >= {minimum}", path=path, invalid_value=value
        )


def validate_criteria(criteria: Sequence[Criterion], path: str) -> None:
    """Check every criterion; errors name ``<path>[i].operandLeft`` or ``<path>[i].operator``."""
    for i, criterion in enumerate(criteria):
        left = criterion.operand_left
        if not isinstance(left, str) or not left.strip():
            raise ValidationFailure(
                "operandLeft must be a non-blank string",
                path=f"{path}[{i}].operandLeft",
                invalid_value=left,
            )
        op = criterion.operator
        if not isinstance(op, str) or op.lower() not in OPERATORS:
            raise ValidationFailure(
                f"Unknown operator {op!r}; expected one of {', '.join(sorted(OPERATORS))}",
                path=f"{path}[{i}].operator",
                invalid_value=op,
            )


# --- resolving operandLeft --------------------------------------------------------------------


def _key_candidates(segment: str) -> list[str]:
    out = [segment]
    if segment.startswith(EDC_NS):
        out.append(segment[len(EDC_NS) :])
    for prefix, ns in PREFIXES.items():
        if segment.startswith(ns) and len(segment) > len(ns):
            out.append(f"{prefix}:{segment[len(ns) :]}")
        elif segment.startswith(prefix + ":"):
            local = segment[len(prefix) + 1 :]
            out.append(ns + local)
            if prefix == "edc":
                out.append(local)
    return out


def _lookup(obj: Mapping[str, Any], segment: str, aliases: Mapping[str, Sequence[str]]) -> Any:
    candidates = _key_candidates(segment)
    for name in candidates:
        if name in obj:
            return obj[name]
    for name in candidates:
        for alias in aliases.get(name, ()):
            if alias in obj:
                return obj[alias]
    return _MISSING


def _resolve(value: Any, path: str, aliases: Mapping[str, Sequence[str]]) -> list[Any]:
    """Every value reached by ``path`` from ``value`` (lists are walked member by member)."""
    if path == "":
        return [value]
    if isinstance(value, list):
        return [found for member in value for found in _resolve(member, path, aliases)]
    if not isinstance(value, Mapping):
        return []
    if path.startswith("'"):
        end = path.find("'", 1)
        if end < 0:
            return []
        segment, rest = path[1:end], path[end + 1 :]
        if rest and not rest.startswith("."):
            return []
        found = _lookup(value, segment, aliases)
        return [] if found is _MISSING else _resolve(found, rest[1:], aliases)
    # an unquoted segment may itself contain dots (an IRI): try the longest match first
    cuts = [i for i, ch in enumerate(path) if ch == "."] + [len(path)]
    for cut in reversed(cuts):
        found = _lookup(value, path[:cut], aliases)
        if found is not _MISSING:
            return _resolve(found, path[cut + 1 :], aliases)
    return []


def _unwrap(value: Any) -> Any:
    if isinstance(value, Mapping):
        if "@value" in value:
            return value["@value"]
        if "@id" in value and set(value) <= {"@id", "@type"}:
            return value["@id"]
    return value


def field_values(
    item: Mapping[str, Any],
    operand_left: str,
    aliases: Mapping[str, Sequence[str]] = DEFAULT_ALIASES,
) -> list[Any]:
    """The values ``operand_left`` denotes in ``item`` ([] when it has none)."""
    found = _resolve(item, operand_left, aliases)
    if not found and isinstance(item.get("properties"), Mapping):
        found = _resolve(item["properties"], operand_left, aliases)
    out: list[Any] = []
    for value in found:
        value = _unwrap(value)
        if isinstance(value, list):
            out.extend(_unwrap(member) for member in value)
        elif value is not None:
            out.append(value)
    return out


# --- comparing ----------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _equal(a: Any, b: Any) -> bool:
    a, b = _unwrap(a), _unwrap(b)
    if a == b and type(a) is type(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return _bool(a) is not None and _bool(a) == _bool(b)
    if isinstance(a, int | float) or isinstance(b, int | float):
        na, nb = _number(a), _number(b)
        return na is not None and na == nb
    return a == b


def _ordered(a: Any, b: Any) -> tuple[Any, Any] | None:
    na, nb = _number(a), _number(b)
    if na is not None and nb is not None and not (isinstance(a, str) and isinstance(b, str)):
        return na, nb
    if isinstance(a, str) and isinstance(b, str):
        return a, b
    return None


def _like(pattern: Any, *, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for ch in str(pattern):
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _test(op: str, values: list[Any], right: Any) -> bool:
    if op == "!=":
        return not any(_equal(v, right) for v in values)
    if op == "=":
        return any(_equal(v, right) for v in values)
    if op == "in":
        options = _as_list(right)
        return any(_equal(v, option) for v in values for option in options)
    if op == "contains":
        return any(
            _equal(v, right) or (isinstance(v, str) and isinstance(right, str) and right in v)
            for v in values
        )
    if op in ("like", "ilike"):
        regex = _like(right, ignore_case=op == "ilike")
        return any(not isinstance(v, Mapping | list) and regex.fullmatch(_text(v)) for v in values)
    for v in values:
        pair = _ordered(v, _unwrap(right))
        if pair is not None and _COMPARE[op](*pair):
            return True
    return False


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def matches(
    item: Mapping[str, Any],
    criterion: Criterion,
    aliases: Mapping[str, Sequence[str]] = DEFAULT_ALIASES,
) -> bool:
    """Whether ``item`` satisfies one criterion (the operator must be a known one)."""
    values = field_values(item, criterion.operand_left, aliases)
    return _test(criterion.operator.lower(), values, criterion.operand_right)


def matches_all(
    item: Mapping[str, Any],
    criteria: Iterable[Criterion],
    aliases: Mapping[str, Sequence[str]] = DEFAULT_ALIASES,
) -> bool:
    """Whether ``item`` satisfies every criterion (an empty list selects everything)."""
    return all(matches(item, c, aliases) for c in criteria)


# --- sorting and paging -------------------------------------------------------------------------


def _sort_key(value: Any) -> tuple[int, Any]:
    number = _number(value) if not isinstance(value, str) else None
    if number is not None:
        return (0, number)
    if isinstance(value, str):
        return (1, value)
    return (2, json.dumps(value, sort_keys=True, default=str))


def apply(
    items: Sequence[Mapping[str, Any]],
    spec: QuerySpec,
    aliases: Mapping[str, Sequence[str]] = DEFAULT_ALIASES,
) -> list[Any]:
    """Filter ``items`` by ``spec``, sort them (missing values last), then take one page."""
    selected = [item for item in items if matches_all(item, spec.filter_expression, aliases)]
    if spec.sort_field:
        present, missing = [], []
        for item in selected:
            values = field_values(item, spec.sort_field, aliases)
            (present if values else missing).append((values[:1], item))
        present.sort(key=lambda pair: _sort_key(pair[0][0]), reverse=spec.sort_order == "DESC")
        selected = [item for _, item in present] + [item for _, item in missing]
    return list(selected[spec.offset : spec.offset + spec.limit])
