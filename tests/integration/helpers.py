"""Steps the integration tests share: publish a dataset, negotiate, transfer, download."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import aiohttp

from connector.client import ManagementClient, first_offer


def make_file(path: Path, size: int = 256 * 1024) -> str:
    data = os.urandom(size)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


async def publish(
    provider: ManagementClient,
    folder: Path,
    asset_id: str,
    *,
    size: int = 256 * 1024,
    permissions: list | None = None,
    contract_permissions: list | None = None,
    definition_private: dict | None = None,
) -> str:
    """A file asset under an open (or the given) access policy and contract policy (the access
    policy's terms unless ``contract_permissions`` are given); returns the file's SHA-256."""
    sha = make_file(folder / f"{asset_id}.bin", size)
    await provider.create_asset(
        asset_id, {"type": "File", "path": str(folder / f"{asset_id}.bin")}, {"name": asset_id}
    )
    access_id = f"policy-{asset_id}"
    await provider.create_policy(
        access_id, permissions if permissions is not None else [{"action": "use"}]
    )
    contract_id = access_id
    if contract_permissions is not None:
        contract_id = f"contract-{asset_id}"
        await provider.create_policy(contract_id, contract_permissions)
    await provider.create_contract_definition(
        f"def-{asset_id}",
        access_id,
        contract_id,
        [
            {
                "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                "operator": "=",
                "operandRight": asset_id,
            }
        ],
        private_properties=definition_private,
    )
    return sha


async def offer_openly(provider: ManagementClient, asset_id: str, address: dict) -> None:
    """An asset with ``address`` under an open access and contract policy, offered alone."""
    await provider.create_asset(asset_id, address, {"name": asset_id})
    await provider.create_policy(f"open-{asset_id}", [{"action": "use"}])
    await provider.create_contract_definition(
        f"def-{asset_id}",
        f"open-{asset_id}",
        f"open-{asset_id}",
        [
            {
                "operandLeft": "https://w3id.org/edc/v0.0.1/ns/id",
                "operator": "=",
                "operandRight": asset_id,
            }
        ],
    )


async def offer_for(consumer: ManagementClient, provider_node: Any, asset_id: str) -> dict:
    catalog = await consumer.catalog(provider_node.protocol_url, provider_node.id)
    return first_offer(catalog, asset_id)


async def negotiate(
    consumer: ManagementClient,
    provider_node: Any,
    asset_id: str,
    wait_for: set[str] | None = None,
    **kw: Any,
) -> dict:
    offer = await offer_for(consumer, provider_node, asset_id)
    nid = await consumer.negotiate(
        provider_node.protocol_url, provider_node.id, offer, asset_id, **kw
    )
    return await consumer.wait_state(
        "contractnegotiations", nid, wait_for or {"FINALIZED", "TERMINATED"}
    )


async def download(
    http: aiohttp.ClientSession, edr: dict, headers: dict | None = None
) -> tuple[int, str, bytes]:
    h = {"Authorization": edr["authorization"], **(headers or {})}
    async with http.get(edr["endpoint"], headers=h) as resp:
        body = await resp.read()
        return resp.status, hashlib.sha256(body).hexdigest(), body


async def pull(
    consumer: ManagementClient, provider_node: Any, agreement_id: str
) -> tuple[dict, dict | None]:
    """Start an HttpData-PULL under ``agreement_id``: the transfer once STARTED (or
    TERMINATED) and, if started, its EDR data address."""
    tid = await consumer.transfer(provider_node.protocol_url, agreement_id)
    transfer = await consumer.wait_state("transferprocesses", tid, {"STARTED", "TERMINATED"})
    if transfer["state"] != "STARTED":
        return transfer, None
    return transfer, await consumer.call("GET", f"/v3/edrs/{tid}/dataaddress")


async def share(
    http: aiohttp.ClientSession,
    provider: ManagementClient,
    consumer: ManagementClient,
    provider_node: Any,
    folder: Path,
    asset_id: str,
) -> tuple[dict, str, bytes]:
    """Publish an open dataset, negotiate, pull and download it: ``(EDR, source SHA-256,
    received bytes)``; asserts each step succeeds."""
    sha = await publish(provider, folder, asset_id, size=32 * 1024)
    n = await negotiate(consumer, provider_node, asset_id)
    assert n["state"] == "FINALIZED", n.get("errorDetail")
    transfer, edr = await pull(consumer, provider_node, n["contractAgreementId"])
    assert edr is not None, transfer.get("errorDetail")
    status, received_sha, body = await download(http, edr)
    assert status == 200 and received_sha == sha
    return edr, sha, body


async def provider_digest(provider: ManagementClient, agreement_id: str, timeout: float = 5) -> str:
    """The SHA-256 the provider recorded for the (single) transfer under ``agreement_id``."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    query = {
        "filterExpression": [
            {"operandLeft": "contractId", "operator": "=", "operandRight": agreement_id}
        ]
    }
    while True:
        (transfer,) = await provider.call("POST", "/v3/transferprocesses/request", query)
        if transfer.get("karez:sha256") or time.monotonic() > deadline:
            return transfer.get("karez:sha256", "")
        await asyncio.sleep(0.05)
