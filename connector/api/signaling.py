"""The data plane's signaling API: what a control plane tells a separate data plane.

Under ``/signaling/v1``, each call with ``Authorization: Bearer <key>`` of a control plane the
data plane serves:

- ``POST /transfers/{id}/start``: a transfer was started; answers the public endpoint
  consumers pull from (``{"endpoint": ...}``). Access itself is asked per request, so a start
  signal that never arrived costs nothing.
- ``POST /transfers/{id}/suspend`` and ``/terminate``: stop the transfer's downloads now
  (``{"stopped": n}``); the next request is refused by the control plane anyway.
- ``GET /transfers/{id}``: ``{"activeDownloads": n}``.
- ``GET /`` (status): ``{"state": "AVAILABLE", "publicUrl": ..., "controlPlanes": [...]}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from aiohttp import web

from connector.api.body import json_response, read_json
from connector.dataplane.access_watch import AccessWatch
from connector.dataplane.remote import ControlPlane
from connector.errors import KarezError

MAX_SIGNAL_BYTES = 64 * 1024


def build_signaling_app(
    planes: Mapping[str, ControlPlane], watch: AccessWatch, public_url: str
) -> web.Application:
    keys = {f"Bearer {p.key}".encode(): p.id for p in planes.values()}

    def caller(request: web.Request) -> str | None:
        given = request.headers.get("Authorization", "").encode()
        for key, plane in keys.items():
            if hmac.compare_digest(given, key):
                return plane
        return None

    @web.middleware
    async def authenticated(request: web.Request, handler):  # noqa: ANN001, ANN202
        if caller(request) is None:
            return json_response({"reason": "unknown control plane"}, status=401)
        try:
            return await handler(request)
        except KarezError as exc:
            return json_response({"reason": exc.message}, status=exc.status)

    async def reason_of(request: web.Request) -> str:
        body = await read_json(request, MAX_SIGNAL_BYTES, optional=True)
        reason = body.get("reason") if isinstance(body, dict) else None
        return str(reason) if reason else "signalled by the control plane"

    async def start(request: web.Request) -> web.Response:
        return json_response({"endpoint": public_url, "state": "STARTED"})

    async def stop(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        reason = f"{action}: {await reason_of(request)}"
        stopped = watch.stop_transfer(request.match_info["id"], reason)
        return json_response({"stopped": stopped})

    async def status(request: web.Request) -> web.Response:
        return json_response({"activeDownloads": watch.active(request.match_info["id"])})

    async def node_status(request: web.Request) -> web.Response:
        return json_response(
            {"state": "AVAILABLE", "publicUrl": public_url, "controlPlanes": sorted(planes)}
        )

    app = web.Application(middlewares=[authenticated])
    app.router.add_get("/", node_status)
    app.router.add_post("/transfers/{id}/start", start)
    app.router.add_post("/transfers/{id}/{action:suspend|terminate}", stop)
    app.router.add_get("/transfers/{id}", status)
    return app
