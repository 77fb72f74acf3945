"""EDR cache entries and their data addresses (with Tractus-X refresh fields)."""

from __future__ import annotations

from typing import Any

from connector.domain import Criterion, EndpointDataReference
from connector.jsonld import JsonLdProcessor
from connector.management_codec import RESPONSE_CONTEXT, render_edr_data_address, render_edr_entry
from connector.query import QuerySpec, apply

PROCESSOR = JsonLdProcessor()
TX_AUTH = "https://w3id.org/tractusx/auth/"


def assert_is_compacted_json_ld(doc: dict[str, Any]) -> None:
    assert PROCESSOR.compact(PROCESSOR.expand(doc), doc["@context"]) == doc


def edr(**kw: Any) -> EndpointDataReference:
    fields: dict[str, Any] = dict(
        transfer_process_id="t1",
        agreement_id="agr-1",
        asset_id="asset-1",
        provider_id="BPNL1",
        contract_negotiation_id="n1",
        endpoint="https://p/public",
        authorization="eyJtoken",
        created_at=7,
    )
    fields.update(kw)
    return EndpointDataReference(**fields)


def test_entry_matches_edc() -> None:
    rendered = render_edr_entry(edr())
    assert rendered == {
        "@context": RESPONSE_CONTEXT,
        "@id": "t1",
        "@type": "EndpointDataReferenceEntry",
        "transferProcessId": "t1",
        "agreementId": "agr-1",
        "assetId": "asset-1",
        "providerId": "BPNL1",
        "contractNegotiationId": "n1",
        "createdAt": 7,
    }
    assert_is_compacted_json_ld(rendered)


def test_entries_are_queryable_the_tractusx_way() -> None:
    items = [
        render_edr_entry(edr()),
        render_edr_entry(
            edr(
                transfer_process_id="t2",
                agreement_id="agr-2",
                asset_id="asset-2",
                contract_negotiation_id="n2",
            )
        ),
    ]
    for left, right in [
        ("contractNegotiationId", "n2"),
        ("agreementId", "agr-2"),
        ("assetId", "asset-2"),
        ("contractAgreementId", "agr-2"),
    ]:
        spec = QuerySpec(filter_expression=[Criterion(left, "=", right)])
        assert [e["@id"] for e in apply(items, spec)] == ["t2"], left


def test_data_address_plain() -> None:
    rendered = render_edr_data_address(edr())
    assert {k: v for k, v in rendered.items() if k != "@context"} == {
        "@type": "DataAddress",
        "type": "https://w3id.org/idsa/v4.1/HTTP",
        "endpoint": "https://p/public",
        "authorization": "eyJtoken",
        "endpointType": "https://w3id.org/idsa/v4.1/HTTP",
    }
    assert_is_compacted_json_ld(rendered)


def test_data_address_with_refresh_fields() -> None:
    rendered = render_edr_data_address(
        edr(
            properties={
                "refreshToken": "r-token",
                TX_AUTH + "refreshEndpoint": "https://p/token",
                "tx-auth:expiresIn": "300",
                "refreshAudience": "did:web:consumer",
                "authType": "bearer",
                "endpoint": "https://ignored",
            }
        )
    )
    assert rendered["@context"] == {**RESPONSE_CONTEXT, "tx-auth": TX_AUTH}
    assert rendered["tx-auth:refreshToken"] == "r-token"
    assert rendered["tx-auth:refreshEndpoint"] == "https://p/token"
    assert rendered["tx-auth:expiresIn"] == "300"
    assert rendered["tx-auth:refreshAudience"] == "did:web:consumer"
    assert rendered["authType"] == "bearer"
    assert rendered["endpoint"] == "https://p/public"
    assert_is_compacted_json_ld(rendered)
