"""What the node says about itself: its data planes and the API versions it serves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from connector.api.body import json_response
from connector.dataplane.sources import source_types
from connector.management_codec.common import RESPONSE_CONTEXT

#: Asks a separate data plane for its status (``None`` when it does not answer).
StatusProbe = Callable[[], Awaitable[dict[str, Any] | None]]


def node_info_routes(
    public_url: str,
    transfer_types: tuple[str, ...],
    remote_dataplane_url: str | None = None,
    remote_dataplane_status: StatusProbe | None = None,
) -> list[web.RouteDef]:
    dataplane = {
        "@context": RESPONSE_CONTEXT,
        "@id": "embedded",
        "@type": "DataPlaneInstance",
        "url": public_url,
        "allowedSourceTypes": source_types(),
        "allowedDestTypes": ["HttpData", "File"],
        "allowedTransferTypes": list(transfer_types),
        "state": "AVAILABLE",
    }
    versions: dict[str, Any] = {
        "management": [{"version": "3.0.0", "urlPath": "/v3", "maturity": "stable"}],
        "protocol": [{"version": "2025-1", "binding": "HTTPS"}],
    }

    async def separate_state() -> str:
        """AVAILABLE when the separate data plane answers its status call, else UNAVAILABLE
        (REGISTERED when the node has no way to ask)."""
        if remote_dataplane_status is None:
            return "REGISTERED"
        status = await remote_dataplane_status()
        return "AVAILABLE" if status and status.get("state") == "AVAILABLE" else "UNAVAILABLE"

    async def dataplanes(request: web.Request) -> web.Response:
        listed = [dataplane]
        if remote_dataplane_url:  # transfers are served by a separate data plane
            listed.append(
                {
                    **dataplane,
                    "@id": "separate",
                    "url": remote_dataplane_url,
                    "state": await separate_state(),
                }
            )
        return json_response(listed)

    async def version(request: web.Request) -> web.Response:
        return json_response(versions)

    return [web.get("/v3/dataplanes", dataplanes), web.get("/v1/version", version)]
