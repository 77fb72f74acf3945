"""The control plane's control API, asked by a separate data plane (``karez dataplane``).

``GET /control/v1/transfers/{id}/access?agreement=&consumer=&asset=`` with ``Authorization:
Bearer <dataplane_key>``: ``200 {"dataAddress": ..., "secrets": {name: value}}`` while the
transfer may receive data (STARTED, agreement not retired, policy satisfied), else ``403
{"reason": ...}``. The data plane asks when a download starts and 4 times a second while it
runs, so every decision stays with the control plane.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

from connector.api.body import json_response, read_json
from connector.controlplane.transfers import DataAccess
from connector.dataplane.address import text
from connector.errors import KarezError

SecretLookup = Callable[[str], Awaitable[str | None]]


def build_control_app(access: DataAccess, secrets: SecretLookup, key: str) -> web.Application:
    expected = f"Bearer {key}".encode()

    async def transfer_access(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return json_response({"reason": "unknown data plane"}, status=401)
        query = request.query
        try:
            address = await access.data_address(
                request.match_info["id"],
                query.get("agreement", ""),
                query.get("consumer", ""),
                query.get("asset"),
            )
        except KarezError as exc:
            return json_response({"reason": exc.message}, status=exc.status)
        found = {}
        name = text(address, "secretName")
        if name:
            value = await secrets(name)
            if value is not None:
                found[name] = value
        return json_response({"dataAddress": address, "secrets": found})

    async def transfer_served(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return json_response({"reason": "unknown data plane"}, status=401)
        body = await read_json(request, 4096)
        size, sha = body.get("byteSize"), body.get("sha256")
        if not isinstance(size, int) or not isinstance(sha, str) or len(sha) != 64:
            return json_response({"reason": "byteSize and sha256 are required"}, status=400)
        await access.record_served(request.match_info["id"], size, sha)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/control/v1/transfers/{id}/access", transfer_access)
    app.router.add_post("/control/v1/transfers/{id}/served", transfer_served)
    return app
