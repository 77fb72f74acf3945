"""The public data plane's single entry point: serve a request from a data address.

One handler per data address ``type``; :func:`register_source` adds one (EDC-style extension
point). Built in: ``File`` (Karez; a file or a folder), ``SqlTable`` (Karez; a table or view)
and ``HttpData`` (EDC).
"""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp
from aiohttp import web

from connector.dataplane.address import Address, address_type
from connector.dataplane.files import FILE_TYPE, serve_file
from connector.dataplane.http_proxy import serve_http
from connector.dataplane.http_request import HTTP_DATA_TYPE, SecretResolver
from connector.dataplane.sql_source import SQL_TABLE_TYPE, serve_sql
from connector.dataplane.streaming import OnComplete
from connector.errors import KarezError


class SourceHandler(Protocol):
    async def __call__(
        self,
        request: web.Request,
        address: Address,
        *,
        sub_path: str,
        secret_resolver: SecretResolver | None,
        http_session: aiohttp.ClientSession,
        on_complete: OnComplete | None,
    ) -> web.StreamResponse: ...


async def _file(request: web.Request, address: Address, **kw: Any) -> web.StreamResponse:
    return await serve_file(
        request, address, sub_path=kw["sub_path"], on_complete=kw["on_complete"]
    )


_SOURCES: dict[str, SourceHandler] = {
    FILE_TYPE: _file,
    HTTP_DATA_TYPE: serve_http,
    SQL_TABLE_TYPE: serve_sql,
}


def register_source(type_: str, handler: SourceHandler) -> None:
    """Serve data addresses of ``type_`` with ``handler``."""
    _SOURCES[type_] = handler


def source_types() -> list[str]:
    return sorted(_SOURCES)


async def serve(
    request: web.Request,
    data_address: Address,
    *,
    sub_path: str,
    secret_resolver: SecretResolver | None,
    http_session: aiohttp.ClientSession,
    on_complete: OnComplete | None = None,
) -> web.StreamResponse:
    """Answer an authenticated public-API ``request`` with the data behind ``data_address``.

    ``sub_path`` is the (decoded) rest of the request path below the public endpoint, used by
    ``HttpData`` with ``proxyPath`` and by a ``File`` address naming a folder.
    ``on_complete(bytes_sent, sha256_hex)`` runs once the response has been written
    completely; the hash is given only when the whole representation was sent (a 200 with a
    body). Errors before the response starts are
    :class:`~connector.errors.KarezError`; a failure after it started raises
    :class:`~connector.dataplane.streaming.TransferInterrupted` and drops the connection.
    """
    kind = address_type(data_address)
    handler = _SOURCES.get(kind or "")
    if handler is None:
        raise KarezError(f"Data addresses of type '{kind}' cannot be served")
    return await handler(
        request,
        data_address,
        sub_path=sub_path,
        secret_resolver=secret_resolver,
        http_session=http_session,
        on_complete=on_complete,
    )
