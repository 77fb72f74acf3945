"""Folders and SQL tables shared between two real nodes: publish, negotiate, pull, download."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from connector.client import EDC_CONTEXT
from tests.integration.helpers import download, negotiate, offer_for, pull
from tests.integration.helpers import offer_openly as offer

pytestmark = pytest.mark.asyncio(loop_scope="function")

OUTSIDE = b"provider-only: never shared"


def make_database(path: Path) -> list[list[str]]:
    """A SQLite file with ``orders``; returns the CSV rows expected for it."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, amount REAL)")
    rows = [(i, f"Customer {i}, Ltd", i * 2.5) for i in range(1, 501)]
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return [["id", "customer", "amount"]] + [[str(a), b, str(c)] for a, b, c in rows]


def make_folder(path: Path) -> dict[str, bytes]:
    files = {
        "readme.txt": b"cotton yields by quarter\n",
        "2026/q1.csv": b"region,yield\nnorth,3.2\nsouth,2.9\n",
        "2026/q2.csv": b"region,yield\nnorth,3.4\n",
    }
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)
    (path / ".hidden").write_bytes(OUTSIDE)
    (path.parent / "outside.txt").write_bytes(OUTSIDE)
    (path / "link-out.txt").symlink_to(path.parent / "outside.txt")
    return files


async def get(http: aiohttp.ClientSession, edr: dict, raw_path: str) -> tuple[int, bytes]:
    """GET ``<endpoint><raw_path>`` with the path sent exactly as written."""
    url = URL(edr["endpoint"].rstrip("/") + raw_path, encoded=True)
    async with http.get(url, headers={"Authorization": edr["authorization"]}) as resp:
        return resp.status, await resp.read()


async def test_sql_table_and_folder_through_the_public_api(dataspace_factory, http, tmp_path):
    ds = dataspace_factory(2)
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    db_path = tmp_path / "warehouse" / "sales.db"
    db_path.parent.mkdir()
    expected_rows = make_database(db_path)
    db_url = f"sqlite://{db_path}"
    folder = tmp_path / "share" / "reports"
    folder.mkdir(parents=True)
    files = make_folder(folder)

    await provider.call(
        "POST", "/v3/secrets", {"@context": EDC_CONTEXT, "@id": "sales-db", "value": db_url}
    )
    await offer(
        provider,
        "sales-orders",
        {"type": "SqlTable", "table": "orders", "secretName": "sales-db", "keyColumn": "id"},
    )
    await offer(provider, "cotton-reports", {"type": "File", "path": str(folder)})

    # the catalog and the agreement name no database URL (nor its file)
    catalog_offer = await offer_for(consumer, ds["provider"], "sales-orders")
    catalog = await consumer.catalog(ds["provider"].protocol_url, ds["provider"].id)
    for text in (json.dumps(catalog), json.dumps(catalog_offer)):
        assert db_url not in text and str(db_path) not in text and "sales.db" not in text

    orders = await negotiate(consumer, ds["provider"], "sales-orders")
    assert orders["state"] == "FINALIZED", orders.get("errorDetail")
    for side in (consumer, provider):
        agreement = await side.call(
            "GET", f"/v3/contractagreements/{orders['contractAgreementId']}"
        )
        assert "sales.db" not in json.dumps(agreement) and "sqlite:" not in json.dumps(agreement)

    # the table, as CSV, then only the rows after a key
    transfer, edr = await pull(consumer, ds["provider"], orders["contractAgreementId"])
    assert edr is not None, transfer.get("errorDetail")
    assert "sales.db" not in json.dumps(edr) and "sqlite:" not in json.dumps(edr)
    status, _, body = await download(http, edr)
    assert status == 200
    assert list(csv.reader(io.StringIO(body.decode(), newline=""))) == expected_rows
    status, body = await get(http, edr, "?after=497")
    assert status == 200
    assert body.decode().splitlines() == ["id,customer,amount"] + [
        ",".join(f'"{v}"' if "," in v else v for v in row) for row in expected_rows[-3:]
    ]

    # the folder: a listing, a file in a sub-folder, and what must be refused
    reports = await negotiate(consumer, ds["provider"], "cotton-reports")
    assert reports["state"] == "FINALIZED", reports.get("errorDetail")
    transfer, edr = await pull(consumer, ds["provider"], reports["contractAgreementId"])
    assert edr is not None, transfer.get("errorDetail")
    status, _, body = await download(http, edr)
    assert status == 200
    listing = json.loads(body)
    assert [f["path"] for f in listing["files"]] == sorted(files)
    assert {f["path"]: f["size"] for f in listing["files"]} == {
        name: len(data) for name, data in files.items()
    }
    assert listing["truncated"] is False
    status, body = await get(http, edr, "/2026/q1.csv")
    assert (status, body) == (200, files["2026/q1.csv"])
    status, body = await get(http, edr, "/2026/q2.csv")
    assert (status, body) == (200, files["2026/q2.csv"])
    for raw in (
        "/%2E%2E/outside.txt",
        "/2026/%2e%2e/%2e%2e/outside.txt",
        "/link-out.txt",
        "/.hidden",
        "/%2Fetc%2Fpasswd",
    ):
        status, body = await get(http, edr, raw)
        assert status in (403, 404), (raw, status)
        assert OUTSIDE not in body and b"root:" not in body
        assert json.loads(body)["errors"], raw
    # without the token, nothing at all
    async with http.get(edr["endpoint"] + "/2026/q1.csv") as resp:
        assert resp.status == 401

    assert db_url not in ds["provider"].log.read_text(encoding="utf-8")
