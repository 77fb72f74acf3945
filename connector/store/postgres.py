"""PostgreSQL backend over asyncpg: a connection pool, one transaction per session.

Several replicas may share one database: outbox claims lock rows with ``FOR UPDATE SKIP
LOCKED``, negotiations and transfers are updated optimistically on their ``version``, and the
schema migration runs under an advisory lock. Inserts use ``ON CONFLICT DO NOTHING`` so that a
duplicate id raises ``Conflict`` without aborting the transaction.

The store can live in its own schema (``?schema=name`` in the URL): it is created if missing and
set as the connections' ``search_path``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from connector.domain import OutboxMessage, TransferProcess, now_ms
from connector.errors import Conflict, NotFound
from connector.store import codec
from connector.store.base import ConcurrentUpdate, Session, Store, entity_id

T = TypeVar("T")

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_MIGRATION_LOCK = 0x4B6172657A  # pg_advisory_xact_lock key ("Karez")

_PROCESS_COLUMNS = """
    id TEXT COLLATE "C" PRIMARY KEY,
    role TEXT NOT NULL,
    state TEXT NOT NULL,
    counter_party_id TEXT COLLATE "C" NOT NULL,
    consumer_pid TEXT COLLATE "C",
    provider_pid TEXT COLLATE "C",
    {extra}
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    body JSONB NOT NULL
"""

#: (version, statements): applied in order, each version once, recorded in schema_version.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE IF NOT EXISTS entities (
                kind TEXT COLLATE "C" NOT NULL,
                id TEXT COLLATE "C" NOT NULL,
                body JSONB NOT NULL,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (kind, id)
            )""",
            "CREATE INDEX IF NOT EXISTS entities_created ON entities (kind, created_at, id)",
            "CREATE TABLE IF NOT EXISTS negotiations (" + _PROCESS_COLUMNS.format(extra="") + ")",
            "CREATE TABLE IF NOT EXISTS transfers ("
            + _PROCESS_COLUMNS.format(extra='agreement_id TEXT COLLATE "C" NOT NULL,')
            + ")",
            *(
                f"CREATE INDEX IF NOT EXISTS {t}_{c} ON {t} ({c})"
                for t in ("negotiations", "transfers")
                for c in ("consumer_pid", "provider_pid", "counter_party_id")
            ),
            *(
                f"CREATE INDEX IF NOT EXISTS {t}_state ON {t} (state, updated_at)"
                for t in ("negotiations", "transfers")
            ),
            *(
                f"CREATE INDEX IF NOT EXISTS {t}_created ON {t} (created_at, id)"
                for t in ("negotiations", "transfers")
            ),
            "CREATE INDEX IF NOT EXISTS transfers_agreement_id ON transfers (agreement_id)",
            """CREATE TABLE IF NOT EXISTS outbox (
                id TEXT COLLATE "C" PRIMARY KEY,
                process_id TEXT COLLATE "C" NOT NULL,
                process_kind TEXT NOT NULL,
                message_type TEXT NOT NULL,
                url TEXT NOT NULL,
                body JSONB NOT NULL,
                counter_party_id TEXT,
                attempts INTEGER NOT NULL,
                next_attempt_at BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                last_error TEXT,
                lease_owner TEXT,
                lease_until BIGINT
            )""",
            "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at)",
            "CREATE INDEX IF NOT EXISTS outbox_process ON outbox (process_id, created_at)",
        ),
    ),
)


def split_url(url: str) -> tuple[str, str | None]:
    """Split ``postgresql://...?schema=name`` into the asyncpg DSN and the schema name."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    rest = [(k, v) for k, v in query if k != "schema"]
    schema = schemas[-1] if schemas else None
    if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"invalid schema name {schema!r}: use [a-z_][a-z0-9_]*, at most 63")
    return urlunsplit(parts._replace(query=urlencode(rest))), schema


# --- statements ----------------------------------------------------------------------------


def _marks(n: int, start: int = 1) -> str:
    return ", ".join(f"${i}" for i in range(start, start + n))


class _ProcessSql(NamedTuple):
    insert: str
    update: str
    get: str
    version: str
    delete: str
    list: str


def _process_sql(table: str, columns: tuple[str, ...]) -> _ProcessSql:
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns[1:], start=1))
    n = len(columns)
    return _ProcessSql(
        insert=f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(n)}) "
        "ON CONFLICT DO NOTHING",
        update=f"UPDATE {table} SET {sets} WHERE id = ${n} AND version = ${n + 1}",
        get=f"SELECT body FROM {table} WHERE id = $1",
        version=f"SELECT version FROM {table} WHERE id = $1",
        delete=f"DELETE FROM {table} WHERE id = $1",
        list=f"SELECT body FROM {table} ORDER BY created_at, id",
    )


_PROCESS_SQL = {cls: _process_sql(*spec) for cls, spec in codec.PROCESS_TABLES.items()}

_ENTITY_INSERT = (
    "INSERT INTO entities (kind, id, body, created_at) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT DO NOTHING"
)
_ENTITY_UPDATE = "UPDATE entities SET body = $1, created_at = $2 WHERE kind = $3 AND id = $4"
_ENTITY_GET = "SELECT body FROM entities WHERE kind = $1 AND id = $2"
_ENTITY_DELETE = "DELETE FROM entities WHERE kind = $1 AND id = $2"
_ENTITY_LIST = "SELECT body FROM entities WHERE kind = $1 ORDER BY created_at, id"
_TRANSFERS_FOR_AGREEMENT = (
    "SELECT body FROM transfers WHERE agreement_id = $1 ORDER BY created_at, id"
)

_OUTBOX_COLS = ", ".join(codec.OUTBOX_COLUMNS)
_OUTBOX_INSERT = (
    f"INSERT INTO outbox ({_OUTBOX_COLS}) VALUES ({_marks(len(codec.OUTBOX_COLUMNS))}) "
    "ON CONFLICT DO NOTHING"
)
_OUTBOX_CLAIM = f"""
    UPDATE outbox AS o SET lease_owner = $1, lease_until = $2
    FROM (
        SELECT id FROM outbox
        WHERE next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
        ORDER BY created_at, id LIMIT $4
        FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE o.id = due.id
    RETURNING {", ".join(f"o.{c}" for c in codec.OUTBOX_COLUMNS)}
"""
_OUTBOX_FINISH = "DELETE FROM outbox WHERE id = $1"
_OUTBOX_RELEASE = "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1"
_OUTBOX_RETRY = """
    UPDATE outbox SET attempts = $1, next_attempt_at = $2, last_error = $3,
        lease_owner = NULL, lease_until = NULL
    WHERE id = $4
"""
_OUTBOX_FOR = f"SELECT {_OUTBOX_COLS} FROM outbox WHERE process_id = $1 ORDER BY created_at, id"
_OUTBOX_NEXT_DUE = (
    "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at"
    " THEN lease_until ELSE next_attempt_at END) FROM outbox"
)

_FIND_FIELDS = ("counter_party_id", "consumer_pid", "provider_pid")
_find_sql_cache: dict[tuple[str, tuple[str, ...]], str] = {}


def _find_sql(table: str, fields: tuple[str, ...]) -> str:
    key = (table, fields)
    sql = _find_sql_cache.get(key)
    if sql is None:
        where = " AND ".join(f"{f} = ${i}" for i, f in enumerate(("role", *fields), start=1))
        sql = f"SELECT body FROM {table} WHERE {where} ORDER BY created_at, id LIMIT 1"
        _find_sql_cache[key] = sql
    return sql


def _row_count(status: str) -> int:
    """The row count at the end of a command status such as ``INSERT 0 1``."""
    return int(status.rpartition(" ")[2])


# --- session -------------------------------------------------------------------------------


class _PgSession(Session):
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        return _row_count(await self._conn.execute(sql, *params))

    # --- entities ---
    async def insert(self, obj: object) -> None:
        kind, oid = codec.kind_of(type(obj)), entity_id(obj)
        sql = _PROCESS_SQL.get(type(obj))
        if sql is not None:
            cols = codec.PROCESS_TABLES[type(obj)][1]
            values = codec.process_values(obj, cols, obj.version)  # type: ignore[attr-defined]
            count = await self._write(sql.insert, values)
        else:
            params = (kind, oid, codec.encode(obj), codec.created_at(obj))
            count = await self._write(_ENTITY_INSERT, params)
        if count == 0:
            raise Conflict(f"{kind} {oid} already exists", invalid_value=oid)

    async def update(self, obj: object) -> None:
        oid = entity_id(obj)
        sql = _PROCESS_SQL.get(type(obj))
        if sql is None:
            kind = codec.kind_of(type(obj))
            params = (codec.encode(obj), codec.created_at(obj), kind, oid)
            if await self._write(_ENTITY_UPDATE, params) == 0:
                raise NotFound(f"{kind} {oid} not found", invalid_value=oid)
            return
        expected: int = obj.version  # type: ignore[attr-defined]
        cols = codec.PROCESS_TABLES[type(obj)][1]
        values = codec.process_values(obj, cols, expected + 1)
        if await self._write(sql.update, (*values[1:], oid, expected)) == 1:
            obj.version = expected + 1  # type: ignore[attr-defined]
            return
        stored = await self._conn.fetchval(sql.version, oid)
        kind = codec.kind_of(type(obj))
        if stored is None:
            raise NotFound(f"{kind} {oid} not found", invalid_value=oid)
        raise ConcurrentUpdate(
            f"{kind} {oid} was changed concurrently (version {stored}, expected {expected})",
            invalid_value=oid,
        )

    async def get(self, cls: type[T], id: str) -> T | None:
        sql = _PROCESS_SQL.get(cls)
        if sql is not None:
            body = await self._conn.fetchval(sql.get, id)
        else:
            body = await self._conn.fetchval(_ENTITY_GET, codec.kind_of(cls), id)
        return None if body is None else codec.decode(cls, body)

    async def delete(self, cls: type, id: str) -> bool:
        sql = _PROCESS_SQL.get(cls)
        if sql is not None:
            return await self._write(sql.delete, (id,)) > 0
        return await self._write(_ENTITY_DELETE, (codec.kind_of(cls), id)) > 0

    async def list(self, cls: type[T]) -> list[T]:
        sql = _PROCESS_SQL.get(cls)
        if sql is not None:
            rows = await self._conn.fetch(sql.list)
        else:
            rows = await self._conn.fetch(_ENTITY_LIST, codec.kind_of(cls))
        return [codec.decode(cls, row[0]) for row in rows]

    async def _find(self, cls: type[T], role: str, criteria: dict[str, str | None]) -> T | None:
        fields = tuple(f for f in _FIND_FIELDS if criteria[f] is not None)
        table = codec.PROCESS_TABLES[cls][0]
        params = (role, *(criteria[f] for f in fields))
        body = await self._conn.fetchval(_find_sql(table, fields), *params)
        return None if body is None else codec.decode(cls, body)

    async def transfers_for_agreement(self, agreement_id: str) -> list[TransferProcess]:
        rows = await self._conn.fetch(_TRANSFERS_FOR_AGREEMENT, agreement_id)
        return [codec.decode(TransferProcess, row[0]) for row in rows]

    # --- outbox ---
    async def enqueue(self, msg: OutboxMessage) -> None:
        if await self._write(_OUTBOX_INSERT, codec.outbox_values(msg)) == 0:
            raise Conflict(f"outbox message {msg.id} already exists", invalid_value=msg.id)

    async def claim_outbox(
        self, owner: str, now: int, lease_ms: int, limit: int
    ) -> list[OutboxMessage]:
        if limit <= 0:
            return []
        rows = await self._conn.fetch(_OUTBOX_CLAIM, owner, now + lease_ms, now, limit)
        msgs = [codec.outbox_from_row(r) for r in rows]
        msgs.sort(key=lambda m: (m.created_at, m.id))
        return msgs

    async def finish_outbox(self, msg_id: str) -> None:
        await self._conn.execute(_OUTBOX_FINISH, msg_id)

    async def retry_outbox(
        self, msg_id: str, attempts: int, next_attempt_at: int, error: str
    ) -> None:
        await self._conn.execute(_OUTBOX_RETRY, attempts, next_attempt_at, error, msg_id)

    async def release_leases(self, owner: str) -> int:
        return await self._write(_OUTBOX_RELEASE, (owner,))

    async def outbox_for(self, process_id: str) -> list[OutboxMessage]:
        return [codec.outbox_from_row(r) for r in await self._conn.fetch(_OUTBOX_FOR, process_id)]

    async def next_outbox_due(self) -> int | None:
        return await self._conn.fetchval(_OUTBOX_NEXT_DUE)


# --- store ---------------------------------------------------------------------------------


async def _no_reset(conn: asyncpg.Connection) -> None:
    """Sessions leave no session state behind, so skip the pool's reset round trip."""


class PostgresStore(Store):
    """The store in a PostgreSQL database (optionally in one schema of it)."""

    def __init__(
        self, dsn: str, *, schema: str | None = None, min_size: int = 2, max_size: int = 10
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"invalid schema name {schema!r}")
        self.dsn = dsn
        self.schema = schema
        self.min_size = min_size
        self.max_size = max_size
        self._pool: asyncpg.Pool | None = None

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> PostgresStore:
        """A store for ``postgresql://user@host:port/db[?schema=name]``."""
        dsn, schema = split_url(url)
        return cls(dsn, schema=schema, **kwargs)

    async def open(self) -> None:
        if self._pool is not None:
            return
        settings = {"search_path": self.schema} if self.schema else None
        pool = await asyncpg.create_pool(
            self.dsn,
            min_size=self.min_size,
            max_size=self.max_size,
            server_settings=settings,
            reset=_no_reset,
        )
        try:
            async with pool.acquire() as conn, conn.transaction():
                await _migrate(conn, self.schema)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        if self._pool is None:
            raise RuntimeError("the store is not open")
        async with self._pool.acquire() as conn, conn.transaction():
            yield _PgSession(conn)


async def _migrate(conn: asyncpg.Connection, schema: str | None) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
    if schema:
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")  # name checked by the regex
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)"
    )
    current = await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        for statement in statements:
            await conn.execute(statement)
        await conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)", version, now_ms()
        )
