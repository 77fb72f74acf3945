"""Fetching into a local folder: resumption after a broken connection, and a provider's listing
that tries to lead out of the folder."""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket

import aiohttp
import pytest
from aiohttp import web

from connector.dataplane.fetch import fetch_into
from connector.dataplane.files import LISTING_HEADER
from connector.errors import Forbidden

DATA = os.urandom(3 * 1024 * 1024)


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def token() -> str:
    return "Bearer t"


async def test_a_broken_download_is_resumed_with_range(tmp_path):
    requests: list[str | None] = []

    async def flaky(request: web.Request) -> web.StreamResponse:
        requests.append(request.headers.get("Range"))
        if len(requests) == 1:  # send a third, then break the connection
            response = web.StreamResponse(headers={"Content-Length": str(len(DATA))})
            await response.prepare(request)
            await response.write(DATA[: len(DATA) // 3])
            await asyncio.sleep(0.1)  # let the third reach the client
            request.transport.abort()
            return response
        start = int(request.headers["Range"].removeprefix("bytes=").rstrip("-"))
        return web.Response(
            status=206,
            body=DATA[start:],
            headers={"Content-Range": f"bytes {start}-{len(DATA) - 1}/{len(DATA)}"},
        )

    app = web.Application()
    app.router.add_get("/data", flaky)
    runner, base = await serve(app)
    try:
        async with aiohttp.ClientSession() as http:
            (written,) = await fetch_into(http, base + "/data", token, str(tmp_path), "yields")
    finally:
        await runner.cleanup()
    assert requests[0] is None and requests[1].startswith("bytes=")
    assert (tmp_path / "yields").read_bytes() == DATA
    assert written.sha256 == hashlib.sha256(DATA).hexdigest() and written.size == len(DATA)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("path", ["../escape.csv", "/etc/cron.d/x", ".ssh/authorized_keys"])
async def test_a_listing_cannot_lead_out_of_the_folder(tmp_path, path):
    async def listing(request: web.Request) -> web.Response:
        return web.json_response(
            {"files": [{"path": path, "size": 1}]}, headers={LISTING_HEADER: "folder"}
        )

    async def anything(request: web.Request) -> web.Response:
        return web.Response(body=b"owned")

    app = web.Application()
    app.router.add_get("/data", listing)
    app.router.add_get("/data/{tail:.*}", anything)
    runner, base = await serve(app)
    target = tmp_path / "into"
    try:
        async with aiohttp.ClientSession() as http:
            with pytest.raises(Forbidden):
                await fetch_into(http, base + "/data", token, str(target), "x")
    finally:
        await runner.cleanup()
    assert not (tmp_path / "escape.csv").exists()
    assert not list(target.rglob("*")) if target.exists() else True
