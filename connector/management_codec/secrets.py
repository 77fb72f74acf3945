"""Secrets: write-mostly vault entries for data-address credentials."""

from __future__ import annotations

from typing import Any

from connector.domain import EDC_NS, Secret, new_urn
from connector.jsonld.processor import JsonLdProcessor
from connector.management_codec.base import Fields, document, expand_body


def parse_secret(body: Any, *, processor: JsonLdProcessor | None = None) -> Secret:
    """A secret: ``@id`` (else a fresh ``urn:uuid``) and a required ``value``."""
    fields = Fields(expand_body(body, processor))
    return Secret(id=fields.id or new_urn(), value=fields.text("value", required=True) or "")


def render_secret(secret: Secret) -> dict[str, Any]:
    """The ``Secret`` object of ``GET /v3/secrets/{id}``."""
    return document(
        {
            "@id": secret.id,
            "@type": [EDC_NS + "Secret"],
            EDC_NS + "value": secret.value,
        }
    )
