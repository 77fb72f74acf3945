"""The DSP HTTPS binding's paths: which message goes to which relative URL.

Path templates use ``{providerPid}`` / ``{consumerPid}``, the same placeholder syntax aiohttp
routes use, so the API layer can register them as they are (with a leading ``/``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from connector.domain import CONSUMER, PROVIDER

WELL_KNOWN_VERSION_PATH = ".well-known/dspace-version"
CATALOG_REQUEST_PATH = "catalog/request"
DATASET_PATH = "catalog/datasets/{id}"

# RFC 3986 pchar minus "/": what may stay unescaped inside one path segment (e.g. "urn:uuid:...").
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One POST endpoint: the role that serves it, the message it takes and its path template."""

    receiver: str  # CONSUMER or PROVIDER
    message_type: str
    template: str
    initial: bool = False  # the message creates the process on the receiver


def other_role(role: str) -> str:
    """The counter-party's role."""
    if role == CONSUMER:
        return PROVIDER
    if role == PROVIDER:
        return CONSUMER
    raise ValueError(f"role must be {CONSUMER!r} or {PROVIDER!r}, not {role!r}")


def join_url(base: str, path: str) -> str:
    """Append a relative ``path`` to ``base``, with exactly one ``/`` between them."""
    if not path:
        return base
    return base.rstrip("/") + "/" + path.lstrip("/")


def fill(template: str, *, consumer_pid: str | None = None, provider_pid: str | None = None) -> str:
    """Put the (escaped) process ids into a path template."""
    values = {"consumerPid": consumer_pid, "providerPid": provider_pid}
    out = template
    for name, value in values.items():
        placeholder = "{" + name + "}"
        if placeholder in out:
            if not value:
                raise ValueError(f"{name} is needed for the path {template!r}")
            out = out.replace(placeholder, quote(value, safe=_SEGMENT_SAFE))
    return out


def find_endpoint(
    endpoints: Iterable[Endpoint], receiver: str, message_type: str, initial: bool = False
) -> Endpoint:
    """The endpoint where ``receiver`` takes ``message_type`` (ValueError if there is none).

    ``initial`` picks between the initiating and the follow-up endpoint where a message has
    both; a message with a single endpoint (e.g. TransferRequestMessage) needs no choice.
    """
    matches = [e for e in endpoints if (e.receiver, e.message_type) == (receiver, message_type)]
    if len(matches) == 1:
        return matches[0]
    for endpoint in matches:
        if endpoint.initial == initial:
            return endpoint
    raise ValueError(f"the {receiver} has no endpoint for {message_type}")


def peer_path(
    endpoints: Iterable[Endpoint],
    sender_role: str,
    message_type: str,
    consumer_pid: str | None,
    provider_pid: str | None,
    initial: bool = False,
) -> str:
    """The relative path (no leading ``/``) where the sender's peer takes ``message_type``."""
    endpoint = find_endpoint(endpoints, other_role(sender_role), message_type, initial)
    return fill(endpoint.template, consumer_pid=consumer_pid, provider_pid=provider_pid)
