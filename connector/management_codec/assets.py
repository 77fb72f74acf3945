"""Assets: ``POST/PUT /v3/assets`` bodies in, ``Asset`` objects out."""

from __future__ import annotations

from typing import Any

from connector.domain import EDC_NS, Asset, new_urn
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import Fields, document, edc_node, expand_body, fail


def parse_asset(body: Any, *, processor: JsonLdProcessor | None = None) -> Asset:
    """An asset; ``@id`` (or a legacy ``properties.id``) or else a fresh ``urn:uuid``."""
    fields = Fields(expand_body(body, processor))
    properties = fields.edc_map("properties")
    private = fields.edc_map("privateProperties")
    for key in private:
        if key in properties:
            fail(
                f"privateProperties.{key}",
                "A key may not be both a property and a private property",
                key,
            )
    address = fields.child("dataAddress", required=True)
    assert address is not None
    address.text("type", required=True)
    legacy_id = properties.get("id")
    asset_id = fields.id or (legacy_id if isinstance(legacy_id, str) and legacy_id else None)
    return Asset(
        id=asset_id or new_urn(),
        properties=properties,
        private_properties=private,
        data_address=address.as_edc_map(),
    )


def data_address_node(address: dict[str, Any]) -> dict[str, Any]:
    """An EDC-compact data address as EDC renders it (``@type`` DataAddress)."""
    return {"@type": [EDC_NS + "DataAddress"], **edc_node(address)}


def render_asset(asset: Asset) -> dict[str, Any]:
    """The ``Asset`` object of ``GET /v3/assets/{id}`` and ``/request``."""
    node: dict[str, Any] = {
        "@id": asset.id,
        "@type": [EDC_NS + "Asset"],
        EDC_NS + "properties": edc_node(asset.properties),
    }
    if asset.private_properties:
        node[EDC_NS + "privateProperties"] = edc_node(asset.private_properties)
    node[EDC_NS + "dataAddress"] = data_address_node(asset.data_address)
    node[EDC_NS + "createdAt"] = asset.created_at
    return document(node)
