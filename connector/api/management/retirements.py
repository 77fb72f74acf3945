"""``/v3/contractagreements/retirements``: retire agreements, list retirements, reactivate."""

from __future__ import annotations

from aiohttp import web

from connector.api.body import json_response
from connector.api.management.common import Body
from connector.controlplane.retirements import RetirementService
from connector.management_codec.retirements import parse_retirement, render_retirement

BASE = "/v3/contractagreements/retirements"


def retirement_routes(retirements: RetirementService, body: Body) -> list[web.RouteDef]:
    async def retire(request: web.Request) -> web.Response:
        await retirements.retire(parse_retirement(await body.json(request)))
        return web.Response(status=204)

    async def query(request: web.Request) -> web.Response:
        items = [render_retirement(entry) for entry in await retirements.list()]
        return json_response(await body.query(request, items))

    async def reactivate(request: web.Request) -> web.Response:
        await retirements.reactivate(request.match_info["id"])
        return web.Response(status=204)

    return [
        web.post(BASE, retire),
        web.post(BASE + "/request", query),
        web.delete(BASE + "/{id}", reactivate),
    ]
