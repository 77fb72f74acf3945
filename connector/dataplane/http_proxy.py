"""The ``HttpData`` data source: proxy the consumer's request to the provider's backend.

The backend's status, content headers and body are passed through chunk by chunk, bytes as
they came (no decompression), so memory use does not depend on the body's size. A backend that
cannot be reached, redirects, refuses the provider's credentials or fails with 5xx yields a
:class:`~connector.errors.PeerError` (502) that names no URL and no credential.
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from connector.dataplane.address import Address
from connector.dataplane.http_request import SecretResolver, build_backend_request
from connector.dataplane.streaming import Meter, OnComplete, TransferInterrupted
from connector.errors import PeerError

log = logging.getLogger(__name__)

#: No overall limit (bodies may be large and slow); limits on connecting and on silence.
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=30, sock_read=120)
#: Backend response headers passed on to the consumer.
FORWARDED_RESPONSE_HEADERS = (
    "Content-Type",
    "Content-Encoding",
    "Content-Language",
    "Content-Range",
    "Content-Disposition",
    "Accept-Ranges",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Expires",
)
_NO_BODY_STATUSES = frozenset({204, 304})


async def serve_http(
    request: web.Request,
    address: Address,
    *,
    sub_path: str,
    secret_resolver: SecretResolver | None,
    http_session: aiohttp.ClientSession,
    on_complete: OnComplete | None = None,
    timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
) -> web.StreamResponse:
    """Answer ``request`` with the backend's answer for the ``HttpData`` ``address``."""
    spec = await build_backend_request(
        request, address, sub_path=sub_path, secret_resolver=secret_resolver
    )
    host = spec.url.host
    try:
        backend = await http_session.request(
            spec.method,
            spec.url,
            headers=spec.headers,
            data=spec.body,
            allow_redirects=False,
            auto_decompress=False,
            timeout=timeout,
        )
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("data source at %s unreachable (%s)", host, type(exc).__name__)
        raise PeerError("The data source could not be reached") from None

    async with backend:
        status = backend.status
        if _is_backend_failure(status):
            log.warning("data source at %s answered %s", host, status)
            raise PeerError(f"The data source answered with status {status}", peer_status=status)
        response = web.StreamResponse(status=status)
        for name in FORWARDED_RESPONSE_HEADERS:
            value = backend.headers.get(name)
            if value is not None:
                response.headers[name] = value
        has_body = request.method != "HEAD" and status not in _NO_BODY_STATUSES
        length = backend.headers.get("Content-Length")
        if length is not None and length.isdigit() and status not in _NO_BODY_STATUSES:
            response.content_length = int(length)
        await response.prepare(request)

        meter = Meter(whole_body=status == 200 and has_body and spec.method != "HEAD")
        if has_body:
            try:
                async for chunk in backend.content.iter_any():
                    meter.update(chunk)
                    await response.write(chunk)
            except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, TimeoutError):
                log.warning("data source at %s failed mid-stream", host)
                response.force_close()
                raise TransferInterrupted("the data source failed mid-stream") from None
        await response.write_eof()
    await meter.report(on_complete)
    return response


def _is_backend_failure(status: int) -> bool:
    """Statuses not passed on: redirects (they would expose the backend), refused provider
    credentials (the consumer's token was fine), and server errors."""
    return status >= 500 or status in (401, 403, 407) or (300 <= status < 400 and status != 304)
