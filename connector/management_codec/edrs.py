"""Endpoint data references: the EDR cache entries and their data addresses."""

from __future__ import annotations

from typing import Any

from connector.domain import EDC_NS, EndpointDataReference
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import (
    COMPACTOR,
    RESPONSE_CONTEXT,
    TX_AUTH_NS,
    Fields,
    document,
    edc_iri,
    edc_node,
    expand_body,
)
from connector.management_codec.compact import Compactor

#: Tractus-X token-refresh fields, rendered as ``tx-auth:<name>``.
TX_AUTH_FIELDS = ("refreshToken", "refreshEndpoint", "expiresIn", "refreshAudience", "audience")
_OWN_FIELDS = {"type", "endpoint", "authorization", "endpointType"}

EDR_COMPACTOR = Compactor({**RESPONSE_CONTEXT, "tx-auth": TX_AUTH_NS})


def render_edr_entry(edr: EndpointDataReference) -> dict[str, Any]:
    """One ``EndpointDataReferenceEntry`` of ``POST /v3/edrs/request``."""
    return document(
        {
            "@id": edr.transfer_process_id,
            "@type": [EDC_NS + "EndpointDataReferenceEntry"],
            EDC_NS + "transferProcessId": edr.transfer_process_id,
            EDC_NS + "agreementId": edr.agreement_id,
            EDC_NS + "assetId": edr.asset_id,
            EDC_NS + "providerId": edr.provider_id,
            EDC_NS + "contractNegotiationId": edr.contract_negotiation_id,
            EDC_NS + "createdAt": edr.created_at,
        },
        COMPACTOR,
    )


def _property_iri(key: str) -> str:
    for prefix in ("tx-auth:", TX_AUTH_NS):
        if key.startswith(prefix):
            return TX_AUTH_NS + key[len(prefix) :]
    return TX_AUTH_NS + key if key in TX_AUTH_FIELDS else edc_iri(key)


def render_edr_data_address(edr: EndpointDataReference) -> dict[str, Any]:
    """``GET /v3/edrs/{id}/dataaddress``: endpoint, token and any refresh fields."""
    node: dict[str, Any] = {
        "@type": [EDC_NS + "DataAddress"],
        EDC_NS + "type": edr.endpoint_type,
        EDC_NS + "endpoint": edr.endpoint,
        EDC_NS + "authorization": edr.authorization,
        EDC_NS + "endpointType": edr.endpoint_type,
    }
    extra = edc_node({k: v for k, v in edr.properties.items() if k not in _OWN_FIELDS})
    for key, value in extra.items():
        if not key.startswith("@"):
            node.setdefault(_property_iri(_local(key)), value)
    return document(node, EDR_COMPACTOR)


def _local(iri: str) -> str:
    return iri[len(EDC_NS) :] if iri.startswith(EDC_NS) else iri


def parse_fetch_request(body: Any, *, processor: JsonLdProcessor | None = None) -> str:
    """``POST /v3/edrs/{id}/fetch``: the absolute ``folder`` to download into."""
    return Fields(expand_body(body, processor)).text("folder", required=True) or ""
