"""Callbacks to the operator's own systems on state changes, as EDC's ``callbackAddresses``.

A callback address lists event names or prefixes (``contract.negotiation``,
``transfer.process.started``); an empty list means every event. Each event becomes an outbox
message (process kind ``callback``) written in the same transaction as the state change, so
it is delivered, with retries, even across a crash.
"""

from __future__ import annotations

import uuid
from typing import Any

from connector.domain import CallbackAddress, OutboxMessage, now_ms

NEGOTIATION_EVENTS = {
    "REQUESTED": "requested",
    "OFFERED": "offered",
    "ACCEPTED": "accepted",
    "AGREED": "agreed",
    "VERIFIED": "verified",
    "FINALIZED": "finalized",
    "TERMINATED": "terminated",
}
TRANSFER_EVENTS = {
    "REQUESTED": "requested",
    "STARTED": "started",
    "SUSPENDED": "suspended",
    "COMPLETED": "completed",
    "TERMINATED": "terminated",
}


def event_name(kind: str, state: str) -> str | None:
    """``contract.negotiation.finalized`` etc., or None for states that raise no event."""
    if kind == "negotiation" and state in NEGOTIATION_EVENTS:
        return f"contract.negotiation.{NEGOTIATION_EVENTS[state]}"
    if kind == "transfer" and state in TRANSFER_EVENTS:
        return f"transfer.process.{TRANSFER_EVENTS[state]}"
    return None


def _camel(name: str) -> str:
    """``contract.negotiation.finalized`` -> ``ContractNegotiationFinalized``."""
    return "".join(part.capitalize() for part in name.split("."))


def wants(address: CallbackAddress, name: str) -> bool:
    if not address.events:
        return True
    return any(name == e or name.startswith(e.rstrip(".") + ".") for e in address.events)


def callback_messages(
    kind: str,
    process_id: str,
    state: str,
    addresses: list[CallbackAddress],
    payload: dict[str, Any],
) -> list[OutboxMessage]:
    """Outbox messages for every callback address interested in this state change."""
    name = event_name(kind, state)
    if name is None:
        return []
    out = []
    for address in addresses:
        if not wants(address, name):
            continue
        # the secret is named, never copied: the worker reads it when it sends
        auth = None
        if address.auth_key and address.auth_code_id:
            auth = {"header": address.auth_key, "secret": address.auth_code_id}
        event = {"id": str(uuid.uuid4()), "at": now_ms(), "type": _camel(name), "payload": payload}
        out.append(
            OutboxMessage(
                id=str(uuid.uuid4()),
                process_id=process_id,
                process_kind="callback",
                message_type=name,
                url=address.uri,
                body={"event": event, "auth": auth},
            )
        )
    return out
