"""The entities a node keeps: plain dataclasses, shared by the store and the services.

Conventions for JSON-valued fields:

* ``properties`` / ``private_properties`` / ``data_address`` are "EDC-compact" maps: a key in
  the EDC namespace (``https://w3id.org/edc/v0.0.1/ns/``) is its local name (``name``,
  ``baseUrl``, ``type``); any other key is a full IRI. Values are plain JSON (literals
  unwrapped, references as ``{"@id": ...}``).
* Policies (``policy``, ``offers``, ``agreement``) are ODRL in the DSP 2025-1 compact form:
  ``{"@id", "@type": "Offer"|"Agreement"|"Set", "permission": [{"action": "use",
  "constraint": [{"leftOperand", "operator", "rightOperand"}]}], ...}``; terms outside the
  ODRL profile context are full IRIs.
* Times are epoch milliseconds (UTC) in the store; ``now_ms()`` gives the current one.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

EDC_NS = "https://w3id.org/edc/v0.0.1/ns/"
KAREZ_NS = "https://w3id.org/karez/ns/"
DSPACE_NS = "https://w3id.org/dspace/2025/1/"
ODRL_NS = "http://www.w3.org/ns/odrl/2/"

CONSUMER = "CONSUMER"
PROVIDER = "PROVIDER"

Json = dict[str, Any]


def now_ms() -> int:
    return int(time.time() * 1000)


def new_urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


@dataclass
class Asset:
    id: str
    properties: Json = field(default_factory=dict)
    private_properties: Json = field(default_factory=dict)
    data_address: Json = field(default_factory=dict)
    created_at: int = field(default_factory=now_ms)


@dataclass
class PolicyDefinition:
    id: str
    policy: Json
    private_properties: Json = field(default_factory=dict)
    created_at: int = field(default_factory=now_ms)


@dataclass
class Criterion:
    operand_left: str
    operator: str
    operand_right: Any


@dataclass
class ContractDefinition:
    id: str
    access_policy_id: str
    contract_policy_id: str
    assets_selector: list[Criterion] = field(default_factory=list)
    private_properties: Json = field(default_factory=dict)
    created_at: int = field(default_factory=now_ms)


@dataclass
class CallbackAddress:
    uri: str
    events: list[str] = field(default_factory=list)
    transactional: bool = False
    auth_key: str | None = None
    auth_code_id: str | None = None


@dataclass
class ContractAgreement:
    id: str
    provider_id: str
    consumer_id: str
    asset_id: str
    policy: Json  # the ODRL Agreement as agreed (compact form, with assigner/assignee/target)
    signing_date: int = field(default_factory=now_ms)
    negotiation_id: str | None = None


@dataclass
class ContractNegotiation:
    """One side's copy of a negotiation. ``id`` is this node's own process id."""

    id: str
    role: str  # CONSUMER or PROVIDER
    state: str  # connector.protocol.negotiation.NegotiationState value
    counter_party_id: str
    counter_party_address: str  # DSP base of the peer (consumer) or its callbackAddress (provider)
    consumer_pid: str | None = None
    provider_pid: str | None = None
    protocol: str = "dataspace-protocol-http:2025-1"
    asset_id: str | None = None
    offers: list[Json] = field(default_factory=list)  # offer history, last is current
    last_offer_by: str | None = None  # CONSUMER or PROVIDER: who made the current offer
    agreement_id: str | None = None
    callback_addresses: list[CallbackAddress] = field(default_factory=list)
    private_properties: Json = field(default_factory=dict)
    error_detail: str | None = None
    decision: Json | None = None  # the provider's full policy decision record
    contract_definition_id: str | None = None
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)
    state_count: int = 0
    edr: bool = False  # started through POST /v3/edrs: start a pull once FINALIZED
    version: int = 0  # optimistic concurrency: bumped on every update


@dataclass
class TransferProcess:
    id: str
    role: str
    state: str  # connector.protocol.transfer.TransferState value
    counter_party_id: str
    counter_party_address: str
    agreement_id: str
    transfer_type: str  # e.g. HttpData-PULL
    consumer_pid: str | None = None
    provider_pid: str | None = None
    protocol: str = "dataspace-protocol-http:2025-1"
    asset_id: str | None = None
    data_destination: Json | None = None  # consumer's push destination, as its operator gave it
    push_address: Json | None = None  # push: the DSP DataAddress the provider pushes to
    content_data_address: Json | None = None  # provider: where the data comes from
    callback_addresses: list[CallbackAddress] = field(default_factory=list)
    private_properties: Json = field(default_factory=dict)
    error_detail: str | None = None
    sha256: str | None = None  # of the data sent (provider) or as the provider stated it
    byte_size: int | None = None  # bytes sent, likewise
    received: list[Json] = field(default_factory=list)  # consumer: files written (path, sha256)
    stream_cursor: Json = field(default_factory=dict)  # provider: how far a stream has sent
    fetch: Json | None = None  # consumer: a pull Karez downloads into a folder (folder, state)
    created_at: int = field(default_factory=now_ms)
    updated_at: int = field(default_factory=now_ms)
    state_count: int = 0
    version: int = 0


@dataclass
class EndpointDataReference:
    """Consumer side: the data address a provider sent in a TransferStartMessage."""

    transfer_process_id: str
    agreement_id: str
    asset_id: str | None
    provider_id: str
    contract_negotiation_id: str | None
    endpoint: str
    authorization: str
    endpoint_type: str = "https://w3id.org/idsa/v4.1/HTTP"
    properties: Json = field(default_factory=dict)  # any further endpoint properties
    created_at: int = field(default_factory=now_ms)


@dataclass
class OutboxMessage:
    """A protocol message waiting to be sent to a peer (persisted, retried with back-off)."""

    id: str
    process_id: str  # negotiation or transfer id (this node's)
    process_kind: str  # "negotiation" | "transfer" | "callback"
    message_type: str  # DSP @type, or "callback"
    url: str
    body: Json
    counter_party_id: str | None = None
    attempts: int = 0
    next_attempt_at: int = field(default_factory=now_ms)
    created_at: int = field(default_factory=now_ms)
    last_error: str | None = None
    lease_owner: str | None = None
    lease_until: int | None = None


@dataclass
class AgreementRetirement:
    """An agreement retired before its terms ended (Tractus-X's agreement retirement): no
    transfer under it starts, and running ones stop."""

    id: str  # the agreement's id
    reason: str
    retired_at: int = field(default_factory=now_ms)
    created_at: int = field(default_factory=now_ms)


@dataclass
class ParticipantClaims:
    """The claims last verified for a participant (from its credentials, DCP mode)."""

    id: str  # the participant's DID
    claims: dict[str, Any]
    verified_at: int = field(default_factory=now_ms)
    created_at: int = field(default_factory=now_ms)


@dataclass
class Secret:
    id: str
    value: str
    created_at: int = field(default_factory=now_ms)
