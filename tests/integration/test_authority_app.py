"""The authority app on a real loopback port: its DID resolves, its status list is checked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port

from connector.api.authority import DID_MEDIA_TYPE, VC_JWT_MEDIA_TYPE, build_authority_app
from connector.errors import Unauthorized
from connector.identity import status_list as sl
from connector.identity import vc
from connector.identity.did import DidResolver, ResolvedDid
from connector.issuer import Authority

USCC = "91350100M000100Y43"
MEMBER = "did:web:member.example"


async def _serve(authority: Authority, port: int) -> AsyncIterator[Authority]:
    server = TestServer(build_authority_app(authority), host="127.0.0.1", port=port)
    await server.start_server()
    try:
        yield authority
    finally:
        await server.close()


@pytest.fixture
async def served(tmp_path) -> AsyncIterator[Authority]:
    port = unused_port()
    authority = Authority.init(tmp_path / "authority", f"did:web:127.0.0.1%3A{port}")
    async for running in _serve(authority, port):
        yield running


@pytest.fixture
async def served_with_path(tmp_path) -> AsyncIterator[Authority]:
    port = unused_port()
    did = f"did:web:127.0.0.1%3A{port}:sector:textiles"
    async for running in _serve(Authority.init(tmp_path / "sector", did), port):
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def resolver(session: aiohttp.ClientSession) -> DidResolver:
    async def fetch(url: str) -> dict[str, Any]:
        async with session.get(url) as resp:
            resp.raise_for_status()
            assert resp.content_type == DID_MEDIA_TYPE
            return await resp.json(content_type=None)

    return DidResolver(fetch, allow_http_hosts={"127.0.0.1"})


def lookup_in(doc: ResolvedDid):
    """A key lookup that trusts what the issuer's resolved DID document lists."""

    def lookup(issuer: str, kid: str):
        return doc.key(kid, "assertionMethod") if issuer == doc.did else None

    return lookup


async def test_did_resolves_over_loopback(served, session):
    doc = await resolver(session).resolve(served.did)
    assert doc.did == served.did and list(doc.keys) == [served.kid]
    token = served.issue_certification(
        MEMBER, "cert:export-security-assessment", datetime.now(UTC) + timedelta(days=30)
    )
    credential = vc.verify_credential(token, lookup_in(doc), datetime.now(UTC))
    assert credential.issuer == served.did


async def test_did_with_a_path_resolves(served_with_path, session):
    doc = await resolver(session).resolve(served_with_path.did)
    assert doc.did == served_with_path.did
    assert served_with_path.status_list_url.endswith("/status/1")
    async with session.get(served_with_path.status_list_url) as resp:
        assert resp.status == 200


async def test_status_list_before_and_after_revocation(served, session):
    doc = await resolver(session).resolve(served.did)
    lookup = lookup_in(doc)
    token = served.issue_membership(
        MEMBER,
        "Kashgar Cotton Co.",
        USCC,
        ["cluster10:cotton-textiles"],
        "jurisdiction:CN-XJ",
        "orgtype:data-merchant",
    )
    credential = vc.verify_credential(token, lookup, datetime.now(UTC))
    fetched: list[str] = []

    async def fetch_list(url: str) -> str:
        fetched.append(url)
        async with session.get(url) as resp:
            resp.raise_for_status()
            assert resp.content_type == VC_JWT_MEDIA_TYPE
            return await resp.text()

    async def is_revoked() -> bool:
        return await sl.check_status(
            credential.status_entry,
            fetch_list,
            sl.StatusListCache(),
            datetime.now(UTC),
            key_lookup=lookup,
            expected_issuer=served.did,
        )

    assert not await is_revoked()
    Authority.open(served.folder).revoke(credential.id)  # as `karez issuer revoke` would
    assert await is_revoked()
    assert fetched == [served.status_list_url] * 2

    # a list signed by someone else is refused
    stranger = Authority.init(served.folder.parent / "stranger", served.did)
    with pytest.raises(Unauthorized, match="verification failed"):
        await sl.check_status(
            credential.status_entry,
            lambda url: _const(stranger.status_list_jwt()),
            sl.StatusListCache(),
            datetime.now(UTC),
            key_lookup=lookup,
        )


async def _const(value: str) -> str:
    return value
