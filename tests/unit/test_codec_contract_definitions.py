"""Contract definitions: policies bound to an asset selector."""

from __future__ import annotations

from typing import Any

import pytest

from connector.domain import Asset, ContractDefinition, Criterion
from connector.errors import ValidationFailure
from connector.jsonld import JsonLdProcessor
from connector.management_codec import (
    RESPONSE_CONTEXT,
    parse_contract_definition,
    render_asset,
    render_contract_definition,
)
from connector.query import matches_all

EDC = "https://w3id.org/edc/v0.0.1/ns/"
PROCESSOR = JsonLdProcessor()


def assert_is_compacted_json_ld(doc: dict[str, Any]) -> None:
    assert PROCESSOR.compact(PROCESSOR.expand(doc), doc["@context"]) == doc


BODY = {
    "@context": {"@vocab": EDC},
    "@id": "cd-1",
    "accessPolicyId": "access",
    "contractPolicyId": "usage",
    "assetsSelector": [
        {
            "@type": "Criterion",
            "operandLeft": EDC + "id",
            "operator": "in",
            "operandRight": ["asset-1", "asset-2"],
        },
        {"operandLeft": "properties.version", "operator": "=", "operandRight": "1.0"},
    ],
}


def test_parse() -> None:
    definition = parse_contract_definition(BODY)
    assert definition.id == "cd-1"
    assert (definition.access_policy_id, definition.contract_policy_id) == ("access", "usage")
    assert definition.assets_selector == [
        Criterion(EDC + "id", "in", ["asset-1", "asset-2"]),
        Criterion("properties.version", "=", "1.0"),
    ]


def test_single_criterion_and_single_in_value() -> None:
    body = {
        **BODY,
        "assetsSelector": {"operandLeft": EDC + "id", "operator": "in", "operandRight": "asset-1"},
    }
    assert parse_contract_definition(body).assets_selector == [
        Criterion(EDC + "id", "in", ["asset-1"])
    ]
    body = {k: v for k, v in BODY.items() if k not in ("assetsSelector", "@id")}
    definition = parse_contract_definition(body)
    assert definition.assets_selector == []
    assert definition.id.startswith("urn:uuid:")


def test_management_context_body() -> None:
    body = {
        **BODY,
        "@context": "https://w3id.org/edc/connector/management/v0.0.1",
        "@type": "ContractDefinition",
    }
    assert (
        parse_contract_definition(body).assets_selector
        == parse_contract_definition(BODY).assets_selector
    )


def test_render_matches_edc_and_round_trips() -> None:
    definition = ContractDefinition(
        id="cd-1",
        access_policy_id="access",
        contract_policy_id="usage",
        assets_selector=[Criterion(EDC + "id", "=", "asset-1")],
        created_at=5,
    )
    rendered = render_contract_definition(definition)
    assert rendered == {
        "@context": RESPONSE_CONTEXT,
        "@id": "cd-1",
        "@type": "ContractDefinition",
        "accessPolicyId": "access",
        "contractPolicyId": "usage",
        "assetsSelector": {
            "@type": "Criterion",
            "operandLeft": EDC + "id",
            "operator": "=",
            "operandRight": "asset-1",
        },
        "createdAt": 5,
    }
    assert_is_compacted_json_ld(rendered)
    again = parse_contract_definition(rendered)
    assert again.assets_selector == definition.assets_selector
    full = parse_contract_definition(BODY)
    assert_is_compacted_json_ld(render_contract_definition(full))
    assert parse_contract_definition(render_contract_definition(full)).assets_selector == (
        full.assets_selector
    )


def test_selector_selects_rendered_assets() -> None:
    definition = parse_contract_definition(BODY)
    one = render_asset(
        Asset(id="asset-1", properties={"version": "1.0"}, data_address={"type": "HttpData"})
    )
    three = render_asset(
        Asset(id="asset-3", properties={"version": "1.0"}, data_address={"type": "HttpData"})
    )
    assert matches_all(one, definition.assets_selector)
    assert not matches_all(three, definition.assets_selector)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"accessPolicyId": None}, "accessPolicyId"),
        ({"contractPolicyId": 7}, "contractPolicyId"),
        (
            {"assetsSelector": [{"operandLeft": "a", "operator": "~", "operandRight": 1}]},
            "assetsSelector[0].operator",
        ),
        (
            {"assetsSelector": [{"operator": "=", "operandRight": 1}]},
            "assetsSelector[0].operandLeft",
        ),
        ({"assetsSelector": ["id = 1"]}, "assetsSelector[0]"),
    ],
)
def test_validation_names_the_field(change: dict, path: str) -> None:
    body = {**BODY, **change}
    with pytest.raises(ValidationFailure) as err:
        parse_contract_definition({k: v for k, v in body.items() if v is not None})
    assert err.value.path == path
