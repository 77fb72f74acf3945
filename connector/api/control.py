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

from connector.api.body import json_response, read_json_object
from connector.controlplane.transfers import DataAccess
from connector.dataplane.address import text
from connector.dataplane.jobs import PushControl
from connector.errors import Forbidden, KarezError

SecretLookup = Callable[[str], Awaitable[str | None]]


def build_control_app(
    access: DataAccess, secrets: SecretLookup, key: str, pushes: PushControl
) -> web.Application:
    expected = f"Bearer {key}".encode()

    @web.middleware
    async def authenticated(request: web.Request, handler):  # noqa: ANN001, ANN202
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return json_response({"reason": "unknown data plane"}, status=401)
        try:
            return await handler(request)
        except KarezError as exc:
            return json_response({"reason": exc.message}, status=exc.status)

    async def transfer_access(request: web.Request) -> web.Response:
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
        body = await read_json_object(request, 4096)
        size, sha = body.get("byteSize"), body.get("sha256")
        if not _is_size(size) or not isinstance(sha, str) or len(sha) != 64:
            return json_response({"reason": "byteSize and sha256 are required"}, status=400)
        await access.record_served(request.match_info["id"], size, sha)
        return web.Response(status=204)

    async def push_spec(transfer_id: str) -> None:
        if await pushes.spec(transfer_id) is None:
            raise Forbidden(f"transfer {transfer_id} is no STARTED push of this control plane")

    async def push_token(request: web.Request) -> web.Response:
        transfer_id = request.match_info["id"]
        await push_spec(transfer_id)
        return json_response({"token": await pushes.token(transfer_id)})

    async def pushed(request: web.Request) -> web.Response:
        body = await read_json_object(request, 4096)
        size, sha = body.get("byteSize"), body.get("sha256")
        if not _is_size(size) or not (sha is None or isinstance(sha, str)):
            return json_response({"reason": "byteSize (and sha256) expected"}, status=400)
        await pushes.done(request.match_info["id"], size, sha)
        return web.Response(status=204)

    async def push_failed(request: web.Request) -> web.Response:
        body = await read_json_object(request, 4096)
        reason = body.get("reason")
        await pushes.failed(request.match_info["id"], str(reason or "push failed"))
        return web.Response(status=204)

    async def stream_progress(request: web.Request) -> web.Response:
        body = await read_json_object(request, 256 * 1024)
        cursor, size = body.get("cursor"), body.get("byteSize")
        if not isinstance(cursor, dict) or not _is_size(size):
            return json_response({"reason": "cursor and byteSize expected"}, status=400)
        go_on = await pushes.progress(request.match_info["id"], cursor, size)
        return json_response({"continue": go_on})

    app = web.Application(middlewares=[authenticated])
    base = "/control/v1/transfers/{id}"
    app.router.add_get(base + "/access", transfer_access)
    app.router.add_post(base + "/served", transfer_served)
    app.router.add_post(base + "/token", push_token)
    app.router.add_post(base + "/pushed", pushed)
    app.router.add_post(base + "/push-failed", push_failed)
    app.router.add_post(base + "/stream-progress", stream_progress)
    return app


def _is_size(value: object) -> bool:
    """A byte count: a whole number, not negative (and not a JSON boolean)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
