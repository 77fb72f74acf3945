"""The DCP flow over loopback HTTP: a holder's credential service, an authority, a verifier.

Two in-process aiohttp servers: the holder (its did.json and credential service) and the
authority's web (the authority's and the verifier's did.json, and the revocation status list).
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from connector.api.credential_service import build_credential_service_app
from connector.errors import Unauthorized
from connector.identity import dcp, jose
from connector.identity.did import DidDocument, DidResolver
from connector.identity.keys import generate_key
from connector.identity.replay import ReplayCache
from connector.identity.status_list import (
    StatusList,
    StatusListCache,
    status_checker,
    status_entry,
    status_list_credential,
)
from connector.identity.trust_anchors import TrustAnchors
from connector.identity.vc import (
    CERTIFICATION_TYPE,
    MEMBERSHIP_TYPE,
    certification_subject,
    issue_credential,
    membership_subject,
)
from connector.identity.verifier import DcpVerifier, IssuerKeys, caller_token
from connector.identity.wallet import Wallet, id_scope, type_scope

LOOPBACK = "127.0.0.1"
MEMBER = type_scope(MEMBERSHIP_TYPE)
CERTIFIED = type_scope(CERTIFICATION_TYPE)
STATUS_TTL_S = 60


class Clock:
    """Epoch seconds that a test moves forward."""

    def __init__(self) -> None:
        self.t = float(int(datetime.now(UTC).timestamp()))

    def __call__(self) -> float:
        return self.t

    @property
    def dt(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


@dataclass
class Party:
    did: str
    key: Any = field(default_factory=generate_key)
    kid: str = ""
    doc: DidDocument | None = None

    def __post_init__(self) -> None:
        self.doc = DidDocument(self.did)
        self.kid = self.doc.add_key(self.key)


@dataclass
class Env:
    clock: Clock
    holder: Party
    authority: Party
    rogue: Party
    verifier_party: Party
    wallet: Wallet
    status: StatusList
    list_url: str
    verifier: DcpVerifier
    holder_resolver: DidResolver
    cs_url: str
    session: aiohttp.ClientSession
    documents: dict[str, Any]
    next_index: int = 0

    def credential(
        self,
        issuer: Party | None = None,
        types: tuple[str, ...] = (MEMBERSHIP_TYPE,),
        valid_until: datetime | None = None,
        with_status: bool = True,
    ) -> tuple[str, int]:
        """Issue a credential to the holder, add it to the wallet; returns (id, status index)."""
        issuer = issuer or self.authority
        index = self.next_index
        self.next_index += 1
        if MEMBERSHIP_TYPE in types:
            claims = membership_subject(
                self.holder.did,
                "Kashgar Cotton Co.",
                "91350100M000100Y43",
                ["cluster10:cotton-textiles"],
                "jurisdiction:xinjiang-ftz-kashgar",
                "orgtype:data-merchant",
            )
        else:
            claims = certification_subject(
                "cert:export-security-assessment", self.clock.dt + timedelta(days=900)
            )
        credential_id = f"urn:uuid:00000000-0000-4000-8000-{index:012d}"
        jwt = issue_credential(
            issuer.key,
            issuer.did,
            issuer.kid,
            self.holder.did,
            list(types),
            claims,
            self.clock.dt - timedelta(days=30),
            valid_until or self.clock.dt + timedelta(days=365),
            status_entry(self.list_url, index) if with_status else None,
            credential_id,
        )
        self.wallet.add(jwt)
        return credential_id, index

    async def holder_token(self, scopes: list[str] | None = None, audience: str | None = None):
        return caller_token(
            self.holder.key,
            self.holder.did,
            self.holder.kid,
            audience or self.verifier.own_did,
            [MEMBER] if scopes is None else scopes,
            now=self.clock(),
        )

    async def query(self, authorization: str | None, body: Any) -> tuple[int, Any]:
        headers = {} if authorization is None else {"Authorization": authorization}
        async with self.session.post(self.cs_url, json=body, headers=headers) as response:
            return response.status, await response.json()

    def verifier_token(self, scopes: list[str], holder_did: str | None = None) -> str:
        """What a verifier sends to the credential service, with an access token from the holder."""
        now = self.clock()
        holder_did = holder_did or self.holder.did
        access = dcp.issue_access_token(
            self.holder.key, self.holder.did, self.verifier_party.did, scopes,
            kid=self.holder.kid, now=now,
        )  # fmt: skip
        token = dcp.issue_self_issued_token(
            self.verifier_party.key, self.verifier_party.did, self.verifier_party.kid,
            holder_did, access, now=now,
        )  # fmt: skip
        return f"Bearer {token}"


def _socket() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    return sock, sock.getsockname()[1]


async def _serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


def _did_app(documents: dict[str, Any], *paths: str) -> web.Application:
    """Serves ``/<path>/did.json`` from ``documents[path]`` (looked up on each request)."""
    app = web.Application()
    for path in paths:

        async def did_json(_: web.Request, path: str = path) -> web.Response:
            return web.json_response(documents[path].to_json())

        app.router.add_get(f"/{path}/did.json", did_json)
    return app


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = Clock()
    holder_sock, holder_port = _socket()
    web_sock, web_port = _socket()
    holder = Party(f"did:web:{LOOPBACK}%3A{holder_port}:holder")
    authority = Party(f"did:web:{LOOPBACK}%3A{web_port}:authority")
    rogue = Party(f"did:web:{LOOPBACK}%3A{web_port}:rogue")
    verifier_party = Party(f"did:web:{LOOPBACK}%3A{web_port}:verifier")
    cs_base = f"http://{LOOPBACK}:{holder_port}/holder/cs"
    assert holder.doc is not None
    holder.doc.add_credential_service(cs_base)
    list_url = f"http://{LOOPBACK}:{web_port}/authority/status/1"
    status = StatusList()

    session = aiohttp.ClientSession()

    async def fetch(url: str) -> dict[str, Any]:
        async with session.get(url) as response:
            response.raise_for_status()
            return await response.json()

    async def fetch_list(url: str) -> str:
        async with session.get(url) as response:
            response.raise_for_status()
            return await response.text()

    async def http_post(url: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        async with session.post(url, json=body, headers=headers) as response:
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, None

    def resolver() -> DidResolver:
        return DidResolver(fetch, ttl_s=300, allow_http_hosts=[LOOPBACK], min_refresh_s=0)

    # the holder: did.json and credential service
    wallet = Wallet()
    holder_resolver = resolver()
    documents = {"holder": holder.doc, "authority": authority.doc, "rogue": rogue.doc}
    documents["verifier"] = verifier_party.doc
    holder_app = _did_app(documents, "holder")
    holder_app.add_subapp(
        "/holder/cs",
        build_credential_service_app(
            holder.did, holder.key, holder.kid, wallet, holder_resolver, ReplayCache(), clock
        ),
    )

    # the authority's web: DID documents and the status list
    web_app = _did_app(documents, "authority", "rogue", "verifier")

    async def status_list(_: web.Request) -> web.Response:
        jwt = status_list_credential(
            authority.key, authority.did, authority.kid, list_url, "revocation",
            status.encode(), clock.dt - timedelta(days=1),
        )  # fmt: skip
        return web.Response(text=jwt, content_type="application/vc+jwt")

    web_app.router.add_get("/authority/status/1", status_list)

    runners = [await _serve(holder_app, holder_sock), await _serve(web_app, web_sock)]
    verifier_resolver = resolver()
    issuer_keys = IssuerKeys(verifier_resolver)
    verifier = DcpVerifier(
        verifier_party.did,
        verifier_resolver,
        ReplayCache(),
        TrustAnchors({MEMBERSHIP_TYPE: [authority.did], CERTIFICATION_TYPE: [authority.did]}),
        status_checker(fetch_list, StatusListCache(ttl_s=STATUS_TTL_S), issuer_keys),
        http_post,
        verifier_party.key,
        verifier_party.kid,
        [MEMBER],
        clock,
        issuer_keys=issuer_keys,
    )
    try:
        yield Env(
            clock, holder, authority, rogue, verifier_party, wallet, status, list_url,
            verifier, holder_resolver, cs_base + "/presentations/query", session, documents,
        )  # fmt: skip
    finally:
        await session.close()
        for runner in runners:
            await runner.cleanup()


async def _refused(env: Env, authorization: str) -> str:
    with pytest.raises(Unauthorized) as info:
        await env.verifier.verify(authorization)
    return info.value.message


# --- the verifier, end to end ---------------------------------------------------------------


async def test_valid_member_passes_with_claims(env: Env) -> None:
    credential_id, _ = env.credential()
    caller, claims = await env.verifier.verify(await env.holder_token())
    assert caller == env.holder.did
    assert claims["legalName"] == "Kashgar Cotton Co."
    assert claims["clusters"] == ["https://w3id.org/karez/ns/cluster10/cotton-textiles"]
    assert claims["credentials"] == [credential_id]


async def test_verifier_caller_token_round_trip(env: Env) -> None:
    """A verifier's own caller token is what a peer verifier accepts (here: the holder's DID)."""
    token = await env.verifier.caller_token(env.holder.did)
    caller, access = await dcp.verify_self_issued_token(
        token, env.holder.did, env.holder_resolver, ReplayCache(), env.clock()
    )
    assert caller == env.verifier_party.did
    assert access is not None
    assert jose.decode_unverified(access)[1]["scope"] == MEMBER


async def test_wrong_audience(env: Env) -> None:
    env.credential()
    token = await env.holder_token(audience="did:web:someone-else.example")
    assert await _refused(env, token) == "self-issued token: wrong audience"


async def test_replayed_token(env: Env) -> None:
    env.credential()
    token = await env.holder_token()
    await env.verifier.verify(token)
    assert await _refused(env, token) == "self-issued token: token replayed"


async def test_forged_signature(env: Env) -> None:
    env.credential()
    forger = generate_key()
    access = dcp.issue_access_token(
        forger, env.holder.did, env.verifier.own_did, [MEMBER], kid=env.holder.kid
    )
    forged = dcp.issue_self_issued_token(
        forger, env.holder.did, env.holder.kid, env.verifier.own_did, access, now=env.clock()
    )
    assert await _refused(env, f"Bearer {forged}") == "self-issued token: bad signature"


async def test_missing_authorization(env: Env) -> None:
    assert await _refused(env, "") == "self-issued token: missing Authorization header"


async def test_presentation_without_the_required_credential(env: Env) -> None:
    env.credential()  # in the wallet, but the holder grants only certifications
    env.credential(types=(CERTIFICATION_TYPE,))
    reason = await _refused(env, await env.holder_token([CERTIFIED]))
    assert reason == f"credentials: missing required credential {MEMBERSHIP_TYPE}"


async def test_untrusted_issuer(env: Env) -> None:
    env.credential(issuer=env.rogue, with_status=False)
    reason = await _refused(env, await env.holder_token())
    assert reason == (
        f"credentials: credential 0: untrusted issuer {env.rogue.did} for type {MEMBERSHIP_TYPE}"
    )


async def test_expired_credential(env: Env) -> None:
    env.credential(valid_until=env.clock.dt - timedelta(days=1))
    reason = await _refused(env, await env.holder_token())
    assert reason == "credentials: credential 0: credential expired"


async def test_revoked_credential_after_status_cache_lifetime(env: Env) -> None:
    credential_id, index = env.credential()
    await env.verifier.verify(await env.holder_token())
    env.status.set(index)
    await env.verifier.verify(await env.holder_token())  # the cached list still says valid
    env.clock.t += STATUS_TTL_S + 1
    reason = await _refused(env, await env.holder_token())
    assert reason == f"credentials: credential 0 ({credential_id}): revocation: credential revoked"


async def test_holder_without_credential_service(env: Env) -> None:
    env.credential()
    unlisted = DidDocument(env.holder.did)  # the holder stops publishing its endpoint
    unlisted.add_key(env.holder.key)
    env.documents["holder"] = unlisted
    env.verifier.resolver.invalidate(env.holder.did)
    reason = await _refused(env, await env.holder_token())
    assert reason == "DID resolution: DID document has no 'CredentialService' service"


# --- the credential service -----------------------------------------------------------------


async def test_service_answers_only_the_granted_scopes(env: Env) -> None:
    member_id, _ = env.credential()
    env.credential(types=(CERTIFICATION_TYPE,))
    query = dcp.presentation_query_message([MEMBER, CERTIFIED])
    status, body = await env.query(env.verifier_token([MEMBER]), query)
    assert status == 200
    (vp,) = dcp.validate_presentation_response(body)
    assert isinstance(vp, str)
    claims = jose.decode_unverified(vp)[1]
    assert claims["aud"] == env.verifier_party.did
    enveloped = [c["id"] for c in claims["verifiableCredential"]]
    assert len(enveloped) == 1
    payload = enveloped[0].split(",", 1)[1].split(".")[1]
    assert json.loads(jose.b64url_decode(payload))["id"] == member_id


async def test_service_reads_edc_scope_aliases(env: Env) -> None:
    """An EDC verifier asks with ``org.eclipse.edc.vc.type``; the grant used the DCP alias."""
    env.credential()
    edc_scope = MEMBER.replace("org.eclipse.dspace.dcp.vc.type", "org.eclipse.edc.vc.type")
    query = dcp.presentation_query_message([edc_scope])
    status, body = await env.query(env.verifier_token([MEMBER]), query)
    assert status == 200
    (vp,) = dcp.validate_presentation_response(body)
    assert len(jose.decode_unverified(vp)[1]["verifiableCredential"]) == 1


async def test_service_selects_by_id(env: Env) -> None:
    _, _ = env.credential()
    cert_id, _ = env.credential(types=(CERTIFICATION_TYPE,))
    scope = id_scope(cert_id)
    status, body = await env.query(
        env.verifier_token([scope]), dcp.presentation_query_message([scope])
    )
    assert status == 200
    vp = dcp.validate_presentation_response(body)[0]
    assert isinstance(vp, str)
    assert len(jose.decode_unverified(vp)[1]["verifiableCredential"]) == 1


async def test_service_refuses_without_token(env: Env) -> None:
    status, body = await env.query(None, dcp.presentation_query_message([MEMBER]))
    assert (status, body["reason"]) == (401, "missing Authorization header")


async def test_service_refuses_a_token_without_access_token(env: Env) -> None:
    token = dcp.issue_self_issued_token(
        env.verifier_party.key, env.verifier_party.did, env.verifier_party.kid,
        env.holder.did, now=env.clock(),
    )  # fmt: skip
    status, body = await env.query(f"Bearer {token}", dcp.presentation_query_message([MEMBER]))
    assert status == 401
    assert "access token" in body["reason"]


async def test_service_refuses_a_token_for_another_holder(env: Env) -> None:
    token = env.verifier_token([MEMBER], holder_did="did:web:someone-else.example")
    status, body = await env.query(token, dcp.presentation_query_message([MEMBER]))
    assert (status, body["reason"]) == (401, "wrong audience")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "PresentationQueryMessage"},
        {"@context": [dcp.DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": "x"},
        {"@context": [dcp.DCP_CONTEXT], "type": "PresentationQueryMessage", "scope": ["bad"]},
        {
            "@context": [dcp.DCP_CONTEXT],
            "type": "PresentationQueryMessage",
            "presentationDefinition": {},
        },
        [1, 2],
    ],
)
async def test_service_answers_400_for_a_malformed_query(env: Env, body: Any) -> None:
    status, answer = await env.query(env.verifier_token([MEMBER]), body)
    assert status == 400
    assert answer["type"] == "Error" and answer["reason"]


# --- the wallet -----------------------------------------------------------------------------


async def test_wallet_loads_a_folder(env: Env, tmp_path: Path) -> None:
    member_id, _ = env.credential()
    cert_id, _ = env.credential(types=(CERTIFICATION_TYPE,))
    for number, item in enumerate(env.wallet.credentials):
        (tmp_path / f"{number}.jwt").write_text(item.jwt + "\n")
    (tmp_path / "notes.txt").write_text("ignored")
    wallet = Wallet.from_folder(tmp_path)
    assert [c.id for c in wallet.credentials] == [member_id, cert_id]
    assert wallet.select([CERTIFIED]) == [env.wallet.credentials[1].jwt]
    assert wallet.select([MEMBER, id_scope(member_id)]) == [env.wallet.credentials[0].jwt]
    assert wallet.select([]) == []
    assert len(Wallet.from_folder(tmp_path / "missing")) == 0


async def test_claims_reused_for_their_lifetime_only_when_configured(env: Env) -> None:
    credential_id, _ = env.credential()
    env.verifier.claims_ttl_s = 30
    caller, claims = await env.verifier.verify(await env.holder_token())
    env.wallet.remove(credential_id)  # the holder could no longer present it
    # within the lifetime: the claims verified moments ago, no query
    assert (await env.verifier.verify(await env.holder_token()))[1] == claims
    # the self-issued token is still checked on every request
    token = await env.holder_token()
    await env.verifier.verify(token)
    assert "replayed" in await _refused(env, token)
    # after the lifetime: queried again, and now refused
    env.clock.t += 31
    assert "missing required credential" in await _refused(env, await env.holder_token())
