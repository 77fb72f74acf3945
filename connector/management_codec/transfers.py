"""Transfer processes: transfer requests in, ``TransferProcess`` objects out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.domain import CONSUMER, EDC_NS, KAREZ_NS, CallbackAddress, Json, TransferProcess
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.assets import data_address_node
from connector.management_codec.base import (
    DEFAULT_PROTOCOL,
    Fields,
    document,
    edc_node,
    expand_body,
    fail,
    peer_address,
)
from connector.management_codec.common import (
    callback_node,
    parse_callback_addresses,
)
from connector.management_codec.negotiations import edc_state


@dataclass
class TransferRequest:
    """``POST /v3/transferprocesses``."""

    counter_party_address: str
    contract_id: str
    transfer_type: str
    protocol: str = DEFAULT_PROTOCOL
    data_destination: Json | None = None
    private_properties: Json = field(default_factory=dict)
    callback_addresses: list[CallbackAddress] = field(default_factory=list)
    asset_id: str | None = None
    counter_party_id: str | None = None


def _transfer_type(fields: Fields, destination: Json | None) -> str:
    given = fields.text("transferType")
    if given:
        return given
    kind = (destination or {}).get("type")
    if kind == "HttpProxy":  # EDC 0.5 clients asked for a pull this way
        return "HttpData-PULL"
    if isinstance(kind, str) and kind:
        return f"{kind}-PUSH"
    return fail("transferType", "transferType is required (e.g. HttpData-PULL)")


def parse_transfer_request(
    body: Any, *, processor: JsonLdProcessor | None = None
) -> TransferRequest:
    """A transfer request; ``dataDestination`` (for push) must carry a ``type``."""
    fields = Fields(expand_body(body, processor))
    address = peer_address(fields.text("counterPartyAddress") or fields.text("connectorAddress"))
    destination_fields = fields.child("dataDestination")
    destination = None
    if destination_fields is not None:
        destination_fields.text("type", required=True)
        destination = destination_fields.as_edc_map()
    return TransferRequest(
        counter_party_address=address,
        contract_id=fields.text("contractId", required=True) or "",
        transfer_type=_transfer_type(fields, destination),
        protocol=fields.text("protocol") or DEFAULT_PROTOCOL,
        data_destination=destination,
        private_properties=fields.edc_map("privateProperties"),
        callback_addresses=parse_callback_addresses(fields),
        asset_id=fields.text("assetId"),
        counter_party_id=fields.text("counterPartyId") or fields.text("connectorId"),
    )


def render_transfer(transfer: TransferProcess) -> dict[str, Any]:
    """The ``TransferProcess`` object, with Karez extras under ``karez:``."""
    correlation = transfer.provider_pid if transfer.role == CONSUMER else transfer.consumer_pid
    node: dict[str, Any] = {
        "@id": transfer.id,
        "@type": [EDC_NS + "TransferProcess"],
        EDC_NS + "correlationId": correlation,
        EDC_NS + "state": edc_state(transfer.state),
        EDC_NS + "stateTimestamp": transfer.updated_at,
        EDC_NS + "type": transfer.role,
        EDC_NS + "assetId": transfer.asset_id,
        EDC_NS + "contractId": transfer.agreement_id,
        EDC_NS + "callbackAddresses": [callback_node(c) for c in transfer.callback_addresses],
        EDC_NS + "transferType": transfer.transfer_type,
        EDC_NS + "errorDetail": transfer.error_detail,
        EDC_NS + "createdAt": transfer.created_at,
        KAREZ_NS + "consumerPid": transfer.consumer_pid,
        KAREZ_NS + "providerPid": transfer.provider_pid,
        KAREZ_NS + "counterPartyId": transfer.counter_party_id,
        KAREZ_NS + "counterPartyAddress": transfer.counter_party_address,
        KAREZ_NS + "protocol": transfer.protocol,
    }
    if transfer.sha256 is not None:
        node[KAREZ_NS + "sha256"] = transfer.sha256
        node[KAREZ_NS + "byteSize"] = transfer.byte_size
    if transfer.fetch:
        node[KAREZ_NS + "fetch"] = {KAREZ_NS + k: v for k, v in transfer.fetch.items()}
    if transfer.received:
        node[KAREZ_NS + "received"] = [
            {KAREZ_NS + k: v for k, v in entry.items()} for entry in transfer.received
        ]
    if transfer.data_destination is not None:
        node[EDC_NS + "dataDestination"] = data_address_node(transfer.data_destination)
    if transfer.private_properties:
        node[EDC_NS + "privateProperties"] = edc_node(transfer.private_properties)
    return document(node)


def render_transfer_state(transfer: TransferProcess | str) -> dict[str, Any]:
    """``GET /v3/transferprocesses/{id}/state``."""
    state = transfer if isinstance(transfer, str) else transfer.state
    return document({"@type": [EDC_NS + "TransferState"], EDC_NS + "state": edc_state(state)})
