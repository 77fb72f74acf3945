"""The streaming transfer type (``HttpData-STREAM``) between real nodes: files, rows and
appended bytes added to the source while the transfer is STARTED reach the consumer; nothing
does once it has ended."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

from connector.client import EDC_CONTEXT
from tests.integration.helpers import negotiate, offer_openly
from tests.integration.test_push import Receiver, receiver  # noqa: F401 - the fixture

STREAM = "HttpData-STREAM"


async def start_stream(ds, http, asset_id: str, destination: dict) -> tuple[object, str]:
    consumer = ds.client(http, "consumer")
    n = await negotiate(consumer, ds["provider"], asset_id)
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    body = {
        "@context": EDC_CONTEXT,
        "counterPartyAddress": ds["provider"].protocol_url,
        "contractId": n["contractAgreementId"],
        "transferType": STREAM,
        "dataDestination": destination,
    }
    tid = (await consumer.call("POST", "/v3/transferprocesses", body))["@id"]
    await consumer.wait_state("transferprocesses", tid, {"STARTED"})
    return consumer, tid


async def eventually(check, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time limit"
        await asyncio.sleep(0.1)


async def test_files_added_to_a_folder_keep_arriving(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    source = tmp_path / "sensors"
    source.mkdir()
    (source / "day-1.csv").write_text("t,v\n1,2\n")
    await offer_openly(
        ds.client(http, "provider"), "sensors", {"type": "File", "path": str(source)}
    )
    inbox = tmp_path / "inbox"
    consumer, tid = await start_stream(ds, http, "sensors", {"type": "File", "folder": str(inbox)})
    await eventually(lambda: (inbox / "day-1.csv").exists())
    (source / "2026").mkdir()
    (source / "2026" / "day-2.csv").write_text("t,v\n2,3\n")
    await eventually(lambda: (inbox / "2026" / "day-2.csv").exists())
    assert (inbox / "2026" / "day-2.csv").read_text() == "t,v\n2,3\n"
    # the consumer completes: later files no longer arrive
    await consumer.call("POST", f"/v3/transferprocesses/{tid}/complete")
    await consumer.wait_state("transferprocesses", tid, {"COMPLETED"})
    (source / "day-3.csv").write_text("late\n")
    await asyncio.sleep(2.5)
    assert not (inbox / "day-3.csv").exists()


async def test_rows_added_to_a_table_keep_arriving(shared_dataspace, http, tmp_path, receiver):  # noqa: F811
    ds = shared_dataspace
    provider = ds.client(http, "provider")
    db = tmp_path / "readings.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, field TEXT, kg REAL)")
        conn.executemany(
            "INSERT INTO readings VALUES (?, ?, ?)", [(i, f"F{i}", 400.0 + i) for i in (1, 2, 3)]
        )
    await provider.call(
        "POST",
        "/v3/secrets",
        {"@context": EDC_CONTEXT, "@id": "readings-db", "value": f"sqlite:///{db}"},
    )
    address = {
        "type": "SqlTable",
        "table": "readings",
        "secretName": "readings-db",
        "keyColumn": "id",
        "format": "jsonl",
    }
    await offer_openly(provider, "readings", address)
    destination = {
        "type": "HttpData",
        "baseUrl": receiver.url,
        "authKey": "X-Sink-Key",
        "authCode": receiver.token,
    }
    consumer, tid = await start_stream(ds, http, "readings", destination)

    def ids() -> list[int]:
        rows = []
        for path in sorted(receiver.bodies):
            rows += [json.loads(line)["id"] for line in receiver.bodies[path].splitlines()]
        return rows

    await eventually(lambda: ids() == [1, 2, 3])
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO readings VALUES (?, ?, ?)", [(i, f"F{i}", 400.0 + i) for i in (4, 5)]
        )
    await eventually(lambda: ids() == [1, 2, 3, 4, 5])
    assert sorted(receiver.bodies) == [
        "/ingest/readings-000001.jsonl",
        "/ingest/readings-000002.jsonl",
    ]
    await consumer.call(
        "POST", f"/v3/transferprocesses/{tid}/terminate", {"@context": EDC_CONTEXT, "reason": "x"}
    )
    await consumer.wait_state("transferprocesses", tid, {"TERMINATED"})
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO readings VALUES (6, 'F6', 406.0)")
    await asyncio.sleep(2.5)
    assert ids() == [1, 2, 3, 4, 5]


async def test_bytes_appended_to_a_file_keep_arriving(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    log = tmp_path / "weighbridge.log"
    log.write_bytes(b"08:00 truck 1 18.2t\n")
    await offer_openly(
        ds.client(http, "provider"), "weighbridge", {"type": "File", "path": str(log)}
    )
    inbox = tmp_path / "inbox"
    consumer, tid = await start_stream(
        ds, http, "weighbridge", {"type": "File", "folder": str(inbox)}
    )

    def received() -> bytes:
        return b"".join(p.read_bytes() for p in sorted(inbox.glob("weighbridge.*")))

    await eventually(lambda: received() == log.read_bytes())
    with log.open("ab") as fh:
        fh.write(b"08:05 truck 2 17.9t\n")
    await eventually(lambda: received() == log.read_bytes())
    assert received().count(b"truck") == 2
    assert len(list(inbox.glob("weighbridge.*"))) == 2
    await consumer.call("POST", f"/v3/transferprocesses/{tid}/complete")
    await consumer.wait_state("transferprocesses", tid, {"COMPLETED"})
