"""The HttpData source proxying to a real backend on loopback."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from yarl import URL

from connector.dataplane import serve
from connector.dataplane.http_request import build_backend_request
from connector.errors import KarezError

BIG = 8 * 1024 * 1024 + 7
PATTERN = bytes(range(256)) * 4096  # 1 MiB


async def echo(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "method": request.method,
            "path": request.raw_path.split("?")[0],
            "query": request.rel_url.raw_query_string,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "body": (await request.read()).decode(),
        }
    )


async def big(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/x-big"})
    if request.query.get("chunked") != "1":
        response.content_length = BIG
    await response.prepare(request)
    if request.method == "GET":
        left = BIG
        while left:
            piece = PATTERN[: min(left, len(PATTERN))]
            await response.write(piece)
            left -= len(piece)
    await response.write_eof()
    return response


def big_bytes() -> bytes:
    return (PATTERN * (BIG // len(PATTERN) + 1))[:BIG]


async def status(request: web.Request) -> web.Response:
    code = int(request.match_info["code"])
    headers = {"Location": "http://internal.example/secret"} if 300 <= code < 400 else None
    return web.Response(status=code, text=f"backend says {code}", headers=headers)


async def gzipped(request: web.Request) -> web.Response:
    return web.Response(
        body=gzip.compress(b"hello " * 1000),
        headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
    )


async def truncated(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    response.content_length = 1_000_000
    await response.prepare(request)
    await response.write(b"x" * 1000)
    request.transport.close()
    return response


@pytest.fixture
async def backend():
    app = web.Application()
    app.router.add_route("*", "/api/echo/{tail:.*}", echo)
    app.router.add_route("*", "/api/echo", echo)
    app.router.add_route("*", "/api/big", big)
    app.router.add_route("*", "/api/status/{code}", status)
    app.router.add_get("/api/gzip", gzipped)
    app.router.add_get("/api/truncated", truncated)
    server = TestServer(app)
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}/api"
    await server.close()


@pytest.fixture
async def start():
    """``start(address, secrets=None) -> (client, completions, secret_lookups)``."""
    clients: list[TestClient] = []
    session = aiohttp.ClientSession()

    async def _start(address, secrets=None):
        completions: list[tuple[int, str | None]] = []
        lookups: list[str] = []

        async def resolve(name: str) -> str | None:
            lookups.append(name)
            return (secrets or {}).get(name)

        async def handler(request: web.Request) -> web.StreamResponse:
            try:
                return await serve(
                    request,
                    address,
                    sub_path=request.match_info["tail"],
                    secret_resolver=resolve,
                    http_session=session,
                    on_complete=lambda n, sha: completions.append((n, sha)),
                )
            except KarezError as exc:
                return web.json_response({"message": exc.message}, status=exc.status)

        app = web.Application()
        app.router.add_route("*", "/public/{tail:.*}", handler)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client, completions, lookups

    yield _start
    for client in clients:
        await client.close()
    await session.close()


async def echoed(resp) -> dict:
    assert resp.status == 200, await resp.text()
    return json.loads(await resp.text())


async def test_fixed_address_ignores_the_consumer_request(backend, start):
    client, done, _ = await start(
        {
            "type": "HttpData",
            "baseUrl": backend,
            "path": "/echo/fixed",
            "queryParams": "a=1&b=x%26y",
        }
    )
    resp = await client.post("/public/some/thing?x=1", data=b"ignored")
    seen = await echoed(resp)
    assert seen["method"] == "GET"
    assert seen["path"] == "/api/echo/fixed"
    assert seen["query"] == "a=1&b=x%26y"
    assert seen["body"] == ""
    assert resp.headers["Content-Type"].startswith("application/json")
    assert len(done) == 1 and done[0][1] is not None


async def test_proxy_path_and_query(backend, start):
    address = {
        "type": "HttpData",
        "baseUrl": backend + "/",
        "path": "/ignored-when-proxying",
        "queryParams": "a=1",
        "proxyPath": "true",
        "proxyQueryParams": "true",
    }
    client, _, _ = await start(address)
    seen = await echoed(await client.get("/public/echo/items/42?x=1&y=%20z"))
    assert seen["path"] == "/api/echo/items/42"
    assert seen["query"] == "a=1&x=1&y=%20z"


async def test_proxy_flags_off_by_default_and_false_strings(backend, start):
    address = {
        "type": "HttpData",
        "baseUrl": backend + "/echo",
        "proxyPath": "false",
        "proxyQueryParams": "False",
    }
    client, _, _ = await start(address)
    seen = await echoed(await client.get("/public/elsewhere?x=1"))
    assert (seen["path"], seen["query"]) == ("/api/echo", "")


async def test_dot_segments_cannot_escape_base_url(backend, start):
    client, _, _ = await start({"type": "HttpData", "baseUrl": backend, "proxyPath": "true"})
    resp = await client.get(URL("/public/echo/%2E%2E/%2E%2E/admin", encoded=True))
    assert resp.status == 400


async def test_proxy_method_and_body(backend, start):
    address = {
        "type": "HttpData",
        "baseUrl": backend + "/echo",
        "proxyMethod": "true",
        "proxyBody": "true",
    }
    client, _, _ = await start(address)
    resp = await client.put(
        "/public/", data=b'{"k": 1}', headers={"Content-Type": "application/json"}
    )
    seen = await echoed(resp)
    assert seen["method"] == "PUT"
    assert seen["body"] == '{"k": 1}'
    assert seen["headers"]["content-type"] == "application/json"
    seen = await echoed(await client.delete("/public/"))
    assert seen["method"] == "DELETE" and seen["body"] == ""


async def test_streamed_request_body(backend, start):
    address = {
        "type": "HttpData",
        "baseUrl": backend + "/echo",
        "proxyMethod": "true",
        "proxyBody": "true",
    }
    client, _, _ = await start(address)

    async def chunks():
        for i in range(50):
            yield f"{i:04d}".encode() * 1000

    seen = await echoed(await client.post("/public/", data=chunks()))
    assert len(seen["body"]) == 50 * 4000 and seen["body"].startswith("0000")


async def test_method_from_address_and_fixed_body(backend, start):
    address = {
        "type": "HttpData",
        "baseUrl": backend + "/echo",
        "method": "post",
        "body": "fixed body",
        "contentType": "text/plain",
    }
    client, _, _ = await start(address)
    seen = await echoed(await client.get("/public/"))
    assert seen["method"] == "POST" and seen["body"] == "fixed body"
    assert seen["headers"]["content-type"] == "text/plain"


async def test_auth_key_and_code_and_extra_headers(backend, start):
    address = {
        "type": "HttpData",
        "baseUrl": backend + "/echo",
        "authKey": "X-Api-Key",
        "authCode": "backend-secret-123",
        "header:X-Extra": "extra",
        "header:Content-Type": "must/not-apply",
    }
    client, _, _ = await start(address)
    resp = await client.get(
        "/public/",
        headers={"Authorization": "Bearer consumer-token", "Cookie": "c=1", "Accept": "x/y"},
    )
    seen = await echoed(resp)
    assert seen["headers"]["x-api-key"] == "backend-secret-123"
    assert seen["headers"]["x-extra"] == "extra"
    assert seen["headers"]["accept"] == "x/y"
    assert "authorization" not in seen["headers"] and "cookie" not in seen["headers"]
    assert "content-type" not in seen["headers"]


@pytest.mark.parametrize(
    ("secret", "expected"),
    [("vault-secret", "vault-secret"), ('{"token": "from-json"}', "from-json")],
)
async def test_auth_from_secret(backend, start, secret, expected):
    address = {"type": "HttpData", "baseUrl": backend + "/echo", "secretName": "backend-key"}
    client, _, lookups = await start(address, secrets={"backend-key": secret})
    seen = await echoed(await client.get("/public/"))
    assert seen["headers"]["authorization"] == expected
    assert lookups == ["backend-key"]


async def test_missing_secret_is_an_error_without_details(backend, start):
    address = {
        "type": "HttpData",
        "baseUrl": backend + "/echo",
        "authKey": "X-K",
        "secretName": "nope",
    }
    client, done, _ = await start(address)
    resp = await client.get("/public/")
    assert resp.status == 500 and "nope" not in await resp.text()
    assert done == []


async def test_backend_down_is_502_and_leaks_nothing(start):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = {
        "type": "HttpData",
        "baseUrl": f"http://127.0.0.1:{port}/hidden",
        "queryParams": "api_key=qp-secret",
        "authKey": "X-Api-Key",
        "authCode": "backend-secret-123",
    }
    client, done, _ = await start(address)
    resp = await client.get("/public/")
    assert resp.status == 502
    text = await resp.text()
    for leak in ("backend-secret-123", "qp-secret", "hidden", str(port)):
        assert leak not in text
    assert done == []


@pytest.mark.parametrize(
    ("code", "expected"), [(404, 404), (400, 400), (500, 502), (503, 502), (302, 502), (401, 502)]
)
async def test_backend_statuses(backend, start, code, expected):
    client, _, _ = await start({"type": "HttpData", "baseUrl": f"{backend}/status/{code}"})
    resp = await client.get("/public/")
    assert resp.status == expected
    text = await resp.text()
    assert "internal.example" not in text
    if expected == code:
        assert text == f"backend says {code}"


async def test_large_body_streams_with_length_and_hash(backend, start):
    client, done, _ = await start({"type": "HttpData", "baseUrl": backend + "/big"})
    resp = await client.get("/public/")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == str(BIG)
    assert resp.headers["Content-Type"] == "application/x-big"
    digest = hashlib.sha256()
    async for chunk in resp.content.iter_chunked(65536):
        digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(big_bytes()).hexdigest()
    assert done == [(BIG, digest.hexdigest())]


async def test_chunked_backend_body(backend, start):
    client, done, _ = await start(
        {"type": "HttpData", "baseUrl": backend + "/big", "queryParams": "chunked=1"}
    )
    resp = await client.get("/public/")
    assert "Content-Length" not in resp.headers
    assert len(await resp.read()) == BIG
    assert done[0][0] == BIG


async def test_head_is_sent_as_head(backend, start):
    client, done, _ = await start({"type": "HttpData", "baseUrl": backend + "/big"})
    resp = await client.head("/public/")
    assert resp.status == 200 and resp.headers["Content-Length"] == str(BIG)
    assert await resp.read() == b""
    assert done == [(0, None)]


async def test_range_is_forwarded(backend, start):
    client, done, _ = await start({"type": "HttpData", "baseUrl": backend + "/echo"})
    headers = {"Range": "bytes=0-9", "Accept-Encoding": "br"}
    seen = await echoed(await client.get("/public/", headers=headers))
    assert seen["headers"]["range"] == "bytes=0-9"
    assert seen["headers"]["accept-encoding"] == "br"


async def test_backend_request_defaults_to_identity_encoding():
    request = make_mocked_request("GET", "/public/x?q=1", headers={"Host": "h"})
    spec = await build_backend_request(
        request,
        {"type": "HttpData", "baseUrl": "http://b/api?k=v"},
        sub_path="x",
        secret_resolver=None,
    )
    assert spec.headers["Accept-Encoding"] == "identity"
    assert str(spec.url) == "http://b/api?k=v"
    assert "headers" not in repr(spec)


async def test_compressed_body_passes_through_untouched(backend, start):
    client, done, _ = await start({"type": "HttpData", "baseUrl": backend + "/gzip"})
    resp = await client.get("/public/", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert await resp.read() == b"hello " * 1000  # the test client decompresses
    assert done[0][0] == int(resp.headers["Content-Length"])


async def test_backend_failing_mid_stream_drops_the_connection(backend, start):
    client, done, _ = await start({"type": "HttpData", "baseUrl": backend + "/truncated"})
    resp = await client.get("/public/")
    assert resp.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    assert done == []


async def test_misconfigured_addresses(start):
    for address in (
        {"type": "HttpData"},
        {"type": "HttpData", "baseUrl": "ftp://x/y"},
        {"type": "HttpData", "baseUrl": "http://x", "authKey": "X-K"},
        {"type": "HttpData", "baseUrl": "http://x", "authCode": "a\r\nInjected: 1"},
    ):
        client, _, _ = await start(address)
        resp = await client.get("/public/")
        assert resp.status == 500, address
        assert "Injected" not in await resp.text()
