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
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from connector.domain import now_ms
from connector.store import codec
from connector.store.base import Session, Store
from connector.store.sql import SqlSession, Statements

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


_STATEMENTS = Statements(
    lambda i: f"${i}",
    claim=f"""
    UPDATE outbox AS o SET lease_owner = $1, lease_until = $2
    FROM (
        SELECT id FROM outbox
        WHERE next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
        ORDER BY created_at, id LIMIT $4
        FOR UPDATE SKIP LOCKED
    ) AS due
    WHERE o.id = due.id
    RETURNING {", ".join(f"o.{c}" for c in codec.OUTBOX_COLUMNS)}
""",
)


def _row_count(status: str) -> int:
    """The row count at the end of a command status such as ``INSERT 0 1``."""
    return int(status.rpartition(" ")[2])


# --- session -------------------------------------------------------------------------------


class _PgSession(SqlSession):
    sql = _STATEMENTS

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        return _row_count(await self._conn.execute(sql, *params))

    async def _read(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return await self._conn.fetch(sql, *params)


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
