"""Every ODRL operator with every value family, including mismatches."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from connector.policy import Duration, Elapsed, Value, apply
from connector.policy.model import XSD_NS
from connector.policy.operators import (
    as_right_operand,
    canonical,
    jsonable,
    parse_datetime,
    render,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def typed(value: Any, name: str) -> Value:
    return Value(value, XSD_NS + name)


def iri(value: str) -> Value:
    return Value(value, iri=True)


def ok(op: str, left: Any, right: Any, data_type: str | None = None) -> bool:
    outcome = apply(op, left, right, data_type)
    assert outcome.satisfied or outcome.reason is None or isinstance(outcome.reason, str)
    return outcome.satisfied


# -- dateTime and date --------------------------------------------------------------------------

DATETIME_CASES = [
    ("eq", Value("2026-11-25T10:00:00Z"), True),
    ("eq", Value("2026-11-25T11:00:00+01:00"), True),  # same instant, other zone
    ("eq", Value("2026-11-25T10:00:00"), True),  # no zone means UTC
    ("neq", Value("2026-11-25T10:00:01Z"), True),
    ("lt", Value("2026-11-25T10:00:01Z"), True),
    ("lt", Value("2026-11-25T10:00:00Z"), False),
    ("lteq", Value("2026-11-25T10:00Z"), True),  # minutes only, as in the DSP examples
    ("lteq", Value("2023-12-31T06:00Z"), False),
    ("gt", Value("2026-11-25T09:59:59.999Z"), True),
    ("gt", Value("2026-11-25T05:00:00-05:00"), False),  # 10:00Z: equal, not greater
    ("gteq", Value("2026-11-25T05:00:00-05:00"), True),
    ("gteq", typed("2026-11-25T10:00:00.5Z", "dateTime"), False),
    ("lt", typed("2026-11-26", "date"), True),  # a date is its midnight
    ("gt", Value("2026-11-25"), True),
    ("lt", typed("2026-11-25+12:00", "date"), False),  # midnight at +12:00 is 12:00Z the day before
]


@pytest.mark.parametrize("op,right,expected", DATETIME_CASES)
def test_datetime(op: str, right: Value, expected: bool) -> None:
    assert ok(op, NOW, right) is expected


def test_naive_left_datetime_is_utc() -> None:
    assert ok("eq", datetime(2026, 11, 25, 10), Value("2026-11-25T10:00:00Z"))


def test_left_date_and_other_zone() -> None:
    assert ok("eq", date(2026, 11, 25), Value("2026-11-25T00:00:00Z"))
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert ok("eq", tokyo, Value("2026-11-25T10:00:00Z"))


def test_string_left_read_as_typed_right() -> None:
    assert ok("lt", "2026-01-01T00:00:00Z", typed("2026-06-01T00:00:00Z", "dateTime"))


def test_constraint_data_type_applies_to_untyped_values() -> None:
    assert ok("lt", "2026-01-01", Value("2026-06-01"), XSD_NS + "date")
    assert not ok("lt", "2026-01-01", Value("2025-06-01"), XSD_NS + "date")


@pytest.mark.parametrize("op", ["eq", "neq", "lt", "lteq", "gt", "gteq"])
@pytest.mark.parametrize(
    "right",
    [
        Value("tomorrow"),
        Value(5),
        Value(True),
        iri("urn:x"),
        typed("P1D", "duration"),
        typed("nonsense", "dateTime"),
    ],
)
def test_datetime_mismatch_is_not_satisfied_with_reason(op: str, right: Value) -> None:
    outcome = apply(op, NOW, right)
    assert outcome.satisfied is False
    assert outcome.reason


def test_parse_datetime() -> None:
    assert parse_datetime("2023-12-31T06:00Z") == datetime(2023, 12, 31, 6, tzinfo=UTC)
    assert parse_datetime("2023-12-31").tzinfo is UTC
    with pytest.raises(ValueError):
        parse_datetime("31.12.2023")


# -- numbers ------------------------------------------------------------------------------------

NUMBER_CASES = [
    ("eq", 5, Value(5), True),
    ("eq", 5, Value(5.0), True),
    ("eq", 5, Value("5"), True),  # untyped string read as a number
    ("eq", 5, typed("5.00", "decimal"), True),
    ("eq", 5, typed("5", "integer"), True),
    ("eq", 0.1, typed("0.1", "double"), True),
    ("neq", 5, Value(6), True),
    ("lt", 5, Value(6), True),
    ("lt", 5, Value(5), False),
    ("lteq", Decimal("5.0"), Value(5), True),
    ("gt", 7, typed("6.5", "decimal"), True),
    ("gt", 7, typed("1E1", "double"), False),
    ("gteq", 10, typed("1E1", "double"), True),
    ("lt", 1e300, typed("INF", "double"), True),
    ("gteq", "12", Value(10), True),  # a numeric string claim against a number
]


@pytest.mark.parametrize("op,left,right,expected", NUMBER_CASES)
def test_numbers(op: str, left: Any, right: Value, expected: bool) -> None:
    assert ok(op, left, right) is expected


@pytest.mark.parametrize("op", ["eq", "neq", "lt", "lteq", "gt", "gteq"])
@pytest.mark.parametrize(
    "left,right",
    [
        (5, Value("five")),
        (5, Value("1_000")),
        (5, typed("abc", "integer")),
        (5, Value("2026-01-01T00:00:00Z")),
        ("five", Value(5)),
        (NOW, Value(5)),
        (float("nan"), Value(5)),
        (5, iri("urn:five")),
        (object(), Value(5)),
        (None, Value(5)),
    ],
)
def test_number_mismatch(op: str, left: Any, right: Value) -> None:
    outcome = apply(op, left, right)
    assert outcome.satisfied is False and outcome.reason


# -- durations ----------------------------------------------------------------------------------

DURATION_CASES = [
    ("eq", Duration.parse("P1D"), Value("PT24H"), True),
    ("eq", timedelta(days=1), typed("P1D", "duration"), True),
    ("neq", timedelta(days=1), Value("PT23H"), True),
    ("lt", timedelta(hours=23), Value("P1D"), True),
    ("lteq", timedelta(days=30), Value("P30D"), True),
    ("gt", timedelta(days=400), Value("P1Y"), True),  # comparable at every reference instant
    ("gteq", timedelta(days=2), Value("P1DT23H59M59.5S"), True),
    ("lt", Duration.parse("P1M"), Value("P32D"), True),
    ("gt", Duration.parse("P1Y"), Value("P11M"), True),
    ("lt", Duration.parse("-P1D"), Value("PT0S"), True),
    ("lt", Duration.parse("P2W"), Value("P15D"), True),
]


@pytest.mark.parametrize("op,left,right,expected", DURATION_CASES)
def test_durations(op: str, left: Any, right: Value, expected: bool) -> None:
    assert ok(op, left, right) is expected


def test_durations_that_xsd_cannot_order_are_not_satisfied() -> None:
    outcome = apply("lt", Duration.parse("P1M"), Value("P30D"))
    assert outcome.satisfied is False and "not comparable" in (outcome.reason or "")
    assert apply("eq", Duration.parse("P1M"), Value("P30D")).satisfied is False


def test_elapsed_time_is_measured_from_its_start() -> None:
    # 31 Jan + P1M is 28 Feb (day clamped); 1 Mar is later
    elapsed = Elapsed(datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    assert str(elapsed) == "P29D"
    assert ok("gt", elapsed, Value("P1M"))
    assert not ok("lteq", elapsed, Value("P1M"))
    assert ok("lteq", elapsed, Value("P1Y"))
    assert ok("lt", elapsed, Value("P30D"))


@pytest.mark.parametrize("text", ["P", "PT", "P1YT", "1D", "P1.5D", "P-1D", "PT1H2"])
def test_bad_durations_are_mismatches(text: str) -> None:
    with pytest.raises(ValueError):
        Duration.parse(text)
    assert apply("lt", timedelta(hours=1), Value(text)).satisfied is False


def test_duration_text() -> None:
    assert str(Duration.parse("P1Y2M3DT4H5M6.5S")) == "P1Y2M3DT4H5M6.5S"
    assert str(Duration.parse("-P1W")) == "-P7D"
    assert str(Duration()) == "PT0S"
    assert Duration.parse("P1Y").add_to(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(
        2025, 2, 28, tzinfo=UTC
    )


# -- strings, IRIs, booleans --------------------------------------------------------------------


@pytest.mark.parametrize(
    "op,left,right,expected",
    [
        ("eq", "research", Value("research"), True),
        ("eq", "research", Value("Research"), False),
        ("neq", "research", Value("marketing"), True),
        ("eq", "did:web:a", iri("did:web:a"), True),
        ("eq", "did:web:a", iri("did:web:b"), False),
        ("neq", "did:web:a", iri("did:web:b"), True),
        ("eq", "x", typed("x", "string"), True),
        ("eq", True, Value(True), True),
        ("eq", True, typed("1", "boolean"), True),
        ("eq", False, Value("false"), True),
        ("neq", False, Value(True), True),
        ("eq", "true", Value(True), True),
        ("eq", "EU", Value("_:EU"), False),
    ],
)
def test_strings_iris_booleans(op: str, left: Any, right: Value, expected: bool) -> None:
    assert ok(op, left, right) is expected


@pytest.mark.parametrize("op", ["lt", "lteq", "gt", "gteq"])
@pytest.mark.parametrize("left,right", [("b", Value("a")), (True, Value(False))])
def test_strings_and_booleans_have_no_order(op: str, left: Any, right: Value) -> None:
    outcome = apply(op, left, right)
    assert outcome.satisfied is False and "no order" in (outcome.reason or "")


def test_boolean_mismatch() -> None:
    assert apply("eq", True, Value("yes")).reason


# -- lists and sets -----------------------------------------------------------------------------

EU = (Value("DE"), Value("FR"), Value("NL"))


@pytest.mark.parametrize(
    "op,left,right,expected",
    [
        ("isAnyOf", "DE", EU, True),
        ("isAnyOf", "US", EU, False),
        ("isAnyOf", ["US", "FR"], EU, True),
        ("isAnyOf", [], EU, False),
        ("isNoneOf", "US", EU, True),
        ("isNoneOf", "DE", EU, False),
        ("isNoneOf", ["US", "CN"], EU, True),
        ("isNoneOf", [], EU, True),
        ("isAllOf", ["DE", "FR", "NL", "US"], EU, True),
        ("isAllOf", ["DE", "FR"], EU, False),
        ("isAllOf", "DE", Value("DE"), True),
        ("hasPart", ["a", "b", "c"], (Value("a"), Value("c")), True),
        ("hasPart", ["a", "b"], Value("c"), False),
        ("hasPart", {"a", "b"}, Value("b"), True),
        ("isPartOf", ["DE", "FR"], EU, True),
        ("isPartOf", ["DE", "US"], EU, False),
        ("isPartOf", "NL", EU, True),
        ("isA", "https://ex.org/Researcher", iri("https://ex.org/Researcher"), True),
        (
            "isA",
            ["https://ex.org/Person", "https://ex.org/Researcher"],
            iri("https://ex.org/Researcher"),
            True,
        ),
        ("isA", "https://ex.org/Person", iri("https://ex.org/Researcher"), False),
        ("eq", ["a", "b"], (Value("b"), Value("a")), True),  # set equality
        ("eq", ["a", "b"], (Value("a"),), False),
        ("eq", ["a"], Value("a"), True),
        ("neq", ["a", "b"], (Value("a"),), True),
        ("eq", "a", (Value("a"),), True),  # a one-element list is a single value
        ("isAnyOf", 3, (Value(1), Value("3"), Value(5)), True),
        ("isAnyOf", NOW, (Value("2026-11-25T10:00Z"),), True),
        ("isAnyOf", timedelta(days=1), (Value("PT24H"),), True),
    ],
)
def test_set_operators(op: str, left: Any, right: Any, expected: bool) -> None:
    assert ok(op, left, right) is expected


def test_set_mismatches() -> None:
    # a value that cannot be compared might be one of them: isNoneOf fails closed
    outcome = apply("isNoneOf", 5, (Value("five"), Value(6)))
    assert outcome.satisfied is False and outcome.reason
    outcome = apply("isAnyOf", 5, (Value("five"),))
    assert outcome.satisfied is False and "five" in (outcome.reason or "")
    assert apply("isAnyOf", 5, (Value("five"), Value(5))).satisfied is True
    assert apply("isA", "x", (Value("a"), Value("b"))).satisfied is False


@pytest.mark.parametrize("op", ["lt", "lteq", "gt", "gteq"])
def test_ordering_needs_single_values(op: str) -> None:
    assert apply(op, [1, 2], Value(3)).reason
    assert apply(op, 1, (Value(2), Value(3))).reason


def test_unknown_operator() -> None:
    outcome = apply("odrl:smaller", 1, Value(2))
    assert outcome.satisfied is False and "unsupported operator" in (outcome.reason or "")


@pytest.mark.parametrize("op", ["eq", "odrl:eq", "http://www.w3.org/ns/odrl/2/eq"])
def test_operator_names(op: str) -> None:
    assert apply(op, 1, Value(1)).satisfied


# -- canonical and display forms ----------------------------------------------------------------


def test_canonical_values() -> None:
    assert canonical(Value(5)) == canonical(typed("5.0", "decimal")) == ("number", "5")
    assert canonical(Value("x")) == canonical(typed("x", "string"))
    assert canonical(Value("5")) != canonical(Value(5))
    assert canonical(typed("2023-12-31T07:00+01:00", "dateTime")) == canonical(
        typed("2023-12-31T06:00:00Z", "dateTime")
    )
    assert canonical(Value("2023-12-31")) != canonical(typed("2023-12-31", "date"))
    assert canonical(Value("2023-12-31"), XSD_NS + "date") == canonical(typed("2023-12-31", "date"))
    assert canonical(typed("P1D", "duration")) == canonical(typed("PT24H", "duration"))
    assert canonical(iri("urn:a"))[0] == "iri"
    assert canonical(typed("zz", "integer"))[0].startswith("literal")


def test_render_and_jsonable() -> None:
    assert render(NOW) == "2026-11-25T10:00:00Z"
    assert render(Decimal("5.50")) == "5.5"
    assert render(Decimal("-0")) == "0"
    assert render(True) == "true"
    assert render({"b", "a"}) == "[a, b]"
    assert jsonable({"t": NOW, "n": [1, Decimal(2)], "d": timedelta(hours=1)}) == {
        "t": "2026-11-25T10:00:00Z",
        "n": [1, "2"],
        "d": "PT1H",
    }


def test_cached_right_operands_keep_their_python_type() -> None:
    # Value(1) == Value(True) as dataclasses; the parse cache must not mix them up
    assert ok("eq", True, Value(True)) and ok("eq", 1, Value(1))
    assert not ok("eq", 1, Value(True)) and not ok("eq", True, Value(1))


@pytest.mark.parametrize(
    "given,expected",
    [
        ("x", Value("x")),
        (5, Value(5)),
        ({"@id": "urn:a"}, iri("urn:a")),
        ({"@value": "5", "@type": "xsd:integer"}, typed("5", "integer")),
        (NOW, typed("2026-11-25T10:00:00Z", "dateTime")),
        (date(2026, 1, 2), typed("2026-01-02", "date")),
        (Decimal("2.50"), typed("2.5", "decimal")),
        (timedelta(days=2), typed("P2D", "duration")),
        (["b", Value("a")], (Value("b"), Value("a"))),
        ({"b", "a"}, (Value("a"), Value("b"))),
    ],
)
def test_as_right_operand(given: Any, expected: Any) -> None:
    assert as_right_operand(given) == expected


@pytest.mark.parametrize("given", [[], object(), {"x": 1}])
def test_as_right_operand_rejects(given: Any) -> None:
    with pytest.raises(ValueError):
        as_right_operand(given)
