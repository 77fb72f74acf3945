"""Contract definitions: access policy + contract policy bound to an asset selector."""

from __future__ import annotations

from typing import Any

from connector.domain import EDC_NS, ContractDefinition, new_urn
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import Fields, document, edc_node, expand_body
from connector.management_codec.query_spec import criterion_node, parse_criteria


def parse_contract_definition(
    body: Any, *, processor: JsonLdProcessor | None = None
) -> ContractDefinition:
    """A contract definition; an empty ``assetsSelector`` selects every asset."""
    fields = Fields(expand_body(body, processor))
    return ContractDefinition(
        id=fields.id or new_urn(),
        access_policy_id=fields.text("accessPolicyId", required=True) or "",
        contract_policy_id=fields.text("contractPolicyId", required=True) or "",
        assets_selector=parse_criteria(fields, "assetsSelector"),
        private_properties=fields.edc_map("privateProperties"),
    )


def render_contract_definition(definition: ContractDefinition) -> dict[str, Any]:
    """The ``ContractDefinition`` object of ``GET /v3/contractdefinitions/{id}``."""
    node: dict[str, Any] = {
        "@id": definition.id,
        "@type": [EDC_NS + "ContractDefinition"],
        EDC_NS + "accessPolicyId": definition.access_policy_id,
        EDC_NS + "contractPolicyId": definition.contract_policy_id,
        EDC_NS + "assetsSelector": [criterion_node(c) for c in definition.assets_selector],
    }
    if definition.private_properties:
        node[EDC_NS + "privateProperties"] = edc_node(definition.private_properties)
    node[EDC_NS + "createdAt"] = definition.created_at
    return document(node)
