"""The provider's public data plane: consumers pull data with the token from their EDR."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from connector.api.body import json_response
from connector.controlplane.transfers import DataAccess
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
    from connector.dataplane import serve

    async def pull(request: web.Request) -> web.StreamResponse:
        try:
            claims = tokens.verify(request.headers.get("Authorization"))
            address = await access.data_address(
                claims.transfer_id, claims.agreement_id, claims.consumer_id
            )
        except KarezError as exc:
            return json_response({"errors": [exc.message]}, status=exc.status)
        return await serve(
            request, address, sub_path=request.match_info.get("tail", ""),
            secret_resolver=secrets, http_session=http,
        )

    app = web.Application()
    app.router.add_route("*", "", pull)
    app.router.add_route("*", "/{tail:.*}", pull)
    return app
