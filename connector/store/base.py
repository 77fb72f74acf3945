"""Repository interface. ``store/`` is the only package that speaks SQL.

A ``Session`` is one transaction: everything done through it commits together when the
``async with store.session()`` block exits normally and rolls back when it raises. Services
write a process's new state and the messages it must send (the outbox) in one session, so a
crash never loses a message or sends one for a state that was not stored.
"""

from __future__ import annotations

import abc
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from connector.domain import (
    AgreementRetirement,
    Asset,
    ContractAgreement,
    ContractDefinition,
    ContractNegotiation,
    EndpointDataReference,
    OutboxMessage,
    ParticipantClaims,
    PolicyDefinition,
    Secret,
    TransferProcess,
)
from connector.errors import Conflict

T = TypeVar("T")

#: Every entity the store keeps, with the table-kind name it is stored under.
ENTITY_KINDS: dict[type, str] = {
    Asset: "asset",
    PolicyDefinition: "policy_definition",
    ContractDefinition: "contract_definition",
    ContractAgreement: "agreement",
    EndpointDataReference: "edr",
    Secret: "secret",
    ParticipantClaims: "participant_claims",
    AgreementRetirement: "agreement_retirement",
    ContractNegotiation: "negotiation",
    TransferProcess: "transfer",
}


def entity_id(obj: object) -> str:
    """The primary key of an entity (EDRs are keyed by their transfer process)."""
    if isinstance(obj, EndpointDataReference):
        return obj.transfer_process_id
    return obj.id  # type: ignore[attr-defined]


class ConcurrentUpdate(Conflict):
    """Another worker or replica changed the row since it was read (optimistic lock)."""


class Session(abc.ABC):
    """One transaction over the store."""

    @abc.abstractmethod
    async def insert(self, obj: object) -> None:
        """Insert a new entity. Raises ``Conflict`` if one with that id exists."""

    @abc.abstractmethod
    async def update(self, obj: object) -> None:
        """Replace an existing entity. Raises ``NotFound`` if it does not exist.

        For negotiations and transfers the update is optimistic: it succeeds only if the stored
        ``version`` equals ``obj.version``; it then stores ``version + 1`` and sets
        ``obj.version`` to that. Otherwise it raises ``ConcurrentUpdate``.
        """

    @abc.abstractmethod
    async def get(self, cls: type[T], id: str) -> T | None: ...

    @abc.abstractmethod
    async def delete(self, cls: type, id: str) -> bool:
        """Delete; True if a row was deleted."""

    @abc.abstractmethod
    async def list(self, cls: type[T]) -> list[T]:
        """All entities of a kind, oldest first (created_at, then id)."""

    @abc.abstractmethod
    async def _find(self, cls: type[T], role: str, criteria: dict[str, str | None]) -> T | None:
        """The oldest process of ``cls`` and ``role`` matching every non-None criterion
        (keys: ``counter_party_id``, ``consumer_pid``, ``provider_pid``)."""

    async def find_negotiation(
        self,
        role: str,
        *,
        counter_party_id: str | None = None,
        consumer_pid: str | None = None,
        provider_pid: str | None = None,
    ) -> ContractNegotiation | None:
        """The negotiation of this role matching every given field, or None."""
        criteria = {
            "counter_party_id": counter_party_id,
            "consumer_pid": consumer_pid,
            "provider_pid": provider_pid,
        }
        return await self._find(ContractNegotiation, role, criteria)

    async def find_transfer(
        self,
        role: str,
        *,
        counter_party_id: str | None = None,
        consumer_pid: str | None = None,
        provider_pid: str | None = None,
    ) -> TransferProcess | None:
        """The transfer of this role matching every given field, or None."""
        criteria = {
            "counter_party_id": counter_party_id,
            "consumer_pid": consumer_pid,
            "provider_pid": provider_pid,
        }
        return await self._find(TransferProcess, role, criteria)

    @abc.abstractmethod
    async def transfers_for_agreement(self, agreement_id: str) -> list[TransferProcess]: ...

    # --- outbox -------------------------------------------------------------------------
    @abc.abstractmethod
    async def enqueue(self, msg: OutboxMessage) -> None: ...

    @abc.abstractmethod
    async def claim_outbox(
        self, owner: str, now: int, lease_ms: int, limit: int
    ) -> list[OutboxMessage]:
        """Lease up to ``limit`` due messages (``next_attempt_at <= now``, no live lease),
        oldest first, setting ``lease_owner = owner`` and ``lease_until = now + lease_ms``."""

    @abc.abstractmethod
    async def finish_outbox(self, msg_id: str) -> None:
        """Remove a message that was delivered (or given up)."""

    @abc.abstractmethod
    async def retry_outbox(
        self, msg_id: str, attempts: int, next_attempt_at: int, error: str
    ) -> None:
        """Record a failed attempt and release the lease."""

    @abc.abstractmethod
    async def release_leases(self, owner: str) -> int:
        """Drop every lease held by ``owner`` (a worker that restarted takes its messages
        back at once instead of waiting for the leases to run out). Returns how many."""

    @abc.abstractmethod
    async def outbox_for(self, process_id: str) -> list[OutboxMessage]: ...

    @abc.abstractmethod
    async def next_outbox_due(self) -> int | None:
        """The earliest time any message can next be claimed (its ``next_attempt_at``, or its
        ``lease_until`` while it is leased), or None if the outbox is empty."""


class Store(abc.ABC):
    @abc.abstractmethod
    async def open(self) -> None:
        """Connect and create the schema if needed (idempotent)."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    def session(self) -> AbstractAsyncContextManager[Session]: ...
