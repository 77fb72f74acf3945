"""The consumer asks Karez to download a started pull into a local folder
(``POST /v3/edrs/{id}/fetch``): one file named after the asset, or a folder file by file, each
with its SHA-256 recorded on the transfer."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from connector.client import EDC_CONTEXT, ManagementError
from tests.integration.helpers import (
    make_file,
    negotiate,
    offer_openly,
    provider_digest,
    publish,
    pull,
)


async def wait_fetch(consumer, tid: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        t = await consumer.call("GET", f"/v3/transferprocesses/{tid}")
        if t.get("karez:fetch", {}).get("karez:state") in ("DONE", "FAILED"):
            return t
        assert time.monotonic() < deadline, t
        await asyncio.sleep(0.1)


async def fetch_into(consumer, tid: str, folder) -> dict:
    """Ask the consumer to fetch a started pull into ``folder``; the transfer once it ended."""
    await consumer.call(
        "POST", f"/v3/edrs/{tid}/fetch", {"@context": EDC_CONTEXT, "folder": str(folder)}
    )
    return await wait_fetch(consumer, tid)


def as_list(value):
    return value if isinstance(value, list) else [value]


async def test_fetch_a_file(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, tmp_path, "fetch-file", size=5 * 1024 * 1024)
    n = await negotiate(consumer, ds["provider"], "fetch-file")
    transfer, edr = await pull(consumer, ds["provider"], n["contractAgreementId"])
    assert edr is not None, transfer.get("errorDetail")
    folder = tmp_path / "downloads"
    t = await fetch_into(consumer, transfer["@id"], folder)
    assert t["karez:fetch"]["karez:state"] == "DONE", t["karez:fetch"]
    (entry,) = as_list(t["karez:received"])
    assert entry["karez:path"] == "fetch-file" and entry["karez:sha256"] == sha
    assert hashlib.sha256((folder / "fetch-file").read_bytes()).hexdigest() == sha
    # what the provider served, recorded with its side of the transfer
    assert await provider_digest(provider, n["contractAgreementId"]) == sha


async def test_fetch_a_folder(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    source = tmp_path / "cotton"
    (source / "2026").mkdir(parents=True)
    shas = {
        "aksu.csv": make_file(source / "aksu.csv", 3000),
        "2026/korla.csv": make_file(source / "2026" / "korla.csv", 700_000),
    }
    await offer_openly(provider, "fetch-folder", {"type": "File", "path": str(source)})
    n = await negotiate(consumer, ds["provider"], "fetch-folder")
    transfer, edr = await pull(consumer, ds["provider"], n["contractAgreementId"])
    assert edr is not None, transfer.get("errorDetail")
    folder = tmp_path / "into"
    t = await fetch_into(consumer, transfer["@id"], folder)
    assert t["karez:fetch"]["karez:state"] == "DONE", t["karez:fetch"]
    got = {e["karez:path"]: e["karez:sha256"] for e in as_list(t["karez:received"])}
    assert got == shas
    for path, sha in shas.items():
        assert hashlib.sha256((folder / path).read_bytes()).hexdigest() == sha


async def test_fetch_needs_an_absolute_folder_and_a_started_pull(shared_dataspace, http, tmp_path):
    ds = shared_dataspace
    consumer = ds.client(http, "consumer")
    with pytest.raises(ManagementError) as info:
        await consumer.call(
            "POST", "/v3/edrs/urn:uuid:nope/fetch", {"@context": EDC_CONTEXT, "folder": "rel/x"}
        )
    assert info.value.status == 400 and info.value.body[0]["path"] == "folder"
    with pytest.raises(ManagementError) as info:
        await consumer.call(
            "POST", "/v3/edrs/urn:uuid:nope/fetch", {"@context": EDC_CONTEXT, "folder": "/tmp/x"}
        )
    assert info.value.status == 404


async def test_a_pull_resumes_with_range(shared_dataspace, http, tmp_path):
    """A consumer's own client resumes a broken download with Range (and If-Range)."""
    ds = shared_dataspace
    provider, consumer = ds.client(http, "provider"), ds.client(http, "consumer")
    sha = await publish(provider, tmp_path, "resume-pull", size=4 * 1024 * 1024)
    n = await negotiate(consumer, ds["provider"], "resume-pull")
    _, edr = await pull(consumer, ds["provider"], n["contractAgreementId"])
    assert edr is not None
    auth = {"Authorization": edr["authorization"]}
    async with http.get(edr["endpoint"], headers={**auth, "Range": "bytes=0-999999"}) as r:
        assert r.status == 206
        first = await r.read()
        etag = r.headers["ETag"]
    headers = {**auth, "Range": f"bytes={len(first)}-", "If-Range": etag}
    async with http.get(edr["endpoint"], headers=headers) as r:
        assert r.status == 206
        assert r.headers["Content-Range"].startswith(f"bytes {len(first)}-")
        rest = await r.read()
    assert hashlib.sha256(first + rest).hexdigest() == sha
