"""Catalog and dataset requests; catalogs re-compacted for the Management API."""

from __future__ import annotations

import pytest

from connector.domain import Criterion
from connector.errors import ValidationFailure
from connector.management_codec import (
    RESPONSE_CONTEXT,
    parse_catalog_request,
    parse_dataset_request,
    render_catalog,
)
from connector.query import QuerySpec

EDC = "https://w3id.org/edc/v0.0.1/ns/"


def test_catalog_request() -> None:
    request = parse_catalog_request(
        {
            "@context": {"@vocab": EDC},
            "@type": "CatalogRequest",
            "counterPartyAddress": "https://provider.example/api/dsp",
            "counterPartyId": "BPNL000000000001",
            "protocol": "dataspace-protocol-http",
            "querySpec": {
                "offset": 0,
                "limit": 5,
                "filterExpression": [
                    {
                        "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                        "operator": "=",
                        "operandRight": "asset-1",
                    }
                ],
            },
            "additionalScopes": ["org.eclipse.edc.vc.type:SomeCredential:read"],
        }
    )
    assert request.counter_party_address == "https://provider.example/api/dsp"
    assert request.counter_party_id == "BPNL000000000001"
    assert request.protocol == "dataspace-protocol-http"
    assert request.query_spec == QuerySpec(
        limit=5, filter_expression=[Criterion(EDC + "id", "=", "asset-1")]
    )
    assert request.additional_scopes == ["org.eclipse.edc.vc.type:SomeCredential:read"]


def test_catalog_request_defaults_and_legacy_provider_url() -> None:
    request = parse_catalog_request(
        {"@context": {"edc": EDC}, "edc:providerUrl": "https://p.example/dsp"}
    )
    assert request.counter_party_address == "https://p.example/dsp"
    assert request.counter_party_id is None
    assert request.protocol == "dataspace-protocol-http:2025-1"
    assert request.query_spec == QuerySpec()


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"protocol": "dataspace-protocol-http"}, "counterPartyAddress"),
        ({"counterPartyAddress": 5}, "counterPartyAddress"),
        ({"counterPartyAddress": "https://p", "querySpec": {"limit": -1}}, "querySpec.limit"),
        ({"counterPartyAddress": "https://p", "querySpec": "all"}, "querySpec"),
    ],
)
def test_catalog_request_validation(body: dict, path: str) -> None:
    with pytest.raises(ValidationFailure) as err:
        parse_catalog_request(body)
    assert err.value.path == path


def test_dataset_request() -> None:
    request = parse_dataset_request(
        {
            "@context": {"@vocab": EDC},
            "@type": "DatasetRequest",
            "@id": "asset-1",
            "counterPartyAddress": "https://p.example/dsp",
            "counterPartyId": "did:web:p",
            "protocol": "dataspace-protocol-http:2025-1",
        }
    )
    assert (request.dataset_id, request.counter_party_address, request.counter_party_id) == (
        "asset-1",
        "https://p.example/dsp",
        "did:web:p",
    )
    with pytest.raises(ValidationFailure) as err:
        parse_dataset_request({"counterPartyAddress": "https://p"})
    assert err.value.path == "@id"


def test_render_catalog_uses_edc_prefixes() -> None:
    catalog = {
        "@context": ["https://w3id.org/dspace/2025/1/context.jsonld"],
        "@id": "urn:uuid:cat",
        "@type": "Catalog",
        "participantId": "did:web:provider",
        "dataset": [
            {
                "@id": "asset-1",
                "@type": "Dataset",
                "hasPolicy": [
                    {"@id": "offer-1", "@type": "Offer", "permission": [{"action": "use"}]}
                ],
                "distribution": [
                    {
                        "@type": "Distribution",
                        "format": "HttpData-PULL",
                        "accessService": {"@id": "urn:svc"},
                    }
                ],
            }
        ],
    }
    rendered = render_catalog(catalog)
    assert rendered["@context"] == RESPONSE_CONTEXT
    assert rendered["@type"] == "dcat:Catalog"
    assert rendered["dspace:participantId"] == {"@id": "did:web:provider"}
    dataset = rendered["dcat:dataset"]
    assert dataset["@id"] == "asset-1"
    assert dataset["odrl:hasPolicy"]["@type"] == "odrl:Offer"
    assert dataset["odrl:hasPolicy"]["odrl:permission"]["odrl:action"] == {"@id": "odrl:use"}
    assert dataset["dcat:distribution"]["dct:format"] == {"@id": "HttpData-PULL"}
