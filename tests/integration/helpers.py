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
