"""The twelve ODRL operators, with typed comparison.

Values fall into families: ``dateTime`` (``xsd:dateTime`` and ``xsd:date``, compared as
timezone-aware instants; no timezone means UTC, a date is its midnight), ``number`` (every XSD
numeric type, compared as ``Decimal``), ``duration`` (ISO 8601 ``PnYnMnWnDTnHnMnS``, compared
as XSD does: by adding both to reference instants, or to the start of an elapsed time),
``boolean`` and ``string`` (strings and IRIs, equality only).

An untyped string right operand is read in the family of the left value (``"2027-12-31"``
against a datetime is a date); a typed right operand reads a string left value in its own
family. Anything that cannot be compared gives ``Outcome(False, reason)``: an operator never
raises, and a type mismatch never satisfies ``neq`` or ``isNoneOf``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from connector.domain import ODRL_NS
from connector.policy.model import OPERATORS as OPERATOR_NAMES
from connector.policy.model import XSD_NS, RightOperand, Value, compact, expand

# -- typed values ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Duration:
    """An XSD duration: a month part and a second part, both of the same sign."""

    months: int = 0
    seconds: Decimal = Decimal(0)

    @classmethod
    def parse(cls, text: str) -> Duration:
        m = _DURATION.match(text.strip())
        if not m or text.strip() in ("P", "-P") or text.rstrip().endswith("T"):
            raise ValueError(f"{text!r} is not an ISO 8601 duration")
        sign, years, months, weeks, days, hours, minutes, secs = m.groups()
        total_months = int(years or 0) * 12 + int(months or 0)
        total_secs = (
            (int(weeks or 0) * 7 + int(days or 0)) * 86400
            + int(hours or 0) * 3600
            + int(minutes or 0) * 60
            + Decimal(secs or 0)
        )
        factor = -1 if sign else 1
        return cls(factor * total_months, factor * Decimal(total_secs))

    @classmethod
    def of(cls, delta: timedelta) -> Duration:
        micros = (delta.days * 86400 + delta.seconds) * 10**6 + delta.microseconds
        return cls(0, Decimal(micros) / 10**6)

    def add_to(self, moment: datetime) -> datetime:
        """``moment`` plus this duration: months first (day clamped), then seconds."""
        total = moment.year * 12 + moment.month - 1 + self.months
        year, month0 = divmod(total, 12)
        day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
        shifted = moment.replace(year=year, month=month0 + 1, day=day)
        return shifted + timedelta(microseconds=int(self.seconds * 10**6))

    def __str__(self) -> str:
        negative = self.months < 0 or self.seconds < 0
        months, secs = abs(self.months), abs(self.seconds)
        years, months = divmod(months, 12)
        days, rest = divmod(secs, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, rest = divmod(rest, 60)
        date_part = "".join(
            f"{int(n)}{u}" for n, u in ((years, "Y"), (months, "M"), (days, "D")) if n
        )
        time_part = "".join(
            f"{_plain(n)}{u}" for n, u in ((hours, "H"), (minutes, "M"), (rest, "S")) if n
        )
        if not date_part and not time_part:
            time_part = "0S"
        return ("-" if negative else "") + "P" + date_part + ("T" + time_part if time_part else "")


@dataclass(frozen=True)
class Elapsed:
    """Time elapsed from ``start`` to ``end``: a duration anchored at its start."""

    start: datetime
    end: datetime

    def __str__(self) -> str:
        return str(Duration.of(self.end - self.start))


@dataclass(frozen=True)
class Quantity:
    """A resolved value with its unit (an IRI such as ``http://dbpedia.org/resource/Euro``)."""

    amount: Any
    unit: str

    def __str__(self) -> str:
        return f"{render(self.amount)} {compact(self.unit)}"


@dataclass(frozen=True)
class Outcome:
    """An operator's answer; ``reason`` says why it is not satisfied when more than a miss."""

    satisfied: bool
    reason: str | None = None


class _Mismatch(Exception):
    """Internal: two values cannot be compared (never leaves this module)."""


_DURATION = re.compile(
    r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$"
)
_NUMBER = re.compile(r"^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|INF)$")

_NUMERIC_TYPES = """decimal integer double float long int short byte nonNegativeInteger
    positiveInteger negativeInteger nonPositiveInteger unsignedLong unsignedInt unsignedShort
    unsignedByte"""
_FAMILIES: dict[str, str] = {
    **{XSD_NS + t: "dateTime" for t in ("dateTime", "dateTimeStamp", "date")},
    **{XSD_NS + t: "duration" for t in ("duration", "dayTimeDuration", "yearMonthDuration")},
    XSD_NS + "boolean": "boolean",
    **{XSD_NS + t: "number" for t in _NUMERIC_TYPES.split()},
}
_NAMES = {
    "dateTime": "xsd:dateTime",
    "number": "xsd:decimal",
    "duration": "xsd:duration",
    "boolean": "xsd:boolean",
    "string": "string",
}
#: XSD's reference instants for ordering durations that have a month part.
_ANCHORS = tuple(
    datetime(y, m, 1, tzinfo=UTC) for y, m in ((1696, 9), (1697, 2), (1903, 3), (1903, 7))
)


def family_of(datatype: str) -> str:
    """The comparison family of an XSD datatype IRI; unknown datatypes compare as strings."""
    return _FAMILIES.get(expand(datatype), "string")


def parse_datetime(text: str) -> datetime:
    """An ``xsd:dateTime`` or ``xsd:date`` lexical form as an aware datetime (UTC if none)."""
    m = _DATETIME.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not an xsd:dateTime")
    day, clock, zone = m.groups()
    moment = datetime.fromisoformat(day + (clock or "T00:00"))
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        return moment.replace(tzinfo=timezone(sign * offset))
    return moment.replace(tzinfo=UTC)


@lru_cache(maxsize=8192)
def _parse(family: str, text: str) -> Any:
    try:
        if family == "dateTime":
            return parse_datetime(text)
        if family == "duration":
            return Duration.parse(text)
        if family == "number":
            if not _NUMBER.match(text.strip()):
                raise ValueError(text)
            return Decimal(text.strip())
        if family == "boolean":
            return {"true": True, "1": True, "false": False, "0": False}[text.strip()]
    except (ValueError, KeyError, InvalidOperation):
        raise _Mismatch(f"cannot read {text!r} as {_NAMES[family]}") from None
    return text


def _left(value: Any) -> tuple[str, Any]:
    """The family and comparable form of a resolved (left operand) value."""
    kind = type(value)
    if kind is str:  # the common cases first
        return "string", value
    if kind is datetime and value.tzinfo is not None:
        return "dateTime", value
    if isinstance(value, bool):
        return "boolean", value
    if isinstance(value, int | float | Decimal):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if number.is_nan():
            raise _Mismatch("NaN is not comparable")
        return "number", number
    if isinstance(value, datetime):
        return "dateTime", value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return "dateTime", datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, timedelta):
        return "duration", Duration.of(value)
    if isinstance(value, Duration | Elapsed):
        return "duration", value
    if isinstance(value, str):
        return "string", value
    if isinstance(value, Value):
        fam, typed = _right(value, None)
        return (fam or "string"), typed
    if isinstance(value, dict) and ("@value" in value or "@id" in value):
        if "@id" in value:
            return "string", str(value["@id"])
        raw, dtype = value["@value"], value.get("@type")
        return _left(Value(raw, expand(dtype) if isinstance(dtype, str) else None))
    raise _Mismatch(f"cannot compare a value of type {type(value).__name__}")


def _right(value: Value, data_type: str | None) -> tuple[str | None, Any]:
    """The family (None: an untyped string) and comparable form of a right-operand value.

    Cached: a policy's right operands are read once, not on every decision. The key holds
    the Python type too, because ``Value(1) == Value(True)``.
    """
    return _read_right(value, type(value.value), data_type)


@lru_cache(maxsize=8192)
def _read_right(value: Value, _kind: type, data_type: str | None) -> tuple[str | None, Any]:
    if value.iri:
        return "string", value.value
    dtype = value.datatype or data_type
    if dtype:
        fam = family_of(dtype)
        raw = value.value
        lexical = str(raw).lower() if isinstance(raw, bool) else str(raw)
        return fam, _parse(fam, lexical)
    if isinstance(value.value, bool | int | float):
        return _left(value.value)
    return None, value.value


def _coerce(left: Any, right: Value, data_type: str | None) -> tuple[str, Any, Any]:
    lf, lv = _left(left)
    rf, rv = _right(right, data_type)
    if rf is None:
        return lf, lv, (rv if lf == "string" else _parse(lf, rv))
    if lf == rf:
        return lf, lv, rv
    if lf == "string":
        return rf, _parse(rf, lv), rv
    raise _Mismatch(f"type mismatch: a {_NAMES[lf]} value against a {_NAMES[rf]} operand")


def _order(family: str, left: Any, right: Any) -> int:
    if family in ("dateTime", "number"):
        return (left > right) - (left < right)
    if family == "duration":
        anchors = [x.start for x in (left, right) if isinstance(x, Elapsed)] or _ANCHORS
        try:
            signs = {_sign(_at(left, a), _at(right, a)) for a in anchors}
        except (OverflowError, ValueError):
            raise _Mismatch(f"durations {left} and {right} are out of range") from None
        if len(signs) > 1:
            raise _Mismatch(f"durations {left} and {right} are not comparable")
        return signs.pop()
    raise _Mismatch(f"{_NAMES[family]} values have no order")


def _at(value: Duration | Elapsed, anchor: datetime) -> datetime:
    if isinstance(value, Elapsed):
        return anchor + (value.end - value.start)
    return value.add_to(anchor)


def _sign(a: datetime, b: datetime) -> int:
    return (a > b) - (a < b)


def _equal(left: Any, right: Value, data_type: str | None) -> bool:
    family, lv, rv = _coerce(left, right, data_type)
    if family == "duration":
        try:
            return _order(family, lv, rv) == 0
        except _Mismatch:
            return False
    return bool(lv == rv)


# -- operators ---------------------------------------------------------------------------------

Operator = Callable[[Any, RightOperand, str | None], Outcome]


def _is_collection(value: Any) -> bool:
    return isinstance(value, list | tuple | set | frozenset)


def _lefts(value: Any) -> list[Any]:
    return list(value) if _is_collection(value) else [value]


def _rights(right: RightOperand) -> list[Value]:
    return list(right) if isinstance(right, tuple) else [right]


def _single(left: Any, right: RightOperand) -> Value:
    if _is_collection(left):
        raise _Mismatch("this operator needs a single value, not a list")
    rights = _rights(right)
    if len(rights) != 1:
        raise _Mismatch("this operator needs a single right operand, not a list")
    return rights[0]


def _ordered(test: Callable[[int], bool]) -> Operator:
    def op(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
        family, lv, rv = _coerce(left, _single(left, right), data_type)
        return Outcome(test(_order(family, lv, rv)))

    return op


class _Matrix:
    """Pairwise equality of left values and right values, with any mismatch reasons."""

    def __init__(self, left: Any, right: RightOperand, data_type: str | None) -> None:
        self.lefts, self.rights = _lefts(left), _rights(right)
        self.reasons: list[str] = []
        self.hits = [[self._eq(lv, rv, data_type) for rv in self.rights] for lv in self.lefts]

    def _eq(self, left: Any, right: Value, data_type: str | None) -> bool:
        try:
            return _equal(left, right, data_type)
        except _Mismatch as exc:
            self.reasons.append(str(exc))
            return False

    def every_left_found(self) -> bool:
        return all(any(row) for row in self.hits)

    def every_right_found(self) -> bool:
        return all(any(row[j] for row in self.hits) for j in range(len(self.rights)))

    def any_found(self) -> bool:
        return any(any(row) for row in self.hits)

    def outcome(self, satisfied: bool) -> Outcome:
        return Outcome(satisfied, None if satisfied or not self.reasons else self.reasons[0])


def _eq(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
    if not _is_collection(left) and len(_rights(right)) == 1:
        return Outcome(_equal(left, _rights(right)[0], data_type))
    m = _Matrix(left, right, data_type)
    return m.outcome(m.every_left_found() and m.every_right_found())


def _neq(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
    return Outcome(not _eq(left, right, data_type).satisfied)


def _is_a(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
    if len(_rights(right)) != 1:
        raise _Mismatch("isA needs a single class as right operand")
    m = _Matrix(left, right, data_type)
    return m.outcome(m.any_found())


def _has_part(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
    m = _Matrix(left, right, data_type)
    return m.outcome(m.every_right_found())


def _is_part_of(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
    m = _Matrix(left, right, data_type)
    return m.outcome(m.every_left_found())


def _is_any_of(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
    m = _Matrix(left, right, data_type)
    return m.outcome(m.any_found())


def _is_none_of(left: Any, right: RightOperand, data_type: str | None) -> Outcome:
    m = _Matrix(left, right, data_type)
    if m.reasons:  # fail closed: a value we could not compare might be one of them
        return Outcome(False, m.reasons[0])
    return m.outcome(not m.any_found())


OPERATORS: dict[str, Operator] = {
    ODRL_NS + "eq": _eq,
    ODRL_NS + "neq": _neq,
    ODRL_NS + "lt": _ordered(lambda s: s < 0),
    ODRL_NS + "lteq": _ordered(lambda s: s <= 0),
    ODRL_NS + "gt": _ordered(lambda s: s > 0),
    ODRL_NS + "gteq": _ordered(lambda s: s >= 0),
    ODRL_NS + "isA": _is_a,
    ODRL_NS + "hasPart": _has_part,  # left contains every right value
    ODRL_NS + "isPartOf": _is_part_of,  # every left value is among the right values
    ODRL_NS + "isAllOf": _has_part,  # left is all of the right values
    ODRL_NS + "isAnyOf": _is_any_of,  # some left value is among the right values
    ODRL_NS + "isNoneOf": _is_none_of,  # no left value is among the right values
}


def apply(operator: str, left: Any, right: RightOperand, data_type: str | None = None) -> Outcome:
    """Apply an operator (IRI or short name) to a resolved left value and a right operand."""
    fn = OPERATORS.get(operator) or OPERATORS.get(expand(operator, OPERATOR_NAMES))
    if fn is None:
        return Outcome(False, f"unsupported operator {compact(operator)}")
    try:
        return fn(left, right, data_type)
    except _Mismatch as exc:
        return Outcome(False, str(exc))
    except (ArithmeticError, ValueError, TypeError, OverflowError) as exc:
        return Outcome(False, f"cannot compare: {exc}")


def as_right_operand(obj: Any) -> RightOperand:
    """A right operand from a referenced value: Values, JSON-LD values or Python ones."""
    if isinstance(obj, Value):
        return obj
    if _is_collection(obj):
        items = [as_right_operand(x) for x in _sorted(obj)]
        flat = [v for item in items for v in (item if isinstance(item, tuple) else (item,))]
        if not flat:
            raise ValueError("an empty list")
        return tuple(flat)
    if isinstance(obj, dict) and "@id" in obj:
        return Value(str(obj["@id"]), iri=True)
    if isinstance(obj, dict) and "@value" in obj:
        dtype = obj.get("@type")
        return Value(obj["@value"], expand(dtype) if isinstance(dtype, str) else None)
    if isinstance(obj, bool | int | float | str):
        return Value(obj)
    if isinstance(obj, datetime):
        return Value(render(_left(obj)[1]), XSD_NS + "dateTime")
    if isinstance(obj, date):
        return Value(obj.isoformat(), XSD_NS + "date")
    if isinstance(obj, Decimal):
        return Value(_plain(obj), XSD_NS + "decimal")
    if isinstance(obj, timedelta | Duration):
        return Value(render(obj), XSD_NS + "duration")
    raise ValueError(f"cannot use a {type(obj).__name__} as a right operand")


# -- canonical and display forms ---------------------------------------------------------------


def canonical(value: Value, data_type: str | None = None) -> tuple[str, str]:
    """A key equal for two right-operand values exactly when they are the same RDF value."""
    if value.iri:
        return "iri", str(value.value)
    try:
        fam, typed = _right(value, data_type)
    except _Mismatch:
        return f"literal {value.datatype or data_type}", str(value.value)
    if fam is None:
        return "string", str(value.value)
    if isinstance(typed, datetime):
        typed = typed.astimezone(UTC)
    return fam, render(typed)


def render(value: Any) -> str:
    """A short human form of a value: ISO instants in UTC as ``...Z``, lists in brackets."""
    if isinstance(value, datetime):
        spec = "microseconds" if value.microsecond % 1000 else "milliseconds"
        text = value.isoformat(timespec=spec if value.microsecond else "seconds")
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, Decimal):
        return "0" if value == 0 else _plain(value)
    if isinstance(value, timedelta):
        return str(Duration.of(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Value):
        return str(value)
    if _is_collection(value):
        return "[" + ", ".join(render(v) for v in _sorted(value)) + "]"
    return str(value)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON: non-JSON types become their rendered text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if _is_collection(value):
        return [jsonable(v) for v in _sorted(value)]
    if isinstance(value, Value):
        return value.to_json()
    return render(value)


def _sorted(values: Iterable[Any]) -> list[Any]:
    items = list(values)
    return items if isinstance(values, list | tuple) else sorted(items, key=render)


def _plain(number: Decimal | int) -> str:
    """A decimal without exponent or trailing zeros."""
    return format(Decimal(number).normalize(), "f")
