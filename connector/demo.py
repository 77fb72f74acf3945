"""`karez demo`: a two-node data space that shares one dataset, step by step."""

from __future__ import annotations

import asyncio
import hashlib
import random
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path

import aiohttp

from connector.client import ManagementClient, first_offer
from connector.dataspace import (
    init_dataspace,
    start_authority_process,
    start_node_process,
    wait_healthy,
)

ASSET_ID = "cotton-yield-2026"


def write_sample(path: Path, rows: int = 20_000) -> str:
    """A CSV of made-up cotton yields per county; returns its SHA-256."""
    rnd = random.Random(2026)
    counties = ["Aksu", "Korla", "Shihezi", "Kashgar", "Hotan", "Turpan", "Bole", "Kuytun"]
    lines = ["county,field,yield_kg_per_mu,fibre_length_mm"]
    for i in range(rows):
        lines.append(
            f"{rnd.choice(counties)},F{i:05d},{rnd.uniform(300, 520):.1f},{rnd.uniform(27, 33):.1f}"
        )
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


async def walk(folder: Path, desc: dict, out: Callable[[str], None]) -> bool:
    provider, consumer = desc["nodes"]
    sample = folder / "provider" / "cotton-yield-2026.csv"
    source_sha = write_sample(sample)
    async with aiohttp.ClientSession() as http:
        p = ManagementClient(http, provider["managementUrl"], provider["apiKey"])
        c = ManagementClient(http, consumer["managementUrl"], consumer["apiKey"])
        out(
            f"1. provider publishes {ASSET_ID} "
            f"({sample.stat().st_size} bytes, sha256 {source_sha[:16]}…)"
        )
        await p.create_asset(
            ASSET_ID,
            {"type": "File", "path": str(sample)},
            {"name": "Cotton yield by field, 2026", "contenttype": "text/csv"},
        )
        await p.create_policy("open-use", [{"action": "use"}])
        await p.create_contract_definition("cotton-open", "open-use", "open-use")
        out(
            "2. consumer requests the provider's catalog over DSP "
            "(each request carries a DCP self-issued token; the provider verifies the "
            "consumer's membership credential)"
        )
        catalog = await c.catalog(provider["protocolUrl"], provider["participantId"])
        offer = first_offer(catalog, ASSET_ID)
        out(f"   found dataset {ASSET_ID} with offer {offer['@id']}")
        out("3. consumer negotiates a contract")
        nid = await c.negotiate(provider["protocolUrl"], provider["participantId"], offer, ASSET_ID)
        negotiation = await c.wait_state("contractnegotiations", nid, {"FINALIZED", "TERMINATED"})
        out(f"   negotiation {nid}: {negotiation['state']}")
        if negotiation["state"] != "FINALIZED":
            out(f"   error: {negotiation.get('errorDetail')}")
            return False
        agreement_id = negotiation["contractAgreementId"]
        out(f"   agreement {agreement_id}")
        out("4. consumer starts an HttpData-PULL transfer")
        tid = await c.transfer(provider["protocolUrl"], agreement_id)
        transfer = await c.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"})
        out(f"   transfer {tid}: {transfer['state']}")
        if transfer["state"] != "STARTED":
            out(f"   error: {transfer.get('errorDetail')}")
            return False
        edr = await c.call("GET", f"/v3/edrs/{tid}/dataaddress")
        out(f"5. consumer downloads from {edr['endpoint']} with the EDR token")
        digest = hashlib.sha256()
        size = 0
        async with http.get(edr["endpoint"], headers={"Authorization": edr["authorization"]}) as r:
            r.raise_for_status()
            async for chunk in r.content.iter_chunked(64 * 1024):
                digest.update(chunk)
                size += len(chunk)
        received = digest.hexdigest()
        await c.call("POST", f"/v3/transferprocesses/{tid}/complete")
        done = await c.wait_state("transferprocesses", tid, {"COMPLETED", "TERMINATED"})
        out(f"   received {size} bytes; transfer {done['state']}")
        out(f"6. sha256 source   {source_sha}")
        out(f"   sha256 received {received}")
        ok = received == source_sha
        out("   MATCH: the consumer holds exactly the provider's data" if ok else "   MISMATCH")
        return ok


def run_demo(out: Callable[[str], None] = print, keep: bool = False) -> bool:
    folder = Path(tempfile.mkdtemp(prefix="karez-demo-"))
    out(f"A two-node data space in {folder}")
    desc = init_dataspace(folder, 2)
    procs = []
    try:
        authority = desc["authority"]
        proc = start_authority_process(folder, desc, folder / "authority" / "authority.log")
        procs.append(proc)
        wait_healthy(authority["didDocumentUrl"], proc)
        out(f"   authority {authority['did']}  (issued each node a membership credential)")
        for node in desc["nodes"]:
            proc = start_node_process(folder / node["config"], folder / node["name"] / "node.log")
            procs.append(proc)
        for node, proc in zip(desc["nodes"], procs[1:], strict=True):
            wait_healthy(node["healthUrl"], proc)
            out(f"   {node['name']:<9} {node['participantId']}  management {node['managementUrl']}")
        return asyncio.run(walk(folder, desc, out))
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=10)
        if keep:
            out(f"kept {folder} (node logs in */node.log)")
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
