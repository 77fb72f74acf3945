"""What the SQL backends share: the statements (written once, with each dialect's parameter
marks) and a session that implements the store interface on two primitives, ``_read`` and
``_write``. A backend adds its connection handling and its outbox claim statement."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from connector.domain import OutboxMessage, TransferProcess
from connector.errors import Conflict, NotFound
from connector.store import codec
from connector.store.base import ConcurrentUpdate, Session, entity_id

T = TypeVar("T")
Mark = Callable[[int], str]  # parameter number (from 1) -> "?1" or "$1"

FIND_FIELDS = ("counter_party_id", "consumer_pid", "provider_pid")
OUTBOX_COLS = ", ".join(codec.OUTBOX_COLUMNS)


class ProcessSql(NamedTuple):
    insert: str
    update: str
    get: str
    version: str
    delete: str
    list: str


def _marks(mark: Mark, n: int) -> str:
    return ", ".join(mark(i) for i in range(1, n + 1))


def _process_sql(mark: Mark, table: str, columns: tuple[str, ...]) -> ProcessSql:
    sets = ", ".join(f"{c} = {mark(i)}" for i, c in enumerate(columns[1:], start=1))
    n = len(columns)
    return ProcessSql(
        insert=f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(mark, n)}) "
        "ON CONFLICT DO NOTHING",
        update=f"UPDATE {table} SET {sets} WHERE id = {mark(n)} AND version = {mark(n + 1)}",
        get=f"SELECT body FROM {table} WHERE id = {mark(1)}",
        version=f"SELECT version FROM {table} WHERE id = {mark(1)}",
        delete=f"DELETE FROM {table} WHERE id = {mark(1)}",
        list=f"SELECT body FROM {table} ORDER BY created_at, id",
    )


class Statements:
    """Every statement of the store in one dialect. ``claim`` takes, in order: the lease
    owner, the lease end, now, and the batch size."""

    def __init__(self, mark: Mark, claim: str) -> None:
        m = mark
        self.mark = mark
        self.process = {
            cls: _process_sql(mark, *spec) for cls, spec in codec.PROCESS_TABLES.items()
        }
        self.entity_insert = (
            f"INSERT INTO entities (kind, id, body, created_at) VALUES ({_marks(m, 4)}) "
            "ON CONFLICT DO NOTHING"
        )
        self.entity_update = (
            f"UPDATE entities SET body = {m(1)}, created_at = {m(2)} "
            f"WHERE kind = {m(3)} AND id = {m(4)}"
        )
        self.entity_get = f"SELECT body FROM entities WHERE kind = {m(1)} AND id = {m(2)}"
        self.entity_delete = f"DELETE FROM entities WHERE kind = {m(1)} AND id = {m(2)}"
        self.entity_list = f"SELECT body FROM entities WHERE kind = {m(1)} ORDER BY created_at, id"
        self.transfers_for_agreement = (
            f"SELECT body FROM transfers WHERE agreement_id = {m(1)} ORDER BY created_at, id"
        )
        self.outbox_insert = (
            f"INSERT INTO outbox ({OUTBOX_COLS}) "
            f"VALUES ({_marks(m, len(codec.OUTBOX_COLUMNS))}) ON CONFLICT DO NOTHING"
        )
        self.outbox_claim = claim
        self.outbox_finish = f"DELETE FROM outbox WHERE id = {m(1)}"
        self.outbox_release = (
            f"UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = {m(1)}"
        )
        self.outbox_retry = (
            f"UPDATE outbox SET attempts = {m(1)}, next_attempt_at = {m(2)}, "
            f"last_error = {m(3)}, lease_owner = NULL, lease_until = NULL WHERE id = {m(4)}"
        )
        self.outbox_for = (
            f"SELECT {OUTBOX_COLS} FROM outbox WHERE process_id = {m(1)} ORDER BY created_at, id"
        )
        # the earliest time a message can next be claimed: its due time, or its lease's end
        self.outbox_next_due = (
            "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at"
            " THEN lease_until ELSE next_attempt_at END) FROM outbox"
        )
        self._find: dict[tuple[str, tuple[str, ...]], str] = {}

    def find(self, table: str, fields: tuple[str, ...]) -> str:
        sql = self._find.get((table, fields))
        if sql is None:
            where = " AND ".join(
                f"{f} = {self.mark(i)}" for i, f in enumerate(("role", *fields), start=1)
            )
            sql = f"SELECT body FROM {table} WHERE {where} ORDER BY created_at, id LIMIT 1"
            self._find[(table, fields)] = sql
        return sql


class SqlSession(Session):
    """The store interface over ``_read`` (rows) and ``_write`` (affected row count)."""

    sql: Statements

    @abc.abstractmethod
    async def _read(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]: ...

    @abc.abstractmethod
    async def _write(self, sql: str, params: Sequence[Any]) -> int: ...

    # --- entities ---
    async def insert(self, obj: object) -> None:
        kind, oid = codec.kind_of(type(obj)), entity_id(obj)
        sql = self.sql.process.get(type(obj))
        if sql is not None:
            cols = codec.PROCESS_TABLES[type(obj)][1]
            values = codec.process_values(obj, cols, obj.version)  # type: ignore[attr-defined]
            count = await self._write(sql.insert, values)
        else:
            params = (kind, oid, codec.encode(obj), codec.created_at(obj))
            count = await self._write(self.sql.entity_insert, params)
        if count == 0:
            raise Conflict(f"{kind} {oid} already exists", invalid_value=oid)

    async def update(self, obj: object) -> None:
        oid = entity_id(obj)
        kind = codec.kind_of(type(obj))
        sql = self.sql.process.get(type(obj))
        if sql is None:
            params = (codec.encode(obj), codec.created_at(obj), kind, oid)
            if await self._write(self.sql.entity_update, params) == 0:
                raise NotFound(f"{kind} {oid} not found", invalid_value=oid)
            return
        expected: int = obj.version  # type: ignore[attr-defined]
        cols = codec.PROCESS_TABLES[type(obj)][1]
        values = codec.process_values(obj, cols, expected + 1)
        if await self._write(sql.update, (*values[1:], oid, expected)) == 1:
            obj.version = expected + 1  # type: ignore[attr-defined]
            return
        rows = await self._read(sql.version, (oid,))
        if not rows:
            raise NotFound(f"{kind} {oid} not found", invalid_value=oid)
        raise ConcurrentUpdate(
            f"{kind} {oid} was changed concurrently (version {rows[0][0]}, expected {expected})",
            invalid_value=oid,
        )

    async def get(self, cls: type[T], id: str) -> T | None:
        sql = self.sql.process.get(cls)
        if sql is not None:
            rows = await self._read(sql.get, (id,))
        else:
            rows = await self._read(self.sql.entity_get, (codec.kind_of(cls), id))
        return codec.decode(cls, rows[0][0]) if rows else None

    async def delete(self, cls: type, id: str) -> bool:
        sql = self.sql.process.get(cls)
        if sql is not None:
            return await self._write(sql.delete, (id,)) > 0
        return await self._write(self.sql.entity_delete, (codec.kind_of(cls), id)) > 0

    async def list(self, cls: type[T]) -> list[T]:
        sql = self.sql.process.get(cls)
        if sql is not None:
            rows = await self._read(sql.list, ())
        else:
            rows = await self._read(self.sql.entity_list, (codec.kind_of(cls),))
        return [codec.decode(cls, row[0]) for row in rows]

    async def _find(self, cls: type[T], role: str, criteria: dict[str, str | None]) -> T | None:
        fields = tuple(f for f in FIND_FIELDS if criteria[f] is not None)
        table = codec.PROCESS_TABLES[cls][0]
        params = (role, *(criteria[f] for f in fields))
        rows = await self._read(self.sql.find(table, fields), params)
        return codec.decode(cls, rows[0][0]) if rows else None

    async def transfers_for_agreement(self, agreement_id: str) -> list[TransferProcess]:
        rows = await self._read(self.sql.transfers_for_agreement, (agreement_id,))
        return [codec.decode(TransferProcess, row[0]) for row in rows]

    # --- outbox ---
    async def enqueue(self, msg: OutboxMessage) -> None:
        if await self._write(self.sql.outbox_insert, codec.outbox_values(msg)) == 0:
            raise Conflict(f"outbox message {msg.id} already exists", invalid_value=msg.id)

    async def claim_outbox(
        self, owner: str, now: int, lease_ms: int, limit: int
    ) -> list[OutboxMessage]:
        if limit <= 0:
            return []
        rows = await self._read(self.sql.outbox_claim, (owner, now + lease_ms, now, limit))
        msgs = [codec.outbox_from_row(r) for r in rows]
        msgs.sort(key=lambda m: (m.created_at, m.id))
        return msgs

    async def finish_outbox(self, msg_id: str) -> None:
        await self._write(self.sql.outbox_finish, (msg_id,))

    async def retry_outbox(
        self, msg_id: str, attempts: int, next_attempt_at: int, error: str
    ) -> None:
        await self._write(self.sql.outbox_retry, (attempts, next_attempt_at, error, msg_id))

    async def release_leases(self, owner: str) -> int:
        return await self._write(self.sql.outbox_release, (owner,))

    async def outbox_for(self, process_id: str) -> list[OutboxMessage]:
        rows = await self._read(self.sql.outbox_for, (process_id,))
        return [codec.outbox_from_row(r) for r in rows]

    async def next_outbox_due(self) -> int | None:
        rows = await self._read(self.sql.outbox_next_due, ())
        return rows[0][0] if rows else None
