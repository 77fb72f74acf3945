"""The provider's public data plane: consumers pull data with the token from their EDR."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from connector.api.body import json_response
from connector.controlplane.transfers import DataAccess
from connector.dataplane import serve
from connector.dataplane.tokens import AccessTokenService
from connector.errors import KarezError

log = logging.getLogger(__name__)

SecretResolver = Callable[[str], Awaitable[str | None]]


def build_public_app(
    *,
    tokens: AccessTokenService,
    access: DataAccess,
    secrets: SecretResolver,
    http: aiohttp.ClientSession,
) -> web.Application:
    async def pull(request: web.Request) -> web.StreamResponse:
        try:
            claims = tokens.verify(request.headers.get("Authorization"))
            address = await access.data_address(
                claims.transfer_id, claims.agreement_id, claims.consumer_id
            )
            return await serve(
                request, address, sub_path=request.match_info.get("tail", ""),
                secret_resolver=secrets, http_session=http,
            )
        except KarezError as exc:
            if exc.status >= 500:
                log.warning("data request failed: %s", exc.message)
            return json_response({"errors": [exc.message]}, status=exc.status)

    app = web.Application()
    app.router.add_route("*", "", pull)
    app.router.add_route("*", "/{tail:.*}", pull)
    return app
