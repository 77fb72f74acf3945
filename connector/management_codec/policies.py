"""Policy definitions: an ODRL policy (stored in DSP compact form) under an id."""

from __future__ import annotations

from typing import Any

from connector.domain import EDC_NS, PolicyDefinition, new_urn
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import Fields, document, edc_node, expand_body
from connector.management_codec.odrl import parse_policy, policy_node


def parse_policy_definition(
    body: Any, *, processor: JsonLdProcessor | None = None
) -> PolicyDefinition:
    """A policy definition; the policy gets ``@type`` Set and a ``urn:uuid`` id if it has none."""
    fields = Fields(expand_body(body, processor))
    policy_fields = fields.child("policy", required=True)
    assert policy_fields is not None
    policy = parse_policy(policy_fields, default_type="Set")
    policy = {"@id": policy.pop("@id", None) or new_urn(), **policy}
    return PolicyDefinition(
        id=fields.id or new_urn(),
        policy=policy,
        private_properties=fields.edc_map("privateProperties"),
    )


def render_policy_definition(definition: PolicyDefinition) -> dict[str, Any]:
    """The ``PolicyDefinition`` object of ``GET /v3/policydefinitions/{id}``."""
    node: dict[str, Any] = {
        "@id": definition.id,
        "@type": [EDC_NS + "PolicyDefinition"],
        EDC_NS + "createdAt": definition.created_at,
        EDC_NS + "policy": policy_node(definition.policy, default_type="Set"),
    }
    if definition.private_properties:
        node[EDC_NS + "privateProperties"] = edc_node(definition.private_properties)
    return document(node)
