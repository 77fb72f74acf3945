"""Reading and writing entities for the Management API, with referential checks on delete."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from connector.domain import (
    Asset,
    ContractAgreement,
    ContractDefinition,
    ContractNegotiation,
    EndpointDataReference,
    PolicyDefinition,
    Secret,
    TransferProcess,
)
from connector.errors import Conflict, NotFound
from connector.store.base import Store

E = TypeVar("E")
#: A check run before an entity of one kind is created or updated (raises to refuse it).
Check = Callable[[Any], Awaitable[None]]

LABELS: dict[type, str] = {
    Asset: "asset",
    PolicyDefinition: "policy definition",
    ContractDefinition: "contract definition",
    Secret: "secret",
    ContractAgreement: "contract agreement",
    ContractNegotiation: "contract negotiation",
    TransferProcess: "transfer process",
    EndpointDataReference: "endpoint data reference",
}


class DefinitionService:
    """Create, read, update, delete and list entities of any kind the store keeps."""

    def __init__(self, store: Store, checks: Mapping[type, Check] | None = None) -> None:
        self._store = store
        self._checks = dict(checks or {})

    async def _check(self, obj: object) -> None:
        check = self._checks.get(type(obj))
        if check is not None:
            await check(obj)

    async def create(self, obj: E) -> E:
        await self._check(obj)
        async with self._store.session() as s:
            if await s.get(type(obj), obj.id) is not None:
                raise Conflict(
                    f"{LABELS[type(obj)]} {obj.id!r} already exists",
                    path="@id",
                    invalid_value=obj.id,
                )
            await s.insert(obj)
        return obj

    async def update(self, obj: E) -> E:
        await self._check(obj)
        async with self._store.session() as s:
            old = await s.get(type(obj), obj.id)
            if old is None:
                raise NotFound(
                    f"{LABELS[type(obj)]} {obj.id!r} not found", path="@id", invalid_value=obj.id
                )
            obj.created_at = old.created_at  # type: ignore[attr-defined]
            await s.update(obj)
        return obj

    async def get(self, cls: type[E], id: str) -> E:
        async with self._store.session() as s:
            obj = await s.get(cls, id)
        if obj is None:
            raise NotFound(f"{LABELS[cls]} {id!r} not found", path="id", invalid_value=id)
        return obj

    async def list(self, cls: type[E]) -> list[E]:
        async with self._store.session() as s:
            return await s.list(cls)

    async def delete(self, cls: type[E], id: str) -> None:
        async with self._store.session() as s:
            if await s.get(cls, id) is None:
                raise NotFound(f"{LABELS[cls]} {id!r} not found", path="id", invalid_value=id)
            await self._check_unreferenced(s, cls, id)
            await s.delete(cls, id)

    @staticmethod
    async def _check_unreferenced(s, cls: type, id: str) -> None:  # noqa: ANN001
        if cls is PolicyDefinition:
            for definition in await s.list(ContractDefinition):
                if id in (definition.access_policy_id, definition.contract_policy_id):
                    raise Conflict(
                        f"policy definition {id!r} is used by contract definition "
                        f"{definition.id!r}",
                        path="id",
                        invalid_value=id,
                    )
        if cls is Asset:
            for agreement in await s.list(ContractAgreement):
                if agreement.asset_id == id:
                    raise Conflict(
                        f"asset {id!r} is part of contract agreement {agreement.id!r}",
                        path="id",
                        invalid_value=id,
                    )
