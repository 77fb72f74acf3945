"""Outbound catalog requests (``POST /v3/catalog/request``, ``/v3/catalog/dataset/request``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.jsonld.processor import JsonLdProcessor, default_processor
from connector.management_codec.base import (
    DEFAULT_PROTOCOL,
    RESPONSE_CONTEXT,
    Fields,
    expand_body,
    fail,
    peer_address,
)
from connector.management_codec.query_spec import query_spec_from
from connector.query import QuerySpec


@dataclass
class CatalogRequest:
    counter_party_address: str
    counter_party_id: str | None = None
    protocol: str = DEFAULT_PROTOCOL
    query_spec: QuerySpec = field(default_factory=QuerySpec)
    additional_scopes: list[str] = field(default_factory=list)


@dataclass
class DatasetRequest:
    dataset_id: str
    counter_party_address: str
    counter_party_id: str | None = None
    protocol: str = DEFAULT_PROTOCOL


def _address(fields: Fields) -> str:
    address = peer_address(fields.text("counterPartyAddress") or fields.text("providerUrl"))
    return address


def parse_catalog_request(body: Any, *, processor: JsonLdProcessor | None = None) -> CatalogRequest:
    """Where to ask (``counterPartyAddress``, ``counterPartyId``, ``protocol``) and what."""
    fields = Fields(expand_body(body, processor))
    query = fields.child("querySpec")
    return CatalogRequest(
        counter_party_address=_address(fields),
        counter_party_id=fields.text("counterPartyId"),
        protocol=fields.text("protocol") or DEFAULT_PROTOCOL,
        query_spec=QuerySpec() if query is None else query_spec_from(query),
        additional_scopes=fields.strings("additionalScopes"),
    )


def parse_dataset_request(body: Any, *, processor: JsonLdProcessor | None = None) -> DatasetRequest:
    """A dataset request: the dataset ``@id`` plus where to ask."""
    fields = Fields(expand_body(body, processor))
    if not fields.id:
        fail("@id", "@id (the dataset id) is required")
    return DatasetRequest(
        dataset_id=fields.id,
        counter_party_address=_address(fields),
        counter_party_id=fields.text("counterPartyId"),
        protocol=fields.text("protocol") or DEFAULT_PROTOCOL,
    )


def render_catalog(
    catalog: dict[str, Any], *, processor: JsonLdProcessor | None = None
) -> dict[str, Any]:
    """A peer's DSP catalog (or dataset) re-compacted with the Management API context."""
    return (processor or default_processor()).compact(_with_odrl_terms(catalog), RESPONSE_CONTEXT)


ODRL_CONTEXT = "http://www.w3.org/ns/odrl.jsonld"


def _with_odrl_terms(document: dict[str, Any]) -> dict[str, Any]:
    """Read a DSP document with the W3C ODRL context underneath the DSP one: the DSP context
    defines only part of ODRL, and terms such as ``unit``, ``refinement`` or ``payAmount``
    would otherwise be dropped on the way to the Management API."""
    context = document.get("@context")
    if context is None:
        return document
    contexts = context if isinstance(context, list) else [context]
    if ODRL_CONTEXT in contexts:
        return document
    return {**document, "@context": [ODRL_CONTEXT, *contexts]}
