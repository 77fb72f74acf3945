"""The provider's public data plane: consumers pull data with the token from their EDR."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from connector.api.body import json_response
from connector.controlplane.participant_auth import ProtocolAuth
from connector.controlplane.transfers import DataAccess
from connector.dataplane import serve
from connector.dataplane.access_watch import AccessWatch
from connector.dataplane.tokens import AccessClaims, AccessTokenService
from connector.domain import Json, TransferProcess
from connector.errors import Forbidden, KarezError, LengthRequired, PayloadTooLarge

log = logging.getLogger(__name__)

SecretResolver = Callable[[str], Awaitable[str | None]]


class TokenVerifier(Protocol):
    def verify(self, header_value: str | None) -> AccessClaims: ...


class DataSource(Protocol):
    """Where the data behind a token comes from, and whether it may still flow."""

    async def resolve(self, claims: AccessClaims) -> tuple[Json, SecretResolver | None]:
        """The data address (and how to read its secrets); ``KarezError`` if refused."""
        ...

    async def still_granted(self, claims: AccessClaims) -> str | None:
        """None while data may flow, else why not."""
        ...

    async def served(self, claims: AccessClaims, byte_size: int, sha256: str | None) -> None:
        """A response was written completely (``sha256`` when it was the whole data)."""
        ...


class LocalData:
    """The control plane in this process decides (the embedded data plane)."""

    def __init__(self, access: DataAccess, secrets: SecretResolver) -> None:
        self._access = access
        self._secrets = secrets

    async def resolve(self, claims: AccessClaims) -> tuple[Json, SecretResolver | None]:
        address = await self._access.data_address(
            claims.transfer_id, claims.agreement_id, claims.consumer_id, claims.asset_id
        )
        return address, self._secrets

    async def still_granted(self, claims: AccessClaims) -> str | None:
        return await self._access.still_granted(
            claims.transfer_id, claims.agreement_id, claims.consumer_id
        )

    async def served(self, claims: AccessClaims, byte_size: int, sha256: str | None) -> None:
        if sha256 is not None:
            await self._access.record_served(claims.transfer_id, byte_size, sha256)


#: Default largest request body a consumer may send through (to an HttpData backend).
MAX_REQUEST_BYTES = 10 * 1024 * 1024


def check_request_size(request: web.Request, limit: int) -> None:
    """A request body must state its length, within ``limit`` (aiohttp then holds the sender
    to it): 411 without a length, 413 beyond the limit."""
    if not request.body_exists:
        return
    length = request.content_length
    if length is None:
        raise LengthRequired("a request body needs a Content-Length")
    if length > limit:
        raise PayloadTooLarge(f"a request body may have at most {limit} bytes")


def build_public_app(
    *,
    tokens: TokenVerifier,
    data: DataSource,
    http: aiohttp.ClientSession,
    watch: AccessWatch,
    max_request_bytes: int = MAX_REQUEST_BYTES,
) -> web.Application:
    async def pull(request: web.Request) -> web.StreamResponse:
        try:
            check_request_size(request, max_request_bytes)
            claims = tokens.verify(request.headers.get("Authorization"))
            address, secrets = await data.resolve(claims)

            def abort() -> None:
                cut_off(request.transport)

            async def served(size: int, sha256: str | None) -> None:
                await data.served(claims, size, sha256)

            async with watch.watching(
                claims.transfer_id, claims.agreement_id, lambda: data.still_granted(claims), abort
            ):
                return await serve(
                    request,
                    address,
                    sub_path=request.match_info.get("tail", ""),
                    secret_resolver=secrets,
                    http_session=http,
                    # the push job reports what it sent itself (hashed once, on its side)
                    on_complete=None if claims.push else served,
                )
        except KarezError as exc:
            if exc.status >= 500:
                log.warning("data request failed: %s", exc.message)
            return json_response({"errors": [exc.message]}, status=exc.status)

    app = web.Application()
    app.router.add_route("*", "", pull)
    app.router.add_route("*", "/{tail:.*}", pull)
    return app


def cut_off(transport: asyncio.BaseTransport | None) -> None:
    """Close a connection at once: a reset (linger 0), so that what the kernel still holds to
    send is discarded rather than delivered after the decision to stop."""
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


TokenIssuer = Callable[[TransferProcess], dict[str, Any]]


def build_refresh_route(
    *,
    tokens: AccessTokenService,
    access: DataAccess,
    auth: ProtocolAuth,
    issue: TokenIssuer,
) -> web.RouteDef:
    """``POST /token?grant_type=refresh_token&refresh_token=…`` (Tractus-X EDR refresh).

    The caller proves who it is with a protocol token in ``Authorization``; the refresh token
    must have been issued to that participant, for a transfer that is still STARTED.
    """

    async def refresh(request: web.Request) -> web.Response:
        if request.query.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"}, status=400)
        refresh_token = request.query.get("refresh_token")
        if not refresh_token:
            return json_response(
                {"error": "invalid_request", "error_description": "refresh_token is missing"},
                status=400,
            )
        try:
            claims = tokens.verify_refresh(refresh_token)
            caller = await auth.verify(request.headers.get("Authorization"))
            if caller != claims.consumer_id:
                raise Forbidden("the refresh token was issued to another participant")
            transfer = await access.check_refresh(claims.transfer_id, caller)
        except KarezError as exc:
            error = "invalid_grant" if exc.status in (401, 403) else "invalid_request"
            return json_response(
                {"error": error, "error_description": exc.message}, status=exc.status
            )
        return json_response(issue(transfer))

    return web.post("/token", refresh)
