"""A stand-in public data plane for source tests: ``serve`` behind a real aiohttp server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from connector.dataplane import serve
from connector.errors import KarezError

Completions = list[tuple[int, str | None]]
Start = Callable[..., Awaitable[tuple[TestClient, Completions]]]


@asynccontextmanager
async def public_endpoints() -> AsyncIterator[Start]:
    """Gives ``start(address, secrets={}) -> (client, completions)``: a server whose
    ``/public`` serves ``address`` (with the provider's secrets ``secrets``), as
    ``connector.api.public`` does; all are closed on exit."""
    clients: list[TestClient] = []

    async def _start(
        address: dict[str, Any], secrets: dict[str, str] | None = None
    ) -> tuple[TestClient, Completions]:
        completions: Completions = []

        async def resolve(name: str) -> str | None:
            return (secrets or {}).get(name)

        async def handler(request: web.Request) -> web.StreamResponse:
            async def done(n: int, sha: str | None) -> None:
                completions.append((n, sha))

            try:
                return await serve(
                    request,
                    address,
                    sub_path=request.match_info.get("tail", ""),
                    secret_resolver=resolve,
                    http_session=None,  # type: ignore[arg-type]
                    on_complete=done,
                )
            except KarezError as exc:
                return web.json_response({"errors": [exc.message]}, status=exc.status)

        sub = web.Application()
        sub.router.add_route("*", "", handler)
        sub.router.add_route("*", "/{tail:.*}", handler)
        app = web.Application()
        app.add_subapp("/public", sub)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client, completions

    try:
        yield _start
    finally:
        for client in clients:
            await client.close()
