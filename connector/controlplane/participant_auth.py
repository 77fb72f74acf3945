"""Who is calling, and how this node proves who it is: the two protocol authentication modes.

- :class:`DcpAuth` (``identity = "dcp"``, the default): Decentralized Claims Protocol 1.0. A
  caller is a DID; its self-issued token is checked and its credentials are queried and verified
  on every request; the verified claims are kept (:class:`VerifiedClaims`) for the policy engine.
- :class:`KeysAuth` (``identity = "keys"``): signed tokens checked against a configured key
  list, with configured claims. Kept for closed set-ups and tests of the protocol alone.

Both give the DSP port ``verify(header) -> caller id`` and the peer client
``authorization(audience) -> header value``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

from connector.controlplane.decisions import ClaimsSource
from connector.domain import ParticipantClaims
from connector.errors import Conflict
from connector.identity.tokens import ProtocolTokenSigner, ProtocolTokenVerifier
from connector.identity.verifier import DcpVerifier
from connector.store.base import Session, Store

log = logging.getLogger(__name__)


class ProtocolAuth(Protocol):
    async def verify(self, authorization: str | None) -> str:
        """The caller's participant id; ``Unauthorized`` naming what failed."""
        ...

    async def authorization(self, audience: str) -> str:
        """The ``Authorization`` value for a request to participant ``audience``."""
        ...


class KeysAuth:
    """Protocol tokens signed with the node key, checked against configured keys."""

    def __init__(
        self, signer: ProtocolTokenSigner, verifier: ProtocolTokenVerifier, ttl_s: int = 60
    ) -> None:
        self._signer = signer
        self._verifier = verifier
        self._ttl_s = ttl_s

    async def verify(self, authorization: str | None) -> str:
        return self._verifier.verify(authorization)

    async def authorization(self, audience: str) -> str:
        return self._signer.sign(audience, ttl_s=self._ttl_s)


class VerifiedClaims(ClaimsSource):
    """The claims last verified per participant: in memory, and in the store so that they
    survive a restart and reach the other replicas.

    A participant that never authenticated has no claims but its id (policies that need
    claims then refuse it). ``configured`` claims are what this node's operator states about a
    participant (e.g. the purposes it declared in a contract); verified claims of the same
    name win.
    """

    def __init__(
        self,
        store: Store,
        names: dict[str, str | None] | None = None,
        configured: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self._store = store
        self._names = names or {}
        self._configured = configured or {}
        self._claims: dict[str, dict[str, Any]] = {}

    async def load(self) -> None:
        """Read every stored participant's claims (at start)."""
        async with self._store.session() as s:
            for item in await s.list(ParticipantClaims):
                self._claims[item.id] = item.claims

    async def refresh(self, session: Session, participant_id: str) -> None:
        """Re-read one participant's claims in ``session`` (another replica may have verified
        newer ones)."""
        item = await session.get(ParticipantClaims, participant_id)
        if item is not None:
            self._claims[participant_id] = item.claims

    async def record(self, participant_id: str, claims: dict[str, Any]) -> None:
        """Keep freshly verified claims; the store is written only when they changed."""
        if self._claims.get(participant_id) == claims:
            return
        self._claims[participant_id] = claims
        for _ in range(2):  # a concurrent first insert of the same participant: update it
            try:
                async with self._store.session() as s:
                    item = await s.get(ParticipantClaims, participant_id)
                    if item is None:
                        await s.insert(ParticipantClaims(participant_id, claims))
                    else:
                        item.claims = claims
                        item.verified_at = int(time.time() * 1000)
                        await s.update(item)
                return
            except Conflict:
                continue

    def claims_for(self, participant_id: str) -> dict[str, Any]:
        claims = {
            **self._configured.get(participant_id, {}),
            **self._claims.get(participant_id, {}),
        }
        claims["participantId"] = participant_id
        name = self._names.get(participant_id) or claims.get("legalName")
        if name:
            claims["name"] = name
        return claims


class DcpAuth:
    """DCP: self-issued tokens, presentations from the caller's credential service."""

    def __init__(self, verifier: DcpVerifier, claims: VerifiedClaims) -> None:
        self._verifier = verifier
        self._claims = claims

    async def verify(self, authorization: str | None) -> str:
        caller, claims = await self._verifier.verify(authorization)
        await self._claims.record(caller, claims)
        return caller

    async def authorization(self, audience: str) -> str:
        return await self._verifier.caller_token(audience)
