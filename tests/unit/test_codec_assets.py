"""Assets: every body shape EDC clients send, validation paths, EDC's rendering."""

from __future__ import annotations

from typing import Any

import pytest

from connector.domain import Asset, Criterion
from connector.errors import UnknownContext, ValidationFailure
from connector.jsonld import JsonLdProcessor
from connector.management_codec import RESPONSE_CONTEXT, parse_asset, render_asset
from connector.query import QuerySpec, apply

EDC = "https://w3id.org/edc/v0.0.1/ns/"
DCT = "http://purl.org/dc/terms/"
PROCESSOR = JsonLdProcessor()


def assert_is_compacted_json_ld(doc: dict[str, Any]) -> None:
    """The rendering is exactly what a JSON-LD processor's compaction gives for it."""
    assert PROCESSOR.compact(PROCESSOR.expand(doc), doc["@context"]) == doc


EXPECTED = {
    "properties": {
        "name": "product description",
        "contenttype": "application/json",
        DCT + "type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
    },
    "data_address": {
        "type": "HttpData",
        "baseUrl": "https://jsonplaceholder.typicode.com/users",
        "proxyPath": "true",
    },
}

BODIES = {
    "vocab": {
        "@context": {"@vocab": EDC, "dct": DCT},
        "@id": "asset-1",
        "properties": {
            "name": "product description",
            "contenttype": "application/json",
            "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
        },
        "dataAddress": {
            "@type": "DataAddress",
            "type": "HttpData",
            "baseUrl": "https://jsonplaceholder.typicode.com/users",
            "proxyPath": "true",
        },
    },
    "edc-prefix": {
        "@context": {"edc": EDC, "dct": DCT},
        "@id": "asset-1",
        "edc:properties": {
            "edc:name": "product description",
            "edc:contenttype": "application/json",
            "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
        },
        "edc:dataAddress": {
            "@type": "edc:DataAddress",
            "edc:type": "HttpData",
            "edc:baseUrl": "https://jsonplaceholder.typicode.com/users",
            "edc:proxyPath": "true",
        },
    },
    "management-context": {
        "@context": ["https://w3id.org/edc/connector/management/v0.0.1", {"dct": DCT}],
        "@type": "Asset",
        "@id": "asset-1",
        "properties": {
            "name": "product description",
            "contenttype": "application/json",
            "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
        },
        "dataAddress": {
            "@type": "DataAddress",
            "type": "HttpData",
            "baseUrl": "https://jsonplaceholder.typicode.com/users",
            "proxyPath": "true",
        },
    },
    "tractusx-edc-context": {
        "@context": ["https://w3id.org/edc/v0.0.1", {"dct": DCT}],
        "@id": "asset-1",
        "properties": {
            "name": "product description",
            "contenttype": "application/json",
            "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
        },
        "dataAddress": {
            "@type": "DataAddress",
            "type": "HttpData",
            "baseUrl": "https://jsonplaceholder.typicode.com/users",
            "proxyPath": "true",
        },
    },
    "no-context": {
        "@id": "asset-1",
        "properties": {
            "name": "product description",
            "contenttype": "application/json",
            DCT + "type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
        },
        "dataAddress": {
            "type": "HttpData",
            "baseUrl": "https://jsonplaceholder.typicode.com/users",
            "proxyPath": "true",
        },
    },
    "expanded": [
        {
            "@id": "asset-1",
            EDC + "properties": [
                {
                    EDC + "name": [{"@value": "product description"}],
                    EDC + "contenttype": [{"@value": "application/json"}],
                    DCT + "type": [{"@id": "https://w3id.org/catenax/taxonomy#Submodel"}],
                }
            ],
            EDC + "dataAddress": [
                {
                    "@type": [EDC + "DataAddress"],
                    EDC + "type": [{"@value": "HttpData"}],
                    EDC + "baseUrl": [{"@value": "https://jsonplaceholder.typicode.com/users"}],
                    EDC + "proxyPath": [{"@value": "true"}],
                }
            ],
        }
    ],
}


@pytest.mark.parametrize("name", list(BODIES))
def test_parse_every_client_shape(name: str) -> None:
    asset = parse_asset(BODIES[name])
    assert asset.id == "asset-1"
    assert asset.properties == EXPECTED["properties"]
    assert asset.data_address == EXPECTED["data_address"]
    assert asset.private_properties == {}


def test_id_is_generated_or_taken_from_legacy_property() -> None:
    body = {k: v for k, v in BODIES["vocab"].items() if k != "@id"}
    assert parse_asset(body).id.startswith("urn:uuid:")
    legacy = {**body, "properties": {"id": "legacy-1", "name": "x"}}
    assert parse_asset(legacy).id == "legacy-1"


def test_nested_values_lists_and_private_properties() -> None:
    body = {
        "@context": {"@vocab": EDC},
        "@id": "a",
        "properties": {
            "tags": ["a", "b"],
            "size": 5,
            "public": True,
            "owner": {"name": "ACME", "country": "DE"},
        },
        "privateProperties": {"secretKey": "vault-alias"},
        "dataAddress": {"type": "AmazonS3", "region": "eu-central-1"},
    }
    asset = parse_asset(body)
    assert asset.properties == {
        "tags": ["a", "b"],
        "size": 5,
        "public": True,
        "owner": {"name": "ACME", "country": "DE"},
    }
    assert asset.private_properties == {"secretKey": "vault-alias"}
    rendered = render_asset(asset)
    assert rendered["properties"]["owner"] == {"name": "ACME", "country": "DE"}
    assert rendered["privateProperties"] == {"secretKey": "vault-alias"}
    assert_is_compacted_json_ld(rendered)
    again = parse_asset(rendered)
    assert (again.properties, again.private_properties, again.data_address) == (
        asset.properties,
        asset.private_properties,
        asset.data_address,
    )


def test_render_matches_edc() -> None:
    asset = Asset(
        id="asset-1",
        properties=EXPECTED["properties"],
        data_address=EXPECTED["data_address"],
        created_at=1700000000000,
    )
    assert render_asset(asset) == {
        "@context": RESPONSE_CONTEXT,
        "@id": "asset-1",
        "@type": "Asset",
        "properties": {
            "name": "product description",
            "contenttype": "application/json",
            "dct:type": {"@id": "https://w3id.org/catenax/taxonomy#Submodel"},
        },
        "dataAddress": {
            "@type": "DataAddress",
            "type": "HttpData",
            "baseUrl": "https://jsonplaceholder.typicode.com/users",
            "proxyPath": "true",
        },
        "createdAt": 1700000000000,
    }


@pytest.mark.parametrize("name", list(BODIES))
def test_round_trip(name: str) -> None:
    asset = parse_asset(BODIES[name])
    rendered = render_asset(asset)
    assert_is_compacted_json_ld(rendered)
    again = parse_asset(rendered)
    assert (again.id, again.properties, again.data_address) == (
        asset.id,
        asset.properties,
        asset.data_address,
    )


def test_rendered_assets_are_queryable() -> None:
    rendered = [
        render_asset(parse_asset(BODIES["vocab"])),
        render_asset(
            Asset(id="other", properties={"name": "x"}, data_address={"type": "AmazonS3"})
        ),
    ]
    for left, right in [
        ("https://w3id.org/edc/v0.0.1/ns/id", "asset-1"),
        ("properties.name", "product description"),
        ("'http://purl.org/dc/terms/type'.'@id'", "https://w3id.org/catenax/taxonomy#Submodel"),
        ("dataAddress.type", "HttpData"),
    ]:
        spec = QuerySpec(filter_expression=[Criterion(left, "=", right)])
        assert [a["@id"] for a in apply(rendered, spec)] == ["asset-1"], left


@pytest.mark.parametrize(
    ("body", "path", "invalid"),
    [
        ({"@id": "a", "properties": {}}, "dataAddress", None),
        ({"@id": "a", "dataAddress": {"baseUrl": "x"}}, "dataAddress.type", None),
        ({"@id": "a", "dataAddress": {"type": 5}}, "dataAddress.type", 5),
        ({"@id": "a", "dataAddress": {"type": "  "}}, "dataAddress.type", "  "),
        ({"@id": "a", "dataAddress": "HttpData"}, "dataAddress", "HttpData"),
        ({"@id": "a", "dataAddress": {"type": ["A", "B"]}}, "dataAddress.type", ["A", "B"]),
        ({"@id": "a", "properties": "x", "dataAddress": {"type": "HttpData"}}, "properties", "x"),
        (
            {
                "@id": "a",
                "properties": {"k": 1},
                "privateProperties": {"k": 2},
                "dataAddress": {"type": "HttpData"},
            },
            "privateProperties.k",
            "k",
        ),
    ],
)
def test_validation_names_the_field(body: dict, path: str, invalid: Any) -> None:
    with pytest.raises(ValidationFailure) as err:
        parse_asset({"@context": {"@vocab": EDC}, **body})
    assert err.value.path == path
    assert err.value.invalid_value == invalid


@pytest.mark.parametrize("body", [None, [], "asset", 5, ["x"]])
def test_bodies_that_are_not_objects(body: Any) -> None:
    with pytest.raises(ValidationFailure):
        parse_asset(body)


def test_unknown_context_is_refused() -> None:
    with pytest.raises(UnknownContext):
        parse_asset({**BODIES["vocab"], "@context": "https://example.com/my-context"})
