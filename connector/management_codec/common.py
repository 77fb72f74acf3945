"""Shapes shared by several resources, and the codec's common entry points.

Callback addresses, the ``IdResponse`` of create calls, the ``reason`` of terminate and suspend
bodies; ``parse_query_spec`` and ``render_error`` are re-exported so that the API layer finds
everything it needs for any resource here.
"""

from __future__ import annotations

from typing import Any

from connector.domain import EDC_NS, CallbackAddress
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import (
    DEFAULT_PROTOCOL,
    RESPONSE_CONTEXT,
    Fields,
    document,
    expand_body,
)
from connector.management_codec.errors import render_error, render_exception
from connector.management_codec.query_spec import parse_query_spec

__all__ = [
    "DEFAULT_PROTOCOL",
    "RESPONSE_CONTEXT",
    "callback_node",
    "parse_callback_addresses",
    "parse_query_spec",
    "parse_terminate",
    "render_error",
    "render_exception",
    "render_id_response",
]


# --- callback addresses -------------------------------------------------------------------------


def parse_callback_addresses(fields: Fields) -> list[CallbackAddress]:
    """``callbackAddresses``: [{uri, events, transactional, authKey, authCodeId}]."""
    out = []
    for cb in fields.children("callbackAddresses"):
        out.append(
            CallbackAddress(
                uri=cb.text("uri", required=True) or "",
                events=cb.strings("events"),
                transactional=bool(cb.boolean("transactional")),
                auth_key=cb.text("authKey"),
                auth_code_id=cb.text("authCodeId"),
            )
        )
    return out


def callback_node(cb: CallbackAddress) -> dict[str, Any]:
    """A callback address as EDC renders it (IRI-keyed)."""
    return {
        "@type": [EDC_NS + "CallbackAddress"],
        EDC_NS + "transactional": cb.transactional,
        EDC_NS + "uri": cb.uri,
        EDC_NS + "events": list(cb.events),
        EDC_NS + "authKey": cb.auth_key,
        EDC_NS + "authCodeId": cb.auth_code_id,
    }


# --- small shared shapes ------------------------------------------------------------------------


def render_id_response(id: str, created_at: int) -> dict[str, Any]:
    """The ``IdResponse`` every create call answers with (``createdAt`` in epoch ms)."""
    return document({"@id": id, "@type": [EDC_NS + "IdResponse"], EDC_NS + "createdAt": created_at})


def parse_terminate(
    body: Any, *, required: bool = True, processor: JsonLdProcessor | None = None
) -> str | None:
    """``reason`` of a TerminateNegotiation / TerminateTransfer / SuspendTransfer body."""
    return Fields(expand_body(body, processor)).text("reason", required=required)
