"""Turning an ``HttpData`` address plus the consumer's request into the backend request.

Follows EDC's ``HttpDataAddress`` and its source request rules:

* URL: ``baseUrl``, then ``path``, or the consumer's sub-path instead when ``proxyPath`` is
  ``"true"``; query: ``baseUrl``'s own, then ``queryParams``, then the consumer's query when
  ``proxyQueryParams`` is ``"true"``.
* Method: the consumer's when ``proxyMethod`` is ``"true"``, else ``method`` (default ``GET``;
  a consumer's ``HEAD`` turns a ``GET`` into ``HEAD``).
* Body: the consumer's, streamed, with its content type when ``proxyBody`` is ``"true"``; else
  the address's ``body`` with ``contentType`` if it has one (a Karez extension: EDC sends none).
* Headers: ``header:<Name>`` properties (never ``Content-Type``), and ``authKey`` set to
  ``authCode`` or to the secret named by ``secretName`` (raw, or a JSON object's ``token``).
  ``authKey`` defaults to ``Authorization`` when a code or secret is given.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from connector.dataplane.address import Address, flag, prefixed, text
from connector.errors import KarezError, ValidationFailure

HTTP_DATA_TYPE = "HttpData"

SecretResolver = Callable[[str], Awaitable[str | None]]

#: Methods a consumer may have proxied (those EDC's public API exposes).
PROXY_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
#: Consumer headers passed on to the backend: content negotiation and conditional requests only.
FORWARDED_REQUEST_HEADERS = (
    "Accept",
    "Accept-Language",
    "Accept-Encoding",
    "Range",
    "If-Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
)
_MISCONFIGURED = "The data address of this asset is misconfigured"


@dataclass
class BackendRequest:
    """What to send to the data source. ``headers`` may hold credentials: never log them."""

    method: str
    url: URL
    headers: CIMultiDict[str] = field(repr=False)
    body: Any = field(default=None, repr=False)


async def build_backend_request(
    request: web.Request,
    address: Address,
    *,
    sub_path: str,
    secret_resolver: SecretResolver | None,
) -> BackendRequest:
    """The backend request for ``request`` under ``address`` (see the module docstring)."""
    base = _base_url(address)
    path = _clean_sub_path(sub_path) if flag(address, "proxyPath") else text(address, "path")
    url = base.with_query(None).with_fragment(None)
    if path:
        url = url.joinpath(path.lstrip("/\\"))
    queries = [base.raw_query_string, text(address, "queryParams") or ""]
    if flag(address, "proxyQueryParams"):
        queries.append(request.rel_url.raw_query_string)
    query = "&".join(q.lstrip("?") for q in queries if q)
    if query:
        url = URL(f"{url}?{query}")

    headers: CIMultiDict[str] = CIMultiDict()
    for name in FORWARDED_REQUEST_HEADERS:
        value = request.headers.get(name)
        if value is not None:
            headers[name] = value
    headers.setdefault("Accept-Encoding", "identity")
    for name, value in prefixed(address, "header:"):
        if name.lower() != "content-type":
            headers[_header_name(name)] = _header_value(value)
    auth = await _auth_header(address, secret_resolver)
    if auth is not None:
        headers[auth[0]] = auth[1]

    body: Any = None
    if flag(address, "proxyBody"):
        if request.body_exists:
            body = request.content
            for name in ("Content-Type", "Content-Length"):
                if name in request.headers:
                    headers[name] = request.headers[name]
    else:
        fixed = text(address, "body")
        if fixed is not None:
            body = fixed.encode()
            headers["Content-Type"] = _header_value(
                text(address, "contentType") or "application/octet-stream"
            )
    return BackendRequest(_method(request, address), url, headers, body)


def _base_url(address: Address) -> URL:
    raw = text(address, "baseUrl")
    if raw is None:
        raise KarezError(_MISCONFIGURED)
    try:
        base = URL(raw)
    except (TypeError, ValueError):
        raise KarezError(_MISCONFIGURED) from None
    if base.scheme not in ("http", "https") or not base.host:
        raise KarezError(_MISCONFIGURED)
    return base


def _clean_sub_path(sub_path: str) -> str:
    """The consumer's path below the public endpoint; no dot segments (no escaping baseUrl)."""
    path = sub_path.replace("\\", "/").lstrip("/")
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ValidationFailure("The request path must not contain '.' or '..' segments")
    if any(ord(c) < 0x20 or c == "\x7f" for c in path):
        raise ValidationFailure("The request path contains control characters")
    return path


def _method(request: web.Request, address: Address) -> str:
    if flag(address, "proxyMethod"):
        method = request.method.upper()
        if method not in PROXY_METHODS:
            raise ValidationFailure(f"method {request.method} is not supported")
        return method
    method = (text(address, "method") or "GET").upper()
    if not method.isalpha():
        raise KarezError(_MISCONFIGURED)
    return "HEAD" if method == "GET" and request.method == "HEAD" else method


async def _auth_header(
    address: Address, secret_resolver: SecretResolver | None
) -> tuple[str, str] | None:
    key, code, secret_name = (text(address, n) for n in ("authKey", "authCode", "secretName"))
    if code is None and secret_name is None:
        if key is not None:
            raise KarezError(_MISCONFIGURED)
        return None
    if code is None:
        assert secret_name is not None
        if secret_resolver is None:
            raise KarezError("The credentials for the data source are not available")
        code = _token_of(await secret_resolver(secret_name))
    return _header_name(key or "Authorization"), _header_value(code)


def _token_of(secret: str | None) -> str:
    """A vault secret is the value itself, or a JSON object holding it under ``token``."""
    if not secret:
        raise KarezError("The credentials for the data source are not available")
    try:
        parsed = json.loads(secret)
    except ValueError:
        return secret
    if not isinstance(parsed, dict):
        return secret
    token = parsed.get("token")
    if not isinstance(token, str) or not token:
        raise KarezError("The credentials for the data source are not usable")
    return token


def _header_name(name: str) -> str:
    if not name or any(c in name for c in " \t\r\n:\x00"):
        raise KarezError(_MISCONFIGURED)
    return name


def _header_value(value: Any) -> str:
    value = value if isinstance(value, str) else str(value)
    if any(c in value for c in "\r\n\x00"):
        raise KarezError(_MISCONFIGURED)
    return value
