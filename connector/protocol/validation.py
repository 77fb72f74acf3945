"""Validate DSP 2025-1 messages against the official JSON Schemas, offline.

The schemas are bundled in ``schemas/2025-1/`` (see its ``SOURCE.md``). They are read and their
validators built once, on first use; the ``$id`` prefix ``https://w3id.org/dspace/2025/1/`` is
resolved from the bundled files, never from the network.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft201909Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

from connector.errors import ValidationFailure
from connector.protocol.schemacheck import Check, Compiler, Unsupported

SCHEMA_BASE = "https://w3id.org/dspace/2025/1/"
SCHEMA_DIR = Path(__file__).parent / "schemas" / "2025-1"

# DSP type name -> (schema file under SCHEMA_DIR, JSON pointer inside it or "").
_SCHEMAS: dict[str, tuple[str, str]] = {
    "ContractRequestMessage": ("negotiation/contract-request-message-schema.json", ""),
    "ContractOfferMessage": ("negotiation/contract-offer-message-schema.json", ""),
    "ContractAgreementMessage": ("negotiation/contract-agreement-message-schema.json", ""),
    "ContractAgreementVerificationMessage": (
        "negotiation/contract-agreement-verification-message-schema.json",
        "",
    ),
    "ContractNegotiationEventMessage": (
        "negotiation/contract-negotiation-event-message-schema.json",
        "",
    ),
    "ContractNegotiationTerminationMessage": (
        "negotiation/contract-negotiation-termination-message-schema.json",
        "",
    ),
    "ContractNegotiation": ("negotiation/contract-negotiation-schema.json", ""),
    "ContractNegotiationError": ("negotiation/contract-negotiation-error-schema.json", ""),
    "TransferRequestMessage": ("transfer/transfer-request-message-schema.json", ""),
    "TransferStartMessage": ("transfer/transfer-start-message-schema.json", ""),
    "TransferSuspensionMessage": ("transfer/transfer-suspension-message-schema.json", ""),
    "TransferCompletionMessage": ("transfer/transfer-completion-message-schema.json", ""),
    "TransferTerminationMessage": ("transfer/transfer-termination-message-schema.json", ""),
    "TransferProcess": ("transfer/transfer-process-schema.json", ""),
    "TransferError": ("transfer/transfer-error-schema.json", ""),
    "CatalogRequestMessage": ("catalog/catalog-request-message-schema.json", ""),
    "DatasetRequestMessage": ("catalog/dataset-request-message-schema.json", ""),
    "Catalog": ("catalog/catalog-schema.json", ""),
    "Dataset": ("catalog/dataset-schema.json", ""),
    "CatalogError": ("catalog/catalog-error-schema.json", ""),
    "VersionResponse": ("common/protocol-version-schema.json", ""),
    "DidService": ("common/did-service-schema.json", ""),
    # Fragments (no @context of their own), for checking parts of a message.
    "DataAddress": ("transfer/data-address-schema.json", ""),
    "Agreement": ("negotiation/contract-schema.json", "/definitions/Agreement"),
    "Offer": ("negotiation/contract-schema.json", "/definitions/Offer"),
    "MessageOffer": ("negotiation/contract-schema.json", "/definitions/MessageOffer"),
}

MESSAGE_TYPES: frozenset[str] = frozenset(_SCHEMAS)
"""Every type name ``validate`` knows."""

FRAGMENT_TYPES: frozenset[str] = frozenset({"DataAddress", "Agreement", "Offer", "MessageOffer"})
"""Types that are parts of messages, without ``@context`` or a schema-fixed ``@type``."""

UNTYPED_MESSAGES: frozenset[str] = frozenset({"VersionResponse", "DidService"})
"""Top-level documents that carry no DSP ``@type`` (the DID entry has its own ``@context``)."""

_MAX_MESSAGE = 300


def _fix_refs(node: Any) -> Any:
    """Rewrite the upstream ``#definitions/`` typo to ``#/definitions/`` (in memory)."""
    if isinstance(node, dict):
        out = {key: _fix_refs(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and "#definitions/" in ref:
            out["$ref"] = ref.replace("#definitions/", "#/definitions/")
        return out
    if isinstance(node, list):
        return [_fix_refs(item) for item in node]
    return node


def _offline(uri: str) -> Resource:
    raise NoSuchResource(ref=uri)


@cache
def _documents() -> dict[str, dict[str, Any]]:
    """Every bundled schema, read once, keyed by its ``$id``."""
    documents: dict[str, dict[str, Any]] = {}
    for file in sorted(SCHEMA_DIR.rglob("*.json")):
        contents = _fix_refs(json.loads(file.read_text(encoding="utf-8")))
        uri = contents.get("$id") or SCHEMA_BASE + file.relative_to(SCHEMA_DIR).as_posix()
        documents[uri] = contents
    return documents


@cache
def _registry() -> Registry:
    resources = [(uri, Resource.from_contents(doc)) for uri, doc in _documents().items()]
    return Registry(retrieve=_offline).with_resources(resources).crawl()


@cache
def _compiler() -> Compiler:
    return Compiler(_documents())


def _known(message_type: str) -> tuple[str, str]:
    try:
        file, pointer = _SCHEMAS[message_type]
    except (KeyError, TypeError):
        raise ValidationFailure(
            f"@type: unknown DSP message type {message_type!r}",
            path="@type",
            invalid_value=message_type,
        ) from None
    return SCHEMA_BASE + file, pointer


@cache
def validator_for(message_type: str) -> Draft201909Validator:
    """The ``jsonschema`` validator for a DSP type name (built once, then reused)."""
    uri, pointer = _known(message_type)
    return Draft201909Validator({"$ref": uri + "#" + pointer}, registry=_registry())


@cache
def check_for(message_type: str) -> Check:
    """The compiled yes/no predicate for a DSP type name (built once, then reused)."""
    uri, pointer = _known(message_type)
    try:
        return _compiler().compile(uri, pointer)
    except Unsupported:
        return validator_for(message_type).is_valid


def format_path(parts: Iterable[Any]) -> str:
    """``['offer', 'permission', 0, 'action']`` -> ``offer.permission[0].action``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(error: ValidationError) -> tuple[str, str]:
    """A short message and the field path for one schema error."""
    parts = list(error.absolute_path)
    message = error.message
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [p for p in error.validator_value if p not in error.instance]
        if missing:
            parts.append(missing[0])
            message = "required property is missing"
    elif error.validator == "oneOf" and _all_required(error.validator_value):
        names = ", ".join(repr(s["required"][0]) for s in error.validator_value)
        message = f"exactly one of {names} must be present"
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return message, format_path(parts)


def _all_required(schemas: Any) -> bool:
    return isinstance(schemas, list) and all(
        isinstance(s, dict) and set(s) == {"required"} and len(s["required"]) == 1 for s in schemas
    )


def validate(message_type: str, obj: Any) -> None:
    """Check ``obj`` against the schema of ``message_type``.

    Raises ``ValidationFailure`` with ``path`` set to the failing field (``""`` for the whole
    object) and a message ``"<path>: <what is wrong>"``.
    """
    if check_for(message_type)(obj):
        return
    error = best_match(validator_for(message_type).iter_errors(obj))
    if error is None:
        return
    message, path = _describe(error)
    scalar = error.instance if not isinstance(error.instance, dict | list) else None
    raise ValidationFailure(
        f"{path or message_type}: {message}",
        path=path,
        invalid_value=scalar,
    )


def is_valid(message_type: str, obj: Any) -> bool:
    """True when ``obj`` passes the schema of ``message_type``."""
    return check_for(message_type)(obj)
