"""The File source behind a real aiohttp server on loopback: full bodies, ranges, HEAD, errors."""

from __future__ import annotations

import hashlib
import os
from email.utils import formatdate

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from connector.dataplane import serve
from connector.errors import KarezError

SIZE = 5 * 1024 * 1024 + 123


@pytest.fixture
def blob(tmp_path):
    data = os.urandom(SIZE)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    return path, data


@pytest.fixture
async def start():
    """``start(address) -> (client, completions)``: a public endpoint serving ``address``."""
    clients: list[TestClient] = []

    async def _start(address):
        completions: list[tuple[int, str | None]] = []

        async def handler(request: web.Request) -> web.StreamResponse:
            async def done(n: int, sha: str | None) -> None:
                completions.append((n, sha))

            try:
                return await serve(
                    request,
                    address,
                    sub_path=request.match_info["tail"],
                    secret_resolver=None,
                    http_session=None,
                    on_complete=done,
                )
            except KarezError as exc:
                return web.json_response({"message": exc.message}, status=exc.status)

        app = web.Application()
        app.router.add_route("*", "/public/{tail:.*}", handler)
        client = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client, completions

    yield _start
    for client in clients:
        await client.close()


async def test_whole_file_streams_with_hash(blob, start):
    path, data = blob
    client, done = await start({"type": "File", "path": str(path)})
    resp = await client.get("/public/")
    assert resp.status == 200
    assert resp.headers["Content-Length"] == str(SIZE)
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["Content-Type"] == "application/octet-stream"
    assert await resp.read() == data
    assert done == [(SIZE, hashlib.sha256(data).hexdigest())]


@pytest.mark.parametrize(
    ("header", "start_", "end"),
    [
        ("bytes=100-199", 100, 199),
        ("bytes=4000000-", 4000000, SIZE - 1),
        ("bytes=-1000", SIZE - 1000, SIZE - 1),
        ("bytes=0-999999999", 0, SIZE - 1),
        ("bytes=1048570-3145730", 1048570, 3145730),
    ],
)
async def test_ranges(blob, start, header, start_, end):
    path, data = blob
    client, done = await start({"type": "File", "path": str(path)})
    resp = await client.get("/public/", headers={"Range": header})
    assert resp.status == 206
    assert resp.headers["Content-Range"] == f"bytes {start_}-{end}/{SIZE}"
    assert int(resp.headers["Content-Length"]) == end - start_ + 1
    assert await resp.read() == data[start_ : end + 1]
    assert done == [(end - start_ + 1, None)]


async def test_unsatisfiable_range(blob, start):
    path, _ = blob
    client, _ = await start({"type": "File", "path": str(path)})
    resp = await client.get("/public/", headers={"Range": f"bytes={SIZE}-"})
    assert resp.status == 416
    assert resp.headers["Content-Range"] == f"bytes */{SIZE}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "lines=1-2", "bytes=9-1", "bytes=x-"])
async def test_unusable_range_headers_are_ignored(blob, start, header):
    path, data = blob
    client, _ = await start({"type": "File", "path": str(path)})
    resp = await client.get("/public/", headers={"Range": header})
    assert resp.status == 200 and len(await resp.read()) == SIZE


async def test_if_range(blob, start):
    path, data = blob
    client, _ = await start({"type": "File", "path": str(path)})
    etag = (await client.head("/public/")).headers["ETag"]
    last_modified = formatdate(int(os.stat(path).st_mtime), usegmt=True)
    for validator, status in [
        (etag, 206),
        (last_modified, 206),
        ('"stale"', 200),
        (f"W/{etag}", 200),
        ("Mon, 01 Jan 2001 00:00:00 GMT", 200),
    ]:
        resp = await client.get("/public/", headers={"Range": "bytes=0-9", "If-Range": validator})
        assert resp.status == status, validator
        body = await resp.read()
        assert body == (data[:10] if status == 206 else data)


async def test_head(blob, start):
    path, _ = blob
    client, done = await start({"type": "File", "path": str(path)})
    resp = await client.head("/public/")
    assert resp.status == 200 and resp.headers["Content-Length"] == str(SIZE)
    assert await resp.read() == b""
    resp = await client.head("/public/", headers={"Range": "bytes=10-19"})
    assert resp.status == 206 and resp.headers["Content-Length"] == "10"
    assert done == [(0, None), (0, None)]


async def test_content_type(tmp_path, start):
    path = tmp_path / "doc.json"
    path.write_text("{}")
    client, _ = await start({"type": "File", "path": str(path)})
    assert (await client.get("/public/")).headers["Content-Type"] == "application/json"
    client, _ = await start({"type": "File", "path": str(path), "contentType": "text/x-custom"})
    assert (await client.get("/public/")).headers["Content-Type"] == "text/x-custom"


async def test_empty_file(tmp_path, start):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    client, done = await start({"type": "File", "path": str(path)})
    resp = await client.get("/public/", headers={"Range": "bytes=0-"})
    assert resp.status == 200 and await resp.read() == b""
    assert done == [(0, hashlib.sha256(b"").hexdigest())]


async def test_vanished_file_is_a_neutral_404(blob, start):
    path, _ = blob
    client, done = await start({"type": "File", "path": str(path)})
    path.unlink()
    resp = await client.get("/public/")
    assert resp.status == 404
    body = await resp.text()
    assert str(path) not in body and "data.bin" not in body
    assert done == []


async def test_a_directory_is_listed(tmp_path, start):
    """A folder is shared as a listing (the folder tests cover the rest)."""
    (tmp_path / "a.csv").write_bytes(b"x")
    client, _ = await start({"type": "File", "path": str(tmp_path)})
    resp = await client.get("/public/")
    assert resp.status == 200
    assert [f["path"] for f in (await resp.json())["files"]] == ["a.csv"]


@pytest.mark.parametrize("address", [{"type": "File"}, {"type": "File", "path": "relative/x"}])
async def test_misconfigured_address_is_500(start, address):
    client, _ = await start(address)
    resp = await client.get("/public/")
    assert resp.status == 500


async def test_only_get_and_head(blob, start):
    path, _ = blob
    client, _ = await start({"type": "File", "path": str(path)})
    assert (await client.post("/public/", data=b"x")).status == 400


async def test_unknown_type_and_edc_iri_keys(blob, start):
    path, data = blob
    client, _ = await start({"type": "AmazonS3", "path": str(path)})
    assert (await client.get("/public/")).status == 500
    edc = "https://w3id.org/edc/v0.0.1/ns/"
    client, _ = await start({f"{edc}type": "File", f"{edc}path": str(path)})
    assert await (await client.get("/public/")).read() == data
