"""A node's identity, wired from its settings: DID document, wallet, credential service, and
the protocol authentication (DCP by default, the configured key list in ``keys`` mode)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from connector.api.credential_service import build_credential_service_app
from connector.config import Settings
from connector.controlplane.decisions import ClaimsSource, ConfiguredClaims
from connector.controlplane.participant_auth import (
    DcpAuth,
    KeysAuth,
    ProtocolAuth,
    VerifiedClaims,
)
from connector.errors import ValidationFailure
from connector.identity.did import DidResolver, did_web_to_url
from connector.identity.keyring import KeyRing
from connector.identity.replay import ReplayCache
from connector.identity.status_list import StatusListCache, status_checker
from connector.identity.tokens import ProtocolTokenSigner, ProtocolTokenVerifier
from connector.identity.trust import TrustedParticipants
from connector.identity.trust_anchors import TrustAnchors
from connector.identity.verifier import DcpVerifier, IssuerKeys
from connector.identity.wallet import Wallet, type_scope
from connector.store.base import Store

log = logging.getLogger(__name__)

#: Path of the credential service on the protocol port.
CREDENTIAL_SERVICE_PATH = "/cs"
#: Hosts whose DIDs may resolve over plain HTTP (loopback only; anything else needs HTTPS).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
#: Largest DID document, status list or presentation response read from a peer.
MAX_FETCH_BYTES = 4 * 1024 * 1024


@dataclass
class NodeIdentity:
    auth: ProtocolAuth
    claims: ClaimsSource
    keyring: KeyRing
    #: DCP mode only: the DID document and where it is served, the credential service app
    did_document: dict[str, Any] | None = None
    did_path: str | None = None
    credential_service: web.Application | None = None
    wallet: Wallet | None = None

    async def start(self) -> None:
        if isinstance(self.claims, VerifiedClaims):
            await self.claims.load()


async def _read_limited(response: aiohttp.ClientResponse) -> bytes:
    body = await response.content.read(MAX_FETCH_BYTES + 1)
    if len(body) > MAX_FETCH_BYTES:
        raise ValueError("response too large")
    return body


def http_functions(http: aiohttp.ClientSession, timeout_s: float = 10.0) -> tuple[Any, Any, Any]:
    """``(fetch JSON, fetch text, post JSON)`` over ``http``, each with a size limit and a
    total time limit (a slow DID host or credential service cannot hold a request long)."""
    options: dict[str, Any] = {
        "allow_redirects": False,
        "timeout": aiohttp.ClientTimeout(total=timeout_s),
    }

    async def fetch_json(url: str) -> Any:
        async with http.get(url, **options) as response:
            response.raise_for_status()
            return json.loads(await _read_limited(response))

    async def fetch_text(url: str) -> str:
        async with http.get(url, **options) as response:
            response.raise_for_status()
            return (await _read_limited(response)).decode("utf-8")

    async def post_json(url: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        async with http.post(url, json=body, headers=headers, **options) as response:
            raw = await _read_limited(response)
            try:
                return response.status, json.loads(raw) if raw else None
            except ValueError:
                return response.status, None

    return fetch_json, fetch_text, post_json


def keys_identity(st: Settings, keyring: KeyRing) -> NodeIdentity:
    trusted = TrustedParticipants.from_config({p.participant_id: p.keys for p in st.trusted})
    auth = KeysAuth(
        ProtocolTokenSigner(st.participant_id, keyring.current),
        ProtocolTokenVerifier(st.participant_id, trusted),
        st.protocol_token_ttl_s,
    )
    names = {p.participant_id: p.name for p in st.trusted}
    claims = {p.participant_id: p.claims for p in st.trusted}
    return NodeIdentity(auth, ConfiguredClaims(names, claims), keyring)


def dcp_identity(
    st: Settings, keyring: KeyRing, http: aiohttp.ClientSession, store: Store
) -> NodeIdentity:
    did = st.participant_id
    try:
        did_url = did_web_to_url(did, st.did_http_hosts)
    except ValidationFailure as exc:
        raise ValidationFailure(
            f"participant_id must be a did:web DID with identity = 'dcp': {exc.message}",
            path="participant_id",
        ) from None
    if not st.trust_anchors:
        log.warning("no [[trust_anchors]] configured: every peer will be refused")
    fetch_json, fetch_text, post_json = http_functions(http, st.peer_timeout_s)
    try:
        resolver = DidResolver(fetch_json, st.did_cache_ttl_s, allow_http_hosts=st.did_http_hosts)
    except ValueError as exc:
        raise ValidationFailure(str(exc), path="did_http_hosts") from None
    anchors = TrustAnchors()
    for anchor in st.trust_anchors:
        for credential_type in anchor.credential_types:
            anchors.trust(credential_type, anchor.issuer)
    issuer_keys = IssuerKeys(resolver)
    status = status_checker(
        fetch_text, StatusListCache(ttl_s=st.status_list_cache_ttl_s), issuer_keys
    )
    kid = keyring.kid(did)
    verifier = DcpVerifier(
        did,
        resolver,
        ReplayCache(),
        anchors,
        status,
        post_json,
        keyring.current,
        kid,
        [type_scope(t) for t in st.required_credentials],
        issuer_keys=issuer_keys,
        optional_scopes=[type_scope(t) for t in st.optional_credentials],
        claims_ttl_s=st.dcp_claims_ttl_s,
    )
    document = keyring.did_document(did)
    document.add_dsp_service(st.protocol_url)
    credential_service_url = st.protocol_root + CREDENTIAL_SERVICE_PATH
    document.add_credential_service(credential_service_url)
    wallet = Wallet.from_folder(st.resolve(st.credentials_dir))
    if not len(wallet):
        log.warning(
            "no credentials in %s: peers that require a membership credential will refuse "
            "this node",
            st.resolve(st.credentials_dir),
        )
    credential_service = build_credential_service_app(
        did,
        keyring.current,
        kid,
        wallet,
        resolver,
        ReplayCache(),
        own_document=document.resolved(),
    )
    names = {p.participant_id: p.name for p in st.trusted}
    configured = {p.participant_id: p.claims for p in st.trusted if p.claims}
    claims = VerifiedClaims(store, names, configured)
    return NodeIdentity(
        DcpAuth(verifier, claims),
        claims,
        keyring,
        did_document=document.to_json(),
        did_path=urlsplit(did_url).path,
        credential_service=credential_service,
        wallet=wallet,
    )


def build_identity(st: Settings, http: aiohttp.ClientSession, store: Store) -> NodeIdentity:
    keyring = KeyRing.load(st.resolve(st.key_file))
    if st.identity == "keys":
        return keys_identity(st, keyring)
    return dcp_identity(st, keyring, http, store)
