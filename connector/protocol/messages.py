"""Build DSP 2025-1 messages in their compact JSON form, and parse the ones we receive.

Builders are pure and cheap; they do not validate. Pass what they return through ``check``
(or ``validation.validate``) before it leaves the node. ``parse`` is for every body received.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from connector.domain import DSPACE_NS
from connector.errors import UnknownContext, ValidationFailure
from connector.protocol import negotiation, transfer
from connector.protocol.validation import (
    FRAGMENT_TYPES,
    MESSAGE_TYPES,
    UNTYPED_MESSAGES,
    validate,
)

DSP_CONTEXT = "https://w3id.org/dspace/2025/1/context.jsonld"
PROTOCOL_VERSION = "2025-1"
BINDING = "HTTPS"

Json = dict[str, Any]
Reason = str | Sequence[Any] | None


def _message(message_type: str, **fields: Any) -> Json:
    """A message with the DSP context and type; fields that are ``None`` are left out."""
    out: Json = {"@context": [DSP_CONTEXT], "@type": message_type}
    out.update((name, value) for name, value in fields.items() if value is not None)
    return out


def _reasons(reason: Reason) -> list[Any] | None:
    """The schema's ``reason`` array (at least one item) or ``None`` to leave it out."""
    if reason is None:
        return None
    items = [reason] if isinstance(reason, str) else list(reason)
    return items or None


def _code(code: str | int | None) -> str | None:
    return None if code is None else str(code)


# -- contract negotiation --------------------------------------------------------------------


def contract_request(
    consumer_pid: str,
    offer: Mapping[str, Any],
    *,
    provider_pid: str | None = None,
    callback_address: str | None = None,
) -> Json:
    """ContractRequestMessage: initial (``callback_address``) or counter (``provider_pid``).

    The schema allows exactly one of the two.
    """
    if (provider_pid is None) == (callback_address is None):
        raise ValueError("give either callback_address (initial) or provider_pid (counter)")
    return _message(
        negotiation.REQUEST,
        consumerPid=consumer_pid,
        providerPid=provider_pid,
        offer=dict(offer),
        callbackAddress=callback_address,
    )


def contract_offer(
    provider_pid: str,
    offer: Mapping[str, Any],
    *,
    consumer_pid: str | None = None,
    callback_address: str | None = None,
) -> Json:
    """ContractOfferMessage: initial (``callback_address``) or counter (``consumer_pid``).

    The schema allows exactly one of the two; the offer needs ``@id`` and ``target``.
    """
    if (consumer_pid is None) == (callback_address is None):
        raise ValueError("give either callback_address (initial) or consumer_pid (counter)")
    return _message(
        negotiation.OFFER,
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        offer=dict(offer),
        callbackAddress=callback_address,
    )


def contract_agreement(consumer_pid: str, provider_pid: str, agreement: Mapping[str, Any]) -> Json:
    """ContractAgreementMessage carrying the full ODRL Agreement."""
    return _message(
        negotiation.AGREEMENT,
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        agreement=dict(agreement),
    )


def agreement_verification(consumer_pid: str, provider_pid: str) -> Json:
    """ContractAgreementVerificationMessage."""
    return _message(negotiation.VERIFICATION, providerPid=provider_pid, consumerPid=consumer_pid)


def negotiation_event(consumer_pid: str, provider_pid: str, event_type: str) -> Json:
    """ContractNegotiationEventMessage (``event_type`` ACCEPTED or FINALIZED)."""
    return _message(
        negotiation.EVENT,
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        eventType=event_type,
    )


def negotiation_termination(
    consumer_pid: str,
    provider_pid: str,
    *,
    code: str | int | None = None,
    reason: Reason = None,
) -> Json:
    """ContractNegotiationTerminationMessage."""
    return _message(
        negotiation.TERMINATION,
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=_code(code),
        reason=_reasons(reason),
    )


def negotiation_ack(consumer_pid: str, provider_pid: str, state: str) -> Json:
    """ContractNegotiation (the ACK body); ``state`` may be ours, it is mapped to the DSP one."""
    return _message(
        "ContractNegotiation",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        state=negotiation.dsp_state(state),
    )


def negotiation_error(
    code: str | int | None,
    reasons: Reason,
    consumer_pid: str | None = None,
    provider_pid: str | None = None,
) -> Json:
    """ContractNegotiationError. The schema requires both pids; leave one out (``None``) only
    when it is unknown, e.g. for an unknown process, and the body will not pass the schema."""
    return _message(
        "ContractNegotiationError",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=_code(code),
        reason=_reasons(reasons),
    )


# -- transfer process ------------------------------------------------------------------------


def data_address(
    endpoint: str | None,
    endpoint_type: str,
    properties: Mapping[str, str] | None = None,
) -> Json:
    """DataAddress with its ``endpointProperties`` as EndpointProperty objects."""
    out: Json = {"@type": "DataAddress", "endpointType": endpoint_type}
    if endpoint is not None:
        out["endpoint"] = endpoint
    if properties:
        out["endpointProperties"] = [
            {"@type": "EndpointProperty", "name": name, "value": value}
            for name, value in properties.items()
        ]
    return out


def endpoint_properties(address: Mapping[str, Any]) -> dict[str, str]:
    """The ``endpointProperties`` of a DataAddress as a name -> value map."""
    items = address.get("endpointProperties") or []
    if not isinstance(items, list):
        raise ValidationFailure(
            "dataAddress.endpointProperties: must be an array",
            path="dataAddress.endpointProperties",
        )
    out: dict[str, str] = {}
    for index, item in enumerate(items):
        if not (
            isinstance(item, dict)
            and isinstance(item.get("name"), str)
            and isinstance(item.get("value"), str)
        ):
            path = f"dataAddress.endpointProperties[{index}]"
            raise ValidationFailure(f"{path}: needs a string name and value", path=path)
        out[item["name"]] = item["value"]
    return out


def transfer_request(
    consumer_pid: str,
    agreement_id: str,
    format: str,
    callback_address: str,
    data_address: Mapping[str, Any] | None = None,
) -> Json:
    """TransferRequestMessage; ``data_address`` only for push transfers."""
    return _message(
        transfer.REQUEST,
        consumerPid=consumer_pid,
        agreementId=agreement_id,
        format=format,
        dataAddress=None if data_address is None else dict(data_address),
        callbackAddress=callback_address,
    )


def transfer_start(
    consumer_pid: str, provider_pid: str, data_address: Mapping[str, Any] | None = None
) -> Json:
    """TransferStartMessage; ``data_address`` for pull transfers."""
    return _message(
        transfer.START,
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        dataAddress=None if data_address is None else dict(data_address),
    )


def transfer_completion(consumer_pid: str, provider_pid: str) -> Json:
    """TransferCompletionMessage."""
    return _message(transfer.COMPLETION, providerPid=provider_pid, consumerPid=consumer_pid)


def transfer_suspension(
    consumer_pid: str,
    provider_pid: str,
    *,
    code: str | int | None = None,
    reason: Reason = None,
) -> Json:
    """TransferSuspensionMessage."""
    return _message(
        transfer.SUSPENSION,
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=_code(code),
        reason=_reasons(reason),
    )


def transfer_termination(
    consumer_pid: str,
    provider_pid: str,
    *,
    code: str | int | None = None,
    reason: Reason = None,
) -> Json:
    """TransferTerminationMessage."""
    return _message(
        transfer.TERMINATION,
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=_code(code),
        reason=_reasons(reason),
    )


def transfer_ack(consumer_pid: str, provider_pid: str, state: str) -> Json:
    """TransferProcess (the ACK body); ``state`` may be ours, it is mapped to the DSP one."""
    return _message(
        "TransferProcess",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        state=transfer.dsp_state(state),
    )


def transfer_error(
    code: str | int | None,
    reasons: Reason,
    consumer_pid: str | None = None,
    provider_pid: str | None = None,
) -> Json:
    """TransferError. Like ``negotiation_error``, the schema requires both pids."""
    return _message(
        "TransferError",
        providerPid=provider_pid,
        consumerPid=consumer_pid,
        code=_code(code),
        reason=_reasons(reasons),
    )


# -- catalog ---------------------------------------------------------------------------------


def catalog_request(filter: Sequence[Any] | None = None) -> Json:
    """CatalogRequestMessage; ``filter`` is implementation-specific."""
    return _message("CatalogRequestMessage", filter=None if filter is None else list(filter))


def dataset_request(dataset_id: str) -> Json:
    """DatasetRequestMessage."""
    return _message("DatasetRequestMessage", dataset=dataset_id)


def catalog(
    catalog_id: str,
    participant_id: str,
    *,
    datasets: Iterable[Mapping[str, Any]] = (),
    catalogs: Iterable[Mapping[str, Any]] = (),
    services: Iterable[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> Json:
    """The root Catalog response. Empty lists are left out (the schema wants them non-empty);
    ``extra`` adds DCAT properties (e.g. ``title``, ``distribution``)."""
    out = _message("Catalog", **{"@id": catalog_id}, participantId=participant_id)
    out.update(extra or {})
    for name, items in (("dataset", datasets), ("catalog", catalogs), ("service", services)):
        listed = [dict(item) for item in items]
        if listed:
            out[name] = listed
    return out


def dataset(dataset: Mapping[str, Any]) -> Json:
    """A Dataset response: the dataset object (``@id``, ``hasPolicy``, ``distribution``, ...)
    with the DSP context added."""
    out = _message("Dataset")
    out.update({k: v for k, v in dataset.items() if k != "@context"})
    return out


def catalog_error(code: str | int | None = None, reasons: Reason = None) -> Json:
    """CatalogError."""
    return _message("CatalogError", code=_code(code), reason=_reasons(reasons))


# -- version discovery -----------------------------------------------------------------------


def version_entry(
    path: str,
    version: str = PROTOCOL_VERSION,
    *,
    binding: str = BINDING,
    service_id: str | None = None,
    identifier_type: str | None = None,
    auth: Mapping[str, Any] | None = None,
) -> Json:
    """One item of ``protocolVersions``; ``auth`` is ``{"protocol", "version", "profile"}``."""
    out: Json = {"version": version, "path": path, "binding": binding}
    if service_id is not None:
        out["serviceId"] = service_id
    if identifier_type is not None:
        out["identifierType"] = identifier_type
    if auth is not None:
        out["auth"] = dict(auth)
    return out


def version_response(
    path: str,
    *,
    service_id: str | None = None,
    identifier_type: str | None = None,
    auth: Mapping[str, Any] | None = None,
    others: Iterable[Mapping[str, Any]] = (),
) -> Json:
    """The ``/.well-known/dspace-version`` body: our 2025-1 HTTPS endpoint at ``path`` first,
    then any ``others`` (e.g. a 2024-1 entry made with ``version_entry``)."""
    first = version_entry(path, service_id=service_id, identifier_type=identifier_type, auth=auth)
    return {"protocolVersions": [first, *(dict(o) for o in others)]}


# -- checking and parsing --------------------------------------------------------------------


def check(message: Mapping[str, Any], message_type: str | None = None) -> Json:
    """Validate an outgoing message against its schema (by its ``@type`` unless given) and
    return it. Raises ``ValidationFailure``."""
    kind = message_type or message.get("@type")
    if not isinstance(kind, str):
        raise ValidationFailure("@type: missing; give message_type", path="@type")
    validate(kind, message)
    return dict(message)


def _check_context(body: Json, allowed_contexts: Collection[str]) -> Json:
    """Require the DSP context; return the body with ``@context`` as a list."""
    if "@context" not in body:
        raise ValidationFailure(f"@context: missing (must include {DSP_CONTEXT})", path="@context")
    context = body["@context"]
    single = isinstance(context, str)
    if single:
        context = [context]
        body = {**body, "@context": context}
    if not isinstance(context, list):
        raise ValidationFailure(
            f"@context: must be {DSP_CONTEXT!r} or a list of context URLs", path="@context"
        )
    for index, entry in enumerate(context):
        path = "@context" if single else f"@context[{index}]"
        if not isinstance(entry, str):
            raise ValidationFailure(
                f"{path}: embedded contexts are not accepted, only known context URLs",
                path=path,
            )
        if entry != DSP_CONTEXT and entry not in allowed_contexts:
            raise UnknownContext(
                f"{path}: unknown context {entry!r} (remote contexts are never fetched)",
                path=path,
                invalid_value=entry,
            )
    if DSP_CONTEXT not in context:
        raise ValidationFailure(f"@context: must include {DSP_CONTEXT}", path="@context")
    return body


def _check_type(body: Json, expected: frozenset[str]) -> str:
    wanted = " or ".join(repr(t) for t in sorted(expected))
    if "@type" not in body:
        raise ValidationFailure(f"@type: missing (expected {wanted})", path="@type")
    found = body["@type"]
    if not isinstance(found, str):
        raise ValidationFailure(f"@type: must be a single string (expected {wanted})", path="@type")
    if found in expected:
        return found
    local = found.removeprefix("dspace:").removeprefix(DSPACE_NS)
    if local != found and local in expected:
        detail = f"only the compact form {local!r} is accepted"
    elif found in MESSAGE_TYPES:
        detail = f"expected {wanted}"
    else:
        detail = f"unknown DSP message type; expected {wanted}"
    raise ValidationFailure(f"@type: {found!r}: {detail}", path="@type", invalid_value=found)


def parse(
    expected_type: str | Collection[str],
    body: object,
    *,
    allowed_contexts: Collection[str] = (),
) -> Json:
    """Check a received body and return it (with ``@context`` as a list).

    The body must be a JSON object whose ``@context`` is the DSP 2025-1 context URL or a list
    that contains it; other entries must be URLs in ``allowed_contexts`` (embedded or unknown
    contexts are refused, nothing is fetched). ``@type`` must be one of ``expected_type`` in
    the compact form the schemas require (``ContractRequestMessage``; not ``dspace:...`` nor
    the full IRI). Then the body must pass the type's JSON Schema. ``VersionResponse`` and
    ``DidService`` carry no DSP ``@type``/``@context`` and get the schema check only.
    Raises ``ValidationFailure`` (``UnknownContext`` for a context not allowed), with ``path``.
    """
    expected = frozenset([expected_type] if isinstance(expected_type, str) else expected_type)
    if not expected:
        raise ValueError("expected_type is empty")
    unknown = expected - (MESSAGE_TYPES - FRAGMENT_TYPES)
    if unknown:
        raise ValueError(f"unknown DSP message type(s): {', '.join(sorted(unknown))}")
    if not isinstance(body, dict):
        raise ValidationFailure("message body must be a JSON object", path="")
    if expected & UNTYPED_MESSAGES:
        if len(expected) > 1:
            raise ValueError(f"parse {', '.join(sorted(expected))} one at a time")
        (kind,) = expected
    else:
        body = _check_context(body, allowed_contexts)
        kind = _check_type(body, expected)
    validate(kind, body)
    return body
