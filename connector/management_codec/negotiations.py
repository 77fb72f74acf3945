"""Contract negotiations: requests and counter-offers in, negotiations and agreements out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.domain import (
    EDC_NS,
    KAREZ_NS,
    CallbackAddress,
    ContractAgreement,
    ContractNegotiation,
    Json,
    new_urn,
)
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import (
    DEFAULT_PROTOCOL,
    Fields,
    document,
    expand_body,
    fail,
    peer_address,
)
from connector.management_codec.common import (
    callback_node,
    parse_callback_addresses,
)
from connector.management_codec.common import (
    parse_terminate as parse_terminate,
)
from connector.management_codec.odrl import parse_policy, policy_node

#: DSP state a negotiation is in (or moving to) for each EDC state name.
DSP_STATES = {
    "REQUESTING": "REQUESTED",
    "REQUESTED": "REQUESTED",
    "OFFERING": "OFFERED",
    "OFFERED": "OFFERED",
    "ACCEPTING": "ACCEPTED",
    "ACCEPTED": "ACCEPTED",
    "AGREEING": "AGREED",
    "AGREED": "AGREED",
    "VERIFYING": "VERIFIED",
    "VERIFIED": "VERIFIED",
    "FINALIZING": "FINALIZED",
    "FINALIZED": "FINALIZED",
    "TERMINATING": "TERMINATED",
    "TERMINATED": "TERMINATED",
}


@dataclass
class ContractRequest:
    """``POST /v3/contractnegotiations`` (and Tractus-X ``POST /v3/edrs``)."""

    counter_party_address: str
    counter_party_id: str
    protocol: str
    policy: Json  # DSP compact Offer with @id, target and assigner
    callback_addresses: list[CallbackAddress] = field(default_factory=list)
    private_properties: Json = field(default_factory=dict)


def parse_contract_request(
    body: Any, *, processor: JsonLdProcessor | None = None
) -> ContractRequest:
    """A contract request; ``counterPartyId`` defaults to the offer's assigner."""
    fields = Fields(expand_body(body, processor))
    address = peer_address(fields.text("counterPartyAddress") or fields.text("connectorAddress"))
    policy_fields = fields.child("policy", required=True)
    assert policy_fields is not None
    policy = parse_policy(policy_fields, default_type="Offer")
    policy["@type"] = "Offer"
    if not policy.get("@id"):
        fail("policy.@id", "policy.@id (the offer id from the catalog) is required")
    counter_party_id = fields.text("counterPartyId")
    policy.setdefault("assigner", counter_party_id)
    if not policy.get("assigner"):
        fail("policy.assigner", "policy.assigner (the provider) or counterPartyId is required")
    if not policy.get("target"):
        fail("policy.target", "policy.target (the asset id) is required")
    return ContractRequest(
        counter_party_address=address,
        counter_party_id=counter_party_id or policy["assigner"],
        protocol=fields.text("protocol") or DEFAULT_PROTOCOL,
        policy=policy,
        callback_addresses=parse_callback_addresses(fields),
        private_properties=fields.edc_map("privateProperties"),
    )


def parse_counter(body: Any, *, processor: JsonLdProcessor | None = None) -> Json:
    """The offer of ``POST /v3/contractnegotiations/{id}/counter`` (Karez extension).

    The body is ``{"policy": {...}}`` or the policy itself; the result is a DSP compact Offer
    with a fresh ``urn:uuid`` id when none is given.
    """
    fields = Fields(expand_body(body, processor))
    policy_fields = fields.child("policy") or Fields(fields.node, "")
    policy = parse_policy(policy_fields, default_type="Offer")
    policy["@type"] = "Offer"
    if not policy.get("permission") and not policy.get("prohibition"):
        fail(
            policy_fields.at("permission"),
            "A counter-offer needs at least one permission or prohibition",
        )
    return {"@id": policy.pop("@id", None) or new_urn(), **policy}


def edc_state(state: str) -> str:
    """A state as EDC names it: the upper-case local name (``dspace:REQUESTED`` -> REQUESTED)."""
    local = state.rsplit("/", 1)[-1].rsplit(":", 1)[-1].rsplit("#", 1)[-1]
    return local.upper()


def render_negotiation(negotiation: ContractNegotiation) -> dict[str, Any]:
    """The ``ContractNegotiation`` object, with Karez extras under ``karez:``."""
    state = edc_state(negotiation.state)
    node: dict[str, Any] = {
        "@type": [EDC_NS + "ContractNegotiation"],
        "@id": negotiation.id,
        EDC_NS + "type": negotiation.role,
        EDC_NS + "protocol": negotiation.protocol,
        EDC_NS + "state": state,
        EDC_NS + "counterPartyId": negotiation.counter_party_id,
        EDC_NS + "counterPartyAddress": negotiation.counter_party_address,
        EDC_NS + "callbackAddresses": [callback_node(c) for c in negotiation.callback_addresses],
        EDC_NS + "createdAt": negotiation.created_at,
        EDC_NS + "assetId": negotiation.asset_id,
        EDC_NS + "contractAgreementId": negotiation.agreement_id,
        EDC_NS + "errorDetail": negotiation.error_detail,
        KAREZ_NS + "consumerPid": negotiation.consumer_pid,
        KAREZ_NS + "providerPid": negotiation.provider_pid,
        KAREZ_NS + "dspState": DSP_STATES.get(state),
        KAREZ_NS + "offers": [policy_node(o, default_type="Offer") for o in negotiation.offers],
    }
    if negotiation.decision is not None:
        node[KAREZ_NS + "decision"] = {"@type": "@json", "@value": negotiation.decision}
    return document(node)


def render_negotiation_state(negotiation: ContractNegotiation | str) -> dict[str, Any]:
    """``GET /v3/contractnegotiations/{id}/state``."""
    state = negotiation if isinstance(negotiation, str) else negotiation.state
    return document({"@type": [EDC_NS + "NegotiationState"], EDC_NS + "state": edc_state(state)})


def render_agreement(agreement: ContractAgreement) -> dict[str, Any]:
    """The ``ContractAgreement`` object; ``contractSigningDate`` in epoch seconds, as EDC."""
    return document(
        {
            "@type": [EDC_NS + "ContractAgreement"],
            "@id": agreement.id,
            EDC_NS + "assetId": agreement.asset_id,
            EDC_NS + "policy": policy_node(agreement.policy, default_type="Agreement"),
            EDC_NS + "contractSigningDate": agreement.signing_date // 1000,
            EDC_NS + "consumerId": agreement.consumer_id,
            EDC_NS + "providerId": agreement.provider_id,
        }
    )
