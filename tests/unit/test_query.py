"""QuerySpec: operators, operand paths, sorting, paging, validation."""

from __future__ import annotations

import pytest

from connector.domain import Criterion
from connector.errors import ValidationFailure
from connector.query import QuerySpec, apply, field_values, matches, matches_all

ASSETS = [
    {
        "@id": "asset-1",
        "@type": "Asset",
        "properties": {
            "name": "Engine data",
            "version": "1.0",
            "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
            "keywords": ["engine", "telemetry"],
            "size": 10,
        },
        "createdAt": 300,
    },
    {
        "@id": "asset-2",
        "@type": "Asset",
        "properties": {
            "name": "Gearbox data",
            "version": "2.0",
            "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Other"},
            "keywords": "gearbox",
            "size": {"@value": 2},
            "https://example.com/ns/region": "EU",
        },
        "createdAt": 100,
    },
    {
        "@id": "asset-3",
        "@type": "Asset",
        "properties": {"name": "misc"},
        "createdAt": 200,
    },
]

NEGOTIATIONS = [
    {"@id": "n1", "state": "FINALIZED", "contractAgreementId": "agr-1", "counterPartyId": "BPNL1"},
    {"@id": "n2", "state": "REQUESTED", "counterPartyId": "BPNL2"},
]
TRANSFERS = [
    {"@id": "t1", "state": "STARTED", "contractId": "agr-1", "assetId": "asset-1"},
    {"@id": "t2", "state": "COMPLETED", "contractId": "agr-2", "assetId": "asset-2"},
]


def ids(items: list[dict]) -> list[str]:
    return [item["@id"] for item in items]


def select(items: list[dict], left: str, op: str, right: object) -> list[str]:
    return ids(apply(items, QuerySpec(filter_expression=[Criterion(left, op, right)])))


@pytest.mark.parametrize(
    "left",
    [
        "state",
        "edc:state",
        "https://w3id.org/edc/v0.0.1/ns/state",
        "'edc:state'",
        "'https://w3id.org/edc/v0.0.1/ns/state'",
    ],
)
def test_field_name_spellings(left: str) -> None:
    assert select(NEGOTIATIONS, left, "=", "FINALIZED") == ["n1"]


@pytest.mark.parametrize(
    "left",
    [
        "id",
        "@id",
        "https://w3id.org/edc/v0.0.1/ns/id",
        "edc:id",
    ],
)
def test_id_spellings(left: str) -> None:
    assert select(ASSETS, left, "=", "asset-2") == ["asset-2"]


@pytest.mark.parametrize(
    "left",
    [
        "properties.name",
        "name",
        "https://w3id.org/edc/v0.0.1/ns/name",
        "properties.'https://w3id.org/edc/v0.0.1/ns/name'",
        "'properties'.'name'",
    ],
)
def test_property_paths(left: str) -> None:
    assert select(ASSETS, left, "=", "Engine data") == ["asset-1"]


@pytest.mark.parametrize(
    "left",
    [
        "'http://purl.org/dc/terms/type'.'@id'",
        "properties.'http://purl.org/dc/terms/type'.'@id'",
        "'dct:type'.'@id'",
        "http://purl.org/dc/terms/type",  # a reference compares as its @id
    ],
)
def test_iri_paths_into_references(left: str) -> None:
    assert select(ASSETS, left, "=", "https://w3id.org/catenax/taxonomy#Submodel") == ["asset-1"]


def test_unquoted_iri_with_dots_in_properties() -> None:
    assert select(ASSETS, "https://example.com/ns/region", "=", "EU") == ["asset-2"]


def test_agreement_id_aliases() -> None:
    for name in ("contractAgreementId", "contractId", "agreementId"):
        assert select(TRANSFERS, name, "=", "agr-1") == ["t1"]
        assert select(NEGOTIATIONS, name, "=", "agr-1") == ["n1"]


def test_operators() -> None:
    assert select(NEGOTIATIONS, "state", "!=", "FINALIZED") == ["n2"]
    assert select(NEGOTIATIONS, "contractAgreementId", "!=", "agr-1") == ["n2"]  # missing
    assert select(NEGOTIATIONS, "state", "in", ["REQUESTED", "AGREED"]) == ["n2"]
    assert select(NEGOTIATIONS, "state", "IN", "REQUESTED") == ["n2"]
    assert select(ASSETS, "properties.name", "like", "%data") == ["asset-1", "asset-2"]
    assert select(ASSETS, "properties.name", "like", "engine%") == []
    assert select(ASSETS, "properties.name", "ilike", "engine%") == ["asset-1"]
    assert select(ASSETS, "properties.name", "like", "m_sc") == ["asset-3"]
    assert select(ASSETS, "properties.name", "like", "m.sc") == []  # regex chars are literal
    assert select(ASSETS, "properties.keywords", "contains", "engine") == ["asset-1"]
    assert select(ASSETS, "properties.keywords", "=", "telemetry") == ["asset-1"]
    assert select(ASSETS, "properties.name", "contains", "box") == ["asset-2"]
    assert select(ASSETS, "createdAt", ">", 150) == ["asset-1", "asset-3"]
    assert select(ASSETS, "createdAt", ">=", "200") == ["asset-1", "asset-3"]
    assert select(ASSETS, "createdAt", "<", 200) == ["asset-2"]
    assert select(ASSETS, "createdAt", "<=", 200) == ["asset-2", "asset-3"]
    assert select(ASSETS, "properties.size", "<", 5) == ["asset-2"]  # @value unwrapped
    assert select(ASSETS, "properties.version", ">", "1.5") == ["asset-2"]
    assert select(ASSETS, "properties.size", "=", "10") == ["asset-1"]
    assert select(ASSETS, "properties.name", ">", 5) == []  # incomparable: no match


def test_missing_fields_match_nothing_but_not_equal() -> None:
    assert select(ASSETS, "properties.nothing", "=", None) == []
    assert select(ASSETS, "properties.nothing", "like", "%") == []
    assert select(ASSETS, "properties.nothing", "!=", "x") == ["asset-1", "asset-2", "asset-3"]


def test_criteria_are_anded() -> None:
    spec = QuerySpec(
        filter_expression=[
            Criterion("properties.name", "like", "%data"),
            Criterion("createdAt", "<", 200),
        ]
    )
    assert ids(apply(ASSETS, spec)) == ["asset-2"]
    assert matches_all(ASSETS[0], [])
    assert matches(ASSETS[0], Criterion("id", "=", "asset-1"))


def test_sort_with_missing_values_last() -> None:
    asc = apply(ASSETS, QuerySpec(sort_field="properties.version"))
    assert ids(asc) == ["asset-1", "asset-2", "asset-3"]
    desc = apply(ASSETS, QuerySpec(sort_field="properties.version", sort_order="desc"))
    assert ids(desc) == ["asset-2", "asset-1", "asset-3"]
    assert ids(apply(ASSETS, QuerySpec(sort_field="createdAt"))) == [
        "asset-2",
        "asset-3",
        "asset-1",
    ]
    assert ids(apply(ASSETS, QuerySpec(sort_field="createdAt", sort_order="DESC"))) == [
        "asset-1",
        "asset-3",
        "asset-2",
    ]


def test_numbers_sort_numerically() -> None:
    items = [{"@id": str(n), "n": n} for n in (10, 9, 100)]
    assert ids(apply(items, QuerySpec(sort_field="n"))) == ["9", "10", "100"]


def test_paging() -> None:
    assert ids(apply(ASSETS, QuerySpec(offset=1, limit=1))) == ["asset-2"]
    assert ids(apply(ASSETS, QuerySpec(offset=5))) == []
    assert len(apply([{"@id": str(i)} for i in range(80)], QuerySpec())) == 50


def test_field_values_unwraps_and_flattens() -> None:
    assert field_values(ASSETS[0], "properties.keywords") == ["engine", "telemetry"]
    assert field_values(ASSETS[1], "properties.size") == [2]
    assert field_values(ASSETS[2], "properties.size") == []


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": -5}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": "3"}, "offset"),
        ({"sort_order": "UP"}, "sortOrder"),
        ({"sort_field": ""}, "sortField"),
        (
            {"filter_expression": [Criterion("a", "=", 1), Criterion("b", "~", 1)]},
            "filterExpression[1].operator",
        ),
        ({"filter_expression": [Criterion("", "=", 1)]}, "filterExpression[0].operandLeft"),
    ],
)
def test_validation_names_the_field(kwargs: dict, path: str) -> None:
    with pytest.raises(ValidationFailure) as err:
        QuerySpec(**kwargs)
    assert err.value.path == path
    assert err.value.invalid_value is not None
