"""``POST /v3/edrs/{id}/fetch``: Karez downloads a started pull into a local folder (a Karez
extension; the transfer shows the progress as ``karez:fetch`` and ``karez:received``)."""

from __future__ import annotations

from aiohttp import web

from connector.api.body import json_response
from connector.api.management.common import Body
from connector.fetch_jobs import FetchJobs
from connector.management_codec.edrs import parse_fetch_request
from connector.management_codec.transfers import render_transfer


def fetch_routes(jobs: FetchJobs, body: Body) -> list[web.RouteDef]:
    async def fetch(request: web.Request) -> web.Response:
        folder = parse_fetch_request(await body.json(request))
        t = await jobs.start(request.match_info["id"], folder)
        return json_response(render_transfer(t))

    return [web.post("/v3/edrs/{id}/fetch", fetch)]
