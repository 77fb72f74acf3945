"""The ``SqlTable`` data source (Karez's own type): a table or view, streamed row batch by batch.

Address properties:

* ``table``: a table or view, ``name`` or ``schema.name``; each part an identifier (letters,
  digits, ``_``; not starting with a digit), always quoted, so names match exactly;
* ``secretName``: the stored secret holding the database URL, ``sqlite:///abs/path.db`` (also
  ``sqlite:////abs/path.db``) or ``postgresql://user:pw@host:port/db``. The URL is read when a
  request is served and never appears in errors or logs;
* ``columns`` (optional): a list or a comma-separated string of column names (default: all);
* ``format`` (optional): ``csv`` (default; header row, RFC 4180, ``text/csv; charset=utf-8``)
  or ``jsonl`` (one JSON object per row, ``application/x-ndjson``);
* ``keyColumn`` (optional): rows come ordered by it, and a request with ``?after=<value>``
  gets only rows whose key is greater: a consumer reads incrementally by passing the last key
  it has seen.

Values: numbers as numbers (non-finite floats as ``"NaN"``/``"Infinity"``), ``Decimal`` as a
string (no precision lost), dates and times as ISO 8601, bytes as base64, durations as ISO 8601
durations, NULL as ``null`` in JSON lines and as an empty field in CSV.

PostgreSQL is read through a server-side cursor inside a read-only repeatable-read
transaction (one consistent snapshot); SQLite is opened read-only (``mode=ro``) on a thread of
its own. Rows are fetched in batches sized to about :data:`TARGET_CHUNK` bytes of output and
encoded off the event loop, so memory does not depend on the table's size.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import json
import logging
import math
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from connector.dataplane.address import Address, prop, text
from connector.dataplane.http_request import SecretResolver
from connector.dataplane.streaming import Meter, OnComplete, TransferInterrupted
from connector.errors import KarezError, NotFound, PeerError, ValidationFailure

log = logging.getLogger(__name__)

SQL_TABLE_TYPE = "SqlTable"
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
#: Output bytes aimed at per fetched batch; the batch size in rows adapts to the row width.
TARGET_CHUNK = 256 * 1024
FIRST_BATCH = 256
MAX_BATCH = 10_000
CONNECT_TIMEOUT = 10.0

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_MISCONFIGURED = "The data address of this asset is misconfigured"
_UNREACHABLE = "The database of this asset could not be reached"
_CANNOT_READ = "The database of this asset could not be read"

Row = Sequence[Any]
Encode = Callable[[Sequence[Row]], bytes]


# --- the address ---------------------------------------------------------------------------


def identifier(name: Any, what: str = "identifier") -> str:
    """``name`` double-quoted, after checking it is a plain SQL identifier."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise KarezError(f"{_MISCONFIGURED}: {what} {name!r} is not a valid SQL identifier")
    return f'"{name}"'


def table_reference(value: Any) -> str:
    """``table`` or ``schema.table``, each part validated and quoted."""
    if not isinstance(value, str) or not value:
        raise KarezError(f"{_MISCONFIGURED}: 'table' is missing")
    parts = value.split(".")
    if len(parts) > 2:
        raise KarezError(f"{_MISCONFIGURED}: 'table' must be a name or schema.name")
    return ".".join(identifier(part, "table") for part in parts)


def column_names(value: Any) -> list[str] | None:
    """The ``columns`` property: a JSON list or a comma-separated string; ``None``: all."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",")]
    elif isinstance(value, list):
        names = [prop({"v": item}, "v") for item in value]  # unwraps {"@value": ...}
    else:
        raise KarezError(f"{_MISCONFIGURED}: 'columns' must be a list or a comma-separated string")
    for name in names:
        identifier(name, "column")
    if len(set(names)) != len(names):
        raise KarezError(f"{_MISCONFIGURED}: 'columns' names a column twice")
    return names


@dataclass(frozen=True)
class TableQuery:
    """What an ``SqlTable`` address asks for, validated."""

    table: str  # as written in the address (for messages)
    table_sql: str  # quoted
    columns: list[str] | None
    key: str | None
    format: str

    @classmethod
    def from_address(cls, address: Address) -> TableQuery:
        table = text(address, "table")
        table_sql = table_reference(table)
        key = text(address, "keyColumn")
        if key is not None:
            identifier(key, "keyColumn")
        fmt = (text(address, "format") or "csv").lower()
        if fmt not in FORMATS:
            raise KarezError(f"{_MISCONFIGURED}: 'format' must be csv or jsonl")
        assert table is not None
        return cls(table, table_sql, column_names(prop(address, "columns")), key, fmt)

    def sql(self, placeholder: str | None) -> str:
        """The query; ``placeholder`` (``?`` or ``$1``) when rows after a key are wanted."""
        columns = ", ".join(identifier(c) for c in self.columns) if self.columns else "*"
        query = f"SELECT {columns} FROM {self.table_sql}"
        if self.key is not None:
            key = identifier(self.key)
            if placeholder is not None:
                query += f" WHERE {key} > {placeholder}"
            query += f" ORDER BY {key}"
        return query

    def check_columns(self, available: Iterable[str], *, case_sensitive: bool) -> None:
        """Refuse a ``columns`` or ``keyColumn`` entry the table does not have (400)."""
        fold: Callable[[str], str] = (lambda s: s) if case_sensitive else str.casefold
        have = {fold(name) for name in available}
        wanted = [*(self.columns or []), *([self.key] if self.key else [])]
        missing = [name for name in dict.fromkeys(wanted) if fold(name) not in have]
        if missing:
            names = ", ".join(f"'{name}'" for name in missing)
            raise ValidationFailure(
                f"The table or view '{self.table}' of this asset has no column {names}"
            )


# --- values --------------------------------------------------------------------------------


def json_value(value: Any) -> Any:
    """``value`` as JSON: numbers stay numbers, the rest becomes strings (see module doc)."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _non_finite(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def csv_value(value: Any) -> Any:
    """``value`` as a CSV field (``csv.writer`` turns ints and strings into text itself)."""
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(json_value(value), ensure_ascii=False, separators=(",", ":"))
    return json_value(value)


def _non_finite(value: float) -> str:
    return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")


def iso_duration(value: timedelta) -> str:
    """An ISO 8601 duration (``P1DT3600.5S``; ``-PT5S``)."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    seconds = str(value.seconds)
    if value.microseconds:
        seconds += f".{value.microseconds:06d}".rstrip("0")
    return f"{sign}P{f'{value.days}D' if value.days else ''}T{seconds}S"


def csv_encoder(names: Sequence[str]) -> tuple[bytes, Encode]:
    """The header row and the encoder of batches of rows, for CSV."""

    def encode(rows: Sequence[Row]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerows([csv_value(v) for v in row] for row in rows)
        return buffer.getvalue().encode("utf-8")

    return encode([list(names)]), encode


def jsonl_encoder(names: Sequence[str]) -> tuple[bytes, Encode]:
    """No header, and the encoder of batches of rows, for JSON lines."""
    keys = list(names)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode

    def encode(rows: Sequence[Row]) -> bytes:
        lines = [dumps(dict(zip(keys, map(json_value, row), strict=True))) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""

    return b"", encode


# --- databases -----------------------------------------------------------------------------


class _Database:
    """One read of one table: connect, check, run the query, fetch batches, close."""

    case_sensitive = True
    placeholder = "?"

    async def connect(self) -> None: ...
    async def columns(self, query: TableQuery) -> list[str]: ...
    async def execute(self, query: TableQuery, after: str | None) -> list[str]: ...
    async def fetch(self, size: int, encode: Encode) -> tuple[bytes, int]: ...
    async def close(self) -> None: ...


class _Sqlite(_Database):
    """sqlite3 on a thread of its own: every call on the connection runs there, in order."""

    case_sensitive = False

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="karez-sqlsource")
        self._conn: sqlite3.Connection | None = None
        self._cursor: sqlite3.Cursor | None = None

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    async def connect(self) -> None:
        uri = f"file:{quote(self.path)}?mode=ro"
        self._conn = await self._run(lambda: sqlite3.connect(uri, uri=True))

    async def columns(self, query: TableQuery) -> list[str]:
        assert self._conn is not None
        cursor = await self._run(self._conn.execute, f"SELECT * FROM {query.table_sql} LIMIT 0")
        return [d[0] for d in cursor.description]

    async def execute(self, query: TableQuery, after: str | None) -> list[str]:
        assert self._conn is not None
        params: tuple[Any, ...] = ()
        if after is not None:
            params = (_sqlite_key(after),)
        sql = query.sql(self.placeholder if after is not None else None)
        self._cursor = await self._run(self._conn.execute, sql, params)
        return [d[0] for d in self._cursor.description]

    async def fetch(self, size: int, encode: Encode) -> tuple[bytes, int]:
        cursor = self._cursor
        assert cursor is not None

        def batch() -> tuple[bytes, int]:
            rows = cursor.fetchmany(size)
            return encode(rows), len(rows)

        result: tuple[bytes, int] = await self._run(batch)
        return result

    async def close(self) -> None:
        # queued behind a fetch that may still run (a cancelled request): no waiting here
        if self._conn is not None:
            self._thread.submit(self._conn.close)
        self._thread.shutdown(wait=False)


def _sqlite_key(after: str) -> Any:
    """A canonical integer goes as an integer (compares right with INTEGER keys and with
    untyped view columns; a TEXT key turns it back into the same text), the rest as text."""
    if re.fullmatch(r"-?(0|[1-9][0-9]{0,18})", after) and -(2**63) <= int(after) < 2**63:
        return int(after)
    return after


class _Postgres(_Database):
    placeholder = "$1"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self._cursor: Any = None

    async def connect(self) -> None:
        import asyncpg

        self._conn = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT)
        # a consistent snapshot, and no way to write whatever the query were
        await self._conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    async def columns(self, query: TableQuery) -> list[str]:
        statement = await self._conn.prepare(f"SELECT * FROM {query.table_sql}")
        return [a.name for a in statement.get_attributes()]

    async def execute(self, query: TableQuery, after: str | None) -> list[str]:
        placeholder = self.placeholder if after is not None else None
        statement = await self._conn.prepare(query.sql(placeholder))
        args = []
        if after is not None:
            args.append(pg_key(after, statement.get_parameters()[0].name))
        self._cursor = await statement.cursor(*args)
        return [a.name for a in statement.get_attributes()]

    async def fetch(self, size: int, encode: Encode) -> tuple[bytes, int]:
        rows = await self._cursor.fetch(size)
        data = await asyncio.get_running_loop().run_in_executor(None, encode, rows)
        return data, len(rows)

    async def close(self) -> None:
        if self._conn is None:
            return
        try:
            await asyncio.wait_for(self._conn.close(), 5)
        except Exception:  # noqa: BLE001 - a close that fails: drop the connection
            self._conn.terminate()


_PG_INTS = {"int2", "int4", "int8", "oid"}
_PG_TEXT = {"text", "varchar", "bpchar", "name", "citext"}


def pg_key(after: str, type_name: str) -> Any:
    """The consumer's ``after`` as the Python value asyncpg sends for a ``type_name`` key."""
    try:
        if type_name in _PG_INTS:
            return int(after)
        if type_name in ("float4", "float8"):
            return float(after)
        if type_name == "numeric":
            return Decimal(after)
        if type_name in _PG_TEXT:
            return after
        if type_name == "date":
            return date.fromisoformat(after)
        if type_name == "timestamp":
            value = datetime.fromisoformat(after)
            return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
        if type_name == "timestamptz":
            value = datetime.fromisoformat(after)
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if type_name == "time":
            return time.fromisoformat(after)
        if type_name == "uuid":
            return uuid.UUID(after)
    except (ValueError, InvalidOperation):
        raise ValidationFailure(
            f"'after' is not a valid value for the key column (type {type_name})"
        ) from None
    raise ValidationFailure(f"'after' is not supported for a key column of type {type_name}")


def open_database(url: str) -> _Database:
    """The database behind ``url``; a URL of no known form is a misconfiguration (named not)."""
    if url.startswith("sqlite:"):
        rest = url[len("sqlite:") :]
        if not rest.startswith("///") or "?" in rest or "#" in rest:
            raise KarezError(f"{_MISCONFIGURED}: the database URL is not usable")
        path = rest[2:]
        if path.startswith("//"):  # sqlite:////abs/path (SQLAlchemy's form)
            path = path[1:]
        return _Sqlite(path)
    if url.startswith(("postgresql://", "postgres://")):
        return _Postgres(url)
    raise KarezError(f"{_MISCONFIGURED}: the database URL is not usable")


async def _database_url(address: Address, secret_resolver: SecretResolver | None) -> str:
    name = text(address, "secretName")
    if name is None:
        raise KarezError(f"{_MISCONFIGURED}: 'secretName' is missing")
    value = await secret_resolver(name) if secret_resolver is not None else None
    if value:
        value = value.strip()
        if value.startswith("{"):  # also a JSON object holding it under "url"
            try:
                value = json.loads(value).get("url")
            except (ValueError, AttributeError):
                value = None
    if not isinstance(value, str) or not value:
        raise KarezError("The credentials for the data source are not available")
    return value


def _classify(exc: BaseException, query: TableQuery) -> KarezError:
    """A database failure before the response started, as an error that names no URL."""
    import asyncpg

    missing = NotFound(f"The table or view '{query.table}' of this asset does not exist")
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc)
        if message.startswith("no such table"):
            return missing
        if message.startswith("no such column"):
            return ValidationFailure(f"A column named by this asset is not in '{query.table}'")
    if isinstance(exc, (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError)):
        return missing
    if isinstance(exc, asyncpg.UndefinedColumnError):
        return ValidationFailure(f"A column named by this asset is not in '{query.table}'")
    if isinstance(exc, asyncpg.DataError):  # e.g. an 'after' out of the key type's range
        return ValidationFailure("'after' is not a valid value for the key column")
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return PeerError(f"The database refused to read '{query.table}'")
    return PeerError(_CANNOT_READ)


# --- serving -------------------------------------------------------------------------------


async def serve_sql(
    request: web.Request,
    address: Address,
    *,
    sub_path: str = "",
    secret_resolver: SecretResolver | None = None,
    http_session: aiohttp.ClientSession | None = None,
    on_complete: OnComplete | None = None,
) -> web.StreamResponse:
    """Answer ``request`` (GET or HEAD) with the rows of the ``SqlTable`` ``address``."""
    if request.method not in ("GET", "HEAD"):
        raise ValidationFailure(f"method {request.method} is not supported for table data")
    if sub_path.strip("/"):
        raise NotFound("This asset is a table: request it without a path below the endpoint")
    query = TableQuery.from_address(address)
    after = request.query.get("after")
    if after is not None and query.key is None:
        raise ValidationFailure("'after' needs an asset whose data address has a keyColumn")
    database = open_database(await _database_url(address, secret_resolver))
    try:
        return await _stream(request, database, query, after, on_complete)
    finally:
        await database.close()


async def _stream(
    request: web.Request,
    database: _Database,
    query: TableQuery,
    after: str | None,
    on_complete: OnComplete | None,
) -> web.StreamResponse:
    try:
        await database.connect()
    except Exception as exc:  # noqa: BLE001 - whatever failed, say only that it did
        log.warning("SqlTable '%s': database unreachable (%s)", query.table, type(exc).__name__)
        raise PeerError(_UNREACHABLE) from None
    try:
        query.check_columns(await database.columns(query), case_sensitive=database.case_sensitive)
        names = await database.execute(query, after)
    except KarezError:
        raise
    except Exception as exc:  # noqa: BLE001
        error = _classify(exc, query)
        log.warning("SqlTable '%s': %s (%s)", query.table, error.message, type(exc).__name__)
        raise error from None

    header, encode_rows = (csv_encoder if query.format == "csv" else jsonl_encoder)(names)
    meter = Meter(whole_body=request.method == "GET" and on_complete is not None)

    def encode(rows: Sequence[Row]) -> bytes:  # off the event loop, hashing included
        data = encode_rows(rows)
        meter.update(data)
        return data

    response = web.StreamResponse(
        status=200, headers={"Content-Type": FORMATS[query.format], "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    if request.method == "GET":
        if header:
            meter.update(header)
            await response.write(header)
        size = FIRST_BATCH
        while True:
            try:
                chunk, count = await database.fetch(size, encode)
            except Exception as exc:  # noqa: BLE001
                log.warning(
                    "SqlTable '%s': failed mid-stream (%s)", query.table, type(exc).__name__
                )
                response.force_close()
                raise TransferInterrupted("the database failed mid-stream") from None
            if chunk:
                await response.write(chunk)
            if count < size:
                break
            size = max(1, min(MAX_BATCH, TARGET_CHUNK * count // max(len(chunk), 1)))
    await response.write_eof()
    await meter.report(on_complete)
    return response
