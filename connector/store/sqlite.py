"""SQLite backend: one connection in WAL mode, one session (writer) at a time.

By default statements run on the event loop's own thread: a small statement takes microseconds,
while a hop to aiosqlite's worker thread costs about 100 µs on a 2-core machine and made the
store the largest cost of a negotiation (measured with ``bench/negotiation.py``). WAL with
``synchronous=NORMAL`` does not sync on commit, so a statement does not wait for the disk.
``threaded=True`` (URL ``sqlite:///file.db?threaded=1``) runs them on aiosqlite's thread instead.

A session is a ``BEGIN IMMEDIATE`` transaction, started lazily by its first statement (a session
that runs no statement costs nothing). Sessions are serialized with an ``asyncio.Lock``; reads go
through a session too.

In the threaded mode each statement is exactly one trip to that thread (the first one carries
the ``BEGIN``), plus one for ``COMMIT``, through ``Connection._execute`` (aiosqlite's own queueing
primitive) with one reused cursor. The statements themselves are shared with PostgreSQL
(``connector.store.sql``); the sqlite3 statement cache keeps them prepared.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from connector.domain import now_ms
from connector.store.base import Session, Store
from connector.store.sql import OUTBOX_COLS, SqlSession, Statements

T = TypeVar("T")

MEMORY = ":memory:"

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA temp_store=MEMORY",
)

_PROCESS_COLUMNS = """
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    state TEXT NOT NULL,
    counter_party_id TEXT NOT NULL,
    consumer_pid TEXT,
    provider_pid TEXT,
    {extra}
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    body TEXT NOT NULL
"""

#: (version, statements): applied in order, each version once, recorded in schema_version.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE IF NOT EXISTS entities (
                kind TEXT NOT NULL,
                id TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (kind, id)
            )""",
            "CREATE INDEX IF NOT EXISTS entities_created ON entities (kind, created_at, id)",
            "CREATE TABLE IF NOT EXISTS negotiations (" + _PROCESS_COLUMNS.format(extra="") + ")",
            "CREATE TABLE IF NOT EXISTS transfers ("
            + _PROCESS_COLUMNS.format(extra="agreement_id TEXT NOT NULL,")
            + ")",
            # no index on counter_party_id alone: without statistics SQLite would pick it for
            # "counter party + pid" look-ups and scan every process of that counter-party
            *(
                f"CREATE INDEX IF NOT EXISTS {t}_{c} ON {t} ({c})"
                for t in ("negotiations", "transfers")
                for c in ("consumer_pid", "provider_pid")
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
                id TEXT PRIMARY KEY,
                process_id TEXT NOT NULL,
                process_kind TEXT NOT NULL,
                message_type TEXT NOT NULL,
                url TEXT NOT NULL,
                body TEXT NOT NULL,
                counter_party_id TEXT,
                attempts INTEGER NOT NULL,
                next_attempt_at INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                last_error TEXT,
                lease_owner TEXT,
                lease_until INTEGER
            )""",
            "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at)",
            "CREATE INDEX IF NOT EXISTS outbox_process ON outbox (process_id, created_at)",
        ),
    ),
)


# --- statements ----------------------------------------------------------------------------


_STATEMENTS = Statements(
    lambda i: f"?{i}",
    claim=f"""
    UPDATE outbox SET lease_owner = ?1, lease_until = ?2
    WHERE id IN (
        SELECT id FROM outbox
        WHERE next_attempt_at <= ?3 AND (lease_until IS NULL OR lease_until <= ?3)
        ORDER BY created_at, id LIMIT ?4
    )
    RETURNING {OUTBOX_COLS}
""",
)


# --- session -------------------------------------------------------------------------------

_Result = tuple[int, list[Any]]  # (rowcount, rows)
_Call = Callable[..., Awaitable[Any]]


def _step(cur: sqlite3.Cursor, begin: bool, sql: str, params: Sequence[Any]) -> _Result:
    """Run one statement (after ``BEGIN IMMEDIATE`` if ``begin``); on aiosqlite's thread."""
    if begin:
        cur.execute("BEGIN IMMEDIATE")
    cur.execute(sql, params)
    rows = cur.fetchall()
    return cur.rowcount, rows


async def _inline(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn`` right here, on the event loop's thread."""
    return fn(*args)


def _end(cur: sqlite3.Cursor, sql: str) -> None:
    """COMMIT or ROLLBACK if a transaction is open; on aiosqlite's thread."""
    if cur.connection.in_transaction:
        cur.execute(sql)


class _SqliteSession(SqlSession):
    sql = _STATEMENTS

    def __init__(self, call: _Call, cursor: sqlite3.Cursor) -> None:
        self._call = call  # runs a function on the connection's thread
        self._cur = cursor
        self._begun = False
        self._done = False

    async def _run(self, sql: str, params: Sequence[Any]) -> _Result:
        if self._done:
            raise RuntimeError("this store session has ended")
        begin, self._begun = not self._begun, True
        return await self._call(_step, self._cur, begin, sql, params)

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        return (await self._run(sql, params))[0]

    async def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return (await self._run(sql, params))[1]

    async def commit(self) -> None:
        self._done = True
        if self._begun:
            try:
                await self._call(_end, self._cur, "COMMIT")
            except BaseException:
                await self._call(_end, self._cur, "ROLLBACK")  # a failed COMMIT stays open
                raise

    async def rollback(self) -> None:
        self._done = True
        if self._begun:
            await self._call(_end, self._cur, "ROLLBACK")

    # --- entities ---


# --- store ---------------------------------------------------------------------------------


class SqliteStore(Store):
    """The store in one SQLite file (or in memory with ``":memory:"``)."""

    def __init__(
        self, path: str | Path, *, busy_timeout_ms: int = 5000, threaded: bool = False
    ) -> None:
        self.path = str(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.threaded = threaded
        self._call: _Call | None = None
        self._raw: sqlite3.Connection | None = None
        self._conn: aiosqlite.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    async def open(self) -> None:
        if self._call is not None:
            return
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if not self.threaded:
            await self._open_inline()
            return
        conn = await aiosqlite.connect(
            self.path,
            isolation_level=None,  # transactions are begun and ended explicitly
            timeout=self.busy_timeout_ms / 1000,
            cached_statements=256,
        )
        try:
            for pragma in (*_PRAGMAS, f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}"):
                await conn.execute_fetchall(pragma)
            raw = (await conn.cursor()).connection  # sqlite3 objects: use on its thread only
            self._cursor = await conn._execute(raw.cursor)
            self._conn = conn
            self._call = conn._execute
            async with self.session() as session:
                assert isinstance(session, _SqliteSession)
                await _migrate(session)
        except BaseException:
            self._conn = self._cursor = self._call = None
            await conn.close()
            raise

    async def _open_inline(self) -> None:
        """Run statements on the event loop's own thread (the default, see module doc)."""
        raw = sqlite3.connect(
            self.path,
            isolation_level=None,
            timeout=self.busy_timeout_ms / 1000,
            cached_statements=256,
        )
        try:
            for pragma in (*_PRAGMAS, f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}"):
                raw.execute(pragma).fetchall()
            self._raw, self._cursor, self._call = raw, raw.cursor(), _inline
            async with self.session() as session:
                assert isinstance(session, _SqliteSession)
                await _migrate(session)
        except BaseException:
            self._raw = self._cursor = self._call = None
            raw.close()
            raise

    async def close(self) -> None:
        async with self._lock:
            conn, self._conn, self._cursor, self._call = self._conn, None, None, None
            raw, self._raw = self._raw, None
            if conn is not None:
                await conn.close()
            if raw is not None:
                raw.close()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[Session]:
        task = asyncio.current_task()
        if task is not None and self._holder is task:
            raise RuntimeError("nested store sessions in one task would deadlock")
        async with self._lock:
            if self._call is None or self._cursor is None:
                raise RuntimeError("the store is not open")
            self._holder = task
            session = _SqliteSession(self._call, self._cursor)
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            else:
                await session.commit()
            finally:
                self._holder = None


async def _migrate(session: _SqliteSession) -> None:
    await session._write(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
        (),
    )
    rows = await session._read("SELECT MAX(version) FROM schema_version", ())
    current = rows[0][0] or 0
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        for statement in statements:
            await session._write(statement, ())
        await session._write(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (version, now_ms())
        )
