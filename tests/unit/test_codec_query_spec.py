"""QuerySpec bodies of the ``…/request`` endpoints."""

from __future__ import annotations

import pytest

from connector.domain import Criterion
from connector.errors import ValidationFailure
from connector.management_codec import parse_query_spec
from connector.management_codec.query_spec import render_query_spec
from connector.query import QuerySpec

EDC = "https://w3id.org/edc/v0.0.1/ns/"


@pytest.mark.parametrize("body", [None, {}, [], {"@context": {"@vocab": EDC}}])
def test_empty_bodies_mean_defaults(body: object) -> None:
    assert parse_query_spec(body) == QuerySpec()


@pytest.mark.parametrize(
    "body",
    [
        {
            "@context": {"@vocab": EDC},
            "@type": "QuerySpec",
            "offset": 5,
            "limit": 10,
            "sortOrder": "DESC",
            "sortField": "createdAt",
            "filterExpression": [
                {"operandLeft": "state", "operator": "=", "operandRight": "STARTED"}
            ],
        },
        {
            "@context": {"edc": EDC},
            "edc:offset": 5,
            "edc:limit": 10,
            "edc:sortOrder": "desc",
            "edc:sortField": "createdAt",
            "edc:filterExpression": {
                "edc:operandLeft": "state",
                "edc:operator": "=",
                "edc:operandRight": "STARTED",
            },
        },
        {
            "@context": "https://w3id.org/edc/connector/management/v0.0.1",
            "@type": "QuerySpec",
            "offset": "5",
            "limit": 10.0,
            "sortOrder": "DESC",
            "sortField": "createdAt",
            "filterExpression": [
                {"operandLeft": "state", "operator": "=", "operandRight": "STARTED"}
            ],
        },
        {
            "offset": 5,
            "limit": 10,
            "sortOrder": "DESC",
            "sortField": "createdAt",
            "filterExpression": [
                {"operandLeft": "state", "operator": "=", "operandRight": "STARTED"}
            ],
        },
    ],
)
def test_parse_client_shapes(body: dict) -> None:
    assert parse_query_spec(body) == QuerySpec(
        offset=5,
        limit=10,
        sort_order="DESC",
        sort_field="createdAt",
        filter_expression=[Criterion("state", "=", "STARTED")],
    )


def test_operand_right_values() -> None:
    body = {
        "filterExpression": [
            {"operandLeft": "state", "operator": "in", "operandRight": ["A", "B"]},
            {"operandLeft": "state", "operator": "in", "operandRight": "A"},
            {"operandLeft": "createdAt", "operator": ">", "operandRight": 5},
            {"operandLeft": "flag", "operator": "=", "operandRight": True},
        ]
    }
    assert [c.operand_right for c in parse_query_spec(body).filter_expression] == [
        ["A", "B"],
        ["A"],
        5,
        True,
    ]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"offset": -1}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"sortOrder": "SIDEWAYS"}, "sortOrder"),
        ({"sortOrder": 5}, "sortOrder"),
        (
            {"filterExpression": [{"operandLeft": "a", "operator": "~~", "operandRight": 1}]},
            "filterExpression[0].operator",
        ),
        (
            {"filterExpression": [{"operandLeft": "a", "operandRight": 1}]},
            "filterExpression[0].operator",
        ),
    ],
)
def test_validation_names_the_field(body: dict, path: str) -> None:
    with pytest.raises(ValidationFailure) as err:
        parse_query_spec(body)
    assert err.value.path == path


def test_render_round_trips() -> None:
    spec = QuerySpec(
        offset=2,
        limit=3,
        sort_order="DESC",
        sort_field="x",
        filter_expression=[Criterion("a", "in", ["x", "y"])],
    )
    assert parse_query_spec(render_query_spec(spec)) == spec
