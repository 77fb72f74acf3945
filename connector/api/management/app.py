"""Assembles the Management API from its resource routes."""

from __future__ import annotations

from aiohttp import web

from connector.api.body import json_response
from connector.api.management.auth import ManagementAuth
from connector.api.management.common import Body, auth_and_errors
from connector.api.management.definitions import definition_routes
from connector.api.management.fetch import fetch_routes
from connector.api.management.node_info import StatusProbe, node_info_routes
from connector.api.management.processes import process_routes
from connector.api.management.retirements import retirement_routes


def build_management_root(
    *,
    auth: ManagementAuth,
    base_path: str,
    max_body: int,
    public_url: str,
    transfer_types: tuple[str, ...],
    remote_dataplane_url: str | None = None,
    remote_dataplane_status: StatusProbe | None = None,
    **services: object,
) -> web.Application:
    body = Body(max_body)
    api = web.Application(middlewares=[auth_and_errors(auth, open_paths=("/openapi.json",))])
    entities = services.pop("entities")
    retirements = services.pop("retirements", None)
    fetch_jobs = services.pop("fetch_jobs", None)
    api.add_routes(definition_routes(entities, body))  # type: ignore[arg-type]
    api.add_routes(retirement_routes(retirements, body))  # type: ignore[arg-type]
    api.add_routes(fetch_routes(fetch_jobs, body))  # type: ignore[arg-type]
    api.add_routes(process_routes(entities=entities, body=body, **services))  # type: ignore[arg-type]
    api.add_routes(
        node_info_routes(public_url, transfer_types, remote_dataplane_url, remote_dataplane_status)
    )

    async def openapi(request: web.Request) -> web.Response:
        from connector.api.management.openapi import openapi_document

        return json_response(openapi_document(base_path))

    api.router.add_get("/openapi.json", openapi)
    root = web.Application()
    root.cleanup_ctx.append(auth.lifecycle)  # fetches and refreshes keys from a JWKS URL
    root.add_subapp(base_path, api)
    return root
