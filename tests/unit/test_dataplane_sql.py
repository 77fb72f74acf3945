"""The ``SqlTable`` source: identifiers, value encoding, and SQLite tables and views served
over a real server (PostgreSQL: tests/integration/test_dataplane_sql_postgres.py)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connector.dataplane import sql_source
from connector.dataplane.sql_source import (
    TableQuery,
    column_names,
    csv_encoder,
    csv_value,
    identifier,
    iso_duration,
    json_value,
    jsonl_encoder,
    open_database,
    pg_key,
    table_reference,
)
from connector.errors import KarezError, ValidationFailure
from tests.unit.public_app import Start, public_endpoints


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    async with public_endpoints() as start_:
        yield start_


# --- identifiers ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders", "Orders_2026", "_x", "a" * 63])
def test_identifiers_are_quoted(name):
    assert identifier(name) == f'"{name}"'


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1st",
        'x"; DROP TABLE t; --',
        "a b",
        "a-b",
        "a;b",
        "a" * 64,
        "naïve",
        "x\x00",
        None,
        7,
    ],
)
def test_bad_identifiers_are_refused(name):
    with pytest.raises(KarezError, match="not a valid SQL identifier"):
        identifier(name)


def test_table_references_and_columns():
    assert table_reference("sales.orders") == '"sales"."orders"'
    for bad in ("a.b.c", "a.", ".b", "", "a..b", 'a"."b'):
        with pytest.raises(KarezError):
            table_reference(bad)
    assert column_names("id, name ,price") == ["id", "name", "price"]
    assert column_names(["id", {"@value": "name"}]) == ["id", "name"]
    assert column_names(None) is None and column_names("") is None
    for bad in ("id,,name", "id,id", "id; DROP", ["ok", 3], {"id": 1}):
        with pytest.raises(KarezError):
            column_names(bad)


def test_query_text():
    q = TableQuery.from_address(
        {"table": "s.t", "columns": "a,b", "keyColumn": "k", "secretName": "x"}
    )
    assert q.sql(None) == 'SELECT "a", "b" FROM "s"."t" ORDER BY "k"'
    assert q.sql("$1") == 'SELECT "a", "b" FROM "s"."t" WHERE "k" > $1 ORDER BY "k"'
    assert TableQuery.from_address({"table": "t"}).sql(None) == 'SELECT * FROM "t"'
    with pytest.raises(KarezError, match="format"):
        TableQuery.from_address({"table": "t", "format": "xml"})
    with pytest.raises(KarezError, match="keyColumn"):
        TableQuery.from_address({"table": "t", "keyColumn": "k k"})
    with pytest.raises(ValidationFailure, match="no column 'c', 'k'"):
        q2 = TableQuery.from_address({"table": "t", "columns": ["a", "c"], "keyColumn": "k"})
        q2.check_columns(["a", "b"], case_sensitive=True)
    q2.check_columns(["A", "C", "K"], case_sensitive=False)


# --- values --------------------------------------------------------------------------------

TYPED_ROW = (
    1,
    -2.5,
    Decimal("12345678901234567890.000001"),
    'text, with "quotes"\nand a newline',
    None,
    True,
    b"\x00\xffbytes",
    date(2026, 3, 1),
    datetime(2026, 3, 1, 12, 30, 5, 250000, tzinfo=UTC),
    time(8, 15),
    timedelta(days=1, seconds=3600, microseconds=500000),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    [1, 2, None],
    float("nan"),
)
NAMES = [f"c{i}" for i in range(len(TYPED_ROW))]


def test_json_values():
    assert [json_value(v) for v in TYPED_ROW] == [
        1,
        -2.5,
        "12345678901234567890.000001",
        'text, with "quotes"\nand a newline',
        None,
        True,
        "AP9ieXRlcw==",
        "2026-03-01",
        "2026-03-01T12:30:05.250000+00:00",
        "08:15:00",
        "P1DT3600.5S",
        "12345678-1234-5678-1234-567812345678",
        [1, 2, None],
        "NaN",
    ]
    assert json_value(float("-inf")) == "-Infinity"
    assert json_value({"a": Decimal("1.5")}) == {"a": "1.5"}
    assert iso_duration(timedelta(seconds=-5)) == "-PT5S"
    assert iso_duration(timedelta(0)) == "PT0S"


def test_jsonl_encoding():
    header, encode = jsonl_encoder(NAMES)
    assert header == b""
    data = encode([TYPED_ROW, TYPED_ROW])
    lines = data.decode().split("\n")
    assert len(lines) == 3 and lines[2] == ""
    row = json.loads(lines[0])
    assert row["c0"] == 1 and row["c1"] == -2.5 and row["c5"] is True and row["c4"] is None
    assert row["c2"] == "12345678901234567890.000001"
    assert row["c6"] == "AP9ieXRlcw=="
    assert encode([]) == b""


def test_csv_encoding():
    header, encode = csv_encoder(NAMES)
    assert header == (",".join(NAMES) + "\r\n").encode()
    rows = list(csv.reader(io.StringIO((header + encode([TYPED_ROW])).decode(), newline="")))
    assert rows[0] == NAMES
    assert rows[1] == [
        "1",
        "-2.5",
        "12345678901234567890.000001",
        'text, with "quotes"\nand a newline',
        "",
        "true",
        "AP9ieXRlcw==",
        "2026-03-01",
        "2026-03-01T12:30:05.250000+00:00",
        "08:15:00",
        "P1DT3600.5S",
        "12345678-1234-5678-1234-567812345678",
        "[1,2,null]",
        "NaN",
    ]
    assert csv_value(False) == "false"


def test_postgres_key_values():
    assert pg_key("42", "int8") == 42
    assert pg_key("1.5", "numeric") == Decimal("1.5")
    assert pg_key("abc", "text") == "abc"
    assert pg_key("2026-01-02", "date") == date(2026, 1, 2)
    assert pg_key("2026-01-02T03:04:05Z", "timestamptz") == datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=UTC
    )
    assert pg_key("2026-01-02T03:04:05", "timestamptz").tzinfo == UTC
    assert pg_key("2026-01-02T05:04:05+02:00", "timestamp") == datetime(2026, 1, 2, 3, 4, 5)
    with pytest.raises(ValidationFailure, match="not a valid value"):
        pg_key("x", "int4")
    with pytest.raises(ValidationFailure, match="not supported"):
        pg_key("x", "jsonb")


@pytest.mark.parametrize(
    ("url", "path"),
    [("sqlite:///srv/db/x.db", "/srv/db/x.db"), ("sqlite:////srv/db/x.db", "/srv/db/x.db")],
)
def test_sqlite_urls(url, path):
    database = open_database(url)
    assert isinstance(database, sql_source._Sqlite) and database.path == path


@pytest.mark.parametrize(
    "url", ["sqlite://relative.db", "sqlite:///x.db?mode=rw", "mysql://u:pw@h/db", "s3cret"]
)
def test_unusable_urls_are_not_repeated(url):
    with pytest.raises(KarezError) as caught:
        open_database(url)
    assert url not in caught.value.message


# --- SQLite over HTTP ----------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "sales.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL, "
        "placed TEXT, note BLOB)"
    )
    conn.executemany(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
        [
            (i, f"customer {i}, Ltd", i * 1.25, f"2026-01-{i:02d}", None if i % 2 else b"\x01")
            for i in range(1, 21)
        ],
    )
    conn.execute("CREATE VIEW big_orders AS SELECT id, customer, amount FROM orders WHERE id > 15")
    conn.commit()
    conn.close()
    return path


def address(**kw):
    return {"type": "SqlTable", "secretName": "sales-db", **kw}


def secrets(db: Path) -> dict[str, str]:
    return {"sales-db": f"sqlite://{db}"}


def read_csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(), newline="")))


async def test_table_as_csv(db, start):
    client, done = await start(address(table="orders"), secrets(db))
    resp = await client.get("/public")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = await resp.read()
    rows = read_csv(body)
    assert rows[0] == ["id", "customer", "amount", "placed", "note"]
    assert len(rows) == 21
    assert rows[1] == ["1", "customer 1, Ltd", "1.25", "2026-01-01", ""]
    assert rows[2][4] == "AQ=="  # bytes as base64
    assert done == [(len(body), hashlib.sha256(body).hexdigest())]


async def test_view_as_jsonl_with_columns(db, start):
    client, _ = await start(
        address(table="main.big_orders", format="jsonl", columns="id, amount"), secrets(db)
    )
    resp = await client.get("/public/")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert lines == [{"id": i, "amount": i * 1.25} for i in range(16, 21)]


async def test_key_column_and_after(db, start):
    client, _ = await start(address(table="orders", keyColumn="id", columns=["id"]), secrets(db))
    rows = read_csv(await (await client.get("/public", params={"after": "17"})).read())
    assert rows == [["id"], ["18"], ["19"], ["20"]]
    rows = read_csv(await (await client.get("/public", params={"after": "99"})).read())
    assert rows == [["id"]]
    # a text key: incremental reading by date
    client, _ = await start(address(table="big_orders", keyColumn="id"), secrets(db))
    rows = read_csv(await (await client.get("/public?after=19")).read())
    assert [r[0] for r in rows[1:]] == ["20"]
    client, _ = await start(address(table="orders", keyColumn="placed", columns="id"), secrets(db))
    rows = read_csv(await (await client.get("/public", params={"after": "2026-01-18"})).read())
    assert rows == [["id"], ["19"], ["20"]]


async def test_after_needs_a_key_column(db, start):
    client, _ = await start(address(table="orders"), secrets(db))
    resp = await client.get("/public?after=3")
    assert resp.status == 400 and "keyColumn" in (await resp.json())["errors"][0]


async def test_head_and_methods(db, start):
    client, done = await start(address(table="orders"), secrets(db))
    resp = await client.head("/public")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert await resp.read() == b""
    assert done == [(0, None)]
    assert (await client.post("/public", data=b"x")).status == 400
    assert (await client.get("/public/rows/1")).status == 404


@pytest.mark.parametrize(
    ("addr", "status", "words"),
    [
        (address(table="nothing"), 404, "'nothing'"),
        (address(table="nope.orders"), 404, "'nope.orders'"),
        (address(table="orders", columns="id,secret_col"), 400, "'secret_col'"),
        (address(table="orders", keyColumn="missing"), 400, "'missing'"),
        (address(table="orders; DROP TABLE orders"), 500, "not a valid SQL identifier"),
        (address(table="orders", secretName="other"), 500, "not available"),
        (address(table="orders", secretName=None), 500, "secretName"),
    ],
)
async def test_errors_name_no_url(db, start, addr, status, words):
    client, done = await start(addr, secrets(db))
    resp = await client.get("/public")
    body = await resp.text()
    assert resp.status == status, body
    assert words in json.loads(body)["errors"][0]
    assert str(db) not in body and "sqlite:" not in body
    assert done == []
    assert sqlite3.connect(db).execute("SELECT count(*) FROM orders").fetchone() == (20,)


async def test_unreachable_database_is_502(tmp_path, start, caplog):
    missing = tmp_path / "gone" / "x.db"
    client, _ = await start(address(table="orders"), {"sales-db": f"sqlite://{missing}"})
    resp = await client.get("/public")
    body = await resp.text()
    assert resp.status == 502
    assert "could not be reached" in body and str(missing) not in body
    assert str(missing) not in caplog.text


async def test_database_is_opened_read_only(db, start):
    """Even a view or name trick could not write: the connection itself is read-only."""
    database = open_database(f"sqlite://{db}")
    await database.connect()
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await database._run(database._conn.execute, "DELETE FROM orders")
    finally:
        await database.close()


ROWS = 200_000
#: Peak of Python allocations allowed while streaming: a few batches, not the table.
LIMIT = 4 * 1024 * 1024


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_200k_rows_with_bounded_memory(tmp_path, start, fmt):
    path = tmp_path / "big.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, sensor TEXT, at TEXT, v REAL)")
    conn.executemany(
        "INSERT INTO readings VALUES (?, ?, ?, ?)",
        (
            (i, f"sensor-{i % 97:03d}-north-field", f"2026-05-01T{i % 24:02d}:00:00Z", i / 7)
            for i in range(ROWS)
        ),
    )
    conn.commit()
    conn.close()
    client, done = await start(
        address(table="readings", keyColumn="id", format=fmt), {"sales-db": f"sqlite://{path}"}
    )
    tracemalloc.start()
    try:
        resp = await client.get("/public")
        assert resp.status == 200
        digest, size, lines, tail = hashlib.sha256(), 0, 0, b""
        async for chunk in resp.content.iter_chunked(256 * 1024):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            tail = (tail + chunk)[-200:]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert lines == ROWS + (fmt == "csv")
    assert done == [(size, digest.hexdigest())]
    print(f"{fmt}: peak {peak / 2**20:.2f} MiB for {size / 2**20:.1f} MiB of output")
    assert size > 3 * LIMIT, size
    assert peak < LIMIT, f"peak {peak / 2**20:.1f} MiB for {size / 2**20:.1f} MiB of output"
    last = tail.splitlines()[-1].decode()
    assert last.startswith(f"{ROWS - 1},") if fmt == "csv" else json.loads(last)["id"] == ROWS - 1
