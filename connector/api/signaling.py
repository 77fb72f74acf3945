"""The data plane's signaling API: what a control plane tells a separate data plane.

Under ``/signaling/v1``, each call with ``Authorization: Bearer <key>`` of a control plane the
data plane serves:

- ``POST /transfers/{id}/start``: a transfer was started; answers the public endpoint
  consumers pull from (``{"endpoint": ...}``). Access itself is asked per request, so a start
  signal that never arrived costs a pull nothing. With ``{"push": <spec>}`` the data plane
  moves the data of a push or stream transfer (and reports to the control API).
- ``POST /transfers/{id}/suspend`` and ``/terminate``: stop the transfer's downloads now
  (``{"stopped": n}``); the next request is refused by the control plane anyway.
- ``GET /transfers/{id}``: ``{"activeDownloads": n, "pushing": bool}`` (a push or stream job
  runs for it: a control plane signals STARTED pushes again that a restarted data plane lost).
- ``GET /`` (status): ``{"state": "AVAILABLE", "publicUrl": ..., "controlPlanes": [...]}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from connector.api.body import json_response, read_json
from connector.dataplane.access_watch import AccessWatch
from connector.dataplane.remote import ControlPlane
from connector.errors import KarezError, ValidationFailure

MAX_SIGNAL_BYTES = 64 * 1024


#: ``(control plane id, transfer id, push spec JSON)``: run a push or stream here.
PushStarter = Callable[[str, str, dict[str, Any]], None]


def build_signaling_app(
    planes: Mapping[str, ControlPlane],
    watch: AccessWatch,
    public_url: str,
    start_push: PushStarter | None = None,
    pushing: Callable[[str], bool] = lambda transfer_id: False,
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
        plane = caller(request)
        if plane is None:
            return json_response({"reason": "unknown control plane"}, status=401)
        request["plane"] = plane
        try:
            return await handler(request)
        except KarezError as exc:
            return json_response({"reason": exc.message}, status=exc.status)

    async def reason_of(request: web.Request) -> str:
        body = await read_json(request, MAX_SIGNAL_BYTES, optional=True)
        reason = body.get("reason") if isinstance(body, dict) else None
        return str(reason) if reason else "signalled by the control plane"

    async def start(request: web.Request) -> web.Response:
        body = await read_json(request, MAX_SIGNAL_BYTES, optional=True)
        push = body.get("push") if isinstance(body, dict) else None
        if push is not None:
            if start_push is None or not isinstance(push, dict):
                raise ValidationFailure("this data plane runs no pushes", path="push")
            start_push(request["plane"], request.match_info["id"], push)
        return json_response({"endpoint": public_url, "state": "STARTED"})

    async def stop(request: web.Request) -> web.Response:
        action = request.match_info["action"]
        reason = f"{action}: {await reason_of(request)}"
        stopped = watch.stop_transfer(request.match_info["id"], reason)
        return json_response({"stopped": stopped})

    async def status(request: web.Request) -> web.Response:
        transfer_id = request.match_info["id"]
        return json_response(
            {"activeDownloads": watch.active(transfer_id), "pushing": pushing(transfer_id)}
        )

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
