"""The ``SqlTable`` source against the local PostgreSQL (``KAREZ_TEST_PG_URL``): a uniquely
named table and view, streamed through ``serve`` behind a real aiohttp server, then dropped.

Skipped when PostgreSQL cannot be reached, unless ``CI`` is set (then the test fails)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import pytest

from connector.setup_node import free_ports
from tests.integration.test_postgres_nodes import PG_URL, pg_available
from tests.unit.public_app import Start, public_endpoints

pytestmark = pytest.mark.postgres


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    async with public_endpoints() as start_:
        yield start_


ROWS = 5000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def pg_table():
    problem = await pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(f"no PostgreSQL at {PG_URL}: {problem}")
    name = f"karez_sqlsrc_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(
            f'CREATE TABLE "{name}" (id bigint PRIMARY KEY, label text, price numeric(12, 3), '
            "ratio double precision, at timestamptz, payload bytea, tags text[], ok boolean)"
        )
        await conn.copy_records_to_table(
            name,
            records=[
                (
                    i,
                    f'item "{i}", grade A',
                    Decimal(i) / 8,
                    i / 3,
                    T0 + timedelta(minutes=i),
                    bytes([i % 256]),
                    ["a", str(i)],
                    i % 2 == 0,
                )
                for i in range(1, ROWS + 1)
            ],
        )
        await conn.execute(
            f'CREATE VIEW "{name}_v" AS SELECT id, label FROM "{name}" WHERE id % 1000 = 0'
        )
        yield name
    finally:
        await conn.execute(f'DROP VIEW IF EXISTS "{name}_v"')
        await conn.execute(f'DROP TABLE IF EXISTS "{name}"')
        await conn.close()


def address(**kw):
    return {"type": "SqlTable", "secretName": "warehouse", **kw}


SECRETS = {"warehouse": PG_URL}


async def test_table_as_csv(pg_table, start):
    client, done = await start(address(table=f"public.{pg_table}", keyColumn="id"), SECRETS)
    resp = await client.get("/public")
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = await resp.read()
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert rows[0] == ["id", "label", "price", "ratio", "at", "payload", "tags", "ok"]
    assert len(rows) == ROWS + 1
    assert rows[1] == [
        "1",
        'item "1", grade A',
        "0.125",
        str(1 / 3),
        "2026-01-01T00:01:00+00:00",
        "AQ==",
        '["a","1"]',
        "false",
    ]
    assert [int(r[0]) for r in rows[1:]] == list(range(1, ROWS + 1))
    assert done == [(len(body), hashlib.sha256(body).hexdigest())]


async def test_view_as_jsonl_and_incremental_reads(pg_table, start):
    client, _ = await start(address(table=f"{pg_table}_v", format="jsonl"), SECRETS)
    resp = await client.get("/public")
    assert resp.headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in (await resp.text()).splitlines()]
    assert lines == [{"id": i, "label": f'item "{i}", grade A'} for i in range(1000, 5001, 1000)]

    client, _ = await start(
        address(table=pg_table, format="jsonl", columns="id,price,at", keyColumn="at"), SECRETS
    )
    after = (T0 + timedelta(minutes=ROWS - 3)).isoformat()
    lines = [
        json.loads(line)
        for line in (await (await client.get("/public", params={"after": after})).text()).split()
    ]
    assert [row["id"] for row in lines] == [ROWS - 2, ROWS - 1, ROWS]
    assert lines[0]["price"] == "624.750" and isinstance(lines[0]["id"], int)

    client, _ = await start(address(table=pg_table, columns=["id"], keyColumn="id"), SECRETS)
    assert await (await client.get("/public?after=4998")).text() == "id\r\n4999\r\n5000\r\n"
    for bad in ("not-a-number", "99999999999999999999"):
        resp = await client.get("/public", params={"after": bad})
        assert resp.status == 400, await resp.text()


@pytest.mark.parametrize(
    ("kw", "status"),
    [
        ({"table": "karez_no_such_table"}, 404),
        ({"table": "no_such_schema.t"}, 404),
        ({"columns": "id,no_such_column"}, 400),
    ],
)
async def test_missing_objects(pg_table, start, kw, status):
    client, _ = await start(address(**{"table": pg_table, **kw}), SECRETS)
    resp = await client.get("/public")
    body = await resp.text()
    assert resp.status == status, body
    assert PG_URL not in body and "postgresql://" not in body


async def test_unreachable_server_is_502_without_the_url(start, caplog):
    url = f"postgresql://reader:pw-s3cret@127.0.0.1:{free_ports(1)[0]}/nowhere"
    client, _ = await start(address(table="t"), {"warehouse": url})
    resp = await client.get("/public")
    body = await resp.text()
    assert resp.status == 502
    assert "could not be reached" in body
    for leak in (url, "pw-s3cret", "nowhere"):
        assert leak not in body and leak not in caplog.text
