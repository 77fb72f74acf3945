"""The same flow with both nodes on PostgreSQL, including a crash in the middle."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from tests.integration.helpers import download, negotiate, offer_for, publish

PG_URL = os.environ.get("KAREZ_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def pg_available() -> str | None:
    try:
        import asyncpg

        conn = await asyncpg.connect(PG_URL, timeout=3)
        await conn.close()
        return None
    except Exception as exc:  # any failure to connect means no server here
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture
async def pg_dataspace(dataspace_factory):
    problem = await pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {problem}")
        pytest.skip(f"no PostgreSQL at {PG_URL}: {problem}")
    schemas = {name: f"karez_it_{name}_{uuid.uuid4().hex[:8]}" for name in ("provider", "consumer")}
    sep = "&" if "?" in PG_URL else "?"
    ds = dataspace_factory(
        2,
        configure={
            name: {"store_url": f"{PG_URL}{sep}schema={schema}"} for name, schema in schemas.items()
        },
    )
    yield ds
    ds.stop()
    import asyncpg

    conn = await asyncpg.connect(PG_URL)
    for schema in schemas.values():
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


async def test_flow_and_restart_on_postgres(pg_dataspace, http):
    ds = pg_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, ds["provider"].folder, "pg-asset")
    n = await negotiate(consumer, ds["provider"], "pg-asset")
    assert n["state"] == "FINALIZED", n
    ds["provider"].kill()
    tid = await consumer.transfer(ds["provider"].protocol_url, n["contractAgreementId"])
    await asyncio.sleep(0.5)
    ds["provider"].start()
    t = await consumer.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"}, 40)
    assert t["state"] == "STARTED", t
    edr = await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")
    assert (await download(http, edr))[:2] == (200, sha)
    offer = await offer_for(consumer, ds["provider"], "pg-asset")
    assert offer["@id"]
