"""Memory stays bounded while large bodies stream through the data plane."""

from __future__ import annotations

import hashlib
import tracemalloc

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from connector.dataplane import serve

TOTAL = 200 * 1024 * 1024
PIECE = bytes(range(256)) * 1024  # 256 KiB, reused by the backend
#: Peak of Python allocations allowed during a transfer: a few chunks and buffers, not the body.
LIMIT = 8 * 1024 * 1024


async def big(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_length = TOTAL
    await response.prepare(request)
    for _ in range(TOTAL // len(PIECE)):
        await response.write(PIECE)
    await response.write_eof()
    return response


@pytest.fixture
async def servers():
    backend = TestServer(web.Application())
    backend.app.router.add_get("/big", big)
    await backend.start_server()
    session = aiohttp.ClientSession()
    addresses: dict[str, dict] = {}
    completions: list[tuple[int, str | None]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        return await serve(
            request,
            addresses[request.match_info["kind"]],
            sub_path="",
            secret_resolver=None,
            http_session=session,
            on_complete=lambda n, sha: completions.append((n, sha)),
        )

    app = web.Application()
    app.router.add_get("/public/{kind}", handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    addresses["http"] = {"type": "HttpData", "baseUrl": f"http://127.0.0.1:{backend.port}/big"}
    yield client, addresses, completions
    await client.close()
    await session.close()
    await backend.close()


async def drain(client: TestClient, path: str) -> tuple[int, str, int]:
    tracemalloc.start()
    try:
        resp = await client.get(path)
        assert resp.status == 200
        digest, size = hashlib.sha256(), 0
        async for chunk in resp.content.iter_chunked(256 * 1024):
            digest.update(chunk)
            size += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return size, digest.hexdigest(), peak


async def test_200_mib_through_the_http_proxy(servers):
    client, _, completions = servers
    size, sha, peak = await drain(client, "/public/http")
    assert size == TOTAL
    assert completions == [(TOTAL, sha)]
    assert peak < LIMIT, f"peak {peak / 2**20:.1f} MiB"


async def test_200_mib_file(servers, tmp_path):
    client, addresses, completions = servers
    path = tmp_path / "sparse.bin"
    with open(path, "wb") as f:
        f.truncate(TOTAL)  # sparse: no disk use, reads as zeros
    addresses["file"] = {"type": "File", "path": str(path)}
    size, sha, peak = await drain(client, "/public/file")
    assert size == TOTAL
    assert completions == [(TOTAL, sha)]
    assert peak < LIMIT, f"peak {peak / 2**20:.1f} MiB"
