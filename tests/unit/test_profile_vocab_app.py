"""connector.api.vocab: the profile files served under /ns/."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from rdflib import Graph

from connector import profile
from connector.api.vocab import build_vocab_app
from connector.domain import KAREZ_NS


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    app = web.Application()
    app.add_subapp("/ns", build_vocab_app(max_age=600))
    async with TestClient(TestServer(app)) as c:
        yield c


DOCUMENTS = sorted(profile.documents().items())


@pytest.mark.parametrize(("iri", "doc"), DOCUMENTS, ids=[d.file for _, d in DOCUMENTS])
async def test_every_document_is_served_with_its_media_type(
    client: TestClient, iri: str, doc: profile.Document
) -> None:
    path = "/ns/" + iri.removeprefix(KAREZ_NS)
    r = await client.get(path)
    assert r.status == 200
    assert r.content_type == doc.media_type
    body = await r.read()
    assert body == (profile.vocab_dir() / doc.file).read_bytes()
    assert r.headers["Cache-Control"] == "public, max-age=600"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["ETag"].startswith('"') and r.headers["ETag"].endswith('"')
    if doc.media_type == "text/turtle":
        assert r.charset == "utf-8"
        assert len(Graph().parse(data=body.decode(), format="turtle")) > 0
    if doc.media_type == "application/ld+json":
        assert "@context" in json.loads(body)


async def test_the_namespace_root_gives_the_index(client: TestClient) -> None:
    for path in ("/ns/", "/ns/index.json"):
        r = await client.get(path)
        assert r.status == 200 and r.content_type == "application/json"
        index = await r.json()
        assert index["namespace"] == KAREZ_NS
        assert index["documents"][KAREZ_NS + "karez.ttl"]["mediaType"] == "text/turtle"
    r = await client.get("/ns/")
    assert r.headers["Vary"] == "Accept"


async def test_a_turtle_client_at_the_root_is_sent_to_the_ontology(client: TestClient) -> None:
    r = await client.get("/ns/", headers={"Accept": "text/turtle"}, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == "/ns/karez.ttl"
    r = await client.get("/ns/", headers={"Accept": "text/turtle;q=0.5, application/json"})
    assert r.status == 200 and r.content_type == "application/json"


async def test_if_none_match_gives_304(client: TestClient) -> None:
    r = await client.get("/ns/skos/clusters.ttl")
    etag = r.headers["ETag"]
    r = await client.get("/ns/skos/clusters.ttl", headers={"If-None-Match": etag})
    assert r.status == 304 and r.headers["ETag"] == etag and await r.read() == b""
    r = await client.get("/ns/skos/clusters.ttl", headers={"If-None-Match": '"other"'})
    assert r.status == 200
    other = await client.get("/ns/skos/clusters10.ttl")
    assert other.headers["ETag"] != etag


async def test_head(client: TestClient) -> None:
    r = await client.head("/ns/context.jsonld")
    assert r.status == 200 and r.content_type == "application/ld+json"
    size = len((profile.vocab_dir() / "context.jsonld").read_bytes())
    assert int(r.headers["Content-Length"]) == size


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/ns/compute", "/ns/karez.ttl"),
        ("/ns/profile", "/ns/karez.ttl"),
        ("/ns/cluster/cotton-textiles", "/ns/skos/clusters.ttl"),
        ("/ns/cluster10/logistics", "/ns/skos/clusters10.ttl"),
        ("/ns/scheme/level", "/ns/skos/levels.ttl"),
        ("/ns/jurisdiction/CN-XJ", "/ns/skos/jurisdictions.ttl"),
        ("/ns/purpose/research", "/ns/skos/purposes.ttl"),
    ],
)
async def test_terms_and_concepts_are_sent_to_their_file(
    client: TestClient, path: str, location: str
) -> None:
    r = await client.get(path, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"] == location
    followed = await client.get(path)
    assert followed.status == 200 and followed.content_type == "text/turtle"


@pytest.mark.parametrize(
    "path", ["/ns/nothing", "/ns/cluster/tea", "/ns/../pyproject.toml", "/ns/%2e%2e/pyproject.toml"]
)
async def test_unknown_paths_are_404(client: TestClient, path: str) -> None:
    r = await client.get(path, allow_redirects=False)
    assert r.status == 404


async def test_only_get_and_head(client: TestClient) -> None:
    r = await client.post("/ns/karez.ttl", data=b"x")
    assert r.status == 405
