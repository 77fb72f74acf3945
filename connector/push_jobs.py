"""Push and stream transfers in one process: the control plane's side of the jobs.

:class:`LocalPushControl` gives :class:`~connector.dataplane.jobs.PushJobs` what they need from
the transfer's record (:func:`spec_of`) and tokens signed here, and records their outcome.
"""

from __future__ import annotations

import os
from typing import Any

from connector.controlplane.transfers import STREAM, TransferManager, is_push
from connector.dataplane.address import address_type, text
from connector.dataplane.files import FILE_TYPE
from connector.dataplane.jobs import PushSpec
from connector.dataplane.sql_source import SQL_TABLE_TYPE
from connector.dataplane.stream import APPENDS, FOLDER, ROWS
from connector.dataplane.tokens import AccessTokenService
from connector.domain import PROVIDER, Json, TransferProcess
from connector.errors import KarezError
from connector.protocol.transfer import TransferState as T
from connector.store.base import Store


def stream_of(t: TransferProcess) -> dict[str, Any] | None:
    """How a stream of ``t`` reads its source, or None if the source cannot be streamed."""
    address = t.content_data_address or {}
    name = t.asset_id or "data"
    if is_folder(address):
        return {"kind": FOLDER, "name": name}
    kind = address_type(address)
    if kind == SQL_TABLE_TYPE and text(address, "keyColumn"):
        fmt = (text(address, "format") or "csv").lower()
        return {"kind": ROWS, "name": name, "fmt": fmt, "keyColumn": text(address, "keyColumn")}
    if kind == FILE_TYPE:
        return {"kind": APPENDS, "name": name}
    return None


def is_folder(content_data_address: dict[str, Any] | None) -> bool:
    if not content_data_address or address_type(content_data_address) != FILE_TYPE:
        return False
    path = text(content_data_address, "path")
    return bool(path) and os.path.isdir(path)


def spec_of(t: TransferProcess) -> PushSpec:
    assert t.push_address is not None
    return PushSpec(
        t.id,
        t.transfer_type,
        t.push_address,
        folder=is_folder(t.content_data_address),
        stream=stream_of(t) if t.transfer_type == STREAM else None,
        cursor=dict(t.stream_cursor),
    )


class LocalPushControl:
    """The control plane in this process: the transfer's record, tokens signed here."""

    def __init__(
        self,
        store: Store,
        transfers: TransferManager,
        tokens: AccessTokenService,
        token_ttl_s: int = 3600,
    ) -> None:
        self._store = store
        self._transfers = transfers
        self._tokens = tokens
        self._ttl_s = token_ttl_s

    async def _load(self, transfer_id: str) -> TransferProcess | None:
        async with self._store.session() as s:
            t = await s.get(TransferProcess, transfer_id)
        if t is None or t.role != PROVIDER or not is_push(t) or not t.push_address:
            return None
        return t

    async def spec(self, transfer_id: str) -> PushSpec | None:
        t = await self._load(transfer_id)
        return spec_of(t) if t is not None and t.state == T.STARTED else None

    async def token(self, transfer_id: str) -> str:
        t = await self._load(transfer_id)
        if t is None:
            raise KarezError("no push transfer " + transfer_id)
        token, _ = self._tokens.issue(
            t.id, t.agreement_id, t.asset_id or "", t.counter_party_id, ttl_s=self._ttl_s, push=True
        )
        return token

    async def done(self, transfer_id: str, byte_size: int, sha256: str | None) -> None:
        await self._transfers.push_done(transfer_id, byte_size, sha256)

    async def failed(self, transfer_id: str, reason: str) -> None:
        await self._transfers.push_failed(transfer_id, reason)

    async def progress(self, transfer_id: str, cursor: Json, byte_size: int) -> bool:
        return await self._transfers.stream_progress(transfer_id, cursor, byte_size)

    async def started(self) -> list[str]:
        """The push and stream transfers left STARTED (to run again after a restart)."""
        async with self._store.session() as s:
            transfers = await s.list(TransferProcess)
        return [
            t.id for t in transfers if t.role == PROVIDER and is_push(t) and t.state == T.STARTED
        ]
